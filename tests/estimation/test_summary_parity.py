"""``fit.summary(fit_measures=, standardized=, rsquare=)`` against lavaan 0.6-14's summary().

lavaan's text is captured live through rpy2 (``capture.output``); both texts are parsed into
``(group, block, label) -> printed numbers`` and must hold the same lines with the same
numbers at the printed precision (:mod:`_summary_compare`). Cases: HolzingerSwineford CFA
with ML, MLR, ULS, FIML (20 % MAR values) with ML and MLR, multi-group (ML, MLR with equal
loadings, ``mimic="Mplus"``), listwise deletion (Used/Total), ``mimic="EQS"``, fixed
covariates (left out of the report as lavaan), a growth model, the PoliticalDemocracy SEM
(labels, equality constraints, ``:=``), ordinal CFAs (WLSMV with one and two groups,
theta parameterisation, mixed continuous/ordinal indicators, ULSMV, WLSM), the Satorra-Bentler
family (MLM, MLMV with one and two groups, MLMVS, MLF, continuous WLS/DWLS/ULSMV,
``se="robust.sem"``, several tests at once in either order) and the Bollen-Stine bootstrap
test (layout and every number but its p-value, which follows R's random numbers).
"""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _summary_compare import compare_summaries, parse_summary
from test_missing_fixtures import HS_MODEL, hs_frame, hs_mar

import radsem
from radsem.datasets import load
from radsem.estimation.measures.summary import FitSummary

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reference"))

from ordinal_fit_reference import case_data, case_options  # noqa: E402

PD_MODEL = """
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + a*y2 + b*y3 + c*y4
dem65 =~ y5 + a*y6 + b*y7 + c*y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
ab := a*b
"""


def _hs_school() -> pd.DataFrame:
    return load("HolzingerSwineford1939")[[*hs_frame().columns, "school"]]


def _hs_listwise() -> pd.DataFrame:
    data = hs_frame()
    data.iloc[::7, 1] = np.nan
    return data


def _hs_ordered() -> pd.DataFrame:
    from radsem.estimation.families.ordinal.coding import cut_into_categories

    return cut_into_categories(hs_frame(), 3)


def _ordinal():
    case = case_options("hs3_wlsmv")
    return case.function, case.model, case_data("hs3_wlsmv"), dict(case.options)


CASES = {
    "hs_ml": lambda: ("cfa", HS_MODEL, hs_frame(), {}),
    "hs_mlr": lambda: ("cfa", HS_MODEL, hs_frame(), {"estimator": "MLR"}),
    "hs_fiml": lambda: ("cfa", HS_MODEL, hs_mar(), {"missing": "ml"}),
    "hs_fiml_mlr": lambda: ("cfa", HS_MODEL, hs_mar(), {"missing": "ml", "estimator": "MLR"}),
    "hs_groups": lambda: ("cfa", HS_MODEL, _hs_school(), {"group": "school"}),
    "hs_groups_mlr": lambda: (
        "cfa",
        HS_MODEL,
        _hs_school(),
        {"group": "school", "estimator": "MLR", "group_equal": ["loadings"]},
    ),
    "hs_listwise": lambda: ("cfa", HS_MODEL, _hs_listwise(), {}),
    "pd_sem": lambda: ("sem", PD_MODEL, load("PoliticalDemocracy"), {}),
    "hs_eqs": lambda: ("cfa", HS_MODEL, hs_frame(), {"mimic": "EQS"}),
    "hs_mplus_groups": lambda: (
        "cfa",
        HS_MODEL,
        _hs_school(),
        {"group": "school", "mimic": "Mplus"},
    ),
    "hs_wlsmv": _ordinal,
    "hs_uls": lambda: ("cfa", HS_MODEL, hs_frame(), {"estimator": "ULS"}),
    "covariates": lambda: (
        "sem",
        "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ ageyr + sex\ntextual ~ visual",
        load("HolzingerSwineford1939")[["x1", "x2", "x3", "x4", "x5", "x6", "ageyr", "sex"]],
        {},
    ),
    "growth": lambda: (
        "growth",
        "i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4\ns =~ 0*t1 + 1*t2 + 2*t3 + 3*t4",
        load("Demo.growth"),
        {},
    ),
    # the Satorra-Bentler family and test= (lavaan's layout for one and several tests)
    "hs_mlm": lambda: ("cfa", HS_MODEL, hs_frame(), {"estimator": "MLM"}),
    "hs_mlmv": lambda: ("cfa", HS_MODEL, hs_frame(), {"estimator": "MLMV"}),
    "hs_mlmvs": lambda: ("cfa", HS_MODEL, hs_frame(), {"estimator": "MLMVS"}),
    "hs_mlf": lambda: ("cfa", HS_MODEL, hs_frame(), {"estimator": "MLF"}),
    "hs_wls": lambda: ("cfa", HS_MODEL, hs_frame(), {"estimator": "WLS"}),
    "hs_dwls": lambda: ("cfa", HS_MODEL, hs_frame(), {"estimator": "DWLS"}),
    "hs_ulsmv": lambda: ("cfa", HS_MODEL, hs_frame(), {"estimator": "ULSMV"}),
    "hs_wlsm_ordered": lambda: (
        "cfa",
        HS_MODEL,
        _hs_ordered(),
        {"estimator": "WLSM", "ordered": list(hs_frame().columns)},
    ),
    "hs_sb_and_mv": lambda: (
        "cfa",
        HS_MODEL,
        hs_frame(),
        {"test": ["satorra.bentler", "mean.var.adjusted"]},
    ),
    "hs_mv_sb_chisq": lambda: ("cfa", HS_MODEL, hs_frame(), {"test": ["MV", "sb", "chisq"]}),
    "hs_robust_sem": lambda: ("cfa", HS_MODEL, hs_frame(), {"se": "robust.sem"}),
    "hs_groups_mlmv": lambda: (
        "cfa",
        HS_MODEL,
        _hs_school(),
        {"group": "school", "estimator": "MLMV"},
    ),
    "just_identified_mlm": lambda: ("cfa", "f =~ x1 + x2 + x3", hs_frame(), {"estimator": "MLM"}),
    "just_identified_mlmv": lambda: ("cfa", "f =~ x1 + x2 + x3", hs_frame(), {"estimator": "MLMV"}),
    "hs_groups_sv_sb": lambda: (
        "cfa",
        HS_MODEL,
        _hs_school(),
        {"group": "school", "test": ["scaled.shifted", "satorra.bentler"]},
    ),
    "hs_yb_sb": lambda: (
        "cfa",
        HS_MODEL,
        hs_frame(),
        {"test": ["yuan.bentler", "satorra.bentler"]},
    ),
    "pd_mlmvs": lambda: ("sem", PD_MODEL, load("PoliticalDemocracy"), {"estimator": "MLMVS"}),
}


def _ordinal_case(name):
    import rpy2.robjects as ro

    case = case_options(name)
    options = {
        k: ro.StrVector(v) if isinstance(v, (list, tuple)) else v for k, v in case.options.items()
    }
    return case.function, case.model, case_data(name), dict(case.options), options


@pytest.mark.parametrize("name", ["hs3_groups", "hs3_theta", "hs3_mixed", "hs3_ulsmv"])
def test_ordinal_summary_matches_lavaan(r_lavaan, name):
    func, model, data, options, r_options = _ordinal_case(name)
    fit = _radsem_fit(func, model, data, options)
    ours = fit.summary(fit_measures=True, standardized=True, rsquare=True)
    theirs = _lavaan_summary(func, model, data, r_options, (True, True, True))
    problems = compare_summaries(ours, theirs)
    assert not problems, "\n".join(problems[:20])


def _lavaan_summary(func, model, data, options, flags) -> str:
    import rpy2.robjects as ro

    from radsem._r import to_r_dataframe

    fit = ro.r(f"function(...) lavaan::{func}(...)")(
        model=model,
        data=to_r_dataframe(data),
        **{
            k.replace("_", "."): ro.StrVector(v) if isinstance(v, list) else v
            for k, v in options.items()
        },
    )
    show = ro.r(
        "function(f, fm, st, r2) paste(utils::capture.output(lavaan::summary(f, "
        "fit.measures = fm, standardized = st, rsquare = r2)), collapse = '\\n')"
    )
    return str(show(fit, *flags)[0])


def _radsem_fit(func, model, data, options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # listwise deletion is reported with a DataWarning
        return getattr(radsem, func)(model, data, **options)


@pytest.mark.parametrize("case", list(CASES))
def test_summary_matches_lavaan(r_lavaan, case):
    func, model, data, options = CASES[case]()
    fit = _radsem_fit(func, model, data, options)
    flags = (True, True, True)
    ours = fit.summary(fit_measures=True, standardized=True, rsquare=True)
    theirs = _lavaan_summary(func, model, data, options, flags)
    assert isinstance(ours, FitSummary)
    problems = compare_summaries(ours, theirs)
    assert not problems, "\n".join(problems[:20])
    assert len(parse_summary(theirs)) > 30  # the comparison saw the report


@pytest.mark.parametrize("case", ["hs_ml", "hs_mlr", "pd_sem"])
def test_default_summary_matches_lavaan(r_lavaan, case):
    func, model, data, options = CASES[case]()
    fit = _radsem_fit(func, model, data, options)
    theirs = _lavaan_summary(func, model, data, options, (False, False, False))
    problems = compare_summaries(fit.summary(), theirs)
    assert not problems, "\n".join(problems[:20])


def test_summary_blocks_hold_the_unrounded_values():
    fit = radsem.cfa(HS_MODEL, hs_frame(), estimator="MLR")
    fm = fit.fit_measures()
    s = fit.summary(fit_measures=True, standardized=True, rsquare=True)
    test = s.blocks["Model Test User Model"]
    assert list(test.columns) == ["Standard", "Scaled"]
    assert test.loc["Test Statistic", "Standard"] == fm["chisq"]
    assert test.loc["Test Statistic", "Scaled"] == fm["chisq.scaled"]
    assert (
        s.blocks["Root Mean Square Error of Approximation"].loc["Robust RMSEA", "Scaled"]
        == (fm["rmsea.robust"])
    )
    loadings = s.blocks["Latent Variables"]
    pe = fit.parameter_estimates()
    np.testing.assert_allclose(loadings["est"], pe.loc[pe["op"] == "=~", "est"])
    r2 = s.blocks["R-Square"].set_index("lhs")["r2"]
    pd.testing.assert_series_equal(r2, fit.r2(), check_names=False, check_index_type=False)
    assert "R-Square" not in fit.summary().blocks
    assert "Std.lv" not in fit.summary()
    assert "Std.lv" in s


def test_summary_is_a_plain_string_for_saving(tmp_path):
    fit = radsem.cfa(HS_MODEL, hs_frame())
    back = radsem.load_fit(fit.save(tmp_path / "fit.json"))
    assert back.summary() == fit.summary()


def test_bootstrap_summary_has_lavaans_lines(r_lavaan):
    """Same lines as lavaan (bootstrap draws and their counts); the bootstrap standard errors
    differ with the random numbers, so only estimates and the fit blocks are compared."""
    options = {"se": "bootstrap", "bootstrap": 100, "seed": 1}
    fit = _radsem_fit("cfa", HS_MODEL, hs_frame(), options)
    ours = parse_summary(fit.summary(fit_measures=True, standardized=True))
    lav_options = {"se": "bootstrap", "bootstrap": 100}
    theirs = parse_summary(
        _lavaan_summary("cfa", HS_MODEL, hs_frame(), lav_options, (True, True, False))
    )
    assert ours.keys() == theirs.keys()
    for key, want in theirs.items():
        got = ours[key]
        if key[1] in ("Latent Variables", "Covariances", "Variances"):
            got, want = [got[0], *got[-2:]], [want[0], *want[-2:]]  # est, std.lv, std.all
        np.testing.assert_allclose(got, want, atol=1.001e-3, err_msg=str(key))


_BS_LINE = re.compile(r"^  P-value \(Bollen-Stine bootstrap\) +(\S+)$", re.M)


def test_bollen_stine_summary_matches_lavaan(r_lavaan):
    """lavaan's layout for ``test="bollen.stine"`` (the standard test, then a second block with
    the bootstrap p-value); every number but that p-value (random) is compared."""
    options = {"test": "bollen.stine", "bootstrap": 100}
    fit = _radsem_fit("cfa", HS_MODEL, hs_frame(), {**options, "seed": 1})
    ours = fit.summary(fit_measures=True, standardized=True, rsquare=True)
    theirs = _lavaan_summary("cfa", HS_MODEL, hs_frame(), options, (True, True, True))
    p_ours, p_theirs = _BS_LINE.findall(ours), _BS_LINE.findall(theirs)
    assert len(p_ours) == len(p_theirs) == 1
    assert float(p_ours[0]) == pytest.approx(fit.tests()["pvalue"].iloc[1], abs=5e-4)
    assert 0 <= float(p_theirs[0]) <= 1
    problems = compare_summaries(_BS_LINE.sub("", ours), _BS_LINE.sub("", theirs))
    assert not problems, "\n".join(problems[:20])
    assert ours.index("Test statistic") < ours.index("Bollen-Stine") < ours.index("Baseline")
