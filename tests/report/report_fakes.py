"""Fit-like objects built from DataFrames, shared by the report tests."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")


class FakeFit:
    """The interface sem_report reads: parameter_estimates(), fit_measures(), modindices(),
    converged, options, model, warnings."""

    def __init__(self, pe, fm, mi=None, converged=True, model=None, warnings=()):
        self._pe, self._fm, self._mi = pe, fm, mi
        self.converged = converged
        self.options = {"estimator": "ML", "missing": "listwise"}
        self.model = model
        self.warnings = list(warnings)

    def parameter_estimates(self):
        return self._pe.copy()

    def fit_measures(self):
        return self._fm.copy()

    def modindices(self):
        if self._mi is None:
            raise AttributeError("no modindices")
        return self._mi.copy()


def _pe_rows(loadings, factor_cov, resid, regressions=()):
    rows = []
    for f, items in loadings.items():
        for i, (v, est, std) in enumerate(items):
            se = 0.0 if i == 0 else 0.1
            rows.append((f, "=~", v, est, se, std))
    for lhs, rhs, est, std in regressions:
        rows.append((lhs, "~", rhs, est, 0.08, std))
    for a, b, est, std in factor_cov:
        rows.append((a, "~~", b, est, 0.05, std))
    for v, est, std in resid:
        rows.append((v, "~~", v, est, 0.05, std))
    pe = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "est", "se", "std_all"])
    pe.insert(3, "group", 1)
    pe.insert(4, "label", "")
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(pe["se"] > 0, pe["est"] / pe["se"], np.nan)
    from scipy import stats

    pe.insert(7, "z", z)
    pe.insert(8, "pvalue", 2 * stats.norm.sf(np.abs(z)))
    pe.insert(9, "ci_lower", pe["est"] - 1.959964 * pe["se"])
    pe.insert(10, "ci_upper", pe["est"] + 1.959964 * pe["se"])
    pe["std_lv"] = pe["std_all"]
    return pe


def make_fit(chisq=30.0, df=19, npar=17, free_cov=True, negative_var=False, converged=True, n=200):
    loadings = {
        "f1": [("a1", 1.0, 0.8), ("a2", 0.9, 0.7), ("a3", 1.1, 0.75)],
        "f2": [("b1", 1.0, 0.6), ("b2", 1.2, 0.65), ("b3", 0.8, 0.55)],
    }
    cov = [("f1", "f2", 0.3 if free_cov else 0.0, 0.42 if free_cov else 0.0)]
    resid = [(v, 0.4, 0.36) for items in loadings.values() for v, _, _ in items]
    if negative_var:
        resid[0] = ("a1", -0.05, -0.04)
    resid += [("f1", 0.6, 1.0), ("f2", 0.5, 1.0)]
    pe = _pe_rows(loadings, cov, resid)
    from scipy import stats

    fm = pd.Series(
        {
            "npar": npar,
            "chisq": chisq,
            "df": df,
            "pvalue": stats.chi2.sf(chisq, df),
            "cfi": 0.972,
            "tli": 0.958,
            "rmsea": 0.0412,
            "rmsea.ci.lower": 0.0101,
            "rmsea.ci.upper": 0.0673,
            "rmsea.ci.level": 0.90,
            "rmsea.pvalue": 0.61,
            "srmr": 0.0387,
            "aic": 4000.0 + chisq + 2 * npar,
            "bic": 4050.0 + chisq + npar * np.log(n),
            "logl": -1990.0,
            "ntotal": n,
        }
    )
    mi = pd.DataFrame(
        {
            "lhs": ["f1", "a1", "f2"] + [f"a{k}" for k in range(12)],
            "op": ["=~", "~~", "=~"] + ["~~"] * 12,
            "rhs": ["b1", "a2", "a3"] + [f"b{k}" for k in range(12)],
            "group": 1,
            "mi": [0.5, 9.1, 4.2] + list(np.linspace(0.1, 3.0, 12)),
            "epc": 0.1,
            "sepc_all": 0.05,
        }
    )
    model = "f1 =~ a1 + a2 + a3\nf2 =~ b1 + b2 + b3\n" + ("" if free_cov else "f1 ~~ 0*f2\n")
    return FakeFit(pe, fm, mi, converged=converged, model=model)
