"""Nonparametric and Bollen-Stine bootstrap of a fitted structural equation model.

:func:`bootstrap` (also ``SemFit.bootstrap``) resamples cases with replacement within each
group (group sizes kept, as lavaan), refits the model on every resample starting from the
full-sample estimate, and returns a :class:`BootstrapResult` with the draws of all free
parameters (lavaan's ``lavInspect(fit, "boot")``), of the ``:=`` quantities, the refits' test
statistics, which replicates failed, did not converge or were not admissible, and -- for
``type="bollen.stine"`` -- the bootstrap p-value of the chi-square test.

Reproducibility: all resample indices are drawn up front from one ``numpy`` Generator seeded
with ``seed`` (group by group, ``R x n_g`` integers each), so the same seed gives the same
draws whatever ``n_jobs`` is; the replicates are then refitted in parallel (joblib).
"""

from __future__ import annotations

import copy
import numbers
import warnings
from functools import cached_property

import numpy as np
import pandas as pd

from radsem._warnings import user_stacklevel
from radsem.errors import (
    ConvergenceWarning,
    EstimationError,
    ImproperSolutionWarning,
    RadsemWarning,
)
from radsem.estimation.bootstrap.bollen_stine import bollen_stine_data
from radsem.estimation.bootstrap.intervals import (
    BOOT_CI_TYPES,
    basic_ci,
    bca_ci,
    jackknife_acceleration,
    normal_ci,
    percentile_ci,
    regression_acceleration,
)
from radsem.estimation.bootstrap.refit import RefitContext, Replicate

__all__ = ["BOOT_TYPES", "BootstrapResult", "bootstrap", "draw_indices", "free_parameter_names"]

BOOT_TYPES = ("ordinary", "bollen.stine")
_ACCELERATION = ("jackknife", "regression")


# -- arguments, indices, names ------------------------------------------------------------
def _check_args(R, type, n_jobs) -> None:  # noqa: A002
    if isinstance(R, bool) or not isinstance(R, numbers.Integral) or R < 2:
        raise EstimationError(
            f"the number of bootstrap replicates R must be an integer >= 2, got {R!r}"
        )
    if type not in BOOT_TYPES:
        raise EstimationError(f"unknown bootstrap type {type!r}; choose one of {BOOT_TYPES}")
    if (
        isinstance(n_jobs, bool)
        or not isinstance(n_jobs, numbers.Integral)
        or not (n_jobs >= 1 or n_jobs == -1)
    ):
        raise EstimationError(
            f"n_jobs must be a positive integer or -1 (all cores), got {n_jobs!r}"
        )


def draw_indices(nobs, R: int, seed=None) -> tuple[list[np.ndarray], int | None]:
    """Resample indices: per group an ``R x n_g`` array of row numbers drawn with replacement.

    Parameters
    ----------
    nobs : sequence of int
        Group sizes.
    R : int
    seed : int, numpy.random.Generator or None
        ``None`` draws fresh entropy (recorded and returned, so the run can be repeated).

    Returns
    -------
    indices, seed_used
    """
    if isinstance(seed, np.random.Generator):
        rng, used = seed, None
    else:
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        rng, used = np.random.default_rng(seed), seed
    return [rng.integers(0, int(n), size=(R, int(n))) for n in nobs], used


def free_parameter_names(model) -> list[str]:
    """Names of the free parameters as lavaan's ``coef()``: ``lhs op rhs`` (``x~1`` for
    intercepts) with ``.g2``, ``.g3``, ... in later groups, or the label when there is one."""
    par = model.par
    names = []
    for pos in model.free_rows:
        label = str(par.at[pos, "label"]) if "label" in par else ""
        if label and label != "nan":
            names.append(label)
            continue
        lhs, op, rhs = par.at[pos, "lhs"], par.at[pos, "op"], par.at[pos, "rhs"]
        name = f"{lhs}~1" if op == "~1" else f"{lhs}{op}{rhs}"
        g = int(par.at[pos, "group"])
        names.append(name if g == 1 else f"{name}.g{g}")
    return names


# -- running the replicates ----------------------------------------------------------------
def _work(ctx: RefitContext, indices: list[np.ndarray], which: np.ndarray) -> list[Replicate]:
    return ctx.refit_many(indices, which)


def _jack_work(ctx: RefitContext, subsets) -> list[Replicate]:
    return ctx.refit_subsets(subsets)


def _parallel(workers: int):
    """joblib pool: forked workers on Linux (they inherit the imported modules, so start in
    milliseconds; loky's fresh interpreters import numpy/scipy/pandas/radsem first, ~5-10 s
    on a busy machine), loky elsewhere or when torch is loaded (its OpenMP thread pool does
    not survive a fork)."""
    import sys

    from joblib import Parallel

    fork = sys.platform.startswith("linux") and "torch" not in sys.modules
    backend = "multiprocessing" if fork else "loky"
    return Parallel(n_jobs=workers, backend=backend)


def _workers(n_jobs: int) -> int:
    if n_jobs == -1:
        import os

        return max(1, os.cpu_count() or 1)
    return n_jobs


def _chunk(indices: list[np.ndarray], *, ctx: RefitContext) -> list[Replicate]:
    return ctx.refit_many(indices, np.arange(indices[0].shape[0]))


def _backend() -> str:
    import sys

    fork = sys.platform.startswith("linux") and "torch" not in sys.modules
    return "multiprocessing" if fork else "loky"


def run_replicates(
    ctx: RefitContext,
    indices: list[np.ndarray],
    n_jobs: int = 1,
    *,
    client=None,
    progress: bool = False,
) -> list[Replicate]:
    """Refit every replicate (in this process, ``n_jobs`` local processes or on the Dask
    cluster ``client``, see :func:`radsem._dask.map_tasks`); list of Replicate in order."""
    from radsem._dask import map_tasks

    R = indices[0].shape[0]
    workers = min(_workers(n_jobs), R)
    if workers == 1 and client is None and not progress:
        return ctx.refit_many(indices, np.arange(R))
    # every replicate starts from the full-sample estimate, so chunking changes no number
    n_chunks = min(R, max(4 * workers, 50 if progress or client is not None else 1))
    chunks = [c for c in np.array_split(np.arange(R), n_chunks) if c.size]
    parts = map_tasks(
        _chunk,
        [[idx[c] for idx in indices] for c in chunks],
        client=client,
        n_jobs=workers,
        shared={"ctx": ctx},
        progress=progress,
        desc="SEM bootstrap",
        backend=_backend(),
    )
    return [rep for part in parts for rep in part]


def run_jackknife(ctx: RefitContext, n_jobs: int = 1) -> list[Replicate]:
    """Leave-one-case-out refits (case order: group 1, group 2, ...)."""
    subsets = []
    for g, arr in enumerate(ctx.data):
        full = [np.arange(d.shape[0]) for d in ctx.data]
        for i in range(arr.shape[0]):
            rows = list(full)
            rows[g] = np.delete(full[g], i)
            subsets.append(rows)
    workers = min(_workers(n_jobs), len(subsets))
    if workers == 1:
        return ctx.refit_subsets(subsets)
    from joblib import delayed

    chunks = [c for c in np.array_split(np.arange(len(subsets)), 4 * workers) if c.size]
    parts = _parallel(workers)(delayed(_jack_work)(ctx, [subsets[k] for k in c]) for c in chunks)
    return [rep for part in parts for rep in part]


# -- the result ---------------------------------------------------------------------------
class BootstrapResult:
    """Draws and diagnostics of a bootstrap run (create it with :func:`bootstrap`).

    Attributes
    ----------
    type : str
        ``"ordinary"`` or ``"bollen.stine"``.
    R : int
        Replicates requested.
    seed : int or None
        Seed the indices were drawn with (``None`` when a Generator was passed).
    draws : pandas.DataFrame
        One row per replicate (index ``replicate``, 0-based), one column per free parameter
        (lavaan's ``coef()`` names); rows of failed / non-converged replicates are NaN (as
        lavaan's ``lavInspect(fit, "boot")``).
    defined_draws : pandas.DataFrame
        The ``:=`` quantities computed from each replicate's parameters.
    chisq : pandas.Series
        Standard test statistic ``2 N fmin`` of each refit.
    status : pandas.Series
        ``"ok"``, ``"failed"`` (sample statistics or fit raised) or ``"nonconverged"``.
    admissible : pandas.Series of bool
    messages : pandas.Series of str
        Why a replicate failed or was not admissible.
    indices : list of ndarray
        Per group the ``R x n_g`` resampled row numbers.
    """

    def __init__(
        self,
        fit,
        type: str,
        R: int,
        seed,
        indices,
        replicates: list[Replicate],
        ctx: RefitContext,
        n_jobs: int,
    ) -> None:  # noqa: A002
        model = fit.problem.model
        self._fit = fit
        self._ctx = ctx
        self._n_jobs = n_jobs
        self.type = type
        self.R = int(R)
        self.seed = seed
        self.indices = indices
        names = free_parameter_names(model)
        theta = np.full((R, model.nfree), np.nan)
        values = np.full((R, len(model.par)), np.nan)
        for b, rep in enumerate(replicates):
            if rep.theta is not None:
                theta[b], values[b] = rep.theta, rep.values
        idx = pd.RangeIndex(R, name="replicate")
        self.draws = pd.DataFrame(theta, index=idx, columns=names)
        self._values = values
        self.chisq = pd.Series([r.chisq for r in replicates], index=idx, name="chisq")
        self.status = pd.Series([r.status for r in replicates], index=idx, name="status")
        self.admissible = pd.Series(
            [r.status == "ok" and r.admissible for r in replicates], index=idx, name="admissible"
        )
        self.messages = pd.Series([r.message for r in replicates], index=idx, name="message")
        self.defined_draws = pd.DataFrame(
            np.array([self._defined(t) for t in theta]).reshape(R, len(self.defined_names)),
            index=idx,
            columns=self.defined_names,
        )

    # -- bookkeeping ----------------------------------------------------------------------
    @cached_property
    def _defined_spec(self) -> tuple[list, dict]:
        spec = self._fit.spec
        return spec.defined(), dict(spec._label_rows)

    @property
    def defined_names(self) -> list[str]:
        """Names of the ``:=`` quantities."""
        return [name for name, _ in self._defined_spec[0]]

    def _defined(self, theta: np.ndarray) -> np.ndarray:
        defined, rows = self._defined_spec
        if not defined or not np.isfinite(theta).all():
            return np.full(len(defined), np.nan)
        vals = self._fit.problem.model.values(theta)
        env = {name: float(vals[pos]) for name, pos in rows.items()}
        try:
            for name, expr in defined:
                env[name] = expr.evaluate(env)
        except (ArithmeticError, ValueError):
            return np.full(len(defined), np.nan)
        return np.array([env[name] for name, _ in defined], dtype=float)

    @property
    def failed_idx(self) -> np.ndarray:
        """Replicates whose sample statistics or fit raised an error."""
        return np.flatnonzero(self.status.to_numpy() == "failed")

    @property
    def nonconverged_idx(self) -> np.ndarray:
        """Replicates whose optimiser did not converge."""
        return np.flatnonzero(self.status.to_numpy() == "nonconverged")

    @property
    def nonadmissible_idx(self) -> np.ndarray:
        """Converged replicates with an improper solution (kept in the draws, as lavaan)."""
        return np.flatnonzero((self.status.to_numpy() == "ok") & ~self.admissible.to_numpy())

    @property
    def counts(self) -> pd.Series:
        """Numbers of successful, failed, non-converged and non-admissible replicates."""
        return pd.Series(
            {
                "requested": self.R,
                "successful": self.n_successful,
                "failed": self.failed_idx.size,
                "nonconverged": self.nonconverged_idx.size,
                "nonadmissible": self.nonadmissible_idx.size,
            }
        )

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of the replicates used (converged)."""
        return self.status.to_numpy() == "ok"

    @property
    def n_successful(self) -> int:
        """Number of replicates used."""
        return int(self.ok.sum())

    def __repr__(self) -> str:
        return (
            f"<BootstrapResult {self.type} R={self.R} successful={self.n_successful} "
            f"failed={self.failed_idx.size} nonconverged={self.nonconverged_idx.size} "
            f"nonadmissible={self.nonadmissible_idx.size}>"
        )

    # -- test -----------------------------------------------------------------------------
    @property
    def chisq_original(self) -> float:
        """Test statistic of the full-sample fit."""
        return float(2.0 * self._fit.problem.ntotal * self._fit.fmin)

    @property
    def pvalue(self) -> float:
        """Bollen-Stine bootstrap p-value ``#{T*_b > T} / B`` over the successful replicates
        (lavaan's rule); NaN for the ordinary bootstrap."""
        if self.type != "bollen.stine":
            return float("nan")
        t = self.chisq.to_numpy()[self.ok]
        return float(np.mean(t > self.chisq_original)) if t.size else float("nan")

    # -- standard errors ------------------------------------------------------------------
    @cached_property
    def vcov(self) -> np.ndarray:
        """Covariance of the successful draws, divided by ``B`` (as lavaan)."""
        t = self.draws.to_numpy()[self.ok]
        return np.cov(t, rowvar=False, bias=True).reshape(t.shape[1], t.shape[1])

    @property
    def se(self) -> pd.Series:
        """Bootstrap standard errors of the free parameters."""
        return pd.Series(np.sqrt(np.clip(np.diag(self.vcov), 0, None)), index=self.draws.columns)

    @property
    def defined_se(self) -> pd.Series:
        """Standard deviations (``B - 1``, as lavaan) of the ``:=`` draws."""
        return self.defined_draws[self.ok].std(ddof=1)

    # -- confidence intervals -------------------------------------------------------------
    @cached_property
    def _jackknife(self) -> tuple[np.ndarray, np.ndarray]:
        reps = run_jackknife(self._ctx, self._n_jobs)
        nfree = self.draws.shape[1]
        theta = np.array([r.theta if r.theta is not None else np.full(nfree, np.nan) for r in reps])
        return theta, np.array([self._defined(t) for t in theta]).reshape(len(reps), -1)

    def _freq(self) -> tuple[np.ndarray, np.ndarray]:
        blocks, first, offset = [], [], 0
        for idx in self.indices:
            n = idx.shape[1]
            blocks.append(np.stack([np.bincount(row, minlength=n) for row in idx]))
            first.append(offset)
            offset += n
        return np.hstack(blocks)[self.ok], np.array(first)

    def _acceleration(self, which: str, acceleration: str) -> np.ndarray:
        if acceleration == "jackknife":
            theta, defined = self._jackknife
            return jackknife_acceleration(theta if which == "free" else defined)
        freq, first = self._freq()
        if freq.shape[0] < freq.shape[1]:
            raise EstimationError(
                f"regression-based BCa needs more successful replicates ({freq.shape[0]}) than "
                f"cases ({freq.shape[1]}); increase R or use acceleration='jackknife'"
            )
        draws = (self.draws if which == "free" else self.defined_draws).to_numpy()[self.ok]
        return regression_acceleration(draws, freq, first)

    def intervals(
        self, level: float = 0.95, boot_ci_type: str = "perc", acceleration: str = "jackknife"
    ) -> pd.DataFrame:
        """Confidence limits of every free parameter and ``:=`` quantity.

        Parameters
        ----------
        level : float
        boot_ci_type : {"perc", "basic", "norm", "bca.simple", "bca"}
            As lavaan's ``parameterEstimates(boot.ci.type=)``; ``"bca"`` is the full BCa.
        acceleration : {"jackknife", "regression"}
            How ``"bca"`` estimates the acceleration: leave-one-out refits (the textbook
            BCa; ``n`` extra fits, computed once) or lavaan 0.6-14's regression of the draws
            on the bootstrap frequencies (needs ``R >= N``).

        Returns
        -------
        pandas.DataFrame
            Index: parameter names (free, then ``:=``); columns ``est, se, ci_lower,
            ci_upper``.
        """
        _check_ci_args(level, boot_ci_type, acceleration)
        fit = self._fit
        est_free = np.asarray(fit.theta, float)
        est_def = self._defined(est_free)
        parts = []
        for which, est, draws, se in (
            ("free", est_free, self.draws, self.se),
            ("defined", est_def, self.defined_draws, self.defined_se),
        ):
            if draws.shape[1] == 0:
                continue
            t = draws.to_numpy()[self.ok]
            if boot_ci_type == "perc":
                ci = percentile_ci(t, level)
            elif boot_ci_type == "basic":
                ci = basic_ci(est, t, level)
            elif boot_ci_type == "norm":
                mean_theta = self.draws.to_numpy()[self.ok].mean(axis=0)
                bias = t.mean(axis=0) - est if which == "free" else self._defined(mean_theta) - est
                ci = normal_ci(est, se.to_numpy(), bias, level)
            else:
                acc = (
                    None
                    if boot_ci_type == "bca.simple"
                    else self._acceleration(which, acceleration)
                )
                ci = bca_ci(est, t, level, acc)
            parts.append(
                pd.DataFrame(
                    {"est": est, "se": se.to_numpy(), "ci_lower": ci[:, 0], "ci_upper": ci[:, 1]},
                    index=draws.columns,
                )
            )
        if not parts:
            return pd.DataFrame(columns=["est", "se", "ci_lower", "ci_upper"])
        return pd.concat(parts)

    def table_intervals(
        self, table: pd.DataFrame, level: float, boot_ci_type: str, acceleration: str = "jackknife"
    ) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper limits aligned with the rows of ``SemFit._table`` (fixed
        parameters get ``[est, est]``, as lavaan)."""
        ci = self.intervals(level, boot_ci_type, acceleration)
        model = self._fit.problem.model
        lower = table["est"].to_numpy(float).copy()
        upper = lower.copy()
        nfree = model.nfree
        lower[model.free_rows] = ci["ci_lower"].to_numpy()[:nfree]
        upper[model.free_rows] = ci["ci_upper"].to_numpy()[:nfree]
        dpos = np.flatnonzero(table["op"].to_numpy() == ":=")
        lower[dpos] = ci["ci_lower"].to_numpy()[nfree:]
        upper[dpos] = ci["ci_upper"].to_numpy()[nfree:]
        return lower, upper

    # -- standardised solution ------------------------------------------------------------
    def standardized_draws(self, type: str = "std.all") -> pd.DataFrame:  # noqa: A002
        """Standardised values of every parameter row for each successful replicate
        (columns ``lhs op rhs`` with ``.gN`` in later groups)."""
        from radsem.estimation.core.standardize import standardize

        if type not in ("std.all", "std.lv", "std.nox"):
            raise EstimationError(f"type must be 'std.all', 'std.lv' or 'std.nox', got {type!r}")
        fit = self._fit
        model = copy.copy(fit.problem.model)
        exo = fit.spec.exogenous if fit.spec.fixed_x else ()
        rows = []
        for b in np.flatnonzero(self.ok):
            model.set_fixed_values(self._values[b])
            rows.append(standardize(model, self.draws.to_numpy()[b], type, exo))
        par = model.par
        cols = [f"{r.lhs}~1" if r.op == "~1" else f"{r.lhs}{r.op}{r.rhs}" for r in par.itertuples()]
        cols = [c if g == 1 else f"{c}.g{g}" for c, g in zip(cols, par["group"], strict=True)]
        return pd.DataFrame(
            np.array(rows).reshape(-1, len(par)), index=self.draws.index[self.ok], columns=cols
        )

    def standardized_intervals(
        self,
        type: str = "std.all",
        level: float = 0.95,  # noqa: A002
        boot_ci_type: str = "perc",
    ) -> pd.DataFrame:
        """Bootstrap SE and ``perc``/``basic``/``norm``/``bca.simple`` limits of the
        standardised solution (lavaan's ``standardizedSolution`` uses the delta method)."""
        _check_ci_args(level, boot_ci_type, "jackknife")
        if boot_ci_type == "bca":
            raise EstimationError(
                "boot_ci_type='bca' is not available for the standardised solution; use "
                "'bca.simple', 'perc', 'basic' or 'norm'"
            )
        from radsem.estimation.core.standardize import standardize

        fit = self._fit
        exo = fit.spec.exogenous if fit.spec.fixed_x else ()
        est = standardize(fit.problem.model, fit.theta, type, exo)
        draws = self.standardized_draws(type)
        t = draws.to_numpy()
        se = np.nanstd(t, axis=0, ddof=1)
        fixed = np.nanstd(t, axis=0) == 0
        if boot_ci_type == "perc":
            ci = percentile_ci(t, level)
        elif boot_ci_type == "basic":
            ci = basic_ci(est, t, level)
        elif boot_ci_type == "norm":
            ci = normal_ci(est, se, np.nanmean(t, axis=0) - est, level)
        else:
            ci = bca_ci(est, t, level)
        par = fit.problem.model.par
        out = (
            par[["lhs", "op", "rhs", "group"]]
            .reset_index(drop=True)
            .assign(est_std=est, se=np.where(fixed, 0.0, se), ci_lower=ci[:, 0], ci_upper=ci[:, 1])
        )
        return out


def _check_ci_args(level, boot_ci_type, acceleration) -> None:
    if boot_ci_type not in BOOT_CI_TYPES:
        raise EstimationError(
            f"unknown boot_ci_type {boot_ci_type!r}; choose one of {BOOT_CI_TYPES}"
        )
    if acceleration not in _ACCELERATION:
        raise EstimationError(
            f"unknown acceleration {acceleration!r}; choose one of {_ACCELERATION}"
        )
    if not (isinstance(level, numbers.Real) and 0 < level < 1):
        raise EstimationError(f"level must be between 0 and 1, got {level!r}")


# -- entry point ----------------------------------------------------------------------------
def bootstrap(
    fit,
    R: int = 1000,
    type: str = "ordinary",
    seed=None,  # noqa: A002
    n_jobs: int = 1,
    *,
    client=None,
    progress: bool = False,
    stacklevel: int = 2,
) -> BootstrapResult:
    """Bootstrap a fitted model (lavaan's ``bootstrapLavaan``).

    Parameters
    ----------
    fit : SemFit
    R : int
        Number of replicates (>= 2; lavaan's default 1000).
    type : {"ordinary", "bollen.stine"}
        Resample the cases, or (Bollen & Stine 1992) resample cases of the data transformed
        so that the model fits them exactly, giving the bootstrap distribution of the test
        statistic under the model (:attr:`BootstrapResult.pvalue`).
    seed : int, numpy.random.Generator or None
        Seeds the resample indices (same seed, same draws, for any ``n_jobs``).
    n_jobs : int
        Processes to refit in (``-1``: all cores).
    client : distributed.Client or str, optional
        Refit on this Dask cluster instead (a client or a scheduler address); the same draws,
        so the same numbers as a local run (:func:`radsem._dask.map_tasks`).
    progress : bool
        Show a progress bar over replicates (stderr, on a terminal).

    Returns
    -------
    BootstrapResult

    Raises
    ------
    EstimationError
        Bad arguments, a model without free parameters, or no successful replicate.

    Warns
    -----
    ConvergenceWarning
        When replicates failed or did not converge (excluded, as lavaan).
    ImproperSolutionWarning
        When converged replicates have improper solutions (kept, as lavaan).

    Notes
    -----
    Each replicate recomputes the sample statistics as the full-sample fit did (estimator,
    FIML's EM moments, fixed.x covariate moments) and starts the optimiser at the
    full-sample estimate. Resampling is within groups. With ``missing="ml"`` the Bollen-Stine
    transformation is Enders' (2002) pattern-wise one (lavaan 0.6-14 refuses this case).
    Checked against lavaan 0.6-14 (``tests/estimation/test_bootstrap.py``,
    ``docs/sem-bootstrap.md``): identical refits on identical resamples, bootstrap SEs,
    percentile limits and the Bollen-Stine p-value within Monte Carlo error.
    """
    _check_args(R, type, n_jobs)
    problem = fit.problem
    if problem.nfree == 0:
        raise EstimationError("the model has no free parameters to bootstrap")
    fiml = fit.options.get("missing") == "ml"
    data = [st.data for st in problem.stats]
    if type == "bollen.stine":
        data = bollen_stine_data(problem, fit.theta)
        if fiml:
            warnings.warn(
                "Bollen-Stine with missing data uses Enders' (2002) pattern-wise "
                "transformation, an approximation that no independent implementation "
                "checks (lavaan refuses this case); treat its p-value as indicative",
                RadsemWarning,
                stacklevel=user_stacklevel(),
            )
    ctx = RefitContext(problem, data, fit.theta, fit.options["estimator"], fiml)
    indices, used = draw_indices([d.shape[0] for d in data], int(R), seed)
    reps = run_replicates(ctx, indices, n_jobs, client=client, progress=progress)
    result = BootstrapResult(fit, type, int(R), used, indices, reps, ctx, n_jobs)
    bad = np.concatenate([result.failed_idx, result.nonconverged_idx])
    if result.n_successful == 0:
        raise EstimationError(
            f"all {R} bootstrap replicates failed; first reason: {reps[0].message}"
        )
    if bad.size:
        warnings.warn(
            f"{bad.size} of {R} bootstrap replicates failed or did not converge "
            f"(replicates {_short(np.sort(bad))}); they are excluded",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    improper = result.nonadmissible_idx
    if improper.size:
        warnings.warn(
            f"{improper.size} of {R} bootstrap replicates have improper solutions "
            f"(replicates {_short(improper)}); they are kept, as lavaan does",
            ImproperSolutionWarning,
            stacklevel=user_stacklevel(),
        )
    return result


def _short(idx: np.ndarray, limit: int = 10) -> str:
    text = ", ".join(str(int(i)) for i in idx[:limit])
    return text + (", ..." if idx.size > limit else "")
