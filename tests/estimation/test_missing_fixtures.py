"""Shared data and lavaan helpers for the missing-data / robust / diagnostics tests.

The R calls use fixed code; data and model strings are passed as R objects.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from radsem.datasets import load

HS_VARS = [f"x{i}" for i in range(1, 10)]
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def hs_frame() -> pd.DataFrame:
    """HolzingerSwineford1939's nine test scores."""
    return load("HolzingerSwineford1939")[HS_VARS].astype(float)


def hs_mar(seed: int = 20261123, rate: float = 0.20) -> pd.DataFrame:
    """HS with about ``rate`` of all values missing at random (MAR).

    x1, x4 and x7 stay complete; the other six scores of each factor go missing with a
    logistic probability driven by the complete indicator of the same factor.
    """
    frame = hs_frame()
    x = frame.to_numpy()
    rng = np.random.default_rng(seed)
    out = x.copy()
    per_target = rate * x.shape[1] / 6  # six targets carry all the missingness
    shift = np.log(per_target / (1 - per_target))
    for target, anchor in ((1, 0), (2, 0), (4, 3), (5, 3), (7, 6), (8, 6)):
        z = (x[:, anchor] - x[:, anchor].mean()) / x[:, anchor].std()
        prob = 1.0 / (1.0 + np.exp(-(shift + z)))
        out[rng.random(x.shape[0]) < prob, target] = np.nan
    return pd.DataFrame(out, columns=HS_VARS)


class LavaanRef:
    """A lavaan fit and the quantities the tests compare with."""

    def __init__(self, fun: str, model: str, data: pd.DataFrame, **options) -> None:
        import rpy2.robjects as ro

        from radsem._r import to_r_dataframe

        wrappers = {
            "cfa": "function(...) lavaan::cfa(...)",
            "sem": "function(...) lavaan::sem(...)",
        }
        opts = {k.replace("_", "."): v for k, v in options.items()}
        self.fit = ro.r(wrappers[fun])(model=model, data=to_r_dataframe(data), **opts)
        self._ns = ro.r("function(f, ...) utils::getFromNamespace(f, 'lavaan')(...)")
        self._inspect = ro.r("function(f, w) lavaan::lavInspect(f, w)")
        self._tech = ro.r("function(f, w) lavaan::lavTech(f, w)")
        self._ro = ro

    def fit_measures(self) -> dict[str, float]:
        """``fitMeasures(fit)`` (computed once)."""
        if not hasattr(self, "_fm"):
            fm = self._ro.r("function(f) lavaan::fitMeasures(f)")(self.fit)
            self._fm = dict(zip(fm.names, np.array(fm, dtype=float), strict=True))
        return self._fm

    def inspect(self, what: str):
        return self._inspect(self.fit, what)

    def tech(self, what: str):
        return self._tech(self.fit, what)

    def internal(self, name: str, *args):
        return self._ns(name, *args)

    def implied(self) -> tuple[np.ndarray | None, np.ndarray]:
        """Model-implied mean (None without a mean structure) and covariance."""
        imp = self.inspect("implied")
        mean = None if "mean" not in imp.names else np.array(imp.rx2("mean"), float)
        return mean, np.array(imp.rx2("cov"), float)

    def h1(self) -> tuple[np.ndarray, np.ndarray]:
        h1 = self.inspect("sampstat.h1")
        return np.array(h1.rx2("mean"), float), np.array(h1.rx2("cov"), float)

    def partable(self) -> pd.DataFrame:
        from radsem._r import from_r_dataframe

        return from_r_dataframe(self._ro.r("function(f) lavaan::parTable(f)")(self.fit))


_CASES = {
    "complete-MLR": (hs_frame, {"estimator": "MLR"}),
    "mar20-MLR": (hs_mar, {"estimator": "MLR", "missing": "ml"}),
    "complete-MLM": (hs_frame, {"estimator": "MLM"}),
}


@functools.lru_cache(maxsize=None)
def lavaan_hs(case: str) -> LavaanRef:
    """lavaan's fit of the HS CFA for a named case, computed once per test session.

    Call only from tests that requested the ``r_lavaan`` fixture (which skips without R).
    """
    make, options = _CASES[case]
    return LavaanRef("cfa", HS_MODEL, make(), **options)


def test_hs_mar_is_reproducible_and_about_20_percent():
    a, b = hs_mar(), hs_mar()
    pd.testing.assert_frame_equal(a, b)
    frac = float(a.isna().to_numpy().mean())
    assert 0.17 < frac < 0.23
    assert not a[["x1", "x4", "x7"]].isna().any().any()
