"""The fit-measure blocks of lavaan's ``summary()``: header, model tests, indices.

Each block is a list of rows ``(label, values, kind)``: ``values`` has one entry per column
(``Standard`` and, for a scaled test, ``Scaled``), ``None`` for an empty cell; ``kind`` is
``"value"``, ``"blank"`` (an empty line), ``"note"`` (text under a row, no values) or
``"title"`` (a sub-heading such as ``Test statistic for each group:``) or ``"head"`` (a
label with column names, such as ``Used  Total`` above the numbers of observations).
Labels, rows and their order follow lavaan 0.6-14's ``print`` methods (``lav_test_print``,
the ``lav_fit_measures`` print), so a user comparing the two texts finds the same lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from radsem.estimation.robust.sb_tests import SCALED_TESTS, TEST_LABELS

__all__ = [
    "SummaryParts",
    "TestRow",
    "Block",
    "header_block",
    "fit_blocks",
    "se_block",
    "group_chisq",
]

Row = tuple[str, tuple, str]


@dataclass(frozen=True)
class SummaryParts:
    """What the summary needs from a fit besides its public tables.

    The fit class fills it (so that this module reads no private attributes).

    Attributes
    ----------
    estimator : str
        The name lavaan prints (``"ML"`` for MLR, ``"DWLS"`` for WLSMV).
    optim_method : str
        radsem's optimiser.
    npar : int
        Free parameters before equality constraints (lavaan's ``Number of model
        parameters``).
    n_eq : int
        Number of equality constraints.
    nobs, ntotal_rows : list of int
        Per group cases used, and rows in the data (differ after listwise deletion).
    npatterns : list of int or None
        Per group missing-data patterns (FIML).
    group_labels : list of str
    group_chisq : list of float
        Per group standard test statistic (multi-group fits).
    test_name : str or None
        ``"yuan.bentler.mplus"``, ``"scaled.shifted"``, ... for a scaled test.
    shift : float or None
        Shift parameter of a scaled-and-shifted test.
    categorical : bool
    options : dict
        The fit's options.
    boot_successful : int or None
        Bootstrap replicates used (``se="bootstrap"``).
    tests : sequence of TestRow
        The tests beyond the standard one (rows of ``fit.tests()``), in lavaan's order.
    h1_structured : bool
        Whether the h1 information is the structured one (ML, GLS) or the unstructured
        one (the WLS family, ordered data), as lavaan prints it.
    """

    estimator: str
    optim_method: str
    npar: int
    n_eq: int
    nobs: Sequence[int]
    ntotal_rows: Sequence[int]
    npatterns: Sequence[int] | None
    group_labels: Sequence[str]
    group_chisq: Sequence[float] = ()
    test_name: str | None = None
    shift: float | None = None
    categorical: bool = False
    options: dict = field(default_factory=dict)
    boot_successful: int | None = None
    tests: Sequence[TestRow] = ()
    h1_structured: bool = True


class TestRow(NamedTuple):
    """One test statistic (a row of ``fit.tests()``)."""

    test: str
    stat: float
    df: float
    pvalue: float
    scaling_factor: float = np.nan
    shift: float = np.nan


@dataclass
class Block:
    """One block of the report: a title (``None`` for the header) and its rows."""

    title: str | None
    columns: tuple[str, ...]
    rows: list[Row]

    def frame(self) -> pd.DataFrame:
        """The block's values: one row per labelled value row (blank and note rows left out)."""
        vals = [(lab, v) for lab, v, kind in self.rows if kind == "value"]
        cols = list(self.columns) if self.columns else ["value"]
        out = pd.DataFrame(
            [list(v) for _, v in vals], index=[lab for lab, _ in vals], columns=cols, dtype=object
        )
        out.index.name = "label"
        return out


def _v(label: str, *values) -> Row:
    return (label, tuple(values), "value")


_BLANK: Row = ("", (), "blank")


def _note(text: str) -> Row:
    return (text, (), "note")


def _title(text: str) -> Row:
    return (text, (), "title")


def _num(fm: pd.Series, key: str):
    """A fit measure as float (NaN where missing), or ``None`` when lavaan has no such key."""
    if key not in fm.index:
        return None
    return float(fm[key])


def group_chisq(weights, values, ntotal: float) -> list[float]:
    """Per group statistic ``2 N w_g F_g`` (they add up to the model's ``2 N F``)."""
    return [2.0 * ntotal * w * f for w, f in zip(weights, values, strict=True)]


def header_block(parts: SummaryParts) -> Block:
    """Estimator, optimiser, numbers of parameters and of observations (and patterns)."""
    rows: list[Row] = [
        _v("Estimator", parts.estimator),
        _v("Optimization method", parts.optim_method),
        _v("Number of model parameters", int(parts.npar)),
    ]
    if parts.n_eq:
        rows.append(_v("Number of equality constraints", int(parts.n_eq)))
    rows.append(_BLANK)
    used, total = list(parts.nobs), list(parts.ntotal_rows)
    dropped = any(u != t for u, t in zip(used, total, strict=True))
    columns: tuple[str, ...] = ("Used", "Total") if dropped else ()
    if len(used) == 1:
        if dropped:  # lavaan prints the column names just above the line
            rows.append(("", columns, "head"))
        rows.append(
            _v("Number of observations", used[0], total[0])
            if dropped
            else _v("Number of observations", used[0])
        )
        if parts.npatterns is not None:
            rows.append(_v("Number of missing patterns", int(parts.npatterns[0])))
    else:
        title = "Number of observations per group:"
        rows.append((title, columns, "head") if dropped else _title(title))
        for lab, u, t in zip(parts.group_labels, used, total, strict=True):
            rows.append(_v(f"  {lab}", u, t) if dropped else _v(f"  {lab}", u))
        if parts.npatterns is not None:
            rows.append(_title("Number of missing patterns per group:"))
            for lab, k in zip(parts.group_labels, parts.npatterns, strict=True):
                rows.append(_v(f"  {lab}", int(k)))
    return Block(None, columns, rows)


def _count(x: float):
    """A number of degrees of freedom as lavaan prints it: whole numbers as integers."""
    x = float(x)
    return int(round(x)) if np.isfinite(x) and x % 1 == 0 else x


def _p_label(p: float) -> str:
    return "P-value (Chi-square)" if np.isfinite(p) else "P-value (Unknown)"  # ULS: Unknown


def _scaled_rows(std: TestRow, test: TestRow, parts: SummaryParts) -> list[Row]:
    """One two-column block of lavaan's ``lav_test_print``: the standard test beside one
    scaled test, its scaling factor (and shift), its name, and the per group statistics."""
    df = _count(std.df)
    rows = [
        _v("Test Statistic", float(std.stat), float(test.stat)),
        _v("Degrees of freedom", df, _count(test.df)),
    ]
    if df != 0:
        rows += [
            _v(_p_label(float(std.pvalue)), float(std.pvalue), float(test.pvalue)),
            _v("Scaling correction factor", None, float(test.scaling_factor)),
        ]
        if test.test == "scaled.shifted":
            rows.append(_v("Shift parameter", None, float(test.shift)))
        rows.append(_note(f"  {TEST_LABELS.get(test.test, test.test)}"))
    if len(parts.group_chisq) > 1:
        rows.append(_title("Test statistic for each group:"))
        c = float(test.scaling_factor) if np.isfinite(float(test.scaling_factor)) else 1.0
        n = np.asarray(parts.nobs, float)
        shift = float(test.shift) if test.test == "scaled.shifted" else 0.0
        for lab, x, sh in zip(
            parts.group_labels, parts.group_chisq, shift * n / n.sum(), strict=True
        ):
            rows.append(_v(f"  {lab}", x, x / c + sh))  # lavaan: the shift split by n_g / N
    return rows


def _plain_rows(test: TestRow, parts: SummaryParts) -> list[Row]:
    """One one-column block: the standard test, or a test without a scaling factor
    (``bollen.stine``: the same statistic with the bootstrap p-value)."""
    df = _count(test.df)
    rows = [_v("Test statistic", float(test.stat)), _v("Degrees of freedom", df)]
    if df != 0:
        p = float(test.pvalue)
        label = "P-value (Bollen-Stine bootstrap)" if test.test == "bollen.stine" else _p_label(p)
        rows.append(_v(label, p))
    if len(parts.group_chisq) > 1 and test.test == "standard":
        rows.append(_title("Test statistic for each group:"))
        rows += [
            _v(f"  {lab}", x) for lab, x in zip(parts.group_labels, parts.group_chisq, strict=True)
        ]
    return rows


def _user_test(fm: pd.Series, parts: SummaryParts, scaled: bool) -> Block:
    """lavaan's ``Model Test User Model``: a two-column block (Standard beside the scaled
    test) per scaled test, in the order requested, then a one-column block per other test;
    the standard test alone when nothing is scaled."""
    std = TestRow("standard", float(fm["chisq"]), float(fm["df"]), float(fm["pvalue"]))
    tests = list(parts.tests)
    if scaled and not tests:  # a fit that reports only its fit measures
        tests = [
            TestRow(
                parts.test_name or "",
                float(fm["chisq.scaled"]),
                float(fm["df.scaled"]),
                float(fm["pvalue.scaled"]),
                float(fm["chisq.scaling.factor"]),
                parts.shift if parts.shift is not None else np.nan,
            )
        ]
    robust = [t for t in tests if t.test in SCALED_TESTS]
    plain = [t for t in tests if t not in robust]
    rows: list[Row] = []
    for t in robust:
        rows += ([_BLANK] if rows else []) + _scaled_rows(std, t, parts)
    if not robust:
        rows += _plain_rows(std, parts)
    for t in plain:
        rows += [_BLANK, *_plain_rows(t, parts)]
    return Block("Model Test User Model", ("Standard", "Scaled") if robust else (), rows)


def _baseline(fm: pd.Series, scaled: bool) -> Block:
    def pair(key):
        out = [_num(fm, key)]
        if scaled:
            out.append(_num(fm, key + ".scaled"))
        return tuple(out)

    rows = [
        _v("Test statistic", *pair("baseline.chisq")),
        _v("Degrees of freedom", *(_count(x) for x in pair("baseline.df"))),
        _v("P-value", *pair("baseline.pvalue")),
    ]
    if scaled:
        rows.append(
            _v("Scaling correction factor", None, _num(fm, "baseline.chisq.scaling.factor"))
        )
    return Block("Model Test Baseline Model", ("Standard", "Scaled") if scaled else (), rows)


def _cols(fm, key, scaled, suffix=".scaled"):
    return (_num(fm, key), _num(fm, key + suffix)) if scaled else (_num(fm, key),)


def _robust(fm, key, scaled):
    return (None, _num(fm, key)) if scaled else (_num(fm, key),)


def _incremental(fm: pd.Series, scaled: bool) -> Block:
    rows = [
        _v("Comparative Fit Index (CFI)", *_cols(fm, "cfi", scaled)),
        _v("Tucker-Lewis Index (TLI)", *_cols(fm, "tli", scaled)),
    ]
    if "cfi.robust" in fm.index:
        rows += [
            _BLANK,
            _v("Robust Comparative Fit Index (CFI)", *_robust(fm, "cfi.robust", scaled)),
            _v("Robust Tucker-Lewis Index (TLI)", *_robust(fm, "tli.robust", scaled)),
        ]
    return Block("User Model versus Baseline Model", _columns(scaled), rows)


def _columns(scaled: bool) -> tuple[str, ...]:
    return ("Standard", "Scaled") if scaled else ()


def _loglik(fm: pd.Series, scaled: bool) -> Block:
    def same(key):
        x = _num(fm, key)
        return (x, x) if scaled else (x,)

    mlr = scaled and "scaling.factor.h0" in fm.index
    rows = [_v("Loglikelihood user model (H0)", *same("logl"))]
    if mlr:
        rows += [
            _v("Scaling correction factor", None, _num(fm, "scaling.factor.h0")),
            _note("    for the MLR correction"),
        ]
    rows.append(_v("Loglikelihood unrestricted model (H1)", *same("unrestricted.logl")))
    if mlr:
        rows += [
            _v("Scaling correction factor", None, _num(fm, "scaling.factor.h1")),
            _note("    for the MLR correction"),
        ]
    rows += [
        _BLANK,
        _v("Akaike (AIC)", *same("aic")),
        _v("Bayesian (BIC)", *same("bic")),
        _v("Sample-size adjusted Bayesian (SABIC)", *same("bic2")),
    ]
    return Block("Loglikelihood and Information Criteria", _columns(scaled), rows)


def _rmsea(fm: pd.Series, scaled: bool) -> Block:
    level = float(fm.get("rmsea.ci.level", 0.90))
    close = float(fm.get("rmsea.close.h0", 0.05))
    notclose = float(fm.get("rmsea.notclose.h0", 0.08))
    pct = f"{100 * level:g} Percent confidence interval"

    def scaled_key(key):
        # lavaan's .scaled names: rmsea.ci.lower.scaled, rmsea.notclose.pvalue.scaled
        return (_num(fm, key), _num(fm, key + ".scaled")) if scaled else (_num(fm, key),)

    rows = [
        _v("RMSEA", *scaled_key("rmsea")),
        _v(f"{pct} - lower", *scaled_key("rmsea.ci.lower")),
        _v(f"{pct} - upper", *scaled_key("rmsea.ci.upper")),
        _v(f"P-value H_0: RMSEA <= {close:.3f}", *scaled_key("rmsea.pvalue")),
        _v(f"P-value H_0: RMSEA >= {notclose:.3f}", *scaled_key("rmsea.notclose.pvalue")),
    ]
    if "rmsea.robust" in fm.index:
        rows += [
            _BLANK,
            _v("Robust RMSEA", *_robust(fm, "rmsea.robust", scaled)),
            _v(f"{pct} - lower", *_robust(fm, "rmsea.ci.lower.robust", scaled)),
            _v(f"{pct} - upper", *_robust(fm, "rmsea.ci.upper.robust", scaled)),
            _v(
                f"P-value H_0: Robust RMSEA <= {close:.3f}",
                *_robust(fm, "rmsea.pvalue.robust", scaled),
            ),
            _v(
                f"P-value H_0: Robust RMSEA >= {notclose:.3f}",
                *_robust(fm, "rmsea.notclose.pvalue.robust", scaled),
            ),
        ]
    return Block("Root Mean Square Error of Approximation", _columns(scaled), rows)


def _srmr(fm: pd.Series, scaled: bool) -> Block:
    x = _num(fm, "srmr")
    return Block(
        "Standardized Root Mean Square Residual",
        _columns(scaled),
        [_v("SRMR", *((x, x) if scaled else (x,)))],
    )


def fit_blocks(fm: pd.Series, parts: SummaryParts, fit_measures: bool) -> list[Block]:
    """The model test and, with ``fit_measures``, lavaan's fit-measure blocks."""
    scaled = "chisq.scaled" in fm.index and np.isfinite(float(fm["chisq.scaled"]))
    out = [_user_test(fm, parts, scaled)]
    if not fit_measures:
        return out
    out += [_baseline(fm, scaled), _incremental(fm, scaled)]
    if "logl" in fm.index:
        out.append(_loglik(fm, scaled))
    out += [_rmsea(fm, scaled), _srmr(fm, scaled)]
    return out


_SE_NAMES = {
    "standard": "Standard",
    "robust.huber.white": "Sandwich",
    "robust.sem": "Robust.sem",
    "bootstrap": "Bootstrap",
    "none": "None",
}


def se_block(parts: SummaryParts) -> Block:
    """The ``Parameter Estimates:`` lines (type of standard errors and information)."""
    o = parts.options
    se = o.get("se", "standard")
    info = str(o.get("information", "expected"))
    rows = [_v("Standard errors", _SE_NAMES.get(se, str(se)))]
    if se == "bootstrap":
        rows.append(_v("Number of requested bootstrap draws", int(o.get("bootstrap", 1000))))
        if parts.boot_successful is not None:
            rows.append(_v("Number of successful bootstrap draws", int(parts.boot_successful)))
    if se != "none":
        label = "Information bread" if se == "robust.huber.white" else "Information"
        rows.append(_v(label, info[:1].upper() + info[1:]))  # lavaan: "First.order"
        if info == "observed":
            rows.append(_v("Observed information based on", "Hessian"))
        else:
            structured = parts.h1_structured and not parts.categorical
            h1 = "Structured" if structured else "Unstructured"
            rows.append(_v("Information saturated (h1) model", h1))
    return Block("Parameter Estimates", (), rows)
