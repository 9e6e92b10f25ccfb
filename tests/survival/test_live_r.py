"""Live parity with R survival through rpy2 (skipped without R): the stored references still
match R, and a simulated weighted, tied, stratified data set matches coxph / concordance."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radsem.survival import cox, cox_zph

GENERATOR = Path(__file__).resolve().parents[1] / "reference" / "make_survival_references.py"


def test_stored_references_match_live_r(r_survival, refs):
    import rpy2.robjects as ro

    spec = importlib.util.spec_from_file_location("make_survival_references", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    CASES = module.CASES

    ro.globalenv["lung"] = ro.r("survival::lung")
    ro.globalenv["veteran"] = ro.r("survival::veteran")
    res = ro.r(CASES["veteran_strata"])
    np.testing.assert_allclose(
        np.asarray(res.rx2("coef")), refs["veteran_strata"]["coef"], rtol=1e-10
    )


def test_weighted_ties_efron_matches_r(r_survival, rng):
    import rpy2.robjects as ro

    from radsem._r import to_r_dataframe

    n = 120
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.binomial(1, 0.4, n).astype(float),
            "w": rng.integers(1, 4, n).astype(float),
            "g": rng.integers(0, 2, n).astype(float),
        }
    )
    t = rng.exponential(1 / np.exp(0.5 * df.x1 - 0.7 * df.x2))
    df["time"] = np.ceil(np.minimum(t, rng.exponential(1.5, n)) * 8)  # many ties
    df["event"] = (t <= df["time"] / 8).astype(float)
    fit = cox(df, "time", "event", ["x1", "x2"], weights="w", strata="g", robust=True)
    ro.globalenv["d"] = to_r_dataframe(df)
    res = ro.r("""local({f <- survival::coxph(survival::Surv(time, event) ~ x1 + x2 +
                  strata(g), d, weights = w, robust = TRUE)
                  list(coef = coef(f), se = sqrt(diag(f$var)), zph = cox.zph(f)$table[, 1])})""")
    np.testing.assert_allclose(fit.params, np.asarray(res.rx2("coef")), rtol=1e-6)
    np.testing.assert_allclose(fit.robust_se, np.asarray(res.rx2("se")), rtol=1e-4)
    np.testing.assert_allclose(cox_zph(fit)["chisq"], np.asarray(res.rx2("zph")), rtol=1e-5)


def test_cluster_and_ridge_match_r(r_survival, lung):
    import rpy2.robjects as ro

    from radsem._r import to_r_dataframe

    d = lung.dropna(subset=["ph.ecog"]).reset_index(drop=True)
    d["inst"] = d["inst"].fillna(0)
    fit = cox(d, "time", "dead", ["age", "sex"], cluster="inst")
    ridge = cox(d, "time", "dead", ["age", "sex"], penalizer=2.0)
    ro.globalenv["d"] = to_r_dataframe(d)
    res = ro.r("""local({f <- survival::coxph(survival::Surv(time, dead) ~ age + sex, d,
                  cluster = inst)
                  g <- survival::coxph(survival::Surv(time, dead) ~ ridge(age, sex, theta = 2,
                       scale = FALSE), d)
                  list(se = sqrt(diag(f$var)), ridge = coef(g))})""")
    np.testing.assert_allclose(fit.robust_se, np.asarray(res.rx2("se")), rtol=1e-4)
    np.testing.assert_allclose(ridge.params, np.asarray(res.rx2("ridge")), rtol=1e-5)
    assert fit.summary["robust se"].notna().all()
    assert pytest.approx(fit.params.to_numpy()) == cox(d, "time", "dead", ["age", "sex"]).params
