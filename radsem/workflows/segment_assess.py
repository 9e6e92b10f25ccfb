"""``radsem segment evaluate`` in Python: predicted masks against the reference masks (with the
threshold baseline), the radiomic features they give, and the downstream results they change."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from radsem.errors import DataError

__all__ = ["SegmentationAssessment", "assess_predictions"]


@dataclass
class SegmentationAssessment:
    """Everything ``radsem segment evaluate`` reports.

    Attributes
    ----------
    per_patient, summary : DataFrame
        :func:`~radsem.segment.evaluate.evaluate_segmentation` and
        :func:`~radsem.segment.evaluate.summarise_evaluation`.
    feature_icc : DataFrame or None
        ICC(3,1) per radiomic feature (with ``radiomics=True``).
    downstream : DownstreamChange or None
        Cox and SEM results refitted on each mask source (with ``downstream=True``).
    features : dict
        ``reference`` / ``predicted`` feature tables (when extracted).
    """

    per_patient: pd.DataFrame
    summary: pd.DataFrame
    feature_icc: pd.DataFrame | None = None
    downstream: Any = None
    features: dict = field(default_factory=dict, repr=False)

    def report(self, title: str = "Segmentation evaluation", provenance: Any = None):
        """A :class:`radsem.report.Report`: the segmentation section (per-patient Dice, HD95,
        volumes), the feature agreement and the downstream Cox / SEM changes."""
        from radsem.report import Report, ResultTable, Text, segmentation_section

        report = Report(title, provenance=provenance)
        report.sections.append(
            segmentation_section(per_patient=self.per_patient, summary=self.summary)
        )
        if self.feature_icc is not None and len(self.feature_icc):
            icc = self.feature_icc["icc"]
            report.add_section(
                "Radiomic feature agreement",
                Text(
                    f"ICC(3,1) between the features from predicted and from reference masks: "
                    f"median {icc.median():.3f}; >= 0.75 for {float((icc >= 0.75).mean()):.0%} "
                    f"of {len(icc)} features."
                ),
                ResultTable(
                    self.feature_icc.sort_values("icc").head(25).reset_index(),
                    title="The 25 least agreeing features",
                ),
            )
        if self.downstream is not None:
            d = self.downstream
            sec = report.add_section(
                "Downstream results: reference vs predicted masks",
                Text(
                    f"Refitted on the {len(d.patients)} patients with features from both masks. "
                    "Cox models of recurrence, one term each, hazard ratio per SD; the radiomic "
                    "score is the first principal component of the imaging indicators with the "
                    "reference loadings. Differences are predicted - reference."
                ),
                ResultTable(d.cox, title="Cox models", index=False),
            )
            if d.sem is not None:
                sec.add(
                    ResultTable(d.sem, title="SEM standardized estimates (std.all)", index=False),
                    ResultTable(d.fit_measures, title="SEM fit measures"),
                )
            for text in d.warnings:
                sec.add(Text(text, "warning"))
        return report

    def write(self, out: str | os.PathLike) -> list[Path]:
        """Write the tables as CSV files and ``report.html`` into the folder ``out``
        (created); returns them."""
        from radsem.io import write_table

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        tables = {
            "per_patient.csv": self.per_patient,
            "summary.csv": self.summary.reset_index(),
        }
        if self.feature_icc is not None:
            tables["feature_icc.csv"] = self.feature_icc.reset_index()
        if self.downstream is not None:
            tables["downstream_cox.csv"] = self.downstream.cox
            if self.downstream.sem is not None:
                tables["downstream_sem.csv"] = self.downstream.sem
                tables["downstream_fit_measures.csv"] = self.downstream.fit_measures.reset_index()
        written = []
        for name, frame in tables.items():
            write_table(frame, out / name)
            written.append(out / name)
        self.report().to_html(out / "report.html")
        written.append(out / "report.html")
        return written


def assess_predictions(
    cohort: Any,
    predicted: str | os.PathLike,
    *,
    model: str | os.PathLike | None = None,
    radiomics: bool = False,
    downstream: bool = False,
    n_jobs: int = 1,
    client: Any = None,
    settings: Any = None,
) -> SegmentationAssessment:
    """Evaluate the output folder of ``radsem segment predict`` against the reference masks.

    Parameters
    ----------
    cohort : cohort folder or Cohort
        With reference masks (and, for ``downstream``, ``clinical`` time/event and
        ``expression``).
    predicted : path
        Output folder of :func:`radsem.segment.predict_masks`.
    model : path, optional
        Model folder: its training patients are marked ``training`` (others ``held-out``) and
        the baseline is tuned on them.
    radiomics : bool
        Also the ICC(3,1) of every radiomic feature, predicted vs reference mask.
    downstream : bool
        Also refit the downstream Cox models and the radiogenomic SEM on each mask source
        (:func:`radsem.segment.downstream.downstream_change`; implies ``radiomics``).
    n_jobs, client
        Workers of the radiomic extraction (local processes, or a Dask client / address).
    settings : optional
        Extraction settings (:func:`radsem.radiomics.resolve_settings`); default radsem's.

    Returns
    -------
    SegmentationAssessment
    """
    from radsem.segment import ThresholdSegmenter, predict_masks
    from radsem.segment.cohort import load_predictions
    from radsem.segment.evaluate import (
        evaluate_segmentation,
        feature_agreement,
        summarise_evaluation,
    )

    if isinstance(cohort, (str, os.PathLike)):
        from radsem.io import read_cohort

        cohort = read_cohort(cohort)
    training: list[str] = []
    if model is not None:
        from radsem.segment.model_io import load_model

        _, meta = load_model(model)
        training = list(meta.get("training", {}).get("patients", []))
    result = load_predictions(cohort, predicted)
    patients = [p for p, c in result.cases.items() if c.mask is not None]
    if not patients:
        raise DataError("no segmented patient has a reference mask: nothing to evaluate")
    base = ThresholdSegmenter().fit(cohort, patients=training or None)
    baseline = predict_masks(base, cohort, patients=patients)
    per_patient = evaluate_segmentation([result, baseline], training)
    method = str(result.table["method"].iloc[0])
    summary = summarise_evaluation(per_patient, model=method, baseline="threshold")
    out = SegmentationAssessment(per_patient=per_patient, summary=summary)
    if not (radiomics or downstream):
        return out
    from radsem.radiomics import extract_cohort
    from radsem.segment.volumes import cohort_images

    images = cohort_images(cohort).set_index("patient_id").loc[patients]
    kw = dict(settings=settings, n_jobs=n_jobs, client=client, progress=False)
    ref = extract_cohort(images.reset_index(), **kw)
    have = [p for p in patients if p in result.masks]
    pred_images = images.loc[have].copy()
    pred_images["mask"] = [str((Path(predicted) / p / "mask.nii.gz").resolve()) for p in have]
    pred = extract_cohort(pred_images.reset_index(), **kw)
    out.features = {"reference": ref.features, "predicted": pred.features}
    out.feature_icc = feature_agreement(ref.features, pred.features)
    if downstream:
        from radsem.segment.downstream import downstream_change
        from radsem.workflows.study_table import sem_table

        outcome = cohort.clinical.set_index("patient_id")[["time", "event"]]
        sem_data = None
        if getattr(cohort, "expression", None) is not None and len(cohort.expression):
            sem_data = sem_table(cohort).drop(columns="age")
        out.downstream = downstream_change(ref.features, pred.features, outcome, sem_data=sem_data)
    return out
