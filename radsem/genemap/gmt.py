"""Gene sets in MSigDB's GMT format: reading, writing, and matching them to the measured genes.

A GMT file has one gene set per line, tab-separated: the set's name, a description (often a
URL or ``NA``), then the gene symbols. Blank lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path

from radsem.errors import DataError, DataWarning

__all__ = ["read_gmt", "write_gmt", "match_gene_sets", "hpv_mechanism_sets", "MIN_SET_SIZE"]

#: Smallest number of measured genes a set must keep to be scored.
MIN_SET_SIZE = 2


def read_gmt(path: str | os.PathLike) -> dict[str, list[str]]:
    """Read a GMT file.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    dict
        Set name -> list of gene symbols, in file order (duplicated genes within a set kept
        once).

    Raises
    ------
    DataError
        Missing or empty file, a line with fewer than three fields, a set without genes,
        or a set name used twice (each naming the file and line).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    sets: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) < 2 or not fields[0]:
            raise DataError(
                f"{path}, line {number}: expected 'name<TAB>description<TAB>genes...'"
                " (tab-separated)"
            )
        name = fields[0]
        genes = list(dict.fromkeys(g for g in fields[2:] if g))
        if not genes:
            raise DataError(f"{path}, line {number}: gene set {name!r} lists no genes")
        if name in sets:
            raise DataError(f"{path}, line {number}: gene set {name!r} defined twice")
        sets[name] = genes
    if not sets:
        raise DataError(f"{path}: no gene sets (the GMT file is empty)")
    return sets


def write_gmt(
    sets: Mapping[str, Iterable[str]],
    path: str | os.PathLike,
    descriptions: Mapping[str, str] | None = None,
) -> None:
    """Write gene sets as a GMT file (atomically).

    Parameters
    ----------
    sets : mapping
        Set name -> gene symbols.
    path : str or path-like
    descriptions : mapping, optional
        Set name -> description (default ``NA``).
    """
    from radsem.io.tables import atomic_write_bytes

    descriptions = descriptions or {}
    lines = []
    for name, genes in sets.items():
        if "\t" in name or "\n" in name:
            raise DataError(f"gene set name {name!r} contains a tab or newline")
        lines.append("\t".join([name, descriptions.get(name, "NA"), *map(str, genes)]))
    atomic_write_bytes(("\n".join(lines) + "\n").encode("utf-8"), path)


def match_gene_sets(
    sets: Mapping[str, Iterable[str]], genes: Iterable[str], min_size: int = MIN_SET_SIZE
) -> dict[str, list[str]]:
    """Keep the measured genes of each set; skip sets with too few of them (with a warning).

    Parameters
    ----------
    sets : mapping
        Set name -> gene symbols.
    genes : iterable of str
        The genes measured (expression columns).
    min_size : int
        Sets keeping fewer measured genes than this are skipped.

    Returns
    -------
    dict
        Set name -> measured genes, in the expression table's column order.

    Raises
    ------
    DataError
        When no set keeps enough measured genes.

    Warns
    -----
    DataWarning
        For each set that is skipped, and once listing sets that lost some of their genes.
    """
    order = {g: i for i, g in enumerate(genes)}
    kept: dict[str, list[str]] = {}
    partial = []
    for name, members in sets.items():
        members = list(members)
        present = sorted({g for g in members if g in order}, key=order.__getitem__)
        if len(present) < min_size:
            warnings.warn(
                f"gene set {name!r}: {len(present)} of its {len(members)} genes are in "
                f"the expression table (need >= {min_size}); set skipped",
                DataWarning,
                stacklevel=2,
            )
            continue
        if len(present) < len(members):
            partial.append(f"{name} ({len(present)}/{len(members)})")
        kept[name] = present
    if partial:
        warnings.warn(
            f"{len(partial)} gene set(s) lost genes absent from the expression table: "
            + ", ".join(partial[:10])
            + (" ..." if len(partial) > 10 else ""),
            DataWarning,
            stacklevel=2,
        )
    if not kept:
        raise DataError(
            f"none of the {len(sets)} gene set(s) has >= {min_size} genes in the "
            "expression table; check that both use the same gene symbols"
        )
    return kept


def hpv_mechanism_sets() -> dict[str, list[str]]:
    """The HPV oncogenic mechanism gene sets of radsem's model library (E6/p53, E7/Rb, immune,
    hypoxia), read from the GMT file shipped with radsem (``hpv_mechanisms.gmt``)."""
    ref = resources.files("radsem.datasets").joinpath("data/hpv_mechanisms.gmt")
    with resources.as_file(ref) as path:
        return read_gmt(path)
