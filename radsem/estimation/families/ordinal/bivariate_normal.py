"""Vectorised standard bivariate normal distribution and density.

The polychoric and polyserial estimators evaluate the bivariate normal distribution function on
whole threshold grids at once, for many variable pairs and many correlations in one call.
``scipy.stats.multivariate_normal.cdf`` works one point at a time (and to 1e-5 by default), so
this module evaluates it through Owen's T function, which scipy provides as a vectorised ufunc
accurate to double precision.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, owens_t

__all__ = ["bvn_cdf", "bvn_pdf"]

_TWO_PI = 2.0 * np.pi


def _owen_half(h: np.ndarray, k: np.ndarray, rho: np.ndarray, root: np.ndarray) -> np.ndarray:
    """``T(h, (k - rho h) / (h sqrt(1 - rho^2)))`` with the limits at ``h = 0``."""
    num = k - rho * h
    den = h * root
    safe = den != 0.0
    ratio = np.divide(num, np.where(safe, den, 1.0))
    out = owens_t(h, np.where(safe, ratio, 0.0))
    # h = 0: T(0, +-inf) = +-1/4 (the sign of the numerator; T(0, 0) = 0)
    return np.where(safe, out, 0.25 * np.sign(num))


def bvn_cdf(h: np.ndarray, k: np.ndarray, rho: np.ndarray | float) -> np.ndarray:
    """P(X <= h, Y <= k) for standard bivariate normal (X, Y) with correlation ``rho``.

    Parameters
    ----------
    h, k : array_like
        Upper limits; may contain ``-inf`` and ``+inf``. Broadcast against each other and
        against ``rho``.
    rho : array_like
        Correlations in the open interval (-1, 1).

    Returns
    -------
    numpy.ndarray
        The probabilities, with the broadcast shape of the inputs.

    Notes
    -----
    Owen (1956): with :math:`R = \\sqrt{1 - \\rho^2}`,

    .. math::
        \\Phi_2(h, k; \\rho) = \\tfrac12\\Phi(h) + \\tfrac12\\Phi(k)
            - T\\!\\left(h, \\frac{k - \\rho h}{h R}\\right)
            - T\\!\\left(k, \\frac{h - \\rho k}{k R}\\right) - \\beta,

    where :math:`\\beta = 1/2` when :math:`hk < 0` or (:math:`hk = 0` and :math:`h + k < 0`),
    else 0, and :math:`T` is Owen's T function (``scipy.special.owens_t``). At
    :math:`h = k = 0` the closed form :math:`1/4 + \\arcsin(\\rho) / (2\\pi)` is used; infinite
    limits give the margins. Checked against numerical integration of the density and against
    ``scipy.stats.multivariate_normal`` with tight tolerances (tests).
    """
    h, k, rho = np.broadcast_arrays(
        np.asarray(h, dtype=float), np.asarray(k, dtype=float), np.asarray(rho, dtype=float)
    )
    finite = np.isfinite(h) & np.isfinite(k)
    hf = np.where(finite, h, 0.0)
    kf = np.where(finite, k, 0.0)
    root = np.sqrt(1.0 - rho * rho)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = (
            0.5 * ndtr(hf)
            + 0.5 * ndtr(kf)
            - _owen_half(hf, kf, rho, root)
            - _owen_half(kf, hf, rho, root)
        )
    prod = hf * kf
    beta = np.where((prod < 0.0) | ((prod == 0.0) & (hf + kf < 0.0)), 0.5, 0.0)
    value = value - beta
    both_zero = (hf == 0.0) & (kf == 0.0)
    value = np.where(both_zero, 0.25 + np.arcsin(rho) / _TWO_PI, value)
    # infinite limits: margins
    value = np.where(finite, value, 0.0)
    value = np.where(np.isposinf(h) & np.isfinite(k), ndtr(np.where(np.isfinite(k), k, 0.0)), value)
    value = np.where(np.isposinf(k) & np.isfinite(h), ndtr(np.where(np.isfinite(h), h, 0.0)), value)
    value = np.where(np.isposinf(h) & np.isposinf(k), 1.0, value)
    value = np.where(np.isneginf(h) | np.isneginf(k), 0.0, value)
    return np.clip(value, 0.0, 1.0)


def bvn_pdf(h: np.ndarray, k: np.ndarray, rho: np.ndarray | float) -> np.ndarray:
    """Standard bivariate normal density at (h, k); zero where either argument is infinite.

    Notes
    -----
    :math:`\\phi_2(h, k; \\rho) = \\exp\\{-(h^2 - 2\\rho hk + k^2) / (2(1-\\rho^2))\\} /
    (2\\pi\\sqrt{1-\\rho^2})`; it is also :math:`\\partial \\Phi_2 / \\partial \\rho`.
    """
    h, k, rho = np.broadcast_arrays(
        np.asarray(h, dtype=float), np.asarray(k, dtype=float), np.asarray(rho, dtype=float)
    )
    finite = np.isfinite(h) & np.isfinite(k)
    hf = np.where(finite, h, 0.0)
    kf = np.where(finite, k, 0.0)
    one_minus = 1.0 - rho * rho
    dens = np.exp(-(hf * hf - 2.0 * rho * hf * kf + kf * kf) / (2.0 * one_minus)) / (
        _TWO_PI * np.sqrt(one_minus)
    )
    return np.where(finite, dens, 0.0)
