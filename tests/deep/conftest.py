"""Fixtures for the deep-model tests (small, seeded, built in memory)."""

from __future__ import annotations

import pytest
from deep_synthetic import make_cases, make_expression


@pytest.fixture(scope="session")
def cases():
    return make_cases(24)


@pytest.fixture(scope="session")
def expression():
    return make_expression()
