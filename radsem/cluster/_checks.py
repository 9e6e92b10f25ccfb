"""Input checks shared by the clustering functions: numeric feature matrices and label vectors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from radsem.errors import DataError

__all__ = ["numeric_matrix", "label_vector", "align_to"]


def _bad_columns(frame: pd.DataFrame) -> list[str]:
    bad = []
    for name in frame.columns:
        col = frame[name]
        if isinstance(col, pd.DataFrame):
            continue  # duplicated names are reported separately
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            bad.append(f"{name} ({col.dtype})")
    return bad


def numeric_matrix(X, what: str = "X", finite: bool = True) -> np.ndarray:
    """``X`` as a 2-D float array, with a :class:`DataError` that names what is wrong.

    Text, dates and other non-numeric columns are named; pandas nullable missing values
    (``pd.NA``) become NaN; ``finite=True`` rejects missing and infinite values.
    """
    if isinstance(X, pd.DataFrame):
        dup = sorted({str(c) for c in X.columns[X.columns.duplicated()]})
        if dup:
            raise DataError(f"{what} has duplicated column name(s): {', '.join(dup)}")
        bad = _bad_columns(X)
        if bad:
            raise DataError(
                f"{what} must be numeric; non-numeric column(s): "
                + ", ".join(bad[:8])
                + (" ..." if len(bad) > 8 else "")
            )
        arr = (
            X.astype(float).to_numpy(dtype=float, na_value=np.nan)
            if X.shape[1]
            else np.zeros((len(X), 0))
        )
    else:
        try:
            arr = np.asarray(X, dtype=float)
        except (TypeError, ValueError):
            raise DataError(
                f"{what} must be numeric (rows = patients, columns = features)"
            ) from None
    if arr.ndim != 2:
        raise DataError(f"{what} must be a 2-D array (rows = patients, columns = features)")
    if arr.shape[1] == 0:
        raise DataError(f"{what} has no feature columns")
    if finite and not np.all(np.isfinite(arr)):
        n_bad = int((~np.isfinite(arr)).any(axis=1).sum())
        raise DataError(
            f"{what} has missing or infinite values in {n_bad} row(s); impute or drop them first"
        )
    return arr


def label_vector(labels, n: int, what: str = "labels") -> np.ndarray:
    """Cluster labels as a 1-D array of length ``n`` without missing values."""
    lab = np.asarray(labels)
    if lab.ndim != 1 or len(lab) != n:
        raise DataError(f"{what} must have one entry per row ({n}), got shape {lab.shape}")
    if pd.isna(pd.Series(lab, dtype=object)).any():
        raise DataError(f"{what} have missing values; drop those rows or give every row a cluster")
    return lab


def align_to(values, index: pd.Index, what: str = "labels"):
    """``values`` in the order of ``index``: a pandas Series indexed by other labels is
    aligned on its labels (rows it lacks become missing); anything else is positional.

    Raises
    ------
    DataError
        A Series whose labels repeat or are not rows of ``index``.
    """
    if not isinstance(values, pd.Series) or values.index.equals(index):
        return np.asarray(values)
    if isinstance(values.index, pd.RangeIndex) and not isinstance(index, pd.RangeIndex):
        return np.asarray(values)  # a plain positional vector wrapped in a Series
    if not values.index.is_unique or not index.is_unique:
        raise DataError(f"{what} and the data must have unique row labels to be aligned")
    unknown = values.index.difference(index)
    if len(unknown):
        raise DataError(f"{what} are given for rows {list(unknown[:5])} that are not in the data")
    return values.reindex(index).to_numpy()
