"""The package's foundations: fast import, error hierarchy, command line."""

from __future__ import annotations

import subprocess
import sys

import pytest

import radsem
from radsem import cli, errors


def test_import_does_not_load_heavy_dependencies():
    code = (
        "import sys, radsem, radsem.errors, radsem.cli;"
        "heavy = [m for m in ('torch', 'rpy2', 'radiomics', 'SimpleITK', 'sklearn', 'lifelines')"
        " if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_error_derives_from_radsem_error():
    for name in errors.__all__:
        obj = getattr(errors, name)
        if issubclass(obj, Exception) and not issubclass(obj, Warning):
            assert issubclass(obj, errors.RadsemError), name
        else:
            assert issubclass(obj, errors.RadsemWarning), name


def test_model_syntax_error_names_line_and_column():
    exc = errors.ModelSyntaxError("unexpected '~~~'", line=3, column=7, text="  f1 ~~~ x1")
    assert (exc.line, exc.column) == (3, 7)
    assert "line 3, column 7" in str(exc)
    assert str(exc).splitlines()[-1].index("^") == 4 + 6


def test_show_versions_lists_core_packages(capsys):
    versions = radsem.show_versions()
    assert versions["radsem"] == radsem.__version__
    assert "numpy" in capsys.readouterr().out


def test_cli_help_and_version(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert radsem.__version__ in capsys.readouterr().out
    assert cli.main([]) == cli.EXIT_USAGE


def test_cli_unknown_command_is_usage_error(capsys):
    assert cli.main(["no-such-command"]) == cli.EXIT_USAGE
    assert "invalid choice" in capsys.readouterr().err


def test_cli_every_command_has_help():
    parser = cli.build_parser()
    for name in cli._command_modules():
        with pytest.raises(SystemExit) as info:
            parser.parse_args([name.replace("_", "-"), "--help"])
        assert info.value.code == 0
