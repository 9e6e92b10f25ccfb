"""``radsem simulate``: write a simulated radiogenomic cohort folder."""

from __future__ import annotations

import argparse
import sys

from radsem.commands._arguments import non_negative, positive

HELP = "simulate a cervical-cancer radiogenomic cohort with known ground truth"


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {value}")
    return value


def _shape(text: str) -> tuple[int, int, int]:
    parts = text.lower().replace("x", ",").split(",")
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected Z,Y,X such as 16,48,48, got {text!r}") from None
    if len(shape) != 3 or shape[0] < 4 or min(shape[1:]) < 8:
        raise argparse.ArgumentTypeError(f"need 3 sizes Z,Y,X with Z >= 4, Y, X >= 8: {text!r}")
    from radsem.simulate.in_memory import MAX_IMAGE_VOXELS

    if shape[0] * shape[1] * shape[2] > MAX_IMAGE_VOXELS:
        raise argparse.ArgumentTypeError(
            f"{text!r} has {shape[0] * shape[1] * shape[2]:,} voxels; the limit is "
            f"{MAX_IMAGE_VOXELS:,} per volume (e.g. 64,256,256)"
        )
    return shape  # type: ignore[return-value]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--n", type=positive, default=150, metavar="N", help="number of patients (default 150)"
    )
    parser.add_argument(
        "--seed",
        type=non_negative,
        default=0,
        help="random seed; the same seed writes the same bytes (default 0)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="cohort folder to write")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing cohort folder"
    )
    parser.add_argument(
        "--no-images",
        dest="images",
        action="store_false",
        help="skip the MRI volumes (fast, for large cohorts)",
    )
    parser.add_argument(
        "--missing-expression",
        type=_share,
        default=0.45,
        metavar="SHARE",
        help="expected share of patients without expression (default 0.45)",
    )
    parser.add_argument(
        "--image-shape",
        type=_shape,
        default=(16, 48, 48),
        metavar="Z,Y,X",
        help="T2 grid in voxels (default 16,48,48; at most 4,194,304 voxels, e.g. 64,256,256)",
    )
    parser.add_argument(
        "--unlabelled",
        type=_share,
        default=0.0,
        metavar="SHARE",
        help="share of patients written without mask.nii.gz (default 0)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def run(args: argparse.Namespace) -> int:
    from radsem.io import read_cohort
    from radsem.simulate import simulate

    path = simulate(
        args.n,
        args.seed,
        args.out,
        overwrite=args.overwrite,
        images=args.images,
        progress=not args.quiet,
        missing_expression=args.missing_expression,
        image_shape=args.image_shape,
        unlabelled=args.unlabelled,
    )
    if args.quiet:
        return 0
    cohort = read_cohort(path)
    clin = cohort.clinical
    genes = cohort.expression.shape[1] - 1
    print(f"wrote {path}", file=sys.stdout)
    print(f"  patients          {len(clin)} (seed {args.seed})")
    print(
        f"  recurrences       {int(clin['event'].sum())} ({clin['event'].mean():.0%}); "
        f"disease-specific deaths {int(clin['dss_event'].sum())}"
    )
    print(f"  with expression   {len(cohort.expression)} ({genes} genes)")
    print(
        f"  with images       {len(cohort.images)} (T2, DWI, ADC, mask; "
        f"{clin['scanner'].nunique()} scanners)"
    )
    if len(cohort.images) and cohort.images["mask"].isna().any():
        print(f"  without a mask    {int(cohort.images['mask'].isna().sum())} (unlabelled)")
    print("  load it with      radsem.io.read_cohort(" + repr(str(path)) + ")")
    return 0
