"""lavaan's ``fitMeasures()`` for ML, GLS and ULS fits (complete data).

Names and formulas follow lavaan 0.6-14: ``chisq = 2 N fmin``; the baseline model is the
independence model fitted with the same estimator; CFI/TLI/NFI/... and the RMSEA family use
the total ``N`` and ``sqrt(G)`` for ``G`` groups; SRMR (Bentler) divides residuals by the
sample standard deviations; ``srmr_mplus`` standardises each moment by its own (sample or
implied) standard deviations; GFI uses the estimator's weight matrix.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from radsem.estimation.core.matrices import vech_indices
from radsem.estimation.core.objective import moment_vector
from radsem.estimation.core.optimize import small_blas
from radsem.estimation.measures.indices import (
    exact_start,
    hoelter_cn,
    incremental_indices,
    rmsea_indices,
)

__all__ = ["fit_measures"]

LOG_2PI = math.log(2 * math.pi)


def _loglik(st, mu, sigma, meanstructure) -> float:
    p = sigma.shape[0]
    sinv = np.linalg.inv(sigma)
    ld = np.linalg.slogdet(sigma)[1]
    q = float(np.sum(st.cov * sinv))
    if meanstructure:
        d = st.mean - mu
        q += float(d @ sinv @ d)
    return -0.5 * st.nobs * (p * LOG_2PI + ld + q)


def _x_loglik(fit) -> float:
    exo = fit.spec.exogenous if fit.spec.fixed_x else ()
    if not exo:
        return 0.0
    idx = [fit.spec.observed.index(x) for x in exo]
    total = 0.0
    for st in fit.problem.stats:
        sxx = st.cov[np.ix_(idx, idx)]
        total += -0.5 * st.nobs * (len(idx) * (LOG_2PI + 1) + np.linalg.slogdet(sxx)[1])
    return total


def _rms(values: np.ndarray) -> float:
    """Root mean square; NaN for no values (crmr of one variable, as lavaan)."""
    return float(np.sqrt(np.mean(values**2))) if values.size else np.nan


def _residual_indices(stats, moments, meanstructure, weights):
    out = {}
    parts = {
        k: []
        for k in (
            "rmr",
            "rmr_nomean",
            "srmr",
            "srmr_nomean",
            "crmr",
            "crmr_nomean",
            "mplus",
            "mplus_nomean",
        )
    }
    for st, (mu, sig) in zip(stats, moments, strict=True):
        p = sig.shape[0]
        r, c = vech_indices(p)
        sd = np.sqrt(np.diag(st.cov))
        sdi = np.sqrt(np.diag(sig))
        raw = (st.cov - sig)[r, c]
        std = ((st.cov - sig) / np.outer(sd, sd))[r, c]
        cor = (st.cov / np.outer(sd, sd) - sig / np.outer(sdi, sdi))[r, c]
        mplus = np.where(r == c, (np.diag(st.cov) - np.diag(sig))[r] / np.diag(st.cov)[r], cor)
        off = r != c
        mraw = st.mean - mu
        mstd = mraw / sd
        mmpl = st.mean / sd - mu / sdi
        pieces = {
            "rmr": (raw, mraw),
            "srmr": (std, mstd),
            "crmr": (cor[off], mstd),
            "mplus": (mplus, mmpl),
        }
        for key, (cov_part, mean_part) in pieces.items():
            parts[key + "_nomean"].append(_rms(cov_part))
            full = np.concatenate([cov_part, mean_part]) if meanstructure else cov_part
            parts[key].append(_rms(full))
    for key, vals in parts.items():
        out[key] = float(np.dot(weights, vals))
    return out


def _gfi_sample_moments(problem, st) -> tuple[np.ndarray, np.ndarray]:
    """The sample moments GFI compares with: with FIML lavaan's ``WLS.obs`` holds the
    available-case means and the pairwise covariances (times ``(N-1)/N``), not the EM
    moments."""
    patterns = getattr(problem.estimator, "patterns", None)
    if patterns is None:
        return st.mean, st.cov
    x = patterns(st).data
    n = x.shape[0]
    cov = pd.DataFrame(x).cov(min_periods=1).to_numpy() * (n - 1) / n
    return np.nanmean(x, axis=0), cov


def _gfi(fit, theta, moments, meanstructure) -> float:
    """``1 - e'We / s'Ws`` with the estimator's weight; fixed.x moments left out (lavaan)."""
    problem = fit.problem
    exo = fit.spec.exogenous if fit.spec.fixed_x else ()
    xi = [fit.spec.observed.index(x) for x in exo]
    total = 0.0
    for w, st, (mu, sig), wg in zip(
        problem.nobs / problem.ntotal,
        problem.stats,
        moments,
        problem.h1_information(theta),
        strict=True,
    ):
        p = sig.shape[0]
        r, c = vech_indices(p)
        keep = ~(np.isin(r, xi) & np.isin(c, xi))
        if meanstructure:
            keep = np.concatenate([~np.isin(np.arange(p), xi), keep])
        s = moment_vector(*_gfi_sample_moments(problem, st), meanstructure)[keep]
        e = s - moment_vector(mu, sig, meanstructure)[keep]
        wk = wg[np.ix_(keep, keep)]
        total += w * (1.0 - float(e @ wk @ e) / float(s @ wk @ s))
    return total  # groups weighted by n_g / N


@small_blas
def fit_measures(fit) -> dict[str, float]:
    """Compute lavaan's fit measures for a fitted model (see module docstring)."""
    problem, theta = fit.problem, fit.theta
    est = problem.estimator.name
    ms = problem.meanstructure
    n = problem.ntotal
    ngroups = len(problem.stats)
    npar, df = fit.npar, fit.df
    fmin = fit.fmin
    chisq = fit.chisq  # 2 N fmin (Wishart likelihood: 2 sum_g (n_g - 1) F_g)
    out: dict[str, float] = {"npar": npar, "fmin": fmin, "chisq": chisq, "df": df}
    normal = est in ("ML", "GLS", "WLS", "DWLS")
    out["pvalue"] = float(stats.chi2.sf(chisq, df)) if (df > 0 and normal) else np.nan
    bchi, bdf = fit.baseline
    out.update(
        {
            "baseline.chisq": bchi,
            "baseline.df": bdf,
            "baseline.pvalue": float(stats.chi2.sf(bchi, bdf)) if normal else np.nan,
        }
    )
    out.update(incremental_indices(chisq, df, bchi, bdf))
    moments = problem.implied_moments(theta)
    if getattr(problem.estimator, "h1", None) is not None:  # FIML: h1 from EM
        # fixed.x: as with complete data, lavaan reports the log-likelihood of y given x
        h1 = sum(problem.estimator.h1(st).logl for st in problem.stats) - _x_loglik(fit)
        logl = h1 - chisq / 2
        out.update(
            {
                "logl": logl,
                "unrestricted.logl": h1,
                "aic": -2 * logl + 2 * npar,
                "bic": -2 * logl + npar * math.log(n),
                "ntotal": n,
                "bic2": -2 * logl + npar * math.log((n + 2) / 24),
            }
        )
    elif est == "ML":
        logl = sum(
            _loglik(st, mu, sig, ms) for st, (mu, sig) in zip(problem.stats, moments, strict=True)
        )
        h1 = sum(
            -0.5 * st.nobs * (st.cov.shape[0] * (LOG_2PI + 1) + st.logdet) for st in problem.stats
        )
        # lavaan (fixed.x): the log-likelihood of y given x -- the saturated marginal
        # log-likelihood of the exogenous covariates is subtracted from both values
        xlogl = _x_loglik(fit)
        logl -= xlogl
        h1 -= xlogl
        out.update(
            {
                "logl": logl,
                "unrestricted.logl": h1,
                "aic": -2 * logl + 2 * npar,
                "bic": -2 * logl + npar * math.log(n),
                "ntotal": n,
                "bic2": -2 * logl + npar * math.log((n + 2) / 24),
            }
        )
    else:
        out["ntotal"] = n
    # lavaan uses N - G instead of N in the RMSEA family (and cn, mfi, ecvi) except for ML
    nr = n if est == "ML" and getattr(problem, "likelihood", "normal") != "wishart" else n - ngroups
    rm = rmsea_indices(chisq, df, nr, ngroups)
    out["rmsea"] = rm["rmsea"]
    out["rmsea.ci.lower"] = rm["rmsea.ci.lower"]
    out["rmsea.ci.upper"] = rm["rmsea.ci.upper"]
    out["rmsea.ci.level"] = 0.90
    out["rmsea.pvalue"] = rm["rmsea.pvalue"]
    out["rmsea.close.h0"] = 0.05
    out["rmsea.notclose.pvalue"] = rm["rmsea.notclose.pvalue"]
    out["rmsea.notclose.h0"] = 0.08
    res = _residual_indices(problem.stats, moments, ms, problem.nobs / n)
    out.update(
        {
            "rmr": res["rmr"],
            "rmr_nomean": res["rmr_nomean"],
            "srmr": res["srmr"],
            "srmr_bentler": res["srmr"],
            "srmr_bentler_nomean": res["srmr_nomean"],
            "crmr": res["crmr"],
            "crmr_nomean": res["crmr_nomean"],
            "srmr_mplus": res["mplus"],
            "srmr_mplus_nomean": res["mplus_nomean"],
        }
    )
    exact = exact_start(problem.model.par)  # Hoelter's critical N
    out["cn_05"] = hoelter_cn(chisq, df, nr, 0.05, exact)
    out["cn_01"] = hoelter_cn(chisq, df, nr, 0.01, exact)
    gfi = _gfi(fit, theta, moments, ms)
    p = len(fit.spec.observed)
    nels = (p * (p + 1) // 2 + (p if ms else 0)) * ngroups  # all moments, x included
    out["gfi"] = gfi
    out["agfi"] = 1 - nels / df * (1 - gfi) if df > 0 else 1.0
    out["pgfi"] = df / nels * gfi
    out["mfi"] = math.exp(-0.5 * (chisq - df) / nr)
    out["ecvi"] = chisq / nr + 2 * npar / nr
    return out
