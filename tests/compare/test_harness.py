"""The comparison harness: leakage is impossible, simulated truth is ranked as it should be, a null
outcome shows no difference, results are reproducible, bad inputs give clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radsem.compare import ClinicalCox, PenalisedCox, ScoreCox, compare_models, corrected_ci
from radsem.errors import DataError, EstimationError, ModelSpecificationError, RadsemWarning

LATENT = ["E6", "E7", "immune", "hypoxia"]


@pytest.fixture(scope="module")
def noise():
    """Pure noise: 300 features independent of an exponential outcome, n = 150."""
    rng = np.random.default_rng(3)
    n, p = 150, 300
    X = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"f{j}" for j in range(p)])
    t, c = rng.exponential(1.0, n), rng.exponential(1.5, n)
    return X.assign(time=np.minimum(t, c), event=(t <= c).astype(int))


class _LeakySelect(PenalisedCox):
    """A deliberately wrong pipeline: features chosen on ALL patients before the split."""

    def __init__(self, chosen, penalizer):
        super().__init__(features=chosen, penalizer=penalizer)


def test_noise_outcome_gives_chance_c_out_of_sample(noise):
    features = [c for c in noise.columns if c.startswith("f")]
    model = PenalisedCox(features, penalizer=10.0)
    res = compare_models(
        noise,
        {"pen": model},
        time="time",
        event="event",
        n_splits=5,
        n_repeats=1,
        horizons=[0.5],
        random_state=1,
    )
    s = res.summary().set_index("metric").loc["harrell_c"]
    assert abs(s["mean"] - 0.5) < 3 * s["se"]
    assert s["ci_lower"] < 0.5 < s["ci_upper"]
    # the same model judged on its own training data looks excellent
    apparent = model.fit(noise, "time", "event").cox_.concordance.concordance
    assert apparent > 0.9
    assert apparent - s["mean"] > 5 * s["se"]
    # and selecting features outside the folds (the leak the harness prevents) is caught
    from radsem.compare.models import _univariable_score

    z = (noise[features] - noise[features].mean()) / noise[features].std()
    score = _univariable_score(z.to_numpy(), noise["time"].to_numpy(), noise["event"].to_numpy())
    chosen = [features[i] for i in np.argsort(-score)[:10]]
    leaky = compare_models(
        noise,
        {"leak": _LeakySelect(chosen, 1.0)},
        time="time",
        event="event",
        n_splits=5,
        n_repeats=2,
        horizons=[0.5],
        random_state=1,
    )
    ls = leaky.summary().set_index("metric").loc["harrell_c"]
    assert ls["ci_lower"] > 0.5


def _models():
    return {
        "clinical": ClinicalCox(),
        "latent": ScoreCox(columns=LATENT, clinical=["advanced", "age"]),
    }


def test_truth_ranks_latent_model_first(cohort):
    res = compare_models(
        cohort.set_index("patient_id"),
        _models(),
        time="time",
        event="event",
        n_splits=5,
        n_repeats=2,
        random_state=0,
    )
    d = res.paired("harrell_c", reference="clinical").iloc[0]
    assert d["model"] == "latent"
    assert d["ci_lower"] > 0
    assert d["pvalue"] < 0.01
    u = res.paired("uno_c", reference="clinical").iloc[0]
    assert u["mean"] > 0
    assert res.failures.empty
    # out-of-fold predictions: every patient once per repeat and model, by index label
    counts = res.predictions.groupby(["repeat", "model"])["row"].nunique()
    assert (counts == len(cohort)).all()
    assert set(res.predictions["row"]) == set(cohort["patient_id"])
    assert repr(res).startswith("ComparisonResult(10 folds, 0 fit problems)\nHarrell's C:")
    dc = res.decision.groupby(["model", "threshold"])["net_benefit"].mean().unstack("model")
    assert (dc["latent"] >= dc["clinical"] - 0.01).all()  # the better model is as useful


def test_null_outcome_shows_no_difference(cohort):
    rng = np.random.default_rng(8)
    perm = rng.permutation(len(cohort))
    null = cohort.assign(
        time=cohort["time"].to_numpy()[perm], event=cohort["event"].to_numpy()[perm]
    )
    res = compare_models(
        null, _models(), time="time", event="event", n_splits=5, n_repeats=2, random_state=0
    )
    d = res.paired("harrell_c", reference="clinical").iloc[0]
    assert d["ci_lower"] < 0 < d["ci_upper"]
    s = res.summary().query("metric == 'harrell_c'")
    assert ((s["ci_lower"] < 0.5) & (0.5 < s["ci_upper"])).all()


def test_same_seed_same_numbers(cohort):
    sub = cohort.iloc[:200]
    kw = {"time": "time", "event": "event", "n_splits": 3, "n_repeats": 1, "horizons": [20.0]}
    a = compare_models(sub, _models(), random_state=4, **kw).folds
    from joblib import parallel_config

    with parallel_config(backend="threading"):  # the parallel path, without process start-up
        b = compare_models(sub, _models(), random_state=4, n_jobs=2, **kw).folds
    pd.testing.assert_frame_equal(a, b)
    c = compare_models(sub, _models(), random_state=5, **kw).folds
    assert not np.allclose(a["value"], c["value"], equal_nan=True)


def test_corrected_ci_is_wider_than_naive():
    v = np.array([0.6, 0.65, 0.62, 0.7, 0.58, 0.66])
    s = corrected_ci(v, test_fraction=0.25)
    naive = v.std(ddof=1) / np.sqrt(v.size)
    assert s["se"] == pytest.approx(np.sqrt(1 / 6 + 0.25) * v.std(ddof=1))
    assert s["se"] > naive
    assert corrected_ci([np.nan], 0.25)["n_folds"] == 0


def test_bad_inputs(cohort):
    with pytest.raises(DataError, match="column 'nope'"):
        compare_models(cohort, _models(), time="nope", event="event")
    with pytest.raises(ModelSpecificationError, match="models is empty"):
        compare_models(cohort, {}, time="time", event="event")
    with pytest.raises(ModelSpecificationError, match="no fit/predict_risk"):
        compare_models(cohort, {"x": object()}, time="time", event="event")
    with pytest.raises(DataError, match="cannot stratify"):
        compare_models(cohort.iloc[:6], _models(), time="time", event="event", n_splits=5)
    with pytest.raises(DataError, match="index must be unique"):
        compare_models(pd.concat([cohort, cohort]), _models(), time="time", event="event")
    with pytest.raises(DataError, match="no events"):
        compare_models(cohort.assign(event=0), _models(), time="time", event="event")
    res = compare_models(
        cohort.iloc[:150], _models(), time="time", event="event", n_splits=3, n_repeats=1
    )
    with pytest.raises(DataError, match="no metric 'x'"):
        res.paired("x")
    with pytest.raises(DataError, match="unknown reference"):
        res.paired(reference="zzz")


def test_optimism_bootstrap_removes_noise_optimism(noise):
    from radsem.compare import optimism_bootstrap

    feats = [f"f{j}" for j in range(40)]
    res = optimism_bootstrap(
        noise,
        {"pen": PenalisedCox(feats, penalizer=2.0)},
        time="time",
        event="event",
        n_boot=12,
        random_state=0,
    ).iloc[0]
    assert res["apparent"] > 0.65
    assert res["optimism"] > 0.1
    assert abs(res["corrected"] - 0.5) < 0.1
    assert res["n_failed"] == 0


def test_dask_client_gives_the_same_numbers(cohort):
    distributed = pytest.importorskip("distributed")
    sub = cohort.iloc[:150]
    kw = {
        "time": "time",
        "event": "event",
        "n_splits": 3,
        "n_repeats": 1,
        "horizons": [20.0],
        "random_state": 2,
    }
    local = compare_models(sub, _models(), **kw).folds
    with distributed.Client(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    ) as client:
        remote = compare_models(sub, _models(), client=client, n_jobs=-1, **kw).folds
    pd.testing.assert_frame_equal(local, remote)


def test_optimism_bootstrap_on_dask_gives_the_same_numbers(noise):
    distributed = pytest.importorskip("distributed")
    from radsem.compare import optimism_bootstrap

    models = {
        "pen": PenalisedCox([f"f{j}" for j in range(10)], penalizer=2.0),
        "pen2": PenalisedCox([f"f{j}" for j in range(5)], penalizer=1.0),
    }
    kw = {"time": "time", "event": "event", "n_boot": 6, "random_state": 3}
    local = optimism_bootstrap(noise, models, **kw)
    with distributed.Client(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    ) as client:
        remote = optimism_bootstrap(noise, models, client=client, n_jobs=-1, **kw)
    pd.testing.assert_frame_equal(local, remote)
    assert list(local["model"]) == ["pen", "pen2"]
    assert local["n_failed"].eq(0).all()


class _Broken(ClinicalCox):
    """A model family whose fit always fails with a numerical (non-data) error."""

    def fit(self, data, time, event):
        raise np.linalg.LinAlgError("singular matrix in the test family")


def test_models_failing_in_every_fold(cohort):
    data = cohort.set_index("patient_id")
    kw = {"time": "time", "event": "event", "n_splits": 3, "n_repeats": 1, "random_state": 0}
    with pytest.warns(RadsemWarning, match=r"model\(s\) 'broken' could not be scored") as rec:
        res = compare_models(data, {"clinical": ClinicalCox(), "broken": _Broken()}, **kw)
    assert len(rec) == 1
    assert "singular matrix in the test family" in str(rec[0].message)
    assert set(res.folds["model"]) == {"clinical"}
    assert len(res.failures) == 3
    assert set(res.failures["model"]) == {"broken"}
    assert set(res.summary()["model"]) == {"clinical"}
    with pytest.raises(
        EstimationError,
        match=r"no model could be scored: 'broken', 'b2' .*"
        r"LinAlgError: singular matrix",
    ):
        compare_models(data, {"broken": _Broken(), "b2": _Broken()}, **kw)
    with pytest.raises(DataError, match=r"no model could be scored: 'text' failed in every fold"):
        compare_models(data.assign(age="old"), {"text": ClinicalCox(covariates=["age"])}, **kw)


def test_bounded_metric_intervals_stay_in_the_unit_interval():
    """The corrected t interval is symmetric; near 1 it is clipped for C and AUC, not for
    unbounded metrics such as the calibration slope."""
    from radsem.compare import ComparisonResult

    values = [0.99, 0.70, 0.98, 0.75, 0.97, 0.72]
    folds = pd.DataFrame(
        [
            {
                "repeat": 0,
                "fold": k,
                "model": "m",
                "metric": metric,
                "value": v * scale,
                "n_train": 60,
                "n_test": 30,
            }
            for metric, scale in (("harrell_c", 1.0), ("auc", 1.0), ("calibration_slope", 1.0))
            for k, v in enumerate(values)
        ]
    )
    empty = pd.DataFrame()
    result = ComparisonResult(
        folds,
        empty,
        empty,
        empty,
        empty,
        horizons=(12.0,),
        ibs_times=(),
        test_fraction=0.5,
        alpha=0.05,
    )
    summary = result.summary().set_index("metric")
    for metric in ("harrell_c", "auc"):
        assert summary.loc[metric, "ci_upper"] == 1.0
        assert 0.0 <= summary.loc[metric, "ci_lower"] < summary.loc[metric, "mean"]
    assert summary.loc["calibration_slope", "ci_upper"] > 1.0
