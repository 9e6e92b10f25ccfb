"""Bad user input to the SEM API raises radsem's own errors with a clear message (no bare
ValueError/KeyError/TypeError), and lavaan's spellings of ``missing`` are accepted."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

import radsem
from radsem.errors import EstimationError, ModelSpecificationError, RadsemError
from radsem.estimation.missing.em import em_saturated
from radsem.estimation.missing.fiml import resolve_missing

MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6"


@functools.lru_cache(maxsize=None)
def _hs() -> pd.DataFrame:
    from radsem.datasets import load

    return load("HolzingerSwineford1939")


@functools.lru_cache(maxsize=None)
def _fit():
    return radsem.cfa(MODEL, _hs())


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda f: f.predict(method="ebm"), "factor-score method must be 'regression' or"),
        (lambda f: f.residuals(type="std"), "type must be 'raw', 'cor' or 'normalized'"),
        (lambda f: f.standardized_solution(type="all"), "type must be one of std.all"),
        (lambda f: f.parameter_estimates(level=95), "between 0 and 1"),
        (lambda f: f.parameter_estimates(level="0.9"), "must be a number"),
        (lambda f: radsem.anova(f, f, model_names=["a"]), "1 model names for 2 models"),
    ],
)
def test_fit_methods_raise_radsem_errors(call, match):
    with pytest.raises(RadsemError, match=match) as info:
        call(_fit())
    assert not isinstance(info.value, KeyError)


def test_error_classes():
    with pytest.raises(EstimationError):
        _fit().predict("nope")
    with pytest.raises(ModelSpecificationError):
        radsem.anova(_fit(), _fit(), model_names=["a", "b", "c"])


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"missing": "ml.x"}, "ml.x.*not available.*fixed_x=False"),
        ({"missing": "FIML.x"}, "ml.x.*not available"),
        ({"missing": "pairwise"}, "missing must be 'listwise' or 'ml'"),
        ({"level": 1.0}, "level must be between 0 and 1"),
        ({"level": True}, "level must be a number"),
        ({"foo": 1, "bar": 2}, "unknown option\\(s\\) 'bar', 'foo'"),
    ],
)
def test_bad_options_raise_estimation_error(options, match):
    with pytest.raises(EstimationError, match=match):
        radsem.cfa(MODEL, _hs(), **options)


def test_missing_aliases_as_lavaan():
    assert resolve_missing("FIML") == "ml"
    assert resolve_missing("direct") == "ml"
    assert resolve_missing("ML") == "ml"
    assert resolve_missing("default") == "listwise"
    data = _hs()[["x1", "x2", "x3", "x4", "x5", "x6"]].copy()
    data.iloc[::7, 1] = np.nan
    a = radsem.cfa(MODEL, data, missing="fiml")
    b = radsem.cfa(MODEL, data, missing="ml")
    assert a.options["missing"] == "ml"
    np.testing.assert_allclose(a.parameter_estimates()["est"], b.parameter_estimates()["est"])
    assert a.fit_measures()["ntotal"] == len(data)


def test_group_equal_as_a_single_string():
    a = radsem.cfa(MODEL, _hs(), group="school", group_equal="loadings")
    b = radsem.cfa(MODEL, _hs(), group="school", group_equal=["loadings"])
    np.testing.assert_allclose(a.fit_measures()["chisq"], b.fit_measures()["chisq"])
    assert a.fit_measures()["df"] == b.fit_measures()["df"]


def test_em_rejects_zero_iterations():
    from radsem.estimation.missing.likelihood import missing_patterns

    with pytest.raises(EstimationError, match="max_iter must be at least 1"):
        em_saturated(missing_patterns(np.eye(3) + 1.0), max_iter=0)
