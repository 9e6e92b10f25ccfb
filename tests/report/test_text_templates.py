"""Markdown and LaTeX reports (and their tables) are rendered from the jinja2 templates in
radsem/report/templates, like the HTML report; exact output of each block kind."""

from __future__ import annotations

from importlib import resources

import pandas as pd

from radsem.report import Provenance, Report, ResultTable, Text, _templates


def _report() -> Report:
    rep = Report("T & 50%", provenance=Provenance(date="2026-01-01"))
    rep.add_section(
        "Results",
        Text("plain"),
        Text("careful", "warning"),
        Text("a note", "note"),
        Text("x =~ a\n", "code"),
        ResultTable(pd.DataFrame({"v": [1.5]}), title="Tab", notes=["n"]),
    )
    return rep


def test_templates_are_package_data():
    folder = resources.files("radsem.report").joinpath("templates")
    for name in ("report.html.j2", "report.md.j2", "report.tex.j2", "table.md.j2", "table.tex.j2"):
        assert folder.joinpath(name).is_file(), name


def test_markdown_blocks_exactly():
    md = _report().to_markdown()
    expected = (
        "# T & 50%\n\n## Results\n\nplain\n\n> **Warning:** careful\n\n*a note*\n\n"
        "```\nx =~ a\n```\n\n**Tab**\n\n| v |\n|---:|\n| 1.500 |\n\n*n*  \n\n\n## Provenance"
    )
    assert md.startswith(expected), md[: len(expected) + 40]
    assert md.endswith("\n")
    assert not md.endswith("\n\n")


def test_latex_blocks_exactly():
    tex = _report().to_latex()
    assert tex.startswith("\\documentclass[11pt]{article}\n")
    assert "\\title{T \\& 50\\%}\n\\date{2026-01-01}\n\\begin{document}\n\\maketitle\n" in tex
    expected = (
        "\\section*{Results}\nplain\n\n\\textbf{Warning:} careful\n\na note\n\n"
        "\\begin{verbatim}\nx =~ a\n\\end{verbatim}\n\\begin{table}[htbp]\n\\centering\n"
        "\\caption{Tab}\n\\begin{tabular}{r}\n\\toprule\nv \\\\\n\\midrule\n1.500 \\\\\n"
        "\\bottomrule\n\\end{tabular}\n\\par\\smallskip{\\footnotesize n}\n\\end{table}\n\n"
        "\\section*{Provenance}"
    )
    assert expected in tex
    assert tex.endswith("\\end{document}\n")


def test_text_templates_are_rendered(monkeypatch):
    """The text comes from the templates: a changed template changes the output."""
    used = []
    real = _templates.render

    def spy(name, **context):
        used.append(name)
        return real(name, **context)

    monkeypatch.setattr(_templates, "render", spy)
    _report().to_markdown()
    _report().to_latex()
    assert {"report.md.j2", "report.tex.j2", "table.md.j2", "table.tex.j2"} <= set(used)


def test_markdown_and_latex_are_not_html_escaped():
    rep = Report("a < b & c", provenance=Provenance(date="d"))
    rep.add_section("S", Text("x < y & z"))
    assert "# a < b & c" in rep.to_markdown()
    assert "x < y & z" in rep.to_markdown()
    assert "x \\textless{} y \\& z" in rep.to_latex()
    assert "&lt;" not in rep.to_latex()
