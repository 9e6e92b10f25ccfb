"""SEM factor scores fitted inside the fold (radsem.cfa on the HPV mechanism model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from radsem.compare import ClinicalCox, ScoreCox, compare_models, sem_scorer
from radsem.errors import DataError

MODEL = (Path(__file__).resolve().parents[2] / "models" / "hpv_mechanisms_cfa.lav").read_text()


@pytest.fixture(scope="module")
def expr():
    from radsem.simulate import simulate_cohort

    c = simulate_cohort(n=400, seed=11, images=False)
    d = c.clinical.merge(c.expression, on="patient_id").set_index("patient_id")
    return d, c.latent.set_index("patient_id")


def test_out_of_fold_scores_track_the_true_mechanisms(expr):
    d, latent = expr
    train, test = d.iloc[:150], d.iloc[150:]
    transform = sem_scorer(MODEL)(train)
    # on the training rows the affine map reproduces SemFit.predict exactly
    np.testing.assert_allclose(
        transform(train).to_numpy(), transform.fit_.predict().to_numpy(), atol=1e-8
    )
    s = transform(test)
    assert s.index.equals(test.index)
    for f in ("E6", "E7", "immune", "hypoxia"):
        r = np.corrcoef(s[f], latent.loc[s.index, f])[0, 1]
        assert abs(r) > 0.85, f


def test_sem_biomarker_beats_clinical_in_cv(expr):
    d, _ = expr
    res = compare_models(
        d,
        {
            "clinical": ClinicalCox(),
            "sem": ScoreCox(scorer=sem_scorer(MODEL), clinical=["advanced", "age"]),
        },
        time="time",
        event="event",
        n_splits=3,
        n_repeats=1,
        random_state=0,
    )
    assert res.failures.empty
    diff = res.paired(reference="clinical").iloc[0]
    assert diff["mean"] > 0.04


def test_sem_scorer_bad_inputs(expr):
    d, _ = expr
    with pytest.raises(DataError, match="kind must be"):
        sem_scorer(MODEL, kind="pca")
    transform = sem_scorer(MODEL)(d.iloc[:150])
    with pytest.raises(DataError, match="complete indicators"):
        transform(d.iloc[150:160].assign(MKI67=np.nan))
    with pytest.raises(DataError, match="MKI67"):
        transform(d.iloc[150:160].drop(columns="MKI67"))
