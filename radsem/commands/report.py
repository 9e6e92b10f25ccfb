"""``radsem report``: fit a lavaan-syntax model to a CSV file and write its fit report."""

from __future__ import annotations

import argparse
import sys

HELP = "fit a lavaan model to a data table and write an SEM fit report (HTML, Markdown, LaTeX)"

_FORMATS = {".html": "html", ".htm": "html", ".md": "markdown", ".tex": "latex"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL.lav", help="model in lavaan syntax")
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
        "--out",
        required=True,
        metavar="FILE",
        help="report to write: .html (self-contained), .md or .tex",
    )
    parser.add_argument("--estimator", default="ML", help="estimator (default ML)")
    parser.add_argument(
        "--missing",
        default="listwise",
        choices=("listwise", "ml"),
        help="missing data: listwise deletion or full-information ML (default listwise)",
    )
    parser.add_argument("--group", metavar="COLUMN", help="column defining groups")
    parser.add_argument(
        "--function",
        default="sem",
        choices=("sem", "cfa", "growth"),
        help="lavaan function whose defaults apply (default sem)",
    )
    parser.add_argument(
        "--std-lv",
        action="store_true",
        help="identify latent variables by fixing their variances to 1",
    )
    parser.add_argument("--title", default=None, help="report title")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _fitter(name: str):
    from radsem.errors import EngineUnavailableError

    try:
        import radsem

        return getattr(radsem, name)
    except (ImportError, AttributeError) as exc:
        raise EngineUnavailableError(
            f"radsem's SEM engine (radsem.{name}) is not available in this installation: {exc}"
        ) from None


def _command(args: argparse.Namespace) -> str:
    """The command line, with file names only (folders may name a person)."""
    from pathlib import Path

    parts = [
        "radsem report",
        Path(args.model).name,
        Path(args.data).name,
        "--out",
        Path(args.out).name,
        "--estimator",
        args.estimator,
        "--missing",
        args.missing,
        "--function",
        args.function,
    ]
    if args.group:
        parts += ["--group", args.group]
    if args.std_lv:
        parts.append("--std-lv")
    return " ".join(parts)


def run(args: argparse.Namespace) -> int:
    import warnings
    from pathlib import Path

    from radsem._progress import progress_bar
    from radsem.errors import DataError, ImproperSolutionWarning
    from radsem.io import check_outputs, read_table
    from radsem.report import sem_report

    out = Path(args.out)
    check_outputs([args.model, args.data], files=[out])
    fmt = _FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise DataError(f"{out}: unknown report format {out.suffix!r} (use .html, .md or .tex)")
    if not out.parent.is_dir():
        raise DataError(f"{out}: the folder {out.parent} does not exist")
    model_path = Path(args.model)
    if not model_path.is_file():
        raise DataError(f"{model_path}: model file not found")
    try:
        model = model_path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as exc:
        raise DataError(f"{model_path}: cannot be read as UTF-8 text: {exc}") from exc
    fitter = _fitter(args.function)
    data = read_table(args.data, sheet=args.sheet)
    options = {"estimator": args.estimator, "missing": args.missing, "std_lv": args.std_lv}
    if args.group:
        if args.group not in data.columns:
            raise DataError(f"--group {args.group!r} is not a column of {args.data}")
        options["group"] = args.group
    bar = progress_bar(total=3, desc="radsem report", enabled=not args.quiet)
    bar.set_postfix_str("fitting")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = fitter(model, data, **options)
    finally:
        bar.update()
    bar.set_postfix_str("report")
    name = model_path.stem
    report = sem_report(
        {name: fit},
        data=data,
        title=args.title or f"SEM report: {name}",
        warnings={name: caught},
        provenance={
            "inputs": [model_path, args.data],
            "options": {"function": args.function, **options},
            "command": _command(args),
        },
    )
    bar.update()
    bar.set_postfix_str("writing")
    {"html": report.to_html, "markdown": report.to_markdown, "latex": report.to_latex}[fmt](out)
    bar.update()
    bar.close()
    if not args.quiet:
        print(f"wrote {out}")
    improper = any(issubclass(w.category, ImproperSolutionWarning) for w in caught)
    if not getattr(fit, "converged", True) or improper:
        print(
            "radsem report: the model did not converge or the solution is improper; see the "
            "warnings section of the report",
            file=sys.stderr,
        )
        return 4
    return 0
