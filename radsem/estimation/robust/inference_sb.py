"""Satorra-Bentler family inference of a continuous fit with complete data.

One call gathers what lavaan 0.6-14 reports for ``estimator = "MLM"``, ``"MLMV"``,
``"MLMVS"``, ``"MLF"``, for ``WLSM``/``WLSMV``/``ULSM``/``ULSMV`` with continuous data and
for any ``test =`` list of scaled tests: ``se = "robust.sem"`` standard errors (or those of
``information = "first.order"``), each requested test of the model and of the baseline model,
and the ``.scaled`` / ``.robust`` fit measures of the first scaled test.

Notes
-----
``Gamma_g`` is the ADF covariance of the sample moments (:func:`gamma_adf_x`); with fixed
exogenous covariates (``fixed.x``) lavaan replaces each case's moments by those of the
residuals of the OLS regression of the other variables on the covariates, so the rows of
the covariates' moments are zero. ``V_g``: for ML the expected h1 information at the implied
moments (zero rows for fixed covariates), else the estimator's weight matrix.
``robust.sem``: ``E^-1 (sum_g f_g Delta_g' V_g Gamma_g V_g Delta_g) E^-1 / N`` (``N - G``
for least-squares estimators); ``first.order``: ``B0^-1 / N`` with ``B0 = sum_g f_g
Delta_g' B1_g Delta_g``, ``B1_g`` the cross-product of the casewise scores at the implied
moments. The baseline (independence) model uses the same ``Gamma`` and its own ``Delta``,
``V`` and information. The ``.robust`` indices use ``c = tr(U Gamma) / df`` (``a (df - b) /
df`` with the scaled-and-shifted test's ``a = 1/a*`` and shift ``b``), with the interval and
p-values of the robust RMSEA from the scaled statistic (lavaan's ``lav_fit_rmsea_lavobject``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from radsem.errors import EstimationError
from radsem.estimation.core.optimize import small_blas
from radsem.estimation.measures.indices import (
    incremental_indices,
    rmsea,
    rmsea_ci,
    rmsea_pvalue,
)
from radsem.estimation.missing.likelihood import (
    fiml_information_firstorder,
    fiml_information_observed,
    missing_patterns,
    vech_indices,
)
from radsem.estimation.robust.baseline import baseline_fit, moment_block
from radsem.estimation.robust.fiml_correction import normal_information, zero_safe_inverse
from radsem.estimation.robust.inference import constrained_inverse
from radsem.estimation.robust.sb_tests import (
    SCALED_TESTS,
    RobustTest,
    scaled_statistic,
    ug_traces,
)

__all__ = ["gamma_adf_x", "SBResult", "sb_inference", "ROBUST_FLAG_TESTS"]

#: scaled tests after which lavaan also reports ``.robust`` indices
ROBUST_FLAG_TESTS = ("satorra.bentler", "yuan.bentler", "yuan.bentler.mplus", "scaled.shifted")


def gamma_adf_x(data: np.ndarray, meanstructure: bool, x_idx=()) -> np.ndarray:
    """ADF ``Gamma`` (times N, divisor N) of one group's complete data, lavaan's
    ``lav_samplestats_Gamma`` with ``fixed.x``: each case's moments minus those of its
    OLS-fitted values (regression of the other variables on ``x_idx`` and an intercept).
    Without covariates this is :func:`radsem.estimation.robust.sandwich.gamma_adf`."""
    y = np.asarray(data, dtype=float)
    n, p = y.shape
    r, c = vech_indices(p)
    xi = np.asarray(list(x_idx), dtype=int)

    def moments(a: np.ndarray) -> np.ndarray:
        ac = a - a.mean(axis=0)
        z = ac[:, r] * ac[:, c]
        return np.hstack([a, z]) if meanstructure else z

    z = moments(y)
    if xi.size:
        other = np.setdiff1d(np.arange(p), xi)
        design = np.hstack([np.ones((n, 1)), y[:, xi]])
        coef, *_ = np.linalg.lstsq(design, y[:, other], rcond=None)
        yhat = y.copy()
        yhat[:, other] = design @ coef
        z = z - moments(yhat)
    z = z - z.mean(axis=0)
    return z.T @ z / n


@dataclass(frozen=True)
class SBResult:
    """Robust quantities of a fit.

    Attributes
    ----------
    vcov : ndarray or None
        ``robust.sem`` / ``first.order`` covariance of the free parameters (None when the
        standard errors are not robust).
    tests : dict
        ``{name: RobustTest}`` of the model, in lavaan's order.
    baseline_tests : dict
        The same for the baseline model.
    fit_measures : dict
        lavaan's ``.scaled`` / ``.robust`` names for the first scaled test.
    """

    vcov: np.ndarray | None
    tests: dict = field(default_factory=dict)
    baseline_tests: dict = field(default_factory=dict)
    fit_measures: dict = field(default_factory=dict)


def _x_idx(spec) -> list[int]:
    exo = tuple(spec.exogenous) if getattr(spec, "fixed_x", False) else ()
    return [list(spec.observed).index(v) for v in exo]


def _observed(data, mu, sigma, meanstructure, x_idx):
    mp = missing_patterns(data)
    rows = moment_block(mp.nvar, meanstructure)
    return fiml_information_observed(mp, mu, sigma, x_idx or None)[np.ix_(rows, rows)]


def _weights(problem, moments, meanstructure, x_idx, observed=False):
    """``V_g``: expected h1 information at the implied moments (ML; the observed one with
    ``information = "observed"``, lavaan's ``observed.information = "h1"`` of the tests) or
    the fixed weight."""
    if problem.estimator.name == "ML" and observed:
        return [
            _observed(st.data, mu, sig, meanstructure, x_idx)
            for st, (mu, sig) in zip(problem.stats, moments, strict=True)
        ]
    if problem.estimator.name == "ML":
        return [normal_information(sig, meanstructure, x_idx or None) for _, sig in moments]
    return [
        problem.estimator.weight(st, mu, sig)
        for st, (mu, sig) in zip(problem.stats, moments, strict=True)
    ]


def _firstorder(data, mu, sigma, meanstructure, x_idx):
    mp = missing_patterns(data)
    rows = moment_block(mp.nvar, meanstructure)
    return fiml_information_firstorder(mp, mu, sigma, x_idx or None)[np.ix_(rows, rows)]


def _stack(deltas: list[np.ndarray]) -> list[np.ndarray]:
    total = sum(d.shape[1] for d in deltas)
    out, start = [], 0
    for d in deltas:
        full = np.zeros((d.shape[0], total))
        full[:, start : start + d.shape[1]] = d
        out.append(full)
        start += d.shape[1]
    return out


class _Pieces:
    """Everything the tests of one model (the user's or the baseline) need."""

    def __init__(self, deltas, weights, e_inv, b1s=None):
        self.deltas = deltas
        self.weights = weights
        self.e_inv = e_inv
        self.b1s = b1s


def _tests(tests, chisq, df, pieces: _Pieces, gamma, omega, ndat, nobs, npar, trace_h1):
    out = {}
    second = any(t in ("mean.var.adjusted", "scaled.shifted") for t in tests)
    sb = None
    for t in tests:
        if t in ("satorra.bentler", "mean.var.adjusted", "scaled.shifted"):
            if sb is None:
                sb = ug_traces(gamma, pieces.deltas, pieces.weights, pieces.e_inv, nobs, second)
            out[t] = scaled_statistic(t, chisq, df, *sb)
        elif t == "yuan.bentler":
            tr, _ = ug_traces(omega, pieces.deltas, pieces.weights, pieces.e_inv, nobs, False)
            fg = np.asarray(nobs, float) / float(np.sum(nobs))
            h0 = sum(
                f * float(np.sum(b * (d @ pieces.e_inv @ d.T)))
                for f, b, d in zip(fg, pieces.b1s, pieces.deltas, strict=True)
            )
            res = scaled_statistic(t, chisq, df, tr)
            out[t] = RobustTest(
                **{
                    **res.__dict__,
                    "scaling_factor_h1": trace_h1 / ndat,
                    "scaling_factor_h0": h0 / npar,
                }
            )
    return out


@small_blas
def sb_inference(
    problem,
    theta: np.ndarray,
    chisq: float,
    df: float,
    tests: tuple[str, ...],
    se: str,
    information: str,
    baseline: tuple[float, float],
    ndat: int,
) -> SBResult:
    """Robust SEs, tests and fit measures of a fitted continuous problem (complete data).

    Parameters
    ----------
    problem : SemProblem
        ML, or a least-squares estimator (``WLS``, ``DWLS``, ``ULS``).
    theta : ndarray
    chisq, df : float
        The standard statistic and its degrees of freedom.
    tests : tuple of str
        Canonical test names (:func:`~radsem.estimation.robust.sb_tests.canonical_tests`).
    se : str
        ``"robust.sem"`` gives the sandwich; ``information == "first.order"`` the
        first-order covariance; otherwise ``vcov`` is None.
    information : str
    baseline : (float, float)
        Standard statistic and df of the baseline model.
    ndat : int
        Number of sample statistics (for ``scaling.factor.h1``).
    """
    if (se == "robust.sem" or any(t in SCALED_TESTS for t in tests)) and any(
        np.isnan(st.data).any() for st in problem.stats
    ):
        raise EstimationError("robust tests and robust.sem standard errors need complete data")
    ms = problem.meanstructure
    spec = problem.spec
    x_idx = _x_idx(spec)
    nobs = [st.nobs for st in problem.stats]
    n = float(sum(nobs))
    ngroups = len(nobs)
    fg = np.asarray(nobs, float) / n
    ml = problem.estimator.name == "ML"
    moments = problem.implied_moments(theta)
    deltas = problem.delta(theta)
    observed = information == "observed"
    weights = _weights(problem, moments, ms, x_idx, observed)
    info = sum(f * (d.T @ w @ d) for f, d, w in zip(fg, deltas, weights, strict=True))
    cons = problem.constraints
    basis = cons.active_basis(theta)[0] if cons is not None else np.eye(theta.size)
    e_inv = constrained_inverse(info, basis)
    scaled = [t for t in tests if t in SCALED_TESTS]
    needs_gamma = se == "robust.sem" or any(t != "yuan.bentler.mplus" for t in scaled)
    gamma = [gamma_adf_x(st.data, ms, x_idx) for st in problem.stats] if needs_gamma else []
    n_div = n if ml else n - ngroups
    vcov = None
    needs_b1s = information == "first.order" or "yuan.bentler" in tests
    b1s = (
        [
            _firstorder(st.data, mu, sig, ms, x_idx)
            for st, (mu, sig) in zip(problem.stats, moments, strict=True)
        ]
        if needs_b1s
        else None
    )
    if information == "first.order":
        b0 = sum(f * (d.T @ b @ d) for f, d, b in zip(fg, deltas, b1s, strict=True))
        nvcov = constrained_inverse(b0, basis)
        if se == "robust.sem":
            meat = sum(
                f * (d.T @ w @ g @ w @ d)
                for f, d, w, g in zip(fg, deltas, weights, gamma, strict=True)
            )
            nvcov = nvcov @ meat @ nvcov
        vcov = nvcov / n_div
    elif se == "standard" and problem.estimator.name in ("WLS", "DWLS"):
        vcov = e_inv / n_div  # lavaan: E = sum_g (n_g/N) Delta' W Delta, divided by N - G
    elif se == "robust.sem":
        meat = sum(
            f * (d.T @ w @ g @ w @ d) for f, d, w, g in zip(fg, deltas, weights, gamma, strict=True)
        )
        vcov = e_inv @ meat @ e_inv / n_div
    if not scaled:
        return SBResult(vcov)
    if "yuan.bentler" in scaled and not ml:
        raise EstimationError("test 'yuan.bentler' needs a maximum-likelihood estimator")
    # Yuan-Bentler: Omega = A1^-1 B1 A1^-1 (unstructured: at the sample moments)
    omega, trace_h1 = [], 0.0
    if "yuan.bentler" in scaled:
        for st in problem.stats:
            a1 = normal_information(st.cov, ms, x_idx or None)
            a1_inv = zero_safe_inverse(a1)
            b1 = _firstorder(st.data, st.mean, st.cov, ms, x_idx)
            trace_h1 += float(np.sum(b1 * a1_inv.T))
            omega.append(a1_inv @ b1 @ a1_inv)
    sb_tests = [t for t in scaled if t != "yuan.bentler.mplus"]
    model = _Pieces(deltas, weights, e_inv, b1s)
    out = _tests(sb_tests, chisq, df, model, gamma, omega, ndat, nobs, problem.nfree, trace_h1)
    # the baseline (independence) model: same Gamma, its own Delta, V and information
    # lavaan's baseline frees the covariances among random (fixed.x = FALSE) covariates
    ov_x = [] if x_idx else [list(spec.observed).index(v) for v in spec.names.ov_x]
    yb = "yuan.bentler" in sb_tests
    bases = [
        baseline_fit(missing_patterns(st.data), ms, x_idx, ov_x, information=yb)
        for st in problem.stats
    ]
    bdeltas = _stack([b.delta for b in bases])
    if ml and observed:
        bweights = [
            _observed(st.data, b.mean, b.cov, ms, x_idx)
            for st, b in zip(problem.stats, bases, strict=True)
        ]
    elif ml:
        bweights = [normal_information(b.cov, ms, x_idx or None) for b in bases]
    else:
        bweights = weights
    binfo = sum(f * (d.T @ w @ d) for f, d, w in zip(fg, bdeltas, bweights, strict=True))
    be_inv = np.linalg.pinv(binfo, rcond=1e-12, hermitian=True)
    bpieces = _Pieces(bdeltas, bweights, be_inv, [b.B1 for b in bases])
    bchisq, bdf = baseline
    bnpar = bdeltas[0].shape[1]
    bout = _tests(sb_tests, bchisq, bdf, bpieces, gamma, omega, ndat, nobs, bnpar, trace_h1)
    if "yuan.bentler.mplus" in scaled:
        if not ml:
            raise EstimationError("test 'yuan.bentler.mplus' needs a maximum-likelihood estimator")
        from radsem.estimation.robust.inference import robust_inference

        rob = robust_inference(problem, theta, chisq, df, "expected")
        t = rob.test
        out["yuan.bentler.mplus"] = RobustTest(
            "yuan.bentler.mplus",
            t.stat,
            df,
            t.pvalue,
            t.scaling_factor,
            trace_ugamma=t.trace_ugamma,
            scaling_factor_h1=t.scaling_factor_h1,
            scaling_factor_h0=t.scaling_factor_h0,
        )
        fm = rob.fit_measures
        c0 = fm["baseline.chisq.scaling.factor"]
        bout["yuan.bentler.mplus"] = RobustTest(
            "yuan.bentler.mplus",
            fm["baseline.chisq.scaled"],
            bdf,
            fm["baseline.pvalue.scaled"],
            c0,
            trace_ugamma=c0 * bdf,
        )
    out = {t: out[t] for t in scaled}
    bout = {t: bout[t] for t in scaled}
    n_fit = n if ml else n - ngroups
    fm = robust_measures(chisq, df, out, baseline, bout, n_fit, ngroups)
    return SBResult(vcov, out, bout, fm)


def _robust_incremental(x2, df, x2n, dfn, c, c0) -> dict[str, float]:
    """Robust CFI/TLI/NNFI/RNI (Brosseau-Liard & Savalei 2014) for the scaled-and-shifted
    test. lavaan falls back to the standard formulas when a factor equals 1 exactly; its
    scaled-and-shifted factor ``a (df - b) / df`` is formed from ``a`` and ``b`` and differs
    from 1 by rounding even where it is 1 in exact arithmetic (the DWLS baseline with
    continuous data), so the robust formulas are always used for this test (as lavaan's
    numbers show); the Satorra-Bentler factor ``tr(U Gamma) / df`` of that baseline is
    exactly 1 in lavaan and here, and the fallback applies."""
    if not all(np.isfinite(v) for v in (x2, df, x2n, dfn, c, c0)):  # df = 0: 1 as lavaan
        return {k: np.nan for k in ("cfi.robust", "tli.robust", "nnfi.robust", "rni.robust")}
    t1 = max(x2 - c * df, 0.0)
    t2 = max(x2 - c * df, x2n - c0 * dfn, 0.0)
    cfi_r = 1.0 if (abs(t1) < 1.5e-8 and abs(t2) < 1.5e-8) else 1.0 - t1 / t2
    a, b = (x2 - c * df) * dfn, (x2n - c0 * dfn) * df
    tli_r = 1.0 - a / b if abs(b) > 0 else 1.0
    rn = x2n - c0 * dfn
    rni_r = 1.0 - (x2 - c * df) / rn if abs(rn) >= 1.5e-8 else np.nan
    return {"cfi.robust": cfi_r, "tli.robust": tli_r, "nnfi.robust": tli_r, "rni.robust": rni_r}


def robust_measures(chisq, df, tests, baseline, btests, n, groups) -> dict[str, float]:
    """lavaan's ``.scaled``/``.robust`` measures of the first scaled test (see module notes)."""
    name = next(iter(tests))
    t, bt = tests[name], btests[name]
    bchisq, bdf = baseline
    out: dict[str, float] = {
        "chisq.scaled": t.stat,
        "df.scaled": t.df,
        "pvalue.scaled": t.pvalue,
        "chisq.scaling.factor": t.scaling_factor,
    }
    out.update(
        {
            "baseline.chisq.scaled": bt.stat,
            "baseline.df.scaled": bt.df,
            "baseline.pvalue.scaled": bt.pvalue,
            "baseline.chisq.scaling.factor": bt.scaling_factor,
        }
    )
    robust = name in ROBUST_FLAG_TESTS
    out.update(incremental_indices(t.stat, t.df, bt.stat, bt.df, ".scaled"))
    if robust:
        if name == "scaled.shifted":
            # df = 0: c multiplies df = 0 (lavaan's robust CFI/TLI are then 1)
            c = t.scaling_factor * (df - t.shift) / df if df > 0 else 1.0
            c0 = bt.scaling_factor * (bdf - bt.shift) / bdf
        else:
            c, c0 = t.scaling_factor, bt.scaling_factor
        if name == "scaled.shifted":
            out.update(_robust_incremental(chisq, df, bchisq, bdf, c, c0))
        else:
            out.update(incremental_indices(chisq, df, bchisq, bdf, ".robust", c, c0))
    if name in ("yuan.bentler", "yuan.bentler.mplus"):
        out["scaling.factor.h1"] = t.scaling_factor_h1
        out["scaling.factor.h0"] = t.scaling_factor_h0
    if name == "scaled.shifted":
        x2, df2 = t.stat, df
    else:
        x2 = chisq
        ok = df > 0 and np.isfinite(t.trace_ugamma) and t.trace_ugamma != 0
        df2 = t.trace_ugamma if ok else np.nan  # lavaan: NA at df = 0
    lo, hi = rmsea_ci(x2, df2, n, groups)
    out.update(
        {
            "rmsea.scaled": rmsea(x2, df2, n, groups),
            "rmsea.ci.lower.scaled": lo,
            "rmsea.ci.upper.scaled": hi,
            "rmsea.pvalue.scaled": rmsea_pvalue(x2, df2, n, groups, 1.0, 0.05, True),
            "rmsea.notclose.pvalue.scaled": rmsea_pvalue(x2, df2, n, groups, 1.0, 0.08, False),
        }
    )
    if robust:
        # at df = 0 lavaan's robust RMSEA is the standard one (0, interval 0 to 0)
        c_hat = t.scaling_factor if df > 0 else 1.0
        c_hat3 = c_hat * (df - t.shift) / df if name == "scaled.shifted" and df > 0 else c_hat
        lo, hi = rmsea_ci(t.stat, df, n, groups, c_hat)
        out.update(
            {
                "rmsea.robust": rmsea(chisq, df, n, groups, c_hat3),
                "rmsea.ci.lower.robust": lo,
                "rmsea.ci.upper.robust": hi,
                "rmsea.pvalue.robust": rmsea_pvalue(t.stat, df, n, groups, c_hat, 0.05, True),
                "rmsea.notclose.pvalue.robust": rmsea_pvalue(
                    t.stat, df, n, groups, c_hat, 0.08, False
                ),
            }
        )
    return out


def difference_pieces(problem, theta: np.ndarray, information: str = "expected"):
    """``(D K, K, E^+, W, Gamma, Delta)`` of a fitted continuous problem for
    :func:`radsem.estimation.robust.difference.satorra_2000` (lavaan's ``WLS.V``: the
    expected h1 information at the implied moments for ML, else the estimator's weight)."""
    ms = problem.meanstructure
    x_idx = _x_idx(problem.spec)
    nobs = [st.nobs for st in problem.stats]
    fg = np.asarray(nobs, float) / float(sum(nobs))
    moments = problem.implied_moments(theta)
    deltas = problem.delta(theta)
    weights = _weights(problem, moments, ms, x_idx, information == "observed")
    info = sum(f * (d.T @ w @ d) for f, d, w in zip(fg, deltas, weights, strict=True))
    cons = problem.constraints
    basis = cons.active_basis(theta)[0] if cons is not None else np.eye(theta.size)
    e_inv = constrained_inverse(info, basis)
    gamma = [gamma_adf_x(st.data, ms, x_idx) for st in problem.stats]
    return np.vstack(deltas) @ basis, basis, e_inv, weights, gamma, deltas


def reduced_jacobian(problem, theta: np.ndarray) -> np.ndarray:
    """``Delta K``: the stacked Jacobian times the basis of the equality constraints."""
    cons = problem.constraints
    basis = cons.active_basis(theta)[0] if cons is not None else np.eye(theta.size)
    return np.vstack(problem.delta(theta)) @ basis
