"""lavaan's ``mimic =`` argument: the defaults it changes (lavaan 0.6-14, ``lav_options_set``).

``mimic = "lavaan"`` (the default) changes nothing. ``mimic = "Mplus"`` changes defaults only
where they were left at "default" by the user:

- ``missing``: ``"ml"`` (FIML) for ML and MLR with continuous data, so complete data are
  fitted with the saturated (h1) model from the data and the observed information;
- ``meanstructure``: True;
- ``group.equal``: ``("loadings", "intercepts")`` (``("loadings",)`` with
  ``meanstructure = False``), as Mplus' measurement-invariance default for multiple groups;
- the ``srmr`` fit measure: ``srmr_mplus`` (each residual standardised by its own variances)
  when the information matrix is observed;
- MLR's scaled test stays ``yuan.bentler.mplus``.

``mimic = "EQS"`` (lavaan: ``likelihood = "wishart"``, ``fixed.x = FALSE``, the EQS scaled
test) and the Mplus variants of the Satorra-Bentler corrections (MLM, MLMV, MLMVS, GLS with a
mean structure) and of categorical data are refused with :class:`EstimationError`: radsem
does not reproduce them yet (see ``docs/lavaan-coverage.md``).
"""

from __future__ import annotations

from collections.abc import Mapping

from radsem.errors import EstimationError, ModelSpecificationError

__all__ = ["MIMIC_CHOICES", "canonical_mimic", "apply_mimic", "mimic_srmr"]

MIMIC_CHOICES = ("lavaan", "Mplus", "EQS")
_ALIASES = {"default": "lavaan", "lavaan": "lavaan", "mplus": "Mplus", "eqs": "EQS"}
_MPLUS_ESTIMATORS = ("ML", "MLR")


def canonical_mimic(mimic) -> str:
    """lavaan's spelling of ``mimic`` (``"mplus"`` -> ``"Mplus"``; ``"default"`` -> lavaan).

    Raises
    ------
    ModelSpecificationError
        For anything else, with lavaan's message.
    """
    if mimic is None:
        return "lavaan"
    if not isinstance(mimic, str) or mimic.lower() not in _ALIASES:
        raise ModelSpecificationError(
            f'mimic must be "lavaan", "Mplus" or "EQS", not {mimic!r} (as lavaan)'
        )
    return _ALIASES[mimic.lower()]


def _unset(value) -> bool:
    return value is None or (isinstance(value, str) and value == "default")


def apply_mimic(options: Mapping, *, family: str) -> dict:
    """The user's options with ``mimic`` and ``likelihood`` resolved into concrete defaults.

    Parameters
    ----------
    options : mapping
        Keyword arguments of :func:`radsem.sem` (``mimic``, ``likelihood``, ``estimator``,
        ``missing``, ``meanstructure``, ``group_equal``, ...).
    family : {"continuous", "ordinal", "twolevel", "survival"}
        The model family the fit goes to.

    Returns
    -------
    dict
        The options without ``likelihood``, with ``mimic`` in lavaan's spelling and the
        defaults ``mimic`` changes filled in.

    Raises
    ------
    EstimationError
        For the variants radsem does not reproduce (``mimic = "EQS"``, ``likelihood =
        "wishart"``, ``mimic = "Mplus"`` with other estimators or model families).
    """
    out = dict(options)
    mimic = canonical_mimic(out.pop("mimic", "lavaan"))
    likelihood = out.pop("likelihood", "default")
    est = str(out.get("estimator") or "ML").upper()
    if likelihood is None:
        likelihood = "default"
    if likelihood not in ("default", "normal", "wishart"):
        raise ModelSpecificationError(
            f"invalid value for likelihood: {likelihood!r} (choose 'normal' or 'wishart')"
        )
    if likelihood != "default" and est not in ("ML", "MLR", "MLM", "MLMV", "MLMVS", "MLF"):
        raise ModelSpecificationError("likelihood argument is only relevant if estimator = ML")
    if mimic == "EQS" or likelihood == "wishart":
        what = 'mimic = "EQS"' if mimic == "EQS" else 'likelihood = "wishart"'
        raise EstimationError(
            f"{what} is not available in radsem: the Wishart likelihood (sample covariance "
            "with N - 1, chi-square (N - 1) F) is not implemented; use the default normal "
            "likelihood (lavaan's mimic = 'lavaan' / 'Mplus')"
        )
    if mimic == "lavaan":
        return out
    if family != "continuous":
        raise EstimationError(
            f'mimic = "Mplus" is available for continuous single-level models only, not for '
            f"{family} models"
        )
    if est not in _MPLUS_ESTIMATORS:
        raise EstimationError(
            f'mimic = "Mplus" with estimator {est} is not available in radsem (lavaan then '
            "uses Mplus' variants of the robust corrections); use estimator ML or MLR"
        )
    out["mimic"] = mimic
    if _unset(out.get("missing")):
        out["missing"] = "ml"
    if _unset(out.get("meanstructure")):
        out["meanstructure"] = True
    if not out.get("group_equal"):
        out["group_equal"] = (
            ("loadings",) if out["meanstructure"] is False else ("loadings", "intercepts")
        )
    elif out["group_equal"] in ("none", ["none"], ("none",)):
        out["group_equal"] = ()
    return out


def mimic_srmr(options: Mapping, measures: Mapping) -> float:
    """The ``srmr`` lavaan reports: ``srmr_mplus`` under Mplus with observed information."""
    if options.get("mimic") == "Mplus" and options.get("information") == "observed":
        return measures["srmr_mplus"]
    return measures["srmr_bentler"]
