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

import numpy as np

from radsem.errors import EstimationError
from radsem.estimation.core.optimize import small_blas
from radsem.estimation.robust.difference import DifferenceTest, satorra_2000

__all__ = ["DifferenceTest", "wlsmv_difference_test"]


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
    if m0.df < m1.df:
        m0, m1 = m1, m0
    if (
        m0.problem.ntotal != m1.problem.ntotal
        or m0.problem.estimator_name != m1.problem.estimator_name
    ):
        raise EstimationError(
            "the models were fitted to different data or with different estimators"
        )
    df = int(m0.df - m1.df)
    t0 = 2.0 * m0.problem.ntotal * m0.fmin
    t1 = 2.0 * m1.problem.ntotal * m1.fmin
    if df == 0:
        return DifferenceTest(t0 - t1, 0, np.nan, np.nan, np.nan)
    pb = m1.problem
    d1, k1 = _reduced_delta(m1)
    d0, _ = _reduced_delta(m0)
    return satorra_2000(
        t0,
        t1,
        df,
        d1,
        d0,
        k1,
        m1.inference.e_inv,
        pb.W,
        [np.asarray(st.gamma, float) for st in pb.stats],
        pb.model.jacobian(m1.theta),
        pb.nobs,
    )
