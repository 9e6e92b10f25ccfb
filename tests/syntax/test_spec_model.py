"""build_partable errors, ModelSpec helpers and compile_expression."""

from __future__ import annotations

import math

import pytest

from radsem.errors import DataError, ModelSpecificationError, ModelSyntaxError
from radsem.syntax import build_partable, compile_expression

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
HS_COLUMNS = [f"x{i}" for i in range(1, 10)] + ["sex", "ageyr", "school"]


def test_missing_variables_are_named_with_available_columns():
    with pytest.raises(DataError) as info:
        build_partable(HS + "\nspeed ~ age + grade", observed=HS_COLUMNS)
    msg = str(info.value)
    assert "age, grade" in msg
    assert "available columns: x1" in msg


def test_missing_variables_long_column_list_not_printed():
    cols = [f"v{i}" for i in range(100)]
    with pytest.raises(DataError, match="x1, x2") as info:
        build_partable("f =~ x1 + x2 + v1", observed=cols)
    assert "available columns" not in str(info.value)


def test_latent_name_clashing_with_column():
    with pytest.raises(ModelSpecificationError, match="also columns"):
        build_partable("x1 =~ x2 + x3 + x4", observed=HS_COLUMNS)


def test_observed_order_and_roles():
    spec = build_partable("f =~ y1 + y2 + y3\nf ~ x2 + x1\ny4 ~ f", model_type="sem")
    assert spec.observed == ("y1", "y2", "y3", "y4", "x2", "x1")
    assert spec.latent == ("f",)
    assert spec.exogenous == ("x2", "x1")
    assert spec.names.ov_y == ("y4",)
    spec_free = build_partable("f =~ y1 + y2 + y3\nf ~ x2 + x1", fixed_x=False)
    assert spec_free.exogenous == ()
    assert spec_free.fixed_x is False


@pytest.mark.parametrize(
    ("model", "options", "fragment"),
    [
        ("f =~ x1 + x2 + x3\nx1 ~~ v*0.5*x1\nx2 ~~ v*0.7*x2", {}, "fixed to different values"),
        ("f =~ x1 + a*x2 + x3\nb == a", {}, "unknown label(s) b"),
        ("f =~ x1 + a*x2 + x3\nd := a*e", {}, "unknown label(s) e"),
        ("f =~ x1 + a*x2 + x3\nd := a*e\ne := a^2", {}, "unknown label(s) e"),
        ("f =~ x1 + a*x2 + x3\na := 2", {}, "already a label"),
        ("f =~ x1 + a*x2 + x3\nx1 := a^2", {}, "is a variable"),
        ("f =~ x1 + c(a, b)*x2 + x3", {}, "1 group(s)"),
        ("f =~ x1 + c(1, 2, 3)*x2 + x3", {"ngroups": 2}, "3 values but the model has 2"),
        ("f =~ y1 + y2 + y3\nf ~ x1", {"ordered": {"x1": 2}}, "exogenous covariate"),
        ("f =~ y1 + y2 + y3", {"ordered": ["y1"]}, "number of thresholds unknown"),
        ("f =~ y1 + y2 + y3", {"ordered": {"y1": 0}}, "number of thresholds"),
        (HS, {"model_type": "mplus"}, "model_type"),
        (HS, {"group_equal": ["loading"]}, "unknown group_equal"),
        (HS, {"ngroups": 0}, "ngroups"),
        (HS, {"ngroups": 2, "group_labels": ["a"]}, "group labels"),
        (HS, {"std_lv": "yes"}, "std_lv"),
        (HS, {"meanstructure": "maybe"}, "meanstructure"),
        (HS, {"parameterization": "gamma"}, "parameterization"),
        ("f =~ y1 + y2 + y3", {"ordered": {"y1": 2}, "estimator": "MLR"}, "not available"),
    ],
)
def test_specification_errors(model, options, fragment):
    with pytest.raises(ModelSpecificationError) as info:
        build_partable(model, **options)
    assert fragment in str(info.value)


def test_only_constraints_is_a_syntax_error():
    with pytest.raises(ModelSyntaxError, match="only constraints"):
        build_partable("a := 2*b")


def test_constraint_may_use_definition_written_later():
    spec = build_partable("f =~ x1 + a*x2 + b*x3\nab == 1\nab := a*b")
    assert list(spec.partable["op"].iloc[-2:]) == ["==", ":="]


def test_free_numbering_and_helpers():
    spec = build_partable("f =~ x1 + a*x2 + a*x3\ng =~ x4 + x5 + x6\nab := a^2\nab > 0.1")
    pt = spec.partable
    free = spec.free_table()
    assert list(free["free"]) == list(range(1, spec.npar + 1))
    assert spec.npar == int((pt["free"] > 0).sum())
    con = spec.constraints()
    assert list(con["op"]) == [">", "=="]
    assert list(con["lhs"]) == ["ab", ".p2."]
    assert con["lhs_expr"].iloc[1].names == (".p2.",)
    ((name, expr),) = spec.defined()
    assert name == "ab"
    assert expr.names == ("a",)
    values = [float(i) for i in range(len(spec.parameters()))]
    labels = spec.label_values(values)
    assert labels["a"] == 1.0  # first row labelled a is .p2. (position 1)
    assert labels[".p3."] == 2.0
    assert spec.evaluate_defined(labels) == {"ab": 1.0}
    with pytest.raises(ModelSpecificationError, match="expected"):
        spec.label_values([1.0])
    assert "npar=" in repr(spec)


def test_inputs_not_modified():
    observed = ["x1", "x2", "x3"]
    ordered = {"x1": 2}
    build_partable("f =~ x1 + x2 + x3", observed=observed, ordered=ordered)
    assert observed == ["x1", "x2", "x3"]
    assert ordered == {"x1": 2}


def test_bounds_columns():
    spec = build_partable("f =~ x1 + lower(0)*x2 + upper(3)*x3")
    pt = spec.partable[spec.partable["op"] == "=~"].set_index("rhs")
    assert pt.loc["x2", "lower"] == 0.0
    assert math.isinf(pt.loc["x2", "upper"])
    assert pt.loc["x3", "upper"] == 3.0
    assert pt.loc["x1", "lower"] == pt.loc["x1", "upper"] == 1.0  # fixed: bounds = value


# -- expressions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("a*b", {"a": 2.0, "b": 3.0}, 6.0),
        ("c + a*b", {"a": 2.0, "b": 3.0, "c": 1.0}, 7.0),
        ("-2^2", {}, -4.0),  # R: ^ binds tighter than unary minus
        ("2^3^2", {}, 512.0),  # right-associative
        ("2^-1", {}, 0.5),
        ("(a + 1) / (b - 1)", {"a": 1.0, "b": 3.0}, 1.0),
        ("exp(log(a))", {"a": 2.5}, 2.5),
        ("sqrt(abs(a))", {"a": -9.0}, 3.0),
        ("pnorm(0)", {}, 0.5),
        ("qnorm(0.975)", {}, 1.959963984540054),
        (".p2. - 1e-3", {".p2.": 1.0}, 0.999),
        ("a.b_1 * .5", {"a.b_1": 4.0}, 2.0),
        ("sin(0) + cos(0) + tan(0) + atan(0) + tanh(0)", {}, 1.0),
        ("log10(100) + log2(8)", {}, 5.0),
    ],
)
def test_expression_values(text, values, expected):
    expr = compile_expression(text, names=values.keys())
    assert expr.evaluate(values) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("a*b + c/a", {"a": 1.3, "b": -0.4, "c": 2.0}),
        ("exp(a)/(1 + exp(a))", {"a": 0.7}),
        ("a^b", {"a": 1.7, "b": 2.3}),
        ("-sqrt(a)*log(b) + pnorm(a - b)", {"a": 2.0, "b": 0.5}),
        ("abs(a - b)^2", {"a": 0.2, "b": 1.1}),
    ],
)
def test_expression_gradient_matches_finite_differences(text, values):
    expr = compile_expression(text)
    grad = expr.gradient(values)
    for name in values:
        h = 1e-6
        up, down = dict(values), dict(values)
        up[name] += h
        down[name] -= h
        numeric = (expr.evaluate(up) - expr.evaluate(down)) / (2 * h)
        assert grad[name] == pytest.approx(numeric, rel=1e-6, abs=1e-8)


def test_expression_unknown_label():
    with pytest.raises(ModelSpecificationError, match="unknown label.*zz"):
        compile_expression("a + zz", names=["a"])


def test_expression_missing_value():
    with pytest.raises(ModelSpecificationError, match="no value for b"):
        compile_expression("a + b").evaluate({"a": 1.0})


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("a +", 4),
        ("a * (b", 7),
        ("a b", 3),
        ("foo(a)", 1),
        ("a ~ b", 3),
        ("__import__('os')", 1),
        ("a; b", 2),
        ("", 1),
    ],
)
def test_expression_syntax_errors(text, column):
    with pytest.raises(ModelSyntaxError) as info:
        compile_expression(text)
    assert info.value.column == column


def test_ordered_variable_missing_from_data():
    with pytest.raises(DataError, match="ordered variable"):
        build_partable("f =~ x1 + x2 + x3", observed=["x1", "x2", "x3"], ordered={"u9": 2})


def test_model_spec_is_frozen():
    import dataclasses

    spec = build_partable("f =~ x1 + x2 + x3")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.latent = ("g",)  # type: ignore[misc]


def test_statements_can_be_passed_instead_of_text():
    from radsem.syntax import parse_model

    text = "f =~ x1 + a*x2 + x3\nx3 ~~ x1"
    assert build_partable(parse_model(text)).partable.equals(build_partable(text).partable)
