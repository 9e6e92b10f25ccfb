"""lavaan's ``mimic`` option: the defaults that make a fit reproduce Mplus (or EQS).

lavaan 0.6-14 (``lav_options_set``), for the data and estimators radsem fits:

``mimic = "Mplus"``
    * ``missing`` defaults to ``"ml"`` (FIML) for continuous data with ML or MLR;
    * ``meanstructure`` defaults to ``True``;
    * with groups, ``group.equal`` defaults to ``c("loadings", "intercepts")`` (only
      ``"loadings"`` when the user turned the mean structure off); ``"none"`` asks for no
      constraints;
    * MLR's test is ``yuan.bentler.mplus`` (radsem's only MLR test anyway);
    * starting values follow Mplus (they change the path, not the solution).

    Not available: GLS (Mplus rescales the mean block of the GLS weight), ordered data
    (Mplus's ``WLS`` asymptotic covariance) and robust.sem standard errors or Satorra-Bentler
    type tests (MLM, MLMV, MLMVS, WLS, ...: lavaan switches to Mplus' variants of the
    corrections); they raise :class:`EstimationError`.

``mimic = "EQS"``
    * ML uses lavaan's Wishart likelihood (``likelihood = "wishart"``: unbiased sample
      covariances, test statistics ``2 sum_g (n_g - 1) F_g``, standard errors with
      ``N - G``, the RMSEA family with ``N - G``);
    * ``fixed.x`` defaults to ``False``, and the baseline model keeps the covariances of
      the exogenous covariates at zero (lavaan frees them for ``"lavaan"``/``"Mplus"``);
    * ``residuals(type = "cor")`` gives Bentler's correlation residuals (``cor.bentler``).

    Not available: MLR (EQS's test is lavaan's ``yuan.bentler``) and ordered data.

``mimic = "lavaan"`` (or ``"default"``) changes nothing.
"""

from __future__ import annotations

from radsem.errors import EstimationError

__all__ = ["MIMIC_CHOICES", "apply_mimic"]

MIMIC_CHOICES = ("lavaan", "Mplus", "EQS")


def _name(mimic) -> str:
    value = "lavaan" if mimic is None else str(mimic)
    low = value.lower()
    if low in ("lavaan", "default"):
        return "lavaan"
    if low == "mplus":
        return "Mplus"
    if low == "eqs":
        return "EQS"
    raise EstimationError(f"mimic must be 'lavaan', 'Mplus' or 'EQS', not {mimic!r}")


#: estimators whose robust.sem SEs / scaled tests lavaan computes Mplus' way under mimic="Mplus"
_MPLUS_ROBUST_SEM = ("MLM", "MLMV", "MLMVS", "WLS", "DWLS", "WLSM", "WLSMV", "ULSM", "ULSMV")


def _mplus_robust_sem(options: dict) -> bool:
    test = options.get("test")
    tests = [test] if isinstance(test, str) else list(test or ())
    scaled = {"satorra.bentler", "sb", "mean.var.adjusted", "mv", "scaled.shifted"}
    return options.get("se") in ("robust", "robust.sem") or any(t in scaled for t in tests)


def _unset(value) -> bool:
    return value is None or (isinstance(value, str) and value == "default")


def _eqs(out: dict, est: str, categorical: bool) -> dict:
    if categorical:
        raise EstimationError("mimic='EQS' is not available with ordered variables")
    if est == "MLR":
        raise EstimationError(
            "mimic='EQS' with estimator='MLR' is not available (EQS's MLR test is lavaan's "
            "'yuan.bentler', not the Mplus variant radsem implements)"
        )
    if est == "ML" and _unset(out.get("likelihood")):
        out["likelihood"] = "wishart"
    if _unset(out.get("fixed_x")):
        out["fixed_x"] = False
    return out


def apply_mimic(mimic, options: dict, estimator: str | None, categorical: bool) -> tuple[str, dict]:
    """The options with ``mimic``'s defaults filled in (see module docstring).

    Parameters
    ----------
    mimic : str or None
    options : dict
        The user's keyword options (not modified).
    estimator : str or None
    categorical : bool
        Whether the model has ordered variables.

    Returns
    -------
    (name, options)
        The canonical name (``"lavaan"``, ``"Mplus"``) and the new options.
    """
    name = _name(mimic)
    out = dict(options)
    if name == "lavaan":
        return name, out
    est = "ML" if estimator is None else str(estimator).upper()
    if name == "EQS":
        return name, _eqs(out, est, categorical)
    if categorical:
        raise EstimationError(
            "mimic='Mplus' is not available with ordered variables (Mplus's WLS asymptotic "
            "covariance differs from lavaan's); fit without mimic"
        )
    if est in _MPLUS_ROBUST_SEM or _mplus_robust_sem(out):
        raise EstimationError(
            f"mimic='Mplus' with estimator={est!r} (robust.sem standard errors or a "
            "Satorra-Bentler type test) is not available (lavaan then uses Mplus' variants of "
            "the robust corrections); use ML or MLR, or fit without mimic"
        )
    if est == "GLS":
        raise EstimationError(
            "mimic='Mplus' with estimator='GLS' is not available (Mplus rescales the mean "
            "block of the GLS weight matrix); use ML, MLR or ULS"
        )
    if "missing" not in out and est in ("ML", "MLR"):
        out["missing"] = "ml"
    if _unset(out.get("meanstructure")):
        user_means_off = False
        out["meanstructure"] = True
    else:
        user_means_off = out["meanstructure"] is False
    if out.get("group") is not None:
        equal = out.get("group_equal")
        if isinstance(equal, str) and equal == "none":
            out["group_equal"] = ()
        elif equal is None or len(equal) == 0:
            out["group_equal"] = ("loadings",) if user_means_off else ("loadings", "intercepts")
    elif isinstance(out.get("group_equal"), str) and out["group_equal"] == "none":
        out["group_equal"] = ()
    return name, out
