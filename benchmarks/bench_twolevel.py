"""Two-level SEM: radsem vs lavaan 0.6-14 (rpy2, same process) — parity and timings.

Usage::

    python benchmarks/bench_twolevel.py            # all rows, 3 repetitions
    python benchmarks/bench_twolevel.py --repeat 5

Rows: lavaan's Demo.twolevel (2500 rows, 200 clusters) with the model of lavaan's multilevel
tutorial (ML and MLR) and with a one-factor within model and a saturated between level, and a
larger simulated data set (1000 clusters of 2-20 rows, six indicators, two factors per level;
ML and MLR). For MLR the standard errors compared are the robust ones.
Each timing is the median wall time of one complete fit plus its fit measures
(``fit_measures()`` / ``fitMeasures()``), both engines warmed up first; lavaan's time includes
the data conversion to R. Parity columns: the largest absolute difference of the estimates,
the largest relative difference of the standard errors, of the chi-square and of the
log-likelihood, and the largest absolute difference of the ICCs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
import pandas as pd

import radsem

TUTORIAL = """
    level: 1
        fw =~ y1 + y2 + y3
        fw ~ x1 + x2 + x3
    level: 2
        fb =~ y1 + y2 + y3
        fb ~ w1 + w2
"""

SATURATED_BETWEEN = """
level: 1
  fw =~ y1 + y2 + y3 + y4 + y5 + y6
level: 2
  y1 ~~ y1 + y2 + y3 + y4 + y5 + y6
  y2 ~~ y2 + y3 + y4 + y5 + y6
  y3 ~~ y3 + y4 + y5 + y6
  y4 ~~ y4 + y5 + y6
  y5 ~~ y5 + y6
  y6 ~~ y6
"""

LARGE = """
level: 1
  f1 =~ y1 + y2 + y3
  f2 =~ y4 + y5 + y6
  f1 ~ x
level: 2
  g1 =~ y1 + y2 + y3
  g2 =~ y4 + y5 + y6
  g1 ~ w
"""


def simulate_large(nclus: int = 1000, seed: int = 1) -> pd.DataFrame:
    """Two correlated factors per level, a within covariate and a between covariate."""
    rng = np.random.default_rng(seed)
    lam = np.array([1.0, 0.8, 0.7])
    rows = []
    for j in range(nclus):
        w = rng.normal()
        g = rng.multivariate_normal([0, 0], [[0.5, 0.2], [0.2, 0.4]])
        g[0] += 0.3 * w
        ub = np.concatenate([lam * g[0], lam * g[1]]) + rng.normal(scale=0.2, size=6)
        for _ in range(int(rng.integers(2, 21))):
            x = rng.normal()
            f = rng.multivariate_normal([0, 0], [[1.0, 0.4], [0.4, 1.0]])
            f[0] += 0.5 * x
            y = np.concatenate([lam * f[0], lam * f[1]]) + rng.normal(scale=0.6, size=6) + ub
            rows.append((j, *y, x, w))
    return pd.DataFrame(rows, columns=["cluster", *[f"y{i}" for i in range(1, 7)], "x", "w"])


def _to_r(data: pd.DataFrame):
    import rpy2.robjects as ro

    return ro.DataFrame({c: ro.FloatVector(data[c].to_numpy(float)) for c in data.columns})


def lavaan_fit(model: str, data: pd.DataFrame, estimator: str = "ML") -> dict:
    import rpy2.robjects as ro

    ro.globalenv["bench_data"] = _to_r(data)
    ro.globalenv["bench_model"] = model
    ro.r(
        "bench_fit <- lavaan::sem(bench_model, data = bench_data, cluster = 'cluster', "
        f"estimator = '{estimator}'); bench_fm <- lavaan::fitMeasures(bench_fit)"
    )
    pe = ro.r("lavaan::parameterEstimates(bench_fit)")
    table = pd.DataFrame({n: np.asarray(pe.rx2(n)) for n in ("lhs", "op", "rhs", "est", "se")})
    table.insert(3, "level", np.asarray(pe.rx2("block")).astype(int))
    fm = ro.r("bench_fm")
    icc = np.asarray(ro.r("lavaan::lavInspect(bench_fit, 'icc')"))
    return {"pe": table, "fm": dict(zip(fm.names, np.asarray(fm), strict=True)), "icc": icc}


def radsem_fit(model: str, data: pd.DataFrame, estimator: str = "ML"):
    fit = radsem.sem(model, data, cluster="cluster", estimator=estimator)
    fit.fit_measures()
    return fit


def _median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    import rpy2.robjects as ro

    frame = ro.r("lavaan::Demo.twolevel")
    demo = pd.DataFrame({n: np.asarray(frame.rx2(n)) for n in frame.names})
    large = simulate_large()
    cases = [
        ("Demo.twolevel, tutorial model (N=2500, J=200)", TUTORIAL, demo, "ML"),
        ("Demo.twolevel, tutorial model, MLR", TUTORIAL, demo, "MLR"),
        ("Demo.twolevel, saturated between (N=2500, J=200)", SATURATED_BETWEEN, demo, "ML"),
        ("simulated, 2+2 factors (J=1000)", LARGE, large, "ML"),
        ("simulated, 2+2 factors (J=1000), MLR", LARGE, large, "MLR"),
    ]
    header = (
        f"{'case':<50} {'N':>6} {'radsem s':>9} {'lavaan s':>9} {'ratio':>6} "
        f"{'|d est|':>9} {'rel d se':>9} {'rel d chisq':>11} {'rel d logl':>10} {'|d icc|':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, model, data, est in cases:
        radsem_fit(model, data, est)  # warm-up
        lavaan_fit(model, data, est)
        t_ours = _median_time(lambda m=model, d=data, e=est: radsem_fit(m, d, e), args.repeat)
        t_lav = _median_time(lambda m=model, d=data, e=est: lavaan_fit(m, d, e), args.repeat)
        fit = radsem_fit(model, data, est)
        ref = lavaan_fit(model, data, est)
        ours = fit.parameter_estimates()
        merged = ref["pe"].merge(ours, on=["lhs", "op", "rhs", "level"], suffixes=("_ref", ""))
        free = merged["se_ref"] > 0
        d_est = float(np.max(np.abs(merged["est"] - merged["est_ref"])))
        d_se = float(np.max(np.abs(merged.loc[free, "se"] / merged.loc[free, "se_ref"] - 1)))
        fm = fit.fit_measures()
        d_chi = abs(fm["chisq"] / ref["fm"]["chisq"] - 1)
        d_logl = abs(fm["logl"] / ref["fm"]["logl"] - 1)
        d_icc = float(np.max(np.abs(fit.icc().to_numpy() - ref["icc"])))
        print(
            f"{name:<50} {len(data):>6} {t_ours:>9.2f} {t_lav:>9.2f} {t_lav / t_ours:>6.1f} "
            f"{d_est:>9.1e} {d_se:>9.1e} {d_chi:>11.1e} {d_logl:>10.1e} {d_icc:>9.1e}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
