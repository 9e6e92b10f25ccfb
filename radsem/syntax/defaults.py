"""Default rows and lavaan's automatic fixing rules (``lav_partable_flat``, lavaan 0.6-14).

Rows are dicts with keys ``lhs, op, rhs, user, exo, free, ustart`` (and ``group`` after
:func:`replicate_groups`).
"""

from __future__ import annotations

import math
from itertools import combinations

from radsem.syntax.names import VariableNames
from radsem.syntax.options import SpecOptions

__all__ = ["default_rows", "auto_fix", "replicate_groups"]

_NAN = math.nan


def default_rows(names: VariableNames, ov_ord: list[str], counts, opt: SpecOptions):
    rows: list[tuple[str, str, str]] = []
    for v in ov_ord:
        rows += [(v, "|", f"t{k}") for k in range(1, counts.get(v, 0) + 1)]
    rows += [(v, "~~", v) for v in (*names.ov_nox, *names.lv)]
    if opt.auto_cov_lv_x and len(names.lv_x) > 1:
        rows += [(a, "~~", b) for a, b in combinations(names.lv_x, 2)]
    lvov_y = names.lv_y + names.ov_y
    if opt.auto_cov_y and len(lvov_y) > 1:
        rows += [(a, "~~", b) for a, b in combinations(lvov_y, 2)]
    x = names.ov_x
    rows += [(x[j], "~~", x[i]) for j in range(len(x)) for i in range(j, len(x))]
    rows += [(v, "~*~", v) for v in ov_ord]
    if opt.meanstructure:
        rows += [(v, "~1", "") for v in (*names.ov, *names.lv)]
    return [
        {"lhs": a, "op": o, "rhs": b, "user": 0, "exo": 0, "mods": {}, "where": None}
        for a, o, b in rows
    ]


def _set(rows, pred, free=None, ustart=None, exo=None) -> None:
    for r in rows:
        if pred(r):
            if free is not None:
                r["free"] = free
            if ustart is not None:
                r["ustart"] = ustart
            if exo is not None:
                r["exo"] = exo


def _is_var(r: dict) -> bool:
    return r["op"] == "~~" and r["lhs"] == r["rhs"]


def _is_default(r: dict) -> bool:
    return r["user"] == 0


def _single_indicators(rows: list[dict]) -> set[str]:
    """Indicators of one-indicator latent variables that load on nothing else."""
    mm = [r for r in rows if r["op"] == "=~"]
    per_lv: dict[str, int] = {}
    per_ind: dict[str, int] = {}
    for r in mm:
        per_lv[r["lhs"]] = per_lv.get(r["lhs"], 0) + 1
        per_ind[r["rhs"]] = per_ind.get(r["rhs"], 0) + 1
    return {
        r["rhs"]
        for r in mm
        if per_lv[r["lhs"]] == 1 and r["lhs"] != r["rhs"] and per_ind[r["rhs"]] == 1
    }


def _fix_identification(rows: list[dict], lv: set[str], opt: SpecOptions) -> None:
    if not opt.auto_th:
        _set(rows, lambda r: r["op"] == "|" and _is_default(r), free=0)
    if not opt.auto_var:
        _set(rows, lambda r: _is_var(r) and _is_default(r), free=0, ustart=0.0)
    if opt.std_lv:
        _set(rows, lambda r: _is_var(r) and r["lhs"] in lv, free=0, ustart=1.0)
    if opt.auto_fix_first:
        seen = set()
        for r in rows:
            if r["op"] == "=~" and r["lhs"] not in seen:
                seen.add(r["lhs"])
                r["free"], r["ustart"] = 0, 1.0
    if opt.auto_var and opt.auto_fix_single:
        single = _single_indicators(rows)
        _set(
            rows, lambda r: _is_var(r) and r["lhs"] in single and _is_default(r), free=0, ustart=0.0
        )


def _fix_covariances(rows: list[dict], names: VariableNames, opt: SpecOptions) -> None:
    for flag, group in (
        (opt.orthogonal, set(names.lv)),
        (opt.orthogonal_y, set(names.lv_y)),
        (opt.orthogonal_x, set(names.lv_x)),
    ):
        if flag:
            _set(
                rows,
                lambda r, s=group: (
                    r["op"] == "~~"
                    and r["lhs"] != r["rhs"]
                    and _is_default(r)
                    and r["lhs"] in s
                    and r["rhs"] in s
                ),
                free=0,
                ustart=0.0,
            )


def _fix_means(rows: list[dict], names: VariableNames, ov_ord, opt: SpecOptions) -> None:
    if not opt.meanstructure:
        return
    for flag, group in (
        (bool(ov_ord), set(ov_ord)),
        (not opt.int_ov_free, set(names.ov)),
        (not opt.int_lv_free, set(names.lv)),
    ):
        if flag:
            _set(
                rows,
                lambda r, s=group: r["op"] == "~1" and r["lhs"] in s and _is_default(r),
                free=0,
                ustart=0.0,
            )


def _fix_exogenous(rows: list[dict], names: VariableNames, opt: SpecOptions) -> None:
    x = set(names.ov_x)
    if not x or not (opt.fixed_x or opt.conditional_x):
        return
    fix = 0 if opt.fixed_x else None
    start = _NAN if opt.fixed_x else None
    _set(
        rows,
        lambda r: r["op"] == "~~" and r["lhs"] in x and r["rhs"] in x and _is_default(r),
        free=fix,
        ustart=start,
        exo=1,
    )
    _set(
        rows,
        lambda r: r["op"] == "~1" and r["lhs"] in x and _is_default(r),
        free=fix,
        ustart=start,
        exo=1,
    )
    if opt.conditional_x:
        nox = set(names.lv) | set(names.ov_nox)
        _set(rows, lambda r: r["op"] == "~" and r["lhs"] in nox and r["rhs"] in x, exo=1)


def auto_fix(rows: list[dict], names: VariableNames, ov_ord, opt: SpecOptions) -> None:
    """Apply lavaan's fixing rules within one group, in lavaan's order (later rules win)."""
    _fix_identification(rows, set(names.lv), opt)
    _fix_covariances(rows, names, opt)
    _fix_means(rows, names, ov_ord, opt)
    _fix_exogenous(rows, names, opt)
    if ov_ord:
        o = set(ov_ord)
        _set(rows, lambda r: _is_var(r) and r["lhs"] in o and _is_default(r), free=0, ustart=1.0)
        _set(rows, lambda r: r["op"] == "~*~" and _is_default(r), free=0, ustart=1.0)


def replicate_groups(
    rows: list[dict], names: VariableNames, ov_ord, opt: SpecOptions
) -> list[dict]:
    """Copy the rows once per group and free what lavaan frees in groups 2, 3, ..."""
    out: list[dict] = []
    lv = set(names.lv)
    eq = opt.group_equal
    for g in range(1, opt.ngroups + 1):
        grp = [dict(r, group=g) for r in rows]
        if g > 1:
            if (
                opt.meanstructure
                and not opt.int_lv_free
                and ("intercepts" in eq or "thresholds" in eq)
                and "means" not in eq
            ):
                _set(
                    grp,
                    lambda r: r["op"] == "~1" and r["lhs"] in lv and r["user"] == 0,
                    free=1,
                    ustart=_NAN,
                )
            if opt.std_lv and "loadings" in eq and "lv.variances" not in eq:
                _set(
                    grp,
                    lambda r: (
                        r["op"] == "~~"
                        and r["lhs"] == r["rhs"]
                        and r["lhs"] in lv
                        and r["user"] == 0
                    ),
                    free=1,
                    ustart=_NAN,
                )
            if "thresholds" in eq and any(r["op"] == "~*~" for r in grp):
                if opt.auto_delta and opt.parameterization == "delta":
                    _set(grp, lambda r: r["op"] == "~*~", free=1, ustart=_NAN)
                elif opt.parameterization == "theta":
                    o = set(ov_ord)
                    _set(
                        grp,
                        lambda r: r["op"] == "~~" and r["lhs"] == r["rhs"] and r["lhs"] in o,
                        free=1,
                        ustart=_NAN,
                    )
        out += grp
    return out
