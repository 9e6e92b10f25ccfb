"""Two-level SEM (``cluster=`` with ``level: 1`` / ``level: 2``) against lavaan 0.6-14.

lavaan's Demo.twolevel (shipped with lavaan, read through rpy2), the model of lavaan's
multilevel tutorial and a one-factor within model with a saturated between level (which
misfits, so RMSEA and SRMR are informative). Tolerances of issue 17: estimates 1e-4
absolute, standard errors and fit measures 1e-4 relative, intraclass correlations 1e-4.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

import radsem
from radsem.errors import DataError, EstimationError, ModelSyntaxError
from radsem.estimation.families.twolevel.measures import srmr_levels

TUTORIAL = """
    level: 1
        fw =~ y1 + y2 + y3
        fw ~ x1 + x2 + x3
    level: 2
        fb =~ y1 + y2 + y3
        fb ~ w1 + w2
"""

SATURATED_BETWEEN = """
level: within
  fw =~ y1 + y2 + y3 + y4 + y5 + y6
level: between
  y1 ~~ y1 + y2 + y3 + y4 + y5 + y6
  y2 ~~ y2 + y3 + y4 + y5 + y6
  y3 ~~ y3 + y4 + y5 + y6
  y4 ~~ y4 + y5 + y6
  y5 ~~ y5 + y6
  y6 ~~ y6
"""

# within-only outcome (x2), between-only outcome (w1), a variable of both levels with a
# within covariance only (y4), covariates at both levels
ROLES = """
level: 1
  fw =~ y1 + y2 + y3
  fw ~ x1
  x2 ~ fw
  y4 ~~ y1
level: 2
  fb =~ y1 + y2 + y3
  w1 ~ fb
  fb ~ w2
  y4 ~~ y4
"""

MEASURES = (
    "npar",
    "fmin",
    "chisq",
    "df",
    "pvalue",
    "baseline.chisq",
    "baseline.df",
    "cfi",
    "tli",
    "rmsea",
    "rmsea.ci.lower",
    "rmsea.ci.upper",
    "srmr",
    "srmr_within",
    "srmr_between",
    "logl",
    "unrestricted.logl",
    "aic",
    "bic",
    "bic2",
)


@pytest.fixture(scope="module")
def demo(r_lavaan) -> pd.DataFrame:
    import rpy2.robjects as ro

    frame = ro.r("lavaan::Demo.twolevel")
    return pd.DataFrame({n: np.asarray(frame.rx2(n)) for n in frame.names})


def _lavaan(model: str, extra: str = "") -> dict:
    import rpy2.robjects as ro

    ro.globalenv["radsem_model"] = model
    t0 = time.perf_counter()
    ro.r(
        "radsem_fit <- lavaan::sem(radsem_model, data = lavaan::Demo.twolevel, "
        f"cluster = 'cluster'{', ' + extra if extra else ''})"
    )
    seconds = time.perf_counter() - t0
    pe = ro.r("lavaan::parameterEstimates(radsem_fit, standardized = TRUE)")
    # lavaan's level column holds the labels as written ("within"); block is 1 / 2
    table = pd.DataFrame({n: np.asarray(pe.rx2(n)) for n in ("lhs", "op", "rhs", "est", "se")})
    table.insert(3, "level", np.asarray(pe.rx2("block")).astype(int))
    for col in ("std.lv", "std.all", "std.nox"):
        table[col] = np.asarray(pe.rx2(col))
    # lavaan's nlminb stops where its gradient is still ~1e-2 in log-likelihood units, which
    # leaves flat parameters (the between intercepts here) up to ~1e-4 from the optimum; one
    # Newton step with lavaan's own analytic gradient and Hessian lands on the maximum
    polished = np.asarray(
        ro.r(
            "lavaan::coef(radsem_fit) - solve(lavaan::lavInspect(radsem_fit, 'hessian'), "
            "lavaan::lavInspect(radsem_fit, 'gradient'))"
        )
    )
    free = np.asarray(ro.r("lavaan::parTable(radsem_fit)$free"))[: len(table)]
    table["est_newton"] = np.where(free > 0, polished[np.maximum(free, 1) - 1], table["est"])
    coef = np.asarray(ro.r("lavaan::coef(radsem_fit)"))
    se_free = np.sqrt(np.diag(np.asarray(ro.r("lavaan::vcov(radsem_fit)"))))
    fm = ro.r("lavaan::fitMeasures(radsem_fit)")
    icc = ro.r("lavaan::lavInspect(radsem_fit, 'icc')")
    return {
        "pe": table,
        "coef": coef,
        "se_free": se_free,
        "fm": dict(zip(fm.names, np.asarray(fm), strict=True)),
        "icc": pd.Series(np.asarray(icc), index=list(icc.names)),
        "seconds": seconds,
    }


@pytest.mark.parametrize(
    "model", [TUTORIAL, SATURATED_BETWEEN, ROLES], ids=["tutorial", "satbetween", "roles"]
)
def test_twolevel_matches_lavaan(demo, model):
    ref = _lavaan(model)
    fit = radsem.sem(model, demo, cluster="cluster")
    assert fit.converged
    ours = fit.parameter_estimates()
    key = ["lhs", "op", "rhs", "level"]
    ref_pe = ref["pe"].astype({"level": int})
    merged = ref_pe.merge(ours, on=key, suffixes=("_ref", ""), validate="1:1")
    assert len(merged) == len(ref_pe) == len(ours)
    np.testing.assert_allclose(merged["est"], merged["est_newton"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(merged["est"], merged["est_ref"], rtol=0, atol=2e-4)
    for col in ("std_lv", "std_all", "std_nox"):  # each level's implied variances
        np.testing.assert_allclose(merged[col], merged[col.replace("_", ".")], atol=2e-4)
    free = merged["se_ref"] > 0
    assert free.sum() == int(ref["fm"]["npar"])
    # at its optimum; at lavaan's own (early-stopped) estimates radsem's observed-information
    # SEs equal lavaan's to 1e-7; lavaan's stopping point moves them by up to ~1.3e-4
    np.testing.assert_allclose(merged.loc[free, "se"], merged.loc[free, "se_ref"], rtol=3e-4)
    se_at_lavaan = np.sqrt(np.diag(fit.vcov(theta=ref["coef"]).to_numpy()))
    np.testing.assert_allclose(se_at_lavaan, ref["se_free"], rtol=1e-7)
    assert (merged.loc[~free, "se"] == 0).all()
    fm = fit.fit_measures()
    for name in MEASURES:
        # the SRMRs are root mean squares of small differences of correlations: lavaan's
        # early optimiser stop (see est_newton) moves them by up to ~1e-5 absolute; at
        # lavaan's own estimates radsem's SRMRs equal lavaan's to 1e-8 (checked below)
        tol = {"rel": 5e-4, "abs": 2e-5} if name.startswith("srmr") else {"rel": 1e-4}
        assert fm[name] == pytest.approx(ref["fm"][name], **tol), name
    at_lavaan = fit.implied(theta=ref["coef"])
    h1 = fit.inspect("sampstat")
    srmr = srmr_levels(
        *(m[lev]["cov"].to_numpy() for lev in ("within",) for m in (h1, at_lavaan)),
        *(m[lev]["cov"].to_numpy() for lev in ("between",) for m in (h1, at_lavaan)),
    )
    assert srmr[0] == pytest.approx(ref["fm"]["srmr_within"], rel=1e-8)
    assert srmr[1] == pytest.approx(ref["fm"]["srmr_between"], rel=1e-8)
    icc = fit.inspect("icc")
    assert list(icc.index) == list(ref["icc"].index)
    np.testing.assert_allclose(icc.to_numpy(), ref["icc"].to_numpy(), rtol=0, atol=1e-4)


@pytest.mark.parametrize(
    "model", [TUTORIAL, SATURATED_BETWEEN, ROLES], ids=["tutorial", "satbetween", "roles"]
)
def test_twolevel_mlr_matches_lavaan(demo, model):
    """estimator="MLR": cluster-robust SEs, the Yuan-Bentler (Mplus) test, every .scaled and
    .robust fit measure lavaan reports."""
    ref = _lavaan(model, "estimator = 'MLR'")
    fit = radsem.sem(model, demo, cluster="cluster", estimator="MLR")
    merged = ref["pe"].merge(
        fit.parameter_estimates(), on=["lhs", "op", "rhs", "level"], suffixes=("_ref", "")
    )
    free = merged["se_ref"] > 0
    np.testing.assert_allclose(merged.loc[free, "se"], merged.loc[free, "se_ref"], rtol=3e-4)
    se_at_lavaan = np.sqrt(np.diag(fit.vcov(theta=ref["coef"]).to_numpy()))
    np.testing.assert_allclose(se_at_lavaan, ref["se_free"], rtol=1e-7)
    fm = fit.fit_measures()
    assert set(ref["fm"]) <= set(fm.index)
    for name, value in ref["fm"].items():
        if name.startswith("srmr"):  # see test_twolevel_matches_lavaan
            tol = {"rel": 5e-4, "abs": 2e-5}
        elif "pvalue" in name:  # tails of the statistics: more sensitive to lavaan's stop
            tol = {"rel": 5e-4, "abs": 1e-10}
        else:
            tol = {"rel": 1e-4, "abs": 1e-10}
        assert fm[name] == pytest.approx(value, **tol), name


def test_twolevel_mediation_with_a_covariate_of_both_levels_matches_lavaan(demo):
    """y1 is a fixed covariate at both levels (split into within and between parts: its
    moments are fixed, but its likelihood stays in logl, as lavaan); ':=' products per
    level with delta-method SEs."""
    model = """
    level: 1
      y2 ~ a*y1
      y3 ~ b*y2 + y1
    level: 2
      y2 ~ aa*y1
      y3 ~ bb*y2 + y1
    ind := a*b
    indb := aa*bb
    """
    ref = _lavaan(model)
    fit = radsem.sem(model, demo, cluster="cluster")
    merged = ref["pe"].merge(
        fit.parameter_estimates(), on=["lhs", "op", "rhs", "level"], suffixes=("_ref", "")
    )
    assert len(merged) == len(ref["pe"]) == 20
    np.testing.assert_allclose(merged["est"], merged["est_ref"], atol=2e-4)
    free = merged["se_ref"] > 0
    np.testing.assert_allclose(merged.loc[free, "se"], merged.loc[free, "se_ref"], rtol=3e-4)
    fm = fit.fit_measures()
    for name in ("npar", "df", "baseline.chisq", "logl", "unrestricted.logl", "aic", "bic"):
        assert fm[name] == pytest.approx(ref["fm"][name], rel=1e-4), name


def test_twolevel_covariate_exogenous_at_one_level_only_matches_lavaan(demo):
    """y1 predicts at level 1 and is predicted at level 2 (y2 the other way round)."""
    model = """
    level: 1
      y1 ~ y2 + x1
    level: 2
      y2 ~ y1 + w1
    """
    ref = _lavaan(model)
    fit = radsem.sem(model, demo, cluster="cluster")
    merged = ref["pe"].merge(
        fit.parameter_estimates(), on=["lhs", "op", "rhs", "level"], suffixes=("_ref", "")
    )
    assert len(merged) == len(ref["pe"]) == 18
    np.testing.assert_allclose(merged["est"], merged["est_ref"], atol=1e-4)
    free = merged["se_ref"] > 0
    np.testing.assert_allclose(merged.loc[free, "se"], merged.loc[free, "se_ref"], rtol=1e-4)
    fm = fit.fit_measures()
    for name in ("npar", "df", "baseline.chisq", "cfi", "logl", "unrestricted.logl", "bic"):
        assert fm[name] == pytest.approx(ref["fm"][name], rel=1e-4), name


def test_twolevel_cross_level_equal_loadings_match_lavaan(demo):
    """A label shared by both levels makes the loadings equal (lavaan's '==' rows)."""
    model = """
    level: 1
        fw =~ y1 + a*y2 + b*y3
    level: 2
        fb =~ y1 + a*y2 + b*y3
    """
    ref = _lavaan(model)
    fit = radsem.sem(model, demo, cluster="cluster")
    pe = fit.parameter_estimates()
    loads = pe[(pe["op"] == "=~") & (pe["rhs"] == "y2")]["est"].to_numpy()
    assert loads[0] == pytest.approx(loads[1], abs=1e-10)
    ref_pe = ref["pe"].astype({"level": int})
    merged = ref_pe.merge(pe, on=["lhs", "op", "rhs", "level"], suffixes=("_ref", ""))
    # (lavaan's Newton polish ignores its '==' rows, so the raw estimates are the reference)
    np.testing.assert_allclose(merged["est"], merged["est_ref"], atol=2e-4)
    free = merged["se_ref"] > 0
    np.testing.assert_allclose(merged.loc[free, "se"], merged.loc[free, "se_ref"], rtol=3e-4)
    se_at_lavaan = np.sqrt(np.diag(fit.vcov(theta=ref["coef"]).to_numpy()))
    np.testing.assert_allclose(se_at_lavaan, ref["se_free"], rtol=1e-6)
    fm = fit.fit_measures()
    for name in ("chisq", "df", "npar", "cfi", "logl", "bic"):
        assert fm[name] == pytest.approx(ref["fm"][name], rel=1e-4), name


# -- without R -------------------------------------------------------------------------------


def _simulate(seed: int, nclus: int = 150) -> pd.DataFrame:
    """Two-level one-factor data with known loadings (within 1, .8, .6; between 1, .5, .7),
    a within covariate and a between covariate, unbalanced clusters of 3-12 rows."""
    rng = np.random.default_rng(seed)
    rows = []
    for j in range(nclus):
        n = int(rng.integers(3, 13))
        w = rng.normal()
        fb = 0.4 * w + rng.normal(scale=0.8)
        ub = np.array([1.0, 0.5, 0.7]) * fb + rng.normal(scale=0.3, size=3)
        for _ in range(n):
            x = rng.normal()
            fw = 0.5 * x + rng.normal()
            y = np.array([1.0, 0.8, 0.6]) * fw + rng.normal(scale=0.7, size=3)
            rows.append((j, *(y + ub + np.array([0.5, 0.0, -0.5])), x, w))
    return pd.DataFrame(rows, columns=["clus", "y1", "y2", "y3", "x", "w"])


SIM_MODEL = """
level: 1
  fw =~ y1 + y2 + y3
  fw ~ x
level: 2
  fb =~ y1 + y2 + y3
  fb ~ w
"""


def test_twolevel_recovers_simulated_truth():
    data = _simulate(7, nclus=400)
    fit = radsem.sem(SIM_MODEL, data, cluster="clus")
    pe = fit.parameter_estimates().set_index(["lhs", "op", "rhs", "level"])["est"]
    truth = {
        ("fw", "=~", "y2", 1): 0.8,
        ("fw", "=~", "y3", 1): 0.6,
        ("fw", "~", "x", 1): 0.5,
        ("y1", "~~", "y1", 1): 0.49,
        ("fb", "=~", "y2", 2): 0.5,
        ("fb", "=~", "y3", 2): 0.7,
        ("fb", "~", "w", 2): 0.4,
        ("y1", "~1", "", 2): 0.5,
        ("y3", "~1", "", 2): -0.5,
    }
    for k, v in truth.items():
        assert pe[k] == pytest.approx(v, abs=0.12), k
    fm = fit.fit_measures()
    # h1: within 10 covariances + 1 mean (x), between 10 + 4 means, minus the fixed
    # moments of x and w (4) = 21; the model has 7 within and 10 between parameters
    assert fm["df"] == 4
    assert fm["pvalue"] > 0.001
    icc = fit.icc()
    assert icc["x"] == 0.0
    assert 0.1 < icc["y1"] < 0.6


def test_twolevel_gradient_is_the_derivative_of_the_loglik():
    from radsem.estimation.families.twolevel.data import cluster_data
    from radsem.estimation.families.twolevel.problem import TwoLevelProblem
    from radsem.estimation.families.twolevel.spec import build_twolevel_spec

    data = _simulate(3, nclus=40)
    tl = build_twolevel_spec(SIM_MODEL, list(data.columns))
    cd = cluster_data(data, tl.within, tl.between_only, "clus")
    prob = TwoLevelProblem(tl.spec.partable, cd.variables, tl.spec.latent, cd)
    rng = np.random.default_rng(1)
    theta = np.abs(rng.normal(0.6, 0.1, prob.nfree))
    grad = prob.gradient(theta)
    num = np.array(
        [(prob.fmin(theta + e) - prob.fmin(theta - e)) / 2e-6 for e in np.eye(prob.nfree) * 1e-6]
    )
    np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-8)


def test_twolevel_same_data_same_numbers():
    data = _simulate(11, nclus=60)
    a = radsem.sem(SIM_MODEL, data, cluster="clus").parameter_estimates()
    b = radsem.sem(SIM_MODEL, data.sample(frac=1.0, random_state=3), cluster="clus")
    np.testing.assert_allclose(
        a["est"].to_numpy(), b.parameter_estimates()["est"].to_numpy(), atol=1e-6
    )


def test_twolevel_bad_inputs_name_the_column():
    data = _simulate(5, nclus=30)
    with pytest.raises(DataError, match="'clusterid'"):
        radsem.sem(SIM_MODEL, data, cluster="clusterid")
    varying = data.assign(w=data["w"] + np.arange(len(data)) * 1e-3)
    with pytest.raises(DataError, match="'w'.*varies within cluster"):
        radsem.sem(SIM_MODEL, varying, cluster="clus")
    singles = data.assign(clus=np.arange(len(data)))
    with pytest.raises(DataError, match="single row"):
        radsem.sem(SIM_MODEL, singles, cluster="clus")
    one = data.assign(clus=1)
    with pytest.raises(DataError, match="1 cluster"):
        radsem.sem(SIM_MODEL, one, cluster="clus")
    holes = data.copy()
    holes.loc[3, "y2"] = np.nan
    with pytest.raises(DataError, match="y2"):
        radsem.sem(SIM_MODEL, holes, cluster="clus")
    with pytest.raises(EstimationError, match="cluster="):
        radsem.sem(SIM_MODEL, data)
    with pytest.raises(EstimationError, match="level: 1"):
        radsem.sem("f =~ y1 + y2 + y3", data, cluster="clus")
    with pytest.raises(EstimationError, match="estimator"):
        radsem.sem(SIM_MODEL, data, cluster="clus", estimator="GLS")


@pytest.mark.parametrize(
    ("model", "line", "match"),
    [
        ("f =~ y1 + y2\nlevel: 1\nf =~ y3", 1, "start with 'level: 1'"),
        ("level: 1\nf =~ y1\nlevel: 2\ng =~ y2\nlevel: 3\nh =~ y3", 5, "exactly two levels"),
        ("level: 1\nf =~ y1 + y2 + y3\nlevel: 1\ny1 ~~ y2", 3, "written twice"),
        ("level: 1\nf =~ y1 + y2 + y3\ngroup: 2\ny1 ~~ y2", 3, "'group:' blocks"),
        ("level: 1\nf =~ y1 + y2 + y3", 1, "exactly two levels"),
    ],
)
def test_level_syntax_errors_have_positions(model, line, match):
    from radsem.syntax.levels import parse_levels

    with pytest.raises(ModelSyntaxError, match=match) as err:
        parse_levels(model)
    assert err.value.line == line


def test_level_labels_within_between_any_order():
    from radsem.syntax.levels import parse_levels

    blocks = parse_levels("level: between\n y1 ~~ y2\nlevel: within\n f =~ y1 + y2 + y3")
    assert blocks.within[0].op == "=~"
    assert blocks.between[0].op == "~~"
    assert blocks.within[0].line == 4


def test_level_blocks_without_cluster_say_how():
    from radsem.syntax import parse_model

    with pytest.raises(ModelSyntaxError, match="cluster") as err:
        parse_model(SIM_MODEL)
    assert err.value.line == 2


def test_twolevel_summary_and_inspect():
    data = _simulate(13, nclus=50)
    fit = radsem.cfa(SIM_MODEL, data, cluster="clus")
    text = fit.summary()
    assert "Level 1 [within]" in text
    assert "Level 2 [between]" in text
    assert fit.inspect("nclusters") == 50
    assert fit.inspect("cluster.size").sum() == len(data)
    assert fit.inspect("npar") == 17
    h1 = fit.inspect("sampstat")
    assert list(h1["within"]["cov"].columns) == ["y1", "y2", "y3", "x"]
    assert list(h1["between"]["cov"].columns) == ["y1", "y2", "y3", "w"]
    with pytest.raises(EstimationError, match="not available"):
        fit.inspect("modindices")
