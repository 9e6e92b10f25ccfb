"""Build lavaan's full parameter table from parsed model syntax.

The steps follow lavaan 0.6-14 (``lavaanify`` and ``lav_partable_flat``) so that the rows,
their order and the numbering of free parameters are identical:

1. the user's formulas, one row per (lhs, op, rhs), covariances ordered latent-first;
2. default rows: thresholds, (residual) variances, covariances among exogenous latent
   variables and among endogenous variables, exogenous covariate (co)variances, intercepts;
3. fixing and freeing by the auto options (marker variables, ``std_lv``, fixed.x, ...);
4. replication per group, then the user's modifiers (``2*``, ``NA*``, ``start()``, labels);
5. equality by shared labels and ``group_equal`` as ``.pN. == .pM.`` rows, then the user's
   ``==``, ``<``, ``>`` and ``:=`` rows; free parameters numbered 1..n in table order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import combinations

import pandas as pd

from radsem.errors import DataError, ModelSpecificationError, ModelSyntaxError
from radsem.spec.model import ModelSpec
from radsem.spec.names import VariableNames, variable_names
from radsem.spec.options import SpecOptions, resolve_options
from radsem.spec.syntax import Statement, parse_model

__all__ = ["build_partable", "PARTABLE_COLUMNS"]

#: columns of :attr:`ModelSpec.partable`, in order
PARTABLE_COLUMNS = (
    "id", "lhs", "op", "rhs", "user", "block", "group", "free", "ustart", "exo",
    "label", "plabel", "lower", "upper",
)  # fmt: skip

_NAN = math.nan


def _syntax_error(stmt: Statement, line: int, column: int, message: str) -> ModelSyntaxError:
    return ModelSyntaxError(message, line, column, stmt.text if line == stmt.line else None)


def _flatten(statements: Sequence[Statement]) -> tuple[list[dict], list[Statement]]:
    """User rows (with their modifiers) and constraint statements, as lavaan's FLAT."""
    rows: list[dict] = []
    seen: dict[tuple[str, str, str], dict] = {}
    constraints = []
    for stmt in statements:
        if stmt.is_constraint:
            constraints.append(stmt)
            continue
        for lhs in stmt.lhs:
            for term in stmt.rhs:
                op = "~1" if (stmt.op == "~" and term.name == "") else stmt.op
                rhs = term.name
                if op == "=~" and lhs == rhs:
                    raise _syntax_error(
                        stmt, term.line, term.column,
                        f"latent variable {lhs!r} cannot be measured by itself",
                    )  # fmt: skip
                if op == "~" and lhs == rhs:
                    raise _syntax_error(
                        stmt, term.line, term.column, f"{lhs!r} is regressed on itself"
                    )
                keys = [(lhs, op, rhs)] + ([(rhs, op, lhs)] if op == "~~" else [])
                if any(k in seen for k in keys):
                    raise _syntax_error(
                        stmt, term.line, term.column,
                        f"duplicate model element: {lhs} {op} {rhs or '1'}",
                    )  # fmt: skip
                row = {
                    "lhs": lhs, "op": op, "rhs": rhs, "user": 1, "exo": 0,
                    "mods": {m.kind: m.values for m in term.modifiers},
                    "where": (stmt, term.line, term.column),
                }  # fmt: skip
                seen[(lhs, op, rhs)] = row
                rows.append(row)
    return rows, constraints


def _reorder_covariances(rows: list[dict]) -> None:
    names = variable_names(rows)
    order = {v: i for i, v in enumerate(names.lv + tuple(v for v in names.ov))}
    for r in rows:
        if r["op"] == "~~" and r["lhs"] != r["rhs"]:
            if order.get(r["lhs"], 0) > order.get(r["rhs"], 0):
                r["lhs"], r["rhs"] = r["rhs"], r["lhs"]


def _ordered_names(
    ordered, names: VariableNames, user_rows: list[dict]
) -> tuple[list[str], dict[str, int]]:
    if ordered is None:
        ordered = ()
    if isinstance(ordered, str):
        ordered = (ordered,)
    counts: dict[str, int] = {}
    if isinstance(ordered, Mapping):
        for name, n in ordered.items():
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ModelSpecificationError(
                    f"ordered[{name!r}] must be the number of thresholds (an integer >= 1)"
                )
            counts[name] = n
        declared = list(ordered)
    else:
        declared = list(ordered)
    exo_ord = [v for v in (*declared, *names.ov_ord) if v in names.ov_x]
    if exo_ord:
        raise ModelSpecificationError(
            "ordered variable(s) used as exogenous covariate(s): "
            f"{', '.join(dict.fromkeys(exo_ord))}; radsem (like lavaan) treats exogenous "
            "covariates as numeric: remove them from `ordered` or code them as dummies"
        )
    wanted = set(names.ov_ord) | set(declared)
    ov_ord = [v for v in names.ov if v in wanted]
    with_user_th = {r["lhs"] for r in user_rows if r["op"] == "|"}
    unknown = [v for v in ov_ord if v not in counts and v not in with_user_th]
    if unknown:
        raise ModelSpecificationError(
            f"number of thresholds unknown for ordered variable(s) {', '.join(unknown)}: "
            "pass ordered as a mapping {name: n_thresholds} (categories - 1) or write "
            "'x | t1 + t2 + ...' in the model"
        )
    return ov_ord, counts


def _default_rows(names: VariableNames, ov_ord: list[str], counts, opt: SpecOptions):
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


def _auto_fix(rows: list[dict], names: VariableNames, ov_ord, opt: SpecOptions) -> None:
    """lavaan's fixing rules within one group (``lav_partable_flat``)."""
    lv, ov = set(names.lv), set(names.ov)
    var = lambda r: r["op"] == "~~" and r["lhs"] == r["rhs"]  # noqa: E731
    default = lambda r: r["user"] == 0  # noqa: E731
    if not opt.auto_th:
        _set(rows, lambda r: r["op"] == "|" and default(r), free=0)
    if not opt.auto_var:
        _set(rows, lambda r: var(r) and default(r), free=0, ustart=0.0)
    if opt.std_lv:
        _set(rows, lambda r: var(r) and r["lhs"] in lv, free=0, ustart=1.0)
    mm = [r for r in rows if r["op"] == "=~"]
    if opt.auto_fix_first:
        seen = set()
        for r in mm:
            if r["lhs"] not in seen:
                seen.add(r["lhs"])
                r["free"], r["ustart"] = 0, 1.0
    if opt.auto_var and opt.auto_fix_single:
        counts: dict[str, int] = {}
        for r in mm:
            counts[r["lhs"]] = counts.get(r["lhs"], 0) + 1
        rhs_counts: dict[str, int] = {}
        for r in mm:
            rhs_counts[r["rhs"]] = rhs_counts.get(r["rhs"], 0) + 1
        single = {
            r["rhs"] for r in mm
            if counts[r["lhs"]] == 1 and r["lhs"] != r["rhs"] and rhs_counts[r["rhs"]] == 1
        }  # fmt: skip
        _set(rows, lambda r: var(r) and r["lhs"] in single and default(r), free=0, ustart=0.0)
    cov = lambda r, s: (  # noqa: E731
        r["op"] == "~~" and r["lhs"] != r["rhs"] and default(r)
        and r["lhs"] in s and r["rhs"] in s
    )  # fmt: skip
    if opt.orthogonal:
        _set(rows, lambda r: cov(r, lv), free=0, ustart=0.0)
    if opt.orthogonal_y:
        _set(rows, lambda r: cov(r, set(names.lv_y)), free=0, ustart=0.0)
    if opt.orthogonal_x:
        _set(rows, lambda r: cov(r, set(names.lv_x)), free=0, ustart=0.0)
    if opt.meanstructure:
        mean = lambda r, s: r["op"] == "~1" and r["lhs"] in s and default(r)  # noqa: E731
        if ov_ord:
            _set(rows, lambda r: mean(r, set(ov_ord)), free=0, ustart=0.0)
        if not opt.int_ov_free:
            _set(rows, lambda r: mean(r, ov), free=0, ustart=0.0)
        if not opt.int_lv_free:
            _set(rows, lambda r: mean(r, lv), free=0, ustart=0.0)
    x = set(names.ov_x)
    if x and (opt.fixed_x or opt.conditional_x):
        fix = 0 if opt.fixed_x else None
        start = _NAN if opt.fixed_x else None
        _set(rows, lambda r: r["op"] == "~~" and r["lhs"] in x and r["rhs"] in x and default(r),
             free=fix, ustart=start, exo=1)  # fmt: skip
        _set(rows, lambda r: r["op"] == "~1" and r["lhs"] in x and default(r),
             free=fix, ustart=start, exo=1)  # fmt: skip
    if x and opt.conditional_x:
        nox = lv | set(names.ov_nox)
        _set(rows, lambda r: r["op"] == "~" and r["lhs"] in nox and r["rhs"] in x, exo=1)
    if ov_ord:
        o = set(ov_ord)
        _set(rows, lambda r: var(r) and r["lhs"] in o and default(r), free=0, ustart=1.0)
        _set(rows, lambda r: r["op"] == "~*~" and default(r), free=0, ustart=1.0)


def _replicate(rows: list[dict], names: VariableNames, ov_ord, opt: SpecOptions) -> list[dict]:
    out: list[dict] = []
    lv = set(names.lv)
    eq = opt.group_equal
    for g in range(1, opt.ngroups + 1):
        grp = [dict(r, group=g) for r in rows]
        if g > 1:
            if (
                opt.meanstructure and not opt.int_lv_free
                and ("intercepts" in eq or "thresholds" in eq) and "means" not in eq
            ):  # fmt: skip
                _set(grp, lambda r: r["op"] == "~1" and r["lhs"] in lv and r["user"] == 0,
                     free=1, ustart=_NAN)  # fmt: skip
            if opt.std_lv and "loadings" in eq and "lv.variances" not in eq:
                _set(grp, lambda r: r["op"] == "~~" and r["lhs"] == r["rhs"]
                     and r["lhs"] in lv and r["user"] == 0, free=1, ustart=_NAN)  # fmt: skip
            if "thresholds" in eq and any(r["op"] == "~*~" for r in grp):
                if opt.auto_delta and opt.parameterization == "delta":
                    _set(grp, lambda r: r["op"] == "~*~", free=1, ustart=_NAN)
                elif opt.parameterization == "theta":
                    o = set(ov_ord)
                    _set(grp, lambda r: r["op"] == "~~" and r["lhs"] == r["rhs"]
                         and r["lhs"] in o, free=1, ustart=_NAN)  # fmt: skip
        out += grp
    return out


def _apply_modifiers(rows: list[dict], ngroups: int) -> bool:
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
                    f"line {line}, column {column}: modifier of "
                    f"{r['lhs']} {r['op']} {r['rhs'] or '1'} has {len(values)} values but the "
                    f"model has {ngroups} group(s); give one value, or one per group"
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
    labels = [b if r["group"] == 1 else f"{b}.g{r['group']}" for b, r in zip(base, rows, strict=True)]
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
            "residual.covariances": lambda r: r["op"] == "~~" and r["lhs"] in nox
            and r["lhs"] != r["rhs"],
            "lv.variances": lambda r: r["op"] == "~~" and r["lhs"] in lv and r["lhs"] == r["rhs"],
            "lv.covariances": lambda r: r["op"] == "~~" and r["lhs"] in lv
            and r["lhs"] != r["rhs"],
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


def _equality_constraints(rows: list[dict], opt: SpecOptions) -> list[dict]:
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
                raise ModelSpecificationError(
                    f"label {lab!r} is shared by parameters fixed to different values ({desc})"
                )
            value = rows[fixed[0]]["ustart"]
            for i in idx:
                rows[i]["ustart"], rows[i]["free"] = value, 0
            continue
        for o in idx[1:]:
            extra.append({"lhs": rows[ref]["plabel"], "op": "==", "rhs": rows[o]["plabel"],
                          "user": 2})  # fmt: skip
        for i in idx:
            if not rows[i]["label"]:
                rows[i]["label"] = rows[ref]["plabel"]
    return extra


def _check_constraints(rows: list[dict], constraints: list[Statement]) -> None:
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
                    f"line {stmt.line}: ':=' defines {name!r}, which is already a label"
                )
            if name in variables:
                raise ModelSpecificationError(
                    f"line {stmt.line}: ':=' defines {name!r}, which is a variable of the model"
                )
        if unknown:
            what = "definition" if stmt.op == ":=" else "constraint"
            raise ModelSpecificationError(
                f"line {stmt.line}: unknown label(s) {', '.join(unknown)} in the {what} "
                f"'{stmt.text}'; labels are set in the model (e.g. a*x1) "
                + ("or by an earlier ':=' line" if stmt.op == ":=" else "or by ':=' lines")
            )
        if stmt.op == ":=":
            defined.add(stmt.left.text)


def _check_observed(names: VariableNames, observed, ordered_declared) -> None:
    if observed is None:
        return
    if isinstance(observed, str) or not all(isinstance(c, str) for c in observed):
        raise DataError("observed must be a list of column names (strings)")
    columns = list(observed)
    have = set(columns)
    missing = [v for v in names.ov if v not in have]
    if missing:
        msg = (
            f"variable(s) not found in the data: {', '.join(missing)}. "
            "Names in the model must be data columns or latent variables (defined with =~)"
        )
        if len(columns) <= 30:
            msg += f"; available columns: {', '.join(columns)}"
        raise DataError(msg)
    clash = [v for v in names.lv if v in have]
    if clash:
        raise ModelSpecificationError(
            f"latent variable name(s) {', '.join(clash)} are also columns of the data; "
            "rename the latent variable(s)"
        )
    absent = [v for v in ordered_declared if v not in have]
    if absent:
        raise DataError(f"ordered variable(s) not found in the data: {', '.join(absent)}")


def build_partable(
    model: str | Sequence[Statement],
    observed: Sequence[str] | None = None,
    *,
    model_type: str = "sem",
    ngroups: int = 1,
    group_labels: Sequence | None = None,
    meanstructure: bool | str = "default",
    std_lv: bool = False,
    orthogonal: bool = False,
    orthogonal_x: bool = False,
    orthogonal_y: bool = False,
    fixed_x: bool | str = "default",
    conditional_x: bool | str = "default",
    int_ov_free: bool | None = None,
    int_lv_free: bool | None = None,
    auto_fix_first: bool | None = None,
    auto_fix_single: bool | None = None,
    auto_var: bool | None = None,
    auto_cov_lv_x: bool | None = None,
    auto_cov_y: bool | None = None,
    auto_th: bool | None = None,
    auto_delta: bool | None = None,
    group_equal: Sequence[str] = (),
    group_partial: Sequence[str] = (),
    ordered: Sequence[str] | Mapping[str, int] = (),
    parameterization: str = "delta",
    estimator: str = "default",
    missing: str = "listwise",
) -> ModelSpec:
    """Turn lavaan model syntax into lavaan's full parameter table.

    Parameters
    ----------
    model : str or list of Statement
        lavaan model syntax (or the output of :func:`parse_model`).
    observed : sequence of str, optional
        Column names of the data. Every non-latent name in the model must be one of them,
        else :class:`DataError` names all missing variables.
    model_type : {"sem", "cfa", "growth", "lavaan"}
        Which lavaan function's defaults to apply. ``sem``/``cfa``: marker variables
        (``auto_fix_first``), free residual and latent variances, covariances among
        exogenous latent variables and among endogenous variables, free observed
        intercepts. ``growth``: the same, but observed intercepts fixed to 0, latent means
        free and a mean structure. ``lavaan``: nothing automatic (all ``auto_*`` False).
    ngroups, group_labels : int, sequence
        Number of groups (rows are replicated per group) and their labels.
    meanstructure : bool or "default"
        "default" as lavaan: True with intercepts in the syntax, several groups,
        ``missing="ml"``, growth models, ordered variables, ``conditional_x`` or
        ``group_equal`` containing intercepts/means.
    std_lv : bool
        Fix latent variances to 1 instead of the first loading.
    orthogonal, orthogonal_x, orthogonal_y : bool
        Fix the default covariances among (exogenous / endogenous) latent variables to 0.
    fixed_x : bool or "default"
        Treat exogenous observed covariates as fixed (rows with ``exo = 1``). Default True
        for ML-family estimators, else as ``conditional_x``.
    conditional_x : bool or "default"
        lavaan's conditional.x (default True only for ordered data with non-ML estimators).
    int_ov_free, int_lv_free, auto_* : bool or None
        Override single defaults of ``model_type`` (lavaan's names, ``.`` as ``_``).
    group_equal, group_partial : sequence of str
        Cross-group equality (lavaan's names: loadings, intercepts, means, regressions,
        residuals, residual.covariances, thresholds, lv.variances, lv.covariances) and
        parameters exempt from it, written ``"f =~ x3"`` or ``"x3 ~ 1"``.
    ordered : sequence of str or mapping str -> int
        Ordered-categorical variables; a mapping gives the number of thresholds
        (categories - 1). Names alone need ``x | t1 + t2 ...`` lines in the model.
    parameterization : {"delta", "theta"}
    estimator, missing : str
        Only used to resolve defaults as lavaan does (``fixed_x``, ``conditional_x``,
        ``meanstructure``).

    Returns
    -------
    ModelSpec

    Raises
    ------
    ModelSyntaxError
        Malformed syntax (with line and column), duplicate elements.
    ModelSpecificationError
        Inconsistent model: conflicting fixed values for one label, unknown labels in
        constraints, ``c()`` with the wrong number of values, ordered exogenous covariates,
        unknown options.
    DataError
        Variables absent from ``observed``.

    Notes
    -----
    Follows lavaan 0.6-14's ``lavaanify`` (with the options ``sem()``, ``cfa()`` and
    ``growth()`` pass to it) step by step; the tests compare every row, the free
    numbering, ``ustart``, ``exo``, labels and constraint rows with lavaan through rpy2.

    Examples
    --------
    >>> spec = build_partable("f =~ x1 + x2 + x3", model_type="cfa")
    >>> spec.partable[["lhs", "op", "rhs", "free", "ustart"]].head(3)
      lhs  op rhs  free  ustart
    0   f  =~  x1     0     1.0
    1   f  =~  x2     1     NaN
    2   f  =~  x3     2     NaN
    """
    statements = parse_model(model) if isinstance(model, str) else list(model)
    if not statements:
        raise ModelSyntaxError("empty model: no formulas found", 1, 1, None)
    if not all(isinstance(s, Statement) for s in statements):
        raise ModelSpecificationError("model must be lavaan syntax or a list of Statement")
    user_rows, constraints = _flatten(statements)
    if not user_rows:
        stmt = constraints[0]
        raise ModelSyntaxError(
            "the model has only constraints/definitions and no parameters",
            stmt.line,
            stmt.column,
            stmt.text,
        )
    _reorder_covariances(user_rows)
    names = variable_names(user_rows)
    ordered_declared = list(ordered) if not isinstance(ordered, str) else [ordered]
    _check_observed(names, observed, ordered_declared)
    ordered_in_model = {v: n for v, n in (
        ordered.items() if isinstance(ordered, Mapping) else ((v, None) for v in ordered_declared)
    ) if v in names.ov}  # fmt: skip
    if isinstance(ordered, Mapping):
        ordered_arg = {v: n for v, n in ordered_in_model.items()}
    else:
        ordered_arg = list(ordered_in_model)
    ov_ord, counts = _ordered_names(ordered_arg, names, user_rows)
    auto = {
        "auto_fix_first": auto_fix_first, "auto_fix_single": auto_fix_single,
        "auto_var": auto_var, "auto_cov_lv_x": auto_cov_lv_x, "auto_cov_y": auto_cov_y,
        "auto_th": auto_th, "auto_delta": auto_delta,
    }  # fmt: skip
    opt = resolve_options(
        model_type=model_type, ngroups=ngroups,
        has_intercepts=any(r["op"] == "~1" for r in user_rows),
        categorical=bool(ov_ord), has_ov_x=bool(names.ov_x), meanstructure=meanstructure,
        std_lv=std_lv, orthogonal=orthogonal, orthogonal_x=orthogonal_x,
        orthogonal_y=orthogonal_y, fixed_x=fixed_x, conditional_x=conditional_x,
        int_ov_free=int_ov_free, int_lv_free=int_lv_free, auto=auto,
        group_equal=group_equal, group_partial=group_partial,
        parameterization=parameterization, estimator=estimator, missing=missing,
    )  # fmt: skip
    if group_labels is not None and len(group_labels) != ngroups:
        raise ModelSpecificationError(
            f"{len(group_labels)} group labels given for ngroups={ngroups}"
        )

    defaults = _default_rows(names, ov_ord, counts, opt)
    user_keys = {(r["lhs"], r["op"], r["rhs"]) for r in user_rows}
    rows = user_rows + [r for r in defaults if (r["lhs"], r["op"], r["rhs"]) not in user_keys]
    for r in rows:
        r.update(free=1, ustart=_NAN, label="", lower=-math.inf, upper=math.inf)
    _auto_fix(rows, names, ov_ord, opt)
    rows = _replicate(rows, names, ov_ord, opt)
    bounds = _apply_modifiers(rows, opt.ngroups)
    if bounds:
        for r in rows:
            if r["free"] == 0:
                r["lower"] = r["upper"] = r["ustart"]
    for i, r in enumerate(rows, start=1):
        r["id"], r["plabel"], r["block"] = i, f".p{i}.", r["group"]
    eq_rows = _equality_constraints(rows, opt)
    _check_constraints(rows, constraints)
    con_rows = [
        {"lhs": s.left.text, "op": s.op, "rhs": s.right.text, "user": 1} for s in constraints
    ] + eq_rows
    for r in con_rows:
        r.update(block=0, group=0, free=0, ustart=_NAN, exo=0, plabel="",
                 label=r["lhs"] if r["op"] == ":=" else "", lower=-math.inf, upper=math.inf)  # fmt: skip
        r["id"] = len(rows) + 1
        rows.append(r)
    k = 0
    for r in rows:
        if r["free"] > 0:
            k += 1
            r["free"] = k
    table = pd.DataFrame({c: [r[c] for r in rows] for c in PARTABLE_COLUMNS})
    for c in ("id", "user", "block", "group", "free", "exo"):
        table[c] = table[c].astype("int64")
    for c in ("ustart", "lower", "upper"):
        table[c] = table[c].astype("float64")
    return ModelSpec(
        partable=table,
        statements=tuple(statements),
        names=names,
        observed=names.ov,
        latent=names.lv,
        exogenous=names.ov_x if opt.fixed_x or opt.conditional_x else (),
        ordered=tuple(ov_ord),
        ngroups=opt.ngroups,
        group_labels=tuple(group_labels) if group_labels is not None
        else tuple(range(1, opt.ngroups + 1)),
        options=opt,
    )
