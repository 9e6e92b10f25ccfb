"""Polychoric correlations by two-step maximum likelihood, many pairs at once.

Step two of the two-step estimator (Olsson, 1979): the thresholds of both variables are fixed at
their univariate estimates and the correlation :math:`\\rho` of the underlying bivariate normal
maximises the multinomial log-likelihood of the contingency table,

.. math:: \\ell(\\rho) = \\sum_{a,b} n_{ab} \\log \\pi_{ab}(\\rho),\\qquad
          \\pi_{ab} = \\Phi_2(\\tau_a, \\kappa_b) - \\Phi_2(\\tau_{a-1}, \\kappa_b)
                    - \\Phi_2(\\tau_a, \\kappa_{b-1}) + \\Phi_2(\\tau_{a-1}, \\kappa_{b-1}).

All pairs are solved together by a damped Newton iteration on the box
:math:`[-0.999, 0.999]` (lavaan's bounds), with the analytic first and second derivatives
(:math:`\\partial\\Phi_2/\\partial\\rho = \\phi_2`, and :math:`\\partial\\phi_2/\\partial\\rho =
\\phi_2\\,g(u, v, \\rho)`).

lavaan 0.6-14 conventions reproduced here (``lav_bvord_cor_twostep_fit``, default options):

* cell probabilities below :math:`\\sqrt{\\epsilon}` are set to :math:`\\sqrt{\\epsilon}` in the
  log-likelihood and those cells are left out of the derivatives;
* empty cells (``zero.add = c(0.5, 0)``, ``zero.keep.margins = TRUE``): in a 2 x 2 table with one
  empty cell, 0.5 is added to that cell and to its diagonal partner and subtracted from the
  other two (the margins are kept); larger tables are left as they are; a 2 x 2 table with two
  empty cells gives :math:`\\rho = \\pm 1` (with a warning);
* a 2 x 2 table with :math:`n_{11}n_{22} = n_{12}n_{21}` gives :math:`\\rho = 0`, and one with
  both thresholds exactly 0 gives :math:`-\\cos(2\\pi n_{11}/n)` (Brown and Benedetti, 1977).

These adjustments change only the correlation estimate, never the casewise scores used for the
asymptotic covariance (computed from the observed table).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import ndtr

from radsem._warnings import user_stacklevel
from radsem.errors import DataWarning
from radsem.estimation.families.ordinal.bivariate_normal import bvn_cdf, bvn_pdf

__all__ = ["PolychoricPairs", "fit_polychoric_pairs", "polychoric_cell_scores"]

BOUND = 0.999
_TINY = np.sqrt(np.finfo(float).eps)


@dataclass(frozen=True)
class PolychoricPairs:
    """Polychoric correlations of a batch of variable pairs.

    Attributes
    ----------
    rho : numpy.ndarray
        One correlation per pair.
    zero_cells : numpy.ndarray of bool
        Whether the pair's table had an empty cell.
    """

    rho: np.ndarray
    zero_cells: np.ndarray


def _grids(t1: np.ndarray, t2: np.ndarray, rho: np.ndarray, second: bool = False):
    """Cell probabilities and their first (and second) derivatives in rho.

    ``t1``: (P, A+1) extended thresholds of the row variables, ``t2``: (P, B+1); returns arrays
    of shape (P, A, B).
    """
    h = t1[:, :, None]
    k = t2[:, None, :]
    r = rho[:, None, None]
    cdf = bvn_cdf(h, k, r)
    pdf = bvn_pdf(h, k, r)
    prob = cdf[:, 1:, 1:] - cdf[:, :-1, 1:] - cdf[:, 1:, :-1] + cdf[:, :-1, :-1]
    dprob = pdf[:, 1:, 1:] - pdf[:, :-1, 1:] - pdf[:, 1:, :-1] + pdf[:, :-1, :-1]
    if not second:
        return prob, dprob, None
    finite = np.isfinite(h) & np.isfinite(k)
    u = np.where(finite, h, 0.0)
    v = np.where(finite, k, 0.0)
    one_minus = 1.0 - r * r
    guv = (u * v * one_minus - r * (u * u - 2.0 * r * u * v + v * v) + r * one_minus) / (
        one_minus * one_minus
    )
    gpdf = pdf * guv
    d2prob = gpdf[:, 1:, 1:] - gpdf[:, :-1, 1:] - gpdf[:, 1:, :-1] + gpdf[:, :-1, :-1]
    return prob, dprob, d2prob


def _loglik(freq, t1, t2, rho):
    prob, _, _ = _grids(t1, t2, rho)
    prob = np.maximum(prob, _TINY)
    return np.sum(freq * np.log(prob), axis=(1, 2))


def _derivatives(freq, t1, t2, rho):
    prob, dprob, d2prob = _grids(t1, t2, rho, second=True)
    ok = prob > _TINY
    safe = np.where(ok, prob, 1.0)
    w = np.where(ok, freq, 0.0)
    ratio = dprob / safe
    score = np.sum(w * ratio, axis=(1, 2))
    hess = np.sum(w * (d2prob / safe - ratio * ratio), axis=(1, 2))
    floored = np.maximum(prob, _TINY)
    loglik = np.sum(freq * np.log(floored), axis=(1, 2))
    return loglik, score, hess


def _newton(freq, t1, t2, start, max_iter=100, tol=1e-12):
    """Damped Newton ascent for every pair; returns rho and a converged flag."""
    rho = np.clip(start.astype(float).copy(), -BOUND, BOUND)
    converged = np.zeros(rho.size, dtype=bool)
    for _ in range(max_iter):
        active = ~converged
        if not active.any():
            break
        idx = np.flatnonzero(active)
        f, t1a, t2a, r = freq[idx], t1[idx], t2[idx], rho[idx]
        loglik, score, hess = _derivatives(f, t1a, t2a, r)
        scale = np.sum(f, axis=(1, 2))
        step = np.where(hess < 0.0, -score / np.where(hess < 0.0, hess, -1.0), np.sign(score) * 0.1)
        step = np.clip(step, -0.5, 0.5)
        new = np.clip(r + step, -BOUND, BOUND)
        for _halving in range(40):
            new_ll = _loglik(f, t1a, t2a, new)
            worse = new_ll < loglik - 1e-12 * scale
            if not worse.any():
                break
            new = np.where(worse, r + 0.5 * (new - r), new)
        moved = np.abs(new - r)
        rho[idx] = new
        done = moved < tol
        converged[idx[done]] = True
    rho, at_bound = _to_bound(freq, t1, t2, rho)
    return rho, converged | at_bound


def _to_bound(freq, t1, t2, rho):
    """Move to the bound where the likelihood still rises towards it.

    With a (quasi-)separated table the log-likelihood is flat to machine precision near
    :math:`\\pm 1` while its derivative keeps its sign; the damped Newton iteration then stops
    where the gain drops below rounding. The supremum is at the bound, where lavaan's ``nlminb``
    ends too.
    """
    loglik, score, _ = _derivatives(freq, t1, t2, rho)
    tol = 1e-10 * np.maximum(np.sum(freq, axis=(1, 2)), 1.0)
    at_bound = np.zeros(rho.size, dtype=bool)
    for sign in (1.0, -1.0):
        edge = np.full(rho.size, sign * BOUND)
        edge_ll, edge_score, _ = _derivatives(freq, t1, t2, edge)
        # the derivative at the bound may underflow to exactly 0 on a flat likelihood
        rising = (sign * score > 0.0) & (sign * edge_score >= 0.0) & (edge_ll >= loglik - tol)
        rho = np.where(rising, edge, rho)
        at_bound |= rising
    return rho, at_bound


def _fallback(freq, t1, t2):
    result = minimize_scalar(
        lambda r: -_loglik(freq[None], t1[None], t2[None], np.array([r]))[0],
        bounds=(-BOUND, BOUND),
        method="bounded",
        options={"xatol": 1e-12},
    )
    return float(result.x), bool(result.success)


def _two_by_two(freq: np.ndarray, th1: np.ndarray, th2: np.ndarray, label: str):
    """lavaan's special cases of 2 x 2 tables; returns (rho or None, adjusted table)."""
    table = freq[:2, :2].astype(float).copy()
    empty = np.flatnonzero(table.ravel() == 0)
    if empty.size == 2:
        warnings.warn(
            f"two empty cells in the 2 x 2 table of {label}: correlation set to "
            f"{'+1' if table[0, 0] > 0 else '-1'}",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
        return (1.0 if table[0, 0] > 0 else -1.0), table
    if empty.size == 1:
        # zero.add = 0.5 with zero.keep.margins = TRUE
        sign = 1.0 if empty[0] in (0, 3) else -1.0
        table += sign * np.array([[0.5, -0.5], [-0.5, 0.5]])
    if table[0, 0] * table[1, 1] == table[0, 1] * table[1, 0]:
        return 0.0, table
    if th1[0] == 0.0 and th2[0] == 0.0:
        return float(-np.cos(2.0 * np.pi * table[0, 0] / table.sum())), table
    return None, table


def fit_polychoric_pairs(
    tables: np.ndarray,
    ext1: np.ndarray,
    ext2: np.ndarray,
    start: np.ndarray,
    sizes: np.ndarray,
    labels: list[str],
) -> PolychoricPairs:
    """Two-step polychoric correlations of P pairs.

    Parameters
    ----------
    tables : numpy.ndarray, shape (P, K, K)
        Contingency tables (zero-padded to a common K).
    ext1, ext2 : numpy.ndarray, shape (P, K + 1)
        Extended thresholds (``[-inf, tau..., +inf, +inf...]``) of the row and column variables.
    start : numpy.ndarray, shape (P,)
        Starting values (lavaan: Pearson correlation of the category codes).
    sizes : numpy.ndarray, shape (P, 2)
        Numbers of categories of the two variables.
    labels : list of str
        ``"x1 x x2"`` names of the pairs, for warnings.
    """
    n_pairs = tables.shape[0]
    rho = np.full(n_pairs, np.nan)
    freq = tables.astype(float).copy()
    zero_cells = np.array(
        [np.any(tables[p, : sizes[p, 0], : sizes[p, 1]] == 0) for p in range(n_pairs)], dtype=bool
    )
    for p in np.flatnonzero((sizes[:, 0] == 2) & (sizes[:, 1] == 2)):
        fixed, adjusted = _two_by_two(tables[p], ext1[p, 1:2], ext2[p, 1:2], labels[p])
        freq[p, :2, :2] = adjusted
        if fixed is not None:
            rho[p] = fixed
    todo = np.flatnonzero(np.isnan(rho))
    if todo.size:
        fitted, ok = _newton(freq[todo], ext1[todo], ext2[todo], start[todo])
        for local in np.flatnonzero(~ok):
            p = todo[local]
            value, success = _fallback(freq[p], ext1[p], ext2[p])
            fitted[local] = value
            if not success:
                warnings.warn(
                    f"estimation of the polychoric correlation of {labels[p]} did not converge",
                    DataWarning,
                    stacklevel=user_stacklevel(),
                )
        rho[todo] = fitted
    return PolychoricPairs(rho=rho, zero_cells=zero_cells)


def polychoric_cell_scores(
    ext1: np.ndarray, ext2: np.ndarray, rho: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-cell scores of the bivariate probit log-likelihood of P pairs.

    Parameters
    ----------
    ext1, ext2 : numpy.ndarray, shape (P, K + 1)
        Extended thresholds ``[-inf, tau_1, ..., +inf, +inf...]`` (padded with ``+inf`` to a
        common K) of the row and column variables.
    rho : numpy.ndarray, shape (P,)
        The correlations.

    Returns
    -------
    d_rho : numpy.ndarray, shape (P, K, K)
        :math:`\\partial\\log\\pi_{ab}/\\partial\\rho` for an observation in cell (a, b).
    d_th1 : numpy.ndarray, shape (P, K, K, K - 1)
        Derivatives with respect to the row thresholds (zero for padded thresholds).
    d_th2 : numpy.ndarray, shape (P, K, K, K - 1)
        Derivatives with respect to the column thresholds.

    Notes
    -----
    :math:`\\partial \\pi_{ab} / \\partial \\tau_a = \\phi(\\tau_a)[\\Phi((\\kappa_b -
    \\rho\\tau_a)/R) - \\Phi((\\kappa_{b-1} - \\rho\\tau_a)/R)]` with
    :math:`R = \\sqrt{1-\\rho^2}`, and minus the same expression at :math:`\\tau_{a-1}`. Cells
    with probability at most :math:`\\sqrt{\\epsilon}` get zero scores (lavaan drops them).
    """
    rho = np.asarray(rho, dtype=float)
    n_cat = ext1.shape[1] - 1
    prob, dprob, _ = _grids(ext1, ext2, rho)
    ok = prob > _TINY
    safe = np.where(ok, prob, 1.0)
    d_rho = np.where(ok, dprob / safe, 0.0)
    root = np.sqrt(1.0 - rho * rho)[:, None, None]
    r = rho[:, None, None]

    def side(ext_a: np.ndarray, ext_b: np.ndarray) -> np.ndarray:
        # z[p, k, b] = phi(t_k) (Phi((u_b - rho t_k)/R) - Phi((l_b - rho t_k)/R)) for the
        # finite thresholds t_k of the first variable (zero at padded +inf thresholds)
        t_raw = ext_a[:, 1:-1][:, :, None]
        finite = np.isfinite(t_raw)
        t = np.where(finite, t_raw, 0.0)
        up = ext_b[:, 1:][:, None, :]
        low = ext_b[:, :-1][:, None, :]
        dens = np.where(finite, np.exp(-0.5 * t * t) / np.sqrt(2.0 * np.pi), 0.0)
        return dens * (ndtr((up - r * t) / root) - ndtr((low - r * t) / root))

    z1 = side(ext1, ext2)  # (P, K-1, K)
    z2 = side(ext2, ext1)  # (P, K-1, K)
    n_pairs = rho.size
    d_th1 = np.zeros((n_pairs, n_cat, n_cat, n_cat - 1))
    d_th2 = np.zeros((n_pairs, n_cat, n_cat, n_cat - 1))
    for kk in range(n_cat - 1):
        # threshold kk is the upper limit of category kk and the lower limit of kk + 1
        d_th1[:, kk, :, kk] += z1[:, kk]
        d_th1[:, kk + 1, :, kk] -= z1[:, kk]
        d_th2[:, :, kk, kk] += z2[:, kk]
        d_th2[:, :, kk + 1, kk] -= z2[:, kk]
    d_th1 = np.where(ok[..., None], d_th1 / safe[..., None], 0.0)
    d_th2 = np.where(ok[..., None], d_th2 / safe[..., None], 0.0)
    return d_rho, d_th1, d_th2
