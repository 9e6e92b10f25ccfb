"""The documentation builds without warnings, examples run, and the code is ruff-clean."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


def test_docs_build_strict(tmp_path):
    """mkdocs --strict turns broken links and pages missing from the navigation into errors."""
    result = subprocess.run(
        [_tool("mkdocs"), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_clean():
    result = subprocess.run(
        [_tool("ruff"), "check", "radsem", "tests", "benchmarks", "examples"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_clean():
    """Every file is in ``ruff format`` style, with no formatter escape comments."""
    result = subprocess.run(
        [_tool("ruff"), "format", "--check", "radsem", "tests", "benchmarks", "examples"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    escapes = [
        str(path.relative_to(ROOT))
        for folder in ("radsem", "tests", "benchmarks", "examples")
        for path in (ROOT / folder).rglob("*.py")
        if "fmt: " + "skip" in path.read_text(encoding="utf-8")
        or "fmt: " + "off" in path.read_text(encoding="utf-8")
    ]
    assert not escapes, escapes


EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script, tmp_path):
    """Every example script runs to completion (in a scratch folder, so nothing is left behind)."""
    env = dict(os.environ, MPLBACKEND="Agg", RADSEM_EXAMPLE_OUT=str(tmp_path))
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
