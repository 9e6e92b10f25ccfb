"""The result of fitting a structural equation model (immutable, computed lazily)."""

from __future__ import annotations

import warnings
from functools import cached_property
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from radsem._warnings import user_stacklevel
from radsem.errors import EstimationError, ImproperSolutionWarning
from radsem.estimation.core.inference import check_level, defined_vcov, vcov_theta
from radsem.estimation.core.optimize import minimize
from radsem.estimation.core.problem import SemProblem
from radsem.estimation.core.standardize import standardize
from radsem.estimation.measures.baseline import baseline_partable

if TYPE_CHECKING:
    from radsem.engines.crosscheck import CrossCheck
    from radsem.estimation.bootstrap.resample import BootstrapResult
    from radsem.syntax import ModelSpec

__all__ = ["SemFit"]


class SemFit:
    """A fitted model. Create it with :func:`radsem.sem`, :func:`radsem.cfa`, ...

    Attributes
    ----------
    model : str
        The model syntax.
    data : pandas.DataFrame
        The data passed in (not modified).
    options : dict
        The options used (lavaan's names with ``_``).
    spec : ModelSpec
        The parameter table and variable roles.
    converged : bool
    iterations : int
        Optimiser iterations.

    Notes
    -----
    Implements :class:`radsem.FitResult`. For other estimators: ``fit.problem`` is the
    :class:`SemProblem` (implied moments, Jacobian ``delta``, sample statistics, h1
    information) and ``fit.theta`` the estimate of all free parameters in lavaan's numbering.
    """

    #: the model family (:func:`radsem.estimation.api.family_of`)
    family = "continuous"

    def __init__(
        self,
        model: str,
        data: pd.DataFrame,
        options: dict[str, Any],
        spec: ModelSpec,
        problem: SemProblem,
        result: Any,
    ) -> None:
        d = self.__dict__
        d["model"] = model
        d["data"] = data
        d["options"] = dict(options)
        d["spec"] = spec
        d["_problem"] = problem
        d["_result"] = result
        d["_theta"] = result.theta
        d["converged"] = bool(result.converged)
        d["iterations"] = int(result.iterations)

    def __setattr__(self, name, value) -> None:
        raise AttributeError("SemFit objects are immutable")

    def __repr__(self) -> str:
        fm = self.fit_measures()
        return (
            f"<{type(self).__name__} {self.options['estimator']} N={self.nobs} "
            f"npar={int(fm['npar'])} chisq={fm['chisq']:.3f} df={int(fm['df'])} "
            f"converged={self.converged}>"
        )

    # -- the FitResult contract -----------------------------------------------------------
    @property
    def problem(self) -> SemProblem:
        """The estimation problem (implied moments, Jacobian, sample statistics, h1
        information); an :class:`~radsem.estimation.families.ordinal.dwls.OrdinalProblem` for
        ordered data."""
        return self._problem

    @property
    def theta(self) -> np.ndarray:
        """Estimates of all free parameters in lavaan's numbering (``vcov()``'s order)."""
        return self._theta

    @property
    def boot(self) -> BootstrapResult | None:
        """The bootstrap behind ``se="bootstrap"`` (lavaan's ``lavInspect(fit, "boot")``
        draws and their intervals); ``None`` for other standard errors."""
        return self._boot if self.options.get("se") == "bootstrap" else None

    # -- counts ---------------------------------------------------------------------------
    @property
    def nobs(self) -> int:
        """Number of cases used (all groups), as lavaan's ``nobs()``."""
        return int(self._problem.ntotal)

    # -- the statistics the measures wing reports (read-only) -----------------------------
    @property
    def npar(self) -> int:
        """Number of free parameters net of equality constraints (lavaan's ``npar``)."""
        return self._npar

    @property
    def df(self) -> int:
        """Degrees of freedom of the model test."""
        return self._df

    @property
    def fmin(self) -> float:
        """Minimum of lavaan's fit function (``sum_g (n_g / N) F_g``)."""
        return self._fmin

    @property
    def chisq(self) -> float:
        """The standard test statistic (``2 N fmin``)."""
        return self._chisq

    @property
    def baseline(self) -> tuple[float, float]:
        """``(chisq, df)`` of the baseline (independence) model."""
        return self._baseline

    @property
    def scaled_tests(self):
        """The Satorra-Bentler family tests requested with ``test=`` (and the robust standard
        errors of MLM/MLF/WLS), from :mod:`radsem.estimation.robust`."""
        return self._sb

    @property
    def bollen_stine(self):
        """The Bollen-Stine bootstrap test (``test="bollen.stine"``)."""
        return self._bollen_stine

    @cached_property
    def _fmin(self) -> float:
        return float(self._problem.fmin(self._theta))

    @cached_property
    def _chisq(self) -> float:
        """The standard test statistic (``2 N fmin``; ``2 sum_g (n_g - 1) F_g`` with the
        Wishart likelihood)."""
        pb = self._problem
        if getattr(pb, "likelihood", "normal") != "wishart":
            return 2.0 * pb.ntotal * self._fmin
        return float(2.0 * np.dot(pb.test_factors(), self._group_fmin()))

    @cached_property
    def _ndat(self) -> int:
        ms = self._problem.meanstructure
        p = len(self.spec.observed)
        nx = len(self.spec.exogenous) if self.spec.fixed_x else 0
        per = p * (p + 1) // 2 + (p if ms else 0) - nx * (nx + 1) // 2 - (nx if ms else 0)
        return per * len(self._problem.stats)

    @cached_property
    def _npar(self) -> int:
        cons = self._problem.constraints
        nfree = self._problem.nfree
        if cons.n_eq == 0:
            return nfree
        if cons.linear:
            return nfree - int(cons.rank_eq)
        return nfree - cons.n_eq

    @cached_property
    def _df(self) -> int:
        return self._ndat - self._npar

    @cached_property
    def _baseline(self) -> tuple[float, float]:
        pb = self._problem
        exo = self.spec.exogenous if self.spec.fixed_x else self.spec.names.ov_x
        if self.options.get("mimic") == "EQS" and not self.spec.fixed_x:
            exo = ()  # lavaan frees the covariates' covariances only for lavaan / Mplus
        table = baseline_partable(
            self.spec.observed,
            exo,
            len(pb.stats),
            pb.meanstructure,
            fixed_x=bool(self.spec.fixed_x),
        )
        prob = SemProblem(self.spec, pb.stats, pb.estimator, partable=table)
        prob.constraints = _NoConstraints(prob.nfree)
        idx = {v: k for k, v in enumerate(self.spec.observed)}
        start = np.array(
            [
                pb.stats[g - 1].cov[idx[v], idx[w]] if op == "~~" else pb.stats[g - 1].mean[idx[v]]
                for v, op, w, g in zip(
                    table["lhs"], table["op"], table["rhs"], table["group"], strict=True
                )
            ]
        )
        res = minimize(prob, start[table["free"].to_numpy() > 0])
        chisq = 2.0 * pb.ntotal * res.fmin
        if getattr(pb, "likelihood", "normal") == "wishart":
            values = [
                prob.estimator.value(st, mu, sig)
                for st, (mu, sig) in zip(prob.stats, prob.implied_moments(res.theta), strict=True)
            ]
            chisq = float(2.0 * np.dot(pb.test_factors(), values))
        return chisq, float(self._ndat - prob.nfree)

    # -- estimates ------------------------------------------------------------------------
    @cached_property
    def _vcov(self) -> np.ndarray:
        if self.options.get("se") == "none":
            return np.full((self._problem.nfree,) * 2, np.nan)
        if self.options.get("se") == "robust.huber.white":
            return self._robust.vcov
        if self.options.get("se") == "bootstrap":
            return self._boot.vcov
        if (
            self.options.get("se") == "robust.sem"
            or self.options.get("information") == "first.order"
            or getattr(self._problem.estimator, "name", "") in ("WLS", "DWLS")
        ):
            return self._sb.vcov
        pb = self._problem
        vcov = vcov_theta(pb, self._theta, self.options.get("information", "expected"))
        if getattr(pb, "likelihood", "normal") == "wishart":  # lavaan: 1 / (N - G) instead of 1 / N
            vcov = vcov * pb.ntotal / (pb.ntotal - len(pb.stats))
        return vcov

    @property
    def _fiml(self) -> bool:
        return self.options.get("missing") == "ml"

    @cached_property
    def _robust(self):
        """lavaan's MLR quantities (sandwich, scaled test, ``.scaled``/``.robust`` indices)."""
        from radsem.errors import EstimationError
        from radsem.estimation.robust.inference import robust_inference

        scaled = self.options["estimator"] == "MLR" or self.options["se"] == "robust.huber.white"
        try:
            return robust_inference(
                self._problem,
                self._theta,
                2 * self._problem.ntotal * self._fmin,
                self._df,
                self.options["information"],
                scaled=scaled,
            )
        except ValueError as exc:
            raise EstimationError(f"robust inference is not available here: {exc}") from exc

    @cached_property
    def _sb(self):
        """Satorra-Bentler family quantities (``robust.sem``, ``first.order``, ``test=``);
        see :mod:`radsem.estimation.robust.inference_sb`."""
        from radsem.estimation.robust.inference_sb import sb_inference

        return sb_inference(
            self._problem,
            self._theta,
            2 * self._problem.ntotal * self._fmin,
            self._df,
            tuple(self.options.get("test") or ("standard",)),
            self.options["se"],
            self.options["information"],
            self._baseline,
            self._ndat,
        )

    @cached_property
    def _bollen_stine(self):
        """The Bollen-Stine bootstrap of ``test="bollen.stine"`` (``bootstrap``, ``seed``)."""
        o = self.options
        return self.bootstrap(
            o.get("bootstrap", 1000), "bollen.stine", o.get("seed"), o.get("n_jobs", 1)
        )

    def tests(self) -> pd.DataFrame:
        """The test statistics (lavaan's ``lavInspect(fit, "test")``): see
        :func:`radsem.estimation.measures.test_table.test_table`."""
        from radsem.estimation.measures.test_table import test_table

        return test_table(self)

    @cached_property
    def _boot(self):
        """The bootstrap behind ``se="bootstrap"`` (options ``bootstrap``, ``seed``, ``n_jobs``)."""
        from radsem._progress import engine_progress_wanted
        from radsem.estimation.bootstrap.resample import bootstrap

        o = self.options
        return bootstrap(
            self,
            o.get("bootstrap", 1000),
            "ordinary",
            o.get("seed"),
            o.get("n_jobs", 1),
            progress=engine_progress_wanted(),  # radsem fit --se bootstrap: a bar
            stacklevel=user_stacklevel(),
        )

    def bootstrap(
        self,
        R: int = 1000,
        type: str = "ordinary",
        seed: int | None = None,  # noqa: A002
        n_jobs: int = 1,
        *,
        client: Any = None,
        progress: bool = False,
    ) -> BootstrapResult:
        """lavaan's ``bootstrapLavaan``: see :func:`radsem.estimation.bootstrap.resample.bootstrap`
        (``client``: a Dask client or scheduler address)."""
        from radsem.estimation.bootstrap.resample import bootstrap

        return bootstrap(
            self,
            R,
            type,
            seed,
            n_jobs,
            client=client,
            progress=progress,
            stacklevel=user_stacklevel(),
        )

    def modindices(self, sort: bool = False, minimum_value: float = 0.0) -> pd.DataFrame:
        """lavaan's ``modindices()``: see
        :func:`radsem.estimation.measures.modindices.modindices`."""
        from radsem.estimation.measures.modindices import modindices

        return modindices(self, sort=sort, minimum_value=minimum_value)

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the free parameters (labelled like lavaan's ``vcov()``)."""
        par = self._problem.model.par
        names = [_name(par.iloc[r]) for r in self._problem.model.free_rows]
        return pd.DataFrame(self._vcov, index=names, columns=names)

    @cached_property
    def _table(self) -> pd.DataFrame:
        model = self._problem.model
        par = model.par
        values = model.values(self._theta)
        se = np.zeros(len(par))
        se[model.free_rows] = np.sqrt(np.clip(np.diag(self._vcov), 0, None))
        if self.options.get("se") == "none":
            se[:] = np.nan
        out = pd.DataFrame(
            {
                "lhs": par["lhs"].to_numpy(),
                "op": par["op"].to_numpy(),
                "rhs": par["rhs"].to_numpy(),
                "group": par["group"].to_numpy(int),
                "label": par["label"].to_numpy() if "label" in par else "",
                "est": values,
                "se": se,
            }
        )
        std = self._std_columns(self._theta)
        for col, vals in std.items():
            out[col] = vals
        names, dest, dcov = defined_vcov(self.spec, model, self._theta, self._vcov)
        if names:
            dse = np.sqrt(np.clip(np.diag(dcov), 0, None))
            if self.options.get("se") == "bootstrap":  # lavaan: SD of the := draws
                dse = self._boot.defined_se.to_numpy()
            std_cols = self._defined_std(names, std)
            extra = pd.DataFrame(
                {
                    "lhs": names,
                    "op": ":=",
                    "rhs": [e.text for _, e in self.spec.defined()],
                    "group": 0,
                    "label": names,
                    "est": dest,
                    "se": dse,
                    **std_cols,
                }
            )
            out = pd.concat([out, extra], ignore_index=True)
        return out

    def _std_columns(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """``std_lv``, ``std_all``, ``std_nox`` for every parameter row (subclasses with other
        parameter kinds, e.g. thresholds, override this)."""
        exo = self.spec.exogenous if self.spec.fixed_x else ()
        model = self._problem.model
        return {
            col: standardize(model, theta, col.replace("_", "."), exo)
            for col in ("std_lv", "std_all", "std_nox")
        }

    def _defined_std(self, names, std: dict[str, np.ndarray]) -> dict[str, list]:
        """The standardized columns of the ``:=`` rows, from the standardized parameters."""
        out = {}
        for col, vals in std.items():
            defined = self.spec.evaluate_defined(self.spec.label_values(vals))
            out[col] = [defined[n] for n in names]
        return out

    def parameter_estimates(
        self, level: float | None = None, boot_ci_type: str = "perc"
    ) -> pd.DataFrame:
        """lavaan's ``parameterEstimates()``: one row per parameter (and ``:=`` definition).

        Columns ``lhs, op, rhs, group, label, est, se, z, pvalue, ci_lower, ci_upper,
        std_lv, std_all, std_nox``; ``group`` is 1-based (0 for ``:=`` rows). Fixed
        parameters have ``se = 0`` and no ``z``/``pvalue``. With ``se="bootstrap"`` the
        intervals are bootstrap intervals of type ``boot_ci_type`` (``"perc"``, ``"basic"``,
        ``"norm"``, ``"bca.simple"``, ``"bca"``; see ``docs/sem-bootstrap.md``).
        """
        from radsem.estimation.bootstrap.intervals import check_boot_ci_type

        check_boot_ci_type(boot_ci_type)
        level = check_level(self.options.get("level", 0.95) if level is None else level)
        t = self._table.copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(t["se"] > 0, t["est"] / t["se"], np.nan)
        zc = stats.norm.ppf(0.5 + level / 2)
        t.insert(7, "z", z)
        t.insert(8, "pvalue", 2 * stats.norm.sf(np.abs(z)))
        t.insert(9, "ci_lower", t["est"] - zc * t["se"])
        t.insert(10, "ci_upper", t["est"] + zc * t["se"])
        if self.options.get("se") == "bootstrap":
            t["ci_lower"], t["ci_upper"] = self._boot.table_intervals(t, level, boot_ci_type)
        return t

    def standardized_solution(self, type: str = "std.all") -> pd.DataFrame:  # noqa: A002
        """Standardised estimates (``"std.all"``, ``"std.lv"`` or ``"std.nox"``)."""
        cols = {"std.all": "std_all", "std.lv": "std_lv", "std.nox": "std_nox"}
        if type not in cols:
            raise EstimationError(f"type must be one of {', '.join(cols)}, got {type!r}")
        col = cols[type]
        t = self._table
        return t[["lhs", "op", "rhs", "group", "label"]].assign(est_std=t[col].to_numpy())

    def fit_measures(self) -> pd.Series:
        """lavaan's ``fitMeasures()`` as a Series (see
        :mod:`radsem.estimation.measures.fitmeasures`)."""
        return self._fit_measures.copy()

    @cached_property
    def _fit_measures(self) -> pd.Series:
        from radsem.estimation.measures.fitmeasures import fit_measures

        out = fit_measures(self)
        if self.options["estimator"] == "MLR" or self._fiml:
            out.update(self._robust.fit_measures)
        if self.options.get("mimic") == "Mplus" and self.options.get("information") == "observed":
            out["srmr"] = out["srmr_mplus"]  # lavaan's lav_fit_srmr_lavobject
        if self.options.get("test"):
            from radsem.estimation.measures.test_table import test_measures

            out = test_measures(self, out)
        return pd.Series(out, dtype=float)

    # -- moments --------------------------------------------------------------------------
    def implied(self) -> list[dict]:
        """Model-implied covariance (and mean) per group, labelled DataFrames/Series."""
        obs = list(self.spec.observed)
        out = []
        for mu, sig in self._problem.implied_moments(self._theta):
            item = {"cov": pd.DataFrame(sig, index=obs, columns=obs)}
            if self._problem.meanstructure:
                item["mean"] = pd.Series(mu, index=obs)
            out.append(item)
        return out

    def residuals(self, type: str = "raw") -> list[dict]:  # noqa: A002
        """Sample minus implied moments per group (``"cov"``, and ``"mean"`` with a mean
        structure): ``"raw"``, ``"cor"`` (lavaan's ``cor.bollen``; ``cor.bentler`` with
        ``mimic="EQS"``), ``"cor.bollen"``, ``"cor.bentler"`` or ``"normalized"``, as
        lavaan's ``residuals(fit, type=)``; a list even for one group (``inspect`` follows
        lavaan's shapes). With ``missing="ml"`` the sample moments are the EM estimates."""
        from radsem.estimation.measures.inspect import residual_moments

        parts = self._inspect_parts()
        acov = parts.acov() if type == "normalized" else [None] * len(parts.sample)
        obs = list(parts.observed)
        out = []
        for smp, imp, ac in zip(parts.sample, parts.implied, acov, strict=True):
            mres, res = residual_moments(smp, imp, self._residual_type(type), ac)
            item = {"cov": pd.DataFrame(res, index=obs, columns=obs)}
            if parts.meanstructure:
                item["mean"] = pd.Series(mres, index=obs)
            out.append(item)
        return out

    def predict(
        self, method: str | pd.DataFrame = "regression", newdata: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Factor scores of the latent variables (lavaan's ``lavPredict``).

        Parameters
        ----------
        method : {"regression", "bartlett"}
            A DataFrame in this place is taken as ``newdata`` (``fit.predict(df)``).
        newdata : DataFrame, optional
            New cases scored with the fitted parameters (``lavPredict(newdata=)``); one row
            per row of ``newdata``, same index. It needs the observed variables (and the
            grouping column of a multi-group model). Default: the rows used in the fit.

        Notes
        -----
        See :mod:`radsem.estimation.measures.predict` for the formulas. One row per row of the data,
        under the data's own index labels and in its order, with a ``group`` column (1..G)
        when there are groups; rows the fit did not use (listwise deletion, no observed
        value) are NaN under their own label. With missing values each case uses only its
        observed variables, as ``lavPredict()``. Checked against lavaan 0.6-14 ``lavPredict``
        (with and without ``newdata``).
        """
        from radsem.estimation.measures.predict import (
            check_method,
            factor_scores,
            split_newdata,
            to_input_rows,
            used_positions,
        )

        if isinstance(method, pd.DataFrame):
            if newdata is not None:
                raise EstimationError(
                    "give new data once: predict(newdata) or predict(method, newdata=...)"
                )
            method, newdata = "regression", method
        method = check_method(method)
        lat = list(self.spec.latent)
        ngroups = len(self._problem.stats)
        if newdata is not None:
            out = np.full((len(newdata), len(lat)), np.nan)
            group = np.zeros(len(newdata), int)
            for g, pos, values in split_newdata(self, newdata):
                out[pos] = factor_scores(self, g, values, method)
                group[pos] = g + 1
            scores = pd.DataFrame(out, columns=lat, index=newdata.index)
            if ngroups > 1:
                scores.insert(0, "group", group)
            return scores
        parts = [
            (g, pos, factor_scores(self, g, st.data, method))
            for (g, st), pos in zip(
                enumerate(self._problem.stats), used_positions(self), strict=True
            )
        ]
        return to_input_rows(self, parts, lat)

    def summary(
        self, fit_measures: bool = False, standardized: bool = False, rsquare: bool = False
    ):
        """lavaan's ``summary()``: the text report, with its blocks kept as tables.

        Parameters
        ----------
        fit_measures, standardized, rsquare : bool
            Add the fit-measure blocks, the ``Std.lv``/``Std.all`` columns, the R-square.

        Returns
        -------
        FitSummary
            A ``str`` (print it) with ``.blocks``; see
            :mod:`radsem.estimation.measures.summary`.
        """
        from radsem.estimation.measures.summary import summary_text

        return summary_text(
            self,
            self._summary_parts(),
            fit_measures=fit_measures,
            standardized=standardized,
            rsquare=rsquare,
        )

    def r2(self):
        """R-square of the dependent variables, as lavaan's ``lavInspect(fit, "r2")``.

        Returns
        -------
        pandas.Series or dict of str to pandas.Series
            Named ``"r2"``, indexed by variable; a dict by group label for several groups.
            See :mod:`radsem.estimation.measures.rsquare`.
        """
        from radsem.estimation.measures.rsquare import rsquare_series

        labels = [str(g) for g in self.spec.group_labels]
        return rsquare_series(self.parameter_estimates(), labels)

    def inspect(self, what: str, type: str = "raw"):  # noqa: A002 - lavaan's name
        """lavaan's ``lavInspect(fit, what)``: ``"sampstat"``, ``"implied"``,
        ``"residuals"`` (``type="raw"``, ``"cor"``, ``"normalized"``), ``"vcov"``,
        ``"est"``, ``"r2"``, ``"converged"``, ``"iterations"``, ``"npar"``, ``"nobs"``.

        See :mod:`radsem.estimation.measures.inspect` for each item's form.
        """
        from radsem.estimation.measures import inspect as ins

        parts = self._inspect_parts()
        if str(what).lower() in ("residuals", "resid"):
            return ins.residuals(parts, self._residual_type(type))
        return ins.inspect_item(
            what,
            parts,
            vcov=self.vcov,
            est=self._est_matrices,
            std=lambda: self._est_matrices("std.all"),
            std_lv=lambda: self._est_matrices("std.lv"),
            std_nox=lambda: self._est_matrices("std.nox"),
            cov_lv=lambda: self._latent_moments("cov"),
            cor_lv=lambda: self._latent_moments("cor"),
            mean_lv=lambda: self._latent_moments("mean"),
            fit=self.fit_measures,
            r2=self.r2,
            converged=lambda: self.converged,
            iterations=lambda: self.iterations,
            npar=lambda: int(self._problem.nfree),
        )

    def _residual_type(self, type: str) -> str:  # noqa: A002
        """lavaan: ``"cor"`` is Bentler's with ``mimic="EQS"``, Bollen's otherwise."""
        return "cor.bentler" if type == "cor" and self.options.get("mimic") == "EQS" else type

    def _inspect_parts(self):
        from radsem.estimation.measures.inspect import InspectParts

        pb = self._problem
        if self._fiml:  # lavaan: the EM estimates of the saturated model
            sample = [(h.mean, h.cov) for h in (pb.estimator.h1(st) for st in pb.stats)]
        else:
            sample = [(st.mean, st.cov) for st in pb.stats]
        return InspectParts(
            list(self.spec.observed),
            [str(g) for g in self.spec.group_labels],
            sample,
            pb.implied_moments(self._theta),
            [int(st.nobs) for st in pb.stats],
            bool(pb.meanstructure),
            lambda: self._h1_acov(sample),
        )

    def _h1_acov(self, sample) -> list[np.ndarray]:
        """Per group inverse unstructured h1 information over ``n_g`` (lavaan's h1 acov)."""
        from radsem.estimation.missing.likelihood import fiml_information_observed
        from radsem.estimation.robust.baseline import moment_block
        from radsem.estimation.robust.fiml_correction import normal_information, zero_safe_inverse

        pb = self._problem
        exo = self.spec.exogenous if self.spec.fixed_x else ()
        x_idx = [list(self.spec.observed).index(v) for v in exo] or None
        out = []
        for st, (mean, cov) in zip(pb.stats, sample, strict=True):
            if self._fiml:
                rows = moment_block(cov.shape[0], pb.meanstructure)
                info = fiml_information_observed(pb.estimator.patterns(st), mean, cov, x_idx)
                info = info[np.ix_(rows, rows)]
            else:
                info = normal_information(cov, pb.meanstructure, x_idx)
            out.append(zero_safe_inverse(info) / st.nobs)
        return out

    def _latent_moments(self, what: str):
        from radsem.estimation.measures.inspect import latent_moments

        model = self._problem.model
        out = [
            latent_moments(model, model.implied_full(self._theta, g), what)
            for g in range(len(model.groups))
        ]
        labels = [str(g) for g in self.spec.group_labels]
        return out[0] if len(out) == 1 else dict(zip(labels, out, strict=True))

    def _est_matrices(self, kind: str = "est"):
        from radsem.estimation.measures.inspect import lisrel_matrices

        model = self._problem.model
        values = model.values(self._theta)
        if kind != "est":  # lavaan's "std" items: the matrices of the standardized solution
            exo = self.spec.exogenous if self.spec.fixed_x else ()
            values = standardize(model, self._theta, kind, exo)
        beta = bool((model.par["op"] == "~").any())
        ms = bool(self._problem.meanstructure)
        out = [lisrel_matrices(model, values, g, ms, beta) for g in range(len(model.groups))]
        labels = [str(g) for g in self.spec.group_labels]
        return out[0] if len(out) == 1 else dict(zip(labels, out, strict=True))

    def _group_fmin(self) -> list[float]:
        """Per group discrepancy ``F_g`` (``fmin = sum_g w_g F_g``)."""
        pb = self._problem
        return [
            pb.estimator.value(st, mu, sig)
            for st, (mu, sig) in zip(pb.stats, pb.implied_moments(self._theta), strict=True)
        ]

    def _summary_parts(self):
        from radsem.estimation.measures.summary_blocks import SummaryParts, group_chisq
        from radsem.estimation.measures.test_table import summary_tests

        pb = self._problem
        scaled = self.options["estimator"] == "MLR"
        printed = summary_tests(self)  # the estimator lavaan prints, the tests beyond standard
        return SummaryParts(
            estimator=printed.estimator,
            optim_method=self._result.method,
            npar=int(pb.nfree),
            n_eq=int(pb.constraints.n_eq) if pb.constraints is not None else 0,
            nobs=[int(st.nobs) for st in pb.stats],
            ntotal_rows=_rows_per_group(self.data, self.options.get("group"), self.spec),
            npatterns=[pb.estimator.patterns(st).npatterns for st in pb.stats]
            if self._fiml
            else None,
            group_labels=[str(g) for g in self.spec.group_labels],
            group_chisq=2.0 * pb.test_factors() * np.asarray(self._group_fmin())
            if getattr(pb, "likelihood", "normal") == "wishart"
            else group_chisq(pb.weights, self._group_fmin(), pb.ntotal),
            test_name="yuan.bentler.mplus" if scaled else None,
            options=dict(self.options),
            boot_successful=self._boot.n_successful
            if self.options.get("se") == "bootstrap"
            else None,
            tests=printed.tests,
            h1_structured=printed.h1_structured,
        )

    def save(self, path: str | PathLike) -> Path:
        """Save the fit as documented JSON (no pickle, no data); read it back with
        :func:`radsem.load_fit`. See :mod:`radsem.estimation.core.saved` for the format."""
        from radsem.estimation.core.saved import save_fit

        return save_fit(self, path)

    def cross_check(self, engine: str = "lavaan") -> CrossCheck:
        """Refit with another engine; see :func:`radsem.engines.cross_check`."""
        from radsem.engines import cross_check

        return cross_check(self, engine)

    # -- diagnostics ----------------------------------------------------------------------
    def _latent_covariances(self) -> list[np.ndarray]:
        """Implied covariance matrix of the latent variables, per group."""
        p = len(self.spec.observed)
        out = []
        for g in range(len(self._problem.stats)):
            _, omega, _ = self._problem.model.implied_full(self._theta, g)
            out.append(omega[p:, p:])
        return out

    def _check_improper(self, stacklevel: int = 2) -> None:
        par = self._problem.model.par
        t = par[["lhs", "op", "rhs", "group"]].assign(est=self._problem.model.values(self._theta))
        var = t[(t["op"] == "~~") & (t["lhs"] == t["rhs"])]
        neg = var[var["est"] < 0]
        if len(neg):
            names = ", ".join(f"{r.lhs} (group {r.group})" for r in neg.itertuples())
            warnings.warn(
                f"some estimated variances are negative: {names}",
                ImproperSolutionWarning,
                stacklevel=user_stacklevel(),
            )
        for g, lat in enumerate(self._latent_covariances()):
            if lat.size and np.linalg.eigvalsh(lat).min() < -1e-10:
                warnings.warn(
                    f"the covariance matrix of the latent variables (group {g + 1}) "
                    "is not positive definite",
                    ImproperSolutionWarning,
                    stacklevel=user_stacklevel(),
                )


def _rows_per_group(data, group, spec) -> list[int]:
    """Rows of the data per group (lavaan's ``Total`` beside the cases used)."""
    if group is None:
        return [len(data)]
    col = data[group]
    return [int((col == lab).sum()) for lab in spec.group_labels]


def _name(row) -> str:
    if row["op"] == "~1":
        return f"{row['lhs']}~1"
    return f"{row['lhs']}{row['op']}{row['rhs']}"


class _NoConstraints:
    def __init__(self, n: int) -> None:
        self.K = np.eye(n)
        self.theta0 = np.zeros(n)
        self.linear = True
        self.needs_slsqp = False
        self.n_eq = self.n_ineq = 0

    def to_theta(self, z):
        return z

    def to_z(self, theta):
        return theta.copy()

    def active_basis(self, theta):
        return np.eye(theta.size), 0
