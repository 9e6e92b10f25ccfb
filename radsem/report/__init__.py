"""Reports: one table object, path diagrams, plots, and SEM / comparison reports written as
self-contained HTML, Markdown or LaTeX. matplotlib is imported only when a figure is drawn."""

from radsem.report.comparison import comparison_report
from radsem.report.document import Figure, Report, Section, Text, figure_from_matplotlib
from radsem.report.path_diagram import diagram_layout, path_diagram
from radsem.report.plots import (
    calibration_plot,
    cluster_heatmap,
    decision_curve_plot,
    feature_ranking_plot,
    forest_plot,
    kaplan_meier_plot,
    numbers_at_risk,
)
from radsem.report.provenance import Provenance, sha256_file
from radsem.report.segmentation import segmentation_section
from radsem.report.sem_report import fit_measures_table, missing_patterns, sem_report
from radsem.report.table import ResultTable, format_pvalue

__all__ = [
    "ResultTable",
    "format_pvalue",
    "Report",
    "Section",
    "Text",
    "Figure",
    "figure_from_matplotlib",
    "Provenance",
    "sha256_file",
    "path_diagram",
    "diagram_layout",
    "kaplan_meier_plot",
    "numbers_at_risk",
    "forest_plot",
    "calibration_plot",
    "feature_ranking_plot",
    "cluster_heatmap",
    "decision_curve_plot",
    "sem_report",
    "segmentation_section",
    "fit_measures_table",
    "missing_patterns",
    "comparison_report",
]
