"""Helpers of the workflow tests (a uniquely named module: importing 'conftest' is ambiguous)."""

from __future__ import annotations

import hashlib
from pathlib import Path

HS_MODEL = """# Holzinger & Swineford three-factor CFA (the lavaan tutorial)
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""
MODELS = Path(__file__).resolve().parents[2] / "models"


def tree_hashes(*paths: Path) -> dict[str, str]:
    """SHA-256 of every file under the given files or folders."""
    out = {}
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for f in files:
            out[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def run_cli(capsys, command: str, *argv) -> tuple[int, str, str]:
    """``radsem COMMAND ARGV...`` through :func:`radsem.cli.main`: exit code, stdout, stderr."""
    from radsem.cli import main

    code = main([command, *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err
