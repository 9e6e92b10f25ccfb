"""Safe arithmetic expressions for the right-hand sides of ``:=``, ``==``, ``<`` and ``>``.

User text is never handed to Python's ``eval``: it is tokenized by :mod:`radsem.syntax._tokens`,
parsed by a small recursive-descent parser into a tree of whitelisted nodes, and evaluated by
walking that tree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from statistics import NormalDist

from radsem.errors import ModelSpecificationError, ModelSyntaxError
from radsem.syntax._tokens import Token, tokenize

__all__ = ["Expression", "compile_expression", "FUNCTIONS"]

_STD_NORMAL = NormalDist()
#: nesting allowed in an expression (parentheses, unary signs, powers, function calls)
MAX_DEPTH = 50


def _pnorm(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _dnorm(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


# name -> (function, derivative) for one-argument functions
_UNARY: dict[str, tuple[Callable[[float], float], Callable[[float], float]]] = {
    "exp": (math.exp, math.exp),
    "log": (math.log, lambda x: 1.0 / x),
    "log10": (math.log10, lambda x: 1.0 / (x * math.log(10.0))),
    "log2": (math.log2, lambda x: 1.0 / (x * math.log(2.0))),
    "sqrt": (math.sqrt, lambda x: 0.5 / math.sqrt(x)),
    "abs": (abs, lambda x: math.copysign(1.0, x) if x != 0 else 0.0),
    "sin": (math.sin, math.cos),
    "cos": (math.cos, lambda x: -math.sin(x)),
    "tan": (math.tan, lambda x: 1.0 / math.cos(x) ** 2),
    "asin": (math.asin, lambda x: 1.0 / math.sqrt(1.0 - x * x)),
    "acos": (math.acos, lambda x: -1.0 / math.sqrt(1.0 - x * x)),
    "atan": (math.atan, lambda x: 1.0 / (1.0 + x * x)),
    "tanh": (math.tanh, lambda x: 1.0 - math.tanh(x) ** 2),
    "pnorm": (_pnorm, _dnorm),
    "qnorm": (_STD_NORMAL.inv_cdf, lambda p: 1.0 / _dnorm(_STD_NORMAL.inv_cdf(p))),
}
#: names of the functions an expression may call (one argument each)
FUNCTIONS = frozenset(_UNARY)


@dataclass(frozen=True)
class _Node:
    kind: str  # num, var, neg, add, sub, mul, div, pow, call
    value: float = 0.0
    name: str = ""
    args: tuple[_Node, ...] = ()


class _Parser:
    """Recursive descent over a token list: expr := term (('+'|'-') term)* ..."""

    def __init__(self, tokens: list[Token], lines: list[str], where: str) -> None:
        self.tokens = tokens
        self.lines = lines
        self.pos = 0
        self.where = where
        self.depth = 0

    def nest(self) -> None:
        """Count one more level of nesting; refuse beyond :data:`MAX_DEPTH` (Python's
        recursion limit would otherwise end the parse with RecursionError)."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"expression nested more than {MAX_DEPTH} levels deep", self.peek())

    def error(self, message: str, tok: Token | None) -> ModelSyntaxError:
        if tok is None:
            last = self.tokens[-1] if self.tokens else Token("END", "", 1, 1)
            line, col = last.line, last.column + len(last.text)
        else:
            line, col = tok.line, tok.column
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else None
        return ModelSyntaxError(f"{message} in {self.where}", line, col, text)

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token | None:
        tok = self.peek()
        self.pos += 1
        return tok

    def at(self, *texts: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind in ("PUNCT", "OP") and tok.text in texts

    def parse(self) -> _Node:
        if not self.tokens:
            raise self.error("empty expression", None)
        node = self.expr()
        tok = self.peek()
        if tok is not None:
            raise self.error(f"unexpected {tok.text!r}", tok)
        return node

    def expr(self) -> _Node:
        self.nest()
        node = self.term()
        while self.at("+", "-"):
            op = self.take().text
            node = _Node("add" if op == "+" else "sub", args=(node, self.term()))
        self.depth -= 1
        return node

    def term(self) -> _Node:
        node = self.unary()
        while self.at("*", "/"):
            op = self.take().text
            node = _Node("mul" if op == "*" else "div", args=(node, self.unary()))
        return node

    def unary(self) -> _Node:
        if self.at("-", "+"):
            sign = self.take().text
            self.nest()
            inner = self.unary()
            self.depth -= 1
            return _Node("neg", args=(inner,)) if sign == "-" else inner
        return self.power()

    def power(self) -> _Node:
        node = self.atom()
        if self.at("^"):
            self.take()
            self.nest()
            node = _Node("pow", args=(node, self.unary()))  # right-associative, as in R
            self.depth -= 1
        return node

    def atom(self) -> _Node:
        tok = self.take()
        if tok is None:
            raise self.error("expression ends unexpectedly", None)
        if tok.kind == "NUMBER":
            return _Node("num", value=float(tok.text))
        if tok.kind == "NAME":
            if self.at("("):
                return self.call(tok)
            return _Node("var", name=tok.text)
        if tok.kind == "STRING":
            return _Node("var", name=tok.value)
        if tok.kind == "PUNCT" and tok.text == "(":
            node = self.expr()
            close = self.take()
            if close is None or close.text != ")":
                raise self.error("missing ')'", close)
            return node
        raise self.error(f"unexpected {tok.text!r}", tok)

    def call(self, name: Token) -> _Node:
        if name.text not in _UNARY:
            allowed = ", ".join(sorted(_UNARY))
            raise self.error(f"unknown function {name.text!r} (allowed: {allowed})", name)
        self.take()  # '('
        arg = self.expr()
        close = self.take()
        if close is None or close.text != ")":
            raise self.error(f"function {name.text}() takes one argument", close or name)
        return _Node("call", name=name.text, args=(arg,))


def _pow(a: float, b: float) -> float:
    """``a ^ b`` as R computes it for real numbers: NaN (not a complex number) for a negative
    base and a fractional exponent."""
    value = a**b
    return math.nan if isinstance(value, complex) else float(value)


def _names(node: _Node, out: list[str]) -> None:
    if node.kind == "var" and node.name not in out:
        out.append(node.name)
    for arg in node.args:
        _names(arg, out)


def _eval(node: _Node, values: Mapping[str, float]) -> float:
    k = node.kind
    if k == "num":
        return node.value
    if k == "var":
        return float(values[node.name])
    if k == "neg":
        return -_eval(node.args[0], values)
    if k == "call":
        return _UNARY[node.name][0](_eval(node.args[0], values))
    a, b = (_eval(arg, values) for arg in node.args)
    if k == "add":
        return a + b
    if k == "sub":
        return a - b
    if k == "mul":
        return a * b
    if k == "div":
        return a / b
    return _pow(a, b)


def _deriv(node: _Node, values: Mapping[str, float]) -> tuple[float, dict[str, float]]:
    """Forward-mode differentiation: value and partial derivatives."""
    k = node.kind
    if k == "num":
        return node.value, {}
    if k == "var":
        return float(values[node.name]), {node.name: 1.0}
    if k == "neg":
        v, d = _deriv(node.args[0], values)
        return -v, {n: -g for n, g in d.items()}
    if k == "call":
        v, d = _deriv(node.args[0], values)
        fun, dfun = _UNARY[node.name]
        slope = dfun(v)
        return fun(v), {n: slope * g for n, g in d.items()}
    (a, da), (b, db) = (_deriv(arg, values) for arg in node.args)
    if k in ("add", "sub"):
        sign = 1.0 if k == "add" else -1.0
        out = dict(da)
        for n, g in db.items():
            out[n] = out.get(n, 0.0) + sign * g
        return (a + b if k == "add" else a - b), out
    if k == "mul":
        ca, cb = b, a
        value = a * b
    elif k == "div":
        ca, cb = 1.0 / b, -a / (b * b)
        value = a / b
    else:  # pow
        value = _pow(a, b)
        ca = b * _pow(a, b - 1.0) if b != 0 else 0.0
        cb = value * math.log(a) if (db and a > 0) else 0.0
    out = {n: ca * g for n, g in da.items()}
    for n, g in db.items():
        out[n] = out.get(n, 0.0) + cb * g
    return value, out


@dataclass(frozen=True)
class Expression:
    """A compiled arithmetic expression over parameter labels.

    Attributes
    ----------
    text : str
        The expression as written (whitespace removed, as lavaan stores it).
    names : tuple of str
        The labels the expression uses, in order of first appearance.
    """

    text: str
    names: tuple[str, ...]
    _tree: _Node = field(repr=False, compare=False)
    positions: tuple[tuple[str, int, int], ...] = field(default=(), repr=False, compare=False)

    def position(self, name: str) -> tuple[int | None, int | None]:
        """1-based (line, column) where ``name`` is first written, or (None, None)."""
        for n, line, column in self.positions:
            if n == name:
                return line, column
        return None, None

    def evaluate(self, values: Mapping[str, float]) -> float:
        """Value of the expression given a value for each name in :attr:`names`."""
        missing = [n for n in self.names if n not in values]
        if missing:
            raise ModelSpecificationError(
                f"no value for {', '.join(missing)} in expression {self.text!r}"
            )
        try:
            return _eval(self._tree, values)
        except (ZeroDivisionError, ValueError, OverflowError):
            return math.nan  # as R: 1/0, log(-1), ... give Inf/NaN, not an error

    def gradient(self, values: Mapping[str, float]) -> dict[str, float]:
        """Partial derivatives of the expression with respect to each of :attr:`names`.

        Notes
        -----
        Exact (forward-mode) derivatives of the expression tree; used for delta-method
        standard errors of ``:=`` parameters and Jacobians of constraints.
        """
        self.evaluate(values)  # validates names
        try:
            _, grad = _deriv(self._tree, values)
        except (ZeroDivisionError, ValueError, OverflowError):
            return {n: math.nan for n in self.names}
        return {n: grad.get(n, 0.0) for n in self.names}

    def __str__(self) -> str:
        return self.text


def _parse_tokens(tokens: list[Token], lines: list[str], where: str) -> _Node:
    return _Parser(tokens, lines, where).parse()


def expression_from_tokens(
    tokens: list[Token], lines: list[str], where: str = "expression"
) -> Expression:
    """Parse a slice of tokens (syntax errors carry the tokens' own line and column)."""
    tree = _parse_tokens(tokens, lines, where)
    names: list[str] = []
    _names(tree, names)
    text = "".join(t.value if t.kind == "STRING" else t.text for t in tokens)
    positions = tuple((t.value, t.line, t.column) for t in tokens if t.kind in ("NAME", "STRING"))
    return Expression(text, tuple(names), tree, positions)


def compile_expression(text: str, names: Iterable[str] | None = None) -> Expression:
    """Compile an arithmetic expression written in R notation.

    Parameters
    ----------
    text : str
        E.g. ``"a*b"``, ``"c + a*b"``, ``"exp(b1) / (1 + exp(b1))"``, ``"a^2 - .p3."``.
        Allowed: numbers, labels, ``+ - * / ^``, unary minus, parentheses and the functions
        in :data:`FUNCTIONS` (``exp log log10 log2 sqrt abs sin cos tan asin acos atan tanh
        pnorm qnorm``).
    names : iterable of str, optional
        The labels the expression may use. When given, any other name raises
        :class:`ModelSpecificationError` naming it.

    Returns
    -------
    Expression

    Raises
    ------
    ModelSyntaxError
        Malformed expression (line 1, column of the offending character).
    ModelSpecificationError
        The expression uses a label that is not in ``names``.

    Notes
    -----
    Operator precedence follows R: ``^`` binds tighter than unary minus (``-2^2 == -4``)
    and is right-associative. Checked against R's own evaluation in the tests.

    Examples
    --------
    >>> expr = compile_expression("c + a*b", names=["a", "b", "c"])
    >>> expr.names
    ('c', 'a', 'b')
    >>> expr.evaluate({"a": 0.5, "b": 2.0, "c": 0.1})
    1.1
    """
    token_lines, lines = tokenize(text)
    tokens = [t for line in token_lines for t in line]
    for tok in tokens:
        if tok.kind == "OP" or tok.text == ";":
            raise ModelSyntaxError(
                f"unexpected {tok.text!r} in expression",
                tok.line,
                tok.column,
                lines[tok.line - 1],
            )
    expr = expression_from_tokens(tokens, lines)
    if names is not None:
        allowed = set(names)
        unknown = [n for n in expr.names if n not in allowed]
        if unknown:
            line, column = expr.position(unknown[0])
            raise ModelSpecificationError(
                f"unknown label(s) {', '.join(unknown)} in expression {expr.text!r}; "
                "labels must be defined in the model (e.g. a*x1) or by an earlier ':=' line",
                line,
                column,
            )
    return expr
