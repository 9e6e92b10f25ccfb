"""Gradient projection rotation (GPA) with random starts, promax, reflection and ordering.

:func:`gpa` minimises a rotation criterion ``Q(L)`` over orthogonal rotations ``L = A T``
(Jennrich, 2001, Psychometrika 66, 289-306) or oblique rotations ``L = A T^{-T}`` with
unit-length columns of ``T`` and factor correlations ``Phi = T'T`` (Jennrich, 2002,
Psychometrika 67, 7-19), by steepest descent projected on the manifold with step halving
(Bernaards & Jennrich, 2005). :func:`rotate` is the whole procedure lavaan documents for
``rotation.args``: optional standardisation of the rows by the model-implied standard
deviations (``std.ov``), row weights (Kaiser normalisation), ``rstarts`` random orthogonal
starts of which the best criterion value wins, promax, reflection of factors with a negative
loading sum and ordering of the factors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from radsem.errors import EstimationError
from radsem.estimation.rotation.criteria import Criterion, criterion

__all__ = ["GpaResult", "RotationResult", "gpa", "rotate", "random_rotation", "varimax_svd"]


@dataclass(frozen=True)
class GpaResult:
    """One GPA run: the rotation matrix ``T``, the criterion value, convergence."""

    T: np.ndarray
    value: float
    converged: bool
    iterations: int


@dataclass(frozen=True)
class RotationResult:
    """A rotated loading matrix.

    Attributes
    ----------
    loadings : ndarray (p, m)
        Rotated loadings ``A T^{-T}`` (oblique) or ``A T`` (orthogonal), reflected and
        ordered, on the scale of ``A``.
    phi : ndarray (m, m)
        Factor correlations (the identity for orthogonal rotations).
    rot : ndarray (m, m)
        The rotation matrix ``T`` (columns reflected and ordered like the loadings).
    order : ndarray of int
        Column order applied to the rotated factors.
    value : float
        Criterion value at the solution (NaN for promax).
    converged : bool
    iterations : int
    orthogonal : bool
    """

    loadings: np.ndarray
    phi: np.ndarray
    rot: np.ndarray
    order: np.ndarray
    value: float
    converged: bool
    iterations: int
    orthogonal: bool


def random_rotation(m: int, rng: np.random.Generator) -> np.ndarray:
    """A random orthogonal ``m x m`` matrix (Q of the QR decomposition of a normal matrix)."""
    q, _ = np.linalg.qr(rng.standard_normal((m, m)))
    return q


def gpa(
    A: np.ndarray,
    crit: Criterion,
    T: np.ndarray | None = None,
    *,
    orthogonal: bool = False,
    tol: float = 1e-5,
    max_iter: int = 10000,
) -> GpaResult:
    """Minimise ``crit`` over rotations of ``A`` from the start ``T`` (default identity).

    Stops when the Frobenius norm of the projected gradient is below ``tol`` (or when no
    step lowers the criterion any more, at machine precision: converged if the norm is below
    ``100 * tol``).
    """
    m = A.shape[1]
    T = np.eye(m) if T is None else np.array(T, dtype=float)
    if not orthogonal:
        T = T / np.sqrt((T * T).sum(axis=0))
    f, G = _value_gradient(A, T, crit, orthogonal)
    alpha = 1.0
    converged = False
    it = 0
    for it in range(max_iter + 1):  # noqa: B007 - the count is reported
        if orthogonal:
            M = T.T @ G
            Gp = G - T @ ((M + M.T) / 2.0)
        else:
            Gp = G - T * (T * G).sum(axis=0)
        s = float(np.sqrt((Gp * Gp).sum()))
        if s < tol:
            converged = True
            break
        alpha *= 2.0
        improved = False
        for _ in range(11):
            X = T - alpha * Gp
            if orthogonal:
                U, _, Vt = np.linalg.svd(X)
                Tt = U @ Vt
            else:
                Tt = X / np.sqrt((X * X).sum(axis=0))
            ft, Gt = _value_gradient(A, Tt, crit, orthogonal)
            if f - ft > 0.5 * s * s * alpha:
                improved = True
                break
            alpha /= 2.0
        if not improved and ft >= f:  # no descent left at machine precision
            converged = s < 100 * tol
            break
        T, f, G = Tt, ft, Gt
    return GpaResult(T, float(f), converged, it)


def _value_gradient(A, T, crit: Criterion, orthogonal: bool):
    """Criterion value and its gradient with respect to ``T``."""
    if orthogonal:
        f, Gq = crit(A @ T)
        return f, A.T @ Gq
    Ti = np.linalg.inv(T)
    L = A @ Ti.T
    f, Gq = crit(L)
    return f, -(L.T @ Gq @ Ti).T


def varimax_svd(x: np.ndarray, normalize: bool = True, eps: float = 1e-5):
    """Kaiser's varimax by the SVD iteration R's ``stats::varimax`` documents (start at the
    identity, stop when the sum of singular values grows by less than ``eps`` relative).

    Returns ``(loadings, rotmat)``; used by promax as in R.
    """
    p, m = x.shape
    sc = np.sqrt((x * x).sum(axis=1)) if normalize else np.ones(p)
    x = x / sc[:, None]
    TT = np.eye(m)
    d = 0.0
    for _ in range(1000):
        z = x @ TT
        B = x.T @ (z**3 - z * (z * z).sum(axis=0) / p)
        U, sv, Vt = np.linalg.svd(B)
        TT = U @ Vt
        dpast, d = d, float(sv.sum())
        if d < dpast * (1 + eps):
            break
    return (x @ TT) * sc[:, None], TT


def _promax(L: np.ndarray, kappa: float, normalize: bool):
    """Promax (Hendrickson & White, 1964) of ``L``: varimax, then an oblique least-squares
    fit to the loadings raised to the power ``kappa``. Returns ``(loadings, rotmat)`` with
    ``loadings = L @ rotmat``."""
    x, TT = varimax_svd(L, normalize)
    Q = x * np.abs(x) ** (kappa - 1)
    U = np.linalg.lstsq(x, Q, rcond=None)[0]
    d = np.diag(np.linalg.inv(U.T @ U))
    U = U * np.sqrt(d)
    return x @ U, TT @ U


def rotate(
    A: np.ndarray,
    method: str = "geomin",
    *,
    orthogonal: bool = False,
    method_args: dict | None = None,
    ov_var: np.ndarray | None = None,
    row_weights: str = "none",
    rstarts: int = 30,
    seed: int | None = 0,
    init: np.ndarray | None = None,
    reflect: bool = True,
    order_lv_by: str = "index",
    gpa_tol: float = 1e-5,
    polish_tol: float = 1e-7,
    max_iter: int = 10000,
) -> RotationResult:
    """Rotate the loadings ``A`` (variables x factors) as lavaan's ``rotation.args`` describe.

    Parameters
    ----------
    A : ndarray (p, m)
        Unrotated loadings.
    method : str
        A criterion of :func:`radsem.estimation.rotation.criteria.criterion` or ``"promax"``.
    orthogonal : bool
        Orthogonal (``Phi = I``) instead of oblique rotation.
    method_args : dict
        ``geomin_epsilon``, ``oblimin_gamma``, ``orthomax_gamma``, ``cf_gamma``,
        ``promax_kappa``, ``target``, ``target_mask``.
    ov_var : ndarray (p,), optional
        Model-implied variances of the variables: the rows are divided by their standard
        deviations before rotating (lavaan's ``std.ov = TRUE``) and multiplied back after.
    row_weights : {"none", "kaiser"}
        Kaiser normalisation: rows scaled to unit length while rotating.
    rstarts : int
        Random orthogonal starts; the run with the lowest criterion wins (0: start at the
        identity, or at ``init``).
    seed : int or None
        Seed of the random starts.
    init : ndarray (m, m), optional
        Start rotation (used when ``rstarts == 0``).
    reflect : bool
        Reflect factors whose loadings sum to a negative number.
    order_lv_by : {"index", "sumofsquares", "none"}
        ``"index"``: by the mean row index of the loadings within 80 % of the column's
        largest absolute loading; ``"sumofsquares"``: decreasing sum of squared loadings.
    gpa_tol : float
        Convergence tolerance of the projected gradient for the random starts.
    polish_tol : float
        The best start is continued to this tolerance, so the solution does not depend on
        the seed once the best minimum has been found.
    max_iter : int
        Iterations per GPA run.
    """
    A = np.asarray(A, dtype=float)
    p, m = A.shape
    args = dict(method_args or {})
    method = method.lower()
    if m < 2 or method == "none":
        return RotationResult(A.copy(), np.eye(m), np.eye(m), np.arange(m), 0.0, True, 0, True)
    sd = np.sqrt(np.asarray(ov_var, dtype=float)) if ov_var is not None else np.ones(p)
    Aw = A / sd[:, None]
    if row_weights == "kaiser":
        w = 1.0 / np.sqrt((Aw * Aw).sum(axis=1))
    elif row_weights == "none":
        w = np.ones(p)
    else:
        raise EstimationError(f"row_weights must be 'none' or 'kaiser', got {row_weights!r}")
    Aw = Aw * w[:, None]
    if method == "promax":
        orthogonal = False
        L0 = Aw / w[:, None]
        L, U = _promax(L0, float(args.get("promax_kappa", 4.0)), row_weights == "kaiser")
        T = np.linalg.inv(U).T  # L = L0 U = L0 T^{-T}
        value, converged, iterations = float("nan"), True, 0
    else:
        crit = criterion(method, (p, m), args)
        if rstarts > 0:
            rng = np.random.default_rng(seed)
            best = None
            for _ in range(int(rstarts)):
                run = gpa(
                    Aw,
                    crit,
                    random_rotation(m, rng),
                    orthogonal=orthogonal,
                    tol=gpa_tol,
                    max_iter=max_iter,
                )
                if best is None or run.value < best.value:
                    best = run
            start = best.T
        else:
            start = np.eye(m) if init is None else init
        res = gpa(Aw, crit, start, orthogonal=orthogonal, tol=polish_tol, max_iter=max_iter)
        T, value, converged, iterations = res.T, res.value, res.converged, res.iterations
        L = Aw @ T if orthogonal else Aw @ np.linalg.inv(T).T
        L = L / w[:, None]
    L = L * sd[:, None]
    if reflect:
        neg = L.sum(axis=0) < 0
        L[:, neg] *= -1
        T = T.copy()
        T[:, neg] *= -1
    phi = np.eye(m) if orthogonal else T.T @ T
    order = _order(L, order_lv_by)
    return RotationResult(
        L[:, order],
        phi[np.ix_(order, order)],
        T[:, order],
        order,
        value,
        converged,
        iterations,
        orthogonal,
    )


def _order(L: np.ndarray, how: str) -> np.ndarray:
    m = L.shape[1]
    if how == "none":
        return np.arange(m)
    if how == "sumofsquares":
        return np.argsort(-(L * L).sum(axis=0), kind="stable")
    if how == "index":
        a = np.abs(L)
        top = a.max(axis=0)
        idx = np.arange(1, L.shape[0] + 1)
        mean_index = np.array([idx[a[:, j] >= 0.8 * top[j]].mean() for j in range(m)])
        return np.argsort(mean_index, kind="stable")
    raise EstimationError(f"order_lv_by must be 'index', 'sumofsquares' or 'none', got {how!r}")
