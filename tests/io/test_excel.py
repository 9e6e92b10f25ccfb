"""Excel input: the first sheet or the one asked for, wherever a CSV table is accepted."""

from __future__ import annotations

import pandas as pd
import pytest

import radsem
from radsem.cli import main
from radsem.datasets import load
from radsem.errors import DataError
from radsem.io import read_table

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"


@pytest.fixture
def workbook(tmp_path):
    hs = load("HolzingerSwineford1939")
    path = tmp_path / "hs.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        hs.head(5).assign(patient_id=["007", "8", "9", "10", "11"]).to_excel(
            writer, sheet_name="notes", index=False
        )
        hs.to_excel(writer, sheet_name="data", index=False)
    return path, hs


def test_read_table_excel_sheets(workbook):
    path, hs = workbook
    first = read_table(path)
    assert first["patient_id"].tolist()[:2] == ["007", "8"]  # ids stay text
    by_name = read_table(path, sheet="data")
    csv = path.with_suffix(".csv")
    hs.to_csv(csv, index=False)
    pd.testing.assert_frame_equal(by_name, read_table(csv))  # same table as from CSV
    pd.testing.assert_frame_equal(read_table(path, sheet=2), by_name)
    pd.testing.assert_frame_equal(read_table(path, sheet="2"), by_name)
    with pytest.raises(DataError, match="no sheet named 'other'.*notes, data"):
        read_table(path, sheet="other")
    with pytest.raises(DataError, match="sheet number 3"):
        read_table(path, sheet=3)
    with pytest.raises(DataError, match="only be chosen in an Excel"):
        read_table(csv, sheet="data")


def test_excel_header_problems(tmp_path):
    path = tmp_path / "bad.xlsx"
    pd.DataFrame([[1, 2], [3, 4]], columns=["a", None]).to_excel(path, index=False)
    with pytest.raises(DataError, match="without a name"):
        read_table(path)
    (tmp_path / "fake.xlsx").write_text("not a workbook")
    with pytest.raises(DataError, match="cannot be read as an Excel workbook"):
        read_table(tmp_path / "fake.xlsx")


def test_fit_command_reads_a_sheet(workbook, tmp_path, capsys):
    path, hs = workbook
    (tmp_path / "hs.lav").write_text(HS)
    code = main(
        [
            "fit",
            str(tmp_path / "hs.lav"),
            str(path),
            "--sheet",
            "data",
            "--kind",
            "cfa",
            "--out",
            str(tmp_path / "fit"),
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    back = radsem.load_fit(tmp_path / "fit" / "fit.json")
    assert back.fit_measures()["chisq"] == pytest.approx(85.306, abs=1e-3)
