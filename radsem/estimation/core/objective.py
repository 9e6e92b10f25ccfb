"""Discrepancy functions at the level of the moments ``(mu, Sigma)`` of one group.

Each estimator is a small object with

* ``value(stats, mu, sigma) -> float``: the group's discrepancy ``F_g``;
* ``gradient(stats, mu, sigma) -> ndarray``: ``dF_g / d(mu, vech Sigma)`` (``mu`` part only
  with a mean structure);
* ``weight(stats, mu, sigma) -> ndarray``: the (per case) h1 information / weight matrix used
  for Fisher scoring and for expected-information standard errors.

The total fit function is ``F = sum_g (n_g / N) F_g`` (lavaan's ``fmin``, including lavaan's
factor 1/2), and the standard test statistic is ``2 N F``. An estimator of another kind (FIML,
DWLS, ...) plugs in by providing the same three methods.
"""

from __future__ import annotations

import numpy as np

from radsem.estimation.core.matrices import vech_indices
from radsem.estimation.core.samplestats import SampleStats

__all__ = [
    "ML",
    "GLS",
    "ULS",
    "ESTIMATORS",
    "normal_weight",
    "normal_quadratic",
    "vech",
    "moment_vector",
]


def vech(a: np.ndarray) -> np.ndarray:
    """Lower triangle of ``a`` column by column (lavaan's ``lav_matrix_vech``)."""
    r, c = vech_indices(a.shape[0])
    return a[r, c]


def moment_vector(mu: np.ndarray, sigma: np.ndarray, meanstructure: bool) -> np.ndarray:
    """``(mu, vech Sigma)`` (or ``vech Sigma`` without mean structure)."""
    return np.concatenate([mu, vech(sigma)]) if meanstructure else vech(sigma)


def normal_weight(vinv: np.ndarray, meanstructure: bool) -> np.ndarray:
    """Normal-theory weight ``blockdiag(V^-1, 1/2 D'(V^-1 kron V^-1) D)``.

    With ``V = Sigma`` this is the expected (per case) information of the saturated normal
    model; with ``V = S`` it is the GLS weight matrix.
    """
    p = vinv.shape[0]
    r, c = vech_indices(p)
    w = vinv[np.ix_(r, r)] * vinv[np.ix_(c, c)] + vinv[np.ix_(r, c)] * vinv[np.ix_(c, r)]
    mult = np.where(r == c, 1.0, 2.0)
    w = 0.25 * w * mult[:, None] * mult[None, :]
    if not meanstructure:
        return w
    out = np.zeros((p + w.shape[0], p + w.shape[0]))
    out[:p, :p] = vinv
    out[p:, p:] = w
    return out


def normal_quadratic(vinv: np.ndarray, d: np.ndarray, meanstructure: bool) -> np.ndarray:
    """``Delta' W Delta`` for the normal-theory weight ``W`` of :func:`normal_weight`,
    without forming ``W``: ``Delta_mu' V^-1 Delta_mu + 1/2 tr(V^-1 dSigma_a V^-1 dSigma_b)``.

    Notes
    -----
    With ``V^-1 = L L'`` (Cholesky), ``tr(V^-1 A V^-1 B) = <L'AL, L'BL>`` (Frobenius), so the
    covariance part is ``1/2 M M'`` with row ``a`` of ``M`` the flattened ``L' dSigma_a L``
    (one symmetric rank-k product). Columns of ``Delta`` that are zero (parameters of other
    groups) are skipped.
    """
    p = vinv.shape[0]
    r, c = vech_indices(p)
    nm = p if meanstructure else 0
    q = d.shape[1]
    used = np.flatnonzero(np.any(d != 0.0, axis=0))
    du = d[:, used]
    k = used.size
    full = np.zeros((k, p, p))
    full[:, r, c] = du[nm:].T
    full[:, c, r] = du[nm:].T
    try:
        low = np.linalg.cholesky(vinv)
        m = (low.T @ full @ low).reshape(k, p * p)
        small = 0.5 * (m @ m.T)
    except np.linalg.LinAlgError:  # not positive definite: the plain trace form
        a = np.matmul(vinv, full)
        small = 0.5 * a.reshape(k, p * p) @ a.transpose(0, 2, 1).reshape(k, p * p).T
    if nm:
        small += du[:nm].T @ vinv @ du[:nm]
    if k == q:
        return small
    out = np.zeros((q, q))
    out[np.ix_(used, used)] = small
    return out


def _inv_logdet(sigma: np.ndarray) -> tuple[np.ndarray, float] | None:
    try:
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return None
    inv_l = np.linalg.inv(chol)
    return inv_l.T @ inv_l, 2.0 * float(np.log(np.diag(chol)).sum())


class ML:
    """Normal-theory maximum likelihood: ``F_g = 1/2 [log|Sigma| + tr(S Sigma^-1) - log|S| - p
    + (ybar - mu)' Sigma^-1 (ybar - mu)]``."""

    name = "ML"

    def __init__(self, meanstructure: bool) -> None:
        self.meanstructure = meanstructure

    def value(self, st: SampleStats, mu: np.ndarray, sigma: np.ndarray) -> float:
        """Discrepancy of one group; ``inf`` when ``Sigma`` is not positive definite."""
        res = _inv_logdet(sigma)
        if res is None:
            return np.inf
        sinv, logdet = res
        p = sigma.shape[0]
        f = logdet + float(np.sum(st.cov * sinv)) - st.logdet - p
        if self.meanstructure:
            d = st.mean - mu
            f += float(d @ sinv @ d)
        return 0.5 * f

    def gradient(self, st: SampleStats, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """Derivative with respect to ``(mu, vech Sigma)``."""
        sinv = np.linalg.inv(sigma)
        s = st.cov
        if self.meanstructure:
            d = st.mean - mu
            s = s + np.outer(d, d)
        g = 0.5 * (sinv - sinv @ s @ sinv)
        r, c = vech_indices(sigma.shape[0])
        gv = g[r, c] * np.where(r == c, 1.0, 2.0)
        if self.meanstructure:
            return np.concatenate([-(sinv @ d), gv])
        return gv

    def weight(self, st: SampleStats, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """Expected information of the saturated model at ``Sigma`` (per case)."""
        return normal_weight(np.linalg.inv(sigma), self.meanstructure)

    def quadratic(
        self, st: SampleStats, mu: np.ndarray, sigma: np.ndarray, d: np.ndarray
    ) -> np.ndarray:
        """``d' W d`` without forming ``W`` (fast path of :meth:`weight`)."""
        return normal_quadratic(np.linalg.inv(sigma), d, self.meanstructure)


class _LeastSquares:
    name = ""

    def __init__(self, meanstructure: bool) -> None:
        self.meanstructure = meanstructure
        self._cache: dict[int, np.ndarray] = {}

    def _w(self, st: SampleStats) -> np.ndarray:
        key = id(st)
        if key not in self._cache:
            self._cache[key] = self._make_weight(st)
        return self._cache[key]

    def _make_weight(self, st: SampleStats) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _resid(self, st, mu, sigma) -> np.ndarray:
        return moment_vector(st.mean, st.cov, self.meanstructure) - moment_vector(
            mu, sigma, self.meanstructure
        )

    def value(self, st: SampleStats, mu: np.ndarray, sigma: np.ndarray) -> float:
        """``1/2 e' W e`` with ``e`` the residual moment vector."""
        e = self._resid(st, mu, sigma)
        return 0.5 * float(e @ self._w(st) @ e)

    def gradient(self, st: SampleStats, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """``-W e``."""
        return -(self._w(st) @ self._resid(st, mu, sigma))

    def weight(self, st: SampleStats, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """The fixed weight matrix ``W``."""
        return self._w(st)


class GLS(_LeastSquares):
    """Normal-theory generalised least squares, ``W = blockdiag(S^-1, 1/2 D'(S^-1 kron S^-1)D)``."""

    name = "GLS"

    def _make_weight(self, st: SampleStats) -> np.ndarray:
        return normal_weight(np.linalg.inv(st.cov), self.meanstructure)

    def quadratic(
        self, st: SampleStats, mu: np.ndarray, sigma: np.ndarray, d: np.ndarray
    ) -> np.ndarray:
        """``d' W d`` without forming ``W``."""
        return normal_quadratic(np.linalg.inv(st.cov), d, self.meanstructure)


class ULS(_LeastSquares):
    """Unweighted least squares, ``W = I``."""

    name = "ULS"

    def quadratic(
        self, st: SampleStats, mu: np.ndarray, sigma: np.ndarray, d: np.ndarray
    ) -> np.ndarray:
        """``d' d``."""
        return d.T @ d

    def _make_weight(self, st: SampleStats) -> np.ndarray:
        p = st.cov.shape[0]
        k = p * (p + 1) // 2 + (p if self.meanstructure else 0)
        return np.eye(k)


ESTIMATORS = {"ML": ML, "GLS": GLS, "ULS": ULS}
