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
    with pytest.raises(ModelSpecificationError, match="cannot pass"):
        fit_lavaan("f =~ x1 + x2 + x3", hs, "cfa", control=[1, {"x": "q()"}])
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


# issue 13: lavaan joins a line without an operator onto the previous one, so a token check of
# the user's text is not enough; only the syntax rebuilt from radsem's parse may reach R.
_JOINED = [
    "visual =~ x1 + a*x2 + b*x3\nab := file.create\n('pwned')",
    "visual =~ x1 + a*x2 + b*x3; ab := file.create; ('pwned')",
    "visual =~ x1 + start(file.create\n('pwned'))*x2 + x3",
    "visual =~ x1 + a*x2 + b*x3\nab := a*file.create\n('pwned')",
    "visual =~ x1 + a*x2 + b*x3\na == file.create\n('pwned')",
]


class _Fake:
    """What cross_check needs of a fit (the refit is refused before any comparison)."""

    def __init__(self, model, data):
        self.model, self.data, self.options = model, data, {}


@pytest.mark.parametrize("attack", _JOINED)
def test_operator_less_lines_never_reach_r(attack, hs, tmp_path, monkeypatch):
    from radsem.engines import cross_check, fit_engine

    monkeypatch.chdir(tmp_path)
    for call in (
        lambda: fit_lavaan(attack, hs),
        lambda: fit_engine("lavaan", attack, hs),
        lambda: cross_check(_Fake(attack, hs), engine="lavaan"),
    ):
        with pytest.raises(ModelSyntaxError) as info:
            call()
        assert info.value.line >= 1
        assert info.value.column >= 1
    assert list(tmp_path.iterdir()) == []


def test_lavaan_receives_the_rebuilt_syntax(r_lavaan, hs):
    fit = fit_lavaan("visual =~ x1 + a * x2 + b*x3 ; ab := (a) * b  # note", hs)
    assert fit.syntax == "visual =~ x1 + a*x2 + b*x3\nab := a*b\n"
    pe = fit.parameter_estimates()
    assert pe.loc[pe["op"] == ":=", "rhs"].tolist() == ["(a)*b"]  # radsem's text of the row
