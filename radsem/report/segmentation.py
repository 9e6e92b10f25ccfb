"""The segmentation section of a report: which patients got predicted masks (and from which
model), how the predicted masks agree with the reference where both exist (Dice, HD95, volumes),
and which mask every downstream input (radiomics, autoencoder crops) was computed from."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from radsem.errors import DataError
from radsem.report.document import Figure, Section, Text, figure_from_matplotlib
from radsem.report.table import ResultTable

__all__ = ["segmentation_section", "volume_plot"]

_PER_PATIENT = ["patient_id", "set", "method", "status", "dice", "hd95_vox", "hd95_mm"]


class _Alias:
    """Patient identifiers, or case numbers standing for them (also inside reasons)."""

    def __init__(self, show: bool) -> None:
        self.show = show
        self.numbers: dict[str, str] = {}

    def name(self, pid: object) -> str:
        pid = str(pid)
        if self.show:
            return pid
        return self.numbers.setdefault(pid, f"case {len(self.numbers) + 1}")

    def frame(self, table: pd.DataFrame) -> pd.DataFrame:
        if self.show or "patient_id" not in table.columns:
            return table
        table = table.copy()
        ids = table["patient_id"].astype(str)
        table["patient_id"] = [self.name(p) for p in ids]
        if "reason" in table.columns:
            table["reason"] = [
                str(r).replace(p, self.name(p)) for r, p in zip(table["reason"], ids, strict=True)
            ]
        return table.rename(columns={"patient_id": "case"})


def volume_plot(per_patient: pd.DataFrame) -> Figure:
    """Predicted against reference tumour volume (mL), one point per patient and method, with
    the line of identity."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 5.0))
    data = {}
    markers = ["o", "s", "^", "D"]
    for k, (method, g) in enumerate(per_patient.groupby("method", sort=True)):
        ax.scatter(
            g["volume_ref_ml"],
            g["volume_pred_ml"],
            s=22,
            marker=markers[k % len(markers)],
            label=f"{method} (n = {len(g)})",
            alpha=0.8,
        )
        data[str(method)] = {
            "x": g["volume_ref_ml"].tolist(),
            "y": g["volume_pred_ml"].tolist(),
        }
    values = per_patient[["volume_ref_ml", "volume_pred_ml"]].to_numpy(float)
    hi = float(np.nanmax(values)) * 1.05 if values.size else 1.0
    ax.plot([0, hi], [0, hi], color="black", lw=0.8, ls="--", label="identity")
    ax.set_xlim(0, hi)
    ax.set_ylim(0, hi)
    ax.set_xlabel("Reference mask volume (mL)")
    ax.set_ylabel("Predicted mask volume (mL)")
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    return figure_from_matplotlib(
        fig,
        caption="Tumour volume from the predicted masks against the reference masks, per "
        "patient with both; the dashed line is agreement.",
        alt="Scatter plot of predicted against reference tumour volume in millilitres, one "
        "point per patient and method, with the identity line.",
        data=data,
    )


def segmentation_section(
    *,
    per_patient: pd.DataFrame | None = None,
    summary: pd.DataFrame | None = None,
    predicted: pd.DataFrame | None = None,
    mask_source: pd.DataFrame | pd.Series | None = None,
    crops_mask_source: pd.Series | None = None,
    title: str = "Automatic segmentation",
    notes: Sequence[str] = (),
    patient_ids: bool = True,
) -> Section:
    """A report section on the automatic segmentation step.

    Parameters
    ----------
    per_patient : DataFrame, optional
        :func:`radsem.segment.evaluate.evaluate_segmentation` on patients with both masks
        (Dice, HD95, predicted and reference volume per patient and method).
    summary : DataFrame, optional
        :func:`radsem.segment.evaluate.summarise_evaluation` of it.
    predicted : DataFrame, optional
        ``segmentation.csv`` of the patients that received predicted masks (``patient_id,
        status, voxels, volume_ml, touches_border, method, model_hash, reason``).
    mask_source : DataFrame or Series, optional
        Per patient, the mask the radiomic features were extracted from (``reference`` or
        ``predicted:<method>:<model hash>``; a DataFrame with ``patient_id, mask_source``).
    crops_mask_source : Series, optional
        The same for the autoencoder crops (:attr:`radsem.deep.Crops.mask_source`).
    title : str
    notes : sequence of str
        Paragraphs shown first.
    patient_ids : bool
        Show the patient identifiers; False replaces them by case numbers (``case 1``, ...,
        in the order of the tables, the same number for the same patient throughout the
        section) for a report that will be shared, and says where the identifiers are.

    Returns
    -------
    Section
        Add it to a report (``report.sections.append(...)`` or the ``sections=`` argument of
        :func:`radsem.report.comparison_report`).
    """
    if per_patient is None and predicted is None and mask_source is None:
        raise DataError("segmentation_section: give per_patient, predicted or mask_source")
    section = Section(title)
    for note in notes:
        section.add(Text(note))
    alias = _Alias(patient_ids)
    if not patient_ids:
        section.add(
            Text(
                "Patients appear as case numbers; the identifiers are in the output tables "
                "(segmentation.csv, mask_source), not in this report.",
                "note",
            )
        )
    if predicted is not None and len(predicted):
        status = predicted["status"].value_counts()
        hashes = sorted({str(h)[:12] for h in predicted["model_hash"].dropna()})
        methods = sorted({str(m) for m in predicted["method"].dropna()})
        section.add(
            Text(
                f"{len(predicted)} patient(s) had no reference mask and received a predicted "
                f"one ({', '.join(methods)}; model hash {', '.join(hashes) or 'none'}): "
                f"{status.get('ok', 0)} ok, {status.get('flagged', 0)} flagged (mask touches "
                f"the volume border), {status.get('failed', 0)} failed (no mask; the patient "
                "is left out of the image analyses)."
            ),
            ResultTable(
                alias.frame(
                    predicted.loc[
                        :,
                        [
                            c
                            for c in ("patient_id", "status", "voxels", "volume_ml", "reason")
                            if c in predicted.columns
                        ],
                    ]
                ),
                title="Patients with predicted masks",
                notes=["volume_ml: predicted tumour volume in millilitres."],
            ),
        )
    if per_patient is not None and len(per_patient):
        n = per_patient["patient_id"].nunique()
        section.add(
            Text(
                f"Check on {n} patient(s) with a reference mask that were segmented as well "
                "(never used to train the model where marked held-out): Dice overlap, 95th "
                "percentile Hausdorff distance (HD95) and volume, for the model and the "
                "threshold baseline."
            )
        )
        if summary is not None:
            section.add(ResultTable(summary, title="Summary by set and method"))
        wide = per_patient.loc[:, [c for c in _PER_PATIENT if c in per_patient.columns]].copy()
        wide["volume_pred_ml"] = per_patient["volume_pred_ml"]
        wide["volume_ref_ml"] = per_patient["volume_ref_ml"]
        section.add(
            ResultTable(
                alias.frame(
                    wide.sort_values(["method", "patient_id"], kind="stable").reset_index(drop=True)
                ),
                title="Per patient: Dice, HD95 and volumes (predicted vs reference)",
                notes=["HD95 in voxels and in mm; volumes in millilitres."],
            ),
            volume_plot(per_patient),
        )
    for label, source in (
        ("radiomic features", mask_source),
        ("autoencoder crops", crops_mask_source),
    ):
        if source is None:
            continue
        if isinstance(source, pd.DataFrame):
            source = source.set_index("patient_id")["mask_source"]
        counts = (
            source.fillna("none (no mask)")
            .value_counts()
            .rename_axis("mask_source")
            .rename("patients")
            .reset_index()
        )
        section.add(ResultTable(counts, title=f"Mask source of the {label}"))
    return section
