"""``radsem.sem``, ``radsem.cfa``, ``radsem.growth`` and ``radsem.lavaan``: the entry points.

:func:`fit_model` routes a model to its family (continuous, ordinal, survival outcome,
two-level); the
families plug into the shared core and wings of :mod:`radsem.estimation`. The route is chosen
by what the parsed model declares (:mod:`radsem.syntax.declaration`), not by a pattern.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from radsem.errors import DataError
from radsem.estimation.families.continuous import fit_continuous
from radsem.estimation.families.ordinal.estimate import (
    declared_ordered,
    fit_ordinal,
    ordered_columns,
)
from radsem.estimation.families.survival_outcome.api import fit_survival_model
from radsem.estimation.families.twolevel import fit_twolevel
from radsem.estimation.result import FitResult
from radsem.estimation.rotation.estimate import fit_esem
from radsem.syntax.declaration import ModelDeclaration, read_declaration
from radsem.syntax.mimic import apply_mimic

__all__ = ["sem", "cfa", "growth", "lavaan", "efa", "fit_model", "family_of"]


def fit_model(
    model: str,
    data: pd.DataFrame,
    model_type: str = "sem",
    *,
    estimator: str | None = None,
    **options: Any,
) -> FitResult:
    """Fit a model written in lavaan syntax (the engine behind :func:`sem` and friends).

    The model is read once (:func:`radsem.syntax.declaration.read_declaration`) and goes to
    the family it declares (:func:`family_of`): ``level:`` blocks to
    :func:`radsem.estimation.families.twolevel.fit_twolevel`, a survival outcome to
    :func:`radsem.estimation.families.survival_outcome.api.fit_survival_model`, ordered
    variables to :func:`radsem.estimation.families.ordinal.estimate.fit_ordinal` (WLSMV),
    everything else to :func:`radsem.estimation.families.continuous.fit_continuous`; see
    :func:`sem` for the parameters.
    """
    if isinstance(data, pd.DataFrame) and data.columns.duplicated().any():
        dup = sorted({str(c) for c in data.columns[data.columns.duplicated()]})
        raise DataError(
            f"the data have duplicate column names: {', '.join(dup)}; each "
            "variable must appear once"
        )
    family = family_of(read_declaration(model), data, estimator, options)
    if family == "twolevel":  # 'level: 1' / 'level: 2' blocks or cluster=
        return fit_twolevel(model, data, model_type, estimator=estimator, **options)
    if family == "survival_outcome":  # a censored time ('y =~ Surv(time, event)') outcome
        return fit_survival_model(
            model, data, model_type=model_type, estimator=estimator, **options
        )
    if family == "efa":  # efa("block")* modifiers: rotated blocks
        return fit_esem(model, data, model_type, estimator=estimator, **options)
    ordinal = family == "ordinal"
    mimic, options = apply_mimic(options.pop("mimic", None), options, estimator, ordinal)
    if ordinal:
        fit = fit_ordinal(model, data, model_type, estimator=estimator, **options)
    else:
        fit = fit_continuous(model, data, model_type, estimator=estimator, **options)
    if mimic != "lavaan":
        fit.options["mimic"] = mimic  # recorded (and passed on by cross_check)
    return fit


def family_of(
    declaration: ModelDeclaration,
    data: pd.DataFrame,
    estimator: str | None,
    options: Mapping[str, Any],
) -> str:
    """The model family a call declares: ``"twolevel"``, ``"survival_outcome"``, ``"efa"``,
    ``"ordinal"`` or ``"continuous"``.

    ``level:`` blocks (or the ``cluster=`` option) make a two-level model; a ``Surv()`` outcome
    statement (or the ``survival=`` / ``survival_method=`` options) a survival-outcome model;
    ``efa("block")*`` modifiers rotated exploratory blocks (:mod:`radsem.estimation.rotation`);
    ordered variables (``ordered=``, thresholds in the syntax, ordered pandas Categorical
    columns of the model) an ordinal one. A categorical estimator alone does not: with
    continuous variables WLS, DWLS, WLSM, WLSMV, ULSM and ULSMV are the continuous family's,
    as in lavaan (``estimator`` is accepted for families that may come to depend on it).
    """
    if declaration.levels or options.get("cluster") is not None:
        return "twolevel"
    if declaration.survival or options.get("survival") is not None or "survival_method" in options:
        return "survival_outcome"
    if declaration.efa:
        return "efa"
    if declared_ordered(options.get("ordered")):
        return "ordinal"
    if declaration.names is not None and isinstance(data, pd.DataFrame):
        if ordered_columns(data, declaration.names) or declaration.thresholds:
            return "ordinal"
    return "continuous"


def sem(model: str, data: pd.DataFrame, **options: Any) -> FitResult:
    """Fit a structural equation model with lavaan's ``sem()`` defaults.

    Parameters
    ----------
    model : str
        lavaan model syntax (``=~ ~ ~~ ~1 := == < >``, labels, fixed values, ...).
    data : pandas.DataFrame
        One row per case; the model's observed variables must be numeric columns.
    estimator : {"ML", "GLS", "ULS", "MLR", "MLM", "MLMV", "MLMVS", "MLF", "WLS", "DWLS", ...}
        Discrepancy function (default ``"ML"``). ``"MLR"``: ML estimates with Huber-White
        standard errors and the Yuan-Bentler (Mplus) scaled test, as lavaan. ``"MLM"``,
        ``"MLMV"``, ``"MLMVS"``: ML with ``robust.sem`` SEs and the Satorra-Bentler,
        scaled-and-shifted, mean-and-variance adjusted test; ``"MLF"``: first-order
        information SEs; ``"WLS"``/``"DWLS"`` (ADF weights), ``"WLSM"``, ``"WLSMV"``,
        ``"ULSM"``, ``"ULSMV"`` also with continuous data (``docs/sem-missing-robust.md``).
        With ordered variables: ``"WLSMV"`` (default), ``"DWLS"``, ``"WLS"``, ``"ULSMV"``,
        ``"ULS"`` (see ``docs/sem-ordinal.md``).
    ordered : sequence of str, optional
        Ordered-categorical observed variables (ordered pandas Categorical columns of the
        model are ordered automatically); ``parameterization="delta"`` (default) or
        ``"theta"``. Exogenous observed covariates are then conditioned on (lavaan's
        ``conditional.x``; ``baseline_conditional_x_free_slopes=False`` fixes the slopes in
        the baseline model), see ``docs/sem-ordinal.md``.
    missing : {"listwise", "ml"}
        Listwise deletion (reported with a ``DataWarning``) or full-information ML
        (``"fiml"`` and ``"direct"`` are lavaan's aliases of ``"ml"``; ``"ml.x"`` raises
        :class:`EstimationError`).
    group : str, optional
        Column defining groups for a multi-group model.
    cluster : str, optional
        Column identifying the clusters of a two-level model written with ``level: 1`` /
        ``level: 2`` blocks (ML as lavaan; see ``docs/sem-twolevel.md``).
    group_equal, group_partial : sequence of str
        lavaan's ``group.equal`` (``"loadings"``, ``"intercepts"``, ``"residuals"``, ...)
        and ``group.partial`` (e.g. ``["visual=~x2"]``).
    std_lv : bool
        Identify latent variables by fixing their variances to 1 (default: marker variables).
    meanstructure : bool or "default"
    fixed_x : bool or "default"
        Treat exogenous observed covariates as fixed (lavaan's default for ``sem``).
    orthogonal : bool
        Latent covariances fixed to zero.
    test : str or list of str, optional
        lavaan's ``test=``: ``"standard"``, ``"satorra.bentler"``, ``"yuan.bentler"``,
        ``"yuan.bentler.mplus"``, ``"mean.var.adjusted"``, ``"scaled.shifted"``,
        ``"bollen.stine"`` (with ``bootstrap``, ``seed``), or several; see ``fit.tests()``.
    se : {"standard", "robust.huber.white", "robust.sem", "bootstrap", "none"}, optional
        Default: ``"standard"`` (``"robust.huber.white"`` for MLR). ``"bootstrap"``: SDs
        of ``bootstrap`` case-resampling replicates (see ``docs/sem-bootstrap.md``).
    bootstrap, seed, n_jobs : int, int or None, int
        With ``se="bootstrap"``: replicates (1000), seed of the resampling, processes.
    information : {"expected", "observed", "first.order"}, optional
        Information matrix for standard errors (lavaan's defaults: expected; observed for
        MLR, for ``se="robust.huber.white"`` and for ``missing="ml"``).
    level : float
        Confidence level of the intervals (0.95).
    mimic : {"lavaan", "Mplus", "EQS"}
        lavaan's ``mimic``: ``"Mplus"`` makes FIML, a mean structure and (with groups)
        equal loadings and intercepts the defaults; ``"EQS"`` the Wishart likelihood and
        ``fixed_x=False`` (see :mod:`radsem.syntax.mimic`).
    likelihood : {"normal", "wishart"}
        lavaan's ``likelihood`` for ML: ``"wishart"`` uses the unbiased covariances and
        ``n_g - 1`` in the test statistic (``N - G`` in the standard errors).

    Returns
    -------
    FitResult
        A :class:`~radsem.estimation.families.continuous.fit.SemFit` (an
        :class:`~radsem.estimation.families.ordinal.fit.OrdinalFit` with ordered variables, a
        :class:`~radsem.estimation.families.survival_outcome.result.LatentSurvivalFit` with a
        survival outcome).

    Notes
    -----
    Checked against lavaan 0.6-14 (``tests/estimation``); see ``docs/sem.md``.
    """
    return fit_model(model, data, "sem", **options)


def cfa(model: str, data: pd.DataFrame, **options: Any) -> FitResult:
    """Confirmatory factor analysis with lavaan's ``cfa()`` defaults (see :func:`sem`)."""
    return fit_model(model, data, "cfa", **options)


def growth(model: str, data: pd.DataFrame, **options: Any) -> FitResult:
    """Latent growth curve model with lavaan's ``growth()`` defaults (mean structure, latent
    intercepts free, observed intercepts fixed to zero; see :func:`sem`)."""
    return fit_model(model, data, "growth", **options)


def lavaan(model: str, data: pd.DataFrame, **options: Any) -> FitResult:
    """lavaan's ``lavaan()``: no automatic parameters; everything as written (see :func:`sem`)."""
    return fit_model(model, data, "lavaan", **options)


def efa(
    data: pd.DataFrame,
    nfactors=1,
    *,
    rotation: str = "geomin",
    rotation_args: dict | None = None,
    ov_names=None,
    **options,
):
    """Exploratory factor analysis as lavaan's ``efa()``.

    Fits ``efa("efa")*f1 + ... + efa("efa")*fk =~`` all variables by ML (or another
    estimator of :func:`sem`), then rotates the loadings.

    Parameters
    ----------
    data : pandas.DataFrame
    nfactors : int or sequence of int
        Number of factors; several give an :class:`~radsem.estimation.rotation.estimate.EfaList`
        keyed ``"nf1"``, ``"nf2"``, ... (lavaan's ``efa(nfactors = 1:3)``).
    rotation : str
        ``"geomin"`` (default), ``"oblimin"``, ``"quartimin"``, ``"varimax"``,
        ``"quartimax"``, ``"orthomax"``, ``"promax"``, ``"target"``, ``"pst"``, the
        Crawford-Ferguson family (``"cf-varimax"``, ...) or ``"none"``.
    rotation_args : dict
        lavaan's ``rotation.args`` (``.`` or ``_`` in the names): ``orthogonal``, ``std_ov``
        (True), ``geomin_epsilon`` (0.001), ``oblimin_gamma`` (0), ``orthomax_gamma`` (1),
        ``promax_kappa`` (4), ``target`` / ``target_mask`` (variables x factors; NaN cells of
        ``target`` are free), ``row_weights`` (``"default"``: Kaiser for varimax and promax),
        ``rstarts`` (30), ``seed`` (0, of the random starts), ``algorithm`` (``"gpa"``),
        ``reflect``, ``order_lv_by`` (``"index"``), ``gpa_tol``, ``max_iter``.
    ov_names : sequence of str, optional
        The variables (default: all columns).
    **options
        Options of :func:`sem` (``estimator``, ``missing``, ``se``, ``information``, ...) and
        ``rotation_se`` (``"bordered"`` or ``"delta"``: the same standard errors here).

    Returns
    -------
    EfaFit or EfaList

    Notes
    -----
    Checked against lavaan 0.6-14; see ``docs/sem-efa.md``.
    """
    from radsem.estimation.rotation.estimate import fit_efa

    return fit_efa(
        data,
        nfactors,
        rotation=rotation,
        rotation_args=rotation_args,
        ov_names=ov_names,
        **options,
    )
