"""The result of a two-level fit: estimates, fit measures, intraclass correlations."""

from __future__ import annotations

import warnings
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from radsem._warnings import user_stacklevel
from radsem.errors import EstimationError, ImproperSolutionWarning
from radsem.estimation.core.inference import check_level, defined_vcov
from radsem.estimation.core.standardize import standardize

__all__ = ["TwoLevelFit"]

_LEVEL_NAMES = {1: "within", 2: "between"}


class TwoLevelFit:
    """A fitted two-level SEM (returned by ``radsem.sem(model, data, cluster=...)``).

    Attributes
    ----------
    model : str
    options : dict
    spec : TwoLevelSpec
        The stacked parameter table of both levels.
    converged : bool
    iterations : int

    Notes
    -----
    Implements :class:`radsem.FitResult`.
    """

    def __init__(self, model, data, options, tl, problem, result, vcov, h1) -> None:
        self.model = model
        self.options = dict(options)
        self.spec = tl
        self._data = data
        self._problem = problem
        self._result = result
        self._vcov_matrix = vcov
        self._h1 = h1
        self.converged = bool(result.converged)
        self.iterations = int(result.iterations)
        self._check_improper()

    def __repr__(self) -> str:
        fm = self.fit_measures()
        return (
            f"<TwoLevelFit ML: N={self.nobs}, clusters={self.nclusters}, "
            f"npar={int(fm['npar'])}, chisq={fm['chisq']:.3f}, df={int(fm['df'])}>"
        )

    # -- the FitResult contract -----------------------------------------------------------
    @property
    def problem(self):
        """The two-level estimation problem (cluster data, model, likelihood)."""
        return self._problem

    @property
    def theta(self) -> np.ndarray:
        """Estimates of the free parameters (``vcov()``'s order)."""
        return self._result.theta

    # -- sizes ----------------------------------------------------------------------------
    @property
    def nobs(self) -> int:
        """Number of level-1 rows used."""
        return self._problem.cd.nobs

    @property
    def nclusters(self) -> int:
        """Number of clusters."""
        return self._problem.cd.nclusters

    def cluster_size(self) -> pd.Series:
        """Rows per cluster, indexed by the cluster labels."""
        cd = self._problem.cd
        return pd.Series(cd.cluster_size, index=pd.Index(cd.cluster_labels, name="cluster"))

    # -- estimates ------------------------------------------------------------------------
    @cached_property
    def _table(self) -> pd.DataFrame:
        model = self._problem.model
        par = model.par
        theta = self._result.theta
        values = model.values(theta)
        se = np.zeros(len(par))
        se[model.free_rows] = np.sqrt(np.clip(np.diag(self._vcov_matrix), 0, None))
        out = pd.DataFrame(
            {
                "lhs": par["lhs"].to_numpy(),
                "op": par["op"].to_numpy(),
                "rhs": par["rhs"].to_numpy(),
                "level": self.spec.level,
                "group": 1,
                "label": par["label"].to_numpy(),
                "est": values,
                "se": se,
            }
        )
        exo = tuple(dict.fromkeys(self.spec.exogenous[0] + self.spec.exogenous[1]))
        std = {
            col: standardize(model, theta, col.replace("_", "."), exo)
            for col in ("std_lv", "std_all", "std_nox")
        }
        for col, vals in std.items():
            out[col] = vals
        names, dest, dcov = defined_vcov(self.spec.spec, model, theta, self._vcov_matrix)
        if names:
            extra = pd.DataFrame(
                {
                    "lhs": names,
                    "op": ":=",
                    "rhs": [e.text for _, e in self.spec.spec.defined()],
                    "level": 0,
                    "group": 0,
                    "label": names,
                    "est": dest,
                    "se": np.sqrt(np.clip(np.diag(dcov), 0, None)),
                    **self._defined_std(names, std),
                }
            )
            out = pd.concat([out, extra], ignore_index=True)
        return out

    def _defined_std(self, names, std: dict[str, np.ndarray]) -> dict[str, list]:
        """The standardized columns of the ``:=`` rows, from the standardized parameters."""
        spec = self.spec.spec
        out = {}
        for col, vals in std.items():
            defined = spec.evaluate_defined(spec.label_values(vals))
            out[col] = [defined[n] for n in names]
        return out

    def parameter_estimates(self, level: float | None = None) -> pd.DataFrame:
        """lavaan's ``parameterEstimates()`` with a ``level`` column (1 within, 2 between;
        0 for ``:=`` rows): ``lhs, op, rhs, level, group, label, est, se, z, pvalue,
        ci_lower, ci_upper, std_lv, std_all, std_nox`` (standardized with each level's
        model-implied variances, as lavaan). Fixed parameters have ``se = 0`` and no
        ``z``/``pvalue``."""
        conf = check_level(self.options.get("level", 0.95) if level is None else level)
        t = self._table.copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(t["se"] > 0, t["est"] / t["se"], np.nan)
        zc = stats.norm.ppf(0.5 + conf / 2)
        t["z"] = z
        t["pvalue"] = 2 * stats.norm.sf(np.abs(z))
        t["ci_lower"] = t["est"] - zc * t["se"]
        t["ci_upper"] = t["est"] + zc * t["se"]
        std = ["std_lv", "std_all", "std_nox"]
        return t[[c for c in t.columns if c not in std] + std]

    def standardized_solution(self, type: str = "std.all") -> pd.DataFrame:  # noqa: A002
        """Standardised estimates (``"std.all"``, ``"std.lv"`` or ``"std.nox"``) per level."""
        cols = {"std.all": "std_all", "std.lv": "std_lv", "std.nox": "std_nox"}
        if type not in cols:
            raise EstimationError(f"type must be one of {', '.join(cols)}, got {type!r}")
        t = self._table
        return t[["lhs", "op", "rhs", "level", "group", "label"]].assign(
            est_std=t[cols[type]].to_numpy()
        )

    def vcov(self, theta=None) -> pd.DataFrame:
        """Covariance matrix of the free parameters (lavaan's ``vcov()`` labels, with the
        level): the inverse observed information (the cluster-robust sandwich with
        ``se="robust.huber.white"``, MLR's default), at the estimates or at ``theta`` (free
        values in this order, e.g. lavaan's ``coef()`` of the same model)."""
        matrix = self._vcov_matrix
        if theta is not None:
            from radsem.estimation.core.inference import vcov_theta
            from radsem.estimation.families.twolevel.robust import robust_vcov

            theta = np.asarray(theta, float)
            if theta.shape != (self._problem.nfree,):
                raise EstimationError(f"theta must have {self._problem.nfree} values")
            if self.options.get("se") == "robust.huber.white":
                matrix = robust_vcov(self._problem, theta)
            else:
                matrix = vcov_theta(self._problem, theta, "observed")
        par = self._problem.model.par
        rows = self._problem.model.free_rows
        names = [
            f"{par.at[r, 'lhs']}{par.at[r, 'op']}{par.at[r, 'rhs']}"
            f"{'' if self.spec.level[r] == 1 else '.l2'}"
            for r in rows
        ]
        return pd.DataFrame(matrix, index=names, columns=names)

    # -- moments --------------------------------------------------------------------------
    def _level_frames(self, mu, sigma, names) -> dict:
        idx = [self._problem.cd.variables.index(v) for v in names]
        return {
            "cov": pd.DataFrame(sigma[np.ix_(idx, idx)], index=list(names), columns=list(names)),
            "mean": pd.Series(mu[idx], index=list(names)),
        }

    def implied(self, theta=None) -> dict[str, dict]:
        """Model-implied moments per level: ``{"within": {"cov", "mean"}, "between": ...}``
        (lavaan's ``fitted()``: level-1 means of the variables of both levels are 0).

        ``theta``: free-parameter values to evaluate at instead of the estimates (in the
        order of :meth:`vcov`, e.g. lavaan's ``coef()`` of the same model)."""
        theta = self._result.theta if theta is None else np.asarray(theta, float)
        if theta.shape != (self._problem.nfree,):
            raise EstimationError(f"theta must have {self._problem.nfree} values")
        m = self._problem.moments(theta)
        return {
            "within": self._level_frames(m.mu_w, m.sigma_w, self.spec.within),
            "between": self._level_frames(m.mu_b, m.sigma_b, self.spec.between),
        }

    def sampstat(self) -> dict[str, dict]:
        """The saturated (h1) two-level estimates per level, lavaan's
        ``lavInspect(fit, "sampstat")`` (its EM estimates; for variables of both levels only
        the sum of the within and between means is identified)."""
        m = self._h1.moments
        return {
            "within": self._level_frames(m.mu_w, m.sigma_w, self.spec.within),
            "between": self._level_frames(m.mu_b, m.sigma_b, self.spec.between),
        }

    def icc(self) -> pd.Series:
        """Intraclass correlations of the level-1 variables from the h1 estimates:
        ``sigma_B / (sigma_W + sigma_B)`` (0 for within-only variables), as
        ``lavInspect(fit, "icc")``."""
        m = self._h1.moments
        names = self.spec.within
        w = np.diag(m.sigma_w)[: len(names)]
        b = np.diag(m.sigma_b)[: len(names)]
        out = np.where([v in self.spec.between for v in names], b / (w + b), 0.0)
        return pd.Series(out, index=list(names), name="icc")

    # -- fit measures ---------------------------------------------------------------------
    @cached_property
    def _fit_measures(self) -> pd.Series:
        from radsem.estimation.families.twolevel.h1 import fit_baseline
        from radsem.estimation.families.twolevel.measures import (
            srmr_levels,
            twolevel_fit_measures,
        )

        problem = self._problem
        tl = self.spec
        cons = problem.constraints
        npar = problem.nfree - (int(cons.rank_eq) if cons.n_eq else 0)
        par = problem.model.par
        fixed_exo = (
            (par["exo"].to_numpy(int) == 1)
            & (par["free"].to_numpy(int) == 0)
            & ~np.isfinite(par["ustart"].to_numpy(float))
        )
        ndat = self._h1.npar - int(fixed_exo.sum())
        base_logl, base_npar, base_problem, base_theta = fit_baseline(
            problem.cd, tl.within, tl.between, tl.exogenous, self._h1, tl.loglik_x
        )
        imp, h1 = self.implied(), self.sampstat()
        srmr = srmr_levels(
            h1["within"]["cov"].to_numpy(),
            imp["within"]["cov"].to_numpy(),
            h1["between"]["cov"].to_numpy(),
            imp["between"]["cov"].to_numpy(),
        )
        out = twolevel_fit_measures(
            problem.loglik(self._result.theta),
            npar,
            self._h1.loglik,
            ndat,
            base_logl,
            base_npar,
            problem.cd.nobs,
            srmr,
            problem.lavaan_fmin(self._result.theta),
        )
        if self.options["estimator"] == "MLR":
            from radsem.estimation.families.twolevel.robust import robust_measures

            out.update(
                robust_measures(
                    problem, self._result.theta, base_problem, base_theta, tl, self._h1, out
                )
            )
        return pd.Series(out, dtype=float)

    def fit_measures(self) -> pd.Series:
        """lavaan's ``fitMeasures()`` for a two-level fit (see
        :mod:`radsem.estimation.families.twolevel.measures`)."""
        return self._fit_measures.copy()

    # -- lavInspect -----------------------------------------------------------------------
    def inspect(self, what: str):
        """A few of lavaan's ``lavInspect()`` items: ``"icc"``, ``"sampstat"`` / ``"h1"``,
        ``"implied"``, ``"vcov"``, ``"converged"``, ``"iterations"``, ``"npar"``,
        ``"nobs"``, ``"nclusters"``, ``"cluster.size"``, ``"fit"``."""
        items = {
            "icc": self.icc,
            "sampstat": self.sampstat,
            "h1": self.sampstat,
            "implied": self.implied,
            "vcov": self.vcov,
            "converged": lambda: self.converged,
            "iterations": lambda: self.iterations,
            "npar": lambda: int(self.fit_measures()["npar"]),
            "nobs": lambda: self.nobs,
            "nclusters": lambda: self.nclusters,
            "cluster.size": self.cluster_size,
            "fit": self.fit_measures,
        }
        if what not in items:
            raise EstimationError(
                f"inspect({what!r}) is not available for two-level fits; "
                f"choose one of {', '.join(items)}"
            )
        return items[what]()

    def summary(self) -> str:
        """A lavaan-style text report: sizes, the test, fit indices, estimates per level."""
        fm = self.fit_measures()
        lines = [
            f"radsem two-level SEM ({'converged' if self.converged else 'NOT converged'} "
            f"after {self.iterations} iterations)",
            "",
            f"  Estimator                                  {self.options['estimator']:>3}",
            f"  Number of model parameters          {int(fm['npar']):>10d}",
            f"  Number of observations              {self.nobs:>10d}",
            f"  Number of clusters [{self.options['cluster']}]".ljust(38)
            + f"{self.nclusters:>10d}",
            "",
            "Model Test User Model:",
            f"  Test statistic                      {fm['chisq']:>10.3f}",
            f"  Degrees of freedom                  {int(fm['df']):>10d}",
            f"  P-value (Chi-square)                {fm['pvalue']:>10.3f}",
        ]
        if "chisq.scaled" in fm.index:
            lines += [
                f"  Scaled test statistic (Yuan-Bentler) {fm['chisq.scaled']:>9.3f}",
                f"  Scaling correction factor           {fm['chisq.scaling.factor']:>10.3f}",
                f"  P-value (scaled)                    {fm['pvalue.scaled']:>10.3f}",
            ]
        lines += [
            "",
            f"  CFI {fm['cfi']:.3f}  TLI {fm['tli']:.3f}  RMSEA {fm['rmsea']:.3f}  "
            f"SRMR within {fm['srmr_within']:.3f}  between {fm['srmr_between']:.3f}",
            f"  Loglikelihood {fm['logl']:.3f}  AIC {fm['aic']:.3f}  BIC {fm['bic']:.3f}",
        ]
        pe = self.parameter_estimates()
        for lev in (1, 2):
            lines += ["", f"Level {lev} [{_LEVEL_NAMES[lev]}]:"]
            sub = pe[pe["level"] == lev]
            for r in sub.itertuples():
                name = f"{r.lhs} {r.op} {r.rhs}".strip()
                se = f"{r.se:10.3f}" if r.se > 0 else " " * 10
                lines.append(f"  {name:<24}{r.est:10.3f}{se}")
        defined = pe[pe["op"] == ":="]
        if len(defined):
            lines += ["", "Defined parameters:"]
            for r in defined.itertuples():
                lines.append(f"  {r.lhs:<24}{r.est:10.3f}{r.se:10.3f}")
        return "\n".join(lines)

    def _check_improper(self) -> None:
        t = self._table
        var = t[(t["op"] == "~~") & (t["lhs"] == t["rhs"]) & (t["est"] < 0)]
        if len(var):
            names = ", ".join(f"{r.lhs} (level {r.level})" for r in var.itertuples())
            warnings.warn(
                f"some estimated variances are negative: {names}",
                ImproperSolutionWarning,
                stacklevel=user_stacklevel(),
            )
