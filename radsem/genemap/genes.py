"""Ranking single genes per target from the network's fits (``gene_importance.csv``).

Every fit of the network (one per fold of every masking repeat) contributes, per target and
gene, for the LassoNet input stage, whether the fit kept the gene and the penalty at which
the gene entered its path (:func:`radsem.genemap.lassonet._entry_penalties`); the fits of
the shared repeats (the folds every model sees) also contribute the mean absolute
integrated gradient over the patients their fold held out. The ranking is by the mean
absolute integrated gradient; genes the network never used (attribution 0
in every fit) come after, ordered by their mean entry penalty (how close they came to
entering the model; larger = closer), and where that is not known either (the dense
network), they share one rank. That is the *flat* ranking (``rank_flat``).

The *set-guided* ranking (``rank``, the default) uses the gene-set tests first, in the spirit
of hierarchical and two-stage testing (Meinshausen 2008, Biometrika 95:265; Heller et al.
2009, Bioinformatics 25:1019): genes are looked at within the sets found significant for the
target. A gene that belongs to at least one set with ``q_value < alpha`` for the target and
has evidence of its own (importance > 0: the network used it in at least one fit of the
shared repeats) comes first; these genes are ordered by the flat ranking's keys, and every
other gene follows in the flat order. A target without a significant set keeps the flat
ranking exactly. It is a ranking, not a test: no error rate is claimed for single genes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from radsem.errors import DataError

__all__ = ["GeneEvidence", "gene_importance_table", "RANKINGS", "significant_members"]

#: The gene rankings ``gene_importance_table`` can put in ``rank``.
RANKINGS = ("set_guided", "flat")


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


def significant_members(
    genes: pd.Index,
    targets: pd.Index,
    set_table: pd.DataFrame,
    sets: dict,
    alpha: float,
) -> np.ndarray:
    """Which genes lie in a gene set significant for each target.

    Parameters
    ----------
    genes, targets : Index
    set_table : DataFrame
        ``target, gene_set, q_value`` (the ``gene_sets`` table of a gene map).
    sets : dict
        Set name -> its genes (names in ``genes``).
    alpha : float
        A set is significant for a target when its ``q_value < alpha`` (NaN is not).

    Returns
    -------
    ndarray
        Boolean (genes, targets): the gene belongs to at least one significant set (sets
        may overlap; a gene counts once).
    """
    position = {g: i for i, g in enumerate(genes)}
    column = {t: j for j, t in enumerate(targets)}
    out = np.zeros((len(genes), len(targets)), dtype=bool)
    hits = set_table[set_table["q_value"] < alpha]
    for target, name in zip(hits["target"], hits["gene_set"], strict=True):
        if target not in column:
            continue
        if name not in sets:
            raise DataError(f"gene set {name!r} of the set table is not among the sets given")
        idx = [position[g] for g in sets[name] if g in position]
        out[idx, column[target]] = True
    return out


def _ranks(keys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Order (larger keys first, primary first; ties in input order) and the rank of each
    position in that order (genes equal on every key share the smallest rank)."""
    n = len(keys[0])
    order = np.lexsort([np.arange(n)] + [-k for k in keys[::-1]])
    key = np.column_stack(keys)[order]
    new_group = np.r_[True, (key[1:] != key[:-1]).any(1)]
    rank = np.maximum.accumulate(np.where(new_group, np.arange(1, n + 1), 0))
    return order, rank


def gene_importance_table(
    genes: pd.Index,
    targets: pd.Index,
    evidence: GeneEvidence,
    set_table: pd.DataFrame | None = None,
    sets: dict | None = None,
    alpha: float = 0.05,
    ranking: str = "set_guided",
) -> pd.DataFrame:
    """The ``gene_importance`` table: one row per target and gene, sorted by ``rank``.

    Parameters
    ----------
    genes, targets : Index
        Gene and target names (the rows and columns of the evidence).
    evidence : GeneEvidence
    set_table : DataFrame, optional
        The gene map's ``gene_sets`` table (``target, gene_set, q_value``); without it (or
        without ``sets``) no set is significant and both rankings are the flat one.
    sets : dict, optional
        Set name -> genes.
    alpha : float
        q-value below which a set counts as significant for a target.
    ranking : {"set_guided", "flat"}
        Which ranking ``rank`` holds (``rank_flat`` always holds the flat one).

    Returns
    -------
    DataFrame
        ``target, gene, importance, selection_frequency, entry_penalty,
        in_significant_set, rank, rank_flat``: ``importance`` the mean absolute integrated
        gradient over the held-out patients of the fits that computed it (standardised
        target units); ``selection_frequency`` the share of fits whose sparse input stage
        kept the gene and ``entry_penalty`` its mean entry penalty relative to each fit's
        ``lambda_max`` (both NaN for the dense network); ``in_significant_set`` whether the
        gene belongs to a set with ``q_value < alpha`` for the target. ``rank_flat``
        (1 = most important): by ``importance``, then, for genes with importance 0, by
        ``entry_penalty``. ``rank`` with ``ranking="set_guided"``: genes in a significant
        set with ``importance > 0`` first, each group in the flat order; with
        ``ranking="flat"``, ``rank_flat``. Genes equal on every key share the smallest rank
        of their group (``method="min"``), so a tie is visible as a repeated rank.
    """
    if ranking not in RANKINGS:
        raise DataError(f"unknown gene ranking {ranking!r}; choose from {', '.join(RANKINGS)}")
    fits = max(evidence.n_fits, 1)
    importance = evidence.attribution / fits
    if evidence.n_paths:
        frequency = evidence.selected / evidence.n_paths
        entry = evidence.entry / evidence.n_paths
    else:
        frequency = np.full_like(importance, np.nan)
        entry = np.full_like(importance, np.nan)
    if set_table is not None and sets is not None:
        member = significant_members(genes, targets, set_table, sets, alpha)
    else:
        member = np.zeros(importance.shape, dtype=bool)
    rows = []
    for j, target in enumerate(targets):
        imp, ent = importance[:, j], entry[:, j]
        flat_keys = [imp, np.nan_to_num(ent, nan=0.0)]
        flat_order, flat_rank = _ranks(flat_keys)
        rank_flat = np.empty(len(genes), dtype=int)
        rank_flat[flat_order] = flat_rank
        if ranking == "set_guided":
            promoted = (member[:, j] & (imp > 0)).astype(float)
            order, rank = _ranks([promoted, *flat_keys])
        else:
            order, rank = flat_order, flat_rank
        rows.append(
            pd.DataFrame(
                {
                    "target": target,
                    "gene": np.asarray(genes)[order],
                    "importance": imp[order],
                    "selection_frequency": frequency[order, j],
                    "entry_penalty": ent[order],
                    "in_significant_set": member[order, j],
                    "rank": rank.astype(int),
                    "rank_flat": rank_flat[order],
                }
            )
        )
    return pd.concat(rows, ignore_index=True)
