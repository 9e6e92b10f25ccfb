"""Set scores of genemap's masking, compared offline on stored network passes: Kendall's tau
across two seeds by the number of masking repeats, the driver set's rank and the noise
feature's smallest q, for several ways of scoring a set from its masked predictions
(reference for docs/genemap.md, "Set-ranking stability: the time budget on two cores and a
lower-variance score").

Usage::

    python benchmarks/genemap_set_scores.py run --setting A --repeats 20 --out /tmp/gm/A
    python benchmarks/genemap_set_scores.py score --out /tmp/gm/A

``run`` fits the network passes of seeds 1 and 7920 (what ``genemap(seed=1)`` compares; the
same folds, networks and random sets as ``genemap`` with ``mask_repeats=k`` for the first k
repeats) and stores, per seed and repeat, the out-of-fold masked predictions of every set and
random set (float32) and the folds. Slow: one network pass (5 fits with masking) per repeat
and seed. ``score`` reads them and prints, per score and per k, the mean Kendall tau of the
driven features over the 30 real sets, the count of driven features whose driver set ranks
first, and the noise feature's smallest q (competitive p of the score against the random sets
of the same size, scored the same way, combined with the self-contained p as in genemap).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

SETTINGS = {
    "A": {"seed": 0},
    "B": {"seed": 23, "module_size": 25, "core": 15, "signal_share": 0.5},
    "C": {"seed": 101},
    "E": {"seed": 303},
}
SEEDS = (1, 1 + 7919)


def _setting(name: str):
    from radsem.genemap import join_tables, match_gene_sets
    from radsem.simulate.genemap_truth import simulate_genemap_truth

    sim = simulate_genemap_truth(**SETTINGS[name])
    data = join_tables(sim.expression, sim.features)
    sets = match_gene_sets(sim.gene_sets, data.genes.columns)
    pos = {g: i for i, g in enumerate(data.genes.columns)}
    sets_idx = {k: np.array(sorted(pos[g] for g in v)) for k, v in sets.items()}
    return sim, data, sets_idx


def run(args) -> None:
    import torch

    torch.set_num_threads(1)
    from radsem.genemap.interpret import build_layout
    from radsem.genemap.run import GenemapSettings, _folds, _network_passes, n_random_sets

    sim, data, sets_idx = _setting(args.setting)
    x, y = data.genes.to_numpy(float), data.targets.to_numpy(float)
    settings = GenemapSettings()
    os.makedirs(args.out, exist_ok=True)
    meta = {"setting": args.setting, "repeats": args.repeats, "cpu": {}}
    for seed in SEEDS:
        layout = build_layout(
            sets_idx,
            x.shape[1],
            n_random_sets(settings, len(sets_idx)),
            np.random.default_rng([seed, 7]),
        )
        splits = _folds(len(y), settings.folds, args.repeats, seed)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        passes, _ = _network_passes(x, y, splits, settings, layout, seed, False, n_jobs=args.jobs)
        meta["cpu"][seed] = [time.process_time() - cpu0, time.perf_counter() - wall0]
        folds = np.empty((len(splits), len(y)), dtype=np.int64)
        for r, split in enumerate(splits):
            for k, test in enumerate(split):
                folds[r, test] = k
        np.save(f"{args.out}/suff_{seed}.npy", np.stack([s for _, s, _ in passes]))
        np.save(f"{args.out}/pred_{seed}.npy", np.stack([p for p, _, _ in passes]))
        np.save(f"{args.out}/folds_{seed}.npy", folds)
        np.save(f"{args.out}/random_{seed}.npy", layout.is_random)
        np.save(f"{args.out}/sizes_{seed}.npy", layout.sizes)
        print(f"seed {seed}: {meta['cpu'][seed]} (own CPU s, wall s)", flush=True)
    meta["truth"] = sim.truth["features"]
    meta["sets"] = list(sets_idx)
    meta["targets"] = list(data.targets.columns)
    np.save(f"{args.out}/y.npy", y)
    with open(f"{args.out}/meta.json", "w") as fh:
        json.dump(meta, fh)


KINDS = ("correlation", "covariance", "explained", "centred_correlation")


def _fold_centred(pred: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """(..., patients, targets) predictions minus their mean within each fold."""
    out = np.array(pred, dtype=np.float64)
    for k in np.unique(folds):
        rows = folds == k
        out[..., rows, :] -= out[..., rows, :].mean(-2, keepdims=True)
    return out


def set_score(raw: np.ndarray, centred: np.ndarray, y: np.ndarray, kind: str) -> np.ndarray:
    """(groups, targets) scores from the masked predictions averaged over the repeats
    (``raw``) and the same with each repeat centred within its folds first (``centred``).

    ``correlation``: genemap's score, Pearson's r of ``raw`` with the target (a constant
    prediction scores 0); ``covariance``: ``mean_i centred_i (y_i - mean y) / sd(y)`` (target
    units: a set the networks barely use scores near 0 whatever the direction of its tiny
    contribution); ``explained``: ``1 - sum (yc - centred)^2 / sum yc^2``;
    ``centred_correlation``: Pearson's r of ``centred`` (the folds' offsets removed).
    """
    from radsem.genemap.run import _correlations

    if kind == "correlation":
        return _correlations(raw, y)
    if kind == "centred_correlation":
        return _correlations(centred, y)
    yc = y - y.mean(0)
    ss = (yc * yc).sum(0)
    if kind == "covariance":
        return (centred * yc).sum(-2) / len(yc) / np.sqrt(ss / len(yc))
    if kind == "explained":
        resid = yc - centred
        return 1.0 - (resid * resid).sum(-2) / ss
    raise ValueError(f"unknown score {kind!r}; choose from {', '.join(KINDS)}")


def _competitive(score: np.ndarray, is_random: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """(real sets, targets) competitive p of each real set against the random sets of its
    size, scored the same way."""
    from radsem.genemap.nulls import competitive_p

    real = np.flatnonzero(~is_random)
    out = np.empty((len(real), score.shape[1]))
    for i, g in enumerate(real):
        null = is_random & (sizes == sizes[g])
        for j in range(score.shape[1]):
            out[i, j] = competitive_p(score[g, j], score[null, j])
    return out


def score(args) -> None:
    from scipy.stats import kendalltau, weightedtau

    from radsem.genemap.nulls import (
        empirical_null_scale,
        fold_standardise,
        permutation_z,
        self_contained_p,
    )
    from radsem.genemap.run import benjamini_hochberg

    with open(f"{args.out}/meta.json") as fh:
        meta = json.load(fh)
    y = np.load(f"{args.out}/y.npy")
    targets, sets, truth = meta["targets"], meta["sets"], meta["truth"]
    driven = [j for j, f in enumerate(targets) if truth[f]["form"] != "noise"]
    noise = [j for j, f in enumerate(targets) if truth[f]["form"] == "noise"]
    driver = {j: sets.index(truth[targets[j]]["driver_set"]) for j in driven}
    kinds = args.kinds.split(",")
    ks = [int(k) for k in args.ks.split(",")] if args.ks else list(range(1, meta["repeats"] + 1))
    scores: dict = {kind: {} for kind in kinds}
    checks: dict = {kind: {} for kind in kinds}
    for seed in SEEDS:
        suff = np.load(f"{args.out}/suff_{seed}.npy", mmap_mode="r")
        folds = np.load(f"{args.out}/folds_{seed}.npy")
        is_random = np.load(f"{args.out}/random_{seed}.npy")
        sizes = np.load(f"{args.out}/sizes_{seed}.npy")
        real = np.flatnonzero(~is_random)
        raw = np.zeros(suff.shape[1:])
        cen = np.zeros(suff.shape[1:])
        m = np.zeros(suff.shape[1:])
        for r in range(max(ks)):
            s = np.asarray(suff[r], dtype=np.float64)
            raw += s
            cen += _fold_centred(s, folds[r])
            if seed == SEEDS[0] and args.q:
                m += fold_standardise(s, folds[r])
            k = r + 1
            if k not in ks:
                continue
            if seed == SEEDS[0] and args.q:
                scale = empirical_null_scale(permutation_z(m[is_random] / k, y))
                _, self_p = self_contained_p(
                    m[real] / k, y, args.permutations, np.random.default_rng([seed, 11]), scale
                )
            for kind in kinds:
                sc = set_score(raw / k, cen / k, y, kind)
                scores[kind][(seed, k)] = sc[real]
                if seed != SEEDS[0]:
                    continue
                first = sum(int(np.argmax(sc[real, j]) == driver[j]) for j in driven)
                qmin = dq = np.nan
                if args.q:
                    p = np.maximum(_competitive(sc, is_random, sizes), self_p)
                    qmin = min(benjamini_hochberg(p[:, j]).min() for j in noise)
                    dq = max(benjamini_hochberg(p[:, j])[driver[j]] for j in driven)
                checks[kind][k] = (first, qmin, dq)
    print(f"setting {meta['setting']}; tau over the {len(sets)} sets, seeds {SEEDS}")
    head = f"{'kind':<12} {'k':>3} {'tau':>6} {'min':>6} {'wtau':>6} {'noise':>6} {'first':>6}"
    print(head + f" {'noise min q':>12} {'driver max q':>13}")
    for kind in kinds:
        for k in ks:
            a, b = scores[kind][(SEEDS[0], k)], scores[kind][(SEEDS[1], k)]
            tau = [kendalltau(a[:, j], b[:, j]).statistic for j in range(len(targets))]
            wtau = [weightedtau(a[:, j], b[:, j]).statistic for j in driven]
            first, qmin, dq = checks[kind][k]
            print(
                f"{kind:<12} {k:>3} {np.mean([tau[j] for j in driven]):6.4f} "
                f"{np.min([tau[j] for j in driven]):6.3f} {np.mean(wtau):6.3f} "
                f"{np.mean([tau[j] for j in noise]):6.3f} {first:>3}/{len(driven)} "
                f"{qmin:12.3f} {dq:13.3f}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_run = sub.add_parser("run")
    p_run.add_argument("--setting", choices=sorted(SETTINGS), default="A")
    p_run.add_argument("--repeats", type=int, default=20)
    p_run.add_argument("--jobs", type=int, default=1)
    p_run.add_argument("--out", required=True)
    p_score = sub.add_parser("score")
    p_score.add_argument("--out", required=True)
    p_score.add_argument("--kinds", default="correlation")
    p_score.add_argument("--ks", default="")
    p_score.add_argument("--permutations", type=int, default=10_000)
    p_score.add_argument("--q", action="store_true", help="also the noise feature's q")
    args = parser.parse_args()
    run(args) if args.cmd == "run" else score(args)


if __name__ == "__main__":
    main()
