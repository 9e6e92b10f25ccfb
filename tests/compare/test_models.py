"""Model families: every learned step sees the training fold only, test patients are assigned to
the nearest training medoid, custom scorers are fitted on the training rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import StandardScaler

from radsem.compare import ClinicalCox, ClusterCox, PenalisedCox, ScoreCox, advanced_stage
from radsem.errors import DataError, ModelSpecificationError
from radsem.survival import cox


@pytest.fixture
def frame(cox_data):
    rng = np.random.default_rng(2)
    extra = pd.DataFrame(rng.normal(size=(len(cox_data), 6)), columns=[f"n{j}" for j in range(6)])
    stage = rng.choice(["I", "IIB", "IIIC1", "IVA"], len(cox_data))
    return pd.concat([cox_data, extra], axis=1).assign(
        figo_stage=stage, age=rng.normal(50, 10, len(cox_data))
    )


def test_clinical_cox_equals_direct_fit(frame):
    train, test = frame.iloc[:200], frame.iloc[200:]
    m = ClinicalCox().fit(train, "time", "event")
    ref = cox(train.assign(advanced=advanced_stage(train)), "time", "event", ["advanced", "age"])
    pd.testing.assert_series_equal(m.cox_.params, ref.params)
    lp = ref.predict_lp(test.assign(advanced=advanced_stage(test)))
    np.testing.assert_allclose(m.predict_risk(test), lp)
    assert list(advanced_stage(frame.iloc[:4])) == [
        int(s[:3] in ("III", "IVA")) for s in frame["figo_stage"].iloc[:4]
    ]


def test_score_cox_scorer_sees_training_rows_only(frame):
    seen = []

    def scorer(train):
        seen.append(train.index.copy())
        w = np.linalg.lstsq(train[["x1", "x2"]].to_numpy(), train["lp"].to_numpy(), rcond=None)[0]
        return lambda f: pd.DataFrame({"score": f[["x1", "x2"]].to_numpy() @ w})

    train, test = frame.iloc[:200], frame.iloc[200:]
    m = ScoreCox(scorer=scorer, clinical=["age"]).fit(train, "time", "event")
    r = m.predict_risk(test)
    assert len(seen) == 1
    assert seen[0].equals(train.index)
    assert r.index.equals(test.index)
    assert list(m.cox_.params.index) == ["score", "age"]
    with pytest.raises(ModelSpecificationError, match="needs columns or a scorer"):
        ScoreCox().fit(train, "time", "event")


def test_penalised_cox_preprocessing_is_fold_local(frame):
    feats = ["x1", "x2"] + [f"n{j}" for j in range(6)]
    train, test = frame.iloc[:200], frame.iloc[200:]
    m = PenalisedCox(feats, penalizer=0.5, select=3, harmonizer=StandardScaler()).fit(
        train, "time", "event"
    )
    assert {"0", "1"} <= set(m.selected_)  # x1, x2 (columns 0, 1 after the transformer)
    np.testing.assert_allclose(m.scaler_.mean_, 0.0, atol=1e-12)  # scaled train has mean 0
    np.testing.assert_allclose(m.harmonizer_.mean_, train[feats].mean(), rtol=1e-12)
    assert m.predict_risk(test).shape == (len(test),)
    S = m.predict_survival(test, [0.5, 1.0])
    assert (S[0.5] >= S[1.0]).all()
    enet = PenalisedCox(feats, penalizer=0.15, l1_ratio=0.9).fit(train, "time", "event")
    coef = enet.coxnet_.coef_.ravel()
    assert abs(coef[0]) > 0.3
    assert np.sum(coef == 0) >= 3  # the lasso part zeroes noise features
    S = enet.predict_survival(test, [0.5, 1.0])
    assert ((S.to_numpy() > 0) & (S.to_numpy() <= 1)).all()
    with pytest.raises(ModelSpecificationError, match="l1_ratio"):
        PenalisedCox(feats, l1_ratio=2).fit(train, "time", "event")
    with pytest.raises(DataError, match="'nope'"):
        PenalisedCox(["nope"]).fit(train, "time", "event")


def test_cluster_cox_nearest_training_medoid(frame):
    feats = ["x1", "x2", "n0"]
    train, test = frame.iloc[:200], frame.iloc[200:]
    m = ClusterCox(feats, n_clusters=3).fit(train, "time", "event")
    Zte = (test[feats] - train[feats].mean()) / train[feats].std()
    med = m.clusterer_.cluster_centers_
    nearest = np.argmin(((Zte.to_numpy()[:, None, :] - med[None]) ** 2).sum(axis=2), axis=1)
    expected = [m.relabel_[k] for k in nearest]
    assert list(m.clusters(test)) == expected
    # renumbered by training event rate: cluster 1 has the lowest rate
    cl = m.clusters(train)
    rate = train.groupby(cl.to_numpy())["event"].sum() / train.groupby(cl.to_numpy())["time"].sum()
    assert rate.is_monotonic_increasing
    assert list(m.cox_.params.index) == ["cluster2", "cluster3"]
    assert m.predict_risk(test).notna().all()


def test_nested_lr_test_matches_r_anova(r_survival, frame):
    """R: anova(coxph(Surv ~ age), coxph(Surv ~ age + x1 + x2))."""
    import rpy2.robjects as ro

    from radsem._r import to_r_dataframe
    from radsem.compare import nested_lr_test

    d = frame[["time", "event", "age", "x1", "x2"]].astype(float)
    ro.globalenv["d"] = to_r_dataframe(d)
    r = np.asarray(
        ro.r("""local({f0 <- survival::coxph(survival::Surv(time, event) ~ age, d)
        f1 <- survival::coxph(survival::Surv(time, event) ~ age + x1 + x2, d)
        a <- anova(f0, f1); c(a$Chisq[2], a$Df[2], a[["Pr(>|Chi|)"]][2])})""")
    )
    res = nested_lr_test(d, time="time", event="event", base=["age"], added=["x1", "x2"])
    np.testing.assert_allclose([res["statistic"], res["df"], res["pvalue"]], r, rtol=1e-6)


def test_nested_lr_test_bad_inputs(frame):
    from radsem.compare import nested_lr_test

    with pytest.raises(ModelSpecificationError, match="nothing to test"):
        nested_lr_test(frame, time="time", event="event", base=["age"], added=[])
    with pytest.raises(ModelSpecificationError, match="in both base and added: age"):
        nested_lr_test(frame, time="time", event="event", base=["age"], added=["age"])
    with pytest.raises(DataError, match="'zz'"):
        nested_lr_test(frame, time="time", event="event", base=["age"], added=["zz"])
    # noise added: a large p-value; the empty base equals the full model's own LR test
    res = nested_lr_test(frame, time="time", event="event", base=[], added=["n0", "n1"])
    full = cox(frame, "time", "event", ["n0", "n1"])
    assert res["statistic"] == pytest.approx(full.tests.loc["likelihood_ratio", "statistic"])


def test_protocol_harmoniser_inside_the_fold():
    """ProtocolHarmonizer keyed by patient id: fitted on the training fold, applied to the test."""
    from radsem.compare import compare_models
    from radsem.radiomics import ProtocolHarmonizer
    from radsem.simulate import simulate_cohort

    c = simulate_cohort(n=200, seed=3, images=False)
    d = c.clinical.merge(c.latent, on="patient_id").set_index("patient_id")
    t2 = c.protocol[c.protocol["series"] == "T2"].set_index("patient_id").loc[d.index]
    rng = np.random.default_rng(0)
    feats = [f"t2_f{j}" for j in range(6)]
    signal = d[["E6", "E7", "immune", "hypoxia"]].to_numpy() @ rng.normal(0, 0.7, (4, 6))
    shift = (t2["field_strength"].to_numpy()[:, None] - 2.2) * rng.normal(0, 3, 6)
    d[feats] = signal + shift + rng.normal(size=(len(d), 6))
    harm = ProtocolHarmonizer(protocol=c.protocol, parameters=("field_strength", "TR", "TE"))
    model = PenalisedCox(feats, penalizer=1.0, harmonizer=harm)
    train, test = d.iloc[:150], d.iloc[150:]
    model.fit(train, "time", "event")
    assert model.harmonizer_.n_associated_before_ >= 4
    assert model.harmonizer_.n_associated_after_ == 0
    assert model.harmonizer is harm  # the user's transformer is cloned, never fitted
    assert model.predict_risk(test).notna().all()
    res = compare_models(
        d, {"harm": model}, time="time", event="event", n_splits=3, n_repeats=1, random_state=0
    )
    assert res.failures.empty


FAMILIES = {
    "clinical": lambda: ClinicalCox(),
    "score": lambda: ScoreCox(columns=["x1"], clinical=["advanced"]),
    "ridge": lambda: PenalisedCox(["x1", "x2", "n0", "n1"], penalizer=1.0, select=3),
    "enet": lambda: PenalisedCox(["x1", "x2", "n0", "n1"], penalizer=0.05, l1_ratio=0.5),
    "cluster": lambda: ClusterCox(["x1", "x2", "n0"], n_clusters=2, clinical=["age"]),
}


@pytest.mark.parametrize("name", FAMILIES)
def test_common_family_contract(name, frame):
    """fit returns self, data are not modified, predictions are indexed like the test rows,
    survival curves are in [0, 1] and non-increasing, refitting gives the same numbers."""
    from radsem.compare import compare_models

    train, test = frame.iloc[:200], frame.iloc[200:]
    before = frame.copy()
    model = FAMILIES[name]()
    assert model.fit(train, "time", "event") is model
    risk = model.predict_risk(test)
    assert risk.index.equals(test.index)
    assert np.isfinite(risk).all()
    S = model.predict_survival(test, [0.2, 0.5, 1.0]).to_numpy()
    assert ((S >= 0) & (S <= 1)).all()
    assert (np.diff(S, axis=1) <= 1e-12).all()
    again = FAMILIES[name]().fit(train, "time", "event").predict_risk(test)
    pd.testing.assert_series_equal(risk, again)
    proto = FAMILIES[name]()
    compare_models(frame, {name: proto}, time="time", event="event", n_splits=3, n_repeats=1)
    assert not hasattr(proto, "cox_")  # the harness fits copies, never the user's object
    assert not hasattr(proto, "coxnet_")
    pd.testing.assert_frame_equal(frame, before)
