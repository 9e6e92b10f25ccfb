"""Checking the data and computing the sample moments per group (lavaan's ``lavSampleStats``)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from radsem._warnings import user_stacklevel
from radsem.errors import DataError, DataWarning

__all__ = ["SampleStats", "sample_stats", "group_split"]


@dataclass(frozen=True)
class SampleStats:
    """Sample moments of one group (covariance divided by ``N``, as lavaan's ML).

    Attributes
    ----------
    data : ndarray (n, p)
        The rows used (complete cases with ``missing="listwise"``; may contain NaN with
        ``missing="ml"``).
    nobs : int
    mean : ndarray (p,)
    cov : ndarray (p, p)
        Biased (``/N``) covariance; with missing values the EM estimate when available.
    """

    data: np.ndarray
    nobs: int
    mean: np.ndarray
    cov: np.ndarray

    @property
    def cov_inv(self) -> np.ndarray:
        """Inverse of the sample covariance."""
        return np.linalg.inv(self.cov)

    @property
    def logdet(self) -> float:
        """log det of the sample covariance."""
        return float(np.linalg.slogdet(self.cov)[1])


def _numeric_frame(data: pd.DataFrame, observed: Sequence[str]) -> pd.DataFrame:
    missing = [v for v in observed if v not in data.columns]
    if missing:
        raise DataError(f"variable(s) not found in the data: {', '.join(missing)}")
    out = {}
    for v in observed:
        col = data[v]
        if isinstance(col.dtype, pd.CategoricalDtype) or not (
            pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)
        ):
            raise DataError(
                f"column {v!r} is not numeric (dtype {col.dtype}); SEM variables must be "
                "numeric (recode categories to numbers first)"
            )
        out[v] = pd.to_numeric(col, errors="coerce").astype(float)
    return pd.DataFrame(out, index=data.index)


def group_split(data: pd.DataFrame, group: str | None, group_labels=None):
    """Split ``data`` by the ``group`` column; returns (labels, list of frames)."""
    if group is None:
        return ("",), [data]
    if group not in data.columns:
        raise DataError(f"grouping variable {group!r} not found in the data")
    col = data[group]
    if col.isna().any():
        raise DataError(f"grouping variable {group!r} has missing values")
    if group_labels is None:
        labels = list(pd.unique(col))  # order of first appearance, as lavaan (even for factors)
    else:
        labels = list(group_labels)
    frames = [data[col == lab] for lab in labels]
    return tuple(labels), frames


def sample_stats(
    data: pd.DataFrame, observed: Sequence[str], missing: str = "listwise", label: str = ""
) -> SampleStats:
    """Sample statistics of one group, after checking the data.

    Raises
    ------
    DataError
        Unknown or non-numeric variables, columns with no observed value, too few
        complete rows (listwise) or cases (FIML: no more cases than variables), a
        non-positive-definite sample covariance matrix.

    Warns
    -----
    DataWarning
        When rows with missing values are dropped (listwise deletion).
    """
    frame = _numeric_frame(data, observed)
    where = f" in group {label!r}" if label != "" else ""
    empty = [v for v in observed if frame[v].isna().all()]
    if empty:
        raise DataError(f"variable(s) with no observed values{where}: {', '.join(empty)}")
    arr = frame.to_numpy(float)
    if not np.isfinite(arr[~np.isnan(arr)]).all():
        raise DataError(f"data contain infinite values{where}")
    _check_magnitude(arr, observed, where)
    p = arr.shape[1]
    if missing == "listwise":
        keep = ~np.isnan(arr).any(axis=1)
        dropped = int((~keep).sum())
        if dropped:
            warnings.warn(
                f"{dropped} of {arr.shape[0]} rows{where} have missing values and were "
                "dropped (listwise deletion; use missing='ml' for FIML)",
                DataWarning,
                stacklevel=user_stacklevel(),
            )
        arr = arr[keep]
    else:
        arr = arr[~np.isnan(arr).all(axis=1)]
    n = arr.shape[0]
    if n < 2 or n <= 1:
        raise DataError(f"too few usable rows{where}: {n}")
    if missing == "listwise":
        mean = arr.mean(axis=0)
        cov = np.cov(arr, rowvar=False, bias=True).reshape(p, p)
    else:
        mean = np.nanmean(arr, axis=0)
        cov = pd.DataFrame(arr).cov(min_periods=1).to_numpy() * (n - 1) / n
    if missing == "listwise":
        if n <= p:
            raise DataError(
                f"too few complete rows{where}: {n} rows for {p} observed variables "
                "(the sample covariance matrix is singular)"
            )
        _check_pd(cov, observed, where)
    elif n <= p:
        # lavaan 0.6-14 only warns (nobs < nvar) and then fails inside the EM or the optimiser
        raise DataError(
            f"too few cases{where}: {n} rows with data for {p} observed variables; "
            "full-information ML needs more cases than variables (the unrestricted EM "
            "covariance matrix is singular)"
        )
    return SampleStats(arr, n, mean, cov)


def _check_magnitude(arr: np.ndarray, observed: Sequence[str], where: str) -> None:
    """Refuse columns whose moments overflow double precision (e.g. values near 1e308, whose
    squares are infinite): every estimator needs the variances and their products."""
    with np.errstate(over="ignore", invalid="ignore"):
        for j, name in enumerate(observed):
            col = arr[:, j][~np.isnan(arr[:, j])]
            if col.size == 0:
                continue
            mean = np.mean(col)
            var = np.mean((col - mean) ** 2) if np.isfinite(mean) else np.inf
            if not (np.isfinite(mean) and np.isfinite(var) and np.isfinite(var * var)):
                big = float(np.max(np.abs(col)))
                raise DataError(
                    f"column {name!r}{where}: values up to {big:.3g} in absolute value are too "
                    "large for double precision (their mean, variance or squared variance "
                    "overflows); rescale the column (e.g. to other units or a log scale)"
                )


def _check_pd(cov: np.ndarray, observed, where: str) -> None:
    var = np.diag(cov)
    zero = [v for v, s in zip(observed, var, strict=True) if not s > 0]
    if zero:
        raise DataError(f"variable(s) with zero variance{where}: {', '.join(zero)}")
    ev = np.linalg.eigvalsh(cov / np.sqrt(np.outer(var, var)))
    if ev.min() <= 1e-10:
        raise DataError(
            f"the sample covariance matrix{where} is not positive definite (smallest "
            f"eigenvalue of the correlation matrix {ev.min():.3g}): some observed variables "
            "are linearly dependent"
        )
