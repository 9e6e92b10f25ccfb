"""parse_model: accepted syntax, and errors that point at the offending token."""

from __future__ import annotations

import math

import pytest

from radsem.errors import ModelSyntaxError
from radsem.syntax import parse_model


def _rows(text):
    return [(s.lhs, s.op, tuple(t.name for t in s.rhs)) for s in parse_model(text)]


def test_basic_operators_and_positions():
    stmts = parse_model("f =~ x1 + x2\n  y ~ f + x3\ny ~~ x3\ny ~ 1\nx1 | t1 + t2\nx1 ~*~ x1")
    assert [(s.op, s.line, s.column) for s in stmts] == [
        ("=~", 1, 1),
        ("~", 2, 3),
        ("~~", 3, 1),
        ("~1", 4, 1),
        ("|", 5, 1),
        ("~*~", 6, 1),
    ]
    assert stmts[1].rhs[1].name == "x3"
    assert (stmts[1].rhs[1].line, stmts[1].rhs[1].column) == (2, 11)


def test_comments_semicolons_blank_lines_and_continuations():
    text = """
    # a comment
    f =~ x1 + x2 +   ! trailing comment
         x3
    g =~ x4
       + x5 + x6 ; y ~ f +
       g

    h =~
      x7 + x8 + x9
    """
    assert _rows(text) == [
        (("f",), "=~", ("x1", "x2", "x3")),
        (("g",), "=~", ("x4", "x5", "x6")),
        (("y",), "~", ("f", "g")),
        (("h",), "=~", ("x7", "x8", "x9")),
    ]


def test_multiple_lhs_and_leading_plus():
    assert _rows("y1 + y2 ~ + x1 + x2") == [(("y1", "y2"), "~", ("x1", "x2"))]


@pytest.mark.parametrize(
    ("term", "kind", "values"),
    [
        ("0*x", "fixed", (0.0,)),
        ("1*x", "fixed", (1.0,)),
        ("-1*x", "fixed", (-1.0,)),
        (".5*x", "fixed", (0.5,)),
        ("1e-3*x", "fixed", (0.001,)),
        ("(1/4)*x", "fixed", (0.25,)),
        ("a*x", "label", ("a",)),
        ("a.b_2*x", "label", ("a.b_2",)),
        ('"my label"*x', "label", ("mylabel",)),
        ('label("lab")*x', "label", ("lab",)),
        ('equal("f =~ x1")*x', "label", ("f=~x1",)),
        ("start(0.5)*x", "start", (0.5,)),
        ("0.5?x", "start", (0.5,)),
        ("start(c(1, 2))*x", "start", (1.0, 2.0)),
        ("lower(0)*x", "lower", (0.0,)),
        ("upper(2)*x", "upper", (2.0,)),
        ("c(a1, a2)*x", "label", ("a1", "a2")),
        ("c(a1, NA)*x", "label", ("a1", "")),
        ("c(1, 2)*x", "fixed", (1.0, 2.0)),
    ],
)
def test_modifiers(term, kind, values):
    (stmt,) = parse_model(f"f =~ x1 + {term}")
    mod = stmt.rhs[1].modifier(kind)
    assert mod is not None
    assert mod.values == values
    assert stmt.rhs[1].name == "x"


def test_na_and_c_na_modifiers_are_nan():
    (stmt,) = parse_model("f =~ NA*x1 + c(1, NA)*x2")
    assert math.isnan(stmt.rhs[0].modifier("fixed").values[0])
    fixed = stmt.rhs[1].modifier("fixed").values
    assert fixed[0] == 1.0
    assert math.isnan(fixed[1])


def test_repeated_term_merges_modifiers():
    (stmt,) = parse_model("f =~ x1 + a*x2 + start(1)*x2")
    assert [t.name for t in stmt.rhs] == ["x1", "x2"]
    assert {m.kind for m in stmt.rhs[1].modifiers} == {"label", "start"}


def test_label_and_fixed_value_on_one_term():
    (stmt,) = parse_model("f =~ x1 + a*1*x2")
    term = stmt.rhs[1]
    assert term.modifier("label").values == ("a",)
    assert term.modifier("fixed").values == (1.0,)


def test_intercepts():
    stmts = parse_model("y ~ 1\ny2 ~ a*1\ny3 ~ 0\ny4 ~ x + 1")
    assert [s.op for s in stmts] == ["~1", "~1", "~1", "~"]
    assert stmts[1].rhs[0].modifier("label").values == ("a",)
    assert stmts[2].rhs[0].modifier("fixed").values == (0.0,)
    assert [t.name for t in stmts[3].rhs] == ["x", ""]


def test_constraint_statements_keep_lavaan_text():
    stmts = parse_model("f =~ x1 + a*x2 + b*x3\nab := a * b\na == 2 * b\na > 0\nb < exp(a)")
    assert [(s.op, s.left.text, s.right.text) for s in stmts[1:]] == [
        (":=", "ab", "a*b"),
        ("==", "a", "2*b"),
        (">", "a", "0"),
        ("<", "b", "exp(a)"),
    ]
    assert stmts[1].right.names == ("a", "b")


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("", 1, 1, "empty model"),
        ("# only a comment\n\n", 1, 1, "empty model"),
        ("f =~", 1, 5, "missing right-hand side"),
        ("=~ x1", 1, 1, "missing left-hand side"),
        ("f =~ x1 +", 1, 10, "ends with '+'"),
        ("f =~ x1 + + x2", 1, 11, "'+' without a term"),
        ("f =~ x1\ng =~ (x2 + x3", 2, 6, "never closed"),
        ("f =~ x1 + x2)", 1, 13, "without matching '('"),
        ("f =~ x1\nf2 <~ x1 + x2", 2, 4, "formative"),
        ("f =~ x1\nx2 x3", 2, 1, "no lavaan operator"),
        ("f =~ x1 x2", 1, 9, "unexpected 'x2'"),
        ("f =~ x1\n  y ~ f ~ x", 2, 9, "second operator"),
        ("if =~ x1 + x2", 1, 1, "reserved word"),
        ("f =~ x1 + in", 1, 11, "reserved word"),
        ("f =~ x1 + 2a*x2", 1, 12, "unexpected 'a'"),
        ("f =~ x1 + a*b*x2", 1, 13, "two label modifiers"),
        ("f =~ x1 + foo(1)*x2", 1, 11, "unknown modifier"),
        ("f =~ x1 + @x2", 1, 11, "unexpected character"),
        ("f =~ x1 + x2\nab := ", 2, 6, "missing right-hand side"),
        ("ab := a*b +", 1, 12, "ends unexpectedly"),
        ("f =~ x1 + c(1,a)*x2", 1, 13, "mixes numbers and labels"),
        ("x1 | t1 + th2", 1, 11, "threshold names"),
        ("f =~ 1", 1, 6, "expected a variable name"),
        ("a*f =~ x1", 1, 2, "right-hand side"),
        ('f =~ x1 + ""*x2', 1, 11, "empty label"),
        ("f =~ x1 + x2\ngroup: 1\nf =~ x3", 2, 6, "block syntax"),
        ("f =~ x1 + x2 * ", 1, 15, "followed by a variable"),
        ("y ~ x1:x2", 1, 7, "interaction"),
        ("f =~ x1 + start(a)*x2", 1, 17, "takes numbers"),
        ("f =~ x1 + 1*x2 + 2*x2", 1, 18, "two fixed modifiers"),
        ("f =~ x1 + 'oops*x2", 1, 11, "unterminated string"),
        ("f =~ x1\nab := foo(a)", 2, 7, "unknown function"),
        ("f =~ x1\nf =~ x1", 2, 6, "duplicate model element"),
        ("x ~~ y\ny ~~ x", 2, 6, "duplicate model element"),
        ("y ~ y", 1, 5, "regressed on itself"),
        ("f =~ f + x1", 1, 6, "measured by itself"),
        ("f =~ x1\n\n   efa =~ x2", 3, 4, "efa"),
        ("f =~ x1 + rv(1)*x2", 1, 11, "not supported"),
        ("a b := 1", 1, 1, "single new parameter name"),
        ("f =~ x1 + NA", 1, 11, "NA must be followed"),
        ("f =~ x1; x2 ~ x1 == 2", 1, 18, "second operator"),
        ("f =~ x1 + for*x2", 1, 11, "not a valid label"),
        ("f =~ x1 + start(c)*x2", 1, 17, "takes numbers"),
        ("f =~ x1\n  + x2 +\n  (x3", 3, 3, "never closed"),
        ("f =~ x1 + label(a)*x2", 1, 17, "quoted labels"),
    ],
)
def test_malformed_input_reports_line_and_column(text, line, column, fragment):
    from radsem.syntax import build_partable

    with pytest.raises(ModelSyntaxError) as info:
        build_partable(text)
    err = info.value
    assert (err.line, err.column) == (line, column), err
    assert fragment in err.message
    if text.strip() and not text.startswith("#"):
        assert "^" in str(err)  # caret under the offending column


def test_non_string_model_is_rejected():
    with pytest.raises(ModelSyntaxError, match="must be a string"):
        parse_model(["f =~ x1"])  # type: ignore[arg-type]
