"""Parity of radsem's parameter table with lavaan 0.6-14 (live through rpy2).

Reference: ``parTable(sem/cfa/growth(model, data, do.fit = FALSE, ...))`` or
``lavaanify(model, ...)``; every row is compared on lhs, op, rhs, user, block, group, free,
ustart, exo, label and plabel, in order.
"""

from __future__ import annotations

import numpy as np
import pytest

from radsem.spec import build_partable

HS = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""
POLDEM = """
  # measurement model
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + a*y6 + b*y7 + c*y8
  # regressions
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  # residual correlations
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
"""
GROWTH = """
  i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
  s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4
  i ~ x1 + x2
  s ~ x1 + x2
  t1 ~ c1
  t2 ~ c2
  t3 ~ c3
  t4 ~ c4
"""
MEDIATION = """
X =~ x1 + x2 + x3
M =~ x4 + x5 + x6
Y =~ x7 + x8 + x9
M ~ a*X
Y ~ b*M + c*X
ab := a*b
total := c + a*b
"""
MODIFIERS = """
visual =~ NA*x1 + start(0.8)*x2 + 1*x3
textual =~ x4 + lam*x5 + 0.5?x6
speed =~ x7 + x8 + x9
visual ~~ 1*visual
x1 ~ 1
x4 ~ a1*1
x5 ~~ v5*x5
x6 ~~ v5*x6
textual ~ 0*1
x7 ~~ start(.3)*x7 + x8
"""
CONSTRAINTS = """
visual =~ x1 + a*x2 + b*x3
textual =~ x4 + c*x5 + d*x6
a == b
c > 0.5
d < 2*c
b2 := b^2
"""
REGRESSION = """
x9 ~ x1 + x2 + x3
x8 ~ x9 + x1
"""


def _ours(model, fun, **options):
    ngroups = 2 if options.pop("group", None) else 1
    return build_partable(model, model_type=fun, ngroups=ngroups, **options).partable


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"std_lv": True},
        {"orthogonal": True},
        {"std_lv": True, "orthogonal": True},
        {"meanstructure": True},
        {"group": "school"},
        {"group": "school", "group_equal": ["loadings", "intercepts"]},
        {"group": "school", "group_equal": ["loadings", "intercepts"],
         "group_partial": ["visual =~ x3", "x7 ~ 1"]},
        {"group": "school", "group_equal": ["loadings", "lv.variances", "residuals"],
         "std_lv": True},
        {"group": "school", "std_lv": True, "group_equal": ["loadings"]},
        {"group": "school", "group_equal": ["loadings", "intercepts", "means", "residuals",
                                            "residual.covariances", "lv.variances",
                                            "lv.covariances", "regressions"]},
    ],
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "default",
)
def test_holzinger_swineford_cfa(lav, options):
    ref = lav.fitted("cfa", HS, "HolzingerSwineford1939", **options)
    lav.assert_same(_ours(HS, "cfa", **options), ref)


@pytest.mark.parametrize("fun", ["sem", "cfa", "lavaan"])
def test_political_democracy_labels_and_equality(lav, fun):
    options = {"auto_var": True, "auto_fix_first": True} if fun == "lavaan" else {}
    ref = lav.fitted(fun, POLDEM, "PoliticalDemocracy", **options)
    ours = _ours(POLDEM, fun, **options)
    lav.assert_same(ours, ref)
    eq = ours[ours["op"] == "=="]
    assert list(eq["user"]) == [2, 2, 2]


def test_growth_model(lav):
    lav.assert_same(_ours(GROWTH, "growth"), lav.fitted("growth", GROWTH, "Demo.growth"))


def test_growth_as_sem_differs_like_lavaan(lav):
    lav.assert_same(_ours(GROWTH, "sem"), lav.fitted("sem", GROWTH, "Demo.growth"))


def test_mediation_with_definitions(lav):
    ours = _ours(MEDIATION, "sem")
    lav.assert_same(ours, lav.fitted("sem", MEDIATION, "HolzingerSwineford1939"))
    defs = ours[ours["op"] == ":="]
    assert list(defs["rhs"]) == ["a*b", "c+a*b"]
    assert list(defs["label"]) == ["ab", "total"]


@pytest.mark.parametrize("fun", ["cfa", "sem"])
def test_fixed_na_start_modifiers(lav, fun):
    lav.assert_same(_ours(MODIFIERS, fun), lav.fitted(fun, MODIFIERS, "HolzingerSwineford1939"))


def test_equality_and_inequality_constraints(lav):
    ref = lav.fitted("cfa", CONSTRAINTS, "HolzingerSwineford1939")
    lav.assert_same(_ours(CONSTRAINTS, "cfa"), ref)


@pytest.mark.parametrize(
    "options",
    [{}, {"fixed_x": False}, {"meanstructure": True},
     {"meanstructure": True, "fixed_x": False}, {"estimator": "GLS"}],
    ids=str,
)
def test_observed_regressions_fixed_x(lav, options):
    ref = lav.fitted("sem", REGRESSION, "HolzingerSwineford1939", **options)
    lav.assert_same(_ours(REGRESSION, "sem", **options), ref)


def test_multigroup_c_modifiers(lav):
    model = """
    visual =~ x1 + c(l2a, l2b)*x2 + x3
    textual =~ x4 + c(1, NA)*x5 + c(NA, 0.8)*x6
    x1 ~ c(i1, i1)*1
    """
    ref = lav.fitted("cfa", model, "HolzingerSwineford1939", group="school")
    lav.assert_same(_ours(model, "cfa", group="school"), ref)


def test_multigroup_single_label_means_equal_across_groups(lav):
    model = "visual =~ x1 + lam*x2 + x3\ntextual =~ x4 + x5 + x6"
    options = {"group": "school", "group_equal": ["loadings"]}
    ref = lav.fitted("cfa", model, "HolzingerSwineford1939", **options)
    lav.assert_same(_ours(model, "cfa", **options), ref)


@pytest.fixture(scope="module")
def ordinal_data(lav):
    hs = lav.frame("HolzingerSwineford1939")
    d = hs[["x1", "x2", "x3", "x4", "x5", "x6", "ageyr", "sex", "school"]].copy()
    for col, k in (("x1", 3), ("x2", 4), ("x3", 2)):
        cuts = np.quantile(d[col], np.linspace(0, 1, k + 1)[1:-1])
        d[col] = np.digitize(d[col], cuts).astype(int) + 1
    d["school"] = d["school"].astype(str)
    return d


ORD_MODEL = "f =~ x1 + x2 + x3 + x4\nf ~ ageyr + sex"
ORD_USER_TH = "f =~ x1 + x2 + x3 + x4\nx1 | a*t1 + t2\nx4 ~~ x5"


@pytest.mark.parametrize(
    ("model", "fun", "options"),
    [
        (ORD_MODEL, "sem", {}),
        (ORD_MODEL, "sem", {"parameterization": "theta"}),
        (ORD_MODEL, "sem", {"estimator": "ULS"}),
        (ORD_MODEL, "sem", {"group": "school", "group_equal": ["loadings", "thresholds"]}),
        (ORD_MODEL, "sem", {"group": "school", "group_equal": ["loadings", "thresholds"],
                            "parameterization": "theta"}),
        (ORD_USER_TH, "cfa", {}),
        (ORD_USER_TH, "cfa", {"std_lv": True}),
    ],
    ids=["wlsmv", "theta", "uls", "mg", "mg-theta", "user-th", "user-th-std"],
)
def test_ordered_thresholds(lav, ordinal_data, model, fun, options):
    declared = ["x1", "x2", "x3"] if model == ORD_MODEL else ["x1", "x2"]
    nth = {c: int(ordinal_data[c].nunique()) - 1 for c in declared}
    ref = lav.fitted(fun, model, ordinal_data, ordered=declared, **options)
    lav.assert_same(_ours(model, fun, ordered=nth, **options), ref)


@pytest.mark.parametrize(
    "options",
    [
        {"auto": True},
        {"auto": True, "std_lv": True, "meanstructure": True},
        {"int_ov_free": True, "auto_var": True, "meanstructure": True},
    ],
    ids=str,
)
def test_lavaanify_options(lav, options):
    model = POLDEM + "\ndem60 ~ 1\n"
    ref = lav.lavaanify(model, **options)
    ours_opts = {k: v for k, v in options.items() if k != "auto"}
    fun = "sem" if options.get("auto") else "lavaan"
    ours = build_partable(model, model_type=fun, fixed_x=False, **ours_opts).partable
    lav.assert_same(ours, ref)


HS3 = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
EDGE_CASES = {
    "second-order": ("cfa", HS3 + "g =~ visual + textual + speed", {}),
    "second-order-std": ("cfa", HS3 + "g =~ visual + textual + speed", {"std_lv": True}),
    "single-indicator": ("sem", "f =~ x1 + x2 + x3\ns =~ x4\ns ~ f", {}),
    "exo-user-covariance": ("sem", "x9 ~ x1 + x2\nx1 ~~ x2", {}),
    "exo-intercept": ("sem", "x9 ~ x1 + x2\nx1 ~ 1", {}),
    "latent-on-covariates": ("sem", "f =~ x1 + x2 + x3\nf ~ ageyr + sex\nx4 ~ f", {}),
    "latent-on-covariates-ms": ("sem", "f =~ x1 + x2 + x3\nf ~ ageyr + sex\nx4 ~ f",
                                {"meanstructure": True}),
    "fixed-regression": ("sem", "x9 ~ 0.5*x1 + x2", {}),
    "zero-intercept": ("sem", "x9 ~ x1\nx9 ~ 0", {}),
    "cross-loading": ("cfa", "f1 =~ x1 + x2 + x3 + x4\nf2 =~ x4 + x5 + x6", {}),
    "latent-observed-covariance": ("sem", "f =~ x1 + x2 + x3\nx4 ~~ f", {}),
    "orthogonal-with-regression": ("sem", HS3 + "speed ~ visual", {"orthogonal": True}),
    "endogenous-covariances": ("sem", "f =~ x1 + x2 + x3\nx7 ~ f\nx8 ~ f\nx9 ~ f\n"
                               "g =~ x4 + x5 + x6\ng ~ f", {}),
    "equal-modifier": ("cfa", "visual =~ x1 + x2 + equal('visual=~x2')*x3", {}),
    "plabel-constraint": ("cfa", HS3 + ".p2. == .p3.", {}),
    "label-across-operators": ("cfa", HS3 + "x1 ~~ a*x1\nx2 ~~ a*x2\nvisual ~~ a*textual", {}),
    "mg-fixed-marker": ("cfa", "visual =~ c(1,1)*x1 + x2 + x3\ntextual =~ x4 + x5 + x6",
                        {"group": "school"}),
    "mg-partial-label": ("cfa", "visual =~ x1 + x2 + c(a,b)*x3\ntextual =~ x4 + x5 + x6",
                         {"group": "school", "group_equal": ["loadings"],
                          "group_partial": ["visual=~x2"]}),
    "start-on-marker": ("cfa", "visual =~ start(2)*x1 + x2 + x3", {}),
    "mg-means": ("cfa", HS3, {"group": "school", "std_lv": True,
                              "group_equal": ["loadings", "intercepts", "means"]}),
    "mg-regressions": ("sem", HS3 + "speed ~ visual + textual",
                       {"group": "school", "group_equal": ["regressions", "lv.covariances"]}),
    "mg-no-meanstructure": ("cfa", HS3, {"group": "school", "meanstructure": False}),
    "lavaan-explicit": ("lavaan", "f =~ 1*x1 + x2 + x3\nf ~~ f\nx1 ~~ x1\nx2 ~~ x2\nx3 ~~ x3", {}),
    "lavaan-some-auto": ("lavaan", "f =~ x1 + x2 + x3", {"auto_var": True,
                                                          "auto_fix_first": True}),
    "missing-ml": ("sem", HS3, {"missing": "ml"}),
    "mlr": ("sem", "x9 ~ x1 + x2", {"estimator": "MLR"}),
    "uls-fixed-x-default": ("sem", "x9 ~ x1 + x2", {"estimator": "ULS"}),
    "bounds": ("cfa", "visual =~ x1 + lower(0)*x2 + upper(3)*x3", {}),
    "definition-chain": ("sem", "x9 ~ a*x1 + b*x2\nab := a*b\nab2 := ab^2\nab2 < 1", {}),
    "several-lhs": ("sem", "x7 + x8 ~ x1 + x2", {}),
    "orthogonal-y": ("sem", HS3 + "visual ~ ageyr\ntextual ~ ageyr\nspeed ~ ageyr",
                     {"orthogonal_y": True}),
    "linear-equality": ("sem", "x9 ~ a*x1 + b*x2\na + b == 1", {}),
}


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_edge_cases(lav, case):
    fun, model, options = EDGE_CASES[case]
    ref = lav.fitted(fun, model, "HolzingerSwineford1939", **options)
    lav.assert_same(_ours(model, fun, **dict(options)), ref)


def test_growth_with_fixed_latent_mean(lav):
    model = "i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4\ns =~ 0*t1 + 1*t2 + 2*t3 + 3*t4\ni ~ 0*1"
    lav.assert_same(_ours(model, "growth"), lav.fitted("growth", model, "Demo.growth"))
