"""Coverage of 0 by the R² intervals of ``radsem.genemap`` for pure-noise targets.

Usage::

    python benchmarks/genemap_r2_coverage.py                  # 4 cohorts x 50 noise targets
    python benchmarks/genemap_r2_coverage.py --cohorts 2 --targets 60 --genes 1000

Expression comes from the gene-map simulator (co-expression modules, 2,000 genes, 200
patients); every target is independent standard normal noise, so the true R² of any model
is at most 0. For each target and model the script runs the same repeated cross-validation
as ``genemap`` (default 2 x 5 folds) and reports how often the 95 % interval for R² covers 0:

* ``bootstrap``: percentile bootstrap of patients over the fixed out-of-fold predictions
  (radsem's interval before the change; it ignores the refitting variance and the negative
  bias of cross-validated R² at zero signal);
* ``corrected_t``: Nadeau and Bengio's (2003) corrected repeated-CV t-interval over the
  per-fold R² (``radsem.genemap.metrics.corrected_cv_interval``), radsem's interval now.

Models: the training mean, ridge with its penalty by leave-one-out error (the network's linear
path), elastic net (``ElasticNetCV`` as in genemap, on ``--enet-targets`` targets per cohort
since it is the slowest) and, with ``--network``, radsem's network (multi-output, all targets
of a cohort at once).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=4)
    parser.add_argument("--targets", type=int, default=50, help="noise targets per cohort")
    parser.add_argument("--enet-targets", type=int, default=10)
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--genes", type=int, default=2000)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--network", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from sklearn.exceptions import ConvergenceWarning

    from radsem.genemap.metrics import corrected_cv_interval, fold_r2, r2
    from radsem.genemap.models import GeneNetwork, make_model, ridge_loo
    from radsem.genemap.run import _folds
    from radsem.simulate.genemap_truth import simulate_genemap_truth

    start = time.perf_counter()
    rows = []
    for c in range(args.cohorts):
        sim = simulate_genemap_truth(
            n_patients=args.patients, n_genes=args.genes, n_features=3, n_sets=3, seed=1000 + c
        )
        x = sim.expression.iloc[:, 1:].to_numpy(float)
        rng = np.random.default_rng([args.seed, c])
        y = rng.standard_normal((args.patients, args.targets))
        n = len(y)
        splits = _folds(n, args.folds, args.repeats, args.seed + c)
        preds = {m: np.full((args.repeats, n, args.targets), np.nan) for m in ("mean", "ridge")}
        preds["elastic_net"] = np.full((args.repeats, n, args.targets), np.nan)
        if args.network:
            preds["network"] = np.full((args.repeats, n, args.targets), np.nan)
        for r, split in enumerate(splits):
            for k, test in enumerate(split):
                train = np.setdiff1d(np.arange(n), test)
                mu, sd = x[train].mean(0), x[train].std(0)
                sd[sd == 0] = 1
                xtr, xte = (x[train] - mu) / sd, (x[test] - mu) / sd
                preds["mean"][r, test] = y[train].mean(0)
                coef, intercept = ridge_loo(xtr, y[train])[:2]
                preds["ridge"][r, test] = xte @ coef + intercept
                e = args.enet_targets
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    enet = make_model("elastic_net", seed=r).fit(xtr, y[train][:, :e])
                preds["elastic_net"][r, test, :e] = enet.predict(xte)
                if args.network:
                    net = GeneNetwork(seed=100 * r + k).fit(x[train], y[train])
                    preds["network"][r, test] = net.predict(x[test])
        n_test = np.mean([len(t) for s in splits for t in s])
        boot = np.random.default_rng([args.seed, c, 1]).integers(0, n, size=(1000, n))
        for model, p in preds.items():
            for j in range(args.targets):
                if np.isnan(p[0, 0, j]):
                    continue
                obs = y[:, j]
                point = float(np.mean(r2(obs[None], p[:, :, j])))
                draws = r2(obs[boot][None], p[:, boot, j]).mean(0)
                blo, bhi = np.quantile(draws, [0.025, 0.975])
                tlo, thi, _ = corrected_cv_interval(
                    fold_r2(obs, p[:, :, j], splits), point, n - n_test, n_test
                )
                rows.append(
                    {
                        "cohort": c,
                        "model": model,
                        "r2": point,
                        "bootstrap": blo <= 0 <= bhi,
                        "corrected_t": tlo <= 0 <= thi,
                        "width_bootstrap": bhi - blo,
                        "width_corrected_t": thi - tlo,
                    }
                )
        print(f"cohort {c} done, {time.perf_counter() - start:.0f} s", flush=True)
    table = pd.DataFrame(rows)
    summary = table.groupby("model").agg(
        targets=("r2", "size"),
        mean_r2=("r2", "mean"),
        cover_bootstrap=("bootstrap", "mean"),
        cover_corrected_t=("corrected_t", "mean"),
        width_bootstrap=("width_bootstrap", "mean"),
        width_corrected_t=("width_corrected_t", "mean"),
    )
    print(
        f"\n{args.cohorts} cohorts x {args.targets} pure-noise targets, {args.patients} "
        f"patients x {args.genes} genes, {args.repeats} x {args.folds}-fold CV; share of 95 % "
        "R² intervals covering 0:"
    )
    print(summary.round(3).to_string())
    print(f"total time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
