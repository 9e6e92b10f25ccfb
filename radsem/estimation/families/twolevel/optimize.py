"""Minimising a two-level objective: quasi-Newton (L-BFGS-B), then Newton steps.

The two-level likelihood has no closed-form expected information that the core's Fisher
scoring could use, so the minimum is found with L-BFGS-B on the analytic gradient and then
refined by BFGS steps started from the Hessian (central differences of the analytic gradient,
eigenvalues made positive; recomputed when the approximation stops making progress). Linear equality
constraints are removed by the core's ``theta = theta0 + K z``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from radsem.errors import EstimationError

__all__ = ["TwoLevelOptim", "minimise"]


@dataclass(frozen=True)
class TwoLevelOptim:
    """Outcome of :func:`minimise`."""

    theta: np.ndarray
    fmin: float
    converged: bool
    iterations: int
    message: str


class _Identity:
    def __init__(self, n: int) -> None:
        self.K = np.eye(n)

    def to_theta(self, z):
        return np.asarray(z, float)

    def to_z(self, theta):
        return np.asarray(theta, float)


def minimise(problem, theta_start: np.ndarray, gtol: float = 1e-9) -> TwoLevelOptim:
    """Minimise ``problem.fmin`` from ``theta_start``.

    ``problem`` has ``fmin``, ``gradient``, ``hessian``, ``nfree`` and ``constraints``
    (None or the core's :class:`Constraints`, linear equalities only).
    """
    cons = problem.constraints
    if cons is not None and cons.needs_slsqp:
        raise EstimationError(
            "inequality and nonlinear equality constraints are not supported in two-level "
            "models yet"
        )
    cons = cons if cons is not None else _Identity(problem.nfree)
    k = cons.K
    z = cons.to_z(theta_start)
    if not np.isfinite(problem.fmin(cons.to_theta(z))):
        raise EstimationError(
            "the starting values give a non-positive-definite within or between covariance "
            "matrix; give start values with start()"
        )

    def fun(zz):
        th = cons.to_theta(zz)
        f = problem.fmin(th)
        if not np.isfinite(f):
            return 1e20, np.zeros_like(zz)
        return f, k.T @ problem.gradient(th)

    res = optimize.minimize(
        fun, z, jac=True, method="L-BFGS-B", options={"maxiter": 5000, "gtol": 1e-9, "ftol": 1e-15}
    )
    z = res.x
    iters = int(res.nit)
    f, g = fun(z)
    hess = None  # BFGS approximation started from the (modified) finite-difference Hessian
    fresh = False
    for _ in range(500):
        if np.max(np.abs(g), initial=0.0) < gtol:
            break
        if hess is None:
            hess, fresh = _modified_hessian(problem, cons, z), True
        step = np.linalg.solve(hess, g)
        alpha = 1.0
        while alpha > 1e-10:
            f_new, g_new = fun(z - alpha * step)
            if f_new < f or (f_new <= f and np.abs(g_new).max() < np.abs(g).max()):
                break
            alpha *= 0.5
        else:
            if fresh:
                break
            hess = None  # the approximation went stale: a new Hessian
            continue
        s_vec, y_vec = -alpha * step, g_new - g
        sy = float(s_vec @ y_vec)
        if sy > 1e-12 * np.linalg.norm(s_vec) * np.linalg.norm(y_vec):
            hs = hess @ s_vec
            hess = hess - np.outer(hs, hs) / float(s_vec @ hs) + np.outer(y_vec, y_vec) / sy
        z, f, g = z - alpha * step, f_new, g_new
        fresh = False
        iters += 1
    theta = cons.to_theta(z)
    gmax = float(np.max(np.abs(g), initial=0.0))
    ok = bool(np.isfinite(f) and f < 1e19 and gmax < 1e-6)
    msg = "converged" if ok else f"did not converge (largest gradient {gmax:.3g})"
    return TwoLevelOptim(theta, float(f), ok, iters, msg)


def _modified_hessian(problem, cons, z: np.ndarray) -> np.ndarray:
    """The Hessian in ``z`` with its eigenvalues made positive (absolute values, floored)."""
    k = cons.K
    hz = k.T @ problem.hessian(cons.to_theta(z), stencil=3) @ k
    vals, vecs = np.linalg.eigh(0.5 * (hz + hz.T))
    vals = np.maximum(np.abs(vals), 1e-8 * max(1.0, np.abs(vals).max(initial=1.0)))
    return (vecs * vals) @ vecs.T
