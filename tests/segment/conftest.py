"""Small simulated cohorts for the segmentation tests (mechanics, not quality: the quality
figures are in benchmarks/segmentation.py)."""

from __future__ import annotations

import pytest
from segment_settings import TINY

from radsem.simulate import simulate


@pytest.fixture(scope="session")
def cohort_dir(tmp_path_factory):
    """10 patients on an 8 x 24 x 24 grid, 3 of them without a mask."""
    return simulate(
        10,
        seed=3,
        out=tmp_path_factory.mktemp("seg") / "cohort",
        image_shape=(8, 24, 24),
        unlabelled=0.3,
    )


@pytest.fixture(scope="session")
def trained(cohort_dir, tmp_path_factory):
    """A tiny model trained 2 epochs and saved; returns (segmenter, model folder)."""
    from radsem.segment import UNetSegmenter

    seg = UNetSegmenter(epochs=2, random_state=1, **TINY).fit(cohort_dir)
    folder = tmp_path_factory.mktemp("model") / "model"
    seg.save(folder)
    return seg, folder
