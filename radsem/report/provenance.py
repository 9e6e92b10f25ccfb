"""The provenance block of every report: versions, options, seeds, input hashes and date."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import sys
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

import pandas as pd

from radsem.errors import DataError

__all__ = ["Provenance", "sha256_file"]

#: distributions radsem may use, with their import names; a report records those imported in
#: the process that made it (so never a package radsem did not use)
_IMPORTS = {
    "numpy": "numpy",
    "scipy": "scipy",
    "pandas": "pandas",
    "matplotlib": "matplotlib",
    "statsmodels": "statsmodels",
    "scikit-learn": "sklearn",
    "scikit-survival": "sksurv",
    "kmedoids": "kmedoids",
    "pingouin": "pingouin",
    "semopy": "semopy",
    "jinja2": "jinja2",
    "dask": "dask",
    "distributed": "distributed",
    "SimpleITK": "SimpleITK",
    "pyradiomics": "radiomics",
    "torch": "torch",
    "monai": "monai",
    "rpy2": "rpy2",
}
_PACKAGES = None  # default of Provenance(packages=...): the imported ones


def imported_packages() -> list[str]:
    """The distributions of :data:`_IMPORTS` whose module is imported in this process."""
    return [dist for dist, module in _IMPORTS.items() if module in sys.modules]


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, as hexadecimal text."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: input file not found (needed for its hash in the provenance)")
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


class Provenance:
    """What a report was made from and with.

    Parameters
    ----------
    inputs : iterable of path, optional
        Input files; each is recorded by its file name (no folder, which may name a person)
        and SHA-256.
    options : mapping, optional
        The options of the analysis (estimator, missing-data handling, ...).
    seeds : mapping, optional
        Random seeds used (``{"bootstrap": 1}``).
    command : str, optional
        The command or function that produced the report.
    date : str, optional
        ISO-8601 UTC time; now by default.
    packages : iterable of str, optional
        Package versions to record besides radsem and Python; default: the packages radsem
        may use that are imported in this process (:func:`imported_packages`).
    """

    def __init__(
        self,
        inputs: Iterable[str | os.PathLike] = (),
        options: Mapping | None = None,
        seeds: Mapping | None = None,
        command: str | None = None,
        date: str | None = None,
        packages: Iterable[str] | None = _PACKAGES,
    ) -> None:
        from radsem._version import __version__

        self.inputs = {Path(p).name: sha256_file(p) for p in inputs}
        self.options = dict(options or {})
        self.seeds = dict(seeds or {})
        self.command = command
        self.date = date or _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
        self.versions = {
            "radsem": __version__,
            "python": sys.version.split()[0],
            "platform": f"{platform.system()} {platform.machine()}",
        }
        self._auto = packages is None
        self._add_versions(imported_packages() if packages is None else packages)

    def _add_versions(self, names: Iterable[str]) -> None:
        for name in names:
            if name in self.versions:
                continue
            try:
                self.versions[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                continue

    def _refresh(self) -> None:
        """With the default package list, also record packages imported since creation (e.g.
        matplotlib, imported when the report's figures are drawn)."""
        if getattr(self, "_auto", False):
            self._add_versions(imported_packages())

    def as_dict(self) -> dict:
        """Everything recorded, as plain data (JSON-serialisable)."""
        self._refresh()
        return {
            "date": self.date,
            "command": self.command,
            "versions": dict(self.versions),
            "options": {k: _plain(v) for k, v in self.options.items()},
            "seeds": {k: _plain(v) for k, v in self.seeds.items()},
            "inputs": dict(self.inputs),
        }

    def frame(self) -> pd.DataFrame:
        """One row per recorded item: ``item``, ``value``."""
        self._refresh()
        rows = [("date (UTC)", self.date)]
        if self.command:
            rows.append(("command", self.command))
        rows += [(f"version: {k}", v) for k, v in self.versions.items()]
        rows += [(f"option: {k}", json.dumps(_plain(v))) for k, v in self.options.items()]
        if self.seeds:
            rows += [(f"seed: {k}", str(v)) for k, v in self.seeds.items()]
        else:
            rows.append(("seeds", "none used (no random step)"))
        rows += [(f"input: {k}", f"sha256 {v}") for k, v in self.inputs.items()]
        return pd.DataFrame(rows, columns=["item", "value"])

    def table(self):
        """The provenance as a :class:`~radsem.report.table.ResultTable`."""
        from radsem.report.table import ResultTable

        return ResultTable(self.frame(), title="Provenance")


def _plain(value):
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return str(value)
