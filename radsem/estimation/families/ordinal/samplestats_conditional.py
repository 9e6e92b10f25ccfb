"""Sample statistics of ordered outcomes given exogenous covariates (lavaan's conditional.x).

Muthén's (1984) three stages, as lavaan 0.6-14 computes them for WLSMV / ULSMV / WLS when the
model has observed exogenous covariates ``x`` (the default ``conditional.x = TRUE``):

1. every endogenous variable regressed on ``x`` alone: ordered probit (thresholds, slopes) or
   normal linear regression (intercept, slopes, residual variance),
   :mod:`~radsem.estimation.families.ordinal.regressions`;
2. every pair's residual correlation with those fixed (conditional polychoric, polyserial,
   Pearson), :mod:`~radsem.estimation.families.ordinal.pairs_conditional`;
3. the asymptotic covariance of everything by the sandwich of the casewise scores
   (:func:`~radsem.estimation.families.ordinal.nacov.muthen_gamma`), the univariate blocks of
   ``A11`` now holding each variable's thresholds, slopes and variance together.

The statistics vector (lavaan's ``WLS.obs``) is: thresholds of each variable in variable order
(minus the intercept for a continuous one), the slopes ``vec(PI)`` (covariate by covariate,
variables inside), the residual variances of the continuous variables, then the residual
correlations below the diagonal column by column (covariances for continuous variables).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from radsem.errors import DataError
from radsem.estimation.families.ordinal.coding import encode_ordinal
from radsem.estimation.families.ordinal.margins import _numeric_column
from radsem.estimation.families.ordinal.nacov import ScoreBlocks, muthen_gamma
from radsem.estimation.families.ordinal.pairs import lower_pairs
from radsem.estimation.families.ordinal.pairs_conditional import conditional_pair
from radsem.estimation.families.ordinal.regressions import linear_regression, probit_regression
from radsem.estimation.families.ordinal.samplestats import CategoricalStats

__all__ = ["ConditionalStats", "conditional_sample_stats"]


@dataclass(frozen=True)
class ConditionalStats(CategoricalStats):
    """:class:`CategoricalStats` given exogenous covariates.

    ``variables`` are the endogenous observed variables; ``cov`` the residual correlations
    (covariances for continuous variables, residual variances on their diagonal, lavaan's
    ``res.cov``); ``mean`` the intercepts of continuous variables (``res.int``); ``thresholds``
    the probit thresholds (``res.th``).

    Attributes
    ----------
    exogenous : tuple of str
        The covariates, in model order.
    slopes : numpy.ndarray, shape (p, nx)
        Regression slopes of each endogenous variable on the covariates (``res.slopes``).
    mean_x, cov_x : numpy.ndarray
        Means and covariance matrix (divisor N - 1, as lavaan) of the covariates.
    """

    exogenous: tuple[str, ...] = ()
    slopes: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    mean_x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cov_x: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


def _covariates(frame: pd.DataFrame, exogenous: Sequence[str]) -> np.ndarray:
    x = np.column_stack([_numeric_column(frame[v], v) for v in exogenous])
    if np.isnan(x).any():
        raise DataError("covariates with missing values: use listwise deletion")
    for k, v in enumerate(exogenous):
        if np.ptp(x[:, k]) == 0.0:
            raise DataError(f"covariate {v!r} is constant")
    return x


def _check_present(name: str, present: np.ndarray, missing: str) -> None:
    if not present.all() and missing != "pairwise":
        raise DataError(f"{name!r} has missing values: use listwise deletion")
    if present.sum() < 2:
        raise DataError(f"{name!r} has fewer than two observed values")


def _step_one(data, variables, ordset, x, exogenous, levels, missing):
    """The regression of every endogenous variable on the covariates (its observed rows)."""
    margins = []
    for v in variables:
        if v in ordset:
            codes, labels = encode_ordinal(
                data[v], name=v, levels=None if levels is None else levels.get(v)
            )
            present = codes >= 0
            _check_present(v, present, missing)
            m = probit_regression(
                codes[present], labels, x[present], name=v, covariates=tuple(exogenous)
            )
        else:
            values = _numeric_column(data[v], v)
            present = ~np.isnan(values)
            _check_present(v, present, missing)
            m = linear_regression(values[present], x[present], name=v)
        margins.append(m if present.all() else m.expanded(present, x))
    return margins


def conditional_sample_stats(
    data: pd.DataFrame,
    variables: Sequence[str],
    ordered: Sequence[str],
    exogenous: Sequence[str],
    *,
    levels: Mapping[str, Sequence] | None = None,
    missing: str = "listwise",
) -> ConditionalStats:
    """Thresholds, slopes, residual correlations and their NACOV given the covariates.

    Parameters
    ----------
    data : pandas.DataFrame
        One group's data, complete on ``variables`` and ``exogenous`` (listwise deletion is
        done by the caller).
    variables : sequence of str
        Endogenous observed variables in model order.
    ordered : sequence of str
        The ordinal ones among them (at least one).
    exogenous : sequence of str
        Covariates (numeric; binary 0/1 for a factor).
    levels : mapping, optional
        Category labels per ordinal variable (multi-group: the same in every group).
    missing : {"listwise", "pairwise"}
        ``"listwise"``: the rows must be complete. ``"pairwise"`` (lavaan's): each regression
        on the rows where its variable is observed, each residual correlation on the rows
        where both are, the scores of missing parts zero; the covariates must be complete.

    Returns
    -------
    ConditionalStats

    Notes
    -----
    Checked against ``lavInspect(fit, "wls.obs" / "gamma" / "sampstat")`` of lavaan 0.6-14
    (tests/estimation/test_ordinal_conditional_x.py).
    """
    variables = [str(v) for v in variables]
    exogenous = [str(v) for v in exogenous]
    ordset = set(ordered)
    if len(data) < 2:
        raise DataError(f"only {len(data)} usable rows")
    x = _covariates(data, exogenous)
    n, nx = x.shape
    margins = _step_one(data, variables, ordset, x, exogenous, levels, missing)
    p = len(variables)
    # layout of the step-one columns: thresholds/intercepts, slopes (x outer), variances
    th_cols, col = [], 0
    for m in margins:
        th_cols.append(np.arange(col, col + m.tau.size))
        col += m.tau.size
    n_th = col
    sl_cols = [n_th + v + p * np.arange(nx) for v in range(p)]
    num = [v for v, m in enumerate(margins) if m.kind == "numeric"]
    var_col = {v: n_th + p * nx + k for k, v in enumerate(num)}
    n_uni = n_th + p * nx + len(num)
    uni = np.zeros((n, n_uni))
    groups = []
    for v, m in enumerate(margins):
        uni[:, th_cols[v]] = m.sc_th
        uni[:, sl_cols[v]] = m.sc_sl
        cols = [th_cols[v], sl_cols[v]]
        if v in var_col:
            uni[:, var_col[v]] = m.sc_var
            cols.append(np.array([var_col[v]]))
        groups.append(np.concatenate(cols))
    pairs = lower_pairs(p)
    cor = np.eye(p)
    sc_cor = np.zeros((n, len(pairs)))
    a21 = np.zeros((len(pairs), n_uni))
    h21 = np.zeros((len(pairs), n_uni))
    h22 = np.eye(len(pairs))
    sd = np.sqrt([m.var for m in margins])
    for q, (i, j) in enumerate(pairs):
        ps = conditional_pair(margins[i], margins[j], x)
        cor[i, j] = cor[j, i] = ps.rho
        sc_cor[:, q] = ps.sc_rho
        a21[q, groups[i]] = ps.sc_rho @ ps.uni1
        a21[q, groups[j]] = ps.sc_rho @ ps.uni2
        for a, b in ((i, j), (j, i)):
            if a in var_col:
                h21[q, var_col[a]] = sd[b] * ps.rho / (2.0 * sd[a])
        h22[q, q] = sd[i] * sd[j]
    mean_cols = np.array([th_cols[v][0] for v in num], dtype=int)
    gamma = muthen_gamma(ScoreBlocks(uni, groups, sc_cor, a21, h21, h22, mean_cols))
    cov = cor * np.outer(sd, sd)
    slopes = np.array([m.slopes for m in margins]).reshape(p, nx)
    th_values, labels = [], []
    for name, m in zip(variables, margins, strict=True):
        if m.kind == "ordered":
            th_values.extend(m.tau)
            labels.extend(f"{name}|t{k + 1}" for k in range(m.tau.size))
        else:
            th_values.append(-m.tau[0])
            labels.append(f"{name}~1")
    labels.extend(f"{variables[v]}~{xv}" for xv in exogenous for v in range(p))
    labels.extend(f"{variables[v]}~~{variables[v]}" for v in num)
    labels.extend(f"{variables[j]}~~{variables[i]}" for i, j in pairs)
    wls_obs = np.concatenate(
        [
            np.asarray(th_values, float),
            slopes.T.reshape(-1),
            np.array([margins[v].var for v in num]),
            np.array([cov[i, j] for i, j in pairs]),
        ]
    )
    diag = np.diag(gamma)
    if not np.all(np.isfinite(diag)) or np.any(diag <= 0.0):
        bad = [labels[k] for k in np.flatnonzero(~np.isfinite(diag) | (diag <= 0.0))]
        raise DataError(
            f"the sampling variances of {', '.join(bad[:5])} are not defined (zero or not "
            "finite); merge sparse categories or drop a covariate"
        )
    xc = x - x.mean(axis=0)
    return ConditionalStats(
        variables=tuple(variables),
        ordered=tuple(v for v in variables if v in ordset),
        nobs=n,
        thresholds={
            v: m.tau.copy() for v, m in zip(variables, margins, strict=True) if v in ordset
        },
        cov=cov,
        mean=np.array([m.tau[0] if m.kind == "numeric" else 0.0 for m in margins]),
        wls_obs=wls_obs,
        gamma=gamma,
        wls_v=1.0 / diag,
        wls_labels=tuple(labels),
        levels={v: m.levels for v, m in zip(variables, margins, strict=True) if v in ordset},
        exogenous=tuple(exogenous),
        slopes=slopes,
        mean_x=x.mean(axis=0),
        cov_x=xc.T @ xc / (n - 1),
    )
