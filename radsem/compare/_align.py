"""Put a model's per-patient output back on the patients it was asked about.

A model's ``predict_risk`` / ``predict_survival`` / ``predict_proba`` may return its rows in
another order, or only some of them; taking ``.to_numpy()`` would then give patients each
other's risks. Outputs are aligned on the index labels of the rows that were scored.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from radsem.errors import DataError

__all__ = ["align_rows"]


def align_rows(values, rows: pd.DataFrame, what: str = "predict_risk"):
    """``values`` (Series, DataFrame or array) on the index of ``rows``, in its order.

    A pandas result must be indexed by (a subset of) the labels of ``rows``; labels it lacks
    become NaN. An array (or a pandas result with a default 0..n-1 index while ``rows`` has
    other labels) must have one entry per row, in the order of ``rows``.

    Raises
    ------
    DataError
        Wrong length, repeated labels, or labels that are not rows that were scored.
    """
    index = rows.index
    if isinstance(values, pd.Series | pd.DataFrame):
        if values.index.equals(index):
            return values
        if not values.index.is_unique:
            raise DataError(f"{what} returned repeated row labels")
        unknown = values.index.difference(index)
        if len(unknown) == 0:
            return values.reindex(index)
        if isinstance(values.index, pd.RangeIndex) and len(values) == len(index):
            out = values.copy()
            out.index = index  # positional output of a model that ignores labels
            return out
        raise DataError(
            f"{what} returned rows labelled {list(unknown[:5])} that are not among the "
            f"{len(index)} rows it was given"
        )
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or len(arr) != len(index):
        raise DataError(f"{what} returned shape {arr.shape}, expected ({len(index)},)")
    return pd.Series(arr, index=index)
