"""The joint likelihood: its pieces against independent references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _ls_data import ONE_FACTOR, one_factor_data

import radsem
from radsem.estimation.families.survival_outcome import latent_survival
from radsem.estimation.families.survival_outcome.data import piecewise_grid
from radsem.estimation.families.survival_outcome.joint import _torch_threads
from radsem.estimation.families.survival_outcome.likelihood import JointLikelihood
from radsem.estimation.families.survival_outcome.problem import build_problem


@pytest.fixture(scope="module")
def problem():
    return build_problem(ONE_FACTOR, one_factor_data())


def _likelihood(problem, pieces=4):
    grid = piecewise_grid(problem.time, problem.event, pieces)
    return JointLikelihood(
        problem.measurement, problem.node_terms, problem.covariates, problem.event, grid
    ), grid


def test_zero_effects_split_into_fiml_and_piecewise_exponential(problem):
    import torch

    lik, grid = _likelihood(problem)
    meas = problem.measurement
    z = meas.K.T @ (problem.sem_fit._theta - meas.theta0)
    gamma, alpha = np.array([0.3]), np.log([0.05, 0.08, 0.1, 0.12])
    psi = np.concatenate([z, [0.0], gamma, alpha])
    m_ll, s_ll = (float(v) for v in lik.parts(torch.as_tensor(psi)))
    # measurement part = radsem's FIML log-likelihood of the same SEM
    assert m_ll == pytest.approx(problem.sem_fit.fit_measures()["logl"], abs=1e-8)
    # survival part = an ordinary piecewise-exponential log-likelihood
    lp = problem.covariates @ gamma
    d = problem.event
    pe = np.sum(d * (alpha[grid.interval] + lp) - (grid.exposure @ np.exp(alpha)) * np.exp(lp))
    assert s_ll == pytest.approx(pe, abs=1e-8)


def test_measurement_loglik_matches_lavaan(problem, r_lavaan):
    from radsem.engines.lavaan import fit_lavaan

    data = one_factor_data()[["y1", "y2", "y3"]]
    data = data[data.notna().any(axis=1)]
    logl = float(fit_lavaan("f =~ y1 + y2 + y3", data, "sem", missing="ml").fit_measures()["logl"])
    lik, _ = _likelihood(problem)
    meas = problem.measurement
    z = meas.K.T @ (problem.sem_fit._theta - meas.theta0)
    psi = np.concatenate([z, [0.0], [0.0], np.zeros(4)])
    import torch

    assert float(lik.parts(torch.as_tensor(psi))[0]) == pytest.approx(logl, abs=1e-4)


def test_gradient_matches_finite_differences(problem):
    lik, _ = _likelihood(problem)
    meas = problem.measurement
    z = meas.K.T @ (problem.sem_fit._theta - meas.theta0)
    rng = np.random.default_rng(3)
    psi = np.concatenate([z, [0.4], [0.2], np.log([0.05, 0.08, 0.1, 0.12])])
    psi = psi + 0.02 * rng.standard_normal(len(psi))
    with _torch_threads():  # single-threaded as during a fit (fast on a busy machine)
        _, grad = lik.objective(psi)
        fd = np.zeros_like(psi)
        for k in range(len(psi)):
            e = np.zeros_like(psi)
            e[k] = 1e-6
            fd[k] = (lik.objective(psi + e)[0] - lik.objective(psi - e)[0]) / 2e-6
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7)


def _cox_data(n=80, seed=4):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2))
    t = rng.exponential(1 / np.exp(0.5 * x[:, 0] - 0.4 * x[:, 1]))
    c = rng.exponential(2.0, n)
    df = pd.DataFrame(
        {"age": x[:, 0], "x2": x[:, 1], "time": np.minimum(t, c), "event": (t <= c).astype(int)}
    )
    # censoring moved to the next event time (censored at or after the last event: to it),
    # so that every patient at risk over an interval between event times is exposed to all
    # of it: the piecewise-exponential profile likelihood is then Breslow's
    ev = np.sort(df.loc[df["event"] == 1, "time"].to_numpy())
    cens = df["event"] == 0
    idx = np.minimum(np.searchsorted(ev, df.loc[cens, "time"], side="left"), len(ev) - 1)
    df.loc[cens, "time"] = ev[idx]
    return df


def test_piecewise_at_every_event_time_is_breslow_cox():
    """With a cut at every event time (and censoring at event times) the piecewise-exponential
    profile likelihood is Breslow's partial likelihood (Holford 1976; Laird & Olivier 1981)."""
    df = _cox_data()
    cuts = np.unique(df.loc[df["event"] == 1, "time"])[:-1]
    fit = latent_survival("r =~ Surv(time, event)\nr ~ age + x2", df, baseline_cuts=cuts)
    ref = radsem.survival.cox(df, "time", "event", ["age", "x2"], ties="breslow")
    np.testing.assert_allclose(fit.coef.to_numpy(), ref.params.to_numpy(), atol=1e-6)
    se = fit.hazard_ratios()["se"].to_numpy()
    np.testing.assert_allclose(se, ref.se.to_numpy(), rtol=1e-4)


def test_piecewise_cox_matches_r_coxph(r_survival):
    import rpy2.robjects as ro

    from radsem._r import r_function, to_r_dataframe

    df = _cox_data()
    cuts = np.unique(df.loc[df["event"] == 1, "time"])[:-1]
    fit = latent_survival("r =~ Surv(time, event)\nr ~ age + x2", df, baseline_cuts=cuts)
    rfit = r_function("coxph", "survival")(
        ro.Formula("Surv(time, event) ~ age + x2"), data=to_r_dataframe(df), ties="breslow"
    )
    coef = np.asarray(ro.r["coef"](rfit))
    np.testing.assert_allclose(fit.coef.to_numpy(), coef, atol=1e-6)


def test_few_pieces_close_to_cox():
    df = _cox_data(200, 8)
    fit = latent_survival("r =~ Surv(time, event)\nr ~ age + x2", df, baseline_pieces=6)
    ref = radsem.survival.cox(df, "time", "event", ["age", "x2"])
    assert np.all(np.abs(fit.coef.to_numpy() - ref.params.to_numpy()) < 0.15 * ref.se.to_numpy())
