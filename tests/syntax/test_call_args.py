"""Reading a pasted lavaan call (``radsem.syntax.call_args``): values, positions, never eval."""

from __future__ import annotations

import math

import pytest

from radsem.errors import ModelSyntaxError
from radsem.syntax.call_args import (
    format_lavaan_arguments,
    lavaan_argument_name,
    parse_lavaan_arguments,
    parse_lavaan_call,
    python_option_name,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('estimator = "MLR"', {"estimator": "MLR"}),
        ("estimator='MLR', missing = 'fiml'", {"estimator": "MLR", "missing": "fiml"}),
        (
            "std.lv = TRUE, orthogonal = F, meanstructure = T",
            {
                "std_lv": True,
                "orthogonal": False,
                "meanstructure": True,
            },
        ),
        ("bootstrap = 500L, iseed = 7", {"bootstrap": 500, "seed": 7}),
        ("bounds = NULL, h1 = NA", {"bounds": None, "h1": None}),
        (
            "optim.dx.tol = 1e-3, x = -2.5, y = -Inf, z = +4",
            {
                "optim_dx_tol": 0.001,
                "x": -2.5,
                "y": -math.inf,
                "z": 4,
            },
        ),
        (
            'group.equal = c("loadings", "intercepts")',
            {
                "group_equal": ["loadings", "intercepts"],
            },
        ),
        ("test = c()", {"test": []}),
        (
            'rotation.args = list(rstarts = 30, algorithm = "gpa", orthogonal = TRUE)',
            {
                "rotation_args": {"rstarts": 30, "algorithm": "gpa", "orthogonal": True},
            },
        ),
        ('"std.lv" = TRUE, `fixed.x` = FALSE', {"std_lv": True, "fixed_x": False}),
        ('label = "a \\"quoted\\" word"', {"label": 'a "quoted" word'}),
        ("", {}),
        (
            '# robust ML\nestimator = "MLR",  # Huber-White\n\nmissing = "ml"  ',
            {
                "estimator": "MLR",
                "missing": "ml",
            },
        ),
    ],
)
def test_argument_values(text, expected):
    got = parse_lavaan_arguments(text)
    assert got == expected
    assert [type(v) for v in got.values()] == [type(v) for v in expected.values()]


@pytest.mark.parametrize(
    ("text", "function", "options"),
    [
        ('sem(model, data = d, estimator = "MLR")', "sem", {"estimator": "MLR"}),
        ("fit <- cfa(HS.model, data=HolzingerSwineford1939, std.lv=TRUE)", "cfa", {"std_lv": True}),
        ("fit = lavaan::growth(m, data = d)", "growth", {}),
        ("lavaan(model = m, data = d, auto.var = TRUE)", "lavaan", {"auto_var": True}),
        (
            'efa(data = d, nfactors = 2, rotation = "geomin")',
            "efa",
            {
                "nfactors": 2,
                "rotation": "geomin",
            },
        ),
        ('estimator = "ML"', None, {"estimator": "ML"}),
        # data= is skipped whatever it holds (a path there may name a person)
        (
            'sem(m, data = read.csv("/home/jane/a,b.csv")[d$x > 1, ], sample.nobs = c(1, 2), '
            "se = 'robust')",
            "sem",
            {"se": "robust"},
        ),
    ],
)
def test_whole_calls(text, function, options):
    assert parse_lavaan_call(text) == (function, options)


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("estimator = MLR", 13, "does not evaluate"),
        ('estimator = "MLR" missing = "ml"', 19, "expected ','"),
        ('x = c(1, "a")', 5, "mixes strings"),
        ("x = c(c(1), 2)", 7, "flat c()"),
        ("a = 1, a = 2", 8, "given twice"),
        ('system("touch pwned")', 1, "passed by name"),
        ("a = ", 5, "end too early"),
        ("sem(model, a = 1", 17, "expected ')'"),
        ('a = -"x"', 5, "followed by a number"),
        ("a = 1 * 2", 7, "expected ','"),
        ("a = $b", 5, "not a value"),
        ("sem(model, data = d) extra", 22, "after the closing"),
        ("data = , a = 1", 8, "needs a value"),
        ("rotation.args = list(1)", 22, "must be named"),
        ("a = 'open", 5, "not a value"),
    ],
)
def test_malformed_text_names_the_column(text, column, words):
    with pytest.raises(ModelSyntaxError) as info:
        parse_lavaan_arguments(text)
    assert info.value.line == 1
    assert info.value.column == column
    assert words in str(info.value)


def test_error_positions_count_lines():
    with pytest.raises(ModelSyntaxError) as info:
        parse_lavaan_arguments('estimator = "ML",\n  missing = fiml')
    assert (info.value.line, info.value.column) == (2, 13)


def test_nothing_is_evaluated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for text in (
        'a = system("touch pwned")',
        "a = __import__('os').system('touch pwned')",
        'a = eval(parse(text = "1"))',
    ):
        with pytest.raises(ModelSyntaxError):
            parse_lavaan_arguments(text)
    assert list(tmp_path.iterdir()) == []


def test_names_and_round_trip():
    assert python_option_name("group.equal") == "group_equal"
    assert python_option_name("iseed") == "seed"
    assert lavaan_argument_name("seed") == "iseed"
    assert lavaan_argument_name("baseline_conditional_x_free_slopes") == (
        "baseline.conditional.x.free.slopes"
    )
    options = {
        "estimator": "MLM",
        "test": ["satorra.bentler", "mean.var.adjusted"],
        "std_lv": True,
        "bounds": None,
        "bootstrap": 200,
        "seed": 3,
        "optim_dx_tol": 1e-3,
        "x": -math.inf,
        "label": 'say "hi"\\there\nnow',
        "rotation_args": {"rstarts": 30, "algorithm": "gpa"},
    }
    text = format_lavaan_arguments(options)
    assert parse_lavaan_arguments(text) == options
    assert "iseed = 3L" in text
    assert "std.lv = TRUE" in text


def test_text_only():
    with pytest.raises(TypeError):
        parse_lavaan_arguments(["estimator"])  # type: ignore[arg-type]
