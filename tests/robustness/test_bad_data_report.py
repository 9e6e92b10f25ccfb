"""radsem.report with empty tables, NaN/infinite values, hostile text and bad targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radsem.errors import DataError
from radsem.io import atomic_write_bytes
from radsem.report import (
    Report,
    ResultTable,
    comparison_report,
    fit_measures_table,
    forest_plot,
    format_pvalue,
)

pytest.importorskip("matplotlib")


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame(),
        pd.DataFrame({"est": [np.nan, 1.0], "pvalue": [np.nan, 0.5], "ci_lower": [np.nan, np.inf]}),
        pd.DataFrame(
            {
                "x": pd.array([1, None], dtype="Int64"),
                "pvalue": pd.array([0.1, None], dtype="Float64"),
            }
        ),
    ],
)
def test_tables_render_in_every_format(frame):
    before = frame.copy()
    table = ResultTable(frame)
    for text in (table.to_html(), table.to_markdown(), table.to_latex(), table.to_text()):
        assert isinstance(text, str)
        assert "nan" not in text.lower()  # missing cells are blank
    pd.testing.assert_frame_equal(frame, before)


def test_huge_numbers_and_html_in_markdown():
    md = ResultTable(
        pd.DataFrame({"a<b>": ["<script>x</script>", "<0.001"], "v": [1e300, -2.5]})
    ).to_markdown()
    assert "1.000e+300" in md
    assert "<script>" not in md
    assert "&lt;script>" in md
    assert "| <0.001 |" in md  # a p-value text is not a tag


@pytest.mark.parametrize("digits", [-1, "a", 2.5, {"est": -3}])
def test_bad_digits(digits):
    with pytest.raises(DataError, match="digits"):
        ResultTable(pd.DataFrame({"est": [1.0]}), digits=digits)


def test_format_pvalue_odd_values():
    assert format_pvalue(np.nan) == ""
    assert format_pvalue(pd.NA) == ""
    assert format_pvalue("<0.001") == "<0.001"
    assert format_pvalue(1.5) == "1.000"


def test_forest_plot_skips_non_finite_rows_and_says_so():
    hr = pd.DataFrame(
        {
            "hr": [np.inf, 1.2, np.nan],
            "ci_lower": [0.0, 0.5, np.nan],
            "ci_upper": [np.inf, 2.0, np.nan],
        },
        index=["separated", "age", "gone"],
    )
    fig = forest_plot(hr)
    assert "separated, gone" in fig.caption
    assert fig.data["labels"] == ["age"]
    with pytest.raises(DataError, match="no row has a finite"):
        forest_plot(hr.iloc[[0, 2]])


def test_comparison_report_survives_an_all_nan_table():
    diff = pd.DataFrame(
        {"comparison": ["a - b"], "estimate": [np.nan], "ci_lower": [np.nan], "ci_upper": [np.nan]}
    )
    html = comparison_report(differences=diff).to_html()
    assert "No forest plot" in html


def test_fit_measures_table_with_missing_values():
    table = fit_measures_table(pd.Series({"chisq": np.nan, "cfi": np.inf, "rmsea": None}))
    assert isinstance(table.to_markdown(), str)


def test_writing_reports_to_bad_places(tmp_path):
    report = Report("t")
    with pytest.raises(DataError, match="is a folder"):
        report.to_html(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        report.to_html(tmp_path / "missing" / "r.html")
    with pytest.raises(DataError, match="is a folder"):
        atomic_write_bytes(b"x", tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind


@pytest.mark.parametrize("times", [[np.nan], [-1.0, 2.0], ["soon"]])
def test_numbers_at_risk_bad_times(times):
    from radsem.report import numbers_at_risk
    from radsem.survival import kaplan_meier

    d = pd.DataFrame({"t": [1.0, 2, 3, 4], "e": [1, 0, 1, 1], "g": ["a", "a", "b", "b"]})
    with pytest.raises(DataError, match="times must be"):
        numbers_at_risk(kaplan_meier(d, "t", "e", "g"), times)
