"""lavaan's ``fitMeasures()`` for categorical (DWLS / WLS / ULS, WLSMV / ULSMV) fits.

As lavaan 0.6-14: ``chisq = 2 N fmin`` (least-squares statistic weighted by ``n_g - 1``), the
p-value from the chi-square distribution; with a mean-and-variance adjusted test the
``.scaled`` statistic is the scaled-and-shifted one (same df) and ``chisq.scaling.factor``
its ``1/a``; ``rmsea.scaled`` is the RMSEA of the scaled statistic; the RMSEA family, Hoelter's
CN and MFI use ``N - G``; ``.robust`` CFI/TLI/RMSEA come from the catML quantities of
:mod:`~radsem.estimation.measures.baseline_ordinal` (only when all observed variables are ordered).
Residual-based indices compare sample and implied correlations (the diagonal counts in the
denominator except for ``crmr``) and, in the versions "with means", the thresholds; ``srmr`` is
``srmr_bentler_nomean``; ``srmr_mplus`` is not available (NaN, as lavaan). ``gfi`` uses the
DWLS weights, ``agfi``/``pgfi`` the number of sample statistics and ``wrmr = sqrt(chisq /
#statistics of group 1)`` (as lavaan 0.6-14). No log-likelihood, AIC or BIC: there is none
for these estimators.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from radsem.estimation.core.optimize import small_blas
from radsem.estimation.measures.indices import (
    CorrectedTest,
    exact_start,
    hoelter_cn,
    incremental_indices,
    rmsea_indices,
)

__all__ = ["ordinal_fit_measures"]


def _residual_indices(problem, theta) -> dict[str, float]:
    """``rmr`` (raw), ``srmr_bentler`` (divided by sample SDs) and ``crmr`` (difference of
    correlations) on the off-diagonal of lavaan's sample "cov" (correlations; covariances for
    continuous variables); versions with "means" add the threshold residuals."""
    model = problem.model
    # conditional.x: residual correlations of the endogenous variables only
    low = getattr(model, "cor_local", (model.cor_r, model.cor_c))
    parts = {k: [] for k in ("rmr", "rmr_nomean", "srmr", "srmr_nomean", "crmr", "crmr_nomean")}
    for g, (st, imp) in enumerate(zip(problem.stats, model.implied(theta), strict=True)):
        s_mat = np.asarray(st.cov, float)
        # lavaan counts every observed variable (covariates too) in the denominator
        p = len(model.observed)
        if hasattr(imp, "sigma_res"):
            se = imp.scale[model.endo]
            sig = imp.sigma_res / np.outer(se, se)
        else:
            sig = imp.sigma / np.outer(imp.scale, imp.scale)
        sd, sdi = np.sqrt(np.diag(s_mat)), np.sqrt(np.diag(sig))
        res = {
            "rmr": (s_mat - sig)[low],
            "srmr": ((s_mat - sig) / np.outer(sd, sd))[low],
            "crmr": (s_mat / np.outer(sd, sd) - sig / np.outer(sdi, sdi))[low],
        }
        slots = model.th_slot[g]
        e_th = (np.asarray(st.wls_obs, float) - imp.wls)[slots]
        ssq_th, nth = float(e_th @ e_th), e_th.size
        for key, e in res.items():
            ssq, n = float(e @ e), e.size + (p if key != "crmr" else 0)
            parts[key + "_nomean"].append(np.sqrt(ssq / n) if n else 0.0)
            parts[key].append(np.sqrt((ssq + ssq_th) / (n + nth)) if n + nth else 0.0)
    w = problem.nobs / problem.ntotal
    return {k: float(np.dot(w, v)) for k, v in parts.items()}


def _gfi(problem, theta) -> float:
    total = 0.0
    for f, st, est, wm in zip(
        problem.nobs / problem.ntotal,
        problem.stats,
        problem.model.wls_est(theta),
        problem.W,
        strict=True,
    ):
        s = np.asarray(st.wls_obs, float)
        e = s - est
        total += f * (1.0 - float(e @ wm @ e) / float(s @ wm @ s))
    return total


def _chi2_p(x2: float, df: float, skip: bool = False) -> float:
    return float(stats.chi2.sf(x2, df)) if (df > 0 and not skip) else np.nan


@small_blas
def ordinal_fit_measures(fit) -> dict[str, float]:
    """Fit measures of an :class:`~radsem.estimation.families.ordinal.fit.OrdinalFit`."""
    problem, theta = fit.problem, fit.theta
    n_adj = problem.ntotal - len(problem.stats)
    ngroups = len(problem.stats)
    npar, df = fit.npar, fit.df
    chisq = 2.0 * problem.ntotal * fit.fmin
    mv = fit.options["test"] in ("scaled.shifted", "satorra.bentler")
    sb = fit.options["test"] == "satorra.bentler"
    # lavaan gives no chi-square p-value for the (unscaled) ULS statistic
    uls = problem.estimator_name == "ULS"
    out: dict[str, float] = {
        "npar": npar,
        "fmin": fit.fmin,
        "chisq": chisq,
        "df": df,
        "pvalue": _chi2_p(chisq, df, uls),
    }
    base = fit.baseline_test
    if mv:
        t = fit.scaled_test
        out.update(
            {
                "chisq.scaled": t[0],
                "df.scaled": df,
                "pvalue.scaled": float(stats.chi2.sf(t[0], df)) if df > 0 else np.nan,
                "chisq.scaling.factor": t[1],
            }
        )
    out.update(
        {
            "baseline.chisq": base.chisq,
            "baseline.df": base.df,
            "baseline.pvalue": _chi2_p(base.chisq, base.df, uls),
        }
    )
    if mv:
        b_scaled, b_factor = base.chisq_scaled, base.scaling_factor
        if sb:  # Satorra-Bentler: chisq / (tr(U Gamma) / df) of the baseline
            b_factor = base.trace_ug / base.df
            b_scaled = base.chisq / b_factor
        out.update(
            {
                "baseline.chisq.scaled": b_scaled,
                "baseline.df.scaled": base.df,
                "baseline.pvalue.scaled": float(stats.chi2.sf(b_scaled, base.df)),
                "baseline.chisq.scaling.factor": b_factor,
            }
        )
    std = incremental_indices(chisq, df, base.chisq, base.df)
    out.update({"cfi": std["cfi"], "tli": std["tli"]})
    robust = fit.catml if mv else None
    if mv and robust is None:  # lavaan lists the .robust indices, as NA
        robust = CorrectedTest(*([np.nan] * 7))
    if mv:
        sc = incremental_indices(
            out["chisq.scaled"], df, out["baseline.chisq.scaled"], base.df, ".scaled"
        )
        out.update({"cfi.scaled": sc["cfi.scaled"], "tli.scaled": sc["tli.scaled"]})
    if robust is not None:
        rb = incremental_indices(
            robust.xx3, df, robust.xx3_null, base.df, ".robust", robust.c_hat3, robust.c_hat3_null
        )
        out.update({"cfi.robust": rb["cfi.robust"], "tli.robust": rb["tli.robust"]})
    out.update({k: v for k, v in std.items() if k not in ("cfi", "tli")})
    if mv:
        out.update({k: v for k, v in sc.items() if k not in ("cfi.scaled", "tli.scaled")})
    if robust is not None:
        out.update({"nnfi.robust": rb["nnfi.robust"], "rni.robust": rb["rni.robust"]})
    rm = rmsea_indices(chisq, df, n_adj, ngroups)
    out.update(
        {
            "rmsea": rm["rmsea"],
            "rmsea.ci.lower": rm["rmsea.ci.lower"],
            "rmsea.ci.upper": rm["rmsea.ci.upper"],
            "rmsea.ci.level": 0.90,
            "rmsea.pvalue": rm["rmsea.pvalue"],
            "rmsea.close.h0": 0.05,
            "rmsea.notclose.pvalue": rm["rmsea.notclose.pvalue"],
            "rmsea.notclose.h0": 0.08,
        }
    )
    if mv and sb:  # lavaan: the standard statistic on tr(U Gamma) degrees of freedom
        out.update(rmsea_indices(chisq, fit.inference.trace_ug, n_adj, ngroups, suffix=".scaled"))
    elif mv:
        out.update(rmsea_indices(out["chisq.scaled"], df, n_adj, ngroups, suffix=".scaled"))
    if robust is not None:
        out.update(
            rmsea_indices(
                robust.xx3,
                robust.df3,
                n_adj,
                ngroups,
                robust.c_hat3,
                ".robust",
                x2_ci=robust.xx3_scaled,
            )
        )
    res = _residual_indices(problem, theta)
    out.update(
        {
            "rmr": res["rmr"],
            "rmr_nomean": res["rmr_nomean"],
            "srmr": res["srmr_nomean"],
            "srmr_bentler": res["srmr"],
            "srmr_bentler_nomean": res["srmr_nomean"],
            "crmr": res["crmr"],
            "crmr_nomean": res["crmr_nomean"],
            "srmr_mplus": np.nan,
            "srmr_mplus_nomean": np.nan,
        }
    )
    exact = exact_start(problem.model.par)  # Hoelter's critical N
    out["cn_05"] = hoelter_cn(chisq, df, n_adj, 0.05, exact)
    out["cn_01"] = hoelter_cn(chisq, df, n_adj, 0.01, exact)
    nel = float(sum(np.asarray(st.wls_obs).size for st in problem.stats))
    gfi = _gfi(problem, theta)
    out["gfi"] = gfi
    out["agfi"] = 1.0 - nel / df * (1.0 - gfi) if df > 0 else 1.0
    out["pgfi"] = df / nel * gfi
    out["mfi"] = float(np.exp(-0.5 * (chisq - df) / n_adj))
    # lavaan 0.6-14 divides by the number of statistics of the first group only
    nel1 = float(np.asarray(problem.stats[0].wls_obs).size)
    out["wrmr"] = float(np.sqrt(chisq / nel1)) if nel1 > 0 else np.nan
    return out
