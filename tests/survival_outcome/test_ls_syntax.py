"""The survival-outcome declaration ``name =~ Surv(time, event)``."""

from __future__ import annotations

import pytest

from radsem.errors import ModelSpecificationError, ModelSyntaxError
from radsem.estimation.families.survival_outcome import split_survival
from radsem.syntax import parse_model


def test_declaration_is_removed_and_lines_keep_their_numbers():
    model = (
        "# measurement\nf =~ y1 + y2 + y3\nrec =~ Surv(rfs_months, rfs_event)\n"
        "rec ~ lab*f + age\ng =~ y4 + y5 + y6"
    )
    sem, out = split_survival(model)
    assert (out.name, out.time, out.event) == ("rec", "rfs_months", "rfs_event")
    assert out.predictors == ["f", "age"]
    assert out.terms[0].label == "lab"
    assert out.terms[0].line == 4
    assert sem.count("\n") == model.count("\n")
    statements = parse_model(sem)
    assert [(s.lhs, s.line) for s in statements] == [(("f",), 2), (("g",), 5)]


def test_error_in_the_rest_reports_the_users_line():
    model = "rec =~ Surv(t, d)\nrec ~ f\nf =~ y1 + y2 +\n\n f ~ ~ y3"
    sem, _ = split_survival(model)
    with pytest.raises(ModelSyntaxError) as info:
        parse_model(sem)
    assert info.value.line == 5


def test_keyword_is_equivalent():
    a = split_survival("f =~ y1 + y2\nr =~ Surv(t, d)\nr ~ f")
    b = split_survival("f =~ y1 + y2\n\nr ~ f", {"r": ("t", "d")})
    assert a[1] == b[1]
    assert a[0].split() == b[0].split()


def test_multiline_regression_and_semicolons():
    sem, out = split_survival("f =~ y1 + y2; r =~ Surv(t, d)\nr ~ f +\n  age + stage")
    assert out.predictors == ["f", "age", "stage"]
    assert [s.lhs for s in parse_model(sem)] == [("f",)]


def test_no_declaration_returns_model_unchanged():
    assert split_survival("f =~ y1 + y2 + y3") == ("f =~ y1 + y2 + y3", None)


def test_only_survival_part_leaves_no_sem():
    sem, out = split_survival("r =~ Surv(t, d)\nr ~ age")
    assert sem is None
    assert out.predictors == ["age"]


@pytest.mark.parametrize(
    ("model", "line", "column", "match"),
    [
        ("f =~ y1\nr =~ Surv(t)\nr ~ f", 2, 12, "exactly two column names"),
        ("r =~ Surv(t, d, e)\nr ~ f", 1, 15, "exactly two column names"),
        ("r =~ Surv(t, 3)\nr ~ f", 1, 14, "exactly two column names"),
        ("r ~ Surv(t, d)", 1, 3, "right of '=~'"),
        ("r =~ x + Surv(t, d)\nr ~ f", 1, 6, "alone on the right"),
        ("r =~ Surv(t, d) + x\nr ~ f", 1, 17, "unexpected text"),
        ("r =~ Surv(t, d)\nr ~ 2*f", 2, 5, "only a label"),
        ("r =~ Surv(t, d)\nr ~ f + f", 2, 9, "appears twice"),
    ],
)
def test_malformed_surv_names_line_and_column(model, line, column, match):
    with pytest.raises(ModelSyntaxError, match=match) as info:
        split_survival(model)
    assert (info.value.line, info.value.column) == (line, column)


@pytest.mark.parametrize(
    ("model", "survival", "match"),
    [
        ("r =~ Surv(t, d)", None, "has no regression"),
        ("r =~ Surv(t, d)\ns =~ Surv(u, e)\nr ~ f\ns ~ f", None, "only one survival outcome"),
        ("r =~ Surv(t, d)\nr ~ f\nf ~ r", None, "can only appear"),
        ("r =~ Surv(t, d)\nr ~ f", {"r": ("t", "d")}, "both in the model"),
        ("f =~ y1 + y2\nr ~ f", {"r": ("t",)}, "two column names"),
        ("f =~ y1 + y2\nr ~ f", {"1r": ("t", "d")}, "not a valid name"),
    ],
)
def test_specification_errors(model, survival, match):
    with pytest.raises(ModelSpecificationError, match=match):
        split_survival(model, survival)
