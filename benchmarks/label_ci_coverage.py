"""Coverage of the AUC confidence intervals of radsem.compare.compare_label under the null.

Usage::

    python benchmarks/label_ci_coverage.py              # 100 permuted labels (~5 min of CPU)
    python benchmarks/label_ci_coverage.py --perms 100 --forest

A permuted label is independent of the features, so a well calibrated 95 % interval of the
cross-validated AUC covers 0.5 for about 95 % of the permutations. Each permutation is run
through the nested cross-validation (standardisation, LASSO or mRMR selection and a logistic
regression fitted in the outer training folds; 5 folds), once with one repeat and once with 5
repeats. For each interval the table prints its coverage of 0.5, its mean width and the mean
of its centre; then the same intervals for the true label on 10 fresh data sets (how often the
interval excludes 0.5: the power).

Intervals compared:

* ``delong (pooled)``: DeLong interval of the pooled out-of-fold AUC (probabilities averaged
  over repeats), the interval compare_label reported before (now ``ci_*_delong``);
* ``corrected t (folds)``: mean per-fold AUC with the corrected resampled-t interval (Nadeau &
  Bengio 2003; Bouckaert & Frank 2004): ``ci_lower``, ``ci_upper``, the interval compare_label
  now reports;
* ``cv influence curve``: mean per-fold AUC with the influence-curve interval of LeDell,
  Petersen & van der Laan (2015), computed here from ``res.folds`` (each fold's AUC with its own
  DeLong variance; per repeat Var = sum_v var_v / V^2, averaged over repeats).
"""

from __future__ import annotations

import argparse
import time

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


def intervals(feats, label, repeats, selectors, classifiers, seed) -> list[dict]:
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
    )
    rows = []
    for r in res.summary.itertuples():
        model = {"model": f"{r.selector}+{r.classifier}", "repeats": repeats}
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


def table(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    df["covers"] = (df["lower"] < 0.5) & (df["upper"] > 0.5)
    df["excludes"] = ~df["covers"]
    df["above"] = df["lower"] >= 0.5  # claims the label is predictable
    df["width"] = df["upper"] - df["lower"]
    return (
        df.groupby(["model", "repeats", "interval"], sort=False)
        .agg(
            n=("covers", "size"),
            coverage=("covers", "mean"),
            excludes=("excludes", "mean"),
            above=("above", "mean"),
            width=("width", "mean"),
            centre=("centre", "mean"),
        )
        .reset_index()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--perms", type=int, default=100)
    parser.add_argument("--real", type=int, default=10)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--forest", action="store_true", help="also the random forest")
    args = parser.parse_args()
    selectors = ("lasso", "mrmr")
    classifiers = ("logistic", "random_forest") if args.forest else ("logistic",)
    pd.set_option("display.width", 160)
    feats, label = make_data(np.random.default_rng(2026), args.n)
    t0 = time.perf_counter()
    null = []
    for k in range(args.perms):
        perm = pd.Series(
            np.random.default_rng(10_000 + k).permutation(label.to_numpy()),
            index=label.index,
            name="permuted",
        )
        for repeats in (1, 5):
            null += intervals(feats, perm, repeats, selectors, classifiers, seed=k)
    print(
        f"\n## {args.perms} permuted labels (n = {args.n}, {int((label == 'mut').sum())} "
        f"cases; 5-fold nested CV; {time.perf_counter() - t0:.0f} s)\n"
    )
    print(table(null).round(3).to_string(index=False))
    real = []
    for k in range(args.real):
        f, lab = make_data(np.random.default_rng(500 + k), args.n)
        for repeats in (1, 5):
            real += intervals(f, lab, repeats, selectors, classifiers, seed=k)
    print(f"\n## the true label, {args.real} fresh data sets (power = share excluding 0.5)\n")
    print(table(real).drop(columns="coverage").round(3).to_string(index=False))


if __name__ == "__main__":
    main()
