"""MLR for two-level models: cluster-robust standard errors and the Yuan-Bentler test.

As lavaan 0.6-14 (``estimator = "MLR"`` with ``cluster =``):

* standard errors: ``A^-1 B A^-1`` with ``A`` the observed information (Hessian of ``-log L``)
  and ``B = sum_j s_j s_j'`` the first-order information from the clusters' scores
  (:meth:`.problem.TwoLevelProblem.cluster_scores`);
* test (``"yuan.bentler.mplus"``): scaling factor
  ``c = (ndat c_h1 - npar c_h0) / df`` with ``c_h0 = tr(A0^-1 B0) / npar`` of the model and
  ``c_h1 = tr(A1^-1 B1) / ndat`` of the saturated two-level model at its (EM) estimates, the
  fixed covariates' moments left out (for two-level data lavaan evaluates the h1
  information at the h1 estimates, whatever ``h1.information`` says); the baseline
  model's statistic is scaled the same way; the ``.scaled`` and ``.robust`` indices follow
  from the core's :func:`radsem.estimation.measures.indices.robust_fit_measures`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from radsem.estimation.families.twolevel.h1 import exo_from_h1
from radsem.estimation.families.twolevel.problem import TwoLevelProblem

__all__ = ["robust_vcov", "trace_ratio", "saturated_trace", "YuanBentler", "robust_measures"]


@dataclass(frozen=True)
class YuanBentler:
    """A Yuan-Bentler (Mplus) scaled statistic of a two-level model."""

    stat: float
    df: float
    pvalue: float
    scaling_factor: float
    trace_ugamma: float
    scaling_factor_h1: float
    scaling_factor_h0: float
    test: str = "yuan.bentler.mplus"


def _basis(problem, theta):
    cons = problem.constraints
    return cons.active_basis(theta)[0] if cons is not None else np.eye(theta.size)


def _pieces(problem, theta):
    k = _basis(problem, theta)
    a = k.T @ (problem.ntotal * problem.hessian(theta)) @ k
    s = problem.cluster_scores(theta) @ k
    return k, a, s.T @ s


def robust_vcov(problem, theta: np.ndarray) -> np.ndarray:
    """Cluster-robust (Huber-White) covariance matrix of the free parameters."""
    k, a, b = _pieces(problem, theta)
    a_inv = np.linalg.pinv(a, rcond=1e-12, hermitian=True)
    return k @ a_inv @ b @ a_inv @ k.T


def trace_ratio(problem, theta: np.ndarray) -> tuple[float, int]:
    """``(tr(A^-1 B), number of free directions)`` of a fitted two-level problem."""
    k, a, b = _pieces(problem, theta)
    return float(np.trace(np.linalg.solve(a, b))), k.shape[1]


def _saturated_table(within, between, exo) -> pd.DataFrame:
    rows = []
    for block, ov, x in ((1, within, exo[0]), (2, between, exo[1])):
        for i, a in enumerate(ov):
            for b in ov[i:]:
                fixed = a in x and b in x
                rows.append((block, a, "~~", b, not fixed, np.nan, int(fixed)))
        for v in ov:
            if block == 1 and v in between:
                rows.append((1, v, "~1", "", False, 0.0, 0))
            elif v in x:
                rows.append((block, v, "~1", "", False, np.nan, 1))
            else:
                rows.append((block, v, "~1", "", True, np.nan, 0))
    out, k = [], 0
    for i, (block, lhs, op, rhs, free, ustart, ex) in enumerate(rows, start=1):
        k += bool(free)
        out.append(
            {
                "id": i,
                "lhs": lhs,
                "op": op,
                "rhs": rhs,
                "block": block,
                "group": block,
                "free": k if free else 0,
                "ustart": ustart,
                "exo": ex,
                "label": "",
                "plabel": f".p{i}.",
            }
        )
    return pd.DataFrame(out)


def saturated_trace(cd, within, between, exo, h1, moments) -> tuple[float, int]:
    """``(tr(A1^-1 B1), ndat)`` of the saturated model at the given (model-implied)
    moments, the fixed covariates' moments left out."""
    names = cd.variables
    table = _saturated_table(tuple(within), tuple(between), exo)
    sat = TwoLevelProblem(table, names, (), cd, exo_from_h1(h1, names))
    pos = {v: k for k, v in enumerate(names)}
    values = sat.model.fixed_values.copy()
    mu = moments.mu
    for r, row in enumerate(table.itertuples()):
        if not row.free:
            continue
        if row.op == "~~":
            sig = moments.sigma_w if row.block == 1 else moments.sigma_b
            values[r] = sig[pos[row.lhs], pos[row.rhs]]
        else:
            values[r] = mu[pos[row.lhs]] if row.block == 2 else moments.mu_w[pos[row.lhs]]
    theta = sat.model.theta_from_values(values)
    return trace_ratio(sat, theta)


def _scaled(chisq, df, tr1, ndat, tr0) -> YuanBentler:
    from scipy import stats

    c = (tr1 - tr0) / df if df > 0 else np.nan
    stat = chisq / c if df > 0 else np.nan
    return YuanBentler(
        float(stat),
        float(df),
        float(stats.chi2.sf(stat, df)) if df > 0 else np.nan,
        float(c),
        float(c * df),
        float(tr1 / ndat),
        float(tr0 / (ndat - df)),
    )


def robust_measures(problem, theta, base_problem, base_theta, tl, h1, measures) -> dict:
    """lavaan's MLR fit measures of a two-level fit (``measures``: the standard ones)."""
    from radsem.estimation.measures.indices import robust_fit_measures

    cd = problem.cd
    tr1, ndat = saturated_trace(cd, tl.within, tl.between, tl.exogenous, h1, h1.moments)
    tr0, _ = trace_ratio(problem, theta)
    trb, _ = trace_ratio(base_problem, base_theta)
    df, base_df = measures["df"], measures["baseline.df"]
    model = _scaled(measures["chisq"], df, tr1, ndat, tr0)
    base = _scaled(measures["baseline.chisq"], base_df, tr1, ndat, trb)
    out = {
        "chisq.scaled": model.stat,
        "df.scaled": df,
        "pvalue.scaled": model.pvalue,
        "chisq.scaling.factor": model.scaling_factor,
        "baseline.chisq.scaled": base.stat,
        "baseline.df.scaled": base_df,
        "baseline.pvalue.scaled": base.pvalue,
        "baseline.chisq.scaling.factor": base.scaling_factor,
        "scaling.factor.h1": model.scaling_factor_h1,
        "scaling.factor.h0": model.scaling_factor_h0,
    }
    out.update(
        robust_fit_measures(
            measures["chisq"], df, model, measures["baseline.chisq"], base_df, base, cd.nobs
        )
    )
    return out
