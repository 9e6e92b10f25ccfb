"""Ranking single genes per target from the network's fits (``gene_importance.csv``).

Every fit of the network (one per fold of every masking repeat) contributes, per target and
gene, for the LassoNet input stage, whether the fit kept the gene and the penalty at which
the gene entered its path (:func:`radsem.genemap.lassonet._entry_penalties`); the fits of
the shared repeats (the folds every model sees) also contribute the mean absolute
integrated gradient over the patients their fold held out. The ranking is by the mean
absolute integrated gradient; genes the network never used (attribution 0
in every fit) come after, ordered by their mean entry penalty (how close they came to
entering the model; larger = closer), and where that is not known either (the dense
network), they share one rank.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["GeneEvidence", "gene_importance_table"]


class GeneEvidence:
    """Per-gene evidence summed over the network's fits.

    Parameters
    ----------
    n_genes, n_targets : int
    """

    def __init__(self, n_genes: int, n_targets: int) -> None:
        self.attribution = np.zeros((n_genes, n_targets))
        self.selected = np.zeros((n_genes, n_targets))
        self.entry = np.zeros((n_genes, n_targets))
        self.n_fits = 0
        self.n_paths = 0

    def add(self, attribution=None, selected=None, entry=None) -> None:
        """One fit: mean absolute attribution over its held-out patients (genes, targets;
        None if not computed) and, for a sparse input stage, its selection and entry
        penalties (genes, targets)."""
        if attribution is not None:
            self.attribution += attribution
            self.n_fits += 1
        if selected is not None:
            self.selected += selected
            self.entry += entry
            self.n_paths += 1


def gene_importance_table(
    genes: pd.Index, targets: pd.Index, evidence: GeneEvidence
) -> pd.DataFrame:
    """The ``gene_importance`` table: one row per target and gene, sorted by ``rank``.

    Parameters
    ----------
    genes, targets : Index
        Gene and target names (the rows and columns of the evidence).
    evidence : GeneEvidence

    Returns
    -------
    DataFrame
        ``target, gene, importance, selection_frequency, entry_penalty, rank``:
        ``importance`` the mean absolute integrated gradient over the held-out patients of
        the fits that computed it (standardised target units); ``selection_frequency`` the
        share of fits whose sparse input stage kept the gene and ``entry_penalty`` its mean
        entry penalty relative to each fit's ``lambda_max`` (both NaN for the dense
        network); ``rank`` 1 = most important: by ``importance``, then, for genes with
        importance 0, by ``entry_penalty``; genes equal in both share the smallest rank of
        their group (``method="min"``), so a tie is visible as a repeated rank.
    """
    fits = max(evidence.n_fits, 1)
    importance = evidence.attribution / fits
    if evidence.n_paths:
        frequency = evidence.selected / evidence.n_paths
        entry = evidence.entry / evidence.n_paths
    else:
        frequency = np.full_like(importance, np.nan)
        entry = np.full_like(importance, np.nan)
    rows = []
    for j, target in enumerate(targets):
        imp, ent = importance[:, j], entry[:, j]
        order = np.lexsort((np.arange(len(genes)), -np.nan_to_num(ent, nan=0.0), -imp))
        key = np.column_stack([imp, np.nan_to_num(ent, nan=0.0)])[order]
        new_group = np.r_[True, (key[1:] != key[:-1]).any(1)]
        position = np.arange(1, len(order) + 1)
        rank = np.maximum.accumulate(np.where(new_group, position, 0))
        rows.append(
            pd.DataFrame(
                {
                    "target": target,
                    "gene": np.asarray(genes)[order],
                    "importance": imp[order],
                    "selection_frequency": frequency[order, j],
                    "entry_penalty": ent[order],
                    "rank": rank.astype(int),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)
