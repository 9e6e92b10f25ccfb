"""Parity of radsem's parameter table with lavaan 0.6-14 (live through rpy2).

Reference: ``parTable(sem/cfa/growth/lavaan(model, data, do.fit = FALSE, ...))`` or
``lavaanify(model, ...)``; every row is compared on lhs, op, rhs, user, block, group, free,
ustart, exo, label and plabel, in order. The cases live in ``spec_cases.py``.
"""

from __future__ import annotations

import pytest
from spec_cases import (
    MEDIATION,
    POLDEM,
    fitted_cases,
    lavaanify_cases,
    ordinal_frame,
    radsem_lavaanify_options,
    radsem_options,
)

from radsem.syntax import build_partable

FITTED = fitted_cases()
LAVAANIFY = lavaanify_cases()


@pytest.fixture(scope="module")
def ordinal_data(lav):
    return ordinal_frame(lav.frame("HolzingerSwineford1939"))


@pytest.mark.parametrize("case", list(FITTED))
def test_table_matches_lavaan(lav, ordinal_data, case):
    fun, model, data, options = FITTED[case]
    thresholds = None
    if data == "ordinal":
        data = ordinal_data
        thresholds = {c: int(data[c].nunique()) - 1 for c in options["ordered"]}
    ref = lav.fitted(fun, model, data, **options)
    ours = build_partable(model, **radsem_options(fun, options, thresholds)).partable
    lav.assert_same(ours, ref)


@pytest.mark.parametrize("case", list(LAVAANIFY))
def test_table_matches_lavaanify(lav, case):
    model, options = LAVAANIFY[case]
    ours = build_partable(model, **radsem_lavaanify_options(options)).partable
    lav.assert_same(ours, lav.lavaanify(model, **options))


def test_shared_labels_become_equality_rows():
    pt = build_partable(POLDEM).partable
    eq = pt[pt["op"] == "=="]
    assert list(zip(eq["lhs"], eq["rhs"], eq["user"], strict=True)) == [
        (".p5.", ".p9.", 2),
        (".p6.", ".p10.", 2),
        (".p7.", ".p11.", 2),
    ]
    labelled = pt[pt["label"] == "a"]
    assert list(labelled["rhs"]) == ["y2", "y6"]
    assert (labelled["free"] > 0).all()


def test_definitions_keep_lavaan_text_and_labels():
    pt = build_partable(MEDIATION).partable
    defs = pt[pt["op"] == ":="]
    assert list(defs["rhs"]) == ["a*b", "c+a*b"]
    assert list(defs["label"]) == ["ab", "total"]
    assert (defs[["block", "group", "free"]] == 0).all().all()
