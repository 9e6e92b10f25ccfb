"""``radsem extract``: multi-sequence radiomic features of a cohort folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from radsem.commands._arguments import jobs

HELP = (
    "extract pyradiomics features of a cohort's series (T2/DWI/ADC, or CT/PET/MR from "
    "series.csv): features, diagnostics, failures"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cohort", metavar="COHORT", help="cohort folder (see radsem.io)")
    parser.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="feature table (.parquet, .csv or .tsv); diagnostics and failures "
        "are written next to it as FILE-stem.diagnostics/.failures",
    )
    parser.add_argument(
        "--params",
        metavar="YAML",
        default=None,
        help="pyradiomics parameter file (default: binWidth 10, original image)",
    )
    parser.add_argument(
        "--jobs",
        type=jobs,
        default=1,
        metavar="N",
        help="worker processes (default 1; -1: all cores)",
    )
    parser.add_argument(
        "--cache",
        metavar="DIR",
        default=None,
        help="cache folder; a re-run reuses finished patients",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="run on a Dask cluster at this scheduler address",
    )
    parser.add_argument(
        "--roi",
        metavar="NAME",
        default=None,
        help="RTSTRUCT ROI / SEG segment name or glob pattern (overrides series.csv)",
    )
    parser.add_argument(
        "--hu-window",
        nargs=2,
        type=float,
        metavar=("LOW", "HIGH"),
        default=None,
        help="CT: keep only tumour voxels in [LOW, HIGH] HU (IBSI re-segmentation), e.g. -1000 400",
    )
    parser.add_argument(
        "--absolute-paths",
        action="store_true",
        help="keep absolute input paths in the failure reasons",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def side_paths(out: Path) -> tuple[Path, Path]:
    """Paths of the diagnostics and failures tables written next to the feature table."""
    stem, suffix = out.name[: -len(out.suffix)] if out.suffix else out.name, out.suffix
    return (out.with_name(f"{stem}.diagnostics{suffix}"), out.with_name(f"{stem}.failures{suffix}"))


def run(args: argparse.Namespace) -> int:
    from radsem.errors import DataError, ImageError
    from radsem.io import atomic_write_many, check_outputs, table_bytes
    from radsem.radiomics import extract_cohort

    out = Path(args.out)
    diag_path, fail_path = side_paths(out)
    check_outputs(
        [args.cohort, args.params], files=[out, diag_path, fail_path], folders=[args.cache]
    )
    if out.suffix.lower() not in (".parquet", ".csv", ".tsv"):
        raise DataError(f"{out}: --out must end in .parquet, .csv or .tsv")
    if not out.parent.is_dir():
        raise DataError(f"{out}: the folder {out.parent} does not exist")
    settings = args.params
    if args.hu_window is not None:
        from radsem.radiomics.settings import _load

        low, high = args.hu_window
        if not low < high:
            raise DataError(f"--hu-window {low:g} {high:g}: LOW must be below HIGH")
        settings = _load(args.params) if args.params else {}
        ct = dict((settings.get("modality") or {}).get("CT") or {})
        ct["resegmentRange"] = [low, high]
        settings["modality"] = {**(settings.get("modality") or {}), "CT": ct}
    result = extract_cohort(
        args.cohort,
        settings=settings,
        n_jobs=args.jobs,
        cache_dir=args.cache,
        dask_client=args.scheduler,
        progress=not args.quiet,
        roi=args.roi,
        absolute_paths=args.absolute_paths,
    )
    if result.features.empty and result.failures.empty:
        raise ImageError(
            f"{args.cohort}: the cohort has no images to extract (expected "
            "images/<patient_id>/t2.nii.gz, dwi.nii.gz, adc.nii.gz, mask.nii.gz)"
        )
    if result.features.empty:  # nothing is written: the reasons go into the message
        reasons = "\n".join(
            f"  {pid}: {reason}" for pid, reason in result.failures.head(20).itertuples(index=False)
        )
        more = len(result.failures) - 20
        raise ImageError(
            f"no patient could be extracted ({len(result.failures)} failed); "
            f"nothing was written:\n{reasons}" + (f"\n  ... and {more} more" if more > 0 else "")
        )
    # the three tables are committed together (all or none), the features last
    atomic_write_many(
        {
            fail_path: table_bytes(result.failures, fail_path),
            diag_path: table_bytes(result.diagnostics, diag_path),
            out: table_bytes(result.features.reset_index(), out),
        }
    )
    if not args.quiet:
        print(
            f"wrote {out}: {result.features.shape[0]} patients x "
            f"{result.features.shape[1]} features",
            file=sys.stdout,
        )
        print(f"      {diag_path}", file=sys.stdout)
        print(f"      {fail_path}: {len(result.failures)} patient(s) skipped", file=sys.stdout)
        for pid, reason in result.failures.itertuples(index=False):
            print(f"  skipped {pid}: {reason}", file=sys.stderr)
    return 0
