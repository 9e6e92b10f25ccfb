"""The saturated (h1) and baseline two-level models.

* h1: every within covariance of the level-1 variables and every between covariance of the
  level-2 variables free (within-only variables have no between part), level-2 means free
  (level-1 means only for within-only variables). Its ML estimates are lavaan's "sample
  statistics" of two-level data (``lavInspect(fit, "sampstat")``, ``"h1"``), the source of
  the fixed.x values, of the intraclass correlations and of the SRMR, and its
  log-likelihood is ``unrestricted.logl``.
* baseline: lavaan's independence model at both levels: free variances (and means) of the
  non-covariates at each level, the covariates' (co)variances and means fixed at their h1
  values.

Both are ordinary two-level parameter tables fitted with :mod:`.problem` and
:mod:`.optimize`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from radsem.errors import EstimationError
from radsem.estimation.families.twolevel.data import ClusterData
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


def _start(cd: ClusterData, between: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Moment starts: ``S_PW`` within; between: cluster-mean covariance minus the within
    part it contains, made positive definite."""
    p1, names = cd.p1, cd.variables
    t2 = cd.t2
    c = np.cov(t2, rowvar=False, bias=True)
    sb = c.copy()
    sb[:p1, :p1] -= cd.s_pw * float(np.mean(1.0 / cd.cluster_size))
    keep = np.array([v in between for v in names])
    sb[~keep] = 0.0
    sb[:, ~keep] = 0.0
    sub = sb[np.ix_(keep, keep)]
    vals, vecs = np.linalg.eigh(sub)
    floor = 0.05 * max(float(np.mean(np.abs(np.diag(sub)))), 1e-6)
    sub = vecs @ np.diag(np.maximum(vals, floor)) @ vecs.T
    sb[np.ix_(keep, keep)] = sub
    return cd.s_pw.copy(), sb


def fit_h1(cd: ClusterData, within, between, x_names=((), ())) -> H1Fit:
    """Fit the saturated two-level model (see the module docstring)."""
    names = cd.variables
    within_only = [v for v in within if v not in between]
    rows = []
    for i, a in enumerate(within):
        for b in within[i:]:
            rows.append((1, a, "~~", b, True, np.nan, 0))
    for v in within:
        rows.append((1, v, "~1", "", v in within_only, 0.0, 0))
    for i, a in enumerate(between):
        for b in between[i:]:
            rows.append((2, a, "~~", b, True, np.nan, 0))
    for v in between:
        rows.append((2, v, "~1", "", True, np.nan, 0))
    table = _table(rows)
    problem = TwoLevelProblem(table, names, (), cd, x_names=x_names)
    s_w, s_b = _start(cd, tuple(between))
    mean1 = cd.y1.mean(axis=0)
    mean_t = np.concatenate([mean1, cd.t2[:, cd.p1 :].mean(axis=0)])
    values = problem.model.fixed_values.copy()
    pos = {v: k for k, v in enumerate(names)}
    for r, row in enumerate(table.itertuples()):
        if not row.free:
            continue
        if row.op == "~~":
            m = s_w if row.block == 1 else s_b
            values[r] = m[pos[row.lhs], pos[row.rhs]]
        else:
            values[r] = mean_t[pos[row.lhs]]
    result = minimise(problem, problem.model.theta_from_values(values), gtol=1e-10)
    if not np.isfinite(result.fmin):
        raise EstimationError("the saturated two-level model could not be fitted")
    return H1Fit(
        problem.moments(result.theta),
        problem.loglik(result.theta),
        problem.nfree,
        result.converged,
    )


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


def fit_baseline(cd: ClusterData, within, between, exo, h1: H1Fit, x_names) -> tuple[float, int]:
    """Fit lavaan's two-level baseline model; returns ``(loglik, npar)``."""
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
    return problem.loglik(result.theta), problem.nfree
