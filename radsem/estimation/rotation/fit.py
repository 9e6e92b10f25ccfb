"""The result of an EFA / ESEM fit: the unrotated fit with its efa blocks rotated."""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property

import numpy as np
import pandas as pd

from radsem.errors import EstimationError
from radsem.estimation.core.inference import vcov_theta
from radsem.estimation.core.problem import SemProblem
from radsem.estimation.families.continuous.fit import SemFit
from radsem.estimation.rotation.model import RotationOptions, rotate_values
from radsem.estimation.rotation.se import (
    bordered_problem,
    bordered_robust_vcov,
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
        base = fit.problem
        problem = SemProblem(spec, base.stats, base.estimator)
        values, results = rotate_values(problem.model, base.model.values(fit.theta), blocks, opts)
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
        return self.unrotated.npar

    @cached_property
    def _robust(self):
        return self.unrotated._robust

    @cached_property
    def _sb(self):
        return self.unrotated.scaled_tests

    # -- standard errors of the rotated parameters -------------------------------------------
    @cached_property
    def _vcov(self) -> np.ndarray:
        n = self._problem.nfree
        if self.options.get("se") == "none" or self.rotation.method == "promax":
            return np.full((n, n), np.nan)
        if self.options.get("se") == "bootstrap":
            raise EstimationError("se='bootstrap' is not available for rotated (efa) models")
        if self.options.get("rotation_se", "bordered") == "bordered":
            return self._bordered_vcov()
        J = self._jacobian
        return J @ self.unrotated.vcov().to_numpy() @ J.T

    def _bordered_vcov(self) -> np.ndarray:
        """lavaan's ``rotation.se = "bordered"`` for the fit's ``se`` and ``information``."""
        o = self.options
        se, information = o.get("se"), o.get("information", "expected")
        args = (self._problem, self._theta, self.efa_blocks, self.rotation)
        if se == "robust.huber.white":
            return bordered_robust_vcov(self._problem, self._theta, information, *args[2:])
        view = bordered_problem(*args)
        ls = getattr(self._problem.estimator, "name", "") in ("WLS", "DWLS")
        if se == "robust.sem" or information == "first.order" or ls:
            from radsem.estimation.robust.inference_sb import sb_inference

            return sb_inference(
                view,
                self._theta,
                self._chisq,
                self._df,
                ("standard",),
                se,
                information,
                self._baseline,
                self._ndat,
            ).vcov
        if se != "standard":
            raise EstimationError(f"se={se!r} is not available for rotated (efa) models")
        vcov = vcov_theta(view, self._theta, information)
        if getattr(self._problem, "likelihood", "normal") == "wishart":
            pb = self._problem
            vcov = vcov * pb.ntotal / (pb.ntotal - len(pb.stats))
        return vcov

    @cached_property
    def _jacobian(self) -> np.ndarray:
        init = {name: res.rot for name, res in self._rotations.items()}
        return rotation_jacobian(
            self.unrotated.problem.model,
            self._problem.model,
            self.unrotated.theta,
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

    def cross_check(self, engine: str = "lavaan"):
        """Not available: the engines would refit the identified (unrotated) model; compare
        with lavaan's ``efa()`` / ``sem(rotation=...)`` instead (as the tests do)."""
        raise EstimationError(
            "cross_check is not available for efa (rotated) models; see docs/sem-efa.md"
        )

    def bootstrap(self, *args, **kwargs):
        """Not available for rotated models."""
        raise EstimationError("bootstrap is not available for efa (rotated) models")

    def _summary_parts(self):
        return replace(super()._summary_parts(), npar=int(self._npar))

    def summary(
        self, fit_measures: bool = False, standardized: bool = False, rsquare: bool = False
    ):
        """lavaan's ``summary()`` (see :meth:`SemFit.summary`) with the rotation block
        (``blocks["Rotation"]``) in front."""
        from radsem.estimation.measures.summary import FitSummary

        a = self.rotation.args
        rows = [
            ("Rotation method", self.rotation.method.upper()),
            ("Orthogonal", str(self.rotation.orthogonal).upper()),
        ]
        if self.rotation.method == "geomin":
            rows.append(("Geomin epsilon", f"{a['geomin_epsilon']:g}"))
        if self.rotation.method == "oblimin":
            rows.append(("Oblimin gamma", f"{a['oblimin_gamma']:g}"))
        if self.rotation.method == "promax":
            rows.append(("Promax kappa", f"{a['promax_kappa']:g}"))
        rows += [
            ("Rotation algorithm (rstarts)", f"GPA ({a['rstarts']})"),
            ("Standardized metric", str(bool(a["std_ov"])).upper()),
            ("Row weights", str(a["row_weights"]).capitalize()),
        ]
        base = super().summary(fit_measures, standardized, rsquare)
        text = "\n".join(f"  {k:<40}{v:>12}" for k, v in rows) + "\n\n" + str(base)
        blocks = {"Rotation": pd.DataFrame(rows, columns=["item", "value"]), **base.blocks}
        return FitSummary(text, blocks)
