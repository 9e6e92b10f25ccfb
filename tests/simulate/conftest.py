"""Simulated cohorts shared by the simulate tests (built once per session, small and seeded)."""

from __future__ import annotations

import time

import pytest

from radsem.simulate import simulate_cohort, write_cohort


@pytest.fixture(scope="session")
def large_cohort():
    """3,000 patients without images: enough for the Cox and CFA recovery checks."""
    return simulate_cohort(3000, seed=2026, images=False)


@pytest.fixture(scope="session")
def image_cohort_timed():
    """40 patients with images on the default grid, and the seconds it took."""
    start = time.perf_counter()
    cohort = simulate_cohort(40, seed=11)
    return cohort, time.perf_counter() - start


@pytest.fixture(scope="session")
def image_cohort(image_cohort_timed):
    return image_cohort_timed[0]


@pytest.fixture(scope="session")
def cohort_folder(tmp_path_factory, image_cohort):
    return write_cohort(image_cohort, tmp_path_factory.mktemp("sim") / "cohort")
