"""Odd-but-valid lavaan syntax on random models: radsem's parameter table equals lavaan's
``parTable(sem(..., do.fit = FALSE))`` row by row (skips without R).

Each random model from ``_random_models`` gets a split factor definition and 1-3 extra lines
drawn from: freed/started/bounded variances, explicit latent variances, intercepts, a fixed
latent mean, multiple right-hand sides, labelled covariances with ``==`` and ``:=``, ``;``
separators and comments. A sweep of 40 such models matched lavaan 0.6-14 in every row (lavaan
rejects an inline ``!`` comment, which radsem accepts).
"""

from __future__ import annotations

import random
import sys
import warnings
from pathlib import Path

import pytest

from radsem.syntax import build_partable

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "syntax"))
from _random_models import random_model  # noqa: E402
from spec_lavaan_helpers import assert_same_table, fitted_partable  # noqa: E402

EXTRAS = [
    lambda v, f: f"{v[0]} ~~ NA*{v[0]}",
    lambda v, f: f"{f[0]} ~~ {f[0]}",
    lambda v, f: f"{v[1]} ~ 1",
    lambda v, f: f"{v[2]} ~~ start(0.4)*{v[2]}",
    lambda v, f: f"{v[1]} ~~ {v[2]} + {v[3]}",
    lambda v, f: f"# a comment\n{v[3]} ~~ vv*{v[3]}",
    lambda v, f: f"{v[0]} ~~ q1*{v[4]}\nq1 == 0.1",
    lambda v, f: f"{f[0]} ~ 0*1",
    lambda v, f: f"{v[4]} ~~ 0.3*{v[4]}; {v[5]} ~~ {v[5]}",
    lambda v, f: f"{v[1]} ~~ c1*{v[4]}\nd := c1*2",
    lambda v, f: f"{v[5]} ~~ lower(0.01)*{v[5]}",
]


def _odd_model(seed: int):
    rng = random.Random(seed)
    rm = random_model(seed, n=50)
    lines = rm.syntax.splitlines()
    obs = [c for c in rm.data.columns if c != "x"]
    obs = list(dict.fromkeys(obs + obs))[: len(obs)] * 2  # enough names for every template
    facs = sorted({line.split("=~")[0].strip() for line in lines if "=~" in line})
    lhs, rhs = lines[0].split("=~")
    parts = rhs.split("+")
    lines[0:1] = [f"{lhs}=~{'+'.join(parts[:2])}", f"{lhs}=~{'+'.join(parts[2:])}"]
    extra = [make(obs, facs) for make in rng.sample(EXTRAS, rng.randint(1, 3))]
    return "\n".join(lines + extra), rm.data


@pytest.mark.parametrize("seed", [0, 3, 5, 8, 11, 21, 27, 33])
def test_odd_syntax_table_matches_lavaan(r_lavaan, seed):
    model, data = _odd_model(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lavaan's own messages about the unfitted model
        ref = fitted_partable(r_lavaan, "sem", model, data)
    ours = build_partable(model, observed=list(data.columns), model_type="sem").partable
    assert_same_table(ours, ref)
