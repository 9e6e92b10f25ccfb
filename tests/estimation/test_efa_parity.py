"""``radsem.efa()`` and ESEM (``efa("block")*`` syntax) against lavaan 0.6-14 (live via rpy2).

The HolzingerSwineford1939 EFA examples of lavaan's documentation: ``efa(data = HS[, 7:15],
nfactors = 1:3)`` with the default geomin rotation, oblimin, quartimin, varimax, promax,
target rotation, ``geomin.epsilon``, ``orthogonal = TRUE``, ``std.ov = FALSE``; and an ESEM
model with a structural part. Estimates 1e-4 absolute (lavaan stops its rotation at
``gpa.tol = 1e-5``), standard errors and fit measures 1e-4 relative.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_missing_fixtures import HS_VARS, hs_frame, hs_mar

import radsem
from radsem._r import r_available
from radsem.datasets import load
from radsem.errors import DataError, EstimationError, ModelSpecificationError

needs_r = pytest.mark.skipif(not r_available("lavaan"), reason="R with lavaan is not available")

TARGET = np.kron(np.eye(3), np.ones((3, 1)))
FM_KEYS = [
    "npar",
    "chisq",
    "df",
    "pvalue",
    "baseline.chisq",
    "cfi",
    "tli",
    "logl",
    "aic",
    "bic",
    "rmsea",
    "srmr",
]


def _lavaan(fun: str, data: pd.DataFrame, args: dict, **options):
    import rpy2.robjects as ro
    from rpy2.robjects import numpy2ri
    from rpy2.robjects.conversion import localconverter

    from radsem._r import from_r_dataframe, to_r_dataframe

    call = ro.r(
        "function(fun, data, ra, ...) { set.seed(1); "
        "f <- if (fun == 'efa') lavaan::efa(data = data, rotation.args = ra, "
        "output = 'lavaan', ...) else lavaan::sem(data = data, rotation.args = ra, ...); "
        "list(pe = lavaan::parameterEstimates(f), fm = lavaan::fitMeasures(f)) }"
    )
    with localconverter(ro.default_converter + numpy2ri.converter):
        ra = ro.ListVector({k.replace("_", "."): v for k, v in args.items()})
    opts = {k.replace("_", "."): v for k, v in options.items()}
    out = call(fun, to_r_dataframe(data), ra, **opts)
    pe = from_r_dataframe(out.rx2("pe"))
    fm = out.rx2("fm")
    return pe, pd.Series(np.array(list(fm), float), index=list(ro.r["names"](fm)))


def _compare(fit, pe_r: pd.DataFrame, fm_r: pd.Series, se: bool = True) -> None:
    ours = fit.parameter_estimates()
    key = ["lhs", "op", "rhs"]
    merged = ours.merge(pe_r, on=key, suffixes=("", "_r"), how="inner")
    assert len(merged) == len(pe_r), "every lavaan row has a radsem row"
    np.testing.assert_allclose(merged["est"], merged["est_r"], atol=1e-4)
    if se:
        np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=1e-4, atol=1e-7)
    fm = fit.fit_measures()
    for k in FM_KEYS:
        assert fm[k] == pytest.approx(fm_r[k], rel=1e-4, abs=1e-8), k


# lavaan stops its rotation at gpa.tol = 1e-5; where that leaves its standard errors more
# than 1e-4 relative from the optimum, lavaan is run with a smaller gpa.tol (radsem polishes
# the best start to a projected gradient below 1e-7 itself); lavaan's target rotation stalls
# before 1e-7, so it gets 1e-6
PRECISE = {"gpa_tol": 1e-7}

CASES = [
    ("geomin", 2, {}),
    ("geomin", 3, {}),
    ("geomin", 3, {"geomin_epsilon": 0.01, **PRECISE}),
    ("geomin", 3, {"orthogonal": True}),
    ("geomin", 3, {"std_ov": False}),
    ("oblimin", 3, {}),
    ("quartimin", 3, {}),
    ("varimax", 3, {}),
    ("target", 3, {"target": TARGET, "gpa_tol": 1e-6}),
]


@needs_r
@pytest.mark.parametrize(("rotation", "nf", "args"), CASES)
def test_efa_matches_lavaan(rotation, nf, args):
    data = hs_frame()
    pe_r, fm_r = _lavaan("efa", data, args, nfactors=nf, rotation=rotation)
    ours = {k: v for k, v in args.items() if k != "gpa_tol"}
    fit = radsem.efa(data, nf, rotation=rotation, rotation_args=ours)
    _compare(fit, pe_r, fm_r)


@needs_r
@pytest.mark.parametrize(("estimator", "std_ov"), [("MLR", True), ("MLR", False), ("MLM", True)])
def test_robust_efa_matches_lavaan(estimator, std_ov):
    """MLR: sandwich with the bordered bread; MLM: robust.sem sandwich, Satorra-Bentler."""
    data = hs_frame()
    args = {"std_ov": std_ov}
    pe_r, fm_r = _lavaan("efa", data, args, nfactors=2, estimator=estimator)
    fit = radsem.efa(data, 2, estimator=estimator, rotation_args=args)
    _compare(fit, pe_r, fm_r)
    for k in ("chisq.scaled", "cfi.robust", "rmsea.robust"):
        assert fit.fit_measures()[k] == pytest.approx(fm_r[k], rel=1e-4)


@needs_r
def test_fiml_efa_matches_lavaan():
    """missing = "ml": observed information, bordered by the rotation conditions."""
    data = hs_mar()
    pe_r, fm_r = _lavaan("efa", data, {}, nfactors=2, missing="ml")
    fit = radsem.efa(data, 2, missing="ml")
    _compare(fit, pe_r, fm_r)


@needs_r
def test_unrotated_parameter_table_matches_lavaan():
    """The identification: free/fixed, fixed values and lavaan's user = 7 rows."""
    import rpy2.robjects as ro

    from radsem._r import from_r_dataframe, to_r_dataframe

    data = hs_frame()
    pt_r = from_r_dataframe(
        ro.r("function(m, d) lavaan::parTable(lavaan::sem(m, data = d, do.fit = FALSE))")(
            ESEM, to_r_dataframe(data)
        )
    )
    ours = radsem.sem(ESEM, data).unrotated.spec.partable
    cols = ["lhs", "op", "rhs", "user", "free"]
    np.testing.assert_array_equal(ours[cols].to_numpy(), pt_r[cols].to_numpy())
    fixed = pt_r["free"].to_numpy() == 0
    np.testing.assert_allclose(ours["ustart"].to_numpy()[fixed], pt_r["ustart"].to_numpy()[fixed])


@needs_r
def test_promax_matches_lavaan_without_standard_errors():
    data = hs_frame()
    pe_r, fm_r = _lavaan("efa", data, {}, nfactors=3, rotation="promax")
    fit = radsem.efa(data, 3, rotation="promax")
    _compare(fit, pe_r, fm_r, se=False)
    assert fit.parameter_estimates()["se"].isna().all()  # lavaan: se = "none" after promax


@needs_r
def test_efa_list_of_one_to_three_factors():
    data = hs_frame()
    fits = radsem.efa(data, [1, 2, 3])
    assert list(fits) == ["nf1", "nf2", "nf3"]
    pe_r, fm_r = _lavaan("efa", data, {}, nfactors=1)
    _compare(fits["nf1"], pe_r, fm_r)
    table = fits.fit_measures()
    assert list(table.columns) == ["nf1", "nf2", "nf3"]
    assert table.loc["df", "nf3"] == 12
    assert "nf3" in fits.summary()
    text = fits["nf3"].summary()
    assert "Rotation method" in text
    assert "GEOMIN" in text
    assert "Rotation" in text.blocks
    load3 = fits["nf3"].loadings()
    assert load3.shape == (9, 3)
    assert list(load3.index) == HS_VARS


ESEM = """
efa("efa1")*f1 +
efa("efa1")*f2 =~ x1 + x2 + x3 + x4 + x5 + x6
speed =~ x7 + x8 + x9
speed ~ f1 + f2
"""


@needs_r
def test_esem_with_a_structural_part_matches_lavaan():
    data = load("HolzingerSwineford1939")
    pe_r, fm_r = _lavaan("sem", data[HS_VARS].astype(float), {}, model=ESEM)
    fit = radsem.sem(ESEM, data[HS_VARS].astype(float))
    _compare(fit, pe_r, fm_r)
    pe = fit.parameter_estimates()
    assert set(pe.loc[pe["op"] == "=~", "efa"]) == {"efa1", ""}


def test_rotation_does_not_depend_on_the_seed():
    data = hs_frame()
    a = radsem.efa(data, 3, rotation_args={"seed": 1}).parameter_estimates()
    b = radsem.efa(data, 3, rotation_args={"seed": 12345}).parameter_estimates()
    np.testing.assert_allclose(a["est"], b["est"], atol=1e-7)


def test_bad_efa_inputs_are_refused():
    data = hs_frame()
    with pytest.raises(EstimationError, match="nfactors"):
        radsem.efa(data, 6)
    with pytest.raises(EstimationError, match="rotation_args"):
        radsem.efa(data, 2, rotation_args={"bogus": 1})
    with pytest.raises(EstimationError, match="algorithm"):
        radsem.efa(data, 2, rotation_args={"algorithm": "pairwise"})
    with pytest.raises(EstimationError, match="target"):
        radsem.efa(data, 2, rotation="target")
    with pytest.raises(ModelSpecificationError, match="not a latent"):
        radsem.sem('efa("a")*f1 =~ x1 + x2 + x3\nf2 =~ x4 + x5 + x6\nf2 ~ efa("a")*x7', data)


def test_ov_names_select_the_variables():
    full = load("HolzingerSwineford1939")
    a = radsem.efa(full, 2, ov_names=HS_VARS).parameter_estimates()
    b = radsem.efa(hs_frame(), 2).parameter_estimates()
    np.testing.assert_allclose(a["est"], b["est"], atol=1e-10)
    with pytest.raises(DataError, match="ov_names"):
        radsem.efa(full, 2, ov_names=["x1", "nope"])
