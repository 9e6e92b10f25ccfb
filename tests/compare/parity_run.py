"""The demo-sized comparison whose numbers must not change (issue 18's estimator refactor).

``python tests/compare/parity_run.py --record`` writes ``tests/compare/data/parity_*.csv`` (run
once, on the code before the refactor); ``tests/compare/test_parity.py`` reruns the comparison and
asserts every number equals the record to 1e-12.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).parent / "data"


def demo_frame() -> pd.DataFrame:
    """160 simulated patients (the demo's SEM table, time, event) and 6 noisy radiomic columns."""
    from radsem.demo import sem_table
    from radsem.simulate import simulate_cohort

    cohort = simulate_cohort(n=160, seed=4, images=False)
    data = sem_table(cohort).join(cohort.clinical.set_index("patient_id")[["time", "event"]])
    rng = np.random.default_rng(0)
    lat = cohort.latent.set_index("patient_id").reindex(data.index)
    feats = pd.DataFrame(
        rng.normal(size=(len(data), 6)),
        index=data.index,
        columns=[f"original_f{j}" for j in range(6)],
    )
    feats["original_f0"] += lat["hypoxia"].to_numpy()
    feats["original_f1"] -= 0.5 * lat["immune"].to_numpy()
    return data.join(feats).dropna().reset_index()


def families(radiomic: list[str]) -> dict:
    """The demo's families, its joint SEM-Cox model and an elastic-net Cox with selection."""
    from radsem.compare import PenalisedCox
    from radsem.demo import DEMO_MECHANISM_MODEL, demo_families
    from radsem.estimation.families.survival_outcome import LatentSurvivalModel

    models = demo_families(radiomic, 2026)
    models["elastic-net radiomic Cox"] = PenalisedCox(
        features=radiomic, penalizer=0.05, l1_ratio=0.5, select=4
    )
    models["latent mechanisms -> recurrence (joint SEM-Cox)"] = LatentSurvivalModel(
        DEMO_MECHANISM_MODEL + "\nsurv ~ E6 + E7 + immune + hypoxia + advanced + age",
        method="joint",
    )
    return models


def run() -> dict[str, pd.DataFrame]:
    """Every table of the survival and binary comparisons (3-fold x 3, the demo's settings)."""
    from radsem.compare import compare_models
    from radsem.demo import DEMO_HORIZON, DEMO_HORIZONS

    data = demo_frame()
    radiomic = [c for c in data.columns if c.startswith("original_")]
    settings = dict(time="time", event="event", n_splits=3, n_repeats=3, random_state=2026)
    surv = compare_models(data, families(radiomic), horizons=DEMO_HORIZONS, **settings)
    binary = compare_models(
        data, families(radiomic), outcome="binary", horizon=DEMO_HORIZON, **settings
    )
    ref = "clinical Cox (FIGO III/IV + age)"
    return {
        "summary": surv.summary(),
        "paired": surv.paired(),
        "folds": surv.folds,
        "predictions": surv.predictions,
        "calibration": surv.calibration,
        "decision": surv.decision,
        "failures": surv.failures,
        "binary_failures": binary.failures,
        "binary_summary": binary.summary(),
        "binary_paired": binary.paired("auc"),
        "binary_predictions": binary.predictions,
        "binary_calibration": binary.calibration,
        "binary_decision": binary.decision,
        "binary_paired_auc": binary.paired_auc(ref),
    }


if __name__ == "__main__":
    tables = run()
    if "--record" in sys.argv:
        for name, t in tables.items():
            t.to_csv(DATA / f"parity_{name}.csv", index=False, float_format="%.17g")
    for name, t in tables.items():
        print(name, t.shape)
    print(tables["summary"].query("metric == 'harrell_c'").to_string())
