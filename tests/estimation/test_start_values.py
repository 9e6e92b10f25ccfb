"""Starting values and restarts: fits that used to stop short of lavaan's optimum."""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import pytest

import radsem

DATA = pathlib.Path(__file__).parent / "data"

# measurement model of benchmarks/sim_latent_survival.py (first loading fixed at its truth);
# the cohort is replicate seed 2063 of that simulation (n = 300, ~30% of the expression
# missing), where the FIML fit used to run along a ridge to logl -3982.97 with the immune
# variance 0.0005 and loadings -21..-27 (lavaan: -3958.35)
RIDGE_MODEL = """
E6 =~ 0.8*nCDKN1A + nMDM2 + nBAX + nGADD45A
E7 =~ 1.12*CDKN2A + MKI67 + MCM2 + MCM7
immune =~ 0.42*HLA_A + HLA_B + HLA_C + HLA_DQB1
hypoxia =~ 1.44*CA9 + VEGFA + SLC2A1 + LDHA
"""
LAVAAN_LOGL = -3958.354  # lavaan 0.6-14, sem(missing = "ml") on the stored file


@pytest.fixture(scope="module")
def ridge_data():
    return pd.read_csv(DATA / "fiml_ridge_cohort.csv")


def _estimates(fit):
    pe = fit.parameter_estimates()
    return pe.set_index(["lhs", "op", "rhs"])["est"]


def test_fiml_with_a_small_fixed_marker_reaches_the_optimum(ridge_data):
    fit = radsem.sem(RIDGE_MODEL, ridge_data, missing="ml")
    assert fit._result.converged
    assert fit.fit_measures()["logl"] == pytest.approx(LAVAAN_LOGL, abs=2e-3)
    est = _estimates(fit)
    assert est[("immune", "~~", "immune")] == pytest.approx(0.688, abs=2e-3)
    assert est[("immune", "=~", "HLA_DQB1")] == pytest.approx(0.925, abs=2e-3)


@pytest.mark.filterwarnings("ignore:lavaan. some cases are empty")
def test_fiml_with_a_small_fixed_marker_matches_lavaan(ridge_data, r_lavaan):
    fit = radsem.sem(RIDGE_MODEL, ridge_data, missing="ml")
    check = fit.cross_check("lavaan")
    assert check.agree, check
    assert check.max_abs_diff < 1e-4


def test_start_loadings_take_scale_and_sign_from_the_fixed_marker(ridge_data):
    from radsem.estimation.core.start import start_values

    fit = radsem.sem(RIDGE_MODEL, ridge_data, missing="ml")
    model = fit._problem.model
    par = model.par
    vals = start_values(model, fit._problem.stats, std_lv=False)
    rows = (par["lhs"] == "immune") & (par["op"] == "=~")
    start = pd.Series(vals[rows.to_numpy()], index=par.loc[rows, "rhs"])
    # marker-free ratios s_jk / s_mk times the marker's fixed loading 0.42
    assert start["HLA_A"] == 0.42
    assert 0.3 < start["HLA_DQB1"] < 2.0
    assert start["HLA_B"] > 0


# --- a marker loading fixed at a negative value (E6 =~ -0.8*CDKN1A + MDM2 + ...) -----------

NEGATIVE_MARKER = """
E6 =~ -0.8*a0 + a1 + a2 + a3
E7 =~ b0 + b1 + b2
F3 =~ c0 + c1 + c2
"""


def _negative_marker_data(n: int = 250, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    phi = np.array([[1.0, 0.4, 0.3], [0.4, 1.0, 0.2], [0.3, 0.2, 1.0]])
    eta = rng.multivariate_normal(np.zeros(3), phi, n)
    loadings = {"a": [-0.8, 0.7, 0.6, 0.9], "b": [1.0, 0.8, 0.7], "c": [0.9, 0.6, 0.8]}
    cols = {}
    for f, (name, lam) in enumerate(loadings.items()):
        for i, value in enumerate(lam):
            cols[f"{name}{i}"] = value * eta[:, f] + rng.normal(0.0, 0.6, n)
    return pd.DataFrame(cols)


@pytest.mark.parametrize("missing", ["listwise", "ml"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_negative_fixed_marker_converges_to_the_truth(seed, missing):
    data = _negative_marker_data(seed=seed)
    fit = radsem.sem(NEGATIVE_MARKER, data, missing=missing)  # warnings are errors
    assert fit._result.converged
    assert fit._result.iterations < 30
    est = _estimates(fit)
    # the latent scale is the truth's (marker fixed at its true value): loadings recovered
    for rhs, true in (("a1", 0.7), ("a2", 0.6), ("a3", 0.9)):
        assert est[("E6", "=~", rhs)] == pytest.approx(true, abs=0.15)
    assert est[("E6", "~~", "E6")] == pytest.approx(1.0, abs=0.3)


def test_negative_fixed_marker_start_values_have_the_right_sign():
    from radsem.estimation.core.start import start_values

    fit = radsem.sem(NEGATIVE_MARKER, _negative_marker_data())
    model = fit._problem.model
    par = model.par
    vals = start_values(model, fit._problem.stats, std_lv=False)
    rows = ((par["lhs"] == "E6") & (par["op"] == "=~")).to_numpy()
    start = dict(zip(par.loc[rows, "rhs"], vals[rows], strict=True))
    assert start["a0"] == -0.8
    assert all(start[v] > 0 for v in ("a1", "a2", "a3"))


def test_negative_fixed_marker_matches_lavaan(r_lavaan):
    data = _negative_marker_data(seed=2).iloc[:200].copy()
    data.iloc[::7, 1] = np.nan
    data.iloc[3::11, 5] = np.nan
    fit = radsem.sem(NEGATIVE_MARKER, data, missing="ml")
    check = fit.cross_check("lavaan")
    assert check.agree, check
