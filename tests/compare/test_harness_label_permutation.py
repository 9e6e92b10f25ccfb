"""``compare_models(..., outcome="label", n_permutations=B)``: the permutation p-value and the
permutation-calibrated AUC interval of every model, checked against the harness run by hand on
the documented permuted labels and :func:`radsem.compare.permutation_interval`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from radsem.compare import compare_models, permutation_interval
from radsem.errors import DataError

B = 39
ALPHA = 0.05  # m = floor(0.05 * 40 / 2) = 1: an exact 95 % level from 39 permutations


class Columns(ClassifierMixin, BaseEstimator):
    """A tiny model family: the difference of the class means of some columns as the
    discriminant (a nearest-centroid score), shrunk by ``shrink``; closed form, so fast."""

    def __init__(self, columns=("a",), shrink=0.0):
        self.columns = columns
        self.shrink = shrink

    def fit(self, X, y, sample_weight=None):
        x, y = X[list(self.columns)].to_numpy(), np.asarray(y)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight)
        mean1 = np.average(x[y == 1], axis=0, weights=w[y == 1])
        mean0 = np.average(x[y == 0], axis=0, weights=w[y == 0])
        self.coef_ = (mean1 - mean0) / (1.0 + self.shrink)
        self.centre_ = (mean1 + mean0) / 2
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        score = (X[list(self.columns)].to_numpy() - self.centre_) @ self.coef_
        p = 1.0 / (1.0 + np.exp(-score))
        return np.column_stack([1 - p, p])


MODELS = {"signal": Columns(("a", "b")), "noise": Columns(("c",), shrink=1.0)}


def _data(n: int = 48, seed: int = 1, informative: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        rng.normal(size=(n, 3)), columns=list("abc"), index=[f"P{i:02d}" for i in range(n)]
    )
    score = 2 * frame["a"] if informative else rng.normal(size=n)
    frame["tp53"] = np.where(score + rng.normal(size=n) > 0, "mutant", "wild type")
    return frame


def _run(data, **kw):
    settings = {"n_splits": 3, "n_repeats": 1, "random_state": 5, "alpha": ALPHA}
    return compare_models(
        data, MODELS, outcome="label", label="tp53", positive="mutant", **{**settings, **kw}
    )


@pytest.fixture(scope="module")
def data():
    return _data()


@pytest.fixture(scope="module")
def result(data):
    return _run(data, n_permutations=B)


def test_permutation_columns_equal_an_independent_computation(data, result):
    y = (data["tp53"] == "mutant").to_numpy().astype(int)
    rng = np.random.default_rng([5, 14])  # the documented permutations
    null = {m: [] for m in MODELS}
    for _ in range(B):
        permuted = data.assign(tp53=np.where(rng.permutation(y) == 1, "mutant", "wild type"))
        s = _run(permuted).summary().query("metric == 'auc'").set_index("model")
        for m in MODELS:
            null[m].append(s.loc[m, "mean"])
    summary = result.summary()
    auc = summary.query("metric == 'auc'").set_index("model")
    for m in MODELS:
        ref = permutation_interval(auc.loc[m, "mean"], null[m], alpha=ALPHA)
        assert np.isfinite(ref["ci_lower"])
        got = auc.loc[m]
        assert got["ci_lower_perm"] == pytest.approx(ref["ci_lower"], abs=1e-12)
        assert got["ci_upper_perm"] == pytest.approx(ref["ci_upper"], abs=1e-12)
        assert got["pvalue_perm"] == pytest.approx(ref["pvalue"], abs=1e-12)
        assert got["auc_null"] == pytest.approx(np.mean(null[m]), abs=1e-12)
        assert got["n_permutations"] == B
        stored = result.permutation_null.query("model == @m")["auc"].to_numpy()
        np.testing.assert_allclose(stored, null[m], rtol=0, atol=1e-12)
    # the label carried by 'a' is found, the noise column is not
    assert auc.loc["signal", "ci_lower_perm"] > 0.5
    assert auc.loc["signal", "pvalue_perm"] == pytest.approx(2 / (B + 1))
    assert auc.loc["noise", "ci_lower_perm"] <= 0.5 <= auc.loc["noise", "ci_upper_perm"]
    # the existing columns are kept and unchanged; other metrics carry no permutation figures
    plain = _run(data).summary()
    pd.testing.assert_frame_equal(summary[plain.columns], plain)
    assert summary.query("metric != 'auc'")["pvalue_perm"].isna().all()
    assert "pvalue_perm" not in plain.columns
    assert _run(data).permutation_null is None


def test_same_seed_same_numbers_whatever_n_jobs(data, result):
    again = _run(data, n_permutations=B, n_jobs=2)
    pd.testing.assert_frame_equal(again.summary(), result.summary())
    pd.testing.assert_frame_equal(again.permutation_null, result.permutation_null)
    other = _run(data, n_permutations=B, random_state=6)
    assert not np.allclose(
        other.permutation_null["auc"].to_numpy(), result.permutation_null["auc"].to_numpy()
    )


def test_dask_client_gives_the_same_numbers(data, result):
    distributed = pytest.importorskip("distributed")
    with distributed.Client(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    ) as client:
        remote = _run(data, n_permutations=B, client=client)
    pd.testing.assert_frame_equal(remote.summary(), result.summary())


def test_label_unrelated_to_the_features_interval_covers_half():
    res = _run(_data(seed=3, informative=False), n_permutations=B)
    auc = res.summary().query("metric == 'auc'").set_index("model")
    for m in MODELS:
        assert auc.loc[m, "ci_lower_perm"] <= 0.5 <= auc.loc[m, "ci_upper_perm"], auc.loc[m]
        assert auc.loc[m, "pvalue_perm"] > ALPHA


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"n_permutations": -1}, "n_permutations must be >= 0, got -1"),
        ({"n_permutations": 2.5}, "n_permutations must be a whole number >= 0, got 2.5"),
        ({"n_permutations": True}, "n_permutations must be a whole number"),
    ],
)
def test_bad_n_permutations(data, kw, message):
    with pytest.raises(DataError, match=message):
        _run(data, **kw)


def test_n_permutations_needs_a_label_outcome(data):
    surv = data.assign(time=np.arange(1.0, len(data) + 1), event=np.arange(len(data)) % 2)
    with pytest.raises(DataError, match="needs outcome='label', got outcome='survival'"):
        compare_models(surv, MODELS, time="time", event="event", n_permutations=19)
