"""Polychoric, polyserial and Pearson correlations for users (lavaan's ``lavCor(ordered=)``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from radsem.errors import DataError
from radsem.estimation.ordinal.samplestats import categorical_sample_stats

__all__ = ["PolychoricResult", "polychoric", "polychoric_matrix"]


@dataclass(frozen=True)
class PolychoricResult:
    """Polychoric correlation of two ordinal variables.

    Attributes
    ----------
    rho : float
        The two-step polychoric correlation.
    se : float
        Its standard error (two-step sandwich, lavaan's ``lavCor(..., se = "robust.sem")``);
        NaN when the correlation is exactly +-1.
    thresholds_x, thresholds_y : numpy.ndarray
        The thresholds of ``x`` and ``y``.
    nobs : int
        Complete pairs used.
    """

    rho: float
    se: float
    thresholds_x: np.ndarray
    thresholds_y: np.ndarray
    nobs: int


def polychoric(x: Sequence, y: Sequence) -> PolychoricResult:
    """Two-step polychoric correlation of two ordinal variables.

    Parameters
    ----------
    x, y : array_like or pandas.Series
        Ordinal values (integers, strings or ordered pandas Categoricals); missing values are
        removed pairwise (with a :class:`~radsem.errors.DataWarning`).

    Returns
    -------
    PolychoricResult

    Notes
    -----
    Thresholds from each margin (:math:`\\Phi^{-1}` of the cumulative proportions), then the
    correlation maximising the bivariate multinomial likelihood with the thresholds fixed
    (Olsson, 1979), with lavaan 0.6-14's handling of empty cells; see
    :mod:`radsem.estimation.ordinal.polychoric`. Checked against lavaan's ``lavCor``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> z = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=5000)
    >>> res = polychoric(np.digitize(z[:, 0], [-0.5, 0.7]), np.digitize(z[:, 1], [0.0]))
    >>> round(res.rho, 1)
    0.6
    """
    sx = x if isinstance(x, pd.Series) else pd.Series(np.asarray(x, dtype=object))
    sy = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y, dtype=object))
    if len(sx) != len(sy):
        raise DataError(f"x and y have different lengths ({len(sx)} and {len(sy)})")
    frame = pd.DataFrame({"x": sx.to_numpy(), "y": sy.to_numpy()})
    if isinstance(sx.dtype, pd.CategoricalDtype):
        frame["x"] = pd.Categorical(sx.to_numpy(), dtype=sx.dtype)
    if isinstance(sy.dtype, pd.CategoricalDtype):
        frame["y"] = pd.Categorical(sy.to_numpy(), dtype=sy.dtype)
    frame = frame.infer_objects()
    stats = categorical_sample_stats(frame, ["x", "y"], ["x", "y"], nacov=None)
    return PolychoricResult(
        rho=float(stats.cov[0, 1]),
        se=float(np.sqrt(stats.gamma[-1, -1] / stats.nobs)),
        thresholds_x=stats.thresholds["x"],
        thresholds_y=stats.thresholds["y"],
        nobs=stats.nobs,
    )


def polychoric_matrix(
    frame: pd.DataFrame,
    ordered: Sequence[str] | None = None,
    *,
    return_thresholds: bool = False,
    missing: str = "listwise",
) -> pd.DataFrame | tuple[pd.DataFrame, pd.Series]:
    """Correlation matrix of ordinal (and continuous) columns, as ``lavaan::lavCor``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The variables.
    ordered : sequence of str, optional
        Ordinal columns (default: all). The others are continuous: polyserial correlations
        with ordinal columns, Pearson correlations among themselves.
    return_thresholds : bool
        Also return the thresholds as a Series named as lavaan (``"x1|t1"``).
    missing : {"listwise", "pairwise"}
        Rows with a missing value removed (default, with a warning), or every correlation from
        the rows where both variables are observed (lavaan's ``missing = "pairwise"``).

    Returns
    -------
    pandas.DataFrame or (pandas.DataFrame, pandas.Series)
        The correlation matrix (and the thresholds).
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    columns = [str(c) for c in frame.columns]
    data = frame.set_axis(columns, axis=1)
    ordered = columns if ordered is None else [str(c) for c in ordered]
    stats = categorical_sample_stats(data, columns, ordered, nacov=False, missing=missing)
    cor = pd.DataFrame(stats.cor, index=columns, columns=columns)
    if not return_thresholds:
        return cor
    names = [f"{v}|t{k + 1}" for v in stats.ordered for k in range(stats.thresholds[v].size)]
    values = np.concatenate([stats.thresholds[v] for v in stats.ordered])
    return cor, pd.Series(values, index=names, name="threshold")
