"""``radsem import-dicom``: a cohort folder (NIfTI, de-identified) from a DICOM tree."""

from __future__ import annotations

import argparse
import sys

HELP = "build a de-identified cohort folder from a DICOM tree (series, RTSTRUCT/SEG masks)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SRC", help="folder searched for DICOM files")
    parser.add_argument(
        "--out",
        required=True,
        metavar="COHORT",
        help="new cohort folder (must not exist or be empty)",
    )
    parser.add_argument(
        "--mapping",
        required=True,
        metavar="FILE",
        help="table of original PatientID -> pseudonym, status and reason "
        "(.csv/.tsv/.parquet); must lie outside the cohort and SRC",
    )
    parser.add_argument(
        "--rules",
        metavar="FILE",
        default=None,
        help="series rules (YAML list or CSV: series, modality, description "
        "patterns); default: t2/dwi/adc (MR), ct (CT), pet (PT)",
    )
    parser.add_argument(
        "--series",
        metavar="NAMES",
        default=None,
        help="comma-separated series the cohort must have (default: every rule "
        "matched in some patient)",
    )
    parser.add_argument(
        "--roi",
        metavar="NAME",
        default=None,
        help="RTSTRUCT ROI / SEG segment name or glob pattern, e.g. 'GTV*'",
    )
    parser.add_argument(
        "--clinical",
        metavar="FILE",
        default=None,
        help="clinical table keyed by the original PatientID (column "
        "patient_id), copied under the pseudonyms",
    )
    parser.add_argument(
        "--reference",
        metavar="NAME",
        default=None,
        help="series whose RTSTRUCT/SEG gives the mask, for patients with one mask per "
        "series (default: the series with a mask in most patients, ties to the first rule)",
    )
    parser.add_argument("--quiet", action="store_true", help="no summary")


def run(args: argparse.Namespace) -> int:
    from radsem.io.dicom_import import import_dicom

    series = (
        None if args.series is None else [s.strip() for s in args.series.split(",") if s.strip()]
    )
    result = import_dicom(
        args.source,
        args.out,
        args.mapping,
        rules=args.rules,
        series=series,
        roi=args.roi,
        clinical=args.clinical,
        reference=args.reference,
    )
    if not args.quiet:
        names = ", ".join(
            f"{s} ({m})" for s, m in zip(result.series["series"], result.series["modality"])
        )
        print(f"wrote {result.cohort}: {result.n_imported} patient(s), series {names}")
        print(f"      {args.mapping}: patient id mapping (keep it away from the cohort)")
        skipped = result.mapping.index[result.mapping["status"] != "imported"]
        for row in skipped:
            print(
                f"  skipped mapping row {row + 2}: {result.mapping.at[row, 'reason']}",
                file=sys.stderr,
            )
    return 0
