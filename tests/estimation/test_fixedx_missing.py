"""Fixed exogenous covariates (``fixed.x = TRUE``) with FIML and with MLR, against lavaan.

lavaan 0.6-14 (live through rpy2) is the reference: ``sem(model, data, missing = "ml")``
with ML and MLR for the radsem demo mechanism model (two regressions on a binary stage
covariate, 42% of the cases missing every gene), a complete-data path model with MLR, the
Holzinger-Swineford CFA with ``visual ~ sex`` and ``speed ~ ageyr`` and about 18% MAR
missing scores (also in two groups with equal loadings), and cases with a missing
covariate (deleted, as lavaan does). Compared: estimates, standard errors and every fit
measure both programs report (``chisq, df, logl, unrestricted.logl, cfi, tli, rmsea, srmr,
gfi`` and the ``.scaled`` / ``.robust`` family).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest

import radsem
from radsem.errors import DataError, DataWarning, RadsemWarning
from radsem.estimation.core.samplestats import SampleStats
from radsem.estimation.missing.fiml import drop_missing_covariates
from radsem.estimation.missing.likelihood import x_moment_mask
from radsem.estimation.robust.fiml_correction import (
    fiml_corrected,
    normal_information,
    zero_safe_inverse,
)

HS_COV_MODEL = (
    "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
    "visual ~ sex\nspeed ~ ageyr"
)
PATH_MODEL = "y1 ~ x1 + x2\ny2 ~ y1 + x2"
# measures named in the task; each must be present in both programs
CORE = ("chisq", "df", "logl", "unrestricted.logl", "cfi", "tli", "rmsea", "srmr", "npar")
ROBUST = (
    "chisq.scaled",
    "chisq.scaling.factor",
    "cfi.scaled",
    "tli.scaled",
    "cfi.robust",
    "tli.robust",
    "rmsea.scaled",
    "rmsea.robust",
    "baseline.chisq.scaled",
)


def _demo() -> tuple[str, pd.DataFrame]:
    from radsem.demo import DEMO_MECHANISM_MODEL, sem_table
    from radsem.simulate import simulate_cohort

    cohort = simulate_cohort(n=150, seed=5, images=False)
    return DEMO_MECHANISM_MODEL, sem_table(cohort).reset_index(drop=True)


def _hs_mar(rate: float = 0.15, seed: int = 11) -> pd.DataFrame:
    """HS scores plus sex (0/1) and ageyr; x2, x3, x5, x6, x8, x9 missing at random, with
    a logistic probability driven by the complete first indicator of their factor."""
    from radsem.datasets import load

    hs = load("HolzingerSwineford1939")
    d = hs[[f"x{i}" for i in range(1, 10)] + ["sex", "ageyr"]].astype(float)
    d["sex"] = d["sex"] - 1
    rng = np.random.default_rng(seed)
    out = d.copy()
    target = rate * 9 / 6
    for col, anchor in (
        ("x2", "x1"),
        ("x3", "x1"),
        ("x5", "x4"),
        ("x6", "x4"),
        ("x8", "x7"),
        ("x9", "x7"),
    ):
        z = (d[anchor] - d[anchor].mean()) / d[anchor].std()
        prob = 1 / (1 + np.exp(-(np.log(target / (1 - target)) + z)))
        out.loc[rng.random(len(d)) < prob.to_numpy(), col] = np.nan
    return out


def _hs_groups() -> pd.DataFrame:
    from radsem.datasets import load

    out = _hs_mar().drop(columns="ageyr")
    out["school"] = load("HolzingerSwineford1939")["school"].to_numpy()
    return out


def _path(n: int = 200, seed: int = 3, x_missing: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.4, n).astype(float)
    y1 = 0.5 * x1 - 0.3 * x2 + rng.standard_t(5, n)
    y2 = 0.4 * y1 + 0.2 * x2 + rng.standard_t(6, n)
    d = pd.DataFrame({"y1": y1, "y2": y2, "x1": x1, "x2": x2})
    if x_missing:
        d.loc[rng.random(n) < 0.15, "y1"] = np.nan
        d.loc[rng.random(n) < x_missing, "x1"] = np.nan
    return d


@functools.lru_cache(maxsize=None)
def _pair(case: str, estimator: str):
    from radsem.engines import fit_lavaan

    model, data, opts = {
        "demo": lambda: (*_demo(), {"missing": "ml"}),
        "hs": lambda: (HS_COV_MODEL, _hs_mar(), {"missing": "ml"}),
        "path": lambda: (PATH_MODEL, _path(), {}),
        "groups": lambda: (
            HS_COV_MODEL.rsplit("\n", 1)[0],
            _hs_groups(),
            {"missing": "ml", "group": "school", "group_equal": ("loadings",)},
        ),
    }[case]()
    ours = radsem.sem(model, data, estimator=estimator, **opts)
    ref = fit_lavaan(model, data, estimator=estimator, **opts)
    return ours, ref


def _check(ours, ref, scaled: bool) -> None:
    fa, fb = ours.fit_measures(), ref.fit_measures()
    for key in CORE + (ROBUST if scaled else ("cfi.robust", "tli.robust", "rmsea.robust")):
        assert key in fa.index, key
        assert key in fb.index, key
    bad = []
    for key in fb.index.intersection(fa.index):
        want, got = float(fb[key]), float(fa[key])
        if not np.isfinite(want):
            continue
        if not np.isclose(got, want, rtol=1e-4, atol=1e-8):
            bad.append((key, got, want))
    assert not bad, bad
    pa = ours.parameter_estimates()
    pb = ref.parameter_estimates()
    m = pa.merge(pb, on=["lhs", "op", "rhs", "group"], suffixes=("", "_l"))
    assert len(m) == len(pb)
    np.testing.assert_allclose(m["est"], m["est_l"], atol=1e-4)
    np.testing.assert_allclose(m["se"], m["se_l"], rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_demo_model_fiml_fixed_x(r_lavaan, estimator):
    ours, ref = _pair("demo", estimator)
    assert ours.options["fixed_x"]
    assert int(ours.fit_measures()["ntotal"]) == 150
    _check(ours, ref, scaled=estimator == "MLR")


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_hs_cfa_with_covariates_mar(r_lavaan, estimator):
    ours, ref = _pair("hs", estimator)
    _check(ours, ref, scaled=estimator == "MLR")


def test_two_groups_equal_loadings_fiml_mlr(r_lavaan):
    ours, ref = _pair("groups", "MLR")
    _check(ours, ref, scaled=True)


def test_path_model_mlr_complete(r_lavaan):
    ours, ref = _pair("path", "MLR")
    _check(ours, ref, scaled=True)


def test_missing_covariate_cases_removed_as_lavaan(r_lavaan):
    from radsem.engines import fit_lavaan

    data = _path(x_missing=0.1)
    before = data.copy()
    nx = int(data["x1"].isna().sum())
    with pytest.warns(DataWarning, match=rf"{nx} case\(s\) .* covariate\(s\) x1 were removed"):
        ours = radsem.sem(PATH_MODEL, data, missing="ml", estimator="MLR")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RadsemWarning)  # lavaan's own deletion warning
        ref = fit_lavaan(PATH_MODEL, data, missing="ml", estimator="MLR")
    assert int(ours.fit_measures()["ntotal"]) == len(data) - nx
    _check(ours, ref, scaled=True)
    pd.testing.assert_frame_equal(data, before)  # the input is not modified


def test_drop_missing_covariates_units():
    arr = np.array([[1.0, 0.0], [2.0, np.nan], [np.nan, 1.0], [4.0, 1.0]])
    st = SampleStats(arr, 4, np.nanmean(arr, 0), np.eye(2))
    assert drop_missing_covariates([st], [])[0] is st
    with pytest.warns(DataWarning, match="1 case"):
        (out,) = drop_missing_covariates([st], [1], ["x"])
    assert out.nobs == 3
    assert np.isnan(arr[1, 1])
    np.testing.assert_allclose(out.mean, [2.5, 2 / 3])
    bad = SampleStats(
        np.array([[1.0, np.nan], [2.0, np.nan], [3.0, 1.0]]), 3, np.zeros(2), np.eye(2)
    )
    with pytest.warns(DataWarning), pytest.raises(DataError, match="too few cases"):
        drop_missing_covariates([bad], [1], ["x"])


def test_zero_safe_inverse_and_x_rows():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 4))
    sigma = a.T @ a / 6 + np.eye(4)
    info = normal_information(sigma, True, [3])
    mask = x_moment_mask(4, [3])
    assert mask.sum() == 2  # the mean and the variance of the covariate
    assert np.all(info[mask] == 0)
    assert np.all(info[:, mask] == 0)
    inv = zero_safe_inverse(info)
    keep = ~mask
    np.testing.assert_allclose(
        inv[np.ix_(keep, keep)] @ info[np.ix_(keep, keep)], np.eye(keep.sum()), atol=1e-10
    )
    assert np.all(inv[mask] == 0)
    # without covariates it is the ordinary inverse
    full = normal_information(sigma)
    np.testing.assert_allclose(zero_safe_inverse(full), np.linalg.inv(full), rtol=1e-10)


def test_fiml_corrected_saturated_model_does_not_divide_by_zero():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(8, 3))
    sigma = a.T @ a / 8 + np.eye(3)
    w = normal_information(sigma)
    delta = np.eye(w.shape[0])  # saturated: the moments are the parameters
    base = delta[:, [0, 1, 2, 3, 6, 8]]
    out = fiml_corrected(0.0, 0.0, 5.0, 3.0, [w], [w], [w], [delta], [base], [50])
    assert out.xx3_scaled == 0.0 or np.isnan(out.xx3_scaled)
    assert np.isfinite(out.c_hat3_null)
    assert out.c_hat3_null > 0
