"""Seeded random, valid CFA/SEM models in lavaan syntax with data simulated from them.

A model has 1-3 factors with 3-4 indicators each (first loading fixed to 1), and at random:
a cross-loading, a correlated residual, regressions among factors or on an observed covariate,
a loading fixed to its true value, and an equality constraint by a shared label. The data are
drawn from the model-implied covariance (multivariate normal, or multivariate t with 8 df for
robust estimators), so every model is correctly specified and identified.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class RandomModel:
    syntax: str
    data: pd.DataFrame
    features: tuple[str, ...]


def random_model(seed: int, n: int = 300, heavy_tails: bool = False) -> RandomModel:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 4))
    sizes = [int(rng.integers(3, 5)) for _ in range(m)]
    names = [[f"y{f + 1}_{j + 1}" for j in range(k)] for f, k in enumerate(sizes)]
    observed = [v for block in names for v in block]
    p = len(observed)
    lam, terms, features = _measurement(rng, names, p)
    if m >= 2 and rng.random() < 0.4:  # a cross-loading: last indicator of F1 on F2
        i = len(names[0]) - 1
        lam[i, 1] = 0.35
        terms[1].append(names[0][-1])
        features.append("cross-loading")
    theta = np.diag(rng.uniform(0.3, 0.8, p))
    extra: list[str] = []
    if m >= 2 and rng.random() < 0.4:  # correlated residual across factors
        a, b = names[0][1], names[1][1]
        ia, ib = observed.index(a), observed.index(b)
        theta[ia, ib] = theta[ib, ia] = 0.25 * np.sqrt(theta[ia, ia] * theta[ib, ib])
        extra.append(f"{a} ~~ {b}")
        features.append("correlated residual")
    # latent structure: B (m x m, strictly lower triangular) and exogenous covariance
    beta = np.zeros((m, m))
    psi = np.diag(rng.uniform(0.6, 1.2, m))
    if m >= 2 and rng.random() < 0.5:
        for f in range(1, m):
            beta[f, f - 1] = round(float(rng.uniform(0.3, 0.6)), 2)
            extra.append(f"F{f + 1} ~ F{f}")
        features.append("regression")
    elif m >= 2:
        for a in range(m):
            for b in range(a):
                psi[a, b] = psi[b, a] = 0.3 * np.sqrt(psi[a, a] * psi[b, b])
    covariate = rng.random() < 0.3
    gamma = 0.0
    if covariate:
        gamma = round(float(rng.uniform(0.3, 0.7)), 2)
        extra.append("F1 ~ x")
        features.append("covariate")
    inv = np.linalg.inv(np.eye(m) - beta)
    phi = inv @ psi @ inv.T
    # add the covariate x (variance 1) acting on F1
    gvec = inv[:, 0] * gamma
    phi_full = np.block(
        [[phi + np.outer(gvec, gvec), gvec[:, None]], [gvec[None, :], np.ones((1, 1))]]
    )
    lam_full = np.block([[lam, np.zeros((p, 1))], [np.zeros((1, m)), np.ones((1, 1))]])
    theta_full = np.block([[theta, np.zeros((p, 1))], [np.zeros((1, p)), np.zeros((1, 1))]])
    sigma = lam_full @ phi_full @ lam_full.T + theta_full
    cols = observed + ["x"]
    if not covariate:
        sigma, cols = sigma[:p, :p], observed
    means = rng.normal(0, 2, len(cols))
    z = rng.multivariate_normal(np.zeros(len(cols)), sigma, size=n, method="cholesky")
    if heavy_tails:  # multivariate t, 8 df, same covariance
        w = np.sqrt(rng.chisquare(8, size=n) / 6.0)
        z = z / w[:, None]
        features.append("t(8) data")
    data = pd.DataFrame(z + means, columns=cols).round(6)
    lines = [f"F{f + 1} =~ " + " + ".join(t) for f, t in enumerate(terms)] + extra
    return RandomModel("\n".join(lines), data, tuple(features))


def _measurement(rng, names, p):
    """Loadings (first fixed to 1), lavaan terms, and the features used."""
    m = len(names)
    lam = np.zeros((p, m))
    terms: list[list[str]] = [[] for _ in range(m)]
    features: list[str] = []
    row = 0
    for f, block in enumerate(names):
        load = np.round(rng.uniform(0.6, 1.3, len(block)), 2)
        load[0] = 1.0
        equal = len(block) >= 3 and rng.random() < 0.3
        fixed = (not equal) and rng.random() < 0.3
        if equal:
            load[2] = load[1]
            features.append("equality label")
        for j, v in enumerate(block):
            lam[row + j, f] = load[j]
            if equal and j in (1, 2):
                terms[f].append(f"lam_{f + 1}*{v}")
            elif fixed and j == 1:
                terms[f].append(f"{load[j]:g}*{v}")
            else:
                terms[f].append(v)
        if fixed:
            features.append("fixed loading")
        row += len(block)
    return lam, terms, features
