"""Standard errors: expected/observed information, constraints, delta method for ``:=``."""

from __future__ import annotations

import numpy as np

from radsem.errors import EstimationError
from radsem.estimation.core.constraints import Constraints
from radsem.estimation.core.optimize import small_blas

__all__ = ["vcov_theta", "defined_values", "defined_vcov", "check_level"]


def check_level(level) -> float:
    """A confidence level strictly between 0 and 1 (else :class:`EstimationError`)."""
    if isinstance(level, bool) or not isinstance(level, int | float | np.floating):
        raise EstimationError(f"level must be a number between 0 and 1, got {level!r}")
    if not 0 < float(level) < 1:
        raise EstimationError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}")
    return float(level)


@small_blas
def vcov_theta(problem, theta: np.ndarray, information: str = "expected") -> np.ndarray:
    """Covariance matrix of the ``nfree`` parameters.

    ``V = K (K' I K)^-1 K' / N`` with ``I`` the per-case information (expected
    ``sum_g (n_g/N) Delta_g' W_g Delta_g`` or the observed Hessian of the fit function) and
    ``K`` a basis of the null space of the Jacobian of the equality constraints and active
    inequality constraints (lavaan's bordered information inverse).
    """
    ntotal = problem.ntotal
    if information == "expected" and getattr(problem.estimator, "name", "") in _LS:
        # lavaan: least-squares information weighted by n_g / N, divided by N - G (the
        # fit function's (n_g - 1) / N weights give the same with one group only)
        info, ntotal = _ls_information(problem, theta)
    else:
        info = problem.information(theta) if information == "expected" else problem.hessian(theta)
    cons: Constraints = problem.constraints
    k, _ = cons.active_basis(theta) if cons is not None else (np.eye(theta.size), 0)
    red = k.T @ info @ k
    inv = np.linalg.pinv(red, rcond=1e-12, hermitian=True)
    return k @ inv @ k.T / ntotal


_LS = ("GLS", "ULS")


def _ls_information(problem, theta: np.ndarray) -> tuple[np.ndarray, float]:
    saved = problem.weights
    problem.weights = problem.nobs / problem.ntotal
    try:
        info = problem.information(theta)
    finally:
        problem.weights = saved
    return info, problem.ntotal - len(problem.nobs)


def defined_values(spec, values: np.ndarray) -> dict[str, float]:
    """Values of the ``:=`` parameters given all parameter-row values."""
    if not spec.defined():
        return {}
    return spec.evaluate_defined(spec.label_values(values))


def defined_vcov(spec, model, theta: np.ndarray, vcov: np.ndarray):
    """Delta-method covariance of the ``:=`` parameters (central-difference Jacobian)."""
    names = [name for name, _ in spec.defined()]
    if not names:
        return names, np.zeros(0), np.zeros((0, 0))

    rows = dict(spec._label_rows)
    defined = spec.defined()

    def fn(th):
        vals = model.values(th)
        env = {name: float(vals[pos]) for name, pos in rows.items()}
        for name, expr in defined:
            env[name] = expr.evaluate(env)
        return np.array([env[n] for n in names])

    est = fn(theta)
    jac = Constraints.jacobian(fn, theta, eps=1e-7)
    return names, est, jac @ vcov @ jac.T
