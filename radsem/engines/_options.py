"""Translate radsem's (Python-spelled) fitting options into lavaan's argument names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from radsem.errors import ModelSpecificationError
from radsem.syntax.call_args import lavaan_argument_name
from radsem.syntax.serialise import check_reference

__all__ = ["lavaan_argument_name", "translate_options", "FUNCTIONS"]

#: lavaan fitting functions an engine may call
FUNCTIONS = ("sem", "cfa", "growth", "lavaan")


def _as_strings(name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ModelSpecificationError(f"option {name} must be a string or a list of strings")


def translate_options(options: Mapping[str, Any], known: set[str]) -> dict[str, Any]:
    """Return ``{lavaan_name: python_value}`` for the user's options.

    Parameters
    ----------
    options : mapping
        Options in radsem's spelling (``group_equal=("loadings",)``, ``std_lv=True``, ...).
        ``None`` values and empty lists are dropped (lavaan's default applies).
    known : set of str
        lavaan's option names (``names(lavOptions())``) plus the data arguments it accepts.

    Raises
    ------
    ModelSpecificationError
        For an option lavaan does not know, or a value of the wrong type.
    """
    out: dict[str, Any] = {}
    for name, value in options.items():
        if value is None or (isinstance(value, list | tuple) and len(value) == 0):
            continue  # lavaan's default (an empty group.equal is lavaan's "")
        key = lavaan_argument_name(name)
        if key not in known:
            raise ModelSpecificationError(
                f"lavaan has no option {name!r} (looked for {key!r}); see lavaan::lavOptions()"
            )
        if key in {"group.equal", "ordered"} and not isinstance(value, bool):
            value = _as_strings(name, value)
        elif key == "group.partial":
            # rebuilt from radsem's check: a label or 'lhs op rhs', nothing else reaches R
            value = [check_reference(entry) for entry in _as_strings(name, value)]
        elif key in {"group", "cluster", "sampling.weights"}:
            if not isinstance(value, str):
                raise ModelSpecificationError(f"option {name} must be a column name (a string)")
        out[key] = value
    return out
