"""Joint maximum likelihood of the measurement model and the proportional-hazards outcome."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from radsem._warnings import user_stacklevel
from radsem.errors import ConvergenceWarning, ImproperSolutionWarning
from radsem.estimation.families.survival_outcome.data import piecewise_grid
from radsem.estimation.families.survival_outcome.likelihood import JointLikelihood
from radsem.estimation.families.survival_outcome.problem import LatentSurvivalProblem

__all__ = ["JointEstimate", "fit_joint", "piecewise_start"]


@dataclass
class JointEstimate:
    """The joint ML solution: packed parameters, their covariance, the likelihood object."""

    psi: np.ndarray
    vcov: np.ndarray
    loglik: float
    converged: bool
    message: str
    iterations: int
    likelihood: JointLikelihood


def piecewise_start(
    exposure: np.ndarray, interval: np.ndarray, event: np.ndarray, lp: np.ndarray
) -> np.ndarray:
    """Piecewise-exponential log hazards given a fixed linear predictor (closed form)."""
    k = exposure.shape[1]
    events = np.bincount(interval[event == 1], minlength=k).astype(float)
    risk = exposure.T @ np.exp(lp)
    return np.log(np.maximum(events, 0.5) / np.maximum(risk, 1e-300))


def _newton_polish(lik: JointLikelihood, psi: np.ndarray, steps: int = 6):
    """Newton steps with the exact Hessian at the L-BFGS-B solution (held fixed over the
    steps), then the Hessian at the final point (for the standard errors)."""
    ll = lik.loglik(psi)
    hess = lik.hessian(psi)
    for _ in range(steps):
        grad = -lik.objective(psi)[1] * lik.n
        try:
            step = np.linalg.solve(-hess, grad)
        except np.linalg.LinAlgError:
            break
        t, cand, new = 1.0, psi, ll
        while t > 1e-3:
            cand = psi + t * step
            new = lik.loglik(cand)
            if np.isfinite(new) and new >= ll - 1e-7:
                break
            t *= 0.5
        else:
            break
        psi, ll = cand, new
        if np.max(np.abs(t * step)) < 1e-8:
            break
    return psi, ll, lik.hessian(psi)


class _torch_threads:
    """Run torch single-threaded (small problems: thread start-up costs more than it saves
    on a busy machine); the previous setting is restored."""

    def __enter__(self):
        import torch

        self.before = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        import torch

        torch.set_num_threads(self.before)


def fit_joint(
    problem: LatentSurvivalProblem,
    start_coef: np.ndarray,
    *,
    baseline_pieces: int = 6,
    baseline_cuts=None,
    quadrature_points: int = 15,
    max_iter: int = 2000,
) -> JointEstimate:
    """Maximise the joint log-likelihood from the measurement MLE and two-step coefficients.

    Warns
    -----
    ConvergenceWarning
        The optimiser stopped without convergence, or the Hessian is not negative definite
        (standard errors then unavailable).
    """
    grid = piecewise_grid(problem.time, problem.event, baseline_pieces, baseline_cuts)
    lik = JointLikelihood(
        problem.measurement,
        problem.node_terms,
        problem.covariates,
        problem.event,
        grid,
        quadrature_points,
    )
    z0 = np.zeros(0)
    if problem.measurement is not None:
        meas = problem.measurement
        z0 = meas.K.T @ (problem.sem_fit.theta - meas.theta0)
    start_coef = np.asarray(start_coef, float)
    nn = len(problem.node_terms)
    psi = np.concatenate([z0, start_coef, np.zeros(grid.exposure.shape[1])])
    m, s2 = lik.linear_predictor_moments(psi)
    alpha0 = piecewise_start(grid.exposure, grid.interval, problem.event, m + 0.5 * s2)
    psi = np.concatenate([z0, start_coef[:nn], start_coef[nn:], alpha0])
    with _torch_threads():
        res = optimize.minimize(
            lik.objective,
            psi,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": int(max_iter), "maxcor": 30, "ftol": 1e-14, "gtol": 1e-9},
        )
        psi, ll, hess = _newton_polish(lik, res.x)
        _, grad = lik.objective(psi)
    grad = grad * lik.n
    evals = np.linalg.eigvalsh(-hess)
    pd_info = bool(evals.min() > 1e-10 * max(1.0, evals.max()))
    # Newton decrement g' I^-1 g: twice the log-likelihood still to gain (scale free); a
    # largest-gradient threshold was too strict for the quadrature's ~1e-6 rounding
    decrement = float(grad @ np.linalg.solve(-hess, grad)) if pd_info else np.inf
    converged = bool(np.isfinite(ll) and decrement < 1e-6)
    if not converged:
        warnings.warn(
            f"the joint likelihood did not converge ({res.message}; Newton decrement "
            f"{decrement:.2g}); estimates are not trustworthy",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    vcov = np.full((len(psi), len(psi)), np.nan)
    if pd_info:
        vcov = np.linalg.inv(-hess)
        vcov = 0.5 * (vcov + vcov.T)
    else:
        warnings.warn(
            "the observed information matrix of the joint model is not positive "
            f"definite (smallest eigenvalue {evals.min():.3g}): the model may not be "
            "identified; standard errors are not available",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    return JointEstimate(psi, vcov, float(ll), converged, str(res.message), int(res.nit), lik)


def check_improper(problem: LatentSurvivalProblem, theta: np.ndarray, stacklevel: int = 3) -> None:
    """``ImproperSolutionWarning`` for negative variances at the joint solution."""
    if problem.measurement is None:
        return
    ram = problem.measurement.ram
    par = ram.par
    values = ram.values(theta)
    var = (par["op"] == "~~").to_numpy() & (par["lhs"] == par["rhs"]).to_numpy()
    neg = [f"{par.at[k, 'lhs']}" for k in np.flatnonzero(var & (values < 0))]
    if neg:
        warnings.warn(
            f"negative variance estimate(s) for {', '.join(neg)}: the solution is improper",
            ImproperSolutionWarning,
            stacklevel=user_stacklevel(),
        )
