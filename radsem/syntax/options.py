"""Defaults of lavaan's ``sem()``, ``cfa()``, ``growth()`` and ``lavaan()`` (lavaan 0.6-14).

:func:`resolve_options` turns the user's arguments (with ``None`` / ``"default"`` meaning
"what lavaan would do") into concrete booleans, following ``lav_options_set``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from radsem.errors import ModelSpecificationError

__all__ = ["SpecOptions", "resolve_options", "MODEL_TYPES", "GROUP_EQUAL_CHOICES"]

MODEL_TYPES = ("sem", "cfa", "growth", "lavaan")
GROUP_EQUAL_CHOICES = (
    "loadings",
    "intercepts",
    "means",
    "regressions",
    "residuals",
    "residual.covariances",
    "thresholds",
    "lv.variances",
    "lv.covariances",
)
_ML_FAMILY = {"ML", "MLR", "MLM", "MLMV", "MLMVS", "MLF"}
_AUTO_KEYS = (
    "auto_fix_first",
    "auto_fix_single",
    "auto_var",
    "auto_cov_lv_x",
    "auto_cov_y",
    "auto_th",
    "auto_delta",
)


@dataclass(frozen=True)
class SpecOptions:
    """Concrete options used to build the parameter table (lavaan's names with ``_``)."""

    model_type: str
    ngroups: int
    meanstructure: bool
    int_ov_free: bool
    int_lv_free: bool
    std_lv: bool
    orthogonal: bool
    orthogonal_x: bool
    orthogonal_y: bool
    fixed_x: bool
    conditional_x: bool
    auto_fix_first: bool
    auto_fix_single: bool
    auto_var: bool
    auto_cov_lv_x: bool
    auto_cov_y: bool
    auto_th: bool
    auto_delta: bool
    group_equal: tuple[str, ...]
    group_partial: tuple[str, ...]
    parameterization: str
    estimator: str
    categorical: bool


def _tri(value, name: str) -> bool | None:
    if value is None or (isinstance(value, str) and value == "default"):
        return None
    if isinstance(value, bool):
        return value
    raise ModelSpecificationError(f"{name} must be True, False or 'default', not {value!r}")


def _as_tuple(value, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable):
        raise ModelSpecificationError(f"{name} must be a list of strings")
    out = tuple(value)
    if not all(isinstance(v, str) for v in out):
        raise ModelSpecificationError(f"{name} must be a list of strings")
    return out


def _check_basic(model_type: str, ngroups: int, std_lv, orthogonal) -> None:
    if model_type not in MODEL_TYPES:
        raise ModelSpecificationError(
            f"model_type must be one of {', '.join(MODEL_TYPES)}, not {model_type!r}"
        )
    if not isinstance(ngroups, int) or isinstance(ngroups, bool) or ngroups < 1:
        raise ModelSpecificationError(f"ngroups must be a positive integer, not {ngroups!r}")
    for name, val in (("std_lv", std_lv), ("orthogonal", orthogonal)):
        if not isinstance(val, bool):
            raise ModelSpecificationError(f"{name} must be True or False, not {val!r}")


def _resolve_auto(model_type: str, auto: dict, std_lv: bool, int_ov_free, int_lv_free) -> dict:
    auto_default = model_type != "lavaan"
    out = {}
    for key in _AUTO_KEYS:
        val = _tri(auto.get(key), key)
        out[key] = auto_default if val is None else val
    if std_lv:
        out["auto_fix_first"] = False
    ov_free = _tri(int_ov_free, "int_ov_free")
    lv_free = _tri(int_lv_free, "int_lv_free")
    out["int_ov_free"] = model_type in ("sem", "cfa") if ov_free is None else ov_free
    out["int_lv_free"] = model_type == "growth" if lv_free is None else lv_free
    return out


def _resolve_group_equal(group_equal, group_partial, categorical: bool):
    equal = _as_tuple(group_equal, "group_equal")
    if equal == ("none",):
        equal = ()
    bad = [g for g in equal if g not in GROUP_EQUAL_CHOICES]
    if bad:
        raise ModelSpecificationError(
            f"unknown group_equal value {bad[0]!r}; choose from {', '.join(GROUP_EQUAL_CHOICES)}"
        )
    if categorical and "intercepts" in equal and "thresholds" not in equal:
        equal = (*equal, "thresholds")
    if categorical and "thresholds" in equal and "intercepts" not in equal:
        equal = (*equal, "intercepts")
    partial = tuple(re.sub(r"\s+", "", p) for p in _as_tuple(group_partial, "group_partial"))
    return equal, partial


def _resolve_estimator(estimator, parameterization: str, categorical: bool) -> tuple[str, str]:
    est = str(estimator).upper()
    if est == "DEFAULT":
        est = "WLSMV" if categorical else "ML"
    if categorical and est in _ML_FAMILY:
        raise ModelSpecificationError(
            f"estimator {est} is not available for ordered variables (as in lavaan); "
            "use a least-squares estimator such as WLSMV"
        )
    if parameterization == "default":
        parameterization = "delta"
    if parameterization not in ("delta", "theta"):
        raise ModelSpecificationError("parameterization must be 'delta' or 'theta'")
    return est, parameterization


def _resolve_x(fixed_x, conditional_x, est: str, categorical: bool, has_ov_x: bool):
    cond = _tri(conditional_x, "conditional_x")
    if cond is None:
        cond = False if est in _ML_FAMILY else categorical
    if not has_ov_x:
        cond = False
    fx = _tri(fixed_x, "fixed_x")
    if fx is None:
        fx = est in _ML_FAMILY or cond
    if cond and not fx:
        raise ModelSpecificationError("fixed_x=False is not supported when conditional_x=True")
    return bool(fx) if has_ov_x else False, cond


def resolve_options(
    *,
    model_type: str,
    ngroups: int,
    has_intercepts: bool,
    categorical: bool,
    has_ov_x: bool,
    meanstructure,
    std_lv: bool,
    orthogonal: bool,
    orthogonal_x: bool,
    orthogonal_y: bool,
    fixed_x,
    conditional_x,
    int_ov_free,
    int_lv_free,
    auto: dict,
    group_equal,
    group_partial,
    parameterization: str,
    estimator: str,
    missing: str,
) -> SpecOptions:
    """Apply lavaan's rules for defaults; see the module docstring."""
    _check_basic(model_type, ngroups, std_lv, orthogonal)
    resolved_auto = _resolve_auto(model_type, auto, std_lv, int_ov_free, int_lv_free)
    equal, partial = _resolve_group_equal(group_equal, group_partial, categorical)
    est, parameterization = _resolve_estimator(estimator, parameterization, categorical)
    fx, cond = _resolve_x(fixed_x, conditional_x, est, categorical, has_ov_x)
    ms = _tri(meanstructure, "meanstructure")
    forced = (
        has_intercepts
        or cond
        or categorical
        or missing in ("ml", "ml.x", "fiml")
        or model_type == "growth"
        or "intercepts" in equal
        or "means" in equal
    )
    ms = True if forced else (ngroups > 1 if ms is None else ms)
    return SpecOptions(
        model_type=model_type,
        ngroups=ngroups,
        meanstructure=ms,
        std_lv=std_lv,
        orthogonal=orthogonal,
        orthogonal_x=bool(orthogonal_x),
        orthogonal_y=bool(orthogonal_y),
        fixed_x=fx,
        conditional_x=cond,
        group_equal=equal,
        group_partial=partial,
        parameterization=parameterization,
        estimator=est,
        categorical=categorical,
        **resolved_auto,
    )
