"""Versions of radsem and its dependencies, for bug reports."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

_PACKAGES = (
    "radsem",
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "scikit-learn",
    "scikit-survival",
    "pingouin",
    "kmedoids",
    "semopy",
    "jinja2",
    "openpyxl",
    "dask",
    "SimpleITK",
    "pyradiomics",
    "torch",
    "monai",
    "rpy2",
)


def show_versions(file=None) -> dict[str, str]:
    """Print and return the versions of Python, radsem and its dependencies.

    Parameters
    ----------
    file : file-like, optional
        Where to print; ``sys.stdout`` by default.

    Returns
    -------
    dict
        Package name to version (``"not installed"`` where absent).
    """
    versions = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    width = max(map(len, versions))
    for key, value in versions.items():
        print(f"{key:<{width}}  {value}", file=file or sys.stdout)
    return versions
