"""Cluster characterisation tables: clinical variables and differential expression, with FDR."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

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


def characterise_clusters(data: pd.DataFrame, labels, categorical: Sequence[str] = (),
                          continuous: Sequence[str] = (), n_resamples: int = 2000,
                          random_state: int | None = 0) -> pd.DataFrame:
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
    Missing values are left out variable by variable. Checked against R ``kruskal.test``,
    ``chisq.test`` and ``fisher.test`` (tests/cluster).
    """
    lab = pd.Series(np.asarray(labels), index=data.index)
    if len(lab) != len(data):
        raise DataError("labels must have one entry per row of data")
    unknown = [c for c in [*categorical, *continuous] if c not in data.columns]
    if unknown:
        raise DataError(f"column(s) not found in data: {', '.join(unknown)}")
    groups = sorted(pd.unique(lab))
    if len(groups) < 2:
        raise DataError("characterisation needs at least two clusters")
    rng = np.random.default_rng(random_state)
    rows = []
    for col in continuous:
        x = pd.to_numeric(data[col], errors="coerce")
        samples = [x[(lab == g) & x.notna()].to_numpy() for g in groups]
        summ = {f"cluster_{g}": f"{np.median(s):.3g} [{np.percentile(s, 25):.3g}, "
                f"{np.percentile(s, 75):.3g}]" if len(s) else "" for g, s in zip(groups, samples)}
        ok = [s for s in samples if len(s)]
        if len(ok) < 2 or np.ptp(np.concatenate(ok)) == 0:
            stat, p = np.nan, np.nan
        else:
            stat, p = stats.kruskal(*ok)
        rows.append({"variable": col, "test": "kruskal-wallis", "statistic": stat,
                     "pvalue": p, **summ})
    for col in categorical:
        keep = data[col].notna()
        tab = pd.crosstab(data.loc[keep, col], lab[keep]).reindex(columns=groups, fill_value=0)
        summ = {f"cluster_{g}": "; ".join(f"{lvl}: {n} ({100 * n / max(tab[g].sum(), 1):.0f}%)"
                                          for lvl, n in tab[g].items()) for g in groups}
        if tab.shape[0] < 2:
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
    lab = pd.Series(np.asarray(labels), index=expression.index)
    groups = sorted(pd.unique(lab.dropna()))
    if len(groups) < 2:
        raise DataError("differential expression needs at least two clusters")
    res = []
    for gene in expression.columns:
        x = pd.to_numeric(expression[gene], errors="coerce")
        samples = [x[(lab == g) & x.notna()].to_numpy() for g in groups]
        ok = [s for s in samples if len(s)]
        if len(ok) >= 2 and np.ptp(np.concatenate(ok)) > 0:
            stat, p = stats.kruskal(*ok)
        else:
            stat, p = np.nan, np.nan
        means = [s.mean() if len(s) else np.nan for s in samples]
        res.append({"gene": gene, "statistic": stat, "pvalue": p,
                    **{f"mean_{g}": m for g, m in zip(groups, means)},
                    "max_log2fc": np.nanmax(means) - np.nanmin(means)})
    out = pd.DataFrame(res).set_index("gene")
    out.insert(2, "qvalue", _bh(out["pvalue"].to_numpy(float)))
    return out.sort_values("pvalue", kind="stable")
