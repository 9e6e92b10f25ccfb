"""``radsem.sem(..., survival_method=...)``, the result object, bad inputs, the compare
family."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from _ls_data import ONE_FACTOR, one_factor_data

import radsem
from radsem.errors import DataError, DataWarning, EstimationError, ModelSpecificationError
from radsem.estimation.families.survival_outcome import (
    LatentSurvivalFit,
    LatentSurvivalModel,
    latent_survival,
)


@pytest.fixture(scope="module")
def data():
    return one_factor_data()


@pytest.fixture(scope="module")
def joint(data):
    return radsem.sem(ONE_FACTOR, data, seed=1)


def test_sem_dispatches_and_tables_have_lavaan_columns(joint):
    assert isinstance(joint, LatentSurvivalFit)
    assert joint.method == "joint"
    pe = joint.parameter_estimates()
    assert list(pe.columns) == [
        "lhs",
        "op",
        "rhs",
        "group",
        "label",
        "est",
        "se",
        "z",
        "pvalue",
        "ci_lower",
        "ci_upper",
    ]
    rows = pe[pe["lhs"] == "rec"]
    assert rows["rhs"].tolist() == ["f", "age"]
    assert set(pe["op"]) == {"=~", "~~", "~1", "~"}
    fm = joint.fit_measures()
    assert list(fm.index) == ["npar", "logl", "aic", "bic", "ntotal", "nevents"]
    assert fm["aic"] == pytest.approx(-2 * fm["logl"] + 2 * fm["npar"])
    assert "Hazard ratios" in joint.summary()


def test_keyword_equals_declaration(data):
    a = latent_survival(ONE_FACTOR, data, method="naive")
    b = radsem.sem(
        "f =~ y1 + y2 + y3\nrec ~ f + age",
        data,
        survival={"rec": ("time", "event")},
        survival_method="naive",
    )
    np.testing.assert_array_equal(a.coef.to_numpy(), b.coef.to_numpy())


def test_predict_risk_is_posterior_mean(joint, data):
    new = data.iloc[[0, 100, 101]].copy()
    new.index = ["a", "b", "c"]
    risk = joint.predict_risk(new)
    assert list(risk.index) == ["a", "b", "c"]
    lp = joint.linear_predictor(new)
    # patient 'a' has no indicators: prior mean of f (0) plus the age effect; full variance
    f_var = joint.hazard_ratios().loc["f", "sd"] ** 2
    assert risk["a"] == pytest.approx(joint.coef["age"] * new.loc["a", "age"], abs=1e-10)
    assert lp.loc["a", "var"] == pytest.approx(joint.coef["f"] ** 2 * f_var)
    assert lp.loc["b", "var"] < lp.loc["a", "var"]


def test_inputs_not_modified(data):
    before = data.copy()
    latent_survival(ONE_FACTOR, data, method="naive")
    pd.testing.assert_frame_equal(data, before)


def test_missing_covariate_rows_are_removed_with_warning(data):
    df = data.copy()
    df.loc[[5, 200], "age"] = np.nan
    with pytest.warns(DataWarning, match="2 of 250 patients"):
        fit = latent_survival(ONE_FACTOR, df, method="naive")
    assert fit.fit_measures()["ntotal"] == 248


def _bad(data, **change):
    df = data.copy()
    for col, (rows, value) in change.items():
        df.loc[rows, col] = value
    return df


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d.drop(columns="time"), "time column 'time' is not in the data"),
        (lambda d: d.assign(time=d["time"].where(d.index != 3, -1.0)), "negative times"),
        (lambda d: d.assign(time=d["time"].where(d.index != 3)), "missing value"),
        (lambda d: d.assign(event=d["event"].where(d.index != 3, 2)), "must be 0 .censored."),
        (lambda d: d.assign(event=0), "no events"),
        (lambda d: d.assign(age=d["age"].astype(str)), "must be numeric"),
    ],
)
def test_bad_survival_data(data, mutate, match):
    with pytest.raises(DataError, match=match):
        latent_survival(ONE_FACTOR, mutate(data), method="naive")


def test_bad_options(data):
    with pytest.raises(EstimationError, match="survival_method must be one of"):
        radsem.sem(ONE_FACTOR, data, survival_method="bayes")
    with pytest.raises(EstimationError, match="maximum likelihood"):
        radsem.sem(ONE_FACTOR, data, estimator="MLR")
    with pytest.raises(ModelSpecificationError, match="multi-group"):
        radsem.sem(ONE_FACTOR, data.assign(g=1), group="g")
    with pytest.raises(DataError, match="neither latent variables"):
        latent_survival(ONE_FACTOR.replace("f + age", "f + stage"), data)
    with pytest.raises(ModelSpecificationError, match="needs latent"):
        latent_survival("r =~ Surv(time, event)\nr ~ age", data, method="naive")
    with pytest.raises(EstimationError, match="draws"):
        latent_survival(ONE_FACTOR, data, method="plausible_values", draws=-1)


def test_compare_family(data):
    train, test = data.iloc[::2], data.iloc[1::2]
    fam = LatentSurvivalModel(
        "f =~ y1 + y2 + y3\nsurv ~ f + age", method="regression_calibration", options={"draws": 0}
    )
    with pytest.raises(DataError, match="call fit"):
        fam.predict_risk(test)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        risk = fam.fit(train, "time", "event").predict_risk(test)
    assert risk.index.equals(test.index)
    assert np.corrcoef(risk, test["time"])[0, 1] < 0  # higher risk, shorter times
