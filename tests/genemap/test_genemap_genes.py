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


# ------------------------------------------------------------ set-guided ranking
def _sets_case():
    """Six genes, two targets. Importance (one fit): t1 a .5, b .4, c .3, d .2, e 0, f 0;
    entry penalties order the unused genes e (0.6) before f (0.1)."""
    ev = GeneEvidence(6, 2)
    imp = np.array([[0.5, 0.5], [0.4, 0.4], [0.3, 0.3], [0.2, 0.2], [0.0, 0.0], [0.0, 0.0]])
    sel = (imp > 0).astype(float)
    ent = np.array([[0.9] * 2, [0.8] * 2, [0.7] * 2, [0.65] * 2, [0.6] * 2, [0.1] * 2])
    ev.add(imp, sel, ent)
    sets = {"S1": ["c", "d", "f"], "S2": ["d", "b"], "S3": ["a", "e"]}
    table = pd.DataFrame(
        {
            "target": ["t1", "t1", "t1", "t2", "t2", "t2"],
            "gene_set": ["S1", "S2", "S3", "S1", "S2", "S3"],
            "q_value": [0.01, 0.04, 0.30, 0.20, 0.06, np.nan],
        }
    )
    return ev, sets, table


def test_set_guided_promotes_used_genes_of_significant_sets():
    ev, sets, table = _sets_case()
    genes, targets = pd.Index(list("abcdef")), pd.Index(["t1", "t2"])
    gi = gene_importance_table(genes, targets, ev, table, sets, alpha=0.05)
    t1 = gi[gi.target == "t1"]
    # S1 and S2 are significant for t1 and overlap in d (counted once): b, c, d are used
    # (importance > 0) and come first in importance order; f is in S1 but unused, so it is
    # not promoted and keeps its flat place after a and e
    assert t1["gene"].tolist() == ["b", "c", "d", "a", "e", "f"]
    assert t1["rank"].tolist() == [1, 2, 3, 4, 5, 6]
    assert t1["rank_flat"].tolist() == [2, 3, 4, 1, 5, 6]
    assert t1["in_significant_set"].tolist() == [True, True, True, False, False, True]
    # t2: no set below 0.05 (0.06 is not, NaN is not): exactly the flat ranking
    t2 = gi[gi.target == "t2"]
    assert t2["gene"].tolist() == ["a", "b", "c", "d", "e", "f"]
    assert (t2["rank"] == t2["rank_flat"]).all()
    assert not t2["in_significant_set"].any()
    # the flat option: rank is rank_flat, in the flat order; importance is the same
    flat = gene_importance_table(genes, targets, ev, table, sets, alpha=0.05, ranking="flat")
    f1 = flat[flat.target == "t1"]
    assert f1["gene"].tolist() == ["a", "b", "c", "d", "e", "f"]
    assert (f1["rank"] == f1["rank_flat"]).all()
    merged = f1.merge(t1, on="gene")
    np.testing.assert_array_equal(merged["importance_x"], merged["importance_y"])
    # a looser alpha makes S2 significant for t2 too: b and d first
    loose = gene_importance_table(genes, targets, ev, table, sets, alpha=0.1)
    assert loose[loose.target == "t2"]["gene"].tolist()[:2] == ["b", "d"]


def test_set_guided_without_sets_is_flat_and_bad_inputs_fail():
    import pytest

    from radsem.errors import DataError

    ev, sets, table = _sets_case()
    genes, targets = pd.Index(list("abcdef")), pd.Index(["t1", "t2"])
    plain = gene_importance_table(genes, targets, ev)
    assert (plain["rank"] == plain["rank_flat"]).all()
    with pytest.raises(DataError, match="unknown gene ranking"):
        gene_importance_table(genes, targets, ev, table, sets, ranking="sets")
    with pytest.raises(DataError, match="not among the sets"):
        gene_importance_table(genes, targets, ev, table, {"S1": ["c"]})
