"""Checks of the survival columns and covariates, and the piecewise-constant baseline grid."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from radsem._warnings import user_stacklevel
from radsem.errors import DataError, DataWarning

__all__ = ["check_survival", "complete_covariates", "PiecewiseGrid", "piecewise_grid"]


def _numeric(data: pd.DataFrame, col: str, what: str) -> np.ndarray:
    if col not in data.columns:
        raise DataError(f"{what} column {col!r} is not in the data")
    s = data[col]
    if s.dtype == bool:
        s = s.astype(float)
    if not pd.api.types.is_numeric_dtype(s):
        raise DataError(
            f"{what} column {col!r} must be numeric, got dtype {s.dtype} "
            "(recode categories into 0/1 indicator columns)"
        )
    return s.to_numpy(dtype=float)


def check_survival(data: pd.DataFrame, time: str, event: str) -> tuple[np.ndarray, np.ndarray]:
    """Validated follow-up times and 0/1 event indicators.

    Raises
    ------
    DataError
        Unknown or non-numeric columns, missing, infinite or negative times, events other
        than 0/1, no events at all.
    """
    t = _numeric(data, time, "time")
    d = _numeric(data, event, "event")
    if np.isnan(t).any():
        raise DataError(
            f"time column {time!r} has {int(np.isnan(t).sum())} missing value(s); "
            "every patient needs a follow-up time"
        )
    if not np.isfinite(t).all():
        raise DataError(f"time column {time!r} has infinite values")
    if (t < 0).any():
        raise DataError(f"time column {time!r} has negative times (smallest {t.min():g})")
    if np.isnan(d).any():
        raise DataError(f"event column {event!r} has {int(np.isnan(d).sum())} missing value(s)")
    if not np.isin(d, (0.0, 1.0)).all():
        bad = np.unique(d[~np.isin(d, (0.0, 1.0))])[:3]
        raise DataError(
            f"event column {event!r} must be 0 (censored) or 1 (event), found "
            f"{', '.join(f'{v:g}' for v in bad)}"
        )
    if d.sum() == 0:
        raise DataError(f"event column {event!r} has no events: hazard ratios cannot be estimated")
    return t, d


def complete_covariates(data: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Boolean mask of rows observed on every covariate (``DataWarning`` when rows go)."""
    cols = list(dict.fromkeys(columns))
    if not cols:
        return np.ones(len(data), dtype=bool)
    arr = np.column_stack([_numeric(data, c, "covariate") for c in cols])
    if np.isinf(arr).any():
        raise DataError("covariates contain infinite values")
    keep = ~np.isnan(arr).any(axis=1)
    if not keep.all():
        hit = [c for c, h in zip(cols, np.isnan(arr).any(axis=0), strict=True) if h]
        warnings.warn(
            f"{int((~keep).sum())} of {len(keep)} patients with missing values on "
            f"the covariate(s) {', '.join(hit)} were removed (the model conditions "
            "on observed covariates)",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
    return keep


@dataclass(frozen=True)
class PiecewiseGrid:
    """Intervals ``(cuts[k], cuts[k+1]]`` of a piecewise-constant baseline hazard (an event
    at a cut point belongs to the interval that ends there).

    Attributes
    ----------
    cuts : ndarray
        ``0 = c_0 < c_1 < ... < c_K = inf``.
    exposure : ndarray, shape (n, K)
        Time each patient spends in each interval.
    interval : ndarray of int, shape (n,)
        Interval holding each patient's follow-up time.
    """

    cuts: np.ndarray
    exposure: np.ndarray
    interval: np.ndarray


def piecewise_grid(
    time: np.ndarray, event: np.ndarray, pieces: int = 6, cuts: Sequence[float] | None = None
) -> PiecewiseGrid:
    """Intervals with (about) equal numbers of events: inner cut points at event-time
    quantiles ``k / pieces`` (duplicates removed).

    Raises
    ------
    DataError
        ``pieces`` not a positive integer, or user cut points not positive and increasing.
    """
    if cuts is None:
        if isinstance(pieces, bool) or not isinstance(pieces, (int, np.integer)) or pieces < 1:
            raise DataError(f"baseline_pieces must be a positive integer, got {pieces!r}")
        ev = np.sort(time[event == 1])
        inner = np.quantile(ev, np.arange(1, pieces) / pieces) if pieces > 1 else np.array([])
        inner = np.unique(inner[(inner > 0) & (inner < ev.max())])
    else:
        inner = np.asarray(list(cuts), dtype=float)
        if inner.size and (
            (inner <= 0).any() or not np.isfinite(inner).all() or (np.diff(inner) <= 0).any()
        ):
            raise DataError("baseline cut points must be positive, finite and increasing")
    edges = np.concatenate([[0.0], inner, [np.inf]])
    lo, hi = edges[:-1], edges[1:]
    exposure = np.clip(np.minimum(time[:, None], hi[None, :]) - lo[None, :], 0.0, None)
    interval = np.searchsorted(inner, time, side="left")
    return PiecewiseGrid(edges, exposure, interval)
