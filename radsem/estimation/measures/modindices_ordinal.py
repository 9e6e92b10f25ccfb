"""Modification indices of categorical (DWLS / WLSMV) fits, as lavaan's ``modindices()``.

The model is extended by the parameters lavaan considers (cross-loadings, residual
covariances of observed variables, regressions among variables in regressions, latent
covariances, intercepts, and fixed parameters of those kinds; not the thresholds, scales and
variances of the latent responses), each at its current value (0 for new ones); parameters
that are not identified in the extended model (``diag(V)`` below ``sqrt(eps)``, e.g. marker
loadings, intercepts next to free thresholds) get no index and are left out, as in lavaan.
With ``J_g`` the Jacobian of the implied thresholds and correlations of the extended
model, ``I = sum_g f_g J_g' W_g J_g`` (``f_g = n_g / N``), ``g`` the gradient of the fit
function, ``E^+`` the fitted model's inverse information and ``V = I11 - I12 E^+ I21`` over
the added parameters: ``mi = N g^2 / diag(V)``, ``epc = -g / diag(V)``. Standardised EPCs:
loadings times ``sd(factor) / sd(y*)``, covariances divided by the square roots of the
(residual) variances.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from radsem.estimation.core.optimize import small_blas
from radsem.estimation.measures.modindices import candidate_rows

__all__ = ["ordinal_modindices"]

_COLUMNS = ["lhs", "op", "rhs", "group", "mi", "epc", "sepc_lv", "sepc_all"]


def _extended(fit):
    """Parameter table with the candidates appended (free numbers after the model's)."""
    model = fit.problem.model
    par = model.par.copy()
    values = model.values(fit.theta)
    ordv = set(model.ordered)
    seen = {
        (a, o, b, int(g)): k
        for k, (a, o, b, g) in enumerate(
            zip(par["lhs"], par["op"], par["rhs"], par["group"], strict=True)
        )
    }
    rows, start = [], []
    nfree = model.nfree
    # conditional.x: the covariates' moments are not modelled (only regressions on them)
    exo = set(fit.spec.exogenous) if getattr(model, "exo", None) is not None else set()
    for lhs, op, rhs, g in candidate_rows(fit.spec, True):
        if op not in ("=~", "~~", "~", "~1") or (op == "~~" and lhs == rhs and lhs in ordv):
            continue
        if lhs in exo or (rhs in exo and op != "~"):
            continue
        if op == "~" and rhs in ordv and model.parameterization == "delta":
            continue  # an ordered predictor needs the theta parameterization (see implied)
        key = (lhs, op, rhs, g)
        if key in seen:
            pos = seen[key]
            if par.at[pos, "free"] > 0:
                continue  # already free
            nfree += 1
            par.at[pos, "free"] = nfree
            rows.append(pos)
            start.append(values[pos])
            continue
        nfree += 1
        new = {c: par[c].iloc[0] for c in par.columns}
        new.update(lhs=lhs, op=op, rhs=rhs, group=g, free=nfree, ustart=np.nan, label="")
        par = pd.concat([par, pd.DataFrame([new])], ignore_index=True)
        rows.append(len(par) - 1)
        start.append(0.0)
    spec = SimpleNamespace(
        partable=par,
        observed=fit.spec.observed,
        latent=fit.spec.latent,
        ordered=fit.spec.ordered,
        exogenous=fit.spec.exogenous,
    )
    if hasattr(model, "sample_joint"):  # conditional.x: the same reduced form
        ext = type(model)(
            spec,
            model.ngroups,
            model.parameterization,
            fit.problem.stats,
            model.free_slopes_baseline,
        )
    else:
        ext = type(model)(spec, model.ngroups, model.parameterization)  # an OrdinalModel
    theta = np.concatenate([fit.theta, np.asarray(start, float)])
    return ext, theta, np.array(rows, int)


@small_blas
def ordinal_modindices(fit, sort: bool = False, minimum_value: float = 0.0) -> pd.DataFrame:
    """lavaan's ``modindices()`` for a fitted :class:`OrdinalFit`."""
    pb = fit.problem
    ext, theta, rows = _extended(fit)
    q = pb.nfree
    fg = pb.nobs / pb.ntotal
    jac = ext.jacobian(theta)
    info = sum(f * (d.T @ w @ d) for f, d, w in zip(fg, jac, pb.W, strict=True))
    resid = [
        np.asarray(st.wls_obs, float) - e
        for st, e in zip(pb.stats, ext.wls_est(theta), strict=True)
    ]
    grad = -sum(
        w * (d.T @ (wm @ e)) for w, d, wm, e in zip(pb.weights, jac, pb.W, resid, strict=True)
    )
    extra = np.arange(q, ext.nfree)
    i12 = info[np.ix_(extra, np.arange(q))]
    e_inv = fit.inference.e_inv
    v = np.diag(info)[extra] - np.einsum("ij,jk,ik->i", i12, e_inv, i12)
    v = np.where(v < np.sqrt(np.finfo(float).eps), np.nan, v)
    mi = pb.ntotal * grad[extra] ** 2 / v
    epc = -grad[extra] / v
    par = ext.par
    out = pd.DataFrame(
        {
            "lhs": par["lhs"].to_numpy()[rows],
            "op": par["op"].to_numpy()[rows],
            "rhs": par["rhs"].to_numpy()[rows],
            "group": par["group"].to_numpy(int)[rows],
            "mi": mi,
            "epc": epc,
        }
    )
    sd_lv, sd_all = _scales(fit, out)
    out["sepc_lv"] = epc * sd_lv
    out["sepc_all"] = epc * sd_all
    out = out[np.isfinite(out["mi"].to_numpy()) & (out["mi"] >= minimum_value)]
    if sort:
        out = out.sort_values("mi", ascending=False)
    return out[_COLUMNS].reset_index(drop=True)


def _scales(fit, out: pd.DataFrame):
    """Multipliers turning EPCs into lavaan's ``sepc.lv`` and ``sepc.all``."""
    model = fit.problem.model
    ram, theta_ram = model.ram_model(fit.theta)
    vals = ram.values(theta_ram)
    nodes = {n: k for k, n in enumerate(model.observed + model.latent)}
    lat = set(model.latent)
    lv, al = np.ones(len(out)), np.ones(len(out))
    for k, r in enumerate(out.itertuples()):
        _, omega, _ = ram.implied_full(theta_ram, r.group - 1)
        _, s_mat, _ = ram.matrices(vals, r.group - 1)
        sd = np.sqrt(np.clip(np.diag(omega), 0, None))
        i = nodes[r.lhs]
        if r.op == "~1":
            lv[k] = 1.0 / sd[i] if r.lhs in lat else 1.0
            al[k] = 1.0 / sd[i]
            continue
        j = nodes[r.rhs]
        if r.op == "=~":  # lhs factor, rhs indicator
            lv[k] = sd[i]
            al[k] = sd[i] / sd[j]
        elif r.op == "~":
            lv[k] = (sd[j] if r.rhs in lat else 1.0) / (sd[i] if r.lhs in lat else 1.0)
            al[k] = sd[j] / sd[i]
        else:  # covariance: by the (residual) standard deviations (lavaan's cov.std)
            si, sj = np.sqrt(abs(s_mat[i, i])), np.sqrt(abs(s_mat[j, j]))
            scale = 1.0 / (si * sj) if si > 0 and sj > 0 else 1.0 / (sd[i] * sd[j])
            lv[k] = scale if (r.lhs in lat and r.rhs in lat) else 1.0
            al[k] = scale
    return lv, al
