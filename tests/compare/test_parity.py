"""The comparison harness gives the numbers it gave before its models became scikit-learn
estimators (issue 18): the demo-sized run of ``parity_run.py``, recorded on the old code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from parity_run import DATA, run


@pytest.mark.slow
def test_demo_sized_comparison_is_unchanged():
    tables = run()
    for name, table in tables.items():
        recorded = pd.read_csv(DATA / f"parity_{name}.csv")
        assert list(table.columns) == list(recorded.columns), name
        assert len(table) == len(recorded), name
        for col in table.columns:
            got, want = table[col].reset_index(drop=True), recorded[col]
            if pd.api.types.is_numeric_dtype(want) and pd.api.types.is_numeric_dtype(got):
                np.testing.assert_allclose(
                    got.to_numpy(float),
                    want.to_numpy(float),
                    rtol=1e-12,
                    atol=1e-12,
                    err_msg=f"{name}.{col}",
                )
            else:
                assert got.astype(str).tolist() == want.astype(str).tolist(), f"{name}.{col}"
