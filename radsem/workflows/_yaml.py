"""YAML configuration files read with their line numbers, and the typed checks of their values,
so that every error names the file, the key and the line."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radsem.errors import RadsemError

__all__ = ["ConfigError", "Item", "load_yaml", "Checker"]


class ConfigError(RadsemError, ValueError):
    """A configuration file is invalid: malformed YAML, unknown key, wrong type, missing file.

    Attributes
    ----------
    file : str or None
    key : str or None
        Dotted path of the offending key (``families.clusters.n_clusters``).
    line : int or None
        1-based line in the file.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        key: str | None = None,
        line: int | None = None,
    ) -> None:
        self.file, self.key, self.line, self.message = file, key, line, message
        where = [
            part
            for part in (
                file,
                f"line {line}" if line is not None else None,
                f"key '{key}'" if key else None,
            )
            if part
        ]
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


@dataclass
class Item:
    """A YAML value with its 1-based line: mappings hold ``dict[str, Item]``, sequences
    ``list[Item]``, scalars plain Python values."""

    value: Any
    line: int
    key_line: int | None = None

    def plain(self) -> Any:
        """The value without line numbers."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


def load_yaml(path: str | os.PathLike) -> Item:
    """Parse a YAML file (radsem's bounded safe loader, :mod:`radsem._yaml`) into
    :class:`Item` trees; duplicated keys, alias bombs and deep nesting are errors."""
    import yaml

    from radsem._yaml import YAMLLimitError, compose_yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError("configuration file not found", file=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"cannot be read as UTF-8 text: {exc}", file=str(path)) from exc
    try:
        node = compose_yaml(text)
    except YAMLLimitError as exc:
        raise ConfigError(f"not accepted: {exc.message}", file=str(path), line=exc.line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        col = f" (column {mark.column + 1})" if mark is not None else ""
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ConfigError(f"not valid YAML{col}: {problem}", file=str(path), line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=str(path)) from None
    if node is None:
        raise ConfigError("the file is empty", file=str(path))
    return _convert(node, str(path), yaml)


def _convert(node, file: str, yaml) -> Item:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Item] = {}
        for key_node, value_node in node.value:
            merge = key_node.tag == "tag:yaml.org,2002:merge"
            if not isinstance(key_node, yaml.ScalarNode) or merge:
                raise ConfigError(
                    "keys must be plain names (no merge keys or complex keys)",
                    file=file,
                    line=key_node.start_mark.line + 1,
                )
            key = str(key_node.value)
            if key in out:
                raise ConfigError(
                    f"duplicated key {key!r} (first on line {out[key].key_line})",
                    file=file,
                    line=key_node.start_mark.line + 1,
                )
            item = _convert(value_node, file, yaml)
            item.key_line = key_node.start_mark.line + 1
            out[key] = item
        return Item(out, line)
    if isinstance(node, yaml.SequenceNode):
        return Item([_convert(v, file, yaml) for v in node.value], line)
    constructor = yaml.constructor.SafeConstructor()
    try:
        value = constructor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        raise ConfigError(f"invalid value: {exc.problem}", file=file, line=line) from None
    return Item(value, line)


class Checker:
    """Typed access to a mapping :class:`Item` of a configuration file.

    Parameters
    ----------
    item : Item
        A mapping.
    where : str
        Dotted key path of the mapping (``""`` at the top).
    file : str
    """

    def __init__(self, item: Item, where: str, file: str) -> None:
        self.file, self.where = file, where
        if not isinstance(item.value, dict):
            raise self.error(f"expected a mapping of keys, got {_kind(item.value)}", item)
        self.item = item
        self.values: dict[str, Item] = item.value

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def error(self, message: str, item: Item | None = None, name: str | None = None) -> ConfigError:
        line = None
        if item is not None:
            line = item.key_line if item.key_line is not None else item.line
            if not isinstance(item.value, dict | list):
                line = item.line
        return ConfigError(
            message, file=self.file, key=self.key(name) if name else (self.where or None), line=line
        )

    def allow(self, allowed: Iterable[str], required: Iterable[str] = ()) -> None:
        """Refuse unknown keys (with a suggestion) and missing required keys."""
        allowed = list(allowed)
        for name, item in self.values.items():
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise ConfigError(
                    f"unknown key {name!r}{hint} (allowed here: {', '.join(allowed)})",
                    file=self.file,
                    key=self.key(name),
                    line=item.key_line,
                )
        for name in required:
            if name not in self.values:
                raise ConfigError(
                    f"required key {name!r} is missing",
                    file=self.file,
                    key=self.key(name),
                    line=self.item.line,
                )

    def has(self, name: str) -> bool:
        return name in self.values and self.values[name].value is not None

    def sub(self, name: str) -> Checker:
        return Checker(self.values[name], self.key(name), self.file)

    def line(self, name: str) -> int | None:
        item = self.values.get(name)
        return None if item is None else item.line

    def raw(self, name: str, default: Any = None) -> Any:
        item = self.values.get(name)
        return default if item is None else item.plain()

    def text(
        self, name: str, default: str | None = None, choices: Iterable[str] | None = None
    ) -> str | None:
        if not self.has(name):
            return default
        item = self.values[name]
        if not isinstance(item.value, str) or not item.value.strip():
            raise self.error(f"expected a non-empty text, got {_kind(item.value)}", item, name)
        if choices is not None and item.value not in (choices := list(choices)):
            raise self.error(f"{item.value!r} is not one of {', '.join(choices)}", item, name)
        return item.value

    def integer(
        self,
        name: str,
        default: int | None = None,
        minimum: int | None = None,
        allowed: Iterable[int] = (),
    ) -> int | None:
        if not self.has(name):
            return default
        item = self.values[name]
        value = item.value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"expected a whole number, got {_kind(value)}", item, name)
        if minimum is not None and value < minimum and value not in set(allowed):
            raise self.error(f"must be at least {minimum}, got {value}", item, name)
        return value

    def number(
        self,
        name: str,
        default: float | None = None,
        low: float | None = None,
        high: float | None = None,
        open_low: bool = False,
    ) -> float | None:
        if not self.has(name):
            return default
        item = self.values[name]
        value = item.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"expected a number, got {_kind(value)}", item, name)
        value = float(value)
        if low is not None and (value < low or (open_low and value == low)):
            raise self.error(
                f"must be {'>' if open_low else '>='} {low:g}, got {value:g}", item, name
            )
        if high is not None and value > high:
            raise self.error(f"must be <= {high:g}, got {value:g}", item, name)
        return value

    def boolean(self, name: str, default: bool) -> bool:
        if not self.has(name):
            return default
        item = self.values[name]
        if not isinstance(item.value, bool):
            raise self.error(f"expected true or false, got {_kind(item.value)}", item, name)
        return item.value

    def names(self, name: str, default: Iterable[str] = ()) -> list[str]:
        """A list of non-empty texts (a single text is a one-element list)."""
        if not self.has(name):
            return list(default)
        item = self.values[name]
        values = [item] if isinstance(item.value, str) else item.value
        if not isinstance(values, list):
            raise self.error(f"expected a list of names, got {_kind(item.value)}", item, name)
        out = []
        for entry in values:
            if not isinstance(entry.value, str) or not entry.value.strip():
                raise ConfigError(
                    f"expected a name, got {_kind(entry.value)}",
                    file=self.file,
                    key=self.key(name),
                    line=entry.line,
                )
            out.append(entry.value)
        if len(set(out)) != len(out):
            raise self.error("names are repeated", item, name)
        return out

    def path(
        self, name: str, base: Path, kind: str | None = None, exists: bool = True
    ) -> Path | None:
        """A path relative to ``base`` (the configuration file's folder); ``kind`` is
        ``"file"`` or ``"dir"``; checked to exist when ``exists``."""
        text = self.text(name)
        if text is None:
            return None
        path = Path(text).expanduser()
        path = path if path.is_absolute() else base / path
        if exists:
            item = self.values[name]
            if kind == "dir" and not path.is_dir():
                raise self.error(f"folder not found: {path}", item, name)
            if kind == "file" and not path.is_file():
                raise self.error(f"file not found: {path}", item, name)
            if kind is None and not path.exists():
                raise self.error(f"not found: {path}", item, name)
        return path


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"
