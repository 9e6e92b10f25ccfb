"""Gene-map mechanics against independent references: metrics (scikit-learn, scipy,
statsmodels), gene masking (captum on the genes and direct masking), layouts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from radsem.genemap.interpret import (
    build_layout,
    gene_attributions,
    masked_predictions,
    masked_predictions_genes,
)
from radsem.genemap.metrics import auc, mae, performance_table, r2, spearman
from radsem.genemap.models import GeneNetwork, NetworkSettings
from radsem.genemap.run import benjamini_hochberg


def test_metrics_match_references(rng):
    from scipy.stats import spearmanr
    from sklearn.metrics import mean_absolute_error, r2_score, roc_auc_score

    y = rng.standard_normal(60)
    p = 0.5 * y + rng.standard_normal(60)
    p[:5] = p[5]  # ties
    assert r2(y, p) == pytest.approx(r2_score(y, p))
    assert spearman(y, p) == pytest.approx(spearmanr(y, p).statistic)
    assert mae(y, p) == pytest.approx(mean_absolute_error(y, p))
    pos = y > np.median(y)
    assert auc(pos, p) == pytest.approx(roc_auc_score(pos, p))
    # vectorised over leading axes
    both = np.stack([p, -p])
    assert auc(pos, both) == pytest.approx([roc_auc_score(pos, p), roc_auc_score(pos, -p)])


def test_benjamini_hochberg_matches_statsmodels(rng):
    from statsmodels.stats.multitest import multipletests

    p = rng.uniform(size=25) ** 3
    assert benjamini_hochberg(p) == pytest.approx(multipletests(p, method="fdr_bh")[1])
    assert np.isnan(benjamini_hochberg(np.array([0.1, np.nan]))[1])


def test_performance_table_paired_comparison(rng):
    n = 80
    y = pd.DataFrame({"t": rng.standard_normal(n)})
    good = y["t"].to_numpy() + 0.3 * rng.standard_normal(n)
    preds = {"network": good[None, :, None], "mean": np.zeros((1, n, 1))}
    table = performance_table(y, preds, n_boot=300, seed=1).set_index("model")
    assert table.loc["network", "r2_lower"] > 0.7
    assert table.loc["mean", "r2_diff"] == pytest.approx(
        table.loc["mean", "r2"] - table.loc["network", "r2"]
    )
    assert table.loc["mean", "r2_diff_upper"] < 0
    assert table.loc["mean", "p_value"] < 0.01
    assert np.isnan(table.loc["network", "p_value"])
    again = performance_table(y, preds, n_boot=300, seed=1).set_index("model")
    pd.testing.assert_frame_equal(table, again)


def test_layout_random_sets_are_size_matched_and_disjoint_per_layer():
    rng = np.random.default_rng(3)
    sets = {"a": np.arange(0, 10), "b": np.arange(5, 15), "c": np.arange(40, 47)}
    lay = build_layout(sets, 60, 25, rng)
    assert lay.names[:3] == ["a", "b", "c"]
    assert (lay.sizes[lay.is_random] == 10).sum() == 25
    assert (lay.sizes[lay.is_random] == 7).sum()
    covered = []
    for mask, numbers in lay.layers:
        for k, g in enumerate(numbers):
            assert sorted(np.flatnonzero(mask == k)) == sorted(lay.members[g])
            covered.append(g)
    assert sorted(covered) == list(range(len(lay.names)))
    assert all(len(m) == s for m, s in zip(lay.members, lay.sizes, strict=True))


@pytest.fixture(scope="module")
def small_net():
    torch.manual_seed(0)
    net = GeneNetwork(NetworkSettings(hidden=(8, 4), sparse=None), seed=0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 30))
    y = np.column_stack([x[:, :3].sum(1), x[:, 10] ** 2]) + 0.1 * rng.standard_normal((50, 2))
    net.fit(x, y)
    return net, x


@pytest.mark.parametrize("mode", ["sufficiency", "necessity"])
def test_masking_equals_captum_on_genes_and_direct_masking(small_net, mode):
    net, x = small_net
    xz = net.x_scaler_.transform(x[:12])
    lay = build_layout(
        {"s1": np.arange(0, 5), "s2": np.arange(3, 9)}, 30, 6, np.random.default_rng(1)
    )
    fast = masked_predictions(net.module_, xz, lay, mode)
    slow = masked_predictions_genes(net.module_, xz, lay, mode)
    np.testing.assert_allclose(fast, slow, atol=1e-5)
    gates = masked_predictions(net.module_, xz, lay, mode, engine="captum")
    np.testing.assert_allclose(fast, gates, atol=1e-5)
    both = masked_predictions(net.module_, xz, lay, "both")
    np.testing.assert_array_equal(both[0 if mode == "sufficiency" else 1], fast)
    for g, members in enumerate(lay.members):
        keep = np.zeros(30, dtype=bool)
        keep[members] = True
        if mode == "necessity":
            keep = ~keep
        direct = np.where(keep, xz, 0.0)
        with torch.no_grad():
            want = net.module_(torch.as_tensor(direct, dtype=torch.float32)).numpy()
        np.testing.assert_allclose(fast[g], want, atol=1e-5)


def test_integrated_gradients_complete(small_net):
    """Completeness: attributions sum to f(x) - f(baseline) (up to integration error)."""
    net, x = small_net
    xz = net.x_scaler_.transform(x[:6])
    attr = gene_attributions(net.module_, xz, n_steps=200)
    with torch.no_grad():
        fx = net.module_(torch.as_tensor(xz, dtype=torch.float32)).numpy()
        f0 = net.module_(torch.zeros((1, 30))).numpy()
    np.testing.assert_allclose(attr.sum(1), fx - f0, atol=0.02)


def test_network_is_deterministic_and_learns(small_net):
    net, x = small_net
    rng = np.random.default_rng(0)
    x2 = rng.standard_normal((50, 30))
    y = np.column_stack([x[:, :3].sum(1), x[:, 10] ** 2])
    a = GeneNetwork(NetworkSettings(hidden=(8, 4), sparse=None), seed=4).fit(x, y).predict(x2)
    b = GeneNetwork(NetworkSettings(hidden=(8, 4), sparse=None), seed=4).fit(x, y).predict(x2)
    np.testing.assert_array_equal(a, b)
    assert np.corrcoef(a[:, 0], x2[:, :3].sum(1))[0, 1] > 0.7


def test_ridge_loo_matches_scikit_learn(rng):
    """Per-target penalty by exact leave-one-out error, as scikit-learn's RidgeCV (GCV mode)."""
    from sklearn.linear_model import RidgeCV

    from radsem.genemap.models import ridge_loo

    x = rng.standard_normal((40, 120))
    y = np.column_stack([x[:, :4].sum(1), rng.standard_normal(40), x[:, 5]])
    y += 0.5 * rng.standard_normal((40, 3))
    coef, intercept, alpha = ridge_loo(x, y)
    s2max = np.linalg.svd(x - x.mean(0), compute_uv=False).max() ** 2
    ref = RidgeCV(alphas=s2max * np.logspace(-4, 2, 40), alpha_per_target=True).fit(x, y)
    np.testing.assert_allclose(alpha, ref.alpha_, rtol=1e-6)
    np.testing.assert_allclose(coef, ref.coef_.T, atol=1e-6)
    np.testing.assert_allclose(intercept, ref.intercept_, atol=1e-6)
    assert alpha[1] > alpha[0]  # the pure-noise target is shrunk harder


def test_untrained_network_is_the_ridge_fit(rng):
    """The linear path is the ridge fit on the inner training rows; the non-linear blocks
    start at zero, so a network stopped before its first epoch predicts exactly that."""
    from radsem.genemap.models import _split, ridge_loo

    x = rng.standard_normal((60, 40))
    y = np.column_stack([x[:, :3].sum(1), np.maximum(x[:, 7], 0)]) + rng.standard_normal((60, 2))
    s = NetworkSettings(hidden=(8,), max_epochs=0, sparse=None)
    net = GeneNetwork(s, seed=3).fit(x, y)
    val, tr = _split(60, s, torch.Generator().manual_seed(3))
    xz, yz = net.x_scaler_.transform(x), net.y_scaler_.transform(y)
    coef, intercept, _ = ridge_loo(xz[tr.numpy()], yz[tr.numpy()])
    want = (xz @ coef + intercept) * net.y_scaler_.scale_ + net.y_scaler_.mean_
    np.testing.assert_allclose(net.predict(x), want, atol=1e-4)


def test_masking_without_the_linear_path(rng):
    """The plain ReLU network (``linear_path=False``) is masked exactly as well."""
    x = rng.standard_normal((30, 12))
    y = x[:, :2] + 0.1 * rng.standard_normal((30, 2))
    net = GeneNetwork(
        NetworkSettings(hidden=(6,), linear_path=False, max_epochs=20, sparse=None), seed=0
    )
    net.fit(x, y)
    xz = net.x_scaler_.transform(x[:5])
    lay = build_layout({"a": np.arange(0, 4), "b": np.arange(4, 9)}, 12, 3, rng)
    for mode in ("sufficiency", "necessity"):
        fast = masked_predictions(net.module_, xz, lay, mode)
        np.testing.assert_allclose(
            fast, masked_predictions_genes(net.module_, xz, lay, mode), atol=1e-5
        )


def test_stability_over_all_and_significant_sets():
    from scipy.stats import kendalltau, weightedtau

    from radsem.genemap.run import set_scores_stability

    names = [f"S{k}" for k in range(8)]
    a = pd.DataFrame(
        {
            "target": "f",
            "gene_set": names,
            "score": [0.9, 0.5, 0.4, 0.1, 0.05, 0.0, -0.1, 0.02],
            "q_value": [0.01, 0.02, 0.5, 0.9, 0.9, 0.9, 0.9, 0.9],
        }
    )
    b = a.assign(
        score=[0.8, 0.3, 0.45, -0.1, 0.1, 0.02, 0.0, 0.01],
        q_value=[0.01, 0.2, 0.04, 0.9, 0.9, 0.9, 0.9, 0.9],
    )
    st = set_scores_stability({1: a, 2: b}, alpha=0.05).iloc[0]
    assert st["kendall_tau"] == pytest.approx(kendalltau(a.score, b.score).statistic)
    assert st["n_significant"] == 3
    assert st["kendall_tau_significant"] == pytest.approx(
        kendalltau(a.score[:3], b.score[:3]).statistic
    )
    assert st["same_top_set"]
    assert st["weighted_tau"] == pytest.approx(weightedtau(a.score, b.score).statistic)


def test_weighted_tau_weighs_the_top_of_the_ranking():
    from scipy.stats import kendalltau

    from radsem.genemap.run import set_scores_stability

    names = [f"S{k}" for k in range(10)]
    score = np.linspace(1.0, 0.1, 10)
    a = pd.DataFrame({"target": "f", "gene_set": names, "score": score, "q_value": 0.5})
    top, bottom = score.copy(), score.copy()
    top[[0, 1]] = top[[1, 0]]  # the two best sets swap
    bottom[[8, 9]] = bottom[[9, 8]]  # the two worst sets swap
    st = set_scores_stability(
        {1: a, 2: a.assign(score=top), 3: a.assign(score=bottom), 4: a.assign(score=-score)}
    ).set_index("other_seed")
    # Kendall's tau counts both swaps alike; the weighted tau penalises the top one more
    assert st.loc[2, "kendall_tau"] == pytest.approx(st.loc[3, "kendall_tau"])
    assert st.loc[2, "kendall_tau"] == pytest.approx(kendalltau(score, top).statistic)
    assert st.loc[2, "weighted_tau"] < st.loc[3, "weighted_tau"] < 1.0
    assert st.loc[4, "weighted_tau"] == pytest.approx(-1.0)


def test_corrected_cv_interval_matches_nadeau_bengio(rng):
    from scipy.stats import t as t_dist

    from radsem.genemap.metrics import corrected_cv_interval

    values = rng.normal(0.1, 0.05, size=10)
    lo, hi, p = corrected_cv_interval(values, 0.12, n_train=160, n_test=40, level=0.9)
    se = np.sqrt((1 / 10 + 40 / 160) * np.var(values, ddof=1))
    half = t_dist.ppf(0.95, 9) * se
    assert (lo, hi) == pytest.approx((0.12 - half, 0.12 + half))
    assert p == pytest.approx(2 * t_dist.sf(0.12 / se, 9))


def test_r2_interval_covers_zero_for_noise_targets(rng):
    # the training mean predicts 40 pure-noise targets: cross-validated R² is negative by
    # construction; the bootstrap of fixed out-of-fold predictions excludes 0, the corrected
    # repeated-CV interval (the default when the folds are known) covers it
    from radsem.genemap.metrics import fold_r2
    from radsem.genemap.run import _folds

    n, t = 120, 40
    y = pd.DataFrame(rng.standard_normal((n, t)), columns=[f"t{j}" for j in range(t)])
    splits = _folds(n, 5, 2, seed=3)
    pred = np.empty((2, n, t))
    for r, split in enumerate(splits):
        for test in split:
            pred[r, test] = y.drop(index=test).mean().to_numpy()
    preds = {"network": pred, "mean": pred.copy()}
    boot = performance_table(y, preds, n_boot=300, seed=1)
    corrected = performance_table(y, preds, n_boot=300, seed=1, splits=splits)
    assert (boot["r2"] < 0).all()
    assert ((boot["r2_lower"] <= 0) & (boot["r2_upper"] >= 0)).mean() < 0.2
    assert ((corrected["r2_lower"] <= 0) & (corrected["r2_upper"] >= 0)).mean() >= 0.9
    # the other metrics keep the bootstrap
    assert corrected["spearman_lower"].to_numpy() == pytest.approx(boot["spearman_lower"])
    assert fold_r2(y["t0"].to_numpy(), pred[:, :, 0], splits).shape == (10,)
