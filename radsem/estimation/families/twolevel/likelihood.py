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

__all__ = ["minus2_loglik", "minus2_gradient", "cluster_gradients", "loglik_x"]

_LOG2PI = float(np.log(2 * np.pi))


def _between(cd: ClusterData, sigma_w: np.ndarray, sigma_b: np.ndarray) -> np.ndarray:
    """``V_s`` for every cluster size, stacked ``(S, pt, pt)``."""
    p1 = cd.p1
    v = np.repeat(sigma_b[None], len(cd.sizes), axis=0)
    v[:, :p1, :p1] += sigma_w[None] / cd.sizes[:, None, None]
    return v


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
    try:
        cw = np.linalg.cholesky(sigma_w)
        cv = np.linalg.cholesky(_between(cd, sigma_w, sigma_b))
    except np.linalg.LinAlgError:
        return np.inf
    w_inv = np.linalg.inv(sigma_w)
    w_logdet = 2.0 * float(np.log(np.diagonal(cw)).sum())
    total = (cd.nobs - cd.nclusters) * (w_logdet + float(np.sum(w_inv * cd.s_pw)))
    v_logdet = 2.0 * np.log(np.diagonal(cv, axis1=1, axis2=2)).sum(axis=1)
    ci = np.linalg.inv(cv)
    v_inv = np.swapaxes(ci, 1, 2) @ ci
    d = cd.means - mu
    quad = np.einsum("sij,sij->s", v_inv, cd.covs) + np.einsum("si,sij,sj->s", d, v_inv, d)
    total += float(cd.counts @ (v_logdet + p1 * np.log(cd.sizes) + quad))
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
    v_inv = np.linalg.inv(_between(cd, sigma_w, sigma_b))
    d = cd.means - mu
    vd = np.einsum("sij,sj->si", v_inv, d)
    c = cd.counts.astype(float)[:, None, None]
    g = c * (v_inv - v_inv @ cd.covs @ v_inv - vd[:, :, None] * vd[:, None, :])
    g_b = g.sum(axis=0)
    g_w = g_w + (g[:, :p1, :p1] / cd.sizes[:, None, None]).sum(axis=0)
    g_mu = -2.0 * (cd.counts[:, None] * vd).sum(axis=0)
    return 0.5 * (g_w + g_w.T), 0.5 * (g_b + g_b.T), g_mu


def cluster_gradients(
    cd: ClusterData, sigma_w: np.ndarray, sigma_b: np.ndarray, mu: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cluster, the derivatives of its ``-2 log L_j`` (as :func:`minus2_gradient`):
    arrays ``(J, p1, p1)``, ``(J, pt, pt)`` and ``(J, pt)`` (for robust inference)."""
    p1 = cd.p1
    w_inv = np.linalg.inv(sigma_w)
    res = cd.y1 - cd.t2[cd.cluster_index, :p1]
    scatter = np.zeros((cd.nclusters, p1, p1))
    np.add.at(scatter, cd.cluster_index, res[:, :, None] * res[:, None, :])
    size_of = np.searchsorted(cd.sizes, cd.cluster_size)
    v_inv = np.linalg.inv(_between(cd, sigma_w, sigma_b))[size_of]
    vd = np.einsum("jab,jb->ja", v_inv, cd.t2 - mu)
    g_b = v_inv - vd[:, :, None] * vd[:, None, :]
    n = cd.cluster_size.astype(float)[:, None, None]
    g_w = (n - 1.0) * w_inv[None] - w_inv[None] @ scatter @ w_inv[None] + g_b[:, :p1, :p1] / n
    return g_w, g_b, -2.0 * vd


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
