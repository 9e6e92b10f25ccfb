"""Read the options of a lavaan call as pasted from an R script.

A user who has ``sem(model, data = d, estimator = "MLR", missing = "fiml",
group.equal = c("loadings", "intercepts"))`` in R can hand radsem the argument list (or the
whole call) as text. :func:`parse_lavaan_arguments` reads it with a small parser of R
literals (strings, numbers, ``TRUE``/``FALSE``/``T``/``F``, ``NULL``, ``NA``, ``Inf``,
``c(...)`` vectors and named ``list(...)``), never by evaluating it, and returns the options
in radsem's Python spelling (``group.equal`` -> ``group_equal``, ``iseed`` -> ``seed``),
ready for :func:`radsem.sem`. Whether an option exists and its value is valid is the
engine's business; this module only reads the text and says where it is malformed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from radsem.errors import ModelSyntaxError

__all__ = [
    "parse_lavaan_arguments",
    "parse_lavaan_call",
    "format_lavaan_arguments",
    "python_option_name",
    "lavaan_argument_name",
]

#: lavaan names whose Python spelling is not simply "." -> "_"
_RENAMED = {"iseed": "seed"}
#: Python spellings whose lavaan name is not simply "_" -> "."
_TO_LAVAAN = {"seed": "iseed", "random_state": "iseed"}
#: arguments that name the call's inputs: radsem takes them from elsewhere
_INPUTS = ("model", "data", "sample.cov", "sample.mean", "sample.nobs")
_FUNCTIONS = ("sem", "cfa", "growth", "lavaan", "efa")

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?L?)
  | (?P<name>(?:[^\W\d][\w.]*:::?)?(?:[^\W\d]|\.(?!\d))[\w.]*|`[^`\n]+`)
  | (?P<punct><-|[=(),\-+])
  | (?P<other>[^\s])
    """,
    re.VERBOSE | re.UNICODE,
)
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}
_CONSTANTS: dict[str, Any] = {
    "TRUE": True,
    "T": True,
    "FALSE": False,
    "F": False,
    "NULL": None,
    "NA": None,
    "Inf": math.inf,
}


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    line: int
    column: int


def python_option_name(name: str) -> str:
    """lavaan's argument name in radsem's spelling: ``group.equal`` -> ``group_equal``,
    ``iseed`` -> ``seed``."""
    return _RENAMED.get(name, name.replace(".", "_"))


def lavaan_argument_name(name: str) -> str:
    """radsem's option name in lavaan's spelling: ``group_equal`` -> ``group.equal``,
    ``seed``/``random_state`` -> ``iseed``."""
    return _TO_LAVAAN.get(name, name.replace("_", "."))


def _r_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return f"{value}L"
    if isinstance(value, float):
        return "Inf" if value == math.inf else "-Inf" if value == -math.inf else repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, dict):
        inner = ", ".join(f"{lavaan_argument_name(k)} = {_r_literal(v)}" for k, v in value.items())
        return f"list({inner})"
    if isinstance(value, list | tuple):
        return "c(" + ", ".join(_r_literal(v) for v in value) + ")"
    raise TypeError(f"cannot write a {type(value).__name__} as an R literal")


def format_lavaan_arguments(options: dict[str, Any]) -> str:
    """Options in radsem's spelling written back as lavaan arguments (the inverse of
    :func:`parse_lavaan_arguments`: reading the text gives the same options).

    Examples
    --------
    >>> format_lavaan_arguments({"estimator": "MLR", "std_lv": True, "seed": 1})
    'estimator = "MLR", std.lv = TRUE, iseed = 1L'
    """
    return ", ".join(f"{lavaan_argument_name(k)} = {_r_literal(v)}" for k, v in options.items())


def _lex(text: str) -> tuple[list[_Tok], list[str]]:
    """Tokens with 1-based line and column (the last alternative of ``_TOKEN`` matches any
    other character, so every character belongs to a token; the parser rejects the stray
    ones where they matter)."""
    tokens: list[_Tok] = []
    line, start = 1, 0
    for match in _TOKEN.finditer(text):
        chunk, kind = match.group(), match.lastgroup or ""
        if kind not in ("space", "comment"):
            tokens.append(_Tok(kind, chunk, line, match.start() - start + 1))
        if "\n" in chunk:
            line += chunk.count("\n")
            start = match.start() + chunk.rindex("\n") + 1
    return tokens, text.split("\n")


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens, self.lines = _lex(text)
        self.i = 0
        self.function: str | None = None

    def error(self, message: str, tok: _Tok | None = None) -> ModelSyntaxError:
        if tok is None:
            tok = self.peek()
        if tok is None:  # at the end: point after the last character
            last = self.lines[-1] if self.lines else ""
            return ModelSyntaxError(message, len(self.lines), len(last) + 1, last)
        return ModelSyntaxError(message, tok.line, tok.column, self.lines[tok.line - 1])

    def peek(self, ahead: int = 0) -> _Tok | None:
        j = self.i + ahead
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise self.error("the lavaan arguments end too early")
        self.i += 1
        return tok

    def expect(self, text: str) -> _Tok:
        tok = self.peek()
        if tok is None or tok.text != text:
            found = "the end" if tok is None else repr(tok.text)
            raise self.error(f"expected {text!r}, found {found}")
        return self.take()

    # -- values ------------------------------------------------------------------------
    def value(self) -> Any:
        tok = self.take()
        if tok.kind == "string":
            return _unquote(tok.text)
        if tok.text in ("-", "+"):
            nxt = self.peek()
            if nxt is None or not (nxt.kind == "number" or nxt.text == "Inf"):
                raise self.error(f"a sign {tok.text!r} must be followed by a number", tok)
            number = self.value()
            return -number if tok.text == "-" else number
        if tok.kind == "number":
            return _number(tok.text)
        if tok.kind == "name" and tok.text in _CONSTANTS:
            return _CONSTANTS[tok.text]
        if tok.kind == "name" and tok.text in ("c", "list") and self._at("("):
            return self.vector(tok) if tok.text == "c" else self.named_list()
        if tok.kind == "name":
            raise self.error(
                f"{tok.text!r} is an R variable or expression, which radsem does not evaluate; "
                f'write text in quotes ("{tok.text}")',
                tok,
            )
        raise self.error(
            f"{tok.text!r} is not a value radsem reads (strings, numbers, TRUE/FALSE, NULL, "
            "c(...) and list(...); R expressions and variables are not evaluated)",
            tok,
        )

    def _at(self, text: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.text == text

    def vector(self, head: _Tok) -> list[Any]:
        self.expect("(")
        items: list[Any] = []
        while not self._at(")"):
            start = self.peek()
            item = self.value()
            if isinstance(item, list | dict):
                raise self.error("c() of vectors or lists is not read; write one flat c()", start)
            items.append(item)
            if not self._at(")"):
                self.expect(",")
        self.expect(")")
        strings = [isinstance(v, str) for v in items if v is not None]
        if any(strings) and not all(strings):
            raise self.error("a c() vector mixes strings and other values", head)
        return items

    def named_list(self) -> dict[str, Any]:
        self.expect("(")
        out: dict[str, Any] = {}
        while not self._at(")"):
            name = self.argument_name()
            if name is None:
                raise self.error("list() entries must be named: list(name = value, ...)")
            key = python_option_name(name.text)
            if key in out:
                raise self.error(f"{name.text!r} is given twice in list()", name)
            out[key] = self.value()
            if not self._at(")"):
                self.expect(",")
        self.expect(")")
        return out

    def argument_name(self) -> _Tok | None:
        """The ``name =`` of an argument (consumed), or None for a positional argument."""
        tok, nxt = self.peek(), self.peek(1)
        if tok is not None and tok.kind in ("name", "string") and nxt is not None:
            if nxt.text == "=":
                self.i += 2
                if tok.kind == "string":
                    return _Tok("name", _unquote(tok.text), tok.line, tok.column)
                return _Tok("name", tok.text.strip("`"), tok.line, tok.column)
        return None

    # -- the argument list ---------------------------------------------------------------
    def arguments(self) -> dict[str, Any]:
        closing = self._call_head()
        out: dict[str, Any] = {}
        while self.peek() is not None and not (closing and self._at(")")):
            name = self.argument_name()
            if name is None:
                tok = self.peek()
                if closing and not out and tok is not None and tok.kind == "name":
                    self.take()  # the model object: sem(model, ...)
                else:
                    raise self.error(
                        "expected 'name = value' (lavaan's options are passed by name)", tok
                    )
            elif name.text in _INPUTS:
                self._skip_expression()
            else:
                key = python_option_name(name.text)
                if key in out:
                    raise self.error(f"option {name.text!r} is given twice", name)
                out[key] = self.value()
            if self.peek() is not None and not (closing and self._at(")")):
                self.expect(",")
        if closing:
            self.expect(")")
            if self.peek() is not None:
                raise self.error("unexpected text after the closing parenthesis of the call")
        return out

    def _skip_expression(self) -> None:
        """Pass over the value of ``data = ...`` and the like (never read, never run)."""
        depth, start = 0, self.peek()
        while (tok := self.peek()) is not None:
            if depth == 0 and tok.text in (",", ")"):
                break
            depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(tok.text, 0)
            self.take()
        if self.peek() is start:
            raise self.error("an argument needs a value after '='")

    def _call_head(self) -> bool:
        """Skip ``fit <- sem(`` / ``lavaan::sem(``; True when a call's parenthesis is open."""
        tok, nxt = self.peek(), self.peek(1)
        if tok is not None and tok.kind == "name" and nxt is not None and nxt.text in ("<-", "="):
            after = self.peek(2)
            if after is not None and after.kind == "name" and _function(after.text):
                self.i += 2
        tok = self.peek()
        if tok is not None and tok.kind == "name" and _function(tok.text) and self._at_call():
            self.function = tok.text.removeprefix("lavaan::")
            self.i += 2
            return True
        return False

    def _at_call(self) -> bool:
        nxt = self.peek(1)
        return nxt is not None and nxt.text == "("


def _function(name: str) -> bool:
    return name.removeprefix("lavaan::") in _FUNCTIONS


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def _number(text: str) -> int | float:
    if text.endswith("L"):
        return int(float(text[:-1]))
    if re.fullmatch(r"\d+", text):
        return int(text)
    return float(text)


def parse_lavaan_arguments(text: str) -> dict[str, Any]:
    """Options of a lavaan call pasted as text, in radsem's Python spelling.

    Parameters
    ----------
    text : str
        Either the named arguments (``estimator = "MLR", missing = "fiml"``) or a whole call
        (``fit <- sem(model, data = d, std.lv = TRUE)``; ``lavaan::`` prefixes are fine).
        Values are R literals: strings, numbers (``1000L`` too), ``TRUE``/``FALSE``/``T``/``F``,
        ``NULL``/``NA`` (lavaan's default), ``Inf``, flat ``c(...)`` vectors and named
        ``list(...)`` (e.g. ``rotation.args``). ``#`` comments and line breaks are allowed.
        The ``model``, ``data`` and ``sample.*`` arguments are skipped: radsem reads the model
        and the data from their own files.

    Returns
    -------
    dict
        ``{python_name: value}``: ``c()`` becomes a list, ``list()`` a dict, ``NULL``/``NA``
        ``None``. Nothing is evaluated: a variable or an R expression is an error.

    Raises
    ------
    ModelSyntaxError
        With the 1-based line and column of the first malformed token.

    Examples
    --------
    >>> parse_lavaan_arguments('estimator = "MLR", group.equal = c("loadings"), std.lv = TRUE')
    {'estimator': 'MLR', 'group_equal': ['loadings'], 'std_lv': True}
    >>> parse_lavaan_arguments("fit <- sem(m, data = d, se = 'bootstrap', iseed = 1)")
    {'se': 'bootstrap', 'seed': 1}
    """
    return parse_lavaan_call(text)[1]


def parse_lavaan_call(text: str) -> tuple[str | None, dict[str, Any]]:
    """The lavaan function a pasted call names (``"sem"``, ``"cfa"``, ``"growth"``,
    ``"lavaan"``, ``"efa"``; None for a bare argument list) and its options, as
    :func:`parse_lavaan_arguments`.

    Examples
    --------
    >>> parse_lavaan_call('fit <- lavaan::growth(model, data = d, missing = "ml")')
    ('growth', {'missing': 'ml'})
    """
    if not isinstance(text, str):
        raise TypeError(f"the lavaan arguments must be text, not {type(text).__name__}")
    parser = _Parser(text)
    options = parser.arguments()
    return parser.function, options
