"""Step one of the two-step estimator: thresholds of ordinal variables (and their scores).

Without covariates the maximum-likelihood thresholds of a probit model for one ordinal variable
have a closed form: :math:`\\tau_k = \\Phi^{-1}(p_1 + \\dots + p_k)`, the normal quantiles of the
cumulative category proportions. lavaan's ``lav_uvord_fit`` starts its optimiser at exactly this
value, which is the optimum.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

__all__ = ["thresholds_from_codes", "extended_thresholds", "threshold_scores"]

_PHI_NORM = 1.0 / np.sqrt(2.0 * np.pi)


def thresholds_from_codes(codes: np.ndarray, n_levels: int) -> np.ndarray:
    """Probit thresholds of an ordinal variable coded ``0..n_levels-1`` (no missing values).

    Parameters
    ----------
    codes : numpy.ndarray of int
        Category of each observation.
    n_levels : int
        Number of categories K.

    Returns
    -------
    numpy.ndarray
        The K - 1 thresholds, increasing.

    Notes
    -----
    :math:`\\hat\\tau_k = \\Phi^{-1}(\\sum_{c \\le k} n_c / N)`; equals lavaan's
    ``lavInspect(fit, "th")`` (checked in the tests).
    """
    counts = np.bincount(codes, minlength=n_levels).astype(float)
    cumulative = np.cumsum(counts[:-1]) / counts.sum()
    return ndtri(cumulative)


def extended_thresholds(thresholds: np.ndarray, width: int | None = None) -> np.ndarray:
    """``[-inf, tau_1, ..., tau_{K-1}, +inf]``, padded on the right with ``+inf`` to ``width``."""
    tau = np.asarray(thresholds, dtype=float)
    out = np.concatenate(([-np.inf], tau, [np.inf]))
    if width is not None and width > out.size:
        out = np.concatenate((out, np.full(width - out.size, np.inf)))
    return out


def _pdf(x: np.ndarray) -> np.ndarray:
    finite = np.isfinite(x)
    xf = np.where(finite, x, 0.0)
    return np.where(finite, _PHI_NORM * np.exp(-0.5 * xf * xf), 0.0)


def threshold_scores(codes: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Casewise scores of the univariate probit log-likelihood with respect to the thresholds.

    Returns an ``(N, K-1)`` matrix whose row ``i`` is
    :math:`\\partial \\log P(y_i) / \\partial \\tau_k`: for an observation in category
    :math:`c` (thresholds :math:`\\tau_{c-1} < y^* \\le \\tau_c`) it is
    :math:`\\phi(\\tau_c) / P_c` at :math:`k = c`, :math:`-\\phi(\\tau_{c-1}) / P_c` at
    :math:`k = c - 1`, and zero elsewhere.
    """
    tau = extended_thresholds(thresholds)
    n_th = tau.size - 2
    upper = tau[codes + 1]
    lower = tau[codes]
    prob = ndtr(upper) - ndtr(lower)
    # accuracy in the upper tail, as lavaan: use the upper-tail difference when both are large
    large = lower > 1.0
    if np.any(large):
        prob = np.where(large, ndtr(-lower) - ndtr(-upper), prob)
    scores = np.zeros((codes.size, n_th))
    rows = np.arange(codes.size)
    up_ok = codes < n_th
    scores[rows[up_ok], codes[up_ok]] = _pdf(upper[up_ok]) / prob[up_ok]
    low_ok = codes > 0
    scores[rows[low_ok], codes[low_ok] - 1] = -_pdf(lower[low_ok]) / prob[low_ok]
    return scores
