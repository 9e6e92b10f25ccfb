"""Robust (``.robust``) fit indices with random covariates (``fixed_x=False``) against lavaan.

Two lavaan 0.6-14 details matter once a model has exogenous covariates (lavaan's ``ov.x``)
that are *not* fixed: (1) the baseline model frees the covariances among the covariates
(its df is ``p(p-1)/2`` minus their number of pairs), also in the robust (scaled) baseline
test and in the FIML-corrected ``c.hat3.null``; (2) ``lav_fit_fiml_corrected`` refits the
model with ``lavaan()``'s default ``fixed.x = TRUE``, so the complete-data information
``Wc`` has zero rows for the covariates' moments. Before radsem followed both, the robust
RMSEA of the demo cohort differed from lavaan's by 1.6% (its close-fit p-value by 68%).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest

import radsem
from radsem.errors import RadsemWarning
from radsem.estimation.missing.em import em_saturated
from radsem.estimation.missing.likelihood import missing_patterns
from radsem.estimation.robust.baseline import baseline_fit

HS_COV_MODEL = (
    "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
    "visual ~ sex\nspeed ~ ageyr"
)


def _hs_mar(seed: int = 11) -> pd.DataFrame:
    """HS scores, sex (0/1), ageyr; MAR on x2, x3, x5, x6, x8, x9 and 10% MCAR on sex, ageyr."""
    from radsem.datasets import load

    hs = load("HolzingerSwineford1939")
    d = hs[[f"x{i}" for i in range(1, 10)] + ["sex", "ageyr"]].astype(float)
    d["sex"] = d["sex"] - 1
    rng = np.random.default_rng(seed)
    out = d.copy()
    for col, anchor in (
        ("x2", "x1"),
        ("x3", "x1"),
        ("x5", "x4"),
        ("x6", "x4"),
        ("x8", "x7"),
        ("x9", "x7"),
    ):
        z = (d[anchor] - d[anchor].mean()) / d[anchor].std()
        prob = 1 / (1 + np.exp(-(np.log(0.15 / 0.85) + z)))
        out.loc[rng.random(len(d)) < prob.to_numpy(), col] = np.nan
    for col in ("sex", "ageyr"):
        out.loc[rng.random(len(d)) < 0.1, col] = np.nan
    return out


def _demo60() -> tuple[str, pd.DataFrame]:
    from radsem.demo import DEMO_MECHANISM_MODEL, sem_table
    from radsem.simulate import simulate_cohort

    cohort = simulate_cohort(n=60, seed=0, images=False)
    return DEMO_MECHANISM_MODEL, sem_table(cohort).reset_index(drop=True)


@functools.lru_cache(maxsize=None)
def _pair(case: str, estimator: str):
    from radsem.engines import fit_lavaan

    model, data = {"demo": _demo60, "hs": lambda: (HS_COV_MODEL, _hs_mar())}[case]()
    opts = {"missing": "ml", "estimator": estimator, "fixed_x": False}
    ours = radsem.sem(model, data, **opts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RadsemWarning)
        ref = fit_lavaan(model, data, **opts)
    return ours, ref


@pytest.mark.parametrize(("case", "estimator"), [("demo", "MLR"), ("demo", "ML"), ("hs", "MLR")])
def test_robust_indices_with_random_covariates_match_lavaan(r_lavaan, case, estimator):
    ours, ref = _pair(case, estimator)
    fa, fb = ours.fit_measures(), ref.fit_measures()
    names = [
        "cfi.robust",
        "tli.robust",
        "rmsea.robust",
        "rmsea.ci.lower.robust",
        "rmsea.ci.upper.robust",
        "rmsea.pvalue.robust",
    ]
    if estimator == "MLR":
        names += ["baseline.chisq.scaled", "baseline.df.scaled", "cfi.scaled"]
    for key in names:
        assert key in fa.index, key
    bad = []
    for key in fb.index.intersection(fa.index):
        want, got = float(fb[key]), float(fa[key])
        if np.isfinite(want) and not np.isclose(got, want, rtol=1e-4, atol=1e-8):
            bad.append((key, got, want))
    assert not bad, bad
    m = ours.parameter_estimates().merge(
        ref.parameter_estimates(), on=["lhs", "op", "rhs", "group"], suffixes=("", "_l")
    )
    np.testing.assert_allclose(m["est"], m["est_l"], atol=1e-4)
    np.testing.assert_allclose(m["se"], m["se_l"], rtol=1e-4, atol=1e-7)


def test_baseline_frees_the_covariate_block():
    rng = np.random.default_rng(3)
    x = rng.multivariate_normal(
        np.zeros(4),
        [[1, 0.3, 0.2, 0], [0.3, 1, 0.1, 0.2], [0.2, 0.1, 1, 0.5], [0, 0.2, 0.5, 1]],
        size=200,
    )
    x[rng.random(200) < 0.2, 0] = np.nan
    x[rng.random(200) < 0.2, 3] = np.nan
    mp = missing_patterns(x)
    plain = baseline_fit(mp)
    free = baseline_fit(mp, x_free=[2, 3])
    assert free.npar == plain.npar + 1  # one covariance among the two covariates
    assert plain.cov[2, 3] == 0.0
    em = em_saturated(missing_patterns(x[:, 2:]), max_iter=10_000, tol=1e-12, warn=False)
    np.testing.assert_allclose(free.cov[2:, 2:], em.cov, atol=1e-8)
    np.testing.assert_allclose(free.mean[2:], em.mean, atol=1e-8)
    # the free block is the ML solution: its log-likelihood beats the diagonal one
    assert free.logl > plain.logl
    # a single covariate has no covariance to free
    one = baseline_fit(mp, x_free=[3])
    np.testing.assert_allclose(one.cov, plain.cov)
    assert one.npar == plain.npar
