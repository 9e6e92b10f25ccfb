"""Generated models: random small CFA/SEM models match lavaanify, and layout does not matter."""

from __future__ import annotations

import numpy as np
import pytest
from spec_cases import N_RANDOM, radsem_lavaanify_options, random_lavaanify_case, random_model

from radsem.syntax import build_partable


@pytest.mark.parametrize("seed", range(N_RANDOM))
def test_random_models_match_lavaanify(lav, seed):
    model, ropts = random_lavaanify_case(seed)
    ours = build_partable(model, **radsem_lavaanify_options(ropts)).partable
    lav.assert_same(ours, lav.lavaanify(model, **ropts))


def _relayout(model: str, rng: np.random.Generator) -> str:
    joiner = rng.choice(["\n", "\n\n", " ; "])
    out = []
    for line in model.splitlines():
        parts = line.split(" + ")
        pieces = [parts[0]]
        for p in parts[1:]:
            sep = rng.choice([" + ", "+", " +\n   ", "\n  + ", "  +  "])
            pieces.append(sep + p)
        text = "".join(pieces)
        if rng.random() < 0.3 and joiner != " ; ":  # a comment runs to the end of the line
            text += "   # comment ! with bangs"
        out.append(text)
        if rng.random() < 0.3:
            out.append("")
    return joiner.join(x for x in out if joiner == "\n" or x)


@pytest.mark.parametrize("seed", range(25))
def test_layout_does_not_change_the_table(seed):
    model, options = random_model(seed)
    rng = np.random.default_rng(1000 + seed)
    reference = build_partable(model, **options).partable
    other = build_partable(_relayout(model, rng), **options).partable
    assert reference.equals(other)


_BASE = """visual =~ x1 + a*x2 + start(0.5)*x3 + c(1, NA)*x4
textual =~ x4 + lower(0)*x5 + b*x6
ab := a*exp(b)
b == 2*a
x1 | t1 + t2
y ~ 1 + visual"""
_INSERTS = [
    "(",
    ")",
    ",",
    "*",
    "+",
    "=~",
    "~",
    "~~",
    ":=",
    "==",
    "NA",
    "c",
    "start",
    "'q'",
    "\n",
    "?",
    "-",
    "^",
    ";",
    "#",
    "1",
    "0",
    "b",
]


def test_mutated_models_raise_only_radsem_errors():
    """Random token insertions/deletions/substitutions never crash with a non-radsem error."""
    import re

    from radsem.errors import RadsemError

    rng = np.random.default_rng(20261123)
    base = re.findall(r"=~|~~|:=|==|\d*\.\d+|[\w.]+|\S|\n", _BASE)
    outcomes = {"ok": 0, "error": 0}
    for _ in range(1500):
        toks = list(base)
        for _ in range(int(rng.integers(1, 4))):
            k = int(rng.integers(0, len(toks)))
            action = int(rng.integers(0, 3))
            if action == 0:
                del toks[k]
            elif action == 1:
                toks.insert(k, str(rng.choice(_INSERTS)))
            else:
                toks[k] = str(rng.choice(_INSERTS))
        try:
            build_partable(" ".join(toks), ngroups=int(rng.integers(1, 3)))
            outcomes["ok"] += 1
        except RadsemError:
            outcomes["error"] += 1
    assert outcomes["ok"] > 0
    assert outcomes["error"] > 0
