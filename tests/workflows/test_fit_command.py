"""``radsem fit``: end-to-end runs through ``radsem.cli.main`` and its bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from workflow_helpers import HS_MODEL, run_cli, tree_hashes

from radsem.workflows import ModelFileSyntaxError, fit_files, read_model_file

# lavaan 0.6 tutorial, cfa(HS.model, data = HolzingerSwineford1939): the published numbers
LAVAAN_HS = {"chisq": 85.306, "df": 24, "cfi": 0.931, "rmsea": 0.092}
LAVAAN_HS_LOADINGS = {"x2": 0.554, "x3": 0.729, "x5": 1.113, "x6": 0.926, "x8": 1.180, "x9": 1.082}


def test_fit_hs_cfa_writes_everything_and_matches_lavaan(hs_inputs, capsys):
    model, data = hs_inputs
    before = tree_hashes(model.parent)
    code, out, err = run_cli(
        capsys, "fit", model, data, "--kind", "cfa", "--format", "html,md,tex,csv,json", "--quiet"
    )
    assert code == 0, err
    folder = model.parent / "hs-fit"  # default: next to the model
    names = {
        "report.html",
        "report.md",
        "report.tex",
        "parameters.csv",
        "fit_measures.csv",
        "modindices.csv",
        "fit.json",
    }
    assert names <= {p.name for p in folder.iterdir()}
    fm = pd.read_csv(folder / "fit_measures.csv").set_index("measure")["value"]
    for key, value in LAVAAN_HS.items():
        assert fm[key] == pytest.approx(value, abs=1e-3 if key != "rmsea" else 5e-4)
    pe = pd.read_csv(folder / "parameters.csv")
    loadings = pe[pe["op"] == "=~"].set_index("rhs")["est"]
    for name, value in LAVAAN_HS_LOADINGS.items():
        assert loadings[name] == pytest.approx(value, abs=1e-3)
    mi = pd.read_csv(folder / "modindices.csv")
    assert mi["mi"].is_monotonic_decreasing
    top = mi.iloc[0]
    assert (top["lhs"], top["op"], top["rhs"]) == ("visual", "=~", "x9")  # lavaan: MI 36.411
    assert top["mi"] == pytest.approx(36.411, abs=1e-2)
    html = (folder / "report.html").read_text(encoding="utf-8")
    for section in (
        "Data and model summary",
        "hs: fit measures",
        "hs: modification indices",
        "hs: warnings",
        "Provenance",
        "radsem fit hs.lav hs.csv --kind cfa",
    ):
        assert section in html
    payload = json.loads((folder / "fit.json").read_text())
    assert payload["converged"] is True
    assert payload["proper"] is True
    assert payload["options"]["model_type"] == "cfa"
    # every input file is unchanged, and the output folder is new
    after = tree_hashes(model.parent)
    assert {k: v for k, v in after.items() if "hs-fit" not in k} == before


def test_fit_summary_on_stdout_and_same_numbers_twice(hs_inputs, tmp_path, capsys):
    model, data = hs_inputs
    outs = [tmp_path / "a", tmp_path / "b"]
    for folder in outs:
        code, out, err = run_cli(
            capsys, "fit", model, data, "--kind", "cfa", "--out", folder, "--format", "csv,json"
        )
        assert code == 0, err
    assert "chi-square 85.306 on 24 df" in out
    assert "CFI 0.931" in out
    assert "RMSEA 0.092 [0.071, 0.114]" in out
    for name in ("parameters.csv", "fit_measures.csv", "modindices.csv"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    a, b = (json.loads((f / "fit.json").read_text()) for f in outs)
    a.pop("provenance"), b.pop("provenance")
    assert a == b


def test_multigroup_with_equal_loadings_matches_lavaan(hs_inputs, tmp_path, capsys):
    model, data = hs_inputs
    code, _, err = run_cli(
        capsys,
        "fit",
        model,
        data,
        "--kind",
        "cfa",
        "--group",
        "school",
        "--group-equal",
        "loadings",
        "--out",
        tmp_path / "mg",
        "--quiet",
        "--format",
        "csv",
    )
    assert code == 0, err
    fm = pd.read_csv(tmp_path / "mg" / "fit_measures.csv").set_index("measure")["value"]
    # lavaan tutorial, measurement invariance: group.equal = "loadings"
    assert fm["chisq"] == pytest.approx(124.044, abs=1e-3)
    assert fm["df"] == 54


def test_listwise_deletion_is_reported(hs_inputs, tmp_path, capsys):
    model, data = hs_inputs
    frame = pd.read_csv(data)
    frame.loc[:9, "x1"] = np.nan
    holes = tmp_path / "holes.tsv"
    frame.to_csv(holes, sep="\t", index=False)
    code, out, err = run_cli(capsys, "fit", model, holes, "--kind", "cfa", "--out", tmp_path / "lw")
    assert code == 0, err
    assert "10 of 301 rows have missing values" in err
    payload = json.loads((tmp_path / "lw" / "fit.json").read_text())
    assert any("listwise" in w for w in payload["warnings"])
    assert "listwise" in (tmp_path / "lw" / "report.html").read_text()
    fm = pd.read_csv(tmp_path / "lw" / "fit_measures.csv").set_index("measure")["value"]
    assert fm["ntotal"] == 291


def test_fixed_x_and_options_pass_through(hs_inputs, tmp_path, capsys):
    model, data = hs_inputs
    lav = tmp_path / "reg.lav"
    lav.write_text("visual =~ x1 + x2 + x3\nvisual ~ ageyr\n")
    for flag, expected in (("--fixed-x", True), ("--no-fixed-x", False)):
        folder = tmp_path / flag
        code, _, err = run_cli(
            capsys,
            "fit",
            lav,
            data,
            flag,
            "--estimator",
            "mlr",
            "--std-lv",
            "--out",
            folder,
            "--format",
            "json",
            "--quiet",
        )
        assert code == 0, err
        options = json.loads((folder / "fit.json").read_text())["options"]
        assert options["fixed_x"] is expected
        assert options["estimator"] == "MLR"
        assert options["std_lv"] is True


def test_ordered_indicators_reach_the_engine(hs_inputs, tmp_path, capsys):
    import radsem

    _, data = hs_inputs
    frame = pd.read_csv(data)
    items = ["x1", "x2", "x3", "x4", "x5", "x6"]
    for c in items:
        frame[c] = pd.cut(frame[c], 3, labels=False)
    path = tmp_path / "ordinal.csv"
    frame.to_csv(path, index=False)
    lav = tmp_path / "two.lav"
    lav.write_text("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n")
    code, out, err = run_cli(
        capsys,
        "fit",
        lav,
        path,
        "--kind",
        "cfa",
        "--ordered",
        ",".join(items),
        "--out",
        tmp_path / "ord",
        "--format",
        "csv,json",
    )
    assert code == 0, err
    assert "N used 301" in out  # lavaan's WLSMV fit measures have no ntotal; the fit knows N
    payload = json.loads((tmp_path / "ord" / "fit.json").read_text())
    assert payload["options"]["estimator"] == "WLSMV"  # lavaan's default with ordered items
    direct = radsem.cfa(lav.read_text(), frame, ordered=items).fit_measures()
    assert payload["fit_measures"]["chisq"] == pytest.approx(direct["chisq"], rel=1e-12)
    code, _, err = run_cli(capsys, "fit", lav, path, "--ordered", "x1,z9", "--out", tmp_path / "o2")
    assert code == 3
    assert "ordered variable(s) 'z9' not columns of" in err


def test_syntax_error_names_file_line_and_column(hs_inputs, tmp_path, capsys):
    _, data = hs_inputs
    bad = tmp_path / "bad.lav"
    bad.write_text("# a comment\nvisual =~ x1 + x2 + x3\ntextual =~ x4 + + x6\n")
    code, _, err = run_cli(capsys, "fit", bad, data, "--out", tmp_path / "never")
    assert code == 3
    assert f"{bad}:3:17: " in err
    assert "textual =~ x4 + + x6" in err
    assert not (tmp_path / "never").exists()
    with pytest.raises(ModelFileSyntaxError) as info:
        read_model_file(bad)
    assert (info.value.line, info.value.column, info.value.path) == (3, 17, str(bad))


@pytest.mark.parametrize(
    ("model", "extra", "message"),
    [
        (
            "# two factors\nvisual =~ x1 + x2 + x3\ntextual =~ x4 + zz + x6\n",
            [],
            "m.lav:3:17: variable(s) not found in the data: zz",
        ),
        (HS_MODEL, ["--group", "clinic"], "group column 'clinic' is not a column of"),
        (HS_MODEL, ["--format", "pdf"], "unknown output format(s) 'pdf'"),
        (HS_MODEL, ["--group-equal", "loadings"], "needs a group column"),
    ],
)
def test_bad_inputs_exit_3(hs_inputs, tmp_path, capsys, model, extra, message):
    _, data = hs_inputs
    lav = tmp_path / "m.lav"
    lav.write_text(model)
    code, _, err = run_cli(capsys, "fit", lav, data, "--out", tmp_path / "o", *extra)
    assert code == 3
    assert message in err


@pytest.mark.parametrize(
    ("option", "value", "listed"),
    [
        ("--estimator", "XYZ", "'ML', 'MLR', 'GLS', 'ULS', 'WLSMV', 'DWLS', 'WLS', 'ULSMV'"),
        ("--estimator", "mle", "'MLR'"),
        ("--missing", "pairwise", "'listwise', 'ml', 'fiml', 'direct', 'default'"),
        ("--se", "sandwich", "'standard', 'robust', 'robust.huber.white', 'robust.sem'"),
        ("--kind", "lm", "'sem', 'cfa', 'growth'"),
    ],
)
def test_unknown_option_value_is_a_usage_error(hs_inputs, tmp_path, capsys, option, value, listed):
    model, data = hs_inputs
    code, out, err = run_cli(capsys, "fit", model, data, "--out", tmp_path / "o", option, value)
    assert code == 2
    assert f"argument {option}: invalid choice" in err
    assert listed in err
    assert not (tmp_path / "o").exists()


def test_missing_files_exit_3(hs_inputs, tmp_path, capsys):
    model, data = hs_inputs
    code, _, err = run_cli(capsys, "fit", tmp_path / "nope.lav", data)
    assert code == 3
    assert "nope.lav: model file not found" in err
    code, _, err = run_cli(capsys, "fit", model, tmp_path / "nope.csv", "--out", tmp_path / "o")
    assert code == 3
    assert "nope.csv: file not found" in err


def test_never_writes_into_an_input_folder_or_over_earlier_results(hs_inputs, tmp_path, capsys):
    model, data = hs_inputs
    before = tree_hashes(model.parent)
    code, _, err = run_cli(capsys, "fit", model, data, "--out", model.parent)
    assert code == 3
    assert "is the folder of the input" in err
    assert tree_hashes(model.parent) == before
    folder = tmp_path / "again"
    assert (
        run_cli(capsys, "fit", model, data, "--out", folder, "--quiet", "--format", "csv")[0] == 0
    )
    code, _, err = run_cli(
        capsys, "fit", model, data, "--out", folder, "--quiet", "--format", "csv"
    )
    assert code == 3
    assert "from an earlier run" in err
    assert (
        run_cli(
            capsys, "fit", model, data, "--out", folder, "--quiet", "--format", "csv", "--overwrite"
        )[0]
        == 0
    )


def test_improper_solution_exits_4_and_is_reported(tmp_path, capsys):
    rng = np.random.default_rng(3)
    n = 60
    f = rng.normal(size=n)
    # y3 is almost a multiple of y1 and y2 is weak: with three indicators and a small sample
    # the one-factor solution pushes a residual variance below zero (a Heywood case)
    y1 = f + 0.05 * rng.normal(size=n)
    frame = pd.DataFrame(
        {"y1": y1, "y2": 0.3 * f + rng.normal(size=n), "y3": 1.3 * y1 - 0.02 * rng.normal(size=n)}
    )
    data = tmp_path / "heywood.csv"
    frame.to_csv(data, index=False)
    lav = tmp_path / "one.lav"
    lav.write_text("f =~ y1 + y2 + y3\n")
    result = fit_files(lav, data, out=tmp_path / "hw", formats="json")
    assert not result.ok
    assert any("Improper solution" in w or "negative" in w for w in result.warnings)
    code, _, err = run_cli(capsys, "fit", lav, data, "--out", tmp_path / "hw2", "--quiet")
    assert code == 4
    assert "improper" in err.lower()
    payload = json.loads((tmp_path / "hw2" / "fit.json").read_text())
    assert payload["proper"] is False or payload["converged"] is False


@pytest.mark.r
def test_cross_check_with_lavaan(hs_inputs, tmp_path, capsys, r_lavaan):
    model, data = hs_inputs
    code, out, err = run_cli(
        capsys,
        "fit",
        model,
        data,
        "--kind",
        "cfa",
        "--cross-check",
        "lavaan",
        "--out",
        tmp_path / "cc",
        "--format",
        "csv,html",
    )
    assert code == 0, err
    assert "radsem vs lavaan: AGREE" in out
    table = pd.read_csv(tmp_path / "cc" / "cross_check_lavaan.csv")
    assert table["diff"].abs().max() < 1e-3
    assert "Cross-check with lavaan" in (tmp_path / "cc" / "report.html").read_text()
