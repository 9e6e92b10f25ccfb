"""Ordered outcomes with exogenous covariates (lavaan's conditional.x = TRUE), live against lavaan.

Cases: the HolzingerSwineford1939 indicators cut into three ordered categories with age and sex
as covariates of a factor (a MIMIC model), an ordinal + continuous mixture, ULSMV, WLS, the
theta parameterisation, two groups, ``baseline_conditional_x_free_slopes=False``, ordinal
observed outcomes regressed on covariates, and a seeded simulated MIMIC model with five
ordered indicators and two covariates (one binary). Every number is compared with lavaan 0.6-14
through rpy2 (skipped where R is absent): estimates 1e-4 absolute, standard errors 1e-4
relative, test statistics and fit measures 1e-4 relative.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import radsem
from radsem.datasets import load
from radsem.errors import DataWarning, EstimationError
from radsem.estimation.families.ordinal import cut_into_categories

EST_TOL = 1e-4  # absolute
REL_TOL = 1e-4  # relative: standard errors, statistics, fit measures

MIMIC = "f =~ x1 + x2 + x3\nf ~ ageyr + female"
ORD3 = {"ordered": ["x1", "x2", "x3"]}
SIM_MIMIC = "f =~ y1 + y2 + y3 + y4 + y5\nf ~ z + treated"
SIM_ORD = {"ordered": ["y1", "y2", "y3", "y4", "y5"]}

CASES = {
    "hs_mimic_wlsmv": ("hs", MIMIC, ORD3),
    "hs_mimic_ulsmv": ("hs", MIMIC, {**ORD3, "estimator": "ULSMV"}),
    "hs_mimic_wls": ("hs", MIMIC, {**ORD3, "estimator": "WLS"}),
    "hs_mimic_wlsm": ("hs", MIMIC, {**ORD3, "estimator": "WLSM"}),
    "hs_mimic_fixed_slopes": ("hs", MIMIC, {**ORD3, "baseline_conditional_x_free_slopes": False}),
    "hs_mimic_theta": ("hs", MIMIC, {**ORD3, "parameterization": "theta"}),
    "hs_mimic_groups": ("hs", MIMIC, {**ORD3, "group": "school"}),
    "hs_mixed": ("hs", "f =~ x1 + x2 + x3 + x4\nf ~ ageyr + female", ORD3),
    "hs_mixed_fixed_slopes": (
        "hs",
        "f =~ x1 + x2 + x3 + x4\nf ~ ageyr + female",
        {**ORD3, "baseline_conditional_x_free_slopes": False},
    ),
    "hs_observed_regression": (
        "hs",
        "x1 ~ ageyr + female\nx2 ~ ageyr\nx3 ~ female",
        ORD3,
    ),
    "hs_two_factors_mixed": (
        "hs",
        "f1 =~ x1 + x2 + x3\nf2 =~ x4 + x5 + x6\nf1 ~ ageyr\nf2 ~ female + ageyr",
        {"ordered": ["x1", "x2", "x3", "x5", "x6"]},
    ),
    "hs_groups_equal": (
        "hs",
        MIMIC,
        {**ORD3, "group": "school", "group_equal": ["loadings", "thresholds"]},
    ),
    "hs_std_lv_dif": ("hs", MIMIC + "\nx1 ~ female", {**ORD3, "std_lv": True}),
    "hs_listwise": ("hs_missing", MIMIC, ORD3),
    "hs_binary": ("hs_binary", MIMIC, ORD3),
    "hs_pairwise": ("hs_pairwise", MIMIC, {**ORD3, "missing": "pairwise"}),
    "hs_pairwise_mixed": (
        "hs_pairwise",
        "f =~ x1 + x2 + x3 + x4 + x5\nf ~ ageyr + female",
        {**ORD3, "missing": "pairwise"},
    ),
    "sim_mimic_wlsmv": ("sim", SIM_MIMIC, SIM_ORD),
    "sim_mimic_ulsmv": ("sim", SIM_MIMIC, {**SIM_ORD, "estimator": "ULSMV"}),
    "sim_mimic_wls": ("sim", SIM_MIMIC, {**SIM_ORD, "estimator": "WLS"}),
    "sim_mimic_fixed_slopes": (
        "sim",
        SIM_MIMIC,
        {**SIM_ORD, "baseline_conditional_x_free_slopes": False},
    ),
}


def hs_data() -> pd.DataFrame:
    """HolzingerSwineford1939: x1-x9 cut into 3 categories, x4 also kept continuous."""
    hs = load("HolzingerSwineford1939")
    data = cut_into_categories(hs[[f"x{i}" for i in range(1, 10)]], 3)
    data["x4"] = hs["x4"]
    data["ageyr"] = hs["ageyr"].astype(float)
    data["female"] = (hs["sex"] == 2).astype(float)
    data["school"] = hs["school"]
    return data


def simulated_mimic(n: int = 800, seed: int = 17) -> pd.DataFrame:
    """A MIMIC population: f = 0.5 z - 0.4 treated + zeta, five probit indicators with 3 to 5
    categories (known truth: loadings 1, 0.8, 1.2, 0.7, 0.9 on y*, residual variance 1)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    treated = (rng.random(n) < 0.4).astype(float)
    f = 0.5 * z - 0.4 * treated + rng.normal(scale=0.8, size=n)
    cuts = [(-0.8, 0.6), (-1.0, 0.0, 1.0), (-0.3, 0.9), (-1.2, -0.2, 0.5, 1.4), (0.0, 1.1)]
    out = {}
    for k, (lam, tau) in enumerate(zip((1.0, 0.8, 1.2, 0.7, 0.9), cuts, strict=True)):
        ystar = lam * f + rng.normal(size=n)
        out[f"y{k + 1}"] = np.searchsorted(np.asarray(tau), ystar) + 1
    data = pd.DataFrame(out)
    data["z"] = z
    data["treated"] = treated
    return data


def _data(kind: str) -> pd.DataFrame:
    if kind == "hs_missing":  # two missing covariate values and one missing item: listwise
        data = hs_data()
        data.loc[[3, 7], "ageyr"] = np.nan
        data.loc[5, "x2"] = np.nan
        return data
    if kind == "hs_pairwise":  # missing item values, and two rows with a missing covariate
        data = hs_data()
        data[["x2", "x3"]] = data[["x2", "x3"]].astype(float)
        data.loc[[2, 4, 8], "x2"] = np.nan
        data.loc[[10, 11, 40, 41], "x3"] = np.nan
        data.loc[[20, 21, 22], "x4"] = np.nan
        data.loc[[30, 31], "ageyr"] = np.nan
        return data
    if kind == "hs_binary":  # binary items: one threshold each
        data = hs_data()
        hs = load("HolzingerSwineford1939")
        data[["x1", "x2", "x3"]] = cut_into_categories(hs[["x1", "x2", "x3"]], 2)
        return data
    return hs_data() if kind == "hs" else simulated_mimic()


@pytest.fixture(scope="module")
def fits() -> dict:
    return {}


def _pair(fits, name):
    if name not in fits:
        from radsem.engines.lavaan import fit_lavaan

        kind, model, options = CASES[name]
        data = _data(kind)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)  # listwise deletion
            fit = radsem.sem(model, data, **options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lav = fit_lavaan(model, data, "sem", **options)
        fits[name] = (fit, lav)
    return fits[name]


def _compare_parameters(pe: pd.DataFrame, ref: pd.DataFrame) -> None:
    keys = ["lhs", "op", "rhs", "group"]
    merged = pe.merge(ref, on=keys, suffixes=("", "_ref"), how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both", keys]
    np.testing.assert_allclose(merged["est"], merged["est_ref"], rtol=0, atol=EST_TOL)
    np.testing.assert_allclose(merged["std_all"], merged["std_all_ref"], rtol=0, atol=EST_TOL)
    se, se_ref = merged["se"].to_numpy(), merged["se_ref"].to_numpy()
    free = se_ref > 0
    assert np.all(se[~free] == 0)
    np.testing.assert_allclose(se[free], se_ref[free], rtol=REL_TOL)


def _compare_measures(fm: pd.Series, ref: pd.Series) -> None:
    assert list(fm.index) == list(ref.index)  # the same measures, in lavaan's order
    assert not (fm.isna() ^ ref.isna()).any(), fm.index[fm.isna() ^ ref.isna()].tolist()
    ok = fm.notna()
    a, b = fm[ok].to_numpy(), ref[ok].to_numpy()
    # atol: quantities that are zero in theory (residuals of a saturated part, which lavaan's
    # optimiser leaves at 1e-8) and p-values below 1e-12 (rounding noise of 1 - pchisq)
    np.testing.assert_allclose(a, b, rtol=REL_TOL, atol=1e-7)


@pytest.mark.parametrize("name", sorted(CASES))
def test_live_lavaan_parity(r_lavaan, fits, name):
    fit, lav = _pair(fits, name)
    assert fit.converged
    _compare_parameters(fit.parameter_estimates(), lav.parameter_estimates())
    fm = fit.fit_measures()
    _compare_measures(fm, lav.fit_measures())
    if "estimator" not in CASES[name][2]:
        assert {"chisq.scaled", "cfi.scaled", "rmsea.scaled"} <= set(fm.index)


@pytest.mark.parametrize(
    "name",
    ["hs_mixed", "sim_mimic_wlsmv", "hs_mimic_groups", "hs_two_factors_mixed", "hs_pairwise"],
)
def test_sample_statistics_equal_lavinspect(r_lavaan, fits, name):
    """wls.obs (thresholds, slopes, variances, residual correlations) and gamma."""
    fit, lav = _pair(fits, name)
    wls = lav._inspect("wls.obs")
    gamma = lav._inspect("gamma")
    ngroups = len(fit._problem.stats)
    wls = [wls] if ngroups == 1 else list(wls)
    gamma = [gamma] if ngroups == 1 else list(gamma)
    for st, w, g in zip(fit._problem.stats, wls, gamma, strict=True):
        assert list(st.wls_labels) == list(w.names)
        np.testing.assert_allclose(st.wls_obs, np.asarray(w), rtol=1e-6, atol=1e-8)
        ref = np.asarray(g)
        np.testing.assert_allclose(st.gamma, ref, rtol=1e-5, atol=1e-6 * np.abs(ref).max())


def test_fixed_slopes_baseline_counts_the_slopes(r_lavaan, fits):
    free, _ = _pair(fits, "hs_mimic_wlsmv")
    fixed, _ = _pair(fits, "hs_mimic_fixed_slopes")
    nslopes = 3 * 2
    assert fixed.fit_measures()["baseline.df"] == free.fit_measures()["baseline.df"] + nslopes
    assert fixed.fit_measures()["baseline.chisq"] > free.fit_measures()["baseline.chisq"]
    np.testing.assert_allclose(fixed._theta, free._theta)


def test_implied_reduced_form(r_lavaan, fits):
    fit, lav = _pair(fits, "hs_mixed")
    imp = fit.implied()[0]
    ref = lav._inspect("implied")
    np.testing.assert_allclose(
        imp["slopes"].to_numpy(), np.asarray(ref.rx2("res.slopes")), atol=EST_TOL
    )
    np.testing.assert_allclose(imp["th"].to_numpy(), np.asarray(ref.rx2("res.th")), atol=EST_TOL)
    assert list(imp["slopes"].columns) == ["ageyr", "female"]
    res = fit.residuals()[0]
    assert set(res) == {"cov", "th", "slopes"}


def test_simulated_truth_is_recovered():
    """Without R: with n = 4000 the WLSMV estimates are near the generating values.

    The delta parameterisation sets the *residual* variance of every y* given the covariates
    to 1, so the truth is rescaled: y_k* by ``sd_k = sqrt(lambda_k^2 psi + 1)`` and the factor
    by its marker y1, ``lambda_k* = lambda_k sd_1 / sd_k`` and ``gamma* = gamma / sd_1``.
    """
    data = simulated_mimic(n=4000, seed=3)
    fit = radsem.sem(SIM_MIMIC, data, **SIM_ORD)
    pe = fit.parameter_estimates().set_index(["lhs", "op", "rhs"])["est"]
    psi = 0.64
    lam = np.array([1.0, 0.8, 1.2, 0.7, 0.9])
    sd = np.sqrt(lam**2 * psi + 1.0)
    for k in range(1, 5):
        truth = lam[k] * sd[0] / sd[k]
        assert pe[("f", "=~", f"y{k + 1}")] == pytest.approx(truth, abs=0.1)
    assert pe[("f", "~", "z")] == pytest.approx(0.5 / sd[0], abs=0.05)
    assert pe[("f", "~", "treated")] == pytest.approx(-0.4 / sd[0], abs=0.08)
    assert pe[("f", "~~", "f")] == pytest.approx(psi / sd[0] ** 2, abs=0.06)
    assert pe[("y1", "|", "t1")] == pytest.approx(-0.8 / sd[0], abs=0.08)
    assert pe[("y4", "|", "t4")] == pytest.approx(1.4 / sd[3], abs=0.08)


def test_jacobian_matches_finite_differences():
    for options in (ORD3, {**ORD3, "parameterization": "theta"}):
        fit = radsem.sem("f =~ x1 + x2 + x3 + x4\nf ~ ageyr + female", hs_data(), **options)
        model, theta = fit._problem.model, fit._theta
        for a, b in zip(model.jacobian(theta), model._numeric_jacobian(theta), strict=True):
            np.testing.assert_allclose(a, b, atol=1e-7)


def test_refusals():
    data = hs_data()
    fit = radsem.sem(MIMIC, data, **ORD3)
    with pytest.raises(EstimationError, match="only method='ebm'"):
        fit.predict("bartlett")
    with pytest.raises(EstimationError, match="conditional_x=True"):
        radsem.sem(MIMIC, data, conditional_x=False, fixed_x=True, **ORD3)


def test_separating_covariate_is_refused():
    """A covariate equal to an item's category: the probit slope is infinite."""
    data = hs_data()
    data["sep"] = (data["x1"] == data["x1"].max()).astype(float)
    with pytest.raises(EstimationError, match="'sep' \\(almost\\) separates"):
        radsem.sem("f =~ x1 + x2 + x3\nf ~ sep + ageyr", data, **ORD3)


def test_joint_modelling_is_still_available():
    """fixed_x=False, conditional_x=False treats the covariates as (continuous) variables."""
    model = "f =~ x1 + x2 + x3\nf ~ ageyr"
    fit = radsem.sem(model, hs_data(), fixed_x=False, conditional_x=False, **ORD3)
    assert fit.converged
    assert not fit.spec.conditional_x


def test_difference_test_matches_lavtestlrt(r_lavaan, fits):
    """The scaled-and-shifted difference test of two conditional.x fits (lavTestLRT)."""
    from radsem.engines.lavaan import fit_lavaan

    fit, lav = _pair(fits, "hs_mimic_wlsmv")
    restricted = "f =~ x1 + x2 + x3\nf ~ 0*ageyr + female"
    data = hs_data()
    fit0 = radsem.sem(restricted, data, **ORD3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lav0 = fit_lavaan(restricted, data, "sem", **ORD3)
        ref = r_lavaan.lavTestLRT(lav0._fit, lav._fit)
    table = radsem.anova(fit0, fit, model_names=["r", "f"])
    chisq_diff = float(np.asarray(ref.rx2("Chisq diff"))[1])
    pvalue = float(np.asarray(ref.rx2("Pr(>Chisq)"))[1])
    assert table.loc["r", "Df diff"] == 1
    assert table.loc["r", "Chisq diff"] == pytest.approx(chisq_diff, rel=REL_TOL)
    assert table.loc["r", "Pr(>Chisq)"] == pytest.approx(pvalue, rel=REL_TOL)


@pytest.mark.parametrize(
    "name",
    [
        "hs_mimic_wlsmv",
        "hs_mimic_theta",
        "hs_two_factors_mixed",
        "hs_groups_equal",
        "hs_observed_regression",
        "sim_mimic_wls",
    ],
)
def test_modindices_match_lavaan(r_lavaan, fits, name):
    """Same rows and numbers as lavaan's modindices(), except rows lavaan adds that radsem
    does not compute: scaling factors (``~*~``) in the theta parameterisation, whose values
    repeat the residual covariances' (a lavaan 0.6-14 quirk), and regressions on ordered
    predictors in the delta parameterisation (see docs/sem-ordinal.md)."""
    fit, lav = _pair(fits, name)
    mine = fit.modindices()
    ref = lav.modindices()
    keys = ["lhs", "op", "rhs", "group"]
    ref = ref.assign(rhs=ref["rhs"].fillna(""), group=ref["group"].astype(int))
    merged = mine.merge(ref, on=keys, suffixes=("", "_ref"), how="outer", indicator=True)
    assert not (merged["_merge"] == "left_only").any()
    extra = merged[merged["_merge"] == "right_only"]
    ordered = set(fit.spec.ordered)
    delta = fit.options["parameterization"] == "delta"
    allowed = (extra["op"] == "~*~") | ((extra["op"] == "~") & extra["rhs"].isin(ordered) & delta)
    assert allowed.all(), extra
    both = merged[merged["_merge"] == "both"]
    assert len(both) > 0
    np.testing.assert_allclose(both["mi"], both["mi_ref"], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(both["epc"], both["epc_ref"], rtol=1e-3, atol=2e-4)
    np.testing.assert_allclose(both["sepc_all"], both["sepc_all_ref"], rtol=1e-3, atol=2e-4)


def test_probit_regression_is_the_ml_estimate(rng):
    """Without R: against a direct numerical maximisation of the ordered probit likelihood,
    and the casewise scores sum to zero at the optimum."""
    from scipy.optimize import minimize
    from scipy.stats import norm

    from radsem.estimation.families.ordinal.regressions import probit_regression

    n = 600
    x = np.column_stack([rng.normal(size=n), (rng.random(n) < 0.5).astype(float)])
    ystar = 0.7 * x[:, 0] - 0.5 * x[:, 1] + rng.normal(size=n)
    codes = np.searchsorted(np.array([-0.5, 0.4, 1.2]), ystar)
    fit = probit_regression(codes, (1, 2, 3, 4), x, name="y")

    def negloglik(par):
        tau = np.concatenate([[-np.inf], np.cumsum(np.r_[par[0], np.exp(par[1:3])]), [np.inf]])
        eta = x @ par[3:]
        return -np.sum(np.log(norm.cdf(tau[codes + 1] - eta) - norm.cdf(tau[codes] - eta)))

    res = minimize(negloglik, np.zeros(5), method="BFGS", options={"gtol": 1e-9})
    tau = np.cumsum(np.r_[res.x[0], np.exp(res.x[1:3])])
    np.testing.assert_allclose(fit.tau, tau, atol=1e-5)
    np.testing.assert_allclose(fit.slopes, res.x[3:], atol=1e-5)
    np.testing.assert_allclose(fit.sc_th.sum(axis=0), 0.0, atol=1e-8)
    np.testing.assert_allclose(fit.sc_sl.sum(axis=0), 0.0, atol=1e-8)
    assert fit.slopes == pytest.approx([0.7, -0.5], abs=0.15)  # the generating values


def test_residual_pearson_correlation_without_r(rng):
    """Two continuous outcomes: the residual correlation is that of the OLS residuals."""
    from radsem.estimation.families.ordinal.pairs_conditional import conditional_pair
    from radsem.estimation.families.ordinal.regressions import linear_regression

    n = 400
    x = rng.normal(size=(n, 2))
    e = rng.multivariate_normal([0, 0], [[1.0, 0.6], [0.6, 1.0]], size=n)
    y1 = 1.0 + x @ [0.5, -0.2] + e[:, 0]
    y2 = -2.0 + x @ [0.1, 0.3] + e[:, 1]
    m1, m2 = linear_regression(y1, x), linear_regression(y2, x)
    design = np.column_stack([np.ones(n), x])
    r1 = y1 - design @ np.linalg.lstsq(design, y1, rcond=None)[0]
    r2 = y2 - design @ np.linalg.lstsq(design, y2, rcond=None)[0]
    pair = conditional_pair(m1, m2, x)
    assert pair.rho == pytest.approx(np.corrcoef(r1, r2)[0, 1], abs=1e-12)
    assert m1.var == pytest.approx(np.mean(r1**2), rel=1e-12)
    assert pair.sc_rho.sum() == pytest.approx(0.0, abs=1e-8)


@pytest.mark.parametrize(
    "name",
    [
        "hs_mimic_wlsmv",
        "hs_mixed",
        "hs_two_factors_mixed",
        "sim_mimic_wlsmv",
        "hs_listwise",
        "hs_pairwise_mixed",
    ],
)
def test_ebm_scores_match_lavpredict(r_lavaan, fits, name):
    """EBM scores with the covariates in the prior: lavaan's optimiser stops a little earlier
    for some cases (medians ~1e-6, largest 8e-4)."""
    fit, lav = _pair(fits, name)
    ref = np.asarray(r_lavaan.lavPredict(lav._fit))
    scores = fit.predict()
    assert list(scores.index) == list(_data(CASES[name][0]).index)
    mine = scores.dropna().to_numpy()
    diff = np.abs(mine - ref)
    assert diff.max() < 1e-3
    assert np.median(diff) < 5e-6


def _neg_log_posterior(fit, row: pd.Series):
    """The posterior of one case written out directly (independent of the vectorised code)."""
    from scipy.stats import norm

    pe = fit.parameter_estimates().set_index(["lhs", "op", "rhs"])["est"]
    mean = pe[("f", "~", "ageyr")] * row["ageyr"] + pe[("f", "~", "female")] * row["female"]
    var = pe[("f", "~~", "f")]
    tau = {v: [pe[(v, "|", f"t{k}")] for k in (1, 2)] for v in ("x1", "x2", "x3")}

    def value(eta):
        out = 0.5 * (eta - mean) ** 2 / var
        for v in ("x1", "x2", "x3"):
            shift = pe[(v, "~", "female")] * row["female"] if (v, "~", "female") in pe else 0.0
            cut = np.r_[-np.inf, tau[v], np.inf]
            sd = np.sqrt(pe[(v, "~~", v)])
            m = pe[("f", "=~", v)] * eta + shift
            c = int(row[v]) - 1
            out -= np.log(norm.cdf((cut[c + 1] - m) / sd) - norm.cdf((cut[c] - m) / sd))
        return out

    return value


def test_ebm_scores_with_a_direct_effect_are_the_posterior_modes():
    """With ``x1 ~ female`` the covariate also shifts x1's latent response. lavaan 0.6-14's
    lavPredict leaves such direct effects out of the posterior (its scores equal radsem's
    computed without them); radsem's are the modes of the full posterior, checked here
    against a direct one-dimensional maximisation."""
    from scipy.optimize import minimize_scalar

    data = hs_data()
    fit = radsem.sem(MIMIC + "\nx1 ~ female", data, **ORD3)
    scores = fit.predict()["f"]
    for i in (0, 5, 17, 100, 250):
        res = minimize_scalar(
            _neg_log_posterior(fit, data.iloc[i]),
            bounds=(-5, 5),
            method="bounded",
            options={"xatol": 1e-10},
        )
        assert scores.iloc[i] == pytest.approx(res.x, abs=1e-6)


def test_ebm_scores_by_group_equal_single_group_fits():
    """Without constraints, group 2's scores are those of the model fitted to that group
    alone (lavaan 0.6-14's group-2 EBM scores differ from its own single-group scores, as
    without covariates; see docs/sem-ordinal.md)."""
    data = hs_data()
    fit = radsem.sem(MIMIC, data, group="school", **ORD3)
    scores = fit.predict()
    alone = data[data["school"] == "Grant-White"]
    single = radsem.sem(MIMIC, alone, **ORD3).predict()
    g2 = scores[scores["group"] == 2]
    np.testing.assert_allclose(g2["f"].to_numpy(), single.loc[g2.index, "f"].to_numpy(), atol=1e-6)


@pytest.mark.parametrize("name", ["hs_mimic_wlsmv", "hs_mixed", "hs_std_lv_dif"])
def test_std_nox_matches_lavaan(r_lavaan, fits, name):
    """lavaan's standardizedSolution(type = "std.nox"): covariates left unstandardised."""
    from radsem._r import from_r_dataframe

    fit, lav = _pair(fits, name)
    ref = from_r_dataframe(r_lavaan.standardizedSolution(lav._fit, type="std.nox"))
    merged = fit.parameter_estimates().merge(ref, on=["lhs", "op", "rhs"], how="inner")
    assert len(merged) == len(ref)
    np.testing.assert_allclose(merged["std_nox"], merged["est.std"], atol=EST_TOL)


@pytest.mark.parametrize("name", ["hs_mimic_wlsmv", "hs_mixed", "hs_two_factors_mixed"])
def test_r2_matches_lavaan(r_lavaan, fits, name):
    """lavInspect(fit, "r2"): R-square of the latent responses (covariates' part included)."""
    fit, lav = _pair(fits, name)
    ref = lav._inspect("r2")
    ref = pd.Series(np.asarray(ref), index=list(ref.names))
    mine = fit.r2()
    np.testing.assert_allclose(mine[ref.index].to_numpy(), ref.to_numpy(), atol=EST_TOL)
