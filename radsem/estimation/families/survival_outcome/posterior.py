"""Conditional (posterior) moments of SEM nodes given each patient's observed variables, and
Bartlett factor scores, per missing-data pattern (numpy)."""

from __future__ import annotations

import numpy as np

__all__ = ["conditional_moments", "bartlett_scores", "ram_moments"]


def ram_moments(ram, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(nu, Omega)`` of all nodes (observed then latent) of a single-group RamModel."""
    b, omega, nu = ram.implied_full(theta, 0)
    return nu, omega


def _pattern_groups(data: np.ndarray):
    mask = ~np.isnan(data)
    keys, inverse = np.unique(mask, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    for k, key in enumerate(keys):
        yield np.flatnonzero(inverse == k), np.flatnonzero(key)


def conditional_moments(
    nu: np.ndarray, omega: np.ndarray, data: np.ndarray, targets
) -> tuple[np.ndarray, np.ndarray]:
    """``E(v_T | y_O)`` and ``Cov(v_T | y_O)`` for every row of ``data``.

    Parameters
    ----------
    nu, omega : ndarray
        Mean and covariance of all nodes; the first ``data.shape[1]`` nodes are observed.
    data : ndarray, shape (n, p)
        Observed values, ``NaN`` for missing.
    targets : sequence of int
        Node indices wanted (typically the latent variables).

    Returns
    -------
    mean : ndarray, shape (n, q)
    cov : ndarray, shape (n, q, q)
    """
    t = np.asarray(list(targets), dtype=int)
    n = data.shape[0]
    mean = np.empty((n, t.size))
    cov = np.empty((n, t.size, t.size))
    for rows, obs in _pattern_groups(data):
        if obs.size == 0:
            mean[rows] = nu[t]
            cov[rows] = omega[np.ix_(t, t)]
            continue
        sig = omega[np.ix_(obs, obs)]
        cross = omega[np.ix_(t, obs)]
        gain = np.linalg.solve(sig, cross.T).T
        resid = data[np.ix_(rows, obs)] - nu[obs]
        mean[rows] = nu[t] + resid @ gain.T
        cov[rows] = omega[np.ix_(t, t)] - gain @ cross.T
    return mean, cov


def bartlett_scores(ram, theta: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Bartlett factor scores ``(L' T^-1 L)^-1 L' T^-1 (y - tau)`` from each row's observed
    indicators (``NaN`` for a latent variable none of whose indicators is observed).

    ``L`` are the direct loadings of the observed on the latent nodes, ``T`` the residual
    covariance and ``tau`` the intercepts, so ``E(score | eta) = eta``: the scores carry
    classical measurement error, which is what makes them attenuate a Cox regression.
    """
    a, s, m = ram.matrices(ram.values(theta), 0)
    p = data.shape[1]
    lam, tres, tau = a[:p, p:], s[:p, :p], m[:p]
    q = lam.shape[1]
    out = np.full((data.shape[0], q), np.nan)
    for rows, obs in _pattern_groups(data):
        if obs.size == 0:
            continue
        lo = lam[obs]
        has = np.abs(lo).sum(axis=0) > 0
        if not has.any():
            continue
        lo = lo[:, has]
        tinv = np.linalg.pinv(tres[np.ix_(obs, obs)])
        w = np.linalg.solve(lo.T @ tinv @ lo, lo.T @ tinv)
        out[np.ix_(rows, np.flatnonzero(has))] = (data[np.ix_(rows, obs)] - tau[obs]) @ w.T
    return out
