"""The models of the parity suite, shared by the live tests, the stored-reference test and
the script that regenerates the stored references (``reference/make_spec_reference.py``).

A case is ``(fun, model, data, options)``: ``fun`` is the lavaan function (sem, cfa, growth,
lavaan), ``data`` a lavaan data set name or ``"ordinal"`` (HolzingerSwineford1939 with x1-x3
cut into 3, 4 and 2 categories), ``options`` lavaan's options with ``_`` for ``.``
(``group`` = the grouping column). Lavaanify cases call ``lavaanify(model, auto = TRUE, ...)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

N_RANDOM = 40

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


ORD_MODEL = "f =~ x1 + x2 + x3 + x4\nf ~ ageyr + sex"
ORD_USER_TH = "f =~ x1 + x2 + x3 + x4\nx1 | a*t1 + t2\nx4 ~~ x5"

HS3 = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
EDGE_CASES = {
    "second-order": ("cfa", HS3 + "g =~ visual + textual + speed", {}),
    "second-order-std": ("cfa", HS3 + "g =~ visual + textual + speed", {"std_lv": True}),
    "single-indicator": ("sem", "f =~ x1 + x2 + x3\ns =~ x4\ns ~ f", {}),
    "exo-user-covariance": ("sem", "x9 ~ x1 + x2\nx1 ~~ x2", {}),
    "exo-intercept": ("sem", "x9 ~ x1 + x2\nx1 ~ 1", {}),
    "latent-on-covariates": ("sem", "f =~ x1 + x2 + x3\nf ~ ageyr + sex\nx4 ~ f", {}),
    "latent-on-covariates-ms": (
        "sem",
        "f =~ x1 + x2 + x3\nf ~ ageyr + sex\nx4 ~ f",
        {"meanstructure": True},
    ),
    "fixed-regression": ("sem", "x9 ~ 0.5*x1 + x2", {}),
    "zero-intercept": ("sem", "x9 ~ x1\nx9 ~ 0", {}),
    "cross-loading": ("cfa", "f1 =~ x1 + x2 + x3 + x4\nf2 =~ x4 + x5 + x6", {}),
    "latent-observed-covariance": ("sem", "f =~ x1 + x2 + x3\nx4 ~~ f", {}),
    "orthogonal-with-regression": ("sem", HS3 + "speed ~ visual", {"orthogonal": True}),
    "endogenous-covariances": (
        "sem",
        "f =~ x1 + x2 + x3\nx7 ~ f\nx8 ~ f\nx9 ~ f\ng =~ x4 + x5 + x6\ng ~ f",
        {},
    ),
    "equal-modifier": ("cfa", "visual =~ x1 + x2 + equal('visual=~x2')*x3", {}),
    "plabel-constraint": ("cfa", HS3 + ".p2. == .p3.", {}),
    "label-across-operators": ("cfa", HS3 + "x1 ~~ a*x1\nx2 ~~ a*x2\nvisual ~~ a*textual", {}),
    "mg-fixed-marker": (
        "cfa",
        "visual =~ c(1,1)*x1 + x2 + x3\ntextual =~ x4 + x5 + x6",
        {"group": "school"},
    ),
    "mg-partial-label": (
        "cfa",
        "visual =~ x1 + x2 + c(a,b)*x3\ntextual =~ x4 + x5 + x6",
        {"group": "school", "group_equal": ["loadings"], "group_partial": ["visual=~x2"]},
    ),
    "start-on-marker": ("cfa", "visual =~ start(2)*x1 + x2 + x3", {}),
    "mg-means": (
        "cfa",
        HS3,
        {"group": "school", "std_lv": True, "group_equal": ["loadings", "intercepts", "means"]},
    ),
    "mg-regressions": (
        "sem",
        HS3 + "speed ~ visual + textual",
        {"group": "school", "group_equal": ["regressions", "lv.covariances"]},
    ),
    "mg-no-meanstructure": ("cfa", HS3, {"group": "school", "meanstructure": False}),
    "lavaan-explicit": ("lavaan", "f =~ 1*x1 + x2 + x3\nf ~~ f\nx1 ~~ x1\nx2 ~~ x2\nx3 ~~ x3", {}),
    "lavaan-some-auto": ("lavaan", "f =~ x1 + x2 + x3", {"auto_var": True, "auto_fix_first": True}),
    "missing-ml": ("sem", HS3, {"missing": "ml"}),
    "mlr": ("sem", "x9 ~ x1 + x2", {"estimator": "MLR"}),
    "uls-fixed-x-default": ("sem", "x9 ~ x1 + x2", {"estimator": "ULS"}),
    "bounds": ("cfa", "visual =~ x1 + lower(0)*x2 + upper(3)*x3", {}),
    "definition-chain": ("sem", "x9 ~ a*x1 + b*x2\nab := a*b\nab2 := ab^2\nab2 < 1", {}),
    "several-lhs": ("sem", "x7 + x8 ~ x1 + x2", {}),
    "orthogonal-y": (
        "sem",
        HS3 + "visual ~ ageyr\ntextual ~ ageyr\nspeed ~ ageyr",
        {"orthogonal_y": True},
    ),
    "linear-equality": ("sem", "x9 ~ a*x1 + b*x2\na + b == 1", {}),
}


HS_VARIANTS = [
    {},
    {"std_lv": True},
    {"orthogonal": True},
    {"std_lv": True, "orthogonal": True},
    {"meanstructure": True},
    {"group": "school"},
    {"group": "school", "group_equal": ["loadings", "intercepts"]},
    {
        "group": "school",
        "group_equal": ["loadings", "intercepts"],
        "group_partial": ["visual =~ x3", "x7 ~ 1"],
    },
    {"group": "school", "group_equal": ["loadings", "lv.variances", "residuals"], "std_lv": True},
    {"group": "school", "std_lv": True, "group_equal": ["loadings"]},
    {
        "group": "school",
        "group_equal": [
            "loadings",
            "intercepts",
            "means",
            "residuals",
            "residual.covariances",
            "lv.variances",
            "lv.covariances",
            "regressions",
        ],
    },
]


def _variant_id(options: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in options.items()) or "default"


def fitted_cases() -> dict[str, tuple[str, str, str, dict]]:
    """Every case compared with ``parTable(fun(model, data, do.fit = FALSE, ...))``."""
    cases: dict[str, tuple[str, str, str, dict]] = {}
    hs = "HolzingerSwineford1939"
    for opts in HS_VARIANTS:
        cases[f"hs-cfa[{_variant_id(opts)}]"] = ("cfa", HS, hs, opts)
    for fun in ("sem", "cfa"):
        cases[f"poldem-{fun}"] = (fun, POLDEM, "PoliticalDemocracy", {})
        cases[f"modifiers-{fun}"] = (fun, MODIFIERS, hs, {})
    cases["poldem-lavaan"] = (
        "lavaan",
        POLDEM,
        "PoliticalDemocracy",
        {"auto_var": True, "auto_fix_first": True},
    )
    cases["growth"] = ("growth", GROWTH, "Demo.growth", {})
    cases["growth-as-sem"] = ("sem", GROWTH, "Demo.growth", {})
    cases["growth-fixed-mean"] = ("growth", GROWTH + "\ni ~ 0*1", "Demo.growth", {})
    cases["mediation"] = ("sem", MEDIATION, hs, {})
    cases["constraints"] = ("cfa", CONSTRAINTS, hs, {})
    for opts in (
        {},
        {"fixed_x": False},
        {"meanstructure": True},
        {"meanstructure": True, "fixed_x": False},
        {"estimator": "GLS"},
    ):
        cases[f"regression[{_variant_id(opts)}]"] = ("sem", REGRESSION, hs, opts)
    cases["mg-c-modifiers"] = (
        "cfa",
        """
    visual =~ x1 + c(l2a, l2b)*x2 + x3
    textual =~ x4 + c(1, NA)*x5 + c(NA, 0.8)*x6
    x1 ~ c(i1, i1)*1
    """,
        hs,
        {"group": "school"},
    )
    cases["mg-single-label"] = (
        "cfa",
        "visual =~ x1 + lam*x2 + x3\ntextual =~ x4 + x5 + x6",
        hs,
        {"group": "school", "group_equal": ["loadings"]},
    )
    for name, (fun, model, opts) in EDGE_CASES.items():
        cases[name] = (fun, model, hs, opts)
    ordinal = {
        "ordered-wlsmv": (ORD_MODEL, "sem", {}),
        "ordered-theta": (ORD_MODEL, "sem", {"parameterization": "theta"}),
        "ordered-uls": (ORD_MODEL, "sem", {"estimator": "ULS"}),
        "ordered-mg": (
            ORD_MODEL,
            "sem",
            {"group": "school", "group_equal": ["loadings", "thresholds"]},
        ),
        "ordered-mg-theta": (
            ORD_MODEL,
            "sem",
            {
                "group": "school",
                "parameterization": "theta",
                "group_equal": ["loadings", "thresholds"],
            },
        ),
        "ordered-user-th": (ORD_USER_TH, "cfa", {}),
        "ordered-user-th-std": (ORD_USER_TH, "cfa", {"std_lv": True}),
    }
    for name, (model, fun, opts) in ordinal.items():
        declared = ["x1", "x2", "x3"] if model == ORD_MODEL else ["x1", "x2"]
        cases[name] = (fun, model, "ordinal", {**opts, "ordered": declared})
    return cases


def lavaanify_cases() -> dict[str, tuple[str, dict]]:
    """Cases compared with ``lavaanify(model, ...)`` directly (model, lavaanify options)."""
    model = POLDEM + "\ndem60 ~ 1\n"
    return {
        "lavaanify-auto": (model, {"auto": True}),
        "lavaanify-auto-std-ms": (model, {"auto": True, "std_lv": True, "meanstructure": True}),
        "lavaanify-partial-auto": (
            model,
            {"int_ov_free": True, "auto_var": True, "meanstructure": True},
        ),
    }


def ordinal_frame(hs: pd.DataFrame) -> pd.DataFrame:
    """HolzingerSwineford1939 with x1, x2, x3 cut at quantiles into 3, 4 and 2 categories."""
    d = hs[["x1", "x2", "x3", "x4", "x5", "x6", "ageyr", "sex", "school"]].copy()
    for col, k in (("x1", 3), ("x2", 4), ("x3", 2)):
        cuts = np.quantile(d[col], np.linspace(0, 1, k + 1)[1:-1])
        d[col] = np.digitize(d[col], cuts).astype(int) + 1
    d["school"] = d["school"].astype(str)
    return d


def radsem_options(fun: str, options: dict, thresholds: dict | None = None) -> dict:
    """The :func:`build_partable` arguments matching a fitted case's lavaan options."""
    out = {k: v for k, v in options.items() if k not in ("group", "ordered")}
    out["model_type"] = fun
    if options.get("group"):
        out["ngroups"] = 2
    if "ordered" in options:
        out["ordered"] = dict(thresholds or {})
    return out


def radsem_lavaanify_options(options: dict) -> dict:
    """The :func:`build_partable` arguments matching a lavaanify case."""
    out = {k: v for k, v in options.items() if k != "auto"}
    out["model_type"] = "sem" if options.get("auto") else "lavaan"
    out["fixed_x"] = False  # lavaanify's default
    return out


# -- generated models ------------------------------------------------------------------------

_LETTERS = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _name(rng: np.random.Generator, used: set[str], prefix: str) -> str:
    while True:
        body = "".join(rng.choice(_LETTERS + list("0123456789._"), size=rng.integers(1, 5)))
        name = prefix + body
        if name not in used:
            used.add(name)
            return name


def _modifier(rng: np.random.Generator, labels: list[str], used: set[str]) -> str:
    kind = rng.integers(0, 8)
    if kind == 0:
        return f"{rng.choice([0.5, 1, 2, -1, 0.25]):g}*"
    if kind == 1:
        return "NA*"
    if kind == 2:
        return f"start({rng.uniform(0.1, 2):.3f})*"
    if kind == 3:
        if labels and rng.random() < 0.5:
            return f"{rng.choice(labels)}*"  # shared label: equality constraint
        lab = _name(rng, used, "L")
        labels.append(lab)
        return f"{lab}*"
    return ""


def random_model(seed: int) -> tuple[str, dict]:
    rng = np.random.default_rng(seed)
    used: set[str] = set()
    labels: list[str] = []
    nf = int(rng.integers(1, 5))
    factors = [_name(rng, used, "F") for _ in range(nf)]
    lines, indicators = [], []
    for f in factors:
        ind = [_name(rng, used, "x") for _ in range(int(rng.integers(2, 6)))]
        indicators += ind
        terms = [_modifier(rng, labels, used) + v for v in ind]
        lines.append(f"{f} =~ " + " + ".join(terms))
    if nf > 1 and rng.random() < 0.6:
        lines.append(f"{factors[-1]} ~ " + " + ".join(factors[:-1]))
    for _ in range(int(rng.integers(0, 3))):
        a, b = rng.choice(indicators, size=2, replace=False)
        lines.append(f"{a} ~~ {_modifier(rng, labels, used)}{b}")
    if rng.random() < 0.3:
        lines.append(f"{indicators[0]} ~ 1")
    if labels and rng.random() < 0.5:
        lines.append(f"def1 := {labels[0]}^2 + 1")
    options = {
        "std_lv": bool(rng.random() < 0.3),
        "orthogonal": bool(rng.random() < 0.2),
        "meanstructure": bool(rng.random() < 0.3),
        "ngroups": int(rng.choice([1, 1, 2])),
    }
    if options["ngroups"] == 2 and rng.random() < 0.7:
        options["group_equal"] = list(
            rng.choice(
                ["loadings", "intercepts", "residuals", "lv.variances", "lv.covariances"],
                size=int(rng.integers(1, 3)),
                replace=False,
            )
        )
    return "\n".join(lines), options


def random_lavaanify_case(seed: int) -> tuple[str, dict]:
    """A random model and the lavaanify options of the same table."""
    model, options = random_model(seed)
    ropts = dict(options, auto=True)
    if ropts.get("group_equal") and "intercepts" in ropts["group_equal"]:
        ropts["meanstructure"] = True  # lavaan() forces this before calling lavaanify
    return model, ropts
