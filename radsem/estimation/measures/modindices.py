"""Modification indices and expected parameter changes (lavaan's ``modindices()``, ML)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from radsem.estimation.core.optimize import small_blas

__all__ = ["candidate_rows", "modification_indices", "modindices"]

_COLUMNS = ["lhs", "op", "rhs", "group", "mi", "epc", "sepc_lv", "sepc_all", "sepc_nox"]


def _lower_pairs(names) -> list[tuple[str, str]]:
    """Lower triangle with diagonal, column by column (R's ``lower.tri`` order)."""
    names = list(names)
    return [(names[j], names[i]) for j in range(len(names)) for i in range(j, len(names))]


def candidate_rows(spec, meanstructure: bool) -> list[tuple[str, str, str, int]]:
    """lavaan's full set of parameters of a single-level model (``lav_partable_full``).

    Per group: loadings of every latent variable on every observed non-exogenous variable
    (not on outcomes of regressions), (co)variances among observed non-exogenous indicator
    variables, among exogenous covariates, among latent variables, regressions among the
    variables in regressions, and intercepts with a mean structure.
    """
    nm = spec.names
    lv = list(nm.lv)
    ov = list(nm.ov)
    ov_x = list(nm.ov_x) if spec.fixed_x else []
    ov_nox = [v for v in ov if v not in ov_x]
    ov_ind = set(nm.ov_ind)
    par = spec.partable
    reg = par[par["op"] == "~"]
    eqs = list(dict.fromkeys(list(reg["lhs"]) + list(reg["rhs"])))
    eqs_y = set(eqs)
    rows: list[tuple[str, str, str]] = []
    rows += [(f, "=~", v) for f in lv for v in ov_nox if v not in eqs_y]
    other = {v for v in ov if v not in ov_ind}
    rows += [(a, "~~", b) for a, b in _lower_pairs(ov_nox) if a not in other and b not in other]
    rows += [(a, "~~", b) for a, b in _lower_pairs(ov_x)]
    rows += [(a, "~~", b) for a, b in _lower_pairs(lv)]
    lv_set = set(lv)
    rows += [(y, "~", x) for y in eqs for x in eqs if y != x and not (y in ov_ind and x in lv_set)]
    if meanstructure:
        rows += [(v, "~1", "") for v in ov + lv]
    return [(lhs, op, rhs, g) for g in range(1, spec.ngroups + 1) for lhs, op, rhs in rows]


def _extended_table(spec, values: np.ndarray, model_par: pd.DataFrame, meanstructure: bool):
    """Original parameter rows (all made free) followed by the new candidate rows."""
    base = model_par[["lhs", "op", "rhs", "group", "free", "exo"]].copy()
    base["orig_free"] = base["free"].to_numpy(int)
    base["value"] = values
    seen = set(zip(base["lhs"], base["op"], base["rhs"], base["group"].astype(int), strict=True))
    new = [r for r in candidate_rows(spec, meanstructure) if r not in seen]
    add = pd.DataFrame(new, columns=["lhs", "op", "rhs", "group"])
    add["free"], add["exo"], add["orig_free"], add["value"] = 1, 0, 0, 0.0
    ext = pd.concat([base, add], ignore_index=True)
    ext["user10"] = ext["orig_free"].to_numpy(int) == 0
    ext["free"] = np.arange(1, len(ext) + 1)
    ext["ustart"] = np.nan
    return ext


def modification_indices(
    problem,
    theta: np.ndarray,
    i22_inv: np.ndarray,
    free_remove: bool = True,
    na_remove: bool = True,
) -> pd.DataFrame:
    """Score tests for fixing-to-free every parameter lavaan considers (estimator ML).

    Parameters
    ----------
    problem : SemProblem
        The fitted problem (``ML`` estimator, expected information).
    theta : ndarray
        Estimates of the ``nfree`` parameters.
    i22_inv : ndarray
        Inverse of the model's per-case expected information, with equality constraints
        the bordered inverse ``K (K' I K)^-1 K'`` (i.e. ``N`` times the covariance of the
        estimates under ``information = "expected"``).
    free_remove, na_remove : bool
        Drop the rows of parameters already free / with undefined index (as lavaan).

    Returns
    -------
    pandas.DataFrame
        ``lhs, op, rhs, group, mi, epc, sepc_lv, sepc_all, sepc_nox``.

    Notes
    -----
    The model is extended with every candidate parameter (free, value 0; fixed parameters
    freed at their values). With ``g`` the gradient of the fit function and ``I`` the
    expected information of the extended model (per case), ``V = I11 - I12 I22^-1 I21``
    over the added parameters, ``mi = N g^2 / diag(V)`` and ``epc = -g / diag(V)``
    (``mi`` undefined when ``diag(V) < eps^(1/3)``). Standardised EPCs use the fitted
    model's implied standard deviations, and, for covariances, its (residual) variance
    estimates (lavaan's ``cov.std = TRUE``). Checked against lavaan 0.6-14's
    ``modindices()``.
    """
    from radsem.estimation.core.problem import SemProblem

    spec = problem.spec
    model = problem.model
    values = model.values(theta)
    ext = _extended_table(spec, values, model.par, problem.meanstructure)
    big = SemProblem(spec, problem.stats, problem.estimator, partable=ext)
    theta_ext = ext["value"].to_numpy(float)
    info = big.information(theta_ext)
    grad = big.gradient(theta_ext)
    extra = np.flatnonzero(ext["user10"].to_numpy())
    kept = np.flatnonzero(~ext["user10"].to_numpy())
    order = np.argsort(ext["orig_free"].to_numpy()[kept])
    kept = kept[order]  # original free numbering
    i12 = info[np.ix_(extra, kept)]
    v = np.diag(info[np.ix_(extra, extra)]) - np.einsum("ij,jk,ik->i", i12, i22_inv, i12)
    v = np.where(v < np.finfo(float).eps ** (1 / 3), np.nan, v)
    n = problem.ntotal
    mi = np.full(len(ext), np.nan)
    epc = np.full(len(ext), np.nan)
    mi[extra] = n * grad[extra] ** 2 / v
    epc[extra] = -grad[extra] / v
    if not free_remove:
        diag = np.diag(info)[kept]
        mi[kept] = n * grad[kept] ** 2 / diag
        epc[kept] = -grad[kept] / diag
    out = ext[["lhs", "op", "rhs", "group"]].copy()
    out["group"] = out["group"].astype(int)
    out["mi"], out["epc"] = mi, epc
    for kind, col in (("lv", "sepc_lv"), ("all", "sepc_all"), ("nox", "sepc_nox")):
        out[col] = _standardized_epc(problem, theta, values, out, epc, kind)
    if free_remove:
        out = out.iloc[extra]
    if na_remove:
        out = out[np.isfinite(out["mi"].to_numpy())]
    return out[_COLUMNS].reset_index(drop=True)


def _standardized_epc(problem, theta, values, rows: pd.DataFrame, epc, kind: str) -> np.ndarray:
    model = problem.model
    spec = problem.spec
    names = list(model.observed) + list(model.latent)
    index = {v: k for k, v in enumerate(names)}
    nobs = len(model.observed)
    exo = set(spec.exogenous)
    par = model.par
    out = np.full(len(rows), np.nan)
    for g in range(model.ngroups):
        _, omega, _ = model.implied_full(theta, g)
        sd = np.sqrt(np.clip(np.diag(omega), 0, None))
        resvar = {}
        for pos in np.flatnonzero(
            (par["group"].to_numpy(int) == g + 1)
            & (par["op"] == "~~").to_numpy()
            & (par["lhs"] == par["rhs"]).to_numpy()
        ):
            resvar[par.at[pos, "lhs"]] = values[pos]

        def scale(var, sd=sd):
            k = index[var]
            if kind == "lv" and k < nobs:
                return 1.0
            if kind == "nox" and var in exo:
                return 1.0
            return sd[k]

        sel = np.flatnonzero(rows["group"].to_numpy(int) == g + 1)
        for pos in sel:
            lhs, op, rhs = rows.at[pos, "lhs"], rows.at[pos, "op"], rows.at[pos, "rhs"]
            e = epc[pos]
            if op == "=~":
                out[pos] = e * scale(lhs) / scale(rhs)
            elif op == "~":
                out[pos] = e * scale(rhs) / scale(lhs)
            elif op == "~1":
                out[pos] = e / scale(lhs)
            elif lhs == rhs:
                out[pos] = e / scale(lhs) ** 2
            else:
                out[pos] = _std_cov(e, lhs, rhs, kind, index, nobs, resvar, exo, scale)
    return out


def _std_cov(e, lhs, rhs, kind, index, nobs, resvar, exo, scale) -> float:
    both_lat = index[lhs] >= nobs and index[rhs] >= nobs
    if kind == "lv" and not both_lat:
        return e
    if kind == "nox" and (lhs in exo or rhs in exo):
        return e / (scale(lhs) * scale(rhs))
    vi, vj = resvar.get(lhs, np.nan), resvar.get(rhs, np.nan)
    if np.isfinite(vi) and np.isfinite(vj) and vi > 0 and vj > 0:
        return e / np.sqrt(vi * vj)
    return e / (scale(lhs) * scale(rhs))


@small_blas
def modindices(fit, sort: bool = False, minimum_value: float = 0.0) -> pd.DataFrame:
    """``modindices(fit)`` for a fitted
    :class:`~radsem.estimation.families.continuous.fit.SemFit` (or any object with ``problem``
    and ``theta``), with lavaan's defaults (expected information).

    Parameters
    ----------
    fit : SemFit
    sort : bool, default False
        Sort by decreasing ``mi`` (lavaan's ``sort.``).
    minimum_value : float, default 0
        Keep rows with ``mi`` above this value.
    """
    from radsem.estimation.core.inference import vcov_theta

    problem, theta = fit.problem, fit.theta
    i22_inv = vcov_theta(problem, theta, "expected") * problem.ntotal
    out = modification_indices(problem, theta, i22_inv)
    if minimum_value > 0:
        out = out[out["mi"] > minimum_value]
    if sort:
        out = out.sort_values("mi", ascending=False, kind="stable")
    return out.reset_index(drop=True)
