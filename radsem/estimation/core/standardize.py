"""Standardised parameters (lavaan's ``std.lv``, ``std.all``, ``std.nox``).

With ``v`` the model-implied total variances of all variables (``diag(B S B')``):

* loadings ``f =~ y`` and slopes ``y ~ x`` are multiplied by ``sd(rhs-side cause) / sd(effect)``;
* variances are divided by the total variance, covariances between two variables by the
  square roots of their (residual) variances as in lavaan 0.6 (so residual covariances become
  correlations);
* intercepts are divided by the total standard deviation.

``std.lv`` uses the standard deviations of latent variables only (observed ones count as 1);
``std.nox`` is ``std.all`` without rescaling by the standard deviations of exogenous
observed covariates.
"""

from __future__ import annotations

import numpy as np

__all__ = ["standardize"]


def _row(op, i, j, value, sd, svar, scale_ok):
    si, sj = sd[i], sd[j]
    if op == "=~":  # i = indicator, j = factor
        return value * sj / si
    if op == "~":  # i = outcome, j = predictor
        return value * sj / si
    if op == "~~":
        if i == j:
            return value / si**2
        ri, rj = (
            (np.sqrt(svar[i]) if scale_ok[i] else 1.0),
            (np.sqrt(svar[j]) if scale_ok[j] else 1.0),
        )
        if svar[i] > 0 and svar[j] > 0 and scale_ok[i] and scale_ok[j]:
            return value / (ri * rj)
        return value / (si * sj)
    return value / si  # ~1


def standardize(model, theta: np.ndarray, kind: str, exogenous=()) -> np.ndarray:
    """Standardised values of all parameter rows (order of ``model.par``)."""
    values = model.values(theta)
    par = model.par
    out = np.full(len(par), np.nan)
    nobs = len(model.observed)
    exo = {model.observed.index(x) for x in exogenous}
    for g, gm in enumerate(model.groups):
        b, omega, _ = model.implied_full(theta, g)
        _, s, _ = model.matrices(values, g)
        var = np.diag(omega)
        sd = np.sqrt(np.where(var >= 0, var, np.nan))  # negative variance: NaN, as lavaan
        svar = np.diag(s).copy()
        is_lat = np.arange(gm.nv) >= nobs
        if kind == "std.lv":
            sd = np.where(is_lat, sd, 1.0)
        elif kind == "std.nox":
            sd = np.where([k in exo for k in range(gm.nv)], 1.0, sd)
        scale = is_lat if kind == "std.lv" else np.ones(gm.nv, bool)
        if kind == "std.nox":
            scale = np.array([k not in exo for k in range(gm.nv)])
        for pos, kd, i, j in zip(gm.rows, gm.kind, gm.i, gm.j, strict=True):
            op = par.at[pos, "op"]
            if kd == 1 and i != j:
                val = values[pos]
                if kind == "std.lv" and not (is_lat[i] and is_lat[j]):
                    out[pos] = val
                    continue
                with np.errstate(divide="ignore", invalid="ignore"):
                    if svar[i] > 0 and svar[j] > 0 and scale[i] and scale[j]:
                        out[pos] = val / np.sqrt(svar[i] * svar[j])
                    else:
                        out[pos] = val / (sd[i] * sd[j])
                continue
            if kd == 1 and kind == "std.lv" and not is_lat[i]:
                out[pos] = values[pos]
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                out[pos] = _row(op, i, j, values[pos], sd, svar, scale)
    out[~np.isfinite(out)] = np.nan  # improper solutions (zero or negative variances)
    return out
