"""Multivariate normal likelihood with missing values (FIML) at the moment level.

Everything here works on a data matrix with ``NaN`` for missing values and on a pair of
moments ``(mu, Sigma)``; nothing depends on a particular SEM. The structured model enters
only through the Jacobian of ``(mu, vech Sigma)`` with respect to its parameters, which the
estimator multiplies in (chain rule).

Conventions (those of lavaan): ``vech`` stacks the lower triangle column by column; a moment
vector is ``(mu, vech Sigma)`` of length ``p + p(p+1)/2``; information matrices are *per case*
(divided by the number of non-empty cases ``N``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import linalg

from radsem._warnings import user_stacklevel
from radsem.errors import DataError, DataWarning, EstimationError
from radsem.estimation.core.matrices import vech_indices
from radsem.estimation.core.optimize import large_product

__all__ = [
    "MissingPatterns",
    "missing_patterns",
    "vech_indices",
    "dup_quadratic",
    "fiml_loglik",
    "fiml_gradient",
    "fiml_scores",
    "fiml_information_expected",
    "fiml_information_observed",
    "fiml_information_firstorder",
    "x_moment_mask",
]

LOG_2PI = float(np.log(2.0 * np.pi))


def dup_quadratic(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``D' (A kron B) D`` for symmetric ``A, B`` without forming the Kronecker product.

    ``D`` is the duplication matrix (``vec S = D vech S``).
    """
    p = a.shape[0]
    r, c = vech_indices(p)
    out = (
        a[np.ix_(c, c)] * b[np.ix_(r, r)]
        + a[np.ix_(c, r)] * b[np.ix_(r, c)]
        + a[np.ix_(r, c)] * b[np.ix_(c, r)]
        + a[np.ix_(r, r)] * b[np.ix_(c, c)]
    )
    half = np.where(r == c, 0.5, 1.0)
    return out * half[:, None] * half[None, :]


@dataclass(frozen=True)
class _Pattern:
    observed: np.ndarray  # boolean (p,)
    rows: np.ndarray  # indices into the non-empty data rows
    data: np.ndarray  # (n_k, q) observed values
    mean: np.ndarray  # (q,)
    cov: np.ndarray  # (q, q) divided by n_k
    idx: np.ndarray  # observed variable indices
    midx: np.ndarray  # missing variable indices

    @property
    def freq(self) -> int:
        return int(self.rows.size)


@dataclass(frozen=True)
class MissingPatterns:
    """Cases grouped by their pattern of observed variables.

    Attributes
    ----------
    data : ndarray, shape (N, p)
        The non-empty rows (all-missing rows removed), ``NaN`` where missing.
    kept : ndarray of int
        Indices of those rows in the input.
    empty : ndarray of int
        Indices of the input rows that were entirely missing (dropped).
    patterns : tuple
        One entry per distinct pattern with its boolean ``observed`` mask, its ``rows``
        (into ``data``), observed ``data``, and the pattern's mean and ML covariance.
    """

    data: np.ndarray
    kept: np.ndarray
    empty: np.ndarray
    patterns: tuple = field(repr=False)

    @property
    def nobs(self) -> int:
        """Number of non-empty cases ``N``."""
        return int(self.data.shape[0])

    @property
    def nvar(self) -> int:
        """Number of variables ``p``."""
        return int(self.data.shape[1])

    @property
    def npatterns(self) -> int:
        """Number of distinct missing-data patterns."""
        return len(self.patterns)

    @property
    def complete(self) -> bool:
        """True when no value is missing."""
        return self.npatterns == 1 and bool(self.patterns[0].observed.all())

    @cached_property
    def coverage(self) -> np.ndarray:
        """Proportion of cases observing each pair of variables (lavaan's ``coverage``)."""
        obs = (~np.isnan(self.data)).astype(float)
        return obs.T @ obs / self.nobs

    @cached_property
    def blocks(self) -> tuple:
        """Patterns stacked by number of observed variables ``q`` (for batched algebra):
        tuples ``(idx (m, q), freq (m,), mean (m, q), cov (m, q, q))``."""
        by_q: dict[int, list[_Pattern]] = {}
        for pat in self.patterns:
            by_q.setdefault(int(pat.idx.size), []).append(pat)
        return tuple(
            (
                np.array([p.idx for p in pats]),
                np.array([p.freq for p in pats], float),
                np.array([p.mean for p in pats]),
                np.array([p.cov for p in pats]),
            )
            for _, pats in sorted(by_q.items())
        )

    def pattern_table(self) -> np.ndarray:
        """Boolean matrix (npatterns, p) of observed variables, one row per pattern."""
        return np.array([pat.observed for pat in self.patterns])


def missing_patterns(data: np.ndarray, names: list[str] | None = None) -> MissingPatterns:
    """Group the rows of a data matrix by missing-data pattern.

    Parameters
    ----------
    data : array_like, shape (n, p)
        Numeric data with ``NaN`` for missing values. Not modified.
    names : list of str, optional
        Variable names, used in error messages.

    Returns
    -------
    MissingPatterns

    Raises
    ------
    DataError
        If the data are not a finite-or-NaN 2-d numeric array, or a variable has no
        observed value at all.

    Warns
    -----
    DataWarning
        When rows with every value missing are dropped (as lavaan does).
    """
    x = np.array(data, dtype=float, copy=True)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise DataError(f"expected a non-empty 2-d data matrix, got shape {x.shape}")
    if np.isinf(x).any():
        raise DataError("the data contain infinite values; use NaN for missing values")
    names = list(names) if names is not None else [f"V{j + 1}" for j in range(x.shape[1])]
    obs = ~np.isnan(x)
    dead = np.flatnonzero(~obs.any(axis=0))
    if dead.size:
        bad = ", ".join(names[j] for j in dead)
        raise DataError(f"variable(s) with every value missing: {bad}")
    empty = np.flatnonzero(~obs.any(axis=1))
    if empty.size:
        warnings.warn(
            f"{empty.size} case(s) with every variable missing were removed "
            f"(rows {', '.join(str(i) for i in empty[:10])}{' ...' if empty.size > 10 else ''})",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
    kept = np.flatnonzero(obs.any(axis=1))
    x = x[kept]
    obs = obs[kept]
    uniq, inverse = np.unique(obs, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    patterns = []
    for k in range(uniq.shape[0]):
        rows = np.flatnonzero(inverse == k)
        mask = uniq[k]
        y = x[np.ix_(rows, np.flatnonzero(mask))]
        m = y.mean(axis=0)
        yc = y - m
        patterns.append(
            _Pattern(
                mask, rows, y, m, yc.T @ yc / rows.size, np.flatnonzero(mask), np.flatnonzero(~mask)
            )
        )
    return MissingPatterns(x, kept, empty, tuple(patterns))


def _stacked_inverse_logdet(stack: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverses and log-determinants of a stack (k, q, q) of covariance matrices, by Cholesky."""
    try:
        chol = np.linalg.cholesky(stack)
    except np.linalg.LinAlgError as exc:
        raise EstimationError(
            "the covariance matrix (or a sub-matrix of observed variables) is not positive definite"
        ) from exc
    cinv = np.linalg.inv(chol)
    logdet = 2.0 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=-1)
    return np.swapaxes(cinv, -2, -1) @ cinv, logdet


def _inverse_logdet(sigma: np.ndarray) -> tuple[np.ndarray, float]:
    w, logdet = _stacked_inverse_logdet(sigma[None])
    return w[0], float(logdet[0])


def _block_pieces(block, mu: np.ndarray, sigma: np.ndarray):
    """Batched ``W = Sigma_oo^-1``, ``log|Sigma_oo|`` and ``d = ybar - mu_o`` of a block."""
    idx, _, mean, _ = block
    w, logdet = _stacked_inverse_logdet(sigma[idx[:, :, None], idx[:, None, :]])
    return w, logdet, mean - mu[idx]


def fiml_loglik(mp: MissingPatterns, mu: np.ndarray, sigma: np.ndarray) -> float:
    """Casewise (FIML) normal log-likelihood of the observed values.

    Notes
    -----
    Pattern by pattern with its ``n_k`` cases, mean ``ybar_k`` and ML covariance ``S_k``:
    ``l_k = -n_k/2 [p_k log 2pi + log|Sigma_k| + tr(Sigma_k^-1 (S_k + d d'))]`` with
    ``d = ybar_k - mu_k``; ``Sigma_k, mu_k`` are the observed parts. Checked against lavaan's
    ``logl`` (missing = "ml").
    """
    mu = np.asarray(mu, float)
    sigma = np.asarray(sigma, float)
    total = 0.0
    for block in mp.blocks:
        idx, freq, _, cov = block
        w, logdet, d = _block_pieces(block, mu, sigma)
        quad = np.einsum("kij,kij->k", w, cov) + np.einsum("ki,kij,kj->k", d, w, d)
        total -= 0.5 * float(freq @ (idx.shape[1] * LOG_2PI + logdet + quad))
    return float(total)


def _vech_weighted(g: np.ndarray) -> np.ndarray:
    """Gradient w.r.t. ``vech Sigma`` when ``dl = tr(G dSigma)``: ``vech(2G - diag G)``."""
    r, c = vech_indices(g.shape[0])
    return np.where(r == c, 1.0, 2.0) * g[r, c]


def fiml_gradient(mp: MissingPatterns, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Gradient of :func:`fiml_loglik` with respect to ``(mu, vech Sigma)``.

    Notes
    -----
    ``dl/dmu_k = n_k W d`` and ``dl = tr(G dSigma)`` with
    ``G = n_k/2 (W (S_k + d d') W - W)``, ``W = Sigma_k^-1``; off-diagonal ``vech``
    elements get ``2 G_ij``. Checked with finite differences and against the column sums
    of lavaan's casewise scores.
    """
    mu = np.asarray(mu, float)
    sigma = np.asarray(sigma, float)
    p = mu.size
    gmu = np.zeros(p)
    gsig = np.zeros((p, p))
    for block in mp.blocks:
        idx, freq, _, cov = block
        w, _, d = _block_pieces(block, mu, sigma)
        wd = np.einsum("kij,kj->ki", w, d)
        gmu += np.bincount(idx.ravel(), (freq[:, None] * wd).ravel(), minlength=p)
        g = 0.5 * freq[:, None, None] * (w @ cov @ w + wd[:, :, None] * wd[:, None, :] - w)
        flat = (idx[:, :, None] * p + idx[:, None, :]).ravel()
        gsig += np.bincount(flat, g.ravel(), minlength=p * p).reshape(p, p)
    return np.concatenate([gmu, _vech_weighted(gsig)])


def fiml_scores(
    mp: MissingPatterns, mu: np.ndarray, sigma: np.ndarray, x_idx: np.ndarray | None = None
) -> np.ndarray:
    """Casewise scores: gradient of each case's log-likelihood w.r.t. ``(mu, vech Sigma)``.

    Returns an ``(N, p + p(p+1)/2)`` array in the order of ``mp.data`` (non-empty rows).
    Columns of fixed exogenous covariates (``x_idx``) are zeroed as in lavaan.
    """
    mu = np.asarray(mu, float)
    sigma = np.asarray(sigma, float)
    n, p = mp.data.shape
    r, c = vech_indices(p)
    halve = np.where(r == c, 0.5, 1.0)
    # every pattern's W = Sigma_oo^-1 embedded in p x p zeros, in the patterns' order
    # (mp.blocks stacks them by size, keeping their order within a size)
    order = sorted(range(mp.npatterns), key=lambda k: (mp.patterns[k].idx.size, k))
    stacks = [_embed_stack(b[0], _block_pieces(b, mu, sigma)[0], p) for b in mp.blocks]
    wfull = np.empty((mp.npatterns, p, p))
    wfull[order] = np.concatenate(stacks)
    case = np.empty(n, int)
    for k, pat in enumerate(mp.patterns):
        case[pat.rows] = k
    centred = np.nan_to_num(mp.data - mu, nan=0.0)
    dmu = np.empty((n, p))
    dsig = np.empty((n, r.size))
    for start in range(0, n, 4096):  # bounded memory: (chunk, p, p) at a time
        rows = slice(start, min(start + 4096, n))
        w = wfull[case[rows]]
        z = np.einsum("nij,nj->ni", w, centred[rows])  # W (y - mu), zero where missing
        dmu[rows] = z
        dsig[rows] = (z[:, r] * z[:, c] - w[:, r, c]) * halve
    out = np.hstack([dmu, dsig])
    if x_idx is not None and len(x_idx):
        out[:, x_moment_mask(p, x_idx)] = 0.0
    return out


def x_moment_mask(p: int, x_idx) -> np.ndarray:
    """Boolean mask over ``(mu, vech Sigma)`` of the moments of fixed covariates ``x_idx``:
    their means and the (co)variances among them."""
    x = np.zeros(p, bool)
    x[np.asarray(x_idx, int)] = True
    r, c = vech_indices(p)
    return np.concatenate([x, x[r] & x[c]])


def _embed_stack(idx: np.ndarray, small: np.ndarray, p: int) -> np.ndarray:
    """Embed a stack of ``(m, q, q)`` matrices at ``idx`` rows/columns of ``(m, p, p)`` zeros."""
    m = idx.shape[0]
    full = np.zeros((m, p, p))
    full[np.arange(m)[:, None, None], idx[:, :, None], idx[:, None, :]] = small
    return full


def _dup_sum(a: np.ndarray, b: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``sum_k w_k D'(A_k kron B_k) D`` for stacks of symmetric ``(m, p, p)`` matrices.

    Forms ``T[a,b,c,d] = sum_k w_k A_k[a,b] B_k[c,d]`` with one matrix product, then picks
    the duplication-matrix entries (see :func:`dup_quadratic`).
    """
    m, p, _ = a.shape
    left = (a.reshape(m, p * p) * weights[:, None]).T
    if m * p**4 > 5e7:  # a large product: let BLAS use its threads
        with large_product():
            t = (left @ b.reshape(m, p * p)).reshape(p, p, p, p)
    else:
        t = (left @ b.reshape(m, p * p)).reshape(p, p, p, p)
    r, c = vech_indices(p)
    rr, cc = r[:, None], c[:, None]
    r2, c2 = r[None, :], c[None, :]
    out = t[cc, c2, rr, r2] + t[cc, r2, rr, c2] + t[rr, c2, cc, r2] + t[rr, r2, cc, c2]
    half = np.where(r == c, 0.5, 1.0)
    return out * half[:, None] * half[None, :]


def fiml_information_expected(
    mp: MissingPatterns, mu: np.ndarray, sigma: np.ndarray, x_idx: np.ndarray | None = None
) -> np.ndarray:
    """Expected (per-case) information of ``(mu, vech Sigma)`` under missing data.

    Notes
    -----
    ``sum_k n_k blockdiag(W_k, 1/2 D'(W_k kron W_k) D) / N`` with ``W_k`` embedded in
    ``p x p`` zeros; as lavaan's ``lav_mvnorm_missing_information_expected``.
    """
    mu = np.asarray(mu, float)
    sigma = np.asarray(sigma, float)
    p = sigma.shape[0]
    stacks, freqs = [], []
    for block in mp.blocks:
        idx, freq, _, _ = block
        w, _, _ = _block_pieces(block, mu, sigma)
        stacks.append(_embed_stack(idx, w, p))
        freqs.append(freq)
    wf, freq = np.concatenate(stacks), np.concatenate(freqs)
    i11 = np.einsum("k,kij->ij", freq, wf)
    i22 = 0.5 * _dup_sum(wf, wf, freq)  # one product over every pattern
    return _finish(linalg.block_diag(i11, i22) / mp.nobs, p, x_idx)


def _finish(info: np.ndarray, p: int, x_idx) -> np.ndarray:
    if x_idx is not None and len(x_idx):
        cols = x_moment_mask(p, x_idx)
        info[cols, :] = 0.0
        info[:, cols] = 0.0
    return info


def fiml_information_observed(
    mp: MissingPatterns, mu: np.ndarray, sigma: np.ndarray, x_idx: np.ndarray | None = None
) -> np.ndarray:
    """Observed (per-case) information: minus the Hessian of :func:`fiml_loglik` over ``N``.

    Notes
    -----
    For pattern ``k`` (``W = Sigma_k^-1``, ``d = ybar_k - mu_k``, ``M = S_k + d d'``):
    ``-d2l/dmu dmu' = n_k W``; ``-d2l/dmu dvech = n_k (W E_kl (W d) + ...)`` i.e. entry
    ``(m, kl) = n_k (W_mk (Wd)_l + W_ml (Wd)_k)`` (halved when ``k = l``);
    ``-d2l/dvech dvech' = n_k/2 [2 D'(WMW kron W)D - D'(W kron W)D]``.
    Checked against lavaan's ``lav_mvnorm_missing_information_observed_samplestats``.
    """
    mu = np.asarray(mu, float)
    sigma = np.asarray(sigma, float)
    p = mu.size
    r, c = vech_indices(p)
    half = np.where(r == c, 0.5, 1.0)
    pstar = r.size
    info = np.zeros((p + pstar, p + pstar))
    lefts, rights, freqs = [], [], []
    for block in mp.blocks:
        idx, freq, _, cov = block
        w, _, d = _block_pieces(block, mu, sigma)
        wf = _embed_stack(idx, w, p)
        wd = np.zeros((idx.shape[0], p))
        np.put_along_axis(wd, idx, np.einsum("kij,kj->ki", w, d), axis=1)
        m = cov + d[:, :, None] * d[:, None, :]
        info[:p, :p] += np.einsum("k,kij->ij", freq, wf)
        cross = np.einsum("k,kir,kr->ir", freq, wf[:, :, r], wd[:, c])
        cross += np.einsum("k,kir,kr->ir", freq, wf[:, :, c], wd[:, r])
        cross *= half[None, :]
        info[:p, p:] += cross
        info[p:, :p] += cross.T
        # D'(WMW kron W)D - 1/2 D'(W kron W)D is linear in its left factor: one product
        lefts.append(_embed_stack(idx, w @ m @ w - 0.5 * w, p))
        rights.append(wf)
        freqs.append(freq)
    info[p:, p:] = _dup_sum(np.concatenate(lefts), np.concatenate(rights), np.concatenate(freqs))
    return _finish(info / mp.nobs, p, x_idx)


def fiml_information_firstorder(
    mp: MissingPatterns, mu: np.ndarray, sigma: np.ndarray, x_idx: np.ndarray | None = None
) -> np.ndarray:
    """First-order (cross-product of casewise scores) information, per case.

    As lavaan's ``lav_mvnorm_missing_information_firstorder``: ``crossprod(scores) / N``.
    """
    sc = fiml_scores(mp, mu, sigma, x_idx)
    return sc.T @ sc / mp.nobs
