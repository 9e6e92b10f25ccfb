"""The result of fitting a model with ordered-categorical indicators (DWLS / WLSMV)."""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from radsem.errors import EstimationError
from radsem.estimation.core.standardize import standardize
from radsem.estimation.families.continuous.fit import SemFit

__all__ = ["OrdinalFit"]


class OrdinalFit(SemFit):
    """A model with ordered indicators fitted by DWLS/WLS/ULS (see :func:`radsem.sem`).

    Same interface as :class:`~radsem.estimation.families.continuous.fit.SemFit`;
    ``parameter_estimates()`` has lavaan's threshold rows (``op == "|"``, ``rhs``
    ``t1, t2, ...``) and scaling rows (``op == "~*~"``), ``fit_measures()`` the measures
    lavaan reports for the estimator (no log-likelihood), ``implied()``/``residuals()``
    thresholds and correlations. ``predict()`` gives EBM (posterior-mode) factor scores,
    ``modindices()`` lavaan's modification indices for these estimators.

    Notes
    -----
    ``fit.problem`` is an :class:`~radsem.estimation.families.ordinal.dwls.OrdinalProblem`,
    ``fit.problem.model`` the :class:`~radsem.estimation.families.ordinal.implied.OrdinalModel`.
    """

    family = "ordinal"

    # -- counts ---------------------------------------------------------------------------
    @cached_property
    def _ndat(self) -> int:
        return int(sum(np.asarray(st.wls_obs).size for st in self._problem.stats))

    # -- the statistics the measures wing reports (read-only) -----------------------------
    @property
    def inference(self):
        """Robust (``robust.sem``) standard errors and the scaled test's ingredients."""
        return self._inference

    @property
    def scaled_test(self) -> tuple[float, float, float]:
        """``(statistic, df, shift)`` of the scaled test (WLSMV's mean-and-variance adjusted)."""
        return self._scaled_test

    @property
    def baseline_test(self):
        """The baseline model's standard and scaled tests."""
        return self._baseline_test

    @property
    def catml(self):
        """The catML ingredients of the ``.robust`` fit indices (WLSMV, ULSMV)."""
        return self._catml

    @cached_property
    def _inference(self):
        from radsem.estimation.robust.inference_ordinal import ordinal_inference

        return ordinal_inference(self._problem, self._theta, self.options["se"])

    @cached_property
    def _vcov(self) -> np.ndarray:
        return self._inference.vcov

    @cached_property
    def _scaled_test(self) -> tuple[float, float, float]:
        from radsem.estimation.robust.inference_ordinal import scaled_shifted

        inf = self._inference
        chisq = 2.0 * self._problem.ntotal * self._fmin
        if self.options["test"] == "satorra.bentler":  # WLSM / ULSM: chisq / (tr(UG) / df)
            c = inf.trace_ug / self._df if self._df > 0 else np.nan
            return chisq / c, c, np.nan
        return scaled_shifted(chisq, self._df, inf.trace_ug, inf.trace_ug2)

    @cached_property
    def _baseline_test(self):
        from radsem.estimation.measures.baseline_ordinal import baseline_test

        return baseline_test(self._problem)

    @cached_property
    def _baseline(self) -> tuple[float, float]:
        b = self._baseline_test
        return b.chisq, b.df

    @cached_property
    def _catml(self):
        """lavaan's catML ingredients of the ``.robust`` indices (None where lavaan has none)."""
        from radsem.estimation.measures.baseline_ordinal import catml_robust

        model = self._problem.model
        par = model.par
        free = par["free"].to_numpy(int)
        free_scales = ((par["op"] == "~*~").to_numpy() & (free > 0)).any()
        if (
            model.num.size
            or self.spec.conditional_x
            or free_scales
            or (free[model.resid_rows] > 0).any()
        ):
            # lavaan 0.6-14 reports no .robust indices with continuous variables, and its catML
            # refit fails (NA) when scales or residual variances of y* are free (group_equal
            # thresholds)
            return None
        marginal = par["op"].isin(["|", "~1"]).to_numpy() & (free > 0)
        npar_cor = self._npar - int(np.unique(free[marginal]).size)
        try:
            return catml_robust(
                self._problem, self._theta, self._inference.e_inv, self._df, npar_cor
            )
        except np.linalg.LinAlgError:
            return None

    # -- not available --------------------------------------------------------------------
    def modindices(self, sort: bool = False, minimum_value: float = 0.0) -> pd.DataFrame:
        """lavaan's ``modindices()`` for DWLS/WLSMV fits: ``lhs, op, rhs, group, mi, epc,
        sepc_lv, sepc_all`` (see :mod:`radsem.estimation.measures.modindices_ordinal`)."""
        from radsem.estimation.measures.modindices_ordinal import ordinal_modindices

        return ordinal_modindices(self, sort=sort, minimum_value=minimum_value)

    def predict(self, method: str = "ebm") -> pd.DataFrame:
        """Factor scores: empirical Bayes modal (posterior mode), lavaan's ``lavPredict``
        default for ordered indicators (see :mod:`radsem.estimation.measures.predict_ordinal`).

        One row per row of the data, under its index labels (NaN for rows the fit did not
        use), with a ``group`` column when there are groups. Only ``method="ebm"``. The
        scores do not depend on the parameterisation beyond the scale of the latent variables
        (lavaan 0.6-14's theta-parameterisation scores do; see ``docs/sem-ordinal.md``).
        """
        from radsem.estimation.measures.predict_ordinal import ebm_scores

        if str(method).lower() != "ebm":
            raise EstimationError(
                f"factor scores with ordered indicators: only method='ebm' (empirical Bayes "
                f"modal, lavaan's default for categorical data) is available, not {method!r}"
            )
        return ebm_scores(self)

    # -- estimates (SemFit._table with the standardized columns below) ---------------------
    def _std_columns(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """``std_lv``, ``std_all``, ``std_nox`` for every parameter row.

        Structural rows as for continuous data, with the latent responses' variances
        ``diag Sigma*``; thresholds ``tau / sd(y*)`` (``std_all``) and scaling rows
        ``delta * sd(y*)`` (1 in the delta parameterisation), as lavaan."""
        model = self._problem.model
        ram, theta_ram = model.ram_model(theta)
        values = model.values(theta)
        exo = self.spec.exogenous if self.spec.fixed_x else ()
        imps = model.implied(theta)
        obs = {v: k for k, v in enumerate(model.observed)}
        par = model.par
        grp, lhs, op = par["group"].to_numpy(int), par["lhs"].to_numpy(), par["op"].to_numpy()
        out = {}
        for col, kind in (("std_lv", "std.lv"), ("std_all", "std.all"), ("std_nox", "std.nox")):
            vals = values.copy()
            vals[model.ram_rows] = standardize(ram, theta_ram, kind, exo)
            if kind != "std.lv":
                for pos in np.flatnonzero(np.isin(op, ["|", "~*~"])):
                    sd = imps[grp[pos] - 1].scale[obs[lhs[pos]]]
                    vals[pos] = values[pos] / sd if op[pos] == "|" else values[pos] * sd
            out[col] = vals
        return out

    # -- fit measures ---------------------------------------------------------------------
    @cached_property
    def _fit_measures(self) -> pd.Series:
        from radsem.estimation.measures.fitmeasures_ordinal import ordinal_fit_measures

        return pd.Series(ordinal_fit_measures(self), dtype=float)

    # -- moments --------------------------------------------------------------------------
    def _labelled(self, vec: np.ndarray, g: int) -> dict:
        model = self._problem.model
        obs = list(model.observed)
        p = len(obs)
        cor = np.eye(p)
        k = model.n_marginal
        cor[model.cor_r, model.cor_c] = cor[model.cor_c, model.cor_r] = vec[k:]
        if model.num.size:
            cor[model.num, model.num] = vec[model.n_uni : k]
        labels = [f"{model.par.at[r, 'lhs']}|{model.par.at[r, 'rhs']}" for r in model.th_rows[g]]
        return {
            "cov": pd.DataFrame(cor, index=obs, columns=obs),
            "th": pd.Series(vec[model.th_slot[g]], index=labels),
        }

    def implied(self) -> list[dict]:
        """Per group the implied correlations of the latent responses (``"cov"``; covariances
        for continuous variables) and thresholds (``"th"``), as lavaan's ``fitted()``."""
        return [
            self._labelled(v, g) for g, v in enumerate(self._problem.model.wls_est(self._theta))
        ]

    def residuals(self, type: str = "raw") -> list[dict]:  # noqa: A002
        """Sample minus implied correlations and thresholds per group (``type="raw"``; for
        categorical data the correlations are already standardised)."""
        if type not in ("raw", "cor"):
            raise ValueError("type must be 'raw' or 'cor'")
        return [self._labelled(e, g) for g, e in enumerate(self._problem.residuals(self._theta))]

    def inspect(self, what: str, type: str = "raw"):  # noqa: A002 - lavaan's name
        """lavaan's ``lavInspect`` items ``"vcov"``, ``"r2"``, ``"converged"``,
        ``"iterations"``, ``"npar"``, ``"nobs"``; ``"implied"`` and ``"residuals"`` give
        :meth:`implied` / :meth:`residuals` (correlations and thresholds), ``"sampstat"``
        the sample ones in the same form (a list over groups). ``"est"`` is not available
        for ordered data (:class:`EstimationError`)."""
        key = str(what).lower()
        if key in ("implied", "fitted"):
            return self.implied()
        if key in ("residuals", "resid"):
            return self.residuals(type)
        if key in ("sampstat", "sample.statistics"):  # polychoric correlations, thresholds
            return [
                self._labelled(np.asarray(st.wls_obs, float), g)
                for g, st in enumerate(self._problem.stats)
            ]
        if key in ("est", "estimates", "x"):
            raise EstimationError(
                f"inspect({what!r}) is not available for models with ordered variables; "
                "see implied(), residuals() and parameter_estimates()"
            )
        n = [int(st.nobs) for st in self._problem.stats]
        items = {
            "vcov": self.vcov,
            "r2": self.r2,
            "converged": lambda: self.converged,
            "iterations": lambda: self.iterations,
            "npar": lambda: int(self._problem.nfree),
            "nobs": lambda: n[0] if len(n) == 1 else n,
        }
        if key not in items:
            raise EstimationError(f"inspect: unknown item {what!r}; available: {', '.join(items)}")
        return items[key]()

    def _group_fmin(self) -> list[float]:
        pb = self._problem
        return [
            0.5 * float(e @ w @ e) for w, e in zip(pb.W, pb.residuals(self._theta), strict=True)
        ]

    def _summary_parts(self):
        """As :class:`SemFit`, with the categorical estimator's name, test and shift."""
        from dataclasses import replace

        pb = self._problem
        test = self.options.get("test")
        scaled = "chisq.scaled" in self.fit_measures().index
        shift = self._scaled_test[2] if scaled and test == "scaled.shifted" else None
        return replace(
            super()._summary_parts(),
            estimator=pb.estimator_name,
            npatterns=None,
            test_name=test if scaled else None,
            shift=shift,
            categorical=True,
        )

    # -- diagnostics ----------------------------------------------------------------------
    def _latent_covariances(self) -> list[np.ndarray]:
        """Implied covariance matrix of the latent variables, per group (structural part)."""
        model = self._problem.model
        ram, theta_ram = model.ram_model(self._theta)
        p = len(model.observed)
        out = []
        for g in range(model.ngroups):
            _, omega, _ = ram.implied_full(theta_ram, g)
            out.append(omega[p:, p:])
        return out
