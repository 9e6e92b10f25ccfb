"""Every Python block of README.md and docs/*.md runs as written.

The blocks of one page run in order, in one fresh process, inside an empty scratch folder that
holds a copy of the model library as ``models/`` (as a checkout does), so a page may build on its
own earlier blocks but never on files it did not make itself. Pages whose blocks call R are
skipped where R with lavaan is absent (CI always has it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from radsem._r import _probe

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(r"^```python\n(.*?)^```", flags=re.S | re.M)
_NEEDS_R = re.compile(r"cross_check\(|fit_lavaan\(|fit_engine\(|\"lavaan\"")


def python_blocks(page: Path) -> list[str]:
    """The fenced ``python`` blocks of a Markdown page, in order."""
    return _BLOCK.findall(page.read_text(encoding="utf-8"))


PAGES_WITH_CODE = [page for page in PAGES if python_blocks(page)]


def test_pages_are_found():
    """The extraction sees the blocks (a broken pattern would make every page below vanish)."""
    assert len(PAGES_WITH_CODE) >= 10
    assert any(page.name == "README.md" for page in PAGES_WITH_CODE)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=[p.name for p in PAGES_WITH_CODE])
def test_page_python_blocks_run(page: Path, tmp_path: Path):
    blocks = python_blocks(page)
    source = "\n\n".join(blocks)
    if _NEEDS_R.search(source):
        reason = _probe(("lavaan",))
        if reason is not None:
            pytest.skip(f"{page.name} calls lavaan; needs R: {reason}")
    shutil.copytree(ROOT / "models", tmp_path / "models")
    script = tmp_path / f"_{page.stem}_blocks.py"
    script.write_text(source, encoding="utf-8")
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert result.returncode == 0, (
        f"{page.relative_to(ROOT)}: its Python blocks fail as written\n"
        + result.stdout[-2000:]
        + result.stderr[-4000:]
    )
