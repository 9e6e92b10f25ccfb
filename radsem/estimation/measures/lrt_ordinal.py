"""Chi-square difference test of nested WLSMV models (lavaan's ``lavTestLRT`` for categorical
data: ``method = "satorra.2000"``, ``scaled.shifted = TRUE``).

With ``T0``/``T1`` the (unscaled) DWLS statistics of the restricted and the less restricted
model and ``m = df0 - df1``:

* the restrictions are found by lavaan's "delta" method: with ``D1 = Delta_1 K_1`` and
  ``D0 = Delta_0 K_0`` (stacked Jacobians of the implied statistics times the bases of the
  equality constraints, each at its model's estimate), ``A`` spans the orthogonal complement
  of ``H = D1^+ D0`` (mapped back to model 1's parameters by ``K_1'``);
* ``P = E_1^+ A' (A E_1^+ A')^+ A E_1^+`` with ``E_1^+`` model 1's inverse information;
* ``tr(UG) = sum_g f_g tr(W_g Gamma_g W_g Delta_g P Delta_g')`` and ``tr((UG)^2)`` with
  ``U = blockdiag(W_g) Delta P Delta' blockdiag(W_g)`` and ``G = blockdiag(f_g Gamma_g)``;
* ``a = sqrt(m / tr((UG)^2))``, ``T = a (T0 - T1) + m - a tr(UG)`` on ``m`` df.

Checked against ``lavTestLRT()`` of lavaan 0.6-14 (tests/estimation/test_ordinal_fit.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, stats

from radsem.errors import EstimationError
from radsem.estimation.core.optimize import small_blas

__all__ = ["DifferenceTest", "wlsmv_difference_test"]


@dataclass(frozen=True)
class DifferenceTest:
    """Scaled-and-shifted difference test: statistic, df, p-value, ``a`` and shift ``b``."""

    chisq_diff: float
    df_diff: int
    pvalue: float
    a: float
    b: float


def _reduced_delta(fit) -> np.ndarray:
    problem = fit.problem
    k, _ = problem.constraints.active_basis(fit.theta)
    return np.vstack(problem.model.jacobian(fit.theta)) @ k, k


@small_blas
def wlsmv_difference_test(restricted, unrestricted) -> DifferenceTest:
    """Difference test of two nested categorical fits (either order of arguments is fine).

    Parameters
    ----------
    restricted, unrestricted : OrdinalFit
        Fits of nested models to the same data with the same estimator.

    Raises
    ------
    EstimationError
        Fits that are not categorical, differ in sample size or estimator, or are not nested.
    """
    for fit in (restricted, unrestricted):
        if not hasattr(fit, "_baseline_test"):
            raise EstimationError(
                "the WLSMV difference test needs two fits with ordered variables (OrdinalFit)"
            )
    m0, m1 = restricted, unrestricted
    if m0._df < m1._df:
        m0, m1 = m1, m0
    if (
        m0.problem.ntotal != m1.problem.ntotal
        or m0.problem.estimator_name != m1.problem.estimator_name
    ):
        raise EstimationError(
            "the models were fitted to different data or with different estimators"
        )
    df = int(m0._df - m1._df)
    t0 = 2.0 * m0.problem.ntotal * m0._fmin
    t1 = 2.0 * m1.problem.ntotal * m1._fmin
    if df == 0:
        return DifferenceTest(t0 - t1, 0, np.nan, np.nan, np.nan)
    pb = m1.problem
    d1, k1 = _reduced_delta(m1)
    d0, _ = _reduced_delta(m0)
    if d0.shape[0] != d1.shape[0]:
        raise EstimationError("the models are not nested (different sample statistics)")
    h = np.linalg.pinv(d1) @ d0
    a = linalg.null_space(h.T).T @ k1.T  # rows: the restrictions, in model 1's parameters
    e_inv = m1._inference.e_inv
    apa = a @ e_inv @ a.T
    keep = ~(
        (np.abs(apa.sum(axis=0)) < np.sqrt(np.finfo(float).eps))
        & (np.abs(apa.sum(axis=1)) < np.sqrt(np.finfo(float).eps))
    )
    a = a[keep]
    proj = e_inv @ a.T @ np.linalg.pinv(a @ e_inv @ a.T) @ a @ e_inv
    fg = pb.nobs / pb.ntotal
    jac = pb.model.jacobian(m1.theta)
    gammas = [np.asarray(st.gamma, float) for st in pb.stats]
    tr1 = sum(
        f * np.trace(w @ g @ w @ d @ proj @ d.T)
        for f, w, g, d in zip(fg, pb.W, gammas, jac, strict=True)
    )
    v_all = linalg.block_diag(*pb.W)
    g_all = linalg.block_diag(*[f * g for f, g in zip(fg, gammas, strict=True)])
    pi = np.vstack(jac)
    ug = v_all @ pi @ proj @ pi.T @ v_all @ g_all
    tr2 = float(np.trace(ug @ ug))
    if not tr2 > 0:
        raise EstimationError("the models do not look nested (no restriction found)")
    a_ = np.sqrt(df / tr2)
    b_ = df - a_ * tr1
    stat = (t0 - t1) * a_ + b_
    return DifferenceTest(float(stat), df, float(stats.chi2.sf(stat, df)), float(a_), float(b_))
