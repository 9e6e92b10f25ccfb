"""Benchmark of ``radsem.genemap`` on simulated truth (``radsem.simulate.genemap_truth``).

Usage::

    python benchmarks/genemap.py                 # 200 patients x 2,000 genes x 10 features
    python benchmarks/genemap.py --seed 5        # another simulated cohort
    python benchmarks/genemap.py --seed 23 --module-size 25 --core 15 --signal-share 0.5
    python benchmarks/genemap.py --patients 120 --genes 300 --features 5 --sets 10
    python benchmarks/genemap.py --network dense   # the ridge + dense network
    python benchmarks/genemap.py --seed 101        # the held-out simulation C of docs/genemap.md
    python benchmarks/genemap.py --seed 404 --in-set 0.5   # half the drivers outside every set
    python benchmarks/genemap.py --gene-ranking flat       # rank = the flat gene ranking

Prints: the share of driven features whose true driver set ranks first, gene precision@10
(of ``rank``, set-guided by default, and of ``rank_flat``), the pure-noise feature's R²
intervals and smallest set q-value, Kendall's tau of the set rankings across two seeds (and,
as an additional measure, the top-weighted weighted tau), the network's R² next to elastic
net's per target, and the total wall time of ``genemap`` (cross-validation of all six models, gene
masking with the size-matched random-set null, integrated gradients, the second-seed
stability run and the bootstrap). Every setting is radsem's default.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def precision_at_10(rows, drivers) -> tuple[float, list]:
    """Precision@10 of one target's ``gene_importance`` rows (sorted by rank) and the top 10
    genes; genes sharing the rank that straddles the 10th place (a tie) count by their
    expected share of driver genes, so the table's order within a tie does not matter."""
    hits = rows["gene"].isin(drivers).to_numpy(float)
    rank = rows["rank"].to_numpy()
    tenth = rank[min(9, len(rank) - 1)]
    above = int((rank < tenth).sum())  # rows are sorted by rank: these come first
    total = hits[:above].sum() + (10 - above) * hits[rank == tenth].mean()
    return float(total / 10), list(rows["gene"].iloc[:10])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--genes", type=int, default=2000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--sets", type=int, default=30)
    parser.add_argument("--module-size", type=int, default=20)
    parser.add_argument("--core", type=int, default=12, help="driver genes per driven feature")
    parser.add_argument("--signal-share", type=float, default=0.6)
    parser.add_argument("--seed", type=int, default=0, help="simulation seed")
    parser.add_argument(
        "--in-set",
        type=float,
        default=1.0,
        help="share of a feature's drivers inside its driver set (the rest lie in no set)",
    )
    parser.add_argument(
        "--outside",
        choices=("module", "scattered"),
        default="module",
        help="where the drivers outside the sets come from (with --in-set < 1)",
    )
    parser.add_argument(
        "--set-mates", type=int, default=0, help="non-driver module genes added to every set"
    )
    parser.add_argument(
        "--set-padding", type=int, default=0, help="unrelated genes added to every set"
    )
    parser.add_argument("--gene-ranking", choices=("set_guided", "flat"), default="set_guided")
    parser.add_argument("--fit-seed", type=int, default=1, help="genemap seed")
    parser.add_argument(
        "--network",
        choices=("default", "sparse", "dense"),
        default="default",
        help="the network's input stage: radsem's default (LassoNet), the LassoNet input "
        "stage (NetworkSettings(sparse=SparseSettings())) or the ridge path + dense blocks "
        "(NetworkSettings(sparse=None))",
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="local worker processes (default: genemap's)"
    )
    parser.add_argument(
        "--mask-repeats", type=int, default=None, help="masking repeats (default: genemap's)"
    )
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from radsem.genemap import (
        GenemapSettings,
        NetworkSettings,
        genemap,
        join_tables,
        match_gene_sets,
    )
    from radsem.genemap.lassonet import SparseSettings
    from radsem.simulate.genemap_truth import simulate_genemap_truth

    sim = simulate_genemap_truth(
        n_patients=args.patients,
        n_genes=args.genes,
        n_features=args.features,
        n_sets=args.sets,
        module_size=args.module_size,
        core=args.core,
        signal_share=args.signal_share,
        seed=args.seed,
        in_set=args.in_set,
        outside=args.outside,
        set_mates=args.set_mates,
        set_padding=args.set_padding,
    )
    data = join_tables(sim.expression, sim.features)
    sets = match_gene_sets(sim.gene_sets, data.genes.columns)
    import dataclasses

    settings = GenemapSettings(gene_ranking=args.gene_ranking)
    if args.network != "default":
        sparse = SparseSettings() if args.network == "sparse" else None
        settings = dataclasses.replace(settings, network=NetworkSettings(sparse=sparse))
    if args.mask_repeats is not None:
        settings = dataclasses.replace(settings, mask_repeats=args.mask_repeats)
    jobs = {} if args.jobs is None else {"n_jobs": args.jobs}
    clock = StageClock()
    start = time.perf_counter()
    with clock.watching():
        result = genemap(data, sets, settings, seed=args.fit_seed, **jobs)
    wall = time.perf_counter() - start
    cpu_main, cpu_workers = clock.total()

    truth = sim.truth["features"]
    driven = [f for f, t in truth.items() if t["form"] != "noise"]
    noise = [f for f, t in truth.items() if t["form"] == "noise"]
    gs, gi, perf = result.gene_sets, result.gene_importance, result.performance
    print(
        f"setting: {args.patients} patients x {args.genes} genes x {args.features} features, "
        f"{len(sets)} gene sets; modules of {args.module_size}, {args.core} drivers, signal "
        f"share {args.signal_share}; simulation seed {args.seed}, genemap seed {args.fit_seed}; "
        f"network input stage: {args.network}; drivers in their set {args.in_set} (others: "
        f"{args.outside}), set mates {args.set_mates}, set padding {args.set_padding}; gene "
        f"ranking: {args.gene_ranking}"
    )
    print(
        f"\n{'feature':<12} {'form':<7} {'true set rank':>13} {'q':>7} {'prec@10':>8} "
        f"{'tau':>6}  {'R2 network (CI)':<24} {'R2 elastic net (CI)':<24}"
    )
    first, precision, module_precision, flat_precision = [], [], [], []
    module_size = sim.truth["module_size"]
    tau = result.stability.set_index("target")["kendall_tau"]
    for f, t in truth.items():
        row = gs[gs["target"] == f]
        r_net = perf[(perf.target == f) & (perf.model == "network")].iloc[0]
        r_en = perf[(perf.target == f) & (perf.model == "elastic_net")].iloc[0]
        ci = "{:6.3f} ({:6.3f}, {:6.3f})"
        if t["form"] != "noise":
            hit = row[row["gene_set"] == t["driver_set"]].iloc[0]
            prec, top = precision_at_10(gi[gi.target == f], t["driver_genes"])
            flat_rows = gi[gi.target == f].sort_values("rank_flat", kind="stable")
            flat_precision.append(
                precision_at_10(flat_rows.assign(rank=flat_rows["rank_flat"]), t["driver_genes"])[0]
            )
            module = sim.truth["set_modules"][t["driver_set"]] - 1
            mates = [min(int(g[4:]) - 1, args.genes - 1) // module_size == module for g in top]
            module_precision.append(float(np.mean(mates)))
            first.append(hit["rank"] == 1)
            precision.append(prec)
            rank, q = f"{int(hit['rank'])}", f"{hit['q_value']:.3f}"
        else:
            rank, q, prec = "-", f"{row['q_value'].min():.3f}", float("nan")
        print(
            f"{f:<12} {t['form']:<7} {rank:>13} {q:>7} {prec:8.2f} {tau[f]:6.2f}  "
            f"{ci.format(r_net.r2, r_net.r2_lower, r_net.r2_upper):<24} "
            f"{ci.format(r_en.r2, r_en.r2_lower, r_en.r2_upper):<24}"
        )
    print(
        f"\ntrue driver set ranks first: {np.mean(first):.2f} of {len(driven)} driven "
        "features (target >= 0.8)"
    )
    print(
        f"gene precision@10 (mean over driven features; rank, {args.gene_ranking}): "
        f"{np.mean(precision):.2f} (target >= 0.7); rank_flat (flat ranking): "
        f"{np.mean(flat_precision):.2f}; per feature, rank: "
        + " ".join(f"{v:.2f}" for v in precision)
    )
    print(
        "  for comparison, not the target: share of the top 10 genes in the driver set's "
        f"co-expression module (drivers or their non-driver module mates): "
        f"{np.mean(module_precision):.2f}"
    )
    # reference, outside the timed run: elastic net fitted on all patients, genes ranked by
    # absolute coefficient (standardised genes)
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import ElasticNetCV

    xs = data.genes.to_numpy(float)
    xs = (xs - xs.mean(0)) / xs.std(0)
    en_precision = []
    for f in driven:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit = ElasticNetCV(l1_ratio=0.5, alphas=30, cv=3, max_iter=5000, tol=1e-3).fit(
                xs, data.targets[f].to_numpy(float)
            )
        top = data.genes.columns[np.argsort(-np.abs(fit.coef_), kind="stable")[:10]]
        en_precision.append(float(np.mean([g in truth[f]["driver_genes"] for g in top])))
    print(
        "  for comparison: precision@10 of elastic net's absolute coefficients (all patients): "
        f"{np.mean(en_precision):.2f}"
    )
    for f in noise:
        rows = perf[perf.target == f]
        covers = all((rows.r2_lower <= 0) & (rows.r2_upper >= 0) | (rows.model == "mean"))
        print(
            f"noise feature {f}: network R2 {rows[rows.model == 'network'].r2.iloc[0]:.3f} "
            f"CI ({rows[rows.model == 'network'].r2_lower.iloc[0]:.3f}, "
            f"{rows[rows.model == 'network'].r2_upper.iloc[0]:.3f}); every model's CI "
            f"covers 0: {covers}; min set q = {gs[gs.target == f].q_value.min():.3f}"
        )
    print(
        f"Kendall tau across seeds, all {len(sets)} sets: driven features mean "
        f"{tau[driven].mean():.2f} (min {tau[driven].min():.2f}); noise feature "
        f"{tau[noise].mean():.2f} (target >= 0.7 for driven features)"
    )
    st = result.stability.set_index("target")
    wtau = st["weighted_tau"]
    print(
        "additional measure, not the target: weighted tau across seeds (hyperbolic weights, "
        f"top-ranked sets weigh more), all {len(sets)} sets: driven features mean "
        f"{wtau[driven].mean():.2f} (min {wtau[driven].min():.2f}); noise feature "
        f"{wtau[noise].mean():.2f}"
    )
    sig = st.loc[driven, "kendall_tau_significant"]
    print(
        "Kendall tau across seeds, only sets with q < 0.05 in either seed: driven features "
        f"mean {sig.mean():.2f} over the {int(sig.notna().sum())} features with >= 3 such "
        f"sets (sets per feature: {st.loc[driven, 'n_significant'].tolist()})"
    )
    same = st.loc[driven, "same_top_set"]
    print(f"same top set in both seeds: {int(same.sum())} of {len(driven)} driven features")
    net = perf[perf.model == "network"].set_index("target").r2
    en = perf[perf.model == "elastic_net"].set_index("target").r2
    print(
        f"network beats elastic net in R2 for {int((net > en).sum())} of {len(net)} targets; "
        f"mean R2 network {net[driven].mean():.3f}, elastic net {en[driven].mean():.3f} "
        "(driven features)"
    )
    print(f"mask_repeats {settings.mask_repeats}, n_jobs {jobs.get('n_jobs', 'default')}")
    print("CPU by stage (s; this process + worker processes):")
    for stage, (main_s, work_s, wall_s) in clock.stages.items():
        print(f"  {stage:<44} {main_s:7.1f} + {work_s:7.1f}   wall {wall_s:7.1f}")
    print(
        f"total time: {wall:.1f} s wall, {cpu_main + cpu_workers:.1f} s CPU ({cpu_main:.1f} s "
        f"this process, {cpu_workers:.1f} s worker processes) (target <= 300 s); "
        f"load average {os.getloadavg()[0]:.1f}"
    )


class StageClock:
    """CPU time of genemap's stages, in this process and in its worker processes (psutil:
    the CPU of every descendant, alive or reaped), by wrapping the functions of
    ``radsem.genemap.run`` that make up a call."""

    def __init__(self) -> None:
        self.stages: dict = {}
        self._start = None

    @staticmethod
    def now() -> tuple[float, float, float]:
        import resource

        import psutil

        me = psutil.Process()
        kids = 0.0
        for child in me.children(recursive=True):
            try:
                t = child.cpu_times()
                kids += t.user + t.system
            except psutil.Error:
                pass
        reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time(), kids + reaped.ru_utime + reaped.ru_stime, time.perf_counter()

    def total(self) -> tuple[float, float]:
        end = self.now()
        return end[0] - self._start[0], end[1] - self._start[1]

    def _wrap(self, module, name: str, label):
        fn = getattr(module, name)

        def timed(*a, **kw):
            before = self.now()
            out = fn(*a, **kw)
            after = self.now()
            key = label(a, kw) if callable(label) else label
            old = self.stages.get(key, (0.0, 0.0, 0.0))
            self.stages[key] = tuple(o + (b - c) for o, b, c in zip(old, after, before))
            return out

        setattr(module, name, timed)
        return fn

    def watching(self):
        import contextlib

        from radsem.genemap import run as gm_run

        @contextlib.contextmanager
        def block():
            originals = {}
            seen = []

            def passes_label(a, kw):
                seen.append(1)
                what = "with IG" if a[6] else "stability seed"
                return f"network passes ({len(a[2])} repeats, {what})"

            for name, label in [
                ("_network_passes", passes_label),
                ("self_contained_p", "self-contained permutations"),
                ("performance_table", "performance table (bootstrap)"),
                ("gene_importance_table", "gene importance table"),
                ("_comparison_models", "comparison models"),
                ("set_scores_stability", "stability table"),
            ]:
                if hasattr(gm_run, name):
                    originals[name] = self._wrap(gm_run, name, label)
            self._start = self.now()
            try:
                yield self
            finally:
                for name, fn in originals.items():
                    setattr(gm_run, name, fn)

        return block()


if __name__ == "__main__":
    main()
