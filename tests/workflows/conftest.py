"""Inputs of the workflow tests: Holzinger-Swineford as CSV with its CFA model, and a small
simulated cohort folder (no images) with a radiomic-like feature table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from workflow_helpers import HS_MODEL, MODELS


@pytest.fixture(scope="session")
def hs_inputs(tmp_path_factory):
    """``inputs/hs.lav`` and ``inputs/hs.csv`` (HolzingerSwineford1939, 301 rows)."""
    from radsem.datasets import load

    folder = tmp_path_factory.mktemp("hs") / "inputs"
    folder.mkdir()
    (folder / "hs.lav").write_text(HS_MODEL, encoding="utf-8")
    load("HolzingerSwineford1939").to_csv(folder / "hs.csv", index=False)
    return folder / "hs.lav", folder / "hs.csv"


@pytest.fixture(scope="session")
def cohort_inputs(tmp_path_factory):
    """A simulated cohort folder (n=90, seed 5, no images), a feature table whose first two
    columns carry the recurrence signal, and the library's stage model next to them."""
    from radsem.simulate import simulate

    root = tmp_path_factory.mktemp("cohort")
    cohort = simulate(n=90, seed=5, out=root / "cohort", images=False)
    clinical = pd.read_csv(cohort / "clinical.csv", dtype={"patient_id": str})
    rng = np.random.default_rng(7)
    features = pd.DataFrame({"patient_id": clinical["patient_id"]})
    for j in range(6):
        signal = 0.8 * clinical["event"].to_numpy() if j < 2 else 0.0
        features[f"original_feat{j}"] = rng.normal(size=len(clinical)) + signal
    features.to_csv(root / "features.csv", index=False)
    (root / "mechanisms.lav").write_text((MODELS / "hpv_mechanisms_stage.lav").read_text())
    return root
