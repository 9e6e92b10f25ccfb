"""Gene precision@10 of alternative gene rankings on the gene-map simulator (reference for
docs/genemap.md; radsem's default ranking is the network's integrated gradients, measured by
``benchmarks/genemap.py``).

Usage::

    python benchmarks/genemap_gene_ranking.py                 # setting A
    python benchmarks/genemap_gene_ranking.py --setting B     # seed 23, modules of 25, 15 drivers

Rankings, each fitted on all 200 patients with standardised genes and target:

* ``enet_coef``: ``ElasticNetCV`` (l1_ratio 0.5, as genemap's elastic net), absolute coefficient;
* ``stab_enet``: stability selection (Meinshausen and Bühlmann 2010): selection frequency of
  elastic net at the cross-validated penalty over 50 half-samples (ties by mean |coef|);
* ``stab_lasso``: the same with the lasso at half that penalty.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=["A", "B"], default="A")
    parser.add_argument("--subsamples", type=int, default=50)
    args = parser.parse_args()

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import ElasticNet, ElasticNetCV, Lasso

    from radsem.simulate.genemap_truth import simulate_genemap_truth

    warnings.simplefilter("ignore", ConvergenceWarning)
    if args.setting == "A":
        sim = simulate_genemap_truth(seed=0)
    else:
        sim = simulate_genemap_truth(seed=23, module_size=25, core=15, signal_share=0.5)
    expr = sim.expression.iloc[:, 1:]
    genes = np.array(expr.columns)
    x = expr.to_numpy(float)
    x = (x - x.mean(0)) / x.std(0)
    rng = np.random.default_rng(0)
    res = {"enet_coef": [], "stab_enet": [], "stab_lasso": []}
    for f, t in sim.truth["features"].items():
        if t["form"] == "noise":
            continue
        y = sim.features[f].to_numpy(float)
        y = (y - y.mean()) / y.std()
        drivers = set(t["driver_genes"])

        def precision(score, drivers=drivers):
            top = genes[np.argsort(-score, kind="stable")[:10]]
            return float(np.mean([g in drivers for g in top]))

        cv = ElasticNetCV(l1_ratio=0.5, alphas=30, cv=3, max_iter=5000, tol=1e-3).fit(x, y)
        res["enet_coef"].append(precision(np.abs(cv.coef_)))
        models = {
            "stab_enet": ElasticNet(alpha=cv.alpha_, l1_ratio=0.5, max_iter=5000, tol=1e-3),
            "stab_lasso": Lasso(alpha=cv.alpha_ * 0.5, max_iter=5000, tol=1e-3),
        }
        n = len(y)
        for name, model in models.items():
            freq, mag = np.zeros(x.shape[1]), np.zeros(x.shape[1])
            for _ in range(args.subsamples):
                idx = rng.choice(n, n // 2, replace=False)
                coef = model.fit(x[idx], y[idx]).coef_
                freq += coef != 0
                mag += np.abs(coef)
            res[name].append(precision(freq + 1e-6 * mag / (mag.max() + 1e-12)))
        print(f, {k: v[-1] for k, v in res.items()}, flush=True)
    print(
        f"setting {args.setting}, mean precision@10 over driven features:",
        {k: round(float(np.mean(v)), 3) for k, v in res.items()},
    )


if __name__ == "__main__":
    main()
