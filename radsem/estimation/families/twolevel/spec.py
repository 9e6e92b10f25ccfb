"""The parameter table of a two-level model: one block per level, as lavaan's.

Each level is an ordinary lavaan model with its own defaults (``build_partable`` with a mean
structure); the two tables are stacked (``block`` and ``level`` 1 and 2), free parameters
numbered across both, and, as lavaan does:

* the level-1 intercepts of variables that also appear at level 2 are fixed to 0 (only the
  sum of the within and between means is identified; it sits at level 2);
* a label written at both levels makes the parameters equal (``.pN. == .pM.`` rows);
* constraints and ``:=`` definitions may use labels of both levels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from radsem.errors import ModelSpecificationError
from radsem.syntax import ModelSpec, build_partable, variable_names
from radsem.syntax.levels import parse_levels
from radsem.syntax.partable import PARTABLE_COLUMNS

__all__ = ["TwoLevelSpec", "build_twolevel_spec"]

_CON = ("==", "<", ">", ":=")


@dataclass(frozen=True)
class TwoLevelSpec:
    """A two-level model.

    Attributes
    ----------
    spec : ModelSpec
        The stacked table; its ``group`` column holds the block (1 = within, 2 = between)
        so that the core's matrices see two blocks; ``observed`` is ``within +
        between_only``.
    level : ndarray of int
        Level of every parameter row of ``spec.parameters()``.
    within : tuple of str
        Level-1 variables (within-only and both levels).
    between : tuple of str
        Level-2 variables (both levels and between-only).
    between_only, within_only : tuple of str
    exogenous : tuple of tuple of str
        Fixed exogenous covariates of each level.
    labels : tuple of str
        The level labels as written.
    """

    spec: ModelSpec
    level: np.ndarray
    within: tuple[str, ...]
    between: tuple[str, ...]
    between_only: tuple[str, ...]
    within_only: tuple[str, ...]
    exogenous: tuple[tuple[str, ...], tuple[str, ...]]
    labels: tuple[str, str]

    @property
    def loglik_x(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The fixed covariates whose own log-likelihood lavaan subtracts from ``logl``:
        those of one level only (a covariate of both levels is split into a within and a
        between part and stays in the likelihood)."""
        return (
            tuple(x for x in self.exogenous[0] if x not in self.between),
            tuple(x for x in self.exogenous[1] if x not in self.within),
        )


def build_twolevel_spec(model: str, columns, model_type: str = "sem", **options) -> TwoLevelSpec:
    """Build the stacked parameter table of a two-level model.

    Parameters
    ----------
    model : str
        lavaan syntax with ``level: 1`` and ``level: 2`` blocks.
    columns : sequence of str
        Column names of the data.
    model_type : str
        ``"sem"``, ``"cfa"`` or ``"lavaan"`` (defaults of each block).
    **options
        Passed to :func:`radsem.syntax.build_partable` for each block (``std_lv``,
        ``orthogonal``, ``fixed_x``, ``auto_*``...); ``meanstructure`` is always True.

    Raises
    ------
    ModelSyntaxError, ModelSpecificationError, DataError
    """
    if not isinstance(model, str):
        raise ModelSpecificationError("a two-level model must be given as lavaan syntax text")
    if model_type == "growth":
        raise ModelSpecificationError("growth() models are not supported with cluster=")
    blocks = parse_levels(model)
    options = {k: v for k, v in options.items() if k != "meanstructure"}
    specs = [
        build_partable(
            list(stmts), list(columns), model_type=model_type, meanstructure=True, **options
        )
        for stmts in (blocks.within, blocks.between)
    ]
    for spec in specs:
        if spec.ordered:
            raise ModelSpecificationError(
                "ordered (categorical) variables are not supported in two-level models"
            )
    ov1, ov2 = specs[0].observed, specs[1].observed
    between_only = tuple(v for v in ov2 if v not in ov1)
    within_only = tuple(v for v in ov1 if v not in ov2)
    # a covariate exogenous at one level and endogenous at the other stays a fixed covariate
    # at the level where it is exogenous (lavaan 0.6-14's table, despite its warning)
    exo = [tuple(spec.exogenous) if spec.fixed_x else () for spec in specs]
    table = _stack(specs, ov2, blocks.constraints)
    names = variable_names(table[~table["op"].isin(_CON)].to_dict("records"))
    latent = tuple(dict.fromkeys(specs[0].latent + specs[1].latent))
    observed = tuple(ov1) + between_only
    clash = sorted(set(latent) & set(observed))
    if clash:
        raise ModelSpecificationError(
            f"{', '.join(clash)} is a latent variable at one level and observed at the other"
        )
    spec = ModelSpec(
        partable=table.drop(columns="level"),
        statements=blocks.within + blocks.between + blocks.constraints,
        names=names,
        observed=observed,
        latent=latent,
        exogenous=tuple(dict.fromkeys(exo[0] + exo[1])),
        ordered=(),
        ngroups=2,
        group_labels=(1, 2),
        options=specs[0].options,
    )
    level = table.loc[~table["op"].isin(_CON), "level"].to_numpy(int)
    return TwoLevelSpec(
        spec, level, tuple(ov1), tuple(ov2), between_only, within_only, tuple(exo), blocks.labels
    )


def _stack(specs, ov2, constraints) -> pd.DataFrame:
    """Stack the parameter rows of both levels; renumber ids, plabels and free parameters;
    rewrite the within-level equality rows; add cross-level label equalities and the
    user's constraints."""
    rows: list[dict] = []
    eq_rows: list[dict] = []
    for lev, spec in enumerate(specs, start=1):
        pt = spec.partable
        par = pt[~pt["op"].isin(_CON)]
        offset = len(rows)
        remap = {f".p{i}.": f".p{i + offset}." for i in par["id"].astype(int)}
        for r in par.to_dict("records"):
            r["id"] = int(r["id"]) + offset
            r["plabel"] = remap[r["plabel"]]
            r["block"] = r["group"] = lev
            r["level"] = lev
            if lev == 1 and r["op"] == "~1" and r["lhs"] in ov2:
                r["free"], r["ustart"] = 0, 0.0
            rows.append(r)
        pattern = re.compile(r"\.p\d+\.")
        for r in pt[pt["op"].isin(_CON) & (pt["user"] == 2)].to_dict("records"):
            r["lhs"] = pattern.sub(lambda m, rm=remap: rm[m.group(0)], r["lhs"])
            r["rhs"] = pattern.sub(lambda m, rm=remap: rm[m.group(0)], r["rhs"])
            eq_rows.append(r)
    first: dict[str, dict] = {}
    for r in rows:
        lab = r["label"]
        if not lab or r["free"] == 0:
            continue
        if lab in first and first[lab]["level"] != r["level"]:
            eq_rows.append({"lhs": first[lab]["plabel"], "op": "==", "rhs": r["plabel"], "user": 2})
        first.setdefault(lab, r)
    for s in constraints:
        eq_rows.append({"lhs": s.left.text, "op": s.op, "rhs": s.right.text, "user": 1})
    for r in eq_rows:
        r.update(
            block=0,
            group=0,
            level=0,
            free=0,
            ustart=np.nan,
            exo=0,
            plabel="",
            label=r["lhs"] if r["op"] == ":=" else "",
            lower=-np.inf,
            upper=np.inf,
        )
        r["id"] = len(rows) + 1
        rows.append(r)
    k = 0
    for r in rows:
        if r["free"] > 0:
            k += 1
            r["free"] = k
    cols = list(PARTABLE_COLUMNS) + ["level"]
    out = pd.DataFrame({c: [r[c] for r in rows] for c in cols})
    for c in ("id", "user", "block", "group", "free", "exo", "level"):
        out[c] = out[c].astype(np.int64)
    for c in ("ustart", "lower", "upper"):
        out[c] = out[c].astype(np.float64)
    return out
