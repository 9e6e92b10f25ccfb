"""Segmentation inference on a Dask cluster (``client=`` / ``--scheduler``) gives the same masks
as a run in this process (the local worker-process route of the same helper is tested in
tests/test_dask_routes.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radsem.cli import main
from radsem.segment import predict_masks

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
    ) as c:
        yield c


def test_predict_on_dask_equals_local(cohort_dir, trained, cluster, tmp_path):
    seg, folder = trained
    local = predict_masks(seg, cohort_dir, tmp_path / "local")
    with distributed.Client(cluster, set_as_default=False) as client:
        remote = predict_masks(seg, cohort_dir, tmp_path / "remote", client=client)
    pd.testing.assert_frame_equal(remote.table, local.table)
    assert set(remote.masks) == set(local.masks)
    assert local.masks
    for pid, mask in local.masks.items():
        np.testing.assert_array_equal(remote.masks[pid], mask)
        a = (tmp_path / "local" / pid / "mask.nii.gz").read_bytes()
        assert (tmp_path / "remote" / pid / "mask.nii.gz").read_bytes() == a
    # the command line, by scheduler address
    out = tmp_path / "cli"
    args = ["segment", "predict", str(cohort_dir), "--model", str(folder), "--out", str(out)]
    assert main([*args, "--scheduler", cluster.scheduler_address, "--quiet"]) == 0
    table = pd.read_csv(out / "segmentation.csv")
    assert list(table["voxels"]) == list(local.table["voxels"])
