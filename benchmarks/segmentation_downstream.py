"""Do predicted masks change the science? Cox and SEM results refitted on radiomic features from
predicted vs reference masks of held-out simulated patients (the downstream tables and figures of
docs/segmentation.md).

Usage::

    python benchmarks/segmentation_downstream.py            # 40 training + 160 held-out
    python benchmarks/segmentation_downstream.py --quick    # 20 + 40, 1 epoch: a smoke test
    python benchmarks/segmentation_downstream.py --figures docs/img   # also write the figures

A simulated cohort (16 x 48 x 48) is split by patient; the segmentation model (the demo's
residual U-Net settings) is trained on the first ``--train`` patients only. For the held-out
patients, the four imaging features of ``models/hpv_mechanisms_recurrence.lav`` are extracted
with the reference and with the predicted masks, and
:func:`radsem.segment.downstream.downstream_change` refits the Cox models (recurrence) and
the radiogenomic SEM on each. Prints Markdown tables; torch uses one thread.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

SETTINGS = {
    "featureClass": {"shape": ["MeshVolume", "Sphericity"], "firstorder": ["Mean", "Entropy"]}
}


def _markdown(frame: pd.DataFrame, digits: int = 3) -> str:
    head = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = []
    for row in frame.itertuples(index=False):
        cells = [f"{v:.{digits}f}" if isinstance(v, float) else str(v) for v in row]
        body.append("| " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *body])


def figures(change, folder: Path) -> list[Path]:
    """Forest plot of the Cox hazard ratios and scatter of the SEM's standardized estimates,
    reference vs predicted masks (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    cox = change.cox
    fig, ax = plt.subplots(figsize=(7, 0.7 * len(cox) + 1.2))
    y = np.arange(len(cox))[::-1]
    for shift, source, colour in ((0.15, "reference", "#1f77b4"), (-0.15, "predicted", "#d62728")):
        hr = cox[f"hr_{source}"]
        err = [hr - cox[f"ci_lower_{source}"], cox[f"ci_upper_{source}"] - hr]
        ax.errorbar(
            hr, y + shift, xerr=err, fmt="o", color=colour, capsize=3, label=f"{source} masks"
        )
    ax.axvline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_yticks(y, [t.replace("_original_", " ") for t in cox["term"]])
    ax.set_xlabel("Hazard ratio of recurrence per SD (95 % CI, log scale)")
    ax.legend(loc="best", frameon=False)
    ax.set_title("Cox models, held-out patients: reference vs predicted masks")
    path = folder / "segmentation_downstream_cox.png"
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    written.append(path)
    if change.sem is not None:
        sem = change.sem
        fig, ax = plt.subplots(figsize=(5.5, 5.5))
        imaging = (sem["lhs"] == "imaging") | (sem["rhs"] == "imaging")
        ax.scatter(
            sem.loc[~imaging, "std_reference"],
            sem.loc[~imaging, "std_predicted"],
            s=18,
            color="grey",
            label="gene loadings, mechanism paths",
        )
        ax.scatter(
            sem.loc[imaging, "std_reference"],
            sem.loc[imaging, "std_predicted"],
            s=30,
            color="#d62728",
            label="imaging loadings and paths",
        )
        lim = [
            min(sem[["std_reference", "std_predicted"]].min()) - 0.05,
            max(sem[["std_reference", "std_predicted"]].max()) + 0.05,
        ]
        ax.plot(lim, lim, color="black", lw=0.8)
        ax.set_xlim(lim)
        ax.set_ylim(lim)
        ax.set_xlabel("Standardized estimate, reference masks")
        ax.set_ylabel("Standardized estimate, predicted masks")
        ax.set_title("Radiogenomic SEM (std.all)")
        ax.legend(loc="upper left", frameon=False, fontsize=8)
        path = folder / "segmentation_downstream_sem.png"
        fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
        plt.close(fig)
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=40)
    parser.add_argument("--test", type=int, default=160)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2029)
    parser.add_argument("--figures", type=Path, default=None, help="folder for the PNG figures")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.train, args.test, args.epochs = 20, 40, 1

    import torch

    torch.set_num_threads(1)
    from radsem.demo import DEMO_SEG, sem_table
    from radsem.io import read_cohort
    from radsem.radiomics import extract_cohort
    from radsem.segment import UNetSegmenter, predict_masks
    from radsem.segment.downstream import downstream_change
    from radsem.segment.evaluate import evaluate_segmentation
    from radsem.simulate import simulate

    seg_settings = {**DEMO_SEG, "epochs": args.epochs}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        n = args.train + args.test
        cohort = read_cohort(
            simulate(n, seed=args.seed, out=work / "cohort", image_shape=(16, 48, 48))
        )
        ids = cohort.images["patient_id"].tolist()
        train, test = ids[: args.train], ids[args.train :]
        t0 = time.perf_counter()
        seg = UNetSegmenter(random_state=args.seed, **seg_settings).fit(cohort, patients=train)
        print(f"trained on {len(train)} patients in {time.perf_counter() - t0:.0f} s")
        pred = predict_masks(seg, cohort, work / "pred", patients=test)
        per = evaluate_segmentation([pred], train)
        print(
            f"held-out: {len(test)} patients, median Dice {per['dice'].median():.3f}, "
            f"median HD95 {per['hd95_vox'].median():.2f} voxels, "
            f"{int((pred.table['status'] == 'failed').sum())} failed"
        )
        images = cohort.images.set_index("patient_id").loc[test].reset_index()
        ref = extract_cohort(images, settings=SETTINGS, progress=False).features
        have = [p for p in test if p in pred.masks]
        images = images.set_index("patient_id").loc[have]
        images["mask"] = [str(work / "pred" / p / "mask.nii.gz") for p in have]
        prd = extract_cohort(images.reset_index(), settings=SETTINGS, progress=False).features
        outcome = cohort.clinical.set_index("patient_id")[["time", "event"]]
        change = downstream_change(
            ref, prd, outcome, sem_data=sem_table(cohort).drop(columns="age")
        )
    cox = change.cox[
        [
            "term",
            "n",
            "events",
            "hr_reference",
            "hr_predicted",
            "log_hr_diff",
            "cindex_reference",
            "cindex_predicted",
            "cindex_diff",
        ]
    ]
    print("\nCox models (recurrence, per SD), held-out patients\n")
    print(_markdown(cox))
    if change.sem is not None:
        print("\nSEM standardized estimates (std.all), largest changes first\n")
        sem = change.sem.reindex(change.sem["diff"].abs().sort_values(ascending=False).index)
        print(_markdown(sem.head(12)))
        print(
            f"\n{len(change.sem)} estimates: median |diff| "
            f"{change.sem['diff'].abs().median():.4f}, "
            f"max {change.sem['diff'].abs().max():.4f}"
        )
        print("\n" + _markdown(change.fit_measures.reset_index()))
    for text in change.warnings:
        print("warning:", text)
    if args.figures is not None:
        for path in figures(change, args.figures):
            print("wrote", path)


if __name__ == "__main__":
    main()
