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

import numpy as np
import pandas as pd

from radsem.errors import DataError, ModelSpecificationError, ModelSyntaxError
from radsem.syntax.defaults import auto_fix, default_rows, replicate_groups
from radsem.syntax.equality import apply_modifiers, check_constraints, equality_constraints
from radsem.syntax.model import ModelSpec
from radsem.syntax.names import VariableNames, variable_names
from radsem.syntax.options import SpecOptions, resolve_options
from radsem.syntax.parse import Statement, parse_model

__all__ = ["build_partable", "PARTABLE_COLUMNS"]

#: columns of :attr:`ModelSpec.partable`, in order
PARTABLE_COLUMNS = (
    "id",
    "lhs",
    "op",
    "rhs",
    "user",
    "block",
    "group",
    "free",
    "ustart",
    "exo",
    "label",
    "plabel",
    "lower",
    "upper",
)

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
                fixed = term.modifier("fixed")
                phantom = fixed is not None and set(fixed.values) == {0.0}  # 'f =~ 0'
                if op == "=~" and lhs == rhs and not phantom:
                    raise _syntax_error(
                        stmt,
                        term.line,
                        term.column,
                        f"latent variable {lhs!r} cannot be measured by itself",
                    )
                if op == "~*~" and lhs != rhs:
                    raise _syntax_error(
                        stmt,
                        term.line,
                        term.column,
                        f"a scaling factor is written '{lhs} ~*~ {lhs}' (the same variable "
                        "on both sides)",
                    )
                if op == "~" and lhs == rhs:
                    raise _syntax_error(
                        stmt, term.line, term.column, f"{lhs!r} is regressed on itself"
                    )
                keys = [(lhs, op, rhs)] + ([(rhs, op, lhs)] if op == "~~" else [])
                if any(k in seen for k in keys):
                    raise _syntax_error(
                        stmt,
                        term.line,
                        term.column,
                        f"duplicate model element: {lhs} {op} {rhs or '1'}",
                    )
                row = {
                    "lhs": lhs,
                    "op": op,
                    "rhs": rhs,
                    "user": 1,
                    "exo": 0,
                    "mods": {m.kind: m.values for m in term.modifiers},
                    "where": (stmt, term.line, term.column),
                }
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


def _check_observed(names: VariableNames, observed, ordered_declared, rows: list[dict]) -> None:
    if observed is None:
        return
    if isinstance(observed, str):
        raise DataError("observed must be a list of column names (strings)")
    # columns with non-text names (0, 1, ... from a bare array) cannot be named in a model
    columns = [c for c in observed if isinstance(c, str)]
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
        where = next(
            (r["where"] for r in rows if r["op"] == "=~" and r["lhs"] in clash), (None, None, None)
        )
        raise ModelSpecificationError(
            f"latent variable name(s) {', '.join(clash)} are also columns of the data; "
            "rename the latent variable(s)",
            where[1],
            where[2],
        )
    absent = [v for v in ordered_declared if v not in have]
    if absent:
        raise DataError(f"ordered variable(s) not found in the data: {', '.join(absent)}")


def _check_scaling(rows: list[dict], names: VariableNames, ov_ord: list[str]) -> None:
    """``y ~*~ y`` scales an ordered observed variable (lavaan's delta/theta scale)."""
    for r in rows:
        if r["op"] != "~*~":
            continue
        _, line, column = r["where"]
        if r["lhs"] in names.lv:
            raise ModelSpecificationError(
                f"'{r['lhs']} ~*~ {r['lhs']}': scaling factors are for observed ordered "
                f"variables, and {r['lhs']!r} is latent",
                line,
                column,
            )
        if ov_ord and r["lhs"] not in ov_ord:
            raise ModelSpecificationError(
                f"'{r['lhs']} ~*~ {r['lhs']}': {r['lhs']!r} is not an ordered variable of the "
                f"model (ordered: {', '.join(ov_ord)})",
                line,
                column,
            )


def _user_rows(model) -> tuple[list[Statement], list[dict], list[Statement]]:
    if not isinstance(model, (str, list, tuple)):
        raise ModelSpecificationError(
            f"model must be a string in lavaan syntax, got {type(model).__name__}"
        )
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
    return statements, user_rows, constraints


def _declared(ordered) -> list[str]:
    if ordered is None:
        return []
    if isinstance(ordered, str):
        return [ordered]
    return list(ordered)


def _ordered_in_model(ordered, names: VariableNames):
    """The ``ordered`` argument restricted to variables of the model (as lavaan does)."""
    if isinstance(ordered, Mapping):
        return {v: n for v, n in ordered.items() if v in names.ov}
    return [v for v in _declared(ordered) if v in names.ov]


def _finish(rows: list[dict], constraints: list[Statement], opt: SpecOptions) -> pd.DataFrame:
    """Ids, plabels, equality and constraint rows, free numbering; as a DataFrame."""
    for i, r in enumerate(rows, start=1):
        r["id"], r["plabel"], r["block"] = i, f".p{i}.", r["group"]
    eq_rows = equality_constraints(rows, opt)
    check_constraints(rows, constraints)
    con_rows = [
        {"lhs": s.left.text, "op": s.op, "rhs": s.right.text, "user": 1} for s in constraints
    ] + eq_rows
    for r in con_rows:
        label = r["lhs"] if r["op"] == ":=" else ""
        r.update(
            block=0,
            group=0,
            free=0,
            ustart=_NAN,
            exo=0,
            plabel="",
            label=label,
            lower=-math.inf,
            upper=math.inf,
        )
        r["id"] = len(rows) + 1
        rows.append(r)
    k = 0
    for r in rows:
        if r["free"] > 0:
            k += 1
            r["free"] = k
    dtypes = {c: np.int64 for c in ("id", "user", "block", "group", "free", "exo")}
    dtypes.update({c: np.float64 for c in ("ustart", "lower", "upper")})
    return pd.DataFrame(
        {c: np.array([r[c] for r in rows], dtype=dtypes.get(c, object)) for c in PARTABLE_COLUMNS}
    )


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
    statements, user_rows, constraints = _user_rows(model)
    names = variable_names(user_rows)
    _check_observed(names, observed, _declared(ordered), user_rows)
    ov_ord, counts = _ordered_names(_ordered_in_model(ordered, names), names, user_rows)
    _check_scaling(user_rows, names, ov_ord)
    auto = {
        "auto_fix_first": auto_fix_first,
        "auto_fix_single": auto_fix_single,
        "auto_var": auto_var,
        "auto_cov_lv_x": auto_cov_lv_x,
        "auto_cov_y": auto_cov_y,
        "auto_th": auto_th,
        "auto_delta": auto_delta,
    }
    opt = resolve_options(
        model_type=model_type,
        ngroups=ngroups,
        has_intercepts=any(r["op"] == "~1" for r in user_rows),
        categorical=bool(ov_ord),
        has_ov_x=bool(names.ov_x),
        meanstructure=meanstructure,
        std_lv=std_lv,
        orthogonal=orthogonal,
        orthogonal_x=orthogonal_x,
        orthogonal_y=orthogonal_y,
        fixed_x=fixed_x,
        conditional_x=conditional_x,
        int_ov_free=int_ov_free,
        int_lv_free=int_lv_free,
        auto=auto,
        group_equal=group_equal,
        group_partial=group_partial,
        parameterization=parameterization,
        estimator=estimator,
        missing=missing,
    )
    if group_labels is not None and len(group_labels) != ngroups:
        raise ModelSpecificationError(
            f"{len(group_labels)} group labels given for ngroups={ngroups}"
        )

    defaults = default_rows(names, ov_ord, counts, opt)
    user_keys = {(r["lhs"], r["op"], r["rhs"]) for r in user_rows}
    rows = user_rows + [r for r in defaults if (r["lhs"], r["op"], r["rhs"]) not in user_keys]
    for r in rows:
        r.update(free=1, ustart=_NAN, label="", lower=-math.inf, upper=math.inf)
    auto_fix(rows, names, ov_ord, opt)
    rows = replicate_groups(rows, names, ov_ord, opt)
    bounds = apply_modifiers(rows, opt.ngroups)
    if bounds:
        for r in rows:
            if r["free"] == 0:
                r["lower"] = r["upper"] = r["ustart"]
    table = _finish(rows, constraints, opt)
    return ModelSpec(
        partable=table,
        statements=tuple(statements),
        names=names,
        observed=names.ov,
        latent=names.lv,
        exogenous=names.ov_x if opt.fixed_x or opt.conditional_x else (),
        ordered=tuple(ov_ord),
        ngroups=opt.ngroups,
        group_labels=tuple(group_labels)
        if group_labels is not None
        else tuple(range(1, opt.ngroups + 1)),
        options=opt,
    )
