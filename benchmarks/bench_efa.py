"""EFA / ESEM parity and timing: radsem vs lavaan 0.6-14 (rpy2, same process).

Usage::

    python benchmarks/bench_efa.py

For each HolzingerSwineford1939 example of lavaan's ``efa()`` documentation (and one ESEM model)
it prints the largest absolute difference of the estimates, the largest relative difference of
the standard errors and of the fit measures (chisq, df, cfi, tli, logl, aic, bic, rmsea, srmr),
and the wall time of each engine (one fit with its parameter table and fit measures, after a
warm-up). lavaan runs with its defaults except where noted (``gpa.tol``: lavaan stops its
rotation at 1e-5 by default; see tests/estimation/test_efa_parity.py).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "estimation"))

from test_efa_parity import ESEM, TARGET, _lavaan  # noqa: E402
from test_missing_fixtures import hs_frame  # noqa: E402

import radsem  # noqa: E402

KEYS = ["chisq", "df", "cfi", "tli", "logl", "aic", "bic", "rmsea", "srmr"]

CASES = [
    ("geomin, 1 factor", "efa", 1, "geomin", {}, {}),
    ("geomin, 2 factors", "efa", 2, "geomin", {}, {}),
    ("geomin, 3 factors", "efa", 3, "geomin", {}, {}),
    (
        "geomin eps 0.01 (lavaan gpa.tol 1e-7)",
        "efa",
        3,
        "geomin",
        {"geomin_epsilon": 0.01},
        {"gpa_tol": 1e-7},
    ),
    ("geomin orthogonal", "efa", 3, "geomin", {"orthogonal": True}, {}),
    ("oblimin", "efa", 3, "oblimin", {}, {}),
    ("quartimin", "efa", 3, "quartimin", {}, {}),
    ("varimax", "efa", 3, "varimax", {}, {}),
    ("promax (no SEs, as lavaan)", "efa", 3, "promax", {}, {}),
    ("target (lavaan gpa.tol 1e-6)", "efa", 3, "target", {"target": TARGET}, {"gpa_tol": 1e-6}),
    ("MLR, geomin 2 factors", "efa", 2, "geomin", {}, {"estimator": "MLR"}),
    ("MLM, geomin 2 factors", "efa", 2, "geomin", {}, {"estimator": "MLM"}),
    ("ESEM + structural part", "sem", None, "geomin", {}, {}),
]


def _run(kind, nf, rotation, args, extra, data):
    lav_args = {**args, **{k: v for k, v in extra.items() if k == "gpa_tol"}}
    options = {k: v for k, v in extra.items() if k != "gpa_tol"}
    t0 = time.perf_counter()
    if kind == "efa":
        pe_r, fm_r = _lavaan("efa", data, lav_args, nfactors=nf, rotation=rotation, **options)
    else:
        pe_r, fm_r = _lavaan("sem", data, lav_args, model=ESEM)
    t_lav = time.perf_counter() - t0
    t0 = time.perf_counter()
    if kind == "efa":
        fit = radsem.efa(data, nf, rotation=rotation, rotation_args=args, **options)
    else:
        fit = radsem.sem(ESEM, data)
    pe, fm = fit.parameter_estimates(), fit.fit_measures()
    t_rad = time.perf_counter() - t0
    m = pe.merge(pe_r, on=["lhs", "op", "rhs"], suffixes=("", "_r"))
    d_est = float(np.max(np.abs(m["est"] - m["est_r"])))
    if "se_r" in m and m["se"].notna().any():
        ok = m["se_r"] > 0
        d_se = float(np.max(np.abs(m["se"][ok] / m["se_r"][ok] - 1)))
    else:
        d_se = float("nan")
    d_fm = max(abs(fm[k] / fm_r[k] - 1) for k in KEYS if fm_r[k] != 0)
    return d_est, d_se, d_fm, t_rad, t_lav


def main() -> None:
    data = hs_frame()
    _run("efa", 2, "geomin", {}, {}, data)  # warm-up of both engines
    print(
        f"{'case':<40}{'max|d est|':>12}{'max rel se':>12}{'max rel fm':>12}"
        f"{'radsem s':>10}{'lavaan s':>10}"
    )
    for name, kind, nf, rotation, args, extra in CASES:
        d_est, d_se, d_fm, t_rad, t_lav = _run(kind, nf, rotation, args, extra, data)
        print(f"{name:<40}{d_est:>12.1e}{d_se:>12.1e}{d_fm:>12.1e}{t_rad:>10.2f}{t_lav:>10.2f}")


if __name__ == "__main__":
    main()
