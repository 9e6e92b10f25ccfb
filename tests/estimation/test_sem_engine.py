"""Engine properties that need no R: gradient, Jacobian, positive definiteness, bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

import radsem
from radsem.datasets import load
from radsem.errors import DataError, EstimationError, ImproperSolutionWarning
from radsem.estimation.core.objective import moment_vector

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
PD_REG = "ind60 =~ x1 + x2 + x3\ndem60 =~ y1 + y2 + y3 + y4\ndem60 ~ ind60\ny1 ~ x1"


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return load("HolzingerSwineford1939")


@pytest.fixture(scope="module")
def hs_fit(hs):
    return radsem.cfa(HS_MODEL, hs, group="school", meanstructure=True)


@pytest.mark.parametrize("estimator", ["ML", "GLS", "ULS"])
def test_analytic_gradient_matches_finite_differences(hs, estimator, rng):
    fit = radsem.sem(PD_REG, load("PoliticalDemocracy"), estimator=estimator, meanstructure=True)
    prob = fit._problem
    theta = fit._theta + rng.normal(scale=0.05, size=fit._theta.size)
    err = optimize.check_grad(prob.fmin, prob.gradient, theta, epsilon=1e-7)
    assert err < 1e-5 * max(1.0, np.linalg.norm(prob.gradient(theta)))


def test_delta_matches_finite_differences(hs_fit, rng):
    prob = hs_fit._problem
    theta = hs_fit._theta + rng.normal(scale=0.05, size=hs_fit._theta.size)
    delta = prob.delta(theta)
    eps = 1e-6
    for k in range(theta.size):
        e = np.zeros(theta.size)
        e[k] = eps
        up, lo = prob.implied_moments(theta + e), prob.implied_moments(theta - e)
        for g in range(len(delta)):
            num = (moment_vector(*up[g], True) - moment_vector(*lo[g], True)) / (2 * eps)
            np.testing.assert_allclose(delta[g][:, k], num, atol=1e-6)


def test_solution_is_stationary_and_implied_pd(hs_fit):
    prob = hs_fit._problem
    grad = prob.gradient(hs_fit._theta)
    assert np.max(np.abs(grad)) < 1e-6
    for item in hs_fit.implied():
        assert np.linalg.eigvalsh(item["cov"].to_numpy()).min() > 0
        assert set(item) == {"cov", "mean"}


def test_outputs_shapes_and_immutability(hs_fit):
    pe = hs_fit.parameter_estimates()
    assert list(pe.columns[:13]) == [
        "lhs",
        "op",
        "rhs",
        "group",
        "label",
        "est",
        "se",
        "z",
        "pvalue",
        "ci_lower",
        "ci_upper",
        "std_lv",
        "std_all",
    ]
    assert set(pe["group"]) == {1, 2}
    scores = hs_fit.predict()
    assert scores.shape == (301, 4)
    bart = hs_fit.predict("bartlett")
    assert np.corrcoef(scores["visual"], bart["visual"])[0, 1] > 0.95
    res = hs_fit.residuals("cor")[0]["cov"].to_numpy()
    assert np.allclose(np.diag(res), 0, atol=1e-6)
    text = hs_fit.summary()
    assert "Latent Variables:" in text
    assert "Intercepts:" in text
    with pytest.raises(AttributeError, match="immutable"):
        hs_fit.converged = False


def test_defined_parameter_delta_method(rng):
    n = 300
    x = rng.normal(size=n)
    m = 0.6 * x + rng.normal(size=n)
    y = 0.5 * m + rng.normal(size=n)
    fit = radsem.sem("m ~ a*x\ny ~ b*m\nab := a*b", pd.DataFrame({"x": x, "m": m, "y": y}))
    pe = fit.parameter_estimates().set_index("label")
    a, b = pe.loc["a", "est"], pe.loc["b", "est"]
    assert pe.loc["ab", "est"] == pytest.approx(a * b)
    sa, sb = pe.loc["a", "se"], pe.loc["b", "se"]
    # slopes of different equations: independent estimates, Sobel formula
    assert pe.loc["ab", "se"] == pytest.approx(np.sqrt(b**2 * sa**2 + a**2 * sb**2), rel=1e-4)


def test_unknown_variable(hs):
    with pytest.raises(DataError, match="x99"):
        radsem.cfa("f =~ x1 + x2 + x99", hs)


def test_non_numeric_column(hs):
    data = hs.assign(x1=hs["x1"].astype(str))
    with pytest.raises(DataError, match="not numeric"):
        radsem.cfa(HS_MODEL, data)


def test_too_few_rows(hs):
    with pytest.raises(DataError, match="too few"):
        radsem.cfa(HS_MODEL, hs.head(5))


def test_all_missing_column(hs):
    data = hs.assign(x3=np.nan)
    with pytest.raises(DataError, match="no observed values"):
        radsem.cfa(HS_MODEL, data)


def test_singular_covariance(hs):
    data = hs.assign(x3=hs["x1"] + hs["x2"])
    with pytest.raises(DataError, match="not positive definite"):
        radsem.cfa(HS_MODEL, data)


def test_listwise_deletion_is_reported(hs):
    data = hs.copy()
    data.loc[:9, "x4"] = np.nan
    with pytest.warns(radsem.errors.DataWarning, match="10 of 301 rows"):
        fit = radsem.cfa(HS_MODEL, data)
    assert fit._problem.ntotal == 291
    assert data["x4"].isna().sum() == 10  # input untouched


def test_bad_options(hs):
    with pytest.raises(EstimationError, match="estimator"):
        radsem.cfa(HS_MODEL, hs, estimator="WLSMVX")
    with pytest.raises(DataError, match="DataFrame"):
        radsem.cfa(HS_MODEL, hs.to_numpy())


def test_improper_solution_warns(rng):
    n = 200
    f = rng.normal(size=n)
    data = pd.DataFrame(
        {
            "a": f + 0.01 * rng.normal(size=n),
            "b": 0.3 * f + rng.normal(size=n),
            "c": 0.3 * f + rng.normal(size=n),
        }
    )
    data["a"] = data["a"] * 3
    with pytest.warns(ImproperSolutionWarning, match="negative"):
        radsem.cfa("f =~ a + b + c", data)


def test_non_convergence_warns(hs, monkeypatch):
    import radsem.estimation.families.continuous.estimate as api
    from radsem.errors import ConvergenceWarning
    from radsem.estimation.core import optimize as opt

    def one_step(problem, start):
        res = opt.minimize(problem, start, max_iter=1)
        return opt.OptimResult(res.theta, res.fmin, False, 1, res.method, "iteration limit")

    monkeypatch.setattr(api, "minimize", one_step)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        fit = radsem.cfa(HS_MODEL, hs)
    assert not fit.converged


def test_bad_start_values_still_reach_the_solution(hs):
    # these start values make the implied covariance matrix indefinite
    model = HS_MODEL + "\nvisual ~~ start(5)*textual\ntextual ~~ start(-4)*speed"
    fit = radsem.cfa(model, hs)
    ref = radsem.cfa(HS_MODEL, hs)
    assert fit.converged
    key = ["lhs", "op", "rhs"]
    merged = fit.parameter_estimates().merge(ref.parameter_estimates(), on=key)
    assert len(merged) == 24
    np.testing.assert_allclose(merged["est_x"], merged["est_y"], atol=1e-6)
