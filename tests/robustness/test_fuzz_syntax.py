"""issue 13: fuzzing the model syntax lets only radsem's documented errors escape.

Seeded mutations of valid models (``_mutations.py``): deleted and inserted tokens, dropped and
repeated lines, 200-600 nested parentheses or signs, odd arithmetic in definitions and
constraints, ``~*~`` on other variables. Each goes through the parser and the parameter table;
the first ones also through ``radsem.sem`` (continuous or ordered data). Before the fix: about
1 in 20 gave ``RecursionError``, and ``radsem.sem`` gave ``KeyError`` and ``TypeError``.
The benchmark ``benchmarks/fuzz_model_syntax.py`` runs the same with more mutations.
"""

from __future__ import annotations

import math
import warnings

import pytest
from _mutations import fuzz_data, mutated_models

import radsem
from radsem.errors import (
    DataError,
    EstimationError,
    ModelSpecificationError,
    ModelSyntaxError,
)
from radsem.syntax import build_partable

N_PARSE, N_FIT = 3000, 100
DOCUMENTED = (ModelSyntaxError, ModelSpecificationError, DataError, EstimationError)


@pytest.fixture(scope="module")
def data():
    return fuzz_data()


def _ordered(text: str) -> list[str]:
    return [q for q in ("q1", "q2", "q3") if q in text]


def test_mutated_models_raise_only_documented_errors(data):
    columns = list(data.columns)
    seen: dict[str, int] = {}
    unplaced: list[str] = []
    for i, (_, text) in enumerate(mutated_models(N_PARSE, seed=2026)):
        for stage in ("table", "fit") if i < N_FIT else ("table",):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if stage == "table":
                        build_partable(text, columns, ordered={q: 2 for q in _ordered(text)})
                    else:
                        radsem.sem(text, data, ordered=_ordered(text))
            except DOCUMENTED as exc:
                seen[type(exc).__name__] = seen.get(type(exc).__name__, 0) + 1
                if isinstance(exc, ModelSyntaxError) or (
                    stage == "table" and isinstance(exc, ModelSpecificationError)
                ):  # a problem of the model text: it has a place in the text
                    unplaced.extend(
                        []
                        if (exc.line or 0) >= 1 and (exc.column or 0) >= 1
                        else [f"{exc} <- {text!r}"]
                    )
            except Exception as exc:  # noqa: BLE001 - the point of the test
                pytest.fail(f"{type(exc).__name__}: {exc}\nfor the model:\n{text}")
    assert not unplaced, unplaced[:5]
    assert seen.get("ModelSyntaxError", 0) > N_PARSE // 3  # the mutations do break things


@pytest.mark.parametrize(
    ("model", "error", "where"),
    [
        ("f =~ x1 + x2 + x3\nd := " + "(" * 200 + "a" + ")" * 200, ModelSyntaxError, (2, 56)),
        ("f =~ x1 + x2 + x3\nd := " + "-" * 600 + "a", ModelSyntaxError, (2, 56)),
        ("f =~ q1 + q2 + q3\nzz ~*~ zz", ModelSpecificationError, (2, 8)),
        ("f =~ q1 + q2 + q3\nf ~*~ f", ModelSpecificationError, (2, 7)),
        ("f =~ q1 + q2 + q3\nq1 ~*~ x1", ModelSyntaxError, (2, 8)),
        ("f =~ x1 + a*x2 + b*x3\nd := a + zz", ModelSpecificationError, (2, 10)),
        ("f =~ x1 + a*x2 + b*x3\nd := a\nd := b", ModelSpecificationError, (3, 1)),
    ],
)
def test_documented_errors_with_location(data, model, error, where):
    ordered = _ordered(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error) as info:
            radsem.sem(model, data, ordered=ordered)
    assert (info.value.line, info.value.column) == where


def test_complex_powers_in_constraints_are_nan_not_typeerror(data):
    # (-a)^(b^a) is complex in Python; R gives NaN, and so does radsem's evaluator
    from radsem.syntax import compile_expression

    expr = compile_expression("log(a^b^a)")
    assert math.isnan(expr.evaluate({"a": -0.5, "b": 1.3}))
    assert all(math.isnan(v) for v in expr.gradient({"a": -0.5, "b": 1.3}).values())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:  # before the fix: TypeError (must be real number, not complex)
            radsem.sem("f =~ x1 + a*x2 + b*x3\nlog(a^b^a) == 0", data)
        except DOCUMENTED:
            pass


def test_non_finite_constraint_derivatives_are_an_estimation_error(data):
    # found by the fuzzer: numpy's LinAlgError (SVD did not converge) escaped before
    model = "visual =~ q1 + a*x2 + b*x3\ntextual =~ x4 + x5 + x6\na == a/0"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(EstimationError, match="not finite"):
            radsem.sem(model, data, ordered=["q1"])
