"""Parity with lavaan's tables stored in ``reference/spec_partables.json`` (runs without R).

The file is written by ``reference/make_spec_reference.py`` (lavaan 0.6-14, R 4.2), from the
same cases as the live tests in ``test_spec_parity.py``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from spec_cases import (
    N_RANDOM,
    fitted_cases,
    lavaanify_cases,
    radsem_lavaanify_options,
    radsem_options,
    random_lavaanify_case,
)
from spec_lavaan_helpers import assert_same_table

from radsem.syntax import build_partable

STORED = json.loads((Path(__file__).parent / "reference" / "spec_partables.json").read_text())
FITTED = fitted_cases()
LAVAANIFY = lavaanify_cases()


def _frame(columns: dict) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    frame["ustart"] = [math.nan if v is None else v for v in columns["ustart"]]
    return frame


def test_reference_file_matches_the_cases():
    assert STORED["lavaan_version"] == "0.6.14"
    assert set(STORED["fitted"]) == set(FITTED)
    assert set(STORED["lavaanify"]) == set(LAVAANIFY)
    assert len(STORED["random"]) == N_RANDOM


@pytest.mark.parametrize("case", sorted(FITTED))
def test_fitted_case(case):
    fun, model, _, options = FITTED[case]
    entry = STORED["fitted"][case]
    ours = build_partable(model, **radsem_options(fun, options, entry.get("thresholds")))
    assert_same_table(ours.partable, _frame(entry["table"]))


@pytest.mark.parametrize("case", sorted(LAVAANIFY))
def test_lavaanify_case(case):
    model, options = LAVAANIFY[case]
    ours = build_partable(model, **radsem_lavaanify_options(options))
    assert_same_table(ours.partable, _frame(STORED["lavaanify"][case]))


@pytest.mark.parametrize("seed", range(N_RANDOM))
def test_random_case(seed):
    model, options = random_lavaanify_case(seed)
    ours = build_partable(model, **radsem_lavaanify_options(options))
    assert_same_table(ours.partable, _frame(STORED["random"][str(seed)]))
