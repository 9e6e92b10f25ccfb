"""Likelihood-ratio (chi-square difference) tests of nested models, as lavaan's ``lavTestLRT``."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from radsem._warnings import user_stacklevel
from radsem.errors import DataError, ModelSpecificationError, RadsemWarning
from radsem.estimation.measures.indices import rmsea

__all__ = ["anova", "satorra_bentler_2001", "AnovaTable"]

#: what each route of :func:`anova` computes, as shown above its table
TESTS = {
    "standard": "Chi-squared difference test (likelihood ratio; lavaan's lavTestLRT, "
    'method "standard")',
    "satorra.bentler.2001": "Scaled chi-squared difference test (Satorra & Bentler 2001; "
    'lavTestLRT method "satorra.bentler.2001"); the Chisq column '
    "holds the standard statistics, as in lavaan",
    "satorra.2000": "Scaled-and-shifted chi-squared difference test for ordered indicators "
    '(Asparouhov & Muthen 2006; lavTestLRT method "satorra.2000")',
}


class AnovaTable(pd.DataFrame):
    """The table of :func:`anova`: a DataFrame that also says which test it holds.

    Attributes
    ----------
    test : str
        lavaan's name of the method (``"standard"``, ``"satorra.bentler.2001"`` or
        ``"satorra.2000"``).
    test_description : str
        The test in words, printed above the table.
    """

    _metadata = ["test", "test_description"]

    @property
    def _constructor(self):
        return AnovaTable

    def __repr__(self) -> str:
        head = getattr(self, "test_description", None)
        body = super().__repr__()
        return f"{head}\n\n{body}" if head else body


def _with_test(frame: pd.DataFrame, method: str) -> AnovaTable:
    table = AnovaTable(frame)
    table.test = method
    table.test_description = TESTS[method]
    return table


def _caller_names(fits, frame) -> list[str] | None:
    """The variable names the caller gave the fits (``anova(fit_free, fit_equal)``), when
    each fit has exactly one and they differ; else None."""
    if frame is None:
        return None
    scopes = [frame.f_locals, frame.f_globals]
    names = []
    for fit in fits:
        found = None
        for scope in scopes:
            hits = [k for k, v in list(scope.items()) if v is fit and not k.startswith("_")]
            if len(hits) == 1:
                found = hits[0]
                break
            if hits:
                return None
        if found is None:
            return None
        names.append(found)
    return names if len(set(names)) == len(names) else None


_REQUIRED = ("chisq", "df")


def _measures(fit) -> Mapping:
    if hasattr(fit, "fit_measures"):
        out = dict(fit.fit_measures())
        spec = getattr(fit, "spec", None)
        if "ngroups" not in out and spec is not None and hasattr(spec, "ngroups"):
            out["ngroups"] = spec.ngroups
        return out
    if isinstance(fit, Mapping | pd.Series):
        return fit
    raise TypeError(
        f"anova() takes fitted models (with fit_measures()) or mappings of fit measures, "
        f"not {type(fit).__name__}"
    )


def _first_scaled(fit) -> str:
    """The first scaled test of a continuous fit's ``test =`` ("" when none)."""
    tests = fit.options.get("test") if hasattr(fit, "options") else None
    if not isinstance(tests, list | tuple):
        return ""
    scaled = [t for t in tests if t not in ("standard", "bollen.stine")]
    return scaled[0] if scaled else ""


def _satorra_2000_table(fits: list, names: list[str]) -> pd.DataFrame:
    """lavTestLRT's table when the first scaled test is mean-and-variance adjusted or
    scaled-and-shifted (MLMVS, MLMV, continuous WLSMV): Satorra's (2000) scaled-and-shifted
    difference test between neighbours in df order (lavaan's ``method = "satorra.2000"``)."""
    from radsem.estimation.robust.difference import satorra_2000
    from radsem.estimation.robust.inference_sb import difference_pieces, reduced_jacobian

    kinds = {_first_scaled(f) for f in fits}
    if len(kinds) > 1 or not all(hasattr(f, "_problem") for f in fits):
        raise ModelSpecificationError(
            "the models have different scaled tests; fit all with the same estimator and test"
        )
    if len({f.problem.ntotal for f in fits}) > 1:
        raise DataError("the models were fitted to different numbers of cases")
    order = sorted(range(len(fits)), key=lambda i: fits[i].df)
    n = len(order)
    d_stat, d_df, pval = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    chisq = [2.0 * fits[i].problem.ntotal * fits[i].fmin for i in order]
    for m in range(1, n):
        m1, m0 = fits[order[m - 1]], fits[order[m]]
        df = int(m0.df - m1.df)
        d1, k1, e_inv, w, gamma, jac = difference_pieces(
            m1.problem, m1.theta, m1.options.get("information", "expected")
        )
        d0 = reduced_jacobian(m0.problem, m0.theta)
        test = satorra_2000(
            chisq[m], chisq[m - 1], df, d1, d0, k1, e_inv, w, gamma, jac, m1.problem.nobs
        )
        d_stat[m], d_df[m], pval[m] = test.chisq_diff, test.df_diff, test.pvalue
    fms = [fits[i].fit_measures() for i in order]
    return pd.DataFrame(
        {
            "Df": [int(fits[i].df) for i in order],
            "AIC": [fm.get("aic", np.nan) for fm in fms],
            "BIC": [fm.get("bic", np.nan) for fm in fms],
            "Chisq": chisq,
            "Chisq diff": d_stat,
            "Df diff": d_df,
            "Pr(>Chisq)": pval,
        },
        index=pd.Index([names[i] for i in order], name=None),
    )


def _get(fm: Mapping, key: str, default=np.nan) -> float:
    try:
        val = fm[key]
    except KeyError:
        return default
    return float(val) if val is not None else default


def satorra_bentler_2001(
    chisq1: float, df1: float, c1: float, chisq0: float, df0: float, c0: float
) -> tuple[float, float, float]:
    """Scaled chi-square difference of Satorra & Bentler (2001).

    Model 1 is the less restricted (smaller df), model 0 the restricted one; ``c`` are the
    models' scaling factors (``chisq.scaling.factor``). Returns ``(T, df, cd)`` with
    ``cd = (df0 c0 - df1 c1) / (df0 - df1)`` and ``T = (chisq0 - chisq1) / cd`` (``cd`` is
    NaN when negative, as lavaan; ``c1 = 1`` for a saturated model).
    """
    if df1 == 0:
        c1 = 1.0
    m = df0 - df1
    if m == 0:
        return chisq0 - chisq1, 0.0, np.nan
    cd = (df0 * c0 - df1 * c1) / m
    if cd < 0:
        cd = np.nan
    return (chisq0 - chisq1) / cd, m, cd


def anova(*fits, model_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Chi-square difference tests of nested models (lavaan's ``anova`` / ``lavTestLRT``).

    Parameters
    ----------
    *fits : fitted models or mappings
        Two or more fits (objects with ``fit_measures()``, or mappings/Series of lavaan fit
        measures with at least ``chisq``, ``df``, and ``aic``, ``bic``, ``ntotal``; scaled
        fits also ``chisq.scaling.factor``).
    model_names : sequence of str, optional
        Row labels. Default: the names of the caller's variables holding the fits
        (``anova(fit_free, fit_equal)`` labels the rows ``fit_free`` and ``fit_equal``, as
        lavaan does), else ``"model 1"``, ``"model 2"``, ... in the order given.

    Returns
    -------
    AnovaTable
        A DataFrame with one row per model, sorted by degrees of freedom (least restricted
        first), with lavaan's columns ``Df, AIC, BIC, Chisq, Chisq diff, [RMSEA,] Df diff,
        Pr(>Chisq)``. The ``RMSEA`` of the difference is included for standard (unscaled)
        tests only. Its ``test`` attribute names the test used (lavaan's method name) and
        ``test_description`` says it in words; both are printed above the table.

    Raises
    ------
    ModelSpecificationError
        Fewer than two models, or scaled and unscaled fits mixed.
    DataError
        Models fitted to different numbers of cases.

    Warns
    -----
    RadsemWarning
        When a more restricted model fits better (the models are not nested, or an
        optimisation stopped early).

    Notes
    -----
    Standard fits: ``Chisq diff = chisq_0 - chisq_1`` on ``df_0 - df_1``. Robust (MLR,
    MLM) fits: the Satorra-Bentler (2001) scaled difference (lavaan's default
    ``method = "satorra.bentler.2001"``); the ``Chisq`` column holds the standard
    statistics, as in lavaan. Fits with ordered indicators (WLSMV and friends): the
    scaled-and-shifted difference test of Asparouhov & Muthen (2006), lavaan's default for
    them (see :func:`radsem.estimation.families.ordinal.wlsmv_difference_test`); AIC/BIC are NaN.
    Checked against ``lavTestLRT()`` of lavaan 0.6-14.
    """
    if len(fits) < 2:
        raise ModelSpecificationError("anova() needs at least two fitted models to compare")
    import inspect

    if model_names is None:
        caller = inspect.currentframe().f_back
        try:
            model_names = _caller_names(fits, caller)
        finally:
            del caller
    names = (
        list(model_names)
        if model_names is not None
        else [f"model {i + 1}" for i in range(len(fits))]
    )
    if len(names) != len(fits):
        raise ModelSpecificationError(f"{len(names)} model names for {len(fits)} models")
    categorical = [_is_categorical(f) for f in fits]
    if any(categorical):
        if not all(categorical):
            raise ModelSpecificationError(
                "some models have ordered indicators (WLSMV) and others not; compare fits of "
                "the same data with the same estimator"
            )
        return _with_test(_categorical_table(list(fits), names), "satorra.2000")
    if any(_first_scaled(f) in ("mean.var.adjusted", "scaled.shifted") for f in fits):
        return _with_test(_satorra_2000_table(list(fits), names), "satorra.2000")
    rows = []
    for name, fit in zip(names, fits, strict=True):
        fm = _measures(fit)
        missing = [k for k in _REQUIRED if not np.isfinite(_get(fm, k))]
        if missing:
            raise ModelSpecificationError(f"{name}: no {', '.join(missing)} (was it fitted?)")
        rows.append(
            {
                "name": name,
                "Df": _get(fm, "df"),
                "AIC": _get(fm, "aic"),
                "BIC": _get(fm, "bic"),
                "Chisq": _get(fm, "chisq"),
                "c": _get(fm, "chisq.scaling.factor"),
                "ntotal": _get(fm, "ntotal"),
                "ngroups": _get(fm, "ngroups", 1.0),
            }
        )
    rows.sort(key=lambda r: r["Df"])  # stable, as R's order()
    ntot = {r["ntotal"] for r in rows if np.isfinite(r["ntotal"])}
    if len(ntot) > 1:
        raise DataError(f"the models were fitted to different numbers of cases: {sorted(ntot)}")
    scaled_flags = [np.isfinite(r["c"]) or r["Df"] == 0 for r in rows]
    any_scaled = any(np.isfinite(r["c"]) for r in rows)
    if any_scaled and not all(scaled_flags):
        raise ModelSpecificationError(
            "some models have a scaled (robust) test statistic and others not; fit all with "
            "the same estimator"
        )
    return _with_test(
        _table(rows, scaled=any_scaled), "satorra.bentler.2001" if any_scaled else "standard"
    )


def _is_categorical(fit) -> bool:
    return getattr(fit, "family", None) == "ordinal"


def _categorical_table(fits: list, names: list[str]) -> pd.DataFrame:
    """lavTestLRT's table for categorical fits: the scaled-and-shifted difference test
    (Asparouhov & Muthen 2006; lavaan's ``method = "satorra.2000"``) between neighbours in df
    order; AIC and BIC are undefined for (D)WLS."""
    from radsem.estimation.measures.lrt_ordinal import wlsmv_difference_test

    order = sorted(range(len(fits)), key=lambda i: fits[i].df)
    n = len(order)
    d_stat, d_df, pval = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    for m in range(1, n):
        test = wlsmv_difference_test(fits[order[m]], fits[order[m - 1]])
        d_stat[m], d_df[m], pval[m] = test.chisq_diff, test.df_diff, test.pvalue
    chisq = [float(fits[i].fit_measures()["chisq"]) for i in order]
    return pd.DataFrame(
        {
            "Df": [int(fits[i].df) for i in order],
            "AIC": np.nan,
            "BIC": np.nan,
            "Chisq": chisq,
            "Chisq diff": d_stat,
            "Df diff": d_df,
            "Pr(>Chisq)": pval,
        },
        index=pd.Index([names[i] for i in order], name=None),
    )


def _table(rows: list[dict], scaled: bool) -> pd.DataFrame:
    n = len(rows)
    stat = np.array([r["Chisq"] for r in rows])
    df = np.array([r["Df"] for r in rows])
    d_stat = np.full(n, np.nan)
    d_df = np.full(n, np.nan)
    d_stat[1:] = np.diff(stat)
    d_df[1:] = np.diff(df)
    if np.any(d_stat[1:] < -(np.finfo(float).eps ** (1 / 3))):
        warnings.warn(
            "some restricted models fit better than less restricted models; either these "
            f"models are not nested, or the less restricted model failed to reach a global "
            f"optimum (smallest difference = {np.nanmin(d_stat[1:]):.6g})",
            RadsemWarning,
            stacklevel=user_stacklevel(),
        )
    out = {
        "Df": df,
        "AIC": [r["AIC"] for r in rows],
        "BIC": [r["BIC"] for r in rows],
        "Chisq": stat,
    }
    if scaled:
        for m in range(n - 1):
            t, k, _ = satorra_bentler_2001(
                stat[m], df[m], rows[m]["c"], stat[m + 1], df[m + 1], rows[m + 1]["c"]
            )
            d_stat[m + 1], d_df[m + 1] = t, k
        out["Chisq diff"] = d_stat
    else:
        out["Chisq diff"] = d_stat
        ntotal = rows[0]["ntotal"]
        groups = int(rows[0]["ngroups"]) if np.isfinite(rows[0]["ngroups"]) else 1
        out["RMSEA"] = [np.nan] + [
            rmsea(d_stat[m], d_df[m], ntotal, groups) if np.isfinite(ntotal) else np.nan
            for m in range(1, n)
        ]
    pval = np.full(n, np.nan)
    for m in range(1, n):
        if np.isfinite(d_stat[m]) and d_df[m] > 0:
            pval[m] = float(stats.chi2.sf(d_stat[m], d_df[m]))
    out["Df diff"] = d_df
    out["Pr(>Chisq)"] = pval
    frame = pd.DataFrame(out, index=pd.Index([r["name"] for r in rows], name=None))
    frame["Df"] = frame["Df"].astype(int) if all(math.isfinite(v) for v in df) else frame["Df"]
    return frame
