"""Bad inputs to radsem.survival: specific DataError messages, no NaN results, inputs unchanged."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from radsem.errors import ConvergenceWarning, DataError
from radsem.survival import concordance_index, cox, cox_zph, kaplan_meier, logrank


@pytest.fixture
def surv():
    rng = np.random.default_rng(11)
    n = 40
    return pd.DataFrame(
        {
            "t": rng.exponential(5, n),
            "e": rng.integers(0, 2, n),
            "x": rng.normal(size=n),
            "g": rng.choice(["a", "b"], n),
            "z": rng.normal(size=n),
        }
    )


def _all_entry_points(frame):
    return [
        lambda: cox(frame, "t", "e", ["x"]),
        lambda: kaplan_meier(frame, "t", "e"),
        lambda: logrank(frame, "t", "e", "g"),
    ]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d.iloc[:0], "no rows"),
        (lambda d: d.assign(t=np.r_[-1.0, d.t[1:]]), "negative"),
        (lambda d: d.assign(t=np.r_[np.nan, d.t[1:]]), "missing value"),
        (lambda d: d.assign(t=np.r_[np.inf, d.t[1:]]), "infinite"),
        (lambda d: d.assign(t=["soon"] + list(d.t.astype(str)[1:])), "must be numeric"),
        (lambda d: d.assign(e=d.e + 1), "coded 0 .censored. / 1"),
        (lambda d: d.assign(e=np.where(d.e == 1, "yes", "no")), "coded 0"),
        (lambda d: d.assign(e=pd.array([pd.NA] + list(d.e[1:]), dtype="Int64")), "missing value"),
    ],
)
def test_bad_time_or_event_is_a_data_error(surv, change, match):
    bad = change(surv)
    before = bad.copy(deep=True)
    for call in _all_entry_points(bad):
        with pytest.raises(DataError, match=match):
            call()
    pd.testing.assert_frame_equal(bad, before)


def test_duplicate_column_names(surv):
    bad = surv.copy()
    bad.columns = ["t", "e", "x", "x", "z"]
    for call in _all_entry_points(bad):
        with pytest.raises(DataError, match="duplicated column name"):
            call()


def test_no_events_in_cox_and_logrank(surv):
    bad = surv.assign(e=0)
    with pytest.raises(DataError, match="no events"):
        cox(bad, "t", "e", ["x"])
    with pytest.raises(DataError, match="no events"):
        logrank(bad, "t", "e", "g")
    km = kaplan_meier(bad, "t", "e")  # a flat curve at 1 is a valid answer
    assert np.allclose(km.table["surv"], 1.0)


def test_true_false_and_nullable_events_equal_01(surv):
    ref = cox(surv, "t", "e", ["x", "z"])
    for ev in (surv.e.astype(bool), pd.array(surv.e, dtype="Int64"), surv.e.astype(float)):
        alt = cox(surv.assign(e=ev), "t", "e", ["x", "z"])
        np.testing.assert_allclose(alt.params, ref.params, rtol=1e-10)
    alt = cox(surv.assign(x=pd.array(surv.x, dtype="Float64")), "t", "e", ["x", "z"])
    np.testing.assert_allclose(alt.params, ref.params, rtol=1e-10)


@pytest.mark.parametrize(
    ("column", "match"),
    [
        (lambda d: np.nan, "missing values in x"),
        (lambda d: 1.0, "constant"),
        (lambda d: np.r_[np.inf, d.x[1:]], "infinite"),
        (lambda d: pd.date_range("2020-01-01", periods=len(d)), "dates"),
        (lambda d: d.x.astype(str), "numeric column stored as text"),
        (lambda d: pd.array([pd.NA] + list(d.x[1:]), dtype="Float64"), "missing values in x"),
    ],
)
def test_bad_covariates(surv, column, match):
    bad = surv.assign(x=column(surv))
    with pytest.raises(DataError, match=match):
        cox(bad, "t", "e", ["x"])


def test_single_level_category_and_collinearity(surv):
    with pytest.raises(DataError, match="single level"):
        cox(surv.assign(g="a"), "t", "e", ["g"])
    with pytest.raises(DataError, match="collinear"):
        cox(surv.assign(w=2 * surv.z), "t", "e", ["z", "w"])
    with pytest.raises(DataError, match="too few"):
        cox(surv.iloc[:2].assign(e=1), "t", "e", ["x", "z"])


def test_all_rows_dropped(surv):
    with pytest.raises(DataError, match="no row is complete"):
        cox(surv.assign(x=np.nan), "t", "e", ["x"], missing="drop")


@pytest.mark.parametrize("penalizer", [float("nan"), -1.0, "1", float("inf")])
def test_bad_penalizer(surv, penalizer):
    with pytest.raises(DataError, match="penalizer"):
        cox(surv, "t", "e", ["x"], penalizer=penalizer)


def test_bad_max_iter(surv):
    with pytest.raises(DataError, match="max_iter"):
        cox(surv, "t", "e", ["x"], max_iter=0)


def test_ordered_categorical_and_unicode_names(surv):
    lv = ["lo", "mid", "hi"]
    rng = np.random.default_rng(3)
    d = surv.assign(stage=pd.Categorical(rng.choice(lv, len(surv)), categories=lv, ordered=True))
    fit = cox(d, "t", "e", ["stage"])
    assert list(fit.params.index) == ["stage[T.mid]", "stage[T.hi]"]
    ren = surv.rename(columns={"x": "größe x.1"})
    f2 = cox(ren, "t", "e", ["größe x.1"])
    np.testing.assert_allclose(f2.params.to_numpy(), cox(surv, "t", "e", ["x"]).params)


def test_more_clusters_than_rows_is_the_ordinary_robust_fit(surv):
    a = cox(surv.assign(c=np.arange(len(surv))), "t", "e", ["x"], cluster="c")
    b = cox(surv, "t", "e", ["x"], robust=True)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-10)


def test_cox_zph_bad_inputs(surv):
    with pytest.raises(DataError, match="fitted Cox model"):
        cox_zph("not a fit")
    zero = surv.assign(t=np.r_[0.0, surv.t[1:]], e=np.r_[1, surv.e[1:]])
    with pytest.raises(DataError, match="event times > 0"):
        cox_zph(cox(zero, "t", "e", ["x"]), transform="log")
    res = cox_zph(cox(zero, "t", "e", ["x"]))
    assert np.isfinite(res.to_numpy(float)).all()


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([], [], []), "at least one"),
        (([1.0, 2.0], [1, 0], [0.1]), "same length"),
        (([1.0, -2.0], [1, 0], [0.1, 0.2]), ">= 0"),
        (([1.0, np.nan], [1, 0], [0.1, 0.2]), ">= 0"),
        (([1.0, 2.0], [1, 2], [0.1, 0.2]), "coded 0"),
        (([1.0, 2.0], [1, 0], [0.1, np.nan]), "missing or infinite"),
        ((["a", "b"], [1, 0], [0.1, 0.2]), "must be numeric"),
        (([1.0, 2.0], [1, 0], np.ones((2, 2))), "one-dimensional"),
    ],
)
def test_concordance_bad_inputs(args, match):
    with pytest.raises(DataError, match=match):
        concordance_index(*args)


def test_concordance_accepts_series_of_nullable_dtypes(surv):
    ref = concordance_index(surv.t, surv.e, surv.x)
    alt = concordance_index(
        surv.t, pd.array(surv.e.astype(bool)), pd.Series(surv.x, dtype="Float64")
    )
    assert alt.concordance == pytest.approx(ref.concordance)


def test_random_valid_data_gives_finite_results():
    """Property: on seeded random valid data every entry point returns finite numbers."""
    rng = np.random.default_rng(2024)
    for _ in range(15):
        n = int(rng.integers(8, 60))
        d = pd.DataFrame(
            {
                "t": rng.exponential(3, n).round(int(rng.integers(0, 3))),
                "e": rng.integers(0, 2, n),
                "x": rng.normal(size=n),
                "g": rng.choice(["a", "b", "c"], n),
            }
        )
        d.loc[0, "e"], d.loc[1, "e"] = 1, 0
        d.loc[0, "g"], d.loc[1, "g"] = "a", "b"
        before = d.copy(deep=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            fit = cox(d, "t", "e", ["x"])
        if caught:  # separation in a tiny sample is warned about (firth=True: see below)
            assert all(issubclass(w.category, ConvergenceWarning) for w in caught)
        else:
            assert np.isfinite(fit.params).all()
            assert np.isfinite(fit.se).all()
            assert 0 <= fit.concordance.concordance <= 1
        lr = logrank(d, "t", "e", "g")
        assert np.isfinite(lr.statistic)
        assert 0 <= lr.pvalue <= 1
        km = kaplan_meier(d, "t", "e", "g")
        assert km.table["surv"].between(0, 1).all()
        pd.testing.assert_frame_equal(d, before)


def test_firth_converges_on_small_separated_sample():
    """Newton on the penalised information: a handful of iterations (was ~1000 with I alone)."""
    d = pd.DataFrame(
        {
            "t": [7.0, 2.0, 1.0, 1.0, 6.0, 1.0, 3.0, 4.0],
            "e": [1, 0, 0, 0, 1, 0, 0, 1],
            "x": [-1.3683, 1.0582, 0.5774, -1.4281, -1.1974, 0.6713, -1.2781, 0.6402],
        }
    )
    fit = cox(d, "t", "e", ["x"], firth=True)  # warnings are errors in the test suite
    assert fit.params["x"] == pytest.approx(0.99288, abs=1e-4)
    assert fit.n_iter <= 15


def test_prediction_bad_new_data(surv):
    fit = cox(surv, "t", "e", ["x", "g"])
    with pytest.raises(DataError, match="lacks the covariate column"):
        fit.predict_lp(surv.drop(columns="x"))
    with pytest.raises(DataError, match="missing or infinite values in x"):
        fit.predict_risk(surv.assign(x=np.nan))
    with pytest.raises(DataError, match="numeric like the fitted data"):
        fit.predict_lp(surv.assign(x="a"))
    with pytest.raises(DataError, match="not seen when fitting"):
        fit.predict_lp(surv.assign(g="zzz"))
    with pytest.raises(DataError, match="pandas DataFrame"):
        fit.predict_lp(surv.to_numpy())
    with pytest.raises(DataError, match="times must be"):
        fit.predict_survival(surv.iloc[:3], [-1.0, 2.0])
    with pytest.raises(DataError, match="alpha"):
        fit.hazard_ratios(alpha=2)


def test_weights_and_rho_checked(surv):
    with pytest.raises(DataError, match="case weights"):
        cox(surv.assign(w="heavy"), "t", "e", ["x"], weights="w")
    for rho in ("a", float("nan")):
        with pytest.raises(DataError, match="rho must be"):
            logrank(surv, "t", "e", "g", rho=rho)


def test_logrank_without_any_comparison(surv):
    one_group_per_stratum = surv.assign(s=np.where(surv.g == "a", "u", "v"))
    with pytest.raises(DataError, match="cannot be compared"):
        logrank(one_group_per_stratum, "t", "e", "g", strata="s")


def test_covariate_that_is_the_time_itself(surv):
    """Monotone likelihood: warned about (coefficient may be infinite), no numpy warnings."""
    with pytest.warns(ConvergenceWarning, match="monotone likelihood"):
        cox(surv, "t", "e", ["t"])
    rng = np.random.default_rng(0)  # here the information matrix breaks down numerically
    d = pd.DataFrame({"t": rng.exponential(5, 40), "e": rng.integers(0, 2, 40)})
    with pytest.warns(ConvergenceWarning) as record:
        fit = cox(d, "t", "e", ["t"])
    assert any("not positive definite" in str(w.message) for w in record)
    assert fit.se.isna().all()
