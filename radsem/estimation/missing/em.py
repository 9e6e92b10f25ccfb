"""EM estimates of the saturated (unrestricted) normal model under missing data."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from radsem._warnings import user_stacklevel
from radsem.errors import ConvergenceWarning, EstimationError
from radsem.estimation.core.optimize import small_blas
from radsem.estimation.missing.likelihood import MissingPatterns, fiml_loglik

__all__ = ["SaturatedMoments", "em_saturated"]


@dataclass(frozen=True)
class SaturatedMoments:
    """Maximum-likelihood moments of the saturated model (lavaan's ``sampstat.h1``).

    Attributes
    ----------
    mean : ndarray (p,)
    cov : ndarray (p, p)
    logl : float
        FIML log-likelihood at ``(mean, cov)`` (lavaan's ``unrestricted.logl``).
    iterations : int
    converged : bool
    """

    mean: np.ndarray
    cov: np.ndarray
    logl: float
    iterations: int
    converged: bool


def _start(mp: MissingPatterns) -> tuple[np.ndarray, np.ndarray]:
    x = mp.data
    mu0 = np.nanmean(x, axis=0)
    var0 = np.nanmean((x - mu0) ** 2, axis=0)
    var0 = np.where(np.isfinite(var0) & (var0 > 0), var0, 1.0)
    return mu0, np.diag(var0)


def _prepare(mp: MissingPatterns):
    """Iteration-independent pieces: observed-part sums per pattern, and the patterns
    stacked by number of missing variables (index grids for batched algebra)."""
    p = mp.nvar
    base1 = np.zeros(p)
    base2 = np.zeros((p, p))
    by_r: dict[int, list] = {}
    for pat in mp.patterns:
        o, m, n = pat.idx, pat.midx, pat.freq
        s1 = n * pat.mean
        s2 = n * (pat.cov + np.outer(pat.mean, pat.mean))
        base1[o] += s1
        base2[np.ix_(o, o)] += s2
        if m.size:
            by_r.setdefault(int(m.size), []).append((m, o, n, s1, s2))
    groups = []
    for _, pats in sorted(by_r.items()):
        m = np.array([q[0] for q in pats])
        o = np.array([q[1] for q in pats])
        n = np.array([q[2] for q in pats], float)
        s1 = np.array([q[3] for q in pats])
        s2 = np.array([q[4] for q in pats])
        flat_mm = (m[:, :, None] * p + m[:, None, :]).ravel()
        flat_mo = (m[:, :, None] * p + o[:, None, :]).ravel()
        flat_om = (o[:, None, :] * p + m[:, :, None]).ravel()
        groups.append((m, o, n, s1, s2, flat_mm, flat_mo, flat_om))
    return base1, base2, groups


def _estep(prepared, mu: np.ndarray, sigma: np.ndarray):
    """Expected sufficient statistics ``T1 = sum E[y]``, ``T2 = sum E[y y']``.

    Works on each pattern's observed sums, so the cost does not grow with its size:
    ``E[y_m | y_o] = a + B y_o`` with ``B = -K_mm^-1 K_mo``, ``a = mu_m - B mu_o`` and
    residual covariance ``K_mm^-1`` (``K = Sigma^-1``). Patterns with the same number of
    missing variables are handled as one stack.
    """
    base1, base2, groups = prepared
    p = mu.size
    t1 = base1.copy()
    t2 = base2.copy().ravel()
    try:
        prec = np.linalg.inv(sigma)
    except np.linalg.LinAlgError as exc:
        raise EstimationError("EM: the covariance matrix became singular") from exc
    for m, o, n, s1, s2, flat_mm, flat_mo, flat_om in groups:
        resid = np.linalg.inv(prec[m[:, :, None], m[:, None, :]])  # (K, r, r)
        coef = -resid @ prec[m[:, :, None], o[:, None, :]]  # (K, r, q)
        a = mu[m] - np.einsum("krq,kq->kr", coef, mu[o])
        bs1 = np.einsum("krq,kq->kr", coef, s1)
        t1 += np.bincount(m.ravel(), (n[:, None] * a + bs1).ravel(), minlength=p)
        cs2 = coef @ s2  # (K, r, q)
        cross = a[:, :, None] * s1[:, None, :] + cs2
        t2 += np.bincount(flat_mo, cross.ravel(), minlength=p * p)
        t2 += np.bincount(flat_om, cross.ravel(), minlength=p * p)
        ab = a[:, :, None] * (n[:, None] * a + bs1)[:, None, :]
        mm = (
            ab
            + np.swapaxes(ab, 1, 2)
            - n[:, None, None] * a[:, :, None] * a[:, None, :]
            + cs2 @ np.swapaxes(coef, 1, 2)
            + n[:, None, None] * resid
        )
        t2 += np.bincount(flat_mm, mm.ravel(), minlength=p * p)
    return t1, t2.reshape(p, p)


@small_blas
def em_saturated(
    mp: MissingPatterns, max_iter: int = 500, tol: float = 1e-5, warn: bool = True
) -> SaturatedMoments:
    """EM algorithm for the unrestricted mean vector and covariance matrix.

    Parameters
    ----------
    mp : MissingPatterns
        From :func:`radsem.estimation.missing.likelihood.missing_patterns`.
    max_iter : int, default 500
        lavaan's ``em.h1.iter.max``.
    tol : float, default 1e-5
        Stop when no element of ``(mu, vech Sigma)`` changes by more than ``tol``
        (lavaan's ``em.h1.tol``).
    warn : bool, default True
        Emit a :class:`ConvergenceWarning` when ``max_iter`` is reached.

    Returns
    -------
    SaturatedMoments

    Notes
    -----
    Follows the steps of lavaan's ``lav_mvnorm_missing_h1_estimate_moments`` so that the
    numbers agree with lavaan to rounding: start at the available-case means and (ML)
    variances with zero covariances; E-step fills each pattern's missing part with its
    regression on the observed part and adds the residual covariance; M-step
    ``mu = T1/N``, ``Sigma = T2/N - mu mu'``; when an eigenvalue of ``Sigma`` falls below
    1e-6 the diagonal is inflated by ``1e-8 max(diag Sigma)``. Checked against lavaan's
    ``lavInspect(fit, "sampstat.h1")`` and ``unrestricted.logl``.
    """
    if max_iter < 1:
        raise EstimationError(f"max_iter must be at least 1, got {max_iter!r}")
    n = mp.nobs
    mu0, sigma0 = _start(mp)
    mu, sigma = mu0, sigma0
    prepared = _prepare(mp)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - iteration count reported
        t1, t2 = _estep(prepared, mu, sigma)
        mu = t1 / n
        sigma = t2 / n - np.outer(mu, mu)
        sigma = 0.5 * (sigma + sigma.T)
        if np.linalg.eigvalsh(sigma).min() < 1e-6:
            sigma = sigma + np.eye(mu.size) * (np.diag(sigma).max() * 1e-8)
        r, c = np.tril_indices(mu.size)
        delta = max(np.abs(mu - mu0).max(), np.abs(sigma[r, c] - sigma0[r, c]).max())
        if delta < tol:
            converged = True
            break
        mu0, sigma0 = mu, sigma
    if not converged and warn:
        warnings.warn(
            f"EM for the saturated model did not converge in {max_iter} iterations",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    return SaturatedMoments(mu, sigma, fiml_loglik(mp, mu, sigma), it, converged)
