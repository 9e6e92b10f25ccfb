"""Turn ordered-categorical columns into integer category codes, as lavaan does.

lavaan recodes every variable named in ``ordered=`` to ``1, 2, ..., K`` over its *observed*
values in sorted order (``as.numeric(as.factor(x))``). An R ordered factor keeps its declared
level order. radsem does the same with 0-based codes:

* integer / float / string / boolean columns: the sorted distinct observed values are the levels;
* pandas ordered ``Categorical``: the declared category order; a declared category that nobody
  chose is an error, as lavaan's "some categories of variable ... are empty" (a threshold between
  two adjacent categories is not identified when one of them is empty) — unless ``levels`` are
  given explicitly for a multi-group analysis, the same rule applies.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from radsem._warnings import user_stacklevel
from radsem.errors import DataError, DataWarning

__all__ = ["MAX_LEVELS", "encode_ordinal", "cut_into_categories"]

MAX_LEVELS = 50
"""An ordered variable with more observed categories than this is rejected (lavaan warns above
12; above 50 the variable is almost certainly continuous or an identifier)."""


def _levels_of(series: pd.Series, name: str) -> list:
    observed = series.dropna()
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = list(series.cat.categories)
        if not series.cat.ordered and len(cats) > 2:
            # an unordered factor has no natural order; lavaan refuses these too
            raise DataError(
                f"column {name!r} is an unordered categorical with {len(cats)} categories; "
                "make it an ordered Categorical (category order = order of the levels) or numeric"
            )
        return cats
    values = observed.to_numpy()
    if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
        raise DataError(f"ordered column {name!r} contains non-finite values (inf)")
    try:
        levels = sorted(pd.unique(values).tolist())
    except TypeError as exc:
        raise DataError(
            f"ordered column {name!r} mixes values that cannot be sorted ({exc}); "
            "convert it to an ordered pandas Categorical to give the category order"
        ) from exc
    _warn_lexicographic(levels, name)
    return levels


def _warn_lexicographic(levels: list, name: str) -> None:
    """Strings that are numbers sort as text ("10" < "2"), as in lavaan; say so."""
    if not levels or not all(isinstance(v, str) for v in levels):
        return
    numbers = pd.to_numeric(pd.Series(levels), errors="coerce")
    if numbers.notna().all() and not numbers.is_monotonic_increasing:
        warnings.warn(
            f"ordered column {name!r} holds numbers stored as text; its categories are ordered "
            f"as text {levels} (as lavaan does). Convert the column to numbers, or to an "
            "ordered Categorical, if that is not the intended order",
            DataWarning,
            stacklevel=user_stacklevel(),
        )


def encode_ordinal(
    series: pd.Series, name: str | None = None, levels: Sequence | None = None
) -> tuple[np.ndarray, tuple]:
    """Integer codes ``0..K-1`` (``-1`` for missing) and the level labels of an ordered column.

    Parameters
    ----------
    series : pandas.Series
        The column: integers, floats with integer meaning, strings, booleans, or a pandas
        Categorical (ordered: its category order is used).
    name : str, optional
        Column name used in error messages (default: ``series.name``).
    levels : sequence, optional
        The categories in increasing order. Default: the declared categories of a Categorical,
        else the sorted distinct observed values. Give them explicitly to code several groups
        of a multi-group analysis on the same scale.

    Returns
    -------
    codes : numpy.ndarray of int
        Category index of each row, ``-1`` where the value is missing.
    levels : tuple
        The level labels, in order.

    Raises
    ------
    DataError
        Fewer than two categories, more than :data:`MAX_LEVELS`, non-finite values, values not
        among ``levels``, or a category (declared or given) that no row has.
    """
    label = str(series.name if name is None else name)
    if levels is None:
        levels = _levels_of(series, label)
    levels = list(levels)
    if len(levels) > MAX_LEVELS:
        raise DataError(
            f"ordered column {label!r} has {len(levels)} categories (more than {MAX_LEVELS}); "
            "treat it as continuous"
        )
    if isinstance(series.dtype, pd.CategoricalDtype):
        values = series.astype(object)
    else:
        values = series
    missing = values.isna().to_numpy()
    raw = values.to_numpy()
    if raw.dtype.kind in "biuf" and all(isinstance(v, int | float | np.number) for v in levels):
        # fast path for numeric codes: binary search in the sorted levels
        grid = np.asarray(levels, dtype=float)
        flat = np.where(missing, grid[0], raw.astype(float))
        pos = np.clip(np.searchsorted(grid, flat), 0, grid.size - 1)
        codes = np.where(grid[pos] == flat, pos, -1).astype(np.int64)
        codes[missing] = -1
    else:
        codes = pd.Categorical(values, categories=levels, ordered=True).codes.astype(np.int64)
    bad = (codes < 0) & ~missing
    if bad.any():
        value = values.to_numpy(dtype=object)[np.flatnonzero(bad)[0]]
        if isinstance(value, float) and not np.isfinite(value):
            raise DataError(f"ordered column {label!r} contains non-finite values ({value})")
        raise DataError(
            f"ordered column {label!r} has value {value!r} that is not one of its "
            f"categories {levels}"
        )
    counts = np.bincount(codes[codes >= 0], minlength=len(levels))
    if np.count_nonzero(counts) < 2:
        raise DataError(
            f"ordered column {label!r} has a single observed category; its thresholds and "
            "correlations are not defined (drop the column or treat it as a constant)"
        )
    if np.any(counts == 0):
        empty = [levels[i] for i in np.flatnonzero(counts == 0)]
        raise DataError(
            f"some categories of ordered column {label!r} are empty: {empty} "
            f"(frequencies {counts.tolist()}); thresholds next to an empty category are not "
            "identified. Drop unused categories (e.g. Series.cat.remove_unused_categories()) "
            "or merge them with a neighbour"
        )
    return codes, tuple(levels)


def cut_into_categories(frame: pd.DataFrame, n_categories: int) -> pd.DataFrame:
    """Cut every column into ``n_categories`` ordered categories at its sample quantiles.

    A helper for examples and parity tests (e.g. the nine HolzingerSwineford1939 indicators cut
    into three ordered categories). Column ``x`` gets the edges
    ``numpy.quantile(x, [1/n, 2/n, ..., (n-1)/n])`` (numpy's default linear interpolation) and
    intervals closed on the right, as ``pandas.cut``: a value equal to an edge goes to the lower
    category. Categories are coded ``1..n`` as integers; missing values stay missing.

    Parameters
    ----------
    frame : pandas.DataFrame
        Numeric columns.
    n_categories : int
        Number of categories (at least 2).

    Returns
    -------
    pandas.DataFrame
        Same index and columns, integer codes (``Int64`` when a column has missing values).
    """
    if int(n_categories) != n_categories or n_categories < 2:
        raise DataError(f"n_categories must be an integer >= 2, got {n_categories!r}")
    probs = np.arange(1, int(n_categories)) / int(n_categories)
    out = {}
    for column in frame.columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        finite = values.dropna().to_numpy(dtype=float)
        if finite.size == 0:
            raise DataError(f"column {column!r} has no numeric values to cut")
        edges = np.quantile(finite, probs)
        codes = np.searchsorted(edges, values.to_numpy(dtype=float), side="left") + 1
        series = pd.Series(codes, index=frame.index, name=column)
        if values.isna().any():
            series = series.astype("Int64").mask(values.isna())
        out[column] = series
    return pd.DataFrame(out, index=frame.index)
