"""Parity with R survival 3.5 (values stored by tests/reference/make_survival_references.py).

R calls are in the generator script; e.g. lung: coxph(Surv(time, status) ~ age + sex + ph.ecog,
lung, robust=TRUE), cox.zph(fit), concordance(fit), survfit(fit, newdata=lung[c(1,5,9),]).
"""

from __future__ import annotations

import numpy as np
import pytest

from radsem.survival import cox, cox_zph, kaplan_meier, logrank

COEF, SE, P = dict(rtol=1e-6, atol=1e-8), dict(rtol=1e-4, atol=1e-7), dict(rtol=1e-4, atol=1e-8)


def test_lung_efron_robust(lung, refs):
    r = refs["lung_efron_robust"]
    fit = cox(lung, "time", "dead", ["age", "sex", "ph.ecog"], robust=True, missing="drop")
    np.testing.assert_allclose(fit.params, r["coef"], **COEF)
    np.testing.assert_allclose(fit.naive_se, r["se"], **SE)
    np.testing.assert_allclose(fit.robust_se, r["robust_se"], **SE)
    np.testing.assert_allclose(fit.summary["p"], r["p"], **P)
    np.testing.assert_allclose(fit.loglik, r["loglik"], rtol=1e-9)
    tests = fit.tests["statistic"]
    np.testing.assert_allclose(
        [tests["wald"], tests["score"], tests["likelihood_ratio"]],
        [r["wald"][0], r["score"][0], r["lrt"][0]],
        rtol=1e-6,
    )
    assert tests["robust_score"] == pytest.approx(r["robust_score"][0], rel=1e-6)
    assert fit.concordance.concordance == pytest.approx(r["concordance"][0], abs=1e-10)
    assert fit.concordance.std_err == pytest.approx(r["concordance_se"][0], rel=1e-6)
    for tr in ("km", "identity", "rank"):
        np.testing.assert_allclose(cox_zph(fit, tr)["chisq"], r[f"zph_{tr}"], rtol=1e-5)
    pred = fit.predict_survival(lung.iloc[[0, 4, 8]], [100, 300, 500])
    np.testing.assert_allclose(pred.to_numpy().ravel(), r["surv_pred"], rtol=1e-6)
    assert fit.n == 227
    assert fit.n_dropped == 1


def test_lung_breslow(lung, refs):
    r = refs["lung_breslow"]
    fit = cox(lung, "time", "dead", ["age", "sex", "ph.ecog"], ties="breslow", missing="drop")
    np.testing.assert_allclose(fit.params, r["coef"], **COEF)
    np.testing.assert_allclose(fit.se, r["se"], **SE)
    np.testing.assert_allclose(fit.loglik, r["loglik"], rtol=1e-9)
    pred = fit.predict_survival(lung.iloc[[0, 4, 8]], [100, 300, 500])
    np.testing.assert_allclose(pred.to_numpy().ravel(), r["surv_pred"], rtol=1e-6)


def test_veteran_strata_robust(veteran, refs):
    r = refs["veteran_strata"]
    fit = cox(veteran, "time", "status", ["trt", "karno", "age"], strata="celltype", robust=True)
    np.testing.assert_allclose(fit.params, r["coef"], **COEF)
    np.testing.assert_allclose(fit.naive_se, r["se"], **SE)
    np.testing.assert_allclose(fit.robust_se, r["robust_se"], **SE)
    np.testing.assert_allclose(fit.loglik, r["loglik"], rtol=1e-9)
    assert fit.concordance.concordance == pytest.approx(r["concordance"][0], abs=1e-10)
    assert fit.concordance.std_err == pytest.approx(r["concordance_se"][0], rel=1e-6)
    np.testing.assert_allclose(cox_zph(fit, "identity")["chisq"], r["zph_identity"], rtol=1e-5)
    np.testing.assert_allclose(cox_zph(fit, "km")["chisq"], r["zph_km"], rtol=1e-5)
    pred = fit.predict_survival(veteran.iloc[[0, 1, 2]], [10, 50, 100])
    np.testing.assert_allclose(pred.to_numpy().ravel(), r["surv_pred"], rtol=1e-6)


def test_veteran_categorical_breslow(veteran, refs):
    r = refs["veteran_celltype"]
    fit = cox(veteran, "time", "status", ["trt", "karno", "age", "celltype"], ties="breslow")
    assert list(fit.params.index[-3:]) == [
        "celltype[T.smallcell]",
        "celltype[T.adeno]",
        "celltype[T.large]",
    ]
    np.testing.assert_allclose(fit.params, r["coef"], **COEF)
    np.testing.assert_allclose(fit.se, r["se"], **SE)
    zph = cox_zph(fit)
    np.testing.assert_allclose(zph["chisq"], r["zph_km"], rtol=1e-5)
    np.testing.assert_array_equal(zph["df"], r["zph_df"])


def test_survdiff(lung, veteran, refs):
    r = refs["survdiff"]
    a = logrank(lung, "time", "dead", "sex")
    assert a.statistic == pytest.approx(r["lung_chisq"][0], rel=1e-8)
    np.testing.assert_allclose(a.table["observed"], r["lung_obs"])
    np.testing.assert_allclose(a.table["expected"], r["lung_exp"], rtol=1e-8)
    b = logrank(veteran, "time", "status", "trt", strata="celltype")
    assert b.statistic == pytest.approx(r["vet_chisq"][0], rel=1e-8)
    np.testing.assert_allclose(b.table["expected"], r["vet_exp"], rtol=1e-8)
    c = logrank(lung, "time", "dead", "sex", rho=1)
    assert c.statistic == pytest.approx(r["rho1_chisq"][0], rel=1e-8)
    np.testing.assert_allclose(c.table["expected"], r["rho1_exp"], rtol=1e-8)
    assert a.df == 1
    assert 0 < a.pvalue < 0.01


@pytest.mark.parametrize("conf_type", ["log", "log-log", "plain"])
def test_kaplan_meier(lung, refs, conf_type):
    r = refs[f"km_{conf_type}"]
    km = kaplan_meier(lung, "time", "dead", "sex", conf_type=conf_type)
    tab = km.table
    np.testing.assert_allclose(tab["time"], r["time"])
    np.testing.assert_allclose(tab["n_risk"], r["n_risk"])
    np.testing.assert_allclose(tab["surv"], r["surv"], rtol=1e-10)
    np.testing.assert_allclose(tab["std_err"], r["std_err"], rtol=1e-8)
    np.testing.assert_allclose(tab["lower"], r["lower"], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(tab["upper"], r["upper"], rtol=1e-8)
    np.testing.assert_allclose(km.median["median"], r["median"])
    np.testing.assert_allclose(km.median["ci_lower"], r["median_lower"])
    np.testing.assert_allclose(km.median["ci_upper"], r["median_upper"])
    assert np.all(np.diff(tab.loc[tab.group == 1, "surv"]) <= 0)  # monotone curve
    assert (tab["lower"] <= tab["surv"] + 1e-12).all()
    assert (tab["upper"] >= tab["surv"]).all()
