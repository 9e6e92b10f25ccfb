"""Benchmark of radsem.segment: held-out quality against the threshold baseline, radiomic
agreement, training and prediction time (the figures of docs/segmentation.md).

Usage::

    python benchmarks/segmentation.py                # 150 training + 60 held-out patients
    python benchmarks/segmentation.py --quick        # 30 + 12, 2 epochs: a smoke test

A simulated cohort (16 x 48 x 48 T2 grid, tumour-like adjacent organs) is split by patient:
the model (and the baseline's threshold fraction) are fitted on the first ``--train``
patients only; the held-out patients are never seen in training. Torch uses one thread.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd


def _markdown(frame: pd.DataFrame, digits: int = 3) -> str:
    frame = frame.reset_index()
    head = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = []
    for row in frame.itertuples(index=False):
        cells = [f"{v:.{digits}f}" if isinstance(v, float) else str(v) for v in row]
        body.append("| " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *body])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=150)
    parser.add_argument("--test", type=int, default=60)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument(
        "--train-eval",
        type=int,
        default=30,
        help="training patients re-segmented for the training-set row",
    )
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.train, args.test, args.epochs, args.train_eval = 30, 12, 2, 10

    import torch

    torch.set_num_threads(1)
    from scipy import stats

    from radsem.radiomics import extract_cohort
    from radsem.segment import ThresholdSegmenter, UNetSegmenter, predict_masks
    from radsem.segment.evaluate import (
        evaluate_segmentation,
        feature_agreement,
        summarise_evaluation,
    )
    from radsem.simulate import simulate

    work = Path(tempfile.mkdtemp(prefix="radsem-seg-bench-"))
    n = args.train + args.test
    t0 = time.perf_counter()
    cohort = simulate(n, seed=args.seed, out=work / "cohort", image_shape=(16, 48, 48))
    print(f"simulated {n} patients in {time.perf_counter() - t0:.0f} s ({work})")
    from radsem.io import read_cohort

    ids = read_cohort(cohort).images["patient_id"].tolist()
    train, test = ids[: args.train], ids[args.train :]
    assert not set(train) & set(test)

    t0 = time.perf_counter()
    model = UNetSegmenter(epochs=args.epochs, random_state=0).fit(cohort, patients=train)
    train_seconds = time.perf_counter() - t0
    model.save(work / "model")
    base = ThresholdSegmenter().fit(cohort, patients=train)
    print(
        f"trained attention U-Net on {len(train)} patients, {args.epochs} epochs: "
        f"{train_seconds:.0f} s; baseline fraction {base.fraction:.2f}"
    )

    t0 = time.perf_counter()
    held = predict_masks(model, cohort, work / "pred", patients=test)
    predict_seconds = (time.perf_counter() - t0) / len(test)
    held_base = predict_masks(base, cohort, patients=test)
    seen = train[: args.train_eval]
    fit_model = predict_masks(model, cohort, patients=seen)
    fit_base = predict_masks(base, cohort, patients=seen)
    per = pd.concat(
        [
            evaluate_segmentation([held, held_base], train),
            evaluate_segmentation([fit_model, fit_base], train),
        ],
        ignore_index=True,
    )
    summary = summarise_evaluation(per)
    wide = per[per["set"] == "held-out"].pivot(index="patient_id", columns="method", values="dice")
    diff = wide["attention_unet"] - wide["threshold"]
    wil = stats.wilcoxon(wide["attention_unet"], wide["threshold"])

    images = read_cohort(cohort).images.set_index("patient_id").loc[test]
    ref = extract_cohort(images.reset_index(), n_jobs=2, progress=False)
    have = [p for p in test if p in held.masks]
    pred_images = images.loc[have].copy()
    pred_images["mask"] = [str((work / "pred" / p / "mask.nii.gz").resolve()) for p in have]
    pred = extract_cohort(pred_images.reset_index(), n_jobs=2, progress=False)
    icc = feature_agreement(ref.features, pred.features)
    good = float((icc["icc"] >= 0.75).mean())
    by_series = (
        icc.assign(series=[f.split("_")[0] for f in icc.index])
        .groupby("series")["icc"]
        .agg(n="size", median="median", share_ge_075=lambda s: float((s >= 0.75).mean()))
    )

    print("\n## Segmentation quality (median over patients)\n")
    print(_markdown(summary.drop(columns=["dice_q25", "dice_q75"])))
    print(f"\nheld-out patients: {len(wide)} (never used in training)")
    print(
        f"median Dice attention U-Net {wide['attention_unet'].median():.3f} vs threshold "
        f"{wide['threshold'].median():.3f}; median paired difference {diff.median():.3f}; "
        f"Wilcoxon signed-rank p = {wil.pvalue:.2g}"
    )
    hd = per[(per["set"] == "held-out") & (per["method"] == "attention_unet")]["hd95_vox"]
    print(f"median HD95 attention U-Net {hd.median():.2f} voxels")
    print("\n## Radiomic agreement, held-out patients (ICC(3,1), predicted vs reference mask)\n")
    print(_markdown(by_series))
    print(
        f"\nfeatures with ICC >= 0.75: {good:.1%} of {len(icc)} (median ICC "
        f"{icc['icc'].median():.3f})"
    )
    print("\n## Time (1 torch thread; 2-core machine shared with other jobs)\n")
    print(
        f"training on {len(train)} patients ({args.epochs} epochs): {train_seconds:.0f} s "
        f"({train_seconds / 60:.1f} min)"
    )
    print(
        f"prediction: {predict_seconds:.2f} s per patient (reading, resampling, sliding "
        "window, region growing, writing)"
    )


if __name__ == "__main__":
    main()
