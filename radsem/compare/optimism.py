"""Harrell's bootstrap optimism correction of the apparent C-index."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from radsem.compare.estimator import as_survival_estimator, fold_copy
from radsem.compare.metrics import Outcome, harrell_c
from radsem.errors import DataError, ModelSpecificationError, RadsemError
from radsem.survival.target import structured_outcome

__all__ = ["optimism_bootstrap"]


def _replicate(task, *, data, models, time, event):
    name, idx = task
    return _one(data, models[name], time, event, idx)


def _fit(proto, frame, time, event):
    """A clone of ``proto`` fitted on ``frame`` (outcome in columns ``time``, ``event``)."""
    y = Outcome.from_frame(frame, time, event)
    return fold_copy(as_survival_estimator(proto, time, event)).fit(
        frame, structured_outcome(y.time, y.event)
    )


def _one(data, proto, time, event, idx):
    boot = data.iloc[idx]  # index labels kept (repeated), so patient-keyed steps still work
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = _fit(proto, boot, time, event)
            c_boot = harrell_c(Outcome.from_frame(boot, time, event), model.predict(boot))[0]
            c_orig = harrell_c(Outcome.from_frame(data, time, event), model.predict(data))[0]
        except (RadsemError, np.linalg.LinAlgError, ValueError):
            return np.nan
    return c_boot - c_orig


def optimism_bootstrap(
    data: pd.DataFrame,
    models: Mapping[str, object],
    *,
    time: str,
    event: str,
    n_boot: int = 200,
    random_state: int | None = 0,
    n_jobs: int = 1,
    client=None,
    alpha: float = 0.05,
    progress: bool = False,
) -> pd.DataFrame:
    """Optimism-corrected Harrell's C (Harrell, Lee & Mark 1996) for each model family.

    Parameters
    ----------
    data : DataFrame
    models : dict of name -> model family
        As for :func:`radsem.compare.compare_models`.
    time, event : str
    n_boot : int
        Bootstrap replicates (the same resamples for every model, so models are paired).
    random_state : int, optional
    n_jobs : int
        Replicates run in parallel through joblib.
    client : dask.distributed.Client or str, optional
        Run the replicates on this Dask cluster (a client or a scheduler address; see
        :func:`radsem._dask.map_tasks`). Same seed, same numbers as locally.
    alpha : float
        Level of the percentile interval of the optimism.
    progress : bool
        Show a progress bar over replicates (stderr, on a terminal).

    Returns
    -------
    DataFrame
        ``model, apparent, optimism, corrected, optimism_sd, optimism_ci_lower,
        optimism_ci_upper, n_boot, n_failed``.

    Notes
    -----
    The model is fitted on all patients: apparent C. For each bootstrap sample b it is refitted
    on the sample and O_b = C(sample | fit_b) - C(original | fit_b). Corrected C = apparent -
    mean_b O_b. Every data-dependent step of the family is repeated in each replicate. Failed
    replicates (no convergence, degenerate resample) are dropped and counted.
    """
    from radsem._dask import map_tasks

    if not models:
        raise ModelSpecificationError("models is empty: give at least one model family")
    if int(n_boot) < 2:
        raise DataError("n_boot must be >= 2")
    y = Outcome.from_frame(data, time, event)
    rng = np.random.default_rng(random_state)
    draws = [rng.integers(0, len(data), len(data)) for _ in range(int(n_boot))]
    tasks = [(name, idx) for name in models for idx in draws]
    flat = map_tasks(
        _replicate,
        tasks,
        client=client,
        n_jobs=n_jobs,
        progress=progress,
        desc="optimism bootstrap",
        shared={"data": data, "models": dict(models), "time": time, "event": event},
    )
    flat = np.asarray(flat, dtype=float).reshape(len(models), len(draws))
    rows = []
    for (name, proto), opt in zip(models.items(), flat, strict=True):
        full = _fit(proto, data, time, event)
        apparent = harrell_c(y, full.predict(data))[0]
        ok = opt[np.isfinite(opt)]
        lo, hi = np.quantile(ok, [alpha / 2, 1 - alpha / 2]) if ok.size else (np.nan, np.nan)
        mean = float(ok.mean()) if ok.size else np.nan
        rows.append(
            {
                "model": name,
                "apparent": apparent,
                "optimism": mean,
                "corrected": apparent - mean,
                "optimism_sd": float(ok.std(ddof=1)) if ok.size > 1 else np.nan,
                "optimism_ci_lower": lo,
                "optimism_ci_upper": hi,
                "n_boot": int(n_boot),
                "n_failed": int(n_boot - ok.size),
            }
        )
    return pd.DataFrame(rows)
