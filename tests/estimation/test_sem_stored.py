"""radsem against the stored lavaan 0.6-14 results (``tests/reference/sem``): no R needed."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import radsem

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reference"))

from sem_reference import SEM_CASES, case_data, load_sem_reference  # noqa: E402

KEY = ["lhs", "op", "rhs", "group"]


def _fit(name):
    ref = load_sem_reference(name)
    case = SEM_CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", radsem.errors.DataWarning)  # listwise notes
        fit = getattr(radsem, case.function)(ref.model, case_data(name), **ref.options)
    return ref, fit


@pytest.mark.parametrize("name", sorted(SEM_CASES))
def test_matches_stored_lavaan(name):
    ref, fit = _fit(name)
    assert fit.converged
    ours = fit.parameter_estimates()
    theirs = ref.parameters[ref.parameters["op"] != "=="]
    ours = ours.assign(group=np.where(ours["op"] == ":=", 0, ours["group"]))
    theirs = theirs.assign(group=np.where(theirs["op"] == ":=", 0, theirs["group"]))
    merged = ours.merge(theirs, on=KEY, suffixes=("", "_r"), how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both", KEY]
    np.testing.assert_allclose(merged["est"], merged["est_r"], atol=5e-4)
    free = merged["se_r"] > 0
    np.testing.assert_allclose(merged.loc[free, "se"], merged.loc[free, "se_r"], rtol=1e-3)
    std = merged["std_all_r"].notna()
    np.testing.assert_allclose(merged.loc[std, "std_all"], merged.loc[std, "std_all_r"], atol=5e-4)
    fm = fit.fit_measures()
    skip = {"gfi", "agfi", "pgfi"} if fit.options["missing"] == "ml" else set()
    keys = [
        k
        for k in ref.fit_measures.index
        if k in fm.index
        and k not in skip
        and np.isfinite(ref.fit_measures[k])
        and abs(ref.fit_measures[k]) > 1e-8
        and not (k.startswith("cn_") and ref.fit_measures["df"] == 0)
    ]
    assert len(keys) > 20
    np.testing.assert_allclose(
        fm[keys].to_numpy(float),
        ref.fit_measures[keys].to_numpy(float),
        rtol=1e-3,
        err_msg=str(keys),
    )
