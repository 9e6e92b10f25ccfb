"""Data transformed to fit the model exactly (the Bollen-Stine bootstrap's null population).

Notes
-----
Complete data (Bollen & Stine 1992; lavaan's ``bootstrapLavaan(type = "bollen.stine")``): per
group ``z_i = Sigma^(1/2) S^(-1/2) (y_i - ybar) + mu`` with symmetric square roots, the sample
covariance ``S`` the estimator uses (``/N`` for ML, ``/(N-1)`` for GLS/ULS) and the implied
``(mu, Sigma)`` at the estimate (``mu = ybar`` without a mean structure). The transformed
sample has covariance exactly ``Sigma`` and mean exactly ``mu``, so the model fits it
perfectly; resampling its rows draws from a population where the model holds but the
distribution of the data (skewness, kurtosis) is kept.

Missing data (FIML; *not available in lavaan 0.6-14*, which refuses): the pattern-wise
transformation of Enders (2002): cases with observed variables ``o`` get
``Sigma_oo^(1/2) S_oo^(-1/2) (y_io - m_o) + mu_o`` with the EM (saturated) moments
``(m, S)``. With complete data it is the Bollen-Stine transformation; with missing data the
EM moments of the transformed data are close to but not exactly ``(mu, Sigma)``.
"""

from __future__ import annotations

import numpy as np

from radsem.errors import EstimationError

__all__ = ["symmetric_sqrt", "bollen_stine_data"]


def symmetric_sqrt(a: np.ndarray, inverse: bool = False) -> np.ndarray:
    """Symmetric square root (or inverse square root) of a positive-definite matrix."""
    ev, vec = np.linalg.eigh(0.5 * (a + a.T))
    if ev.min() <= 1e-12 * max(1.0, abs(ev).max()):
        raise EstimationError(
            "the Bollen-Stine transformation needs positive-definite sample and model-implied "
            f"covariance matrices (smallest eigenvalue {ev.min():.3g}); the model-implied "
            "matrix of an improper solution cannot be used"
        )
    root = np.sqrt(ev) if not inverse else 1.0 / np.sqrt(ev)
    return (vec * root) @ vec.T


def _transform(
    y: np.ndarray, m: np.ndarray, s: np.ndarray, mu: np.ndarray, sigma: np.ndarray
) -> np.ndarray:
    return (y - m) @ symmetric_sqrt(s, inverse=True) @ symmetric_sqrt(sigma) + mu


def bollen_stine_data(problem, theta: np.ndarray) -> list[np.ndarray]:
    """Per group the data transformed to the model-implied moments at ``theta``.

    Parameters
    ----------
    problem : SemProblem
        The fitted problem (its ``stats`` hold the data and the moments the estimator used).
    theta : ndarray
        The estimate.

    Returns
    -------
    list of ndarray
        One ``n_g x p`` array per group (NaN where the original value is missing).
    """
    out = []
    for st, (mu, sigma) in zip(problem.stats, problem.implied_moments(theta), strict=True):
        y = np.asarray(st.data, float)
        miss = np.isnan(y)
        if not miss.any():
            out.append(_transform(y, st.mean, st.cov, mu, sigma))
            continue
        z = np.full(y.shape, np.nan)
        patterns, inverse = np.unique(~miss, axis=0, return_inverse=True)
        for k, obs in enumerate(patterns):
            rows = np.flatnonzero(inverse.ravel() == k)
            o = np.flatnonzero(obs)
            if o.size == 0:
                continue
            z[np.ix_(rows, o)] = _transform(
                y[np.ix_(rows, o)], st.mean[o], st.cov[np.ix_(o, o)], mu[o], sigma[np.ix_(o, o)]
            )
        out.append(z)
    return out
