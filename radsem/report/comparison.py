"""The comparison report of outcome models, assembled from tidy DataFrames (so that any
harness producing these tables can feed it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from radsem.errors import DataError
from radsem.report.document import Report, Section, Text
from radsem.report.provenance import Provenance
from radsem.report.table import ResultTable, format_pvalue

__all__ = ["comparison_report", "holm"]


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


def holm(pvalues) -> np.ndarray:
    """Holm's (1979) step-down adjusted p-values (NaN kept as NaN)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    if not m:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adjusted
    return out


def _differences_section(report: Report, differences: pd.DataFrame) -> None:
    lab = _label_column(differences)
    table = differences.copy()
    notes = []
    if "pvalue" in table.columns:
        k = int(np.isfinite(table["pvalue"].to_numpy(float)).sum())
        table["p (Holm)"] = holm(table["pvalue"])
        notes.append(
            f"Multiplicity: {k} comparisons. 'pvalue' is each comparison's own test; "
            f"'p (Holm)' is adjusted by Holm's step-down method over the {k} comparisons "
            "(family-wise error rate 5% at p (Holm) < 0.05). Confidence intervals are not "
            "adjusted."
        )
    else:
        notes.append(
            "No p-values were given for these differences; read the intervals, which "
            "are not adjusted for the number of comparisons."
        )
    table = table.rename(columns={"pvalue": "p"})
    report.add_section(
        "Differences between models",
        ResultTable(table, title="Metric differences", notes=notes),
        _forest_or_note(
            differences,
            estimate="estimate",
            label=lab,
            log=False,
            xlabel="Difference",
            caption="Differences between models with confidence "
            "intervals; dashed line at 0 (no difference).",
        ),
    )


def _hazard_ratio_section(report: Report, hazard_ratios) -> None:
    hrs = hazard_ratios if isinstance(hazard_ratios, Mapping) else {"Cox model": hazard_ratios}
    sec = report.add_section("Hazard ratios")
    for name, frame in hrs.items():
        counts = []
        n, events = frame.attrs.get("n"), frame.attrs.get("events")
        if n is not None and events is not None:
            counts.append(f"N = {int(n)} patients, {int(events)} events.")
        else:
            counts.append("N and number of events not recorded for this model.")
        per_sd = frame.attrs.get("per_sd")
        if per_sd:
            counts.append(
                "Hazard ratios of " + ", ".join(per_sd) + " are per standard "
                "deviation of the score."
            )
        title = f"Hazard ratios: {name}"
        if n is not None and events is not None:
            title += f" (N = {int(n)}, {int(events)} events)"
        sec.add(
            ResultTable(frame, title=title, notes=counts),
            _forest_or_note(
                frame,
                estimate="hr",
                label=_label_column(frame),
                xlabel="Hazard ratio (log scale)",
                caption=f"Hazard ratios with 95% CIs: {name}.",
            ),
        )


def comparison_report(
    metrics: pd.DataFrame | None = None,
    differences: pd.DataFrame | None = None,
    hazard_ratios: Mapping[str, pd.DataFrame] | pd.DataFrame | None = None,
    km: Mapping[str, object] | None = None,
    logrank: Mapping[str, object] | None = None,
    calibration: pd.DataFrame | None = None,
    feature_ranking=None,
    cluster_features: pd.DataFrame | None = None,
    clusters=None,
    title: str = "Outcome model comparison",
    provenance: Provenance | Mapping | None = None,
    notes=(),
    warnings=(),
    decision: pd.DataFrame | None = None,
    horizon: float | None = None,
    time_unit: str = "months",
    metric_notes=(),
    calibration_labels: tuple[str, str] | None = None,
    sections: Sequence[Section] = (),
) -> Report:
    """Build a comparison report from tables; sections appear for the inputs given.

    Parameters
    ----------
    metrics : DataFrame, optional
        Cross-validated metrics with confidence intervals, e.g. columns ``model, metric,
        estimate, ci_lower, ci_upper``.
    differences : DataFrame, optional
        Differences of a metric between models: ``estimate, ci_lower, ci_upper``, optional
        ``pvalue``, and a label column (``comparison``/``label``/``model``, else the index);
        drawn as a forest plot around 0. With p-values, Holm-adjusted p-values are added and
        the number of comparisons is stated.
    hazard_ratios : DataFrame or mapping title -> DataFrame, optional
        ``hr, ci_lower, ci_upper`` per covariate (index or ``term`` column), e.g.
        :meth:`radsem.survival.CoxResult.hazard_ratios`; a table and a log-scale forest plot.
        ``frame.attrs`` may carry ``n`` and ``events`` (shown with the table) and ``per_sd``
        (terms whose hazard ratio is per standard deviation).
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
    warnings : sequence of str
        Warnings of the analysis, collected in their own section at the end.
    decision : DataFrame, optional
        Decision-curve table (``threshold, net_benefit, treat_all`` and ``model``), plotted.
    horizon : float, optional
        Horizon of the calibration and decision curves, in ``time_unit``.
    time_unit : str
        Unit of follow-up times (axis labels, captions); default months; ``""`` when unknown
        ("time units").
    metric_notes : sequence of str
        Notes printed under the metrics table (e.g. why a family has no row for a metric).
    calibration_labels : (str, str), optional
        Axis labels of the calibration plot (what ``predicted`` and ``observed`` are, e.g.
        predicted and Kaplan-Meier recurrence-free survival); default "Predicted probability"
        and "Observed proportion", with the horizon.
    sections : sequence of Section
        Further sections placed after the results and before the warnings (e.g.
        :func:`radsem.report.segmentation_section`).

    Returns
    -------
    Report
    """
    from radsem.report import plots

    if isinstance(provenance, Mapping):
        provenance = Provenance(**provenance)
    report = Report(title, provenance=provenance)
    notes = [notes] if isinstance(notes, str) else list(notes)
    warnings = [warnings] if isinstance(warnings, str) else list(warnings)
    metric_notes = [metric_notes] if isinstance(metric_notes, str) else list(metric_notes)
    unit = time_unit.strip() or "time units"
    if notes:
        report.add_section("Overview", *[Text(n) for n in notes])
    if metrics is not None:
        report.add_section(
            "Cross-validated metrics",
            ResultTable(metrics, title="Metrics with confidence intervals", notes=metric_notes),
        )
    if differences is not None:
        _differences_section(report, differences)
    if hazard_ratios is not None:
        _hazard_ratio_section(report, hazard_ratios)
    for name, table in (km or {}).items():
        sec = report.add_section(
            f"Kaplan-Meier: {name}",
            plots.kaplan_meier_plot(
                table,
                title=None,
                xlabel=unit[:1].upper() + unit[1:],
                caption=f"Kaplan-Meier curves {name} with 95% pointwise confidence bands; time in "
                f"{unit}; numbers at risk under the plot.",
            ),
        )
        if logrank and name in logrank:
            sec.add(*_logrank_blocks(logrank[name]))
    when = f" at {horizon:g} {unit}" if horizon is not None else ""
    if calibration is not None:
        grp = "model" if "model" in calibration.columns else None
        lo = "ci_lower" if {"ci_lower", "ci_upper"} <= set(calibration.columns) else None
        xlab, ylab = calibration_labels or (
            f"Predicted probability{when}",
            f"Observed proportion{when}",
        )
        report.add_section(
            f"Calibration{when}",
            plots.calibration_plot(
                calibration,
                lower=lo,
                upper="ci_upper" if lo else None,
                group=grp,
                xlabel=xlab,
                ylabel=ylab,
            ),
            ResultTable(calibration, title=f"Calibration by risk group{when}"),
        )
    if decision is not None:
        grp = "model" if "model" in decision.columns else None
        report.add_section(
            f"Decision curves{when}",
            plots.decision_curve_plot(decision, group=grp, horizon=horizon, time_unit=unit),
        )
    if feature_ranking is not None:
        report.add_section("Feature ranking (FR)", plots.feature_ranking_plot(feature_ranking))
    if cluster_features is not None:
        if clusters is None:
            raise DataError("cluster_features given without clusters")
        report.add_section("Cluster heatmap", plots.cluster_heatmap(cluster_features, clusters))
    report.sections.extend(sections)
    if not report.sections:
        raise DataError("comparison_report: no input given (metrics, km, ...)")
    if warnings:
        report.add_section(
            "Warnings",
            Text(
                f"{len(warnings)} warning(s) raised during the analysis, collected here rather "
                "than among the results.",
                "note",
            ),
            *[Text(w, "warning") for w in warnings],
        )
    return report


def _logrank_blocks(result) -> list:
    """A log-rank result as a sentence and its observed/expected table (plain text otherwise)."""
    if not all(hasattr(result, k) for k in ("statistic", "df", "pvalue")):
        return [Text(f"Log-rank test: {result}")]
    blocks = [
        Text(
            f"Log-rank test: chi-square {float(result.statistic):.2f} on "
            f"{int(result.df)} df, p {_p_phrase(float(result.pvalue))}."
        )
    ]
    table = getattr(result, "table", None)
    if isinstance(table, pd.DataFrame) and not table.empty:
        blocks.append(ResultTable(table, title="Observed and expected events by group"))
    return blocks


def _p_phrase(p: float) -> str:
    text = format_pvalue(p)
    return text if text.startswith(("<", ">")) else f"= {text}"
