"""The result of an EFA / ESEM fit: the unrotated fit with its efa blocks rotated."""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property

import numpy as np
import pandas as pd

from radsem.errors import EstimationError
from radsem.estimation.core.fit import SemFit
from radsem.estimation.core.problem import SemProblem
from radsem.estimation.rotation.model import RotationOptions, rotate_values
from radsem.estimation.rotation.se import (
    bordered_robust_vcov,
    bordered_vcov,
    rotation_jacobian,
)
from radsem.syntax.efa import EFA_USER

__all__ = ["EfaFit"]


class EfaFit(SemFit):
    """A fit whose efa blocks are rotated (``radsem.efa()``, or ``efa("block")*`` syntax).

    Estimates, standard errors and standardized values are those of the rotated solution
    (lavaan's ``parameterEstimates()``); the test statistic and fit measures are those of the
    unrotated model, which has the same implied moments. ``npar`` counts the parameters of
    the identified (unrotated) model, as lavaan.

    Attributes
    ----------
    efa_blocks : dict
        ``{block: [factors]}``.
    rotation : RotationOptions
        The rotation and its resolved ``rotation_args``.
    unrotated : SemFit
        The fit of the identified model (echelon loadings, uncorrelated unit-variance factors).
    """

    @classmethod
    def from_unrotated(
        cls,
        fit: SemFit,
        blocks: dict[str, list[str]],
        opts: RotationOptions,
        rotation_se: str = "bordered",
        model: str | None = None,
    ) -> EfaFit:
        """Rotate ``fit`` (a model built with :func:`radsem.syntax.efa.efa_spec`);
        ``model``: the syntax as the user wrote it (with the efa modifiers)."""
        pt = fit.spec.partable.copy()
        free = pt["free"].to_numpy().copy()
        if opts.method != "none":  # the echelon zeros (and oblique correlations) are free
            rows = pt["user"].to_numpy() == EFA_USER
            if opts.orthogonal:
                rows &= pt["op"].to_numpy() == "=~"
            free[rows] = 1
        pt["free"] = (np.cumsum(free > 0) * (free > 0)).astype(np.int64)
        spec = replace(fit.spec, partable=pt)
        base = fit._problem
        problem = SemProblem(spec, base.stats, base.estimator)
        values, results = rotate_values(problem.model, base.model.values(fit._theta), blocks, opts)
        theta = problem.model.theta_from_values(values)
        result = replace(fit._result, theta=theta)
        options = {
            **fit.options,
            "rotation": opts.method,
            "rotation_args": dict(opts.args),
            "rotation_se": rotation_se,
        }
        out = cls(model or fit.model, fit.data, options, spec, problem, result)
        d = out.__dict__
        d["efa_blocks"] = {k: list(v) for k, v in blocks.items()}
        d["rotation"] = opts
        d["unrotated"] = fit
        d["_rotations"] = results
        return out

    # -- counts and test: the identified model's ------------------------------------------
    @cached_property
    def _npar(self) -> int:
        return self.unrotated._npar

    @cached_property
    def _robust(self):
        return self.unrotated._robust

    # -- standard errors of the rotated parameters -------------------------------------------
    @cached_property
    def _vcov(self) -> np.ndarray:
        n = self._problem.nfree
        if self.options.get("se") == "none" or self.rotation.method == "promax":
            return np.full((n, n), np.nan)
        if self.options.get("se") == "bootstrap":
            raise EstimationError("se='bootstrap' is not available for rotated (efa) models")
        if self.options.get("rotation_se", "bordered") == "bordered":
            robust = self.options.get("se") == "robust.huber.white"
            return (bordered_robust_vcov if robust else bordered_vcov)(
                self._problem,
                self._theta,
                self.options.get("information", "expected"),
                self.efa_blocks,
                self.rotation,
            )
        J = self._jacobian
        return J @ self.unrotated._vcov @ J.T

    @cached_property
    def _jacobian(self) -> np.ndarray:
        init = {name: res.rot for name, res in self._rotations.items()}
        return rotation_jacobian(
            self.unrotated._problem.model,
            self._problem.model,
            self.unrotated._theta,
            self.efa_blocks,
            self.rotation,
            init,
        )

    @property
    def rotation_criterion(self) -> dict[str, float]:
        """The rotation criterion value at the solution, per efa block."""
        return {name: res.value for name, res in self._rotations.items()}

    def parameter_estimates(self, level=None, boot_ci_type: str = "perc") -> pd.DataFrame:
        """lavaan's ``parameterEstimates()`` of the rotated solution, with an ``efa`` column
        naming the block of each loading (see :meth:`SemFit.parameter_estimates`)."""
        t = super().parameter_estimates(level, boot_ci_type)
        block = {f: name for name, fs in self.efa_blocks.items() for f in fs}
        efa = [
            block.get(lhs, "") if op == "=~" else ""
            for lhs, op in zip(t["lhs"], t["op"], strict=True)
        ]
        t.insert(3, "efa", efa)
        return t

    def loadings(self, block: str | None = None) -> pd.DataFrame:
        """Rotated loadings of an efa block (variables x factors), as lavaan's
        ``summary()`` of an efa fit shows them."""
        name = block if block is not None else next(iter(self.efa_blocks))
        factors = self.efa_blocks[name]
        t = self._table
        rows = t[(t["op"] == "=~") & t["lhs"].isin(factors)]
        out = rows.pivot(index="rhs", columns="lhs", values="est")
        order = list(dict.fromkeys(rows["rhs"]))
        return out.loc[order, factors].rename_axis(index=None, columns=None)

    def modindices(self, sort: bool = False, minimum_value: float = 0.0):
        """Not available for rotated models (lavaan neither)."""
        raise EstimationError("modification indices are not available for efa (rotated) models")

    def bootstrap(self, *args, **kwargs):
        """Not available for rotated models."""
        raise EstimationError("bootstrap is not available for efa (rotated) models")

    def summary(self) -> str:
        """lavaan-style report with the rotation block."""
        a = self.rotation.args
        lines = [
            f"  {'Rotation method':<40}{self.rotation.method.upper():>12}"
            f"{' ORTHOGONAL' if self.rotation.orthogonal else ' OBLIQUE'}",
        ]
        if self.rotation.method == "geomin":
            lines.append(f"  {'Geomin epsilon':<40}{a['geomin_epsilon']:>12g}")
        if self.rotation.method == "oblimin":
            lines.append(f"  {'Oblimin gamma':<40}{a['oblimin_gamma']:>12g}")
        if self.rotation.method == "promax":
            lines.append(f"  {'Promax kappa':<40}{a['promax_kappa']:>12g}")
        lines += [
            f"  {'Rotation algorithm (rstarts)':<40}{'GPA (' + str(a['rstarts']) + ')':>12}",
            f"  {'Standardized metric':<40}{str(bool(a['std_ov'])).upper():>12}",
            f"  {'Row weights':<40}{str(a['row_weights']).capitalize():>12}",
            "",
        ]
        return "\n".join(lines) + "\n" + super().summary()
