"""Classify the variables of a model the way lavaan does (``lavNames``).

Works on any sequence of row mappings with keys ``lhs``, ``op``, ``rhs`` and optionally
``user`` and ``exo`` (missing ``user`` counts as 1, missing ``exo`` as 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["VariableNames", "variable_names"]

_CONSTRAINT_OPS = {"==", "<", ">", ":="}


def _unique(seq) -> list[str]:
    seen: dict[str, None] = {}
    for x in seq:
        seen.setdefault(x, None)
    return list(seen)


@dataclass(frozen=True)
class VariableNames:
    """Variable names by role, each in lavaan's order.

    Attributes mirror lavaan's ``lavNames`` types: ``lv``, ``ov``, ``ov_x`` (exogenous
    covariates treated as fixed), ``ov_nox``, ``ov_y`` (pure outcomes), ``ov_ind``
    (indicators), ``ov_ord`` (with thresholds), ``lv_x`` (exogenous latent), ``lv_y``
    (purely endogenous latent).
    """

    lv: tuple[str, ...]
    ov: tuple[str, ...]
    ov_x: tuple[str, ...]
    ov_nox: tuple[str, ...]
    ov_y: tuple[str, ...]
    ov_ind: tuple[str, ...]
    ov_ord: tuple[str, ...]
    lv_x: tuple[str, ...]
    lv_y: tuple[str, ...]


def variable_names(rows: Sequence[Mapping]) -> VariableNames:
    """Return lavaan's variable classification for one block of a parameter table."""
    rows = [r for r in rows if r["op"] not in _CONSTRAINT_OPS]

    def col(op: str | set[str], key: str) -> list[str]:
        ops = {op} if isinstance(op, str) else op
        return [r[key] for r in rows if r["op"] in ops]

    lv = _unique(col({"=~", "<~"}, "lhs"))
    lv_set = set(lv)
    eqs_y = _unique(col("~", "lhs"))
    eqs_x = _unique(col({"~", "<~"}, "rhs"))
    v_ind = _unique(col("=~", "rhs"))
    ov_ind = [v for v in v_ind if v not in lv_set]
    ov_y_inner = [v for v in eqs_y if v not in lv_set and v not in ov_ind]
    ov_x_inner = [v for v in eqs_x if v not in lv_set and v not in ov_ind and v not in ov_y_inner]

    cov_rows = [r for r in rows if r["op"] == "~~"]
    ov_cov = [r["lhs"] for r in cov_rows if r["lhs"] not in lv_set]
    ov_cov += [r["rhs"] for r in cov_rows if r["rhs"] not in lv_set]
    ov_int = [r["lhs"] for r in rows if r["op"] in ("~1", "|") and r["lhs"] not in lv_set]
    ov_tmp = ov_ind + ov_y_inner + ov_x_inner
    extra = _unique(ov_cov + ov_int)
    ov = ov_tmp + [v for v in extra if v not in ov_tmp]

    user_vars = set()
    for r in rows:
        if r.get("user", 1) == 1 and r["op"] in ("~1", "~~"):
            user_vars.add(r["lhs"])
            if r["op"] == "~~":
                user_vars.add(r["rhs"])
    ov_x = [v for v in ov_x_inner if v not in user_vars]
    exo_rows = [r for r in rows if r.get("exo", 0) == 1]
    exo_extra = _unique(
        [r["lhs"] for r in exo_rows if r["op"] == "~~"]
        + [r["rhs"] for r in exo_rows if r["op"] == "~~"]
        + [r["lhs"] for r in exo_rows if r["op"] == "~1"]
    )
    ov_x = ov_x + [v for v in exo_extra if v not in ov_x]
    ov_x_set = set(ov_x)
    ov_nox = [v for v in ov if v not in ov_x_set]

    th_lhs = set(col("|", "lhs"))
    ov_ord = [v for v in ov if v in th_lhs]

    ind_set = set(v_ind)
    eqs_y_set = set(eqs_y)
    eqs_x_set = set(eqs_x)
    lv_x = [v for v in lv if v not in ind_set and v not in eqs_y_set]
    pure_y = {v for v in eqs_y if v not in ind_set and v not in eqs_x_set and v not in lv_set}
    ov_y = [v for v in ov if v in pure_y]
    lv_y_set = {v for v in eqs_y if v not in ind_set and v not in eqs_x_set and v in lv_set}
    lv_y = [v for v in lv if v in lv_y_set]
    return VariableNames(
        lv=tuple(lv),
        ov=tuple(ov),
        ov_x=tuple(ov_x),
        ov_nox=tuple(ov_nox),
        ov_y=tuple(ov_y),
        ov_ind=tuple(ov_ind),
        ov_ord=tuple(ov_ord),
        lv_x=tuple(lv_x),
        lv_y=tuple(lv_y),
    )
