"""Generated models: random small CFA/SEM models match lavaanify, and layout does not matter."""

from __future__ import annotations

import numpy as np
import pytest

from radsem.spec import build_partable

_LETTERS = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _name(rng: np.random.Generator, used: set[str], prefix: str) -> str:
    while True:
        body = "".join(rng.choice(_LETTERS + list("0123456789._"), size=rng.integers(1, 5)))
        name = prefix + body
        if name not in used:
            used.add(name)
            return name


def _modifier(rng: np.random.Generator, labels: list[str], used: set[str]) -> str:
    kind = rng.integers(0, 8)
    if kind == 0:
        return f"{rng.choice([0.5, 1, 2, -1, 0.25]):g}*"
    if kind == 1:
        return "NA*"
    if kind == 2:
        return f"start({rng.uniform(0.1, 2):.3f})*"
    if kind == 3:
        if labels and rng.random() < 0.5:
            return f"{rng.choice(labels)}*"  # shared label: equality constraint
        lab = _name(rng, used, "L")
        labels.append(lab)
        return f"{lab}*"
    return ""


def random_model(seed: int) -> tuple[str, dict]:
    rng = np.random.default_rng(seed)
    used: set[str] = set()
    labels: list[str] = []
    nf = int(rng.integers(1, 5))
    factors = [_name(rng, used, "F") for _ in range(nf)]
    lines, indicators = [], []
    for f in factors:
        ind = [_name(rng, used, "x") for _ in range(int(rng.integers(2, 6)))]
        indicators += ind
        terms = [_modifier(rng, labels, used) + v for v in ind]
        lines.append(f"{f} =~ " + " + ".join(terms))
    if nf > 1 and rng.random() < 0.6:
        lines.append(f"{factors[-1]} ~ " + " + ".join(factors[:-1]))
    for _ in range(int(rng.integers(0, 3))):
        a, b = rng.choice(indicators, size=2, replace=False)
        lines.append(f"{a} ~~ {_modifier(rng, labels, used)}{b}")
    if rng.random() < 0.3:
        lines.append(f"{indicators[0]} ~ 1")
    if labels and rng.random() < 0.5:
        lines.append(f"def1 := {labels[0]}^2 + 1")
    options = {
        "std_lv": bool(rng.random() < 0.3),
        "orthogonal": bool(rng.random() < 0.2),
        "meanstructure": bool(rng.random() < 0.3),
        "ngroups": int(rng.choice([1, 1, 2])),
    }
    if options["ngroups"] == 2 and rng.random() < 0.7:
        options["group_equal"] = list(rng.choice(
            ["loadings", "intercepts", "residuals", "lv.variances", "lv.covariances"],
            size=int(rng.integers(1, 3)), replace=False,
        ))  # fmt: skip
    return "\n".join(lines), options


@pytest.mark.parametrize("seed", range(40))
def test_random_models_match_lavaanify(lav, seed):
    model, options = random_model(seed)
    ours = build_partable(model, model_type="sem", fixed_x=False, **options).partable
    ropts = dict(options)
    if ropts.get("group_equal") and ({"intercepts"} & set(ropts["group_equal"])):
        ropts["meanstructure"] = True  # lavaan() forces this before calling lavaanify
    ref = lav.lavaanify(model, auto=True, **ropts)
    lav.assert_same(ours, ref)


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
