"""Polychoric, polyserial and Pearson correlations for users (lavaan's ``lavCor(ordered=)``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from radsem.errors import DataError
from radsem.estimation.families.ordinal.samplestats import categorical_sample_stats

__all__ = ["PolychoricResult", "polychoric", "polyserial", "polychoric_matrix"]


@dataclass(frozen=True)
class PolychoricResult:
    """Polychoric (or polyserial) correlation of two variables.

    Attributes
    ----------
    rho : float
        The two-step polychoric correlation.
    se : float
        Its standard error: the two-step sandwich ``sqrt(gamma / (N - 1))`` of lavaan's
        ``lavCor(..., se = "robust.sem")`` (lavaan divides by N - 1 for (D)WLS), by the delta
        method for a polyserial correlation; NaN when the correlation is exactly +-1.
    thresholds_x, thresholds_y : numpy.ndarray
        The thresholds of ``x`` and ``y`` (empty for a continuous variable).
    nobs : int
        Complete pairs used.
    """

    rho: float
    se: float
    thresholds_x: np.ndarray
    thresholds_y: np.ndarray
    nobs: int


def _as_series(values) -> pd.Series:
    if isinstance(values, pd.Series):
        return values
    return pd.Series(np.asarray(values))


def _pair_frame(x, y) -> pd.DataFrame:
    sx, sy = _as_series(x), _as_series(y)
    if len(sx) != len(sy):
        raise DataError(f"x and y have different lengths ({len(sx)} and {len(sy)})")
    frame = pd.DataFrame({"x": sx.to_numpy(), "y": sy.to_numpy()})
    if isinstance(sx.dtype, pd.CategoricalDtype):
        frame["x"] = pd.Categorical(sx.to_numpy(), dtype=sx.dtype)
    if isinstance(sy.dtype, pd.CategoricalDtype):
        frame["y"] = pd.Categorical(sy.to_numpy(), dtype=sy.dtype)
    return frame.infer_objects()


def _pair_result(frame: pd.DataFrame, ordered: list[str]) -> PolychoricResult:
    stats = categorical_sample_stats(frame, ["x", "y"], ordered, nacov=None)
    rho = float(stats.cor[0, 1])
    # the last element of wls.obs is the correlation (two ordinal variables) or the covariance
    # c = rho * sd (continuous x); then rho = c / sqrt(v) and the delta method uses the
    # variance v of x, the element "x~~x" of wls.obs
    grad = np.zeros(stats.wls_obs.size)
    if "x" in stats.ordered:
        grad[-1] = 1.0
    else:
        k = stats.wls_labels.index("x~~x")
        var, cov = stats.wls_obs[k], stats.wls_obs[-1]
        grad[-1] = 1.0 / np.sqrt(var)
        grad[k] = -0.5 * cov / var**1.5
    return PolychoricResult(
        rho=rho,
        # lavaan divides the (D)WLS sandwich by N - 1 (N minus the number of groups)
        se=float(np.sqrt(grad @ stats.gamma @ grad / (stats.nobs - 1))),
        thresholds_x=stats.thresholds.get("x", np.zeros(0)),
        thresholds_y=stats.thresholds.get("y", np.zeros(0)),
        nobs=stats.nobs,
    )


def polychoric(x: Sequence, y: Sequence) -> PolychoricResult:
    """Two-step polychoric correlation of two ordinal variables.

    Parameters
    ----------
    x, y : array_like or pandas.Series
        Ordinal values (integers, strings or ordered pandas Categoricals); rows where either
        is missing are removed (with a :class:`~radsem.errors.DataWarning`).

    Returns
    -------
    PolychoricResult

    Notes
    -----
    Thresholds from each margin (:math:`\\Phi^{-1}` of the cumulative proportions), then the
    correlation maximising the bivariate multinomial likelihood with the thresholds fixed
    (Olsson, 1979), with lavaan 0.6-14's handling of empty cells; see
    :mod:`radsem.estimation.families.ordinal.polychoric`. Checked against lavaan's ``lavCor``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> z = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=5000)
    >>> res = polychoric(np.digitize(z[:, 0], [-0.5, 0.7]), np.digitize(z[:, 1], [0.0]))
    >>> round(res.rho, 1)
    0.6
    """
    return _pair_result(_pair_frame(x, y), ["x", "y"])


def polyserial(x: Sequence, y: Sequence) -> PolychoricResult:
    """Two-step polyserial correlation of a continuous ``x`` and an ordinal ``y``.

    Parameters
    ----------
    x : array_like or pandas.Series
        Continuous values.
    y : array_like or pandas.Series
        Ordinal values (integers, strings or ordered pandas Categoricals).

    Returns
    -------
    PolychoricResult
        ``rho``, its standard error, ``thresholds_y`` (``thresholds_x`` is empty) and ``nobs``.

    Notes
    -----
    Mean and variance of ``x`` and the thresholds of ``y`` from their margins, then
    :math:`\\rho` maximising the conditional likelihood of ``y`` given ``x`` (Olsson, Drasgow and
    Dorans, 1982); see :mod:`radsem.estimation.families.ordinal.polyserial`. Checked against lavaan.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> z = rng.multivariate_normal([0, 0], [[1, -0.5], [-0.5, 1]], size=5000)
    >>> round(polyserial(10 + 3 * z[:, 0], np.digitize(z[:, 1], [-1.0, 0.0, 1.0])).rho, 1)
    -0.5
    """
    return _pair_result(_pair_frame(x, y), ["y"])


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
