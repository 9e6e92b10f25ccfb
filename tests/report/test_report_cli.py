"""``radsem report``: builds an SEM report from a lavaan model file and a CSV file."""

from __future__ import annotations

import sys

import pytest

from radsem.cli import main

MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"


@pytest.fixture
def inputs(tmp_path):
    from radsem.datasets import load

    model = tmp_path / "hs.lav"
    model.write_text(MODEL)
    data = tmp_path / "hs.csv"
    load("HolzingerSwineford1939").to_csv(data, index=False)
    return model, data


def test_report_written(inputs, tmp_path, capsys):
    import radsem

    try:
        radsem.sem  # noqa: B018
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"radsem.sem not available: {exc}")
    model, data = inputs
    out = tmp_path / "report.html"
    code = main(["report", str(model), str(data), "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    html = out.read_text(encoding="utf-8")
    for section in (
        "Data and model summary",
        "hs: fit measures",
        "hs: path diagram",
        "hs: modification indices",
        "Provenance",
    ):
        assert section in html
    assert "radsem report hs.lav hs.csv" in html
    assert str(tmp_path) not in html  # file names only, no folders
    md = tmp_path / "report.md"
    assert main(["report", str(model), str(data), "--out", str(md), "--quiet"]) == 0
    assert (tmp_path / "report_files" / "figure-1.svg").is_file()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"model": "nope.lav"}, "model file not found"),
        ({"out": "report.docx"}, "unknown report format"),
        ({"out": "no/such/folder/r.html"}, "does not exist"),
        ({"group": "not_a_column"}, "is not a column"),
    ],
)
def test_bad_inputs_exit_3(inputs, tmp_path, capsys, change, message):
    model, data = inputs
    args = {"model": str(model), "out": "r.html", **change}
    argv = [
        "report",
        args["model"] if change.get("model") is None else str(tmp_path / args["model"]),
        str(data),
        "--out",
        str(tmp_path / args["out"]),
        "--quiet",
    ]
    if "group" in change:
        argv += ["--group", change["group"]]
    assert main(argv) == 3
    assert message in capsys.readouterr().err


def test_engine_unavailable_exit_3(inputs, tmp_path, capsys, monkeypatch):
    import radsem

    monkeypatch.delitem(radsem.__dict__, "sem", raising=False)
    monkeypatch.setitem(sys.modules, "radsem.estimation.api", None)
    model, data = inputs
    code = main(["report", str(model), str(data), "--out", str(tmp_path / "r.html"), "--quiet"])
    assert code == 3
    assert "SEM engine (radsem.sem) is not available" in capsys.readouterr().err


def test_nonconverged_fit_exit_4_report_written(inputs, tmp_path, capsys, monkeypatch):
    import warnings

    from report_fakes import make_fit

    import radsem.commands.report as command
    from radsem.errors import ConvergenceWarning

    def fake_fitter(model, data, **options):
        warnings.warn("iteration limit reached", ConvergenceWarning, stacklevel=2)
        return make_fit(converged=False)

    monkeypatch.setattr(command, "_fitter", lambda name: fake_fitter)
    model, _ = inputs
    data = tmp_path / "ab.csv"
    data.write_text(
        "a1,a2,a3,b1,b2,b3\n"
        + "\n".join(",".join(str((i * 7 + j) % 5) for j in range(6)) for i in range(12))
        + "\n"
    )
    out = tmp_path / "r.html"
    assert main(["report", str(model), str(data), "--out", str(out), "--quiet"]) == 4
    assert "did not converge" in capsys.readouterr().err
    html = out.read_text(encoding="utf-8")
    assert "ConvergenceWarning: iteration limit reached" in html
    assert "The optimiser did not converge" in html
