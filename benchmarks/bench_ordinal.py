"""Benchmark of WLSMV fits with ordered indicators: radsem vs lavaan (rpy2, same process).

Usage::

    python benchmarks/bench_ordinal.py             # all rows, 5 repetitions
    python benchmarks/bench_ordinal.py --quick     # HolzingerSwineford1939 rows only, 1 repetition
    python benchmarks/bench_ordinal.py --repeat 9

Each cell is the median wall time of one complete fit including the fit measures
(``fit_measures()`` / ``fitMeasures()``): sample statistics (thresholds, polychoric correlations,
their asymptotic covariance), DWLS estimation, robust standard errors and the scaled-shifted
test. Both engines are warmed up once (R start-up, imports) before timing; lavaan's time
includes the data conversion to R. The last column is lavaan's time divided by radsem's
(> 1: radsem faster).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import pandas as pd

from radsem.datasets import load
from radsem.datasets.example_models import HOLZINGER_SWINEFORD_CFA
from radsem.estimation.families.ordinal import cut_into_categories

ITEMS = [f"x{i}" for i in range(1, 10)]


def simulate_ordinal(n: int, factors: int, per_factor: int, categories: int, seed: int = 1):
    """Correlated factors (r = 0.3), loadings 0.6-0.85, responses cut at fixed quantiles."""
    rng = np.random.default_rng(seed)
    phi = np.full((factors, factors), 0.3) + 0.7 * np.eye(factors)
    eta = rng.multivariate_normal(np.zeros(factors), phi, size=n)
    cols, lines = {}, []
    for f in range(factors):
        names = []
        for j in range(per_factor):
            lam = rng.uniform(0.6, 0.85)
            ystar = lam * eta[:, f] + np.sqrt(1 - lam**2) * rng.standard_normal(n)
            name = f"y{f + 1}_{j + 1}"
            cols[name] = ystar
            names.append(name)
        lines.append(f"f{f + 1} =~ " + " + ".join(names))
    data = cut_into_categories(pd.DataFrame(cols), categories)
    return "\n".join(lines), data


def rows(quick: bool):
    hs = load("HolzingerSwineford1939")
    out = [
        (
            "HS CFA, 9 items x 3 categories, n=301",
            HOLZINGER_SWINEFORD_CFA,
            cut_into_categories(hs[ITEMS], 3),
            {"ordered": ITEMS},
        ),
        (
            "HS CFA, 9 binary items, n=301",
            HOLZINGER_SWINEFORD_CFA,
            cut_into_categories(hs[ITEMS], 2),
            {"ordered": ITEMS},
        ),
    ]
    if not quick:
        model, data = simulate_ordinal(1000, 4, 5, 4)
        out.append(
            (
                "simulated CFA, 4 factors x 5 items x 4 categories, n=1000",
                model,
                data,
                {"ordered": list(data.columns)},
            )
        )
        model, data = simulate_ordinal(2000, 6, 5, 5, seed=2)
        out.append(
            (
                "simulated CFA, 6 factors x 5 items x 5 categories, n=2000",
                model,
                data,
                {"ordered": list(data.columns)},
            )
        )
    return out


def _time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat

    import radsem
    from radsem.engines.lavaan import fit_lavaan, lavaan_available

    have_r = lavaan_available()
    print(f"{'model':<60}{'radsem s':>10}{'lavaan s':>10}{'ratio':>8}")
    for name, model, data, opts in rows(args.quick):

        def run_radsem(model=model, data=data, opts=opts):
            radsem.cfa(model, data, **opts).fit_measures()

        def run_lavaan(model=model, data=data, opts=opts):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit_lavaan(model, data, "cfa", **opts).fit_measures()

        run_radsem()  # warm-up
        t_rad = _time(run_radsem, repeat)
        t_lav = np.nan
        if have_r:
            run_lavaan()
            t_lav = _time(run_lavaan, repeat)
        print(f"{name:<60}{t_rad:>10.3f}{t_lav:>10.3f}{t_lav / t_rad:>8.2f}")


if __name__ == "__main__":
    main()
