"""Kendall's tau of gene-set rankings across two genemap seeds, by the number of
cross-validation repeats averaged, for the raw masking score and for a z score against the
size-matched random sets (reference for docs/genemap.md).

Usage::

    python benchmarks/genemap_stability_repeats.py              # setting A, up to 3 repeats
    python benchmarks/genemap_stability_repeats.py --setting B --repeats 4

Seeds 1 and 7920 (what ``genemap(seed=1)`` compares); the same patients, so the disagreement
is the method's own randomness (folds, network initialisation, random sets). Prints, per
number of repeats k, tau per feature (the last one is the pure-noise feature) and the mean
over the driven features. Slow: one network pass (5 fits, masking, ablation) per repeat and
seed.
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=["A", "B"], default="A")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from scipy.stats import kendalltau

    from radsem.genemap import join_tables, match_gene_sets
    from radsem.genemap.interpret import build_layout
    from radsem.genemap.run import (
        GenemapSettings,
        _correlations,
        _folds,
        _network_passes,
        n_random_sets,
    )
    from radsem.simulate.genemap_truth import simulate_genemap_truth

    if args.setting == "A":
        sim = simulate_genemap_truth(seed=0)
    else:
        sim = simulate_genemap_truth(seed=23, module_size=25, core=15, signal_share=0.5)
    data = join_tables(sim.expression, sim.features)
    sets = match_gene_sets(sim.gene_sets, data.genes.columns)
    pos = {g: i for i, g in enumerate(data.genes.columns)}
    sets_idx = {k: np.array(sorted(pos[g] for g in v)) for k, v in sets.items()}
    x, y = data.genes.to_numpy(float), data.targets.to_numpy(float)
    settings = GenemapSettings()
    import time

    runs = {}
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for seed in (1, 1 + 7919):
        layout = build_layout(
            sets_idx,
            x.shape[1],
            n_random_sets(settings, len(sets_idx)),
            np.random.default_rng([seed, 7]),
        )
        splits = _folds(len(y), settings.folds, args.repeats, seed)
        passes = _network_passes(x, y, splits, settings, layout, seed, False)
        per = [_correlations(suff, y) for _, suff, _, _ in passes]
        print(
            f"seed {seed} done: {time.perf_counter() - wall0:.0f} s wall, "
            f"{time.process_time() - cpu0:.0f} s CPU so far ({args.repeats} repeats)",
            flush=True,
        )
        runs[seed] = (np.stack(per), layout)

    def summarise(k):
        taus = {"raw": [], "z": []}
        for j in range(y.shape[1]):
            vals = []
            for per, layout in runs.values():
                score = per[:k].mean(0)[:, j]
                real = np.flatnonzero(~layout.is_random)
                z = np.empty(len(real))
                for i, g in enumerate(real):
                    null = layout.is_random & (layout.sizes == layout.sizes[g])
                    z[i] = (score[g] - score[null].mean()) / score[null].std(ddof=1)
                vals.append((score[real], z))
            (a_raw, a_z), (b_raw, b_z) = vals
            taus["raw"].append(kendalltau(a_raw, b_raw).statistic)
            taus["z"].append(kendalltau(a_z, b_z).statistic)
        return {
            name: np.round(v, 2).tolist() + [round(float(np.mean(v[:-1])), 3)]
            for name, v in taus.items()
        }

    for k in range(1, args.repeats + 1):
        print("repeats", k, summarise(k), flush=True)


if __name__ == "__main__":
    main()
