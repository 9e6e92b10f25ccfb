"""Degenerate but valid inputs: a one-variable model, FIML with too few cases, predict on
new data (each checked against lavaan 0.6-14 where lavaan gives an answer)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import radsem


@pytest.fixture(scope="module")
def two_columns():
    rng = np.random.default_rng(1)
    return pd.DataFrame({"x1": rng.normal(size=50), "x2": rng.normal(size=50)})


# lavaan 0.6-14, sem("x1 ~~ x1"): zero baseline df; NA where lavaan gives NA
ONE_VARIABLE_LAVAAN = {
    "df": 0.0,
    "baseline.df": 0.0,
    "cfi": 1.0,
    "tli": 1.0,
    "nnfi": 1.0,
    "rfi": 1.0,
    "nfi": np.nan,
    "pnfi": np.nan,
    "ifi": np.nan,
    "rni": np.nan,
    "rmsea": 0.0,
    "gfi": 1.0,
    "agfi": 1.0,
    "pgfi": 0.0,
    "mfi": 1.0,
    "cn_05": np.nan,
    "cn_01": np.nan,
    "pvalue": np.nan,
    "baseline.pvalue": np.nan,
    "rmsea.pvalue": np.nan,
}


def test_fit_measures_of_a_one_variable_model(two_columns):
    fm = radsem.sem("x1 ~~ x1", two_columns).fit_measures()  # RuntimeWarnings are errors
    for key, value in ONE_VARIABLE_LAVAAN.items():
        if np.isnan(value):
            assert np.isnan(fm[key]), key
        else:
            assert fm[key] == pytest.approx(value, abs=1e-10), key
    assert np.isnan(fm["crmr"])  # no correlations to compare
    assert fm["logl"] == pytest.approx(
        -0.5 * 50 * (np.log(2 * np.pi * two_columns["x1"].var(ddof=0)) + 1)
    )


def test_fit_measures_of_a_one_variable_model_match_lavaan(two_columns, r_lavaan):
    from _sem_reference import lavaan_fit

    _, lav, _ = lavaan_fit("x1 ~~ x1", two_columns)
    fm = radsem.sem("x1 ~~ x1", two_columns).fit_measures()
    for key in (
        "cfi",
        "tli",
        "nnfi",
        "rfi",
        "nfi",
        "pnfi",
        "ifi",
        "rni",
        "logl",
        "aic",
        "bic",
        "cn_05",
        "cn_01",
        "gfi",
        "agfi",
        "pgfi",
        "mfi",
        "ecvi",
        "rmsea",
    ):
        if np.isnan(lav[key]):
            assert np.isnan(fm[key]), key
        else:
            assert fm[key] == pytest.approx(lav[key], rel=1e-8, abs=1e-10), key


def test_incremental_indices_with_zero_baseline_follow_lavaan():
    from radsem.estimation.measures.indices import incremental_indices

    out = incremental_indices(0.0, 0.0, 0.0, 0.0)
    assert out["cfi"] == 1.0
    assert out["tli"] == 1.0
    assert out["rfi"] == 1.0
    assert all(np.isnan(out[k]) for k in ("nfi", "pnfi", "ifi", "rni"))
    # an ordinary model: the textbook formulas
    out = incremental_indices(30.0, 8.0, 300.0, 15.0)
    assert out["nfi"] == pytest.approx(270 / 300)
    assert out["pnfi"] == pytest.approx(8 / 15 * 270 / 300)
    assert out["ifi"] == pytest.approx(270 / 292)
    assert out["rni"] == pytest.approx(1 - 22 / 285)
    assert out["rfi"] == pytest.approx((20 - 3.75) / 20)


# --- FIML with no more cases than variables ---------------------------------------------------

MODEL = "F1 =~ x1 + x2 + x3\nF2 =~ x4 + x5 + x6"


@pytest.fixture(scope="module")
def six():
    rng = np.random.default_rng(31)
    f = rng.normal(size=(40, 2))
    return pd.DataFrame(
        {f"x{i + 1}": f[:, i // 3] * 0.8 + rng.normal(scale=0.6, size=40) for i in range(6)}
    )


@pytest.mark.parametrize("rows", [4, 6])
def test_fiml_with_no_more_cases_than_variables_is_a_data_error(six, rows):
    from radsem.errors import DataError

    with pytest.raises(
        DataError,
        match=f"too few cases: {rows} rows with data for 6 observed "
        "variables; full-information ML needs more cases",
    ):
        radsem.cfa(MODEL, six.iloc[:rows], missing="ml")


def test_fiml_counts_cases_with_any_data_per_group(six):
    from radsem.errors import DataError

    data = six.iloc[:20].copy()
    data.iloc[15:, :] = np.nan  # group b: 5 cases with data and 5 empty rows, 6 variables
    data["g"] = ["a"] * 10 + ["b"] * 10
    with pytest.raises(DataError, match="too few cases in group 'b': 5 rows with data"):
        radsem.cfa(MODEL, data, missing="ml", group="g")


# --- factor scores of new data (lavPredict(newdata=)) ----------------------------------------


def _train_test():
    rng = np.random.default_rng(31)
    f = rng.normal(size=(200, 2))
    d = pd.DataFrame(
        {f"x{i + 1}": f[:, i // 3] * 0.8 + rng.normal(scale=0.6, size=200) + i for i in range(6)}
    )
    test = d.iloc[150:].copy()
    test.iloc[::5, 1] = np.nan
    return d.iloc[:150], test


@pytest.mark.parametrize("method", ["regression", "bartlett"])
def test_predict_newdata_is_the_fitted_scores_for_the_fitted_rows(method):
    train, _ = _train_test()
    fit = radsem.cfa(MODEL, train)
    new = fit.predict(method, newdata=train.iloc[::-1])
    assert list(new.index) == list(train.index[::-1])
    np.testing.assert_allclose(new.to_numpy()[::-1], fit.predict(method).to_numpy())
    np.testing.assert_allclose(fit.predict(train).to_numpy(), fit.predict().to_numpy())


def test_predict_newdata_with_missing_values():
    train, test = _train_test()
    listwise = radsem.cfa(MODEL, train).predict(test)
    incomplete = test.isna().any(axis=1).to_numpy()
    assert np.isnan(listwise.to_numpy()[incomplete]).all()  # lavaan drops these rows
    assert np.isfinite(listwise.to_numpy()[~incomplete]).all()
    fiml = radsem.cfa(MODEL, train, missing="ml").predict(test)
    assert np.isfinite(fiml.to_numpy()).all()


def test_predict_newdata_bad_inputs():
    from radsem.errors import DataError, EstimationError

    train, test = _train_test()
    fit = radsem.cfa(MODEL, train)
    with pytest.raises(DataError, match="not found in the data: x2"):
        fit.predict(test.drop(columns="x2"))
    with pytest.raises(DataError, match="infinite"):
        fit.predict(test.assign(x1=np.inf))
    with pytest.raises(DataError, match="must be a pandas DataFrame"):
        fit.predict(newdata=test.to_numpy())
    with pytest.raises(EstimationError, match="give new data once"):
        fit.predict(test, newdata=test)
    grouped = train.assign(g=["a", "b"] * 75)
    gfit = radsem.cfa(MODEL, grouped, group="g")
    with pytest.raises(DataError, match="grouping variable 'g'"):
        gfit.predict(test)
    with pytest.raises(DataError, match=r"group value\(s\) \['c'\]"):
        gfit.predict(test.assign(g="c"))
    scores = gfit.predict(grouped.iloc[:6])
    assert list(scores["group"]) == [1, 2, 1, 2, 1, 2]


@pytest.mark.parametrize("options", [{}, {"missing": "ml"}, {"meanstructure": True}])
@pytest.mark.parametrize("method", ["regression", "Bartlett"])
def test_predict_newdata_matches_lavpredict(options, method, r_lavaan):
    import rpy2.robjects as ro
    from _sem_reference import lavaan_fit

    from radsem._r import to_r_dataframe

    train, test = _train_test()
    r_opts = {k: ro.BoolVector([v]) if isinstance(v, bool) else v for k, v in options.items()}
    _, _, ref_fit = lavaan_fit(MODEL, train, "cfa", **r_opts)
    # constant R code; the fit, data and method are passed as arguments
    lav_predict = ro.r("function(f, nd, m) lavaan::lavPredict(f, newdata = nd, method = m)")
    ref = np.asarray(lav_predict(ref_fit, to_r_dataframe(test), method))
    ours = radsem.cfa(MODEL, train, **options).predict(method.lower(), newdata=test).to_numpy()
    if options.get("missing") != "ml":
        ours = ours[~np.isnan(ours).any(axis=1)]  # lavaan leaves incomplete rows out
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, atol=2e-6)
