"""One table object rendered to text, HTML, Markdown and LaTeX (numbers rounded only on output)."""

from __future__ import annotations

import html
import math
import numbers
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from radsem.errors import DataError
from radsem.report.latex import latex_escape

__all__ = ["ResultTable", "format_pvalue", "format_number", "latex_escape", "PVALUE_COLUMNS"]

#: Column names formatted as p-values unless ``pvalue_columns`` says otherwise.
PVALUE_COLUMNS = frozenset(
    {
        "pvalue",
        "p",
        "p_value",
        "p.value",
        "Pr(>Chisq)",
        "rmsea.pvalue",
        "pvalue.scaled",
        "p_adj",
        "padj",
        "fdr",
        "p (Holm)",
    }
)


def format_pvalue(p: float, digits: int = 3) -> str:
    """Format a p-value the way R reports do: ``<0.001`` below ``10**-digits``.

    Parameters
    ----------
    p : float
        The p-value; NaN or None gives an empty string.
    digits : int
        Decimal places (3 gives ``0.042`` and ``<0.001``).
    """
    if p is None or (isinstance(p, float) and math.isnan(p)) or pd.isna(p):
        return ""
    if isinstance(p, str) or not isinstance(p, numbers.Real):
        return str(p)  # already text (e.g. "<0.001" from another tool)
    p = float(p)
    eps = 10.0 ** (-digits)
    if p < eps:
        return f"<{eps:.{digits}f}"
    return f"{min(p, 1.0):.{digits}f}"


def format_number(value, digits: int = 3) -> str:
    """Format one cell: integers as integers, floats with ``digits`` decimals, NaN as blank."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        v = float(value)
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "Inf" if v > 0 else "-Inf"
        if abs(v) >= 1e12:
            return f"{v:.{max(digits, 1)}e}"  # 1e300 is not printed with 300 digits
        text = f"{v:.{digits}f}"
        if text.startswith("-") and float(text) == 0.0:  # no "-0.000"
            text = text[1:]
        return text
    if value is pd.NA or value is pd.NaT:
        return ""
    return str(value)


class ResultTable:
    """A table of results that renders the same content to text, HTML, Markdown and LaTeX.

    Parameters
    ----------
    frame : pandas.DataFrame
        The content; copied, never modified. Numbers stay unrounded until rendered.
    title : str, optional
        Shown above the table (HTML ``<caption>``, LaTeX ``\\caption``).
    caption : str, optional
        A sentence under the title saying what the table shows.
    digits : int or mapping, default 3
        Decimal places of floats, for all columns or per column (missing columns use 3).
    notes : sequence of str
        Footnotes printed under the table.
    pvalue_columns : sequence of str, optional
        Columns formatted as p-values (``<0.001``); default: those named in
        :data:`PVALUE_COLUMNS`.
    labels : mapping, optional
        Display headers for columns (``{"ci_lower": "CI lower"}``); the data keep their names.
    index : bool, optional
        Show the index as the first column; default: only when it is not a plain 0..n-1 range.
    right_align : sequence of str
        Text columns aligned like numbers (numeric columns always are).

    Examples
    --------
    >>> import pandas as pd
    >>> t = ResultTable(pd.DataFrame({"est": [0.51234], "pvalue": [1e-6]}), digits=2)
    >>> print(t.to_markdown())
    | est | pvalue |
    |---:|---:|
    | 0.51 | <0.001 |
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        title: str | None = None,
        caption: str | None = None,
        digits: int | Mapping[str, int] = 3,
        notes: Sequence[str] = (),
        pvalue_columns: Sequence[str] | None = None,
        labels: Mapping[str, str] | None = None,
        index: bool | None = None,
        right_align: Sequence[str] = (),
    ) -> None:
        if isinstance(frame, pd.Series):
            frame = frame.to_frame()
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"ResultTable needs a pandas DataFrame, got {type(frame).__name__}")
        if isinstance(notes, str):
            notes = (notes,)
        for col, d in digits.items() if isinstance(digits, Mapping) else [(None, digits)]:
            if isinstance(d, bool) or not isinstance(d, numbers.Integral) or not 0 <= d <= 15:
                where = f" of column {col!r}" if col is not None else ""
                raise DataError(f"digits{where} must be a whole number from 0 to 15, got {d!r}")
        self.frame = frame.copy()
        self.title = title
        self.caption = caption
        self.digits = digits
        self.notes = tuple(str(n) for n in notes)
        self.labels = dict(labels or {})
        self.right_align = tuple(right_align)
        if pvalue_columns is None:
            pvalue_columns = [c for c in frame.columns if str(c) in PVALUE_COLUMNS]
        unknown = [c for c in pvalue_columns if c not in frame.columns]
        if unknown:
            raise DataError(f"pvalue_columns not in the table: {unknown}")
        self.pvalue_columns = tuple(pvalue_columns)
        if index is None:
            index = not (
                isinstance(frame.index, pd.RangeIndex)
                and frame.index.start == 0
                and frame.index.step == 1
            )
        self.index = bool(index)

    # ---------------------------------------------------------------- cell formatting
    def _digits(self, column) -> int:
        if isinstance(self.digits, Mapping):
            return int(self.digits.get(column, 3))
        return int(self.digits)

    def _columns(self) -> list[tuple[str, list[str], bool]]:
        """(header, formatted cells, numeric?) for every shown column."""
        out = []
        if self.index:
            name = self.frame.index.name or ""
            out.append((str(name), [format_number(v) for v in self.frame.index], False))
        for col in self.frame.columns:
            values = self.frame[col]
            numeric = (
                pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
            ) or col in self.right_align
            if col in self.pvalue_columns:
                cells = [format_pvalue(v, self._digits(col)) for v in values]
            else:
                cells = [format_number(v, self._digits(col)) for v in values]
            out.append((self.labels.get(col, str(col)), cells, bool(numeric)))
        return out

    def formatted(self) -> pd.DataFrame:
        """The table as it is printed: a DataFrame of strings with display headers."""
        cols = self._columns()
        return pd.DataFrame({h: c for h, c, _ in cols}, columns=[h for h, _, _ in cols])

    # ---------------------------------------------------------------- renderers
    def to_text(self) -> str:
        """Fixed-width text in the style of lavaan's ``summary()``."""
        cols = self._columns()
        widths = [max([len(h)] + [len(c) for c in cells]) for h, cells, _ in cols]
        lines = []
        if self.title:
            lines.append(self.title)
        if self.caption:
            lines.append(self.caption)
        if lines:
            lines.append("")

        def row(items):
            parts = [
                (s.rjust(w) if num else s.ljust(w))
                for s, w, (_, _, num) in zip(items, widths, cols, strict=True)
            ]
            return ("  " + "  ".join(parts)).rstrip()

        lines.append(row([h for h, _, _ in cols]))
        lines.append("  " + "  ".join("-" * w for w in widths))
        for i in range(len(self.frame)):
            lines.append(row([cells[i] for _, cells, _ in cols]))
        lines.extend(f"  {n}" for n in self.notes)
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"<ResultTable {self.title or ''!s} {self.frame.shape[0]}x{self.frame.shape[1]}>"

    def to_html(self) -> str:
        """A semantic ``<table>`` (caption, ``thead``/``tbody``, ``th scope``), text escaped."""
        esc = html.escape
        cols = self._columns()
        out = ['<table class="radsem-table">']
        if self.title or self.caption:
            cap = f"<strong>{esc(self.title)}</strong>" if self.title else ""
            if self.caption:
                cap += (" " if cap else "") + f'<span class="caption">{esc(self.caption)}</span>'
            out.append(f"<caption>{cap}</caption>")
        num_cls = ' class="num"'
        out.append(
            "<thead><tr>"
            + "".join(
                f'<th scope="col"{num_cls if num else ""}>{esc(h)}</th>' for h, _, num in cols
            )
            + "</tr></thead>"
        )
        out.append("<tbody>")
        for i in range(len(self.frame)):
            cells = []
            for j, (_, values, num) in enumerate(cols):
                tag = "th" if (j == 0 and self.index) else "td"
                attrs = ' scope="row"' if tag == "th" else ""
                attrs += num_cls if num else ""
                cells.append(f"<{tag}{attrs}>{esc(values[i])}</{tag}>")
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</tbody>")
        if self.notes:
            out.append(
                f'<tfoot><tr><td colspan="{len(cols)}">'
                + "<br>".join(esc(n) for n in self.notes)
                + "</td></tr></tfoot>"
            )
        out.append("</table>")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_markdown(self) -> str:
        """A GitHub-flavoured Markdown pipe table (title in bold, notes as a paragraph),
        rendered from the template ``radsem/report/templates/table.md.j2``."""
        from radsem.report._templates import render

        def esc(text: str) -> str:
            text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
            # '<' opening an HTML tag (<script>, </b>, <!--) would be rendered as HTML
            return re.sub(r"<(?=[A-Za-z/!?])", "&lt;", text)

        cols = self._columns()
        return render(
            "table.md.j2",
            title=esc(self.title) if self.title else "",
            caption=esc(self.caption) if self.caption else "",
            header=[esc(h) for h, _, _ in cols],
            rule=["---:" if num else ":---" for _, _, num in cols],
            rows=[[esc(c[i]) for _, c, _ in cols] for i in range(len(self.frame))],
            notes=[esc(n) for n in self.notes],
        )

    def to_latex(self) -> str:
        """A ``table`` environment with a booktabs ``tabular`` (needs ``\\usepackage{booktabs}``),
        rendered from the template ``radsem/report/templates/table.tex.j2``; LaTeX special
        characters are escaped."""
        from radsem.report._templates import render

        cols = self._columns()
        caption = " ".join(x for x in (self.title, self.caption) if x)
        return render(
            "table.tex.j2",
            caption=latex_escape(caption),
            spec="".join("r" if num else "l" for _, _, num in cols),
            header=[latex_escape(h) for h, _, _ in cols],
            rows=[[latex_escape(c[i]) for _, c, _ in cols] for i in range(len(self.frame))],
            notes=[latex_escape(n) for n in self.notes],
        )
