"""issue 13: every per-patient output keeps the input's index labels.

Rows are shuffled and relabelled with string patient ids; each output must be indexed by
those ids and hold, under each id, the value the unshuffled run gives that patient. Rows that
are not scored are NaN under their own label.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import radsem
from radsem.datasets import load
from radsem.errors import DataWarning

HS3 = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def _relabel(frame: pd.DataFrame, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(frame with ids P000.., the same rows shuffled)"""
    ids = frame.set_axis([f"P{i:03d}" for i in range(len(frame))])
    order = np.random.default_rng(seed).permutation(len(ids))
    return ids, ids.iloc[order]


@pytest.fixture(scope="module")
def hs():
    return load("HolzingerSwineford1939")


@pytest.mark.parametrize("options", [{}, {"group": "school"}, {"missing": "ml"}])
def test_factor_scores_keep_patient_ids(hs, options):
    data = hs[["x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "school"]].copy()
    data.loc[[3, 10, 50], "x2"] = np.nan  # listwise: these rows are not scored
    data.loc[7, ["x1", "x2", "x3"]] = np.nan
    ids, shuffled = _relabel(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        base = radsem.cfa(HS3, ids, **options).predict()
        other = radsem.cfa(HS3, shuffled, **options).predict()
    assert list(base.index) == list(ids.index)
    assert list(other.index) == list(shuffled.index)
    if options.get("missing") != "ml":
        assert base.loc[["P003", "P010", "P050", "P007"], "visual"].isna().all()
        assert base.drop(["P003", "P010", "P050", "P007"]).notna().all().all()
    pd.testing.assert_frame_equal(other.loc[base.index], base, atol=1e-6, rtol=0)
    # joined back to the patient table, no score is lost or moved
    joined = shuffled.join(other[["visual"]])
    np.testing.assert_allclose(joined["visual"].loc[base.index], base["visual"], atol=1e-6)


def test_newdata_scores_keep_patient_ids(hs):
    ids, shuffled = _relabel(hs)
    fit = radsem.cfa(HS3, ids)
    a, b = fit.predict(ids), fit.predict(shuffled)
    assert list(b.index) == list(shuffled.index)
    pd.testing.assert_frame_equal(b.loc[a.index], a)


def test_ordinal_scores_keep_patient_ids(hs):
    data = hs[["x1", "x2", "x3", "x4"]].copy()
    for col in ("x1", "x2", "x3"):
        data[col] = pd.cut(data[col], 3, labels=False).astype(float)
    data.loc[5, "x1"] = np.nan
    ids, shuffled = _relabel(data)
    model = "f =~ x1 + x2 + x3 + x4"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        base = radsem.cfa(model, ids, ordered=["x1", "x2", "x3"]).predict()
        other = radsem.cfa(model, shuffled, ordered=["x1", "x2", "x3"]).predict()
    assert list(other.index) == list(shuffled.index)
    assert np.isnan(base.loc["P005", "f"])
    pd.testing.assert_frame_equal(other.loc[base.index], base, atol=1e-5, rtol=0)


def test_latent_survival_scores_keep_patient_ids():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "survival_outcome"))
    from _ls_data import ONE_FACTOR, one_factor_data

    from radsem.estimation.families.survival_outcome import latent_survival

    ids, shuffled = _relabel(one_factor_data(n=150, missing=20))
    fit = latent_survival(ONE_FACTOR, ids, method="naive")
    base, other = fit.predict_risk(ids), fit.predict_risk(shuffled)
    assert list(other.index) == list(shuffled.index)
    pd.testing.assert_series_equal(other.loc[base.index], base)
    refit = latent_survival(ONE_FACTOR, shuffled, method="naive")
    np.testing.assert_allclose(refit.coef.to_numpy(), fit.coef.to_numpy(), atol=1e-6)


def test_cluster_labels_keep_patient_ids(hs):
    from radsem.cluster import KMedoids, characterise_clusters, renumber_by_event_rate

    X = hs[["x1", "x4", "x7"]]
    ids, shuffled = _relabel(X)
    base = KMedoids(3).fit_predict(ids)
    other = KMedoids(3).fit_predict(shuffled)
    assert list(other.index) == list(shuffled.index)
    # the same partition of the patients (PAM's labels may be numbered differently)
    cross = pd.crosstab(base, other.loc[base.index])
    assert ((cross > 0).sum(axis=1) == 1).all()
    event = pd.Series(np.arange(len(ids)) % 2, index=ids.index)
    a = renumber_by_event_rate(base, event)
    b = renumber_by_event_rate(other, event)  # event in another order: aligned on the ids
    assert list(b.index) == list(shuffled.index)
    pd.testing.assert_series_equal(b.loc[a.index], a)
    clinical = hs[["ageyr"]].set_axis(ids.index)
    t1 = characterise_clusters(clinical, a, continuous=["ageyr"])
    t2 = characterise_clusters(clinical, b, continuous=["ageyr"])  # shuffled labels Series
    pd.testing.assert_frame_equal(t1, t2)


class _Reversed:
    """A model whose predict_risk returns its rows in reverse order (correct labels)."""

    def fit(self, train, time, event):
        return self

    def predict_risk(self, test):
        return pd.Series(test["age"].to_numpy(float), index=test.index).iloc[::-1]


class _Plain(_Reversed):
    def predict_risk(self, test):
        return pd.Series(test["age"].to_numpy(float), index=test.index)


def test_out_of_fold_risks_keep_patient_ids():
    from radsem.compare import compare_models

    rng = np.random.default_rng(0)
    n = 80
    data = pd.DataFrame(
        {
            "age": rng.normal(60, 8, n),
            "time": rng.exponential(10, n) + 0.1,
            "event": rng.integers(0, 2, n),
        }
    )
    ids, shuffled = _relabel(data)
    res = compare_models(
        shuffled,
        {"plain": _Plain(), "reversed": _Reversed()},
        time="time",
        event="event",
        n_splits=3,
        n_repeats=1,
        random_state=1,
    )
    pred = res.predictions
    assert set(pred["row"]) == set(ids.index)
    wide = pred.pivot_table(index="row", columns="model", values="risk")
    np.testing.assert_allclose(wide["reversed"], wide["plain"])
    np.testing.assert_allclose(wide["plain"], ids.loc[wide.index, "age"])


def test_cae_codes_keep_patient_ids():
    pytest.importorskip("torch")
    from radsem.deep.cae import ConvAutoencoder
    from radsem.deep.crops import Crops

    rng = np.random.default_rng(1)
    data = rng.normal(size=(12, 1, 8, 8)).astype(np.float32)
    ids = pd.Index([f"P{i:03d}" for i in range(12)], name="patient_id")
    order = rng.permutation(12)
    cae = ConvAutoencoder(
        latent_dim=2,
        dims=2,
        channels=1,
        base_channels=2,
        n_blocks=1,
        epochs=2,
        batch_size=4,
        random_state=0,
        progress=False,
    )
    cae.fit(Crops(data, ids))
    base = cae.transform(Crops(data, ids))
    other = cae.transform(Crops(data[order], ids[order]))
    assert list(other.index) == list(ids[order])
    pd.testing.assert_frame_equal(other.loc[base.index], base, atol=1e-6, rtol=0)
