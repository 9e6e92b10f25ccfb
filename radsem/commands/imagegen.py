"""``radsem imagegen``: train a generator of tumour images from expression, and sample from it."""

from __future__ import annotations

import argparse
import sys

from radsem.commands._arguments import non_negative, positive

HELP = "generate T2/DWI/ADC tumour images and masks from gene expression (train, sample)"


def _weight(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    sub.required = True
    train = sub.add_parser(
        "train",
        help="train on a cohort's patients with images and expression",
        description="Train the generator.",
    )
    train.add_argument("cohort", metavar="COHORT", help="cohort folder (see radsem.io)")
    train.add_argument(
        "--out",
        required=True,
        metavar="MODEL_DIR",
        help="new folder for the model (model.json + weights.pt)",
    )
    train.add_argument("--seed", type=non_negative, default=0, help="random seed (default 0)")
    train.add_argument(
        "--epochs",
        type=positive,
        default=None,
        metavar="N",
        help="training epochs (default: the model's default)",
    )
    train.add_argument(
        "--generation-weight",
        type=_weight,
        default=None,
        metavar="W",
        help="weight of the generation term of the hybrid objective (default 0: the "
        "tumour-balanced ELBO; 1: the hybrid objective of Sohn et al. 2015, better E7 -> mean "
        "ADC counterfactuals, worse volume fidelity; see docs/imagegen.md)",
    )
    train.add_argument(
        "--image-likelihood",
        choices=("heteroscedastic", "unit"),
        default=None,
        help="image likelihood of the decoder (default heteroscedastic: a per-voxel variance, "
        "sampled images carry texture; unit: the unit-variance decoder of format version 2, "
        "mean images only; see docs/imagegen.md)",
    )
    train.add_argument(
        "--intensity-scale",
        choices=("log", "linear"),
        default=None,
        help="scale on which T2 and DWI are modelled (default log: scanner gains become "
        "offsets and the generated texture's coefficient of variation does not follow the "
        "intensity level; needs non-negative T2 and DWI; linear: as given, the model of "
        "format version 4; see docs/imagegen.md)",
    )
    train.add_argument(
        "--prior-variance",
        choices=("unit", "learned"),
        default=None,
        help="variance of the conditional prior in training (default unit: the prior "
        "learns the mean of z from the expression; learned: also a variance, the model of "
        "format version 4; see docs/imagegen.md)",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    sample = sub.add_parser(
        "sample",
        help="generate images for an expression table",
        description="Write OUT_DIR/images/<patient_id>/{t2,dwi,adc,mask}"
        ".nii.gz for every row of the expression table.",
    )
    sample.add_argument("--model", required=True, metavar="MODEL_DIR")
    sample.add_argument(
        "--expression",
        required=True,
        metavar="EXPR",
        help="table (.csv, .tsv, .parquet): patient_id + the model's genes",
    )
    sample.add_argument(
        "--out", required=True, metavar="OUT_DIR", help="new cohort folder to write"
    )
    sample.add_argument("--seed", type=non_negative, default=0, help="random seed (default 0)")
    sample.add_argument(
        "--mask-rule",
        choices=("0.5", "expected_volume"),
        default="expected_volume",
        help="how the mask probability becomes the mask: expected_volume (as many voxels "
        "as the probabilities sum to, the default) or 0.5 (probability > 0.5); the "
        "largest connected component is kept either way",
    )
    sample.add_argument("--quiet", action="store_true", help="no summary")


def run(args: argparse.Namespace) -> int:
    import warnings
    from pathlib import Path

    from radsem.errors import DataError, DataWarning
    from radsem.io.guard import check_outputs

    if args.action == "train":
        check_outputs([args.cohort], folders=[args.out])
        from radsem.deep.imagegen import fit_cohort

        out = Path(args.out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise DataError(f"{out}: exists and is not an empty folder (choose a new --out)")
        params = {} if args.epochs is None else {"epochs": args.epochs}
        if args.generation_weight is not None:
            params["generation_weight"] = args.generation_weight
        if args.image_likelihood is not None:
            params["image_likelihood"] = args.image_likelihood
        if args.intensity_scale is not None:
            params["intensity_scale"] = args.intensity_scale
        if args.prior_variance is not None:
            params["prior_variance"] = args.prior_variance
        model, summary = fit_cohort(
            args.cohort, random_state=args.seed, progress=not args.quiet, **params
        )
        model.progress = False
        model.save(out)
        if not args.quiet:
            print(
                f"wrote {out}: generator trained on {summary['n_train']} patients with "
                f"images and expression ({len(model.genes_)} genes); "
                f"{summary['expression_only']} patient(s) with expression only not used",
                file=sys.stdout,
            )
        return 0
    from radsem.deep.imagegen import ExpressionImageGenerator, sample_cohort
    from radsem.io import read_table

    check_outputs([args.model, args.expression], folders=[args.out])
    model = ExpressionImageGenerator.load(args.model)
    expr_path = Path(args.expression)
    if not expr_path.is_file():
        raise DataError(f"{expr_path}: expression table not found")
    table = read_table(expr_path)
    if "patient_id" not in table.columns:
        raise DataError(f"{expr_path}: required column 'patient_id' missing")
    table["patient_id"] = table["patient_id"].astype(str)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        out = sample_cohort(
            model, table, args.out, random_state=args.seed, mask_rule=args.mask_rule
        )
    for w in caught:
        print(f"radsem imagegen sample: warning: {w.message}", file=sys.stderr)
    if not args.quiet:
        print(
            f"wrote {out}: {len(table)} generated patient(s) "
            "(images/<patient_id>/t2,dwi,adc,mask.nii.gz; clinical.csv outcome columns are "
            "placeholders)",
            file=sys.stdout,
        )
    return 0
