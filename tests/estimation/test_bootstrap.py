"""Bootstrap of the SEM engine: properties, bad input, and parity with lavaan 0.6-14.

Monte Carlo tolerances (the ``slow`` comparison with lavaan's own ``se = "bootstrap"``):
radsem and lavaan draw different resamples, so each bootstrap SE carries Monte Carlo error
``sd(se_hat) ~ se sqrt((kurt - 1) / (4 R))`` (``kurt`` the kurtosis of the draws; ``se / sqrt(2R)``
for normal draws) and each percentile limit ``sd(q_p) ~ sqrt(p (1 - p) / R) / f(q_p)``. The
difference of two independent runs has sqrt(2) times that; the tests allow 4 such standard
deviations. Everything else is exact: refits on the *same* resamples agree with lavaan to
optimiser precision, and lavaan's interval code applied to radsem's draws gives radsem's limits.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import radsem
from radsem.datasets import load
from radsem.datasets.example_models import HOLZINGER_SWINEFORD_CFA, POLITICAL_DEMOCRACY_SEM
from radsem.errors import (
    ConvergenceWarning,
    EstimationError,
    ImproperSolutionWarning,
    RadsemWarning,
)
from radsem.estimation.bootstrap.bollen_stine import bollen_stine_data
from radsem.estimation.bootstrap.intervals import (
    bca_ci,
    boot_quantile,
    jackknife_acceleration,
    percentile_ci,
)
from radsem.estimation.bootstrap.resample import free_parameter_names
from radsem.estimation.core.samplestats import sample_stats

from _bootstrap_reference import (  # isort: skip
    MEDIATION,
    ONE_FACTOR,
    factor_data,
    load_reference,
    mediation_data,
)

R_MED = 200  # replicates of the shared mediation bootstrap


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return load("HolzingerSwineford1939")


@pytest.fixture(scope="module")
def med_fit():
    return radsem.sem(MEDIATION, mediation_data(), se="bootstrap", bootstrap=R_MED, seed=42)


@pytest.fixture(scope="module")
def med_boot(med_fit):
    return med_fit._boot


def _rows(data: pd.DataFrame, group: str | None, indices, b: int) -> np.ndarray:
    """Rows of ``data`` in replicate ``b`` (groups in radsem's = lavaan's order)."""
    if group is None:
        return indices[0][b]
    labels = pd.unique(data[group])
    return np.concatenate(
        [
            np.flatnonzero(data[group].to_numpy() == lab)[indices[g][b]]
            for g, lab in enumerate(labels)
        ]
    )


# -- reproducibility ------------------------------------------------------------------------
def test_same_seed_same_draws_and_different_seed_differs(med_fit, med_boot):
    # indices are drawn as one R x n block: the first 30 of R_MED replicates are those of R=30
    again = med_fit.bootstrap(R=30, seed=42)
    pd.testing.assert_frame_equal(again.draws, med_boot.draws.iloc[:30])
    pd.testing.assert_frame_equal(again.defined_draws, med_boot.defined_draws.iloc[:30])
    other = med_fit.bootstrap(R=10, seed=43)
    assert not np.allclose(other.draws.to_numpy(), med_boot.draws.to_numpy()[:10])
    assert med_boot.seed == 42
    assert med_boot.R == R_MED


def test_n_jobs_two_equals_n_jobs_one(med_fit):
    one = med_fit.bootstrap(R=16, seed=42)
    two = med_fit.bootstrap(R=16, seed=42, n_jobs=2)
    np.testing.assert_array_equal(two.draws.to_numpy(), one.draws.to_numpy())
    np.testing.assert_array_equal(two.chisq.to_numpy(), one.chisq.to_numpy())


def test_seed_none_is_recorded_and_reproducible(med_fit):
    first = med_fit.bootstrap(R=5)
    assert isinstance(first.seed, int)
    again = med_fit.bootstrap(R=5, seed=first.seed)
    pd.testing.assert_frame_equal(first.draws, again.draws)


# -- draws are the estimates of the resampled data ---------------------------------------------
def test_replicate_equals_fit_of_resampled_data(hs):
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ ageyr"
    fit = radsem.sem(model, hs)
    res = fit.bootstrap(R=3, seed=7)
    for b in range(3):
        refit = radsem.sem(model, hs.iloc[_rows(hs, None, res.indices, b)])
        np.testing.assert_allclose(res.draws.iloc[b].to_numpy(), refit._theta, atol=1e-6)
        std = res.standardized_draws("std.all").iloc[b].to_numpy()
        np.testing.assert_allclose(std, refit._table["std_all"].to_numpy()[: std.size], atol=1e-6)
    assert list(res.draws.columns) == free_parameter_names(fit._problem.model)


def test_multigroup_resamples_within_groups(hs):
    fit = radsem.cfa(HOLZINGER_SWINEFORD_CFA, hs, group="school", group_equal=["loadings"])
    res = fit.bootstrap(R=4, seed=1)
    sizes = [st.nobs for st in fit._problem.stats]
    assert [idx.shape for idx in res.indices] == [(4, n) for n in sizes]
    rows = _rows(hs, "school", res.indices, 2)
    refit = radsem.cfa(
        HOLZINGER_SWINEFORD_CFA, hs.iloc[rows], group="school", group_equal=["loadings"]
    )
    np.testing.assert_allclose(res.draws.iloc[2].to_numpy(), refit._theta, atol=1e-6)


def test_mlr_draws_equal_ml_draws(hs):
    ml = radsem.cfa(HOLZINGER_SWINEFORD_CFA, hs).bootstrap(R=5, seed=3)
    mlr = radsem.cfa(HOLZINGER_SWINEFORD_CFA, hs, estimator="MLR").bootstrap(R=5, seed=3)
    np.testing.assert_allclose(mlr.draws.to_numpy(), ml.draws.to_numpy(), atol=1e-10)


# -- se = "bootstrap" ---------------------------------------------------------------------------
def test_se_bootstrap_table_uses_the_draws(med_fit):
    fit, res = med_fit, med_fit._boot
    pe = fit.parameter_estimates()
    model = fit._problem.model
    draws = res.draws.to_numpy()
    np.testing.assert_allclose(pe["se"].to_numpy()[model.free_rows], draws.std(axis=0), rtol=1e-12)
    dpe = pe[pe["op"] == ":="]
    np.testing.assert_allclose(dpe["se"], res.defined_draws.std(ddof=1).to_numpy(), rtol=1e-12)
    free = model.free_rows
    np.testing.assert_allclose(
        pe["z"].to_numpy()[free], pe["est"].to_numpy()[free] / draws.std(axis=0)
    )
    lo, hi = percentile_ci(res.defined_draws.to_numpy(), 0.95).T
    np.testing.assert_allclose(dpe["ci_lower"], lo)
    np.testing.assert_allclose(dpe["ci_upper"], hi)
    # the indirect effect is clearly positive here (a = 0.5, b = 0.4 in the simulation)
    ab = dpe.set_index("lhs").loc["ab"]
    assert 0 < ab["ci_lower"] < ab["est"] < ab["ci_upper"]
    for kind in ("basic", "norm", "bca.simple"):
        other = fit.parameter_estimates(boot_ci_type=kind)
        assert np.isfinite(other[["ci_lower", "ci_upper"]].to_numpy()).all()
        assert (other["ci_lower"] <= other["ci_upper"]).all()


def test_norm_and_basic_formulas(med_fit, med_boot):
    est = med_fit._theta
    t = med_boot.draws.to_numpy()
    se = t.std(axis=0)
    norm = med_boot.intervals(0.9, "norm").iloc[: est.size]
    centre = 2 * est - t.mean(axis=0)
    np.testing.assert_allclose(norm["ci_lower"], centre - 1.6448536269514722 * se)
    basic = med_boot.intervals(0.9, "basic").iloc[: est.size]
    perc = med_boot.intervals(0.9, "perc").iloc[: est.size]
    np.testing.assert_allclose(basic["ci_lower"], 2 * est - perc["ci_upper"])
    np.testing.assert_allclose(basic["ci_upper"], 2 * est - perc["ci_lower"])


# -- interval maths -----------------------------------------------------------------------------
def test_boot_quantile_order_statistics_and_interpolation():
    t = np.arange(1.0, 1000.0)  # 999 draws: (R + 1) * 0.025 = 25 exactly
    q, extreme = boot_quantile(t[::-1], np.array([0.025, 0.975]))
    np.testing.assert_allclose(q, [25.0, 975.0])
    assert not extreme
    from scipy.stats import norm

    q, _ = boot_quantile(t[:99], np.array([0.025]))  # rk = 2.5: between the 2nd and 3rd
    w = (norm.ppf(0.025) - norm.ppf(0.02)) / (norm.ppf(0.03) - norm.ppf(0.02))
    np.testing.assert_allclose(q, [2.0 + w])
    _, extreme = boot_quantile(t[:20], np.array([0.025]))
    assert extreme
    with pytest.warns(RadsemWarning, match="smallest or largest draw"):
        percentile_ci(t[:20, None], 0.95)


def test_bca_equals_percentile_for_symmetric_draws_without_acceleration(rng):
    half = rng.normal(size=(500, 3)) * [1.0, 2.0, 0.5]
    draws = np.vstack([half, -half]) + [1.0, -2.0, 0.0]
    est = np.array([1.0, -2.0, 0.0])
    perc = percentile_ci(draws, 0.95)
    np.testing.assert_allclose(bca_ci(est, draws, 0.95, np.zeros(3)), perc, atol=1e-12)
    np.testing.assert_allclose(bca_ci(est, draws, 0.95), perc, atol=1e-12)
    # a positive acceleration moves both limits up
    moved = bca_ci(est, draws, 0.95, np.full(3, 0.1))
    assert (moved > perc).all()


def test_jackknife_acceleration_of_the_mean(rng):
    x = rng.chisquare(2, 40)
    jack = np.array([[np.delete(x, i).mean()] for i in range(x.size)])
    d = x - x.mean()
    expected = (d**3).sum() / (6 * ((d**2).sum()) ** 1.5)
    np.testing.assert_allclose(jackknife_acceleration(jack), [expected], rtol=1e-10)


def test_full_bca_uses_jackknife_and_regression_acceleration():
    fit = radsem.sem(MEDIATION, mediation_data(n=40), se="bootstrap", bootstrap=60, seed=3)
    res = fit._boot
    with warnings.catch_warnings():  # R = 60: BCa may need the extreme draws
        warnings.simplefilter("ignore", RadsemWarning)
        pe = fit.parameter_estimates(boot_ci_type="bca")
        direct = res.intervals(0.95, "bca")["ci_lower"].to_numpy()
        jack = res.intervals(0.8, boot_ci_type="bca", acceleration="jackknife")
        simple = res.intervals(0.8, boot_ci_type="bca.simple")
        reg = res.intervals(0.8, boot_ci_type="bca", acceleration="regression")
    assert not np.allclose(jack["ci_lower"], simple["ci_lower"])
    free = fit._problem.model.free_rows
    np.testing.assert_allclose(pe["ci_lower"].to_numpy()[free], direct[: free.size])
    theta, _ = res._jackknife
    assert theta.shape == (40, fit._problem.nfree)  # one leave-one-out refit per case
    assert np.isfinite(reg[["ci_lower", "ci_upper"]].to_numpy()).all()
    # both estimate the same acceleration: the limits are close
    np.testing.assert_allclose(reg["ci_lower"], jack["ci_lower"], atol=0.2 * float(res.se.max()))
    small = fit.bootstrap(R=20, seed=1)
    with pytest.raises(EstimationError, match="more successful replicates"):
        small.intervals(boot_ci_type="bca", acceleration="regression")


# -- Bollen-Stine -------------------------------------------------------------------------------
@pytest.mark.parametrize("estimator", ["ML", "GLS", "ULS"])
def test_bollen_stine_data_reproduce_the_implied_moments(hs, estimator):
    fit = radsem.cfa(
        HOLZINGER_SWINEFORD_CFA, hs, group="school", meanstructure=True, estimator=estimator
    )
    z = bollen_stine_data(fit._problem, fit._theta)
    for g, (zg, imp) in enumerate(zip(z, fit.implied(), strict=True)):
        frame = pd.DataFrame(zg, columns=fit.spec.observed)
        st = sample_stats(frame, fit.spec.observed)
        cov = st.cov * (st.nobs / (st.nobs - 1) if estimator != "ML" else 1.0)
        np.testing.assert_allclose(cov, imp["cov"].to_numpy(), atol=1e-10)
        np.testing.assert_allclose(st.mean, imp["mean"].to_numpy(), atol=1e-10)
    # the model fits the transformed data exactly: same estimates, chi-square 0
    frame = pd.concat(
        [
            pd.DataFrame(zg, columns=fit.spec.observed).assign(school=lab)
            for zg, lab in zip(z, pd.unique(hs["school"]), strict=True)
        ]
    )
    refit = radsem.cfa(
        HOLZINGER_SWINEFORD_CFA, frame, group="school", meanstructure=True, estimator=estimator
    )
    np.testing.assert_allclose(refit._theta, fit._theta, atol=1e-6)
    assert refit.fit_measures()["chisq"] < 1e-8


@pytest.fixture(scope="module")
def factor_bs():
    fit = radsem.cfa(ONE_FACTOR, factor_data())
    return fit, fit.bootstrap(R=150, type="bollen.stine", seed=77)


def test_bollen_stine_pvalue_counts_larger_statistics(factor_bs):
    fit, res = factor_bs
    t0 = fit.fit_measures()["chisq"]
    assert res.chisq_original == pytest.approx(t0)
    ok = res.chisq.to_numpy()[res.ok]
    assert res.pvalue == pytest.approx(np.mean(ok > t0))
    # under the transformed (null) population the mean statistic is near df = 5
    assert 3 < ok.mean() < 8
    assert np.isnan(fit.bootstrap(R=3, seed=1).pvalue)


def test_fiml_bootstrap_and_pattern_wise_bollen_stine(hs):
    data = _hs_missing()
    fit = radsem.cfa(HOLZINGER_SWINEFORD_CFA, data, missing="ml")
    res = fit.bootstrap(R=4, seed=2)
    refit = radsem.cfa(
        HOLZINGER_SWINEFORD_CFA, data.iloc[_rows(data, None, res.indices, 1)], missing="ml"
    )
    np.testing.assert_allclose(res.draws.iloc[1].to_numpy(), refit._theta, atol=1e-5)
    z = bollen_stine_data(fit._problem, fit._theta)[0]
    assert np.array_equal(np.isnan(z), np.isnan(fit._problem.stats[0].data))
    complete = ~np.isnan(z).any(axis=1)
    full = radsem.cfa(HOLZINGER_SWINEFORD_CFA, hs)
    zc = bollen_stine_data(full._problem, full._theta)[0]
    assert zc.shape == (301, 9)
    assert complete.sum() > 100
    with pytest.warns(RadsemWarning, match="Enders"):
        bs = fit.bootstrap(R=4, type="bollen.stine", seed=2)
    assert 0 <= bs.pvalue <= 1


# -- failed and improper replicates ---------------------------------------------------------------
def test_failed_replicates_are_reported_and_excluded():
    rng = np.random.default_rng(0)
    n = 30
    x = np.zeros(n)
    x[3] = 1.0  # a rare exposure: resamples without case 3 have no variance in x
    data = pd.DataFrame({"x": x, "y": 0.5 * x + rng.normal(size=n)})
    fit = radsem.sem("y ~ x", data)
    with pytest.warns(ConvergenceWarning, match=r"bootstrap replicates failed or did not conv"):
        res = fit.bootstrap(R=40, seed=4)
    failed = res.failed_idx
    assert failed.size > 0
    assert failed.size + res.n_successful == 40
    assert res.draws.iloc[failed].isna().all().all()
    assert res.counts["failed"] == failed.size
    assert res.counts["successful"] == res.n_successful
    assert all("variance" in m or "positive definite" in m for m in res.messages[failed])
    ok = res.draws.to_numpy()[res.ok]
    np.testing.assert_allclose(np.sqrt(np.diag(res.vcov)), ok.std(axis=0))


def test_improper_replicates_are_kept_and_reported():
    # the residual variance of dem65 is small: a third of the replicates make it negative
    fit = radsem.sem(POLITICAL_DEMOCRACY_SEM, load("PoliticalDemocracy"))
    with pytest.warns(ImproperSolutionWarning, match=r"replicates have improper solutions"):
        res = fit.bootstrap(R=20, seed=8)
    improper = res.nonadmissible_idx
    assert improper.size > 0
    assert res.draws.iloc[improper].notna().all().all()
    assert res.n_successful == 20
    assert all(
        "dem65" in m or "negative" in m or "positive" in m for m in res.messages.iloc[improper]
    )


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"R": 1}, "integer >= 2"),
        ({"R": 10.5}, "integer >= 2"),
        ({"R": True}, "integer >= 2"),
        ({"type": "parametric"}, "unknown bootstrap type 'parametric'"),
        ({"n_jobs": 0}, "n_jobs must be"),
    ],
)
def test_bad_bootstrap_arguments(med_fit, kwargs, message):
    with pytest.raises(EstimationError, match=message):
        med_fit.bootstrap(**{"R": 10, **kwargs})


def test_bad_interval_arguments(med_fit, med_boot):
    with pytest.raises(EstimationError, match="unknown boot_ci_type 'bca.full'"):
        med_boot.intervals(boot_ci_type="bca.full")
    with pytest.raises(EstimationError, match="unknown boot_ci_type"):
        med_fit.parameter_estimates(boot_ci_type="percentile")
    with pytest.raises(EstimationError, match="unknown acceleration"):
        med_boot.intervals(boot_ci_type="bca", acceleration="empirical")
    with pytest.raises(EstimationError, match="level must be between 0 and 1"):
        med_boot.intervals(level=95)
    with pytest.raises(EstimationError, match="integer >= 2"):
        radsem.sem(MEDIATION, mediation_data(), se="bootstrap", bootstrap=1)


def test_standardized_intervals(med_fit, med_boot):
    out = med_boot.standardized_intervals("std.all", boot_ci_type="perc")
    table = med_fit.standardized_solution()
    np.testing.assert_allclose(out["est_std"], table["est_std"].to_numpy()[: len(out)])
    assert (out["ci_lower"] <= out["est_std"] + 1e-12).all()
    with pytest.raises(EstimationError, match="not available for the standardised"):
        med_boot.standardized_intervals(boot_ci_type="bca")


# -- parity with lavaan 0.6-14 --------------------------------------------------------------------
_REFIT_CASES = {
    "PoliticalDemocracy ML": ("sem", POLITICAL_DEMOCRACY_SEM, "PoliticalDemocracy", None, {}),
    "HS CFA GLS": (
        "cfa",
        HOLZINGER_SWINEFORD_CFA,
        "HolzingerSwineford1939",
        None,
        {"estimator": "GLS"},
    ),
    "HS CFA ULS": (
        "cfa",
        HOLZINGER_SWINEFORD_CFA,
        "HolzingerSwineford1939",
        None,
        {"estimator": "ULS"},
    ),
    "HS two groups, equal loadings": (
        "cfa",
        HOLZINGER_SWINEFORD_CFA,
        "HolzingerSwineford1939",
        "school",
        {"group_equal": ["loadings"]},
    ),
    "mediation with fixed.x": ("sem", MEDIATION, None, None, {}),
    "HS FIML, 15% missing on x2 x5 x9": (
        "cfa",
        HOLZINGER_SWINEFORD_CFA,
        "hs_missing",
        None,
        {"missing": "ml"},
    ),
}


def _case_data(name: str | None) -> pd.DataFrame:
    if name is None:
        return mediation_data()
    if name == "hs_missing":
        return _hs_missing()
    return load(name)


def _hs_missing() -> pd.DataFrame:
    data = load("HolzingerSwineford1939")
    rng = np.random.default_rng(3)
    for col in ("x2", "x5", "x9"):
        data.loc[rng.random(len(data)) < 0.15, col] = np.nan
    return data


@pytest.mark.r
@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, marks=pytest.mark.slow)
        if ("groups" in c or "FIML" in c or "ULS" in c)
        else c
        for c in _REFIT_CASES
    ],
)
def test_replicates_equal_lavaan_refits_on_the_same_resamples(r_lavaan, case):
    from _bootstrap_reference import lavaan_refits

    func, model, name, group, opts = _REFIT_CASES[case]
    data = _case_data(name)
    fit = getattr(radsem, func)(model, data, group=group, **opts)
    with warnings.catch_warnings():  # PoliticalDemocracy: a third of the replicates improper
        warnings.simplefilter("ignore", ImproperSolutionWarning)
        res = fit.bootstrap(R=6, seed=21)
    rows = np.array([_rows(data, group, res.indices, b) for b in range(6)])
    ropts = {**opts, **({"group": group} if group else {})}
    ref = lavaan_refits(func, model, data, rows, **ropts)
    assert list(ref.columns[:-2]) == list(res.draws.columns)
    ok = res.ok & np.isfinite(ref["chisq"].to_numpy())
    assert ok.sum() >= 3
    np.testing.assert_allclose(
        res.draws.to_numpy()[ok], ref.iloc[:, :-2].to_numpy()[ok], atol=2e-4, rtol=1e-4
    )
    np.testing.assert_allclose(
        res.chisq.to_numpy()[ok], ref["chisq"].to_numpy()[ok], rtol=1e-5, atol=1e-8
    )
    # the same replicates are flagged as improper (lavaan's post-check)
    lavaan_ok = ref["admissible"].to_numpy()[ok] == 1
    np.testing.assert_array_equal(res.admissible.to_numpy()[ok], lavaan_ok)


@pytest.mark.r
def test_bollen_stine_replicates_equal_lavaan_refits(r_lavaan):
    from _bootstrap_reference import lavaan_refits

    data = factor_data()
    fit = radsem.cfa(ONE_FACTOR, data)
    res = fit.bootstrap(R=4, type="bollen.stine", seed=5)
    z = pd.DataFrame(bollen_stine_data(fit._problem, fit._theta)[0], columns=fit.spec.observed)
    ref = lavaan_refits("cfa", ONE_FACTOR, z, np.array(res.indices[0]))
    np.testing.assert_allclose(res.chisq.to_numpy(), ref["chisq"].to_numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(res.draws.to_numpy(), ref.iloc[:, :-2].to_numpy(), atol=2e-4)


@pytest.mark.r
@pytest.mark.parametrize("kind", ["perc", "basic", "bca.simple"])
def test_intervals_equal_lavaan_intervals_from_the_same_draws(r_lavaan, med_fit, med_boot, kind):
    from _bootstrap_reference import lavaan_intervals

    ref = lavaan_intervals("sem", MEDIATION, mediation_data(), med_boot.draws.to_numpy(), kind, 0.9)
    mine = med_boot.intervals(0.9, kind)
    ref = ref[(ref["op"] != "~~") | (ref["lhs"] != "x")]  # fixed.x variance of x: not free
    ref_lab = ref["label"].where(ref["label"] != "", ref["lhs"] + ref["op"] + ref["rhs"])
    ref = ref.assign(name=ref_lab.to_numpy()).set_index("name")
    np.testing.assert_allclose(mine["ci_lower"], ref.loc[mine.index, "ci.lower"], atol=1e-10)
    np.testing.assert_allclose(mine["ci_upper"], ref.loc[mine.index, "ci.upper"], atol=1e-10)


def test_bootstrap_se_and_percentile_limits_match_lavaan_within_mc_error(med_fit, med_boot):
    """radsem (R = 200) against lavaan's se = "bootstrap" (R = 1000, stored)."""
    ref = load_reference()
    r_ref = ref["R_boot"]
    lav = pd.DataFrame(ref["mediation"]["parameters"])
    pe = med_fit.parameter_estimates()
    merged = pe.merge(lav, on=["lhs", "op", "rhs"], suffixes=("", "_r"))
    assert len(merged) == 7  # a, b, c, two residual variances, ab, total
    np.testing.assert_allclose(merged["est"], merged["est_r"], atol=1e-6)
    draws = pd.concat([med_boot.draws, med_boot.defined_draws], axis=1)
    names = [
        lab if lab else f"{lhs}{op}{rhs}"
        for lhs, op, rhs, lab in zip(
            merged["lhs"], merged["op"], merged["rhs"], merged["label"], strict=True
        )
    ]
    t = draws[names].to_numpy()
    z = (t - t.mean(axis=0)) / t.std(axis=0)
    kurt = (z**4).mean(axis=0)
    both = np.sqrt(1 / R_MED + 1 / r_ref)
    mc_se = merged["se"].to_numpy() * np.sqrt((kurt - 1) / 4) * both
    assert (np.abs(merged["se"] - merged["se_r"]) <= 4 * mc_se).all()
    for col, p in (("ci_lower", 0.025), ("ci_upper", 0.975)):
        spread = np.quantile(t, p + 0.01, axis=0) - np.quantile(t, p - 0.01, axis=0)
        mc_q = np.sqrt(p * (1 - p)) * spread / 0.02 * both
        diff = np.abs(merged[col] - merged[f"{col}_r"]).to_numpy()
        assert (diff <= 4 * mc_q).all(), (diff, mc_q)


def test_bollen_stine_pvalue_matches_lavaan_within_mc_error(factor_bs):
    """radsem (R = 150) against lavaan's bootstrapLavaan(type = "bollen.stine") (R = 1000)."""
    ref = load_reference()["bollen_stine"]
    _, res = factor_bs
    p, p_ref = res.pvalue, ref["pvalue"]
    mc = np.sqrt(p * (1 - p) / res.n_successful + p_ref * (1 - p_ref) / ref["successful"])
    assert abs(p - p_ref) <= 4 * max(mc, 1 / res.n_successful)
