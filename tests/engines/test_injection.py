"""Model strings, column names and options that hold R code must not run it."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from radsem.engines import fit_lavaan
from radsem.engines._safety import check_model_text
from radsem.errors import ModelSpecificationError, ModelSyntaxError, RadsemError


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned"


def _attacks(marker: Path) -> list[str]:
    path = str(marker)
    return [
        f'x1"); system("touch {path}"); ("',
        f'f =~ start(file.create("{path}"))*x1 + x2 + x3',  # lavaan evaluates modifiers
        f'f =~ c(file.create("{path}"))*x1 + x2 + x3',
        f'f =~ label(file.create("{path}"))*x1 + x2 + x3',
        f"f =~ a*x1 + x2 + x3\nd := a + \"file.create('{path}')\"",
        "f =~ a*x1 + x2 + x3\nd := system(paste0('touch ', 'x'))",
        "f =~ a*x1 + x2 + x3\nd := base::system('true')",
        "f =~ a*x1 + x2 + x3\nd := (system)('true')",
        "f =~ `a`; q()",
        "f =~ x1 + x2 + x3\na == eval(parse(text = 'q()'))",
    ]


def test_model_text_attacks_refused_before_r(marker, hs):
    for attack in _attacks(marker):
        with pytest.raises(ModelSyntaxError) as info:
            fit_lavaan(attack, hs, "cfa")
        assert info.value.line >= 1
        assert info.value.column >= 1
    assert not marker.exists()


def test_attacks_do_not_run_with_lavaan(r_lavaan, marker, hs):
    for attack in _attacks(marker):
        with pytest.raises(RadsemError):
            fit_lavaan(attack, hs, "cfa")
    assert not marker.exists()


def test_hostile_column_names_are_data_only(r_lavaan, marker, hs):
    frame = hs[["x1", "x2", "x3"]].copy()
    frame[f'`a`; q(); file.create("{marker}")'] = 1.0
    frame[f'x4"); file.create("{marker}'] = hs["x4"]
    fit = fit_lavaan("f =~ x1 + x2 + x3", frame, "cfa")
    assert fit.converged
    assert not marker.exists()
    group = frame.assign(**{"g; q()": hs["school"].astype(str)})
    fit = fit_lavaan("f =~ x1 + x2 + x3", group, "cfa", group="g; q()")
    assert len(fit.group_labels) == 2
    assert not marker.exists()


def test_hostile_option_values(r_lavaan, marker, hs):
    with pytest.raises(RadsemError):
        fit_lavaan("f =~ x1 + x2 + x3", hs, "cfa", estimator=f'ML"); file.create("{marker}')
    with pytest.raises(ModelSyntaxError):
        fit_lavaan(
            "f =~ x1 + x2 + x3",
            hs,
            "cfa",
            group="school",
            group_partial=[f'f=~x2; file.create("{marker}")'],
        )
    with pytest.raises(ModelSpecificationError):
        fit_lavaan("f =~ x1", hs, "cfa", **{"q(); x": True})
    assert not marker.exists()
    assert os.path.exists(str(marker.parent))


@pytest.mark.parametrize(
    "model",
    [
        "f =~ NA*x1 + start(0.5)*x2 + c(a, b)*x3 + 0*x4\nf ~~ 1*f  # comment (with `ticks`)",
        "y ~ b1*x + b2*z\nb1 == 2*b2\nb1 > 0.1\nd := exp(b1) - sqrt(abs(b2)) / 2^2",
        'f =~ label("my lab")*x1 + equal("f=~x1")*x2\nx1 ~ 1\nu1 | t1 + t2',
        "f =~ x1 +\n   x2 ! other comment\nlevel: 1",
    ],
)
def test_lavaan_syntax_passes_the_check(model):
    check_model_text(model)


def test_check_names_position():
    with pytest.raises(ModelSyntaxError, match="system") as info:
        check_model_text("f =~ x1\n d := system('x')")
    assert (info.value.line, info.value.column) == (2, 7)
    with pytest.raises(ModelSyntaxError, match="must be a string"):
        check_model_text(pd.DataFrame())
