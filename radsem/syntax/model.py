"""The specification of a model: lavaan's parameter table plus what the engine needs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from radsem.errors import ModelSpecificationError
from radsem.syntax.expression import Expression, compile_expression
from radsem.syntax.names import VariableNames, variable_names
from radsem.syntax.options import SpecOptions
from radsem.syntax.parse import Statement

__all__ = ["ModelSpec"]


@dataclass(frozen=True)
class ModelSpec:
    """A fully specified model.

    Attributes
    ----------
    partable : pandas.DataFrame
        lavaan's parameter table, row for row: ``id, lhs, op, rhs, user, block, group, free,
        ustart, exo, label, plabel, lower, upper``. ``free`` is 0 for fixed parameters, else
        the parameter's number 1..n; fixed values (and user start values) are in ``ustart``;
        ``user`` is 1 for rows written by the user, 0 for rows added by defaults, 2 for the
        ``.pN. == .pM.`` rows created by shared labels and ``group_equal``. Constraint and
        definition rows have ``block = group = 0``.
    statements : tuple of Statement
        The parsed syntax.
    names : VariableNames
        Variables by role (lavaan's ``lavNames``).
    observed : tuple of str
        Observed variables in lavaan's order (the same in every group).
    latent : tuple of str
        Latent variables in lavaan's order.
    exogenous : tuple of str
        Observed covariates treated as fixed (lavaan's ``ov.x`` with ``fixed.x = TRUE``);
        empty when ``fixed_x`` is False.
    ordered : tuple of str
        Ordered-categorical observed variables (those with thresholds).
    ngroups : int
    group_labels : tuple
    options : SpecOptions
        The resolved options (meanstructure, fixed_x, std_lv, ...).
    """

    partable: pd.DataFrame
    statements: tuple[Statement, ...]
    names: VariableNames
    observed: tuple[str, ...]
    latent: tuple[str, ...]
    exogenous: tuple[str, ...]
    ordered: tuple[str, ...]
    ngroups: int
    group_labels: tuple
    options: SpecOptions

    # convenient views of the options ----------------------------------------------------
    @property
    def meanstructure(self) -> bool:
        """Whether the model has a mean structure (intercept rows)."""
        return self.options.meanstructure

    @property
    def std_lv(self) -> bool:
        """Whether latent variances are fixed to 1."""
        return self.options.std_lv

    @property
    def fixed_x(self) -> bool:
        """Whether exogenous covariates are treated as fixed."""
        return self.options.fixed_x

    @property
    def conditional_x(self) -> bool:
        """lavaan's conditional.x."""
        return self.options.conditional_x

    @property
    def model_type(self) -> str:
        """ "sem", "cfa", "growth" or "lavaan"."""
        return self.options.model_type

    @property
    def parameterization(self) -> str:
        """ "delta" or "theta" (ordered variables)."""
        return self.options.parameterization

    @property
    def npar(self) -> int:
        """Number of free parameters (before equality constraints)."""
        return int(self.partable["free"].max()) if len(self.partable) else 0

    # tables ----------------------------------------------------------------------------
    def parameters(self) -> pd.DataFrame:
        """Rows that are model parameters (no ``==``, ``<``, ``>``, ``:=`` rows)."""
        pt = self.partable
        return pt[~pt["op"].isin(["==", "<", ">", ":="])].copy()

    def free_table(self) -> pd.DataFrame:
        """Free parameters in the order of their number (``free`` = 1..npar)."""
        pt = self.partable
        return pt[pt["free"] > 0].sort_values("free").copy()

    def constraints(self) -> pd.DataFrame:
        """The ``==``, ``<`` and ``>`` rows, with compiled expressions in ``lhs_expr`` and
        ``rhs_expr`` (each evaluated with :meth:`label_values` plus :meth:`evaluate_defined`).
        """
        pt = self.partable
        con = pt[pt["op"].isin(["==", "<", ">"])].copy()
        known = self._expression_names(definitions=True)
        con["lhs_expr"] = [compile_expression(t, known) for t in con["lhs"]]
        con["rhs_expr"] = [compile_expression(t, known) for t in con["rhs"]]
        return con

    def defined(self) -> list[tuple[str, Expression]]:
        """The ``:=`` definitions in order, as (name, compiled expression)."""
        pt = self.partable
        out: list[tuple[str, Expression]] = []
        known = set(self._expression_names(definitions=False))
        for name, text in zip(
            pt.loc[pt["op"] == ":=", "lhs"], pt.loc[pt["op"] == ":=", "rhs"], strict=True
        ):
            out.append((name, compile_expression(text, known)))
            known.add(name)
        return out

    def _expression_names(self, definitions: bool) -> set[str]:
        pars = self.parameters()
        names = set(pars["label"][pars["label"] != ""]) | set(pars["plabel"])
        if definitions:
            names |= set(self.partable.loc[self.partable["op"] == ":=", "lhs"])
        return names

    @cached_property
    def _label_rows(self) -> dict[str, int]:
        pars = self.parameters()
        out: dict[str, int] = {}
        for pos, (lab, plab) in enumerate(zip(pars["label"], pars["plabel"], strict=True)):
            if lab and lab not in out:
                out[lab] = pos
            out[plab] = pos
        return out

    def label_values(self, values) -> dict[str, float]:
        """Map every label and plabel to its value, given the values of :meth:`parameters`
        rows (same order; e.g. the estimates of all parameters, fixed ones included)."""
        vals = list(values)
        if len(vals) != len(self.parameters()):
            raise ModelSpecificationError(
                f"expected {len(self.parameters())} values (one per parameter row), got {len(vals)}"
            )
        return {name: float(vals[pos]) for name, pos in self._label_rows.items()}

    def evaluate_defined(self, labels: Mapping[str, float]) -> dict[str, float]:
        """Values of the ``:=`` parameters given label values (definitions in order)."""
        env = dict(labels)
        out = {}
        for name, expr in self.defined():
            env[name] = out[name] = expr.evaluate(env)
        return out

    def variables(self, group: int = 1) -> VariableNames:
        """Variable roles computed from the final table of one group."""
        pt = self.parameters()
        return variable_names(pt[pt["group"] == group].to_dict("records"))

    def __repr__(self) -> str:
        return (
            f"ModelSpec(model_type={self.model_type!r}, observed={len(self.observed)}, "
            f"latent={len(self.latent)}, ngroups={self.ngroups}, npar={self.npar})"
        )
