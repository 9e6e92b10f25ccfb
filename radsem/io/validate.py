"""Checks of the cohort tables; every error names the file, the row and the column."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from radsem.errors import DataError

__all__ = ["check_clinical", "check_expression", "check_protocol", "SERIES"]

SERIES = ("T2", "DWI", "ADC")


def _show(value) -> str:
    """repr of a cell value without numpy's type decoration (300, not np.int64(300))."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _line(index: int) -> int:
    """CSV line number of a 0-based data row (line 1 is the header)."""
    return int(index) + 2


def _where(path: Path, frame: pd.DataFrame, pos: int) -> str:
    pid = frame["patient_id"].iloc[pos] if "patient_id" in frame.columns else None
    who = f", patient_id {_show(pid)}" if pid is not None and not pd.isna(pid) else ""
    return f"{path.name}, row {_line(pos)}{who}"


def _require(path: Path, frame: pd.DataFrame, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path.name}: required column(s) {missing} missing (found: {list(frame.columns)[:12]})"
        )


def _check_ids(path: Path, frame: pd.DataFrame, key: tuple[str, ...] = ("patient_id",)) -> None:
    ids = frame["patient_id"]
    blank = ids.isna() | (ids.astype(str).str.strip() == "")
    if blank.any():
        pos = int(np.flatnonzero(blank.to_numpy())[0])
        raise DataError(f"{path.name}, row {_line(pos)}, column 'patient_id': missing patient id")
    dup = frame.duplicated(subset=list(key), keep="first")
    if dup.any():
        pos = int(np.flatnonzero(dup.to_numpy())[0])
        what = ", ".join(f"{k}={_show(frame[k].iloc[pos])}" for k in key)
        raise DataError(f"{path.name}, row {_line(pos)}: duplicated {what}")


def _numeric(path: Path, frame: pd.DataFrame, column: str) -> pd.Series:
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{_where(path, frame, pos)}, column {column!r}: {_show(raw.iloc[pos])} is not a number"
        )
    return values.astype(float)


def _check_survival(path: Path, frame: pd.DataFrame, time: str, event: str) -> None:
    times = _numeric(path, frame, time)
    bad = times.isna() | ~np.isfinite(times) | (times < 0)
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        value = frame[time].iloc[pos]
        reason = "missing" if pd.isna(value) else f"{_show(value)} is negative or not finite"
        raise DataError(
            f"{_where(path, frame, pos)}, column {time!r}: time {reason} "
            "(follow-up times must be known and >= 0)"
        )
    events = _numeric(path, frame, event)
    bad = ~events.isin([0.0, 1.0])
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{_where(path, frame, pos)}, column {event!r}: event must be 0 "
            f"(censored) or 1 (event), got {_show(frame[event].iloc[pos])}"
        )
    frame[time] = times
    frame[event] = events.astype(int)


def check_clinical(path: Path, frame: pd.DataFrame, require_outcome: bool = True) -> pd.DataFrame:
    """Validate the clinical table and return a cleaned copy (times float, events int).

    With ``require_outcome=False`` the ``time``/``event`` columns may be absent (radiomic
    extraction needs only the patient ids); when present they are checked all the same.
    """
    frame = frame.copy()
    outcome = require_outcome or "time" in frame.columns or "event" in frame.columns
    _require(path, frame, ("patient_id", "time", "event") if outcome else ("patient_id",))
    if frame.empty:
        raise DataError(f"{path.name}: no patients (the table has a header but no rows)")
    frame["patient_id"] = frame["patient_id"].astype(object)
    _check_ids(path, frame)
    frame["patient_id"] = frame["patient_id"].astype(str)
    if outcome:
        _check_survival(path, frame, "time", "event")
    if "dss_event" in frame.columns or "dss_time" in frame.columns:
        _require(path, frame, ("dss_time", "dss_event"))
        _check_survival(path, frame, "dss_time", "dss_event")
    if "age" in frame.columns:
        age = _numeric(path, frame, "age")
        bad = (age < 0) | (age > 120)
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"{_where(path, frame, pos)}, column 'age': "
                f"{_show(frame['age'].iloc[pos])} is not a plausible age in years"
            )
        frame["age"] = age
    return frame


def _check_known(path: Path, frame: pd.DataFrame, known: set[str]) -> None:
    unknown = ~frame["patient_id"].isin(known)
    if unknown.any():
        pos = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(
            f"{_where(path, frame, pos)}: patient id not in clinical.csv "
            f"({int(unknown.sum())} unknown patient(s) in all)"
        )


def check_expression(path: Path, frame: pd.DataFrame, known: set[str]) -> pd.DataFrame:
    """Validate the expression table (numeric genes, known and unique patients)."""
    frame = frame.copy()
    _require(path, frame, ("patient_id",))
    frame["patient_id"] = frame["patient_id"].astype(object)
    _check_ids(path, frame)
    frame["patient_id"] = frame["patient_id"].astype(str)
    _check_known(path, frame, known)
    genes = [c for c in frame.columns if c != "patient_id"]
    if not genes:
        raise DataError(f"{path.name}: no gene columns besides patient_id")
    dup = pd.Index(genes)[pd.Index(genes).duplicated()]
    if len(dup):
        raise DataError(f"{path.name}: duplicated gene column(s) {list(dup)}")
    for gene in genes:
        if not pd.api.types.is_numeric_dtype(frame[gene]) or frame[gene].dtype == bool:
            frame[gene] = _numeric(path, frame, gene)
        values = frame[gene].to_numpy(dtype=float, na_value=np.nan)
        if len(values) and np.isnan(values).all():
            raise DataError(
                f"{path.name}, column {gene!r}: no observed values (all missing); drop the gene"
            )
        if np.isinf(values).any():
            pos = int(np.flatnonzero(np.isinf(values))[0])
            raise DataError(f"{_where(path, frame, pos)}, column {gene!r}: infinite value")
        frame[gene] = values
    return frame


def check_protocol(
    path: Path, frame: pd.DataFrame, known: set[str], series: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """Validate the protocol table (one row per patient and series).

    ``series``: the allowed series names (default T2, DWI, ADC; a cohort with ``series.csv``
    passes its own, upper-case).
    """
    allowed = SERIES if series is None else tuple(series)
    frame = frame.copy()
    _require(path, frame, ("patient_id", "series"))
    frame["patient_id"] = frame["patient_id"].astype(object)
    _check_ids(path, frame, ("patient_id", "series"))
    frame["patient_id"] = frame["patient_id"].astype(str)
    _check_known(path, frame, known)
    bad = ~frame["series"].isin(allowed)
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{_where(path, frame, pos)}, column 'series': "
            f"{_show(frame['series'].iloc[pos])} is not one of {list(allowed)}"
        )
    return frame
