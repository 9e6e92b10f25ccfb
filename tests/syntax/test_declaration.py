"""Routing by declaration: read_declaration and family_of."""

import pandas as pd
import pytest

from radsem.estimation.api import family_of
from radsem.syntax.declaration import read_declaration

SURV = "f =~ y1 + y2 + y3\nr =~ Surv(time, event)\nr ~ f + age"


def test_survival_statement_is_declared():
    d = read_declaration(SURV)
    assert d.survival
    assert d.names is None
    assert family_of(d, pd.DataFrame(), None, {}) == "survival_outcome"


def test_surv_in_a_comment_or_name_declares_nothing():
    assert not read_declaration("f =~ y1 + y2 + y3  # r =~ Surv(t, d)").survival
    assert not read_declaration("f =~ Surv + y2 + y3").survival


def test_thresholds_and_names():
    d = read_declaration("f =~ u1 + u2 + u3\nu1 | t1 + t2")
    assert not d.survival
    assert d.thresholds == ("u1",)
    assert d.observed == ("u1", "u2", "u3")
    assert family_of(d, pd.DataFrame(), None, {}) == "ordinal"


def test_unparsable_or_non_string_models_declare_nothing():
    for model in ("f =~ ", "f =~ x1 + (", 3, None):
        d = read_declaration(model)
        assert not d.survival
        assert d.names is None
        assert family_of(d, pd.DataFrame(), None, {}) == "continuous"


@pytest.mark.parametrize(
    ("estimator", "options", "data", "family"),
    [
        (None, {}, pd.DataFrame({"x1": [1.0]}), "continuous"),
        ("ML", {}, pd.DataFrame({"x1": [1.0]}), "continuous"),
        ("ULS", {}, pd.DataFrame({"x1": [1.0]}), "continuous"),
        ("wlsmv", {}, pd.DataFrame({"x1": [1.0]}), "continuous"),  # as lavaan
        ("wlsmv", {"ordered": ["x1"]}, pd.DataFrame({"x1": [1.0]}), "ordinal"),
        (None, {"cluster": "school"}, pd.DataFrame({"x1": [1.0]}), "twolevel"),
        (None, {"ordered": ["x1"]}, pd.DataFrame({"x1": [1.0]}), "ordinal"),
        (None, {"ordered": False}, pd.DataFrame({"x1": [1.0]}), "continuous"),
        (None, {"survival_method": "naive"}, pd.DataFrame({"x1": [1.0]}), "survival_outcome"),
        (None, {"survival": {"r": ("t", "d")}}, pd.DataFrame(), "survival_outcome"),
        (
            None,
            {},
            pd.DataFrame({"x1": pd.Categorical([1, 2], ordered=True)}),
            "ordinal",
        ),
        (None, {}, pd.DataFrame({"x1": pd.Categorical([1, 2])}), "continuous"),
    ],
)
def test_family_of(estimator, options, data, family):
    d = read_declaration("f =~ x1 + x2 + x3")
    assert family_of(d, data, estimator, options) == family


def test_level_blocks_are_declared():
    d = read_declaration("level: 1\nfw =~ y1 + y2 + y3\nlevel: 2\nfb =~ y1 + y2 + y3")
    assert d.levels
    assert not d.survival
    assert family_of(d, pd.DataFrame(), None, {}) == "twolevel"
    assert not read_declaration("f =~ level + y2 + y3").levels
