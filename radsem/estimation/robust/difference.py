"""Satorra's (2000) scaled-and-shifted difference test of nested models, from the pieces of
the less restricted model (lavaan's ``lav_test_diff_Satorra2000``, ``A.method = "delta"``).

With ``T0``/``T1`` the standard statistics of the restricted and the less restricted model
and ``m = df0 - df1``:

* the restrictions: with ``D1 = Delta_1 K_1`` and ``D0 = Delta_0 K_0`` (stacked Jacobians of
  the moments times the bases of the equality constraints), ``A`` spans the orthogonal
  complement of ``H = D1^+ D0`` (mapped back to model 1's parameters by ``K_1'``);
* ``P = E^+ A' (A E^+ A')^+ A E^+`` with ``E^+`` model 1's inverse information;
* ``tr(UG) = sum_g f_g tr(W_g Gamma_g W_g Delta_g P Delta_g')``, ``tr((UG)^2)`` with
  ``U = blockdiag(W_g) Delta P Delta' blockdiag(W_g)`` and ``G = blockdiag(f_g Gamma_g)``;
* ``a = sqrt(m / tr((UG)^2))``, ``T = a (T0 - T1) + m - a tr(UG)`` on ``m`` df.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import linalg, stats

from radsem.errors import EstimationError

__all__ = ["DifferenceTest", "satorra_2000"]


@dataclass(frozen=True)
class DifferenceTest:
    """Scaled-and-shifted difference test: statistic, df, p-value, ``a`` and shift ``b``."""

    chisq_diff: float
    df_diff: int
    pvalue: float
    a: float
    b: float


def satorra_2000(
    t0: float,
    t1: float,
    df: int,
    d1: np.ndarray,
    d0: np.ndarray,
    k1: np.ndarray,
    e_inv: np.ndarray,
    weights: Sequence[np.ndarray],
    gammas: Sequence[np.ndarray],
    jacobians: Sequence[np.ndarray],
    nobs: Sequence[float],
) -> DifferenceTest:
    """The test from model 1's pieces (see the module docstring).

    Parameters
    ----------
    t0, t1, df : float, float, int
        Standard statistics of the restricted (0) and less restricted (1) model, df
        difference.
    d1, d0 : ndarray
        Stacked Jacobians times the constraint bases (``Delta K``) of model 1 and model 0.
    k1 : ndarray
        Model 1's constraint basis.
    e_inv : ndarray
        Model 1's inverse (per case) information of all its free parameters.
    weights, gammas, jacobians : list of ndarray
        Per group ``W_g`` (lavaan's ``WLS.V``), ``Gamma_g`` and ``Delta_g`` of model 1.
    nobs : list of float

    Raises
    ------
    EstimationError
        Models that are not nested.
    """
    if df == 0:
        return DifferenceTest(t0 - t1, 0, np.nan, np.nan, np.nan)
    if d0.shape[0] != d1.shape[0]:
        raise EstimationError("the models are not nested (different sample statistics)")
    h = np.linalg.pinv(d1) @ d0
    a = linalg.null_space(h.T).T @ k1.T  # rows: the restrictions, in model 1's parameters
    apa = a @ e_inv @ a.T
    eps = np.sqrt(np.finfo(float).eps)
    keep = ~((np.abs(apa.sum(axis=0)) < eps) & (np.abs(apa.sum(axis=1)) < eps))
    a = a[keep]
    proj = e_inv @ a.T @ np.linalg.pinv(a @ e_inv @ a.T) @ a @ e_inv
    n = np.asarray(nobs, float)
    fg = n / n.sum()
    tr1 = sum(
        f * np.trace(w @ g @ w @ d @ proj @ d.T)
        for f, w, g, d in zip(fg, weights, gammas, jacobians, strict=True)
    )
    v_all = linalg.block_diag(*weights)
    g_all = linalg.block_diag(*[f * g for f, g in zip(fg, gammas, strict=True)])
    pi = np.vstack(jacobians)
    ug = v_all @ pi @ proj @ pi.T @ v_all @ g_all
    tr2 = float(np.trace(ug @ ug))
    if not tr2 > 0:
        raise EstimationError("the models do not look nested (no restriction found)")
    a_ = np.sqrt(df / tr2)
    b_ = df - a_ * tr1
    stat = (t0 - t1) * a_ + b_
    return DifferenceTest(
        float(stat), int(df), float(stats.chi2.sf(stat, df)), float(a_), float(b_)
    )
