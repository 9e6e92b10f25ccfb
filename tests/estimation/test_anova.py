"""radsem.estimation.measures.lrt against lavaan 0.6-14's ``lavTestLRT`` (live through rpy2).

Three nested HS models (3 correlated factors; orthogonal factors; orthogonal with two equal
speed loadings), fitted by lavaan with ML and with MLR; their ``fitMeasures()`` go into
radsem's ``anova`` and the table must equal ``lavTestLRT(fit1, fit2, fit3)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_missing_fixtures import HS_MODEL, LavaanRef, hs_frame

from radsem.errors import DataError, ModelSpecificationError, RadsemWarning
from radsem.estimation.measures.lrt import anova, satorra_bentler_2001

EQUAL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + a*x8 + a*x9"


def _lavaan_lrt(refs):
    import rpy2.robjects as ro

    from radsem._r import from_r_dataframe

    fun = ro.r("function(a, b, c) as.data.frame(lavaan::lavTestLRT(a, b, c))")
    out = from_r_dataframe(fun(*(r.fit for r in refs)))
    return out.astype(float).replace(-2147483648.0, np.nan)  # R's integer NA


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_anova_matches_lavtestlrt(r_lavaan, estimator, request):
    data = hs_frame()
    refs = [
        LavaanRef("cfa", HS_MODEL, data, estimator=estimator),
        LavaanRef("cfa", HS_MODEL, data, estimator=estimator, orthogonal=True),
        LavaanRef("cfa", EQUAL, data, estimator=estimator, orthogonal=True),
    ]
    fms = [r.fit_measures() for r in refs]
    # given in scrambled order: anova sorts by df like lavaan
    ours = anova(fms[2], fms[0], fms[1], model_names=["c", "a", "b"])
    ref = _lavaan_lrt(refs)
    assert list(ours.index) == ["a", "b", "c"]
    expected_cols = ["Df", "AIC", "BIC", "Chisq", "Chisq diff", "Df diff", "Pr(>Chisq)"]
    if estimator == "ML":
        expected_cols.insert(5, "RMSEA")
    assert list(ours.columns) == expected_cols
    assert list(ref.columns) == expected_cols
    for col in expected_cols:
        np.testing.assert_allclose(
            ours[col].to_numpy(float),
            ref[col].to_numpy(float),
            rtol=1e-10,
            equal_nan=True,
            err_msg=col,
        )
    if estimator == "ML":
        _check_radsem_fits(data, ref)


def _check_radsem_fits(data, ref):
    """radsem's own fits (SemFit objects) give lavaan's table up to optimiser tolerance."""
    import radsem

    fits = [
        radsem.cfa(HS_MODEL, data),
        radsem.cfa(HS_MODEL, data, orthogonal=True),
        radsem.cfa(EQUAL, data, orthogonal=True),
    ]
    ours = anova(*fits)
    assert list(ours.index) == ["model 1", "model 2", "model 3"]
    for col in ours.columns:
        np.testing.assert_allclose(
            ours[col].to_numpy(float),
            ref[col].to_numpy(float),
            rtol=1e-5,
            equal_nan=True,
            err_msg=col,
        )


def test_satorra_bentler_2001_formula():
    t, df, cd = satorra_bentler_2001(10.0, 5, 1.2, 20.0, 8, 1.1)
    assert df == 3
    assert cd == pytest.approx((8 * 1.1 - 5 * 1.2) / 3)
    assert t == pytest.approx(10.0 / cd)
    # a negative scaling correction is undefined (NaN), as in lavaan
    assert np.isnan(satorra_bentler_2001(10.0, 5, 3.0, 20.0, 8, 1.0)[2])


def _fm(chisq, df, **extra):
    return pd.Series({"chisq": chisq, "df": df, "aic": 100.0, "bic": 110.0, "ntotal": 301, **extra})


def test_anova_warns_when_restricted_model_fits_better():
    with pytest.warns(RadsemWarning, match="fit better than less restricted"):
        out = anova(_fm(30.0, 10), _fm(20.0, 12))
    assert out["Chisq diff"].iloc[1] == pytest.approx(-10.0)


def test_anova_equal_df_gives_no_pvalue():
    out = anova(_fm(30.0, 10), _fm(31.0, 10))
    assert np.isnan(out["Pr(>Chisq)"].iloc[1])


@pytest.mark.parametrize(
    ("fits", "error", "message"),
    [
        ((_fm(1.0, 2),), ModelSpecificationError, "at least two"),
        (
            (_fm(1.0, 2), _fm(3.0, 4, **{"chisq.scaling.factor": 1.1})),
            ModelSpecificationError,
            "scaled",
        ),
        (
            (_fm(1.0, 2), pd.Series({"chisq": 3.0, "df": 4, "ntotal": 200})),
            DataError,
            "different numbers of cases",
        ),
        ((_fm(1.0, 2), pd.Series({"df": 4})), ModelSpecificationError, "no chisq"),
        ((_fm(1.0, 2), "fit"), TypeError, "fit_measures"),
    ],
)
def test_anova_bad_inputs(fits, error, message):
    with pytest.raises(error, match=message):
        anova(*fits)


def test_anova_names_models_from_variables_and_says_which_test():
    import radsem
    from radsem.datasets import load

    data = load("HolzingerSwineford1939")
    free = radsem.cfa(HS_MODEL, data)
    orthogonal = radsem.cfa(HS_MODEL, data, orthogonal=True)
    table = radsem.anova(orthogonal, free)
    assert list(table.index) == ["free", "orthogonal"]
    assert table.test == "standard"
    assert repr(table).startswith("Chi-squared difference test (likelihood ratio")
    assert table.iloc[:1].test == "standard"  # kept by slices
    named = radsem.anova(orthogonal, free, model_names=["b", "a"])
    assert list(named.index) == ["a", "b"]
    robust = radsem.anova(
        radsem.cfa(HS_MODEL, data, estimator="MLR"),
        radsem.cfa(HS_MODEL, data, estimator="MLR", orthogonal=True),
    )
    assert robust.test == "satorra.bentler.2001"
    assert list(robust.index) == ["model 1", "model 2"]  # no variables to name them by
    assert "Satorra & Bentler 2001" in repr(robust)
