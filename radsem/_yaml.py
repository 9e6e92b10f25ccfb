"""The one way radsem reads YAML: PyYAML's safe loader with bounds on aliases and depth.

A safe loader still lets a small file describe a huge document: nine anchors each referring
nine times to the previous one expand to 9**9 nodes (an "alias bomb"), and deep nesting makes
PyYAML's recursive composer raise ``RecursionError``. :class:`BoundedSafeLoader` refuses both
with :class:`YAMLLimitError`, naming the line:

* at most :data:`MAX_ALIASES` alias uses (``*name``) in a document;
* at most :data:`MAX_NODES` nodes once every alias is expanded (counted on the node graph,
  without expanding anything);
* at most :data:`MAX_DEPTH` levels of nested mappings and sequences.
"""

from __future__ import annotations

from typing import Any

import yaml

from radsem.errors import RadsemError

__all__ = [
    "BoundedSafeLoader",
    "YAMLLimitError",
    "compose_yaml",
    "load_yaml_text",
    "MAX_ALIASES",
    "MAX_NODES",
    "MAX_DEPTH",
]

#: alias uses allowed in one document
MAX_ALIASES = 100
#: nodes allowed in one document with every alias expanded
MAX_NODES = 200_000
#: nesting depth allowed (mappings and sequences)
MAX_DEPTH = 100


class YAMLLimitError(RadsemError, ValueError):
    """A YAML document exceeds radsem's bounds (too many aliases, too large once aliases are
    expanded, or nested too deeply).

    Attributes
    ----------
    line : int or None
        1-based line where the limit was hit.
    message : str
    """

    def __init__(self, message: str, line: int | None = None) -> None:
        self.message, self.line = message, line
        super().__init__(f"line {line}: {message}" if line is not None else message)


class BoundedSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses alias bombs and deep nesting (see the module notes)."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        self._nodes = 0
        self._open: list[str | None] = []
        self._memo: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise YAMLLimitError(
                    f"more than {MAX_ALIASES} aliases (*name) in one document", line
                )
            if event.anchor in self._open:
                raise YAMLLimitError(f"alias *{event.anchor} refers to its own anchor", line)
            target = self.anchors.get(event.anchor)
            self._count(1 if target is None else _expanded_size(target, self._memo), line)
            return super().compose_node(parent, index)
        self._count(1, line)
        self._depth += 1
        self._open.append(getattr(event, "anchor", None))
        try:
            if self._depth > MAX_DEPTH:
                raise YAMLLimitError(f"nested more than {MAX_DEPTH} levels deep", line)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open.pop()

    def _count(self, nodes: int, line: int | None) -> None:
        self._nodes += nodes
        if self._nodes > MAX_NODES:
            raise YAMLLimitError(
                f"the document grows beyond {MAX_NODES} nodes once its aliases are expanded",
                line,
            )

    def compose_document(self) -> Any:
        self._aliases = self._nodes = 0
        self._memo = {}
        return super().compose_document()


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Number of nodes of the (complete) ``node`` with aliases expanded, each distinct node
    walked once (depth is bounded and an alias never refers to an open anchor)."""
    key = id(node)
    if key in memo:
        return memo[key]
    size = 1
    if isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(v, memo) for v in node.value)
    memo[key] = size
    return size


def compose_yaml(text: str) -> yaml.Node | None:
    """The node graph of a single-document YAML text (bounded; ``None`` when empty).

    Raises
    ------
    YAMLLimitError
        Too many aliases, too large once expanded, or too deep.
    yaml.YAMLError
        Malformed YAML (with ``problem_mark``).
    """
    loader = BoundedSafeLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def load_yaml_text(text: str) -> Any:
    """``yaml.safe_load`` with radsem's bounds (see :func:`compose_yaml`)."""
    loader = BoundedSafeLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
