"""Coverage of 0.5 by the AUC intervals of ``compare_models(..., outcome="label")`` when the
label is independent of the features: the corrected resampled-t interval (``ci_lower,
ci_upper``) against the permutation-calibrated interval (``n_permutations=B``: ``ci_lower_perm,
ci_upper_perm``), and how often each finds a label the features do carry (power).

Usage::

    python benchmarks/harness_label_permutation.py               # 100 null + 10 real data sets
    python benchmarks/harness_label_permutation.py --null 200 --real 20 --B 39 --repeats 1

Each data set is fresh (n patients, 6 standard normal features; the label a coin flip for the
null, ``2 x1 + noise > 0`` for the real ones) and goes through the harness with one tiny family
(nearest-centroid discriminant on all features, closed form; wrapped as a classifier) and K-fold
cross-validation. Printed: coverage of 0.5 with its Clopper-Pearson 95 % interval, the shares
of intervals entirely below / above 0.5, the mean width, the share of real data sets whose
interval lies above 0.5, and wall / CPU time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy.stats import beta
from sklearn.base import BaseEstimator, ClassifierMixin

from radsem.compare import compare_models


class Centroid(ClassifierMixin, BaseEstimator):
    """Difference of the class means as the discriminant (nearest-centroid score)."""

    def fit(self, X, y, sample_weight=None):
        x, y = X.to_numpy(dtype=float), np.asarray(y)
        self.coef_ = x[y == 1].mean(axis=0) - x[y == 0].mean(axis=0)
        self.centre_ = (x[y == 1].mean(axis=0) + x[y == 0].mean(axis=0)) / 2
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        p = 1.0 / (1.0 + np.exp(-((X.to_numpy(dtype=float) - self.centre_) @ self.coef_)))
        return np.column_stack([1 - p, p])


def data_set(rng, n: int, real: bool) -> tuple[pd.DataFrame, np.ndarray]:
    x = pd.DataFrame(rng.normal(size=(n, 6)), columns=[f"x{j}" for j in range(6)])
    score = 2 * x["x0"] + rng.normal(size=n) if real else rng.normal(size=n)
    return x, (np.asarray(score) > 0).astype(int)


def one(x, y, args, seed) -> dict:
    res = compare_models(
        x.assign(label=y),
        {"centroid": _Features(list(x.columns))},
        outcome="label",
        label="label",
        n_splits=args.folds,
        n_repeats=args.repeats,
        random_state=seed,
        n_permutations=args.B,
    )
    row = res.summary().query("metric == 'auc'").iloc[0]
    return row.to_dict()


class _Features(Centroid):
    """The centroid family on the feature columns only (the data frame also holds the label)."""

    def __init__(self, columns=()):
        self.columns = columns

    def fit(self, X, y, sample_weight=None):
        return super().fit(X[list(self.columns)], y)

    def predict_proba(self, X):
        return super().predict_proba(X[list(self.columns)])


def clopper_pearson(k: int, n: int) -> tuple[float, float]:
    lo = beta.ppf(0.025, k, n - k + 1) if k > 0 else 0.0
    hi = beta.ppf(0.975, k + 1, n - k) if k < n else 1.0
    return float(lo), float(hi)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--null", type=int, default=100, help="null data sets")
    ap.add_argument("--real", type=int, default=10, help="data sets with a real label")
    ap.add_argument("--n", type=int, default=80, help="patients per data set")
    ap.add_argument("--B", type=int, default=39, help="permutations")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    wall, cpu = time.time(), time.process_time()
    null = pd.DataFrame([one(*data_set(rng, args.n, False), args, k) for k in range(args.null)])
    real = pd.DataFrame([one(*data_set(rng, args.n, True), args, k) for k in range(args.real)])
    wall, cpu = time.time() - wall, time.process_time() - cpu
    print(
        f"n = {args.n}, {args.folds}-fold CV x {args.repeats}, B = {args.B}; "
        f"{args.null} null and {args.real} real data sets"
    )
    print("| interval | covers 0.5 (95 % CI) | below | above | width | real: power | width |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, lo, hi in (
        ("corrected t (`ci_lower`, `ci_upper`)", "ci_lower", "ci_upper"),
        ("permutation (`ci_*_perm`)", "ci_lower_perm", "ci_upper_perm"),
    ):
        cover = (null[lo] <= 0.5) & (0.5 <= null[hi])
        k = int(cover.sum())
        c_lo, c_hi = clopper_pearson(k, len(null))
        print(
            f"| {name} | {k / len(null):.3f} ({c_lo:.2f}-{c_hi:.2f}) | "
            f"{(null[hi] < 0.5).mean():.3f} | {(null[lo] > 0.5).mean():.3f} | "
            f"{(null[hi] - null[lo]).mean():.2f} | {int((real[lo] > 0.5).sum())} / {len(real)} | "
            f"{(real[hi] - real[lo]).mean():.2f} |"
        )
    print(
        f"null: mean AUC {null['mean'].mean():.3f}, mean auc_null {null['auc_null'].mean():.3f}; "
        f"real: mean AUC {real['mean'].mean():.3f}"
    )
    runs = args.null + args.real
    print(f"wall {wall:.0f} s, CPU {cpu:.0f} s ({cpu / runs:.2f} s CPU per data set)")


if __name__ == "__main__":
    main()
