"""Report figures: Kaplan-Meier curves with numbers at risk, forest, calibration, feature-ranking
(FR) bars and cluster heatmap. matplotlib with the Agg backend; each function returns a
:class:`~radsem.report.document.Figure` (SVG + PNG) whose ``data`` holds what was drawn."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from radsem.errors import DataError

__all__ = [
    "kaplan_meier_plot",
    "numbers_at_risk",
    "forest_plot",
    "calibration_plot",
    "feature_ranking_plot",
    "cluster_heatmap",
    "decision_curve_plot",
]

_COLOURS = ("#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d68910", "#17a2b8", "#6d4c41", "#e84393")


def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() != "agg":
        matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _need(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{what} needs a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{what}: the table lacks columns {missing} (it has {list(frame.columns)})")
    if frame.empty:
        raise DataError(f"{what}: the table is empty")


# ------------------------------------------------------------------ Kaplan-Meier
def _km_table(km) -> pd.DataFrame:
    table = km.table if hasattr(km, "table") and isinstance(km.table, pd.DataFrame) else km
    _need(table, ["time", "n_risk", "n_event", "surv"], "kaplan_meier_plot")
    table = table.copy()
    if "group" not in table.columns:
        table["group"] = "all"
    if (table["surv"] < 0).any() or (table["surv"] > 1).any():
        raise DataError("kaplan_meier_plot: surv must lie in [0, 1]")
    return table


def numbers_at_risk(km, times: Sequence[float]) -> pd.DataFrame:
    """Numbers at risk (time >= t) per group at ``times``, read from a tidy KM table.

    Rows are groups, columns the times. Just after the last time of a group the count is 0.
    """
    table = _km_table(km)
    try:
        times = np.atleast_1d(np.asarray(times, float))
    except (TypeError, ValueError):
        raise DataError(f"numbers_at_risk: times must be numbers, got {times!r}") from None
    if times.ndim != 1 or not np.all(np.isfinite(times)) or np.any(times < 0):
        raise DataError("numbers_at_risk: times must be finite and >= 0")
    rows = {}
    for g, sub in table.groupby("group", sort=False):
        t = sub["time"].to_numpy(float)
        n = sub["n_risk"].to_numpy()
        pos = np.searchsorted(t, times, side="left")
        rows[g] = np.where(pos < len(t), n[np.minimum(pos, len(t) - 1)], 0).astype(int)
    return pd.DataFrame(rows, index=pd.Index(times, name="time")).T.rename_axis("group")


def kaplan_meier_plot(
    km,
    times: Sequence[float] | None = None,
    ci: bool = True,
    title: str | None = None,
    xlabel: str = "Time",
    ylabel: str = "Survival probability",
    caption: str | None = None,
):
    """Kaplan-Meier curves by group with confidence bands and a numbers-at-risk table.

    Parameters
    ----------
    km : DataFrame or KaplanMeierResult
        Tidy table ``time, n_risk, n_event, surv`` (+ ``n_censor``, ``lower``, ``upper``,
        ``group``), one row per distinct time per group, as :func:`radsem.survival.kaplan_meier`.
    times : sequence of float, optional
        Times of the numbers-at-risk table (default: the x-axis ticks).
    ci : bool
        Shade the pointwise confidence band (``lower``/``upper``).

    Returns
    -------
    Figure
        ``data["steps"][group] = (x, y)``: the drawn step function (starting at (0, 1));
        ``data["at_risk"]``: the numbers-at-risk table.
    """
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    table = _km_table(km)
    tmax = float(table["time"].max())
    if times is None:
        times = [t for t in MaxNLocator(6).tick_values(0, tmax) if 0 <= t <= tmax]
    times = np.asarray(times, float)
    groups = list(dict.fromkeys(table["group"]))
    fig = plt.figure(figsize=(7.5, 4.6 + 0.28 * len(groups)))
    ax = fig.add_axes([0.14, 0.1 + 0.055 * len(groups) + 0.12, 0.82, 0.62])
    steps = {}
    for k, g in enumerate(groups):
        sub = table[table["group"] == g].sort_values("time")
        col = _COLOURS[k % len(_COLOURS)]
        x = np.concatenate([[0.0], sub["time"].to_numpy(float)])
        y = np.concatenate([[1.0], sub["surv"].to_numpy(float)])
        (line,) = ax.plot(x, y, drawstyle="steps-post", color=col, lw=1.6, label=str(g))
        steps[g] = (np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float))
        if ci and {"lower", "upper"} <= set(sub.columns):
            lo = np.concatenate([[1.0], sub["lower"].to_numpy(float)])
            hi = np.concatenate([[1.0], sub["upper"].to_numpy(float)])
            ok = np.isfinite(lo) & np.isfinite(hi)
            ax.fill_between(x, lo, hi, where=ok, step="post", color=col, alpha=0.15, lw=0)
        if "n_censor" in sub.columns:
            cens = sub[sub["n_censor"] > 0]
            ax.plot(cens["time"], cens["surv"], "|", color=col, ms=7, mew=1.2)
    ax.set_xlim(0, tmax * 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel(ylabel)
    ax.set_xticks(times)
    ax.grid(alpha=0.25)
    if len(groups) > 1:
        ax.legend(frameon=False, loc="lower left")
    if title:
        ax.set_title(title)
    at_risk = numbers_at_risk(table, times)
    rax = fig.add_axes([0.14, 0.02, 0.82, 0.055 * len(groups) + 0.02], sharex=ax)
    rax.set_ylim(-0.5, len(groups) - 0.5)
    rax.axis("off")
    for k, g in enumerate(groups):
        yk = len(groups) - 1 - k
        for t, n in zip(times, at_risk.loc[g], strict=True):
            rax.text(
                t,
                yk,
                str(int(n)),
                ha="center",
                va="center",
                fontsize=8.5,
                color=_COLOURS[k % len(_COLOURS)],
            )
        rax.text(
            -0.07,
            yk,
            str(g),
            ha="right",
            va="center",
            fontsize=8.5,
            transform=rax.get_yaxis_transform(),
            color=_COLOURS[k % len(_COLOURS)],
        )
    rax.text(
        -0.07,
        len(groups) - 0.3,
        "At risk",
        ha="right",
        va="bottom",
        fontsize=8.5,
        fontweight="bold",
        transform=rax.get_yaxis_transform(),
    )
    ax.set_xlabel(xlabel)
    from radsem.report.document import figure_from_matplotlib

    cap = caption or (
        "Kaplan-Meier estimates"
        + (" by group" if len(groups) > 1 else "")
        + (" with pointwise confidence bands" if ci else "")
        + "; ticks mark censored times; numbers at risk below."
    )
    return figure_from_matplotlib(fig, caption=cap, data={"steps": steps, "at_risk": at_risk})


# ------------------------------------------------------------------ forest
def forest_plot(
    frame: pd.DataFrame,
    estimate: str = "hr",
    lower: str = "ci_lower",
    upper: str = "ci_upper",
    label: str | None = None,
    null: float | None = None,
    log: bool | None = None,
    xlabel: str | None = None,
    title: str | None = None,
    caption: str | None = None,
):
    """Point estimates with confidence intervals, one row per line (hazard ratios on a log
    axis by default when ``estimate == "hr"``; differences on a linear axis around 0).

    Parameters
    ----------
    frame : DataFrame
        Columns ``estimate``, ``lower``, ``upper`` and optionally ``label`` (default: the
        index).
    null : float, optional
        Reference line (1 for ratios, 0 for differences; inferred from ``log``).
    """
    _need(frame, [estimate, lower, upper] + ([label] if label else []), "forest_plot")
    if log is None:
        log = estimate.lower() in ("hr", "or", "rr", "exp(coef)", "ratio")
    frame, dropped = _drawable_rows(frame, [estimate, lower, upper], log, label)
    est = frame[estimate].to_numpy(float)
    lo = frame[lower].to_numpy(float)
    hi = frame[upper].to_numpy(float)
    if np.any((lo > est + 1e-12) | (hi < est - 1e-12)):
        raise DataError("forest_plot: every confidence interval must contain its estimate")
    if log and np.any(np.concatenate([est, lo, hi]) <= 0):
        raise DataError("forest_plot: ratios on a log axis must be positive")
    if null is None:
        null = 1.0 if log else 0.0
    names = [str(v) for v in (frame[label] if label else frame.index)]
    plt = _pyplot()
    n = len(frame)
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.42 * n))
    y = np.arange(n)[::-1]
    ax.hlines(y, lo, hi, color="#333333", lw=1.4)
    pts = ax.plot(est, y, "s", color=_COLOURS[0], ms=6)[0]
    ax.axvline(null, color="#999999", ls="--", lw=1)
    if log:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(y, names)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel(xlabel or estimate)
    ax.grid(axis="x", alpha=0.25)
    for yi, e, a, b in zip(y, est, lo, hi, strict=True):
        ax.annotate(
            f"{e:.2f} ({a:.2f}, {b:.2f})",
            (1.01, yi),
            xycoords=("axes fraction", "data"),
            va="center",
            fontsize=8.5,
        )
    if title:
        ax.set_title(title)
    from radsem.report.document import figure_from_matplotlib

    cap = caption or (
        f"Forest plot: {estimate} with confidence intervals; dashed line at {null:g} (no effect)."
    )
    if dropped:
        cap += (
            f" Not drawn (estimate or interval missing, infinite{' or <= 0' if log else ''}):"
            f" {', '.join(dropped)}."
        )
    return figure_from_matplotlib(
        fig,
        caption=cap,
        data={
            "estimate": np.asarray(pts.get_xdata(), float),
            "y": np.asarray(pts.get_ydata(), float),
            "labels": names,
        },
    )


def _drawable_rows(
    frame: pd.DataFrame, columns: list[str], log: bool, label: str | None
) -> tuple[pd.DataFrame, list[str]]:
    """Rows whose values can be drawn (finite, and positive on a log axis), and the labels of
    the others (e.g. the infinite hazard ratio of a separated Cox model)."""
    values = frame[columns].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    ok = np.isfinite(values).all(axis=1)
    if log:
        ok &= (values > 0).all(axis=1)
    if not ok.any():
        raise DataError(
            "forest_plot: no row has a finite"
            + (", positive (log axis)" if log else "")
            + " estimate and interval"
        )
    names = frame[label] if label else frame.index
    return frame.loc[ok], [str(v) for v in np.asarray(names)[~ok]]


# ------------------------------------------------------------------ calibration
def calibration_plot(
    frame: pd.DataFrame,
    predicted: str = "predicted",
    observed: str = "observed",
    lower: str | None = None,
    upper: str | None = None,
    group: str | None = None,
    title: str | None = None,
    caption: str | None = None,
    xlabel: str = "Predicted probability",
    ylabel: str = "Observed proportion",
):
    """Observed against predicted risk (by risk group), with the line of perfect calibration.

    ``frame`` has one row per risk bin: ``predicted`` (mean predicted risk), ``observed``
    (e.g. 1 - Kaplan-Meier at the horizon), optional CI columns and a ``group`` column for
    several models.
    """
    cols = [predicted, observed] + [c for c in (lower, upper, group) if c]
    _need(frame, cols, "calibration_plot")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 5.0))
    groups = list(dict.fromkeys(frame[group])) if group else [None]
    drawn = {}
    for k, g in enumerate(groups):
        sub = frame if g is None else frame[frame[group] == g]
        sub = sub.sort_values(predicted)
        col = _COLOURS[k % len(_COLOURS)]
        x, y = sub[predicted].to_numpy(float), sub[observed].to_numpy(float)
        if lower and upper:
            ax.errorbar(
                x,
                y,
                yerr=[y - sub[lower].to_numpy(float), sub[upper].to_numpy(float) - y],
                fmt="none",
                ecolor=col,
                alpha=0.6,
                capsize=2,
            )
        (line,) = ax.plot(x, y, "o-", color=col, label=None if g is None else str(g), ms=5)
        drawn["all" if g is None else g] = (
            np.asarray(line.get_xdata(), float),
            np.asarray(line.get_ydata(), float),
        )
    hi = float(np.nanmax(frame[[predicted, observed]].to_numpy(float)))
    lim = min(1.0, max(hi * 1.1, 0.05)) if hi <= 1 else hi * 1.1
    ax.plot([0, lim], [0, lim], ls="--", color="#999999", lw=1)
    ax.set_xlim(0, lim)
    ax.set_ylim(0, lim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.25)
    if group:
        ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    from radsem.report.document import figure_from_matplotlib

    cap = caption or (
        "Calibration: observed against predicted risk per risk group; the dashed "
        "diagonal is perfect calibration."
    )
    return figure_from_matplotlib(fig, caption=cap, data={"points": drawn})


# ------------------------------------------------------------------ feature ranking
def feature_ranking_plot(
    ranking,
    top: int = 30,
    bands: tuple[float, float] = (1.50, 1.85),
    title: str | None = None,
    caption: str | None = None,
):
    """Horizontal bars of the feature ranking FR (Halle et al. 2024), highest first, with the
    bands FR > 1.85 and 1.50 < FR <= 1.85 highlighted.

    Parameters
    ----------
    ranking : Series or DataFrame
        FR values indexed by feature name, or a DataFrame with ``feature`` and ``FR`` columns.
    top : int
        Number of features shown.
    """
    if isinstance(ranking, pd.DataFrame):
        fr_col = "FR" if "FR" in ranking.columns else "fr"
        _need(ranking, ["feature", fr_col], "feature_ranking_plot")
        ranking = pd.Series(ranking[fr_col].to_numpy(float), index=ranking["feature"])
    if not isinstance(ranking, pd.Series) or ranking.empty:
        raise DataError("feature_ranking_plot needs a non-empty Series or DataFrame of FR values")
    if top < 1:
        raise DataError(f"top must be at least 1, got {top}")
    low, high = sorted(bands)
    fr = ranking.astype(float).sort_values(ascending=False, kind="stable").iloc[:top]
    colours = ["#c0392b" if v > high else "#d68910" if v > low else "#9aa5b1" for v in fr]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 1.0 + 0.24 * len(fr)))
    y = np.arange(len(fr))[::-1]
    bars = ax.barh(y, fr.to_numpy(), color=colours, height=0.75)
    ax.set_yticks(y, [str(i) for i in fr.index], fontsize=8)
    ax.axvline(low, color="#d68910", ls="--", lw=1)
    ax.axvline(high, color="#c0392b", ls="--", lw=1)
    ax.set_xlabel("Feature ranking FR (centroid separation across clusters)")
    ax.set_ylim(-0.7, len(fr) - 0.3)
    ax.grid(axis="x", alpha=0.25)
    if title:
        ax.set_title(title)
    from radsem.report.document import figure_from_matplotlib

    cap = caption or (
        f"Top {len(fr)} features by FR; red: FR > {high:.2f}, orange: "
        f"{low:.2f} < FR <= {high:.2f} (the bands of Halle et al. 2024)."
    )
    return figure_from_matplotlib(
        fig,
        caption=cap,
        data={
            "features": [str(i) for i in fr.index],
            "widths": np.array([b.get_width() for b in bars]),
            "colours": colours,
        },
    )


# ------------------------------------------------------------------ heatmap
def cluster_heatmap(
    features: pd.DataFrame,
    clusters,
    max_features: int = 40,
    order: Sequence[str] | None = None,
    clip: float = 3.0,
    title: str | None = None,
    caption: str | None = None,
):
    """Heatmap of z-scored features (columns) for the cases (rows) sorted by cluster.

    Rows carry no case labels (no identifiers in reports); a colour strip shows the clusters.

    Parameters
    ----------
    features : DataFrame
        Cases x features (numeric).
    clusters : array-like
        Cluster label of each row.
    max_features : int
        Keep the features with the largest between-cluster spread (or those in ``order``).
    order : sequence of str, optional
        Features to show, in this order (e.g. sorted by FR).
    """
    if not isinstance(features, pd.DataFrame) or features.empty:
        raise DataError("cluster_heatmap needs a non-empty DataFrame of features")
    labels = np.asarray(clusters)
    if labels.shape != (len(features),):
        raise DataError(f"clusters has {labels.size} labels for {len(features)} rows")
    x = features.apply(pd.to_numeric, errors="coerce")
    if x.isna().all().any():
        raise DataError("cluster_heatmap: some feature columns are not numeric")
    sd = x.std(ddof=1).replace(0, 1.0)
    z = (x - x.mean()) / sd
    if order is not None:
        cols = [c for c in order if c in z.columns][:max_features]
    else:
        means = z.groupby(labels).mean()
        cols = list(means.std(ddof=0).sort_values(ascending=False).index[:max_features])
    rank = pd.Series(labels).astype(str)
    idx = np.lexsort((np.arange(len(labels)), rank.to_numpy()))
    mat = z[cols].to_numpy(float)[idx]
    plt = _pyplot()
    fig = plt.figure(figsize=(min(2 + 0.22 * len(cols), 14), 5.2))
    ax = fig.add_axes([0.12, 0.28, 0.76, 0.64])
    sax = fig.add_axes([0.08, 0.28, 0.025, 0.64], sharey=ax)
    im = ax.imshow(
        np.clip(mat, -clip, clip),
        aspect="auto",
        cmap="RdBu_r",
        vmin=-clip,
        vmax=clip,
        interpolation="nearest",
    )
    uniq = sorted(set(rank))
    codes = np.array([uniq.index(v) for v in rank.to_numpy()[idx]])[:, None]
    from matplotlib.colors import ListedColormap

    sax.imshow(
        codes,
        aspect="auto",
        cmap=ListedColormap(list(_COLOURS[: len(uniq)]) or ["#333"]),
        interpolation="nearest",
    )
    sax.set_xticks([])
    # the strip shares the heatmap's y axis: label the clusters once, on the strip only
    ax.tick_params(axis="y", left=False, labelleft=False)
    sax.set_yticks([float(np.mean(np.where(codes[:, 0] == k)[0])) for k in range(len(uniq))], uniq)
    ax.set_xticks(range(len(cols)), [str(c) for c in cols], rotation=90, fontsize=7)
    cax = fig.add_axes([0.9, 0.28, 0.02, 0.64])
    fig.colorbar(im, cax=cax, label="z-score")
    if title:
        ax.set_title(title)
    from radsem.report.document import figure_from_matplotlib

    cap = caption or (
        f"Z-scored features (columns, {len(cols)} shown) of {len(labels)} cases "
        f"(rows) ordered by cluster; colours clipped at +/-{clip:g}."
    )
    return figure_from_matplotlib(
        fig, caption=cap, data={"matrix": mat, "columns": cols, "clusters": rank.to_numpy()[idx]}
    )


# ------------------------------------------------------------------ decision curve
def decision_curve_plot(
    frame: pd.DataFrame,
    threshold: str = "threshold",
    net_benefit: str = "net_benefit",
    treat_all: str = "treat_all",
    group: str | None = "model",
    horizon: float | None = None,
    time_unit: str = "months",
    title: str | None = None,
    caption: str | None = None,
):
    """Net benefit against the threshold probability (decision curve analysis).

    Parameters
    ----------
    frame : DataFrame
        One row per threshold (and model): ``threshold``, ``net_benefit``, ``treat_all``, e.g.
        the fold-averaged ``ComparisonResult.decision`` table.
    group : str or None
        Column naming the model of each row.
    horizon : float, optional
        The horizon of the predicted risk, for the axis label.

    Notes
    -----
    Vickers & Elkin (2006): a model is useful at a threshold where its net benefit exceeds both
    treating everyone (``treat_all``) and no one (0).
    """
    cols = [threshold, net_benefit, treat_all] + ([group] if group else [])
    _need(frame, cols, "decision_curve_plot")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.0, 4.6))
    groups = list(dict.fromkeys(frame[group])) if group else [None]
    drawn = {}
    for k, g in enumerate(groups):
        sub = (frame if g is None else frame[frame[group] == g]).sort_values(threshold)
        x, y = sub[threshold].to_numpy(float), sub[net_benefit].to_numpy(float)
        ax.plot(
            x,
            y,
            "-",
            color=_COLOURS[k % len(_COLOURS)],
            lw=1.6,
            label="model" if g is None else str(g),
        )
        drawn["model" if g is None else str(g)] = (x, y)
    every = frame.groupby(threshold, sort=True)[treat_all].mean()
    ax.plot(
        every.index.to_numpy(float),
        every.to_numpy(float),
        "--",
        color="#555555",
        lw=1.2,
        label="treat all",
    )
    ax.axhline(0.0, color="#999999", lw=1.0, ls=":", label="treat none")
    values = np.concatenate([np.ravel(frame[net_benefit].to_numpy(float)), [0.0]])
    top = float(np.nanmax(values)) if np.isfinite(values).any() else 0.1
    ax.set_ylim(-0.05 * max(top, 0.05), max(top, 0.05) * 1.15)
    when = f" by {horizon:g} {time_unit}" if horizon is not None else ""
    ax.set_xlabel(f"Threshold probability of the event{when}")
    ax.set_ylabel("Net benefit")
    ax.grid(alpha=0.25)
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    if title:
        ax.set_title(title)
    from radsem.report.document import figure_from_matplotlib

    cap = caption or (
        "Decision curves: net benefit of acting on each model's predicted risk "
        "at each threshold probability, against treating everyone (dashed) or no "
        "one (dotted); a model helps where its curve lies above both."
    )
    drawn["treat all"] = (every.index.to_numpy(float), every.to_numpy(float))
    return figure_from_matplotlib(fig, caption=cap, data={"curves": drawn})
