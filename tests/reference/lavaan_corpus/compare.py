"""Fit one corpus case with radsem and, live through rpy2, with lavaan; compare the numbers.

Estimates agree to 1e-4 absolute, standard errors to 1e-4 relative and every fit measure both
programs report to 1e-4 relative (:data:`TOL`).
"""

from __future__ import annotations

import functools
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lavaan_corpus.cases import Case, load_data

__all__ = ["Outcome", "TOL", "run_case", "lavaan_fit", "compare_fits"]

TOL = {"est": 1e-4, "se": 1e-4, "fm": 1e-4}


@dataclass
class Outcome:
    """What happened to one case."""

    name: str
    status: str  # "matched", "refused", "mismatch"
    message: str = ""
    est: float = 0.0  # largest absolute estimate difference
    se: float = 0.0  # largest relative SE difference
    fm: float = 0.0  # largest relative fit-measure difference
    n_fm: int = 0  # fit measures compared
    seconds: float = 0.0


def _r_value(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, int | float):
        return repr(value)
    return "c(" + ", ".join(_r_value(v) for v in value) + ")"


@functools.lru_cache(maxsize=None)
def cached_data(name: str) -> pd.DataFrame:
    """The data of a case, loaded once per process."""
    return load_data(name)


def lavaan_fit(case: Case) -> tuple[pd.DataFrame, pd.Series]:
    """lavaan's ``parameterEstimates`` and ``fitMeasures`` for ``case``."""
    import rpy2.robjects as ro

    from radsem import _r

    data = cached_data(case.data)
    ro.globalenv["d"] = _r.to_r_dataframe(data.reset_index(drop=True))
    ro.globalenv["m"] = ro.StrVector([case.model])
    args = "".join(f", {k.replace('_', '.')} = {_r_value(v)}" for k, v in case.options.items())
    if case.optimizer == "nlminb":  # it may report a false convergence: force.converged
        args += ", optim.force.converged = TRUE, control = list(rel.tol = 1e-11)"
    elif case.optimizer == "bfgs":
        args += ', optim.method = "BFGS", control = list(reltol = 1e-14, maxit = 10000)'

    model = "m, "
    if case.function == "efa":  # efa(data, nfactors): no model; the lavaan object back
        model, args = "", args + ', output = "lavaan"'
    ro.r(f"f <- suppressWarnings(lavaan::{case.function}({model}data = d{args}))")
    pe = _r.from_r_dataframe(ro.r("lavaan::parameterEstimates(f)"))
    fm = ro.r("lavaan::fitMeasures(f)")
    fm = pd.Series(np.array(fm, dtype=float), index=[str(n) for n in fm.names])
    pe["group"] = pe["group"].astype(int) if "group" in pe else 1
    pe.loc[pe["op"] == ":=", "group"] = 0  # radsem's group of := rows
    return pe, fm


def radsem_fit(case: Case):
    """radsem's fit of ``case`` (warnings silenced: lavaan's are, too)."""
    import radsem

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if case.function == "efa":  # lavaan's efa(data, nfactors = k): no model syntax
            return radsem.efa(cached_data(case.data), **case.options)
        return getattr(radsem, case.function)(case.model, cached_data(case.data), **case.options)


def compare_fits(case: Case, ours, pe: pd.DataFrame, fm: pd.Series) -> Outcome:
    """Differences between radsem's fit ``ours`` and lavaan's tables."""
    mine = ours.parameter_estimates()
    if "group" not in mine:
        mine = mine.assign(group=1)
    keys = ["lhs", "op", "rhs", "group"] + (["level"] if "level" in pe and "level" in mine else [])
    pe = pe[pe["op"] != "=="]
    both = mine.merge(pe, on=keys, suffixes=("", "_l"))
    out = Outcome(case.name, "matched")
    problems = []
    if len(both) != len(pe):
        problems.append(f"{len(pe)} lavaan parameters, {len(both)} matched by radsem")
    out.est = float(
        np.max(np.abs(both["est"].to_numpy(float) - both["est_l"].to_numpy(float)), initial=0.0)
    )
    if out.est > TOL["est"]:
        problems.append(f"estimates differ by up to {out.est:.3g}")
    if not case.estimates_only and "se_l" in both:
        se, sel = both["se"].to_numpy(float), both["se_l"].to_numpy(float)
        live = (sel > 1e-9) & np.isfinite(sel)
        rel = np.abs(se[live] - sel[live]) / sel[live]
        out.se = float(np.max(rel, initial=0.0))
        if np.isnan(out.se) or out.se > TOL["se"]:
            problems.append(f"standard errors differ by up to {out.se:.3g} (relative)")
    if not case.estimates_only:
        ofm = ours.fit_measures()
        worst, bad = 0.0, []
        for key, lav in fm.items():
            if key not in ofm.index or np.isnan(lav):
                continue
            val = float(ofm[key])
            out.n_fm += 1
            rel = abs(val - lav) / max(abs(lav), 1e-8) if np.isfinite(val) else np.inf
            worst = max(worst, rel)
            if rel > TOL["fm"]:
                bad.append(f"{key}: radsem {val:.10g}, lavaan {lav:.10g}")
        out.fm = worst
        problems += bad
    if problems:
        out.status = "mismatch"
        out.message = "; ".join(problems)
    return out


def run_case(case: Case) -> Outcome:
    """Fit ``case`` with both programs; a radsem refusal (a :class:`RadsemError`) gives
    status ``"refused"`` with radsem's message."""
    from radsem.errors import RadsemError

    start = time.perf_counter()
    try:
        ours = radsem_fit(case)
    except RadsemError as exc:
        return Outcome(case.name, "refused", f"{type(exc).__name__}: {exc}")
    pe, fm = lavaan_fit(case)
    out = compare_fits(case, ours, pe, fm)
    out.seconds = time.perf_counter() - start
    return out
