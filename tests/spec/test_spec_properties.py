"""Generated models: random small CFA/SEM models match lavaanify, and layout does not matter."""

from __future__ import annotations

import numpy as np
import pytest
from spec_cases import N_RANDOM, radsem_lavaanify_options, random_lavaanify_case, random_model

from radsem.spec import build_partable


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
