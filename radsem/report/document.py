"""The :class:`Report` object: titled sections of text, tables and figures, written as one
self-contained HTML file, Markdown (figures beside it) or LaTeX."""

from __future__ import annotations

import base64
import html
import io
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from radsem.errors import DataError
from radsem.report.provenance import Provenance
from radsem.report.table import ResultTable, latex_escape

__all__ = ["Report", "Section", "Figure", "Text", "figure_from_matplotlib"]


@dataclass(frozen=True)
class Text:
    """A paragraph; ``kind`` is ``"p"`` (plain), ``"note"``, ``"warning"`` (highlighted) or
    ``"code"`` (preformatted, e.g. model syntax)."""

    text: str
    kind: str = "p"


@dataclass(frozen=True)
class Figure:
    """A rendered figure.

    Attributes
    ----------
    svg : bytes
        The figure as SVG (used by HTML and Markdown).
    png : bytes
        The figure as PNG (used by LaTeX).
    caption : str
    alt : str
        Text alternative (what the figure shows).
    data : dict
        The coordinates that were drawn, taken from the plot's artists (for checks).
    """

    svg: bytes
    png: bytes
    caption: str = ""
    alt: str = ""
    data: dict = field(default_factory=dict, repr=False, compare=False)

    def _repr_svg_(self) -> str:
        return self.svg.decode("utf-8")


def figure_from_matplotlib(fig, caption: str = "", alt: str = "", data: dict | None = None,
                           dpi: int = 110) -> Figure:
    """Render a matplotlib figure to SVG (text kept as text) and PNG, then close it."""
    import matplotlib.pyplot as plt
    from matplotlib import rc_context

    try:
        with rc_context({"svg.fonttype": "none", "svg.hashsalt": "radsem"}):
            buf = io.BytesIO()
            fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
            svg = buf.getvalue()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight",
                    metadata={"Software": None})
        png = buf.getvalue()
    finally:
        plt.close(fig)
    return Figure(svg=svg, png=png, caption=caption, alt=alt or caption, data=data or {})


Block = Text | ResultTable | Figure


@dataclass
class Section:
    """A titled part of a report holding text, tables and figures in order."""

    title: str
    blocks: list = field(default_factory=list)
    level: int = 2

    def add(self, *blocks: Block | str) -> Section:
        """Append blocks (a plain string becomes a paragraph); returns the section."""
        for b in blocks:
            if isinstance(b, str):
                b = Text(b)
            if not isinstance(b, Text | ResultTable | Figure):
                raise DataError(f"a report section holds Text, ResultTable or Figure, "
                                f"not {type(b).__name__}")
            self.blocks.append(b)
        return self


_CSS = """
:root { --fg:#1b1b1b; --muted:#555; --rule:#bbb; --accent:#1f5fa8; --warn:#8a4b00; }
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg); max-width: 1100px; margin: 2em auto; padding: 0 1.5em; line-height: 1.45; }
h1 { font-size: 1.7em; border-bottom: 2px solid var(--accent); padding-bottom: .2em; }
h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.1em; margin-top: 1.5em; }
nav.toc { background: #f5f7fa; padding: .5em 1em; border: 1px solid #dde3ea; }
nav.toc ul { margin: .2em 0; padding-left: 1.2em; }
nav.toc ul ul { font-size: .92em; columns: 2; }
table.radsem-table { border-collapse: collapse; margin: 1em 0; font-size: .88em;
  font-variant-numeric: tabular-nums; }
table.radsem-table caption { text-align: left; padding-bottom: .4em; }
table.radsem-table caption .caption { color: var(--muted); }
table.radsem-table thead th { border-top: 2px solid #333; border-bottom: 1px solid #333; }
table.radsem-table tbody tr:last-child td, table.radsem-table tbody tr:last-child th {
  border-bottom: 2px solid #333; }
table.radsem-table th, table.radsem-table td { padding: .2em .7em; text-align: left; }
table.radsem-table .num { text-align: right; }
table.radsem-table tbody th { font-weight: normal; }
table.radsem-table tfoot td { font-size: .9em; color: var(--muted); border: none; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: .9em; }
p.note { color: var(--muted); }
p.warning { color: var(--warn); background: #fff6e5; border-left: 4px solid #e0a030;
  padding: .3em .7em; }
.scroll { overflow-x: auto; }
pre { background: #f6f8fa; border: 1px solid #e1e4e8; padding: .6em; overflow-x: auto; }
@media print {
  body { max-width: none; margin: 0; font-size: 10pt; }
  nav.toc { display: none; }
  h2 { page-break-before: auto; page-break-after: avoid; }
  table.radsem-table, figure { page-break-inside: avoid; }
  .scroll { overflow: visible; }
}
"""


def _slug(text: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    slug, k = base, 2
    while slug in used:
        slug, k = f"{base}-{k}", k + 1
    used.add(slug)
    return slug


class Report:
    """A report: a title, sections, and a provenance block added to every output.

    Parameters
    ----------
    title : str
    sections : sequence of Section
    provenance : Provenance, optional
        Created with defaults (versions, date) when not given.
    """

    def __init__(self, title: str, sections: Iterable[Section] = (),
                 provenance: Provenance | None = None) -> None:
        self.title = str(title)
        self.sections = list(sections)
        self.provenance = provenance if provenance is not None else Provenance()

    def add_section(self, title: str, *blocks: Block | str, level: int = 2) -> Section:
        """Append a new section with the given blocks and return it."""
        section = Section(title, level=level).add(*blocks)
        self.sections.append(section)
        return section

    def _all_sections(self) -> list[Section]:
        prov = Section("Provenance").add(
            Text("How this report was made, so that it can be reproduced. Input files are "
                 "identified by name and SHA-256 hash only.", "note"),
            self.provenance.table())
        return [*self.sections, prov]

    def figures(self) -> list[Figure]:
        """Every figure in order."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, Figure)]

    # ---------------------------------------------------------------- HTML
    def to_html(self, path: str | os.PathLike | None = None) -> str:
        """One self-contained HTML page (inline CSS, images as data URIs, no external
        resources); written atomically to ``path`` when given. Returns the HTML."""
        esc = html.escape
        used: set[str] = set()
        sections = self._all_sections()
        ids = [_slug(s.title, used) for s in sections]
        body = [f"<h1>{esc(self.title)}</h1>", '<nav class="toc"><strong>Contents</strong><ul>']
        depth = 2
        for k, (s, i) in enumerate(zip(sections, ids, strict=True)):
            lvl = 3 if s.level >= 3 else 2
            if lvl > depth and k:
                body[-1] = body[-1].removesuffix("</li>") + "<ul>"
            elif lvl < depth:
                body.append("</ul></li>")
            depth = lvl
            body.append(f'<li><a href="#{i}">{esc(s.title)}</a></li>')
        if depth == 3:
            body.append("</ul></li>")
        body.append("</ul></nav>")
        nfig = 0
        for sec, sid in zip(sections, ids, strict=True):
            lvl = min(max(sec.level, 2), 4)
            body.append(f'<section id="{sid}"><h{lvl}>{esc(sec.title)}</h{lvl}>')
            for b in sec.blocks:
                if isinstance(b, Text) and b.kind == "code":
                    body.append(f"<pre><code>{esc(b.text)}</code></pre>")
                elif isinstance(b, Text):
                    body.append(f'<p class="{esc(b.kind)}">{esc(b.text)}</p>')
                elif isinstance(b, ResultTable):
                    body.append(f'<div class="scroll">{b.to_html()}</div>')
                else:
                    nfig += 1
                    uri = "data:image/svg+xml;base64," + base64.b64encode(b.svg).decode()
                    body.append(f'<figure id="figure-{nfig}"><img src="{uri}" alt="{esc(b.alt)}">'
                                f"<figcaption>Figure {nfig}. {esc(b.caption)}</figcaption>"
                                "</figure>")
            body.append("</section>")
        page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                "<meta name=\"generator\" content=\"radsem\">"
                f"<title>{esc(self.title)}</title><style>{_CSS}</style></head>\n<body>\n"
                + "\n".join(body) + "\n</body></html>\n")
        if path is not None:
            _write(path, page.encode("utf-8"))
        return page

    def _repr_html_(self) -> str:
        return self.to_html()

    # ---------------------------------------------------------------- Markdown
    def to_markdown(self, path: str | os.PathLike | None = None) -> str:
        """Markdown text; with ``path``, figures are written as SVG files in the folder
        ``<stem>_files`` beside it and linked relatively. Returns the Markdown."""
        folder = None
        if path is not None:
            path = Path(path)
            folder = path.parent / f"{path.stem}_files"
        out = [f"# {self.title}", ""]
        nfig = 0
        for sec in self._all_sections():
            out += [f"{'#' * min(max(sec.level, 2), 6)} {sec.title}", ""]
            for b in sec.blocks:
                if isinstance(b, Text) and b.kind == "code":
                    out += ["```", b.text.rstrip("\n"), "```", ""]
                elif isinstance(b, Text):
                    text = b.text if b.kind == "p" else (
                        f"> **Warning:** {b.text}" if b.kind == "warning" else f"*{b.text}*")
                    out += [text, ""]
                elif isinstance(b, ResultTable):
                    out += [b.to_markdown(), ""]
                else:
                    nfig += 1
                    name = f"figure-{nfig}.svg"
                    if folder is not None:
                        folder.mkdir(exist_ok=True)
                        _write(folder / name, b.svg)
                    out += [f"![{_md_alt(b.alt)}]({folder.name if folder else '.'}/{name})", "",
                            f"*Figure {nfig}. {b.caption}*", ""]
        text = "\n".join(out).rstrip() + "\n"
        if path is not None:
            _write(path, text.encode("utf-8"))
        return text

    # ---------------------------------------------------------------- LaTeX
    def to_latex(self, path: str | os.PathLike | None = None) -> str:
        """A standalone LaTeX document (booktabs, graphicx); with ``path``, figures are written
        as PNG files in ``<stem>_files`` beside it. Returns the LaTeX source."""
        folder = None
        if path is not None:
            path = Path(path)
            folder = path.parent / f"{path.stem}_files"
        out = [r"\documentclass[11pt]{article}", r"\usepackage[T1]{fontenc}",
               r"\usepackage[utf8]{inputenc}", r"\usepackage{booktabs}",
               r"\usepackage{graphicx}", r"\usepackage[margin=2cm]{geometry}",
               r"\title{" + latex_escape(self.title) + "}", r"\date{" + latex_escape(
                   self.provenance.date) + "}", r"\begin{document}", r"\maketitle"]
        nfig = 0
        for sec in self._all_sections():
            cmd = {2: "section", 3: "subsection"}.get(sec.level, "subsubsection")
            out.append(f"\\{cmd}*{{{latex_escape(sec.title)}}}")
            for b in sec.blocks:
                if isinstance(b, Text) and b.kind == "code":
                    out += [r"\begin{verbatim}", b.text.rstrip("\n"), r"\end{verbatim}"]
                elif isinstance(b, Text):
                    text = latex_escape(b.text)
                    out += [r"\textbf{Warning:} " + text if b.kind == "warning" else text, ""]
                elif isinstance(b, ResultTable):
                    out.append(b.to_latex())
                else:
                    nfig += 1
                    name = f"figure-{nfig}.png"
                    if folder is not None:
                        folder.mkdir(exist_ok=True)
                        _write(folder / name, b.png)
                    rel = f"{folder.name}/{name}" if folder else name
                    out += [r"\begin{figure}[htbp]", r"\centering",
                            r"\includegraphics[width=\linewidth,height=0.8\textheight,"
                            r"keepaspectratio]{" + rel + "}",
                            r"\caption{" + latex_escape(b.caption) + "}", r"\end{figure}"]
        out.append(r"\end{document}")
        text = "\n".join(out) + "\n"
        if path is not None:
            _write(path, text.encode("utf-8"))
        return text

    def __repr__(self) -> str:
        return f"<Report {self.title!r}: {len(self.sections)} sections>"


def _md_alt(text: str) -> str:
    return text.replace("[", "(").replace("]", ")").replace("\n", " ")


def _write(path: str | os.PathLike, data: bytes) -> None:
    from radsem.io.tables import atomic_write_bytes

    path = Path(path)
    if not path.parent.is_dir():
        raise DataError(f"{path}: the folder {path.parent} does not exist")
    atomic_write_bytes(data, path)
