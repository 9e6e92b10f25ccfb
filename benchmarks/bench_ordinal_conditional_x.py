"""Ordered outcomes with exogenous covariates (conditional.x): parity with lavaan and timing.

Usage::

    python benchmarks/bench_ordinal_conditional_x.py            # parity table + timing
    python benchmarks/bench_ordinal_conditional_x.py --repeat 5

For every case of ``tests/estimation/test_ordinal_conditional_x.py`` the same model is fitted
by radsem and by lavaan 0.6-14 (rpy2, same process) and the largest differences are printed:
absolute on estimates and std.all, relative on standard errors (free parameters) and on fit
measures (all of lavaan's ``fitMeasures()`` that are not NA; values below 1e-7, which are
zero in theory or p-values in rounding noise, are compared absolutely). Then the median wall
time of one complete fit with fit measures, radsem and lavaan (after a warm-up).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import radsem
from radsem.engines.lavaan import fit_lavaan

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "estimation"))
from test_ordinal_conditional_x import CASES, _data, simulated_mimic  # noqa: E402


def parity(name: str) -> tuple[float, float, float, float, float]:
    kind, model, options = CASES[name]
    data = _data(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # listwise deletion (hs_listwise), lavaan's notes
        fit = radsem.sem(model, data, **options)
        lav = fit_lavaan(model, data, "sem", **options)
    keys = ["lhs", "op", "rhs", "group"]
    m = fit.parameter_estimates().merge(lav.parameter_estimates(), on=keys, suffixes=("", "_l"))
    est = float(np.max(np.abs(m["est"] - m["est_l"])))
    std = float(np.max(np.abs(m["std_all"] - m["std_all_l"])))
    free = m["se_l"] > 0
    se = float(np.max(np.abs(m["se"] - m["se_l"])[free] / m["se_l"][free]))
    a, b = fit.fit_measures(), lav.fit_measures()
    ok = b.notna() & a.notna()
    a, b = a[ok].to_numpy(), b[ok].to_numpy()
    big = np.abs(b) > 1e-7
    rel = np.abs(a - b)[big] / np.abs(b[big])
    small = np.abs(a - b)[~big]
    fm = float(max(rel.max(initial=0.0), small.max(initial=0.0)))
    chisq = float(fit.fit_measures().get("chisq.scaled", fit.fit_measures()["chisq"]))
    return est, se, std, fm, chisq


def four_factor_mimic(n: int = 1000, seed: int = 1):
    """4 factors x 5 four-category items, each factor regressed on a continuous and a binary
    covariate (20 ordered items, 190 residual polychoric correlations)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    t = (rng.random(n) < 0.5).astype(float)
    cols, lines = {}, []
    for f in range(4):
        eta = 0.4 * z - 0.3 * t + rng.normal(size=n)
        names = []
        for j in range(5):
            names.append(f"y{f}_{j}")
            cols[names[-1]] = np.searchsorted([-0.8, 0.0, 0.9], 0.8 * eta + rng.normal(size=n)) + 1
        lines += [f"f{f} =~ " + " + ".join(names), f"f{f} ~ z + t"]
    data = pd.DataFrame(cols)
    data["z"], data["t"] = z, t
    return "\n".join(lines), data, {"ordered": list(cols)}


def timing(repeat: int) -> list[tuple[str, float, float]]:
    rows = []
    _, sim_model, sim_options = CASES["sim_mimic_wlsmv"]
    big_model, big_data, big_options = four_factor_mimic()
    cases = (
        (
            "simulated MIMIC, 5 items, 2 covariates, n=800",
            simulated_mimic(800, 5),
            sim_model,
            sim_options,
        ),
        ("same, n=4000", simulated_mimic(4000, 5), sim_model, sim_options),
        ("4 factors x 5 items, 2 covariates, n=1000", big_data, big_model, big_options),
    )
    for label, data, model, options in cases:

        def ours(data=data, model=model, options=options):
            radsem.sem(model, data, **options).fit_measures()

        def theirs(data=data, model=model, options=options):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit_lavaan(model, data, "sem", **options).fit_measures()

        times = []
        for func in (ours, theirs):
            func()
            runs = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                func()
                runs.append(time.perf_counter() - t0)
            times.append(statistics.median(runs))
        rows.append((label, times[0], times[1]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    head = ["case", "max abs est diff", "max rel SE diff", "max abs std.all diff"]
    head += ["max rel fit-measure diff", "chisq(.scaled)"]
    print("| " + " | ".join(head) + " |")
    print("|---|---|---|---|---|---|")
    for name in CASES:
        est, se, std, fm, chisq = parity(name)
        print(f"| {name} | {est:.1e} | {se:.1e} | {std:.1e} | {fm:.1e} | {chisq:.3f} |")
    print()
    print("| model | radsem s | lavaan s | lavaan / radsem |")
    print("|---|---|---|---|")
    for label, ours, theirs in timing(args.repeat):
        print(f"| {label} | {ours:.3f} | {theirs:.3f} | {theirs / ours:.1f} |")


if __name__ == "__main__":
    main()
