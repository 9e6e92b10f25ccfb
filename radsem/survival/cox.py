"""Cox proportional-hazards regression with R ``survival::coxph`` numbers."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from radsem._warnings import user_stacklevel
from radsem.errors import ConvergenceWarning, DataError
from radsem.survival._coxcore import RiskSets, cox_terms, newton_cox, score_residuals
from radsem.survival._data import Design, build_design, survival_data
from radsem.survival.concordance import Concordance, concordance_index

__all__ = ["cox", "CoxResult"]


@dataclass(frozen=True, eq=False)
class CoxResult:
    """A fitted Cox model (immutable; derived quantities are computed lazily).

    Attributes
    ----------
    params, se : pandas.Series
        Coefficients (log hazard ratios) and their standard errors (robust when ``robust``).
    naive_se : pandas.Series
        Model-based standard errors, ``sqrt(diag(I^-1))``, always available.
    robust_se : pandas.Series or None
        Sandwich standard errors (R's ``robust se``) when requested.
    loglik : tuple of float
        (null, fitted) log partial likelihood, as R's ``fit$loglik``.
    """

    params: pd.Series
    cov: pd.DataFrame
    naive_cov: pd.DataFrame
    loglik: tuple[float, float]
    score_test_stat: float
    robust_score_stat: float
    n: int
    n_events: int
    n_dropped: int
    ties: str
    robust: bool
    penalizer: float
    firth: bool
    converged: bool
    n_iter: int
    design: Design = field(repr=False)
    _fit: dict = field(repr=False)

    @property
    def se(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=self.params.index, name="se")

    @property
    def naive_se(self) -> pd.Series:
        return pd.Series(
            np.sqrt(np.diag(self.naive_cov.to_numpy())), index=self.params.index, name="se"
        )

    @property
    def robust_se(self) -> pd.Series | None:
        return self.se.rename("robust_se") if self.robust else None

    def hazard_ratios(self, alpha: float = 0.05) -> pd.DataFrame:
        """Hazard ratios exp(coef) with Wald confidence limits (profile limits when Firth)."""
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
            raise DataError(
                f"alpha must be between 0 and 1 (0.05 for 95% intervals), got {alpha!r}"
            )
        z = stats.norm.ppf(1 - alpha / 2)
        lo, hi = self.params - z * self.se, self.params + z * self.se
        if self.firth and "profile_ci" in self._fit and abs(alpha - 0.05) < 1e-12:
            lo, hi = self._fit["profile_ci"]["lower"], self._fit["profile_ci"]["upper"]
        return pd.DataFrame(
            {"hr": np.exp(self.params), "ci_lower": np.exp(lo), "ci_upper": np.exp(hi)},
            index=self.params.index,
        )

    @cached_property
    def summary(self) -> pd.DataFrame:
        """R's coefficient table: coef, exp(coef), se(coef), [robust se], z, p, CI of exp(coef).

        For Firth fits, p and the limits come from the profile penalised likelihood (as R
        ``coxphf``); z stays the Wald ratio.
        """
        z = self.params / self.se
        table = pd.DataFrame(
            {"coef": self.params, "exp(coef)": np.exp(self.params), "se(coef)": self.naive_se}
        )
        if self.robust:
            table["robust se"] = self.se
        table["z"] = z
        table["p"] = 2 * stats.norm.sf(np.abs(z))
        if self.firth and "profile_p" in self._fit:  # penalised likelihood-ratio p (coxphf)
            table["p"] = self._fit["profile_p"]
        hr = self.hazard_ratios()
        table["lower .95"] = hr["ci_lower"]
        table["upper .95"] = hr["ci_upper"]
        return table

    @cached_property
    def tests(self) -> pd.DataFrame:
        """Likelihood-ratio, Wald (robust variance when robust), score and, when robust, the
        robust score test of all coefficients = 0 (R's summary footer)."""
        p = len(self.params)
        lr = 2 * (self.loglik[1] - self.loglik[0])
        b = self.params.to_numpy()
        wald = float(b @ np.linalg.solve(self.cov.to_numpy(), b)) if p else 0.0
        rows = {"likelihood_ratio": lr, "wald": wald, "score": self.score_test_stat}
        if self.robust:
            rows["robust_score"] = self.robust_score_stat
        return pd.DataFrame(
            {
                "statistic": rows,
                "df": p,
                "pvalue": {k: stats.chi2.sf(v, p) for k, v in rows.items()},
            }
        )

    @cached_property
    def concordance(self) -> Concordance:
        """Harrell's C of the linear predictor, with R's infinitesimal-jackknife SE."""
        f = self._fit
        return concordance_index(
            f["time"], f["event"], f["lp"], strata=f["strata"], weights=f["weights"]
        )

    # ------------------------------------------------------------------ prediction
    def _lp(self, newdata: pd.DataFrame) -> np.ndarray:
        if not isinstance(newdata, pd.DataFrame):
            raise DataError(f"newdata must be a pandas DataFrame, got {type(newdata).__name__}")
        cols = self.design.columns
        missing = [c for c in cols if c not in newdata.columns]
        if missing:
            raise DataError(f"newdata lacks the covariate column(s) {', '.join(map(str, missing))}")
        dup = [c for c in cols if isinstance(newdata[c], pd.DataFrame)]
        if dup:
            raise DataError(f"newdata has duplicated column(s) {', '.join(map(str, dup))}")
        try:
            d = build_design(newdata, cols, levels=self.design.levels)
        except (TypeError, ValueError) as exc:
            if isinstance(exc, DataError):
                raise
            raise DataError(
                f"newdata covariates must be numeric like the fitted data ({exc})"
            ) from None
        bad = [n for n, ok in zip(d.names, np.isfinite(d.X).all(axis=0)) if not ok]
        if bad:
            raise DataError(
                f"newdata has missing or infinite values in {', '.join(bad)}; "
                "predictions need complete covariates"
            )
        return (d.X - self._fit["center"]) @ self.params.to_numpy()

    def predict_lp(self, newdata: pd.DataFrame) -> pd.Series:
        """Linear predictor centred at the covariate means (R's ``predict(type="lp")``)."""
        return pd.Series(self._lp(newdata), index=newdata.index, name="lp")

    def predict_risk(self, newdata: pd.DataFrame) -> pd.Series:
        """Relative risk exp(lp), centred as R's ``predict(type="risk")``."""
        return pd.Series(np.exp(self._lp(newdata)), index=newdata.index, name="risk")

    def baseline_cumulative_hazard(self) -> pd.DataFrame:
        """Breslow/Efron baseline cumulative hazard at the covariate means, per stratum."""
        f = self._fit
        return pd.DataFrame(
            {"stratum": f["base_stratum"], "time": f["base_time"], "cumhaz": f["base_cumhaz"]}
        )

    def predict_survival(self, newdata: pd.DataFrame, times: Sequence[float]) -> pd.DataFrame:
        """Predicted survival S(t | x) for each row of ``newdata`` (rows) at ``times`` (columns).

        Notes
        -----
        S(t | x) = exp(-H0(t) exp(lp(x))) with H0 the baseline hazard of R's
        ``survfit.coxph`` (Efron-corrected increments sum_l m / (S0 - (l/d) D0) when
        ties="efron", Breslow otherwise); stratified models need the stratum column in
        ``newdata``.
        """
        f = self._fit
        try:
            times = np.atleast_1d(np.asarray(times, float))
        except (TypeError, ValueError):
            raise DataError(f"times must be numbers, got {times!r}") from None
        if times.ndim != 1 or not np.all(np.isfinite(times)) or np.any(times < 0):
            raise DataError("times must be a list of finite times >= 0")
        lp = self._lp(newdata)
        if f["strata_col"] is not None:
            cols = f["strata_col"]
            missing = [c for c in cols if c not in newdata.columns]
            if missing:
                raise DataError(f"newdata needs the strata column(s) {', '.join(missing)}")
            key = (
                newdata[cols].astype(str).agg("|".join, axis=1)
                if len(cols) > 1
                else newdata[cols[0]]
            )
            codes = key.map(f["strata_map"])
            if codes.isna().any():
                raise DataError("newdata has strata not seen when fitting")
            codes = codes.to_numpy(int)
        else:
            codes = np.zeros(len(newdata), dtype=int)
        out = np.empty((len(newdata), len(times)))
        for s in np.unique(codes):
            sel = f["base_stratum"] == s
            bt, bh = f["base_time"][sel], f["base_cumhaz"][sel]
            pos = np.searchsorted(bt, times, side="right") - 1
            h0 = np.where(pos >= 0, bh[np.maximum(pos, 0)], 0.0)
            rows = codes == s
            out[rows] = np.exp(-np.outer(np.exp(lp[rows]), h0))
        return pd.DataFrame(out, index=newdata.index, columns=times)

    def __repr__(self) -> str:
        return (
            f"CoxResult(n={self.n}, events={self.n_events}, ties={self.ties!r})\n"
            + self.summary.to_string()
        )


def _strata_codes(frame, strata):
    if strata is None:
        return np.zeros(len(frame), dtype=int), None, None
    cols = [strata] if isinstance(strata, str) else list(strata)
    key = frame[cols].astype(str).agg("|".join, axis=1) if len(cols) > 1 else frame[cols[0]]
    codes, uniques = pd.factorize(key, sort=True)
    return codes, cols, {u: i for i, u in enumerate(uniques)}


def _check_design(design: Design, n: int, penalised: bool) -> None:
    p = design.X.shape[1]
    if n <= p and not penalised:
        raise DataError(
            f"{n} complete rows are too few for {p} coefficients "
            "(a ridge penalty, penalizer > 0, can fit p >= n)"
        )
    for j, name in enumerate(design.names):
        col = design.X[:, j]
        if np.ptp(col) == 0:
            raise DataError(
                f"covariate '{name}' is constant; it cannot be estimated "
                "(drop it, or check the category levels)"
            )
        if not np.all(np.isfinite(col)):
            raise DataError(f"covariate '{name}' has infinite values")
    if penalised:
        return
    centred = design.X - design.X.mean(axis=0)
    rank = np.linalg.matrix_rank(centred)
    if rank < p:
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        null = vt[-1]
        involved = [n for n, v in zip(design.names, null) if abs(v) > 1e-6]
        raise DataError(
            "the covariates are perfectly collinear (" + ", ".join(involved) + "); drop one of them"
        )


def cox(
    data: pd.DataFrame,
    time: str,
    event: str,
    covariates: Sequence[str],
    *,
    strata: str | Sequence[str] | None = None,
    ties: str = "efron",
    penalizer: float = 0.0,
    robust: bool = False,
    cluster: str | None = None,
    weights: str | None = None,
    categorical: Mapping | Sequence | None = None,
    firth: bool = False,
    missing: str = "raise",
    max_iter: int = 50,
) -> CoxResult:
    """Fit a Cox proportional-hazards model (R ``coxph`` numbers).

    Parameters
    ----------
    data : pandas.DataFrame
    time, event : str
        Columns of follow-up time (>= 0) and event indicator (0/1).
    covariates : list of str
        Covariate columns. Text/category columns (and those named in ``categorical``) become
        treatment dummies named ``col[T.level]`` against a reference level: the first category
        of a pandas Categorical, else the smallest value, or the one given as
        ``categorical={"figo": "I/II"}``.
    strata : str or list of str, optional
        Stratification columns (separate baseline hazards, as ``strata()`` in R).
    ties : {"efron", "breslow"}
    penalizer : float
        Ridge penalty: maximises loglik - penalizer / 2 * sum(beta^2) (R ``ridge(theta=...,
        scale=FALSE)``).
    robust : bool
        Sandwich variance from the dfbeta residuals (R ``robust=TRUE``); implied by ``cluster``.
    cluster : str, optional
        Column of cluster ids for the grouped sandwich variance (R ``cluster()``).
    weights : str, optional
        Column of case weights.
    firth : bool
        Firth-penalised partial likelihood (Heinze & Schemper 2001), the remedy for
        monotone likelihood (separation); Breslow ties; profile-likelihood CIs.
    missing : {"raise", "drop"}
        Rows with missing covariates raise :class:`DataError` unless dropped.

    Returns
    -------
    CoxResult

    Notes
    -----
    Newton-Raphson with step halving from beta = 0 on the Efron or Breslow partial likelihood
    (Therneau & Grambsch 2000, ch. 3), iterated to full convergence. Robust variance:
    D'D with D the (weighted) dfbeta residuals U_i I^-1, summed within clusters. A coefficient
    whose Newton step stays large once the likelihood has converged diverges (monotone
    likelihood, separation): a :class:`ConvergenceWarning` says so and suggests ``firth=True``.
    Checked against R survival 3.5 ``coxph`` on lung and veteran (tests/survival).
    """
    if ties not in ("efron", "breslow"):
        raise DataError(f"ties must be 'efron' or 'breslow', got {ties!r}")
    if (
        isinstance(penalizer, bool)
        or not isinstance(penalizer, (int, float, np.number))
        or not np.isfinite(penalizer)
        or penalizer < 0
    ):
        raise DataError(f"penalizer must be a finite number >= 0, got {penalizer!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise DataError(f"max_iter must be a positive integer, got {max_iter!r}")
    if firth and ties != "breslow":
        ties = "breslow"
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    if not covariates:
        raise DataError("at least one covariate is needed")
    extra = [c for c in ([strata] if isinstance(strata, str) else list(strata or []))]
    extra += [c for c in (cluster, weights) if c is not None]
    sd = survival_data(data, time, event, covariates + extra, missing=missing)
    frame = sd.frame
    design = build_design(frame, covariates, categorical)
    _check_design(design, len(frame), penalizer > 0)
    w = (
        np.ones(len(frame))
        if weights is None
        else pd.to_numeric(frame[weights], errors="coerce").to_numpy(float, na_value=np.nan)
    )
    if np.any(w <= 0) or not np.all(np.isfinite(w)):
        raise DataError("case weights must be positive and finite")
    scodes, strata_col, strata_map = _strata_codes(frame, strata)
    center = np.average(design.X, axis=0, weights=w)
    Xc = design.X - center
    rs = RiskSets.build(Xc, sd.time, sd.event, w, scodes)
    efron = ties == "efron"
    null = cox_terms(rs, np.zeros(Xc.shape[1]), efron, per_time=False)
    if firth:
        from radsem.survival.firth import firth_fit

        beta, terms, n_iter, converged, info_used, extra_fit = firth_fit(rs, max_iter=max_iter)
        last_step = np.zeros_like(beta)
    else:
        beta, terms, n_iter, converged, last_step = newton_cox(
            rs, efron, penalizer=penalizer, max_iter=max_iter
        )
        info_used = terms.info + penalizer * np.eye(len(beta))
        extra_fit = {}
    names = design.names
    _warn_divergence(
        names, beta, last_step, converged, None if firth or penalizer > 0 else design.X.std(axis=0)
    )
    try:
        naive = np.linalg.inv(info_used)
    except np.linalg.LinAlgError:
        naive = np.linalg.pinv(info_used)
    if not (
        np.all(np.isfinite(beta)) and np.all(np.isfinite(naive)) and np.all(np.diag(naive) > 0)
    ):
        warnings.warn(
            "the information matrix is not positive definite at the last iterate: the "
            "partial likelihood is monotone (a covariate separates the event times, "
            "e.g. it is the follow-up time itself); coefficients are meaningless and "
            "standard errors are set to NaN. Use firth=True or drop the covariate.",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
        naive = np.full_like(naive, np.nan)
    cov = naive
    u0 = null.score
    score_stat = float(u0 @ np.linalg.lstsq(null.info, u0, rcond=None)[0])
    robust_score = np.nan
    if robust or cluster is not None:
        cl = frame[cluster].to_numpy()[rs.order] if cluster is not None else None

        def grouped(m):
            return m if cl is None else pd.DataFrame(m).groupby(cl).sum().to_numpy()

        dfb = grouped((rs.weights[:, None] * score_residuals(rs, beta, terms)) @ naive)
        cov = dfb.T @ dfb
        r0 = grouped(rs.weights[:, None] * score_residuals(rs, np.zeros_like(beta), null))
        robust_score = float(u0 @ np.linalg.lstsq(r0.T @ r0, u0, rcond=None)[0])
    lp = Xc @ beta
    fitted_ll = terms.loglik if not firth else extra_fit["loglik"]
    null_ll = null.loglik if not firth else extra_fit["null_loglik"]
    shift = float(np.max(rs.X @ beta))
    base_cum = np.concatenate(
        [np.cumsum(terms.haz_k[rs.group_stratum == s]) for s in np.unique(rs.group_stratum)]
    ) * np.exp(-shift)
    fit = {
        "time": sd.time,
        "event": sd.event,
        "lp": lp,
        "strata": scodes if strata else None,
        "weights": w,
        "center": center,
        "strata_col": strata_col,
        "strata_map": strata_map,
        "base_stratum": rs.group_stratum,
        "base_time": rs.group_time,
        "base_cumhaz": base_cum,
        "risk_sets": rs,
        "terms": terms,
        **extra_fit,
    }
    idx = pd.Index(names)
    return CoxResult(
        params=pd.Series(beta, index=idx, name="coef"),
        cov=pd.DataFrame(cov, index=idx, columns=idx),
        naive_cov=pd.DataFrame(naive, index=idx, columns=idx),
        loglik=(float(null_ll), float(fitted_ll)),
        score_test_stat=score_stat,
        robust_score_stat=robust_score,
        n=len(frame),
        n_events=int(sd.event.sum()),
        n_dropped=sd.n_dropped,
        ties=ties,
        robust=bool(robust or cluster is not None),
        penalizer=float(penalizer),
        firth=firth,
        converged=converged,
        n_iter=n_iter,
        design=design,
        _fit=fit,
    )


def _warn_divergence(names, beta, last_step, converged, sd=None) -> None:
    # a coefficient still moving once the likelihood has converged, or one whose hazard ratio
    # per SD exceeds exp(25) (the likelihood flattened out at machine precision), is infinite
    sd = np.zeros(len(beta)) if sd is None else sd
    diverging = [
        n
        for n, b, s, d in zip(names, beta, last_step, sd)
        if (abs(s) > 1e-4 * max(1.0, abs(b)) and abs(b) > 3) or abs(b) * d > 25
    ]
    if diverging:
        warnings.warn(
            "the partial likelihood keeps increasing as the coefficient(s) of "
            f"{', '.join(diverging)} grow without bound (monotone likelihood: the events are "
            "perfectly separated by these covariates); their estimates and standard errors "
            "are meaningless. Use firth=True for finite, bias-reduced estimates.",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    elif not converged:
        warnings.warn(
            "the Newton-Raphson iterations did not converge; raise max_iter or "
            "check the covariates for collinearity",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
