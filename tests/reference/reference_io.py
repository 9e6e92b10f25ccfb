"""Shared pieces of the scripts that regenerate the stored R references: atomic writes (through
radsem's own writer), JSON-safe values and the versions of R and lavaan that produced them."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from radsem.io import atomic_write_bytes

__all__ = ["atomic_write_text", "json_value", "lavaan_versions"]


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 text with Unix line ends atomically (temporary file, then rename)."""
    atomic_write_bytes(text.encode("utf-8"), path)


def json_value(value):
    """numpy scalars as Python numbers; NaN as None (JSON null)."""
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def lavaan_versions() -> dict[str, str]:
    """R, lavaan and rpy2 versions, recorded with every stored reference."""
    import rpy2
    import rpy2.robjects as ro

    return {
        "R": str(ro.r("R.version.string")[0]),
        "lavaan": str(ro.r["as.character"](ro.r["packageVersion"]("lavaan"))[0]),
        "rpy2": rpy2.__version__,
    }
