"""radsem.compare.compare_models on bad data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from radsem.compare import ClinicalCox, compare_models
from radsem.errors import DataError, RadsemError, RadsemWarning


@pytest.fixture(scope="module")
def cohort():
    rng = np.random.default_rng(5)
    n = 60
    return pd.DataFrame(
        {"time": rng.exponential(5, n), "event": rng.integers(0, 2, n), "age": rng.normal(60, 8, n)}
    )


def _compare(data):
    return compare_models(
        data,
        {"clin": ClinicalCox(covariates=["age"])},
        time="time",
        event="event",
        n_splits=3,
        n_repeats=1,
    )


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d.assign(event=d.event + 1), "must be 0/1"),
        (lambda d: d.assign(event=0), "no events"),
        (lambda d: d.assign(time=np.r_[-1.0, d.time[1:]]), ">= 0"),
        (lambda d: d.iloc[:0], "no observations"),
        (lambda d: d.set_axis([0] * len(d)), "index must be unique"),
    ],
)
def test_bad_outcomes(cohort, change, match):
    with pytest.raises(DataError, match=match):
        _compare(change(cohort))


def test_every_fit_failing_is_an_error(cohort):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        try:
            _compare(cohort.assign(age="old")).summary()
            raised = False
        except RadsemError:
            raised = True
    assert raised or (record and all(issubclass(w.category, RadsemWarning) for w in record))
    with pytest.raises(DataError, match=r"no model could be scored: 'clin' failed in every fold"):
        _compare(cohort.assign(age="old"))
