"""Robust inference at the moment level against lavaan 0.6-14 (live through rpy2).

lavaan supplies only the model pieces radsem's core computes itself (``Delta`` and the
inverted information); every h1 matrix, the baseline model, the scaled statistics and all
``.scaled`` / ``.robust`` fit measures are radsem's and are compared with
``fitMeasures()`` and ``vcov()`` of ``cfa(HS model, estimator = "MLR")`` with complete data,
with 20% MAR missing values (``missing = "ml"``), and of ``missing = "ml"`` with plain ML.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_missing_fixtures import LavaanRef, hs_frame, hs_mar, lavaan_hs

from radsem.estimation.measures.indices import robust_fit_measures
from radsem.estimation.missing.em import em_saturated
from radsem.estimation.missing.likelihood import (
    fiml_information_firstorder,
    fiml_information_observed,
    missing_patterns,
)
from radsem.estimation.robust.baseline import baseline_fit, baseline_test, moment_block
from radsem.estimation.robust.fiml_correction import (
    complete_chisq,
    fiml_corrected,
    normal_information,
)
from radsem.estimation.robust.sandwich import (
    gamma_adf,
    robust_vcov,
    satorra_bentler,
    yuan_bentler_mplus,
)


def _ours(ref: LavaanRef, data, scaled: bool) -> tuple[dict, np.ndarray]:
    """radsem's robust quantities given lavaan's Delta and inverted information."""
    fm = ref.fit_measures()
    mp = missing_patterns(data.to_numpy())
    em = em_saturated(mp)
    delta = np.array(ref.tech("delta")[0])
    e_inv = np.array(ref.tech("inverted.information"))
    p = mp.nvar
    meanstructure = delta.shape[0] > p * (p + 1) // 2
    rows = moment_block(p, meanstructure)
    mu, sigma = ref.implied()
    mu = em.mean if mu is None else mu

    def sub(a):
        return a[np.ix_(rows, rows)]

    a1 = sub(fiml_information_observed(mp, em.mean, em.cov))
    b1_h1 = sub(fiml_information_firstorder(mp, em.mean, em.cov))
    b1_model = sub(fiml_information_firstorder(mp, mu, sigma))
    n = mp.nobs
    vcov, b0 = robust_vcov(e_inv, [delta], [b1_model], [n])
    base = baseline_fit(mp, meanstructure)
    bchisq, bdf, bpvalue, bscaled, _ = baseline_test([base], em.logl, [a1], [b1_h1], [n])
    out = {
        "baseline.chisq": bchisq,
        "baseline.df": bdf,
        "baseline.pvalue": bpvalue,
        "unrestricted.logl": em.logl,
    }
    chisq, df = fm["chisq"], fm["df"]
    test = None
    if scaled:
        test = yuan_bentler_mplus(chisq, df, [a1], [b1_h1], b0, e_inv, [n], delta.shape[1])
        out.update(
            {
                "chisq.scaled": test.stat,
                "pvalue.scaled": test.pvalue,
                "chisq.scaling.factor": test.scaling_factor,
                "scaling.factor.h1": test.scaling_factor_h1,
                "scaling.factor.h0": test.scaling_factor_h0,
                "baseline.chisq.scaled": bscaled.stat,
                "baseline.pvalue.scaled": bscaled.pvalue,
                "baseline.chisq.scaling.factor": bscaled.scaling_factor,
            }
        )
    fiml = None
    if not mp.complete:
        fiml = fiml_corrected(
            complete_chisq(n, em.mean, em.cov, mu, sigma),
            df,
            complete_chisq(n, em.mean, em.cov, base.mean, base.cov),
            bdf,
            [a1],
            [b1_h1],
            [normal_information(em.cov)],
            [delta],
            [base.delta],
            [n],
            version="V3" if scaled else "V6",
        )
    out.update(
        robust_fit_measures(chisq, df, test, bchisq, bdf, bscaled if scaled else None, n, 1, fiml)
    )
    return out, vcov


def _compare(ours: dict, ref: dict, rtol: float) -> float:
    worst = 0.0
    bad = []
    for key, val in ours.items():
        lav = ref[key]
        rel = abs(val - lav) / max(abs(lav), 1e-8)
        worst = max(worst, rel)
        if rel > rtol:
            bad.append(f"{key}: radsem {val:.10g}, lavaan {lav:.10g}")
    assert not bad, "\n".join(bad)
    return worst


@pytest.fixture
def mlr_complete(r_lavaan):
    return lavaan_hs("complete-MLR")


@pytest.fixture
def mlr_missing(r_lavaan):
    return lavaan_hs("mar20-MLR")


@pytest.mark.parametrize("case", ["complete", "mar20"])
def test_mlr_measures_and_vcov_match_lavaan(mlr_complete, mlr_missing, case):
    ref, data = (mlr_complete, hs_frame()) if case == "complete" else (mlr_missing, hs_mar())
    ours, vcov = _ours(ref, data, scaled=True)
    assert len(ours) == 34
    # RMSEA intervals: lavaan's uniroot stops at ~1e-4 in lambda, radsem solves exactly
    _compare(ours, ref.fit_measures(), rtol=2e-6)
    ref_vcov = np.array(ref._ro.r["vcov"](ref.fit))
    np.testing.assert_allclose(vcov, ref_vcov, rtol=1e-10, atol=1e-14)


def test_fiml_corrected_v6_matches_lavaan(mlr_missing):
    """Plain ML with missing data: lavaan's .robust indices use FIML-C version V6.

    The ML and MLR fits share estimates, Delta and the FIML-C information, so the MLR fit
    serves as the reference for lavaan's internal ``lav_fit_fiml_corrected(fit, "V6")``.
    """
    data = hs_mar()
    ref = mlr_missing.internal("lav_fit_fiml_corrected", mlr_missing.fit, "V6")
    ref = {k: float(np.array(ref.rx2(k))[0]) for k in ref.names}
    mp = missing_patterns(data.to_numpy())
    em = em_saturated(mp)
    mu, sigma = mlr_missing.implied()
    delta = np.array(mlr_missing.tech("delta")[0])
    base = baseline_fit(mp)
    a1 = fiml_information_observed(mp, em.mean, em.cov)
    b1 = fiml_information_firstorder(mp, em.mean, em.cov)
    n = mp.nobs
    fc = fiml_corrected(
        complete_chisq(n, em.mean, em.cov, mu, sigma),
        ref["df3"],
        complete_chisq(n, em.mean, em.cov, base.mean, base.cov),
        ref["df3.null"],
        [a1],
        [b1],
        [normal_information(em.cov)],
        [delta],
        [base.delta],
        [n],
        version="V6",
    )
    assert fc.c_hat3 == pytest.approx(ref["c.hat3"], rel=1e-9)
    assert fc.xx3 == pytest.approx(ref["XX3"], rel=1e-9)
    assert fc.xx3_scaled == pytest.approx(ref["XX3.scaled"], rel=1e-9)
    # the baseline is fitted by lavaan's optimiser, radsem's is exact
    assert fc.c_hat3_null == pytest.approx(ref["c.hat3.null"], rel=1e-6)
    assert fc.xx3_null == pytest.approx(ref["XX3.null"], rel=1e-6)


def test_gamma_and_satorra_bentler_match_lavaan_mlm(r_lavaan):
    data = hs_frame()
    ref = lavaan_hs("complete-MLM")
    x = data.to_numpy()
    gamma = gamma_adf(x, meanstructure=False)
    np.testing.assert_allclose(gamma, np.array(ref.inspect("gamma")), rtol=1e-10, atol=1e-12)
    delta = np.array(ref.tech("delta")[0])
    e_inv = np.array(ref.tech("inverted.information"))
    _, sigma = ref.implied()
    a1 = normal_information(sigma, meanstructure=False)
    fm = ref.fit_measures()
    test = satorra_bentler(fm["chisq"], fm["df"], [a1], [gamma], [delta], e_inv, [x.shape[0]])
    assert test.scaling_factor == pytest.approx(fm["chisq.scaling.factor"], rel=1e-8)
    assert test.stat == pytest.approx(fm["chisq.scaled"], rel=1e-8)


def test_multigroup_mlr_with_equal_loadings_matches_lavaan(r_lavaan):
    """Two groups, loadings equal across groups: sandwich SEs and every robust measure."""
    import rpy2.robjects as ro

    import radsem
    from radsem.datasets import load
    from radsem.estimation.robust.inference import robust_inference

    data = load("HolzingerSwineford1939")[["school", *[f"x{i}" for i in range(1, 10)]]]
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    fit = radsem.cfa(model, data, group="school", group_equal=["loadings"])
    fm = fit.fit_measures()
    rob = robust_inference(fit._problem, fit._theta, fm["chisq"], fm["df"])
    ref = LavaanRef(
        "cfa", model, data, estimator="MLR", group="school", group_equal=ro.StrVector(["loadings"])
    )
    pt = ref.partable()
    np.testing.assert_allclose(np.sqrt(np.diag(rob.vcov)), pt.loc[pt["free"] > 0, "se"], rtol=1e-4)
    lfm = ref.fit_measures()
    for key, val in rob.fit_measures.items():
        assert val == pytest.approx(lfm[key], rel=1e-4, abs=1e-8), key


def test_mlr_with_fixed_exogenous_covariates_matches_lavaan(r_lavaan):
    """fixed.x covariates: zero h1 rows, baseline keeps the covariate block (as lavaan)."""
    import radsem
    from radsem.estimation.robust.inference import robust_inference

    data = hs_frame()
    model = "textual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\ntextual ~ x1 + x2\nspeed ~ x1 + x3"
    fit = radsem.sem(model, data)
    assert fit.spec.exogenous == ("x1", "x2", "x3")
    fm = fit.fit_measures()
    rob = robust_inference(fit._problem, fit._theta, fm["chisq"], fm["df"])
    ref = LavaanRef("sem", model, data, estimator="MLR")
    pt = ref.partable()
    np.testing.assert_allclose(np.sqrt(np.diag(rob.vcov)), pt.loc[pt["free"] > 0, "se"], rtol=1e-4)
    lfm = ref.fit_measures()
    for key, val in rob.fit_measures.items():
        assert val == pytest.approx(lfm[key], rel=1e-5, abs=1e-8), key
