"""Modifiers, equality by shared labels and ``group_equal``, and checks of constraint labels.

Follows ``lavaanify`` and ``lav_partable_labels`` of lavaan 0.6-14.
"""

from __future__ import annotations

import math

from radsem.errors import ModelSpecificationError
from radsem.syntax.names import variable_names
from radsem.syntax.options import SpecOptions
from radsem.syntax.parse import Statement

__all__ = ["apply_modifiers", "equality_constraints", "check_constraints"]

_NAN = math.nan


def apply_modifiers(rows: list[dict], ngroups: int) -> bool:
    """Apply ``fixed``/``start``/``lower``/``upper``/``label``; return whether bounds occur."""
    by_key: dict[int, list[dict]] = {}
    for r in rows:
        if r["mods"]:
            by_key.setdefault(id(r["mods"]), []).append(r)
    bounds = False
    for group_rows in by_key.values():
        mods = group_rows[0]["mods"]
        stmt, line, column = group_rows[0]["where"]
        for kind, values in mods.items():
            if len(values) == 1 and ngroups > 1:
                values = values * ngroups
            if len(values) != len(group_rows):
                r = group_rows[0]
                raise ModelSpecificationError(
                    f"modifier of {r['lhs']} {r['op']} {r['rhs'] or '1'} has {len(values)} "
                    f"values but the model has {ngroups} group(s); give one value, or one per "
                    "group",
                    line,
                    column,
                )
            mods_n = dict(mods)
            mods_n[kind] = values
            group_rows[0]["mods"] = mods_n
        mods = group_rows[0]["mods"]
        for i, r in enumerate(group_rows):
            if "fixed" in mods:
                v = mods["fixed"][i]
                r["free"], r["ustart"] = (1, _NAN) if math.isnan(v) else (0, float(v))
            if "start" in mods:
                r["ustart"] = float(mods["start"][i])
            if "lower" in mods:
                r["lower"], bounds = float(mods["lower"][i]), True
            if "upper" in mods:
                r["upper"], bounds = float(mods["upper"][i]), True
            if "label" in mods:
                r["label"] = mods["label"][i]
    return bounds


def _equality_labels(rows: list[dict], opt: SpecOptions) -> list[str]:
    """lavaan's internal labels: user label, else ``lhs op rhs`` (``.gN`` in group N)."""
    base = [f"{r['lhs']}{r['op']}{r['rhs']}" for r in rows]
    labels = [
        b if r["group"] == 1 else f"{b}.g{r['group']}" for b, r in zip(base, rows, strict=True)
    ]
    eq = opt.group_equal
    if opt.ngroups > 1 and eq:
        g1 = [r for r in rows if r["group"] == 1]
        names = variable_names(g1)
        nox, ordv, lv = set(names.ov_nox), set(names.ov_ord), set(names.lv)
        rules = {
            "loadings": lambda r: r["op"] == "=~",
            "intercepts": lambda r: r["op"] == "~1" and r["lhs"] in nox,
            "thresholds": lambda r: r["op"] == "|" and r["lhs"] in ordv,
            "means": lambda r: r["op"] == "~1" and r["lhs"] in lv,
            "regressions": lambda r: r["op"] == "~",
            "residuals": lambda r: r["op"] == "~~" and r["lhs"] in nox and r["lhs"] == r["rhs"],
            "residual.covariances": lambda r: (
                r["op"] == "~~" and r["lhs"] in nox and r["lhs"] != r["rhs"]
            ),
            "lv.variances": lambda r: r["op"] == "~~" and r["lhs"] in lv and r["lhs"] == r["rhs"],
            "lv.covariances": lambda r: r["op"] == "~~" and r["lhs"] in lv and r["lhs"] != r["rhs"],
        }
        partial = set(opt.group_partial)
        ref_label = {}
        for i, r in enumerate(rows):
            if r["group"] != 1 or base[i] in partial:
                continue
            if any(rules[k](r) for k in eq):
                ref_label[(r["lhs"], r["op"], r["rhs"])] = labels[i]
        for i, r in enumerate(rows):
            key = (r["lhs"], r["op"], r["rhs"])
            if r["group"] > 1 and key in ref_label:
                labels[i] = ref_label[key]
    return [r["label"] if r["label"] else lab for r, lab in zip(rows, labels, strict=True)]


def equality_constraints(rows: list[dict], opt: SpecOptions) -> list[dict]:
    labels = _equality_labels(rows, opt)
    positions: dict[str, list[int]] = {}
    dup_order: list[str] = []
    for i, lab in enumerate(labels):
        if lab in positions and lab not in dup_order:
            dup_order.append(lab)
        positions.setdefault(lab, []).append(i)
    extra = []
    for lab in dup_order:
        idx = positions[lab]
        ref = idx[0]
        fixed = [i for i in idx if rows[i]["free"] == 0]
        lows = [rows[i]["lower"] for i in idx if math.isfinite(rows[i]["lower"])]
        ups = [rows[i]["upper"] for i in idx if math.isfinite(rows[i]["upper"])]
        for i in idx:
            if lows:
                rows[i]["lower"] = min(lows)
            if ups:
                rows[i]["upper"] = max(ups)
        if fixed:
            values = {rows[i]["ustart"] for i in fixed}
            if len(values) > 1:
                desc = ", ".join(
                    f"{rows[i]['lhs']} {rows[i]['op']} {rows[i]['rhs'] or '1'} = "
                    f"{rows[i]['ustart']:g}"
                    for i in fixed
                )
                _, line, column = rows[fixed[-1]].get("where") or (None, None, None)
                raise ModelSpecificationError(
                    f"label {lab!r} is shared by parameters fixed to different values ({desc})",
                    line,
                    column,
                )
            value = rows[fixed[0]]["ustart"]
            for i in idx:
                rows[i]["ustart"], rows[i]["free"] = value, 0
            continue
        for o in idx[1:]:
            extra.append(
                {"lhs": rows[ref]["plabel"], "op": "==", "rhs": rows[o]["plabel"], "user": 2}
            )
        for i in idx:
            if not rows[i]["label"]:
                rows[i]["label"] = rows[ref]["plabel"]
    return extra


def check_constraints(rows: list[dict], constraints: list[Statement]) -> None:
    known = {r["label"] for r in rows if r["label"]} | {r["plabel"] for r in rows}
    variables = {r["lhs"] for r in rows} | {r["rhs"] for r in rows if r["rhs"]}
    all_defined = {s.left.text for s in constraints if s.op == ":="}
    defined: set[str] = set()
    for stmt in constraints:
        used = (stmt.left.names if stmt.op != ":=" else ()) + stmt.right.names
        allowed = defined if stmt.op == ":=" else all_defined
        unknown = [n for n in dict.fromkeys(used) if n not in known and n not in allowed]
        if stmt.op == ":=":
            name = stmt.left.text
            if name in known or name in defined:
                raise ModelSpecificationError(
                    f"':=' defines {name!r}, which is already a label", stmt.line, stmt.column
                )
            if name in variables:
                raise ModelSpecificationError(
                    f"':=' defines {name!r}, which is a variable of the model",
                    stmt.line,
                    stmt.column,
                )
        if unknown:
            what = "definition" if stmt.op == ":=" else "constraint"
            first = unknown[0]
            line, column = stmt.right.position(first)
            if line is None and stmt.op != ":=":
                line, column = stmt.left.position(first)
            raise ModelSpecificationError(
                f"unknown label(s) {', '.join(unknown)} in the {what} "
                f"'{stmt.text}'; labels are set in the model (e.g. a*x1) "
                + ("or by an earlier ':=' line" if stmt.op == ":=" else "or by ':=' lines"),
                line or stmt.line,
                column or stmt.column,
            )
        if stmt.op == ":=":
            defined.add(stmt.left.text)
