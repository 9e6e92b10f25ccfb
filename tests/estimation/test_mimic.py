"""lavaan's ``mimic = "Mplus"`` / ``"EQS"`` and ``likelihood = "wishart"`` against lavaan
0.6-14 (live), and what is refused."""

from __future__ import annotations

import numpy as np
import pytest
from _sem_reference import lavaan_fit
from test_missing_fixtures import HS_MODEL, hs_frame, hs_mar

import radsem
from radsem.datasets import load
from radsem.errors import EstimationError

KEYS = ["npar", "chisq", "df", "cfi", "tli", "rmsea", "srmr", "logl", "aic", "bic"]


def _hs_school():
    return load("HolzingerSwineford1939")[[*hs_frame().columns, "school"]]


CASES = {
    "complete": (hs_frame, {}),
    "missing": (hs_mar, {}),
    "mlr": (hs_mar, {"estimator": "MLR"}),
    "groups": (_hs_school, {"group": "school"}),
    "groups_nomeans": (_hs_school, {"group": "school", "meanstructure": False}),
    "groups_none": (_hs_school, {"group": "school", "group_equal": "none"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_mplus_defaults_match_lavaan(r_lavaan, case):
    data, options = CASES[case]
    frame = data()
    pe, lfm, _ = lavaan_fit(HS_MODEL, frame, "cfa", mimic="Mplus", **options)
    fit = radsem.cfa(HS_MODEL, frame, mimic="Mplus", **options)
    assert fit.options["mimic"] == "Mplus"
    fm = fit.fit_measures()
    keys = [k for k in KEYS if k in lfm.index]
    np.testing.assert_allclose(fm[keys].to_numpy(float), lfm[keys].to_numpy(float), rtol=1e-4)
    ours = fit.parameter_estimates()
    keys = ["lhs", "op", "rhs"] + (["group"] if "group" in pe.columns else [])
    m = ours.merge(pe, on=keys, suffixes=("", "_r"))
    assert len(m) == len(pe)
    np.testing.assert_allclose(m["est"], m["est_r"], atol=1e-4)
    free = m["se_r"] > 0
    np.testing.assert_allclose(m.loc[free, "se"], m.loc[free, "se_r"], rtol=1e-4)


def test_mplus_fills_only_unset_options():
    fit = radsem.cfa(HS_MODEL, hs_frame(), mimic="mplus", missing="listwise", meanstructure=False)
    assert fit.options["missing"] == "listwise"
    assert fit.options["meanstructure"] is False
    assert radsem.cfa(HS_MODEL, hs_frame(), mimic="lavaan").options.get("mimic") is None


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"mimic": "EQS", "estimator": "MLR"}, "yuan.bentler"),
        ({"likelihood": "wishart", "missing": "ml"}, "complete data"),
        ({"likelihood": "student"}, "likelihood must be"),
        ({"mimic": "LISREL"}, "mimic must be"),
        ({"mimic": "Mplus", "estimator": "GLS"}, "GLS"),
        # lavaan computes robust.sem / Satorra-Bentler Mplus' way under mimic="Mplus"
        ({"mimic": "Mplus", "estimator": "MLM"}, "Mplus' variants"),
        ({"mimic": "Mplus", "se": "robust.sem", "missing": "listwise"}, "Mplus' variants"),
        ({"mimic": "Mplus", "test": "satorra.bentler", "missing": "listwise"}, "Mplus' var"),
        ({"mimic": "Mplus", "ordered": ["x1", "x2", "x3"]}, "ordered variables"),
    ],
)
def test_unsupported_mimic_settings_are_refused(options, match):
    data = hs_frame()
    if "ordered" in options:
        data = data.round().astype(int)
    with pytest.raises(EstimationError, match=match):
        radsem.cfa(HS_MODEL, data, **options)


EQS_CASES = {
    "cfa": ("cfa", HS_MODEL, hs_frame, {}),
    "groups_equal": (
        "cfa",
        HS_MODEL,
        _hs_school,
        {"group": "school", "group_equal": ["loadings", "intercepts"]},
    ),
    "covariate": (  # fixed.x = FALSE by default under EQS
        "sem",
        "visual =~ x1 + x2 + x3\nvisual ~ ageyr + sex",
        lambda: load("HolzingerSwineford1939")[["x1", "x2", "x3", "ageyr", "sex"]],
        {},
    ),
    "gls": ("cfa", HS_MODEL, hs_frame, {"estimator": "GLS"}),
}

EQS_KEYS = [*KEYS, "baseline.chisq", "rmsea.ci.upper", "ecvi", "cn_05", "gfi"]


@pytest.mark.parametrize("case", list(EQS_CASES))
def test_eqs_matches_lavaan(r_lavaan, case):
    func, model, data, options = EQS_CASES[case]
    frame = data()
    pe, lfm, _ = lavaan_fit(model, frame, func, mimic="EQS", **options)
    fit = getattr(radsem, func)(model, frame, mimic="EQS", **options)
    fm = fit.fit_measures()
    keys = [k for k in EQS_KEYS if k in lfm.index and np.isfinite(lfm[k])]
    np.testing.assert_allclose(fm[keys].to_numpy(float), lfm[keys].to_numpy(float), rtol=1e-4)
    keys = ["lhs", "op", "rhs"] + (["group"] if "group" in pe.columns else [])
    m = fit.parameter_estimates().merge(pe, on=keys, suffixes=("", "_r"))
    assert len(m) == len(pe)
    np.testing.assert_allclose(m["est"], m["est_r"], atol=1e-4)
    free = m["se_r"] > 0
    np.testing.assert_allclose(m.loc[free, "se"], m.loc[free, "se_r"], rtol=1e-4)


def test_eqs_cor_residuals_are_bentlers(r_lavaan):
    import rpy2.robjects as ro

    from radsem._r import to_r_dataframe

    frame = hs_frame()
    lav = ro.r("function(m, d) lavaan::cfa(m, d, mimic = 'EQS')")(HS_MODEL, to_r_dataframe(frame))
    ref = ro.r("function(f) lavaan::residuals(f, type = 'cor')")(lav)
    assert str(ref.rx2("type")[0]) == "cor.bentler"
    fit = radsem.cfa(HS_MODEL, frame, mimic="EQS")
    ours = fit.inspect("residuals", type="cor")
    assert ours["type"] == "cor.bentler"
    np.testing.assert_allclose(ours["cov"].to_numpy(), np.array(ref.rx2("cov")), atol=1e-4)
    np.testing.assert_allclose(
        fit.residuals("cor")[0]["cov"].to_numpy(), np.array(ref.rx2("cov")), atol=1e-4
    )
