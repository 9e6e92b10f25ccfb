"""``radsem demo``: the whole pipeline on a built-in simulated cohort."""

from __future__ import annotations

import argparse

HELP = "run the whole pipeline on a built-in simulated cohort and write its reports"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``radsem demo``."""
    parser.add_argument("--out", default="demo-output", help="output folder (default: %(default)s)")
    parser.add_argument(
        "--n",
        type=int,
        default=120,
        help="number of simulated patients, at least 40 (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=2026, help="seed of every random step (default: %(default)s)"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="worker processes for radiomic extraction (default: %(default)s)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=40,
        help="maximum autoencoder epochs; the GAN trains 5x as many (default: %(default)s)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace the content of a non-empty output folder"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def run(args: argparse.Namespace) -> int:
    """Run the demo and print where its report is."""
    from radsem.demo import run_demo

    result = run_demo(
        args.out,
        n=args.n,
        seed=args.seed,
        jobs=args.jobs,
        epochs=args.epochs,
        overwrite=args.overwrite,
        progress=not args.quiet,
    )
    total = sum(result.timings.values())
    print(
        f"radsem demo: wrote {len(result.tables)} tables and the reports in {result.out} "
        f"(report.md, sem_report.html, outcome_report.html) in {total:.0f} s"
    )
    for note in result.notes:
        print(f"  note: {note}")
    return 0
