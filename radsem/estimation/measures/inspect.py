"""lavaan's ``lavInspect(fit, what)`` for the items users script with.

=============== ==========================================================================
``what``        result (per group; a dict keyed by group label for more than one group)
=============== ==========================================================================
"sampstat"      ``{"cov", "mean"}`` sample moments (ML divisor ``N``; with ``missing="ml"``
                the EM estimates of the saturated model, as lavaan); ``mean`` with a mean
                structure only
"implied"       ``{"cov", "mean"}`` model-implied moments
"residuals"     ``{"type", "cov", "mean"}``: ``sampstat - implied`` (``"raw"``), or lavaan's
                ``residuals(fit, type=)`` ``"cor"`` (= ``"cor.bollen"``) and
                ``"normalized"``
"vcov"          covariance matrix of the free parameters (lavaan's row names)
"est"           model matrices ``lambda, theta, psi[, beta][, nu, alpha]`` as labelled
                DataFrames (lavaan's LISREL form: observed variables in regressions become
                latent "phantoms" with a unit loading)
"std"           the same matrices of the standardized solution (``std.all``; also
                ``"std.lv"``, ``"std.nox"``)
"cov.lv"        implied covariances of the latent variables (``"cor.lv"``: correlations,
                ``"mean.lv"``: means)
"cov.ov"        implied covariances of the observed variables (``"cor.ov"``, ``"mean.ov"``)
"fit"           ``fit_measures()``
"r2"            R-square Series (:mod:`radsem.estimation.measures.rsquare`)
"converged"     bool
"iterations"    int
"npar"          free parameters before equality constraints
"nobs"          cases used per group (int for one group, list otherwise)
=============== ==========================================================================

``"cor"`` residuals (lavaan's ``cor.bollen``) are the sample correlations minus the
implied ones, and the means of both over the sample standard deviations (values below
``1e-5`` in absolute value left unscaled, as lavaan). ``"normalized"`` residuals divide
the raw residuals by the standard errors of the sample moments: the inverse of the
unstructured h1 information over ``n_g`` (normal theory at the sample moments with
complete data, ``(s_ii s_jj + s_ij^2) / n`` for a covariance; the observed FIML
information at the EM moments with ``missing="ml"``); fixed exogenous moments have no
error and show 0; as lavaan's ``lav_residuals_acov``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from radsem.errors import EstimationError
from radsem.estimation.core.matrices import vech_indices

__all__ = ["INSPECT_ITEMS", "InspectParts", "inspect_item", "lisrel_matrices"]

INSPECT_ITEMS = (
    "sampstat",
    "implied",
    "residuals",
    "vcov",
    "est",
    "std",
    "std.lv",
    "std.nox",
    "cov.lv",
    "cor.lv",
    "mean.lv",
    "cov.ov",
    "cor.ov",
    "mean.ov",
    "fit",
    "r2",
    "converged",
    "iterations",
    "npar",
    "nobs",
)


@dataclass(frozen=True)
class InspectParts:
    """Per group moments and model pieces (filled by the fit class).

    Attributes
    ----------
    observed : list of str
    group_labels : list of str
    sample : list of (mean, cov)
        The sample (or EM) moments per group.
    implied : list of (mean, cov)
    nobs : list of int
    meanstructure : bool
    acov : callable
        Per group asymptotic covariance of the sample moments (mean then ``vech`` of the
        covariances, means only with a mean structure): the inverse of the unstructured h1
        information over ``n_g`` (lavaan's ``lav_model_h1_acov``).
    """

    observed: Sequence[str]
    group_labels: Sequence[str]
    sample: Sequence[tuple[np.ndarray, np.ndarray]]
    implied: Sequence[tuple[np.ndarray, np.ndarray]]
    nobs: Sequence[int]
    meanstructure: bool
    acov: Callable[[], Sequence[np.ndarray]]


def _per_group(items: list, labels: Sequence[str]):
    return items[0] if len(items) == 1 else dict(zip(labels, items, strict=True))


def _moments(mean, cov, obs, meanstructure, with_mean=None) -> dict:
    out = {"cov": pd.DataFrame(cov, index=obs, columns=obs)}
    if meanstructure if with_mean is None else with_mean:
        out["mean"] = pd.Series(mean, index=obs)
    return out


def _rescale(x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return np.where(np.abs(x) < 1e-5, x, x * scale)


def residual_moments(
    sample: tuple[np.ndarray, np.ndarray],
    implied: tuple[np.ndarray, np.ndarray],
    type: str,  # noqa: A002 - lavaan's argument name
    acov: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Residual ``(mean, cov)`` of one group: ``"raw"``, ``"cor"``/``"cor.bollen"`` or
    ``"normalized"`` (see module docstring)."""
    (m, s), (mu, sig) = sample, implied
    if type == "raw":
        return m - mu, s - sig
    if type in ("cor", "cor.bollen"):
        sd, sdi = np.sqrt(np.diag(s)), np.sqrt(np.diag(sig))
        # lavaan (lav_residuals_rescale): both mean vectors over the sample sd; values
        # below 1e-5 in absolute value are left unscaled
        return (
            _rescale(m, 1 / sd) - _rescale(mu, 1 / sd),
            _rescale(s, 1 / np.outer(sd, sd)) - _rescale(sig, 1 / np.outer(sdi, sdi)),
        )
    if type in ("cor.bentler", "cor.eqs"):
        sd = np.sqrt(np.diag(s))  # both moments over the sample standard deviations
        scale = 1 / np.outer(sd, sd)
        return (
            _rescale(m, 1 / sd) - _rescale(mu, 1 / sd),
            _rescale(s, scale) - _rescale(sig, scale),
        )
    if type == "normalized":
        if acov is None:
            raise EstimationError("normalized residuals need the h1 acov")
        p = s.shape[0]
        se = np.sqrt(np.clip(np.diag(acov), 0.0, None))
        se_mean = se[:p] if se.size > p * (p + 1) // 2 else np.full(p, np.nan)
        r, c = vech_indices(p)
        se_cov = np.zeros((p, p))
        se_cov[r, c] = se_cov[c, r] = se[-r.size :]
        with np.errstate(divide="ignore", invalid="ignore"):
            # zero standard error (fixed.x moments, residual 0): lavaan shows 0
            mres = np.where(se_mean > 0, (m - mu) / se_mean, 0.0)
            cres = np.where(se_cov > 0, (s - sig) / se_cov, 0.0)
        return mres, cres
    raise EstimationError(
        f"type must be 'raw', 'cor' or 'normalized' (or 'cor.bollen', 'cor.bentler'), got {type!r}"
    )


def residuals(parts: InspectParts, type: str = "raw"):  # noqa: A002
    """lavaan's ``residuals(fit, type=)``: ``{"type", "cov"[, "mean"]}`` per group (``mean``
    with a mean structure, as lavaan)."""
    name = {"cor": "cor.bollen", "cor.eqs": "cor.bentler"}.get(type, type)
    out = []
    for smp, imp, acov in zip(parts.sample, parts.implied, parts.acov(), strict=True):
        mres, cres = residual_moments(smp, imp, type, acov)
        item = {"type": name, **_moments(mres, cres, list(parts.observed), parts.meanstructure)}
        out.append(item)
    return _per_group(out, parts.group_labels)


def lisrel_matrices(model, values: np.ndarray, g: int, meanstructure: bool, has_beta: bool):
    """lavaan's model matrices of group ``g`` (0-based) from radsem's RAM form.

    Observed variables that appear in a regression (``~``) are lavaan's phantom latent
    variables: a unit loading in ``lambda``, a zero row in ``theta``, their (residual)
    variances in ``psi`` and their intercepts in ``alpha``.
    """
    a, s, m = model.matrices(values, g)
    obs, lat = list(model.observed), list(model.latent)
    par = model.par
    reg = par[(par["op"] == "~") & (par["group"] == g + 1)]
    in_reg = set(reg["lhs"]) | set(reg["rhs"])
    phantom = [v for v in obs if v in in_reg]
    lv = lat + phantom
    p = len(obs)
    pos = {v: k for k, v in enumerate(obs)} | {v: p + k for k, v in enumerate(lat)}
    li = [pos[v] for v in lv]
    real = np.array([v not in in_reg for v in obs])
    lam = a[:p][:, li].copy()
    for k, v in enumerate(phantom, start=len(lat)):
        lam[:, k] = 0.0
        lam[pos[v], k] = 1.0
    lam[~real, : len(lat)] = 0.0
    theta = s[:p, :p] * np.outer(real, real)
    out = {
        "lambda": pd.DataFrame(lam, index=obs, columns=lv),
        "theta": pd.DataFrame(theta, index=obs, columns=obs),
        "psi": pd.DataFrame(s[np.ix_(li, li)], index=lv, columns=lv),
    }
    if has_beta:
        out["beta"] = pd.DataFrame(a[np.ix_(li, li)], index=lv, columns=lv)
    if meanstructure:
        out["nu"] = pd.DataFrame(np.where(real, m[:p], 0.0)[:, None], index=obs, columns=["intrcp"])
        out["alpha"] = pd.DataFrame(m[li][:, None], index=lv, columns=["intrcp"])
    return out


def latent_moments(model, full, what: str):
    """Implied ``"cov"``/``"cor"`` (DataFrame) or ``"mean"`` (Series) of the latent
    variables from ``(B, Omega, nu)`` of one group (lavaan's ``cov.lv``, ``cor.lv``,
    ``mean.lv``)."""
    _, omega, nu = full
    p, lat = len(model.observed), list(model.latent)
    if what == "mean":
        return pd.Series(nu[p:], index=lat)
    cov = omega[p:, p:]
    if what == "cor":
        sd = np.sqrt(np.diag(cov))
        with np.errstate(divide="ignore", invalid="ignore"):
            cov = cov / np.outer(sd, sd)
    return pd.DataFrame(cov, index=lat, columns=lat)


_ALIASES = {
    "sample.statistics": "sampstat",
    "samplestatistics": "sampstat",
    "fitted": "implied",
    "resid": "residuals",
    "estimates": "est",
    "x": "est",
    "std.all": "std",
    "standardized": "std",
    "std.lv": "std_lv",
    "std.nox": "std_nox",
    "cov.lv": "cov_lv",
    "veta": "cov_lv",
    "cor.lv": "cor_lv",
    "mean.lv": "mean_lv",
    "eeta": "mean_lv",
    "cov.ov": "implied_cov",
    "sigma": "implied_cov",
    "sigma.hat": "implied_cov",
    "cor.ov": "implied_cor",
    "mean.ov": "implied_mean",
    "mu": "implied_mean",
    "mu.hat": "implied_mean",
    "fit.measures": "fit",
    "fitmeasures": "fit",
    "rsquare": "r2",
    "r-square": "r2",
}


def inspect_item(what: str, parts: InspectParts, **getters):
    """The ``what`` item (see module docstring); ``getters`` supply the fit-level ones
    (``vcov``, ``est``, ``r2``, ``converged``, ``iterations``, ``npar``)."""
    key = _ALIASES.get(str(what).lower(), str(what).lower())
    obs = list(parts.observed)
    if key in ("implied_cov", "implied_cor", "implied_mean"):
        out = []
        for mean, cov in parts.implied:
            if key == "implied_mean":
                out.append(pd.Series(mean, index=obs))
                continue
            if key == "implied_cor":
                sd = np.sqrt(np.diag(cov))
                cov = cov / np.outer(sd, sd)
            out.append(pd.DataFrame(cov, index=obs, columns=obs))
        return _per_group(out, parts.group_labels)
    if key == "sampstat":
        return _per_group(
            [_moments(m, c, obs, parts.meanstructure) for m, c in parts.sample],
            parts.group_labels,
        )
    if key == "implied":
        return _per_group(
            [_moments(m, c, obs, parts.meanstructure) for m, c in parts.implied],
            parts.group_labels,
        )
    if key == "residuals":
        return residuals(parts, "raw")
    if key == "nobs":
        n = [int(x) for x in parts.nobs]
        return n[0] if len(n) == 1 else n
    if key in getters:
        return getters[key]()
    raise EstimationError(f"inspect: unknown item {what!r}; available: {', '.join(INSPECT_ITEMS)}")
