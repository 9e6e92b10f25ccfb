"""The survival-outcome declaration ``name =~ Surv(time, event)`` and its regression.

A survival outcome is declared in the model syntax as "measured by" two data columns::

    recurrence =~ Surv(rfs_months, rfs_event)
    recurrence ~ E6 + E7 + immune + figo + age

The declaration and the regression of the outcome are taken out of the model here (their
tokens are replaced by blanks, so line and column numbers of every other statement stay those
the user wrote); what remains is ordinary lavaan syntax for the measurement / structural
model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from radsem.errors import ModelSpecificationError, ModelSyntaxError
from radsem.syntax._tokens import Token, is_valid_name, split_statements

__all__ = ["SurvivalTerm", "SurvivalOutcome", "split_survival", "has_survival_declaration"]


@dataclass(frozen=True)
class SurvivalTerm:
    """One predictor of the survival outcome (``label`` is ``""`` when none was written)."""

    name: str
    label: str
    line: int
    column: int


@dataclass(frozen=True)
class SurvivalOutcome:
    """A declared survival outcome and its proportional-hazards regression.

    Attributes
    ----------
    name : str
        The outcome's name in the model (e.g. ``"recurrence"``).
    time, event : str
        Data columns holding the follow-up time and the event indicator (1 = event).
    terms : tuple of SurvivalTerm
        Predictors of the hazard, in the order written.
    """

    name: str
    time: str
    event: str
    terms: tuple[SurvivalTerm, ...]

    @property
    def predictors(self) -> list[str]:
        """Predictor names in the order written."""
        return [t.name for t in self.terms]


def _err(msg: str, tok: Token, lines: list[str]) -> ModelSyntaxError:
    return ModelSyntaxError(msg, tok.line, tok.column, lines[tok.line - 1])


def _parse_declaration(st: list[Token], lines: list[str]) -> tuple[str, str, str]:
    """``name =~ Surv(time, event)`` -> (name, time, event)."""
    if st[0].kind != "NAME" or not is_valid_name(st[0].text):
        raise _err(
            "a survival outcome must be declared as 'name =~ Surv(time, event)'", st[0], lines
        )
    if len(st) < 2 or st[1].text != "=~":
        where = st[1] if len(st) > 1 else st[0]
        raise _err(
            "Surv(time, event) can only appear on the right of '=~' "
            "(write 'name =~ Surv(time, event)')",
            where,
            lines,
        )
    if len(st) < 3 or st[2].text != "Surv":
        raise _err(
            "a survival declaration must have Surv(time, event) alone on the right of '=~'",
            st[2] if len(st) > 2 else st[1],
            lines,
        )
    shape = ["(", "NAME", ",", "NAME", ")"]
    body = st[3:]
    for k, want in enumerate(shape):
        if k >= len(body):
            raise _err("Surv() needs exactly two column names: Surv(time, event)", st[-1], lines)
        tok = body[k]
        ok = tok.kind in ("NAME", "STRING") if want == "NAME" else tok.text == want
        if not ok:
            raise _err("Surv() needs exactly two column names: Surv(time, event)", tok, lines)
    if len(body) > len(shape):
        raise _err("unexpected text after Surv(time, event)", body[len(shape)], lines)
    return st[0].text, body[1].value, body[3].value


def _parse_regression(st: list[Token], lines: list[str]) -> list[SurvivalTerm]:
    """``name ~ [label*]x + ...`` -> terms."""
    terms: list[SurvivalTerm] = []
    toks = st[2:]
    if not toks:
        raise _err("the survival regression has no predictors", st[1], lines)
    k = 0
    while k < len(toks):
        label = ""
        tok = toks[k]
        if k + 1 < len(toks) and toks[k + 1].text == "*":
            if tok.kind not in ("NAME", "STRING") or (
                tok.kind == "NAME" and not is_valid_name(tok.text)
            ):
                raise _err(
                    "only a label may modify a predictor of a survival outcome "
                    "(fixed values and start values are not supported here)",
                    tok,
                    lines,
                )
            label = tok.value
            k += 2
            if k >= len(toks):
                raise _err("a predictor is missing after '*'", toks[-1], lines)
            tok = toks[k]
        if tok.kind != "NAME" or not is_valid_name(tok.text):
            raise _err(f"expected a variable name, found {tok.text!r}", tok, lines)
        if any(t.name == tok.text for t in terms):
            raise _err(f"predictor {tok.text!r} appears twice", tok, lines)
        terms.append(SurvivalTerm(tok.text, label, tok.line, tok.column))
        k += 1
        if k < len(toks):
            if toks[k].text != "+":
                raise _err(
                    f"expected '+' between predictors, found {toks[k].text!r}", toks[k], lines
                )
            k += 1
            if k >= len(toks):
                raise _err("the formula ends with '+'", toks[-1], lines)
    return terms


def _blank(lines: list[str], st: list[Token]) -> None:
    for tok in st:
        raw = lines[tok.line - 1]
        a, b = tok.column - 1, tok.column - 1 + len(tok.text)
        lines[tok.line - 1] = raw[:a] + " " * (b - a) + raw[b:]


def has_survival_declaration(model: object) -> bool:
    """Quick test: does a model string contain a ``Surv(`` declaration?"""
    return isinstance(model, str) and "Surv" in model


def _declarations(statements, lines, survival):
    decl: dict[str, tuple[str, str]] = {}
    for st in statements:
        if any(t.kind == "NAME" and t.text == "Surv" for t in st):
            name, time, event = _parse_declaration(st, lines)
            if name in decl:
                raise _err(f"survival outcome {name!r} is declared twice", st[0], lines)
            decl[name] = (time, event)
    for name, cols in dict(survival or {}).items():
        if not isinstance(name, str) or not is_valid_name(name):
            raise ModelSpecificationError(f"survival outcome name {name!r} is not a valid name")
        if (
            not isinstance(cols, (tuple, list))
            or len(cols) != 2
            or not all(isinstance(c, str) for c in cols)
        ):
            raise ModelSpecificationError(
                f"survival={{{name!r}: ...}} must give two column names (time, event), got {cols!r}"
            )
        if name in decl:
            raise ModelSpecificationError(
                f"survival outcome {name!r} is declared both in the model and in survival="
            )
        decl[name] = (cols[0], cols[1])
    if len(decl) > 1:
        raise ModelSpecificationError(
            f"only one survival outcome per model is supported, got {sorted(decl)}"
        )
    return decl


def split_survival(
    model: str, survival: Mapping[str, tuple[str, str]] | None = None
) -> tuple[str | None, SurvivalOutcome | None]:
    """Take the survival outcome out of a model.

    Parameters
    ----------
    model : str
        lavaan syntax, possibly with ``name =~ Surv(time, event)`` and ``name ~ ...``.
    survival : mapping, optional
        ``{"recurrence": ("rfs_months", "rfs_event")}``, equivalent to the declaration.

    Returns
    -------
    sem_syntax : str or None
        The rest of the model (same number of lines; ``None`` when nothing is left).
    outcome : SurvivalOutcome or None
        ``None`` when the model declares no survival outcome.

    Raises
    ------
    ModelSyntaxError
        Malformed ``Surv(...)`` or survival regression (with line and column).
    ModelSpecificationError
        Two outcomes, an outcome without regression, the outcome used elsewhere in the model.

    Examples
    --------
    >>> sem, out = split_survival("f =~ x1 + x2 + x3\\nr =~ Surv(t, d)\\nr ~ f + age")
    >>> out.name, out.time, out.event, out.predictors
    ('r', 't', 'd', ['f', 'age'])
    >>> sem.splitlines()[0], sem.count("\\n")
    ('f =~ x1 + x2 + x3', 2)
    """
    statements, lines = split_statements(model)
    lines = list(lines)
    decl = _declarations(statements, lines, survival)
    if not decl:
        return model, None
    ((name, (time, event)),) = decl.items()
    terms: list[SurvivalTerm] = []
    for st in statements:
        if any(t.kind == "NAME" and t.text == "Surv" for t in st):
            _blank(lines, st)
            continue
        if st[0].text == name and len(st) > 1 and st[1].text == "~":
            terms.extend(_parse_regression(st, lines))
            names = [t.name for t in terms]
            if len(set(names)) != len(names):
                raise _err("a predictor of the survival outcome appears twice", st[0], lines)
            _blank(lines, st)
            continue
        for tok in st:
            if tok.kind == "NAME" and tok.text == name:
                raise ModelSpecificationError(
                    f"the survival outcome {name!r} can only appear as "
                    f"'{name} =~ Surv(time, event)' and '{name} ~ predictors' (it is a "
                    "hazard, not a variable other parts of the model can use)",
                    tok.line,
                    tok.column,
                    lines[tok.line - 1],
                )
    if not terms:
        raise ModelSpecificationError(
            f"survival outcome {name!r} is declared but has no regression; add a line such "
            f"as '{name} ~ E6 + E7 + age'"
        )
    sem = "\n".join(lines)
    rest = sem if sem.strip() and any(split_statements(sem)[0]) else None
    return rest, SurvivalOutcome(name, time, event, tuple(terms))
