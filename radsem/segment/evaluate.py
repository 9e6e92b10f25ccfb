"""Evaluation of predicted masks against reference masks, and of what they change downstream.

Per patient: Dice, HD95 and volume difference (MONAI metrics), for training and held-out
patients separately, for the model and the threshold baseline. Per radiomic feature: the
agreement between the values extracted with the predicted and with the reference mask,
ICC(3,1) (two-way mixed, consistency, single measurement; Shrout and Fleiss 1979) through
pingouin.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from radsem.errors import DataError
from radsem.segment.metrics import mask_metrics

__all__ = ["evaluate_segmentation", "summarise_evaluation", "feature_agreement"]

_METRIC_COLUMNS = [
    "patient_id",
    "set",
    "method",
    "status",
    "dice",
    "hd95_vox",
    "hd95_mm",
    "volume_pred_ml",
    "volume_ref_ml",
    "volume_diff_pct",
]


def evaluate_segmentation(
    results: Sequence[Any], training_patients: Sequence[str] = ()
) -> pd.DataFrame:
    """Per-patient agreement of each method's masks with the reference masks.

    Parameters
    ----------
    results : sequence of SegmentationResult
        Outputs of :func:`~radsem.segment.predict_masks` (one per method) on a cohort whose
        patients have reference masks; patients without a reference are skipped.
    training_patients : sequence of str
        Patients the model was trained on (``set`` = ``training``; others ``held-out``).

    Returns
    -------
    DataFrame
        One row per patient and method (columns ``patient_id, set, method, status, dice,
        hd95_vox, hd95_mm, volume_pred_ml, volume_ref_ml, volume_diff_pct``). A failed
        (empty) prediction counts as Dice 0 with missing HD95.
    """
    train = {str(p) for p in training_patients}
    rows = []
    for result in results:
        status = result.table.set_index("patient_id")["status"]
        method = str(result.table["method"].iloc[0]) if len(result.table) else "?"
        for pid, case in result.cases.items():
            if case.mask is None:
                continue
            pred = result.masks.get(pid, np.zeros_like(case.mask))
            rows.append(
                {
                    "patient_id": pid,
                    "set": "training" if pid in train else "held-out",
                    "method": method,
                    "status": status.get(pid, "failed"),
                    **mask_metrics(pred, case.mask, case.spacing),
                }
            )
    if not rows:
        raise DataError(
            "no patient with a reference mask among the segmented patients: nothing to evaluate"
        )
    return pd.DataFrame(rows).loc[:, _METRIC_COLUMNS]


def summarise_evaluation(
    per_patient: pd.DataFrame, model: str = "attention_unet", baseline: str = "threshold"
) -> pd.DataFrame:
    """Medians by set and method, and the paired Wilcoxon test of Dice (model vs baseline).

    Returns
    -------
    DataFrame
        Index ``(set, method)``; columns ``n, dice_median, dice_q25, dice_q75,
        hd95_vox_median, hd95_mm_median, abs_volume_diff_pct_median, failed,
        wilcoxon_p`` (the paired test on the set's patients, on the model's row).
    """
    from scipy import stats

    out = []
    for (set_, method), g in per_patient.groupby(["set", "method"], sort=True):
        out.append(
            {
                "set": set_,
                "method": method,
                "n": len(g),
                "dice_median": g["dice"].median(),
                "dice_q25": g["dice"].quantile(0.25),
                "dice_q75": g["dice"].quantile(0.75),
                "hd95_vox_median": g["hd95_vox"].median(),
                "hd95_mm_median": g["hd95_mm"].median(),
                "abs_volume_diff_pct_median": g["volume_diff_pct"].abs().median(),
                "failed": int((g["status"] == "failed").sum()),
                "wilcoxon_p": np.nan,
            }
        )
    table = pd.DataFrame(out).set_index(["set", "method"])
    for set_ in table.index.get_level_values("set").unique():
        if (set_, model) not in table.index or (set_, baseline) not in table.index:
            continue
        sub = per_patient[per_patient["set"] == set_]
        wide = sub.pivot(index="patient_id", columns="method", values="dice").dropna()
        diff = wide[model] - wide[baseline]
        if len(wide) >= 5 and np.any(diff != 0):
            table.loc[(set_, model), "wilcoxon_p"] = float(
                stats.wilcoxon(wide[model], wide[baseline]).pvalue
            )
    return table


def _icc3(values: pd.DataFrame) -> tuple[float, float, float]:
    """ICC(3,1) of a patients x 2 table through pingouin, with its 95 % CI."""
    import pingouin as pg

    long = values.reset_index(names="patient").melt(
        id_vars="patient", var_name="mask", value_name="value"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant feature: NaN, reported so
        icc = pg.intraclass_corr(long, targets="patient", raters="mask", ratings="value")
    table = icc.set_index("Type")
    # pingouin >= 0.7 names ICC(3,1) (two-way, consistency, single) "ICC(C,1)"; older "ICC3"
    row = table.loc["ICC(C,1)"] if "ICC(C,1)" in table.index else table.loc["ICC3"]
    lo, hi = row["CI95"] if "CI95" in row.index else row["CI95%"]
    return float(row["ICC"]), float(lo), float(hi)


def feature_agreement(reference: pd.DataFrame, predicted: pd.DataFrame) -> pd.DataFrame:
    """ICC(3,1) of each radiomic feature between predicted-mask and reference-mask extraction.

    Parameters
    ----------
    reference, predicted : DataFrame
        Feature tables (index ``patient_id``, one column per feature) from
        :func:`radsem.radiomics.extract_cohort` with the reference and the predicted masks.

    Returns
    -------
    DataFrame
        Index ``feature``; columns ``icc, ci_low, ci_high, n``. Features constant in either
        table are left out (their ICC is undefined).
    """
    common = reference.index.intersection(predicted.index)
    features = [c for c in reference.columns if c in predicted.columns]
    if len(common) < 5:
        raise DataError(
            f"feature agreement needs at least 5 patients extracted with both "
            f"masks, got {len(common)}"
        )
    rows = []
    for feat in features:
        pair = (
            pd.DataFrame(
                {"reference": reference.loc[common, feat], "predicted": predicted.loc[common, feat]}
            )
            .astype(float)
            .dropna()
        )
        if len(pair) < 5 or pair.std().min() <= 1e-12 * max(pair.abs().max().max(), 1.0):
            continue
        icc, lo, hi = _icc3(pair)
        rows.append({"feature": feat, "icc": icc, "ci_low": lo, "ci_high": hi, "n": len(pair)})
    return pd.DataFrame(rows, columns=["feature", "icc", "ci_low", "ci_high", "n"]).set_index(
        "feature"
    )
