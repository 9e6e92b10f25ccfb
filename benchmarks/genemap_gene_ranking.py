"""Gene precision@10 of alternative gene rankings on the gene-map simulator (reference for
docs/genemap.md, "Gene ranking"; radsem's ranking is measured end to end by
``benchmarks/genemap.py``).

Usage::

    python benchmarks/genemap_gene_ranking.py --setting A     # seed 0 (the default)
    python benchmarks/genemap_gene_ranking.py --setting B     # seed 23, modules of 25, 15 drivers
    python benchmarks/genemap_gene_ranking.py --setting C     # seed 101
    python benchmarks/genemap_gene_ranking.py --setting D     # seed 202, modules of 20, 10 drivers
    python benchmarks/genemap_gene_ranking.py --setting A --linear-models
    python benchmarks/genemap_gene_ranking.py --set-guided --setting F --cache /tmp/gm

With ``--set-guided``: the first seed of a default ``genemap(seed=1)`` interpretation (the
set table and gene evidence of the full run, without the other models and the stability
seed; kept in ``--cache`` if given), then precision@10 of the flat ranking (``rank_flat``),
radsem's set-guided ranking (``rank``) and variants of the latter (see
:func:`report_set_guided`). Settings E-I: E = seed 303; F-I are simulations in which the gene
sets are a poorer guide to the drivers (half of them outside every set: F from one module, G
scattered; H every set diluted with its module's non-drivers and unrelated genes; I = F with
diluted sets).

The network (radsem's default, LassoNet input stage) is fitted in the folds of a default
``genemap`` run with genemap seed 1 (4 repeats x 5 folds, the same fold seeds), and every
ranking below is computed from the same 20 fits:

* ``ig_shared``: mean |integrated gradient| over the held-out patients of the first 2
  repeats (the ranking before this comparison);
* ``ig_all`` (radsem's ranking): the same over all 4 repeats, genes with attribution 0 in
  every fit ordered by their mean entry penalty;
* ``frequency``: LassoNet selection frequency over the 20 fits (stability selection on the
  network's own fits, Meinshausen and Bühlmann 2010), ties by ``ig_all``;
* ``frequency_entry``: selection frequency, ties by mean entry penalty;
* ``entry``: mean entry penalty alone (the order of the penalty path, averaged over fits);
* ``skip_weight``: mean |skip weight| (the linear part of the LassoNet);
* ``median_ig``: median |integrated gradient| over the fits; ``ig_share``: the mean over
  fits of each fit's attribution share (|IG| / sum of |IG| over genes).

With ``--linear-models``, on all 200 patients with standardised genes and target:
``enet_coef`` (``ElasticNetCV`` as genemap's elastic net, |coefficient|), ``stab_enet``
(selection frequency of elastic net at the cross-validated penalty over 50 half-samples,
ties by mean |coef|), ``stab_lasso`` (the same with the lasso at half that penalty) and
``marginal`` (|correlation| with the feature), ``lasso_coef`` (``LassoCV``, 5-fold),
``adaptive_lasso`` (Zou 2006: weights 1 / |ridge coefficient|, ``RidgeCV``) and
``relaxed_lasso_t`` (least squares on the lasso's genes, |t|; Meinshausen 2007 at
``phi = 0``).

Precision@10 counts a hit for a driver gene of ``truth.json``; genes tied at the 10th place
count by their expected share (a random order among the tied genes), so no ranking gains
from the column order.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

SETTINGS = {
    "A": {"seed": 0},
    "B": {"seed": 23, "module_size": 25, "core": 15, "signal_share": 0.5},
    "C": {"seed": 101},
    "D": {"seed": 202, "module_size": 20, "core": 10, "signal_share": 0.55},
    "E": {"seed": 303},
    # settings in which the gene sets are a poorer guide to the drivers (for the set-guided
    # ranking; fixed before any of them was run)
    "F": {"seed": 404, "in_set": 0.5, "outside": "module"},
    "G": {"seed": 505, "in_set": 0.5, "outside": "scattered"},
    "H": {"seed": 606, "set_mates": 8, "set_padding": 10},
    "I": {"seed": 707, "in_set": 0.5, "outside": "module", "set_mates": 8},
}


def precision_at(keys: list, hits: np.ndarray, k: int = 10) -> float:
    """Precision@k of a ranking by ``keys`` (primary first, larger = better); genes tied on
    every key across the k-th place count by their expected share of hits."""
    order = np.lexsort([-np.asarray(v) for v in keys[::-1]])
    stacked = np.column_stack([np.asarray(v)[order] for v in keys])
    h = hits[order]
    total, i = 0.0, 0
    while i < k:
        j = i
        while j + 1 < len(order) and (stacked[j + 1] == stacked[i]).all():
            j += 1
        total += min(k - i, j + 1 - i) * h[i : j + 1].mean()
        i = j + 1
    return total / k


def network_fits(x, y, fit_seed: int):
    """Per fit (repeat-major) of the genemap network: |IG| (genes, targets), selection and
    entry penalties (targets, genes) and |skip weights| (targets, genes)."""
    from radsem._threads import single_threaded
    from radsem.genemap import GenemapSettings
    from radsem.genemap.interpret import gene_attributions
    from radsem.genemap.models import GeneNetwork
    from radsem.genemap.run import _folds

    st = GenemapSettings()
    n, t = y.shape
    out = {"ig": [], "selected": [], "entry": [], "theta": []}
    for r, split in enumerate(_folds(n, st.folds, st.mask_repeats, fit_seed)):
        for k, test in enumerate(split):
            train = np.setdiff1d(np.arange(n), test)
            with single_threaded():
                net = GeneNetwork(st.network, seed=fit_seed + 100 * r + k).fit(x[train], y[train])
                xz = net.x_scaler_.transform(x[test])
                out["ig"].append(np.abs(gene_attributions(net.module_, xz, st.ig_steps)).mean(0))
            info = net.paths_[0]
            out["selected"].append(info["selected"])
            out["entry"].append(info["entry"])
            out["theta"].append(np.abs(net.module_.members[0][0].weight.detach().numpy()[:t]))
    return {key: np.stack(v) for key, v in out.items()}, st.folds * st.repeats


def linear_rankings(x, y, rng, subsamples: int) -> dict:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import ElasticNet, ElasticNetCV, Lasso, LassoCV, RidgeCV

    warnings.simplefilter("ignore", ConvergenceWarning)
    cv = ElasticNetCV(l1_ratio=0.5, alphas=30, cv=3, max_iter=5000, tol=1e-3).fit(x, y)
    out = {"enet_coef": [np.abs(cv.coef_)], "marginal": [np.abs(x.T @ y)]}
    lasso = np.abs(LassoCV(alphas=30, cv=5, max_iter=5000, tol=1e-3).fit(x, y).coef_)
    out["lasso_coef"] = [lasso]
    # adaptive lasso (Zou 2006), penalty weights 1 / |ridge coefficient|
    ridge = np.abs(RidgeCV(alphas=np.logspace(0, 5, 30)).fit(x, y).coef_)
    adaptive = LassoCV(alphas=30, cv=5, max_iter=5000, tol=1e-3).fit(x * ridge, y)
    out["adaptive_lasso"] = [np.abs(adaptive.coef_) * ridge, lasso]
    # relaxed lasso (Meinshausen 2007) at its limit: least squares on the lasso's genes,
    # ranked by |t|
    keep = np.flatnonzero(lasso)
    t_value = np.zeros(x.shape[1])
    if 0 < len(keep) < len(y) - 10:
        design = np.column_stack([np.ones(len(y)), x[:, keep]])
        beta, *_ = np.linalg.lstsq(design, y, rcond=None)
        resid = y - design @ beta
        cov = resid @ resid / (len(y) - design.shape[1]) * np.linalg.pinv(design.T @ design)
        t_value[keep] = np.abs(beta[1:] / np.sqrt(np.diag(cov)[1:]))
    out["relaxed_lasso_t"] = [t_value, lasso]
    models = {
        "stab_enet": ElasticNet(alpha=cv.alpha_, l1_ratio=0.5, max_iter=5000, tol=1e-3),
        "stab_lasso": Lasso(alpha=cv.alpha_ * 0.5, max_iter=5000, tol=1e-3),
    }
    n = len(y)
    for name, model in models.items():
        freq, mag = np.zeros(x.shape[1]), np.zeros(x.shape[1])
        for _ in range(subsamples):
            idx = rng.choice(n, n // 2, replace=False)
            coef = model.fit(x[idx], y[idx]).coef_
            freq += coef != 0
            mag += np.abs(coef)
        out[name] = [freq, mag]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=sorted(SETTINGS), default="A")
    parser.add_argument("--fit-seed", type=int, default=1, help="genemap seed")
    parser.add_argument("--linear-models", action="store_true")
    parser.add_argument("--subsamples", type=int, default=50)
    parser.add_argument(
        "--set-guided",
        action="store_true",
        help="compare the flat and the set-guided rankings (and variants of the latter) "
        "from the gene sets and gene evidence of one genemap interpretation",
    )
    parser.add_argument(
        "--cache", default=None, help="folder to keep the interpretation in (--set-guided)"
    )
    args = parser.parse_args()
    if args.set_guided:
        set_guided_main(args)
        return

    import torch

    torch.set_num_threads(1)
    from radsem.genemap import join_tables
    from radsem.simulate.genemap_truth import simulate_genemap_truth

    sim = simulate_genemap_truth(**SETTINGS[args.setting])
    data = join_tables(sim.expression, sim.features)
    genes = np.asarray(data.genes.columns)
    x, y = data.genes.to_numpy(float), data.targets.to_numpy(float)
    start, cpu0 = time.perf_counter(), time.process_time()
    fits, shared = network_fits(x, y, args.fit_seed)
    xs = (x - x.mean(0)) / x.std(0)
    rng = np.random.default_rng(0)
    res: dict = {}
    for j, f in enumerate(data.targets.columns):
        t = sim.truth["features"][f]
        if t["form"] == "noise":
            continue
        hits = np.isin(genes, t["driver_genes"])
        ig_fit = fits["ig"][:, :, j]
        ig_all = ig_fit.mean(0)
        freq = fits["selected"][:, j].mean(0)
        entry = fits["entry"][:, j].mean(0)
        rankings = {
            "ig_shared": [fits["ig"][:shared, :, j].mean(0), fits["entry"][:shared, j].mean(0)],
            "ig_all": [ig_all, entry],
            "frequency": [freq, ig_all, entry],
            "frequency_entry": [freq, entry],
            "entry": [entry],
            "skip_weight": [fits["theta"][:, j].mean(0), entry],
            "median_ig": [np.median(fits["ig"][:, :, j], 0), ig_all, entry],
            "ig_share": [(ig_fit / np.maximum(ig_fit.sum(1, keepdims=True), 1e-12)).mean(0), entry],
        }
        if args.linear_models:
            target = (y[:, j] - y[:, j].mean()) / y[:, j].std()
            rankings.update(linear_rankings(xs, target, rng, args.subsamples))
        for name, keys in rankings.items():
            res.setdefault(name, []).append(precision_at(keys, hits))
        res.setdefault("genes kept per fit", []).append(fits["selected"][:, j].sum(1).mean())
    print(f"setting {args.setting} ({SETTINGS[args.setting]}), genemap seed {args.fit_seed}")
    print(f"{'ranking':<20} {'mean':>6}   per driven feature")
    for name, values in res.items():
        per = " ".join(f"{v:5.2f}" for v in values)
        print(f"{name:<20} {np.mean(values):6.3f}   {per}")
    print(f"time: {time.perf_counter() - start:.1f} s wall, {time.process_time() - cpu0:.1f} s CPU")


def interpretation(sim, fit_seed: int, cache=None):
    """The gene-set table and gene evidence of ``genemap(seed=fit_seed)`` with the default
    settings (its first seed: the same folds, networks and random sets), without the other
    models and the stability seed; kept in ``cache`` (a pickle) if given."""
    import pickle
    from pathlib import Path

    from radsem.genemap import GenemapSettings, join_tables, match_gene_sets
    from radsem.genemap.run import _folds, _interpretation

    if cache is not None and Path(cache).exists():
        with open(cache, "rb") as fh:
            return pickle.load(fh)
    data = join_tables(sim.expression, sim.features)
    sets = match_gene_sets(sim.gene_sets, data.genes.columns)
    position = {g: i for i, g in enumerate(data.genes.columns)}
    sets_idx = {k: np.array(sorted(position[g] for g in v)) for k, v in sets.items()}
    st = GenemapSettings()
    splits = _folds(len(data.genes), st.folds, max(st.repeats, st.mask_repeats), fit_seed)
    cpu0 = time.process_time()
    table, _, evidence = _interpretation(data, sets_idx, st, fit_seed, splits, with_ig=True)
    out = {
        "table": table,
        "evidence": evidence,
        "genes": list(data.genes.columns),
        "targets": list(data.targets.columns),
        "sets": {k: list(v) for k, v in sets.items()},
        "cpu": time.process_time() - cpu0,
    }
    if cache is not None:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        with open(cache, "wb") as fh:
            pickle.dump(out, fh)
    return out


def set_guided_main(args) -> None:
    """Flat vs set-guided precision@10 (and variants) from one interpretation."""
    import torch

    torch.set_num_threads(1)
    from pathlib import Path

    from radsem.simulate.genemap_truth import simulate_genemap_truth

    sim = simulate_genemap_truth(**SETTINGS[args.setting])
    cache = None
    if args.cache:
        cache = Path(args.cache) / f"setting_{args.setting}_seed{args.fit_seed}.pkl"
    res = interpretation(sim, args.fit_seed, cache)
    print(f"setting {args.setting} ({SETTINGS[args.setting]}), genemap seed {args.fit_seed}")
    print(f"interpretation: {res['cpu']:.1f} s CPU (network passes, masking, nulls, IG)")
    report_set_guided(sim, res)


def report_set_guided(sim, res, alpha: float = 0.05) -> dict:
    """Print and return precision@10 per ranking (mean over driven features): ``flat``
    (radsem's ``rank_flat``), ``set_guided`` (radsem's ``rank``; genes of a significant
    set with importance > 0 first) and variants of the set-guided rule: ``sg_any`` (every
    gene of a significant set first, evidence or not), ``sg_freq50`` (genes of a
    significant set kept by at least half of the fits), ``sg_top`` (only the top-ranked
    significant set's genes with importance > 0)."""
    import pandas as pd

    from radsem.genemap.genes import gene_importance_table, significant_members

    genes, targets = pd.Index(res["genes"]), pd.Index(res["targets"])
    ev, table, sets = res["evidence"], res["table"], res["sets"]
    gi = gene_importance_table(genes, targets, ev, table, sets, alpha, "set_guided")
    member = significant_members(genes, targets, table, sets, alpha)
    top_table = table[table["rank"] == 1]
    member_top = significant_members(genes, targets, top_table, sets, alpha)
    imp = ev.attribution / max(ev.n_fits, 1)
    freq = ev.selected / max(ev.n_paths, 1)
    entry = ev.entry / max(ev.n_paths, 1)
    truth = sim.truth["features"]
    out: dict = {}
    extra: dict = {}
    for j, f in enumerate(targets):
        t = truth[f]
        rows = gi[gi["target"] == f]
        if t["form"] == "noise":
            extra["noise: genes in a significant set"] = int(member[:, j].sum())
            extra["noise: rank == rank_flat"] = bool((rows["rank"] == rows["rank_flat"]).all())
            continue
        hits = np.isin(genes, t["driver_genes"])
        i, e = imp[:, j], entry[:, j]
        promoted = member[:, j] & (i > 0)
        keys = {
            "flat": [i, e],
            "set_guided": [promoted.astype(float), i, e],
            "sg_any": [member[:, j].astype(float), i, e],
            "sg_freq50": [(member[:, j] & (freq[:, j] >= 0.5)).astype(float), i, e],
            "sg_top": [(member_top[:, j] & (i > 0)).astype(float), i, e],
        }
        for name, k in keys.items():
            out.setdefault(name, []).append(precision_at(k, hits))
        # the library's table agrees with the keys above (sorted by rank, then by rank_flat)
        lib_keys = [-rows["rank"].to_numpy(float)]
        lib_hits = rows["gene"].isin(t["driver_genes"]).to_numpy()
        assert abs(precision_at(lib_keys, lib_hits) - out["set_guided"][-1]) < 1e-12
        lib_flat = [-rows["rank_flat"].to_numpy(float)]
        assert abs(precision_at(lib_flat, lib_hits) - out["flat"][-1]) < 1e-12
        sig = table[(table["target"] == f) & (table["q_value"] < alpha)]
        extra.setdefault("significant sets", []).append(len(sig))
        extra.setdefault("driver set significant", []).append(t["driver_set"] in set(sig.gene_set))
        extra.setdefault("promoted genes", []).append(int(promoted.sum()))
        extra.setdefault("drivers among promoted", []).append(int((promoted & hits).sum()))
        extra.setdefault("drivers with importance > 0", []).append(int((hits & (i > 0)).sum()))
    print(f"{'ranking':<12} {'mean':>6}   per driven feature")
    for name, values in out.items():
        per = " ".join(f"{v:5.2f}" for v in values)
        print(f"{name:<12} {np.mean(values):6.3f}   {per}")
    for name, values in extra.items():
        print(f"{name}: {values}")
    return {name: float(np.mean(v)) for name, v in out.items()}


if __name__ == "__main__":
    main()
