"""Parity of radsem's SEM engine with lavaan 0.6-14 (computed live through rpy2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import radsem
from radsem.datasets import load
from radsem.datasets.example_models import HOLZINGER_SWINEFORD_CFA, POLITICAL_DEMOCRACY_SEM  # noqa: E402

HS_MODEL = HOLZINGER_SWINEFORD_CFA
PD_MODEL = POLITICAL_DEMOCRACY_SEM
FIT_KEYS = [
    "npar",
    "fmin",
    "chisq",
    "df",
    "pvalue",
    "baseline.chisq",
    "baseline.df",
    "cfi",
    "tli",
    "nnfi",
    "rfi",
    "nfi",
    "pnfi",
    "ifi",
    "rni",
    "logl",
    "unrestricted.logl",
    "aic",
    "bic",
    "ntotal",
    "bic2",
    "rmsea",
    "rmsea.ci.lower",
    "rmsea.ci.upper",
    "rmsea.pvalue",
    "rmr",
    "rmr_nomean",
    "srmr",
    "srmr_bentler",
    "srmr_bentler_nomean",
    "crmr",
    "srmr_mplus",
    "cn_05",
    "gfi",
    "agfi",
    "pgfi",
    "mfi",
    "ecvi",
]


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return load("HolzingerSwineford1939")


def _compare(fit, model, data, func, std=False, skip=(), **options):
    from _sem_reference import lavaan_fit, lavaan_std

    lpe, lfm, lfit = lavaan_fit(model, data, func, **options)
    pe = fit.parameter_estimates()
    lpe = lpe[lpe["op"] != "=="].reset_index(drop=True)
    if "group" not in lpe:
        lpe["group"] = 1
    key = ["lhs", "op", "rhs", "group"]
    pe = pe.assign(group=np.where(pe["op"] == ":=", 1, pe["group"]))
    lpe = lpe.assign(group=np.where(lpe["op"] == ":=", 1, lpe["group"]))
    merged = pe.merge(lpe, on=key, suffixes=("", "_r"), how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    np.testing.assert_allclose(merged["est"], merged["est_r"], atol=5e-4)
    free = merged["se_r"] > 0
    np.testing.assert_allclose(merged.loc[free, "se"], merged.loc[free, "se_r"], rtol=1e-3)
    if std:  # standardizedSolution() is slow in R: checked on a few models only
        lstd = lavaan_std(lfit)
        if "group" not in lstd:
            lstd["group"] = 1
        lstd = lstd.assign(group=np.where(lstd["op"] == ":=", 1, lstd["group"]))
        ms = pe.merge(lstd[key + ["est.std"]], on=key)
        np.testing.assert_allclose(ms["std_all"], ms["est.std"], atol=1e-4)
    fm = fit.fit_measures()
    keys = [
        k
        for k in FIT_KEYS
        if k in lfm.index
        and np.isfinite(lfm[k])
        and not (k.startswith("cn_") and lfm["df"] == 0)
        and k not in skip
    ]
    np.testing.assert_allclose(
        fm[keys].to_numpy(float), lfm[keys].to_numpy(float), rtol=1e-3, atol=1e-8, err_msg=str(keys)
    )
    return merged, fm, lfm


@pytest.mark.parametrize("estimator", ["ML", "GLS", "ULS"])
def test_hs_cfa_estimators(r_lavaan, hs, estimator):
    fit = radsem.cfa(HS_MODEL, hs, estimator=estimator)
    assert fit.converged
    _compare(fit, HS_MODEL, hs, "cfa", estimator=estimator)


def test_hs_cfa_std_lv_observed_information(r_lavaan, hs):
    fit = radsem.cfa(HS_MODEL, hs, std_lv=True, information="observed")
    _compare(fit, HS_MODEL, hs, "cfa", std_lv=True, information="observed")


def test_political_democracy_equality_labels(r_lavaan):
    data = load("PoliticalDemocracy")
    fit = radsem.sem(PD_MODEL, data)
    merged, fm, lfm = _compare(fit, PD_MODEL, data, "sem", std=True)
    assert fm["df"] == 38
    assert fm["npar"] == lfm["npar"]


def test_multigroup_loadings_intercepts(r_lavaan, hs):
    opts = {"group": "school", "group_equal": ["loadings", "intercepts"]}
    fit = radsem.cfa(HS_MODEL, hs, **opts)
    _, fm, lfm = _compare(fit, HS_MODEL, hs, "cfa", **opts)
    assert fm["df"] == lfm["df"]
    assert fit.spec.group_labels == ("Pasteur", "Grant-White")  # lavaan: order of appearance


def test_growth_with_covariates(r_lavaan):
    model = """
    i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
    s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4
    i ~ x1 + x2
    s ~ x1 + x2
    """
    data = load("Demo.growth")
    fit = radsem.growth(model, data)
    _compare(fit, model, data, "growth")


def test_mediation_defined_parameters(r_lavaan, rng):
    n = 200
    x = rng.normal(size=n)
    m = 0.5 * x + rng.normal(size=n)
    y = 0.4 * m + 0.2 * x + rng.normal(size=n)
    data = pd.DataFrame({"x": x, "m": m, "y": y})
    model = "m ~ a*x\ny ~ b*m + c*x\nab := a*b\ntotal := c + a*b"
    fit = radsem.sem(model, data)
    merged, _, _ = _compare(fit, model, data, "sem", std=True)
    ab = merged[merged["lhs"] == "ab"].iloc[0]
    assert ab["se"] > 0
    assert abs(ab["est"] - ab["est_r"]) < 1e-8


def test_inequality_constraint_active(r_lavaan, hs):
    model = HS_MODEL.replace("x8 + x9", "b1*x8 + b2*x9") + "\nb1 < 1.0\nb2 < 0.9\n"
    fit = radsem.cfa(model, hs)
    assert fit.converged
    pe = fit.parameter_estimates()
    assert pe.loc[pe["label"] == "b2", "est"].iloc[0] == pytest.approx(0.9, abs=1e-6)
    _compare(fit, model, hs, "cfa")


def test_mlr_complete_data(r_lavaan, hs):
    fit = radsem.cfa(HS_MODEL, hs, estimator="MLR")
    _, fm, lfm = _compare(fit, HS_MODEL, hs, "cfa", estimator="MLR")
    for key in ("chisq.scaled", "chisq.scaling.factor", "cfi.robust", "rmsea.robust"):
        assert fm[key] == pytest.approx(lfm[key], rel=1e-4)


def test_fiml_missing_values(r_lavaan, hs):
    rng = np.random.default_rng(3)
    data = hs.copy()
    for v in ["x1", "x2", "x4", "x5", "x7", "x8"]:
        data.loc[rng.random(len(data)) < 0.15, v] = np.nan
    fit = radsem.cfa(HS_MODEL, data, missing="ml")
    # lavaan's GFI with missing data uses another weight matrix (ours differs by < 0.2%)
    _, fm, lfm = _compare(fit, HS_MODEL, data, "cfa", missing="ml", skip=("gfi", "agfi", "pgfi"))
    assert fm["logl"] == pytest.approx(lfm["logl"], rel=1e-7)


MORE_CASES = {
    "higher_order": (
        HS_MODEL + "g =~ visual + textual + speed\n",
        "HolzingerSwineford1939",
        "cfa",
        {},
    ),
    "nonlinear_equality": (
        "visual =~ x1 + a*x2 + b*x3\ntextual =~ x4 + x5 + x6\na == b^2",
        "HolzingerSwineford1939",
        "cfa",
        {},
    ),
    "group_partial": (
        "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6",
        "HolzingerSwineford1939",
        "cfa",
        {
            "group": "school",
            "group_equal": ["loadings", "intercepts", "residuals"],
            "group_partial": ["visual=~x2", "x3~1"],
        },
    ),
    "group_labels_c": (
        "visual =~ x1 + c(a, a)*x2 + c(b, b)*x3\ntextual =~ x4 + x5 + x6",
        "HolzingerSwineford1939",
        "cfa",
        {"group": "school"},
    ),
    "latent_on_observed_std_lv": (
        "dem60 =~ y1 + y2 + y3 + y4\ndem60 ~ x1 + x2",
        "PoliticalDemocracy",
        "sem",
        {"std_lv": True},
    ),
    "path_fixed_x_false": (
        "y1 ~ x1 + x2\ny5 ~ y1 + x1",
        "PoliticalDemocracy",
        "sem",
        {"fixed_x": False},
    ),
}


@pytest.mark.parametrize("case", sorted(MORE_CASES))
def test_more_models(r_lavaan, case):
    model, dataset, func, options = MORE_CASES[case]
    data = load(dataset)
    fit = getattr(radsem, func)(model, data, **options)
    assert fit.converged
    _compare(fit, model, data, func, **options)


@pytest.mark.parametrize("method", ["regression", "bartlett"])
def test_factor_scores(r_lavaan, hs, method):
    import rpy2.robjects as ro
    from _sem_reference import lavaan_fit

    fit = radsem.cfa(HS_MODEL, hs)
    _, _, lfit = lavaan_fit(HS_MODEL, hs, "cfa")
    predict = ro.r("function(f, m) lavaan::lavPredict(f, method = m)")  # constant R code
    expected = np.array(predict(lfit, method))
    np.testing.assert_allclose(fit.predict(method).to_numpy(), expected, atol=1e-4)
