"""Small shared inputs for the engine tests."""

from __future__ import annotations

import pytest

from radsem.datasets import load

HS_MODEL = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""


@pytest.fixture(scope="session")
def hs_model() -> str:
    return HS_MODEL


@pytest.fixture(scope="session")
def hs():
    return load("HolzingerSwineford1939")


@pytest.fixture(scope="session")
def hs_lavaan(r_lavaan, hs):
    from radsem.engines import fit_lavaan

    return fit_lavaan(HS_MODEL, hs, "cfa")
