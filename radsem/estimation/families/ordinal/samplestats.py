"""Sample statistics of ordered-categorical (and mixed) data for WLS/DWLS estimation.

One call computes, for one group, everything lavaan 0.6-14 stores in its sample statistics for
categorical data: thresholds, the polychoric / polyserial / Pearson correlation matrix (as
covariances for continuous variables), the vector ``wls.obs``, its asymptotic covariance
``gamma`` (NACOV) and the diagonal DWLS weights.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from radsem._warnings import user_stacklevel
from radsem.errors import DataError, DataWarning, ModelSpecificationError
from radsem.estimation.families.ordinal.margins import fit_margins
from radsem.estimation.families.ordinal.nacov import gamma_from_margins
from radsem.estimation.families.ordinal.pairs import fit_correlations, lower_pairs

__all__ = ["CategoricalStats", "categorical_sample_stats"]


@dataclass(frozen=True)
class CategoricalStats:
    """Sample statistics of one group with ordinal variables (lavaan's layout).

    Attributes
    ----------
    variables : tuple of str
        Observed variables in model order.
    ordered : tuple of str
        The ordinal ones among them.
    nobs : int
        Number of observations used (after listwise deletion).
    thresholds : dict of str -> numpy.ndarray
        Thresholds of each ordinal variable, increasing.
    cov : numpy.ndarray
        ``lavInspect(fit, "sampstat")$cov``: polychoric correlations between ordinal variables,
        polyserial correlation times the standard deviation between an ordinal and a continuous
        variable, ML covariances between continuous variables; on the diagonal 1 (ordinal) or
        the ML variance (continuous).
    mean : numpy.ndarray
        ML means of continuous variables, 0 for ordinal variables.
    wls_obs : numpy.ndarray
        ``lavInspect(fit, "wls.obs")``: thresholds (minus the mean for a continuous variable)
        variable by variable, then the variances of continuous variables, then the
        off-diagonal of ``cov`` column by column (``vech(cov, diagonal = FALSE)``).
    gamma : numpy.ndarray
        ``lavInspect(fit, "gamma")``: N times the asymptotic covariance of ``wls_obs``.
    wls_v : numpy.ndarray
        Diagonal DWLS weights, ``1 / diag(gamma)`` (``diag(lavInspect(fit, "wls.v"))``).
    wls_labels : tuple of str
        A name per element of ``wls_obs``: ``"x1|t1"``, ``"y1~1"`` (minus mean), ``"y1~~y1"``,
        ``"x1~~x2"``.
    levels : dict of str -> tuple
        Category labels of each ordinal variable, in order.
    zero_cell_pairs : tuple of (str, str)
        Pairs of ordinal variables whose contingency table has an empty cell.
    """

    variables: tuple[str, ...]
    ordered: tuple[str, ...]
    nobs: int
    thresholds: dict[str, np.ndarray]
    cov: np.ndarray
    mean: np.ndarray
    wls_obs: np.ndarray
    gamma: np.ndarray
    wls_v: np.ndarray
    wls_labels: tuple[str, ...] = ()
    levels: dict[str, tuple] = field(default_factory=dict)
    zero_cell_pairs: tuple[tuple[str, str], ...] = ()

    @property
    def cor(self) -> np.ndarray:
        """The correlation matrix (``cov`` rescaled to unit diagonal)."""
        sd = np.sqrt(np.diag(self.cov))
        return self.cov / np.outer(sd, sd)


def _check_inputs(data, variables, ordered, exogenous):
    if exogenous:
        raise ModelSpecificationError(
            "exogenous covariates with ordinal outcomes (lavaan's conditional.x = TRUE) need "
            f"the conditional statistics: {list(exogenous)}; use "
            "radsem.estimation.families.ordinal.samplestats_conditional."
            "conditional_sample_stats"
        )
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    variables = [str(v) for v in variables]
    if len(set(variables)) != len(variables):
        raise DataError(f"variables are repeated: {variables}")
    if not variables:
        raise DataError("no variables given")
    missing_cols = [v for v in variables if v not in data.columns]
    if missing_cols:
        raise DataError(f"variables not found in the data: {missing_cols}")
    ordered = [str(v) for v in ordered]
    unknown = [v for v in ordered if v not in variables]
    if unknown:
        raise DataError(f"ordered variables {unknown} are not among the model's variables")
    if not ordered:
        raise DataError("no ordered variables: use the continuous sample statistics instead")
    return variables, [v for v in variables if v in set(ordered)]


def _handle_missing(data: pd.DataFrame, variables: list[str], missing: str) -> pd.DataFrame:
    frame = data[variables]
    if missing == "listwise":
        keep = frame.notna().all(axis=1)
        what = "have missing values in the model's variables and were removed (listwise "
        what += "deletion, lavaan's default with ordinal data)"
    elif missing == "pairwise":
        keep = frame.notna().any(axis=1)
        what = "have no observed value in the model's variables and were removed"
    else:
        raise DataError(f"missing must be 'listwise' or 'pairwise', got {missing!r}")
    dropped = int((~keep).sum())
    if dropped:
        warnings.warn(
            f"{dropped} of {len(frame)} rows {what}", DataWarning, stacklevel=user_stacklevel()
        )
        frame = frame.loc[keep]
    return frame


def categorical_sample_stats(
    data: pd.DataFrame,
    variables: Sequence[str],
    ordered: Sequence[str],
    *,
    levels: Mapping[str, Sequence] | None = None,
    exogenous: Sequence[str] = (),
    nacov: bool | None = True,
    missing: str = "listwise",
) -> CategoricalStats:
    """Thresholds, polychoric/polyserial correlations, ``wls.obs``, gamma and DWLS weights.

    The two-step estimator of lavaan 0.6-14 for one group (no covariates): thresholds and
    continuous means/variances from each margin, then every correlation by maximum likelihood
    with them fixed, then the asymptotic covariance of all of them from casewise scores.

    Parameters
    ----------
    data : pandas.DataFrame
        One group's data. Ordinal columns may hold integers, strings or ordered pandas
        Categoricals (category order = level order; otherwise sorted observed values).
    variables : sequence of str
        Observed variables in model order (``spec.observed``).
    ordered : sequence of str
        The ordinal variables among them (at least one); the others are continuous.
    levels : mapping, optional
        Category labels per ordinal variable, to code every group of a multi-group analysis on
        the same categories (a category empty in this group is then an error, as in lavaan).
    exogenous : sequence of str, optional
        Exogenous covariates: not here (raises); see
        :func:`~radsem.estimation.families.ordinal.samplestats_conditional.conditional_sample_stats`.
    nacov : bool or None
        Compute ``gamma`` and ``wls_v`` (default). ``False``: skip them (filled with NaN), for
        correlations only. ``None``: compute them unless a correlation is exactly +-1 (then NaN)
        instead of raising.
    missing : {"listwise", "pairwise"}
        ``"listwise"`` (lavaan's default with ordinal data): rows with a missing value are
        removed, with a warning. ``"pairwise"`` (lavaan's ``missing = "pairwise"``): thresholds,
        means and variances from each variable's observed rows, each correlation from the rows
        where both are observed, and gamma from the scores of the observed parts (rows with no
        observed value at all are removed); ``nobs`` counts every remaining row.

    Returns
    -------
    CategoricalStats

    Raises
    ------
    ModelSpecificationError
        When exogenous covariates are given.
    DataError
        Unknown columns, an ordinal column with one category, empty categories, more than 50
        categories, non-finite or non-numeric continuous values.

    Warns
    -----
    DataWarning
        Rows with missing values removed (listwise); a correlation beyond 0.99; a 2 x 2 table
        with two empty cells.

    Notes
    -----
    See :mod:`radsem.estimation.families.ordinal.polychoric`,
    :mod:`~radsem.estimation.families.ordinal.
    polyserial` and :mod:`~radsem.estimation.families.ordinal.nacov` for the maths. Checked against
    ``lavInspect(fit, "sampstat" / "wls.obs" / "gamma" / "wls.v")`` of
    ``lavaan::cfa(..., ordered = ..., estimator = "WLSMV")`` in lavaan 0.6-14: the
    HolzingerSwineford1939 indicators cut into 3 categories, binary items, 5-category items
    with empty cells, and ordinal + continuous mixtures.

    Examples
    --------
    >>> import pandas as pd
    >>> from radsem.datasets import load
    >>> from radsem.estimation.families.ordinal import categorical_sample_stats, cut_into_categories
    >>> hs = cut_into_categories(load("HolzingerSwineford1939")[["x1", "x2", "x3"]], 3)
    >>> stats = categorical_sample_stats(hs, ["x1", "x2", "x3"], ["x1", "x2", "x3"])
    >>> stats.wls_obs.shape, stats.gamma.shape
    ((9,), (9, 9))
    """
    variables, ordered = _check_inputs(data, variables, ordered, exogenous)
    frame = _handle_missing(data, variables, missing)
    if len(frame) < 2:
        raise DataError(f"only {len(frame)} usable rows: too few to estimate correlations")
    # small matrices: BLAS threads cost more than they save (and the caller may be parallel)
    with _blas_controller().limit(limits=1, user_api="blas"):
        return _compute(frame, variables, ordered, levels, nacov)


class _NoLimit:
    def limit(self, **_kwargs):
        return contextlib.nullcontext()


@functools.lru_cache(maxsize=1)
def _blas_controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return _NoLimit()
    return ThreadpoolController()


def _compute(frame, variables, ordered, levels, nacov) -> CategoricalStats:
    uni = fit_margins(frame, variables, ordered, levels)
    n_obs = len(frame)
    pairs = lower_pairs(len(variables))
    for i, j in pairs:
        if not np.any(uni[i].present & uni[j].present):
            raise DataError(
                f"{variables[j]} and {variables[i]} are never observed together: their "
                "correlation cannot be estimated (missing='pairwise')"
            )
    cor, zero_pairs, batch = fit_correlations(uni, variables, pairs)
    sd = np.array([np.sqrt(u.var) for u in uni])
    cov = cor * np.outer(sd, sd)
    perfect = [(i, j) for i, j in pairs if abs(cor[i, j]) >= 1.0]
    if perfect and nacov is True:
        i, j = perfect[0]
        raise DataError(
            f"the polychoric correlation of {variables[j]} and {variables[i]} is "
            f"{cor[i, j]:+.0f} (a 2 x 2 table with two empty cells): its sampling variance, and "
            "so the WLS weights, are not defined; drop or merge one of the two variables"
        )
    want = nacov is None or bool(nacov)
    if want and not perfect:
        gamma = gamma_from_margins(uni, pairs, cor, batch)
    else:
        size = sum(len(u.tau) if u.kind == "ordered" else 2 for u in uni) + len(pairs)
        gamma = np.full((size, size), np.nan)

    th_values, labels = [], []
    for name, u in zip(variables, uni, strict=True):
        if u.kind == "ordered":
            th_values.extend(u.tau)
            labels.extend(f"{name}|t{k + 1}" for k in range(len(u.tau)))
        else:
            th_values.append(-u.mean)
            labels.append(f"{name}~1")
    num_vars = [v for v, u in enumerate(uni) if u.kind == "numeric"]
    wls_obs = np.concatenate(
        [
            np.asarray(th_values, dtype=float),
            np.array([uni[v].var for v in num_vars]),
            np.array([cov[i, j] for i, j in pairs]),
        ]
    )
    labels.extend(f"{variables[v]}~~{variables[v]}" for v in num_vars)
    labels.extend(f"{variables[j]}~~{variables[i]}" for i, j in pairs)
    diag = np.diag(gamma)
    if want and not perfect and (not np.all(np.isfinite(diag)) or np.any(diag <= 0.0)):
        bad = [labels[k] for k in np.flatnonzero(~np.isfinite(diag) | (diag <= 0.0))]
        raise DataError(
            f"the sampling variances of {', '.join(bad[:5])} are not defined (zero or not "
            "finite). This happens when a contingency table is (quasi-)separated, so that the "
            "likelihood keeps rising towards a correlation of +-1 and the estimate sits at the "
            "bound 0.999; merge sparse categories or drop one of the variables"
        )
    return CategoricalStats(
        variables=tuple(variables),
        ordered=tuple(ordered),
        nobs=n_obs,
        thresholds={
            name: u.tau.copy()
            for name, u in zip(variables, uni, strict=True)
            if u.kind == "ordered"
        },
        cov=cov,
        mean=np.array([u.mean if u.kind == "numeric" else 0.0 for u in uni]),
        wls_obs=wls_obs,
        gamma=gamma,
        wls_v=1.0 / diag,
        wls_labels=tuple(labels),
        levels={
            name: u.levels for name, u in zip(variables, uni, strict=True) if u.kind == "ordered"
        },
        zero_cell_pairs=zero_pairs,
    )
