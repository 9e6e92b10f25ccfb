"""``radsem fit``: fit a lavaan model file to a data file; write the report and its tables."""

from __future__ import annotations

import argparse
import sys

from radsem.commands._arguments import non_negative, positive

HELP = "fit a lavaan model file to a data table and write the report, parameters and fit"

#: the values the engines accept (radsem.estimation); a wrong one is a usage error listing these
ESTIMATORS = (
    *("ML", "MLR", "GLS", "ULS", "WLSMV", "DWLS", "WLS", "ULSMV"),
    *("MLM", "MLMV", "MLMVS", "MLF", "WLSM", "ULSM"),
)
MISSING = ("listwise", "ml", "fiml", "direct", "default")
SE = ("standard", "robust", "robust.huber.white", "robust.sem", "bootstrap", "none")


def _names(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of names, got {text!r}")
    return names


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``radsem fit``."""
    parser.add_argument("model", metavar="MODEL.lav", help="model in lavaan syntax (UTF-8)")
    parser.add_argument(
        "data", metavar="DATA.csv", help="data table (.csv, .tsv, .parquet or .xlsx)"
    )
    parser.add_argument(
        "--sheet",
        default=None,
        metavar="NAME",
        help="sheet of an .xlsx data file, by name or number (default: first)",
    )
    parser.add_argument(
        "--kind",
        default=None,
        type=str.lower,
        choices=("sem", "cfa", "growth", "lavaan"),
        help="lavaan function whose defaults apply (default: the function of a pasted "
        "--lavaan-args call, else sem)",
    )
    parser.add_argument(
        "--lavaan-args",
        dest="lavaan_args",
        default=None,
        metavar="TEXT",
        help="lavaan options as written in R, or a whole pasted call, e.g. "
        '\'estimator = "MLR", test = c("satorra.bentler"), cluster = "site"\'; '
        "read as R literals, never evaluated (model= and data= are skipped)",
    )
    parser.add_argument(
        "--estimator",
        default=None,
        type=str.upper,
        choices=ESTIMATORS,
        help="estimator, any case (default: ML, or WLSMV with --ordered, as lavaan)",
    )
    parser.add_argument(
        "--missing",
        default="listwise",
        type=str.lower,
        choices=MISSING,
        help="listwise deletion or ml (full-information ML; lavaan's aliases "
        "fiml, direct); default listwise",
    )
    parser.add_argument("--group", metavar="COLUMN", help="column defining groups")
    parser.add_argument(
        "--group-equal",
        type=_names,
        default=[],
        metavar="LIST",
        help="equality constraints across groups, e.g. loadings,intercepts",
    )
    parser.add_argument(
        "--ordered",
        type=_names,
        default=[],
        metavar="LIST",
        help="ordinal indicators (comma-separated columns)",
    )
    parser.add_argument(
        "--std-lv",
        action="store_true",
        help="identify latent variables by fixing their variances to 1",
    )
    parser.add_argument(
        "--se",
        default=None,
        type=str.lower,
        choices=SE,
        help="standard errors: standard, robust (Huber-White, or robust.sem with "
        "ordered indicators), bootstrap or none (default: lavaan's for the "
        "estimator)",
    )
    parser.add_argument(
        "--bootstrap",
        type=positive,
        default=None,
        metavar="N",
        help="with --se bootstrap: number of replicates (default 1000)",
    )
    parser.add_argument(
        "--seed",
        type=non_negative,
        default=None,
        metavar="S",
        help="with --se bootstrap: seed of the resampling (default: drawn and recorded)",
    )
    parser.add_argument(
        "--fixed-x",
        dest="fixed_x",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="treat exogenous covariates as fixed (default: lavaan's default for the kind)",
    )
    parser.add_argument(
        "--cross-check",
        choices=("lavaan", "semopy"),
        default=None,
        help="refit with another engine and compare the results",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="output folder (default: MODEL-fit next to the model file)",
    )
    parser.add_argument(
        "--format",
        dest="formats",
        default="html,csv,json",
        metavar="LIST",
        help="any of html,md,tex,csv,json (default html,csv,json)",
    )
    parser.add_argument("--title", default=None, help="report title")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the files of an earlier run in the output folder",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def _lavaan_call(args: argparse.Namespace) -> tuple[str, dict]:
    """The kind and the options of ``--lavaan-args`` (checked against ``--kind``)."""
    from radsem.errors import DataError, ModelSyntaxError
    from radsem.syntax.call_args import parse_lavaan_call

    if args.lavaan_args is None:
        return args.kind or "sem", {}
    try:
        function, options = parse_lavaan_call(args.lavaan_args)
    except ModelSyntaxError as exc:
        raise DataError(f"--lavaan-args, {exc}") from None
    if function == "efa":
        raise DataError(
            "--lavaan-args: radsem fit fits sem/cfa/growth/lavaan models; for efa() use "
            'radsem.efa() in Python, or efa("block")* in the model syntax'
        )
    if function and args.kind and function != args.kind:
        raise DataError(f"--lavaan-args is a {function}() call but --kind is {args.kind}")
    return args.kind or function or "sem", options


def _command(args: argparse.Namespace, kind: str, engine_options: dict) -> str:
    """The command line with file names only (folders may name a person)."""
    import shlex
    from pathlib import Path

    from radsem.syntax.call_args import format_lavaan_arguments

    parts = [
        "radsem fit",
        Path(args.model).name,
        Path(args.data).name,
        "--kind",
        kind,
        "--missing",
        args.missing,
    ]
    if args.estimator:
        parts += ["--estimator", args.estimator]
    if args.group:
        parts += ["--group", args.group]
    if args.group_equal:
        parts += ["--group-equal", ",".join(args.group_equal)]
    if args.ordered:
        parts += ["--ordered", ",".join(args.ordered)]
    if args.std_lv:
        parts.append("--std-lv")
    if args.se:
        parts += ["--se", args.se]
    if args.bootstrap is not None:
        parts += ["--bootstrap", str(args.bootstrap)]
    if args.seed is not None:
        parts += ["--seed", str(args.seed)]
    if args.fixed_x is not None:
        parts.append("--fixed-x" if args.fixed_x else "--no-fixed-x")
    if args.cross_check:
        parts += ["--cross-check", args.cross_check]
    if engine_options:  # as parsed: data= and the like (which may hold a path) are left out
        parts += ["--lavaan-args", shlex.quote(format_lavaan_arguments(engine_options))]
    return " ".join(parts + ["--format", args.formats])


def run(args: argparse.Namespace) -> int:
    """Fit, write, print a summary; exit 4 when the fit did not converge or is improper."""
    from radsem.workflows import fit_files

    kind, engine_options = _lavaan_call(args)
    result = fit_files(
        args.model,
        args.data,
        out=args.out,
        kind=kind,
        estimator=args.estimator,
        missing=args.missing,
        group=args.group,
        group_equal=args.group_equal,
        ordered=args.ordered,
        std_lv=args.std_lv,
        se=args.se,
        fixed_x="default" if args.fixed_x is None else args.fixed_x,
        cross_check=args.cross_check,
        formats=args.formats,
        title=args.title,
        overwrite=args.overwrite,
        progress=not args.quiet,
        command=_command(args, kind, engine_options),
        sheet=args.sheet,
        bootstrap=args.bootstrap,
        seed=args.seed,
        engine_options=engine_options,
    )
    if not args.quiet:
        print(result.summary())
    for warning in result.warnings:
        print(f"radsem fit: warning: {warning}", file=sys.stderr)
    if not result.ok:
        print(
            "radsem fit: the model did not converge or the solution is improper; see the "
            "warnings section of the report",
            file=sys.stderr,
        )
        return 4
    return 0
