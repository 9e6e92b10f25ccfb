"""``models/compare_demo.yaml`` describes exactly the comparison that ``radsem demo`` built in
code (radsem/demo.py, step "compare outcome models")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from workflow_helpers import MODELS

from radsem.workflows import load_comparison, read_comparison_config

SEED = 2026


def _demo_models(radiomic, seed):
    """The families radsem/demo.py's _compare step compares (besides the image-based CAE)."""
    from radsem.demo import demo_families

    return demo_families(radiomic, seed)


@pytest.fixture(scope="module")
def demo_frame():
    from radsem.demo import sem_table
    from radsem.simulate import simulate_cohort

    cohort = simulate_cohort(n=160, seed=4, images=False)
    data = sem_table(cohort).join(cohort.clinical.set_index("patient_id")[["time", "event"]])
    rng = np.random.default_rng(0)
    features = pd.DataFrame(
        rng.normal(size=(len(data), 4)),
        index=data.index,
        columns=[f"original_f{j}" for j in range(4)],
    )
    return data.join(features).dropna().reset_index()


def test_families_and_settings_match_the_demo(demo_frame):
    radiomic = [c for c in demo_frame.columns if c.startswith("original_")]
    models, settings = load_comparison(
        MODELS / "compare_demo.yaml",
        feature_sets={"radiomics": radiomic},
        seed=SEED,
        n_jobs=2,
        columns=list(demo_frame.columns),
    )
    assert settings == {
        "time": "time",
        "event": "event",
        "n_splits": 3,
        "n_repeats": 3,
        "random_state": SEED,
        "n_jobs": 2,
        "alpha": 0.05,
    }
    demo = _demo_models(radiomic, SEED)
    assert list(models) == list(demo)
    for name, model in models.items():
        expected = demo[name]
        assert type(model) is type(expected), name
        for attr in (
            "covariates",
            "features",
            "penalizer",
            "l1_ratio",
            "harmonizer",
            "select",
            "n_clusters",
            "metric",
            "random_state",
            "clinical",
            "columns",
        ):
            if hasattr(expected, attr):
                left, right = getattr(model, attr), getattr(expected, attr)
                if isinstance(right, list | tuple):
                    left, right = list(left), list(right)
                assert left == right, (name, attr)


def test_each_family_predicts_as_the_demo_one(demo_frame):
    radiomic = [c for c in demo_frame.columns if c.startswith("original_")]
    models, _ = load_comparison(
        MODELS / "compare_demo.yaml", feature_sets={"radiomics": radiomic}, seed=SEED
    )
    demo = _demo_models(radiomic, SEED)
    train, test = demo_frame.iloc[:90], demo_frame.iloc[90:]
    for name, model in models.items():
        mine = model.fit(train, "time", "event").predict_risk(test)
        theirs = demo[name].fit(train, "time", "event").predict_risk(test)
        np.testing.assert_allclose(
            mine.to_numpy(), theirs.to_numpy(), rtol=0, atol=1e-10, err_msg=name
        )


def test_demo_configuration_points_at_the_demo_outputs():
    config = read_comparison_config(MODELS / "compare_demo.yaml", check_data=False)
    root = MODELS.parent.resolve()
    assert config.data.cohort.resolve() == root / "demo-output" / "cohort"
    assert config.data.join["radiomics"].resolve() == (
        root / "demo-output" / "radiomics" / "features.csv"
    )
    assert config.families[3].params["model_file"].name == "hpv_mechanisms_stage.lav"
