"""Two-level model syntax: ``level: 1`` / ``level: 2`` blocks (lavaan's multilevel SEM).

A two-level model is written as two blocks, each an ordinary lavaan model::

    level: 1            # or 'level: within'
        fw =~ y1 + y2 + y3
        fw ~ x1 + x2 + x3
    level: 2            # or 'level: between'
        fb =~ y1 + y2 + y3
        fb ~ w1 + w2

:func:`parse_levels` splits the text into the statements of each level, keeping every
statement's line and column in the whole text for error messages. Constraint and definition
lines (``==``, ``<``, ``>``, ``:=``) may be written in either block; they refer to labels of
both levels and are returned separately.
"""

from __future__ import annotations

from dataclasses import dataclass

from radsem.errors import ModelSyntaxError
from radsem.syntax._tokens import Token, split_statements
from radsem.syntax.parse import Statement, _StatementParser

__all__ = ["LevelBlocks", "parse_levels", "has_levels"]

_WITHIN = ("1", "within", "w", "level1")
_BETWEEN = ("2", "between", "b", "level2", "cluster")


@dataclass(frozen=True)
class LevelBlocks:
    """The statements of a two-level model.

    Attributes
    ----------
    within, between : tuple of Statement
        Model statements of level 1 and level 2.
    constraints : tuple of Statement
        ``==``, ``<``, ``>`` and ``:=`` statements (of either block, in the order written).
    labels : tuple of str
        The block labels as written (e.g. ``("1", "2")`` or ``("within", "between")``).
    """

    within: tuple[Statement, ...]
    between: tuple[Statement, ...]
    constraints: tuple[Statement, ...]
    labels: tuple[str, str]


def _block_label(toks: list[Token]) -> str | None:
    if len(toks) >= 2 and toks[0].kind == "NAME" and toks[1].text == ":":
        return toks[0].text
    return None


def has_levels(model) -> bool:
    """Whether lavaan syntax ``model`` contains ``level:`` block labels."""
    if not isinstance(model, str):
        return False
    try:
        statements, _ = split_statements(model)
    except ModelSyntaxError:
        return False
    return any(_block_label(t) == "level" for t in statements)


def parse_levels(text: str) -> LevelBlocks:
    """Split a two-level model into its level-1 and level-2 statements.

    Parameters
    ----------
    text : str
        lavaan syntax with exactly two ``level:`` blocks. Labels ``1``/``2``,
        ``within``/``between`` (any order of the blocks) or any two other names (the first
        block written is level 1, as lavaan).

    Returns
    -------
    LevelBlocks

    Raises
    ------
    ModelSyntaxError
        With line and column: formulas before the first ``level:`` line, a block label that
        is not ``level`` (``group:`` blocks are not supported with levels), more or fewer
        than two levels, a level written twice, an empty level, a malformed label.

    Examples
    --------
    >>> blocks = parse_levels("level: 1\\n f =~ y1 + y2 + y3\\nlevel: 2\\n y1 ~~ y2")
    >>> [s.op for s in blocks.within], [s.op for s in blocks.between]
    (['=~'], ['~~'])
    """
    statements, lines = split_statements(text)

    def error(message: str, tok: Token) -> ModelSyntaxError:
        return ModelSyntaxError(message, tok.line, tok.column, lines[tok.line - 1])

    blocks: list[tuple[str, Token, list[Statement]]] = []
    constraints: list[Statement] = []
    for toks in statements:
        label = _block_label(toks)
        if label is not None:
            if label != "level":
                raise error(
                    f"'{label}:' blocks are not supported in a two-level model "
                    "(only 'level: 1' and 'level: 2')",
                    toks[0],
                )
            if len(toks) != 3 or toks[2].kind not in ("NAME", "NUMBER"):
                raise error("a level label must look like 'level: 1' or 'level: within'", toks[0])
            name = toks[2].text
            if any(name == b[0] for b in blocks):
                raise error(f"level {name!r} is written twice", toks[0])
            blocks.append((name, toks[0], []))
            continue
        if not blocks:
            raise error(
                "in a two-level model every formula belongs to a block: start with 'level: 1'",
                toks[0],
            )
        stmt = _StatementParser(toks, lines).parse()
        if stmt.is_constraint:
            constraints.append(stmt)
        else:
            blocks[-1][2].append(stmt)
    if len(blocks) != 2:
        tok = blocks[-1][1] if blocks else statements[0][0]
        raise error(
            f"a two-level model needs exactly two levels, found {len(blocks)} "
            "(three or more levels are not supported)",
            tok,
        )
    order = _order(blocks)
    for name, tok, stmts in blocks:
        if not stmts:
            raise error(f"level {name!r} has no formulas", tok)
    first, second = (blocks[k] for k in order)
    return LevelBlocks(tuple(first[2]), tuple(second[2]), tuple(constraints), (first[0], second[0]))


def _order(blocks) -> tuple[int, int]:
    names = [b[0].lower() for b in blocks]
    if names[0] in _BETWEEN and names[1] in _WITHIN:
        return (1, 0)
    return (0, 1)
