"""Helpers to compute lavaan's parameter table through rpy2 and compare it with radsem's.

Model strings and options are passed to R as R objects (function arguments), never pasted
into R code.
"""

from __future__ import annotations

import pandas as pd
import pytest
from spec_lavaan_helpers import (  # noqa: E402,F401
    COMPARED,
    assert_same_table,
    dataset,
    dataset_frame,
    fitted_partable,
    lavaanify,
)


class _Lavaan:
    """What the parity tests use: lavaan's tables and the comparison."""

    def __init__(self, r_lavaan) -> None:
        self.r = r_lavaan

    def lavaanify(self, model: str, **options) -> pd.DataFrame:
        return lavaanify(self.r, model, **options)

    def fitted(self, fun: str, model: str, data, **options) -> pd.DataFrame:
        return fitted_partable(self.r, fun, model, data, **options)

    def frame(self, name: str) -> pd.DataFrame:
        return dataset_frame(name)

    @staticmethod
    def assert_same(ours: pd.DataFrame, ref: pd.DataFrame) -> None:
        assert_same_table(ours, ref)


@pytest.fixture(scope="session")
def lav(r_lavaan) -> _Lavaan:
    """lavaan through rpy2 (skips without R)."""
    return _Lavaan(r_lavaan)
