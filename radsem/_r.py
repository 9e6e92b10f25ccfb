"""Access to R through rpy2, shared by the lavaan engine and the reference tests.

Nothing here pastes user-controlled text into R code: data frames, strings and options are
converted to R objects and passed as arguments of R functions looked up by name.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import pandas as pd

from radsem.errors import EngineUnavailableError

__all__ = ["r_available", "require_r", "r_function", "to_r_dataframe", "from_r_dataframe"]


@functools.lru_cache(maxsize=None)
def _probe(packages: tuple[str, ...]) -> str | None:
    """Return None when R and the packages load, else a reason why not."""
    os.environ.setdefault("RPY2_CFFI_MODE", "ABI")
    # rpy2 prepends R's library folders (e.g. /usr/lib/x86_64-linux-gnu) to LD_LIBRARY_PATH when
    # it starts R. That cannot affect this process (its libraries are loaded), but every child
    # process inherits it: a child Python (joblib/loky workers, subprocesses) then loads the
    # system's libpython instead of its own and fails. Restore the caller's value afterwards.
    ld_path = os.environ.get("LD_LIBRARY_PATH")
    try:
        return _load_r(packages)
    finally:
        if ld_path is None:
            os.environ.pop("LD_LIBRARY_PATH", None)
        else:
            os.environ["LD_LIBRARY_PATH"] = ld_path


def _load_r(packages: tuple[str, ...]) -> str | None:
    try:
        import rpy2.rinterface_lib.callbacks as callbacks
        import rpy2.robjects as ro
        from rpy2.robjects.packages import importr, isinstalled
    except ImportError as exc:
        return (
            f"rpy2/R not usable: {type(exc).__name__}: {exc}; install rpy2 with: "
            'pip install "radsem[r]"'
        )
    except Exception as exc:  # noqa: BLE001 - any failure means "R is not usable here"
        return f"rpy2/R not usable: {type(exc).__name__}: {exc}"
    # keep R's start-up chatter ("This is lavaan ...") out of the user's console
    callbacks.consolewrite_print = lambda text: None
    callbacks.consolewrite_warnerror = lambda text: None
    for name in packages:
        if not isinstalled(name):
            return f"R package '{name}' is not installed"
        importr(name)
    ro.r["set.seed"]  # noqa: B018 - touch the embedded R once
    return None


def r_available(*packages: str) -> bool:
    """Whether R is reachable through rpy2 and the named R packages are installed."""
    return _probe(tuple(packages)) is None


def require_r(*packages: str) -> None:
    """Raise :class:`EngineUnavailableError` unless R and the named packages are usable."""
    reason = _probe(tuple(packages))
    if reason is not None:
        raise EngineUnavailableError(reason)


def r_function(name: str, package: str | None = None) -> Any:
    """Return the R function ``package::name`` (or a base function) as a Python callable."""
    require_r(*(p for p in (package,) if p))
    import rpy2.robjects as ro

    if package is None:
        return ro.r[name]
    from rpy2.robjects.packages import importr

    return getattr(importr(package), name.replace(".", "_"))


def to_r_dataframe(frame: pd.DataFrame) -> Any:
    """Convert a pandas DataFrame to an R data.frame (column names kept verbatim)."""
    require_r()
    import rpy2.robjects as ro
    from rpy2.robjects import pandas2ri
    from rpy2.robjects.conversion import localconverter

    with localconverter(ro.default_converter + pandas2ri.converter):
        return ro.conversion.get_conversion().py2rpy(frame)


def from_r_dataframe(obj: Any) -> pd.DataFrame:
    """Convert an R data.frame to pandas."""
    require_r()
    import rpy2.robjects as ro
    from rpy2.robjects import pandas2ri
    from rpy2.robjects.conversion import localconverter

    with localconverter(ro.default_converter + pandas2ri.converter):
        return ro.conversion.get_conversion().rpy2py(obj)
