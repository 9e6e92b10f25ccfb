"""The fitted latent-variable survival model: hazard ratios, parameter table, fit measures,
risk prediction."""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from radsem.estimation.families.survival_outcome.posterior import conditional_moments, ram_moments
from radsem.estimation.families.survival_outcome.problem import LatentSurvivalProblem

__all__ = ["LatentSurvivalFit"]

_METHOD_NAMES = {
    "joint": "joint maximum likelihood",
    "regression_calibration": "two-step regression calibration",
    "plausible_values": "two-step plausible values (Rubin's rules)",
    "naive": "naive two-step (Bartlett factor scores into Cox)",
}


class LatentSurvivalFit:
    """A proportional-hazards regression of a censored time on latent and observed variables.

    Create it with :func:`radsem.estimation.families.survival_outcome.latent_survival` or
    ``radsem.sem(model, data, survival_method=...)``.

    Attributes
    ----------
    method : str
        ``"joint"``, ``"regression_calibration"``, ``"plausible_values"`` or ``"naive"``.
    outcome : SurvivalOutcome
    converged : bool
    coef : pandas.Series
        Log hazard ratios per unit of each predictor (latent variables in their model scale).
    measurement_fit : SemFit or None
        The measurement model fitted alone (first step of the two-step methods; start of the
        joint fit).

    Notes
    -----
    Implements :class:`radsem.FitResult`: ``theta`` holds the measurement / structural
    parameters (the survival coefficients are ``coef``), ``vcov()`` the covariance of ``coef``.
    """

    def __init__(
        self,
        problem: LatentSurvivalProblem,
        method: str,
        theta: np.ndarray,
        vcov: np.ndarray,
        coef: np.ndarray,
        *,
        loglik: float = np.nan,
        npar: int | None = None,
        converged: bool = True,
        baseline=None,
        n_used: int | None = None,
        info: dict | None = None,
        level: float = 0.95,
    ) -> None:
        self._problem = problem
        self.method = method
        self.outcome = problem.outcome
        self._theta = np.asarray(theta, float)
        self._vcov = np.asarray(vcov, float)  # over (theta, coef)
        names = problem.node_names + problem.covariate_names
        self.coef = pd.Series(np.asarray(coef, float), index=names, name="coef")
        self._loglik = float(loglik)
        ntheta = len(self._theta)
        self._npar = int(npar) if npar is not None else ntheta + len(names)
        self.converged = bool(converged)
        self._baseline = baseline
        self.n_used = int(n_used) if n_used is not None else len(problem.time)
        self.info = dict(info or {})
        self.level = float(level)
        self.measurement_fit = problem.sem_fit

    def __repr__(self) -> str:
        return (
            f"<LatentSurvivalFit {self.method} N={len(self._problem.time)} "
            f"events={int(self._problem.event.sum())} converged={self.converged}>"
        )

    # -- the FitResult contract -----------------------------------------------------------
    @property
    def problem(self) -> LatentSurvivalProblem:
        """The outcome, the rows used, the measurement fit and the survival design."""
        return self._problem

    @property
    def theta(self) -> np.ndarray:
        """Estimates of the measurement / structural parameters (lavaan's numbering)."""
        return self._theta

    @property
    def nobs(self) -> int:
        """Number of patients (``ntotal`` of :meth:`fit_measures`)."""
        return len(self._problem.time)

    # -- pieces -------------------------------------------------------------------------
    @property
    def _ntheta(self) -> int:
        return len(self._theta)

    def _latent_sd(self, theta: np.ndarray) -> np.ndarray:
        """SD of each SEM node in the survival regression (implied total variance)."""
        if not self._problem.node_terms:
            return np.zeros(0)
        _, omega = ram_moments(self._problem.measurement.ram, theta)
        idx = self._problem.node_terms
        return np.sqrt(np.clip(np.diag(omega)[idx], 0.0, None))

    def _z(self) -> float:
        return float(stats.norm.ppf(0.5 + self.level / 2))

    @cached_property
    def _per_sd(self) -> tuple[np.ndarray, np.ndarray]:
        """Log HR per SD of each latent predictor and its delta-method SE."""
        prob = self._problem
        nn = len(prob.node_terms)
        sd = self._latent_sd(self._theta)
        est = self.coef.to_numpy()[:nn] * sd
        jac = np.zeros((nn, self._ntheta + len(self.coef)))
        for k in range(self._ntheta):
            h = 1e-6 * max(1.0, abs(self._theta[k]))
            e = np.zeros(self._ntheta)
            e[k] = h
            dsd = (self._latent_sd(self._theta + e) - self._latent_sd(self._theta - e)) / (2 * h)
            jac[:, k] = self.coef.to_numpy()[:nn] * dsd
        jac[np.arange(nn), self._ntheta + np.arange(nn)] = sd
        se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, self._vcov, jac), 0.0, None))
        return est, se

    # -- public tables ------------------------------------------------------------------
    def hazard_ratios(self, level: float | None = None) -> pd.DataFrame:
        """Hazard ratios with Wald confidence intervals.

        Latent variables: per standard deviation of the latent variable (its model-implied
        SD, delta-method SE); observed variables: per unit.

        Returns
        -------
        DataFrame
            Index: predictor. Columns ``scale`` (``"per SD"``/``"per unit"``), ``sd``,
            ``log_hr``, ``se``, ``z``, ``pvalue``, ``hr``, ``ci_lower``, ``ci_upper``.
        """
        level = self.level if level is None else float(level)
        zc = stats.norm.ppf(0.5 + level / 2)
        prob = self._problem
        latent = set(prob.latent)
        nn = len(prob.node_terms)
        se_coef = np.sqrt(np.clip(np.diag(self._vcov)[self._ntheta :], 0.0, None))
        est_sd, se_sd = self._per_sd
        rows = []
        for k, name in enumerate(self.coef.index):
            if k < nn and name in latent:
                scale, sd, est, se = "per SD", self._latent_sd(self._theta)[k], est_sd[k], se_sd[k]
            else:
                scale, sd, est, se = "per unit", np.nan, self.coef.iloc[k], se_coef[k]
            z = est / se if se > 0 else np.nan
            rows.append(
                {
                    "scale": scale,
                    "sd": sd,
                    "log_hr": est,
                    "se": se,
                    "z": z,
                    "pvalue": 2 * stats.norm.sf(abs(z)),
                    "hr": np.exp(est),
                    "ci_lower": np.exp(est - zc * se),
                    "ci_upper": np.exp(est + zc * se),
                }
            )
        return pd.DataFrame(rows, index=pd.Index(self.coef.index, name="term"))

    def parameter_estimates(self, level: float | None = None) -> pd.DataFrame:
        """lavaan-style table: the measurement / structural parameters and the log hazard
        ratios (rows ``outcome ~ predictor``, per unit).

        Columns ``lhs, op, rhs, group, label, est, se, z, pvalue, ci_lower, ci_upper``.
        """
        level = self.level if level is None else float(level)
        zc = stats.norm.ppf(0.5 + level / 2)
        frames = []
        prob = self._problem
        se_all = np.sqrt(np.clip(np.diag(self._vcov), 0.0, None))
        if prob.measurement is not None:
            ram = prob.measurement.ram
            par = ram.par
            se = np.zeros(len(par))
            se[ram.free_rows] = se_all[: self._ntheta]
            frames.append(
                pd.DataFrame(
                    {
                        "lhs": par["lhs"].to_numpy(),
                        "op": par["op"].to_numpy(),
                        "rhs": par["rhs"].to_numpy(),
                        "group": par["group"].to_numpy(int),
                        "label": par["label"].to_numpy() if "label" in par else "",
                        "est": ram.values(self._theta),
                        "se": se,
                    }
                )
            )
        labels = {t.name: t.label for t in self.outcome.terms}
        frames.append(
            pd.DataFrame(
                {
                    "lhs": self.outcome.name,
                    "op": "~",
                    "rhs": list(self.coef.index),
                    "group": 1,
                    "label": [labels.get(n, "") for n in self.coef.index],
                    "est": self.coef.to_numpy(),
                    "se": se_all[self._ntheta :],
                }
            )
        )
        out = pd.concat(frames, ignore_index=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["z"] = np.where(out["se"] > 0, out["est"] / out["se"], np.nan)
        out["pvalue"] = 2 * stats.norm.sf(np.abs(out["z"]))
        out["ci_lower"] = out["est"] - zc * out["se"]
        out["ci_upper"] = out["est"] + zc * out["se"]
        return out

    def baseline_hazard(self) -> pd.DataFrame:
        """Piecewise-constant baseline hazard of the joint fit (``start, end, log_hazard,
        se, hazard``); empty for the two-step methods (Cox partial likelihood)."""
        if self._baseline is None:
            return pd.DataFrame(columns=["start", "end", "log_hazard", "se", "hazard"])
        cuts, alpha, se = self._baseline
        return pd.DataFrame(
            {
                "start": cuts[:-1],
                "end": cuts[1:],
                "log_hazard": alpha,
                "se": se,
                "hazard": np.exp(alpha),
            }
        )

    def fit_measures(self) -> pd.Series:
        """``npar, logl, aic, bic, ntotal, nevents`` (``logl`` of the joint likelihood; ``NaN``
        for the two-step methods, which maximise no joint likelihood)."""
        n = len(self._problem.time)
        ll = self._loglik
        return pd.Series(
            {
                "npar": float(self._npar),
                "logl": ll,
                "aic": -2 * ll + 2 * self._npar,
                "bic": -2 * ll + np.log(n) * self._npar,
                "ntotal": float(n),
                "nevents": float(self._problem.event.sum()),
            },
            name=self.method,
        )

    def vcov(self) -> pd.DataFrame:
        """Covariance of the survival coefficients (per unit)."""
        v = self._vcov[self._ntheta :, self._ntheta :]
        return pd.DataFrame(v, index=self.coef.index, columns=self.coef.index)

    # -- prediction -----------------------------------------------------------------------
    def linear_predictor(self, newdata: pd.DataFrame) -> pd.DataFrame:
        """Posterior mean and variance of the linear predictor given each row's observed
        indicators and covariates (columns ``mean``, ``var``), indexed like ``newdata``."""
        prob = self._problem
        if not isinstance(newdata, pd.DataFrame):
            from radsem.errors import DataError

            raise DataError(f"newdata must be a pandas DataFrame, got {type(newdata).__name__}")
        nn = len(prob.node_terms)
        c, g = self.coef.to_numpy()[:nn], self.coef.to_numpy()[nn:]
        mean = prob.covariate_frame(newdata) @ g
        var = np.zeros(len(newdata))
        if nn:
            nu, omega = ram_moments(prob.measurement.ram, self._theta)
            mu, cov = conditional_moments(nu, omega, prob.sem_frame(newdata), prob.node_terms)
            mean = mean + mu @ c
            var = np.einsum("i,nij,j->n", c, cov, c)
        return pd.DataFrame({"mean": mean, "var": var}, index=newdata.index)

    def predict_risk(self, newdata: pd.DataFrame) -> pd.Series:
        """Risk score: the posterior mean of the linear predictor (higher = worse)."""
        return self.linear_predictor(newdata)["mean"].rename("risk")

    # -- text -------------------------------------------------------------------------------
    def summary(self) -> str:
        """A text report: method, sample, hazard ratios and the measurement model."""
        fm = self.fit_measures()
        lines = [
            f"Latent-variable proportional-hazards model ({_METHOD_NAMES[self.method]})",
            f"  outcome: {self.outcome.name} = Surv({self.outcome.time}, {self.outcome.event})",
            f"  patients {int(fm['ntotal'])}, events {int(fm['nevents'])}, used in the "
            f"survival fit {self.n_used}, converged: {self.converged}",
        ]
        if np.isfinite(fm["logl"]):
            lines.append(
                f"  logl {fm['logl']:.3f}  npar {int(fm['npar'])}  AIC {fm['aic']:.3f}"
                f"  BIC {fm['bic']:.3f}"
            )
        hr = self.hazard_ratios()
        lines += ["", "Hazard ratios:", hr.to_string(float_format=lambda v: f"{v:.4f}")]
        pe = self.parameter_estimates()
        meas = pe[pe["lhs"] != self.outcome.name]
        if len(meas):
            cols = ["lhs", "op", "rhs", "est", "se", "z", "pvalue"]
            lines += [
                "",
                "Measurement / structural model:",
                meas[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"),
            ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return "<pre>" + self.summary().replace("&", "&amp;").replace("<", "&lt;") + "</pre>"
