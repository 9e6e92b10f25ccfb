"""Odd-but-valid and invalid lavaan syntax met by radsem.syntax (parsing only, no estimation)."""

from __future__ import annotations

import math

import pytest

from radsem.errors import ModelSpecificationError, ModelSyntaxError
from radsem.syntax.expression import compile_expression
from radsem.syntax.parse import parse_model
from radsem.syntax.partable import _user_rows


@pytest.mark.parametrize(
    ("model", "match", "column"),
    [
        ("F1 =~ x1 + 1e400*x2 + x3", "finite number, got inf", 12),
        ("F1 =~ x1 + 0/0*x2 + x3", "finite number, got nan", 12),
        ("F1 =~ x1 + start(1e400)*x2 + x3", r"start\(\) must be finite", 18),
        ("F1 =~ x1 + c(1e400)*x2 + x3", r"c\(\) must be finite", 14),
    ],
)
def test_non_finite_fixed_values_are_syntax_errors(model, match, column):
    with pytest.raises(ModelSyntaxError, match=match) as info:
        parse_model(model)
    assert info.value.line == 1
    assert info.value.column == column


@pytest.mark.parametrize("model", [123, None, 4.5, {"F": "x"}])
def test_model_of_the_wrong_type(model):
    with pytest.raises(ModelSpecificationError, match="must be a string in lavaan syntax"):
        _user_rows(model)


def test_arithmetic_errors_in_definitions_give_nan_like_r():
    expr = compile_expression("a / b")
    assert math.isnan(expr.evaluate({"a": 1.0, "b": 0.0}))
    assert all(math.isnan(v) for v in expr.gradient({"a": 1.0, "b": 0.0}).values())
    assert math.isnan(compile_expression("log(a)").evaluate({"a": -1.0}))


@pytest.mark.parametrize(
    "model",
    [
        "x1 ~ 1",
        "x1 ~~ x2",
        "F =~ x1",
        "F1 =~ x1 + a_1*x2 + a_1*x3",
        "F1 =~ 1*x1 + NA*x2 + 0.5*x3 + x4",
        "F1\t=~\tx1 +\tx2 + x3",
        "F1 =~ x1 + x2 + x3\r\nF2 =~ x4 + x5 + x6\r\n",
        "F1 =~ x1 +\n   x2 +\n x3",
        "F1 =~ x1 + x2\nF1 =~ x3",
    ],
)
def test_odd_but_valid_syntax_parses(model):
    assert parse_model(model)


def test_repeated_element_is_reported_with_its_line():
    with pytest.raises(ModelSyntaxError, match="duplicate model element") as info:
        _user_rows("F1 =~ x1 + x2 + x3\nF1 =~ x1 + x2 + x3")
    assert info.value.line == 2
