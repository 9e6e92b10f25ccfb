"""Benchmark of the bootstrap: radsem's ``se="bootstrap"`` against lavaan's (R through rpy2,
same process, same model, same number of replicates).

Usage::

    python benchmarks/bench_bootstrap.py               # R = 1000 replicates per model
    python benchmarks/bench_bootstrap.py --R 200       # fewer replicates (busy machine)
    python benchmarks/bench_bootstrap.py --only HS     # rows whose name contains "HS"
    python benchmarks/bench_bootstrap.py --jobs 1 2    # radsem with 1 and with 2 processes

Each cell is the wall time of one complete ``se = "bootstrap"`` fit (full-sample fit plus R
refits plus the parameter table). lavaan runs serially (its default ``parallel = "no"``);
radsem is timed for every ``--jobs`` value. Both engines are warmed up once on the model
without the bootstrap. The last column is lavaan's time divided by radsem's (serial); it also
prints the largest relative difference between the two engines' bootstrap SEs, which is Monte
Carlo error (different resamples), expected ~ sqrt(2 / R) * (a few) in relative terms.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import radsem
from radsem.datasets import load
from radsem.datasets.example_models import HOLZINGER_SWINEFORD_CFA, POLITICAL_DEMOCRACY_SEM

MEDIATION = """
m ~ a*x
y ~ b*m + c*x
ab := a*b
"""


def _mediation(n: int = 300, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    m = 0.5 * x + rng.normal(size=n)
    y = 0.4 * m + 0.2 * x + rng.standard_t(5, n)
    return pd.DataFrame({"x": x, "m": m, "y": y})


def rows() -> list[tuple[str, str, str, pd.DataFrame, dict]]:
    hs = load("HolzingerSwineford1939")
    return [
        ("mediation with := (n = 300)", "sem", MEDIATION, _mediation(), {}),
        ("HS CFA ML (n = 301)", "cfa", HOLZINGER_SWINEFORD_CFA, hs, {}),
        (
            "PoliticalDemocracy ML (n = 75)",
            "sem",
            POLITICAL_DEMOCRACY_SEM,
            load("PoliticalDemocracy"),
            {},
        ),
        (
            "HS two groups, equal loadings",
            "cfa",
            HOLZINGER_SWINEFORD_CFA,
            hs,
            {"group": "school", "group_equal": ["loadings"]},
        ),
    ]


_LAVAAN = """
function(func, model, data, args) {
  ns <- asNamespace("lavaan")
  fit <- suppressWarnings(do.call(func, c(list(model = model, data = data), args), envir = ns))
  pe <- lavaan::parameterEstimates(fit, boot.ci.type = "perc")
  if (is.null(pe$group)) pe$group <- 1L
  pe[pe$op != "==", c("lhs", "op", "rhs", "group", "se")]
}
"""


def _lavaan_call():
    import rpy2.robjects as ro

    return ro.r(_LAVAAN)


def _r_args(options: dict):
    import rpy2.robjects as ro

    out = {}
    for key, value in options.items():
        if isinstance(value, (list, tuple)):
            value = ro.StrVector(list(value))
        out[key.replace("_", ".")] = value
    return ro.ListVector(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--R", type=int, default=1000, help="bootstrap replicates")
    parser.add_argument("--only", default="", help="rows whose name contains this text")
    parser.add_argument(
        "--jobs", type=int, nargs="+", default=[1, 2], help="radsem n_jobs values to time"
    )
    parser.add_argument("--no-lavaan", action="store_true", help="time radsem only")
    args = parser.parse_args(argv)
    have_r = False
    if not args.no_lavaan:
        from radsem._r import from_r_dataframe, r_available, to_r_dataframe

        have_r = r_available("lavaan")
        if not have_r:
            print("lavaan not available: timing radsem only", file=sys.stderr)
    header = (
        f"{'model':34s} {'R':>5s} "
        + " ".join(f"{f'radsem j={j} s':>14s}" for j in args.jobs)
        + f" {'lavaan s':>9s} {'lavaan/radsem':>13s} {'max rel SE diff':>15s}"
    )
    print(header)
    print("-" * len(header))
    for name, func, model, data, opts in rows():
        if args.only and args.only not in name:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit0 = getattr(radsem, func)(model, data, **opts)  # warm-up
            times = []
            for jobs in args.jobs:
                t0 = time.perf_counter()
                fit = getattr(radsem, func)(
                    model, data, se="bootstrap", bootstrap=args.R, seed=1, n_jobs=jobs, **opts
                )
                pe = fit.parameter_estimates()
                times.append(time.perf_counter() - t0)
        lav_s, ratio, diff = float("nan"), float("nan"), float("nan")
        if have_r:
            call = _lavaan_call()
            rdata = to_r_dataframe(data)
            call(func, model, rdata, _r_args(opts))  # warm-up (no bootstrap)
            t0 = time.perf_counter()
            lpe = from_r_dataframe(
                call(
                    func,
                    model,
                    to_r_dataframe(data),
                    _r_args({**opts, "se": "bootstrap", "bootstrap": args.R}),
                )
            )
            lav_s = time.perf_counter() - t0
            ratio = lav_s / times[0]
            ours = pe.assign(group=np.where(pe["op"] == ":=", 0, pe["group"]))
            lpe = lpe.assign(group=np.where(lpe["op"] == ":=", 0, lpe["group"]))
            m = ours.merge(lpe, on=["lhs", "op", "rhs", "group"], suffixes=("", "_r"))
            m = m[m["se_r"] > 0]
            diff = float(np.max(np.abs(m["se"] - m["se_r"]) / m["se_r"]))
        del fit0
        cells = " ".join(f"{t:14.2f}" for t in times)
        print(f"{name:34s} {args.R:5d} {cells} {lav_s:9.2f} {ratio:13.2f} {diff:15.3f}")
    print(f"\n(radsem {radsem.__version__}; {Path(__file__).name}; wall times in seconds)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
