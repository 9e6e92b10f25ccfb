"""The stored lavaan references: complete, reproducible data, and equal to live lavaan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sem_reference import (
    HERE,
    SEM_CASES,
    case_data,
    load_sem_reference,
    make_hs_missing,
    make_mediation_data,
)

from radsem.engines._tables import MODINDEX_COLUMNS, PARAMETER_COLUMNS
from radsem.engines.crosscheck import cross_check_fits as compare_fits


class _Stored:
    def __init__(self, ref):
        self._ref = ref

    def parameter_estimates(self):
        return self._ref.parameters.copy()

    def fit_measures(self):
        return self._ref.fit_measures.copy()


@pytest.mark.parametrize("name", sorted(SEM_CASES))
def test_every_case_is_stored(name):
    ref = load_sem_reference(name)
    assert list(ref.parameters.columns) == PARAMETER_COLUMNS
    assert ref.converged
    assert ref.versions["lavaan"].startswith("0.6")
    assert ref.versions["R"].startswith("R version")
    for measure in ("npar", "chisq", "df", "cfi", "rmsea", "srmr"):
        assert measure in ref.fit_measures.index
    likelihood = ref.options.get("estimator", "ML") in {"ML", "MLR"}
    assert ("logl" in ref.fit_measures.index) is likelihood
    if ref.modindices is not None:
        assert list(ref.modindices.columns) == MODINDEX_COLUMNS
    free = ref.parameters["se"] > 0
    assert free.sum() >= ref.fit_measures["npar"] - 1  # == constraints remove one


def test_published_values():
    hs = load_sem_reference("hs_cfa_ml")
    assert hs.fit_measures["chisq"] == pytest.approx(85.306, abs=1e-3)  # lavaan tutorial
    assert hs.fit_measures["df"] == 24
    mi = hs.modindices.sort_values("mi").iloc[-1]
    assert mi["mi"] == pytest.approx(36.411, abs=1e-3)
    multi = load_sem_reference("hs_multigroup")
    assert multi.fit_measures["chisq"] == pytest.approx(164.103, abs=1e-3)  # lavaan tutorial
    mlr = load_sem_reference("hs_cfa_mlr")
    assert mlr.fit_measures["chisq.scaled"] == pytest.approx(87.132, abs=1e-3)


def test_seeded_data_files_reproduce():
    stored = pd.read_csv(HERE / "mediation_data.csv", float_precision="round_trip")
    pd.testing.assert_frame_equal(stored, make_mediation_data(), check_exact=True)
    stored = case_data("hs_missing_ml")
    fresh = make_hs_missing()
    np.testing.assert_array_equal(stored["x2"].isna(), fresh["x2"].isna())
    share = fresh[["x2", "x3", "x5", "x6", "x8", "x9"]].isna().to_numpy().mean()
    assert 0.18 < share < 0.22
    assert not fresh[["x1", "x4", "x7"]].isna().any().any()


def test_defined_parameter_rows():
    pe = load_sem_reference("mediation").parameters.set_index("lhs")
    a = pe.loc["M"].query("op == '~'")["est"].item()
    b, c = pe.loc["Y"].query("op == '~'")["est"].to_numpy()
    assert pe.loc["indirect", "est"] == pytest.approx(a * b)
    assert pe.loc["total", "est"] == pytest.approx(c + a * b)


@pytest.mark.parametrize("name", ["hs_cfa_ml", "poldem_constraint", "mediation"])
def test_stored_equals_live_lavaan(r_lavaan, name):
    from radsem.engines import fit_lavaan

    ref = load_sem_reference(name)
    case = SEM_CASES[name]
    live = fit_lavaan(case.model, case_data(name), case.function, **case.options)
    result = compare_fits(_Stored(ref), live, names=("stored", "lavaan"), tol={"est": 1e-9})
    assert result.agree, str(result)
