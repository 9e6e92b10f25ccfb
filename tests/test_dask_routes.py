"""Every parallel step runs on a Dask cluster through one route (``client=`` / ``--scheduler``)
and gives the same numbers as a local run with the same seed.

Extraction on Dask is tested in tests/radiomics/test_cohort.py::test_dask_local_cluster.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import radsem
from radsem._dask import map_tasks, worker_count
from radsem.compare import ClinicalCox, PenalisedCox, compare_models, optimism_bootstrap
from radsem.datasets import load
from radsem.errors import DataError

distributed = pytest.importorskip("distributed")

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"


def _affine(x: float, *, a: float, b: float) -> float:
    return a * x + b


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
    ) as c:
        yield c


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster, set_as_default=False) as c:
        yield c


@pytest.fixture(scope="module")
def surv():
    rng = np.random.default_rng(3)
    n = 160
    x = rng.normal(size=(n, 4))
    lp = 0.8 * x[:, 0] - 0.5 * x[:, 1]
    t = rng.exponential(np.exp(-lp) * 20)
    c = rng.uniform(5, 60, n)
    return pd.DataFrame(
        {
            "advanced": rng.binomial(1, 0.4, n),
            "age": rng.normal(60, 8, n),
            **{f"g{j}": x[:, j] for j in range(4)},
            "time": np.minimum(t, c),
            "event": (t <= c).astype(int),
        }
    )


def test_map_tasks_same_results_every_route(client, cluster):
    items = list(range(7))
    local = map_tasks(_affine, items, shared={"a": 2.0, "b": 1.0})
    assert local == [2.0 * i + 1.0 for i in items]
    assert map_tasks(_affine, items, n_jobs=2, shared={"a": 2.0, "b": 1.0}) == local
    assert map_tasks(_affine, items, client=client, shared={"a": 2.0, "b": 1.0}) == local
    by_address = map_tasks(
        _affine, items, client=cluster.scheduler_address, shared={"a": 2.0, "b": 1.0}
    )
    assert by_address == local
    assert map_tasks(_affine, [], client=client, shared={"a": 1.0, "b": 0.0}) == []
    with pytest.raises(DataError, match="scheduler address"):
        map_tasks(_affine, items, client=42, shared={"a": 1.0, "b": 0.0})
    with pytest.raises(DataError, match="n_jobs"):
        worker_count(0)


def test_sem_bootstrap_on_dask_equals_local(client):
    fit = radsem.cfa(HS, data=load("HolzingerSwineford1939"))
    local = fit.bootstrap(R=12, seed=7)
    remote = fit.bootstrap(R=12, seed=7, client=client)
    parallel = fit.bootstrap(R=12, seed=7, n_jobs=2)
    np.testing.assert_array_equal(remote.draws, local.draws)
    np.testing.assert_array_equal(parallel.draws, local.draws)
    pd.testing.assert_series_equal(remote.se, local.se)


def test_optimism_bootstrap_on_dask_equals_local(client, surv):
    models = {
        "clinical": ClinicalCox(),
        "genes": PenalisedCox([f"g{j}" for j in range(4)], penalizer=1.0),
    }
    kw = dict(time="time", event="event", n_boot=6, random_state=3)
    local = optimism_bootstrap(surv, models, **kw)
    remote = optimism_bootstrap(surv, models, client=client, **kw)
    pd.testing.assert_frame_equal(remote, local)
    assert local["n_failed"].eq(0).all()


def test_comparison_folds_on_dask_equal_local(client, surv):
    models = {
        "clinical": ClinicalCox(),
        "genes": PenalisedCox([f"g{j}" for j in range(4)], penalizer=1.0),
    }
    kw = dict(time="time", event="event", n_splits=3, n_repeats=1, random_state=5, horizons=[12.0])
    local = compare_models(surv, models, **kw)
    remote = compare_models(surv, models, client=client, **kw)
    pd.testing.assert_frame_equal(remote.folds, local.folds)
    pd.testing.assert_frame_equal(remote.predictions, local.predictions)


def _torch_threads(_item: int) -> int:
    import torch

    return torch.get_num_threads()


def _session_threads(_item: int, *, asked: int) -> int:
    import torch

    from radsem.deep._runtime import torch_session

    with torch_session(0, asked):
        return torch.get_num_threads()


def test_torch_threads_limited_per_concurrent_task(client):
    torch = pytest.importorskip("torch")
    import os

    from radsem._threads import limit_torch_threads, torch_thread_budget

    assert torch_thread_budget(2, cores=8) == 4
    assert torch_thread_budget(3, cores=8) == 2
    assert torch_thread_budget(16, cores=8) == 1
    original = torch.get_num_threads()
    torch.set_num_threads(4)  # more than the share (an unlimited task reports more than 1)
    before = 4
    # the Dask cluster runs 2 tasks at once (1 worker, 2 threads): each gets half the cores
    expected = max(1, (os.cpu_count() or 1) // 2)
    got = map_tasks(_torch_threads, range(4), client=client, torch_threads=True)
    assert got == [expected] * 4
    # radsem's torch models ask for their n_threads but never exceed the cap
    got = map_tasks(
        _session_threads, range(2), client=client, torch_threads=True, shared={"asked": 64}
    )
    assert got == [expected] * 2
    # local worker processes: 2 at once, same share
    assert map_tasks(_torch_threads, range(2), n_jobs=2, torch_threads=True) == [expected] * 2
    # in this process the caller's setting stands, and is restored after a limited block
    assert torch.get_num_threads() == before
    with limit_torch_threads(1):
        assert torch.get_num_threads() == 1
        assert _session_threads(0, asked=4) == 1
    assert torch.get_num_threads() == before
    torch.set_num_threads(original)


def test_genemap_gene_set_nulls_on_dask_equal_local(client):
    pytest.importorskip("torch")
    from radsem.genemap import GenemapSettings, genemap, join_tables, match_gene_sets
    from radsem.simulate.genemap_truth import simulate_genemap_truth

    truth = simulate_genemap_truth(
        n_patients=60, n_genes=80, n_features=3, n_sets=4, signal_share=0.7, seed=2
    )
    data = join_tables(truth.expression, truth.features)
    sets = match_gene_sets(truth.gene_sets, data.genes.columns)
    quick = GenemapSettings(
        repeats=1,
        mask_repeats=1,
        folds=3,
        n_random=20,
        n_boot=50,
        stability_seeds=1,
        models=("network",),
    )
    local = genemap(data, sets, quick, seed=8)
    remote = genemap(data, sets, quick, seed=8, client=client)
    pd.testing.assert_frame_equal(remote.gene_sets, local.gene_sets)
    pd.testing.assert_frame_equal(remote.gene_importance, local.gene_importance)
    pd.testing.assert_frame_equal(remote.stability, local.stability)
    pd.testing.assert_frame_equal(remote.performance, local.performance)
    # the null is really there: 20 random sets per set size were scored against each set
    assert local.gene_sets["p_value"].min() >= 1 / 21


def _scaled_sum(item, *, data):
    return float(data.sum() * item)


def test_map_tasks_repeated_with_the_same_shared_data(client):
    """Back-to-back calls that share the same array (as genemap's seeds and models do) must
    not lose it: with content-hashed scatter keys, a scatter right after the previous call
    released the same key could race with the scheduler forgetting it (dask/distributed#8576)."""
    from radsem._dask import map_tasks

    data = np.arange(1000.0)
    for _ in range(40):
        assert map_tasks(_scaled_sum, [1, 2], client=client, shared={"data": data}) == [
            data.sum(),
            2 * data.sum(),
        ]
