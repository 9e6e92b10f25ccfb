"""Kendall's tau of gene-set rankings across two genemap seeds, by the number of
cross-validation repeats of the network's masking, for two set scores (reference for
docs/genemap.md, "Set-ranking stability").

Usage::

    python benchmarks/genemap_stability_repeats.py                         # setting A
    python benchmarks/genemap_stability_repeats.py --setting B --repeats 12
    python benchmarks/genemap_stability_repeats.py --network dense         # ridge + dense

Seeds 1 and 7920 (what ``genemap(seed=1)`` compares); the same patients, so the disagreement
is the method's own randomness (folds, network initialisation, the inner split that chooses
the penalty). The scores of the 30 real gene sets, per number of repeats k:

* ``mean``: the correlation of the masked out-of-fold predictions with the target in each
  repeat, averaged over the first k repeats (radsem's score before this benchmark);
* ``bagged``: the correlation of the masked out-of-fold predictions averaged over the first
  k repeats (each patient's prediction averaged over k networks that did not see it).

Prints per k, for each score, Kendall's tau over all sets (the issue's measure) and, as an
additional measure, scipy's weighted tau with hyperbolic weights (``weightedtau``:
disagreements among the top-ranked sets weigh more), each as the mean over the driven
features, and the noise feature's tau. Slow: one network pass (5 fits with masking) per
repeat and seed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

SETTINGS = {
    "A": {"seed": 0},
    "B": {"seed": 23, "module_size": 25, "core": 15, "signal_share": 0.5},
    "C": {"seed": 101},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=sorted(SETTINGS), default="A")
    parser.add_argument("--sim-seed", type=int, help="simulation seed (overrides the setting's)")
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--network", choices=("default", "dense"), default="default")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from scipy.stats import kendalltau, weightedtau

    from radsem.genemap import NetworkSettings, join_tables, match_gene_sets
    from radsem.genemap.interpret import build_layout
    from radsem.genemap.run import (
        GenemapSettings,
        _correlations,
        _folds,
        _network_passes,
        n_random_sets,
    )
    from radsem.simulate.genemap_truth import simulate_genemap_truth

    kw = dict(SETTINGS[args.setting])
    if args.sim_seed is not None:
        kw["seed"] = args.sim_seed
    sim = simulate_genemap_truth(**kw)
    data = join_tables(sim.expression, sim.features)
    sets = match_gene_sets(sim.gene_sets, data.genes.columns)
    pos = {g: i for i, g in enumerate(data.genes.columns)}
    sets_idx = {k: np.array(sorted(pos[g] for g in v)) for k, v in sets.items()}
    x, y = data.genes.to_numpy(float), data.targets.to_numpy(float)
    settings = GenemapSettings()
    if args.network == "dense":
        settings = GenemapSettings(network=NetworkSettings(sparse=None))
    driven = [
        j for j, f in enumerate(data.targets.columns) if sim.truth["features"][f]["form"] != "noise"
    ]
    noise = [j for j in range(y.shape[1]) if j not in driven]
    print(
        f"setting {args.setting} {kw}, network {args.network}, {args.repeats} repeats", flush=True
    )

    runs = {}
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for seed in (1, 1 + 7919):
        layout = build_layout(
            sets_idx,
            x.shape[1],
            n_random_sets(settings, len(sets_idx)),
            np.random.default_rng([seed, 7]),
        )
        real = np.flatnonzero(~layout.is_random)
        splits = _folds(len(y), settings.folds, args.repeats, seed)
        passes, _ = _network_passes(x, y, splits, settings, layout, seed, False)
        runs[seed] = np.stack([suff[real].astype(float) for _, suff, _ in passes])
        print(
            f"seed {seed} done: {time.perf_counter() - wall0:.0f} s wall, "
            f"{time.process_time() - cpu0:.0f} s CPU so far",
            flush=True,
        )

    def scores(masked: np.ndarray, k: int, kind: str) -> np.ndarray:
        """(sets, targets) scores from the first k repeats of (repeats, sets, n, targets)."""
        if kind == "mean":
            return _correlations(masked[:k], y).mean(0)
        return _correlations(masked[:k].mean(0), y)

    print(
        f"{'k':>3} {'tau mean':>9} {'tau bagged':>11} {'wtau mean':>10} {'wtau bagged':>12} "
        f"{'noise: tau mean':>16} {'tau bagged':>11}"
    )
    for k in range(1, args.repeats + 1):
        row = {}
        for kind in ("mean", "bagged"):
            a, b = (scores(m, k, kind) for m in runs.values())
            tau = np.array([kendalltau(a[:, j], b[:, j]).statistic for j in range(y.shape[1])])
            wtau = np.array([weightedtau(a[:, j], b[:, j]).statistic for j in range(y.shape[1])])
            row[kind] = (tau[driven].mean(), wtau[driven].mean(), tau[noise].mean())
        print(
            f"{k:>3} {row['mean'][0]:9.3f} {row['bagged'][0]:11.3f} {row['mean'][1]:10.3f} "
            f"{row['bagged'][1]:12.3f} {row['mean'][2]:16.3f} {row['bagged'][2]:11.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
