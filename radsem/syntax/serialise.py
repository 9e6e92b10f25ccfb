"""Write a parsed model back as canonical lavaan syntax, built only from radsem's own parse.

The text handed to another engine (lavaan evaluates modifiers and constraint expressions with
R's evaluator) is never the user's text: it is rebuilt here from the parsed statements, with

* every variable name, label and defined-parameter name checked against a strict name pattern
  (letters, digits, ``_`` and ``.``; not an R reserved word; ``.pN.`` parameter labels);
* every number written by radsem (``NA``, ``Inf``, digits, ``.``, ``e``, sign);
* every ``:=``, ``==``, ``<`` and ``>`` expression re-emitted from radsem's parsed expression
  tree, with function calls limited to :data:`radsem.syntax.expression.FUNCTIONS`;
* ``equal("lhs op rhs")`` references checked to be ``name op name``.

So whatever the user wrote, the syntax that leaves radsem can only contain names, numbers,
lavaan's operators, ``+ - * / ^ ( ) ,`` and the calls ``c start lower upper equal`` and the
whitelisted arithmetic functions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from radsem.errors import ModelSyntaxError
from radsem.syntax._tokens import R_RESERVED
from radsem.syntax.expression import FUNCTIONS, Expression, _Node
from radsem.syntax.parse import Modifier, Statement, Term, parse_model

__all__ = ["to_lavaan_syntax", "serialise_statements", "check_name", "check_reference"]

#: the only names that may leave radsem: ASCII letters, digits, '_' and '.', R-style start
NAME = re.compile(r"(?:[A-Za-z]|\.(?![0-9]))[A-Za-z0-9_.]*")
_REFERENCE = re.compile(
    rf"({NAME.pattern})(=~|~~|~\*~|~|\|)({NAME.pattern}|1)"
)  # an ``equal("f=~x1")`` reference to another parameter
_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4}
_SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^"}


def check_name(name: str, line: int = 1, column: int = 1, what: str = "name") -> str:
    """Return ``name`` if it is a plain ASCII R name, else raise :class:`ModelSyntaxError`.

    Parameters
    ----------
    name : str
    line, column : int
        Where the name was written (for the message).
    what : str
        How to call the name in the message (``"variable name"``, ``"label"``, ...).
    """
    if not isinstance(name, str) or not NAME.fullmatch(name) or name in R_RESERVED:
        raise ModelSyntaxError(
            f"{name!r} is not a {what} another engine can be given (use letters, digits, "
            "'_' and '.', starting with a letter)",
            line,
            column,
        )
    return name


def check_reference(text: str, line: int = 1, column: int = 1) -> str:
    """Return ``text`` if it is a label or an ``lhs op rhs`` parameter reference (spaces
    removed), else raise :class:`ModelSyntaxError`."""
    compact = re.sub(r"\s+", "", text) if isinstance(text, str) else text
    if isinstance(compact, str) and NAME.fullmatch(compact) and compact not in R_RESERVED:
        return compact
    match = _REFERENCE.fullmatch(compact) if isinstance(compact, str) else None
    if match is None or match.group(1) in R_RESERVED or match.group(3) in R_RESERVED:
        raise ModelSyntaxError(
            f"{text!r} is neither a label nor a parameter such as 'f=~x1'", line, column
        )
    return compact


def _number(value: float) -> str:
    value = float(value)
    if math.isnan(value):
        return "NA"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _expression(node: _Node, line: int, column: int) -> tuple[str, int]:
    """``(text, precedence)`` of an expression tree node, parenthesised only where needed."""
    kind = node.kind
    if kind == "num":
        text = _number(node.value)
        return (text, 5) if not text.startswith("-") else (f"({text})", 5)
    if kind == "var":
        return check_name(node.name, line, column, "label"), 5
    if kind == "call":
        if node.name not in FUNCTIONS:
            raise ModelSyntaxError(f"function {node.name!r} is not allowed", line, column)
        inner, _ = _expression(node.args[0], line, column)
        return f"{node.name}({inner})", 5
    if kind == "neg":
        inner, prec = _expression(node.args[0], line, column)
        return ("-" + (inner if prec >= 3 else f"({inner})")), 3
    if kind not in _SYMBOL:
        raise ModelSyntaxError(f"unknown expression element {kind!r}", line, column)
    mine = _PRECEDENCE[kind]
    left, lp = _expression(node.args[0], line, column)
    right, rp = _expression(node.args[1], line, column)
    if kind == "pow":  # right-associative and tighter than unary minus, as in R
        left = left if lp >= 5 else f"({left})"
        right = right if rp >= 3 else f"({right})"
    else:  # left-associative: the right operand needs a strictly tighter binding
        left = left if lp >= mine else f"({left})"
        right = right if rp > mine else f"({right})"
    return f"{left}{_SYMBOL[kind]}{right}", mine


def expression_text(expr: Expression, line: int = 1, column: int = 1) -> str:
    """Canonical R text of a parsed expression (names checked, functions whitelisted)."""
    return _expression(expr._tree, line, column)[0]


def _values(values: Sequence, fmt) -> str:
    items = [fmt(v) for v in values]
    return items[0] if len(items) == 1 else f"c({', '.join(items)})"


def _label(value: str, mod: Modifier) -> str:
    if value == "":
        return "NA"
    return check_reference(value, mod.line, mod.column)


def _modifier(mod: Modifier) -> str:
    if mod.kind == "fixed":
        return _values(mod.values, _number)
    if mod.kind in ("start", "lower", "upper"):
        return f"{mod.kind}({_values(mod.values, _number)})"
    if mod.kind == "label":
        labels = [_label(v, mod) for v in mod.values]
        plain = all(v == "NA" or NAME.fullmatch(v) for v in labels)
        if plain:
            return labels[0] if len(labels) == 1 else f"c({', '.join(labels)})"
        quoted = ", ".join("NA" if v == "NA" else f'"{v}"' for v in labels)
        return f"equal({quoted})" if len(labels) == 1 else f"equal(c({quoted}))"
    raise ModelSyntaxError(f"unknown modifier kind {mod.kind!r}", mod.line, mod.column)


def _term(term: Term, op: str) -> str:
    name = "1" if term.name == "" else check_name(term.name, term.line, term.column, "name")
    if op == "|" and not re.fullmatch(r"t[1-9][0-9]*", name):
        raise ModelSyntaxError(f"{name!r} is not a threshold name", term.line, term.column)
    return "".join(_modifier(m) + "*" for m in term.modifiers) + name


def _statement(st: Statement) -> str:
    if st.op in ("==", "<", ">", ":="):
        if st.left is None or st.right is None:
            raise ModelSyntaxError(f"{st.op!r} without expressions", st.line, st.column)
        if st.op == ":=":
            left = check_name(st.left.text, st.line, st.column, "parameter name")
        else:
            left = expression_text(st.left, st.line, st.column)
        return f"{left} {st.op} {expression_text(st.right, st.line, st.column)}"
    if st.op not in ("=~", "~", "~~", "~*~", "|", "~1"):
        raise ModelSyntaxError(f"operator {st.op!r} cannot be passed on", st.line, st.column)
    lhs = " + ".join(check_name(n, st.line, st.column, "variable name") for n in st.lhs)
    op = "~" if st.op == "~1" else st.op
    if op == "=~" and len(st.rhs) == 1 and st.lhs == (st.rhs[0].name,):
        return f"{lhs} =~ 0"  # a latent variable without indicators (parsed as 'f =~ 0*f')
    return f"{lhs} {op} {' + '.join(_term(t, st.op) for t in st.rhs)}"


def serialise_statements(statements: Iterable[Statement]) -> str:
    """Canonical lavaan syntax of parsed statements, one formula per line."""
    return "\n".join(_statement(st) for st in statements) + "\n"


def to_lavaan_syntax(model: str) -> tuple[str, dict[str, str]]:
    """Parse ``model`` with radsem's parser and write it back as canonical lavaan syntax.

    Parameters
    ----------
    model : str
        lavaan model syntax as written by the user.

    Returns
    -------
    syntax : str
        The model rebuilt from radsem's parse (see the module notes for what it may contain).
    expressions : dict
        ``{canonical text: text as radsem stores it}`` for the right-hand sides of ``:=``,
        ``==``, ``<`` and ``>``, to map another engine's tables back to radsem's.

    Raises
    ------
    ModelSyntaxError
        The model does not parse, or holds a name, label or function that cannot be passed
        on (with the line and column where it was written).

    Examples
    --------
    >>> syntax, _ = to_lavaan_syntax("f =~ x1 + a * x2 ; d := (a)^2")
    >>> print(syntax, end="")
    f =~ x1 + a*x2
    d := a^2
    """
    statements = parse_model(model)
    syntax = serialise_statements(statements)
    expressions: dict[str, str] = {}
    for st in statements:
        for expr in (st.left, st.right):
            if expr is not None:
                expressions[expression_text(expr, st.line, st.column)] = expr.text
    return syntax, expressions
