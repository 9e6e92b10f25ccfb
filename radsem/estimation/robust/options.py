"""lavaan's defaults and checks for the Satorra-Bentler family of estimators and ``test =``.

lavaan 0.6-14 (``lavInspect(fit, "options")``):

========  =========  ==========  ====================  ===============
estimator  core       se          test                  information
========  =========  ==========  ====================  ===============
MLM       ML         robust.sem  satorra.bentler       expected
MLMV      ML         robust.sem  scaled.shifted        expected
MLMVS     ML         robust.sem  mean.var.adjusted     expected
MLF       ML         standard    standard              first.order
WLS       WLS        standard    standard              expected
DWLS      DWLS       standard    standard              expected
WLSM      DWLS       robust.sem  satorra.bentler       expected
WLSMV     DWLS       robust.sem  scaled.shifted        expected
ULSM      ULS        robust.sem  satorra.bentler       expected
ULSMV     ULS        robust.sem  scaled.shifted        expected
========  =========  ==========  ====================  ===============

(``WLS`` .. ``ULSMV`` here with continuous data; ordered data go to the ordinal family.)
"""

from __future__ import annotations

import warnings

from radsem._warnings import user_stacklevel
from radsem.errors import DataWarning, EstimationError
from radsem.estimation.robust.sb_tests import SCALED_TESTS, canonical_tests

__all__ = ["ROBUST_ESTIMATORS", "robust_options", "needs_robust_sem"]

#: estimator -> (core discrepancy, se, test, information)
ROBUST_TABLE = {
    "MLM": ("ML", "robust.sem", "satorra.bentler", "expected"),
    "MLMV": ("ML", "robust.sem", "scaled.shifted", "expected"),
    "MLMVS": ("ML", "robust.sem", "mean.var.adjusted", "expected"),
    "MLF": ("ML", "standard", "standard", "first.order"),
    "WLS": ("WLS", "standard", "standard", "expected"),
    "DWLS": ("DWLS", "standard", "standard", "expected"),
    "WLSM": ("DWLS", "robust.sem", "satorra.bentler", "expected"),
    "WLSMV": ("DWLS", "robust.sem", "scaled.shifted", "expected"),
    "ULSM": ("ULS", "robust.sem", "satorra.bentler", "expected"),
    "ULSMV": ("ULS", "robust.sem", "scaled.shifted", "expected"),
}
ROBUST_ESTIMATORS = tuple(ROBUST_TABLE)


def robust_options(est: str, se, information, test, missing: str):
    """Resolve ``(core, se, information, test, missing)`` for a continuous fit.

    ``test`` comes back as a tuple of canonical names, or None for the legacy estimators
    (ML, GLS, ULS, MLR) without a ``test =`` argument. ``se``/``information`` None mean
    "the legacy default" (resolved by the caller).

    Raises
    ------
    EstimationError
        lavaan's refusals (``missing = "ml"`` with MLM/MLMV/MLMVS/WLS/...: "missing="ml" is
        not allowed for estimator ...", unknown test names) and the combinations radsem
        does not provide (listed in ``docs/sem-missing-robust.md``).
    """
    row = ROBUST_TABLE.get(est)
    core = row[0] if row else ("ML" if est == "MLR" else est)
    if row and missing == "ml" and est != "MLF":
        raise EstimationError(f'missing="ml" is not allowed for estimator "{est}"')
    if se == "robust" and (row or est in ("ML", "MLR")):
        # lavaan 0.6-14: "robust" is robust.huber.white with FIML, robust.sem otherwise
        se = "robust.huber.white" if missing == "ml" and core == "ML" else "robust.sem"
    if se is None and row:
        se = row[1]
    if information is None and row:
        information = row[3] if se != "robust.huber.white" else "observed"
    if test is not None:
        test = canonical_tests(test)
        if test == ("default",):
            test = None
    if test is None and row:
        test = (row[2],)
    if test == ("none",):
        raise EstimationError("test='none' is not available in radsem")
    if test is not None and est == "MLR" and test not in (("yuan.bentler.mplus",),):
        raise EstimationError(
            "estimator 'MLR' comes with test 'yuan.bentler.mplus'; for other robust tests use "
            "estimator 'ML' with test=[...] (or MLM, MLMV, MLMVS)"
        )
    scaled = [t for t in (test or ()) if t in SCALED_TESTS]
    if est in ("GLS", "WLS") and (scaled or "bollen.stine" in (test or ())):
        bad = [t for t in test if t != "standard"]
        raise EstimationError(
            f"invalid value(s) in test= argument when estimator is {est}:\n\t\t{' '.join(bad)}"
        )
    if missing == "ml" and (se == "robust.sem" or scaled):
        why = "se = \u201crobust.sem\u201d" if se == "robust.sem" else "satorra.bentler style test"
        warnings.warn(
            f"missing will be set to \u201clistwise\u201d for {why} (as lavaan)",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
        missing = "listwise"
    if est != "MLR":
        _check_combinations(core, se, information, test, missing)
    return core, se, information, test, missing


def _check_combinations(core, se, information, test, missing) -> None:
    """The combinations radsem does not provide (see ``docs/sem-missing-robust.md``)."""
    scaled = [t for t in (test or ()) if t in SCALED_TESTS]
    if core in ("GLS",) and (se == "robust.sem" or scaled):
        raise EstimationError(
            "robust.sem standard errors and scaled tests are not available for GLS"
        )
    if information == "observed" and (
        se == "robust.sem"
        or (scaled and core != "ML")
        or any(t in ("yuan.bentler", "yuan.bentler.mplus") for t in scaled)
    ):
        raise EstimationError(
            "with information='observed' radsem provides the satorra.bentler, "
            "mean.var.adjusted and scaled.shifted tests of ML fits (lavaan's observed h1 "
            "information); robust.sem standard errors and the Yuan-Bentler tests need "
            "information='expected' (their default) or 'first.order'"
        )
    if information == "first.order" and core != "ML":
        raise EstimationError("information='first.order' needs a maximum-likelihood estimator")
    if "bollen.stine" in (test or ()) and (core != "ML" or missing == "ml"):
        raise EstimationError(
            "test='bollen.stine' is available for ML with complete data (listwise deletion)"
        )


def needs_robust_sem(test, se, information) -> bool:
    """Whether a fit needs :func:`~radsem.estimation.robust.inference_sb.sb_inference`."""
    scaled = any(t in SCALED_TESTS for t in (test or ()))
    return scaled or se == "robust.sem" or information == "first.order"
