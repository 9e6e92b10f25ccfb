"""radsem.datasets: shipped CSVs, dtypes, and value-by-value agreement with R."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radsem.datasets import available, describe, load
from radsem.errors import DataError

EXPECTED_SHAPES = {
    "HolzingerSwineford1939": (301, 15),
    "PoliticalDemocracy": (75, 11),
    "Demo.growth": (400, 10),
    "lung": (228, 10),
    "veteran": (137, 8),
}


def test_available_lists_every_dataset():
    assert available() == sorted(EXPECTED_SHAPES)


@pytest.mark.parametrize("name", sorted(EXPECTED_SHAPES))
def test_shapes_and_fresh_copies(name):
    first = load(name)
    assert first.shape == EXPECTED_SHAPES[name]
    first.iloc[0, 0] = None
    assert not load(name).iloc[[0], 0].isna().any()


def test_dtypes_follow_r_storage_types():
    hs = load("HolzingerSwineford1939")
    assert hs["id"].dtype == np.int64
    assert hs["grade"].dtype == pd.Int64Dtype()  # R integer with one NA
    assert hs["grade"].isna().sum() == 1
    assert isinstance(hs["school"].dtype, pd.CategoricalDtype)
    assert list(hs["school"].cat.categories) == ["Grant-White", "Pasteur"]
    assert (hs["school"] == "Pasteur").sum() == 156
    assert hs["x1"].dtype == np.float64
    vet = load("veteran")
    assert list(vet["celltype"].cat.categories) == ["squamous", "smallcell", "adeno", "large"]
    lung = load("lung")
    assert lung["meal.cal"].isna().sum() == 47
    assert set(lung["status"].unique()) == {1.0, 2.0}


def test_known_values():
    hs = load("HolzingerSwineford1939")
    assert hs.loc[0, "x1"] == pytest.approx(3.3333333, abs=0)
    pd_ = load("politicaldemocracy")  # case-insensitive
    assert pd_["y1"].mean() == pytest.approx(5.464666666666667, rel=1e-12)


def test_describe_records_provenance():
    info = describe("lung")
    assert info["package"] == "survival"
    assert info["r_version"].startswith("R version")
    assert info["columns"]["time"]["type"] == "double"


@pytest.mark.parametrize("bad", ["HolzingerSwineford", "", 3])
def test_unknown_name(bad):
    with pytest.raises(DataError, match="data set"):
        load(bad)


@pytest.mark.parametrize(
    ("name", "package"),
    [(n, "lavaan") for n in ("HolzingerSwineford1939", "PoliticalDemocracy", "Demo.growth")]
    + [("lung", "survival"), ("veteran", "survival")],
)
def test_identical_to_r(name, package, r_lavaan, r_survival):
    import rpy2.robjects as ro

    frame = ro.r["eval"](ro.r["as.name"](name), ro.r["as.environment"](f"package:{package}"))
    ours = load(name)
    assert list(frame.names) == list(ours.columns)
    for col in ours.columns:
        rcol = frame.rx2(col)
        isna = np.asarray(ro.r["is.na"](rcol), dtype=bool)
        np.testing.assert_array_equal(isna, ours[col].isna().to_numpy())
        if isinstance(ours[col].dtype, pd.CategoricalDtype):
            assert list(ro.r["levels"](rcol)) == list(ours[col].cat.categories)
            codes = np.asarray(ro.r["as.integer"](rcol))[~isna] - 1
            np.testing.assert_array_equal(codes, ours[col].cat.codes.to_numpy()[~isna])
        else:
            values = np.asarray(ro.r["as.numeric"](rcol))[~isna]
            np.testing.assert_array_equal(values, ours[col].to_numpy(dtype=float)[~isna])
