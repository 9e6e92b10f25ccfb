"""``mimic=`` as lavaan 0.6-14 resolves it (the live parity runs are in the lavaan corpus,
``tests/reference/lavaan_corpus``: ``mimic_mplus_*`` cases)."""

from __future__ import annotations

import functools

import pandas as pd
import pytest

import radsem
from radsem.errors import EstimationError, ModelSpecificationError
from radsem.syntax.mimic import apply_mimic, canonical_mimic

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@functools.lru_cache(maxsize=None)
def _hs() -> pd.DataFrame:
    from radsem.datasets import load

    return load("HolzingerSwineford1939")[["school", *(f"x{i}" for i in range(1, 10))]]


def test_spelling_and_unknown_values():
    assert canonical_mimic("mplus") == "Mplus"
    assert canonical_mimic("default") == "lavaan"
    with pytest.raises(ModelSpecificationError, match="mimic must be"):
        canonical_mimic("LISREL8")


def test_mplus_defaults_only_fill_what_the_user_left_open():
    out = apply_mimic({"mimic": "Mplus", "estimator": "MLR"}, family="continuous")
    assert out["missing"] == "ml"
    assert out["meanstructure"] is True
    assert out["group_equal"] == ("loadings", "intercepts")
    mine = apply_mimic(
        {"mimic": "Mplus", "missing": "listwise", "meanstructure": False}, family="continuous"
    )
    assert mine["missing"] == "listwise"
    assert mine["group_equal"] == ("loadings",)
    assert apply_mimic({"mimic": "lavaan"}, family="continuous") == {}


@pytest.mark.parametrize(
    ("options", "family", "match"),
    [
        ({"mimic": "EQS"}, "continuous", "EQS"),
        ({"likelihood": "wishart"}, "continuous", "wishart"),
        ({"mimic": "Mplus", "estimator": "MLM"}, "continuous", "MLM"),
        ({"mimic": "Mplus"}, "ordinal", "continuous single-level"),
    ],
)
def test_refusals_name_the_reason(options, family, match):
    with pytest.raises(EstimationError, match=match):
        apply_mimic(options, family=family)


def test_likelihood_checks():
    with pytest.raises(ModelSpecificationError, match="only relevant"):
        apply_mimic({"likelihood": "normal", "estimator": "GLS"}, family="continuous")
    with pytest.raises(ModelSpecificationError, match="invalid value"):
        apply_mimic({"likelihood": "exact"}, family="continuous")
    assert apply_mimic({"likelihood": "normal"}, family="continuous") == {}


def test_mplus_fit_records_its_options():
    fit = radsem.cfa(HS, _hs().drop(columns="school"), mimic="Mplus")
    assert fit.options["mimic"] == "Mplus"
    assert fit.options["missing"] == "ml"
    assert fit.options["meanstructure"] is True
    assert fit.options["information"] == "observed"
    fm = fit.fit_measures()
    assert fm["srmr"] == fm["srmr_mplus"] != fm["srmr_bentler"]


def test_mplus_options_equal_lavaans(r_lavaan):
    import rpy2.robjects as ro

    from radsem import _r

    fit = radsem.cfa(HS, _hs(), mimic="Mplus", group="school")
    ro.globalenv["d"] = _r.to_r_dataframe(_hs().astype({"school": str}))
    ro.r(f'f <- lavaan::cfa("{HS}", data = d, mimic = "Mplus", group = "school")')
    get = {
        name: list(ro.r(f'lavaan::lavInspect(f, "options")[["{name}"]]'))
        for name in ("missing", "meanstructure", "group.equal", "information")
    }
    assert get["missing"] == [fit.options["missing"]]
    assert get["meanstructure"] == [fit.options["meanstructure"]]
    assert get["group.equal"] == list(fit.options["group_equal"])
    assert get["information"][0] == fit.options["information"]
