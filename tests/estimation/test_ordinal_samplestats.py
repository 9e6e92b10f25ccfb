"""Ordinal sample statistics (thresholds, polychoric/polyserial, wls.obs, gamma) vs lavaan 0.6-14.

Stored references: ``tests/reference/ordinal_stats/<case>.json``, written by
``tests/reference/make_ordinal_stats_references.py`` from::

    fit <- lavaan::cfa("f =~ ...", data, ordered = ..., estimator = "WLSMV", do.fit = FALSE)
    lavInspect(fit, "sampstat"); lavInspect(fit, "wls.obs"); lavInspect(fit, "gamma");
    diag(lavInspect(fit, "wls.v"))
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from scipy.special import ndtr

from radsem.errors import DataError, DataWarning, ModelSpecificationError
from radsem.estimation.families.ordinal import categorical_sample_stats, cut_into_categories
from radsem.estimation.families.ordinal.bivariate_normal import bvn_cdf, bvn_pdf
from radsem.estimation.families.ordinal.correlation import polychoric, polychoric_matrix, polyserial
from radsem.estimation.families.ordinal.polychoric import polychoric_cell_scores
from radsem.estimation.families.ordinal.polyserial import polyserial_scores
from radsem.estimation.families.ordinal.thresholds import extended_thresholds

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reference"))

from ordinal_stats_reference import (  # noqa: E402
    HERE,
    ORDINAL_CASES,
    case_frame,
    lavaan_sample_stats,
    load_ordinal_reference,
    one_factor_model,
)

# lavaan stops its polyserial search (nlminb without Hessian, rel.tol 1e-10) about 1e-5 short
# of the optimum; radsem solves to machine precision (see docs/sem-ordinal-stats.md)
LOOSE = {"hs_mixed", "hs_mixed_pairwise"}


def _stats(name):
    case = ORDINAL_CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return categorical_sample_stats(
            case_frame(name), case.variables, case.ordered, missing=case.missing
        )


def _compare(name, ours, ref):
    case = ORDINAL_CASES[name]
    assert ours.nobs == ref["nobs"]
    assert list(ours.wls_labels) == list(ref["wls_names"])
    th = np.concatenate([ours.thresholds[v] for v in case.ordered])
    np.testing.assert_allclose(th, ref["th"], rtol=1e-10, atol=1e-12)
    loose = name in LOOSE
    np.testing.assert_allclose(ours.cov, ref["cov"], rtol=1e-6, atol=3e-5 if loose else 1e-7)
    np.testing.assert_allclose(
        ours.wls_obs, ref["wls_obs"], rtol=1e-6, atol=3e-5 if loose else 1e-7
    )
    if len(ref["mean"]):
        np.testing.assert_allclose(ours.mean, ref["mean"], rtol=1e-12, atol=1e-12)
    scale = np.abs(ref["gamma"]).max()
    np.testing.assert_allclose(
        ours.gamma,
        ref["gamma"],
        rtol=2e-3 if loose else 1e-4,
        atol=(1e-4 if loose else 1e-6) * scale,
    )
    np.testing.assert_allclose(ours.wls_v, ref["wls_v"], rtol=1e-5 if loose else 1e-6)


@pytest.mark.parametrize("name", sorted(ORDINAL_CASES))
def test_matches_stored_lavaan(name):
    _compare(name, _stats(name), load_ordinal_reference(name)["lavaan"])


@pytest.mark.parametrize("name", sorted(ORDINAL_CASES))
def test_matches_live_lavaan(name, r_lavaan):
    case = ORDINAL_CASES[name]
    ref = lavaan_sample_stats(case_frame(name), case.variables, case.ordered, case.missing)
    for key in ("cov", "mean", "th", "wls_obs", "gamma", "wls_v"):
        ref[key] = np.asarray(ref[key], dtype=float)
    _compare(name, _stats(name), ref)
    stored = load_ordinal_reference(name)["lavaan"]
    np.testing.assert_allclose(ref["gamma"], stored["gamma"], rtol=1e-12)


@pytest.mark.parametrize("name", sorted(ORDINAL_CASES))
def test_stored_data_is_rebuilt_exactly(name):
    stored = pd.read_csv(HERE / f"{name}.csv")
    rebuilt = case_frame(name)
    np.testing.assert_array_equal(stored.to_numpy(float), rebuilt.to_numpy(float))


def test_listwise_deletion_warns():
    case = ORDINAL_CASES["hs3_missing"]
    with pytest.warns(DataWarning, match="42 of 301 rows"):
        out = categorical_sample_stats(case_frame("hs3_missing"), case.variables, case.ordered)
    assert out.nobs == 259


def test_zero_cells_recorded():
    assert ("a", "c") in _stats("binary_special").zero_cell_pairs
    assert len(_stats("sparse5").zero_cell_pairs) > 0


# --- bivariate normal -------------------------------------------------------------------


def test_bvn_cdf_matches_numerical_integration(rng):
    points = [(*(rng.normal(size=2) * 1.5), rng.uniform(-0.995, 0.995)) for _ in range(12)]
    # and the h = 0 / k = 0 branches of Owen's formula
    points += [(0.0, 0.0, 0.3), (0.0, 1.2, -0.7), (-0.4, 0.0, 0.9), (0.0, -2.0, 0.5)]
    for h, k, r in points:

        def integrand(x, k=k, r=r):
            return (
                np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi) * ndtr((k - r * x) / np.sqrt(1 - r * r))
            )

        ref, _ = integrate.quad(integrand, -np.inf, h, epsabs=1e-14, epsrel=1e-13)
        assert bvn_cdf(h, k, r) == pytest.approx(ref, abs=1e-13)


def test_bvn_limits_and_symmetry():
    assert bvn_cdf(-np.inf, 0.3, 0.5) == 0.0
    assert bvn_cdf(np.inf, 0.3, 0.5) == pytest.approx(stats.norm.cdf(0.3), abs=1e-15)
    assert bvn_cdf(1.0, np.inf, -0.2) == pytest.approx(stats.norm.cdf(1.0), abs=1e-15)
    assert bvn_cdf(np.inf, np.inf, 0.1) == 1.0
    h, k, r = np.array([0.3, -1.1]), np.array([-0.8, 0.4]), np.array([0.6, -0.45])
    np.testing.assert_allclose(bvn_cdf(h, k, r), bvn_cdf(k, h, r), atol=1e-15)
    # d Phi2 / d rho = phi2
    eps = 1e-6
    num = (bvn_cdf(h, k, r + eps) - bvn_cdf(h, k, r - eps)) / (2 * eps)
    np.testing.assert_allclose(num, bvn_pdf(h, k, r), rtol=1e-6)


# --- properties ---------------------------------------------------------------------------


def test_polychoric_recovers_rho_on_large_sample(rng):
    rho = 0.55
    z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=20000)
    tx, ty = np.array([-0.8, 0.1, 1.0]), np.array([-0.3, 0.9])
    res = polychoric(np.digitize(z[:, 0], tx), np.digitize(z[:, 1], ty))
    assert abs(res.rho - rho) < 4 * res.se
    assert res.se < 0.01
    np.testing.assert_allclose(res.thresholds_x, tx, atol=0.04)
    np.testing.assert_allclose(res.thresholds_y, ty, atol=0.04)


def test_polychoric_symmetric_and_sign_flip(rng):
    z = rng.multivariate_normal([0, 0], [[1, -0.4], [-0.4, 1]], size=400)
    x, y = np.digitize(z[:, 0], [-0.5, 0.5]), np.digitize(z[:, 1], [0.0, 1.0])
    a, b = polychoric(x, y), polychoric(y, x)
    assert a.rho == pytest.approx(b.rho, abs=1e-12)
    assert -1 < a.rho < 0
    flipped = polychoric(-x, y)  # reversing the category order reverses the sign
    assert flipped.rho == pytest.approx(-a.rho, abs=1e-10)
    np.testing.assert_allclose(flipped.thresholds_x, -a.thresholds_x[::-1], atol=1e-12)


def test_gamma_symmetric_positive_semidefinite():
    out = _stats("hs_mixed")
    np.testing.assert_allclose(out.gamma, out.gamma.T, atol=1e-12)
    assert np.linalg.eigvalsh(out.gamma).min() > -1e-8
    cor = out.cor
    assert np.all(np.abs(cor[np.triu_indices_from(cor, 1)]) < 1)
    np.testing.assert_allclose(out.wls_v, 1 / np.diag(out.gamma))


def test_polychoric_cell_scores_are_derivatives():
    tau1, tau2, rho = np.array([-0.6, 0.4]), np.array([-1.0, 0.2, 1.1]), 0.35
    width = 5
    e1 = extended_thresholds(tau1, width)[None]
    e2 = extended_thresholds(tau2, width)[None]
    d_rho, d_th1, d_th2 = polychoric_cell_scores(e1, e2, np.array([rho]))

    def logpi(t1, t2, r):
        grid = bvn_cdf(extended_thresholds(t1)[:, None], extended_thresholds(t2)[None, :], r)
        return np.log(grid[1:, 1:] - grid[:-1, 1:] - grid[1:, :-1] + grid[:-1, :-1])

    eps = 1e-6
    num = (logpi(tau1, tau2, rho + eps) - logpi(tau1, tau2, rho - eps)) / (2 * eps)
    np.testing.assert_allclose(d_rho[0, :3, :4], num, rtol=1e-6)
    for k in range(2):
        step = np.eye(2)[k] * eps
        num = (logpi(tau1 + step, tau2, rho) - logpi(tau1 - step, tau2, rho)) / (2 * eps)
        np.testing.assert_allclose(d_th1[0, :3, :4, k], num, rtol=1e-6, atol=1e-8)
    for k in range(3):
        step = np.eye(3)[k] * eps
        num = (logpi(tau1, tau2 + step, rho) - logpi(tau1, tau2 - step, rho)) / (2 * eps)
        np.testing.assert_allclose(d_th2[0, :3, :4, k], num, rtol=1e-6, atol=1e-8)


def test_polyserial_scores_are_derivatives(rng):
    y = rng.normal(2.0, 1.5, size=30)
    codes = rng.integers(0, 3, size=30)
    tau = np.array([-0.4, 0.7])

    def loglik(mu, var, t, r):
        ext = extended_thresholds(t)
        sd = np.sqrt(var)
        z = (y - mu) / sd
        root = np.sqrt(1 - r * r)
        p = stats.norm.cdf((ext[codes + 1] - r * z) / root) - stats.norm.cdf(
            (ext[codes] - r * z) / root
        )
        return stats.norm.logpdf(y, mu, sd) + np.log(p)

    mu, var, r = 2.1, 2.0, -0.3
    ext = extended_thresholds(tau)
    z = (y - mu) / np.sqrt(var)
    sc = polyserial_scores(z, ext[codes + 1], ext[codes], codes, 2, np.sqrt(var), r)
    eps = 1e-6
    checks = {
        "mu": (loglik(mu + eps, var, tau, r) - loglik(mu - eps, var, tau, r)) / (2 * eps),
        "var": (loglik(mu, var + eps, tau, r) - loglik(mu, var - eps, tau, r)) / (2 * eps),
        "rho": (loglik(mu, var, tau, r + eps) - loglik(mu, var, tau, r - eps)) / (2 * eps),
    }
    for key, num in checks.items():
        np.testing.assert_allclose(sc[key], num, rtol=1e-5, atol=1e-8)
    for k in range(2):
        step = np.eye(2)[k] * eps
        num = (loglik(mu, var, tau + step, r) - loglik(mu, var, tau - step, r)) / (2 * eps)
        np.testing.assert_allclose(sc["th"][:, k], num, rtol=1e-5, atol=1e-8)


# --- lavaan's 2 x 2 special cases --------------------------------------------------------


def _recorded(func, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = func(*args, **kwargs)
    return value, [str(w.message) for w in caught if issubclass(w.category, DataWarning)]


def test_two_empty_cells_give_perfect_correlation():
    x = np.repeat([0, 1], [12, 8])
    res, messages = _recorded(polychoric, x, x)
    assert res.rho == 1.0
    assert np.isnan(res.se)
    assert any("two empty cells" in m for m in messages)
    assert any("(nearly) 1.0" in m for m in messages)
    assert _recorded(polychoric, x, 1 - x)[0].rho == -1.0
    frame = pd.DataFrame({"a": x, "b": x, "c": np.r_[x[5:], x[:5]]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        with pytest.raises(DataError, match="a and b is \\+1"):
            categorical_sample_stats(frame, ["a", "b", "c"], ["a", "b", "c"])


def test_equal_margins_closed_form_and_independence():
    a = np.repeat([0, 1], 20)
    b = np.concatenate([np.repeat([0, 1], [14, 6]), np.repeat([0, 1], [6, 14])])
    assert polychoric(a, b).rho == pytest.approx(-np.cos(2 * np.pi * 14 / 40), abs=1e-15)
    c = np.concatenate([np.repeat([0, 1], [6, 4]), np.repeat([0, 1], [12, 8])])
    d = np.repeat([0, 1], [10, 20])
    assert polychoric(c, d).rho == 0.0


# --- coding of ordinal columns ------------------------------------------------------------


def test_strings_and_categoricals_code_like_integers():
    base = case_frame("sparse5")
    names = list(base.columns)
    ref = categorical_sample_stats(base, names, names)
    labels = np.array(["none", "mild", "moderate", "severe", "extreme"])
    as_cat = base.copy()
    for col in names:
        as_cat[col] = pd.Categorical(labels[base[col] - 1], categories=labels, ordered=True)
    out = categorical_sample_stats(as_cat, names, names)
    np.testing.assert_allclose(out.gamma, ref.gamma, rtol=1e-12)
    assert out.levels["y1"] == tuple(labels)
    as_str = base.astype(str)  # "1" < "2" < ... sorts like the integers
    np.testing.assert_allclose(
        categorical_sample_stats(as_str, names, names).wls_obs, ref.wls_obs, rtol=1e-12
    )
    assert (base.to_numpy() == case_frame("sparse5").to_numpy()).all()  # input untouched


def test_cut_into_categories_right_closed():
    frame = pd.DataFrame({"v": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "w": [1, 1, 1, 2, 2, 3]})
    out = cut_into_categories(frame, 3)
    # v edges 2.667, 4.333; w edges 1, 2: a value equal to an edge goes down
    assert out["v"].tolist() == [1, 1, 2, 2, 3, 3]
    assert out["w"].tolist() == [1, 1, 1, 2, 2, 3]
    with pytest.raises(DataError, match="n_categories"):
        cut_into_categories(frame, 1)


def test_polychoric_matrix_api():
    frame = case_frame("hs_mixed")
    cor, th = polychoric_matrix(frame, ordered=["x1", "x2", "x3", "x7"], return_thresholds=True)
    ref = _stats("hs_mixed")
    np.testing.assert_allclose(cor.to_numpy(), ref.cor)
    assert list(cor.columns) == list(frame.columns)
    assert th.index.tolist()[:3] == ["x1|t1", "x1|t2", "x2|t1"]
    assert np.all(np.diff(th.loc[["x1|t1", "x1|t2"]]) > 0)


# --- bad input ----------------------------------------------------------------------------


def _frame():
    return case_frame("sparse5").copy()


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda f: f.assign(y2=3), "y2.*single observed category"),
        (lambda f: f.assign(y3=np.arange(len(f))), "y3.*150 categories"),
        (
            lambda f: f.assign(y1=f["y1"].astype(float).where(f.index != 3, np.inf)),
            "y1.*non-finite",
        ),
        (
            lambda f: f.assign(
                y4=pd.Categorical(f["y4"], categories=[1, 2, 3, 4, 5, 6], ordered=True)
            ),
            "categories of ordered column 'y4' are empty",
        ),
    ],
)
def test_bad_ordinal_columns(mutate, match):
    frame = mutate(_frame())
    names = list(frame.columns)
    with pytest.raises(DataError, match=match):
        categorical_sample_stats(frame, names, names)


def test_bad_continuous_and_spec():
    frame = case_frame("hs_mixed")
    names = list(frame.columns)
    bad = frame.assign(x5=frame["x5"].where(frame.index != 0, np.inf))
    with pytest.raises(DataError, match="'x5' contains non-finite"):
        categorical_sample_stats(bad, names, ["x1"])
    with pytest.raises(DataError, match="'x4' is not numeric"):
        categorical_sample_stats(frame.assign(x4="a"), names, ["x1"])
    with pytest.raises(DataError, match=r"not found in the data: \['zz'\]"):
        categorical_sample_stats(frame, [*names, "zz"], ["x1"])
    with pytest.raises(DataError, match="not among the model's variables"):
        categorical_sample_stats(frame, names, ["x1", "nope"])
    with pytest.raises(ModelSpecificationError, match="conditional.x"):
        categorical_sample_stats(frame, names, ["x1"], exogenous=["x9"])
    with pytest.raises(DataError, match="unordered categorical"):
        categorical_sample_stats(frame.assign(x1=pd.Categorical(frame["x1"])), names, ["x1"])


def test_polyserial_invariant_to_units():
    """A continuous variable in huge units (radiomic energy ~1e9) gives the same correlations
    (lavaan's unit-dependent exclusion rule would drop every observation here)."""
    frame = case_frame("hs_mixed")
    case = ORDINAL_CASES["hs_mixed"]
    ref = _stats("hs_mixed")
    scaled = frame.assign(x5=frame["x5"] * 1e9)
    out = categorical_sample_stats(scaled, case.variables, case.ordered)
    np.testing.assert_allclose(out.cor, ref.cor, atol=1e-10)
    k = case.variables.index("x5")
    assert out.cov[k, k] == pytest.approx(ref.cov[k, k] * 1e18, rel=1e-10)


def test_per_group_matches_lavaan_multigroup(r_lavaan):
    """Called once per group with the full-data levels, as the WLSMV estimator does."""
    import rpy2.robjects as ro

    from radsem._r import to_r_dataframe
    from radsem.datasets import load

    frame = case_frame("hs3")
    frame["school"] = load("HolzingerSwineford1939")["school"].to_numpy()
    items = list(ORDINAL_CASES["hs3"].variables)
    lavaan_groups = ro.r(
        """function(model, data, ordered, group) {
          fit <- lavaan::cfa(model = model, data = data, ordered = ordered, group = group,
                             estimator = "WLSMV", do.fit = FALSE)
          list(gamma = lavaan::lavInspect(fit, "gamma"),
               wls.obs = lavaan::lavInspect(fit, "wls.obs"),
               labels = lavaan::lavInspect(fit, "group.label"))
        }"""
    )
    out = lavaan_groups(
        one_factor_model(items), to_r_dataframe(frame), ro.StrVector(items), "school"
    )
    levels = {v: tuple(sorted(frame[v].unique())) for v in items}
    for k, label in enumerate(out.rx2("labels")):
        ours = categorical_sample_stats(
            frame[frame["school"] == label], items, items, levels=levels
        )
        gamma = np.asarray(out.rx2("gamma")[k])
        np.testing.assert_allclose(ours.wls_obs, np.asarray(out.rx2("wls.obs")[k]), atol=1e-7)
        np.testing.assert_allclose(ours.gamma, gamma, atol=1e-6 * np.abs(gamma).max())


def test_pairwise_missing_rules():
    frame = case_frame("hs3_missing").copy()
    items = list(frame.columns)
    frame.loc[0, :] = np.nan  # a row with nothing observed is dropped
    with pytest.warns(DataWarning, match="1 of 301 rows have no observed value"):
        out = categorical_sample_stats(frame, items, items, missing="pairwise")
    assert out.nobs == 300
    apart = pd.DataFrame({"a": [1, 2, 1, 2, np.nan, np.nan], "b": [np.nan] * 4 + [1, 2]})
    apart["c"] = [1, 2, 2, 1, 1, 2]
    with pytest.raises(DataError, match="a and b are never observed together"):
        categorical_sample_stats(apart, ["a", "b", "c"], ["a", "b", "c"], missing="pairwise")
    with pytest.raises(DataError, match="missing must be"):
        categorical_sample_stats(frame, items, items, missing="ml")


def test_numbers_stored_as_text_warn():
    frame = pd.DataFrame({"a": ["1", "10", "2", "2", "1", "10"], "b": [1, 3, 2, 2, 1, 3]})
    with pytest.warns(DataWarning, match="numbers stored as text"):
        out = categorical_sample_stats(frame, ["a", "b"], ["a", "b"], nacov=False)
    assert out.levels["a"] == ("1", "10", "2")


def _separated_pair():
    """A 3 x 4 table whose likelihood keeps rising (flat to rounding) up to rho = 1."""
    table = np.array([[1, 0, 0, 0], [8, 0, 0, 0], [14, 7, 9, 1]])
    rows, cols = np.nonzero(table)
    reps = table[rows, cols]
    return pd.DataFrame({"a": np.repeat(rows, reps), "b": np.repeat(cols, reps)})


def test_flat_likelihood_ends_at_the_bound():
    frame = _separated_pair()
    res, messages = _recorded(polychoric, frame["a"], frame["b"])
    assert res.rho == 0.999  # lavaan 0.6-14: 0.999 as well (nlminb at its upper bound)
    assert any("(nearly) 1.0" in m for m in messages)


def test_flat_likelihood_matches_live_lavaan(r_lavaan):
    frame = _separated_pair()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = lavaan_sample_stats(frame, ["a", "b"], ["a", "b"])
        ours = categorical_sample_stats(frame, ["a", "b"], ["a", "b"])
    np.testing.assert_allclose(ours.cov, ref["cov"], atol=1e-12)
    # the thresholds block; the correlation's variance at the bound is astronomically large
    # in both (~1e80 and beyond, numerically meaningless) and is not compared
    gamma = np.asarray(ref["gamma"])
    np.testing.assert_allclose(ours.gamma[:5, :5], gamma[:5, :5], rtol=1e-6)
    assert ours.gamma[-1, -1] > 1e20
    assert gamma[-1, -1] > 1e20


def test_separated_table_refused_for_gamma(rng):
    a = np.r_[np.zeros(2), np.ones(38)].astype(int)
    b = np.r_[0, 0, np.zeros(28), np.ones(8), 2, 2].astype(int)
    frame = pd.DataFrame({"a": a, "b": b, "c": rng.integers(0, 3, 40)})
    items = ["a", "b", "c"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        cor_only = categorical_sample_stats(frame, items, items, nacov=False)
        assert cor_only.cov[0, 1] == 0.999
        with pytest.raises(DataError, match=r"a~~b are not defined .*quasi-\)separated"):
            categorical_sample_stats(frame, items, items)


def test_polychoric_matrix_matches_live_lavcor(r_lavaan):
    import rpy2.robjects as ro

    from radsem._r import to_r_dataframe

    frame = case_frame("sparse5")
    lavcor = ro.r("function(data) unclass(lavaan::lavCor(data, ordered = names(data)))")
    ref = np.asarray(lavcor(to_r_dataframe(frame)))
    np.testing.assert_allclose(polychoric_matrix(frame).to_numpy(), ref, atol=1e-7)


def test_polychoric_se_matches_live_lavcor(r_lavaan):
    import rpy2.robjects as ro

    from radsem._r import from_r_dataframe, to_r_dataframe

    frame = case_frame("hs3")[["x1", "x2"]]
    lavcor = ro.r(
        'function(data) lavaan::lavCor(data, ordered = names(data), se = "robust.sem", '
        'output = "pe")'
    )
    pe = from_r_dataframe(lavcor(to_r_dataframe(frame)))
    row = pe[(pe["lhs"] == "x1") & (pe["op"] == "~~") & (pe["rhs"] == "x2")].iloc[0]
    res = polychoric(frame["x1"], frame["x2"])
    assert res.rho == pytest.approx(row["est.std"], abs=1e-7)
    assert res.se == pytest.approx(row["se"], rel=1e-5)


@pytest.mark.parametrize("kind", ["polychoric", "polyserial"])
def test_standard_errors_match_sampling_spread(kind):
    """Across 200 simulated samples the mean SE is close to the SD of the estimates (the
    ratio's own Monte Carlo SD is about 5%)."""
    rng = np.random.default_rng(31)
    rho, n = 0.5, 300
    estimates, ses = [], []
    for _ in range(200):
        z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)
        y = np.digitize(z[:, 1], [-0.6, 0.3, 1.1])
        if kind == "polychoric":
            res = polychoric(np.digitize(z[:, 0], [-0.2, 0.9]), y)
        else:
            res = polyserial(5.0 + 2.0 * z[:, 0], y)
        estimates.append(res.rho)
        ses.append(res.se)
    assert abs(np.mean(estimates) - rho) < 0.01
    assert np.mean(ses) / np.std(estimates, ddof=1) == pytest.approx(1.0, abs=0.15)
