"""Checking survival data and building design matrices (categorical covariates as dummies)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from radsem.errors import DataError

__all__ = ["SurvivalData", "survival_data", "Design", "build_design"]


@dataclass(frozen=True)
class SurvivalData:
    """Validated arrays taken from a DataFrame (rows with missing values already handled)."""

    frame: pd.DataFrame  # the rows kept, original index
    time: np.ndarray
    event: np.ndarray  # float 0/1
    n_dropped: int


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    return list(x)


def survival_data(
    data: pd.DataFrame,
    time: str,
    event: str,
    columns: Sequence[str] = (),
    missing: str = "raise",
    require_events: bool = True,
) -> SurvivalData:
    """Validate time/event columns and the other needed columns of ``data``.

    Raises :class:`DataError` for unknown columns, negative / missing / non-finite times, events
    other than 0/1 (or False/True), missing values in other columns (unless ``missing="drop"``)
    and data without any event.
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if missing not in ("raise", "drop"):
        raise DataError(f"missing must be 'raise' or 'drop', got {missing!r}")
    if len(data) == 0:
        raise DataError("data has no rows")
    duplicated = sorted({str(c) for c in data.columns[data.columns.duplicated()]})
    if duplicated:
        raise DataError(
            f"data has duplicated column name(s): {', '.join(duplicated)}; "
            "rename them so each column is unique"
        )
    needed = [time, event] + [c for c in columns if c not in (time, event)]
    unknown = [c for c in needed if c not in data.columns]
    if unknown:
        raise DataError(f"column(s) not found in data: {', '.join(map(str, unknown))}")
    frame = data.loc[:, list(dict.fromkeys(needed))]
    t = pd.to_numeric(frame[time], errors="coerce")
    bad_type = t.isna() & frame[time].notna()
    if bad_type.any():
        raise DataError(
            f"time column '{time}' must be numeric; {int(bad_type.sum())} value(s) are not numbers"
        )
    if t.isna().any():
        raise DataError(
            f"time column '{time}' has {int(t.isna().sum())} missing value(s); "
            "survival times must be known (remove those rows first)"
        )
    if not np.all(np.isfinite(t.to_numpy(float))):
        raise DataError(f"time column '{time}' has infinite values")
    if (t < 0).any():
        raise DataError(
            f"time column '{time}' has {int((t < 0).sum())} negative value(s); "
            "survival times must be >= 0"
        )
    ev = frame[event]
    if ev.isna().any():
        raise DataError(f"event column '{event}' has {int(ev.isna().sum())} missing value(s)")
    evn = pd.to_numeric(ev.astype(float) if ev.dtype == bool else ev, errors="coerce")
    if evn.isna().any() or not evn.isin([0, 1]).all():
        vals = sorted(map(str, pd.unique(ev)))[:6]
        raise DataError(
            f"event column '{event}' must be coded 0 (censored) / 1 (event); "
            f"found values {', '.join(vals)}"
        )
    others = [c for c in needed if c not in (time, event)]
    na_rows = frame[others].isna().any(axis=1) if others else pd.Series(False, index=frame.index)
    n_dropped = int(na_rows.sum())
    if n_dropped and missing == "raise":
        cols = [c for c in others if frame[c].isna().any()]
        raise DataError(
            f"{n_dropped} row(s) have missing values in {', '.join(map(str, cols))}; "
            "impute them or pass missing='drop' to analyse complete cases"
        )
    keep = ~na_rows.to_numpy()
    if not keep.any():
        raise DataError(
            "no row is complete in " + ", ".join(map(str, others)) + "; nothing is left to analyse"
        )
    frame = frame.loc[keep]
    evv = evn.to_numpy(float)[keep]
    if require_events and evv.sum() == 0:
        raise DataError("there are no events in the data; survival models need at least one")
    return SurvivalData(frame, t.to_numpy(float)[keep], evv, n_dropped)


@dataclass(frozen=True)
class Design:
    """A numeric design matrix with column names and the coding used."""

    X: np.ndarray
    names: list[str]
    levels: dict[str, list]  # categorical column -> levels, reference first
    columns: list[str]


def _levels(series: pd.Series, ref) -> list:
    if isinstance(series.dtype, pd.CategoricalDtype):
        levels = [lv for lv in series.cat.categories if (series == lv).any()]
    else:
        levels = sorted(pd.unique(series.dropna()), key=lambda v: (str(type(v)), v))
    if ref is not None:
        if ref not in levels:
            raise DataError(
                f"reference level {ref!r} of '{series.name}' is not in the data "
                f"(levels: {', '.join(map(str, levels))})"
            )
        levels = [ref] + [lv for lv in levels if lv != ref]
    return levels


def build_design(
    frame: pd.DataFrame,
    covariates: Sequence[str],
    categorical: Mapping | Sequence | None = None,
    levels: Mapping[str, list] | None = None,
) -> Design:
    """Numeric columns as they are; categorical ones as treatment dummies ``col[T.level]``.

    A column is categorical when named in ``categorical`` (a list, or a mapping to its reference
    level) or when its dtype is object/category/bool-like text. The reference level is the first
    category of a pandas Categorical, else the smallest value (R's factor default), unless given.
    ``levels`` (from a fitted design) re-uses a stored coding for new data.
    """
    covariates = _as_list(covariates)
    refs = (
        dict(categorical)
        if isinstance(categorical, Mapping)
        else {c: None for c in _as_list(categorical)}
    )
    unknown = [c for c in refs if c not in covariates]
    if unknown:
        raise DataError(f"categorical column(s) not among the covariates: {', '.join(unknown)}")
    blocks, names, coding = [], [], {}
    for col in covariates:
        s = frame[col]
        if pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_timedelta64_dtype(s):
            raise DataError(
                f"covariate '{col}' holds dates or durations; convert it to a number "
                "(e.g. age in years, days since diagnosis) first"
            )
        if levels is not None:  # new data: keep the coding of the fitted design
            is_cat = col in levels
        else:
            is_cat = col in refs or not (
                pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
            )
        if is_cat:
            lv = levels[col] if levels is not None and col in levels else _levels(s, refs.get(col))
            unseen = set(pd.unique(s)) - set(lv)
            if unseen:
                raise DataError(
                    f"'{col}' has level(s) not seen when fitting: "
                    f"{', '.join(map(str, sorted(map(str, unseen))))}"
                )
            if levels is None and len(lv) < 2:
                raise DataError(
                    f"categorical covariate '{col}' has a single level "
                    f"({', '.join(map(str, lv))}); it cannot be estimated"
                )
            if levels is None and len(lv) > max(len(frame) // 2, 2):
                raise DataError(
                    f"categorical covariate '{col}' has {len(lv)} levels for "
                    f"{len(frame)} rows; is it a numeric column stored as text?"
                )
            coding[col] = lv
            for level in lv[1:]:
                blocks.append((s == level).to_numpy(float))
                names.append(f"{col}[T.{level}]")
        else:
            blocks.append(s.to_numpy(float, na_value=np.nan))
            names.append(str(col))
    X = np.column_stack(blocks) if blocks else np.zeros((len(frame), 0))
    return Design(X, names, coding, covariates)
