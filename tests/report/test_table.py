"""ResultTable: one content, four renderings; numbers rounded only on output."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from radsem.errors import DataError
from radsem.report import ResultTable, format_pvalue
from radsem.report.table import format_number, latex_escape


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.0, "<0.001"),
        (1e-12, "<0.001"),
        (0.000999, "<0.001"),
        (0.001, "0.001"),
        (0.0423, "0.042"),
        (0.5, "0.500"),
        (1.0, "1.000"),
        (float("nan"), ""),
        (None, ""),
    ],
)
def test_pvalue_like_r(p, text):
    assert format_pvalue(p) == text


def test_pvalue_digits_and_monotone(rng):
    assert format_pvalue(0.00004, digits=4) == "<0.0001"
    ps = np.sort(rng.uniform(0.001, 1, 200))
    shown = [float(format_pvalue(p)) for p in ps]
    assert all(a <= b for a, b in zip(shown, shown[1:], strict=False))
    assert all(abs(s - p) <= 0.0005 + 1e-12 for s, p in zip(shown, ps, strict=True))


def test_numbers_unrounded_until_rendered():
    frame = pd.DataFrame({"est": [0.123456789], "n": [12], "name": ["a"]})
    table = ResultTable(frame, digits={"est": 5})
    assert table.frame["est"].iloc[0] == 0.123456789
    assert table.formatted().iloc[0].tolist() == ["0.12346", "12", "a"]
    assert ResultTable(frame, digits=2).formatted()["est"].iloc[0] == "0.12"
    assert format_number(-1e-9) == "0.000"  # no negative zero
    assert format_number(True) == "yes"
    assert format_number(math.inf) == "Inf"
    frame.loc[0, "est"] = 5.0
    assert table.frame["est"].iloc[0] == 0.123456789  # the table holds a copy


def _hostile():
    return pd.DataFrame(
        {
            "lhs": ["<script>alert(1)</script>", "a_b & c|d"],
            "op": ["=~", "~~"],
            "est": [1.5, np.nan],
            "pvalue": [1e-9, 0.2],
        }
    )


def test_html_is_semantic_and_escaped():
    html = ResultTable(_hostile(), title="T <1>", caption="x & y", notes=["n<2"]).to_html()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    root = ET.fromstring(html.replace("<br>", "<br/>"))
    assert root.tag == "table"
    assert [c.tag for c in root] == ["caption", "thead", "tbody", "tfoot"]
    heads = root.findall("./thead/tr/th")
    assert [h.text for h in heads] == ["lhs", "op", "est", "pvalue"]
    assert all(h.get("scope") == "col" for h in heads)
    cells = [[td.text for td in tr] for tr in root.findall("./tbody/tr")]
    assert cells[0][3] == "<0.001"
    assert cells[1][2] is None


def test_markdown_escapes_pipes_and_aligns_numbers():
    md = ResultTable(_hostile(), title="T").to_markdown()
    lines = md.splitlines()
    assert lines[0] == "**T**"
    assert lines[3] == "|:---|:---|---:|---:|"
    assert "a_b & c\\|d" in md
    assert all(line.count("|") - line.count("\\|") == 5 for line in lines[2:])


def test_latex_booktabs_and_escaping():
    tex = ResultTable(_hostile(), title="50% & more").to_latex()
    assert r"\toprule" in tex
    assert r"\midrule" in tex
    assert r"\bottomrule" in tex
    assert r"\caption{50\% \& more}" in tex
    assert r"a\_b \& c|d" in tex
    assert r"\textless{}0.001" in tex
    assert r"\begin{tabular}{llrr}" in tex
    assert latex_escape("~^\\") == r"\textasciitilde{}\textasciicircum{}\textbackslash{}"


def test_text_is_fixed_width():
    text = ResultTable(_hostile(), title="Estimates").to_text()
    lines = text.splitlines()
    assert lines[0] == "Estimates"
    header, rule = lines[2], lines[3]
    assert header.split() == ["lhs", "op", "est", "pvalue"]
    assert len(rule) >= len(header)
    assert lines[4].rstrip().endswith("<0.001")
    assert lines[5].rstrip().endswith("0.200")


def test_index_shown_when_meaningful():
    frame = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.Index(["m1", "m2"], name="model"))
    assert ResultTable(frame).formatted().columns.tolist() == ["model", "x"]
    assert ResultTable(frame.reset_index(drop=True)).formatted().columns.tolist() == ["x"]


def test_bad_inputs():
    with pytest.raises(DataError, match="needs a pandas DataFrame"):
        ResultTable([[1, 2]])
    with pytest.raises(DataError, match="pvalue_columns not in the table"):
        ResultTable(pd.DataFrame({"a": [1]}), pvalue_columns=["p"])
