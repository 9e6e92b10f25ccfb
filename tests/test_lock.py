"""requirements.lock pins every dependency by version, and nothing by path or URL."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==\S+$")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _PIN.match(line.strip())
        assert match, f"requirements.lock: not a version pin: {line!r}"
        pins[_canonical(match.group(1))] = line.strip()
    return pins


def test_lock_pins_every_declared_dependency():
    pins = _pins()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = list(project["dependencies"])
    for extra, items in project["optional-dependencies"].items():
        declared += [item for item in items if not item.startswith("radsem[")]
    for requirement in declared:
        name = _canonical(re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0])
        assert name in pins, f"{requirement} (pyproject.toml) is not in requirements.lock"
    assert "radsem" not in pins  # the project itself is installed from the checkout
