"""Coverage of the AUC confidence intervals of radsem.compare.compare_label under the null.

Usage::

    python benchmarks/label_ci_coverage.py       # 200 permuted labels + power (~35 min of CPU)
    python benchmarks/label_ci_coverage.py --perms 100 --real 5 --B 39
    # the figures of docs/compare.md, in parallel processes, then the table from all parts:
    python benchmarks/label_ci_coverage.py --part null --repeats 1 --out DIR
    python benchmarks/label_ci_coverage.py --part null --repeats 5 --perms 100 --out DIR
    python benchmarks/label_ci_coverage.py --part null --repeats 5 --perms 100 --first 100 --out DIR
    python benchmarks/label_ci_coverage.py --part null --repeats 1 --perms 60 --forest --out DIR
    python benchmarks/label_ci_coverage.py --part real --repeats 1 --out DIR
    python benchmarks/label_ci_coverage.py --part real --repeats 5 --B 0 --out DIR
    python benchmarks/label_ci_coverage.py --part real --repeats 5 --selectors mrmr --out DIR
    python benchmarks/label_ci_coverage.py --part table --out DIR

A permuted label is independent of the features, so a well calibrated 95 % interval of the
cross-validated AUC covers 0.5 for about 95 % of the permutations. Each permutation of one fixed
data set (n = 100, 24 features of which 3 carry the true label) is run through the nested
cross-validation (standardisation, LASSO or mRMR selection and a logistic regression, or a random
forest with ``--forest``, fitted in the outer training folds; 5 folds), with one and with 5
repeats. For each interval the table prints its coverage of 0.5 with the Clopper-Pearson 95 %
interval of that coverage, the share of intervals entirely below / above 0.5, the mean width and
the mean centre; then, for the true label on ``--real`` fresh data sets, how often the interval
excludes 0.5 (the power), its width and centre. Intervals are closed: ``lower <= 0.5 <= upper``
covers.

Intervals compared:

* ``delong (pooled)``: DeLong interval of the pooled out-of-fold AUC (probabilities averaged
  over repeats): ``ci_*_delong``;
* ``corrected t (folds)``: mean per-fold AUC with the corrected resampled-t interval (Nadeau &
  Bengio 2003; Bouckaert & Frank 2004): ``ci_lower``, ``ci_upper``;
* ``cv influence curve``: mean per-fold AUC with the influence-curve interval of LeDell,
  Petersen & van der Laan (2015), computed here from ``res.folds``;
* ``permutation``: mean per-fold AUC with the permutation-calibrated interval
  (``ci_*_perm``, :func:`radsem.compare.permutation_interval`). Under the null its reference
  distribution is, for permutation k, the statistics of ``--B`` of the other permutations drawn
  at random: they went through the same cross-validation (same seed, ``--seed``) on other
  permutations of the same label, exactly what compare_label's ``n_permutations=B`` refits, so
  refitting B times per permutation is not needed (and the coverage is 0.95 by
  exchangeability: the figure checks it and measures the width). For the true label it is
  compare_label's own ``n_permutations=--B``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd


def make_data(rng: np.random.Generator, n: int = 100) -> tuple[pd.DataFrame, pd.Series]:
    """ADC features carry the label through a latent score; T2 and DWI features are noise."""
    idx = pd.Index([f"P{i:03d}" for i in range(n)], name="patient_id")
    latent = rng.standard_normal(n)
    label = pd.Series(
        np.where(latent + 0.7 * rng.standard_normal(n) > 0, "mut", "wt"), index=idx, name="TP53"
    )
    cols = {}
    for seq in ("t2", "dwi", "adc"):
        for j in range(8):
            signal = -0.8 * latent if seq == "adc" and j < 3 else 0.0
            cols[f"{seq}_original_f{j}"] = signal + rng.standard_normal(n)
    return pd.DataFrame(cols, index=idx), label


METHODS = {
    "delong (pooled)": ("auc", "ci_lower_delong", "ci_upper_delong"),
    "corrected t (folds)": ("auc_folds", "ci_lower", "ci_upper"),
    "permutation": ("auc_folds", "ci_lower_perm", "ci_upper_perm"),
}


def influence_curve(folds: pd.DataFrame) -> tuple[float, float, float]:
    """Mean per-fold AUC and its influence-curve interval (LeDell et al. 2015)."""
    from scipy import stats

    per = folds.groupby("repeat").agg(
        auc=("auc", "mean"), var=("var", lambda v: v.sum() / len(v) ** 2)
    )
    est, se = per["auc"].mean(), float(np.sqrt(per["var"].mean()))
    q = stats.norm.ppf(0.975)
    return est, est - q * se, est + q * se


def intervals(feats, label, repeats, selectors, classifiers, seed, n_perm=0) -> list[dict]:
    from radsem.compare import compare_label

    res = compare_label(
        feats,
        label,
        groups={"all": list(feats.columns)},
        selectors=selectors,
        classifiers=classifiers,
        n_features=4,
        n_splits=5,
        n_repeats=repeats,
        positive="mut",
        seed=seed,
        n_permutations=n_perm,
    )
    rows = []
    for r in res.summary.itertuples():
        model = {"model": f"{r.selector}+{r.classifier}", "repeats": repeats, "seed": seed}
        for method, (centre, lo, hi) in METHODS.items():
            rows.append(
                {
                    **model,
                    "interval": method,
                    "centre": getattr(r, centre),
                    "lower": getattr(r, lo),
                    "upper": getattr(r, hi),
                }
            )
        mine = res.folds.query("selector == @r.selector and classifier == @r.classifier")
        est, lo, hi = influence_curve(mine)
        rows.append(
            {**model, "interval": "cv influence curve", "centre": est, "lower": lo, "upper": hi}
        )
    return rows


def reference_permutation(null: pd.DataFrame, B: int, seed: int = 1) -> pd.DataFrame:
    """The permutation interval of each permuted label, its reference distribution the
    statistics of ``B`` of the other permuted labels drawn at random (without refitting: they
    are permutations of the same label through the same cross-validation, exchangeable with
    it, exactly what compare_label's ``n_permutations=B`` draws)."""
    from radsem.compare import permutation_interval

    null = null.copy()
    rng = np.random.default_rng(seed)
    for _, sub in null.query("interval == 'permutation'").groupby(["model", "repeats"]):
        stat = sub["centre"].to_numpy()
        for pos, i in enumerate(sub.index):
            ref = rng.choice(np.delete(stat, pos), size=min(B, stat.size - 1), replace=False)
            res = permutation_interval(stat[pos], ref)
            null.loc[i, ["lower", "upper"]] = res["ci_lower"], res["ci_upper"]
    return null


def table(rows: pd.DataFrame) -> pd.DataFrame:
    from scipy import stats

    df = rows.dropna(subset=["lower", "upper"]).copy()  # e.g. no permutation interval at B = 0
    df["covers"] = (df["lower"] <= 0.5) & (df["upper"] >= 0.5)
    df["below"] = df["upper"] < 0.5
    df["above"] = df["lower"] > 0.5  # claims the label is predictable
    df["width"] = df["upper"] - df["lower"]
    out = (
        df.groupby(["model", "repeats", "interval"], sort=False)
        .agg(
            n=("covers", "size"),
            covers=("covers", "sum"),
            below=("below", "mean"),
            above=("above", "mean"),
            width=("width", "mean"),
            centre=("centre", "mean"),
        )
        .reset_index()
    )
    ci = [stats.binomtest(int(k), int(n)).proportion_ci() for k, n in zip(out.covers, out.n)]
    out.insert(4, "coverage", out["covers"] / out["n"])
    out.insert(5, "cov_lo", [c.low for c in ci])
    out.insert(6, "cov_hi", [c.high for c in ci])
    return out.drop(columns="covers")


def run_null(args, selectors, classifiers) -> pd.DataFrame:
    feats, label = make_data(np.random.default_rng(2026), args.n)
    rows = []
    for k in range(args.first, args.first + args.perms):
        perm = pd.Series(
            np.random.default_rng(10_000 + k).permutation(label.to_numpy()),
            index=label.index,
            name="permuted",
        )
        for repeats in args.repeats:
            rows += intervals(feats, perm, repeats, selectors, classifiers, seed=args.seed)
    return reference_permutation(pd.DataFrame(rows), args.B)


def run_real(args, selectors, classifiers) -> pd.DataFrame:
    rows = []
    for k in range(args.real):
        f, lab = make_data(np.random.default_rng(500 + k), args.n)
        for repeats in args.repeats:
            rows += intervals(f, lab, repeats, selectors, classifiers, seed=k, n_perm=args.B)
    return pd.DataFrame(rows)


def report(null: pd.DataFrame, real: pd.DataFrame) -> None:
    keys = ["model", "repeats", "interval"]
    t = table(null)
    if len(real):
        r = table(real)[keys + ["n", "above", "width", "centre"]]
        r = r.rename(
            columns={"n": "n_real", "above": "power", "width": "width_real", "centre": "auc_real"}
        )
        t = t.merge(r, on=keys, how="left")
    print(
        "\n## Permuted labels (n: how many; coverage of 0.5 with its Clopper-Pearson 95 % CI "
        "cov_lo-cov_hi; below / above: interval entirely below / above 0.5) and the true label "
        "on n_real fresh data sets (power: share with the interval above 0.5)\n"
    )
    print(t.round(3).to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--perms", type=int, default=200)
    parser.add_argument("--first", type=int, default=0, help="first permutation (to split runs)")
    parser.add_argument("--real", type=int, default=10)
    parser.add_argument("--B", type=int, default=39, help="permutations per true-label fit")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0, help="folds seed of the permuted runs")
    parser.add_argument("--repeats", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--forest", action="store_true", help="the random forest instead")
    parser.add_argument("--selectors", nargs="+", default=["lasso", "mrmr"])
    parser.add_argument("--part", choices=("all", "null", "real", "table"), default="all")
    parser.add_argument("--out", type=Path, default=None, help="folder for the parts' CSVs")
    args = parser.parse_args()
    selectors = tuple(args.selectors)
    classifiers = ("random_forest",) if args.forest else ("logistic",)
    pd.set_option("display.width", 200)
    t0, c0 = time.perf_counter(), time.process_time()
    null = real = None
    if args.part in ("all", "null"):
        null = run_null(args, selectors, classifiers)
    if args.part in ("all", "real"):
        real = run_real(args, selectors, classifiers)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        tag = f"{classifiers[0]}_R{'-'.join(map(str, args.repeats))}"
        tag += f"_from{args.first}" if args.first else ""
        tag += "" if len(selectors) == 2 else f"_{'-'.join(selectors)}_B{args.B}"
        for name, frame in (("null", null), ("real", real)):
            if frame is not None:
                frame.to_csv(args.out / f"{name}_{tag}.csv", index=False)
        if args.part == "table":  # every part saved in the folder
            parts = [pd.read_csv(f) for f in sorted(args.out.glob("null_*.csv"))]
            null = reference_permutation(pd.concat(parts, ignore_index=True), args.B)
            reals = sorted(args.out.glob("real_*.csv"))
            real = pd.concat([pd.read_csv(f) for f in reals]) if reals else pd.DataFrame()
            if len(real):  # a fit run in two parts (e.g. with and without permutations)
                real = real.sort_values("lower", na_position="last").drop_duplicates(
                    ["model", "repeats", "interval", "seed"]
                )
    if null is not None:
        report(null, real if real is not None else pd.DataFrame())
    print(
        f"\n(wall {time.perf_counter() - t0:.0f} s, CPU {time.process_time() - c0:.0f} s; "
        f"n = {args.n}, 5-fold nested CV, B = {args.B} permutations per true-label fit)"
    )


if __name__ == "__main__":
    main()
