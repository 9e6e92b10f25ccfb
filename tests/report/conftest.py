"""Fixtures of the report tests: fit-like objects built from DataFrames (duck typing), so the
report layer is tested without an estimation engine."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from report_fakes import FakeFit, _pe_rows, make_fit  # noqa: E402,F401


@pytest.fixture
def fake_fit():
    return make_fit()


@pytest.fixture
def fake_fits():
    return {"free": make_fit(), "orthogonal": make_fit(chisq=52.5, df=20, npar=16, free_cov=False)}


@pytest.fixture
def structural_table():
    """A structural model: x -> f1 -> f2, f1 and f2 with indicators, y observed outcome."""
    loadings = {
        "f1": [("a1", 1.0, 0.8), ("a2", 0.9, 0.7)],
        "f2": [("b1", 1.0, 0.6), ("b2", 1.2, 0.65), ("b3", 0.8, 0.55)],
    }
    regs = [
        ("f1", "x", 0.5, 0.31),
        ("f2", "f1", 0.7, 0.52),
        ("y", "f2", 0.2, 0.18),
        ("y", "x", 0.1, 0.07),
    ]
    resid = [("a1", 0.3, 0.36), ("b1", 0.5, 0.64), ("f2", 0.4, 0.7), ("y", 0.9, 0.95)]
    return _pe_rows(loadings, [("a2", "b2", 0.12, 0.2)], resid, regs)


@pytest.fixture
def km_table():
    """A hand-made tidy KM table with two groups (values from the product-limit formula)."""
    rows = []
    for g, times, events in (
        ("C1", [1, 2, 2, 4, 5, 7], [1, 0, 1, 0, 1, 0]),
        ("C2", [1, 1, 3, 3, 6], [1, 1, 1, 0, 1]),
    ):
        t, e = np.array(times, float), np.array(events)
        s = 1.0
        for u in np.unique(t):
            n_risk = int((t >= u).sum())
            d = int(e[t == u].sum())
            c = int((t == u).sum() - d)
            s *= 1 - d / n_risk
            rows.append((u, n_risk, d, c, s, 0.1, max(s - 0.2, 0), min(s + 0.2, 1), g))
    return pd.DataFrame(
        rows,
        columns=[
            "time",
            "n_risk",
            "n_event",
            "n_censor",
            "surv",
            "std_err",
            "lower",
            "upper",
            "group",
        ],
    )
