"""The :class:`Report` object: titled sections of text, tables and figures, written as one
self-contained HTML file, Markdown (figures beside it) or LaTeX."""

from __future__ import annotations

import base64
import io
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from radsem.errors import DataError
from radsem.report.provenance import Provenance
from radsem.report.table import ResultTable

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


def figure_from_matplotlib(
    fig, caption: str = "", alt: str = "", data: dict | None = None, dpi: int = 110
) -> Figure:
    """Render a matplotlib figure to SVG (text kept as text) and PNG, then close it."""
    import matplotlib.pyplot as plt
    from matplotlib import rc_context

    try:
        with rc_context({"svg.fonttype": "none", "svg.hashsalt": "radsem"}):
            buf = io.BytesIO()
            fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
            svg = buf.getvalue()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
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
                raise DataError(
                    f"a report section holds Text, ResultTable or Figure, not {type(b).__name__}"
                )
            self.blocks.append(b)
        return self


#: rows above which a table scrolls inside a box instead of stretching the page
TALL_TABLE_ROWS = 25


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

    def __init__(
        self, title: str, sections: Iterable[Section] = (), provenance: Provenance | None = None
    ) -> None:
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
            Text(
                "How this report was made, so that it can be reproduced. Input files are "
                "identified by name and SHA-256 hash only.",
                "note",
            ),
            self.provenance.table(),
        )
        return [*self.sections, prov]

    def figures(self) -> list[Figure]:
        """Every figure in order."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, Figure)]

    # ---------------------------------------------------------------- HTML
    def to_html(self, path: str | os.PathLike | None = None) -> str:
        """One self-contained HTML page (inline CSS, images as data URIs, no external
        resources), rendered from the template ``radsem/report/templates/report.html.j2``;
        written atomically to ``path`` when given. Returns the HTML."""
        from markupsafe import Markup

        from radsem.report._templates import read_asset, render

        used: set[str] = set()
        sections = self._all_sections()
        ids = [_slug(s.title, used) for s in sections]
        toc: list[dict] = []
        for s, i in zip(sections, ids, strict=True):
            entry = {"id": i, "title": s.title, "children": []}
            if s.level >= 3 and toc:
                toc[-1]["children"].append(entry)
            else:
                toc.append(entry)
        nfig = 0
        rendered = []
        for sec, sid in zip(sections, ids, strict=True):
            blocks = []
            for b in sec.blocks:
                if isinstance(b, Text) and b.kind == "code":
                    blocks.append({"kind": "code", "text": b.text})
                elif isinstance(b, Text):
                    blocks.append({"kind": "text", "style": b.kind, "text": b.text})
                elif isinstance(b, ResultTable):
                    tall = len(b.frame) > TALL_TABLE_ROWS
                    blocks.append(
                        {
                            "kind": "table",
                            "html": Markup(b.to_html()),
                            "wrapper": "scroll tall" if tall else "scroll",
                        }
                    )
                else:
                    nfig += 1
                    uri = "data:image/svg+xml;base64," + base64.b64encode(b.svg).decode()
                    blocks.append(
                        {
                            "kind": "figure",
                            "number": nfig,
                            "uri": uri,
                            "alt": b.alt,
                            "caption": b.caption,
                        }
                    )
            rendered.append(
                {
                    "id": sid,
                    "level": min(max(sec.level, 2), 4),
                    "title": sec.title,
                    "blocks": blocks,
                }
            )
        page = render(
            "report.html.j2",
            title=self.title,
            css=Markup(read_asset("report.css")),
            toc=toc,
            sections=rendered,
        )
        if path is not None:
            _write(path, page.encode("utf-8"))
        return page

    def _repr_html_(self) -> str:
        return self.to_html()

    # ---------------------------------------------------------------- Markdown
    def _figure_files(self, path, suffix: str):
        """The ``<stem>_files`` folder beside ``path`` (None without a path)."""
        if path is None:
            return None
        path = Path(path)
        return path.parent / f"{path.stem}_files"

    def to_markdown(self, path: str | os.PathLike | None = None) -> str:
        """Markdown text rendered from the template ``radsem/report/templates/report.md.j2``;
        with ``path``, figures are written as SVG files in the folder ``<stem>_files`` beside
        it and linked relatively. Returns the Markdown."""
        from radsem.report._templates import render

        folder = self._figure_files(path, ".md")
        nfig = 0
        sections = []
        for sec in self._all_sections():
            blocks = []
            for b in sec.blocks:
                if isinstance(b, Text) and b.kind == "code":
                    blocks.append({"kind": "code", "text": b.text.rstrip("\n")})
                elif isinstance(b, Text):
                    text = (
                        b.text
                        if b.kind == "p"
                        else (f"> **Warning:** {b.text}" if b.kind == "warning" else f"*{b.text}*")
                    )
                    blocks.append({"kind": "text", "text": text})
                elif isinstance(b, ResultTable):
                    blocks.append({"kind": "table", "markdown": b.to_markdown()})
                else:
                    nfig += 1
                    name = f"figure-{nfig}.svg"
                    if folder is not None:
                        folder.mkdir(exist_ok=True)
                        _write(folder / name, b.svg)
                    blocks.append(
                        {
                            "kind": "figure",
                            "number": nfig,
                            "alt": _md_alt(b.alt),
                            "link": f"{folder.name if folder else '.'}/{name}",
                            "caption": b.caption,
                        }
                    )
            sections.append(
                {"level": min(max(sec.level, 2), 6), "title": sec.title, "blocks": blocks}
            )
        text = render("report.md.j2", title=self.title, sections=sections).rstrip() + "\n"
        if path is not None:
            _write(path, text.encode("utf-8"))
        return text

    def to_latex(self, path: str | os.PathLike | None = None) -> str:
        """A standalone LaTeX document (booktabs, graphicx) rendered from the template
        ``radsem/report/templates/report.tex.j2``; with ``path``, figures are written as PNG
        files in ``<stem>_files`` beside it. Returns the LaTeX source."""
        from radsem.report._templates import render

        folder = self._figure_files(path, ".tex")
        nfig = 0
        sections = []
        for sec in self._all_sections():
            blocks = []
            for b in sec.blocks:
                if isinstance(b, Text) and b.kind == "code":
                    blocks.append({"kind": "code", "text": b.text.rstrip("\n")})
                elif isinstance(b, Text):
                    blocks.append({"kind": "text", "style": b.kind, "text": b.text})
                elif isinstance(b, ResultTable):
                    blocks.append({"kind": "table", "latex": b.to_latex()})
                else:
                    nfig += 1
                    name = f"figure-{nfig}.png"
                    if folder is not None:
                        folder.mkdir(exist_ok=True)
                        _write(folder / name, b.png)
                    blocks.append(
                        {
                            "kind": "figure",
                            "link": f"{folder.name}/{name}" if folder else name,
                            "caption": b.caption,
                        }
                    )
            command = {2: "section", 3: "subsection"}.get(sec.level, "subsubsection")
            sections.append({"command": command, "title": sec.title, "blocks": blocks})
        text = render(
            "report.tex.j2", title=self.title, date=self.provenance.date, sections=sections
        )
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
