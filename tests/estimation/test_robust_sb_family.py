"""MLM, MLMV, MLMVS, MLF, continuous WLS/DWLS/WLSM/WLSMV/ULSM and ``test =`` against lavaan.

Every case is fitted by radsem and, live through rpy2, by lavaan 0.6-14 with the same
options; estimates agree to 1e-4 absolute, standard errors and every fit measure lavaan
reports (``chisq.scaled``, ``baseline.chisq.scaled``, ``cfi.robust``, ``rmsea.robust``, its
interval, ...) to 1e-4 relative. The tests skip cleanly without R.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

import radsem
from radsem.errors import DataWarning, EstimationError

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
HS_COV = HS + "\nvisual ~ sex\nspeed ~ ageyr"
ORD = [f"x{i}" for i in range(1, 10)]
PD = """ind60 =~ x1 + x2 + x3
dem60 =~ y1 + a*y2 + b*y3 + c*y4
dem65 =~ y5 + a*y6 + b*y7 + c*y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8"""


@functools.lru_cache(maxsize=None)
def _data(name: str) -> pd.DataFrame:
    from radsem.datasets import load

    if name == "pd":
        return load("PoliticalDemocracy")
    if name in ("ord", "ordmg"):  # the nine tests cut into three ordered categories
        from radsem.estimation.families.ordinal.coding import cut_into_categories

        hs = load("HolzingerSwineford1939")
        out = cut_into_categories(hs[[f"x{i}" for i in range(1, 10)]], 3)
        if name == "ordmg":
            out.insert(0, "school", hs["school"].astype(str))
        return out
    hs = load("HolzingerSwineford1939")
    nine = [f"x{i}" for i in range(1, 10)]
    if name == "hs":
        return hs[nine]
    if name == "hsmiss":  # 15% of x2, x5, x8 missing completely at random (seeded)
        rng = np.random.default_rng(1)
        data = hs[nine]
        return data.mask((rng.random(data.shape) < 0.15) & data.columns.isin(["x2", "x5", "x8"]))
    if name == "mg":
        return hs[["school", *nine]]
    return hs[[*nine, "sex", "ageyr"]].astype(float)


def _r_value(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return f'"{value}"'
    return "c(" + ", ".join(_r_value(v) for v in value) + ")"


def _lavaan(model: str, data: pd.DataFrame, function: str, options: dict, tight: bool = False):
    """lavaan's estimates and fit measures; ``tight``: its optimiser run to a tighter
    tolerance (its default stops 1.2e-4 short of the optimum on PoliticalDemocracy, where
    radsem's ``fmin`` is 3e-10 lower)."""
    import rpy2.robjects as ro

    from radsem import _r

    ro.globalenv["d"] = _r.to_r_dataframe(data.reset_index(drop=True))
    ro.globalenv["m"] = ro.StrVector([model])
    args = "".join(f", {k.replace('_', '.')} = {_r_value(v)}" for k, v in options.items())
    if tight:  # nlminb then reports a false convergence, hence force.converged
        args += ", optim.force.converged = TRUE, control = list(rel.tol = 1e-11)"
    ro.r(f"f <- lavaan::{function}(m, data = d{args})")
    pe = _r.from_r_dataframe(ro.r("lavaan::parameterEstimates(f)"))
    fm = ro.r("lavaan::fitMeasures(f)")
    fm = pd.Series(np.array(fm, dtype=float), index=[str(n) for n in fm.names])
    pe["group"] = pe["group"].astype(int) if "group" in pe else 1
    pe.loc[pe["op"] == ":=", "group"] = 0  # radsem's group of := rows
    return pe, fm


def _check(model, data_name, function, options) -> dict[str, float]:
    data = _data(data_name)
    ours = getattr(radsem, function)(model, data, **options)
    pe, fm = _lavaan(model, data, function, options, tight=data_name == "pd")
    mine = ours.parameter_estimates()
    m = mine.merge(pe, on=["lhs", "op", "rhs", "group"], suffixes=("", "_l"))
    assert len(m) == len(pe[pe["op"] != "=="])
    np.testing.assert_allclose(m["est"], m["est_l"], atol=1e-4)
    np.testing.assert_allclose(m["se"], m["se_l"], rtol=1e-4, atol=1e-9)
    ofm = ours.fit_measures()
    bad = []
    worst = 0.0
    for key, lav in fm.items():
        assert key in ofm.index, f"radsem has no fit measure {key!r}"
        val = ofm[key]
        if np.isnan(lav):
            assert np.isnan(val), f"{key}: radsem {val}, lavaan NA"
            continue
        rel = abs(val - lav) / max(abs(lav), 1e-8)
        worst = max(worst, rel)
        if rel > 1e-4:
            bad.append(f"{key}: radsem {val:.10g}, lavaan {lav:.10g}")
    assert not bad, "\n".join(bad)
    return {"est": float(np.max(np.abs(m["est"] - m["est_l"]))), "fm": worst}


CASES = [
    # HolzingerSwineford CFA
    (HS, "hs", "cfa", {"estimator": "MLM"}),
    (HS, "hs", "cfa", {"estimator": "MLMV"}),
    (HS, "hs", "cfa", {"estimator": "MLMVS"}),
    (HS, "hs", "cfa", {"estimator": "MLF"}),
    (HS, "hsmiss", "cfa", {"estimator": "MLF", "missing": "ml"}),
    (HS, "hs", "cfa", {"estimator": "MLM", "meanstructure": True}),
    (HS, "hs", "cfa", {"test": ["satorra.bentler", "mean.var.adjusted"]}),
    (HS, "hs", "cfa", {"test": ["scaled.shifted", "satorra.bentler"]}),
    (HS, "hs", "cfa", {"test": "yuan.bentler"}),
    (HS, "hs", "cfa", {"se": "robust.sem", "test": "satorra.bentler"}),
    (HS, "hs", "cfa", {"estimator": "MLR", "test": "yuan.bentler.mplus"}),
    (HS, "hs", "cfa", {"estimator": "WLS"}),
    (HS, "hs", "cfa", {"estimator": "DWLS"}),
    (HS, "hs", "cfa", {"estimator": "WLSM"}),
    (HS, "hs", "cfa", {"estimator": "WLSMV"}),
    (HS, "hs", "cfa", {"estimator": "ULSM"}),
    (HS, "hs", "cfa", {"estimator": "ULSMV"}),
    # an explicit equality constraint and a defined parameter
    (
        HS + "\nvisual ~~ a*visual\ntextual ~~ b*textual\na == 2*b\nab := a*b",
        "hs",
        "cfa",
        {"estimator": "MLM"},
    ),
    # PoliticalDemocracy SEM (equality labels)
    (PD, "pd", "sem", {"estimator": "MLM"}),
    (PD, "pd", "sem", {"estimator": "MLMV"}),
    (PD, "pd", "sem", {"estimator": "MLMVS"}),
    (PD, "pd", "sem", {"estimator": "MLF"}),
    (PD, "pd", "sem", {"test": "yuan.bentler"}),
    # two groups, loadings equal
    (HS, "mg", "cfa", {"group": "school", "group_equal": ["loadings"], "estimator": "MLM"}),
    (
        HS,
        "mg",
        "cfa",
        {"group": "school", "group_equal": ["loadings", "intercepts"], "estimator": "MLMVS"},
    ),
    (HS, "mg", "cfa", {"group": "school", "group_equal": ["loadings"], "estimator": "MLMV"}),
    (HS, "mg", "cfa", {"group": "school", "group_equal": ["loadings"], "estimator": "MLMVS"}),
    (HS, "mg", "cfa", {"group": "school", "group_equal": ["loadings"], "estimator": "MLF"}),
    (HS, "mg", "cfa", {"group": "school", "group_equal": ["loadings"], "estimator": "WLS"}),
    (HS, "mg", "cfa", {"group": "school", "group_equal": ["loadings"], "estimator": "WLSMV"}),
    # ordered indicators: WLSM / ULSM (Satorra-Bentler on DWLS / ULS)
    (HS, "ord", "cfa", {"ordered": ORD, "estimator": "WLSM"}),
    (HS, "ord", "cfa", {"ordered": ORD, "estimator": "ULSM"}),
    (HS, "ord", "cfa", {"ordered": ORD, "estimator": "DWLS", "test": "satorra.bentler"}),
    (HS, "ordmg", "cfa", {"ordered": ORD, "estimator": "WLSM", "group": "school"}),
    # fixed.x covariates (Gamma of the OLS residual moments)
    (HS_COV, "cov", "sem", {"estimator": "MLM"}),
    (HS_COV, "cov", "sem", {"estimator": "MLMV"}),
    (HS_COV, "cov", "sem", {"test": "yuan.bentler"}),
    (HS_COV, "cov", "sem", {"estimator": "MLM", "fixed_x": False}),
    (HS_COV, "cov", "sem", {"estimator": "MLF"}),
    # information = "observed": lavaan's tests use the observed h1 information then
    (HS_COV, "cov", "sem", {"test": ["satorra.bentler", "mv"], "information": "observed"}),
    (HS, "mg", "cfa", {"group": "school", "test": "scaled.shifted", "information": "observed"}),
    (HS_COV, "cov", "sem", {"estimator": "MLMV", "se": "robust.huber.white"}),
    (HS_COV, "cov", "sem", {"estimator": "WLS"}),  # lavaan's default here: fixed.x = FALSE
    (HS_COV, "cov", "sem", {"estimator": "WLSMV"}),
    (HS_COV, "cov", "sem", {"estimator": "WLS", "fixed_x": True}),
    (HS_COV, "cov", "sem", {"estimator": "DWLS", "fixed_x": True}),
    (HS_COV, "cov", "sem", {"estimator": "WLSM", "fixed_x": True}),
]


@pytest.mark.parametrize(("model", "data", "function", "options"), CASES)
def test_matches_lavaan(r_lavaan, model, data, function, options):
    _check(model, data, function, options)


def test_defaults_are_lavaans():
    fit = radsem.cfa(HS, _data("hs"), estimator="MLM")
    assert fit.options["se"] == "robust.sem"
    assert fit.options["test"] == ["satorra.bentler"]
    assert fit.options["information"] == "expected"
    assert radsem.cfa(HS, _data("hs"), estimator="MLMV").options["test"] == ["scaled.shifted"]
    assert radsem.cfa(HS, _data("hs"), estimator="MLMVS").options["test"] == ["mean.var.adjusted"]
    assert radsem.cfa(HS, _data("hs"), estimator="MLF").options["information"] == "first.order"
    # lavaan's aliases, unscaled tests first
    fit = radsem.cfa(HS, _data("hs"), test=["MV", "sb", "chisq"])
    assert fit.options["test"] == ["standard", "mean.var.adjusted", "satorra.bentler"]
    table = fit.tests()
    assert list(table["test"]) == ["standard", "mean.var.adjusted", "satorra.bentler"]
    # chisq.scaled belongs to the first scaled test
    fm = fit.fit_measures()
    assert fm["chisq.scaled"] == pytest.approx(table["stat"].iloc[1])
    assert fm["df.scaled"] == pytest.approx(table["df"].iloc[1])
    head = fit.summary().split("Parameter Estimates")[0]
    assert "Satorra-Bentler correction" in head
    assert "mean and variance adjusted correction" in head


def test_scaled_statistics_follow_their_definitions():
    fit = radsem.cfa(HS, _data("hs"), test=["satorra.bentler", "scaled.shifted", "mv"])
    t = fit.tests().set_index("test")
    chisq, df = t.at["standard", "stat"], t.at["standard", "df"]
    tr = t.at["satorra.bentler", "trace_ugamma"]
    assert t.at["satorra.bentler", "stat"] == pytest.approx(chisq / (tr / df))
    a = 1 / t.at["scaled.shifted", "scaling_factor"]
    assert t.at["scaled.shifted", "stat"] == pytest.approx(a * chisq + df - a * tr)
    dfs = t.at["mean.var.adjusted", "df"]
    assert t.at["mean.var.adjusted", "stat"] == pytest.approx(chisq * dfs / tr)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"estimator": "MLM", "missing": "ml"}, 'missing="ml" is not allowed for estimator "MLM"'),
        ({"estimator": "WLS", "missing": "ml"}, 'missing="ml" is not allowed for estimator "WLS"'),
        ({"test": "foo"}, "invalid value(s) in test= argument: foo"),
        ({"estimator": "WLS", "test": "satorra.bentler"}, "when estimator is WLS"),
        ({"test": ["default", "satorra.bentler"]}, "cannot contain additional elements"),
        ({"estimator": "MLR", "test": "satorra.bentler"}, "comes with test 'yuan.bentler.mplus'"),
        ({"estimator": "MLM", "information": "observed"}, "robust.sem standard errors"),
        ({"test": "yuan.bentler", "information": "observed"}, "the Yuan-Bentler tests need"),
    ],
)
def test_bad_combinations(options, message):
    with pytest.raises(EstimationError) as err:
        radsem.cfa(HS, _data("hs"), **options)
    assert message in str(err.value)


def test_robust_sem_with_fiml_falls_back_to_listwise_as_lavaan():
    data = _data("hs").copy()
    data.iloc[:5, 0] = np.nan
    with pytest.warns(DataWarning, match="listwise"):
        fit = radsem.cfa(HS, data, se="robust.sem", missing="ml")
    assert fit.nobs == 296


def test_bollen_stine_test_is_seeded():
    model = "visual =~ x1 + x2 + x3 + x9"
    a = radsem.cfa(model, _data("hs"), test="bollen.stine", bootstrap=40, seed=7)
    b = radsem.cfa(model, _data("hs"), test="bollen.stine", bootstrap=40, seed=7)
    ta, tb = a.tests(), b.tests()
    assert list(ta["test"]) == ["standard", "bollen.stine"]
    assert ta.equals(tb)
    boot = a.bootstrap(40, "bollen.stine", seed=7)
    assert ta["pvalue"].iloc[1] == pytest.approx(boot.pvalue)
    assert 0 < ta["pvalue"].iloc[1] < 1
    assert ta["stat"].iloc[1] == pytest.approx(a.fit_measures()["chisq"])


def test_ordered_tests_table():
    from radsem.estimation.families.ordinal.coding import cut_into_categories

    data = cut_into_categories(_data("hs"), 3)
    fit = radsem.cfa(HS, data, ordered=list(data.columns), estimator="WLSM")
    table = fit.tests()
    assert list(table["test"]) == ["standard", "satorra.bentler"]
    fm = fit.fit_measures()
    assert table["stat"].iloc[1] == pytest.approx(fm["chisq.scaled"])
    assert table["stat"].iloc[1] == pytest.approx(fm["chisq"] / fm["chisq.scaling.factor"])
    assert "Satorra-Bentler correction" in fit.summary()


@pytest.mark.parametrize("estimator", ["MLM", "MLMV", "MLMVS"])
def test_anova_matches_lavtestlrt(r_lavaan, estimator):
    """``anova()`` of nested fits as ``lavTestLRT``: the Satorra-Bentler (2001) scaled
    difference for MLM, Satorra's (2000) scaled-and-shifted difference test for MLMV and
    MLMVS (lavaan's ``method = "satorra.2000"``)."""
    import rpy2.robjects as ro

    from radsem import _r

    restricted = HS + "\nvisual ~~ 0*textual\nx2 ~~ 0*x3"
    a = radsem.cfa(HS, _data("hs"), estimator=estimator)
    b = radsem.cfa(restricted, _data("hs"), estimator=estimator)
    ours = radsem.anova(a, b)
    ro.globalenv["d"] = _r.to_r_dataframe(_data("hs").reset_index(drop=True))
    ro.globalenv["m1"] = ro.StrVector([HS])
    ro.globalenv["m2"] = ro.StrVector([restricted])
    ro.globalenv["est"] = ro.StrVector([estimator])
    ref = ro.r(
        "as.data.frame(lavaan::lavTestLRT(lavaan::cfa(m1, d, estimator = est), "
        "lavaan::cfa(m2, d, estimator = est)))"
    )
    ref = _r.from_r_dataframe(ref)
    for col in ("Chisq", "Chisq diff", "Df diff", "Pr(>Chisq)", "AIC"):
        assert ours[col].iloc[1] == pytest.approx(ref[col].iloc[1], rel=1e-4), col


def test_wlsmv_continuous_fixed_x_robust_cfi_uses_the_robust_formula(r_lavaan):
    """Continuous WLSMV with fixed covariates: everything as lavaan except the robust
    CFI/TLI/NNFI/RNI. The baseline's scaled-and-shifted factor is 1 in exact arithmetic;
    lavaan 0.6-14 applies the robust formula when rounding moves it off 1 (the other
    continuous WLSMV cases above) and the standard one when it lands on 1 (this case), so
    radsem always applies the robust one (docs/sem-missing-robust.md)."""
    options = {"estimator": "WLSMV", "fixed_x": True}
    ours = radsem.sem(HS_COV, _data("cov"), **options)
    _, fm = _lavaan(HS_COV, _data("cov"), "sem", options)
    mine = ours.fit_measures()
    for key, lav in fm.items():
        if key.endswith(".robust") and key.split(".")[0] in ("cfi", "tli", "nnfi", "rni"):
            continue
        assert mine[key] == pytest.approx(lav, rel=1e-4, nan_ok=True), key
    # lavaan's value here is its standard CFI; radsem's the robust formula with c0 = 1
    assert fm["cfi.robust"] == pytest.approx(fm["cfi"], rel=1e-8)
    c = mine["chisq.scaling.factor"] * (mine["df"] - ours.tests()["shift"].iloc[1]) / mine["df"]
    t1 = max(mine["chisq"] - c * mine["df"], 0.0)
    t2 = max(t1, mine["baseline.chisq"] - mine["baseline.df"])
    assert mine["cfi.robust"] == pytest.approx(1 - t1 / t2, rel=1e-8)
