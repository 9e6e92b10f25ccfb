"""read_cohort: round trip of a simulated cohort, and validation messages naming file, row,
column."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radsem.errors import DataError, ImageError
from radsem.io import Cohort, image_array, read_cohort, read_image, write_table


def _clinical(**overrides) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "patient_id": ["A1", "A2", "A3"],
            "age": [40.0, 55.5, 61.0],
            "time": [12.0, 30.5, 7.25],
            "event": [1, 0, 1],
        }
    )
    for key, value in overrides.items():
        frame[key] = value
    return frame


def test_round_trip(small_cohort, small_folder):
    cohort = read_cohort(small_folder)
    assert isinstance(cohort, Cohort)
    assert cohort.path == Path(small_folder).resolve()
    pd.testing.assert_frame_equal(cohort.clinical, small_cohort.clinical, check_dtype=False)
    pd.testing.assert_frame_equal(cohort.expression, small_cohort.expression, check_dtype=False)
    pd.testing.assert_frame_equal(cohort.protocol, small_cohort.protocol, check_dtype=False)
    assert cohort.truth == small_cohort.truth
    assert list(cohort.images.columns) == ["patient_id", "t2", "dwi", "adc", "mask"]
    assert cohort.images["patient_id"].tolist() == cohort.patient_ids
    for row in cohort.images.itertuples():
        for col in ("t2", "dwi", "adc", "mask"):
            assert Path(getattr(row, col)).is_absolute()
        arr, _ = image_array(row.adc)
        np.testing.assert_array_equal(arr, small_cohort.images[row.patient_id].adc)
    assert "6 patients" in repr(cohort)


def test_patients_without_images_are_absent(small_folder, tmp_path):
    copy = Path(shutil.copytree(small_folder, tmp_path / "c"))
    shutil.rmtree(copy / "images" / "P002")
    cohort = read_cohort(copy)
    assert "P002" not in set(cohort.images["patient_id"])
    assert len(cohort.images) == 5


def test_minimal_folder(make_folder):
    cohort = read_cohort(make_folder(clinical=_clinical()))
    assert cohort.expression.empty
    assert cohort.protocol.empty
    assert cohort.images.empty
    assert cohort.truth is None
    assert cohort.clinical["event"].dtype.kind == "i"


def test_parquet_tables(tmp_path):
    (tmp_path / "c").mkdir()
    write_table(_clinical(), tmp_path / "c" / "clinical.parquet")
    assert read_cohort(tmp_path / "c").clinical["patient_id"].tolist() == ["A1", "A2", "A3"]


def test_ids_stay_text(make_folder):
    cohort = read_cohort(make_folder(clinical=_clinical(patient_id=["007", "008", "010"])))
    assert cohort.patient_ids == ["007", "008", "010"]


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"patient_id": ["A1", "A2", "A1"]}, r"clinical.csv, row 4: duplicated patient_id='A1'"),
        ({"patient_id": ["A1", None, "A3"]}, r"row 3, column 'patient_id': missing patient id"),
        ({"time": [12.0, -1.0, 3.0]}, r"row 3, patient_id 'A2', column 'time'.*negative"),
        ({"time": [12.0, None, 3.0]}, r"row 3, patient_id 'A2', column 'time': time missing"),
        ({"time": [12.0, "soon", 3.0]}, r"column 'time': 'soon' is not a number"),
        ({"event": [1, 2, 0]}, r"row 3, patient_id 'A2', column 'event': event must be 0"),
        ({"event": [1, 0, None]}, r"row 4, patient_id 'A3', column 'event'"),
        ({"age": [40, 300, 50]}, r"column 'age': 300"),
        ({"dss_event": [0, 1, 0]}, r"\['dss_time'\] missing"),
    ],
)
def test_clinical_errors(make_folder, overrides, match):
    with pytest.raises(DataError, match=match):
        read_cohort(make_folder(clinical=_clinical(**overrides)))


def test_missing_files_and_columns(make_folder, tmp_path):
    with pytest.raises(DataError, match="cohort folder not found"):
        read_cohort(tmp_path / "nowhere")
    folder = make_folder(expression=pd.DataFrame({"patient_id": ["A1"], "MKI67": [8.0]}))
    with pytest.raises(DataError, match=r"required file clinical.csv"):
        read_cohort(folder)
    with pytest.raises(DataError, match=r"clinical.csv: required column\(s\) \['event'\]"):
        read_cohort(make_folder(clinical=_clinical().drop(columns="event")))


def test_expression_errors(make_folder):
    clin = _clinical()
    bad_id = pd.DataFrame({"patient_id": ["A1", "ZZ"], "MKI67": [8.0, 9.0]})
    with pytest.raises(
        DataError,
        match=r"expression.csv, row 3, patient_id 'ZZ': patient id "
        r"not in clinical.csv",
    ):
        read_cohort(make_folder(clinical=clin, expression=bad_id))
    text = pd.DataFrame({"patient_id": ["A1", "A2"], "MKI67": [8.0, 9.0], "TOP2A": ["7.5", "high"]})
    with pytest.raises(
        DataError,
        match=r"row 3, patient_id 'A2', column 'TOP2A': 'high' is "
        r"not a number",
    ):
        read_cohort(make_folder(clinical=clin, expression=text))
    dup = pd.DataFrame({"patient_id": ["A1", "A1"], "MKI67": [8.0, 9.0]})
    with pytest.raises(DataError, match="duplicated patient_id='A1'"):
        read_cohort(make_folder(clinical=clin, expression=dup))
    with pytest.raises(DataError, match="no gene columns"):
        read_cohort(make_folder(clinical=clin, expression=pd.DataFrame({"patient_id": ["A1"]})))


def test_expression_missing_values_allowed(make_folder):
    expr = pd.DataFrame({"patient_id": ["A1", "A2"], "MKI67": [8.0, None]})
    cohort = read_cohort(make_folder(clinical=_clinical(), expression=expr))
    assert cohort.expression["MKI67"].isna().sum() == 1


def test_protocol_errors(make_folder):
    prot = pd.DataFrame({"patient_id": ["A1", "A1"], "series": ["T2", "PET"]})
    with pytest.raises(DataError, match=r"protocol.csv, row 3.*'PET' is not one of"):
        read_cohort(make_folder(clinical=_clinical(), protocol=prot))
    prot = pd.DataFrame({"patient_id": ["A1", "A1"], "series": ["T2", "T2"]})
    with pytest.raises(DataError, match="duplicated patient_id='A1', series='T2'"):
        read_cohort(make_folder(clinical=_clinical(), protocol=prot))


def test_image_errors(small_folder, tmp_path):
    copy = Path(shutil.copytree(small_folder, tmp_path / "c"))
    (copy / "images" / "P003" / "adc.nii.gz").unlink()
    # a missing file is the patient's problem, reported when the image is read
    images = read_cohort(copy).images.set_index("patient_id")
    assert images.loc["P003", "adc"].endswith("P003/adc.nii.gz")
    assert not Path(images.loc["P003", "adc"]).exists()
    with pytest.raises(ImageError, match="image file not found"):
        read_image(images.loc["P003", "adc"])
    shutil.copytree(copy / "images" / "P001", copy / "images" / "P999")
    (copy / "images" / "P003").rename(copy / "images" / "P003x")
    with pytest.raises(DataError, match="who is not in clinical.csv"):
        read_cohort(copy)


def test_bad_truth_json(make_folder):
    folder = make_folder(clinical=_clinical())
    (folder / "truth.json").write_text("{not json")
    with pytest.raises(DataError, match="truth.json: not valid JSON"):
        read_cohort(folder)
