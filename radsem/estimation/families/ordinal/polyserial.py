"""Polyserial correlations (one continuous, one ordinal variable) by two-step ML, batched.

With the continuous variable standardised at its maximum-likelihood mean and variance,
:math:`z_i = (y_i - \\hat\\mu)/\\hat\\sigma`, and the thresholds of the ordinal variable fixed at
their univariate estimates, :math:`\\rho` maximises

.. math:: \\sum_i \\log\\{\\Phi(a_i) - \\Phi(b_i)\\},\\quad
          a_i = \\frac{\\tau_{c_i} - \\rho z_i}{R},\\; b_i = \\frac{\\tau_{c_i - 1} - \\rho z_i}{R},
          \\; R = \\sqrt{1-\\rho^2}

(the density of the continuous variable does not depend on :math:`\\rho`). Following lavaan
0.6-14 (``lav_bvmix``): the conditional probability is floored at machine epsilon, observations
whose joint likelihood (normal density times conditional probability) is below
:math:`\\sqrt{\\epsilon}` are left out of the log-likelihood, and the search is confined to
:math:`[-0.995, 0.995]`. One deliberate difference: radsem evaluates that rule with the density
of the *standardised* value :math:`\\phi(z_i)`, where lavaan uses the density in the data's
units, :math:`\\phi(z_i)/\\sigma`. lavaan's rule depends on the unit of measurement: for a
variable with a standard deviation above about :math:`10^7` (radiomic "energy" features) it drops
every observation and returns its starting value. Both rules agree for standardised data and
differ only for observations beyond about 5.5 standard deviations otherwise.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import ndtr

from radsem._warnings import user_stacklevel
from radsem.errors import DataWarning

__all__ = ["fit_polyserial_pairs", "polyserial_scores"]

BOUND = 0.995
_EPS = np.finfo(float).eps
_TINY = np.sqrt(_EPS)
_NORM = 1.0 / np.sqrt(2.0 * np.pi)


def _pdf(x):
    return _NORM * np.exp(-0.5 * x * x)


def _terms(z, upper, lower, rho):
    """Pieces shared by the log-likelihood and its derivatives (all (N, P) arrays)."""
    root = np.sqrt(1.0 - rho * rho)
    fin_u = np.isfinite(upper)
    fin_l = np.isfinite(lower)
    uu = np.where(fin_u, upper, 0.0)
    ll = np.where(fin_l, lower, 0.0)
    a = (uu - rho * z) / root
    b = (ll - rho * z) / root
    cdf_a = np.where(fin_u, ndtr(a), 1.0)
    cdf_b = np.where(fin_l, ndtr(b), 0.0)
    prob = np.maximum(cdf_a - cdf_b, _EPS)
    pdf_a = np.where(fin_u, _pdf(a), 0.0)
    pdf_b = np.where(fin_l, _pdf(b), 0.0)
    return root, uu, ll, a, b, prob, pdf_a, pdf_b


def _objective(z, upper, lower, dens, rho, present):
    """Log-likelihood per pair and the mask of observations lavaan keeps."""
    prob = _terms(z, upper, lower, rho)[5]
    keep = present & (dens * prob >= _TINY)
    return np.sum(np.where(keep, np.log(np.where(keep, prob, 1.0)), 0.0), axis=0), keep


def _derivatives(z, upper, lower, dens, rho, present):
    root, uu, ll, a, b, prob, pdf_a, pdf_b = _terms(z, upper, lower, rho)
    keep = present & (dens * prob >= _TINY)
    r3 = root**3
    r5 = root**5
    g_a = (rho * uu - z) / r3
    g_b = (rho * ll - z) / r3
    dp = pdf_a * g_a - pdf_b * g_b
    dg_a = uu / r3 + 3.0 * rho * (rho * uu - z) / r5
    dg_b = ll / r3 + 3.0 * rho * (rho * ll - z) / r5
    d2p = pdf_a * (dg_a - a * g_a * g_a) - pdf_b * (dg_b - b * g_b * g_b)
    ratio = dp / prob
    score = np.sum(np.where(keep, ratio, 0.0), axis=0)
    hess = np.sum(np.where(keep, d2p / prob - ratio * ratio, 0.0), axis=0)
    loglik = np.sum(np.where(keep, np.log(prob), 0.0), axis=0)
    return loglik, score, hess


def fit_polyserial_pairs(
    z: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    dens: np.ndarray,
    start: np.ndarray,
    labels: list[str],
    max_iter: int = 100,
    present: np.ndarray | None = None,
) -> np.ndarray:
    """Polyserial correlations of P (continuous, ordinal) pairs.

    Parameters
    ----------
    z : numpy.ndarray, shape (N, P)
        Standardised continuous variable of each pair.
    upper, lower : numpy.ndarray, shape (N, P)
        Upper and lower thresholds of each observation's category (``+-inf`` at the ends).
    dens : numpy.ndarray, shape (N, P)
        Standard normal density of each standardised continuous observation, ``phi(z)``.
    start : numpy.ndarray, shape (P,)
        Starting values (lavaan: ``cor(y, codes) * sd(codes) / sum(dnorm(tau))``).
    labels : list of str
        Pair names for warnings.
    max_iter : int
        Newton iterations before the bounded scalar search takes over.
    present : numpy.ndarray of bool, shape (N, P), optional
        Rows where both variables of the pair are observed (default: all).
    """
    if present is None:
        present = np.ones(z.shape, dtype=bool)
    rho = np.clip(start.astype(float).copy(), -BOUND, BOUND)
    n_pairs = rho.size
    converged = np.zeros(n_pairs, dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(~converged)
        if idx.size == 0:
            break
        cols = (slice(None), idx)
        r = rho[idx]
        loglik, score, hess = _derivatives(
            z[cols], upper[cols], lower[cols], dens[cols], r, present[cols]
        )
        n = z.shape[0]
        step = np.where(hess < 0.0, -score / np.where(hess < 0.0, hess, -1.0), np.sign(score) * 0.1)
        step = np.clip(step, -0.5, 0.5)
        new = np.clip(r + step, -BOUND, BOUND)
        for _halving in range(40):
            new_ll = _objective(z[cols], upper[cols], lower[cols], dens[cols], new, present[cols])[
                0
            ]
            worse = new_ll < loglik - 1e-12 * n
            if not worse.any():
                break
            new = np.where(worse, r + 0.5 * (new - r), new)
        moved = np.abs(new - r)
        rho[idx] = new
        converged[idx[moved < 1e-12]] = True
    # a likelihood still rising at the bound (flat to rounding near +-1): the supremum is there
    loglik, score, _ = _derivatives(z, upper, lower, dens, rho, present)
    tol = 1e-10 * z.shape[0]
    for sign in (1.0, -1.0):
        edge = np.full(n_pairs, sign * BOUND)
        edge_ll, edge_score, _ = _derivatives(z, upper, lower, dens, edge, present)
        # the derivative at the bound may underflow to exactly 0 on a flat likelihood
        rising = (sign * score > 0.0) & (sign * edge_score >= 0.0) & (edge_ll >= loglik - tol)
        rho = np.where(rising, edge, rho)
        converged |= rising
    for p in np.flatnonzero(~converged):
        column = (slice(None), slice(p, p + 1))
        result = minimize_scalar(
            lambda r, c=column: (
                -_objective(z[c], upper[c], lower[c], dens[c], np.array([r]), present[c])[0][0]
            ),
            bounds=(-BOUND, BOUND),
            method="bounded",
            options={"xatol": 1e-12},
        )
        rho[p] = float(result.x)
        if not result.success:
            warnings.warn(
                f"estimation of the polyserial correlation of {labels[p]} did not converge",
                DataWarning,
                stacklevel=user_stacklevel(),
            )
    return rho


def polyserial_scores(
    z: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    codes: np.ndarray,
    n_thresholds: int,
    sd: float,
    rho: float,
) -> dict[str, np.ndarray]:
    """Casewise scores of the polyserial log-likelihood of one pair.

    Returns ``mu`` and ``var`` (continuous mean and variance), ``th`` (N, K-1, the ordinal
    thresholds) and ``rho``, the derivatives of :math:`\\log\\{\\phi(y;\\mu,\\sigma^2)
    [\\Phi(a) - \\Phi(b)]\\}`:

    .. math::
        \\partial_\\mu = \\frac{1}{\\sigma}\\Big(z + \\frac{\\rho}{R}
            \\frac{\\phi(a)-\\phi(b)}{P}\\Big),\\quad
        \\partial_{\\sigma^2} = \\frac{1}{2\\sigma^2}\\Big(z^2 - 1 + \\frac{\\rho z}{R}
            \\frac{\\phi(a)-\\phi(b)}{P}\\Big),\\quad
        \\partial_\\rho = \\frac{\\phi(a)(\\rho\\tau_c - z) - \\phi(b)(\\rho\\tau_{c-1} - z)}
            {R^3 P}.
    """
    root, uu, ll, a, b, prob, pdf_a, pdf_b = _terms(z, upper, lower, rho)
    diff = (pdf_a - pdf_b) / prob
    out = {
        "mu": (z + rho / root * diff) / sd,
        "var": (z * z - 1.0 + rho * z / root * diff) / (2.0 * sd * sd),
        "rho": (pdf_a * (rho * uu - z) - pdf_b * (rho * ll - z)) / (root**3 * prob),
    }
    th = np.zeros((z.size, n_thresholds))
    rows = np.arange(z.size)
    up_ok = codes < n_thresholds
    th[rows[up_ok], codes[up_ok]] = pdf_a[up_ok] / (root * prob[up_ok])
    low_ok = codes > 0
    th[rows[low_ok], codes[low_ok] - 1] = -pdf_b[low_ok] / (root * prob[low_ok])
    out["th"] = th
    return out
