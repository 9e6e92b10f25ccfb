"""Firth-penalised Cox checked with R survival (coxphf is not packaged in Debian).

R's ``coxph(..., ties = "breslow", init = b, control = coxph.control(iter.max = 0))`` returns the
Breslow log partial likelihood l(b) and the inverse information I(b)^-1 at ``b`` without moving.
From these R values alone, the Firth objective l*(b) = l(b) + 1/2 log det I(b) is evaluated around
radsem's estimate: its numerical gradient must vanish at the estimate, nearby points must be
lower, and at each profile-likelihood limit the profiled objective must sit chi2(1, .95)/2 below
the maximum with the nuisance coefficients at their (R-evaluated) conditional maximum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from radsem.survival import cox

_R_AT = """function(d, b, rhs) {
  f <- stats::as.formula(paste("survival::Surv(time, event) ~", rhs))
  fit <- survival::coxph(f, data = d, ties = "breslow", init = b,
                         control = survival::coxph.control(iter.max = 0))
  list(loglik = fit$loglik[2], var = fit$var, coef = stats::coef(fit))
}"""


class _RPenalised:
    """l*(b) evaluated by R survival (the formula uses only our own fixed covariate names)."""

    def __init__(self, frame: pd.DataFrame, covariates: list[str]):
        import rpy2.robjects as ro

        from radsem._r import to_r_dataframe

        self.ro = ro
        self.fun = ro.r(_R_AT)
        # covariates are renamed to fixed safe names: user strings never enter R code
        safe = {c: f"z{j}" for j, c in enumerate(covariates)}
        d = frame[["time", "event", *covariates]].rename(columns=safe)
        self.data = to_r_dataframe(d.reset_index(drop=True))
        self.rhs = ro.StrVector([" + ".join(safe.values())])
        self.calls = 0

    def __call__(self, b: np.ndarray) -> float:
        self.calls += 1
        res = self.fun(self.data, self.ro.FloatVector(np.asarray(b, float)), self.rhs)
        np.testing.assert_allclose(np.asarray(res.rx2("coef")), b, rtol=0, atol=1e-12)
        var = np.atleast_2d(np.asarray(res.rx2("var")))
        sign, logdet_var = np.linalg.slogdet(var)
        assert sign > 0
        return float(np.asarray(res.rx2("loglik"))[0]) - 0.5 * logdet_var


def _separated(seed: int = 0, n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.normal(size=n), "g": (rng.random(n) < 0.4).astype(int)})
    df["time"] = rng.exponential(1 / np.exp(0.5 * df.x))
    df["event"] = rng.binomial(1, 0.8, n) * df.g  # only g = 1 has events: monotone likelihood
    return df


def _lung(lung: pd.DataFrame) -> pd.DataFrame:
    d = lung.dropna(subset=["ph.ecog"]).rename(columns={"dead": "event", "ph.ecog": "ecog"})
    return d[["time", "event", "age", "sex", "ecog"]].reset_index(drop=True)


def _num_grad(f, b, scale):
    """Central differences with steps of 1e-3 standard errors; returns the gradient in
    standard-error units (d l* / d(b_j / se_j)), so covariates on any scale compare alike
    (a fixed step on age, SD 9 years, is dominated by the third-derivative error)."""
    g = np.empty(b.size)
    for j in range(b.size):
        e = np.zeros(b.size)
        e[j] = 1e-3 * scale[j]
        g[j] = (f(b + e) - f(b - e)) / 2e-3
    return g


def _check_maximum(frame, covariates, rng):
    fit = cox(frame, "time", "event", covariates, firth=True)
    beta = fit.params.to_numpy()
    r_pen = _RPenalised(frame, covariates)
    top = r_pen(beta)
    # the penalised log-likelihood radsem reports is R's l + 1/2 log det I at the estimate
    assert fit.loglik[1] == pytest.approx(top, abs=1e-9)
    se = fit.se.to_numpy()
    grad = _num_grad(r_pen, beta, se)
    assert np.max(np.abs(grad)) < 1e-6, grad
    # nearby points (coordinate steps and random directions) are lower
    for step in (1e-2, 0.5):  # in standard errors
        for j in range(beta.size):
            for sign in (-1, 1):
                b = beta.copy()
                b[j] += sign * step * se[j]
                assert r_pen(b) < top
        for _ in range(2):
            d = rng.normal(size=beta.size)
            assert r_pen(beta + step * se * d / np.linalg.norm(d)) < top
    return fit, r_pen, top


def _check_profile(fit, r_pen, top):
    """At each 95% profile limit: R's profiled l* is top - chi2/2 and the nuisance is optimal."""
    from radsem.survival.firth import _maximise

    crit = stats.chi2.ppf(0.95, 1) / 2
    rs = fit._fit["risk_sets"]
    hr = fit.hazard_ratios()
    p = len(fit.params)
    se = fit.se.to_numpy()
    for j, name in enumerate(fit.params.index):
        for bound in ("ci_lower", "ci_upper"):
            b0 = fit.params.to_numpy().copy()
            b0[j] = np.log(hr.loc[name, bound])
            free = np.ones(p, dtype=bool)
            free[j] = False
            b_prof = _maximise(rs, b0, free)[0]
            assert top - r_pen(b_prof) == pytest.approx(crit, abs=1e-5)
            if p > 1:  # the other coefficients maximise R's l* given b_j
                others = np.flatnonzero(free)

                def sub(v, b_prof=b_prof, others=others):
                    b = b_prof.copy()
                    b[others] = v
                    return r_pen(b)

                assert np.max(np.abs(_num_grad(sub, b_prof[others], se[others]))) < 1e-5


def test_firth_maximises_r_penalised_likelihood_separated(r_survival):
    rng = np.random.default_rng(1)
    frame = _separated()
    with pytest.warns(Warning, match="grow without bound"):  # the plain fit diverges
        cox(frame, "time", "event", ["x", "g"], ties="breslow")
    fit, r_pen, top = _check_maximum(frame, ["x", "g"], rng)
    assert 1 < fit.params["g"] < 8
    _check_profile(fit, r_pen, top)


def test_firth_maximises_r_penalised_likelihood_lung(r_survival, lung):
    rng = np.random.default_rng(2)
    frame = _lung(lung)
    fit, r_pen, top = _check_maximum(frame, ["age", "sex", "ecog"], rng)
    plain = cox(frame, "time", "event", ["age", "sex", "ecog"], ties="breslow")
    # no separation: Firth shrinks the estimates only slightly towards zero
    assert np.all(np.abs(fit.params - plain.params) < 0.05 * np.abs(plain.params) + 1e-3)
    _check_profile(fit, r_pen, top)
