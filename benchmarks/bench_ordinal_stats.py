"""Benchmark of the ordinal sample statistics (thresholds, polychoric/polyserial correlations,
wls.obs and the NACOV "gamma") against lavaan 0.6-14 in the same process, with the figures
reported in docs/sem-ordinal-stats.md.

Usage::

    python benchmarks/bench_ordinal_stats.py           # full run (about a minute)
    python benchmarks/bench_ordinal_stats.py --quick   # HS data only

For every data set the table gives the best of ``--repeat`` wall times of

* ``radsem``: ``categorical_sample_stats`` (thresholds, correlations, wls.obs, gamma, wls.v);
* ``radsem_cor``: the same without gamma (``nacov=False``), as ``lavCor``;
* ``lavCor``: ``lavaan::lavCor(data, ordered = ...)`` (thresholds and correlations);
* ``lavaan_stats``: ``lavaan::cfa(<one factor>, ordered = ..., estimator = "WLSMV",
  do.fit = FALSE)``, which computes what ``radsem`` computes (plus lavaan's model set-up);

their ratios, and the largest absolute differences between radsem and lavaan in the
correlations and (relative to its largest element) in gamma.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reference"))


def _timed(fn, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def _simulated(n: int, p: int, n_cat: int, seed: int) -> pd.DataFrame:
    """One-factor data, loadings 0.5-0.8, cut at random increasing thresholds."""
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.5, 0.8, p)
    ystar = rng.standard_normal((n, 1)) * lam + rng.standard_normal((n, p)) * np.sqrt(1 - lam**2)
    out = {}
    for j in range(p):
        cuts = np.sort(rng.normal(0, 0.8, n_cat - 1))
        out[f"y{j + 1}"] = np.digitize(ystar[:, j], cuts) + 1
    return pd.DataFrame(out)


def _cases(quick: bool):
    from ordinal_stats_reference import ORDINAL_CASES, case_frame

    cases = [
        ("HS x1-x9, 3 categories", case_frame("hs3"), ORDINAL_CASES["hs3"].ordered),
        (
            "HS mixed 4 ordinal + 5 continuous",
            case_frame("hs_mixed"),
            ORDINAL_CASES["hs_mixed"].ordered,
        ),
    ]
    if not quick:
        for n, p, k in [(1000, 20, 5), (2000, 40, 4)]:
            frame = _simulated(n, p, k, seed=p)
            cases.append((f"simulated p={p}, {k} categories, n={n}", frame, tuple(frame.columns)))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import rpy2.robjects as ro
    from ordinal_stats_reference import lavaan_sample_stats, one_factor_model

    from radsem._r import require_r, to_r_dataframe
    from radsem.estimation.families.ordinal import categorical_sample_stats

    require_r("lavaan")
    lavcor = ro.r("function(data, ordered) lavaan::lavCor(data, ordered = ordered)")
    stats_only = ro.r(
        "function(model, data, ordered) lavaan::cfa(model = model, data = data, "
        'ordered = ordered, estimator = "WLSMV", do.fit = FALSE)'
    )
    rows = []
    for label, frame, ordered in _cases(args.quick):
        variables = list(frame.columns)
        rdata = to_r_dataframe(frame)
        rord = ro.StrVector(list(ordered))
        model = one_factor_model(variables)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_ours, ours = _timed(
                lambda f=frame, v=variables, o=ordered: categorical_sample_stats(f, v, o),
                args.repeat,
            )
            t_cor, _ = _timed(
                lambda f=frame, v=variables, o=ordered: categorical_sample_stats(
                    f, v, o, nacov=False
                ),
                args.repeat,
            )
            t_lavcor, _ = _timed(lambda d=rdata, o=rord: lavcor(d, o), args.repeat)
            t_lav, _ = _timed(lambda m=model, d=rdata, o=rord: stats_only(m, d, o), args.repeat)
            ref = lavaan_sample_stats(frame, variables, ordered)
        gamma = np.asarray(ref["gamma"])
        rows.append(
            {
                "data": label,
                "n": len(frame),
                "stats": ours.wls_obs.size,
                "radsem_s": t_ours,
                "radsem_cor_s": t_cor,
                "lavCor_s": t_lavcor,
                "lavaan_stats_s": t_lav,
                "lavCor/radsem_cor": t_lavcor / t_cor,
                "lavaan_stats/radsem": t_lav / t_ours,
                "max|dcov|": np.abs(ours.cov - np.asarray(ref["cov"])).max(),
                "max|dgamma|/max|gamma|": np.abs(ours.gamma - gamma).max() / np.abs(gamma).max(),
            }
        )
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.3g}"))


if __name__ == "__main__":
    main()
