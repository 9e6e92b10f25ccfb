"""Gene-map inputs: GMT files, the shipped HPV sets, joining and checking the tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radsem.errors import DataError, DataWarning
from radsem.genemap import (
    MIN_PATIENTS,
    hpv_mechanism_sets,
    join_tables,
    match_gene_sets,
    read_gmt,
    write_gmt,
)


def _tables(rng, n=40, genes=6, features=2):
    ids = [f"P{i:03d}" for i in range(n)]
    expr = pd.DataFrame(rng.standard_normal((n, genes)), columns=[f"G{j}" for j in range(genes)])
    expr.insert(0, "patient_id", ids)
    feats = pd.DataFrame(
        rng.standard_normal((n, features)), columns=[f"F{j}" for j in range(features)]
    )
    feats.insert(0, "patient_id", ids)
    return expr, feats


def test_gmt_round_trip(tmp_path):
    sets = {"A": ["G1", "G2", "G3"], "B_set": ["HLA-A", "G2"]}
    write_gmt(sets, tmp_path / "s.gmt", descriptions={"A": "first"})
    text = (tmp_path / "s.gmt").read_text()
    assert text.splitlines()[0] == "A\tfirst\tG1\tG2\tG3"
    assert read_gmt(tmp_path / "s.gmt") == sets


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("# only a comment\n\n", "empty"),
        ("A\tdesc\n", "lists no genes"),
        ("A desc G1 G2\n", "tab-separated"),
        ("A\td\tG1\nA\td\tG2\n", "defined twice"),
    ],
)
def test_gmt_errors_name_the_line(tmp_path, content, message):
    path = tmp_path / "bad.gmt"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        read_gmt(path)


def test_gmt_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_gmt(tmp_path / "nope.gmt")


def test_match_gene_sets_warns_and_skips():
    sets = {
        "full": ["a", "b", "c"],
        "part": ["a", "x", "b"],
        "absent": ["x", "y"],
        "one": ["c", "z"],
    }
    with pytest.warns(DataWarning) as record:
        kept = match_gene_sets(sets, ["c", "b", "a"])
    assert kept == {"full": ["c", "b", "a"], "part": ["b", "a"]}
    text = " ".join(str(w.message) for w in record)
    assert "'absent': 0 of its 2 genes" in text
    assert "'one': 1 of its 2" in text
    assert "part (2/3)" in text
    with pytest.raises(DataError, match="none of the 1 gene set"), pytest.warns(DataWarning):
        match_gene_sets({"absent": ["x", "y"]}, ["a"])


def test_hpv_sets_are_the_simulators_marker_genes():
    from radsem.simulate.parameters import SimulationParameters

    sets = hpv_mechanism_sets()
    assert len(sets) == 4
    markers = SimulationParameters().markers
    by_mech = {}
    for gene, (mech, *_rest) in markers.items():
        by_mech.setdefault(mech, []).append(gene)
    assert sorted(map(sorted, sets.values())) == sorted(map(sorted, by_mech.values()))
    assert sets["HPV_E6_P53_DEGRADATION"] == by_mech["E6"]


def test_join_keeps_common_patients_and_says_how_many(rng):
    expr, feats = _tables(rng, n=40)
    feats = feats.iloc[3:]
    with pytest.warns(DataWarning, match="37 patients in common; left out: 3 expression only"):
        data = join_tables(expr, feats)
    assert list(data.genes.index) == list(feats["patient_id"])
    assert data.genes.index.name == "patient_id"
    assert data.targets.shape == (37, 2)


def test_too_few_common_patients(rng):
    expr, feats = _tables(rng, n=40)
    feats["patient_id"] = [f"X{i}" for i in range(40)]
    feats.loc[:4, "patient_id"] = expr["patient_id"][:5].to_numpy()
    with pytest.raises(
        DataError,
        match=rf"only 5 patient\(s\) have both expression \(40 "
        rf"patients in expression\) and image features \(40 in features\).*"
        rf">= {MIN_PATIENTS}",
    ):
        join_tables(expr, feats)


def test_duplicated_patient_and_gene(rng):
    expr, feats = _tables(rng)
    dup = expr.copy()
    dup.loc[5, "patient_id"] = dup.loc[4, "patient_id"]
    with pytest.raises(DataError, match=r"expression, row 7: duplicated patient_id 'P004'"):
        join_tables(dup, feats)
    cols = expr.copy()
    cols.columns = ["patient_id", "G0", "G0", "G2", "G3", "G4", "G5"]
    with pytest.raises(DataError, match=r"duplicated column\(s\) \['G0'\]"):
        join_tables(cols, feats)


def test_non_numeric_and_missing_target(rng):
    expr, feats = _tables(rng)
    bad = expr.astype({"G2": object})
    bad.loc[7, "G2"] = "high"
    with pytest.raises(DataError, match=r"column 'G2', patient_id 'P007': 'high' is not a number"):
        join_tables(bad, feats)
    miss = feats.copy()
    miss.loc[[3, 9], "F1"] = np.nan
    with pytest.raises(
        DataError,
        match=r"features, column 'F1': missing value for patient_id "
        r"'P003' \(2 patient\(s\)",
    ):
        join_tables(expr, miss)


def test_constant_columns_are_dropped_with_a_warning(rng):
    expr, feats = _tables(rng)
    expr["G1"] = 3.0
    feats["F0"] = 1.5
    with pytest.warns(DataWarning) as record:
        data = join_tables(expr, feats)
    assert "G1" not in data.genes.columns
    assert list(data.targets.columns) == ["F1"]
    assert data.dropped["constant_genes"] == 1
    assert data.dropped["constant_features"] == 1
    assert any("constant gene column(s) dropped" in str(w.message) for w in record)
    feats["F1"] = 2.0
    with pytest.raises(DataError, match="every feature is constant"), pytest.warns(DataWarning):
        join_tables(expr, feats)


def test_scattered_missing_expression_warns(rng):
    expr, feats = _tables(rng)
    expr.loc[2, "G3"] = np.nan
    with pytest.warns(DataWarning, match="1 missing expression value"):
        data = join_tables(expr, feats)
    assert np.isnan(data.genes.loc["P002", "G3"])


def test_label_becomes_indicator_targets(rng):
    expr, feats = _tables(rng)
    labels = pd.DataFrame(
        {
            "patient_id": expr["patient_id"],
            "histology": np.repeat(["adeno", "squamous", "other", None], 10),
        }
    )
    with pytest.warns(DataWarning, match="10 missing label"):
        data = join_tables(expr, feats, labels, "histology")
    assert data.label_targets == ["histology:adeno", "histology:other", "histology:squamous"]
    assert data.targets["histology:adeno"].sum() == 10
    assert len(data.targets) == 30
    two = labels.assign(histology=np.repeat(["a", "b"], 20))
    data = join_tables(expr, feats, two, "histology")
    assert data.label_targets == ["histology:b"]
    with pytest.raises(DataError, match="no column 'clade'"):
        join_tables(expr, feats, labels, "clade")
    with pytest.raises(DataError, match="one class only"):
        join_tables(expr, feats, labels.assign(histology="a"), "histology")
