"""A report laid out like lavaan 0.6-14's ``summary()``, as text and as tables.

``summary_text`` builds the blocks lavaan prints, in its order: the header (estimator,
optimiser, parameters, observations, missing patterns), ``Model Test User Model`` (Standard
and Scaled columns side by side for a scaled test), and with ``fit_measures=True`` the
baseline test, CFI/TLI (and robust), log-likelihoods and information criteria, RMSEA
(and robust) and SRMR (see :mod:`radsem.estimation.measures.summary_blocks`); then the
parameter blocks per group (``Latent Variables``, ``Regressions``, ``Covariances``,
``Intercepts``, ``Thresholds``, ``Variances``, ``Scales y*``) with ``Std.lv``/``Std.all``
when ``standardized=True``, ``R-Square`` per group with ``rsquare=True`` and the ``Defined
Parameters``. The result is a :class:`FitSummary`: the text (a ``str``) that also keeps the
blocks as DataFrames in ``.blocks``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from radsem.estimation.measures.abbreviate import abbreviate
from radsem.estimation.measures.rsquare import rsquare_rows
from radsem.estimation.measures.summary_blocks import (
    Block,
    SummaryParts,
    fit_blocks,
    header_block,
    se_block,
)

__all__ = ["FitSummary", "summary_text", "PARAMETER_SECTIONS"]

PARAMETER_SECTIONS = (
    ("=~", "Latent Variables"),
    ("~", "Regressions"),
    ("~~cov", "Covariances"),
    ("~1", "Intercepts"),
    ("|", "Thresholds"),
    ("~~var", "Variances"),
    ("~*~", "Scales y*"),
)

_PARAM_COLUMNS = ["lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue"]


class FitSummary(str):
    """The text of ``fit.summary()`` (print it), with its content kept as tables.

    Attributes
    ----------
    blocks : dict of str to pandas.DataFrame
        One entry per block, under lavaan's heading: ``"header"``, ``"Model Test User
        Model"``, ``"Model Test Baseline Model"``, ``"User Model versus Baseline Model"``,
        ``"Loglikelihood and Information Criteria"``, ``"Root Mean Square Error of
        Approximation"``, ``"Standardized Root Mean Square Residual"``, ``"Parameter
        Estimates"`` (one row per printed line, columns ``Standard``/``Scaled`` or
        ``value``, unrounded), the parameter blocks (``"Latent Variables"``, ...,
        ``"Defined Parameters"``: rows of ``parameter_estimates()`` with a ``group``
        column) and ``"R-Square"`` (``lhs``, ``group``, ``r2``), where printed.
    """

    blocks: dict[str, pd.DataFrame]

    def __new__(cls, text: str, blocks: dict[str, pd.DataFrame]) -> FitSummary:
        obj = super().__new__(cls, text)
        obj.blocks = blocks
        return obj

    def __reduce__(self):
        return (FitSummary, (str(self), self.blocks))


# -- rendering ------------------------------------------------------------------------------
_LABEL = 40
_COL = 12


def _cell(value) -> str:
    if value is None:
        return " " * _COL
    if isinstance(value, str):
        return f"{value:>{_COL}}"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):>{_COL}d}"
    x = float(value)
    return f"{'NA':>{_COL}}" if not np.isfinite(x) else f"{x:>{_COL}.3f}"


def _render_block(block: Block) -> list[str]:
    """Title, then lavaan's line under it: the column names for the user model's test (and
    for ``Used``/``Total`` in the header), an empty line elsewhere."""
    head = " " * (2 + _LABEL) + "".join(f"{c:>{_COL}}" for c in block.columns)
    if block.title is None:
        lines = []  # the header's column names are a "head" row, where lavaan prints them
    elif block.title == "Model Test User Model":
        lines = [f"{block.title}:", head if block.columns else ""]
    else:
        lines = [f"{block.title}:", ""]
    for label, values, kind in block.rows:
        if kind == "blank":
            lines.append("")
        elif kind == "head":
            lines.append(f"  {label:<{_LABEL}}" + "".join(f"{c:>{_COL}}" for c in values))
        elif kind in ("note", "title"):
            lines.append(f"  {label}")
        elif len(values) == 1 and isinstance(values[0], str):  # text: right-aligned as lavaan
            lines.append(f"  {label}" + values[0].rjust(max(_LABEL + _COL - len(label), 1)))
        else:
            lines.append(f"  {label:<{_LABEL}}" + "".join(_cell(v) for v in values))
    return lines


def _fmt(x, width: int = 9) -> str:
    if x is None:
        return " " * width
    x = float(x)
    return f"{'NA':>{width}}" if not np.isfinite(x) else f"{x:{width}.3f}"


def _name_rows(sub: pd.DataFrame, key: str, endo) -> list[tuple[str | None, str, str, object]]:
    """(header line or None, prefix, name, row) for the rows of one parameter block."""
    out = []
    last = None
    for r in sub.itertuples():
        head = None
        prefix = "    "
        if key in ("=~", "~"):
            if r.lhs != last:
                head = f"  {r.lhs} {r.op}"
            name = r.rhs
        elif key == "~~cov":
            if r.lhs != last:
                head = f" .{r.lhs} ~~" if r.lhs in endo else f"  {r.lhs} ~~"
            prefix = "   ." if r.rhs in endo else "    "
            name = r.rhs
        elif key == "|":
            name = f"{r.lhs}|{r.rhs}"
        elif key in ("~*~", ":="):
            name = r.lhs
        else:
            prefix = "   ." if r.lhs in endo else "    "
            name = r.lhs
        last = r.lhs
        out.append((head, prefix, name, r))
    return out


_W = 14  # lavaan's name width (.makeNames), after a 4-character prefix


def _make_names(names: list[str], labels: list[str]) -> list[str]:
    """lavaan's ``.makeNames``: labels abbreviated to 4 characters and right-aligned in
    parentheses, names abbreviated (strictly) to the room left; ``_W`` characters."""
    if any(labels):
        labs = [f" ({abbreviate(lab, 4)})" if lab else "" for lab in labels]
        width = max(len(x) for x in labs)
        return [
            f"{abbreviate(n, _W - width, strict=True):<{_W - width}}{lab:>{width}}"
            for n, lab in zip(names, labs, strict=True)
        ]
    return [f"{abbreviate(n, _W, strict=True):<{_W}}" for n in names]


def _render_params(title, sub, key, endo, standardized) -> list[str]:
    rows = _name_rows(sub, key, endo)
    heads = ["Estimate", "Std.Err", "z-value", "P(>|z|)"]
    if standardized:
        heads += ["Std.lv", "Std.all"]
    lines = ["", f"{title}:", " " * (4 + _W) + "".join(f"{h:>9}" for h in heads)]
    labels = [
        r.label if key != ":=" and isinstance(getattr(r, "label", ""), str) else ""
        for _, _, _, r in rows
    ]
    names = _make_names([n for _, _, n, _ in rows], labels)
    for (head, prefix, _, r), name in zip(rows, names, strict=True):
        if head is not None:
            lines.append(head)
        line = f"{prefix}{name}{_fmt(r.est)}"
        free = bool(r.se > 0) if np.isfinite(r.se) else False
        line += f"{_fmt(r.se)}{_fmt(r.z)}{_fmt(r.pvalue)}" if free else " " * 27
        if standardized:
            line += f"{_fmt(r.std_lv)}{_fmt(r.std_all)}"
        lines.append(line.rstrip())
    return lines


def _render_r2(sub: pd.DataFrame) -> list[str]:
    lines = ["", "R-Square:", " " * (4 + _W) + f"{'Estimate':>9}"]
    for r, name in zip(sub.itertuples(), _make_names(list(sub["lhs"]), []), strict=True):
        lines.append(f"    {name}{_fmt(r.r2)}")
    return lines


def _rows_of(t: pd.DataFrame, key: str) -> pd.DataFrame:
    if key == "~~cov":
        return t[(t["op"] == "~~") & (t["lhs"] != t["rhs"])]
    if key == "~~var":
        return t[(t["op"] == "~~") & (t["lhs"] == t["rhs"])]
    return t[t["op"] == key]


def _without_fixed_x(pe: pd.DataFrame, partable: pd.DataFrame) -> pd.DataFrame:
    """lavaan's summary leaves out the (co)variances and means of fixed exogenous covariates
    (``exo == 1``): they are the sample values, not estimates."""
    if "exo" not in partable:
        return pe
    exo = partable[(partable["exo"].to_numpy(int) == 1) & (partable["free"].to_numpy(int) == 0)]
    keys = set(zip(exo["lhs"], exo["op"], exo["rhs"], exo["group"].astype(int), strict=True))
    if not keys:
        return pe
    drop = [
        (lhs, op, rhs, int(g)) in keys
        for lhs, op, rhs, g in zip(pe["lhs"], pe["op"], pe["rhs"], pe["group"], strict=True)
    ]
    return pe[~np.asarray(drop, bool)]


# -- the report -----------------------------------------------------------------------------
def summary_text(
    fit,
    parts: SummaryParts,
    *,
    fit_measures: bool = False,
    standardized: bool = False,
    rsquare: bool = False,
) -> FitSummary:
    """lavaan's ``summary(fit, fit.measures=, standardized=, rsquare=)`` of a fitted model.

    Parameters
    ----------
    fit : SemFit or OrdinalFit
        Its public tables are read (``fit_measures()``, ``parameter_estimates()``).
    parts : SummaryParts
        The fit's other quantities (filled by the fit class).
    fit_measures, standardized, rsquare : bool
        As lavaan's arguments of the same names.

    Returns
    -------
    FitSummary
    """
    fm = fit.fit_measures()
    pe = _without_fixed_x(fit.parameter_estimates(), fit.spec.partable)
    status = "ended normally" if fit.converged else "did NOT converge"
    lines = [
        f"radsem {parts.options.get('model_type', 'sem')}() fit {status} after "
        f"{fit.iterations} iterations",
        "",
    ]
    blocks: dict[str, pd.DataFrame] = {}
    head = header_block(parts)
    lines += _render_block(head)
    blocks["header"] = head.frame()
    for block in [*fit_blocks(fm, parts, fit_measures), se_block(parts)]:
        lines.append("")
        lines += _render_block(block)
        blocks[str(block.title)] = block.frame()
    ngroups = len(parts.group_labels)
    keep = [c for c in _PARAM_COLUMNS if c in pe.columns]
    std_cols = ["std_lv", "std_all"] if standardized else []
    r2 = rsquare_rows(pe)
    collected: dict[str, list[pd.DataFrame]] = {}
    for g in range(1, ngroups + 1):
        t = pe[pe["group"] == g]
        if ngroups > 1:
            lines += ["", "", f"Group {g} [{parts.group_labels[g - 1]}]:"]
        endo = set(t.loc[t["op"] == "=~", "rhs"]) | set(t.loc[t["op"] == "~", "lhs"])
        for key, title in PARAMETER_SECTIONS:
            sub = _rows_of(t, key)
            if sub.empty:
                continue
            lines += _render_params(title, sub, key, endo, standardized)
            collected.setdefault(title, []).append(sub[keep + std_cols])
        sub_r2 = r2[r2["group"] == g]
        if rsquare and len(sub_r2):
            lines += _render_r2(sub_r2)
            collected.setdefault("R-Square", []).append(sub_r2)
    defined = pe[pe["op"] == ":="]
    if len(defined):
        lines += _render_params("Defined Parameters", defined, ":=", set(), standardized)
        collected["Defined Parameters"] = [defined[keep + std_cols]]
    for title, frames in collected.items():
        blocks[title] = pd.concat(frames, ignore_index=True)
    return FitSummary("\n".join(lines) + "\n", blocks)
