"""Small synthetic multi-sequence volumes written with SimpleITK (no simulator needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

T2_SHAPE = (8, 24, 24)  # z, y, x
T2_SPACING = (4.0, 1.0, 1.0)  # mm (z, y, x)


def write(array: np.ndarray, path: Path, spacing=T2_SPACING, origin=(0.0, 0.0, 0.0)) -> str:
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(array)
    image.SetSpacing(tuple(float(s) for s in reversed(spacing)))
    image.SetOrigin(tuple(float(o) for o in reversed(origin)))
    sitk.WriteImage(image, str(path))
    return str(path)


def make_patient(folder: Path, seed: int, radius: float = 5.0) -> dict:
    """T2 (8x24x24, 1 mm in-plane), DWI/ADC on a 2x coarser in-plane grid, a spherical mask."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    z, y, x = np.indices(T2_SHAPE)
    centre = np.array(T2_SHAPE) / 2
    dist = np.sqrt(((z - centre[0]) * 4) ** 2 + (y - centre[1]) ** 2 + (x - centre[2]) ** 2)
    mask = (dist <= radius).astype(np.uint8)
    t2 = (200 + 80 * mask + rng.normal(0, 25, T2_SHAPE)).astype(np.float32)
    small = (T2_SHAPE[0], T2_SHAPE[1] // 2, T2_SHAPE[2] // 2)
    dwi = (50 + rng.gamma(4, 10, small)).astype(np.float32)
    adc = (1000 + rng.normal(0, 150, small)).astype(np.float32)
    coarse = (T2_SPACING[0], 2.0, 2.0)
    shift = (0.0, 0.5, 0.5)  # DWI voxel centres of a 2x coarser grid covering the same FOV
    return {
        "t2": write(t2, folder / "t2.nii.gz"),
        "dwi": write(dwi, folder / "dwi.nii.gz", coarse, shift),
        "adc": write(adc, folder / "adc.nii.gz", coarse, shift),
        "mask": write(mask, folder / "mask.nii.gz"),
    }


@pytest.fixture(scope="session")
def patients(tmp_path_factory) -> pd.DataFrame:
    """Images table of 3 small synthetic patients."""
    root = tmp_path_factory.mktemp("radiomics_cohort")
    rows = [{"patient_id": f"P{i}", **make_patient(root / f"P{i}", seed=i)} for i in range(3)]
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def write_image():
    """``write(array, path, spacing=(4, 1, 1), origin=(0, 0, 0)) -> str`` (numpy z, y, x order)."""
    return write


@pytest.fixture(scope="session")
def patient_factory():
    """``make(folder, seed, radius=5.0) -> dict`` of t2/dwi/adc/mask paths."""
    return make_patient
