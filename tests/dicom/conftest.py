"""A synthetic CT case (series, RTSTRUCT from rt-utils, SEG from highdicom) shared by the tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from dicom_synthetic import ct_volume, write_ct, write_rtstruct, write_seg


@pytest.fixture(scope="session")
def ct_case(tmp_path_factory) -> dict:
    """``hu``, ``mask`` (numpy z, y, x), ``series`` folder, ``rtstruct`` and ``seg`` files."""
    pytest.importorskip("rt_utils", reason="the RTSTRUCT fixtures are written with rt-utils")
    pytest.importorskip("highdicom", reason="the SEG fixtures are written with highdicom")
    root = tmp_path_factory.mktemp("dicom_case")
    hu, mask = ct_volume(seed=3)
    series = write_ct(root / "ct", hu)
    lung = (hu > -500).astype(np.uint8) * (1 - mask)
    rtstruct = write_rtstruct(series, {"GTV": mask, "Body": lung}, root / "rs.dcm")
    seg = write_seg(series, mask, root / "seg.dcm")
    return {
        "root": root,
        "hu": hu,
        "mask": mask,
        "series": series,
        "rtstruct": rtstruct,
        "seg": seg,
    }


@pytest.fixture
def copy_series(tmp_path):
    """``copy(folder, name) -> Path``: a fresh copy of a series folder to damage in a test."""

    def copy(folder: Path, name: str = "series") -> Path:
        target = tmp_path / name
        shutil.copytree(folder, target)
        return target

    return copy
