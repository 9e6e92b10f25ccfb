"""The comparison report of outcome models, assembled from tidy DataFrames (so that any
harness producing these tables can feed it)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from radsem.errors import DataError
from radsem.report.document import Report, Text
from radsem.report.provenance import Provenance
from radsem.report.table import ResultTable, format_pvalue

__all__ = ["comparison_report"]


def _label_column(frame: pd.DataFrame) -> str | None:
    for c in ("comparison", "label", "model", "term", "covariate"):
        if c in frame.columns:
            return c
    return None


def _forest_or_note(frame: pd.DataFrame, **options):
    """A forest plot, or a sentence saying why none can be drawn (all values missing or
    infinite), so one unusable table does not stop the whole report."""
    try:
        from radsem.report import plots

        return plots.forest_plot(frame, **options)
    except DataError as exc:
        if "no row has a finite" not in str(exc):
            raise
        return Text("No forest plot: no row has a finite estimate and confidence interval.")


def comparison_report(metrics: pd.DataFrame | None = None,
                      differences: pd.DataFrame | None = None,
                      hazard_ratios: Mapping[str, pd.DataFrame] | pd.DataFrame | None = None,
                      km: Mapping[str, object] | None = None,
                      logrank: Mapping[str, object] | None = None,
                      calibration: pd.DataFrame | None = None,
                      feature_ranking=None, cluster_features: pd.DataFrame | None = None,
                      clusters=None, title: str = "Outcome model comparison",
                      provenance: Provenance | Mapping | None = None,
                      notes=()) -> Report:
    """Build a comparison report from tables; sections appear for the inputs given.

    Parameters
    ----------
    metrics : DataFrame, optional
        Cross-validated metrics with confidence intervals, e.g. columns ``model, metric,
        estimate, ci_lower, ci_upper``.
    differences : DataFrame, optional
        Differences of a metric between models: ``estimate, ci_lower, ci_upper`` and a label
        column (``comparison``/``label``/``model``, else the index); drawn as a forest plot
        around 0.
    hazard_ratios : DataFrame or mapping title -> DataFrame, optional
        ``hr, ci_lower, ci_upper`` per covariate (index or ``term`` column), e.g.
        :meth:`radsem.survival.CoxResult.hazard_ratios`; a table and a log-scale forest plot.
    km : mapping title -> KM table, optional
        Tidy Kaplan-Meier tables (``radsem.survival.kaplan_meier(...).table``) for curves by
        group (radiomic cluster, SEM-score tertile, ...) with numbers at risk.
    logrank : mapping title -> result or str, optional
        Log-rank test per KM title, printed under the curve (``str()`` of the result).
    calibration : DataFrame, optional
        ``predicted, observed`` per risk bin (+ ``ci_lower, ci_upper``, ``model``).
    feature_ranking : Series or DataFrame, optional
        FR values of the Halle feature ranking.
    cluster_features, clusters : DataFrame and labels, optional
        Feature matrix and cluster labels for the heatmap.
    title : str
    provenance : Provenance or mapping of its keyword arguments, optional
    notes : sequence of str
        Paragraphs shown first.

    Returns
    -------
    Report
    """
    from radsem.report import plots

    if isinstance(provenance, Mapping):
        provenance = Provenance(**provenance)
    report = Report(title, provenance=provenance)
    if isinstance(notes, str):
        notes = [notes]
    if notes:
        report.add_section("Overview", *[Text(n) for n in notes])
    if metrics is not None:
        report.add_section("Cross-validated metrics", ResultTable(
            metrics, title="Metrics with confidence intervals"))
    if differences is not None:
        lab = _label_column(differences)
        report.add_section("Differences between models", ResultTable(
            differences, title="Metric differences"), _forest_or_note(
                differences, estimate="estimate", label=lab, log=False,
                xlabel="Difference", caption="Differences between models with confidence "
                "intervals; dashed line at 0 (no difference)."))
    if hazard_ratios is not None:
        hrs = hazard_ratios if isinstance(hazard_ratios, Mapping) else {
            "Cox model": hazard_ratios}
        sec = report.add_section("Hazard ratios")
        for name, frame in hrs.items():
            sec.add(ResultTable(frame, title=f"Hazard ratios: {name}"),
                    _forest_or_note(frame, estimate="hr", label=_label_column(frame),
                                      xlabel="Hazard ratio (log scale)",
                                      caption=f"Hazard ratios with 95% CIs: {name}."))
    for name, table in (km or {}).items():
        sec = report.add_section(f"Kaplan-Meier: {name}", plots.kaplan_meier_plot(
            table, title=None, caption=f"Kaplan-Meier curves {name} with 95% pointwise "
            "confidence bands; numbers at risk under the plot."))
        if logrank and name in logrank:
            sec.add(*_logrank_blocks(logrank[name]))
    if calibration is not None:
        grp = "model" if "model" in calibration.columns else None
        lo = "ci_lower" if {"ci_lower", "ci_upper"} <= set(calibration.columns) else None
        report.add_section("Calibration", plots.calibration_plot(
            calibration, lower=lo, upper="ci_upper" if lo else None, group=grp),
            ResultTable(calibration, title="Calibration by risk group"))
    if feature_ranking is not None:
        report.add_section("Feature ranking (FR)", plots.feature_ranking_plot(feature_ranking))
    if cluster_features is not None:
        if clusters is None:
            raise DataError("cluster_features given without clusters")
        report.add_section("Cluster heatmap", plots.cluster_heatmap(cluster_features, clusters))
    if not report.sections:
        raise DataError("comparison_report: no input given (metrics, km, ...)")
    return report


def _logrank_blocks(result) -> list:
    """A log-rank result as a sentence and its observed/expected table (plain text otherwise)."""
    if not all(hasattr(result, k) for k in ("statistic", "df", "pvalue")):
        return [Text(f"Log-rank test: {result}")]
    blocks = [Text(f"Log-rank test: chi-square {float(result.statistic):.2f} on "
                   f"{int(result.df)} df, p {_p_phrase(float(result.pvalue))}.")]
    table = getattr(result, "table", None)
    if isinstance(table, pd.DataFrame) and not table.empty:
        blocks.append(ResultTable(table, title="Observed and expected events by group"))
    return blocks


def _p_phrase(p: float) -> str:
    text = format_pvalue(p)
    return text if text.startswith(("<", ">")) else f"= {text}"
