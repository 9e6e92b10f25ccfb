"""Path diagrams: every parameter drawn and labelled, SVG well-formed, readable layout."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from radsem.errors import DataError
from radsem.report import diagram_layout, path_diagram

SVG = "{http://www.w3.org/2000/svg}"


def _svg(fig):
    root = ET.fromstring(fig.svg)
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    texts = [t.text for t in root.iter(f"{SVG}text") if t.text]
    return root, ids, texts


def test_every_parameter_appears(structural_table):
    fig = path_diagram(structural_table, values="std_all", residuals=True)
    root, ids, texts = _svg(fig)
    assert root.tag == f"{SVG}svg"
    drawn = structural_table[structural_table["op"].isin(["=~", "~", "~~"])]
    assert len(fig.data["edges"]) == len(drawn)
    for idx, row in drawn.iterrows():
        assert f"par-{idx}" in ids, (row.lhs, row.op, row.rhs)
        assert f"par-{idx}-label" in ids
        assert f"{row.std_all:.2f}" in texts
    for name in ("f1", "f2", "a1", "a2", "b1", "b2", "b3", "x", "y"):
        assert name in texts
        assert f"node-{name}" in ids


def test_latent_ellipses_observed_rectangles(structural_table):
    root, ids, _ = _svg(path_diagram(structural_table))

    def kind(name):
        group = next(el for el in root.iter() if el.get("id") == f"node-{name}")
        path = next(group.iter(f"{SVG}path")).get("d")
        return "curve" if " C " in f" {path} " or "C" in path.split()[1:] else "polygon"

    assert kind("f1") == "curve"
    assert kind("f2") == "curve"
    assert kind("a1") == "polygon"
    assert kind("x") == "polygon"


def test_residuals_optional(structural_table):
    fig = path_diagram(structural_table, residuals=False)
    ops = {(e["lhs"], e["rhs"]) for e in fig.data["edges"] if e["op"] == "~~"}
    assert ops == {("a2", "b2")}


def test_layout_causal_order_and_indicators(structural_table):
    pos = diagram_layout(structural_table)
    x = {k: v[0] for k, v in pos.items()}
    assert x["x"] < x["f1"] < x["f2"] < x["y"]  # left to right along the regressions
    assert pos["f1"][2]
    assert not pos["a1"][2]
    # f1 is in a middle layer: its indicators form a row centred on it, above or below
    assert pos["a1"][1] == pos["a2"][1] != pos["f1"][1]
    assert abs((x["a1"] + x["a2"]) / 2 - x["f1"]) < 1e-9


def test_first_layer_indicators_left(fake_fit):
    pe = fake_fit.parameter_estimates()
    extra = pe.iloc[:1].assign(lhs="f2", op="~", rhs="f1")
    pos = diagram_layout(pd.concat([pe, extra], ignore_index=True))
    assert all(pos[v][0] < pos["f1"][0] for v in ("a1", "a2", "a3"))
    assert all(pos[v][0] > pos["f2"][0] for v in ("b1", "b2", "b3"))
    assert len({pos[v][0] for v in ("a1", "a2", "a3")}) == 1


def test_cfa_layout_rows(fake_fit):
    pos = diagram_layout(fake_fit.parameter_estimates())
    assert pos["f1"][1] == pos["f2"][1]
    assert all(pos[v][1] < pos["f1"][1] for v in ("a1", "a2", "a3", "b1", "b2", "b3"))
    assert max(pos[v][0] for v in ("a1", "a2", "a3")) < min(pos[v][0] for v in ("b1", "b2"))


def test_from_model_spec():
    from radsem.syntax import build_partable

    spec = build_partable(
        "f =~ y1 + y2 + y3\n g =~ y4 + y5\n g ~ f\n y1 ~~ y4", ["y1", "y2", "y3", "y4", "y5"]
    )
    fig = path_diagram(spec, values=None)
    pairs = {(e["lhs"], e["op"], e["rhs"]) for e in fig.data["edges"]}
    assert {("f", "=~", "y1"), ("g", "~", "f"), ("y1", "~~", "y4")} <= pairs
    assert all(e["label"] == "" for e in fig.data["edges"])


def test_bad_inputs(structural_table):
    with pytest.raises(DataError, match="lacks columns"):
        path_diagram(structural_table.drop(columns="op"))
    with pytest.raises(DataError, match="not a column"):
        path_diagram(structural_table, values="std_nox")
    with pytest.raises(DataError, match="no =~, ~ or ~~"):
        path_diagram(structural_table[structural_table["op"] == "~1"])
    with pytest.raises(DataError, match="needs a fit"):
        path_diagram("f =~ a + b")
