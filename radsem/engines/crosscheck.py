"""Cross-check a fit against another engine fitted on the same model, data and options."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from radsem.errors import ModelSpecificationError, RadsemWarning

__all__ = ["cross_check", "cross_check_fits", "fit_engine", "CrossCheck", "ENGINES", "TOLERANCES"]

ENGINES = ("lavaan", "semopy")

#: issue-3 parity tolerances: estimates absolute, standard errors and fit measures relative
TOLERANCES = {"est": 1e-3, "se": 0.01, "fit": 0.01}

# below these magnitudes a relative difference is meaningless (p-values of 1e-9, SEs of 0)
_ABS_FLOOR = {"se": 1e-8, "fit": 1e-6}
_KEY = ["lhs", "op", "rhs", "group"]
# options that describe the radsem call rather than the model (never sent to another engine)
_NOT_FOR_ENGINES = {
    "model_type",
    "function",
    "verbose",
    "progress",
    "max_iter",
    "tol",
    "level",
    "n_jobs",
}


def fit_engine(engine: str, model: str, data: pd.DataFrame, function: str = "sem", **options: Any):
    """Fit ``model`` with another engine (``"lavaan"`` or ``"semopy"``).

    Returns an object with ``parameter_estimates()``, ``fit_measures()``, ``modindices()``
    (lavaan) and ``converged``, in radsem's column names.
    """
    if engine == "lavaan":
        from radsem.engines.lavaan import fit_lavaan

        return fit_lavaan(model, data, function=function, **options)
    if engine == "semopy":
        from radsem.engines.semopy import fit_semopy

        return fit_semopy(model, data, function=function, **options)
    raise ModelSpecificationError(f"engine must be one of {ENGINES}, got {engine!r}")


def _function_of(fit: Any) -> str:
    for owner, name in ((fit, "function"), (fit, "model_type")):
        value = getattr(owner, name, None)
        if isinstance(value, str):
            return value
    spec = getattr(fit, "spec", None)
    value = getattr(spec, "model_type", None)
    if isinstance(value, str):
        return value
    options = getattr(fit, "options", None) or {}
    return str(options.get("model_type", options.get("function", "sem")))


@dataclass
class CrossCheck:
    """Engine-against-engine comparison of one model.

    Attributes
    ----------
    parameters : DataFrame
        ``lhs, op, rhs, group, est_<a>, est_<b>, diff, se_<a>, se_<b>, se_reldiff, ok`` for
        the parameters both engines report (``~~`` rows matched in either order).
    fit_measures : DataFrame
        ``<a>, <b>, diff, reldiff, ok`` indexed by the fit measures both engines report.
    unmatched : DataFrame
        Parameters reported by one engine only (column ``side`` names it).
    max_abs_diff : float
        Largest absolute difference of estimates.
    max_se_reldiff, max_fit_reldiff : float
        Largest relative differences of standard errors and of fit measures.
    agree : bool
        All estimates within ``tol["est"]`` (absolute), standard errors and fit measures within
        ``tol["se"]``/``tol["fit"]`` (relative), and no unmatched free parameter.
    """

    names: tuple[str, str]
    parameters: pd.DataFrame
    fit_measures: pd.DataFrame
    unmatched: pd.DataFrame
    tol: dict[str, float]
    notes: list[str] = field(default_factory=list)

    @property
    def max_abs_diff(self) -> float:
        return _nanmax(self.parameters["diff"].abs())

    @property
    def max_se_reldiff(self) -> float:
        return _nanmax(self.parameters["se_reldiff"])

    @property
    def max_fit_reldiff(self) -> float:
        return _nanmax(self.fit_measures["reldiff"])

    @property
    def agree(self) -> bool:
        return bool(
            self.parameters["ok"].all() and self.fit_measures["ok"].all() and self.unmatched.empty
        )

    def __str__(self) -> str:
        a, b = self.names
        lines = [
            f"cross-check {a} vs {b}: {'AGREE' if self.agree else 'DISAGREE'} "
            f"(tolerances: est {self.tol['est']:g} abs, se {self.tol['se']:.0%} rel, "
            f"fit {self.tol['fit']:.0%} rel)",
            f"  parameters compared: {len(self.parameters)}, max |est diff| = "
            f"{self.max_abs_diff:.3g}, max se rel diff = {self.max_se_reldiff:.3g}",
            f"  fit measures compared: {len(self.fit_measures)}, max rel diff = "
            f"{self.max_fit_reldiff:.3g}",
        ]
        if not self.unmatched.empty:
            lines.append(f"  reported by one engine only: {len(self.unmatched)} rows")
            lines.append(_indent(self.unmatched.head(10).to_string(index=False)))
        bad = self.parameters.loc[~self.parameters["ok"]]
        worst = bad if not bad.empty else self.parameters
        order = worst["diff"].abs().sort_values(ascending=False).index[:10]
        if len(order):
            title = "parameters outside tolerance" if not bad.empty else "largest differences"
            lines.append(f"  {title}:")
            lines.append(
                _indent(worst.loc[order].to_string(index=False, float_format="{:.6g}".format))
            )
        fit_bad = self.fit_measures.loc[~self.fit_measures["ok"]]
        if not fit_bad.empty:
            lines.append("  fit measures outside tolerance:")
            lines.append(_indent(fit_bad.to_string(float_format="{:.6g}".format)))
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _nanmax(values: pd.Series) -> float:
    finite = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    finite = finite[~np.isnan(finite)]
    return float(finite.max()) if finite.size else 0.0


def _keyed(table: pd.DataFrame) -> pd.DataFrame:
    table = table.loc[~table["op"].isin(["==", "<", ">"])].copy()
    group = pd.to_numeric(table["group"], errors="coerce").fillna(1).astype(int)
    table["group"] = np.where(table["op"] == ":=", 0, group)  # := rows are model-wide
    swap = (table["op"] == "~~") & (table["lhs"] > table["rhs"])
    table["key_lhs"] = np.where(swap, table["rhs"], table["lhs"])
    table["key_rhs"] = np.where(swap, table["lhs"], table["rhs"])
    return table


def _se_reldiff(a: pd.Series, b: pd.Series) -> pd.Series:
    a = pd.to_numeric(a, errors="coerce").astype(float)
    b = pd.to_numeric(b, errors="coerce").astype(float)
    none_a = a.isna() | (a == 0)
    none_b = b.isna() | (b == 0)
    rel = (a - b).abs() / b.abs().clip(lower=_ABS_FLOOR["se"])
    rel[none_a & none_b] = np.nan  # fixed parameters: neither engine has a standard error
    rel[none_a ^ none_b] = np.inf
    return rel


def _compare_parameters(left: pd.DataFrame, right: pd.DataFrame, names, tol) -> tuple:
    a, b = names
    keys = ["key_lhs", "op", "key_rhs", "group"]
    la, rb = _keyed(left), _keyed(right)
    merged = la.merge(rb, on=keys, how="outer", suffixes=(f"_{a}", f"_{b}"), indicator=True)
    both = merged.loc[merged["_merge"] == "both"].copy()
    out = pd.DataFrame(
        {
            "lhs": both[f"lhs_{a}"],
            "op": both["op"],
            "rhs": both[f"rhs_{a}"],
            "group": both["group"].astype(int),
            f"est_{a}": both[f"est_{a}"].astype(float),
            f"est_{b}": both[f"est_{b}"].astype(float),
        }
    )
    out["diff"] = out[f"est_{a}"] - out[f"est_{b}"]
    out[f"se_{a}"] = pd.to_numeric(both[f"se_{a}"], errors="coerce")
    out[f"se_{b}"] = pd.to_numeric(both[f"se_{b}"], errors="coerce")
    out["se_reldiff"] = _se_reldiff(out[f"se_{a}"], out[f"se_{b}"])
    est_ok = (out["diff"].abs() <= tol["est"]) | (out[f"est_{a}"].isna() & out[f"est_{b}"].isna())
    se_ok = out["se_reldiff"].isna() | (out["se_reldiff"] <= tol["se"])
    out["ok"] = est_ok & se_ok
    only = merged.loc[merged["_merge"] != "both"]
    unmatched = pd.DataFrame(
        {
            "lhs": only["key_lhs"],
            "op": only["op"],
            "rhs": only["key_rhs"],
            "group": only["group"],
            "side": np.where(only["_merge"] == "left_only", a, b),
        }
    )
    return out.reset_index(drop=True), unmatched.reset_index(drop=True)


def _compare_fit(left: pd.Series, right: pd.Series, names, tol) -> pd.DataFrame:
    a, b = names
    common = [k for k in left.index if k in right.index]
    va = pd.to_numeric(left[common], errors="coerce").astype(float)
    vb = pd.to_numeric(right[common], errors="coerce").astype(float)
    table = pd.DataFrame(
        {a: va.to_numpy(), b: vb.to_numpy()}, index=pd.Index(common, name="measure")
    )
    table = table.dropna(how="all")
    table["diff"] = table[a] - table[b]
    table["reldiff"] = table["diff"].abs() / table[b].abs().clip(lower=_ABS_FLOOR["fit"])
    both_nan = table[a].isna() & table[b].isna()
    table["ok"] = both_nan | (
        table["diff"].abs() <= tol["fit"] * table[b].abs() + _ABS_FLOOR["fit"]
    )
    return table


def cross_check_fits(
    left: Any,
    right: Any,
    names: tuple[str, str] = ("radsem", "lavaan"),
    tol: Mapping[str, float] | None = None,
) -> CrossCheck:
    """Compare two fitted objects exposing ``parameter_estimates()`` and ``fit_measures()``.

    Notes
    -----
    Rows are matched on ``lhs, op, rhs, group`` (``~~`` in either order; ``:=`` rows
    regardless of group; ``==``/``<``/``>`` rows ignored).  A standard error that one engine
    reports and the other does not (NaN or 0, i.e. fixed) counts as a disagreement.
    """
    tolerances = {**TOLERANCES, **(dict(tol) if tol else {})}
    params, unmatched = _compare_parameters(
        left.parameter_estimates(), right.parameter_estimates(), names, tolerances
    )
    fit = _compare_fit(left.fit_measures(), right.fit_measures(), names, tolerances)
    return CrossCheck(tuple(names), params, fit, unmatched, tolerances)


def cross_check(
    fit: Any, engine: str = "lavaan", tol: Mapping[str, float] | None = None
) -> CrossCheck:
    """Refit ``fit.model`` on ``fit.data`` with ``fit.options`` in another engine and compare.

    Parameters
    ----------
    fit : fitted model
        A radsem fit (or any object with ``model``, ``data``, ``options``,
        ``parameter_estimates()`` and ``fit_measures()``).
    engine : {"lavaan", "semopy"}
    tol : mapping, optional
        Overrides of :data:`TOLERANCES` (keys ``est``, ``se``, ``fit``).

    Returns
    -------
    CrossCheck

    Notes
    -----
    Default tolerances are those of radsem's parity suite (issue 3): estimates within 1e-3
    absolute, standard errors and fit measures within 1 % relative.  Options that only concern
    radsem's optimiser are not passed on and are listed in ``notes``.
    """
    options = dict(getattr(fit, "options", None) or {})
    dropped = sorted(k for k in options if k in _NOT_FOR_ENGINES - {"model_type", "level"})
    options = {k: v for k, v in options.items() if k not in _NOT_FOR_ENGINES}
    function = _function_of(fit)
    other = fit_engine(engine, fit.model, fit.data, function=function, **options)
    result = cross_check_fits(fit, other, names=("radsem", engine), tol=tol)
    if dropped:
        result.notes.append(f"options not passed to {engine}: {', '.join(dropped)}")
    if options.get("se") == "bootstrap":
        result.notes.append(
            f"bootstrap standard errors: {engine} draws its own resamples, so "
            "its SEs differ from radsem's by Monte Carlo error"
        )
    if not getattr(other, "converged", True):
        warnings.warn(f"{engine} did not converge on this model", RadsemWarning, stacklevel=2)
        result.notes.append(f"{engine} did not converge")
    return result
