"""False positives of the gene-set tests on pure-noise targets, and power on driven ones
(reference for docs/genemap.md, "Null").

Usage::

    python benchmarks/genemap_null_calibration.py                  # setting A
    python benchmarks/genemap_null_calibration.py --setting B      # setting B
    python benchmarks/genemap_null_calibration.py --noise 50

The simulated cohort of ``benchmarks/genemap.py`` (10 features: 9 driven, ``feature_10``
pure noise) gets ``--noise`` extra pure-noise targets (independent standard normal); the
network (default settings, only the network, no stability run) is fitted and masked once,
and for every pure-noise target the script counts the targets with at least one set at
q < 0.05, under the competitive test alone (random sets), the self-contained test alone
(permuted targets) and their intersection-union (``p_value``, what radsem reports). For the
driven features it prints the driver set's rank and q.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=["A", "B"], default="A")
    parser.add_argument("--noise", type=int, default=30, help="extra pure-noise targets")
    parser.add_argument("--fit-seed", type=int, default=1)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from radsem.genemap import GenemapSettings, genemap, join_tables, match_gene_sets
    from radsem.genemap.run import benjamini_hochberg
    from radsem.simulate.genemap_truth import simulate_genemap_truth

    if args.setting == "A":
        sim = simulate_genemap_truth(seed=0)
    else:
        sim = simulate_genemap_truth(seed=23, module_size=25, core=15, signal_share=0.5)
    features = sim.features.copy()
    rng = np.random.default_rng(999)
    for k in range(args.noise):
        features[f"noise_{k:02d}"] = rng.standard_normal(len(features))
    data = join_tables(sim.expression, features)
    sets = match_gene_sets(sim.gene_sets, data.genes.columns)
    settings = GenemapSettings(models=("network",), stability_seeds=0, n_boot=100)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    gs = genemap(data, sets, settings, seed=args.fit_seed).gene_sets
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    truth = sim.truth["features"]
    noise = [t for t in data.targets.columns if t not in truth or truth[t]["form"] == "noise"]
    print(
        f"setting {args.setting}: {len(noise)} pure-noise targets x {len(sets)} sets, "
        f"{settings.mask_repeats} x {settings.folds}-fold masking, genemap seed {args.fit_seed}"
    )
    print(f"{'test':<16} {'targets with a set at q < 0.05':>31} {'share p < 0.05':>15}")
    for name, column in [
        ("competitive", "competitive_p_value"),
        ("self-contained", "self_contained_p_value"),
        ("both (p_value)", "p_value"),
    ]:
        hits, low = 0, []
        for t in noise:
            p = gs.loc[gs.target == t, column].to_numpy()
            hits += bool((benjamini_hochberg(p) < 0.05).any())
            low.append(np.mean(p < 0.05))
        print(f"{name:<16} {f'{hits} / {len(noise)}':>31} {np.mean(low):15.3f}")
    print("driven features: driver set rank, q (intersection-union), competitive p, self p")
    for f, t in truth.items():
        if t["form"] == "noise":
            continue
        row = gs[(gs.target == f) & (gs.gene_set == t["driver_set"])].iloc[0]
        print(
            f"  {f} ({t['form']}): rank {int(row['rank'])}, q {row['q_value']:.4f}, "
            f"p competitive {row['competitive_p_value']:.4f}, "
            f"p self-contained {row['self_contained_p_value']:.4f}"
        )
    print(f"time: {wall:.0f} s wall, {cpu:.0f} s CPU")


if __name__ == "__main__":
    main()
