"""The lavaan example corpus: models and options from lavaan's documentation.

Sources: the tutorial pages at lavaan.ugent.be (CFA, SEM, mean structures, multiple groups,
growth curves, categorical data, missing data, mediation with ``:=``, constraints, multilevel)
and the examples of the help pages of ``cfa``, ``sem``, ``growth``, ``lavaan`` and ``efa``
(lavaan 0.6-14), plus the estimator / missing / se / test / group / mimic options users set.

Each :class:`Case` names a data set (see :func:`load_data`): a radsem data set, a lavaan data
set fetched through rpy2 (``"R:Demo.twolevel"``) or data simulated in R with the tutorial's
own code and seed (``"sim:..."``). :data:`KNOWN_UNSUPPORTED` lists the cases radsem refuses,
with the reason; the parity test fails when a listed case starts working or an unlisted case
is refused, so the table stays honest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Case", "CASES", "KNOWN_UNSUPPORTED", "load_data"]


@dataclass(frozen=True)
class Case:
    """One example: ``function(model, data, **options)`` in lavaan and in radsem."""

    name: str
    model: str
    data: str
    function: str = "sem"
    options: dict = field(default_factory=dict)
    source: str = ""
    #: compare only the estimates (e.g. lavaan's own bootstrap draws differ from radsem's)
    estimates_only: bool = False
    #: lavaan's optimiser: "nlminb" (its default, run to a tighter tolerance: the default
    #: can stop 1e-4 short of the optimum), "bfgs" (BFGS to reltol 1e-14, for flat optima
    #: where nlminb stops short even then) or "default" (lavaan as shipped)
    optimizer: str = "nlminb"


HS = """visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9"""

PD = """# measurement model
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
# regressions
dem60 ~ ind60
dem65 ~ ind60 + dem60
# residual correlations
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8"""

PD_EQ = """ind60 =~ x1 + x2 + x3
dem60 =~ y1 + d1*y2 + d2*y3 + d3*y4
dem65 =~ y5 + d1*y6 + d2*y7 + d3*y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8"""

HS_FULL = """# latent variables
visual  =~ 1*x1 + x2 + x3
textual =~ 1*x4 + x5 + x6
speed   =~ 1*x7 + x8 + x9
# residual variances observed variables
x1 ~~ x1
x2 ~~ x2
x3 ~~ x3
x4 ~~ x4
x5 ~~ x5
x6 ~~ x6
x7 ~~ x7
x8 ~~ x8
x9 ~~ x9
# factor variances
visual  ~~ visual
textual ~~ textual
speed   ~~ speed
# factor covariances
visual  ~~ textual + speed
textual ~~ speed"""

HS_PARTIAL = """visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9"""

GROWTH = """i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4"""

GROWTH_COV = """# intercept and slope with fixed coefficients
i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4
# regressions
i ~ x1 + x2
s ~ x1 + x2"""

GROWTH_TVC = """# intercept and slope with fixed coefficients
i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4
# regressions
i ~ x1 + x2
s ~ x1 + x2
# time-varying covariates
t1 ~ c1
t2 ~ c2
t3 ~ c3
t4 ~ c4"""

MEDIATION = """# direct effect
Y ~ c*X
# mediator
M ~ a*X
Y ~ b*M
# indirect effect (a*b)
ab := a*b
# total effect
total := c + (a*b)"""

TWOLEVEL = """level: 1
    fw =~ y1 + y2 + y3
    fw ~ x1 + x2 + x3
level: 2
    fb =~ y1 + y2 + y3
    fb ~ w1 + w2"""

ORD = [f"x{i}" for i in range(1, 10)]
HSX = "HolzingerSwineford1939"
PDX = "PoliticalDemocracy"
MG = {"group": "school"}

CASES: list[Case] = [
    # --- CFA tutorial and ?cfa -----------------------------------------------------------
    Case("cfa_hs", HS, HSX, "cfa", source="tutorial cfa; ?cfa"),
    Case("cfa_hs_stdlv", HS, HSX, "cfa", {"std_lv": True}, "tutorial cfa (std.lv)"),
    Case("cfa_hs_orthogonal", HS, HSX, "cfa", {"orthogonal": True}, "?lavOptions"),
    Case("cfa_hs_meanstructure", HS, HSX, "cfa", {"meanstructure": True}, "tutorial means"),
    Case("cfa_hs_gls", HS, HSX, "cfa", {"estimator": "GLS"}, "tutorial estimators"),
    Case("cfa_hs_uls", HS, HSX, "cfa", {"estimator": "ULS"}, "tutorial estimators"),
    Case("cfa_hs_wls", HS, HSX, "cfa", {"estimator": "WLS"}, "tutorial estimators"),
    Case("cfa_hs_dwls", HS, HSX, "cfa", {"estimator": "DWLS"}, "tutorial estimators"),
    Case("cfa_hs_mlm", HS, HSX, "cfa", {"estimator": "MLM"}, "tutorial estimators"),
    Case("cfa_hs_mlmv", HS, HSX, "cfa", {"estimator": "MLMV"}, "tutorial estimators"),
    Case("cfa_hs_mlmvs", HS, HSX, "cfa", {"estimator": "MLMVS"}, "tutorial estimators"),
    Case("cfa_hs_mlf", HS, HSX, "cfa", {"estimator": "MLF"}, "tutorial estimators"),
    Case("cfa_hs_mlr", HS, HSX, "cfa", {"estimator": "MLR"}, "tutorial estimators"),
    Case("cfa_hs_wlsmv_cont", HS, HSX, "cfa", {"estimator": "WLSMV"}, "tutorial estimators"),
    Case("cfa_hs_ulsmv_cont", HS, HSX, "cfa", {"estimator": "ULSMV"}, "tutorial estimators"),
    Case("cfa_hs_observed", HS, HSX, "cfa", {"information": "observed"}, "tutorial se"),
    Case("cfa_hs_robust_se", HS, HSX, "cfa", {"se": "robust"}, "tutorial se"),
    Case(
        "cfa_hs_robust_sem_sb",
        HS,
        HSX,
        "cfa",
        {"se": "robust.sem", "test": "satorra.bentler"},
        "tutorial se/test",
    ),
    Case("cfa_hs_test_yb", HS, HSX, "cfa", {"test": "yuan.bentler"}, "?lavOptions test"),
    Case(
        "cfa_hs_test_two",
        HS,
        HSX,
        "cfa",
        {"test": ["satorra.bentler", "mean.var.adjusted"]},
        "?lavOptions test",
    ),
    Case("cfa_hs_se_none", HS, HSX, "cfa", {"se": "none"}, "?lavOptions se"),
    Case(
        "cfa_hs_bootstrap_se",
        HS,
        HSX,
        "cfa",
        {"se": "bootstrap", "bootstrap": 50},
        "tutorial se",
        estimates_only=True,
    ),
    Case(
        "cfa_hs_constrained_loadings",
        """visual  =~ x1 + v2*x2 + v2*x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9""",
        HSX,
        "cfa",
        source="tutorial syntax 2 (equality)",
    ),
    Case(
        "cfa_hs_fixed_loading",
        """visual  =~ x1 + 0.5*x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9""",
        HSX,
        "cfa",
        source="tutorial syntax 2 (fixed)",
    ),
    Case(
        "cfa_hs_start_values",
        """visual  =~ x1 + start(0.8)*x2 + start(1.2)*x3
textual =~ x4 + start(0.5)*x5 + x6
speed   =~ x7 + x8 + x9""",
        HSX,
        "cfa",
        source="tutorial syntax 2 (start)",
    ),
    Case(
        "cfa_hs_orthogonal_syntax",
        HS + "\nvisual ~~ 0*speed\ntextual ~~ 0*speed",
        HSX,
        "cfa",
        source="tutorial syntax 2 (orthogonal)",
    ),
    Case(
        "cfa_hs_intercept_fixed",
        HS + "\nx1 ~ 0.5*1",
        HSX,
        "cfa",
        source="tutorial means",
    ),
    Case(
        "cfa_hs_crossloading",
        HS + "\nvisual =~ x9",
        HSX,
        "cfa",
        source="tutorial modification indices follow-up",
    ),
    Case("lavaan_hs_full", HS_FULL, HSX, "lavaan", source="?lavaan"),
    Case(
        "lavaan_hs_auto",
        HS,
        HSX,
        "lavaan",
        {"auto_var": True, "auto_fix_first": True, "auto_cov_lv_x": True},
        "?lavaan",
    ),
    Case("cfa_hs_wishart", HS, HSX, "cfa", {"likelihood": "wishart"}, "?lavOptions likelihood"),
    Case("cfa_hs_std_ov", HS, HSX, "cfa", {"std_ov": True}, "?lavOptions std.ov"),
    # --- SEM tutorial and ?sem ----------------------------------------------------------
    Case("sem_pd", PD, PDX, "sem", source="tutorial sem; ?sem"),
    Case("sem_pd_equal", PD_EQ, PDX, "sem", source="tutorial sem (equality labels)"),
    Case("sem_pd_mlr", PD, PDX, "sem", {"estimator": "MLR"}, "tutorial sem"),
    Case("sem_pd_mlm", PD, PDX, "sem", {"estimator": "MLM"}, "tutorial sem"),
    Case("sem_pd_stdlv", PD, PDX, "sem", {"std_lv": True}, "tutorial sem", optimizer="bfgs"),
    Case("sem_pd_gls", PD, PDX, "sem", {"estimator": "GLS"}, "tutorial estimators"),
    Case("sem_pd_observed", PD, PDX, "sem", {"information": "observed"}, "tutorial se"),
    Case("sem_pd_meanstructure", PD, PDX, "sem", {"meanstructure": True}, "tutorial means"),
    Case(
        "sem_hs_regression",
        HS + "\nspeed ~ visual + textual",
        HSX,
        "sem",
        source="tutorial sem (structural part)",
    ),
    Case(
        "sem_hs_covariates",
        HS + "\nvisual ~ sex + ageyr\nspeed ~ ageyr",
        HSX,
        "sem",
        source="tutorial sem (exogenous covariates, fixed.x)",
    ),
    Case(
        "sem_hs_covariates_fixedx_false",
        HS + "\nvisual ~ sex + ageyr",
        HSX,
        "sem",
        {"fixed_x": False},
        "?lavOptions fixed.x",
    ),
    Case(
        "sem_hs_covariates_mlr",
        HS + "\nvisual ~ sex + ageyr",
        HSX,
        "sem",
        {"estimator": "MLR"},
        "tutorial estimators",
    ),
    Case(
        "sem_path_regression",
        "x9 ~ x1 + x2 + x3\nx8 ~ x9 + x1",
        HSX,
        "sem",
        source="tutorial syntax (observed regression)",
    ),
    # --- mean structures and multiple groups -------------------------------------------
    Case("mg_hs", HS, HSX, "cfa", MG, "tutorial groups"),
    Case("mg_hs_loadings", HS, HSX, "cfa", {**MG, "group_equal": ["loadings"]}, "tutorial"),
    Case(
        "mg_hs_loadings_intercepts",
        HS,
        HSX,
        "cfa",
        {**MG, "group_equal": ["loadings", "intercepts"]},
        "tutorial groups (measurement invariance)",
    ),
    Case(
        "mg_hs_strict",
        HS,
        HSX,
        "cfa",
        {**MG, "group_equal": ["loadings", "intercepts", "residuals"]},
        "tutorial groups (strict invariance)",
    ),
    Case(
        "mg_hs_means",
        HS,
        HSX,
        "cfa",
        {**MG, "group_equal": ["loadings", "intercepts", "means"]},
        "tutorial groups",
    ),
    Case(
        "mg_hs_partial",
        HS_PARTIAL,
        HSX,
        "cfa",
        {**MG, "group_equal": ["loadings", "intercepts"], "group_partial": ["x3 ~ 1", "x7 ~ 1"]},
        "tutorial groups (group.partial)",
    ),
    Case(
        "mg_hs_labels",
        """visual  =~ x1 + 0.5*x2 + c(0.6, 0.8)*x3
textual =~ x4 + start(c(1.2, 0.6))*x5 + a*x6
speed   =~ x7 + x8 + x9""",
        HSX,
        "cfa",
        MG,
        "tutorial groups (modifiers per group)",
    ),
    Case(
        "mg_hs_equal_labels",
        """visual  =~ x1 + c(v2, v2)*x2 + c(v3, v3)*x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9""",
        HSX,
        "cfa",
        MG,
        "tutorial groups (equal via labels)",
    ),
    Case("mg_hs_mlr", HS, HSX, "cfa", {**MG, "estimator": "MLR"}, "tutorial groups"),
    Case(
        "mg_hs_mlm_loadings",
        HS,
        HSX,
        "cfa",
        {**MG, "group_equal": ["loadings"], "estimator": "MLM"},
        "tutorial groups",
    ),
    # --- growth curves -------------------------------------------------------------------
    Case("growth_basic", GROWTH, "Demo.growth", "growth", source="tutorial growth; ?growth"),
    Case("growth_covariates", GROWTH_COV, "Demo.growth", "growth", source="tutorial growth"),
    Case("growth_tvc", GROWTH_TVC, "Demo.growth", "growth", source="tutorial growth"),
    Case(
        "growth_mlr",
        GROWTH_TVC,
        "Demo.growth",
        "growth",
        {"estimator": "MLR"},
        "tutorial growth",
    ),
    Case(
        "growth_quadratic",
        GROWTH + "\nq =~ 0*t1 + 1*t2 + 4*t3 + 9*t4",
        "Demo.growth",
        "growth",
        source="tutorial growth (quadratic)",
    ),
    # --- categorical data ---------------------------------------------------------------
    Case("ord_hs_wlsmv", HS, "hsord", "cfa", {"ordered": ORD}, "tutorial categorical"),
    Case(
        "ord_hs_wlsmv_theta",
        HS,
        "hsord",
        "cfa",
        {"ordered": ORD, "parameterization": "theta"},
        "tutorial categorical",
    ),
    Case("ord_hs_ulsmv", HS, "hsord", "cfa", {"ordered": ORD, "estimator": "ULSMV"}, "tutorial"),
    Case("ord_hs_wls", HS, "hsord", "cfa", {"ordered": ORD, "estimator": "WLS"}, "tutorial"),
    Case("ord_hs_dwls", HS, "hsord", "cfa", {"ordered": ORD, "estimator": "DWLS"}, "tutorial"),
    Case("ord_hs_wlsm", HS, "hsord", "cfa", {"ordered": ORD, "estimator": "WLSM"}, "tutorial"),
    Case(
        "ord_hs_mg",
        HS,
        "hsordmg",
        "cfa",
        {"ordered": ORD, **MG},
        "tutorial categorical (groups)",
    ),
    Case(
        "ord_cov_condx_ulsmv",
        "visual =~ x1 + x2 + x3\nvisual ~ sex",
        "hsordcov",
        "sem",
        {"ordered": ["x1", "x2", "x3"], "estimator": "ULSMV"},
        "tutorial categorical (conditional.x, ULSMV)",
    ),
    Case(
        "ord_regression_condx",
        "x1 ~ sex\nx2 ~ sex + x1",
        "hsordcov",
        "sem",
        {"ordered": ["x1", "x2"]},
        "tutorial categorical (probit regressions)",
    ),
    Case(
        "ord_regression_condx_theta",
        "x1 ~ sex\nx2 ~ x1\nx3 ~ x2",
        "hsordcov",
        "sem",
        {"ordered": ["x1", "x2", "x3"], "parameterization": "theta"},
        "tutorial categorical (probit regressions, theta)",
    ),
    Case(
        "ord_cov_condx",
        "visual =~ x1 + x2 + x3\nvisual ~ sex",
        "hsordcov",
        "sem",
        {"ordered": ["x1", "x2", "x3"]},
        "tutorial categorical (exogenous covariates, conditional.x)",
    ),
    # --- missing data -------------------------------------------------------------------
    Case("miss_hs_fiml", HS, "hsmiss", "cfa", {"missing": "ml"}, "tutorial missing"),
    Case(
        "miss_hs_fiml_mlr",
        HS,
        "hsmiss",
        "cfa",
        {"missing": "ml", "estimator": "MLR"},
        "tutorial missing",
    ),
    Case("miss_hs_listwise", HS, "hsmiss", "cfa", {"missing": "listwise"}, "tutorial missing"),
    Case(
        "miss_hs_fiml_mg",
        HS,
        "hsmissmg",
        "cfa",
        {"missing": "ml", **MG},
        "tutorial missing (groups)",
    ),
    Case(
        "miss_hs_fiml_x",
        HS + "\nvisual ~ ageyr",
        "hsmissx",
        "sem",
        {"missing": "ml.x"},
        "?lavOptions missing",
    ),
    Case(
        "miss_pd_fiml",
        PD,
        "pdmiss",
        "sem",
        {"missing": "fiml"},
        "tutorial missing",
    ),
    # --- mediation and defined parameters ------------------------------------------------
    Case("mediation", MEDIATION, "sim:mediation", "sem", source="tutorial mediation"),
    Case(
        "mediation_mlr",
        MEDIATION,
        "sim:mediation",
        "sem",
        {"estimator": "MLR"},
        "tutorial mediation",
    ),
    Case(
        "mediation_bootstrap",
        MEDIATION,
        "sim:mediation",
        "sem",
        {"se": "bootstrap", "bootstrap": 50},
        "tutorial mediation (se = bootstrap)",
        estimates_only=True,
    ),
    # --- constraints --------------------------------------------------------------------
    Case(
        "constraint_nonlinear",
        "y ~ b1*x1 + b2*x2 + b3*x3\nb1 == (b2 + b3)^2\nb1 > exp(b2 + b3)",
        "sim:constraints",
        "sem",
        source="tutorial constraints",
        optimizer="default",  # the tightened nlminb run leaves the constraint
    ),
    Case(
        "constraint_linear",
        "y ~ b1*x1 + b2*x2 + b3*x3\nb1 == b2 + b3",
        "sim:constraints",
        "sem",
        source="tutorial constraints",
        optimizer="default",  # the tightened nlminb run leaves the constraint
    ),
    Case(
        "constraint_pd",
        PD_EQ + "\nd1 == 2*d3",
        PDX,
        "sem",
        source="tutorial constraints",
        optimizer="default",  # the tightened nlminb run leaves the constraint
    ),
    # --- multilevel ---------------------------------------------------------------------
    Case(
        "twolevel_demo",
        TWOLEVEL,
        "R:Demo.twolevel",
        "sem",
        {"cluster": "cluster"},
        "tutorial multilevel",
        optimizer="bfgs",
    ),
    # --- more options users set ------------------------------------------------------------
    Case("ord_hs_stdlv", HS, "hsord", "cfa", {"ordered": ORD, "std_lv": True}, "tutorial"),
    Case(
        "growth_fiml",
        GROWTH_COV,
        "growthmiss",
        "growth",
        {"missing": "ml"},
        "tutorial growth + missing",
    ),
    Case(
        "miss_hs_fiml_mlr_mg",
        HS,
        "hsmissmg",
        "cfa",
        {"missing": "ml", "estimator": "MLR", **MG, "group_equal": ["loadings"]},
        "tutorial missing (groups, MLR)",
    ),
    Case("mg_hs_uls", HS, HSX, "cfa", {**MG, "estimator": "ULS"}, "tutorial", optimizer="bfgs"),
    Case("mg_hs_gls", HS, HSX, "cfa", {**MG, "estimator": "GLS"}, "tutorial", optimizer="bfgs"),
    Case(
        "sem_pd_mlmvs",
        PD,
        PDX,
        "sem",
        {"estimator": "MLMVS"},
        "tutorial estimators",
    ),
    Case(
        "cfa_hs_observed_mlr",
        HS,
        HSX,
        "cfa",
        {"estimator": "MLR", "information": "expected"},
        "?lavOptions information",
    ),
    # --- mimic --------------------------------------------------------------------------
    Case("mimic_mplus_hs", HS, HSX, "cfa", {"mimic": "Mplus"}, "?lavOptions mimic"),
    Case(
        "mimic_mplus_hs_mlr",
        HS,
        HSX,
        "cfa",
        {"mimic": "Mplus", "estimator": "MLR"},
        "?lavOptions mimic",
    ),
    Case("mimic_mplus_miss", HS, "hsmiss", "cfa", {"mimic": "Mplus"}, "?lavOptions mimic"),
    Case("mimic_mplus_pd", PD, PDX, "sem", {"mimic": "Mplus"}, "?lavOptions mimic"),
    Case("mimic_mplus_mg", HS, HSX, "cfa", {"mimic": "Mplus", **MG}, "?lavOptions mimic"),
    Case("mimic_eqs_hs", HS, HSX, "cfa", {"mimic": "EQS"}, "?lavOptions mimic"),
    Case("mimic_eqs_pd", PD, PDX, "sem", {"mimic": "EQS"}, "?lavOptions mimic"),
    Case("mimic_eqs_mg", HS, HSX, "cfa", {"mimic": "EQS", **MG}, "?lavOptions mimic"),
    Case("mimic_eqs_mlr", HS, HSX, "cfa", {"mimic": "EQS", "estimator": "MLR"}, "?lavOptions"),
    Case(
        "mimic_eqs_covariates",
        HS + "\nvisual ~ sex + ageyr",
        HSX,
        "sem",
        {"mimic": "EQS"},
        "?lavOptions mimic (fixed.x = FALSE)",
    ),
    Case("sem_pd_wishart", PD, PDX, "sem", {"likelihood": "wishart"}, "?lavOptions likelihood"),
    Case(
        "mimic_mplus_se_robust_sem",
        HS,
        HSX,
        "cfa",
        {"mimic": "Mplus", "missing": "listwise", "se": "robust.sem"},
        "?lavOptions mimic",
    ),
    Case(
        "mimic_mplus_mlm",
        HS,
        HSX,
        "cfa",
        {"mimic": "Mplus", "estimator": "MLM"},
        "?lavOptions mimic",
    ),
    # --- EFA / ESEM (?efa) and syntax in progress ------------------------------------------
    Case(
        "esem_hs",
        """efa("efa")*f1 + efa("efa")*f2 =~ x1 + x2 + x3 + x4 + x5 + x6
speed =~ x7 + x8 + x9""",
        HSX,
        "sem",
        source="?efa (ESEM syntax)",
    ),
    Case(
        "esem_hs_oblimin",
        """efa("efa")*f1 + efa("efa")*f2 + efa("efa")*f3 =~
    x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9""",
        HSX,
        "sem",
        {"rotation": "oblimin"},
        "?efa (rotation)",
    ),
    Case("efa_hs_3", "", "hsnine", "efa", {"nfactors": 3}, "?efa"),
    Case("efa_hs_2", "", "hsnine", "efa", {"nfactors": 2}, "?efa"),
    Case("efa_hs_3_oblimin", "", "hsnine", "efa", {"nfactors": 3, "rotation": "oblimin"}, "?efa"),
    Case("efa_hs_3_varimax", "", "hsnine", "efa", {"nfactors": 3, "rotation": "varimax"}, "?efa"),
    Case("efa_hs_3_promax", "", "hsnine", "efa", {"nfactors": 3, "rotation": "promax"}, "?efa"),
    Case(
        "efa_hs_3_mlr",
        "",
        "hsnine",
        "efa",
        {"nfactors": 3, "estimator": "MLR"},
        "?efa (estimator)",
    ),
    # --- latent variables without indicators, as.numeric() (lavaan syntax) ------------------
    Case(
        "phantom_latent_sum",
        """visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
total =~ 0
total ~ 1*visual + 1*textual
total ~~ 0*total""",
        HSX,
        "sem",
        source="lavaan syntax (latent without indicators)",
    ),
    Case(
        "phantom_path",
        """f =~ x1 + x2 + x3
d =~ 0
d ~ f
x4 ~ 1*d
x4 ~~ 0*x4""",
        HSX,
        "sem",
        source="lavaan syntax (phantom latent)",
    ),
    Case(
        "as_numeric_modifier",
        """visual =~ as.numeric(NA)*x1 + as.numeric(0.6)*x2 + x3
visual ~~ 1*visual
textual =~ x4 + as.numeric("1.1")*x5 + x6""",
        HSX,
        "sem",
        source="lavaan syntax (as.numeric modifier)",
    ),
]

#: case name -> why radsem refuses it (its error message must be radsem's own)
KNOWN_UNSUPPORTED: dict[str, str] = {
    "mimic_eqs_mlr": "mimic = 'EQS' with MLR needs EQS' scaled test (lavaan's yuan.bentler "
    "for MLR), not implemented",
    "mimic_mplus_mlm": "mimic = 'Mplus' variants of the Satorra-Bentler corrections "
    "(MLM, MLMV, MLMVS, robust.sem) are not implemented",
    "mimic_mplus_se_robust_sem": "mimic = 'Mplus' variant of robust.sem standard errors is "
    "not implemented",
    "ord_regression_condx": "an ordered variable predicting another under the delta "
    "parameterization: radsem's standard errors would not reproduce lavaan's (use theta)",
    "cfa_hs_std_ov": "std.ov (standardising the observed variables first) is not implemented",
    "miss_hs_fiml_x": "missing = 'ml.x' (FIML keeping cases with missing fixed covariates) "
    "is not implemented",
}


def _r_frame(code: str):
    """A data frame produced by R code (the tutorial's own simulation and seed)."""
    import rpy2.robjects as ro

    from radsem import _r

    return _r.from_r_dataframe(ro.r(code))


_SIMS = {
    "sim:mediation": (
        "local({set.seed(1234); X <- rnorm(100); M <- 0.5*X + rnorm(100); "
        "Y <- 0.7*M + rnorm(100); data.frame(X = X, Y = Y, M = M)})"
    ),
    "sim:constraints": (
        "local({set.seed(1234); data.frame(y = rnorm(100), x1 = rnorm(100), "
        "x2 = rnorm(100), x3 = rnorm(100))})"
    ),
}


def load_data(name: str):
    """The data of a case (radsem's data sets, lavaan's through rpy2, or R simulations).

    ``hsmiss*``: HolzingerSwineford1939 with 15 % of x2, x5, x8 missing completely at random
    (numpy seed 1); ``hsord*``: its nine tests cut into three ordered categories.
    """
    import numpy as np

    from radsem.datasets import load

    if name in _SIMS:
        return _r_frame(_SIMS[name])
    if name.startswith("R:"):
        return _r_frame(f"lavaan::{name[2:]}")
    if name in ("HolzingerSwineford1939", "PoliticalDemocracy", "Demo.growth"):
        data = load(name)
        if name == "HolzingerSwineford1939":
            data = data.assign(school=data["school"].astype(str))
        return data
    hs = load("HolzingerSwineford1939")
    hs = hs.assign(school=hs["school"].astype(str), sex=hs["sex"].astype(float))
    if name == "hsnine":
        return hs[ORD]
    if name.startswith("hsord"):
        from radsem.estimation.families.ordinal.coding import cut_into_categories

        out = cut_into_categories(hs[ORD], 3)
        if name == "hsordmg":
            out.insert(0, "school", hs["school"])
        if name == "hsordcov":
            out["sex"] = hs["sex"]
        return out
    rng = np.random.default_rng(1)
    if name == "growthmiss":
        growth = load("Demo.growth")
        mask = (rng.random(growth.shape) < 0.1) & growth.columns.isin(["t2", "t3", "t4"])
        return growth.mask(mask)
    if name == "pdmiss":
        pdem = load("PoliticalDemocracy")
        mask = (rng.random(pdem.shape) < 0.1) & pdem.columns.isin(["y2", "y6", "x3"])
        return pdem.mask(mask)
    data = hs[[*ORD, "school", "ageyr"]]
    mask = (rng.random(data.shape) < 0.15) & data.columns.isin(["x2", "x5", "x8"])
    data = data.mask(mask)
    if name == "hsmiss":
        return data[ORD]
    if name == "hsmissmg":
        return data[["school", *ORD]]
    if name == "hsmissx":
        return data[[*ORD, "ageyr"]].astype(float)
    raise KeyError(name)
