"""FIML and MLR fits through the core's SemProblem, against lavaan 0.6-14 (live).

``cfa(HS model, data = HS with 20% MAR missing, missing = "ml", estimator = "MLR")`` and the
complete-data ``estimator = "MLR"`` fit: estimates (lavaan's optimiser stops at ~1e-6),
standard errors (ML: observed-information; MLR: Huber-White), chi-square, logl and every
``.scaled`` / ``.robust`` fit measure.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from test_missing_fixtures import HS_MODEL, hs_frame, hs_mar, lavaan_hs

problem_mod = pytest.importorskip("radsem.estimation.core.problem")

from radsem.estimation.core.optimize import minimize  # noqa: E402
from radsem.estimation.core.samplestats import sample_stats  # noqa: E402
from radsem.estimation.core.start import start_values  # noqa: E402
from radsem.estimation.missing.fiml import FIML  # noqa: E402
from radsem.estimation.robust.inference import robust_inference  # noqa: E402
from radsem.syntax import build_partable  # noqa: E402


@functools.lru_cache(maxsize=None)
def _fit(case: str):
    data, missing = (hs_mar(), "ml") if case == "mar20" else (hs_frame(), "listwise")
    spec = build_partable(
        HS_MODEL, list(data.columns), model_type="cfa", missing=missing, estimator="MLR"
    )
    st = sample_stats(data, spec.observed, missing=missing)
    prob = problem_mod.SemProblem(spec, [st], estimator=FIML() if missing == "ml" else "ML")
    theta0 = prob.model.theta_from_values(start_values(prob.model, [st], spec.std_lv))
    res = minimize(prob, theta0)
    p = len(spec.observed)
    df = p * (p + 1) // 2 + (p if spec.meanstructure else 0) - prob.nfree
    chisq = 2 * st.nobs * res.fmin
    return prob, res, chisq, df


def _free(ref):
    pt = ref.partable()
    return pt[pt["free"] > 0]


@pytest.mark.parametrize("case", ["complete", "mar20"])
def test_mlr_fit_matches_lavaan(r_lavaan, case):
    prob, res, chisq, df = _fit(case)
    ref = lavaan_hs(f"{case}-MLR")
    assert res.converged
    free = _free(ref)
    np.testing.assert_allclose(res.theta, free["est"].to_numpy(), atol=2e-5)
    fm = ref.fit_measures()
    assert chisq == pytest.approx(fm["chisq"], rel=1e-6)
    assert df == fm["df"]
    rob = robust_inference(prob, res.theta, chisq, df)
    np.testing.assert_allclose(np.sqrt(np.diag(rob.vcov)), free["se"].to_numpy(), rtol=1e-4)
    assert len(rob.fit_measures) == 32
    for key, val in rob.fit_measures.items():
        assert val == pytest.approx(fm[key], rel=1e-4, abs=1e-8), key


def test_fiml_logl_observed_se_and_robust_indices_for_ml(r_lavaan):
    """Plain ML with missing data: observed-information SEs and FIML-C (V6) indices."""
    prob, res, chisq, df = _fit("mar20")
    ref = lavaan_hs("mar20-MLR")  # same estimates and E.inv as the ML fit
    fm = ref.fit_measures()
    st = prob.stats[0]
    mu, sigma = prob.implied_moments(res.theta)[0]
    assert prob.estimator.loglik(st, mu, sigma) == pytest.approx(fm["logl"], abs=1e-6)
    assert prob.estimator.h1(st).logl == pytest.approx(fm["unrestricted.logl"], abs=1e-8)
    e_inv = np.array(ref.tech("inverted.information"))
    se_ref = np.sqrt(np.diag(e_inv) / st.nobs)
    se = np.sqrt(np.diag(np.linalg.inv(prob.hessian(res.theta))) / st.nobs)
    np.testing.assert_allclose(se, se_ref, rtol=1e-4)
    rob = robust_inference(prob, res.theta, chisq, df, scaled=False)
    assert rob.vcov is None
    assert set(rob.fit_measures) == {
        "cfi.robust",
        "tli.robust",
        "nnfi.robust",
        "rni.robust",
        "rmsea.robust",
        "rmsea.ci.lower.robust",
        "rmsea.ci.upper.robust",
        "rmsea.pvalue.robust",
        "rmsea.notclose.pvalue.robust",
    }
    assert rob.fit_measures["cfi.robust"] > 0.8


def test_fiml_on_complete_data_equals_ml(rng):
    """Property: without missing values FIML and ML give the same estimates and chi-square."""
    data = hs_frame().iloc[:150]
    spec = build_partable(HS_MODEL, list(data.columns), model_type="cfa", missing="ml")
    st = sample_stats(data, spec.observed, missing="ml")
    out = []
    for est in (FIML(), "ML"):
        prob = problem_mod.SemProblem(spec, [st], estimator=est)
        theta0 = prob.model.theta_from_values(start_values(prob.model, [st], spec.std_lv))
        res = minimize(prob, theta0)
        out.append((res.theta, res.fmin))
    np.testing.assert_allclose(out[0][0], out[1][0], atol=1e-6)
    assert out[0][1] == pytest.approx(out[1][1], rel=1e-8)


def test_multigroup_fiml_mlr_with_equal_loadings_matches_lavaan(r_lavaan):
    """Two groups, 20% MAR missing, loadings equal across groups, MLR: everything."""
    import rpy2.robjects as ro
    from test_missing_fixtures import HS_VARS, LavaanRef

    from radsem.datasets import load
    from radsem.estimation.core.samplestats import group_split

    data = hs_mar()
    data.insert(0, "school", load("HolzingerSwineford1939")["school"].to_numpy())
    labels, frames = group_split(data, "school")
    spec = build_partable(
        HS_MODEL,
        HS_VARS,
        model_type="cfa",
        ngroups=2,
        group_labels=labels,
        missing="ml",
        estimator="MLR",
        group_equal=("loadings",),
    )
    stats = [sample_stats(f, spec.observed, "ml") for f in frames]
    prob = problem_mod.SemProblem(spec, stats, FIML())
    res = minimize(prob, prob.model.theta_from_values(start_values(prob.model, stats, False)))
    chisq = 2 * prob.ntotal * res.fmin
    ref = LavaanRef(
        "cfa",
        HS_MODEL,
        data,
        estimator="MLR",
        missing="ml",
        group="school",
        group_equal=ro.StrVector(["loadings"]),
    )
    fm = ref.fit_measures()
    assert chisq == pytest.approx(fm["chisq"], rel=1e-6)
    free = _free(ref)
    np.testing.assert_allclose(res.theta, free["est"].to_numpy(), atol=5e-5)
    rob = robust_inference(prob, res.theta, chisq, fm["df"])
    np.testing.assert_allclose(np.sqrt(np.diag(rob.vcov)), free["se"].to_numpy(), rtol=2e-4)
    for key, val in rob.fit_measures.items():
        assert val == pytest.approx(fm[key], rel=1e-4, abs=1e-8), key
