"""Shared fixtures: fixed seeds, and R through rpy2 that skips cleanly where R is absent."""

from __future__ import annotations

import numpy as np
import pytest

from radsem._r import _probe


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded random generator (tests never depend on global random state)."""
    return np.random.default_rng(20261123)


def _needs_r(*packages: str):
    reason = _probe(tuple(packages))
    return pytest.mark.skipif(reason is not None, reason=f"needs R: {reason}")


@pytest.fixture(scope="session")
def r_lavaan():
    """The lavaan R package (skips the test where R or lavaan is absent)."""
    reason = _probe(("lavaan",))
    if reason is not None:
        pytest.skip(f"needs R with lavaan: {reason}")
    from rpy2.robjects.packages import importr

    return importr("lavaan")


@pytest.fixture(scope="session")
def r_survival():
    """The survival R package (skips where absent)."""
    reason = _probe(("survival",))
    if reason is not None:
        pytest.skip(f"needs R with survival: {reason}")
    from rpy2.robjects.packages import importr

    return importr("survival")


@pytest.fixture(scope="session")
def r_cluster():
    """The cluster R package (skips where absent)."""
    reason = _probe(("cluster",))
    if reason is not None:
        pytest.skip(f"needs R with cluster: {reason}")
    from rpy2.robjects.packages import importr

    return importr("cluster")


needs_r = _needs_r


@pytest.fixture(autouse=True)
def _process_locale_restored():
    """Put the process locale back after each test: a native library that switches it to "C"
    (ITK's GDCM DICOM writer does) would make Python's default text encoding ASCII for every
    later test, so that a test would pass or fail depending on the order of the suite."""
    import locale

    saved = locale.setlocale(locale.LC_ALL)
    yield
    if locale.setlocale(locale.LC_ALL) != saved:
        locale.setlocale(locale.LC_ALL, saved)
