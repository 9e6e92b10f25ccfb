"""Benchmark of SEM fitting: radsem's engine, lavaan (R, through rpy2, same process) and semopy.

Usage::

    python benchmarks/bench_sem.py                 # all rows, 5 repetitions
    python benchmarks/bench_sem.py --quick         # simulated rows with n = 300, 1 repetition
    python benchmarks/bench_sem.py --only FIML     # only the rows whose name contains "FIML"
    python benchmarks/bench_sem.py --repeat 9      # more repetitions

Rows go from tiny (HolzingerSwineford1939 CFA) to large (a simulated 8-factor, 40-indicator CFA
with n = 2,000; the same with 20 % missing values under FIML; a two-group version with equal
loadings and intercepts).  Each cell is the median wall time of one complete fit including the
fit measures (``fit_measures()`` / ``fitMeasures()`` / ``calc_stats``); every engine is warmed
up once (R start-up, imports) before timing.  lavaan's time includes the data conversion to R
(a few ms).  The radsem column appears as soon as ``radsem.sem`` exists; semopy is timed
only where it has the feature (its FIML rows only with ``--semopy-fiml``: minutes per fit with
40 indicators, and its FIML estimates differ from lavaan's, see issue 3).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from radsem.datasets import load
from radsem.datasets.example_models import HOLZINGER_SWINEFORD_CFA, POLITICAL_DEMOCRACY_SEM  # noqa: E402

HS_MODEL = HOLZINGER_SWINEFORD_CFA
POLDEM = POLITICAL_DEMOCRACY_SEM


@dataclass
class Row:
    name: str
    function: str
    model: str
    data: pd.DataFrame
    options: dict[str, Any] = field(default_factory=dict)
    semopy: str = "yes"  # "yes", "no" (unsupported) or "inexact"


def simulate_cfa(n: int, factors: int = 8, per_factor: int = 5, seed: int = 1) -> tuple:
    """Correlated factors (r = 0.3), loadings 0.6-0.9, unit-variance indicators."""
    rng = np.random.default_rng(seed)
    phi = np.full((factors, factors), 0.3) + 0.7 * np.eye(factors)
    eta = rng.multivariate_normal(np.zeros(factors), phi, size=n)
    columns, lines = {}, []
    for f in range(factors):
        names = []
        for j in range(per_factor):
            lam = rng.uniform(0.6, 0.9)
            name = f"y{f * per_factor + j + 1}"
            columns[name] = lam * eta[:, f] + np.sqrt(1 - lam**2) * rng.normal(size=n)
            names.append(name)
        lines.append(f"f{f + 1} =~ " + " + ".join(names))
    return "\n".join(lines), pd.DataFrame(columns)


def with_missing(data: pd.DataFrame, rate: float = 0.2, seed: int = 2) -> pd.DataFrame:
    """MCAR-style 20 % missing cells, keeping at least one observed value per row."""
    rng = np.random.default_rng(seed)
    out = data.copy()
    mask = rng.uniform(size=out.shape) < rate
    mask[mask.all(axis=1), 0] = False
    out = out.mask(mask)
    return out


def build_rows(quick: bool) -> list[Row]:
    hs = load("HolzingerSwineford1939")
    n_big = 300 if quick else 2000
    big_model, big = simulate_cfa(n_big)
    grouped = pd.concat(
        [simulate_cfa(n_big // 2, seed=3)[1], simulate_cfa(n_big // 2, seed=4)[1]],
        ignore_index=True,
    )
    grouped["g"] = np.repeat(["a", "b"], n_big // 2)
    return [
        Row("HS CFA, ML (n=301, p=9)", "cfa", HS_MODEL, hs),
        Row("HS CFA, MLR", "cfa", HS_MODEL, hs, {"estimator": "MLR"}, semopy="no"),
        Row(
            "HS CFA, MLM (Satorra-Bentler)", "cfa", HS_MODEL, hs, {"estimator": "MLM"}, semopy="no"
        ),
        Row("PoliticalDemocracy SEM, labels (n=75)", "sem", POLDEM, load("PoliticalDemocracy")),
        Row(
            "HS 2 groups, equal loadings+intercepts",
            "cfa",
            HS_MODEL,
            hs,
            {"group": "school", "group_equal": ["loadings", "intercepts"]},
            semopy="no",
        ),
        Row(f"8-factor CFA, 40 ind., n={n_big}", "cfa", big_model, big),
        Row(f"same, MLM (n={n_big})", "cfa", big_model, big, {"estimator": "MLM"}, semopy="no"),
        Row(
            f"same, 20% missing, FIML (n={n_big})",
            "cfa",
            big_model,
            with_missing(big),
            {"missing": "ml"},
            semopy="inexact",
        ),
        Row(
            f"same, 2 groups, equal load.+int. (n={n_big})",
            "cfa",
            big_model,
            grouped,
            {"group": "g", "group_equal": ["loadings", "intercepts"]},
            semopy="no",
        ),
    ]


def _radsem_runner() -> tuple[Callable | None, str]:
    try:
        import radsem

        if not hasattr(radsem, "sem"):
            return None, "radsem.sem is not available yet"
    except Exception as exc:  # noqa: BLE001 - report why the column is absent
        return None, f"radsem.sem not importable: {exc}"

    def run(row: Row) -> None:
        fit = getattr(radsem, row.function)(row.model, row.data, **row.options)
        fit.fit_measures()

    return run, ""


def _lavaan_runner() -> tuple[Callable | None, str]:
    from radsem.engines.lavaan import fit_lavaan, lavaan_available

    if not lavaan_available():
        return None, "R/lavaan/rpy2 not available"

    def run(row: Row) -> None:
        fit_lavaan(row.model, row.data, row.function, **row.options).fit_measures()

    return run, ""


def _semopy_runner(with_fiml: bool) -> tuple[Callable | None, str]:
    try:
        import semopy
    except ImportError:
        return None, "semopy not installed"

    def run(row: Row) -> None:
        if row.semopy == "no":
            raise NotImplementedError
        if row.semopy == "inexact" and not with_fiml:
            raise TimeoutError
        model = semopy.Model(row.model)
        observed = sorted(model.vars["observed"])
        objective = "FIML" if row.options.get("missing") == "ml" else "MLW"
        data = row.data[observed]
        model.fit(data, obj=objective)
        semopy.calc_stats(model)

    return run, ""


def time_cell(run: Callable, row: Row, repeat: int) -> float | str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                run(row)
                times.append(time.perf_counter() - start)
    except NotImplementedError:
        return "n/s"
    except TimeoutError:
        return "skipped"
    except Exception as exc:  # noqa: BLE001 - a failing engine is reported, not fatal
        return f"error: {type(exc).__name__}"
    return statistics.median(times)


def _time_row(runners: dict, row: Row, repeat: int) -> dict[str, float | str]:
    """Median time per engine; the engines take turns in every repetition, so a change in the
    machine's load (shared machines) affects them alike."""
    times: dict[str, list[float]] = {name: [] for name in runners}
    status: dict[str, float | str] = {}
    for _ in range(repeat):
        for name, run in runners.items():
            if run is None:
                status[name] = "absent"
            if name in status:
                continue
            value = time_cell(run, row, 1)
            if isinstance(value, float):
                times[name].append(value)
            else:
                status[name] = value
    return {
        name: status.get(name, statistics.median(times[name]) if times[name] else "absent")
        for name in runners
    }


def _load() -> str:
    try:
        return " ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover - not on every platform
        return "n/a"


def _machine() -> str:
    import platform

    import numpy

    return (
        f"{platform.machine()} {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
        f"numpy {numpy.__version__}"
    )


def _fmt(value: float | str) -> str:
    return f"{value:.3f}" if isinstance(value, float) else value


def _ratio(num: float | str, den: float | str) -> str:
    if isinstance(num, float) and isinstance(den, float) and den > 0:
        return f"{num / den:.2f}"
    return "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition")
    parser.add_argument("--repeat", type=int, default=None, help="timed repetitions (median)")
    parser.add_argument("--only", default=None, help="run only rows whose name contains this")
    parser.add_argument(
        "--semopy-fiml",
        action="store_true",
        help="also time semopy's FIML (very slow with 40 indicators, and inexact)",
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)
    repeat = args.repeat or (1 if args.quick else 5)
    if repeat < 1:
        parser.error("--repeat must be at least 1")
    runners = {}
    notes = []
    factories = {
        "radsem": _radsem_runner,
        "lavaan": _lavaan_runner,
        "semopy": lambda: _semopy_runner(args.semopy_fiml),
    }
    for name, factory in factories.items():
        run, why = factory()
        runners[name] = run
        if run is None:
            notes.append(f"{name} column absent: {why}")
    rows = build_rows(args.quick)
    for name, run in runners.items():  # one warm-up fit per engine (R start-up, imports, JIT)
        if run is not None:
            time_cell(run, rows[0], 1)
    if args.only:
        rows = [row for row in rows if args.only.lower() in row.name.lower()]
    table = []
    load_before = _load()
    for row in rows:
        cells = _time_row(runners, row, repeat)
        for name in runners:
            print(f"  {row.name} / {name}: {_fmt(cells[name])}", file=sys.stderr, flush=True)
        if row.semopy == "inexact" and isinstance(cells["semopy"], float):
            cells["semopy"] = f"{cells['semopy']:.3f}*"
        table.append(
            {
                "model": row.name,
                "radsem s": _fmt(cells["radsem"]),
                "lavaan s": _fmt(cells["lavaan"]),
                "semopy s": _fmt(cells["semopy"]),
                "lavaan/radsem": _ratio(cells["lavaan"], cells["radsem"]),
                "semopy/radsem": _ratio(cells["semopy"], cells["radsem"]),
            }
        )
    frame = pd.DataFrame(table)
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {_machine()}; load average "
        f"{load_before} before, {_load()} after"
    )
    print(
        f"median wall time of {repeat} fit(s) per cell, seconds (after one warm-up fit per "
        "engine; the engines take turns within each repetition)"
    )
    print(frame.to_markdown(index=False) if args.markdown else frame.to_string(index=False))
    print("n/s: not supported by that engine (refused rather than fitted differently)")
    print("*: semopy's FIML estimates differ from lavaan's (timed for reference only)")
    print("skipped: semopy FIML not timed by default (minutes per fit; use --semopy-fiml)")
    for note in notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
