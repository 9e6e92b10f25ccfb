"""``radsem compare``: cross-validated comparison of outcome models described by a YAML file."""

from __future__ import annotations

import argparse
import sys

from radsem.commands._arguments import jobs

HELP = "compare outcome model families by cross-validation, as a YAML file describes"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``radsem compare``."""
    parser.add_argument(
        "config", metavar="CONFIG.yaml", help="comparison configuration (schema in docs/cli.md)"
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="output folder (default: the file's 'output', else CONFIG-output next to it)",
    )
    parser.add_argument(
        "--jobs",
        type=jobs,
        default=None,
        metavar="N",
        help="parallel folds (default: the file's n_jobs)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="run the folds and bootstrap on a Dask cluster at this scheduler address",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only validate the configuration and its files, run nothing",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the files of an earlier run in the output folder",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def run(args: argparse.Namespace) -> int:
    """Validate the configuration, run the comparison, print Harrell's C per model."""
    from pathlib import Path

    from radsem.workflows import read_comparison_config, run_comparison

    config = read_comparison_config(args.config)
    if args.check:
        if not args.quiet:
            print(f"{args.config}: valid; families: {', '.join(s.name for s in config.families)}")
        return 0
    command = f"radsem compare {Path(args.config).name}"
    result = run_comparison(
        config,
        out=args.out,
        overwrite=args.overwrite,
        n_jobs=args.jobs,
        progress=not args.quiet,
        command=command,
        client=args.scheduler,
    )
    if not args.quiet:
        print(result.summary())
    if len(result.result.failures):
        print(
            f"radsem compare: {len(result.result.failures)} fit problem(s) inside folds; see "
            f"{result.files['failures.csv']}",
            file=sys.stderr,
        )
    return 0
