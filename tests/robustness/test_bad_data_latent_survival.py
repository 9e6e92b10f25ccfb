"""Bad survival data in SEM models with a Surv() outcome
(radsem.estimation.families.survival_outcome through
radsem.sem). Failures in radsem/latent_survival are strict xfails with their reproducer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import radsem
from radsem.errors import DataError, ModelSpecificationError, ModelSyntaxError

MODEL = "F =~ x1 + x2 + x3\nrec =~ Surv(t, e)\nrec ~ F + age"


@pytest.fixture(scope="module")
def cohort():
    rng = np.random.default_rng(3)
    n = 150
    f = rng.normal(size=n)
    data = pd.DataFrame({f"x{i}": 0.8 * f + rng.normal(scale=0.6, size=n) for i in range(1, 4)})
    data["t"] = rng.exponential(np.exp(-0.5 * f))
    data["e"] = rng.integers(0, 2, n)
    data["age"] = rng.normal(60, 8, n)
    return data


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d.assign(t=np.r_[-1.0, d.t[1:]]), "negative times"),
        (lambda d: d.assign(t=np.r_[np.nan, d.t[1:]]), "missing value"),
        (lambda d: d.assign(t=d.t.astype(str)), "must be numeric"),
        (lambda d: d.assign(e=d.e + 1), "must be 0 .censored. or 1"),
        (lambda d: d.assign(e=0), "no events"),
        (lambda d: d.assign(age="old"), "'age' must be numeric"),
    ],
)
def test_bad_survival_columns(cohort, change, match):
    bad = change(cohort)
    before = bad.copy()
    with pytest.raises(DataError, match=match):
        radsem.sem(MODEL, bad, survival_method="naive")
    pd.testing.assert_frame_equal(bad, before)


def test_boolean_and_nullable_events_equal_01(cohort):
    ref = radsem.sem(MODEL, cohort, survival_method="naive").hazard_ratios()["log_hr"]
    for ev in (cohort.e.astype(bool), pd.array(cohort.e, dtype="Int64")):
        got = radsem.sem(MODEL, cohort.assign(e=ev), survival_method="naive").hazard_ratios()
        np.testing.assert_allclose(got["log_hr"], ref, rtol=1e-10)


def test_bad_declarations(cohort):
    with pytest.raises(ModelSyntaxError, match="exactly two column names"):
        radsem.sem("F =~ x1 + x2 + x3\nrec =~ Surv(t)\nrec ~ F", cohort)
    with pytest.raises(DataError, match="'tt' is not in the data"):
        radsem.sem("F =~ x1 + x2 + x3\nrec =~ Surv(tt, e)\nrec ~ F", cohort)
    with pytest.raises(ModelSpecificationError, match="has no regression"):
        radsem.sem("F =~ x1 + x2 + x3\nrec =~ Surv(t, e)", cohort)


def test_joint_method_on_too_few_rows(cohort):
    with pytest.raises(DataError, match="5 patients are too few"):
        radsem.sem(MODEL, cohort.iloc[:5])
