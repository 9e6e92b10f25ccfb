"""Cluster characterisation tables: clinical variables and differential expression, with FDR."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from radsem.cluster._checks import align_to, numeric_matrix
from radsem.errors import DataError

__all__ = ["characterise_clusters", "differential_expression"]


def _categorical_test(table: np.ndarray, n_resamples: int, rng) -> tuple[str, float, float]:
    """Fisher for 2x2; Monte-Carlo exact chi-square when expected counts < 5; else chi-square."""
    if table.shape == (2, 2):
        return "fisher", np.nan, float(stats.fisher_exact(table)[1])
    chi2, p, _, expected = stats.chi2_contingency(table, correction=False)
    if (expected < 5).any():
        rows = np.repeat(np.arange(table.shape[0]), table.sum(axis=1))
        cols = np.repeat(np.arange(table.shape[1]), table.sum(axis=0))
        hits = 0
        for _ in range(n_resamples):
            perm = np.zeros_like(table)
            np.add.at(perm, (rows, rng.permutation(cols)), 1)
            hits += stats.chi2_contingency(perm, correction=False)[0] >= chi2 - 1e-9
        return "fisher_monte_carlo", float(chi2), (hits + 1) / (n_resamples + 1)
    return "chi-square", float(chi2), float(p)


def characterise_clusters(
    data: pd.DataFrame,
    labels,
    categorical: Sequence[str] = (),
    continuous: Sequence[str] = (),
    n_resamples: int = 2000,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """One row per variable: per-cluster summary, test, statistic, p-value and BH q-value.

    Parameters
    ----------
    data : pandas.DataFrame
    labels : array-like
        Cluster labels, one per row of ``data``.
    categorical, continuous : list of str
        Variables to compare across clusters.
    n_resamples, random_state :
        Monte-Carlo exact test for r x c tables with expected counts below 5 (R's
        ``fisher.test(simulate.p.value = TRUE)`` analogue, on the chi-square statistic).

    Returns
    -------
    pandas.DataFrame
        Index variable; columns ``test``, ``statistic``, ``pvalue``, ``qvalue`` and one
        ``cluster_<label>`` column with "median [IQR]" or "n (%)" summaries.

    Notes
    -----
    Continuous: Kruskal-Wallis (tie-corrected, as R ``kruskal.test``). Categorical: Fisher's
    exact test for 2x2 tables, chi-square without continuity correction otherwise, Monte-Carlo
    exact when any expected count is below 5. q-values: Benjamini-Hochberg over all rows.
    Missing values are left out variable by variable; rows without a label are left out. A
    variable that cannot be tested says why in ``test`` ("none (constant)", ...) with NaN p.
    Checked against R ``kruskal.test``, ``chisq.test`` and ``fisher.test`` (tests/cluster).
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    categorical = [categorical] if isinstance(categorical, str) else list(categorical)
    continuous = [continuous] if isinstance(continuous, str) else list(continuous)
    if not categorical and not continuous:
        raise DataError("name at least one variable to compare, in categorical= or continuous=")
    lab = _labels(labels, data)
    unknown = [c for c in [*categorical, *continuous] if c not in data.columns]
    if unknown:
        raise DataError(f"column(s) not found in data: {', '.join(map(str, unknown))}")
    dup = [c for c in [*categorical, *continuous] if isinstance(data[c], pd.DataFrame)]
    if dup:
        raise DataError(f"column name(s) used more than once in data: {', '.join(dup)}")
    data = data.reset_index(drop=True).loc[lab.index]
    groups = sorted(pd.unique(lab))
    if len(groups) < 2:
        raise DataError("characterisation needs at least two clusters")
    rng = np.random.default_rng(random_state)
    rows = []
    for col in continuous:
        x = _numeric_column(data[col], col)
        samples = [x[(lab == g) & x.notna()].to_numpy() for g in groups]
        summ = {
            f"cluster_{g}": f"{np.median(s):.3g} [{np.percentile(s, 25):.3g}, "
            f"{np.percentile(s, 75):.3g}]"
            if len(s)
            else ""
            for g, s in zip(groups, samples)
        }
        ok = [s for s in samples if len(s)]
        test = "kruskal-wallis"
        if len(ok) < 2:
            test, stat, p = "none (observed in one cluster)", np.nan, np.nan
        elif np.ptp(np.concatenate(ok)) == 0:
            test, stat, p = "none (constant)", np.nan, np.nan
        else:
            stat, p = stats.kruskal(*ok)
        rows.append({"variable": col, "test": test, "statistic": stat, "pvalue": p, **summ})
    for col in categorical:
        keep = data[col].notna()
        tab = pd.crosstab(data.loc[keep, col], lab[keep]).reindex(columns=groups, fill_value=0)
        summ = {
            f"cluster_{g}": "; ".join(
                f"{lvl}: {n} ({100 * n / max(tab[g].sum(), 1):.0f}%)" for lvl, n in tab[g].items()
            )
            for g in groups
        }
        if tab.shape[0] == 0:
            test, stat, p = "none (all missing)", np.nan, np.nan
        elif tab.shape[0] < 2:
            test, stat, p = "none (one level)", np.nan, np.nan
        else:
            test, stat, p = _categorical_test(tab.to_numpy(), n_resamples, rng)
        rows.append({"variable": col, "test": test, "statistic": stat, "pvalue": p, **summ})
    out = pd.DataFrame(rows).set_index("variable")
    out.insert(3, "qvalue", _bh(out["pvalue"].to_numpy(float)))
    return out


def _bh(p: np.ndarray) -> np.ndarray:
    q = np.full(len(p), np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = stats.false_discovery_control(p[ok], method="bh")
    return q


def differential_expression(expression: pd.DataFrame, labels) -> pd.DataFrame:
    """Genes differing between clusters: Kruskal-Wallis per gene with BH FDR.

    Parameters
    ----------
    expression : pandas.DataFrame
        log2 expression, rows = patients (rows with a missing label are dropped), columns = genes.
    labels : array-like
        Cluster labels.

    Returns
    -------
    pandas.DataFrame
        Index gene; ``statistic``, ``pvalue``, ``qvalue``, per-cluster means ``mean_<label>``
        and ``max_log2fc`` (largest difference between cluster means, log2 scale), sorted by p.
    """
    if not isinstance(expression, pd.DataFrame):
        raise DataError(f"expression must be a pandas DataFrame, got {type(expression).__name__}")
    numeric_matrix(expression, "expression", finite=False)  # names text / date columns
    lab = _labels(labels, expression)
    expression = expression.reset_index(drop=True).loc[lab.index]
    groups = sorted(pd.unique(lab))
    if len(groups) < 2:
        raise DataError("differential expression needs at least two clusters")
    res = []
    for gene in expression.columns:
        x = expression[gene].astype(float)
        samples = [x[(lab == g) & x.notna()].to_numpy() for g in groups]
        ok = [s for s in samples if len(s)]
        if len(ok) >= 2 and np.ptp(np.concatenate(ok)) > 0:
            stat, p = stats.kruskal(*ok)
        else:
            stat, p = np.nan, np.nan
        means = [s.mean() if len(s) else np.nan for s in samples]
        res.append(
            {
                "gene": gene,
                "statistic": stat,
                "pvalue": p,
                **{f"mean_{g}": m for g, m in zip(groups, means)},
                "max_log2fc": _spread(means),
            }
        )
    out = pd.DataFrame(res).set_index("gene")
    out.insert(2, "qvalue", _bh(out["pvalue"].to_numpy(float)))
    return out.sort_values("pvalue", kind="stable")


def _labels(labels, data: pd.DataFrame) -> pd.Series:
    """Labels aligned with ``data`` (on the index of a labels Series, else by position);
    rows without a label are left out."""
    lab = align_to(labels, data.index)
    if lab.ndim != 1 or len(lab) != len(data):
        raise DataError(
            f"labels must have one entry per row of data ({len(data)}), got shape {lab.shape}"
        )
    lab = pd.Series(lab)  # positional: the index of data may repeat
    return lab[lab.notna()]


def _numeric_column(col: pd.Series, name) -> pd.Series:
    if pd.api.types.is_bool_dtype(col):
        return col.astype(float)
    if pd.api.types.is_datetime64_any_dtype(col):
        raise DataError(f"continuous variable '{name}' holds dates; convert them to numbers")
    x = pd.to_numeric(col, errors="coerce").astype(float)
    bad = x.isna() & col.notna()
    if bad.any():
        raise DataError(
            f"continuous variable '{name}' has {int(bad.sum())} non-numeric "
            f"value(s), e.g. {col[bad].iloc[0]!r}; declare it categorical= instead"
        )
    return x


def _spread(means: list[float]) -> float:
    finite = [m for m in means if np.isfinite(m)]
    return float(max(finite) - min(finite)) if finite else np.nan
