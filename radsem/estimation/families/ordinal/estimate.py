"""Fitting models with ordered-categorical indicators: options, data, estimation (WLSMV).

Reached from :func:`radsem.sem` / :func:`radsem.cfa` when ``ordered=`` names model variables,
when the data hold ordered pandas Categoricals among the model's observed variables, or when the
syntax has thresholds (WLSMV, DWLS, ... without ordered variables are the continuous family's,
as lavaan). Defaults follow lavaan 0.6-14: ``estimator="WLSMV"``
(DWLS estimates, ``se="robust.sem"``, ``test="scaled.shifted"``), delta parameterisation,
expected information, listwise deletion (``missing="pairwise"`` as lavaan's: sample statistics
from the available pairs).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from radsem._warnings import user_stacklevel
from radsem.errors import (
    ConvergenceWarning,
    DataError,
    DataWarning,
    EstimationError,
    ModelSpecificationError,
)
from radsem.estimation.core.optimize import small_blas

__all__ = ["fit_ordinal", "declared_ordered", "ordered_columns", "CATEGORICAL_ESTIMATORS"]

#: estimator -> (discrepancy, default se, test)
CATEGORICAL_ESTIMATORS = {
    "WLSMV": ("DWLS", "robust.sem", "scaled.shifted"),
    "WLSM": ("DWLS", "robust.sem", "satorra.bentler"),
    "ULSM": ("ULS", "robust.sem", "satorra.bentler"),
    "DWLS": ("DWLS", "standard", "standard"),
    "WLS": ("WLS", "standard", "standard"),
    "ULSMV": ("ULS", "robust.sem", "scaled.shifted"),
    "ULS": ("ULS", "standard", "standard"),
}
_SE = ("robust.sem", "robust", "standard", "none")


def declared_ordered(ordered) -> list[str]:
    """The variables named by the ``ordered=`` option."""
    if ordered is None or ordered is False:
        return []
    if isinstance(ordered, str):
        return [ordered]
    if isinstance(ordered, Mapping):
        return [str(k) for k in ordered]
    return [str(v) for v in ordered]


def _model_names(model):
    from radsem.syntax.names import variable_names
    from radsem.syntax.partable import _user_rows

    return variable_names(_user_rows(model)[1])


def ordered_columns(data: pd.DataFrame, names) -> list[str]:
    """Ordered pandas Categorical columns among the model's observed variables."""
    out = []
    for v in names.ov:
        if v in data.columns:
            dtype = data[v].dtype
            if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
                out.append(v)
    return out


def _test_option(test, default: str) -> str:
    """``test=`` with ordered variables: one of lavaan's tests for the DWLS family."""
    if test is None:
        return default
    from radsem.estimation.robust.sb_tests import canonical_tests

    names = [t for t in canonical_tests(test) if t != "standard"] or ["standard"]
    if names == ["default"]:
        return default
    if len(names) > 1 or names[0] not in ("standard", "satorra.bentler", "scaled.shifted"):
        raise EstimationError(
            "with ordered variables radsem provides one test of 'standard', "
            f"'satorra.bentler' or 'scaled.shifted', not {test!r}"
        )
    return names[0]


def _options(estimator, se, missing, parameterization, information):
    est = str(estimator).upper()
    if est not in CATEGORICAL_ESTIMATORS:
        raise EstimationError(
            f"estimator {estimator!r} cannot be used with ordered (categorical) variables; "
            f"choose one of {tuple(CATEGORICAL_ESTIMATORS)} (lavaan's default: 'WLSMV')"
        )
    core, se_default, test = CATEGORICAL_ESTIMATORS[est]
    if missing not in ("listwise", "pairwise"):
        raise EstimationError(
            f"missing={missing!r} is not available with ordered variables and estimator "
            f"{est!r}: full-information ML needs the marginal ML estimator for categorical data "
            "(not implemented, as in lavaan without estimator='MML'); use missing='listwise' "
            "or 'pairwise'"
        )
    se = se_default if se is None else ("robust.sem" if se == "robust" else se)
    if se not in _SE:
        raise EstimationError(f"se must be one of {_SE} with ordered variables, got {se!r}")
    if parameterization not in ("delta", "theta"):
        raise EstimationError(
            f"parameterization must be 'delta' or 'theta', got {parameterization!r}"
        )
    if information not in (None, "expected"):
        raise EstimationError("only information='expected' is available with ordered variables")
    return est, core, se, test


def _check_extra(spec_options, level, group_equal, group_partial) -> None:
    import inspect

    from radsem.syntax import build_partable

    known = set(inspect.signature(build_partable).parameters)
    unknown = sorted(set(spec_options) - known)
    if unknown:
        raise EstimationError(f"unknown option(s) {', '.join(map(repr, unknown))}")
    if not (isinstance(level, float | int) and 0 < level < 1):
        raise EstimationError(f"level must be a number between 0 and 1, got {level!r}")
    for name, value in (("group_equal", group_equal), ("group_partial", group_partial)):
        if not isinstance(value, str | Sequence):
            raise EstimationError(f"{name} must be a list of strings, got {value!r}")


def _strings(value) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _listwise(data: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    complete = data[columns].notna().all(axis=1)
    dropped = int((~complete).sum())
    if dropped:
        warnings.warn(
            f"{dropped} of {len(data)} rows have missing values in the model's variables and "
            "were removed (listwise deletion, lavaan's default with ordered variables)",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
        data = data.loc[complete]
    return data


def _levels(data: pd.DataFrame, ordered: list[str]) -> dict[str, tuple]:
    """Categories of every ordered variable (Categorical order, else sorted values)."""
    out = {}
    for v in ordered:
        col = data[v]
        if isinstance(col.dtype, pd.CategoricalDtype):
            present = set(col.dropna().unique())
            out[v] = tuple(c for c in col.cat.categories if c in present)
        else:
            out[v] = tuple(sorted(col.dropna().unique()))
        if len(out[v]) < 2:
            raise DataError(f"ordered variable {v!r} has fewer than two observed categories")
    return out


def _start(model, stats, std_lv: bool) -> np.ndarray:
    """Starting values: structural part as for continuous data on the polychoric correlation
    matrix, thresholds at their sample values, scales and free residual variances at 1."""
    from types import SimpleNamespace

    from radsem.estimation.core.start import start_values

    if hasattr(model, "sample_joint"):  # conditional.x: the joint moments of y* and x
        pseudo = [
            SimpleNamespace(**dict(zip(("cov", "mean"), model.sample_joint(st)))) for st in stats
        ]
    else:
        pseudo = [
            SimpleNamespace(cov=np.asarray(st.cov, float), mean=np.asarray(st.mean, float))
            for st in stats
        ]
    vals = model.fixed_values.copy()
    vals[model.ram_rows] = start_values(model.ram, pseudo, std_lv)
    for g, st in enumerate(stats):
        vals[model.th_rows[g]] = np.asarray(st.wls_obs, float)[model.th_slot[g]]
    free = model.par["free"].to_numpy(int) > 0
    ustart = model.par["ustart"].to_numpy(float)
    op = model.par["op"].to_numpy()
    vals[free & (op == "~*~") & ~np.isfinite(ustart)] = 1.0
    if model.parameterization == "theta":
        sel = np.zeros(len(vals), bool)
        sel[model.resid_rows] = True
        vals[sel & free & ~np.isfinite(ustart)] = 1.0
    return model.theta_from_values(vals)


@small_blas
def fit_ordinal(
    model: str,
    data: pd.DataFrame,
    model_type: str = "sem",
    *,
    estimator: str = "WLSMV",
    group: str | None = None,
    group_equal: Sequence[str] = (),
    group_partial: Sequence[str] = (),
    std_lv: bool = False,
    meanstructure: bool | str = "default",
    fixed_x: bool | str = "default",
    orthogonal: bool = False,
    missing: str = "listwise",
    se: str | None = None,
    information: str | None = None,
    level: float = 0.95,
    ordered=None,
    parameterization: str = "delta",
    baseline_conditional_x_free_slopes: bool = True,
    bootstrap: int = 1000,
    seed=None,
    n_jobs: int = 1,
    test=None,
    **spec_options,
):
    """Fit a model with ordered-categorical indicators (see :func:`radsem.sem`).

    ``bootstrap``, ``seed`` and ``n_jobs`` belong to ``se="bootstrap"``, which is not
    available with ordered variables (an :class:`EstimationError` says so).

    Returns
    -------
    OrdinalFit
    """
    from radsem.estimation.core.optimize import minimize
    from radsem.estimation.core.samplestats import group_split
    from radsem.estimation.families.ordinal.dwls import OrdinalProblem
    from radsem.estimation.families.ordinal.fit import OrdinalFit
    from radsem.estimation.families.ordinal.implied import OrdinalModel
    from radsem.estimation.families.ordinal.samplestats import categorical_sample_stats
    from radsem.syntax import build_partable

    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if estimator is None or str(estimator).lower() == "default":
        estimator = "WLSMV"
    est, core, se, test_default = _options(estimator, se, missing, parameterization, information)
    test = _test_option(test, test_default)
    _check_extra(spec_options, level, group_equal, group_partial)
    names = _model_names(model)
    declared = declared_ordered(ordered)
    absent = [v for v in declared if v not in data.columns]
    if absent:
        raise DataError(f"ordered variable(s) not found in the data: {', '.join(absent)}")
    outside = [v for v in declared if v not in names.ov]
    if outside:
        raise ModelSpecificationError(
            f"ordered variable(s) {', '.join(outside)} are not observed variables of the model"
        )
    ordv = [
        v
        for v in names.ov
        if v in set(declared) | set(ordered_columns(data, names)) or v in names.ov_ord
    ]
    if not ordv:
        raise EstimationError(
            f"estimator {est!r} is for ordered (categorical) variables, but none of the model's "
            "variables is ordered: pass ordered=[...] or use estimator='ML'/'ULS'"
        )
    missing_cols = [v for v in names.ov if v not in data.columns]
    if missing_cols:
        raise DataError(f"variable(s) not found in the data: {', '.join(missing_cols)}")
    if missing == "listwise":
        used = _listwise(data, list(names.ov) + ([group] if group else []))
    else:  # pairwise: every row is used (its available pairs), rows without a group dropped
        used = data if group is None else data[data[group].notna()]
    levels = _levels(used, ordv)
    counts = {v: len(levels[v]) - 1 for v in ordv}
    labels, frames = group_split(used, group)
    spec = build_partable(
        model,
        [c for c in data.columns if c != group],
        model_type=model_type,
        ngroups=len(frames),
        group_labels=labels if group else None,
        meanstructure=meanstructure,
        std_lv=std_lv,
        orthogonal=orthogonal,
        fixed_x=fixed_x,
        group_equal=_strings(group_equal),
        group_partial=_strings(group_partial),
        estimator=core,
        missing=missing,
        ordered=counts,
        parameterization=parameterization,
        **spec_options,
    )
    conditional = bool(spec.conditional_x and spec.exogenous)
    if spec.exogenous and not conditional:
        raise EstimationError(
            "exogenous observed covariates with ordered outcomes and fixed_x=True need "
            f"conditional_x=True (lavaan's default): {list(spec.names.ov_x)}; or pass "
            "fixed_x=False, conditional_x=False to model them jointly"
        )
    if conditional:
        from radsem.estimation.families.ordinal.estimate_conditional import conditional_setup

        stats, omodel = conditional_setup(
            spec, frames, levels, missing, parameterization, baseline_conditional_x_free_slopes
        )
    else:
        stats = [
            categorical_sample_stats(
                frame, spec.observed, spec.ordered, levels=levels, missing=missing
            )
            for frame in frames
        ]
        omodel = OrdinalModel(spec, len(frames), parameterization)
    problem = OrdinalProblem(spec, omodel, stats, core)
    start = _start(omodel, stats, spec.std_lv)
    with np.errstate(all="ignore"):
        result = minimize(problem, start)
    options = {
        "model_type": model_type,
        "estimator": est,
        "group": group,
        "group_equal": list(_strings(group_equal)),
        "group_partial": list(_strings(group_partial)),
        "std_lv": std_lv,
        "meanstructure": spec.meanstructure,
        "fixed_x": spec.fixed_x,
        "orthogonal": orthogonal,
        "missing": missing,
        "se": se,
        "information": "expected",
        "level": level,
        "ordered": list(spec.ordered),
        "parameterization": parameterization,
        "test": test,
        **spec_options,
    }
    if conditional:
        from radsem.estimation.families.ordinal.fit_conditional import ConditionalOrdinalFit

        options["baseline_conditional_x_free_slopes"] = bool(baseline_conditional_x_free_slopes)
        fit = ConditionalOrdinalFit(model, data, options, spec, problem, result)
    else:
        fit = OrdinalFit(model, data, options, spec, problem, result)
    if not result.converged:
        warnings.warn(
            f"the optimiser did not converge: {result.message}; estimates are not trustworthy",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    fit._check_improper(stacklevel=user_stacklevel())
    fit.vcov()  # standard errors now, as lavaan: their errors and warnings belong to the fit
    return fit
