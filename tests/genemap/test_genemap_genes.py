"""The single-gene ranking of ``gene_importance``: attributions averaged over fits, genes the
network never used ordered by their entry penalty, ties visible as repeated ranks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from radsem.genemap.genes import GeneEvidence, gene_importance_table


def _table(evidence):
    return gene_importance_table(pd.Index(list("abcde")), pd.Index(["t1", "t2"]), evidence)


def test_attribution_then_entry_penalty_then_ties():
    ev = GeneEvidence(5, 2)
    # two fits; gene b is used in one fit only, a in both; c, d, e never
    ev.add(
        np.array([[0.2, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]),
        np.array([[1, 0], [0, 0], [0, 0], [0, 0], [0, 0]]),
        np.array([[0.9, 0.1], [0.3, 0.2], [0.1, 0.3], [0.4, 0.3], [0.2, 0.3]]),
    )
    ev.add(
        np.array([[0.4, 0.0], [0.5, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]),
        np.array([[1, 0], [1, 0], [0, 0], [0, 0], [0, 0]]),
        np.array([[0.7, 0.1], [0.8, 0.2], [0.1, 0.3], [0.2, 0.3], [0.2, 0.3]]),
    )
    table = _table(ev)
    t1 = table[table.target == "t1"]
    # importance = mean over fits: a 0.3, b 0.25; then d (entry 0.3), e (0.2), c (0.1)
    assert t1["gene"].tolist() == ["a", "b", "d", "e", "c"]
    np.testing.assert_allclose(t1["importance"], [0.3, 0.25, 0, 0, 0])
    np.testing.assert_allclose(t1["selection_frequency"], [1.0, 0.5, 0, 0, 0])
    np.testing.assert_allclose(t1["entry_penalty"], [0.8, 0.55, 0.3, 0.2, 0.1])
    assert t1["rank"].tolist() == [1, 2, 3, 4, 5]
    # t2: nothing used; c, d, e tied by entry penalty (0.3, rank 1, listed in input
    # order), then b (0.2) and a (0.1)
    t2 = table[table.target == "t2"]
    assert t2["gene"].tolist() == ["c", "d", "e", "b", "a"]
    assert t2["rank"].tolist() == [1, 1, 1, 4, 5]


def test_dense_network_without_paths_ties_the_unused_genes():
    ev = GeneEvidence(5, 2)
    ev.add(np.array([[0.0, 1.0], [0.3, 0.0], [0.0, 0.0], [0.1, 0.0], [0.0, 0.0]]))
    table = _table(ev)
    t1 = table[table.target == "t1"]
    assert t1["gene"].tolist() == ["b", "d", "a", "c", "e"]
    assert t1["rank"].tolist() == [1, 2, 3, 3, 3]
    assert t1["selection_frequency"].isna().all()
    assert t1["entry_penalty"].isna().all()
    t2 = table[table.target == "t2"]
    assert t2["rank"].tolist() == [1, 2, 2, 2, 2]


def test_fits_without_attributions_count_only_for_the_paths():
    ev = GeneEvidence(5, 2)
    ev.add(np.full((5, 2), 0.2), np.ones((5, 2)), np.full((5, 2), 0.5))
    ev.add(None, np.zeros((5, 2)), np.full((5, 2), 0.1))  # a fit beyond the shared repeats
    table = _table(ev)
    np.testing.assert_allclose(table["importance"], 0.2)  # averaged over the one IG fit
    np.testing.assert_allclose(table["selection_frequency"], 0.5)
    np.testing.assert_allclose(table["entry_penalty"], 0.3)
    assert (table["rank"] == 1).all()  # all equal: one tie
