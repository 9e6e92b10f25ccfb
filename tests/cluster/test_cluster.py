"""radsem.cluster: PAM parity with R cluster::pam, the FR formula, characterisation p-values
against scipy / R, choice of K on simulated clusters, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from radsem.cluster import (
    KMedoids,
    characterise_clusters,
    choose_k,
    differential_expression,
    dissimilarity,
    feature_ranking,
    renumber_by_event_rate,
)
from radsem.errors import DataError


def _blobs(rng, n_per=40, k=3, p=12, shift=4.0):
    centres = rng.normal(scale=shift, size=(k, p))
    X = np.vstack([c + rng.normal(size=(n_per, p)) for c in centres])
    return (X - X.mean(0)) / X.std(0), np.repeat(np.arange(k), n_per)


def _radiomics_like(rng, n=90, p=30):
    """Correlated, z-scored features with a weak 3-group structure (like harmonised radiomics)."""
    latent = rng.normal(size=(n, 3)) + np.repeat(np.eye(3) * 1.5, n // 3, axis=0)
    X = latent @ rng.normal(size=(3, p)) + rng.normal(size=(n, p))
    return (X - X.mean(0)) / X.std(0)


@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean", "cityblock"])
def test_pam_matches_r(r_cluster, rng, metric):
    import rpy2.robjects as ro
    from rpy2.robjects import numpy2ri

    pam = ro.r("function(d, k) cluster::pam(as.dist(d), k, diss = TRUE)")
    for X in (_radiomics_like(rng), _blobs(rng)[0], rng.normal(size=(50, 4))):
        D = dissimilarity(X, metric=metric)
        for k in (2, 3, 5):
            fit = KMedoids(k, metric=metric).fit(X)
            with (ro.default_converter + numpy2ri.converter).context():
                res = pam(D, k)
            np.testing.assert_array_equal(
                np.sort(fit.medoid_indices_), np.sort(np.asarray(res["id.med"]) - 1)
            )
            assert fit.inertia_ / len(X) == pytest.approx(np.asarray(res["objective"])[1])


def test_kmedoids_contract(rng):
    X, truth = _blobs(rng)
    km = KMedoids(3)
    assert km.fit(X) is km
    assert stats.contingency.crosstab(km.labels_, truth)[1].max(axis=0).sum() == len(X)
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    np.testing.assert_array_equal(km.cluster_centers_, X[km.medoid_indices_])
    a = KMedoids(3, method="fasterpam", random_state=5).fit_predict(X)
    b = KMedoids(3, method="fasterpam", random_state=5).fit_predict(X)
    np.testing.assert_array_equal(a, b)
    pre = KMedoids(3, metric="precomputed").fit(dissimilarity(X))
    np.testing.assert_array_equal(pre.medoid_indices_, km.medoid_indices_)
    with pytest.raises(DataError, match="n_clusters"):
        KMedoids(1).fit(X)
    with pytest.raises(DataError, match="missing"):
        KMedoids(2).fit(np.where(X > 2, np.nan, X))
    with pytest.raises(DataError, match="method"):
        KMedoids(2, method="clara").fit(X)


def test_feature_ranking_by_hand():
    # cluster means of feature a: 0, 1, 3 -> FR = sqrt(1 + 9 + 4) = sqrt(14)
    X = pd.DataFrame(
        {"a": [0, 0, 1, 1, 3, 3], "b": [0.5, -0.5, 0.2, -0.2, 0.1, -0.1], "c": [0, 0, 2, 2, 0, 0]},
        dtype=float,
    )
    fr = feature_ranking(X, [1, 1, 2, 2, 3, 3])
    assert list(fr.index) == ["a", "c", "b"]
    assert fr.loc["a", "fr"] == pytest.approx(np.sqrt(14))
    assert fr.loc["c", "fr"] == pytest.approx(np.sqrt(8))
    assert fr.loc["b", "fr"] == pytest.approx(0.0)
    assert list(fr["band"]) == ["high", "high", "low"]
    assert fr.loc["a", "mean_3"] == 3
    mid = feature_ranking(pd.DataFrame({"x": [0, 0, 1.6, 1.6]}), [0, 0, 1, 1])
    assert mid.loc["x", "band"] == "mid"


def test_renumber_by_event_rate():
    labels = ["a", "a", "b", "b", "b", "c", "c"]
    event = [1, 1, 0, 0, 1, 0, 1]
    np.testing.assert_array_equal(renumber_by_event_rate(labels, event), [3, 3, 1, 1, 1, 2, 2])
    # per person-time: c has 1 event in 1 month, the fastest rate
    time = [10, 10, 1, 1, 1, 0.5, 0.5]
    np.testing.assert_array_equal(renumber_by_event_rate(labels, event, time)[[0, 2, 5]], [1, 2, 3])
    with pytest.raises(DataError, match="0/1"):
        renumber_by_event_rate(labels, [2] * 7)


def test_characterisation_against_scipy_and_r(rng):
    n = 60
    lab = np.repeat([1, 2, 3], 20)
    data = pd.DataFrame(
        {
            "age": rng.normal(50 + 3 * lab, 8),
            "figo": rng.choice(["I/II", "III/IV"], n, p=[0.6, 0.4]),
            "hist": rng.choice(["sq", "ad", "other"], n, p=[0.7, 0.2, 0.1]),
        }
    )
    tab = characterise_clusters(
        data, lab, categorical=["figo", "hist"], continuous=["age"], n_resamples=500, random_state=1
    )
    kw = stats.kruskal(*[data.age[lab == g] for g in (1, 2, 3)])
    assert tab.loc["age", "pvalue"] == pytest.approx(kw.pvalue)
    ct = pd.crosstab(data.figo, lab).to_numpy()
    assert tab.loc["figo", "test"] == "chi-square"
    assert tab.loc["figo", "pvalue"] == pytest.approx(stats.chi2_contingency(ct, False)[1])
    assert tab.loc["hist", "test"] == "fisher_monte_carlo"
    q = stats.false_discovery_control(tab["pvalue"].to_numpy(), method="bh")
    np.testing.assert_allclose(tab["qvalue"], q)
    two = characterise_clusters(data[lab < 3], lab[lab < 3], categorical=["figo"])
    ct2 = pd.crosstab(data.figo[lab < 3], lab[lab < 3]).to_numpy()
    assert two.loc["figo", "pvalue"] == pytest.approx(stats.fisher_exact(ct2)[1])
    with pytest.raises(DataError, match="not found"):
        characterise_clusters(data, lab, continuous=["nope"])


def test_characterisation_matches_r(r_cluster, rng):
    import rpy2.robjects as ro
    from rpy2.robjects import numpy2ri

    lab = np.repeat([1, 2, 3], 15)
    x = rng.normal(lab, 1.0).round(1)  # ties, as R's tie correction matters
    data = pd.DataFrame({"x": x})
    tab = characterise_clusters(data, lab, continuous=["x"])
    with (ro.default_converter + numpy2ri.converter).context():
        p = ro.r("function(x, g) kruskal.test(x, factor(g))$p.value")(x, lab.astype(float))
    assert tab.loc["x", "pvalue"] == pytest.approx(float(np.asarray(p)[0]), rel=1e-10)


def test_differential_expression(rng):
    lab = np.repeat([1, 2], 25)
    expr = pd.DataFrame(rng.normal(size=(50, 30)), columns=[f"g{i}" for i in range(30)])
    expr["g0"] += 3 * (lab == 2)
    de = differential_expression(expr, lab)
    assert de.index[0] == "g0"
    assert de.loc["g0", "qvalue"] < 1e-6
    assert de.loc["g0", "max_log2fc"] == pytest.approx(
        abs(expr.g0[lab == 2].mean() - expr.g0[lab == 1].mean())
    )


def test_choose_k_recovers_k_and_is_deterministic(rng):
    X, _ = _blobs(rng, n_per=25, k=4, p=6, shift=5.0)
    res = choose_k(X, ks=range(2, 7), n_refs=8, n_subsamples=6, random_state=3)
    assert res.agree, res.message
    assert set(res.picks) == {4}
    again = choose_k(X, ks=range(2, 7), n_refs=8, n_subsamples=6, random_state=3)
    pd.testing.assert_frame_equal(res.table, again.table)
    noisy = choose_k(rng.normal(size=(40, 5)), ks=[2, 3, 4], n_refs=5, n_subsamples=4)
    assert isinstance(noisy.message, str)
    with pytest.raises(DataError, match="ks"):
        choose_k(X, ks=[1, 2])
