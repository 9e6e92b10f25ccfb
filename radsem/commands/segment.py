"""``radsem segment``: train a tumour segmentation model, predict masks, evaluate them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from radsem.commands._arguments import non_negative, positive

HELP = "automatic tumour segmentation: train | predict | evaluate (attention U-Net, MONAI)"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    train = sub.add_parser("train", help="train on the patients of a cohort that have a mask")
    train.add_argument("cohort", metavar="COHORT", help="cohort folder")
    train.add_argument(
        "--out",
        required=True,
        metavar="MODEL_DIR",
        help="model folder to write (weights.pt, model.json)",
    )
    train.add_argument(
        "--epochs", type=positive, default=8, metavar="N", help="training epochs (default 8)"
    )
    train.add_argument("--seed", type=non_negative, default=0, metavar="S", help="seed (default 0)")
    train.add_argument(
        "--architecture",
        choices=("attention_unet", "unet"),
        default="attention_unet",
        help="network (default attention_unet)",
    )
    train.add_argument(
        "--threads", type=positive, default=1, metavar="N", help="torch threads (default 1)"
    )
    train.add_argument("--quiet", action="store_true", help="no progress output")

    pred = sub.add_parser("predict", help="predict a mask for every patient with images")
    pred.add_argument("cohort", metavar="COHORT", help="cohort folder (masks not needed)")
    how = pred.add_mutually_exclusive_group(required=True)
    how.add_argument("--model", metavar="MODEL_DIR", help="model folder from segment train")
    how.add_argument(
        "--threshold",
        action="store_true",
        help="the baseline instead: DWI threshold + largest component (its "
        "fraction tuned on the cohort's labelled patients)",
    )
    pred.add_argument(
        "--out",
        required=True,
        metavar="OUT_DIR",
        help="folder for <patient_id>/mask.nii.gz and segmentation.csv",
    )
    pred.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the masks of an earlier segment predict output",
    )
    pred.add_argument(
        "--jobs",
        type=positive,
        default=1,
        metavar="N",
        help="worker processes, each with its share of the cores for torch (default 1)",
    )
    pred.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="predict on a Dask cluster at this scheduler address (workers must see the "
        "cohort and OUT_DIR)",
    )
    pred.add_argument("--quiet", action="store_true", help="no progress output")

    ev = sub.add_parser("evaluate", help="compare predicted with reference masks (+ baseline)")
    ev.add_argument("cohort", metavar="COHORT", help="cohort folder with reference masks")
    ev.add_argument(
        "--predicted", required=True, metavar="OUT_DIR", help="output folder of segment predict"
    )
    ev.add_argument(
        "--model",
        metavar="MODEL_DIR",
        default=None,
        help="model folder: splits training / held-out patients and tunes the "
        "baseline on the training patients",
    )
    ev.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="folder for per_patient.csv, summary.csv (and feature_icc.csv)",
    )
    ev.add_argument(
        "--radiomics",
        action="store_true",
        help="also ICC(3,1) of the radiomic features (predicted vs reference mask)",
    )
    ev.add_argument(
        "--downstream",
        action="store_true",
        help="also refit the Cox models of the radiomic terms and the radiogenomic SEM with "
        "each mask source and report the change (implies --radiomics)",
    )
    ev.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the radiomic extraction on a Dask cluster at this scheduler address",
    )
    ev.add_argument(
        "--jobs",
        type=positive,
        default=1,
        metavar="N",
        help="worker processes for radiomic extraction (default 1)",
    )
    ev.add_argument("--quiet", action="store_true", help="no progress output")


def _train(args: argparse.Namespace) -> int:
    from radsem.io.guard import check_outputs
    from radsem.segment import UNetSegmenter

    check_outputs([args.cohort], folders=[args.out])
    seg = UNetSegmenter(
        epochs=args.epochs,
        architecture=args.architecture,
        random_state=args.seed,
        n_threads=args.threads,
        progress=not args.quiet,
    )
    seg.fit(args.cohort)
    digest = seg.save(args.out)
    if not args.quiet:
        print(
            f"wrote {args.out}: {seg.method} trained on {len(seg.training_patients_)} "
            f"patients in {seg.fit_seconds_:.0f} s (model hash {digest[:12]})"
        )
        for pid, reason in seg.failures_:
            print(f"  skipped {pid}: {reason}", file=sys.stderr)
    return 0


def _predict(args: argparse.Namespace) -> int:
    from radsem.io.guard import check_outputs
    from radsem.segment import ThresholdSegmenter, load_segmenter, predict_masks

    check_outputs([args.cohort, args.model], folders=[args.out])
    if args.threshold:
        seg = ThresholdSegmenter().fit(args.cohort)
    else:
        seg = load_segmenter(args.model)
    result = predict_masks(
        seg,
        args.cohort,
        args.out,
        overwrite=args.overwrite,
        progress=not args.quiet,
        n_jobs=args.jobs,
        client=args.scheduler,
    )
    if not args.quiet:
        counts = result.table["status"].value_counts()
        print(
            f"wrote {Path(args.out) / 'segmentation.csv'}: {counts.get('ok', 0)} ok, "
            f"{counts.get('flagged', 0)} flagged, {counts.get('failed', 0)} failed"
        )
        for row in result.table[result.table["status"] != "ok"].itertuples():
            print(f"  {row.status} {row.patient_id}: {row.reason}", file=sys.stderr)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from radsem.io.guard import check_outputs
    from radsem.workflows.segment_assess import assess_predictions

    out = Path(args.out)
    check_outputs([args.cohort, args.predicted, args.model], folders=[out])
    result = assess_predictions(
        args.cohort,
        args.predicted,
        model=args.model,
        radiomics=args.radiomics,
        downstream=args.downstream,
        n_jobs=args.jobs,
        client=args.scheduler,
    )
    written = result.write(out)
    if not args.quiet:
        print(result.summary.round(3).to_string())
        if result.feature_icc is not None:
            icc = result.feature_icc
            print(
                f"  ICC(3,1) >= 0.75 for {float((icc['icc'] >= 0.75).mean()):.0%} of "
                f"{len(icc)} features"
            )
        if result.downstream is not None:
            cox = result.downstream.cox.set_index("term")
            print(
                "  radiomic score, Cox HR per SD: reference "
                f"{cox.at['radiomic score', 'hr_reference']:.2f}, predicted "
                f"{cox.at['radiomic score', 'hr_predicted']:.2f}; C-index "
                f"{cox.at['radiomic score', 'cindex_reference']:.3f} vs "
                f"{cox.at['radiomic score', 'cindex_predicted']:.3f}"
            )
            if result.downstream.sem is not None:
                worst = result.downstream.sem["diff"].abs().max()
                print(f"  SEM standardized estimates: largest change {worst:.3f}")
            for text in result.downstream.warnings:
                print(f"  {text}", file=sys.stderr)
        print("wrote " + ", ".join(str(p) for p in written))
    return 0


def run(args: argparse.Namespace) -> int:
    return {"train": _train, "predict": _predict, "evaluate": _evaluate}[args.action](args)
