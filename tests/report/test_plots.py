"""Report plots: the drawn coordinates equal the input tables."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from radsem.errors import DataError
from radsem.report import (
    calibration_plot,
    cluster_heatmap,
    feature_ranking_plot,
    forest_plot,
    kaplan_meier_plot,
    numbers_at_risk,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _valid(fig):
    ET.fromstring(fig.svg)
    assert fig.png.startswith(PNG_MAGIC)
    assert fig.caption


def test_km_steps_equal_table_and_at_risk(km_table):
    fig = kaplan_meier_plot(km_table, times=[0, 2, 4, 6, 8])
    _valid(fig)
    for g, sub in km_table.groupby("group"):
        x, y = fig.data["steps"][g]
        np.testing.assert_array_equal(x, np.r_[0.0, sub["time"]])
        np.testing.assert_array_equal(y, np.r_[1.0, sub["surv"]])
        assert np.all(np.diff(y) <= 0)  # survival never increases
    risk = fig.data["at_risk"]
    # C1: times 1,2,2,4,5,7 -> at risk (time >= t): t=0:6, 2:5, 4:3, 6:1, 8:0
    assert risk.loc["C1"].tolist() == [6, 5, 3, 1, 0]
    # C2: times 1,1,3,3,6 -> 5, 3, 1, 1, 0
    assert risk.loc["C2"].tolist() == [5, 3, 1, 1, 0]
    texts = [t.text for t in ET.fromstring(fig.svg).iter("{http://www.w3.org/2000/svg}text")]
    assert "At risk" in texts
    assert "C1" in texts


def test_km_from_radsem_survival_matches_its_at_risk():
    from radsem.datasets import load
    from radsem.survival import kaplan_meier

    lung = load("lung")
    lung = lung.assign(status=lung["status"] - 1)  # R codes 1 censored / 2 dead
    km = kaplan_meier(lung, time="time", event="status", group="sex")
    times = [0, 200, 400, 600, 800]
    ours = numbers_at_risk(km.table, times)
    theirs = km.at_risk(times)
    np.testing.assert_array_equal(ours.to_numpy(), theirs.loc[ours.index].to_numpy())
    fig = kaplan_meier_plot(km, times=times)
    for g, sub in km.table.groupby("group"):
        np.testing.assert_array_equal(fig.data["steps"][g][1], np.r_[1.0, sub["surv"]])


def test_forest_plot_points_and_axis():
    hr = pd.DataFrame(
        {"hr": [3.33, 1.03], "ci_lower": [1.37, 1.0], "ci_upper": [8.07, 1.06]},
        index=["cluster 2/3 vs 1", "age"],
    )
    fig = forest_plot(hr)
    _valid(fig)
    np.testing.assert_array_equal(fig.data["estimate"], [3.33, 1.03])
    assert fig.data["labels"] == ["cluster 2/3 vs 1", "age"]
    assert "dashed line at 1" in fig.caption
    diff = pd.DataFrame(
        {
            "comparison": ["SEM - clinical"],
            "estimate": [-0.02],
            "ci_lower": [-0.08],
            "ci_upper": [0.04],
        }
    )
    assert "dashed line at 0" in forest_plot(diff, estimate="estimate", label="comparison").caption


def test_forest_plot_bad_inputs():
    bad = pd.DataFrame({"hr": [2.0], "ci_lower": [2.5], "ci_upper": [3.0]})
    with pytest.raises(DataError, match="contain its estimate"):
        forest_plot(bad)
    with pytest.raises(DataError, match="lacks columns"):
        forest_plot(bad.drop(columns="ci_upper"))
    neg = pd.DataFrame({"hr": [0.0], "ci_lower": [-1.0], "ci_upper": [1.0]})
    with pytest.raises(DataError, match="positive"):
        forest_plot(neg)


def test_calibration_points():
    cal = pd.DataFrame(
        {
            "predicted": [0.3, 0.1, 0.5],
            "observed": [0.25, 0.12, 0.55],
            "ci_lower": [0.15, 0.05, 0.4],
            "ci_upper": [0.35, 0.2, 0.7],
        }
    )
    fig = calibration_plot(cal, lower="ci_lower", upper="ci_upper")
    _valid(fig)
    x, y = fig.data["points"]["all"]
    np.testing.assert_array_equal(x, [0.1, 0.3, 0.5])
    np.testing.assert_array_equal(y, [0.12, 0.25, 0.55])


def test_feature_ranking_bands(rng):
    fr = pd.Series(rng.uniform(0.5, 2.5, 50), index=[f"feat_{i}" for i in range(50)])
    fig = feature_ranking_plot(fr, top=20)
    _valid(fig)
    top = fr.sort_values(ascending=False).iloc[:20]
    assert fig.data["features"] == list(top.index)
    np.testing.assert_allclose(fig.data["widths"], top.to_numpy())
    for v, c in zip(top, fig.data["colours"], strict=True):
        assert c == ("#c0392b" if v > 1.85 else "#d68910" if v > 1.5 else "#9aa5b1")
    frame = pd.DataFrame({"feature": ["a", "b"], "FR": [1.0, 2.0]})
    assert feature_ranking_plot(frame).data["features"] == ["b", "a"]
    with pytest.raises(DataError, match="top must be"):
        feature_ranking_plot(fr, top=0)


def test_cluster_heatmap_rows_by_cluster(rng):
    x = pd.DataFrame(
        rng.normal(size=(30, 5)), columns=list("abcde"), index=[f"PAT{i:03d}" for i in range(30)]
    )
    labels = np.array(["C2", "C1", "C3"] * 10)
    x.loc[labels == "C3", "d"] += 4
    fig = cluster_heatmap(x, labels, max_features=3)
    _valid(fig)
    shown = fig.data["clusters"]
    assert list(shown) == sorted(shown)
    assert fig.data["columns"][0] == "d"  # the feature separating clusters comes first
    assert "PAT0" not in fig.svg.decode()  # no case identifiers in figures
    z = (x - x.mean()) / x.std(ddof=1)
    order = np.lexsort((np.arange(30), labels))
    np.testing.assert_allclose(fig.data["matrix"], z[fig.data["columns"]].to_numpy()[order])
    with pytest.raises(DataError, match="labels for"):
        cluster_heatmap(x, labels[:5])


def test_km_bad_input(km_table):
    with pytest.raises(DataError, match="lacks columns"):
        kaplan_meier_plot(km_table.drop(columns="surv"))
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        kaplan_meier_plot(km_table.assign(surv=km_table["surv"] + 1))


def test_cluster_heatmap_integer_labels_drawn_once(rng):
    """The demo's clusters are integers 1, 2, 3: each label is drawn once in the rendered
    figure (the outcome report once showed "1 1")."""
    import re

    x = pd.DataFrame(rng.normal(size=(24, 4)), columns=list("abcd"))
    labels = np.repeat([1, 2, 3], 8)
    svg = cluster_heatmap(x, labels).svg.decode()
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    # the colour bar's z-score ticks (-3 ... 3, lowest first) come last, before its label
    assert texts[-1] == "z-score"
    start = next(k for k, t in enumerate(texts) if t.startswith("\u2212"))
    strip = texts[:start]
    assert sorted(set(x.columns)) == sorted(strip[:4])
    for label in ("1", "2", "3"):
        assert strip.count(label) == 1, (label, strip)
    assert not any(re.fullmatch(r"(\d+) \1", t.strip()) for t in texts), texts
