"""The gene-set tests: the competitive p against random sets, the self-contained permutation
p against shuffled targets, and their intersection-union combination."""

from __future__ import annotations

import numpy as np
import pytest

from radsem.genemap.nulls import (
    competitive_p,
    empirical_null_scale,
    fold_standardise,
    intersection_union_p,
    permutation_z,
    self_contained_p,
)


def test_competitive_p_counts_random_sets_at_least_as_good(rng):
    null = rng.standard_normal(99)
    score = np.array([null.max() + 1, null[3], -10.0])
    want = [(1 + np.sum(null >= s)) / 100 for s in score]
    assert competitive_p(score, null) == pytest.approx(want)
    assert competitive_p(score, null)[0] == pytest.approx(1 / 100)
    assert competitive_p(score, null)[2] == 1.0


def _folds(n, k, rng):
    return rng.permutation(np.arange(n) % k)


def test_fold_standardise_centres_within_folds(rng):
    pred = rng.standard_normal((3, 30, 2)) + np.repeat(np.arange(3.0), 10)[None, :, None]
    folds = np.repeat(np.arange(3), 10)
    pred[2, :, 1] = np.repeat([1.0, 5.0, -2.0], 10)  # constant within folds: scores 0
    z = fold_standardise(pred, folds)
    for k in range(3):
        np.testing.assert_allclose(z[:, folds == k].sum(1), 0, atol=1e-12)
    np.testing.assert_allclose((z[:2] ** 2).sum(1), 1)
    assert (z[2, :, 1] == 0).all()


def test_permutation_z_matches_the_permutation_variance(rng):
    """The exact permutation variance of a linear statistic, against 20,000 permutations."""
    n = 40
    m = fold_standardise(rng.standard_normal((2, n, 1)), _folds(n, 4, rng))
    y = rng.standard_normal((n, 1))
    z = permutation_z(m, y)
    yz = (y - y.mean()) / np.linalg.norm(y - y.mean())
    stat = np.einsum("snt,nt->st", m, yz)
    perm = np.stack([np.einsum("snt,nt->st", m, yz[rng.permutation(n)]) for _ in range(20000)])
    np.testing.assert_allclose(stat / perm.std(0), z, rtol=0.02)


def test_empirical_null_scale_is_a_robust_sd_floored_at_one(rng):
    z = np.column_stack([1.5 * rng.standard_normal(4000), 0.5 * rng.standard_normal(4000)])
    z[:100, 0] = 30.0  # a few random sets holding driver genes
    scale = empirical_null_scale(z)
    assert scale[0] == pytest.approx(1.5, rel=0.06)
    assert scale[1] == 1.0


def test_self_contained_p_is_uniform_when_predictions_ignore_the_target():
    """Fold-standardised predictions independent of the target (what out-of-fold predictions
    of a set that does not drive the target are, but for their dependence on the other
    folds' targets): the p-values are uniform on the grid 1/(B + 1), 2/(B + 1), ...

    300 sets x 3 targets, sets drawn independently; the Kolmogorov-Smirnov test at the fixed
    seed must not reject at 1 %, and the share below 0.05 must lie within its binomial
    99.9 % range for 900 draws (0.028 to 0.076). Widening the permutation distribution
    (scale > 1) can only make the test more conservative."""
    from scipy.stats import binom, kstest

    rng = np.random.default_rng(2026)
    n = 60
    pred = rng.standard_normal((2, 300, n, 3))
    pred[1] = 0.6 * pred[0] + 0.8 * pred[1]  # two repeats of one network agree in part
    m = (
        fold_standardise(pred[0], _folds(n, 5, rng)) + fold_standardise(pred[1], _folds(n, 5, rng))
    ) / 2
    y = rng.standard_normal((n, 3))
    stat, p = self_contained_p(m, y, 399, np.random.default_rng(7))
    assert p.shape == (300, 3)
    assert kstest(p.ravel(), "uniform").pvalue > 0.01
    low, high = binom.ppf([0.0005, 0.9995], p.size, 0.05) / p.size
    assert low <= np.mean(p < 0.05) <= high
    _, wide = self_contained_p(m, y, 399, np.random.default_rng(7), scale=np.full(3, 1.3))
    assert (wide[stat > 0] >= p[stat > 0] - 1e-12).all()
    assert np.mean(wide < 0.05) < np.mean(p < 0.05)


def test_self_contained_p_detects_an_association_and_is_seeded(rng):
    n = 80
    y = rng.standard_normal((n, 2))
    pred = rng.standard_normal((3, n, 2))
    pred[0, :, 0] += 0.8 * y[:, 0]  # set 0 predicts target 0
    m = fold_standardise(pred, _folds(n, 5, rng))
    _, p = self_contained_p(m, y, 199, np.random.default_rng(3))
    assert p[0, 0] == pytest.approx(1 / 200)
    assert (p[1:, :] > 1 / 200).all()
    _, again = self_contained_p(m, y, 199, np.random.default_rng(3), chunk=7)
    np.testing.assert_array_equal(p, again)  # chunking changes nothing
    _, other = self_contained_p(m, y, 199, np.random.default_rng(4))
    assert not np.array_equal(p[1:], other[1:])


def test_intersection_union_needs_both_tests_to_reject():
    comp = np.array([0.001, 0.001, 0.4, np.nan])
    self_ = np.array([0.002, 0.3, 0.001, 0.01])
    p = intersection_union_p(comp, self_)
    np.testing.assert_array_equal(p[:3], [0.002, 0.3, 0.4])
    assert np.isnan(p[3])


@pytest.mark.slow
def test_network_noise_targets_self_contained_p_not_anti_conservative():
    """End to end on 24 pure-noise targets (a real network, real cross-validation): the
    self-contained p-values of 8 coherent gene sets must not be anti-conservative. 192
    (dependent) p-values; the share below 0.05 must stay under the binomial 99.9 % upper
    bound for independent draws (0.11), the share below 0.2 under 0.30, and the
    intersection-union p is the larger of the two p-values."""
    from radsem.genemap import GenemapSettings, genemap, join_tables, match_gene_sets
    from radsem.simulate.genemap_truth import simulate_genemap_truth

    sim = simulate_genemap_truth(
        n_patients=90, n_genes=240, n_features=3, n_sets=8, signal_share=0.6, seed=4
    )
    noise = np.random.default_rng(11).standard_normal((90, 24))
    features = sim.features[["patient_id"]].copy()
    for k in range(24):
        features[f"noise_{k:02d}"] = noise[:, k]
    data = join_tables(sim.expression, features)
    sets = match_gene_sets(sim.gene_sets, data.genes.columns)
    quick = GenemapSettings(
        folds=3,
        repeats=1,
        mask_repeats=1,
        models=("network",),
        n_random=200,
        n_boot=50,
        stability_seeds=0,
    )
    gs = genemap(data, sets, quick, seed=3).gene_sets
    p = gs["self_contained_p_value"].to_numpy()
    assert np.mean(p < 0.05) <= 0.11
    assert np.mean(p < 0.2) <= 0.30
    np.testing.assert_array_equal(
        gs["p_value"], np.maximum(gs["competitive_p_value"], gs["self_contained_p_value"])
    )
    assert list(gs.columns[:10]) == [
        "target",
        "gene_set",
        "size",
        "score",
        "p_value",
        "q_value",
        "rank",
        "necessity",
        "necessity_p_value",
        "necessity_q_value",
    ]


def test_mask_repeats_add_network_passes_without_touching_performance():
    """Extra masking repeats average more network passes into the set scores; the models'
    shared folds (the first ``repeats``) and so the performance table stay the same."""
    from radsem.genemap import (
        GenemapSettings,
        NetworkSettings,
        genemap,
        join_tables,
        match_gene_sets,
    )
    from radsem.simulate.genemap_truth import simulate_genemap_truth

    sim = simulate_genemap_truth(
        n_patients=48, n_genes=80, n_features=3, n_sets=4, signal_share=0.7, seed=1
    )
    data = join_tables(sim.expression, sim.features)
    sets = match_gene_sets(sim.gene_sets, data.genes.columns)
    base = dict(folds=3, repeats=1, n_random=20, n_boot=30, stability_seeds=0, n_permutations=99)
    base["models"] = ("network", "mean")
    base["network"] = NetworkSettings(hidden=(8, 4), max_epochs=30, patience=5)
    one = genemap(data, sets, GenemapSettings(mask_repeats=1, **base), seed=2)
    three = genemap(data, sets, GenemapSettings(mask_repeats=3, **base), seed=2)
    again = genemap(data, sets, GenemapSettings(mask_repeats=3, **base), seed=2)
    assert three.predictions["network"].shape[0] == 1
    import pandas as pd

    pd.testing.assert_frame_equal(one.performance, three.performance)
    assert not np.allclose(one.gene_sets["score"], three.gene_sets["score"])
    pd.testing.assert_frame_equal(three.gene_sets, again.gene_sets)


def test_set_scores_are_correlations_of_the_repeat_averaged_masked_predictions():
    """With several masking repeats a set's score is the correlation of its out-of-fold
    masked predictions averaged over the repeats (bagged), recomputed here from the
    network passes themselves; necessity is the bagged full prediction's correlation minus
    the bagged ablated one's."""
    from radsem.genemap import GenemapSettings, genemap, join_tables, match_gene_sets
    from radsem.genemap.interpret import build_layout
    from radsem.genemap.lassonet import SparseSettings
    from radsem.genemap.metrics import _pearson
    from radsem.genemap.models import NetworkSettings
    from radsem.genemap.run import _folds, _network_passes
    from radsem.simulate.genemap_truth import simulate_genemap_truth

    sim = simulate_genemap_truth(
        n_patients=48, n_genes=80, n_features=3, n_sets=4, signal_share=0.7, seed=1
    )
    data = join_tables(sim.expression, sim.features)
    sets = match_gene_sets(sim.gene_sets, data.genes.columns)
    settings = GenemapSettings(
        folds=3,
        repeats=1,
        mask_repeats=3,
        models=("network",),
        network=NetworkSettings(sparse=SparseSettings(n_lambdas=6, steps=5)),
        n_random=10,
        n_boot=20,
        stability_seeds=0,
        n_permutations=19,
    )
    table = genemap(data, sets, settings, seed=2).gene_sets
    x, y = data.genes.to_numpy(float), data.targets.to_numpy(float)
    pos = {g: i for i, g in enumerate(data.genes.columns)}
    sets_idx = {k: np.array(sorted(pos[g] for g in v)) for k, v in sets.items()}
    layout = build_layout(sets_idx, x.shape[1], 10, np.random.default_rng([2, 7]))
    passes = _network_passes(x, y, _folds(len(y), 3, 3, 2), settings, layout, 2, False)
    suff = np.mean([p[1] for p in passes], axis=0)  # (groups, patients, targets)
    nec = np.mean([p[2] for p in passes], axis=0)
    full = np.mean([p[0] for p in passes], axis=0)
    per_repeat = np.mean([_pearson(p[1].transpose(0, 2, 1), y.T) for p in passes], axis=0)
    for g, name in enumerate(layout.names[: len(sets)]):
        for j, target in enumerate(data.targets.columns):
            row = table[(table.gene_set == name) & (table.target == target)].iloc[0]
            want = np.nan_to_num(_pearson(suff[g, :, j], y[:, j]))
            assert row["score"] == pytest.approx(want, abs=1e-6)
            want_nec = _pearson(full[:, j], y[:, j]) - np.nan_to_num(
                _pearson(nec[g, :, j], y[:, j])
            )
            assert row["necessity"] == pytest.approx(want_nec, abs=1e-6)
    # not the mean of the per-repeat correlations (the score before)
    scores = table.set_index(["gene_set", "target"])["score"]
    before = [per_repeat[g, j] for g in range(len(sets)) for j in range(y.shape[1])]
    got = [scores[(n, t)] for n in layout.names[: len(sets)] for t in data.targets.columns]
    assert not np.allclose(np.nan_to_num(before), got)
