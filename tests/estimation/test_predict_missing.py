"""Factor scores with missing values (``missing="ml"``): each case uses its observed
variables, as ``lavPredict()`` of lavaan 0.6-14 (regression and Bartlett; Bartlett scores of
a factor without an observed indicator are NaN, as lavaan)."""

from __future__ import annotations

import numpy as np
import pytest

import radsem

MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6"


def _data():
    from radsem.datasets import load

    hs = load("HolzingerSwineford1939")[[f"x{i}" for i in range(1, 7)]]
    rng = np.random.default_rng(1)
    return hs.mask(rng.random(hs.shape) < 0.2)


@pytest.mark.parametrize("method", ["regression", "bartlett"])
def test_fiml_factor_scores_match_lavpredict(r_lavaan, method):
    import rpy2.robjects as ro

    from radsem.engines import fit_lavaan

    data = _data()
    ours = radsem.cfa(MODEL, data, missing="ml").predict(method).to_numpy()
    ref = fit_lavaan(MODEL, data, "cfa", missing="ml")
    fn = ro.r("function(f, m) lavaan::lavPredict(f, method = m)")
    want = np.array(fn(ref._fit, ro.StrVector(["Bartlett" if method == "bartlett" else method])))
    assert ours.shape == want.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(want))
    np.testing.assert_allclose(ours, want, atol=5e-5, equal_nan=True)


def test_scores_without_missing_values_unchanged_and_finite():
    data = _data()
    fit = radsem.cfa(MODEL, data, missing="ml")
    reg = fit.predict()
    assert not reg.isna().any().any()  # regression scores exist for every case
    bart = fit.predict("bartlett")
    # Bartlett: NaN exactly where a factor has no observed indicator
    no_visual = data[["x1", "x2", "x3"]].isna().all(axis=1).to_numpy()
    np.testing.assert_array_equal(bart["visual"].isna().to_numpy(), no_visual)
