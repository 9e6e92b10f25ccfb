"""``fit.save`` / ``radsem.load_fit``: documented JSON that reloads to the same tables."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import radsem
from radsem.cli import main
from radsem.datasets import load
from radsem.errors import DataError

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"


@pytest.mark.parametrize("kwargs", [{}, {"group": "school"}])
def test_save_and_load_give_the_same_tables(tmp_path, kwargs):
    fit = radsem.cfa(HS, data=load("HolzingerSwineford1939"), **kwargs)
    path = fit.save(tmp_path / "hs.json")
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["format"] == "radsem.fit"
    assert record["format_version"] == 1
    assert "x1" not in json.dumps(record["options"])  # options only, no data
    back = radsem.load_fit(path)
    pd.testing.assert_frame_equal(back.parameter_estimates(), fit.parameter_estimates())
    pd.testing.assert_frame_equal(back.standardized_solution(), fit.standardized_solution())
    pd.testing.assert_series_equal(back.fit_measures(), pd.Series(fit.fit_measures(), dtype=float))
    assert back.summary() == fit.summary()
    full = fit.summary(fit_measures=True, standardized=True, rsquare=True)
    assert back.summary(fit_measures=True, standardized=True, rsquare=True) == full
    assert back.model == HS
    assert back.nobs == 301
    assert back.converged
    assert repr(back).startswith("<SavedFit SemFit ML N=301")
    again = back.save(tmp_path / "again.json")
    assert again.read_bytes() == path.read_bytes()


def test_fit_json_of_the_command_is_reloadable(tmp_path, capsys):
    load("HolzingerSwineford1939").to_csv(tmp_path / "hs.csv", index=False)
    (tmp_path / "hs.lav").write_text(HS)
    assert (
        main(
            [
                "fit",
                str(tmp_path / "hs.lav"),
                str(tmp_path / "hs.csv"),
                "--kind",
                "cfa",
                "--out",
                str(tmp_path / "out"),
                "--quiet",
            ]
        )
        == 0
    )
    back = radsem.load_fit(tmp_path / "out" / "fit.json")
    fit = radsem.cfa(HS, data=load("HolzingerSwineford1939"))
    pd.testing.assert_frame_equal(back.parameter_estimates(), fit.parameter_estimates())
    assert back.fit_measures()["chisq"] == pytest.approx(85.306, abs=1e-3)


def test_load_fit_rejects_other_files(tmp_path):
    (tmp_path / "a.json").write_text('{"format": "something else"}')
    (tmp_path / "b.json").write_text("not json")
    (tmp_path / "c.json").write_text('{"format": "radsem.fit", "format_version": 99}')
    with pytest.raises(DataError, match="not a saved radsem fit"):
        radsem.load_fit(tmp_path / "a.json")
    with pytest.raises(DataError, match="not a JSON file"):
        radsem.load_fit(tmp_path / "b.json")
    with pytest.raises(DataError, match="newer"):
        radsem.load_fit(tmp_path / "c.json")
    with pytest.raises(DataError, match="not found"):
        radsem.load_fit(tmp_path / "missing.json")
