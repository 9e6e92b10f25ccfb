"""Refuse model text that could make R evaluate code before it is handed to lavaan.

This is the second line of defence: :func:`radsem.engines.fit_lavaan` gives lavaan only the
syntax rebuilt by :func:`radsem.syntax.serialise.to_lavaan_syntax` from radsem's own parse, and
checks that rebuilt text here as well. A token check alone is not enough on user text (lavaan
joins a line without an operator onto the previous one, so ``f\n(...)`` becomes a call).

lavaan evaluates parts of a model string with R's evaluator: modifiers such as ``start(...)``,
``c(...)`` and ``label(...)`` and the right-hand sides of ``:=``, ``==``, ``<`` and ``>`` are
turned into R expressions.  A model string is therefore checked token by token against what
lavaan syntax needs: names, numbers, plain string labels, lavaan's operators, and function calls
only to lavaan's modifiers and to arithmetic functions.  Anything else (backticks, ``::``,
``$``, ``@``, braces, brackets, ``%op%``, strings holding anything but names and lavaan
operators (lavaan strips the quotes), calls of unknown functions, calls of a string or of a
parenthesised expression) raises :class:`ModelSyntaxError` with its position.
"""

from __future__ import annotations

import re

from radsem.errors import ModelSyntaxError

__all__ = ["check_model_text", "ALLOWED_FUNCTIONS"]

#: lavaan modifiers and arithmetic functions usable in ``:=``/``==``/``<``/``>`` expressions
ALLOWED_FUNCTIONS = frozenset(
    {
        # lavaan modifiers
        "c",
        "start",
        "label",
        "equal",
        "lower",
        "upper",
        "efa",
        "rv",
        "prior",
        # arithmetic in defined parameters and constraints
        "exp",
        "log",
        "log10",
        "log2",
        "log1p",
        "expm1",
        "sqrt",
        "abs",
        "sign",
        "sin",
        "cos",
        "tan",
        "asin",
        "acos",
        "atan",
        "sinh",
        "cosh",
        "tanh",
        "pnorm",
        "qnorm",
        "dnorm",
        "plogis",
        "qlogis",
        "min",
        "max",
        "sum",
        "prod",
        "mean",
    }
)

_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r\f\v]+)
  | (?P<newline>\n)
  | (?P<comment>[#!][^\n]*)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?L?)
  | (?P<name>[A-Za-z_.][A-Za-z0-9_.]*)
  | (?P<string>"[A-Za-z0-9_.=~|* ]*"|'[A-Za-z0-9_.=~|* ]*')
  | (?P<op>=~|~\*~|~~|<~|~|:=|:|==|<=|>=|<|>|\||\+|-|\*|/|\^|,|;)
  | (?P<open>\()
  | (?P<close>\))
    """,
    re.VERBOSE,
)


def _fail(model: str, pos: int, reason: str) -> None:
    line = model.count("\n", 0, pos) + 1
    start = model.rfind("\n", 0, pos) + 1
    end = model.find("\n", pos)
    text = model[start : end if end >= 0 else len(model)]
    raise ModelSyntaxError(reason, line, pos - start + 1, text)


def check_model_text(model: str, what: str = "model") -> None:
    """Raise :class:`ModelSyntaxError` unless ``model`` is plain lavaan syntax.

    Parameters
    ----------
    model : str
        The model (or a ``group_partial`` entry) as written by the user.
    what : str
        How to name the text in messages.

    Notes
    -----
    This is a lexical allow-list, stricter than lavaan's grammar only where lavaan would hand
    text to R's evaluator; every model of lavaan's tutorial passes it.
    """
    if not isinstance(model, str):
        raise ModelSyntaxError(f"the {what} must be a string, got {type(model).__name__}", 1, 1)
    pos = 0
    previous: tuple[str, str] = ("op", "")
    while pos < len(model):
        match = _TOKEN.match(model, pos)
        if match is None:
            char = model[pos]
            if char in "\"'":
                _fail(
                    model,
                    pos,
                    f"a quoted label in the {what} may hold only letters, digits, '_', '.', "
                    "'=~' and spaces",
                )
            _fail(model, pos, f"character {char!r} is not part of lavaan syntax in the {what}")
        kind = match.lastgroup or ""
        value = match.group()
        if kind == "open":
            prev_kind, prev_value = previous
            if prev_kind == "name" and prev_value not in ALLOWED_FUNCTIONS:
                _fail(
                    model,
                    pos - len(prev_value),
                    f"function {prev_value}() is not allowed in a lavaan {what} (allowed: "
                    "lavaan modifiers c/start/label/equal and arithmetic functions)",
                )
            if prev_kind in {"string", "close", "number"}:
                _fail(model, pos, f"'(' cannot follow {prev_value!r} in a lavaan {what}")
        if kind not in {"space", "comment"}:
            previous = (kind, value)
        pos = match.end()
