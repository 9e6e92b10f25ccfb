"""Recurrence within a horizon: DeLong against pROC's published values (aSAH data) and a
bootstrap, IPCW identities, logistic fits against statsmodels / scikit-learn, and the harness
ranking a simulated truth and finding no difference on a null outcome."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from radsem.compare import (
    ClinicalCox,
    ClusterCox,
    Logistic,
    PenalisedCox,
    ScoreCox,
    binary_auc,
    binary_decision_curve,
    binary_metrics,
    compare_models,
    horizon_labels,
    paired_auc,
)
from radsem.compare.binary import censoring_survival
from radsem.compare.logistic import ridge_logistic
from radsem.errors import DataError, DataWarning, ModelSpecificationError
from radsem.survival import kaplan_meier

LATENT = ["E6", "E7", "immune", "hypoxia"]
# aSAH (pROC's data set: Turck et al. 2010, Intensive Care Med 36:107), outcome Poor = 1
ASAH = Path(__file__).parent / "data" / "asah.csv"


def test_delong_matches_proc_on_asah():
    """Reference values from pROC's own test suite (tests/testthat/test-roc.test.R and
    test-var.R of pROC 1.18): roc.test(r.wfns, r.s100b), roc.test(r.wfns, r.ndka), var(roc)."""
    d = pd.read_csv(ASAH)
    y = d["outcome"]
    for col, var in (
        ("wfns", 0.00146991470882363),
        ("ndka", 0.0031908105493913),
        ("s100b", 0.00266868245717244),
    ):
        assert binary_auc(y, d[col])["se"] ** 2 == pytest.approx(var, rel=1e-10)
    t1 = paired_auc(y, d["wfns"], d["s100b"])
    assert t1["z"] == pytest.approx(2.20898359144091, rel=1e-10)
    assert t1["pvalue"] == pytest.approx(0.0271757822291882, rel=1e-9)
    assert (t1["ci_lower"], t1["ci_upper"]) == pytest.approx(
        (0.0104061769564846, 0.174214419249478), rel=1e-9
    )
    t2 = paired_auc(y, d["wfns"], d["ndka"])
    assert t2["z"] == pytest.approx(2.79777591868904, rel=1e-10)
    assert t2["pvalue"] == pytest.approx(0.00514557970691098, rel=1e-9)
    assert binary_auc(y, d["wfns"])["auc"] == pytest.approx(0.8236789, abs=1e-7)
    same = paired_auc(y, d["wfns"], d["wfns"])
    assert same["z"] == 0
    assert same["pvalue"] == 1


def _binary_sample(n=300, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = rng.binomial(1, expit(-0.5 + 1.2 * x))
    a = x + rng.normal(scale=0.8, size=n)
    b = x + rng.normal(scale=1.5, size=n)
    w = rng.uniform(0.5, 3.0, n)
    return y, a, b, w


@pytest.mark.parametrize("weighted", [False, True])
def test_delong_se_agrees_with_bootstrap(weighted):
    y, a, b, w = _binary_sample()
    w = w if weighted else None
    d = paired_auc(y, a, b, w)
    rng = np.random.default_rng(1)
    boot = []
    for _ in range(400):
        i = rng.integers(0, len(y), len(y))
        boot.append(paired_auc(y[i], a[i], b[i], None if w is None else w[i])["diff"])
    assert d["se"] == pytest.approx(np.std(boot, ddof=1), rel=0.12)
    assert binary_auc(y, a, w)["se"] > 0


def test_weighted_auc_equals_replicated_rows():
    y, a, _, w = _binary_sample(n=80, seed=3)
    k = np.random.default_rng(4).integers(1, 4, len(y))
    rep = np.repeat(np.arange(len(y)), k)
    assert binary_auc(y, a, k)["auc"] == pytest.approx(binary_auc(y[rep], a[rep])["auc"], rel=1e-12)
    p = expit(a)
    np.testing.assert_allclose(
        binary_decision_curve(y, p, k)["net_benefit"],
        binary_decision_curve(y[rep], p[rep])["net_benefit"],
    )


@pytest.fixture
def surv():
    rng = np.random.default_rng(7)
    n = 250
    t = np.round(rng.exponential(30, n))  # ties between events and censorings
    c = np.round(rng.exponential(45, n))
    return pd.DataFrame({"time": np.minimum(t, c) + 1, "event": (t <= c).astype(int)})


def test_ipcw_labels_reproduce_kaplan_meier(surv):
    h = 25.0
    lab = horizon_labels((surv.time, surv.event), h)
    km = float(kaplan_meier(surv, "time", "event").survival_at([h]).iloc[0, 0])
    n = len(surv)
    # weighted case share = 1 - KM(H), weighted control share = KM(H), weights sum to n
    assert lab.loc[lab.label == 1, "weight"].sum() / n == pytest.approx(1 - km, abs=1e-12)
    assert lab.loc[lab.label == 0, "weight"].sum() / n == pytest.approx(km, abs=1e-12)
    assert lab["label"].isna().sum() == ((surv.event == 0) & (surv.time < h)).sum()
    assert (lab.loc[lab.label.isna(), "weight"] == 0).all()
    ex = horizon_labels((surv.time, surv.event), h, censoring="exclude")
    assert set(ex.loc[ex.determined, "weight"]) == {1.0}
    # the censoring survival equals a Kaplan-Meier of the reversed indicator (untied times)
    untied = surv.assign(time=surv.time + np.arange(len(surv)) * 1e-6)
    times, g = censoring_survival((untied.time, untied.event))
    rev = kaplan_meier(untied.assign(cens=1 - untied.event), "time", "cens")
    np.testing.assert_allclose(g, rev.survival_at(times).iloc[0].to_numpy(), rtol=1e-12)
    with pytest.raises(DataError, match="positive number"):
        horizon_labels((surv.time, surv.event), -1)
    with pytest.raises(DataError, match="'ipcw' or 'exclude'"):
        horizon_labels((surv.time, surv.event), 10, censoring="drop")
    late = surv.assign(event=0).iloc[:5]
    with pytest.raises(DataError, match="no follow-up beyond"):
        horizon_labels((late.time, late.event), late.time.max() + 1)


def test_ridge_logistic_matches_statsmodels_and_sklearn():
    import statsmodels.api as sm
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(2)
    n = 200
    X = np.column_stack([rng.normal(50, 10, n), rng.binomial(1, 0.4, n), rng.normal(size=n)])
    y = rng.binomial(1, expit(-4 + 0.07 * X[:, 0] + 0.8 * X[:, 1] - 0.5 * X[:, 2])).astype(float)
    w = rng.uniform(0.5, 2, n)
    glm = sm.GLM(y, sm.add_constant(X), family=sm.families.Binomial(), var_weights=w).fit()
    np.testing.assert_allclose(ridge_logistic(X, y, w), glm.params, rtol=1e-8)
    Z = (X - X.mean(0)) / X.std(0)
    sk = LogisticRegression(C=1 / 3.0, tol=1e-12, max_iter=10000).fit(Z, y, sample_weight=w)
    np.testing.assert_allclose(
        ridge_logistic(Z, y, w, theta=3.0), np.r_[sk.intercept_, sk.coef_.ravel()], atol=1e-6
    )


def test_ridge_logistic_separation_and_singular_design():
    from radsem.errors import ConvergenceWarning

    x = np.arange(20.0)[:, None]
    y = (x[:, 0] > 9.5).astype(float)
    with pytest.warns(ConvergenceWarning, match="separated"):
        ridge_logistic(x, y, np.ones(20))
    penalised = ridge_logistic(x, y, np.ones(20), theta=1.0)  # finite with a penalty
    assert np.all(np.isfinite(penalised))
    assert penalised[1] > 0
    with pytest.raises(DataError, match="singular"):
        ridge_logistic(np.column_stack([x, 2 * x]), 1 - y, np.ones(20))


def test_binary_metrics_properties():
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    n = 4000
    lp = rng.normal(-0.5, 1.2, n)
    y = rng.binomial(1, expit(lp))
    w = rng.uniform(0.5, 2, n)
    m = binary_metrics(y, expit(lp), w)
    assert m["calibration_slope"] == pytest.approx(1, abs=0.1)
    assert m["calibration_intercept"] == pytest.approx(0, abs=0.1)
    assert m["oe"] == pytest.approx(1, abs=0.05)
    over = binary_metrics(y, expit(2 * lp), w)  # too extreme: slope 1/2 of the original
    assert over["calibration_slope"] == pytest.approx(m["calibration_slope"] / 2, rel=1e-6)
    assert over["auc"] == pytest.approx(m["auc"], rel=1e-12)
    glm = sm.GLM(
        y, sm.add_constant(logit(expit(lp))), family=sm.families.Binomial(), var_weights=w
    ).fit()
    assert m["calibration_slope"] == pytest.approx(glm.params[1], rel=1e-7)
    glm0 = sm.GLM(y, np.ones(n), family=sm.families.Binomial(), offset=lp, var_weights=w).fit()
    assert m["calibration_intercept"] == pytest.approx(glm0.params[0], abs=1e-8)
    assert binary_metrics(y, np.full(n, 0.5))["brier"] == pytest.approx(0.25)
    dc = binary_decision_curve(y, np.ones(n) * 0.99, w)
    np.testing.assert_allclose(dc["net_benefit"], dc["treat_all"])
    assert (binary_decision_curve(y, np.zeros(n), w)["net_benefit"] == 0).all()
    with pytest.raises(DataError, match=r"in \[0, 1\]"):
        binary_metrics(y, lp)
    with pytest.raises(DataError, match="one case and one control"):
        binary_auc(np.zeros(5), np.arange(5.0))


@pytest.fixture
def frame(cox_data):
    rng = np.random.default_rng(2)
    extra = pd.DataFrame(rng.normal(size=(len(cox_data), 6)), columns=[f"n{j}" for j in range(6)])
    stage = rng.choice(["I", "IIB", "IIIC1", "IVA"], len(cox_data))
    return pd.concat([cox_data, extra], axis=1).assign(
        figo_stage=stage, age=rng.normal(50, 10, len(cox_data))
    )


class _RiskOnly:
    """A user family with only fit/predict_risk (recalibrated by Logistic)."""

    def fit(self, train, time, event):
        self.w_ = 1.0
        return self

    def predict_risk(self, test):
        return test["lp"].rename("risk")


def test_logistic_counterparts(frame):
    train, test = frame.iloc[:200], frame.iloc[200:]
    lab = horizon_labels((train.time, train.event), 1.0)
    y, w = lab["label"].to_numpy(), lab["weight"].to_numpy()
    feats = ["x1", "x2"] + [f"n{j}" for j in range(6)]
    pen = Logistic(PenalisedCox(feats, penalizer=2.0, select=4)).fit(train, y, w, "time", "event")
    assert len(pen.params_) == 5  # intercept + 4 selected, scaled in the fold
    keep = w > 0
    Z = pen.family_._design(train).to_numpy()[keep]
    np.testing.assert_allclose(
        pen.params_, ridge_logistic(Z, y[keep], w[keep] / w[keep].mean(), 2.0)
    )
    clin = Logistic(ClinicalCox()).fit(train, y, w, "time", "event")
    assert list(clin.params_.index) == ["Intercept", "advanced", "age"]
    p = clin.predict_probability(test)
    assert p.index.equals(test.index)
    assert ((p > 0) & (p < 1)).all()
    cl = Logistic(ClusterCox(feats, n_clusters=2)).fit(train, y, w, "time", "event")
    assert list(cl.params_.index) == ["Intercept", "cluster2"]
    enet = Logistic(PenalisedCox(feats, penalizer=0.05, l1_ratio=0.5)).fit(
        train, y, w, "time", "event"
    )
    assert (enet.params_.drop("Intercept") == 0).sum() >= 2  # the lasso part zeroes columns
    assert (pen.params_ != 0).all()
    assert enet.params_["x1"] > 0
    own = Logistic(_RiskOnly()).fit(train, y, w, "time", "event")
    assert own.params_["risk"] > 0  # the true lp predicts early events
    with pytest.raises(ModelSpecificationError, match="penalizer"):
        Logistic(ClinicalCox(), penalizer=-1).fit(train, y, w, "time", "event")
    with pytest.raises(DataError, match="both cases and controls"):
        Logistic(ClinicalCox()).fit(train, np.zeros(200), np.ones(200), "time", "event")


def _models():
    return {
        "clinical": ClinicalCox(),
        "latent": ScoreCox(columns=LATENT, clinical=["advanced", "age"]),
    }


def test_binary_truth_ranks_latent_first(cohort):
    data = cohort.set_index("patient_id")
    res = compare_models(
        data,
        _models(),
        time="time",
        event="event",
        n_splits=5,
        n_repeats=2,
        outcome="binary",
        horizon=24,
        random_state=0,
    )
    assert res.failures.empty
    assert repr(res).startswith("ComparisonResult(10 folds, 0 fit problems)\nAUC:")
    s = res.summary().set_index(["model", "metric"])["mean"]
    assert s["latent", "auc"] > s["clinical", "auc"] + 0.04
    assert s["latent", "brier"] < s["clinical", "brier"]
    assert abs(s["latent", "calibration_intercept"]) < 0.2
    assert s["latent", "calibration_slope"] == pytest.approx(1, abs=0.25)
    d = res.paired_auc("clinical").iloc[0]
    assert d["model"] == "latent"
    assert d["ci_lower"] > 0
    assert d["pvalue"] < 0.01
    assert res.paired("auc", reference="clinical").iloc[0]["mean"] > 0
    pred = res.predictions
    assert set(pred.columns) >= {"risk", "label", "weight"}
    assert pred.groupby(["repeat", "model"])["row"].nunique().eq(len(data)).all()
    assert set(res.decision.columns) >= {"threshold", "net_benefit", "treat_all"}
    assert set(res.calibration.columns) >= {"group", "predicted", "observed"}


def test_binary_null_outcome_and_exclusion(cohort):
    rng = np.random.default_rng(8)
    perm = rng.permutation(len(cohort))
    null = cohort.assign(
        time=cohort["time"].to_numpy()[perm], event=cohort["event"].to_numpy()[perm]
    )
    res = compare_models(
        null,
        _models(),
        time="time",
        event="event",
        n_splits=5,
        n_repeats=2,
        outcome="binary",
        horizon=24,
        random_state=0,
    )
    d = res.paired_auc("clinical").iloc[0]
    assert d["ci_lower"] < 0 < d["ci_upper"]
    p = res.paired("auc", reference="clinical").iloc[0]
    assert p["ci_lower"] < 0 < p["ci_upper"]
    s = res.summary().query("metric == 'auc'")
    assert ((s["ci_lower"] < 0.5) & (0.5 < s["ci_upper"])).all()
    n_out = int(((cohort.event == 0) & (cohort.time < 24)).sum())
    assert n_out > 0
    with pytest.warns(DataWarning, match=f"{n_out} of {len(cohort)} patients were censored"):
        ex = compare_models(
            cohort,
            _models(),
            time="time",
            event="event",
            n_splits=3,
            n_repeats=1,
            outcome="binary",
            horizon=24,
            censoring="exclude",
        )
    assert ex.predictions.groupby("model")["row"].nunique().eq(len(cohort) - n_out).all()
    assert (ex.predictions["weight"] == 1).all()


def test_binary_bad_inputs(cohort):
    kw = {"time": "time", "event": "event", "n_splits": 3, "n_repeats": 1}
    with pytest.raises(DataError, match="needs a horizon"):
        compare_models(cohort, _models(), outcome="binary", **kw)
    with pytest.raises(DataError, match="'survival' or 'binary'"):
        compare_models(cohort, _models(), outcome="logistic", **kw)
    with pytest.raises(DataError, match="fewer than n_splits"):
        compare_models(cohort, _models(), outcome="binary", horizon=0.01, **kw)
    surv = compare_models(cohort.iloc[:150], _models(), horizons=[20.0], **kw)
    with pytest.raises(DataError, match="outcome='binary'"):
        surv.paired_auc("clinical")


def test_binary_same_seed_same_numbers_in_parallel(cohort):
    from joblib import parallel_config

    sub = cohort.iloc[:200]
    kw = {
        "time": "time",
        "event": "event",
        "n_splits": 3,
        "n_repeats": 1,
        "outcome": "binary",
        "horizon": 24.0,
        "random_state": 4,
    }
    a = compare_models(sub, _models(), **kw)
    with parallel_config(backend="threading"):  # the parallel path, without process start-up
        b = compare_models(sub, _models(), n_jobs=2, **kw)
    pd.testing.assert_frame_equal(a.folds, b.folds)
    pd.testing.assert_frame_equal(a.predictions, b.predictions)
    c = compare_models(sub, _models(), **{**kw, "random_state": 5})
    assert not np.allclose(a.folds["value"], c.folds["value"], equal_nan=True)
