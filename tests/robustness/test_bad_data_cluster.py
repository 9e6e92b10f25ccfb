"""Bad inputs to radsem.cluster: named DataErrors, labelled untestable rows, inputs unchanged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radsem.cluster import (
    KMedoids,
    characterise_clusters,
    choose_k,
    differential_expression,
    feature_ranking,
    renumber_by_event_rate,
)
from radsem.errors import DataError


@pytest.fixture
def feats():
    rng = np.random.default_rng(5)
    return pd.DataFrame(rng.normal(size=(30, 4)), columns=list("abcd"))


LABELS = np.repeat([1, 2, 3], 10)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda X: X.assign(a="high"), r"non-numeric column\(s\): a \(object\)"),
        (lambda X: X.assign(a=pd.date_range("2020-01-01", periods=len(X))), "non-numeric"),
        (
            lambda X: X.assign(a=pd.array([pd.NA] + list(X.a[1:]), dtype="Float64")),
            "missing or infinite values in 1 row",
        ),
        (lambda X: X.assign(a=np.r_[np.inf, X.a[1:]]), "missing or infinite"),
        (lambda X: X.iloc[:, :0], "no feature columns"),
        (lambda X: X.set_axis(["a", "a", "c", "d"], axis=1), "duplicated column name"),
    ],
)
def test_bad_feature_matrices(feats, change, match):
    bad = change(feats)
    before = bad.copy(deep=True)
    for call in (
        lambda: KMedoids(3).fit(bad),
        lambda: feature_ranking(bad, LABELS),
        lambda: choose_k(bad, ks=[2, 3], n_refs=2, n_subsamples=2),
    ):
        with pytest.raises(DataError, match=match):
            call()
    pd.testing.assert_frame_equal(bad, before)


def test_nullable_and_bool_features_equal_float(feats):
    ref = KMedoids(3).fit(feats)
    alt = KMedoids(3).fit(feats.astype("Float64"))
    np.testing.assert_array_equal(ref.labels_, alt.labels_)
    fr = feature_ranking(feats.astype("Float64"), LABELS)
    np.testing.assert_allclose(fr["fr"], feature_ranking(feats, LABELS)["fr"])
    assert feature_ranking(feats.assign(a=feats.a > 0), LABELS).loc["a", "fr"] > 0


def test_feature_ranking_leaves_the_column_index_alone(feats):
    cols = feats.columns
    feature_ranking(feats, LABELS)
    assert feats.columns.name is None
    assert cols.name is None


def test_kmedoids_parameters_and_predict(feats):
    with pytest.raises(DataError, match="metric must be"):
        KMedoids(2, metric="foo").fit(feats)
    d = -np.abs(np.subtract.outer(feats.a.to_numpy(), feats.a.to_numpy()))
    with pytest.raises(DataError, match="negative entries"):
        KMedoids(2, metric="precomputed").fit(d)
    km = KMedoids(2).fit(feats)
    with pytest.raises(DataError, match="missing or infinite"):
        km.predict(feats.assign(a=np.nan))
    with pytest.raises(DataError, match="more than|between 2 and n - 1"):
        KMedoids(31).fit(feats)


def test_choose_k_degenerate_inputs(feats):
    same = pd.DataFrame(np.ones((20, 3)))
    with pytest.raises(DataError, match="only 1 distinct row"):
        choose_k(same, ks=[2, 3], n_refs=2, n_subsamples=2)
    with pytest.raises(DataError, match="subsample_fraction"):
        choose_k(feats, ks=[2, 3], subsample_fraction=2.0)
    with pytest.raises(DataError, match="n_refs"):
        choose_k(feats, ks=[2, 3], n_refs=0)
    with pytest.raises(DataError, match="ks must be integers"):
        choose_k(feats, ks=["two"])


def test_labels_with_missing_values(feats):
    lab = LABELS.astype(float)
    lab[0] = np.nan
    with pytest.raises(DataError, match="labels have missing values"):
        feature_ranking(feats, lab)
    with pytest.raises(DataError, match="labels have missing values"):
        renumber_by_event_rate(lab, np.zeros(30))
    # characterisation leaves unlabelled rows out, as differential_expression does
    out = characterise_clusters(feats, lab, continuous=["a"])
    assert [c for c in out.columns if c.startswith("cluster_")] == [
        "cluster_1.0",
        "cluster_2.0",
        "cluster_3.0",
    ]
    with pytest.raises(DataError, match="one entry per row"):
        characterise_clusters(feats, LABELS[:5], continuous=["a"])


def test_characterise_says_why_a_variable_is_not_tested(feats):
    data = feats.assign(flat=1.0, lvl="u", none=None)
    out = characterise_clusters(data, LABELS, continuous=["flat"], categorical=["lvl", "none"])
    assert out.loc["flat", "test"] == "none (constant)"
    assert out.loc["lvl", "test"] == "none (one level)"
    assert out.loc["none", "test"] == "none (all missing)"
    with pytest.raises(DataError, match="at least one variable"):
        characterise_clusters(feats, LABELS)
    with pytest.raises(DataError, match="non-numeric value"):
        characterise_clusters(feats.assign(g="u"), LABELS, continuous=["g"])
    flag = characterise_clusters(feats.assign(f=feats.a > 0), LABELS, continuous=["f"])
    assert np.isfinite(flag.loc["f", "pvalue"])


def test_repeated_row_index_is_handled(feats):
    dup = feats.set_axis([0] * len(feats))
    out = characterise_clusters(dup, LABELS, continuous=["a", "b"])
    ref = characterise_clusters(feats, LABELS, continuous=["a", "b"])
    pd.testing.assert_frame_equal(out, ref)
    de = differential_expression(dup, LABELS)
    pd.testing.assert_frame_equal(de, differential_expression(feats, LABELS))


def test_differential_expression_bad_inputs(feats):
    with pytest.raises(DataError, match="non-numeric"):
        differential_expression(feats.assign(a="x"), LABELS)
    with pytest.raises(DataError, match="no feature columns"):
        differential_expression(feats.iloc[:, :0], LABELS)
    out = differential_expression(feats.assign(a=np.nan), LABELS)  # no RuntimeWarning
    assert np.isnan(out.loc["a", "pvalue"])


def test_random_valid_inputs_property():
    """Seeded random data: labels are a partition, FR is non-negative, renumbering is 1..K."""
    rng = np.random.default_rng(77)
    for _ in range(8):
        n, p, k = int(rng.integers(12, 40)), int(rng.integers(1, 6)), int(rng.integers(2, 5))
        X = pd.DataFrame(rng.normal(size=(n, p)))
        before = X.copy()
        km = KMedoids(k).fit(X)
        assert set(km.labels_) == set(range(k))
        fr = feature_ranking(X, km.labels_)
        assert (fr["fr"] >= 0).all()
        ev = rng.integers(0, 2, n)
        assert set(renumber_by_event_rate(km.labels_, ev)) == set(range(1, k + 1))
        pd.testing.assert_frame_equal(X, before)


def test_dissimilarity_checks():
    from radsem.cluster import dissimilarity

    with pytest.raises(DataError, match="metric must be"):
        dissimilarity(np.ones((3, 2)), metric="foo")
    with pytest.raises(DataError, match="same features"):
        dissimilarity(np.ones((3, 2)), np.ones((2, 3)))
    with pytest.raises(DataError, match="non-numeric"):
        dissimilarity(pd.DataFrame({"a": ["x", "y"]}))
    np.testing.assert_allclose(dissimilarity(np.eye(2)), [[0.0, 2.0], [2.0, 0.0]])
