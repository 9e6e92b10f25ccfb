"""Metrics against independent references: R survival::concordance (Harrell's C and its SE),
brute-force Uno's C and cumulative/dynamic AUC written from their definitions, properties of the
calibration slope and of the Brier score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radsem.compare.metrics import (
    Outcome,
    calibration,
    calibration_table,
    evaluate,
    harrell_c,
    integrated_brier,
    time_dependent_auc,
    uno_c,
)
from radsem.errors import DataError
from radsem.survival import kaplan_meier


def _censoring_km(train: Outcome):
    """Kaplan-Meier of the censoring distribution G(t) (censoring = 'event')."""
    frame = pd.DataFrame({"time": train.time, "event": (~train.event).astype(int)})
    km = kaplan_meier(frame, "time", "event")
    return lambda t: float(km.survival_at([t]).iloc[0, 0])


def _brute_uno(train, test, risk, tau):
    G = _censoring_km(train)
    num = den = 0.0
    for i in range(len(test)):
        if not test.event[i] or test.time[i] >= tau:
            continue
        w = G(test.time[i]) ** -2
        for j in range(len(test)):
            # a censored time tied with an event time counts as longer (scikit-survival, R)
            if test.time[i] < test.time[j] or (test.time[i] == test.time[j] and not test.event[j]):
                den += w
                num += w * (1.0 if risk[i] > risk[j] else 0.5 if risk[i] == risk[j] else 0.0)
    return num / den


def _brute_auc(train, test, risk, t):
    G = _censoring_km(train)
    num = den = 0.0
    for i in range(len(test)):
        if not (test.event[i] and test.time[i] <= t):
            continue
        w = 1.0 / G(test.time[i])
        for j in range(len(test)):
            if test.time[j] > t:
                den += w
                num += w * (1.0 if risk[i] > risk[j] else 0.5 if risk[i] == risk[j] else 0.0)
    return num / den


@pytest.fixture
def split(cox_data):
    train, test = cox_data.iloc[:200], cox_data.iloc[200:].reset_index(drop=True)
    risk = test["x1"].to_numpy() - 0.3 * test["x2"].to_numpy()
    return (
        Outcome.from_frame(train, "time", "event"),
        Outcome.from_frame(test, "time", "event"),
        np.round(risk, 1),
    )  # rounding makes ties in the predictions


def test_harrell_c_matches_r_concordance(r_survival, split):
    """R: concordance(Surv(time, event) ~ risk, reverse = TRUE)."""
    import rpy2.robjects as ro

    from radsem._r import to_r_dataframe

    _, test, risk = split
    ro.globalenv["d"] = to_r_dataframe(
        pd.DataFrame({"time": test.time, "event": test.event.astype(float), "risk": risk})
    )
    res = ro.r(
        "local({f <- survival::concordance(survival::Surv(time, event) ~ risk, d, "
        "reverse = TRUE); c(f$concordance, sqrt(f$var))})"
    )
    c, se = harrell_c(test, risk)
    np.testing.assert_allclose([c, se], np.asarray(res), rtol=1e-8)


def _untie(y: Outcome) -> Outcome:
    # tied event/censoring times are ordered differently by the censoring Kaplan-Meier
    # conventions; the definition is unambiguous without them
    return Outcome(y.time + np.arange(len(y)) * 1e-6, y.event)


def test_uno_c_matches_definition(split):
    train, test, risk = split
    train, test = _untie(train), _untie(test)
    tau = float(np.quantile(test.time, 0.8))
    np.testing.assert_allclose(
        uno_c(train, test, risk, tau=tau), _brute_uno(train, test, risk, tau), rtol=1e-10
    )


def test_auc_matches_definition(split):
    train, test, risk = split
    train, test = _untie(train), _untie(test)
    hs = np.quantile(test.time[test.event], [0.3, 0.6])
    auc = time_dependent_auc(train, test, risk, hs)
    np.testing.assert_allclose(
        auc.to_numpy(), [_brute_auc(train, test, risk, h) for h in hs], rtol=1e-10
    )
    # beyond the follow-up there are no controls: NaN, not an error
    assert np.isnan(time_dependent_auc(train, test, risk, [1e6]).iloc[0])


def test_brier_properties(split):
    train, test, _ = split
    times = np.linspace(0.2, 1.0, 9)
    half = np.full((len(test), times.size), 0.5)
    # constant 0.5 predictions: each IPCW Brier term is 0.25 x weights that average ~1
    assert integrated_brier(train, test, half, times) == pytest.approx(0.25, abs=0.03)
    perfect_when_right = np.where(test.time[:, None] > times[None, :], 1.0, 0.0)
    assert integrated_brier(train, test, perfect_when_right, times) < 0.01
    with pytest.raises(DataError, match="survival must be"):
        integrated_brier(train, test, half[:, :3], times)


def test_calibration_slope_scales_inversely(cox_data):
    test = Outcome.from_frame(cox_data, "time", "event")
    b1 = calibration(test, cox_data["lp"])
    assert b1 == pytest.approx(1.0, abs=0.25)  # the true linear predictor is calibrated
    np.testing.assert_allclose(calibration(test, 2 * cox_data["lp"]), b1 / 2, rtol=1e-6)


def test_calibration_table_and_evaluate(cox_data):
    from radsem.survival import cox

    train, test = cox_data.iloc[:200], cox_data.iloc[200:]
    fit = cox(train, "time", "event", ["x1", "x2"])
    lp = fit.predict_lp(test).to_numpy()
    surv = fit.predict_survival(test, [0.5, 1.0])
    tab = calibration_table(
        Outcome.from_frame(test, "time", "event"), lp, surv[0.5], 0.5, n_groups=4
    )
    assert tab["n"].sum() == len(test)
    assert tab["predicted"].is_monotonic_decreasing  # higher risk group, lower survival
    res = evaluate(
        Outcome.from_frame(train, "time", "event"),
        Outcome.from_frame(test, "time", "event"),
        lp,
        surv,
        horizons=[0.5, 1.0],
        ibs_times=[0.5, 1.0],
    )
    assert set(res) >= {
        "harrell_c",
        "uno_c",
        "calibration_slope",
        "auc@0.5",
        "auc@1",
        "ibs",
        "oe@0.5",
        "oe@1",
    }
    assert 0.6 < res["harrell_c"] < 0.9


def test_bad_outcomes_and_predictions():
    with pytest.raises(DataError, match="0/1"):
        Outcome([1.0, 2.0], [0, 2])
    with pytest.raises(DataError, match=">= 0"):
        Outcome([-1.0, 2.0], [0, 1])
    with pytest.raises(DataError, match="time has 2 values but event has 3"):
        Outcome([1.0, 2.0], [0, 1, 1])
    with pytest.raises(DataError, match="3 predictions for 2 test patients"):
        harrell_c(([1.0, 2.0], [1, 0]), [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="missing or infinite"):
        harrell_c(([1.0, 2.0], [1, 0]), [0.1, np.nan])


def test_paired_concordance_matches_r(r_survival, cox_data):
    """R: concordance(coxph(Surv ~ ra), coxph(Surv ~ rb)): C's and their 2x2 IJ covariance."""
    import rpy2.robjects as ro

    from radsem._r import to_r_dataframe
    from radsem.compare.paired import paired_concordance

    d = pd.DataFrame(
        {
            "time": cox_data["time"],
            "event": cox_data["event"].astype(float),
            "ra": np.round(cox_data["x1"], 1),
            "rb": -cox_data["x2"],
        }
    )
    ro.globalenv["d"] = to_r_dataframe(d)
    res = ro.r("""local({f1 <- survival::coxph(survival::Surv(time, event) ~ ra, d)
                 f2 <- survival::coxph(survival::Surv(time, event) ~ rb, d)
                 cc <- survival::concordance(f1, f2)
                 c(cc$concordance, cc$var[1, 1], cc$var[2, 2], cc$var[1, 2])})""")
    r = np.asarray(res)
    p = paired_concordance((d["time"], d["event"]), d["ra"], d["rb"])
    np.testing.assert_allclose(
        [p["c_a"], p["c_b"], p["se_a"] ** 2, p["se_b"] ** 2, p["cov"]], r, rtol=1e-7
    )


def test_paired_concordance_properties(cox_data):
    from radsem.compare.paired import paired_concordance

    y = (cox_data["time"], cox_data["event"])
    same = paired_concordance(y, cox_data["lp"], cox_data["lp"])
    assert same["diff"] == 0
    assert same["se"] == 0
    p = paired_concordance(y, cox_data["lp"], cox_data["x2"] * 0 + np.arange(len(cox_data)) % 7)
    assert p["diff"] > 0.15
    assert p["pvalue"] < 1e-4
    assert p["c_a"] == pytest.approx(harrell_c(y, cox_data["lp"])[0])
    assert p["se_a"] == pytest.approx(harrell_c(y, cox_data["lp"])[1])


def test_decision_curve_limits_and_uncensored_formula():
    from radsem.compare.metrics import decision_curve

    rng = np.random.default_rng(1)
    t = rng.exponential(1.0, 200)
    y = (t, np.ones(200, int))  # no censoring: KM = empirical proportion
    h = 0.7
    everyone = decision_curve(y, np.ones(200), h)
    np.testing.assert_allclose(everyone["net_benefit"], everyone["treat_all"], rtol=1e-12)
    assert (decision_curve(y, np.zeros(200), h)["net_benefit"] == 0).all()
    p = rng.uniform(size=200)
    dc = decision_curve(y, p, h, thresholds=[0.3])
    pos = p >= 0.3
    tp, fp = np.mean(pos & (t <= h)), np.mean(pos & (t > h))
    assert dc["net_benefit"].iloc[0] == pytest.approx(tp - fp * 0.3 / 0.7)
    with pytest.raises(DataError, match=r"thresholds must be in \(0, 1\)"):
        decision_curve(y, p, h, thresholds=[1.0])


def test_calibration_slope_nan_under_perfect_separation():
    t = np.arange(1.0, 31.0)
    assert np.isnan(calibration((t, np.ones(30, int)), -t))  # risk orders every time exactly
    assert np.isnan(calibration((t, np.zeros(30, int)), -t))  # no events


def test_uno_c_with_a_test_event_at_the_truncation_time():
    # a test event exactly at tau: the training censoring distribution must not be truncated
    train = Outcome([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1, 0, 1, 0, 1, 1])
    test = Outcome([1.5, 4.0, 3.5, 2.5], [1, 1, 0, 1])
    c = uno_c(train, test, [3.0, 2.0, 0.0, 1.0], tau=4.0)
    assert 0 <= c <= 1
