"""Shared small data sets for the comparison-harness tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def cohort():
    """A simulated cohort (n=400, no images) with the true latent mechanisms merged in."""
    from radsem.simulate import simulate_cohort

    c = simulate_cohort(n=400, seed=11, images=False)
    return c.clinical.merge(c.latent, on="patient_id")


@pytest.fixture
def cox_data():
    """n=300 from a Cox model with linear predictor lp = x1 - 0.5 x2, ~30% censored, ties."""
    rng = np.random.default_rng(5)
    n = 300
    x = rng.normal(size=(n, 2))
    lp = x[:, 0] - 0.5 * x[:, 1]
    t = rng.exponential(np.exp(-lp))
    c = rng.exponential(2.5, n)
    return pd.DataFrame(
        {
            "x1": x[:, 0],
            "x2": x[:, 1],
            "lp": lp,
            "time": np.round(np.minimum(t, c), 2) + 0.01,
            "event": (t <= c).astype(int),
        }
    )
