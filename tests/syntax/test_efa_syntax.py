"""The ``efa("block")*`` modifier and the efa identification of the parameter table."""

from __future__ import annotations

import numpy as np
import pytest

from radsem.errors import ModelSyntaxError
from radsem.syntax import build_partable
from radsem.syntax.efa import EFA_USER, efa_spec, efa_syntax, split_efa

OBS = [f"x{i}" for i in range(1, 10)]


def test_split_efa_strips_the_modifiers_and_keeps_comments():
    text, blocks = split_efa(
        'efa("b1")*f1 +   # efa("not")*g in a comment\nefa( "b1" ) * f2 =~ x1 + x2 + x3\n'
        "f3 =~ x4 + x5 + x6"
    )
    assert blocks == {"b1": ["f1", "f2"]}
    assert "efa(" not in text.split("#")[0]
    assert 'efa("not")*g' in text  # comments untouched
    assert split_efa("f =~ x1 + x2 + x3") == ("f =~ x1 + x2 + x3", {})


def test_a_factor_in_two_blocks_is_refused():
    with pytest.raises(ModelSyntaxError, match="two efa blocks"):
        split_efa('efa("a")*f1 + efa("b")*f1 =~ x1 + x2 + x3')


def test_efa_syntax_is_lavaans():
    assert efa_syntax(["a", "b"], 2) == 'efa("efa")*f1 =~ a + b\nefa("efa")*f2 =~ a + b'


def test_echelon_identification():
    text, blocks = split_efa(efa_syntax(OBS, 3))
    spec = efa_spec(build_partable(text, OBS), blocks)
    pt = spec.partable
    load = pt[pt["op"] == "=~"]
    # factor k has its first k-1 loadings fixed to zero, marked user = 7
    for k, f in enumerate(["f1", "f2", "f3"]):
        rows = load[load["lhs"] == f]
        assert (rows["free"].to_numpy()[:k] == 0).all()
        assert (rows["user"].to_numpy()[:k] == EFA_USER).all()
        assert (rows["free"].to_numpy()[k:] > 0).all()
    var = pt[(pt["op"] == "~~") & pt["lhs"].isin(["f1", "f2", "f3"])]
    diag = var[var["lhs"] == var["rhs"]]
    off = var[var["lhs"] != var["rhs"]]
    np.testing.assert_array_equal(diag["ustart"], 1.0)
    assert (off["free"] == 0).all()
    assert (off["user"] == EFA_USER).all()
    free = pt["free"].to_numpy()
    assert sorted(free[free > 0]) == list(range(1, 9 * 3 - 3 + 9 + 1))
