"""Optional dependencies: import one, or say which extra of radsem provides it.

``pip install radsem`` gives the SEM engine, survival, clustering, model comparison and reports.
Images need ``radsem[imaging]`` (pyradiomics, SimpleITK, pydicom, highdicom, rt-utils), the deep
models ``radsem[deep]`` (torch, MONAI, captum) and the lavaan cross-checks ``radsem[r]`` (rpy2);
``radsem[all]`` installs all three. Every feature that needs an extra imports it through
:func:`require`, so a missing package gives one clear message instead of a bare
``ModuleNotFoundError``.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from radsem.errors import MissingExtraError

__all__ = ["EXTRAS", "extra_for", "require"]

#: top-level module name -> the extra of radsem that installs it
EXTRAS: dict[str, str] = {
    "SimpleITK": "imaging",
    "radiomics": "imaging",
    "pydicom": "imaging",
    "highdicom": "imaging",
    "rt_utils": "imaging",
    "torch": "deep",
    "monai": "deep",
    "captum": "deep",
    "rpy2": "r",
}


def extra_for(module: str) -> str:
    """The extra (``imaging``, ``deep``, ``r``) that installs ``module`` (a dotted name)."""
    top = module.split(".", 1)[0]
    try:
        return EXTRAS[top]
    except KeyError:
        raise KeyError(f"{module!r} is not an optional dependency of radsem") from None


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` (dotted name) for ``feature``, or raise :class:`MissingExtraError`.

    Parameters
    ----------
    module : str
        Module to import, e.g. ``"torch"`` or ``"radiomics.featureextractor"``.
    feature : str
        What needs it, in the user's words (e.g. ``"radiomic feature extraction"``); shown in
        the message.

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    MissingExtraError
        If the import fails; the message names the extra and the ``pip install`` line.
    """
    extra = extra_for(module)
    try:
        return import_module(module)
    except ImportError as exc:
        top = module.split(".", 1)[0]
        raise MissingExtraError(
            f"{feature}: the optional package {top!r} is not installed "
            f'({type(exc).__name__}: {exc}); install it with: pip install "radsem[{extra}]" '
            "(or radsem[all])",
            extra,
        ) from exc
