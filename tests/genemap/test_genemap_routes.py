"""genemap: local worker processes give the same numbers as one process; the CLI's default."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")


def _small():
    from radsem.genemap import join_tables, match_gene_sets
    from radsem.simulate.genemap_truth import simulate_genemap_truth

    sim = simulate_genemap_truth(
        n_patients=48, n_genes=80, n_features=3, n_sets=4, signal_share=0.7, seed=1
    )
    data = join_tables(sim.expression, sim.features)
    return data, match_gene_sets(sim.gene_sets, data.genes.columns)


def _quick(**kw):
    from radsem.genemap import GenemapSettings
    from radsem.genemap.lassonet import SparseSettings
    from radsem.genemap.models import NetworkSettings

    base = dict(
        folds=3,
        repeats=1,
        mask_repeats=2,
        models=("network", "elastic_net", "mean"),
        network=NetworkSettings(sparse=SparseSettings(n_lambdas=6, steps=5)),
        n_random=20,
        n_boot=30,
        stability_seeds=1,
        n_permutations=99,
    )
    base.update(kw)
    return GenemapSettings(**base)


def test_two_worker_processes_give_the_tables_of_one_process():
    """The same seed with ``n_jobs=1`` and ``n_jobs=2`` (the network's folds with their
    masking and the comparison models in two local worker processes): identical tables."""
    from radsem.genemap import genemap

    data, sets = _small()
    one = genemap(data, sets, _quick(), seed=3, n_jobs=1)
    two = genemap(data, sets, _quick(), seed=3, n_jobs=2)
    pd.testing.assert_frame_equal(one.gene_sets, two.gene_sets)
    pd.testing.assert_frame_equal(one.gene_importance, two.gene_importance)
    pd.testing.assert_frame_equal(one.stability, two.stability)
    pd.testing.assert_frame_equal(one.performance, two.performance)
    for name, pred in one.predictions.items():
        np.testing.assert_array_equal(pred, two.predictions[name])


def test_cli_jobs_default_uses_the_available_cores_up_to_the_cap(monkeypatch):
    """``radsem genemap`` without ``--jobs``: the cores this process may use, 1 to 4."""
    import os

    from radsem.commands import genemap as cmd

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert cmd.default_jobs() == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert cmd.default_jobs() == cmd.MAX_DEFAULT_JOBS == 4
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)
    assert cmd.default_jobs() == 1
