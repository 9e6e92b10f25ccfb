"""Benchmark of radsem.compare's binary-outcome tools and the CAE-feature Cox family, with the
figures reported in docs/compare.md.

Usage::

    python benchmarks/bench_compare.py           # full run (a few minutes on 2 shared cores)
    python benchmarks/bench_compare.py --quick   # smaller, for a smoke test

Sections (each prints a table):

1. DeLong paired AUC test: radsem's placement values by sorting vs a brute-force O(m n) pair
   matrix (the textbook definition), same numbers, timing ratio.
2. Weighted logistic regression: radsem's Newton fit vs statsmodels GLM and scikit-learn
   ``LogisticRegression`` (lbfgs) on an unscaled clinical design.
3. Recurrence within 24 months on ``simulate_cohort(n=400, seed=1)``: clinical, truth and
   synthetic-radiomic families (5-fold x 5 repeats, IPCW), then the same with permuted outcomes.
4. CAE-feature Cox on a simulated cohort folder with images (the demo's generator): clinical vs
   CAE codes vs CAE + clinical, 3-fold x 2 repeats, with the time per fold.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit

LATENT = ["E6", "E7", "immune", "hypoxia"]


def _timed(fn, repeat=3):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def bench_delong(n: int) -> pd.DataFrame:
    from radsem.compare import paired_auc

    rng = np.random.default_rng(0)
    x = rng.normal(size=n)
    y = rng.binomial(1, expit(x))
    a, b = x + rng.normal(size=n), np.round(x + 2 * rng.normal(size=n), 1)  # ties in b

    def brute():
        cases, ctrl = y == 1, y == 0
        out = []
        for s in (a, b):
            psi = (s[cases][:, None] > s[ctrl][None, :]) + 0.5 * (
                s[cases][:, None] == s[ctrl][None, :]
            )
            out.append((psi.mean(), psi.mean(axis=1), psi.mean(axis=0)))
        (aa, v10a, v01a), (ab, v10b, v01b) = out
        m, k = cases.sum(), ctrl.sum()
        s10 = np.cov(np.vstack([v10a, v10b]))
        s01 = np.cov(np.vstack([v01a, v01b]))
        S = s10 / m + s01 / k
        return aa - ab, np.sqrt(S[0, 0] + S[1, 1] - 2 * S[0, 1])

    t_r, res = _timed(lambda: paired_auc(y, a, b))
    t_b, (d, se) = _timed(brute)
    return pd.DataFrame(
        [
            {
                "n": n,
                "method": "radsem paired_auc (sorting)",
                "seconds": t_r,
                "diff": res["diff"],
                "se": res["se"],
                "ratio_to_radsem": 1.0,
            },
            {
                "n": n,
                "method": "brute-force pair matrix",
                "seconds": t_b,
                "diff": d,
                "se": se,
                "ratio_to_radsem": t_b / t_r,
            },
        ]
    )


def bench_logistic(n: int) -> pd.DataFrame:
    import statsmodels.api as sm
    from sklearn.linear_model import LogisticRegression

    from radsem.compare.logistic import ridge_logistic

    rng = np.random.default_rng(1)
    X = np.column_stack([rng.normal(50, 10, n), rng.binomial(1, 0.4, n)])
    y = rng.binomial(1, expit(-3 + 0.05 * X[:, 0] + X[:, 1])).astype(float)
    w = rng.uniform(0.5, 2.0, n)
    t_r, b_r = _timed(lambda: ridge_logistic(X, y, w))
    t_s, glm = _timed(
        lambda: sm.GLM(y, sm.add_constant(X), family=sm.families.Binomial(), var_weights=w).fit()
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_k, sk = _timed(
            lambda: LogisticRegression(C=np.inf, max_iter=10000).fit(X, y, sample_weight=w)
        )
    b_k = np.r_[sk.intercept_, sk.coef_.ravel()]
    return pd.DataFrame(
        [
            {
                "method": "radsem ridge_logistic (Newton)",
                "seconds": t_r,
                "max_abs_diff_vs_glm": float(np.max(np.abs(b_r - glm.params))),
                "ratio_to_radsem": 1.0,
            },
            {
                "method": "statsmodels GLM (IRLS)",
                "seconds": t_s,
                "max_abs_diff_vs_glm": 0.0,
                "ratio_to_radsem": t_s / t_r,
            },
            {
                "method": "scikit-learn LogisticRegression (lbfgs)",
                "seconds": t_k,
                "max_abs_diff_vs_glm": float(np.max(np.abs(b_k - glm.params))),
                "ratio_to_radsem": t_k / t_r,
            },
        ]
    )


def _simulated(n: int, seed: int = 1):
    from radsem.simulate import simulate_cohort

    c = simulate_cohort(n=n, seed=seed, images=False)
    d = c.clinical.merge(c.latent, on="patient_id").set_index("patient_id")
    rng = np.random.default_rng(0)
    load = rng.normal(0, 0.6, (4, 40))
    rad = d[LATENT].to_numpy() @ load + rng.normal(size=(len(d), 40))
    rad_cols = [f"rad{j}" for j in range(40)]
    return d.join(pd.DataFrame(rad, index=d.index, columns=rad_cols)), rad_cols


def bench_binary(n: int, repeats: int) -> None:
    from radsem.compare import ClinicalCox, ClusterCox, PenalisedCox, ScoreCox, compare_models

    data, rad = _simulated(n)
    models = {
        "clinical": ClinicalCox(),
        "truth": ScoreCox(columns=LATENT),
        "truth + clinical": ScoreCox(columns=LATENT, clinical=["advanced", "age"]),
        "ridge(rad)": PenalisedCox(rad, penalizer=5.0),
        "cluster(rad)": ClusterCox(rad, n_clusters=3),
    }
    for label, frame in (("simulated", data), ("null (permuted outcome)", _permuted(data))):
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = compare_models(
                frame,
                models,
                time="time",
                event="event",
                n_splits=5,
                n_repeats=repeats,
                outcome="binary",
                horizon=24,
                random_state=0,
            )
        sec = time.perf_counter() - t
        s = res.summary().pivot(index="model", columns="metric", values="mean")
        ci = res.summary().query("metric == 'auc'").set_index("model")
        s["auc_ci"] = [
            f"({ci.loc[m, 'ci_lower']:.3f}, {ci.loc[m, 'ci_upper']:.3f})" for m in s.index
        ]
        print(
            f"\n## Binary outcome (recurrence within 24 months), {label}: n={len(frame)}, "
            f"5-fold x {repeats}, {sec:.1f} s, {len(res.failures)} fit problems"
        )
        print(
            s.loc[
                list(models),
                ["auc", "auc_ci", "brier", "calibration_intercept", "calibration_slope", "oe"],
            ]
            .round(3)
            .to_string()
        )
        print(
            res.paired("auc", reference="clinical")[
                ["model", "mean", "ci_lower", "ci_upper", "pvalue"]
            ]
            .round(4)
            .to_string(index=False)
        )
        print("pooled out-of-fold DeLong (repeat 0):")
        print(
            res.paired_auc("clinical")[
                ["model", "auc_a", "auc_b", "diff", "ci_lower", "ci_upper", "pvalue"]
            ]
            .round(4)
            .to_string(index=False)
        )
        dc = res.decision.groupby(["threshold", "model"])["net_benefit"].mean().unstack()
        dc["treat all"] = res.decision.groupby("threshold")["treat_all"].mean()
        print("decision curve (mean net benefit over folds):")
        print(
            dc.loc[[0.1, 0.2, 0.3], ["clinical", "truth + clinical", "ridge(rad)", "treat all"]]
            .round(3)
            .to_string()
        )
        n_und = int(((frame.event == 0) & (frame.time < 24)).sum())
        print(f"censored before 24 months (weight 0 under IPCW): {n_und}")


def _permuted(data: pd.DataFrame) -> pd.DataFrame:
    perm = np.random.default_rng(8).permutation(len(data))
    return data.assign(time=data["time"].to_numpy()[perm], event=data["event"].to_numpy()[perm])


def bench_cae(n: int, epochs: int) -> None:
    from radsem.compare import CAECox, ClinicalCox, compare_models
    from radsem.io import read_cohort
    from radsem.simulate import simulate

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        cohort = read_cohort(simulate(n, 2026, Path(tmp) / "cohort"))
        t_sim = time.perf_counter() - t
        t = time.perf_counter()
        cae = CAECox.from_cohort(cohort, epochs=epochs, random_state=0)
        cae_clin = CAECox(cae.crops, epochs=epochs, clinical=["advanced", "age"], random_state=0)
        t_crop = time.perf_counter() - t
    data = cohort.clinical.set_index("patient_id")[["age", "figo_stage", "time", "event"]]
    models = {"clinical": ClinicalCox(), "CAE codes": cae, "CAE + clinical": cae_clin}
    t = time.perf_counter()
    res = compare_models(
        data,
        models,
        time="time",
        event="event",
        n_splits=3,
        n_repeats=2,
        horizons=[24.0],
        random_state=0,
    )
    sec = time.perf_counter() - t
    print(
        f"\n## CAE-feature Cox on a simulated cohort folder: n={len(data)} "
        f"({int(data.event.sum())} events), crops {cae.crops.data.shape[1:]}, {epochs} "
        f"epochs; simulate {t_sim:.1f} s, crop {t_crop:.1f} s, 3-fold x 2: {sec:.1f} s "
        f"({sec / 6:.2f} s per fold for 3 models), {len(res.failures)} fit problems"
    )
    s = res.summary().query("metric in ['harrell_c', 'auc@24', 'ibs']")
    print(s.pivot(index="model", columns="metric", values="mean").round(3).to_string())
    print(
        res.paired("harrell_c", reference="clinical")[
            ["model", "mean", "ci_lower", "ci_upper", "pvalue"]
        ]
        .round(4)
        .to_string(index=False)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print("## DeLong paired AUC test")
    print(bench_delong(800 if args.quick else 4000).to_string(index=False))
    print("\n## Weighted logistic regression (age unscaled + a binary covariate)")
    print(bench_logistic(400).to_string(index=False))
    bench_binary(200 if args.quick else 400, 1 if args.quick else 5)
    bench_cae(40 if args.quick else 120, 5 if args.quick else 20)


if __name__ == "__main__":
    main()
