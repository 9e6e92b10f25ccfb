"""Two-step estimators: factor scores into Cox (naive), regression calibration and plausible
values.

All three start from the measurement model fitted alone by FIML (``problem.sem_fit``,
estimate ``theta`` with covariance ``V_theta`` from the observed information).

* **naive**: Bartlett factor scores (unbiased for ``eta`` but carrying its measurement error)
  into a Cox model; patients without indicators of a latent variable are dropped. Reported
  for contrast: the error attenuates the hazard ratios.
* **regression calibration**: the posterior means ``E(eta | y_obs, x)`` (patients without
  expression get their prior mean given the covariates) into a Cox model. The variance adds
  the first-step uncertainty: ``V = V_cox + (1 + 1/M) B``, ``B`` the covariance of the
  calibration estimates over ``M`` draws ``theta_m ~ N(theta, V_theta)``.
* **plausible values**: ``M`` imputations of ``eta`` from its posterior given the indicators,
  the covariates *and the survival outcome* (imputation model: the measurement model at a
  draw ``theta_m`` and the regression-calibration Cox model at a draw of its coefficients,
  Breslow baseline), a Cox fit per imputation, combined by Rubin's rules
  (Mislevy 1991; Asparouhov & Muthen 2010). Imputing without the outcome would attenuate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from radsem.estimation.families.survival_outcome.posterior import (
    bartlett_scores,
    conditional_moments,
    ram_moments,
)
from radsem.estimation.families.survival_outcome.problem import LatentSurvivalProblem
from radsem.estimation.families.survival_outcome.quadrature import posterior_mode

__all__ = [
    "TwoStepEstimate",
    "naive",
    "regression_calibration",
    "plausible_values",
    "draw_theta",
    "breslow",
]


class TwoStepEstimate:
    """Coefficients of the survival regression and their covariance (written order)."""

    def __init__(self, coef: np.ndarray, vcov: np.ndarray, n_used: int, info: dict) -> None:
        self.coef = np.asarray(coef, float)
        self.vcov = np.asarray(vcov, float)
        self.n_used = int(n_used)
        self.info = dict(info)


def draw_theta(problem: LatentSurvivalProblem, rng: np.random.Generator, m: int) -> np.ndarray:
    """``m`` draws of the measurement parameters from ``N(theta, V_theta)`` (rows)."""
    fit = problem.sem_fit
    v = np.asarray(fit.vcov().to_numpy(), float)
    vals, vecs = np.linalg.eigh(0.5 * (v + v.T))
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    return fit.theta + rng.standard_normal((m, len(vals))) @ root.T


def _cox(problem: LatentSurvivalProblem, design: np.ndarray, rows=None):
    from radsem.survival import cox

    names = problem.node_names + problem.covariate_names
    cols = [f"x{k}" for k in range(len(names))]
    frame = pd.DataFrame(design, columns=cols)
    rows = np.arange(len(frame)) if rows is None else rows
    frame = frame.iloc[rows].assign(__t=problem.time[rows], __d=problem.event[rows])
    res = cox(frame, "__t", "__d", cols)
    return res.params.to_numpy(), res.cov.to_numpy()


def _node_means(problem: LatentSurvivalProblem, theta: np.ndarray):
    nu, omega = ram_moments(problem.measurement.ram, theta)
    return conditional_moments(nu, omega, problem.measurement.data, problem.node_terms)


def _design(problem: LatentSurvivalProblem, node_values: np.ndarray) -> np.ndarray:
    return np.column_stack([node_values.reshape(len(problem.time), -1), problem.covariates])


def naive(problem: LatentSurvivalProblem) -> TwoStepEstimate:
    """Bartlett factor scores (observed SEM variables as measured) into a Cox model."""
    theta = problem.sem_fit.theta
    data = problem.measurement.data
    scores = bartlett_scores(problem.measurement.ram, theta, data)
    p = data.shape[1]
    cols = [scores[:, j - p] if j >= p else data[:, j] for j in problem.node_terms]
    nodes = np.column_stack(cols) if cols else np.empty((len(data), 0))
    design = _design(problem, nodes)
    rows = np.flatnonzero(~np.isnan(design).any(axis=1))
    coef, cov = _cox(problem, design, rows)
    return TwoStepEstimate(coef, cov, len(rows), {"dropped": len(design) - len(rows)})


def regression_calibration(
    problem: LatentSurvivalProblem, draws: int = 20, seed: int | None = None
) -> TwoStepEstimate:
    """Posterior means ``E(v | y_obs, x)`` into a Cox model; first-step variance from
    ``draws`` parameter draws (``0``: Cox variance only)."""
    mean, _ = _node_means(problem, problem.sem_fit.theta)
    coef, cov = _cox(problem, _design(problem, mean))
    between = np.zeros_like(cov)
    if draws and draws > 1:
        rng = np.random.default_rng(seed)
        est = np.array(
            [
                _cox(problem, _design(problem, _node_means(problem, th)[0]))[0]
                for th in draw_theta(problem, rng, int(draws))
            ]
        )
        between = np.atleast_2d(np.cov(est, rowvar=False))
        cov = cov + (1.0 + 1.0 / draws) * between
    return TwoStepEstimate(
        coef, cov, len(problem.time), {"draws": int(draws or 0), "between": between}
    )


def breslow(time: np.ndarray, event: np.ndarray, lp: np.ndarray) -> np.ndarray:
    """Breslow baseline cumulative hazard ``H0(t_i)`` at every follow-up time."""
    order = np.argsort(time, kind="stable")
    t, d, r = time[order], event[order], np.exp(lp[order] - lp.max())
    risk = np.cumsum(r[::-1])[::-1]
    uniq, first = np.unique(t, return_index=True)
    dsum = np.add.reduceat(d, first)
    jumps = dsum / risk[first]
    cum = np.cumsum(jumps) * np.exp(-lp.max())
    return cum[np.searchsorted(uniq, time, side="right") - 1]


def _draw_u(rng, mean, var, d, h, grid: int = 241) -> np.ndarray:
    """Draws from ``p(u) ~ exp(d u - H e^u) N(u; mean, var)`` by inverse CDF on a grid."""
    sd = np.sqrt(np.maximum(var, 1e-300))
    ustar, sig = posterior_mode(mean, np.maximum(var, 1e-300), d, h)
    x = np.linspace(-8.0, 8.0, grid)
    u = ustar[:, None] + sig[:, None] * x
    logp = d[:, None] * u - h[:, None] * np.exp(u) - 0.5 * ((u - mean[:, None]) / sd[:, None]) ** 2
    w = np.exp(logp - logp.max(axis=1, keepdims=True))
    cdf = np.cumsum(w, axis=1)
    cdf /= cdf[:, -1:]
    pick = (cdf < rng.uniform(size=(len(mean), 1))).sum(axis=1)
    jitter = (rng.uniform(size=len(mean)) - 0.5) * (x[1] - x[0]) * sig
    return u[np.arange(len(mean)), np.minimum(pick, grid - 1)] + jitter


def plausible_values(
    problem: LatentSurvivalProblem,
    draws: int = 20,
    seed: int | None = None,
    start: TwoStepEstimate | None = None,
) -> TwoStepEstimate:
    """Plausible values of the SEM nodes in the survival regression, drawn given the outcome;
    Cox per draw; Rubin's rules."""
    if int(draws) < 2:
        from radsem.errors import EstimationError

        raise EstimationError("plausible values need at least 2 draws")
    rng = np.random.default_rng(seed)
    rc = start if start is not None else regression_calibration(problem, draws=0)
    nn = len(problem.node_terms)
    mean0, _ = _node_means(problem, problem.sem_fit.theta)
    lp_rc = _design(problem, mean0) @ rc.coef
    h0 = breslow(problem.time, problem.event, lp_rc)
    thetas = draw_theta(problem, rng, int(draws))
    root = np.linalg.cholesky(rc.vcov + 1e-12 * np.eye(len(rc.coef)))
    ests, covs = [], []
    for th in thetas:
        b = rc.coef + root @ rng.standard_normal(len(rc.coef))
        c, g = b[:nn], b[nn:]
        mu, cv = _node_means(problem, th)
        offset = problem.covariates @ g
        m = mu @ c
        cc = np.einsum("nij,j->ni", cv, c)
        s2 = np.maximum(cc @ c, 0.0)
        u = _draw_u(rng, m + offset, s2, problem.event, h0) - offset
        # v | u: Gaussian conditional on the linear combination c'v = u
        gain = cc / np.where(s2 > 1e-12, s2, np.inf)[:, None]
        cond_mean = mu + gain * (u - m)[:, None]
        cond_cov = cv - np.einsum("ni,nj->nij", cc, gain)
        eps = rng.standard_normal(mu.shape)
        vals, vecs = np.linalg.eigh(0.5 * (cond_cov + np.transpose(cond_cov, (0, 2, 1))))
        noise = np.einsum("nij,nj->ni", vecs, np.sqrt(np.clip(vals, 0, None)) * eps)
        coef, cov = _cox(problem, _design(problem, cond_mean + noise))
        ests.append(coef)
        covs.append(cov)
    ests = np.array(ests)
    within = np.mean(covs, axis=0)
    between = np.atleast_2d(np.cov(ests, rowvar=False))
    total = within + (1.0 + 1.0 / draws) * between
    return TwoStepEstimate(
        ests.mean(axis=0),
        total,
        len(problem.time),
        {"draws": int(draws), "within": within, "between": between},
    )
