"""Data sets and stored R references for the survival tests."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

REF = Path(__file__).resolve().parents[1] / "reference" / "survival"


@pytest.fixture(scope="session")
def refs() -> dict:
    """R survival results stored by tests/reference/make_survival_references.py."""
    return json.loads((REF / "references.json").read_text())


@pytest.fixture(scope="session")
def lung() -> pd.DataFrame:
    """R's survival::lung, with ``dead`` = status recoded 0/1."""
    return pd.read_csv(REF / "lung.csv")


@pytest.fixture(scope="session")
def veteran() -> pd.DataFrame:
    """R's survival::veteran with celltype as a factor in R's level order."""
    vet = pd.read_csv(REF / "veteran.csv")
    vet["celltype"] = pd.Categorical(vet["celltype"], ["squamous", "smallcell", "adeno", "large"])
    return vet
