"""A tiny simulated cohort folder and a factory of hand-made (broken) cohort folders."""

from __future__ import annotations

import pytest

from radsem.io import write_table
from radsem.simulate import simulate_cohort, write_cohort


@pytest.fixture(scope="session")
def small_cohort():
    return simulate_cohort(6, seed=21, image_shape=(6, 16, 16))


@pytest.fixture(scope="session")
def small_folder(tmp_path_factory, small_cohort):
    return write_cohort(small_cohort, tmp_path_factory.mktemp("io") / "cohort")


@pytest.fixture
def make_folder(tmp_path):
    """Write the given tables (name -> DataFrame) into a fresh folder and return it."""

    def make(**tables):
        folder = tmp_path / "cohort"
        folder.mkdir(exist_ok=True)
        for name, frame in tables.items():
            write_table(frame, folder / f"{name}.csv")
        return folder

    return make
