"""The canonical syntax radsem hands to lavaan: rebuilt from radsem's parse, never user text.

Parity: for every model of the parity suite (and the random models), lavaan's parameter table
of the rebuilt syntax equals lavaan's table of the original text, row for row; full fits of the
main models give the same estimates.
"""

from __future__ import annotations

import numpy as np
import pytest
from spec_cases import N_RANDOM, fitted_cases, ordinal_frame, random_model
from spec_lavaan_helpers import dataset

from radsem.errors import ModelSyntaxError
from radsem.syntax import parse_model
from radsem.syntax.serialise import check_reference, to_lavaan_syntax

FITTED = fitted_cases()


def _shape(text: str):
    return [
        (
            s.lhs,
            s.op,
            [(t.name, [(m.kind, m.values) for m in t.modifiers]) for t in s.rhs],
            None if s.right is None else s.right.names,
        )
        for s in parse_model(text)
    ]


@pytest.mark.parametrize("case", list(FITTED))
def test_rebuilt_syntax_parses_to_the_same_model(case):
    model = FITTED[case][1]
    syntax, _ = to_lavaan_syntax(model)
    assert _shape(syntax) == _shape(model)
    assert to_lavaan_syntax(syntax)[0] == syntax  # canonical: a fixed point


@pytest.mark.parametrize(
    ("expression", "canonical"),
    [
        ("a*b", "a*b"),
        ("(a)*(b)", "a*b"),
        ("a - (b - c)", "a-(b-c)"),
        ("(a - b) - c", "a-b-c"),
        ("-2^2", "-2^2"),
        ("(-2)^2", "(-2)^2"),
        ("a^b^c", "a^b^c"),
        ("(a^b)^c", "(a^b)^c"),
        ("a/(b*c)", "a/(b*c)"),
        ("exp(a) / (1 + exp(a))", "exp(a)/(1+exp(a))"),
        ("a^-b", "a^-b"),
        ("1e-3*a + 0.5", "0.001*a+0.5"),
    ],
)
def test_expressions_keep_r_precedence(expression, canonical):
    syntax, mapping = to_lavaan_syntax(f"f =~ x1 + a*x2 + b*x3 + c*x4\nd := {expression}")
    assert syntax.splitlines()[-1] == f"d := {canonical}"
    values = {"a": 0.7, "b": 1.3, "c": 2.1}
    from radsem.syntax import compile_expression

    assert compile_expression(canonical).evaluate(values) == pytest.approx(
        compile_expression(expression).evaluate(values), rel=1e-14
    )
    assert mapping[canonical] == compile_expression(expression).text


@pytest.mark.parametrize(
    "model",
    [
        "f =~ a*x1 + x2\nd := a + \"file.create('x')\"",  # a string becomes a 'name'
        "f =~ a*x1 + x2\nd := a + 'b c'",
        "f =~ x1 + label('a(b)')*x2",
        "f =~ x1 + equal('f=~system(1)')*x2",
        'f =~ x1 + "x(2)"*x2',
        "f =~ x1 + lab\u00e9l*x2",  # non-ASCII names never leave radsem
    ],
)
def test_names_that_are_not_plain_are_refused(model):
    with pytest.raises(ModelSyntaxError) as info:
        to_lavaan_syntax(model)
    assert info.value.line >= 1
    assert info.value.column >= 1


def test_references_and_labels():
    assert check_reference(" f =~ x1 ") == "f=~x1"
    assert check_reference("x7 ~ 1") == "x7~1"
    assert check_reference("lab.1") == "lab.1"
    for bad in ("f=~x1; q()", "f(x)", "a-b", "TRUE", "f =~ `x`"):
        with pytest.raises(ModelSyntaxError):
            check_reference(bad)


# -- parity with lavaan (skips without R) ---------------------------------------------------


@pytest.fixture(scope="module")
def ordinal_data(lav):
    return ordinal_frame(lav.frame("HolzingerSwineford1939"))


@pytest.mark.parametrize("case", list(FITTED))
def test_lavaan_table_of_rebuilt_syntax_equals_original(lav, ordinal_data, case):
    fun, model, data, options = FITTED[case]
    if data == "ordinal":
        data = ordinal_data
    syntax, mapping = to_lavaan_syntax(model)
    original = lav.fitted(fun, model, data, **options)
    rebuilt = lav.fitted(fun, syntax, data, **options)
    for col in ("lhs", "rhs"):
        rows = rebuilt["op"].isin([":=", "==", "<", ">"])
        rebuilt.loc[rows, col] = rebuilt.loc[rows, col].map(lambda v: mapping.get(v, v))
    lav.assert_same(rebuilt, original)


@pytest.mark.parametrize("seed", range(N_RANDOM))
def test_lavaanify_of_random_rebuilt_models_equals_original(lav, seed):
    model, options = random_model(seed)
    syntax, mapping = to_lavaan_syntax(model)
    original = lav.lavaanify(model, auto=True, **options)
    rebuilt = lav.lavaanify(syntax, auto=True, **options)
    rows = rebuilt["op"] == ":="
    rebuilt.loc[rows, "rhs"] = rebuilt.loc[rows, "rhs"].map(lambda v: mapping.get(v, v))
    lav.assert_same(rebuilt, original)


@pytest.mark.parametrize("case", ["mediation", "constraints", "modifiers-sem", "poldem-sem"])
def test_lavaan_fit_of_rebuilt_syntax_equals_fit_of_original(lav, case):
    """Full fits: radsem's fit_lavaan (rebuilt syntax) against lavaan given the raw text."""
    import rpy2.robjects as ro

    from radsem._r import from_r_dataframe
    from radsem.engines import fit_lavaan

    fun, model, data, options = FITTED[case]
    frame = lav.frame(data)
    ours = fit_lavaan(model, frame, fun, **options).parameter_estimates()
    # lavaan given the user's text directly (test-only: fixed R closure, model as an argument)
    raw = ro.r(f"function(model, data) lavaan::{fun}(model = model, data = data)")(
        ro.StrVector([model]), dataset(data)
    )
    ref = from_r_dataframe(lav.r.parameterEstimates(raw))
    ref = ref[~ref["op"].isin(["==", "<", ">"])].reset_index(drop=True)
    assert list(ours["lhs"]) == list(ref["lhs"])
    assert list(ours["rhs"]) == list(ref["rhs"])
    np.testing.assert_allclose(ours["est"], ref["est"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours["se"], ref["se"], rtol=0, atol=1e-10)
