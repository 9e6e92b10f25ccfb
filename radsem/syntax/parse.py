"""Parse lavaan model syntax into statements that remember where they were written.

See ``docs/syntax.md`` for the accepted syntax and the few deliberate differences from lavaan.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from radsem.errors import ModelSyntaxError
from radsem.syntax._tokens import Token, is_valid_name, split_statements
from radsem.syntax.expression import Expression, expression_from_tokens

__all__ = ["Modifier", "Term", "Statement", "parse_model"]

_MODEL_OPS = ("=~", "~", "~~", "~*~", "|")
_CONSTRAINT_OPS = ("==", "<", ">", ":=")
_UNSUPPORTED_OPS = {
    "<~": "formative latent variables ('<~') are not supported by radsem; "
    "model the composite explicitly or fit this model with lavaan",
    "%": "group weights ('%') are not supported by radsem",
}
_THRESHOLD = re.compile(r"t[1-9][0-9]*")


@dataclass(frozen=True)
class Modifier:
    """A modifier in front of a right-hand-side variable (``2*``, ``a*``, ``start(1)*``...).

    ``kind`` is ``"fixed"`` (values are floats, ``nan`` for ``NA``), ``"start"``, ``"lower"``,
    ``"upper"`` (floats) or ``"label"`` (strings, ``""`` for ``NA`` inside ``c()``). Several
    values mean one value per group (``c(a1, a2)*``).
    """

    kind: str
    values: tuple
    line: int
    column: int


@dataclass(frozen=True)
class Term:
    """One right-hand-side element: a variable (``""`` for the intercept ``1``) and modifiers."""

    name: str
    modifiers: tuple[Modifier, ...]
    line: int
    column: int

    def modifier(self, kind: str) -> Modifier | None:
        """The modifier of that kind, or None."""
        for mod in self.modifiers:
            if mod.kind == kind:
                return mod
        return None


@dataclass(frozen=True)
class Statement:
    """One formula of the model.

    For the parameter operators (``=~ ~ ~~ ~1 | ~*~``) ``lhs`` holds the left-hand-side
    variable names and ``rhs`` the terms; ``y ~ 1`` becomes op ``"~1"`` with one term named
    ``""``. For ``== < > :=`` ``lhs``/``rhs`` are empty and :attr:`left` / :attr:`right` hold
    the expressions (for ``:=``, ``left`` is the defined name's expression).
    """

    lhs: tuple[str, ...]
    op: str
    rhs: tuple[Term, ...]
    line: int
    column: int
    text: str
    left: Expression | None = None
    right: Expression | None = None

    @property
    def is_constraint(self) -> bool:
        """True for ``==``, ``<``, ``>`` and ``:=`` lines."""
        return self.op in _CONSTRAINT_OPS


class _StatementParser:
    def __init__(self, tokens: list[Token], lines: list[str]) -> None:
        self.tokens = tokens
        self.lines = lines
        first = tokens[0]
        self.line, self.column = first.line, first.column

    # -- helpers -------------------------------------------------------------------------
    def error(self, message: str, tok: Token | None) -> ModelSyntaxError:
        if tok is None:
            last = self.tokens[-1]
            line, col = last.line, last.column + len(last.text)
        else:
            line, col = tok.line, tok.column
        return ModelSyntaxError(message, line, col, self.lines[line - 1])

    def find_operator(self) -> int:
        depth = 0
        found = -1
        for i, tok in enumerate(self.tokens):
            if tok.text == "(" and tok.kind == "PUNCT":
                depth += 1
            elif tok.text == ")" and tok.kind == "PUNCT":
                depth -= 1
            elif tok.kind == "OP" and depth == 0:
                if found >= 0:
                    raise self.error(
                        f"a second operator {tok.text!r} in one formula "
                        "(missing line break or ';'?)",
                        tok,
                    )
                found = i
        if found < 0:
            tok = self.tokens[0]
            raise self.error("no lavaan operator (=~, ~, ~~, ==, :=, <, >, |) in this formula", tok)
        return found

    # -- statements ----------------------------------------------------------------------
    def parse(self) -> Statement:
        k = self.find_operator()
        op_tok = self.tokens[k]
        op = op_tok.text
        if op in _UNSUPPORTED_OPS:
            raise self.error(_UNSUPPORTED_OPS[op], op_tok)
        left, right = self.tokens[:k], self.tokens[k + 1 :]
        if not left:
            raise self.error(f"missing left-hand side before {op!r}", op_tok)
        if not right:
            raise self.error(f"missing right-hand side after {op!r}", None)
        text = self.lines[self.line - 1].strip()
        if op in _CONSTRAINT_OPS:
            return self.constraint(op, op_tok, left, right, text)
        lhs = self.lhs_names(left, op)
        if right[0].kind == "PUNCT" and right[0].text == "+":
            right = right[1:]  # lavaan accepts one leading '+'
            if not right:
                raise self.error(f"missing right-hand side after {op!r}", None)
        terms = self.rhs_terms(right, op)
        if op == "~" and all(t.name == "" for t in terms):
            op = "~1"
        if op == "=~" and any(t.name == _PHANTOM for t in terms):
            terms = self.phantom(lhs, terms, right[0])
        return Statement(lhs, op, terms, self.line, self.column, text)

    def phantom(self, lhs: tuple[str, ...], terms: tuple[Term, ...], tok: Token):
        """``f =~ 0``: a latent variable without indicators (lavaan writes ``f =~ f`` fixed
        at 0, which makes ``f`` latent without measuring anything)."""
        if len(lhs) != 1 or len(terms) != 1:
            raise self.error(
                "'=~ 0' (a latent variable without indicators) must stand alone: one latent "
                "variable on the left, nothing else on the right",
                tok,
            )
        term = terms[0]
        fixed = (Modifier("fixed", (0.0,), term.line, term.column),)
        return (Term(lhs[0], fixed, term.line, term.column),)

    def constraint(
        self, op: str, op_tok: Token, left: list[Token], right: list[Token], text: str
    ) -> Statement:
        where = f"the {'definition' if op == ':=' else 'constraint'}"
        if op == ":=":
            if len(left) != 1 or left[0].kind != "NAME":
                raise self.error("':=' needs a single new parameter name on its left", left[0])
            if not is_valid_name(left[0].text):
                raise self.error(f"{left[0].text!r} is not a valid parameter name", left[0])
        for tok in (*left, *right):
            if tok.kind == "OP":
                raise self.error(f"unexpected operator {tok.text!r}", tok)
        lexpr = expression_from_tokens(left, self.lines, where)
        rexpr = expression_from_tokens(right, self.lines, where)
        return Statement((), op, (), self.line, self.column, text, lexpr, rexpr)

    def lhs_names(self, toks: list[Token], op: str) -> tuple[str, ...]:
        names: list[str] = []
        expect_name = True
        for tok in toks:
            if expect_name:
                if tok.kind != "NAME":
                    if tok.text in ("*", "?") or tok.kind == "NUMBER":
                        raise self.error(
                            "modifiers (labels, fixed values) belong on the right-hand side",
                            tok,
                        )
                    raise self.error(f"expected a variable name, found {tok.text!r}", tok)
                if tok.text == "efa":
                    raise self.error("efa() blocks are not supported by radsem", tok)
                self.check_name(tok)
                names.append(tok.text)
            elif not (tok.kind == "PUNCT" and tok.text == "+"):
                if tok.text in ("*", "?", "("):
                    raise self.error(
                        "modifiers (labels, fixed values) belong on the right-hand side", tok
                    )
                raise self.error(f"expected '+' or {op!r}, found {tok.text!r}", tok)
            expect_name = not expect_name
        if expect_name:
            raise self.error(f"missing variable name before {op!r}", None)
        return tuple(names)

    def check_name(self, tok: Token) -> None:
        if not is_valid_name(tok.text):
            raise self.error(
                f"{tok.text!r} is not a valid variable name (it is a reserved word in R)", tok
            )

    def rhs_terms(self, toks: list[Token], op: str) -> tuple[Term, ...]:
        pieces: list[list[Token]] = [[]]
        depth = 0
        for tok in toks:
            if tok.kind == "PUNCT" and tok.text == "(":
                depth += 1
            elif tok.kind == "PUNCT" and tok.text == ")":
                depth -= 1
            if depth == 0 and tok.kind == "PUNCT" and tok.text == "+":
                if not pieces[-1]:
                    raise self.error("'+' without a term before it", tok)
                pieces.append([])
                continue
            pieces[-1].append(tok)
        if not pieces[-1]:
            raise self.error("formula ends with '+' (missing term)", None)
        merged: dict[str, Term] = {}
        for piece in pieces:
            term = _TermParser(self, piece, op).parse()
            if term.name in merged:
                term = self.merge(merged[term.name], term)
            merged[term.name] = term
        return tuple(merged.values())

    def merge(self, first: Term, second: Term) -> Term:
        kinds = {m.kind for m in first.modifiers}
        for mod in second.modifiers:
            if mod.kind in kinds:
                tok = Token("PUNCT", "", mod.line, mod.column)
                raise self.error(
                    f"variable {second.name or '1'!r} is given two {mod.kind} modifiers", tok
                )
        return Term(first.name, first.modifiers + second.modifiers, first.line, first.column)


_PHANTOM = "\0phantom"  # the right-hand side of 'f =~ 0' until the statement rewrites it


class _TermParser:
    """term := factor ('*' factor)* ; the last factor is the variable, the others modifiers."""

    def __init__(self, owner: _StatementParser, toks: list[Token], op: str) -> None:
        self.owner = owner
        self.toks = toks
        self.pos = 0
        self.op = op

    def error(self, message: str, tok: Token | None) -> ModelSyntaxError:
        return self.owner.error(message, tok)

    def peek(self) -> Token | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> Token | None:
        tok = self.peek()
        self.pos += 1
        return tok

    def parse(self) -> Term:
        factors: list[tuple[Token, object]] = []
        starts: list[Modifier] = []
        while True:
            first = self.peek()
            factors.append((first, self.factor()))
            nxt = self.peek()
            if nxt is None:
                break
            if nxt.text == "?":  # lavaan's 'value?x' shorthand for start(value)*x
                self.take()
                start_tok, value = factors.pop()
                if not isinstance(value, float):
                    raise self.error("'?' must follow a number (start value)", start_tok)
                starts.append(Modifier("start", (value,), start_tok.line, start_tok.column))
                continue
            if nxt.text == ":":
                raise self.error(
                    "interaction terms (x1:x2) are not supported; add the product of the "
                    "two variables to the data as a new column",
                    nxt,
                )
            if nxt.text != "*":
                raise self.error(f"unexpected {nxt.text!r} (missing '+' or '*'?)", nxt)
            self.take()
            if self.peek() is None:
                raise self.error("'*' must be followed by a variable name", None)
        var_tok, var = factors[-1]
        name = self.variable(var_tok, var)
        mods = starts + [self.modifier(tok, val) for tok, val in factors[:-1]]
        kinds = [m.kind for m in mods]
        for kind in set(kinds):
            if kinds.count(kind) > 1:
                dup = [m for m in mods if m.kind == kind][1]
                tok = Token("PUNCT", "", dup.line, dup.column)
                hint = " (use c(a, b)* for one label per group)" if kind == "label" else ""
                raise self.error(f"two {kind} modifiers on one term{hint}", tok)
        if name == "" and self.op == "~" and var == 0.0 and not mods:
            mods = [Modifier("fixed", (0.0,), var_tok.line, var_tok.column)]
        return Term(name, tuple(mods), var_tok.line, var_tok.column)

    def pos_mods(self) -> bool:
        """Whether the term has factors before its last one (modifiers)."""
        return len(self.toks) > 1

    def variable(self, tok: Token, value: object) -> str:
        op = self.op
        if tok.kind == "NAME" and tok.text == "NA":
            raise self.error("NA must be followed by '*' and a variable name", tok)
        if isinstance(value, str) and tok.kind == "NAME":
            if self.peek() is not None and self.peek().text == "(":
                raise self.error(f"unexpected function call {tok.text}()", tok)
            self.owner.check_name(tok)
            if op == "|" and not _THRESHOLD.fullmatch(tok.text):
                raise self.error(f"threshold names must be t1, t2, ... (found {tok.text!r})", tok)
            if ":" in tok.text:
                raise self.error("interaction terms are not supported", tok)
            return tok.text
        if isinstance(value, float) and op == "~" and value in (0.0, 1.0):
            return ""
        if isinstance(value, float) and op == "=~" and value == 0.0 and not self.pos_mods():
            return _PHANTOM
        raise self.error(f"expected a variable name, found {tok.text!r}", tok)

    # factor := ['-'|'+'] number | '(' number-expression ')' | NA | name | "string" | call
    def factor(self) -> object:
        tok = self.take()
        if tok is None:
            raise self.error("missing term", None)
        if tok.kind == "PUNCT" and tok.text in "-+(":
            self.pos -= 1
            return self.number_expr()
        if tok.kind == "NUMBER":
            self.pos -= 1
            return self.number_expr()
        if tok.kind == "STRING":
            return ("string", re.sub(r"\s+", "", tok.value))  # lavaan drops all spaces
        if tok.kind == "NAME":
            nxt = self.peek()
            if nxt is not None and nxt.text == "(":
                return self.call(tok)
            if tok.text == "NA":
                return math.nan
            return tok.text
        raise self.error(f"unexpected {tok.text!r}", tok)

    def number_expr(self) -> float:
        start = self.pos
        depth = 0
        while self.pos < len(self.toks):
            tok = self.toks[self.pos]
            if tok.text == "(":
                depth += 1
            elif tok.text == ")":
                depth -= 1
            elif depth == 0 and tok.text in ("*", "?"):
                break
            self.pos += 1
        toks = self.toks[start : self.pos]
        expr = expression_from_tokens(toks, self.owner.lines, "a numeric modifier")
        if expr.names:
            tok = next(t for t in toks if t.kind == "NAME" or t.kind == "STRING")
            raise self.error("a numeric modifier cannot contain a label", tok)
        value = float(expr.evaluate({}))
        if not math.isfinite(value):
            raise self.error(f"a fixed value must be a finite number, got {value}", toks[0])
        return value

    def call(self, name: Token) -> object:
        fn = name.text
        if fn == "as.numeric":
            return self.as_numeric(name)
        if fn in ("rv", "prior", "efa"):
            raise self.error(f"the {fn}() modifier is not supported by radsem", name)
        if fn not in ("c", "start", "lower", "upper", "label", "equal"):
            raise self.error(f"unknown modifier {fn}()", name)
        self.take()  # '('
        args: list[tuple[Token, object]] = []
        while True:
            tok = self.peek()
            if tok is None:
                raise self.error(f"{fn}( is never closed", name)
            if tok.text == ")":
                self.take()
                break
            nxt_is_paren = self.pos + 1 < len(self.toks) and self.toks[self.pos + 1].text == "("
            if tok.kind == "NAME" and tok.text == "c" and fn != "c" and nxt_is_paren:
                inner = self.factor()
                args.extend(inner[2])  # type: ignore[index]
            else:
                args.append((tok, self.call_argument()))
            nxt = self.peek()
            if nxt is not None and nxt.text == ",":
                self.take()
            elif nxt is None or nxt.text != ")":
                raise self.error(f"expected ',' or ')' in {fn}()", nxt)
        if not args:
            raise self.error(f"{fn}() needs at least one value", name)
        for tok, value in args:
            if fn in ("c", "start") and isinstance(value, float) and math.isinf(value):
                raise self.error(f"a value in {fn}() must be finite, got {value}", tok)
        return ("call", fn, args, name)

    def as_numeric(self, name: Token) -> float:
        """``as.numeric(0.5)*x`` / ``as.numeric(NA)*x`` (R's coercion, which lavaan evaluates):
        a fixed value, or NA (free)."""
        self.take()  # '('
        tok = self.peek()
        if tok is None or tok.text == ")":
            raise self.error("as.numeric() needs one number or NA", name)
        value = self.call_argument()
        nxt = self.take()
        if nxt is None or nxt.text != ")":
            raise self.error("as.numeric() takes one number or NA", nxt or name)
        if isinstance(value, str) and value != "NA":
            raise self.error("as.numeric() takes a number or NA, not a label", tok)
        if isinstance(value, tuple):  # a quoted string: R coerces "0.5" to 0.5
            try:
                value = float(value[1])
            except ValueError:
                raise self.error(f"as.numeric({value[1]!r}) is NA in R (not a number)", tok)
        if not isinstance(value, float) or math.isinf(value):
            raise self.error("as.numeric() needs a finite number or NA", tok)
        return value

    def call_argument(self) -> object:
        tok = self.peek()
        if tok.kind == "STRING":
            self.take()
            return ("string", re.sub(r"\s+", "", tok.value))  # lavaan drops all spaces
        if tok.kind == "NAME":
            self.take()
            return math.nan if tok.text == "NA" else tok.text
        start = self.pos
        depth = 0
        while self.pos < len(self.toks):
            t = self.toks[self.pos]
            if t.text == "(":
                depth += 1
            elif t.text == ")":
                if depth == 0:
                    break
                depth -= 1
            elif t.text == "," and depth == 0:
                break
            self.pos += 1
        toks = self.toks[start : self.pos]
        if not toks:
            raise self.error("empty argument", tok)
        expr = expression_from_tokens(toks, self.owner.lines, "a modifier")
        if expr.names:
            raise self.error("expected a number", toks[0])
        return float(expr.evaluate({}))

    # -- turning factors into modifiers --------------------------------------------------
    def modifier(self, tok: Token, value: object) -> Modifier:
        line, col = tok.line, tok.column
        if isinstance(value, float):
            return Modifier("fixed", (value,), line, col)
        if isinstance(value, str):
            self.check_label(tok, value)
            return Modifier("label", (value,), line, col)
        if value[0] == "string":
            return Modifier("label", (self.check_label(tok, value[1]),), line, col)
        _, fn, args, name_tok = value
        if fn == "c":
            return self.c_modifier(name_tok, args)
        if fn in ("start", "lower", "upper"):
            vals = []
            for atok, arg in args:
                if not isinstance(arg, float):
                    raise self.error(f"{fn}() takes numbers", atok)
                vals.append(arg)
            return Modifier(fn, tuple(vals), line, col)
        labels = []
        for atok, arg in args:  # label() / equal()
            if isinstance(arg, float) and math.isnan(arg):
                labels.append("")
            elif isinstance(arg, tuple):
                text = arg[1] if fn == "label" else re.sub(r"\s+", "", arg[1])
                labels.append(text if fn == "equal" else self.check_label(atok, text))
            else:
                raise self.error(f'{fn}() takes quoted labels, e.g. {fn}("a")', atok)
        return Modifier("label", tuple(labels), line, col)

    def c_modifier(self, name_tok: Token, args: list) -> Modifier:
        numeric = [isinstance(a, float) for _, a in args]
        nan = [isinstance(a, float) and math.isnan(a) for _, a in args]
        line, col = name_tok.line, name_tok.column
        if all(numeric):
            return Modifier("fixed", tuple(a for _, a in args), line, col)
        labels = []
        for (atok, arg), is_num, is_nan in zip(args, numeric, nan, strict=True):
            if is_nan:
                labels.append("")
            elif is_num:
                raise self.error("c() mixes numbers and labels", atok)
            else:
                text = arg[1] if isinstance(arg, tuple) else arg
                labels.append(self.check_label(atok, text))
        return Modifier("label", tuple(labels), line, col)

    def check_label(self, tok: Token, label: str) -> str:
        if label == "":
            raise self.error("empty label", tok)
        if tok.kind == "NAME" and not is_valid_name(label):
            raise self.error(f"{label!r} is not a valid label (reserved word in R)", tok)
        return label


def parse_model(text: str) -> list[Statement]:
    """Parse lavaan model syntax.

    Parameters
    ----------
    text : str
        The model, e.g. ``"visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6"``.

    Returns
    -------
    list of Statement
        One statement per formula, in the order written, with its 1-based line and column.

    Raises
    ------
    ModelSyntaxError
        With ``line`` and ``column`` of the offending token: unknown or missing operator,
        missing left- or right-hand side, unbalanced parentheses, invalid names or labels,
        unsupported features (``<~``, ``efa()``, block syntax), empty model, ...

    Notes
    -----
    A formula may continue on the next line when the line ends with an operator, ``+``,
    ``*`` or an open parenthesis, or when the next line starts with ``+``. ``#`` and ``!``
    start comments; ``;`` separates formulas. Several terms for the same variable in one
    formula are merged (``a*x1 + start(1)*x1``), as lavaan does.

    Examples
    --------
    >>> [(s.lhs, s.op, [t.name for t in s.rhs]) for s in parse_model("f =~ x1 + a*x2")]
    [(('f',), '=~', ['x1', 'x2'])]
    """
    statements, lines = split_statements(text)
    if not statements:
        raise ModelSyntaxError("empty model: no formulas found", 1, 1, None)
    out: list[Statement] = []
    for toks in statements:
        for tok in toks:
            if tok.kind == "PUNCT" and tok.text == ":" and _is_block_label(toks):
                raise ModelSyntaxError(
                    "a two-level model ('level: 1' / 'level: 2' blocks) needs the cluster "
                    "column: radsem.sem(model, data, cluster='...')"
                    if toks[0].text == "level"
                    else "block syntax ('group: 1') is not supported; "
                    "use c() modifiers for group-specific values",
                    tok.line,
                    tok.column,
                    lines[tok.line - 1],
                )
        out.append(_StatementParser(toks, lines).parse())
    return out


def _is_block_label(toks: list[Token]) -> bool:
    return len(toks) >= 2 and toks[0].kind == "NAME" and toks[1].text == ":"
