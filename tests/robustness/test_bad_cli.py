"""`radsem <cmd>` with bad arguments: exit 2 for usage errors, 3 for unusable inputs, 1 with a
one-line message (no traceback) for unexpected errors."""

from __future__ import annotations

import argparse

import pytest

from radsem import cli


@pytest.fixture
def files(tmp_path):
    (tmp_path / "m.lav").write_text("F =~ x1 + x2 + x3\n")
    (tmp_path / "bad.lav").write_text("F =~ x1 +\n")
    (tmp_path / "tiny.csv").write_text("x1,x2,x3\n1,2,3\n")
    (tmp_path / "cohort").mkdir()
    (tmp_path / "cohort" / "clinical.csv").write_text("patient_id,time,event\nP1,1,1\nP2,2,0\n")
    return tmp_path


def _run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["nosuch"],
        ["--bogus"],
        ["simulate"],
        ["simulate", "--n", "0", "--out", "x"],
        ["simulate", "--n", "abc", "--out", "x"],
        ["simulate", "--seed", "-3", "--out", "x"],
        ["extract"],
        ["extract", "c", "--out", "f.parquet", "--jobs", "0"],
        ["fit"],
        ["fit", "m.lav"],
        ["report", "m.lav"],
        ["compare"],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    code, _ = _run(argv, capsys)
    assert code == cli.EXIT_USAGE


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["extract", "{d}/nowhere", "--out", "{d}/f.parquet"], "cohort folder not found"),
        (["extract", "{d}/cohort", "--out", "{d}/f.xlsx"], "must end in .parquet"),
        (["extract", "{d}/cohort", "--out", "{d}/no/f.parquet"], "does not exist"),
        (["extract", "{d}/cohort", "--out", "{d}/f.parquet", "--quiet"], "no images to extract"),
        (
            ["extract", "{d}/cohort", "--out", "{d}/f.parquet", "--cache", "{d}/m.lav", "--quiet"],
            "cache must be a folder",
        ),
        (
            ["extract", "{d}/cohort", "--out", "{d}/f.parquet", "--params", "{d}/no.yaml"],
            "parameter file not found",
        ),
        (["fit", "{d}/nothere.lav", "{d}/tiny.csv"], "model file not found"),
        (["fit", "{d}/m.lav", "{d}/nothere.csv"], "file not found"),
        (["fit", "{d}/m.lav", "{d}/m.lav"], "unknown table format"),
        (["fit", "{d}/bad.lav", "{d}/tiny.csv"], "bad.lav:1:10: formula ends with"),
        (["report", "{d}/m.lav", "{d}/tiny.csv", "--out", "{d}/no/r.html"], "does not exist"),
        (["compare", "{d}/nothere.yaml"], "configuration file not found"),
    ],
)
def test_input_errors_exit_3(files, capsys, argv, match):
    code, err = _run([a.format(d=files) for a in argv], capsys)
    assert code == cli.EXIT_INPUT
    assert match in err
    if "no images" in match:
        assert not (files / "f.failures.parquet").exists()  # nothing written for nothing


def _module_raising(exc):
    def configure(parser):
        parser.add_argument("x", nargs="?")

    def run(args):
        raise exc

    return argparse.Namespace(HELP="test", configure=configure, run=run)


@pytest.mark.parametrize(
    ("exc", "code", "match"),
    [
        (ValueError("boom"), cli.EXIT_INTERNAL, "internal error: ValueError: boom"),
        (
            PermissionError(13, "Permission denied", "/x/y"),
            cli.EXIT_INPUT,
            "Permission denied (/x/y)",
        ),
    ],
)
def test_unexpected_errors_give_a_message_not_a_traceback(monkeypatch, capsys, exc, code, match):
    real_import = cli.import_module
    fake = _module_raising(exc)
    monkeypatch.setattr(cli, "_command_modules", lambda: ["simulate"])
    monkeypatch.setattr(
        cli,
        "import_module",
        lambda name: fake if name == "radsem.commands.simulate" else real_import(name),
    )
    monkeypatch.delenv("RADSEM_DEBUG", raising=False)
    got, err = _run(["simulate"], capsys)
    assert got == code
    assert match in err
