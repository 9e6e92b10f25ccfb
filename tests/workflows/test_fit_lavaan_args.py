"""``radsem fit --lavaan-args``: options pasted from an R script reach the engine unchanged."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from workflow_helpers import run_cli

from radsem.workflows import fit_files

PASTED = (
    "# from the analysis script\n"
    "fit <- cfa(HS.model, data = read.csv('/home/jane.doe/study/hs.csv'),\n"
    '           estimator = "MLM", test = c("satorra.bentler", "mean.var.adjusted"),\n'
    "           std.lv = TRUE)\n"
)


@pytest.mark.r
def test_pasted_call_matches_lavaan_with_the_same_options(hs_inputs, tmp_path, capsys, r_lavaan):
    from radsem.engines.lavaan import fit_lavaan

    model, data = hs_inputs
    out = tmp_path / "pasted"
    code, _, err = run_cli(
        capsys,
        "fit",
        model,
        data,
        "--lavaan-args",
        PASTED,
        "--out",
        out,
        "--format",
        "csv,json",
        "--quiet",
    )
    assert code == 0, err
    ours = pd.read_csv(out / "fit_measures.csv").set_index("measure")["value"]
    reference = fit_lavaan(
        model.read_text(),
        pd.read_csv(data),
        "cfa",
        estimator="MLM",
        test=["satorra.bentler", "mean.var.adjusted"],
        std_lv=True,
    ).fit_measures()
    for name in ("chisq", "chisq.scaled", "chisq.scaling.factor", "cfi.robust", "rmsea.scaled"):
        assert ours[name] == pytest.approx(float(reference[name]), rel=1e-4), name
    pe = pd.read_csv(out / "parameters.csv")
    variances = pe[(pe["op"] == "~~") & (pe["lhs"] == pe["rhs"]) & pe["lhs"].isin(["visual"])]
    assert variances["est"].tolist() == [1.0]  # std.lv = TRUE reached the engine
    payload = json.loads((out / "fit.json").read_text())
    command = payload["provenance"]["command"]
    assert "--kind cfa" in command  # the kind of the pasted call
    assert 'estimator = "MLM"' in command
    assert "std.lv = TRUE" in command
    assert "jane" not in json.dumps(payload)  # data= is never read, never recorded
    assert payload["provenance"]["options"]["test"] == ["satorra.bentler", "mean.var.adjusted"]


def test_pasted_options_equal_the_flags(hs_inputs, tmp_path, capsys):
    model, data = hs_inputs
    argv = ("--format", "csv", "--quiet")
    assert (
        run_cli(
            capsys,
            "fit",
            model,
            data,
            "--kind",
            "cfa",
            "--estimator",
            "MLR",
            "--std-lv",
            "--out",
            tmp_path / "flags",
            *argv,
        )[0]
        == 0
    )
    assert (
        run_cli(
            capsys,
            "fit",
            model,
            data,
            "--lavaan-args",
            'cfa(m, estimator = "MLR", std.lv = T)',
            "--out",
            tmp_path / "pasted",
            *argv,
        )[0]
        == 0
    )
    for name in ("parameters.csv", "fit_measures.csv"):
        a = (tmp_path / "flags" / name).read_bytes()
        assert a == (tmp_path / "pasted" / name).read_bytes()


def test_python_engine_options(hs_inputs, tmp_path):
    model, data = hs_inputs
    result = fit_files(
        model,
        data,
        kind="cfa",
        out=tmp_path / "py",
        formats="csv",
        engine_options={"estimator": "MLM", "test": "satorra.bentler", "missing": None},
    )
    fm = pd.read_csv(result.files["fit_measures.csv"]).set_index("measure")["value"]
    assert "chisq.scaled" in fm.index


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--lavaan-args", "estimator = MLR"), "line 1, column 13"),
        (("--lavaan-args", 'estimator = "MLR"', "--estimator", "ML"), "given twice"),
        (("--lavaan-args", "cfa(m, std.lv = TRUE)", "--kind", "growth"), "cfa() call"),
        (("--lavaan-args", "efa(data = d, nfactors = 2)"), "radsem.efa()"),
        (("--lavaan-args", "no.such.option = 1"), "no_such_option"),
        (("--lavaan-args", 'group = "nope"'), "group column 'nope'"),
    ],
)
def test_bad_pasted_options_exit_3_and_write_nothing(hs_inputs, tmp_path, capsys, extra, message):
    model, data = hs_inputs
    out = tmp_path / "bad"
    code, _, err = run_cli(
        capsys, "fit", model, data, *extra, "--out", out, "--format", "csv", "--quiet"
    )
    assert code == 3, err
    assert message in err
    assert not out.exists()
