"""The two-level normal log-likelihood and its gradient (unbalanced clusters).

For cluster ``j`` with ``n_j`` rows, level-1 vectors ``y_ij = mu_y + u_j + e_ij`` with
``Var(e) = Sigma_W``, between-only values ``z_j`` and ``Var((u_j, z_j)) = Sigma_B`` (zero for
within-only variables). An orthogonal (Helmert) rotation of the rows of a cluster separates
``n_j - 1`` within contrasts with covariance ``Sigma_W`` from the cluster mean; with
``t_j = (ybar_j, z_j)``::

    -2 log L = (N - J) [log|Sigma_W| + tr(Sigma_W^-1 S_PW)]
               + sum_s c_s [log|V_s| + p1 log n_s + tr(V_s^-1 M_s)]
               + (N p1 + J p_z) log(2 pi)

    V_s = Sigma_B + diag-block(Sigma_W / n_s, 0),  M_s = C_s + (m_s - mu)(m_s - mu)'

summing over the distinct cluster sizes ``n_s`` (``c_s`` clusters, mean ``m_s`` and
covariance ``C_s`` of ``t_j``). This is the full-information ML of Muthen (1990) and
Bentler & Liang (2003) that lavaan uses. lavaan reports the log-likelihood conditional on the
fixed covariates: the normal log-likelihood of the level-1 covariates (all rows) and of the
level-2 covariates (one row per cluster) at their sample moments is subtracted
(:func:`loglik_x`).
"""

from __future__ import annotations

import numpy as np

from radsem.estimation.families.twolevel.data import ClusterData

__all__ = ["minus2_loglik", "minus2_gradient", "loglik_x"]

_LOG2PI = float(np.log(2 * np.pi))


def _inv_logdet(m: np.ndarray) -> tuple[np.ndarray, float] | None:
    try:
        c = np.linalg.cholesky(m)
    except np.linalg.LinAlgError:
        return None
    ci = np.linalg.inv(c)
    return ci.T @ ci, 2.0 * float(np.log(np.diag(c)).sum())


def minus2_loglik(cd: ClusterData, sigma_w: np.ndarray, sigma_b: np.ndarray, mu: np.ndarray):
    """``-2 log L`` (with the ``2 pi`` constant; ``inf`` if a matrix is not positive definite).

    Parameters
    ----------
    cd : ClusterData
    sigma_w : ndarray (p1, p1)
        Within covariance of the level-1 variables.
    sigma_b : ndarray (pt, pt)
        Between covariance of ``t = (level-1 variables, between-only variables)``; rows of
        within-only variables are zero.
    mu : ndarray (pt,)
        Means of ``t`` (within plus between parts).
    """
    p1 = cd.p1
    wi = _inv_logdet(sigma_w)
    if wi is None:
        return np.inf
    w_inv, w_logdet = wi
    total = (cd.nobs - cd.nclusters) * (w_logdet + float(np.sum(w_inv * cd.s_pw)))
    for n_s, c_s, m_s, cov_s in zip(cd.sizes, cd.counts, cd.means, cd.covs, strict=True):
        v = sigma_b.copy()
        v[:p1, :p1] += sigma_w / n_s
        vi = _inv_logdet(v)
        if vi is None:
            return np.inf
        v_inv, v_logdet = vi
        d = m_s - mu
        quad = float(np.sum(v_inv * cov_s)) + float(d @ v_inv @ d)
        total += c_s * (v_logdet + p1 * np.log(n_s) + quad)
    pz = len(cd.between_only)
    return total + (cd.nobs * p1 + cd.nclusters * pz) * _LOG2PI


def minus2_gradient(
    cd: ClusterData, sigma_w: np.ndarray, sigma_b: np.ndarray, mu: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Derivatives of :func:`minus2_loglik` with respect to ``sigma_w``, ``sigma_b`` and
    ``mu``, the covariance matrices' entries taken as distinct (symmetric results: the
    derivative with respect to an off-diagonal covariance is twice the entry)."""
    p1 = cd.p1
    w_inv = np.linalg.inv(sigma_w)
    g_w = (cd.nobs - cd.nclusters) * (w_inv - w_inv @ cd.s_pw @ w_inv)
    g_b = np.zeros_like(sigma_b)
    g_mu = np.zeros_like(mu)
    for n_s, c_s, m_s, cov_s in zip(cd.sizes, cd.counts, cd.means, cd.covs, strict=True):
        v = sigma_b.copy()
        v[:p1, :p1] += sigma_w / n_s
        v_inv = np.linalg.inv(v)
        d = m_s - mu
        vd = v_inv @ d
        g = c_s * (v_inv - v_inv @ cov_s @ v_inv - np.outer(vd, vd))
        g_b += g
        g_w += g[:p1, :p1] / n_s
        g_mu -= 2.0 * c_s * vd
    return 0.5 * (g_w + g_w.T), 0.5 * (g_b + g_b.T), g_mu


def _h1_loglik(n: int, cov: np.ndarray) -> float:
    q = cov.shape[0]
    return -0.5 * n * (q * _LOG2PI + float(np.linalg.slogdet(cov)[1]) + q)


def loglik_x(cd: ClusterData, x_within, x_between) -> float:
    """lavaan's log-likelihood of the fixed covariates: level-1 covariates over all rows
    (covariance divided by ``N``) plus level-2 covariates over the clusters (cluster means,
    divided by ``J``)."""
    out = 0.0
    names = cd.variables
    if x_within:
        idx = [names.index(v) for v in x_within]
        y = cd.y1[:, idx]
        d = y - y.mean(axis=0)
        out += _h1_loglik(cd.nobs, d.T @ d / cd.nobs)
    if x_between:
        idx = [names.index(v) for v in x_between]
        y = cd.t2[:, idx]
        d = y - y.mean(axis=0)
        out += _h1_loglik(cd.nclusters, d.T @ d / cd.nclusters)
    return out
