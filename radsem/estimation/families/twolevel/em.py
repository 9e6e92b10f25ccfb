"""lavaan's EM estimates of the saturated two-level model (its two-level "sample statistics").

lavaan 0.6-14 does not maximise the saturated two-level likelihood exactly: it runs the EM
algorithm for the random-effects model ``y_ij = mu_w + v_j + e_ij`` (Raudenbush & Bryk's EM
for a saturated multivariate two-level model, with the between-only variables ``z_j`` in the
between part) from identity covariance matrices and zero means, and stops as soon as an
iteration raises the log-likelihood by less than ``1e-4``. These estimates are what lavaan
reports as ``lavInspect(fit, "sampstat")`` / ``"h1"``, and what it uses for the intraclass
correlations, the SRMR and the fixed covariates; :func:`em_h1` reproduces them so those
numbers agree with lavaan's. (The exact maximum, from :func:`.h1.fit_h1`, gives the
unrestricted log-likelihood and the chi-square test.)

E-step for cluster ``j`` of size ``n``: with ``b_j = (ybar_j, z_j)``, ``Omega =
Cov(b_j)`` and ``S1 = Cov(v_j, b_j)``, ``E(v_j) = mu_b + S1 Omega^-1 (b_j - mu)`` and
``Cov(v_j) = Sigma_b - S1 Omega^-1 S1'``. M-step: ``Sigma_w`` from ``E[(y_ij - v_j)(...)']``,
``Sigma_b`` and ``mu_b`` from the moments of ``v_j``, ``Cov(v, z)`` from ``E(v_j) z_j'``;
``mu_z`` and ``Sigma_zz`` stay at their sample values.
"""

from __future__ import annotations

import numpy as np

from radsem.estimation.families.twolevel.data import ClusterData
from radsem.estimation.families.twolevel.likelihood import minus2_loglik
from radsem.estimation.families.twolevel.problem import Moments

__all__ = ["em_h1"]


def _assemble(cd: ClusterData, s_w, s_b, s_yz, s_zz, mu_w, mu_b, mu_z) -> Moments:
    p1, pt = cd.p1, len(cd.variables)
    sigma_w = np.zeros((pt, pt))
    sigma_w[:p1, :p1] = s_w
    sigma_b = np.zeros((pt, pt))
    sigma_b[:p1, :p1] = s_b
    sigma_b[:p1, p1:] = s_yz
    sigma_b[p1:, :p1] = s_yz.T
    sigma_b[p1:, p1:] = s_zz
    return Moments(
        np.concatenate([mu_w, np.zeros(pt - p1)]),
        sigma_w,
        np.concatenate([mu_b, mu_z]),
        sigma_b,
        p1,
    )


def em_h1(
    cd: ClusterData,
    between,
    tol: float = 1e-4,
    max_iter: int = 5000,
    min_variance: float = 1e-5,
) -> Moments:
    """lavaan's EM estimates of the saturated two-level model (see the module docstring).

    Parameters
    ----------
    cd : ClusterData
    between : sequence of str
        Level-2 variables (level-1 variables not among them are within-only).
    """
    p1 = cd.p1
    both = np.array([v in between for v in cd.within])
    s_w = np.eye(p1)
    s_b = np.diag(both.astype(float))
    z = cd.t2[:, p1:]
    pz = z.shape[1]
    mu_z = z.mean(axis=0)
    dz = z - mu_z
    s_zz = dz.T @ dz / cd.nclusters
    s_yz = np.zeros((p1, pz))
    mu_w = np.zeros(p1)
    mu_b = np.zeros(p1)
    y1y1 = cd.y1.T @ cd.y1
    groups = [np.flatnonzero(cd.cluster_size == n) for n in cd.sizes]
    m = _assemble(cd, s_w, s_b, s_yz, s_zz, mu_w, mu_b, mu_z)
    fx_old = -0.5 * minus2_loglik(cd, m.sigma_w[:p1, :p1], m.sigma_b, m.mu)
    for _ in range(max_iter):
        sigma_1 = np.hstack([s_b, s_yz])  # Cov(v, (ybar, z))
        mu = np.concatenate([mu_w + mu_b, mu_z])
        mw = np.zeros(p1)
        mb = np.zeros(p1)
        cw2 = np.zeros((p1, p1))
        cb = np.zeros((p1, p1))
        zy = np.zeros((pz, p1))
        for n, idx in zip(cd.sizes, groups, strict=True):
            omega = np.block([[s_w / n + s_b, s_yz], [s_yz.T, s_zz]])
            k = sigma_1 @ np.linalg.inv(omega)
            b = cd.t2[idx]
            ybar = b[:, :p1]
            ev = (b - mu) @ k.T + mu_b
            covv = len(idx) * (s_b - k @ sigma_1.T)
            evv = 0.5 * (covv + covv.T) + ev.T @ ev
            mw += n * (ybar - ev).sum(axis=0)
            mb += ev.sum(axis=0)
            cw2 += n * (evv - ybar.T @ ev - ev.T @ ybar)
            cb += evv
            zy += b[:, p1:].T @ ev
        m_w = mw / cd.nobs
        m_b = mb / cd.nclusters
        s_w = (y1y1 + cw2) / cd.nobs - np.outer(m_w, m_w)
        s_b = cb / cd.nclusters - np.outer(m_b, m_b)
        s_yz = (zy / cd.nclusters - np.outer(mu_z, m_b)).T
        mu_w, mu_b = m_w, m_b
        small = np.diag(s_w) < min_variance
        if small.any():
            s_w[small, :] = 0.0
            s_w[:, small] = 0.0
            s_w[small, small] = min_variance
        m = _assemble(cd, s_w, s_b, s_yz, s_zz, mu_w, mu_b, mu_z)
        fx = -0.5 * minus2_loglik(cd, m.sigma_w[:p1, :p1], m.sigma_b, m.mu)
        if fx - fx_old < tol:
            break
        fx_old = fx
    return m
