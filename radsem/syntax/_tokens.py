"""Tokenizer for lavaan model syntax, keeping the 1-based line and column of every token.

The tokenizer also groups tokens into *statements*: a statement ends at a newline or ``;``
unless the formula obviously continues (open parenthesis, trailing operator such as ``+`` or
``=~``, or a next line that starts with ``+``, ``*`` or a model operator).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from radsem.errors import ModelSyntaxError

__all__ = [
    "Token",
    "tokenize",
    "split_statements",
    "MODEL_OPERATORS",
    "CONSTRAINT_OPERATORS",
    "R_RESERVED",
    "is_valid_name",
]

#: operators that define model parameters, longest first for lexing
MODEL_OPERATORS = ("~*~", "=~", "~~", "<~", "~", "|")
#: operators of constraint and definition lines
CONSTRAINT_OPERATORS = ("==", ":=", "<", ">")
_OPERATOR_LEX = ("~*~", "=~", "~~", "<~", "==", ":=", "~", "<", ">", "|", "%")
_PUNCT = "+*(),?-/^:=;"

#: words R reserves (lavaan names must be valid R names)
R_RESERVED = frozenset(
    {
        "if",
        "else",
        "repeat",
        "while",
        "function",
        "for",
        "in",
        "next",
        "break",
        "TRUE",
        "FALSE",
        "NULL",
        "Inf",
        "NaN",
        "NA",
        "NA_integer_",
        "NA_real_",
        "NA_character_",
        "NA_complex_",
    }
)

_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME_START = re.compile(r"[^\W\d]|\.(?!\d)", re.UNICODE)
_NAME = re.compile(r"(?:[^\W\d]|\.(?!\d))[\w.]*", re.UNICODE)


def is_valid_name(name: str) -> bool:
    """Whether ``name`` is a syntactically valid R name that is not a reserved word."""
    return bool(_NAME.fullmatch(name)) and name not in R_RESERVED


@dataclass(frozen=True)
class Token:
    """One lexical token: ``kind`` is NAME, NUMBER, STRING, OP, PUNCT or END."""

    kind: str
    text: str
    line: int
    column: int

    @property
    def value(self) -> str:
        """The text, without quotes for strings."""
        return self.text[1:-1] if self.kind == "STRING" else self.text


def _error(message: str, line: int, column: int, lines: list[str]) -> ModelSyntaxError:
    text = lines[line - 1] if 0 < line <= len(lines) else None
    return ModelSyntaxError(message, line, column, text)


def _lex_line(raw: str, lineno: int, lines: list[str]) -> list[Token]:
    out: list[Token] = []
    pos = 0
    n = len(raw)
    while pos < n:
        ch = raw[pos]
        if ch in "#!":  # comment to end of line
            break
        if ch.isspace():
            pos += 1
            continue
        col = pos + 1
        if ch in "\"'":
            end = raw.find(ch, pos + 1)
            if end < 0:
                raise _error("unterminated string (missing closing quote)", lineno, col, lines)
            out.append(Token("STRING", raw[pos : end + 1], lineno, col))
            pos = end + 1
            continue
        m = _NUMBER.match(raw, pos)
        if m and (ch.isdigit() or ch == "."):
            out.append(Token("NUMBER", m.group(0), lineno, col))
            pos = m.end()
            continue
        m = _NAME.match(raw, pos)
        if m:
            out.append(Token("NAME", m.group(0), lineno, col))
            pos = m.end()
            continue
        for op in _OPERATOR_LEX:
            if raw.startswith(op, pos):
                out.append(Token("OP", op, lineno, col))
                pos += len(op)
                break
        else:
            if ch in _PUNCT:
                out.append(Token("PUNCT", ch, lineno, col))
                pos += 1
                continue
            raise _error(f"unexpected character {ch!r}", lineno, col, lines)
    return out


def tokenize(text: str) -> tuple[list[list[Token]], list[str]]:
    """Split ``text`` into lines of tokens (comments removed); also return the raw lines.

    ``;`` separators are kept as PUNCT tokens with text ``";"``.
    """
    if not isinstance(text, str):
        raise ModelSyntaxError(
            f"the model must be a string of lavaan syntax, not {type(text).__name__}", 1, 1
        )
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    token_lines: list[list[Token]] = []
    for lineno, raw in enumerate(lines, start=1):
        token_lines.append(_lex_line(raw, lineno, lines))
    return token_lines, lines


_CONTINUES_AFTER = {"+", "*", "-", "/", "^", ",", "(", "?", ":"}
_CONTINUES_BEFORE = {"+", "*", ",", ")", "?", "/", "^"}


def _ends_open(tok: Token) -> bool:
    return tok.kind == "OP" or (tok.kind == "PUNCT" and tok.text in _CONTINUES_AFTER)


def _starts_open(tok: Token) -> bool:
    if tok.kind == "OP":
        return True
    return tok.kind == "PUNCT" and tok.text in _CONTINUES_BEFORE


def split_statements(text: str) -> tuple[list[list[Token]], list[str]]:
    """Group the tokens of ``text`` into statements (lists of tokens, never empty)."""
    token_lines, lines = tokenize(text)
    statements: list[list[Token]] = []
    current: list[Token] = []
    depth = 0
    opener: list[Token] = []

    def close() -> None:
        nonlocal current
        if current:
            statements.append(current)
        current = []

    for toks in token_lines:
        if not toks:
            continue
        if current and depth == 0 and not _ends_open(current[-1]) and not _starts_open(toks[0]):
            close()
        for tok in toks:
            if tok.kind == "PUNCT" and tok.text == ";":
                if depth == 0:
                    close()
                    continue
                raise _error("';' inside parentheses", tok.line, tok.column, lines)
            if tok.kind == "PUNCT" and tok.text == "(":
                depth += 1
                opener.append(tok)
            elif tok.kind == "PUNCT" and tok.text == ")":
                if depth == 0:
                    raise _error(
                        "unbalanced parentheses: ')' without matching '('",
                        tok.line,
                        tok.column,
                        lines,
                    )
                depth -= 1
                opener.pop()
            current.append(tok)
    if depth > 0:
        tok = opener[-1]
        raise _error("unbalanced parentheses: '(' is never closed", tok.line, tok.column, lines)
    close()
    return statements, lines
