"""Broken cohort folders and tables: each gives a DataError/ImageError naming file, row, column."""

from __future__ import annotations

from pathlib import Path

import pytest

from radsem.errors import DataError, ImageError
from radsem.io import read_cohort, read_image, read_table

GOOD = "patient_id,time,event,age\nP1,10,1,50\nP2,12.5,0,60\nP3,3,1,40\n"


def _cohort(tmp_path: Path, clinical, expression=None, extra=None) -> Path:
    folder = tmp_path / "cohort"
    folder.mkdir()
    data = clinical if isinstance(clinical, bytes) else clinical.encode()
    (folder / "clinical.csv").write_bytes(data)
    if expression is not None:
        (folder / "expression.csv").write_text(expression)
    if extra is not None:
        extra(folder)
    return folder


@pytest.mark.parametrize(
    ("clinical", "match"),
    [
        ("", "the file is empty"),
        ("patient_id,time,event\n", "no patients"),
        (GOOD.replace(",", ";"), "seems to use ';'"),
        ("patient_id,time,event,time\nP1,10,1,4\nP2,3,0,5\n", "duplicated column name.*time"),
        ("patient_id,time,event\nP1,10,1,99,100\nP2,3\n", "more fields than the header"),
        (bytes(range(256)) * 4, "not UTF-8 text"),
        ("patient_id,time,event,site\nP1,10,1,K\xf8ge\n".encode("latin-1"), "save it as UTF-8"),
        ('patient_id,time,event\nP1,"10,5",1\nP2,3,0\n', r"row 2, patient_id 'P1', column 'time'"),
        ("patient_id,time,event\nP1,10,yes\nP2,3,no\n", "'yes' is not a number"),
        ("patient_id,time,event\nP1,10,1\nP2,3,2\n", "row 3.*event must be 0"),
        ("patient_id,time,event\nP1,-10,1\nP2,3,0\n", "negative or not finite"),
        ("patient_id,time,event\nP1,inf,1\nP2,3,0\n", "negative or not finite"),
        ("patient_id,time,event\nP1,10,1\nP1,3,0\n", "duplicated patient_id='P1'"),
    ],
)
def test_broken_clinical_tables(tmp_path, clinical, match):
    with pytest.raises(DataError, match=match):
        read_cohort(_cohort(tmp_path, clinical))


def test_tolerated_variants_read_the_same(tmp_path):
    variants = {
        "bom": b"\xef\xbb\xbf" + GOOD.encode(),
        "crlf": GOOD.replace("\n", "\r\n"),
        "padded": GOOD.replace(",", " , ").replace("\n", " \n"),
    }
    ref = read_cohort(_cohort(tmp_path, GOOD)).clinical
    for name, text in variants.items():
        sub = tmp_path / name
        sub.mkdir()
        got = read_cohort(_cohort(sub, text)).clinical
        assert list(got.columns) == list(ref.columns), name
        assert got["patient_id"].tolist() == ["P1", "P2", "P3"], name


def test_padded_header_keeps_leading_zeros(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(" patient_id , time\n007,1\n")
    assert read_table(path)["patient_id"].tolist() == ["007"]


@pytest.mark.parametrize(
    ("expression", "match"),
    [
        ("patient_id,g1\nP9,1.0\n", "patient id not in clinical"),
        ("patient_id,g1\nP1,high\n", "'high' is not a number"),
        ("patient_id\nP1\n", "no gene columns"),
        ("patient_id,g1,g2\nP1,,1\nP2,,2\n", "'g1': no observed values"),
    ],
)
def test_broken_expression_tables(tmp_path, expression, match):
    with pytest.raises(DataError, match=match):
        read_cohort(_cohort(tmp_path, GOOD, expression))


def test_broken_folders(tmp_path):
    with pytest.raises(DataError, match="path must be a folder name"):
        read_cohort(None)
    with pytest.raises(DataError, match="cohort folder not found"):
        read_cohort(tmp_path / "nowhere")
    with pytest.raises(DataError, match="clinical.csv .or clinical.parquet. not found"):
        read_cohort(tmp_path)
    folder = _cohort(tmp_path, GOOD, extra=lambda d: (d / "images" / "P1").mkdir(parents=True))
    images = read_cohort(folder).images  # missing files are the patient's problem, at reading
    assert images["patient_id"].tolist() == ["P1"]
    with pytest.raises(ImageError, match="image file not found"):
        read_image(images.loc[0, "adc"])


def test_bad_table_files(tmp_path):
    (tmp_path / "x.parquet").write_text("not parquet")
    with pytest.raises(DataError, match="cannot be read as a parquet table"):
        read_table(tmp_path / "x.parquet")
    with pytest.raises(DataError, match="unknown table format '.sav'"):
        read_table(tmp_path / "x.sav")
