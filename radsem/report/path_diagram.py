"""Path diagram of a (fitted) structural equation model, drawn with matplotlib (no graphviz).

Latent variables are ellipses, observed variables rectangles; loadings and regressions are
arrows, covariances curved double-headed arrows, residual variances (optional) small loops.
Each drawn parameter is an SVG group with id ``par-<n>`` (``n`` = row of the table) so that
tools and tests can find it.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from radsem.errors import DataError

__all__ = ["path_diagram", "diagram_layout"]

_DRAWN = ("=~", "~", "~~")
_H = 0.55  # node height
_GAP_Y = 0.35  # vertical gap between stacked nodes
_GAP_X = 0.3  # horizontal gap between nodes in a row


@dataclass
class _Node:
    name: str
    latent: bool
    x: float = 0.0
    y: float = 0.0

    @property
    def w(self) -> float:
        base = 0.16 * len(self.name) + 0.45
        return max(base * (1.25 if self.latent else 1.0), 1.1 if self.latent else 0.8)

    @property
    def h(self) -> float:
        return _H * (1.25 if self.latent else 1.0)

    def boundary(self, tx: float, ty: float) -> tuple[float, float]:
        """Point on the outline towards (tx, ty)."""
        dx, dy = tx - self.x, ty - self.y
        if dx == 0 and dy == 0:
            return self.x, self.y
        a, b = self.w / 2, self.h / 2
        if self.latent:
            t = 1.0 / math.sqrt((dx / a) ** 2 + (dy / b) ** 2)
        else:
            t = min(a / abs(dx) if dx else math.inf, b / abs(dy) if dy else math.inf)
        return self.x + t * dx, self.y + t * dy


def _table(model) -> pd.DataFrame:
    """A parameter table (DataFrame with lhs/op/rhs) from a fit, a ModelSpec or a DataFrame."""
    if hasattr(model, "parameter_estimates"):
        table = model.parameter_estimates()
    elif hasattr(model, "partable"):
        table = model.partable
    else:
        table = model
    if not isinstance(table, pd.DataFrame):
        raise DataError("path_diagram needs a fit, a ModelSpec or a parameter table DataFrame")
    missing = {"lhs", "op", "rhs"} - set(table.columns)
    if missing:
        raise DataError(f"the parameter table lacks columns {sorted(missing)}")
    return table


def _layers(structural: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layering of the regression graph (predictor left of outcome); edges that
    close a cycle are ignored."""
    succ = defaultdict(list)
    for a, b in edges:
        if a != b:
            succ[a].append(b)
    state: dict[str, int] = {}
    order: list[str] = []
    back: set[tuple[str, str]] = set()

    def visit(v):
        state[v] = 1
        for w in succ[v]:
            if state.get(w) == 1:
                back.add((v, w))
            elif w not in state:
                visit(w)
        state[v] = 2
        order.append(v)

    for v in structural:
        if v not in state:
            visit(v)
    layer = dict.fromkeys(structural, 0)
    for v in reversed(order):  # topological order
        for w in succ[v]:
            if (v, w) not in back:
                layer[w] = max(layer[w], layer[v] + 1)
    return layer


def diagram_layout(table: pd.DataFrame, group: int = 1) -> dict[str, tuple[float, float, bool]]:
    """Positions of the variables: ``{name: (x, y, is_latent)}``.

    Notes
    -----
    Structural variables (latent variables and observed variables that are not indicators)
    are placed left to right by causal order (longest path in the regression graph). The
    indicators of a factor sit in a column to the left of a factor in the first layer, to the
    right of one in the last layer, and in a row above factors of middle layers. A pure
    measurement model puts its factors in a row with their indicators in a row below.
    """
    t = _select(table, group)
    latent = list(dict.fromkeys(t.loc[t["op"] == "=~", "lhs"]))
    indicators: dict[str, list[str]] = {f: [] for f in latent}
    owner: dict[str, str] = {}
    for f, v in zip(t.loc[t["op"] == "=~", "lhs"], t.loc[t["op"] == "=~", "rhs"], strict=True):
        if v not in latent and v not in owner:
            owner[v] = f
            indicators[f].append(v)
    names = list(dict.fromkeys([*t["lhs"], *t.loc[t["op"].isin(_DRAWN), "rhs"]]))
    names = [
        n for n in names if n in set(t.loc[t["op"].isin(_DRAWN), ["lhs", "rhs"]].to_numpy().ravel())
    ]
    structural = [n for n in names if n not in owner]
    reg = t[t["op"] == "~"]
    edges = list(zip(reg["rhs"], reg["lhs"], strict=True))
    edges += [
        (a, b)
        for a, b in zip(t.loc[t["op"] == "=~", "lhs"], t.loc[t["op"] == "=~", "rhs"], strict=True)
        if b in latent
    ]  # higher-order factors
    layer = _layers(structural, edges)
    nodes = {n: _Node(n, n in latent) for n in names}
    nlayers = max(layer.values(), default=0) + 1
    if nlayers == 1:
        _row_layout(structural, indicators, nodes)
    else:
        _layered_layout(structural, layer, nlayers, indicators, nodes)
    return {n: (nd.x, nd.y, nd.latent) for n, nd in nodes.items()}


def _row_layout(structural, indicators, nodes) -> None:
    x = 0.0
    for f in structural:
        inds = [nodes[i] for i in indicators.get(f, [])]
        width = max(nodes[f].w, sum(i.w for i in inds) + _GAP_X * max(len(inds) - 1, 0))
        nodes[f].x, nodes[f].y = x + width / 2, 0.0
        cx = x + (width - (sum(i.w for i in inds) + _GAP_X * max(len(inds) - 1, 0))) / 2
        for i in inds:
            i.x, i.y = cx + i.w / 2, -2.2
            cx += i.w + _GAP_X
        x += width + 1.0


def _layered_layout(structural, layer, nlayers, indicators, nodes) -> None:
    by_layer = defaultdict(list)
    for n in structural:
        by_layer[layer[n]].append(n)
    col_w = 2.6 + max((nodes[n].w for n in structural), default=1.0)
    extra = {}
    for k in range(nlayers):
        extra[k] = max(
            (
                sum(nodes[i].w for i in indicators.get(n, []))
                for n in by_layer[k]
                if 0 < k < nlayers - 1
            ),
            default=0.0,
        )
    xs, x = {}, 0.0
    left_ind = max((nodes[i].w for n in by_layer[0] for i in indicators.get(n, [])), default=0.0)
    x = left_ind + 1.8 if left_ind else 0.0
    for k in range(nlayers):
        xs[k] = x + max(extra[k] / 2, 0)
        x = xs[k] + max(col_w, extra[k] / 2 + 1.5)
    for k in range(nlayers):
        y = 0.0
        for n in by_layer[k]:
            inds = [nodes[i] for i in indicators.get(n, [])]
            side = "left" if k == 0 else "right" if k == nlayers - 1 else "top"
            if side == "top":
                height = _H + 1.6 + nodes[n].h
                nodes[n].x, nodes[n].y = xs[k], y - height + nodes[n].h / 2
                total = sum(i.w for i in inds) + _GAP_X * max(len(inds) - 1, 0)
                cx = xs[k] - total / 2
                for i in inds:
                    i.x, i.y = cx + i.w / 2, nodes[n].y + 1.7
                    cx += i.w + _GAP_X
            else:
                height = max(nodes[n].h, len(inds) * (_H + _GAP_Y))
                nodes[n].x, nodes[n].y = xs[k], y - height / 2
                sign = -1 if side == "left" else 1
                iy = y - (_H + _GAP_Y) / 2
                for i in inds:
                    i.x = xs[k] + sign * (1.6 + nodes[n].w / 2 + i.w / 2)
                    i.y = iy
                    iy -= _H + _GAP_Y
            y -= height + 0.9
    _centre_layers(by_layer, nlayers, indicators, nodes)


def _centre_layers(by_layer, nlayers, indicators, nodes) -> None:
    for k in range(nlayers):  # centre every layer vertically
        members = [nodes[n] for n in by_layer[k]] + [
            nodes[i] for n in by_layer[k] for i in indicators.get(n, [])
        ]
        if members:
            mid = (max(m.y for m in members) + min(m.y for m in members)) / 2
            for m in members:
                m.y -= mid
    others = [nodes[n].y for k in (0, nlayers - 1) for n in by_layer[k]]
    centre = float(np.mean(others)) if others else 0.0
    for k in range(1, nlayers - 1):  # middle-layer indicators face away from the other layers
        for n in by_layer[k]:
            f = nodes[n]
            if f.y < centre:
                for i in indicators.get(n, []):
                    nodes[i].y = f.y - (nodes[i].y - f.y)


def _select(table: pd.DataFrame, group: int) -> pd.DataFrame:
    t = table[table["op"].isin(_DRAWN)]
    if "group" in t.columns and t["group"].nunique() > 1:
        if group not in set(t["group"]):
            raise DataError(
                f"group {group} is not in the parameter table (groups: {sorted(set(t['group']))})"
            )
        t = t[t["group"] == group]
    return t


def _value_column(table: pd.DataFrame, values: str | None) -> str | None:
    if values is None:
        return None
    if values not in table.columns:
        raise DataError(
            f"values={values!r} is not a column of the parameter table "
            f"(columns: {list(table.columns)})"
        )
    return values


def path_diagram(
    model,
    values: str | None = "std_all",
    group: int = 1,
    residuals: bool = False,
    intercepts: bool = False,
    digits: int = 2,
    title: str | None = None,
    caption: str | None = None,
):
    """Draw the path diagram of a model.

    Parameters
    ----------
    model : fit, ModelSpec or DataFrame
        A fitted model (with ``parameter_estimates()``), a :class:`radsem.syntax.ModelSpec`
        (its ``partable``) or a parameter table with ``lhs, op, rhs`` (and estimates).
    values : str or None, default "std_all"
        Column printed on the arrows (``"est"``, ``"std_all"``, ``"std_lv"``, ...); ``None``
        draws the structure only. Fixed parameters of a specification print their
        ``ustart`` when ``values`` is missing from a ModelSpec.
    group : int, default 1
        Which group of a multi-group model to draw.
    residuals : bool, default False
        Draw residual and latent variances as small double-headed loops.
    intercepts : bool, default False
        Listed under the figure (intercepts are not drawn as triangles).
    digits : int
        Decimals of the printed values.
    title, caption : str, optional

    Returns
    -------
    radsem.report.Figure
        SVG and PNG renditions; ``data["edges"]`` lists every drawn parameter with its value.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Ellipse, FancyArrowPatch, Rectangle

    from radsem.report.document import figure_from_matplotlib

    table = _table(model)
    if values is not None and values not in table.columns and hasattr(model, "partable"):
        values = None
    col = _value_column(table, values)
    pos = diagram_layout(table, group)
    if not pos:
        raise DataError("the model has no =~, ~ or ~~ parameters to draw")
    nodes = {n: _Node(n, lat, x, y) for n, (x, y, lat) in pos.items()}
    xs = [n.x for n in nodes.values()]
    ys = [n.y for n in nodes.values()]
    span_x = max(xs) - min(xs) + 3.5
    span_y = max(ys) - min(ys) + 3.0
    scale = min(1.0, 16.0 / span_x, 14.0 / span_y)
    fig, ax = plt.subplots(figsize=(max(span_x * 0.85 * scale, 4), max(span_y * 0.85 * scale, 3)))
    ax.set_xlim(min(xs) - 1.6, max(xs) + 1.6)
    ax.set_ylim(min(ys) - 1.4, max(ys) + 1.4)
    ax.set_aspect("equal")
    ax.axis("off")
    for n in nodes.values():
        if n.latent:
            patch = Ellipse((n.x, n.y), n.w, n.h, facecolor="#e8f0fb", edgecolor="#1f3f6e", lw=1.4)
        else:
            patch = Rectangle(
                (n.x - n.w / 2, n.y - n.h / 2),
                n.w,
                n.h,
                facecolor="white",
                edgecolor="#333333",
                lw=1.1,
            )
        patch.set_gid(f"node-{_safe(n.name)}")
        ax.add_patch(patch)
        ax.text(
            n.x,
            n.y,
            n.name,
            ha="center",
            va="center",
            fontsize=10,
            fontweight="bold" if n.latent else "normal",
        )
    sel = _select(table, group)
    edges = []
    for idx, row in sel.iterrows():
        a, b = nodes.get(row["lhs"]), nodes.get(row["rhs"])
        if a is None or b is None:
            continue
        value = row[col] if col is not None else np.nan
        if row["op"] == "~~" and row["lhs"] == row["rhs"] and not residuals:
            continue
        label = _fmt(value, digits)
        gid = f"par-{idx}"
        if row["op"] == "~~" and row["lhs"] == row["rhs"]:
            _self_loop(ax, a, label, gid, nodes)
        elif row["op"] == "~~":
            _covariance(ax, a, b, label, gid, FancyArrowPatch)
        else:
            src, dst = (a, b) if row["op"] == "=~" else (b, a)
            _arrow(ax, src, dst, label, gid, FancyArrowPatch, 0.62 if row["op"] == "=~" else 0.5)
        edges.append(
            {
                "row": idx,
                "lhs": row["lhs"],
                "op": row["op"],
                "rhs": row["rhs"],
                "label": label,
                "value": value,
                "gid": gid,
            }
        )
    if title:
        ax.set_title(title)
    what = {
        "std_all": "completely standardized estimates (std.all)",
        "std_lv": "estimates standardized by latent variances (std.lv)",
        "est": "unstandardized estimates",
    }.get(col or "", col or "no values")
    cap = caption or (
        f"Path diagram{' (group ' + str(group) + ')' if _ngroups(table) > 1 else ''}"
        f": ellipses are latent variables, rectangles observed variables; "
        f"single-headed arrows are loadings and regressions, curved double-headed "
        f"arrows covariances; numbers are {what}."
    )
    if intercepts:
        ints = table[(table["op"] == "~1")]
        if len(ints) and col:
            cap += (
                " Intercepts: "
                + ", ".join(f"{r.lhs} {_fmt(r[col], digits)}" for _, r in ints.iterrows())
                + "."
            )
    _fit_to_content(fig, ax)
    return figure_from_matplotlib(
        fig, caption=cap, alt=cap, data={"edges": edges, "positions": pos}
    )


def _ngroups(table: pd.DataFrame) -> int:
    if "group" not in table.columns:
        return 1
    return int(table.loc[table["op"].isin(_DRAWN), "group"].nunique())


def _fmt(value, digits: int) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(v):
        return ""
    text = f"{v:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _label(ax, x, y, text, gid):
    if text:
        t = ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            fontsize=8.5,
            zorder=5,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"},
        )
        t.set_gid(f"{gid}-label")


def _arrow(ax, src, dst, label, gid, patch_cls, frac):
    x0, y0 = src.boundary(dst.x, dst.y)
    x1, y1 = dst.boundary(src.x, src.y)
    arrow = patch_cls(
        (x0, y0),
        (x1, y1),
        arrowstyle="-|>",
        mutation_scale=11,
        lw=1.1,
        color="#222222",
        shrinkA=0,
        shrinkB=0,
        zorder=2,
    )
    arrow.set_gid(gid)
    ax.add_patch(arrow)
    _label(ax, x0 + frac * (x1 - x0), y0 + frac * (y1 - y0), label, gid)


def _covariance(ax, a, b, label, gid, patch_cls):
    # bend away from the centre of the drawing: upwards/left by convention
    rad = -0.4 if (b.x - a.x) >= 0 else 0.4
    if abs(b.x - a.x) < 1e-9:
        rad = -0.4 if b.y < a.y else 0.4
    x0, y0 = a.boundary(b.x, b.y)
    x1, y1 = b.boundary(a.x, a.y)
    arrow = patch_cls(
        (x0, y0),
        (x1, y1),
        arrowstyle="<|-|>",
        mutation_scale=9,
        lw=1.0,
        color="#5a5a5a",
        connectionstyle=f"arc3,rad={rad}",
        shrinkA=1,
        shrinkB=1,
        zorder=1,
    )
    arrow.set_gid(gid)
    ax.add_patch(arrow)
    # label at the apex of the arc (arc3 control point, half-way in a quadratic Bezier)
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    dx, dy = x1 - x0, y1 - y0
    _label(ax, mx + rad * dy / 2, my - rad * dx / 2, label, gid)


def _fit_to_content(fig, ax, pad: float = 0.12) -> None:
    """Shrink the axes' limits (and the figure) to what is drawn: the fixed margins around the
    nodes otherwise leave blank bands above and below the diagram in the report."""
    from matplotlib.transforms import Bbox

    ax.set_position([0.0, 0.0, 1.0, 1.0])
    width = fig.get_size_inches()[0]
    for _ in range(2):  # text keeps its size in points while the data scale changes
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        boxes = [a.get_window_extent(renderer) for a in [*ax.patches, *ax.texts]]
        if not boxes:
            return
        box = Bbox.union(boxes).transformed(ax.transData.inverted())
        x0, x1, y0, y1 = box.x0 - pad, box.x1 + pad, box.y0 - pad, box.y1 + pad
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        fig.set_size_inches(width, max(width * (y1 - y0) / (x1 - x0), 1.0))


def _self_loop(ax, a, label, gid, nodes):
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path as MplPath

    others = [n for n in nodes.values() if n is not a]
    cx = np.mean([n.x for n in others]) if others else a.x
    cy = np.mean([n.y for n in others]) if others else a.y - 1
    ang = math.atan2(a.y - cy, a.x - cx)  # point away from the rest of the drawing
    if a.latent:  # indicators sit beside or below a factor: its variance goes on top
        ang = math.pi / 2
    elif abs(math.sin(ang)) < 0.6:
        ang = 0.0 if math.cos(ang) > 0 else math.pi
    else:
        ang = math.pi / 2 if math.sin(ang) > 0 else -math.pi / 2
    ux, uy = math.cos(ang), math.sin(ang)
    vx, vy = -uy, ux
    ex, ey = a.boundary(a.x + ux * 10, a.y + uy * 10)
    half = 0.22
    p0 = (ex + vx * half, ey + vy * half)
    p1 = (ex - vx * half, ey - vy * half)
    c0 = (p0[0] + ux * 0.55 + vx * 0.1, p0[1] + uy * 0.55 + vy * 0.1)
    c1 = (p1[0] + ux * 0.55 - vx * 0.1, p1[1] + uy * 0.55 - vy * 0.1)
    path = MplPath(
        [p0, c0, c1, p1], [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4]
    )
    loop = FancyArrowPatch(
        path=path, arrowstyle="<|-|>", mutation_scale=8, lw=0.9, color="#777777", zorder=1
    )
    loop.set_gid(gid)
    ax.add_patch(loop)
    _label(ax, ex + ux * 0.62, ey + uy * 0.62, label, gid)
