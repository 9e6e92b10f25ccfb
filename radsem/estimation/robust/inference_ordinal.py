"""Robust ("robust.sem") standard errors and the mean-and-variance adjusted test of WLSMV.

With per-group Jacobian ``Delta_g`` of the implied thresholds and correlations, weight matrix
``W_g``, the asymptotic covariance ``Gamma_g`` of the sample statistics (times ``n_g``) and
``f_g = n_g / N``:

* information ``E = sum_g f_g Delta_g' W_g Delta_g`` (with equality constraints the bordered
  inverse, here ``E^+ = K (K' E K)^-1 K'`` with ``K`` a basis of the constraints' null space);
* sandwich ``V = E^+ (sum_g f_g Delta_g' W_g Gamma_g W_g Delta_g) E^+ / (N - G)`` (lavaan's
  ``se = "robust.sem"``; lavaan divides by ``N - G`` for least-squares estimators), or
  ``E^+ / (N - G)`` for ``se = "standard"``;
* ``U = V_W - V_W Delta E^+ Delta' V_W`` with ``V_W = blockdiag(f_g W_g)`` and
  ``Gamma = blockdiag(Gamma_g / f_g)``; ``tr(U Gamma)`` and ``tr((U Gamma)^2)`` give the
  Satorra-Bentler scaled test and the scaled-and-shifted test (lavaan 0.6-14's default for
  WLSMV): ``a = sqrt(df / tr((U Gamma)^2))``, ``T_ss = a T + df - a tr(U Gamma)``, reported
  scaling factor ``1/a`` (Asparouhov & Muthen 2010; lavaan ``lav_test_satorra_bentler``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from radsem.estimation.core.optimize import small_blas

__all__ = ["OrdinalInference", "ordinal_inference", "scaled_shifted", "block_diag"]


def block_diag(mats: list[np.ndarray]) -> np.ndarray:
    """Block-diagonal matrix of the given blocks."""
    return linalg.block_diag(*mats) if mats else np.zeros((0, 0))


@dataclass(frozen=True)
class OrdinalInference:
    """Inference quantities at the estimate.

    Attributes
    ----------
    vcov : ndarray
        Covariance matrix of all free parameters.
    e_inv : ndarray
        ``E^+`` (per-case inverse information, constraints accounted for).
    trace_ug, trace_ug2 : float
        ``tr(U Gamma)`` and ``tr((U Gamma)^2)``.
    """

    vcov: np.ndarray
    e_inv: np.ndarray
    trace_ug: float
    trace_ug2: float


@small_blas
def ordinal_inference(problem, theta: np.ndarray, se: str = "robust.sem") -> OrdinalInference:
    """Standard errors and test traces of a fitted :class:`OrdinalProblem`."""
    fg = problem.nobs / problem.ntotal
    jac = problem.model.jacobian(theta)
    info = sum(f * (d.T @ w @ d) for f, d, w in zip(fg, jac, problem.W, strict=True))
    cons = problem.constraints
    k, _ = cons.active_basis(theta) if cons is not None else (np.eye(theta.size), 0)
    e_inv = k @ np.linalg.pinv(k.T @ info @ k, rcond=1e-12, hermitian=True) @ k.T
    gammas = [np.asarray(st.gamma, float) for st in problem.stats]
    n_den = problem.ntotal - len(problem.stats)  # lavaan: N - G for non-ML estimators
    if se == "none":
        vcov = np.full_like(e_inv, np.nan)
    elif se == "standard":
        vcov = e_inv / n_den
    else:
        meat = sum(
            f * (d.T @ w @ g @ w @ d) for f, d, w, g in zip(fg, jac, problem.W, gammas, strict=True)
        )
        vcov = e_inv @ meat @ e_inv / n_den
    v_all = block_diag([f * w for f, w in zip(fg, problem.W, strict=True)])
    g_all = block_diag([g / f for f, g in zip(fg, gammas, strict=True)])
    d_all = np.vstack(jac)
    vd = v_all @ d_all
    u = v_all - vd @ e_inv @ vd.T
    ug = u @ g_all
    return OrdinalInference(vcov, e_inv, float(np.trace(ug)), float(np.sum(ug * ug.T)))


def scaled_shifted(chisq: float, df: float, trace_ug: float, trace_ug2: float):
    """``(T_scaled, scaling_factor, shift)`` of the scaled-and-shifted test."""
    if df <= 0 or not trace_ug2 > 0:
        return np.nan, np.nan, np.nan
    a = np.sqrt(df / trace_ug2)
    shift = df - a * trace_ug
    return a * chisq + shift, 1.0 / a, shift
