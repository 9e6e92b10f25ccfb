"""Bad inputs raise DataError with clear messages; separation warns; Firth fit checked against a
direct numerical maximisation of the penalised partial likelihood."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.optimize import minimize

from radsem.errors import ConvergenceWarning, DataError
from radsem.survival import cox, cox_zph, kaplan_meier, logrank


@pytest.fixture
def small(rng):
    n = 40
    df = pd.DataFrame({"x": rng.normal(size=n), "g": rng.integers(0, 2, n)})
    df["time"] = rng.exponential(1.0, n)
    df["event"] = rng.binomial(1, 0.7, n)
    return df


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d.assign(time=-d.time), "negative"),
        (lambda d: d.assign(time=d.time.where(d.index > 0)), "time column 'time' has 1 missing"),
        (lambda d: d.assign(event=d.event * 2), "coded 0"),
        (lambda d: d.assign(event=0), "no events"),
        (lambda d: d.assign(x=d.x.where(d.index > 2)), "missing='drop'"),
        (lambda d: d.assign(x=1.0), "constant"),
        (lambda d: d.assign(time="a"), "must be numeric"),
    ],
)
def test_cox_bad_inputs(small, change, match):
    with pytest.raises(DataError, match=match):
        cox(change(small), "time", "event", ["x", "g"])


def test_other_bad_inputs(small):
    before = small.copy()
    with pytest.raises(DataError, match="not found"):
        cox(small, "time", "event", ["nope"])
    with pytest.raises(DataError, match="too few"):
        cox(small.iloc[:2], "time", "event", ["x", "g"])
    with pytest.raises(DataError, match="ties"):
        cox(small, "time", "event", ["x"], ties="exact")
    with pytest.raises(DataError, match="conf_type"):
        kaplan_meier(small, "time", "event", conf_type="arcsin")
    with pytest.raises(DataError, match="single level"):
        logrank(small.assign(g=1), "time", "event", "g")
    with pytest.raises(DataError, match="collinear"):
        cox(small.assign(z=2 * small.x + 1), "time", "event", ["x", "z"])
    with pytest.raises(DataError, match="level"):
        cox(small, "time", "event", ["g"], categorical={"g": 7})
    pd.testing.assert_frame_equal(small, before)  # inputs never modified


def _separated(rng):
    n = 50
    df = pd.DataFrame({"x": rng.normal(size=n), "g": (rng.random(n) < 0.4).astype(int)})
    df["time"] = rng.exponential(1 / np.exp(0.5 * df.x))
    df["event"] = rng.binomial(1, 0.8, n) * df.g  # only g = 1 has events: monotone likelihood
    return df


def test_separation_warns_and_firth_is_finite(rng):
    df = _separated(rng)
    with pytest.warns(ConvergenceWarning, match="g grow without bound"):
        cox(df, "time", "event", ["x", "g"], ties="breslow")
    fit = cox(df, "time", "event", ["x", "g"], firth=True)
    assert fit.firth
    assert np.all(np.isfinite(fit.params))
    assert 1 < fit.params["g"] < 8
    hr = fit.hazard_ratios()
    assert (hr["ci_lower"] < hr["hr"]).all()
    assert (hr["hr"] < hr["ci_upper"]).all()
    # independent check: brute-force Breslow likelihood and information, Nelder-Mead
    X, t, e = df[["x", "g"]].to_numpy(), df.time.to_numpy(), df.event.to_numpy() == 1
    at_risk = t[None, :] >= t[e][:, None]

    def loglik(b):
        eta = X @ b
        return eta[e].sum() - np.log((at_risk * np.exp(eta)[None, :]).sum(1)).sum()

    def info(b):  # textbook Breslow information: sum of risk-set covariances of x
        prob = at_risk * np.exp(X @ b)[None, :]
        prob /= prob.sum(1, keepdims=True)
        mean = prob @ X
        return np.einsum("ej,jp,jq->pq", prob, X, X) - mean.T @ mean

    def penalised(b):
        return loglik(b) + 0.5 * np.linalg.slogdet(info(b))[1]

    opt = minimize(
        lambda b: -penalised(b),
        np.zeros(2),
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-11, "maxiter": 3000},
    )
    np.testing.assert_allclose(fit.params, opt.x, atol=2e-3)
    assert fit.loglik[1] == pytest.approx(penalised(fit.params.to_numpy()), abs=1e-4)
    assert fit.loglik[1] >= -opt.fun - 1e-4
    # profile limits: the profiled penalised likelihood drops by chi2(1, 0.95)/2 there
    from radsem.survival.firth import _maximise

    rs = fit._fit["risk_sets"]
    for bound in ("ci_lower", "ci_upper"):
        b0 = fit.params.to_numpy().copy()
        b0[0] = np.log(hr.loc["x", bound])
        prof = _maximise(rs, b0, np.array([False, True]))[1]
        assert fit.loglik[1] - prof == pytest.approx(3.841458820694124 / 2, abs=1e-4)
    # penalised likelihood-ratio p-value of x: profile at beta_x = 0
    b0 = fit.params.to_numpy().copy()
    b0[0] = 0.0
    ll0 = _maximise(rs, b0, np.array([False, True]))[1]
    expected_p = stats.chi2.sf(2 * (fit.loglik[1] - ll0), 1)
    assert fit.summary.loc["x", "p"] == pytest.approx(expected_p, rel=1e-5)


def test_firth_gradient_matches_finite_differences(rng):
    from scipy.optimize import check_grad

    from radsem.survival.firth import firth_terms

    fit = cox(_separated(rng), "time", "event", ["x", "g"], firth=True)
    rs = fit._fit["risk_sets"]
    err = check_grad(
        lambda b: firth_terms(rs, b)[0], lambda b: firth_terms(rs, b)[1], np.array([0.3, 1.2])
    )
    assert err < 1e-4


def test_firth_penalised_information_is_minus_hessian(rng):
    """The Newton matrix equals minus the Jacobian of the analytic penalised score."""
    from radsem.survival.firth import firth_information, firth_terms

    fit = cox(_separated(rng), "time", "event", ["x", "g"], firth=True)
    rs = fit._fit["risk_sets"]
    for beta in (np.array([0.3, 1.2]), np.array([-0.5, 2.5])):
        info = firth_terms(rs, beta)[2]
        h = 1e-5
        jac = np.array(
            [
                (firth_terms(rs, beta + h * e)[1] - firth_terms(rs, beta - h * e)[1]) / (2 * h)
                for e in np.eye(2)
            ]
        )
        np.testing.assert_allclose(firth_information(rs, beta, info), -jac, rtol=1e-6, atol=1e-8)
    assert fit.n_iter <= 15  # quadratic convergence near the optimum


def test_prediction_properties(lung):
    fit = cox(lung, "time", "dead", ["age", "sex", "ph.ecog"], missing="drop")
    pred = fit.predict_survival(lung.dropna(subset=["ph.ecog"]).head(20), [50, 200, 400, 800])
    assert (np.diff(pred.to_numpy(), axis=1) <= 0).all()  # curves decrease
    risk = fit.predict_risk(lung.dropna(subset=["ph.ecog"]).head(20))
    order = np.argsort(risk.to_numpy())
    assert (np.diff(pred.iloc[order, 1].to_numpy()) <= 1e-12).all()  # higher risk, lower S
    with pytest.raises(DataError, match="unpenalised"):
        cox_zph(cox(lung, "time", "dead", ["age"], penalizer=1.0))


def test_categorical_reference_level(veteran):
    fit = cox(veteran, "time", "status", ["celltype"], categorical={"celltype": "large"})
    assert "celltype[T.squamous]" in fit.params.index
    assert "celltype[T.large]" not in fit.params.index
    km = kaplan_meier(veteran, "time", "status", "trt")
    assert km.at_risk([0, 100]).loc[1.0, 0.0] == (veteran.trt == 1).sum()


def test_ridge_with_more_features_than_rows(rng):
    from radsem.survival._coxcore import cox_terms

    n, p = 30, 40
    df = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"f{i}" for i in range(p)])
    df["time"] = rng.exponential(1.0, n)
    df["event"] = rng.binomial(1, 0.7, n)
    fit = cox(df, "time", "event", [f"f{i}" for i in range(p)], penalizer=3.0)
    beta = fit.params.to_numpy()
    terms = cox_terms(fit._fit["risk_sets"], beta, efron=True)
    np.testing.assert_allclose(terms.score - 3.0 * beta, 0.0, atol=1e-8)  # penalised score = 0
    np.testing.assert_allclose(
        terms.info, cox_terms(fit._fit["risk_sets"], beta, True, per_time=False).info, rtol=1e-10
    )
    with pytest.raises(DataError, match="too few"):
        cox(df, "time", "event", [f"f{i}" for i in range(p)])


@pytest.mark.parametrize("efron", [True, False])
def test_fast_information_equals_per_time_sums_with_ties(lung, efron):
    from radsem.survival._coxcore import cox_terms

    fit = cox(lung, "time", "dead", ["age", "sex", "ph.ecog"], missing="drop")
    rs = fit._fit["risk_sets"]
    assert rs.n_deaths.max() > 1  # lung has tied death times
    beta = fit.params.to_numpy() + 0.1
    slow, fast = cox_terms(rs, beta, efron), cox_terms(rs, beta, efron, per_time=False)
    np.testing.assert_allclose(fast.info, slow.info, rtol=1e-10)
    assert fast.loglik == pytest.approx(slow.loglik)
