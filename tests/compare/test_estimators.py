"""Every outcome model of radsem.compare is a scikit-learn estimator (issue 18): parameters only
in ``__init__``, ``get_params``/``set_params``/``clone`` round trips, survival models fitted on
scikit-survival's structured ``y`` with ``predict`` and ``score`` (Harrell's C), classifiers with
``classes_``, ``predict_proba`` and ``decision_function``; ``GridSearchCV`` tunes a Cox model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier
from sklearn.model_selection import GridSearchCV, KFold
from sksurv.metrics import concordance_index_censored
from sksurv.util import Surv

from radsem.compare import (
    CAECox,
    ClinicalCox,
    ClusterCox,
    FoldResult,
    Logistic,
    PenalisedCox,
    ScoreCox,
    SurvivalEstimator,
    compare_models,
)
from radsem.compare.binary import horizon_labels
from radsem.compare.estimator import LegacyBinaryFamily, LegacySurvivalFamily
from radsem.compare.folds import cv_splits
from radsem.errors import DataError
from radsem.estimation.families.survival_outcome import LatentSurvivalModel

FEATS = ["x1", "x2"] + [f"n{j}" for j in range(4)]


@pytest.fixture
def frame(cox_data):
    rng = np.random.default_rng(8)
    extra = pd.DataFrame(rng.normal(size=(len(cox_data), 4)), columns=[f"n{j}" for j in range(4)])
    stage = rng.choice(["I", "IIB", "IIIC1", "IVA"], len(cox_data))
    return pd.concat([cox_data, extra], axis=1).assign(
        figo_stage=stage, age=rng.normal(50, 10, len(cox_data))
    )


def _survival_models():
    return [
        ClinicalCox(covariates=("advanced", "age")),
        PenalisedCox(FEATS, penalizer=2.0, select=4),
        PenalisedCox(FEATS, penalizer=0.05, l1_ratio=0.5),
        ClusterCox(FEATS, n_clusters=2, random_state=3),
        ScoreCox(columns=["x1", "x2"], clinical=["age"], penalizer=0.1),
        CAECox(crops={}, latent_dim=3, epochs=2),
        LatentSurvivalModel("f =~ a + b + c\nsurv ~ f", method="naive", seed=4),
    ]


@pytest.mark.parametrize("model", _survival_models(), ids=lambda m: type(m).__name__)
def test_params_round_trip_and_clone(model):
    params = model.get_params()
    assert params
    assert all(not k.endswith("_") for k in params)
    twin = clone(model)
    assert twin is not model
    assert type(twin) is type(model)
    for k, v in params.items():  # same hyper-parameters, no learned state
        assert twin.get_params()[k] is v or twin.get_params()[k] == v
    assert not [a for a in vars(twin) if a.endswith("_") and not a.startswith("_")]
    key = next(iter(params))
    assert type(model)(**params).get_params() == params
    twin.set_params(**{key: params[key]})
    assert twin.get_params()[key] == params[key]
    assert isinstance(model, SurvivalEstimator) or hasattr(model, "score")


@pytest.mark.parametrize(
    "model",
    _survival_models()[:5],
    ids=[f"{type(m).__name__}-{k}" for k, m in enumerate(_survival_models()[:5])],
)
def test_survival_models_take_structured_y(model, frame):
    train, test = frame.iloc[:200], frame.iloc[200:]
    y_train = Surv.from_arrays(event=train["event"] > 0, time=train["time"])
    y_test = Surv.from_arrays(event=test["event"] > 0, time=test["time"])
    fitted = clone(model).fit(train, y_train)
    risk = fitted.predict(test)
    assert isinstance(risk, np.ndarray)
    assert risk.shape == (len(test),)
    # the same numbers as the column form fit(X, "time", "event") and as predict_risk
    by_columns = clone(model).fit(train, "time", "event")
    np.testing.assert_allclose(by_columns.predict(test), risk, rtol=1e-12)
    np.testing.assert_allclose(fitted.predict_risk(test).loc[test.index].to_numpy(), risk)
    # score is Harrell's C by scikit-survival
    want = concordance_index_censored(y_test["event"], y_test["time"], risk)[0]
    assert fitted.score(test, y_test) == pytest.approx(want, abs=1e-15)
    # the outcome must not come from X: y from other rows gives other numbers
    perm = np.random.default_rng(0).permutation(len(train))
    other = clone(model).fit(train, y_train[perm]).predict(test)
    assert not np.allclose(other, risk)


def test_latent_survival_model_is_a_survival_estimator():
    rng = np.random.default_rng(2)
    n = 150
    f = rng.normal(size=n)
    data = pd.DataFrame({k: f + rng.normal(scale=0.6, size=n) for k in "abc"})
    t, c = rng.exponential(np.exp(-0.8 * f)), rng.exponential(2.0, n)
    y = Surv.from_arrays(t <= c, np.minimum(t, c))
    model = LatentSurvivalModel("f =~ a + b + c\nsurv ~ f", method="naive", seed=4)
    fitted = clone(model).fit(data, y)
    risk = fitted.predict(data)
    assert risk.shape == (n,)
    framed = data.assign(time=np.minimum(t, c), event=(t <= c).astype(int))
    np.testing.assert_allclose(
        clone(model).fit(framed, "time", "event").predict(framed), risk, rtol=1e-10
    )
    assert fitted.score(data, y) > 0.6  # the latent factor drives the hazard


def test_logistic_is_a_classifier(frame):
    train, test = frame.iloc[:200], frame.iloc[200:]
    lab = horizon_labels((train.time, train.event), 1.0)
    w = lab["weight"].to_numpy()
    y = np.where(w > 0, np.nan_to_num(lab["label"].to_numpy()), 0).astype(int)
    surv = Surv.from_arrays(train["event"] > 0, train["time"])
    model = Logistic(PenalisedCox(FEATS, penalizer=2.0, select=4))
    assert is_classifier(model)
    assert clone(model).get_params()["family"].get_params() == model.family.get_params()
    fitted = clone(model).fit(train, y, sample_weight=w, survival=surv)
    np.testing.assert_array_equal(fitted.classes_, [0, 1])
    proba = fitted.predict_proba(test)
    assert proba.shape == (len(test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(
        proba[:, 1], 1 / (1 + np.exp(-fitted.decision_function(test))), rtol=1e-12
    )
    np.testing.assert_allclose(fitted.predict_probability(test).to_numpy(), proba[:, 1])
    assert set(fitted.predict(test)) <= {0, 1}
    # the older call with column names gives the same model
    old = Logistic(PenalisedCox(FEATS, penalizer=2.0, select=4)).fit(
        train, lab["label"].to_numpy(), w, "time", "event"
    )
    np.testing.assert_allclose(old.params_, fitted.params_, rtol=1e-12)
    np.testing.assert_allclose(fitted.coef_.ravel(), fitted.params_.iloc[1:].to_numpy())


def test_grid_search_over_a_cox_penalty(frame):
    """GridSearchCV clones the family per fold and scores it by Harrell's C (score)."""
    y = Surv.from_arrays(frame["event"] > 0, frame["time"])
    grid = GridSearchCV(
        PenalisedCox(FEATS, penalizer=1.0),
        {"penalizer": [0.01, 1.0, 1e4]},
        cv=KFold(3, shuffle=True, random_state=0),
    )
    grid.fit(frame, y)
    scores = grid.cv_results_["mean_test_score"]
    assert np.all((scores > 0.4) & (scores < 1))
    # the fold scores are Harrell's C of each clone on its test fold
    folds = list(KFold(3, shuffle=True, random_state=0).split(frame))
    tr, te = folds[1]
    m = PenalisedCox(FEATS, penalizer=1e4).fit(frame.iloc[tr], y[tr])
    assert grid.cv_results_["split1_test_score"][2] == pytest.approx(
        m.score(frame.iloc[te], y[te]), abs=1e-12
    )
    # a huge ridge penalty shrinks the true signal (x1, x2) away: it is not chosen
    assert grid.best_params_["penalizer"] != 1e4
    assert hasattr(grid.best_estimator_, "cox_")


def test_folds_are_sklearn_splits_shared_by_models(frame):
    res = compare_models(
        frame,
        {"clinical": ClinicalCox(), "x": ScoreCox(columns=["x1", "x2"])},
        time="time",
        event="event",
        n_splits=3,
        n_repeats=2,
        horizons=[1.0],
        random_state=5,
    )
    splits = cv_splits(frame["event"].to_numpy(), 3, 2, 5)
    from sklearn.model_selection import RepeatedStratifiedKFold

    ref = list(
        RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=5).split(
            frame, frame["event"]
        )
    )
    for s, (tr, te) in zip(splits, ref, strict=True):
        np.testing.assert_array_equal(s.test, te)
    pred = res.predictions
    for (rep, fold), sub in pred.groupby(["repeat", "fold"]):
        rows = [set(g["row"]) for _, g in sub.groupby("model")]
        assert rows[0] == rows[1] == set(frame.index[splits[rep * 3 + fold].test])
    # decision curves have their own table; the calibration table holds calibration only
    assert "kind" not in res.calibration.columns
    assert "kind" not in res.decision.columns
    assert {"threshold", "net_benefit"} <= set(res.decision.columns)
    assert "observed" in res.calibration.columns
    assert FoldResult().metrics == []
    assert FoldResult.__dataclass_params__.frozen


class _OldFamily:
    """A family written for the older protocol."""

    def fit(self, train, time, event):
        self.mean_ = train.loc[train[event] == 1, "x1"].mean()
        return self

    def predict_risk(self, test):
        return (test["x1"] - self.mean_).rename("risk")


class _OldBinary:
    def fit(self, train, y, sample_weight, time, event):
        assert np.isnan(y[sample_weight == 0]).all()
        self.ok_ = True
        return self

    def predict_proba(self, test):
        return pd.Series(1 / (1 + np.exp(-test["x1"])), index=test.index)


def test_older_families_are_wrapped(frame):
    y = Surv.from_arrays(frame["event"] > 0, frame["time"])
    wrapped = LegacySurvivalFamily(_OldFamily(), "time", "event")
    fitted = clone(wrapped).fit(frame, y)
    np.testing.assert_allclose(fitted.predict(frame), frame["x1"] - fitted.family_.mean_)
    bare = clone(LegacySurvivalFamily(_OldFamily())).fit(frame.drop(columns=["event"]), y)
    assert bare.family_.mean_ == pytest.approx(fitted.family_.mean_)
    res = compare_models(
        frame,
        {"old": _OldFamily(), "binary": _OldBinary()},
        time="time",
        event="event",
        n_splits=3,
        n_repeats=1,
        outcome="binary",
        horizon=1.0,
    )
    assert set(res.folds["model"]) == {"old", "binary"}
    clf = LegacyBinaryFamily(_OldBinary())
    with pytest.raises(DataError, match="survival outcome"):
        clf.fit(frame, np.zeros(len(frame)))


def test_bad_y_is_a_clear_error(frame):
    with pytest.raises(DataError, match="structured array"):
        ClinicalCox().fit(frame, frame["time"].to_numpy())
    with pytest.raises(DataError, match="'when' is not in the data"):
        ClinicalCox().fit(frame, "when", "event")
    y = Surv.from_arrays(frame["event"] > 0, frame["time"])
    with pytest.raises(DataError, match="outcome has 299 rows"):
        ClinicalCox().fit(frame, y[:-1])
    with pytest.raises(DataError, match="pandas DataFrame"):
        ClinicalCox().fit(frame.to_numpy(), y)
