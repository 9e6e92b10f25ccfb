"""Same seed, same bytes; a different seed, a different cohort."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from radsem.simulate import simulate, simulate_cohort


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes(tmp_path):
    a = simulate(8, seed=7, out=tmp_path / "a")
    b = simulate(8, seed=7, out=tmp_path / "b")
    da, db = _digest(a), _digest(b)
    assert len(da) == 4 + 8 * 4  # 3 tables + truth.json + 4 volumes per patient
    assert da == db


def test_different_seed_different_bytes(tmp_path):
    a = _digest(simulate(8, seed=7, out=tmp_path / "a", images=False))
    b = _digest(simulate(8, seed=8, out=tmp_path / "b", images=False))
    assert a.keys() == b.keys()
    assert all(a[k] != b[k] for k in ("clinical.csv", "expression.csv", "truth.json"))


def test_in_memory_reproducible():
    a = simulate_cohort(30, seed=3, image_shape=(8, 16, 16))
    b = simulate_cohort(30, seed=3, image_shape=(8, 16, 16))
    pd.testing.assert_frame_equal(a.clinical, b.clinical)
    pd.testing.assert_frame_equal(a.expression, b.expression)
    assert a.truth == b.truth
    for pid in a.images:
        np.testing.assert_array_equal(a.images[pid].adc, b.images[pid].adc)


def test_tables_do_not_depend_on_images():
    """Rendering images uses its own random streams: the tables are the same without them."""
    a = simulate_cohort(25, seed=4, image_shape=(8, 16, 16))
    b = simulate_cohort(25, seed=4, images=False)
    pd.testing.assert_frame_equal(a.clinical, b.clinical)
    pd.testing.assert_frame_equal(a.expression, b.expression)
    assert not b.images
