"""The saturated (h1) and baseline two-level models.

* h1: every within covariance of the level-1 variables and every between covariance of the
  level-2 variables free (within-only variables have no between part), level-2 means free
  (level-1 means only for within-only variables). lavaan estimates it by EM with a loose
  stopping rule (:mod:`.em`); those estimates are its "sample statistics" of two-level data
  (``lavInspect(fit, "sampstat")``, ``"h1"``), the source of the fixed.x values, of the
  intraclass correlations and of the SRMR, and their log-likelihood is
  ``unrestricted.logl`` (so also the chi-square test); radsem uses the same EM estimates.
* baseline: lavaan's independence model at both levels: free variances (and means) of the
  non-covariates at each level, the covariates' (co)variances and means fixed at their h1
  values.

The baseline is an ordinary two-level parameter table fitted with :mod:`.problem` and
:mod:`.optimize`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from radsem.errors import EstimationError
from radsem.estimation.families.twolevel.data import ClusterData
from radsem.estimation.families.twolevel.em import em_h1
from radsem.estimation.families.twolevel.likelihood import loglik_x, minus2_loglik
from radsem.estimation.families.twolevel.optimize import minimise
from radsem.estimation.families.twolevel.problem import Moments, TwoLevelProblem

__all__ = ["H1Fit", "fit_h1", "fit_baseline", "exo_from_h1"]


@dataclass(frozen=True)
class H1Fit:
    """The fitted saturated model."""

    moments: Moments
    loglik: float
    npar: int
    converged: bool


def _table(rows: list[tuple]) -> pd.DataFrame:
    """Rows ``(block, lhs, op, rhs, free, ustart, exo)`` -> a parameter table."""
    out = []
    k = 0
    for i, (block, lhs, op, rhs, free, ustart, exo) in enumerate(rows, start=1):
        if free:
            k += 1
        out.append(
            {
                "id": i,
                "lhs": lhs,
                "op": op,
                "rhs": rhs,
                "user": 0,
                "block": block,
                "group": block,
                "free": k if free else 0,
                "ustart": ustart,
                "exo": exo,
                "label": "",
                "plabel": f".p{i}.",
            }
        )
    return pd.DataFrame(out)


def fit_h1(cd: ClusterData, within, between, x_names=((), ())) -> H1Fit:
    """The saturated two-level model as lavaan estimates it (EM, :func:`.em.em_h1`)."""
    moments = em_h1(cd, between)
    p1 = cd.p1
    with np.errstate(all="ignore"):
        m2 = minus2_loglik(cd, moments.sigma_w[:p1, :p1], moments.sigma_b, moments.mu)
    if not np.isfinite(m2):
        raise EstimationError(
            "the saturated two-level model could not be estimated (a within or between "
            "covariance matrix is singular: check for constant or collinear variables)"
        )
    loglik = -0.5 * m2 - loglik_x(cd, *x_names)
    p2 = len(between)
    within_only = sum(v not in between for v in within)
    npar = p1 * (p1 + 1) // 2 + within_only + p2 * (p2 + 1) // 2 + p2
    return H1Fit(moments, float(loglik), npar, True)


def exo_from_h1(h1: H1Fit, names):
    """``(block, lhs, op, rhs) -> value`` of fixed covariate rows, from the h1 moments."""
    pos = {v: k for k, v in enumerate(names)}
    m = h1.moments

    def value(block, lhs, op, rhs):
        mu, sigma = (m.mu_w, m.sigma_w) if block == 1 else (m.mu_b, m.sigma_b)
        if op == "~~":
            return float(sigma[pos[lhs], pos[rhs]])
        return float(mu[pos[lhs]])

    return value


def fit_baseline(cd: ClusterData, within, between, exo, h1: H1Fit, x_names):
    """Fit lavaan's two-level baseline model; returns ``(loglik, npar, problem, theta)``."""
    names = cd.variables
    rows = []
    for block, ov, x in ((1, within, exo[0]), (2, between, exo[1])):
        for v in ov:
            if v not in x:
                rows.append((block, v, "~~", v, True, np.nan, 0))
        for i, a in enumerate(x):
            for b in x[i:]:
                rows.append((block, a, "~~", b, False, np.nan, 1))
        for v in ov:
            if block == 1 and v in between:
                rows.append((1, v, "~1", "", False, 0.0, 0))
            elif v in x:
                rows.append((block, v, "~1", "", False, np.nan, 1))
            else:
                rows.append((block, v, "~1", "", True, np.nan, 0))
    table = _table(rows)
    problem = TwoLevelProblem(table, names, (), cd, exo_from_h1(h1, names), x_names)
    start = problem.model.fixed_values.copy()
    pos = {v: k for k, v in enumerate(names)}
    m = h1.moments
    for r, row in enumerate(table.itertuples()):
        if row.free:
            if row.op == "~~":
                sig = m.sigma_w if row.block == 1 else m.sigma_b
                start[r] = max(float(sig[pos[row.lhs], pos[row.lhs]]), 1e-3)
            else:
                start[r] = float((m.mu_w if row.block == 1 else m.mu_b)[pos[row.lhs]])
    result = minimise(problem, problem.model.theta_from_values(start), gtol=1e-10)
    return problem.loglik(result.theta), problem.nfree, problem, result.theta
