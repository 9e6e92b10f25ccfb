"""Seeded mutations of valid lavaan models, for fuzzing the parser and the SEM front end.

:func:`mutated_models` yields ``(seed model index, mutated text)``; every mutation is drawn
from a ``numpy`` generator seeded by the caller, so a failure is reproducible from its seed.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

SEEDS = (
    "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9",
    "visual =~ x1 + a*x2 + b*x3\ntextual =~ x4 + x5 + x6\nab := a*b\na == b",
    "f =~ NA*x1 + start(0.8)*x2 + 1*x3\nf ~~ 1*f\nx1 ~ 1\nx4 ~ f\nx5 ~ c1*x4 + x6",
    "visual =~ x1 + a*x2 + b*x3\ntextual =~ x4 + c*x5 + d*x6\nc > 0.5\nd < 2*c\nb2 := b^2",
    "x9 ~ a*x1 + b*x2\nab := a*b\nab2 := exp(ab)/(1 + exp(ab))\nab2 < 1",
    "f =~ q1 + q2 + q3 + x4\nq1 | t1 + t2\nq1 ~*~ 1*q1\nf ~ x5",
    "f =~ x1 + lower(0)*x2 + upper(3)*x3\nx1 ~~ x2\nf ~ 0*1",
)
_TOKENS = (
    "=~",
    "~",
    "~~",
    "~*~",
    ":=",
    "==",
    "<",
    ">",
    "|",
    "+",
    "*",
    "-",
    "/",
    "^",
    "(",
    ")",
    ",",
    ";",
    "\n",
    " ",
    "?",
    ":",
    "1",
    "0",
    "2.5",
    "1e308",
    "-1e308",
    "NA",
    "a",
    "b",
    "f",
    "x1",
    "x9",
    "q1",
    "zz",
    "t1",
    "c(",
    "start(",
    "label(",
    "equal(",
    "lower(",
    "log(",
    "exp(",
    "sqrt(",
    "'a'",
    '"x"',
    "#",
    "Inf",
    "1e-300",
    "efa(",
    "<~",
    "%",
    "!",
    "`",
)


def _mutate(text: str, rng: np.random.Generator) -> str:
    kind = int(rng.integers(0, 8))
    pos = int(rng.integers(0, len(text) + 1))
    if kind == 0 and text:  # delete a span
        return text[:pos] + text[pos + int(rng.integers(1, 4)) :]
    if kind in (1, 2):  # insert a token
        return text[:pos] + str(rng.choice(_TOKENS)) + text[pos:]
    if kind == 3:  # replace a token with another
        parts = text.split(" ")
        i = int(rng.integers(0, len(parts)))
        parts[i] = str(rng.choice(_TOKENS))
        return " ".join(parts)
    if kind == 4:  # duplicate or drop a line
        lines = text.split("\n")
        i = int(rng.integers(0, len(lines)))
        return "\n".join(lines + [lines[i]] if rng.random() < 0.5 else lines[:i] + lines[i + 1 :])
    if kind == 5:  # deep nesting
        depth = int(rng.choice([3, 30, 200, 600]))
        inner = str(rng.choice(["a", "1", "-a", "a^b"]))
        expr = "(" * depth + inner + ")" * depth if rng.random() < 0.7 else "-" * depth + inner
        return text + f"\nd{depth} := {expr}"
    if kind == 6:  # a definition or constraint with odd arithmetic
        ops = [
            "log(a^b^a)",
            "a/0",
            "sqrt(-a)",
            "a^0.5^b",
            "exp(exp(exp(a)))",
            "a^-b",
            "log(-1)",
            "abs(a)^b",
            "1e308*a*a",
        ]
        op = str(rng.choice([":=", "==", "<", ">"]))
        lhs = "dd" if op == ":=" else "a"
        return text + f"\n{lhs} {op} {rng.choice(ops)}"
    return text[:pos] + text[pos:][::-1] if rng.random() < 0.1 else text.replace("x", "q", 1)


def mutated_models(n: int, seed: int) -> Iterator[tuple[int, str]]:
    """``n`` mutated models (one to three mutations of a seed model each)."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        k = int(rng.integers(0, len(SEEDS)))
        text = SEEDS[k]
        for _ in range(int(rng.integers(1, 4))):
            text = _mutate(text, rng)
        yield k, text


def fuzz_data(seed: int = 0, n: int = 200) -> pd.DataFrame:
    """x1..x9 (continuous, a 3-factor structure) and q1..q3 (ordered, 3 categories)."""
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((n, 3))
    cols = {}
    for j in range(9):
        cols[f"x{j + 1}"] = f[:, j // 3] * 0.8 + rng.standard_normal(n) * 0.6
    for j in range(3):
        latent = f[:, 0] * 0.8 + rng.standard_normal(n) * 0.6
        cols[f"q{j + 1}"] = np.digitize(latent, [-0.5, 0.5]).astype(float)
    return pd.DataFrame(cols)
