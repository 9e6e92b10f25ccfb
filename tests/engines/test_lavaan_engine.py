"""radsem.engines.lavaan against lavaan called directly from R (rpy2), options, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radsem.engines import fit_lavaan
from radsem.engines._tables import MODINDEX_COLUMNS, PARAMETER_COLUMNS
from radsem.errors import (
    DataError,
    ImproperSolutionWarning,
    ModelSpecificationError,
    ModelSyntaxError,
    RadsemWarning,
)

HS_MODEL = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""


def _direct(r_lavaan, model, frame, **kwargs):
    """lavaan called from rpy2 without radsem's translation (independent path)."""
    import rpy2.robjects as ro

    from radsem._r import from_r_dataframe, to_r_dataframe

    do_call = ro.r["do.call"]
    args = ro.ListVector({"model": ro.StrVector([model]), "data": to_r_dataframe(frame), **kwargs})
    fit = do_call("cfa", args, envir=ro.r["asNamespace"]("lavaan"))
    pe = from_r_dataframe(r_lavaan.parameterEstimates(fit, standardized=True)).copy(deep=True)
    fm = r_lavaan.fitMeasures(fit)
    return pe, pd.Series(np.array(fm, dtype=float), index=list(fm.names))


def test_columns_and_values_match_direct_lavaan(r_lavaan, hs, hs_lavaan):
    pe = hs_lavaan.parameter_estimates()
    assert list(pe.columns) == PARAMETER_COLUMNS
    assert (pe["group"] == 1).all()
    ref_pe, ref_fm = _direct(r_lavaan, HS_MODEL, hs)
    np.testing.assert_allclose(pe["est"], ref_pe["est"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(pe["std_all"], ref_pe["std.all"], rtol=0, atol=1e-12)
    fm = hs_lavaan.fit_measures()
    assert fm["chisq"] == pytest.approx(85.305521, abs=1e-5)  # lavaan tutorial value
    assert fm["df"] == 24
    pd.testing.assert_series_equal(fm, ref_fm, check_names=False)
    assert hs_lavaan.converged
    assert hs_lavaan.lavaan_version.startswith("0.6")


def test_modindices_and_implied(hs_lavaan):
    mi = hs_lavaan.modindices()
    assert list(mi.columns) == MODINDEX_COLUMNS
    top = mi.sort_values("mi", ascending=False).iloc[0]
    assert (top["lhs"], top["op"], top["rhs"]) == ("visual", "=~", "x9")
    assert top["mi"] == pytest.approx(36.411, abs=1e-3)  # lavaan tutorial value
    implied = hs_lavaan.implied()[1]
    cov = implied["cov"].to_numpy()
    np.testing.assert_allclose(cov, cov.T)
    assert np.linalg.eigvalsh(cov).min() > 0


def test_options_are_translated(r_lavaan, hs):
    import rpy2.robjects as ro

    fit = fit_lavaan(HS_MODEL, hs, "cfa", std_lv=True, estimator="MLR", missing="ml")
    ref_pe, ref_fm = _direct(
        r_lavaan,
        HS_MODEL,
        hs,
        **{
            "std.lv": ro.BoolVector([True]),
            "estimator": ro.StrVector(["MLR"]),
            "missing": ro.StrVector(["ml"]),
        },
    )
    np.testing.assert_allclose(fit.parameter_estimates()["se"], ref_pe["se"], atol=1e-12)
    assert fit.fit_measures()["chisq.scaled"] == pytest.approx(ref_fm["chisq.scaled"])
    loadings = fit.parameter_estimates().query("op == '=~'")
    assert (loadings["se"] > 0).all()  # std_lv: no marker loadings fixed


def test_multigroup_group_equal(hs):
    fit = fit_lavaan(HS_MODEL, hs, "cfa", group="school", group_equal=("loadings", "intercepts"))
    pe = fit.parameter_estimates()
    assert fit.group_labels == ["Pasteur", "Grant-White"]  # lavaan's order of appearance
    assert set(pe["group"]) == {1, 2}
    load = pe.query("op == '=~'").pivot_table(index=["lhs", "rhs"], columns="group", values="est")
    np.testing.assert_allclose(load[1], load[2])
    assert fit.fit_measures()["df"] == 60
    assert set(fit.implied()) == {1, 2}


@pytest.mark.slow
def test_defined_parameters_and_bootstrap_seed(rng):
    n = 60
    x = rng.normal(size=n)
    m = 0.5 * x + rng.normal(size=n)
    y = 0.4 * m + 0.2 * x + rng.normal(size=n)
    data = pd.DataFrame({"X": x, "M": m, "Y": y})
    model = "M ~ a*X\nY ~ b*M + c*X\nab := a*b\ntotal := c + a*b"
    fit = fit_lavaan(model, data, se="bootstrap", bootstrap=20, seed=7)
    again = fit_lavaan(model, data, se="bootstrap", bootstrap=20, seed=7)
    # 20 draws are few enough for R to warn about percentile endpoints: a plain RadsemWarning
    with pytest.warns(RadsemWarning, match="lavaan: extreme order statistics"):
        first = fit.parameter_estimates()
    with pytest.warns(RadsemWarning):
        second = again.parameter_estimates()
    pd.testing.assert_frame_equal(first, second)
    pe = first.set_index("lhs")
    a = pe.loc["M"].query("op == '~'")["est"].item()
    b = pe.loc["Y"].query("op == '~' and rhs == 'M'")["est"].item()
    assert pe.loc["ab", "est"] == pytest.approx(a * b)
    assert pe.loc["ab", "se"] > 0


def test_lavaan_warnings_become_radsem_warnings():
    # exact correlations r12 = .3, r13 = r23 = .6 force a Heywood case: lambda3^2 = 1.2
    corr = np.array([[1, 0.3, 0.6], [0.3, 1, 0.6], [0.6, 0.6, 1]])
    z = np.random.default_rng(1).normal(size=(200, 3))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T)).T)
    data = pd.DataFrame(z @ np.linalg.cholesky(corr).T, columns=["a", "b", "c"])
    with pytest.warns(ImproperSolutionWarning, match="lavaan: .*variances are negative"):
        fit_lavaan("f =~ a + b + c", data, "cfa")


def test_errors(hs):
    with pytest.raises(DataError, match="x99"):
        fit_lavaan("f =~ x1 + x2 + x99", hs, "cfa")
    with pytest.raises(ModelSyntaxError):
        fit_lavaan("f =~ x1 + + ", hs, "cfa")
    with pytest.raises(ModelSpecificationError, match="no option 'estimater'"):
        fit_lavaan(HS_MODEL, hs, "cfa", estimater="ML")
    with pytest.raises(ModelSpecificationError, match="function must be"):
        fit_lavaan(HS_MODEL, hs, "summary")
    with pytest.raises(DataError, match="DataFrame"):
        fit_lavaan(HS_MODEL, hs.to_numpy(), "cfa")
    with pytest.raises(ModelSpecificationError, match="group"):
        fit_lavaan(HS_MODEL, hs, "cfa", group=3)


def test_input_not_modified(hs):
    before = hs.copy()
    fit_lavaan("f =~ x1 + x2 + x3", hs, "cfa", group="school")
    pd.testing.assert_frame_equal(hs, before)
