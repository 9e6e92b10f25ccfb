"""Bring engine outputs to radsem's column names (lavaan's names, Python spelling)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PARAMETER_COLUMNS", "MODINDEX_COLUMNS", "tidy_parameters", "tidy_modindices"]

PARAMETER_COLUMNS = [
    "lhs",
    "op",
    "rhs",
    "group",
    "label",
    "est",
    "se",
    "z",
    "pvalue",
    "ci_lower",
    "ci_upper",
    "std_lv",
    "std_all",
]
MODINDEX_COLUMNS = ["lhs", "op", "rhs", "group", "mi", "epc", "sepc_lv", "sepc_all"]

_RENAME = {
    "ci.lower": "ci_lower",
    "ci.upper": "ci_upper",
    "std.lv": "std_lv",
    "std.all": "std_all",
    "std.nox": "std_nox",
    "sepc.lv": "sepc_lv",
    "sepc.all": "sepc_all",
    "sepc.nox": "sepc_nox",
}


def _common(table: pd.DataFrame) -> pd.DataFrame:
    # deep copy: arrays converted from R may share memory that R frees later
    table = table.copy(deep=True).rename(columns=_RENAME).reset_index(drop=True)
    if "group" not in table.columns:
        table["group"] = 1
    table["group"] = table["group"].astype("int64")
    for col in ("lhs", "op", "rhs"):
        table[col] = table[col].astype(str)
    return table


def tidy_parameters(
    table: pd.DataFrame, columns: list[str] | None = PARAMETER_COLUMNS
) -> pd.DataFrame:
    """Rename, add missing columns as NaN (``se`` etc. when ``se="none"``), order columns."""
    table = _common(table)
    if "label" not in table.columns:
        table["label"] = ""
    table["label"] = table["label"].fillna("").astype(str)
    if columns is None:
        return table
    for col in columns:
        if col not in table.columns:
            table[col] = np.nan
    return table[columns].copy()


def tidy_modindices(table: pd.DataFrame) -> pd.DataFrame:
    """Rename lavaan's modification-index columns and add ``group`` when absent."""
    table = _common(table)
    for col in MODINDEX_COLUMNS:
        if col not in table.columns:
            table[col] = np.nan
    return table[MODINDEX_COLUMNS].copy()
