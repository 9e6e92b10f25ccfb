"""The fit report of one or several SEM fits (any object with ``parameter_estimates()`` and
``fit_measures()`` in radsem's/lavaan's names: radsem's own fits, lavaan through rpy2, ...)."""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from radsem.errors import DataError
from radsem.report.document import Report, Text
from radsem.report.provenance import Provenance
from radsem.report.table import ResultTable

__all__ = [
    "sem_report",
    "fit_measures_table",
    "missing_patterns",
    "fit_measures_side_by_side",
    "chisq_difference",
    "fit_warnings",
    "r_squared",
    "compact_missing_patterns",
    "beyond_guides",
]

CUTOFF_NOTE = (
    "Guides in the context column are the Hu & Bentler (1999) cut-offs (CFI and TLI "
    ">= 0.95, RMSEA <= 0.06, SRMR <= 0.08). They are context, not verdicts: they "
    "were derived for ML estimation of continuous data and shift with sample size, "
    "model size and the size of the loadings."
)

# (key, label, context); robust variants are added when present
_MEASURES = (
    ("chisq", "Chi-square (model test)", "exact-fit test; rejects small misfit in large samples"),
    ("df", "Degrees of freedom", ""),
    ("pvalue", "p-value (chi-square)", ""),
    ("cfi", "CFI", "guide: >= 0.95 (Hu & Bentler 1999)"),
    ("tli", "TLI", "guide: >= 0.95 (Hu & Bentler 1999)"),
    ("rmsea", "RMSEA", "guide: <= 0.06 (Hu & Bentler 1999)"),
    ("rmsea.pvalue", "p-value RMSEA <= 0.05", "test of close fit"),
    ("srmr", "SRMR", "guide: <= 0.08 (Hu & Bentler 1999)"),
    ("aic", "AIC", "smaller is better, for comparing models on the same data"),
    ("bic", "BIC", "smaller is better, for comparing models on the same data"),
    ("logl", "Log-likelihood", ""),
    ("npar", "Free parameters", ""),
    ("ntotal", "N used", ""),
)
_ROBUST = (
    ("chisq.scaled", "Chi-square (scaled)"),
    ("df.scaled", "Degrees of freedom (scaled)"),
    ("pvalue.scaled", "p-value (scaled)"),
    ("cfi.robust", "CFI (robust)"),
    ("tli.robust", "TLI (robust)"),
    ("rmsea.robust", "RMSEA (robust)"),
)
_OPS = (
    ("=~", "Latent variables (loadings)"),
    ("~", "Regressions"),
    ("~~cov", "Covariances"),
    ("~~var", "Variances"),
    ("~1", "Intercepts"),
    ("|", "Thresholds"),
    (":=", "Defined parameters"),
)
_PE_LABELS = {
    "ci_lower": "CI lower",
    "ci_upper": "CI upper",
    "std_all": "Std.all",
    "std_lv": "Std.lv",
    "est": "Estimate",
    "se": "Std.Err",
    "z": "z-value",
    "pvalue": "P(>|z|)",
}


def _measures(fit) -> pd.Series:
    if not hasattr(fit, "fit_measures"):
        raise DataError(
            f"{type(fit).__name__} has no fit_measures(); sem_report needs fitted "
            "models from radsem.sem/cfa/growth or radsem.engines"
        )
    return pd.Series(fit.fit_measures(), dtype=float)


def fit_measures_table(fm: pd.Series, title: str | None = "Fit measures") -> ResultTable:
    """Fit measures with the RMSEA confidence interval and the usual cut-offs as context."""
    rows = []
    for key, label, context in _MEASURES:
        if key in fm.index and np.isfinite(fm[key]):
            lo = fm.get("rmsea.ci.lower", np.nan) if key == "rmsea" else np.nan
            hi = fm.get("rmsea.ci.upper", np.nan) if key == "rmsea" else np.nan
            rows.append((key, label, fm[key], lo, hi, context))
    for key, label in _ROBUST:
        if key in fm.index and np.isfinite(fm[key]):
            lo = fm.get("rmsea.ci.lower.robust", np.nan) if key == "rmsea.robust" else np.nan
            hi = fm.get("rmsea.ci.upper.robust", np.nan) if key == "rmsea.robust" else np.nan
            rows.append((key, label, fm[key], lo, hi, ""))
    frame = pd.DataFrame(
        rows, columns=["measure", "description", "value", "ci_lower", "ci_upper", "context"]
    )
    frame["vs guide"] = [
        _guide_flag(k, v) for k, v in zip(frame["measure"], frame["value"], strict=True)
    ]
    level = fm.get("rmsea.ci.level", 0.90)
    level = 0.90 if not np.isfinite(level) else level
    pv = [i for i, k in enumerate(frame["measure"]) if "pvalue" in k]
    formatted = frame.copy()
    formatted["value"] = [
        _fmt_measure(k, v, i in pv)
        for i, (k, v) in enumerate(zip(frame["measure"], frame["value"], strict=True))
    ]
    return ResultTable(
        formatted,
        title=title,
        digits=3,
        right_align=["value"],
        labels={"ci_lower": f"{level:.0%} CI lower", "ci_upper": f"{level:.0%} CI upper"},
        notes=[CUTOFF_NOTE],
    )


#: Hu & Bentler (1999) guides: measure -> (direction, cut-off)
GUIDES = {
    "cfi": (">=", 0.95),
    "tli": (">=", 0.95),
    "rmsea": ("<=", 0.06),
    "srmr": ("<=", 0.08),
    "cfi.robust": (">=", 0.95),
    "tli.robust": (">=", 0.95),
    "rmsea.robust": ("<=", 0.06),
}


def _guide_flag(key: str, value: float) -> str:
    """'within guide' / 'BEYOND GUIDE (> 0.08)' for measures with a Hu & Bentler guide."""
    if key not in GUIDES or not np.isfinite(value):
        return ""
    direction, cut = GUIDES[key]
    ok = value >= cut if direction == ">=" else value <= cut
    if ok:
        return "within guide"
    return f"BEYOND GUIDE ({'<' if direction == '>=' else '>'} {cut:g})"


def beyond_guides(fm: pd.Series) -> list[str]:
    """Sentences naming the fit measures beyond their Hu & Bentler (1999) guide."""
    out = []
    for key, (direction, cut) in GUIDES.items():
        value = float(fm.get(key, np.nan))
        if np.isfinite(value) and _guide_flag(key, value).startswith("BEYOND"):
            side = "below" if direction == ">=" else "above"
            out.append(
                f"{key.upper().replace('.ROBUST', ' (robust)')} = {value:.3f} is {side} "
                f"the guide of {cut:g}."
            )
    return out


def r_squared(pe: pd.DataFrame) -> pd.DataFrame:
    """R-squared of every endogenous variable (lavaan's ``inspect(fit, "r2")``): one minus the
    standardized residual variance, for indicators of latent variables and outcomes of
    regressions."""
    if "std_all" not in pe.columns:
        return pd.DataFrame(columns=["variable", "R2"])
    endo = list(dict.fromkeys([*pe.loc[pe["op"] == "=~", "rhs"], *pe.loc[pe["op"] == "~", "lhs"]]))
    var = pe[(pe["op"] == "~~") & (pe["lhs"] == pe["rhs"]) & pe["lhs"].isin(endo)]
    cols = ["group"] if "group" in pe.columns and pe["group"].nunique() > 1 else []
    out = var[["lhs", *cols]].rename(columns={"lhs": "variable"}).copy()
    out["R2"] = 1.0 - var["std_all"].astype(float).to_numpy()
    order = {v: i for i, v in enumerate(endo)}
    out = out.sort_values(
        by=[*cols, "variable"],
        key=lambda c: c.map(order) if c.name == "variable" else c,
        kind="stable",
    )
    return out.reset_index(drop=True)


def compact_missing_patterns(patterns: pd.DataFrame) -> pd.DataFrame:
    """The missing-data patterns as one short row each: how many rows, how many variables are
    missing, and which (instead of one 0/1 column per variable, too wide for a page)."""
    variables = [c for c in patterns.columns if c not in ("n", "n_missing")]
    rows = []
    for _, r in patterns.iterrows():
        if pd.isna(r.get("n_missing")):
            rows.append(
                {
                    "rows": int(r["n"]),
                    "variables missing": np.nan,
                    "which": "(rarer patterns pooled)",
                }
            )
            continue
        gone = [v for v in variables if r[v] == 0]
        rows.append(
            {
                "rows": int(r["n"]),
                "variables missing": int(r["n_missing"]),
                "which": ", ".join(gone) if gone else "none (complete)",
            }
        )
    return pd.DataFrame(rows, columns=["rows", "variables missing", "which"])


def _fmt_measure(key: str, value: float, is_p: bool) -> str:
    from radsem.report.table import format_pvalue

    if is_p:
        return format_pvalue(value)
    if key in ("df", "npar", "ntotal", "df.scaled") and float(value).is_integer():
        return str(int(value))
    return f"{value:.3f}"


def missing_patterns(
    data: pd.DataFrame, variables: Sequence[str] | None = None, max_patterns: int = 15
) -> pd.DataFrame:
    """Missing-data patterns: one row per pattern (1 observed, 0 missing) with its count.

    Rows are sorted by frequency; patterns beyond ``max_patterns`` are pooled in a last row
    whose cells are blank.
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    variables = [v for v in (variables or data.columns) if v in data.columns]
    if not variables:
        raise DataError("none of the model's observed variables is a column of the data")
    obs = data[variables].notna().astype(int)
    counts = obs.value_counts(sort=False).rename("n").reset_index()
    counts["n_missing"] = len(variables) - counts[variables].sum(axis=1)
    counts = counts.sort_values(["n", "n_missing"], ascending=[False, True], kind="stable")
    counts = counts[["n", *variables, "n_missing"]].reset_index(drop=True)
    if len(counts) > max_patterns:
        rest = counts.iloc[max_patterns:]
        counts = counts.iloc[:max_patterns].astype(object)
        other = {c: None for c in counts.columns}
        other["n"] = int(rest["n"].sum())
        counts = pd.concat([counts, pd.DataFrame([other])], ignore_index=True)
    return counts


def _observed(pe: pd.DataFrame) -> list[str]:
    latent = set(pe.loc[pe["op"] == "=~", "lhs"])
    rows = pe[pe["op"].isin(("=~", "~", "~~", "~1"))]
    names = list(dict.fromkeys([*rows["lhs"], *rows.loc[rows["op"] != "~1", "rhs"]]))
    return [n for n in names if n not in latent and n != ""]


def fit_warnings(fit, pe: pd.DataFrame, extra: Sequence = ()) -> list[str]:
    """Problems of a fit in words: non-convergence, recorded warnings, negative variances
    (Heywood cases), standardized loadings or correlations beyond +/-1."""
    out = []
    conv = getattr(fit, "converged", None)
    if conv is False:
        out.append(
            "The optimiser did not converge: the estimates, standard errors and fit "
            "measures are not trustworthy."
        )
    elif conv is None:
        out.append("The fit object does not say whether the optimiser converged.")
    for w in [*(getattr(fit, "warnings", None) or ()), *extra]:
        msg = str(getattr(w, "message", w))
        kind = getattr(w, "category", type(w) if isinstance(w, Warning) else None)
        prefix = f"{kind.__name__}: " if isinstance(kind, type) else ""
        if prefix + msg not in out:
            out.append(prefix + msg)
    var = pe[(pe["op"] == "~~") & (pe["lhs"] == pe["rhs"])]
    for r in var[var["est"] < 0].itertuples():
        grp = f" (group {r.group})" if "group" in pe.columns and pe["group"].nunique() > 1 else ""
        out.append(
            f"Improper solution: the variance of {r.lhs}{grp} is negative "
            f"({r.est:.3f}), a Heywood case."
        )
    if "std_all" in pe.columns:
        bad = pe[
            (pe["op"].isin(("=~", "~~")))
            & (pe["lhs"] != pe["rhs"])
            & (pe["std_all"].abs() > 1 + 1e-8)
        ]
        for r in bad.itertuples():
            out.append(
                f"Improper solution: the standardized {r.lhs} {r.op} {r.rhs} is "
                f"{r.std_all:.3f}, beyond +/-1."
            )
    return out


def _pe_tables(pe: pd.DataFrame, name: str) -> list[ResultTable]:
    multi = "group" in pe.columns and pe.loc[pe["op"] != ":=", "group"].nunique() > 1
    cols = ["lhs", "op", "rhs"] + (["group"] if multi else [])
    if "label" in pe.columns and (pe["label"].fillna("").astype(str) != "").any():
        cols.append("label")
    cols += [
        c
        for c in ("est", "se", "z", "pvalue", "ci_lower", "ci_upper", "std_all")
        if c in pe.columns
    ]
    tables = []
    for key, title in _OPS:
        if key == "~~cov":
            rows = pe[(pe["op"] == "~~") & (pe["lhs"] != pe["rhs"])]
        elif key == "~~var":
            rows = pe[(pe["op"] == "~~") & (pe["lhs"] == pe["rhs"])]
        else:
            rows = pe[pe["op"] == key]
        if len(rows):
            rows = rows[cols].reset_index(drop=True)
            if "se" in rows.columns:  # fixed parameters: no standard error or interval (lavaan)
                fixed = (rows["se"] == 0) & (rows["z"].isna() if "z" in rows else True)
                for c in ("se", "ci_lower", "ci_upper"):
                    if c in rows.columns:
                        rows[c] = rows[c].astype(float).mask(fixed)
            tables.append(ResultTable(rows, title=f"{title}: {name}", labels=_PE_LABELS))
    return tables


def _modindices(fit, top: int):
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        if hasattr(fit, "modindices"):
            mi = fit.modindices()
        elif hasattr(fit, "_problem") and hasattr(fit, "_theta"):
            from radsem.estimation.measures.modindices import modindices

            mi = modindices(fit)
        else:
            return None, list(caught)
    if not isinstance(mi, pd.DataFrame) or "mi" not in mi.columns:
        return None, list(caught)
    keep = [c for c in ("lhs", "op", "rhs", "group", "mi", "epc", "sepc_all") if c in mi.columns]
    if "group" in keep and mi["group"].nunique() <= 1:
        keep.remove("group")
    mi = mi.dropna(subset=["mi"]).sort_values("mi", ascending=False, kind="stable")
    return mi[keep].head(top).reset_index(drop=True), list(caught)


def fit_measures_side_by_side(fits: Sequence, names: Sequence[str]) -> pd.DataFrame:
    """Side-by-side fit measures of several models (rows: models)."""
    keys = (
        "npar",
        "ntotal",
        "chisq",
        "df",
        "pvalue",
        "cfi",
        "tli",
        "rmsea",
        "rmsea.ci.lower",
        "rmsea.ci.upper",
        "srmr",
        "aic",
        "bic",
    )
    rows = []
    for fit in fits:
        fm = _measures(fit)
        rows.append([fm.get(k, np.nan) for k in keys])
    frame = pd.DataFrame(rows, columns=list(keys), index=pd.Index(names, name="model"))
    for k in ("npar", "ntotal", "df"):
        if frame[k].notna().all() and (frame[k] % 1 == 0).all():
            frame[k] = frame[k].astype(int)
    return frame


def chisq_difference(fits: Sequence, names: Sequence[str]) -> tuple[pd.DataFrame, list]:
    """Chi-square difference tests of nested models (``radsem``'s lavTestLRT when available,
    else the standard difference ``chisq_0 - chisq_1`` on ``df_0 - df_1``)."""
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        try:
            from radsem.estimation.measures.lrt import anova
        except ImportError:  # pragma: no cover - the estimation package is optional here
            anova = None
        if anova is not None:
            return anova(*fits, model_names=list(names)), list(caught)
    rows = sorted(
        (
            (float(_measures(f)["df"]), float(_measures(f)["chisq"]), n)
            for f, n in zip(fits, names, strict=True)
        ),
        key=lambda r: r[0],
    )
    out = pd.DataFrame(rows, columns=["Df", "Chisq", "name"]).set_index("name")
    out.index.name = None
    out["Chisq diff"] = out["Chisq"].diff()
    out["Df diff"] = out["Df"].diff()
    out["Pr(>Chisq)"] = stats.chi2.sf(out["Chisq diff"], out["Df diff"])
    return out, list(caught)


def _provenance(provenance, fits, names) -> Provenance:
    if isinstance(provenance, Provenance):
        return provenance
    kwargs = dict(provenance or {})
    options = dict(kwargs.pop("options", {}) or {})
    for fit, name in zip(fits, names, strict=True):
        opts = getattr(fit, "options", None)
        if isinstance(opts, Mapping):
            options.setdefault(name, dict(opts))
    return Provenance(options=options, **kwargs)


def _normalise(fits, names):
    if isinstance(fits, Mapping):
        names = list(fits) if names is None else names
        fits = list(fits.values())
    elif not isinstance(fits, list | tuple):
        fits = [fits]
    fits = list(fits)
    if not fits:
        raise DataError("sem_report needs at least one fitted model")
    names = [f"model {i + 1}" for i in range(len(fits))] if names is None else list(names)
    if len(names) != len(fits):
        raise DataError(f"{len(names)} names for {len(fits)} fits")
    if len(set(names)) != len(names):
        raise DataError(f"model names must be unique: {names}")
    for fit, name in zip(fits, names, strict=True):
        if not hasattr(fit, "parameter_estimates") or not hasattr(fit, "fit_measures"):
            raise DataError(
                f"{name}: {type(fit).__name__} is not a fitted model (it needs "
                "parameter_estimates() and fit_measures())"
            )
    return fits, [str(n) for n in names]


def _nested_sets(nested, names) -> list[list[str]]:
    if nested is None or nested is False:
        return []
    if nested is True:
        return [list(names)]
    sets = []
    for group in nested:
        group = [str(g) for g in group]
        unknown = [g for g in group if g not in names]
        if unknown or len(group) < 2:
            raise DataError(
                f"nested sets must name at least two of the models {names}; got {group}"
            )
        sets.append(group)
    return sets


def _overview(fits, names, data) -> ResultTable:
    rows = []
    for fit, name in zip(fits, names, strict=True):
        fm = _measures(fit)
        pe = fit.parameter_estimates()
        opts = getattr(fit, "options", {}) or {}
        latent = list(dict.fromkeys(pe.loc[pe["op"] == "=~", "lhs"]))
        rows.append(
            {
                "model": name,
                "estimator": opts.get("estimator", ""),
                "missing": opts.get("missing", ""),
                "N in data": len(data) if data is not None else np.nan,
                "N used": fm.get("ntotal", getattr(fit, "nobs", np.nan)),
                "groups": int(fm.get("ngroups", 1)) if np.isfinite(fm.get("ngroups", 1)) else 1,
                "observed": len(_observed(pe)),
                "latent": len(latent),
                "free parameters": fm.get("npar", np.nan),
                "df": fm.get("df", np.nan),
                "converged": getattr(fit, "converged", None),
            }
        )
    frame = pd.DataFrame(rows).set_index("model")
    for c in ("N in data", "N used", "free parameters", "df"):
        if frame[c].notna().all() and (frame[c] % 1 == 0).all():
            frame[c] = frame[c].astype(int)
    frame = frame.dropna(axis=1, how="all")
    return ResultTable(frame, title="Data and model summary")


def sem_report(
    fits,
    names: Sequence[str] | None = None,
    data: pd.DataFrame | None = None,
    title: str = "Structural equation model report",
    provenance=None,
    nested=None,
    warnings: Mapping[str, Sequence] | None = None,
    diagram_values: str | None = "std_all",
    residuals: bool = False,
    top_mi: int = 10,
) -> Report:
    """Build the fit report of one or several SEM fits.

    Parameters
    ----------
    fits : fit, sequence of fits or mapping name -> fit
        Objects with ``parameter_estimates()`` (radsem's columns) and ``fit_measures()``
        (lavaan's names); ``converged``, ``options``, ``model`` (syntax), ``modindices()`` and a
        ``warnings`` list are used when present.
    names : sequence of str, optional
        Model names (default ``model 1``, ``model 2``, ... or the mapping's keys).
    data : DataFrame, optional
        The data, for N and the missing-data patterns of the model variables.
    title : str
    provenance : Provenance or mapping, optional
        A :class:`Provenance`, or keyword arguments for one (``inputs``, ``seeds``,
        ``command``...). The fits' options are recorded.
    nested : bool or sequence of sequences of names, optional
        Models to test against each other by chi-square difference: ``True`` for all models
        (one nested sequence), or sets of names. Not declared: no tests (AIC/BIC only).
    warnings : mapping name -> sequence, optional
        Warnings recorded while fitting (``warnings.catch_warnings(record=True)``).
    diagram_values : str or None
        Parameter-table column printed on the diagram arrows (``"std_all"``, ``"est"``).
    residuals : bool
        Draw residual variances in the diagram.
    top_mi : int
        Number of modification indices listed (largest first).

    Returns
    -------
    Report
    """
    from radsem.report.path_diagram import path_diagram

    fits, names = _normalise(fits, names)
    if data is not None and not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    sets = _nested_sets(nested, names)
    recorded = {str(k): list(v) for k, v in (warnings or {}).items()}
    report = Report(title, provenance=_provenance(provenance, fits, names))
    intro = report.add_section(
        "Overview",
        Text(
            f"{len(fits)} model{'s' if len(fits) > 1 else ''} fitted. Numbers are rounded for "
            "display only. Fit indices describe how well the model reproduces the observed "
            "covariances; they are shown with the conventional cut-offs as context."
        ),
    )
    intro.add(_overview(fits, names, data))
    pes = [fit.parameter_estimates() for fit in fits]
    if data is not None:
        variables = list(dict.fromkeys(v for pe in pes for v in _observed(pe)))
        pats = missing_patterns(data, variables)
        complete = int(data[[v for v in variables if v in data.columns]].notna().all(1).sum())
        report.add_section(
            "Missing data",
            Text(
                f"{complete} of {len(data)} rows are complete on the {len(variables)} observed "
                "model variables. Each row below is a pattern of missing values with the "
                "number of rows showing it and the variables missing in it."
            ),
            ResultTable(compact_missing_patterns(pats), title="Missing-data patterns"),
        )
    if len(fits) > 1:
        sec = report.add_section(
            "Model comparison",
            ResultTable(
                fit_measures_side_by_side(fits, names),
                title="Fit measures side by side",
                labels={"rmsea.ci.lower": "RMSEA CI lower", "rmsea.ci.upper": "RMSEA CI upper"},
                notes=[
                    "AIC and BIC compare models fitted to the same data (smaller is better); "
                    "chi-square difference tests need nested models."
                ],
            ),
        )
        if not sets:
            sec.add(
                Text(
                    "No chi-square difference test: declare nested models with "
                    "nested=True or nested=[[...names...]] to obtain them.",
                    "note",
                )
            )
        for group in sets:
            idx = [names.index(g) for g in group]
            table, caught = chisq_difference([fits[i] for i in idx], group)
            for c in ("Df", "Df diff"):
                if c in table.columns and (table[c].dropna() % 1 == 0).all():
                    table[c] = table[c].astype("Int64")
            sec.add(
                ResultTable(
                    table,
                    title="Chi-square difference test: " + ", ".join(group),
                    notes=[
                        "Rows sorted by degrees of freedom; each test compares "
                        "a model with the one above it."
                    ],
                )
            )
            for w in caught:
                sec.add(Text(str(w.message), "warning"))
    for fit, name, pe in zip(fits, names, pes, strict=True):
        _model_sections(
            report,
            fit,
            name,
            pe,
            recorded.get(name, []),
            diagram_values,
            residuals,
            top_mi,
            path_diagram,
        )
    return report


def _model_sections(
    report, fit, name, pe, recorded, diagram_values, residuals, top_mi, path_diagram
) -> None:
    head = report.add_section(f"Model: {name}")
    model_text = getattr(fit, "model", None)
    if isinstance(model_text, str):
        head.add(Text("Model syntax (lavaan):", "p"), Text(model_text.strip("\n"), "code"))
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        fm = _measures(fit)
    fsec = report.add_section(
        f"{name}: fit measures", fit_measures_table(fm, f"Fit measures: {name}"), level=3
    )
    beyond = beyond_guides(fm)
    if beyond:
        fsec.add(
            Text(
                "Beyond the Hu & Bentler (1999) guides: " + " ".join(beyond) + " Guides "
                "are context, not verdicts (see the note under the table).",
                "warning",
            )
        )
    psec = report.add_section(
        f"{name}: parameter estimates",
        Text("Std.all: completely standardized estimates. CI: Wald confidence intervals.", "note"),
        *_pe_tables(pe, name),
        level=3,
    )
    r2 = r_squared(pe)
    if len(r2):
        psec.add(
            ResultTable(
                r2,
                title=f"R-squared of the endogenous variables: {name}",
                labels={"R2": "R²"},
                digits=3,
                notes=['R² = 1 - standardized residual variance (lavaan\'s inspect(fit, "r2")).'],
            )
        )
    dia = report.add_section(f"{name}: path diagram", level=3)
    values = diagram_values if diagram_values in pe.columns else "est"
    try:
        dia.add(path_diagram(pe, values=values, residuals=residuals))
    except DataError as exc:
        dia.add(Text(f"No diagram: {exc}", "note"))
    mis = report.add_section(f"{name}: modification indices", level=3)
    mi, mi_caught = _modindices(fit, top_mi)
    if mi is None:
        mis.add(Text("Modification indices are not available for this fit object.", "note"))
    else:
        mis.add(
            Text(
                "The largest modification indices: the expected drop in chi-square if the "
                "parameter were freed (epc: its expected value; sepc_all: standardized). "
                "Freeing parameters because of large indices alone capitalises on chance.",
                "note",
            ),
            ResultTable(mi, title=f"Modification indices (top {top_mi}): {name}"),
        )
    problems = fit_warnings(fit, pe, [*recorded, *caught, *mi_caught])
    warn = report.add_section(f"{name}: warnings", level=3)
    if problems:
        warn.add(*[Text(p, "warning") for p in problems])
    else:
        warn.add(
            Text(
                "None: the optimiser converged, no variance is negative and no "
                "standardized loading or correlation exceeds 1 in absolute value."
            )
        )
