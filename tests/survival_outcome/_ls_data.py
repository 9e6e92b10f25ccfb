"""Small seeded data sets for the latent-survival tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

ONE_FACTOR = "f =~ y1 + y2 + y3\nrec =~ Surv(time, event)\nrec ~ f + age"


def one_factor_data(
    n: int = 250, seed: int = 1, beta: float = 0.5, gamma: float = 0.3, missing: int = 50
) -> pd.DataFrame:
    """``f ~ N(0, 1)``, three indicators (loadings 1, .8, .7), exponential PH time on ``f``
    and ``age``; the first ``missing`` patients lack all indicators."""
    rng = np.random.default_rng(seed)
    eta = rng.standard_normal(n)
    age = rng.standard_normal(n)
    y = np.column_stack([eta * lam + rng.standard_normal(n) * 0.6 for lam in (1.0, 0.8, 0.7)])
    t = rng.exponential(1.0 / (0.1 * np.exp(beta * eta + gamma * age)))
    c = rng.uniform(0, 15, n)
    df = pd.DataFrame(y, columns=["y1", "y2", "y3"]).assign(
        age=age, time=np.round(np.minimum(t, c), 4) + 1e-4, event=(t <= c).astype(int)
    )
    df.loc[: missing - 1, ["y1", "y2", "y3"]] = np.nan
    return df


def small_cohort(n: int, seed: int) -> tuple[pd.DataFrame, str, dict]:
    """A radsem.simulate cohort where only E7 and immune act on recurrence (the other
    mechanisms' log HRs set to 0), one HPV type, stage independent of the mechanisms;
    model: E7 and immune with three markers each (first loading fixed at its truth)."""
    from radsem.simulate import simulate_cohort
    from radsem.simulate.expression import lavaan_name
    from radsem.simulate.parameters import SimulationParameters

    p = SimulationParameters()
    p.hpv_types = {"HPV16": [1.0, "A9"]}
    p.stage_loadings = {k: 0.0 for k in p.stage_loadings}
    p.recurrence_log_hr = dict(p.recurrence_log_hr, E6=0.0, hypoxia=0.0, E7=0.5, immune=-0.5)
    cohort = simulate_cohort(n, seed=seed, images=False, missing_expression=0.3, params=p)
    df = cohort.clinical.merge(
        cohort.expression.rename(columns=lavaan_name), on="patient_id", how="left"
    )
    df["advanced"] = df["figo_stage"].isin(["III", "IV"]).astype(float)
    df["age10"] = (df["age"] - 50.0) / 10.0
    model = (
        "E7 =~ 1.12*CDKN2A + MKI67 + MCM2\n"
        "immune =~ 0.42*HLA_A + HLA_B + STAT1\n"
        "rec =~ Surv(time, event)\n"
        "rec ~ E7 + immune + advanced + age10"
    )
    truth = {"E7": 0.5, "immune": -0.5}
    return df, model, truth
