"""Minimising the fit function: Fisher scoring with step halving, then quasi-Newton fallback.

Fisher scoring (Gauss-Newton for GLS/ULS) uses the analytic gradient and the expected
information ``Delta' W Delta`` of :class:`SemProblem`; each step is halved until the fit
function decreases (and ``Sigma`` stays positive definite for ML). Linear equality
constraints are removed by ``theta = theta0 + K z``. Problems with inequality or nonlinear
equality constraints are solved with SLSQP on the analytic gradient. When scoring does not
converge, L-BFGS-B takes over from the best point and, if that fails too, from the starting
values (scoring may have drifted towards an improper solution at infinity).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from dataclasses import dataclass

import numpy as np
from scipy import optimize

try:  # installed with scikit-learn; without it BLAS keeps its own thread setting
    from threadpoolctl import ThreadpoolController
except ImportError:  # pragma: no cover - optional
    ThreadpoolController = None

__all__ = ["OptimResult", "minimize", "small_blas", "large_product"]

_BLAS = threading.local()
_CONTROLLER: list = []


def small_blas(func):
    """Run ``func`` with single-threaded BLAS (restored afterwards; nested calls pass through).

    SEM matrices are small (tens to a few hundred rows): a multi-threaded BLAS spends more on
    waking and synchronising its threads than it gains, and on a machine that is busy with
    other work a 54 x 301 by 301 x 54 product took 58 ms instead of 0.3 ms. Every heavy
    entry point of the engine (optimiser, standard errors, robust inference, EM, fit
    measures, modification indices) is wrapped; the cost of switching is about 40 us.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if ThreadpoolController is None or getattr(_BLAS, "active", False):
            return func(*args, **kwargs)
        if not _CONTROLLER:
            controller = ThreadpoolController()
            _CONTROLLER.append(controller)
            blas = [lib["num_threads"] for lib in controller.info() if lib["user_api"] == "blas"]
            _CONTROLLER.append(max(blas, default=1))
        _BLAS.active = True
        try:
            with _CONTROLLER[0].limit(limits=1, user_api="blas"):
                return func(*args, **kwargs)
        finally:
            _BLAS.active = False

    return wrapper


_MAX_DAMPED = 20


@contextlib.contextmanager
def large_product():
    """Inside :func:`small_blas`: the BLAS's own thread count again, for one large matrix
    product (e.g. the FIML information with many patterns, ``m x p^2`` by ``m x p^2``)."""
    if ThreadpoolController is None or not getattr(_BLAS, "active", False) or not _CONTROLLER:
        yield
        return
    with _CONTROLLER[0].limit(limits=_CONTROLLER[1], user_api="blas"):
        yield


@dataclass(frozen=True)
class OptimResult:
    """Outcome of the optimisation."""

    theta: np.ndarray
    fmin: float
    converged: bool
    iterations: int
    method: str
    message: str


def _scoring(problem, cons, z: np.ndarray, max_iter: int, tol: float):
    """Fisher scoring; close to the optimum the expected information is refined by BFGS
    updates (superlinear convergence also for misfitting models, where the expected
    information differs from the Hessian)."""
    theta = cons.to_theta(z)
    f = problem.fmin(theta)
    k = cons.K
    g = k.T @ problem.gradient(theta)
    hess = None
    it = 0
    damped = 0  # consecutive iterations whose step had to be cut to 1/8 or less
    for it in range(1, max_iter + 1):  # noqa: B007 - iteration count is reported
        if hess is None:
            hess = k.T @ problem.information(theta) @ k
        try:
            step = np.linalg.solve(hess + 1e-12 * np.eye(hess.shape[0]), g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hess, g, rcond=None)[0]
        decrement = float(g @ step)
        if not np.isfinite(decrement):
            return z, f, False, it
        if abs(decrement) < tol:
            return z, f, True, it
        alpha = 1.0
        while alpha > 1e-10:
            z_new = z - alpha * step
            theta_new = cons.to_theta(z_new)
            f_new = problem.fmin(theta_new)
            if np.isfinite(f_new) and f_new <= f + 1e-14 * max(1.0, abs(f)):
                break
            alpha *= 0.5
        else:
            return z, f, abs(decrement) < 1e3 * tol, it
        damped = damped + 1 if alpha <= 0.125 else 0
        if damped >= _MAX_DAMPED:
            # the expected information keeps mispredicting the fit function (typically the
            # iterates creep along a ridge): hand over to the quasi-Newton fallback
            return z_new, f_new, False, it
        g_new = k.T @ problem.gradient(theta_new)
        s_vec, y_vec = z_new - z, g_new - g
        sy = float(s_vec @ y_vec)
        if abs(decrement) < 1e-4 and alpha == 1.0 and sy > 1e-16:
            hs = hess @ s_vec
            hess = hess - np.outer(hs, hs) / float(s_vec @ hs) + np.outer(y_vec, y_vec) / sy
        else:
            hess = None  # back to the expected information
        z, theta, f, g = z_new, theta_new, f_new, g_new
    return z, f, False, it


def _lbfgs(problem, cons, z: np.ndarray):
    k = cons.K

    def fun(zz):
        th = cons.to_theta(zz)
        f = problem.fmin(th)
        if not np.isfinite(f):
            return 1e20, np.zeros_like(zz)
        return f, k.T @ problem.gradient(th)

    res = optimize.minimize(
        fun, z, jac=True, method="L-BFGS-B", options={"maxiter": 5000, "gtol": 1e-10, "ftol": 1e-15}
    )
    return res.x, float(res.fun), res.nit


def _slsqp(problem, cons, z: np.ndarray):
    k = cons.K if cons.linear else np.eye(z.size)

    def fun(zz):
        f = problem.fmin(cons.to_theta(zz))
        return f if np.isfinite(f) else 1e20

    def jac(zz):
        return k.T @ problem.gradient(cons.to_theta(zz))

    res = optimize.minimize(
        fun,
        z,
        jac=jac,
        method="SLSQP",
        constraints=cons.slsqp_constraints(),
        options={"maxiter": 2000, "ftol": 1e-14},
    )
    return res


@small_blas
def minimize(
    problem, theta_start: np.ndarray, max_iter: int = 500, tol: float = 1e-13
) -> OptimResult:
    """Minimise ``problem.fmin`` subject to ``problem.constraints``.

    Returns an :class:`OptimResult` with ``theta`` (all ``nfree`` parameters), ``fmin``,
    whether it converged, iterations used and the method.
    """
    cons = problem.constraints
    z0 = cons.to_z(theta_start)
    if cons.needs_slsqp:
        res = _slsqp(problem, cons, z0)
        theta = cons.to_theta(res.x)
        g = problem.gradient(theta)
        ok = (
            bool(res.success) and np.all(np.abs(cons.g(theta)) >= -1e-8)
            if cons.n_ineq
            else bool(res.success)
        )
        return OptimResult(
            theta,
            problem.fmin(theta),
            bool(ok and np.isfinite(g).all()),
            int(res.nit),
            "SLSQP",
            str(res.message),
        )
    if not np.isfinite(problem.fmin(cons.to_theta(z0))):
        z0 = cons.to_z(_feasible_start(problem, cons.to_theta(z0)))
    z, f, ok, it = _scoring(problem, cons, z0, max_iter, tol)
    method = "Fisher scoring"
    if not ok:
        # quasi-Newton from where scoring stopped; if scoring had wandered off (e.g. along a
        # ridge towards an improper solution at infinity) L-BFGS-B cannot come back from there,
        # so it also gets a fresh start from the starting values; the lower minimum wins
        best = None
        for origin in (z, z0):
            z1, _, it1 = _lbfgs(problem, cons, origin)
            cand = _scoring(problem, cons, z1, 100, tol)
            it += it1 + cand[3]
            if best is None or (cand[2], -cand[1]) > (best[2], -best[1]):
                best = cand
            if cand[2]:
                break
        z, f, ok, _ = best
        method = "Fisher scoring + L-BFGS-B"
    theta = cons.to_theta(z)
    gmax = float(np.max(np.abs(cons.K.T @ problem.gradient(theta)))) if theta.size else 0.0
    ok = ok and np.isfinite(f) and gmax < 1e-4
    msg = "converged" if ok else f"did not converge (largest gradient {gmax:.3g})"
    return OptimResult(theta, f, bool(ok), it, method, msg)


def _feasible_start(problem, theta: np.ndarray) -> np.ndarray:
    """Make the implied covariance positive definite: free covariances to 0 and paths
    shrunk towards 0 until the fit function is finite."""
    from radsem.errors import EstimationError

    model = problem.model
    kind = np.zeros(model.nfree, int)
    offdiag = np.zeros(model.nfree, bool)
    for gm in model.groups:
        free = model.par["free"].to_numpy(int)[gm.rows]
        sel = free > 0
        kind[free[sel] - 1] = gm.kind[sel]
        offdiag[free[sel] - 1] = (gm.kind[sel] == 1) & (gm.i[sel] != gm.j[sel])
    base = theta.copy()
    base[offdiag] = 0.0
    for shrink in 0.5 ** np.arange(12):
        trial = base.copy()
        trial[kind == 0] *= shrink
        if np.isfinite(problem.fmin(trial)):
            return trial
    raise EstimationError(
        "the starting values give a non-positive-definite implied covariance matrix; "
        "check fixed values or give start values with start()"
    )
