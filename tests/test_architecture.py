"""The shape of radsem (issue 18): no import cycle, no upward arrow, no private reach-in.

The import graph is read with ``ast`` from the source (module-level and function-level
imports alike), so an import hidden inside a function still counts. See
``docs/architecture.md`` for the layers these tests hold the code to.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "radsem"

#: a fit's private state; outside its class, use FitResult's problem / theta / vcov() / boot
PRIVATE_FIT_STATE = frozenset({"_problem", "_theta", "_vcov", "_boot"})


@cache
def _modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_package)
    return out


def _resolve(name: str) -> str | None:
    """The radsem module an imported dotted name lives in (longest matching prefix)."""
    mods = _modules()
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> set[str]:
    path, is_package = _modules()[module]
    package = module if is_package else module.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            targets = [f"{source}.{a.name}" for a in node.names] or [source]
            targets = [t if t in _modules() else source for t in targets]
        else:
            continue
        for target in targets:
            if target == "radsem" or target.startswith("radsem."):
                resolved = _resolve(target)
                if resolved and resolved != module:
                    out.add(resolved)
    return out


@cache
def import_graph() -> dict[str, frozenset[str]]:
    """radsem module -> the radsem modules it imports (anywhere in its source)."""
    return {m: frozenset(_imports(m)) for m in _modules()}


def _strongly_connected(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    out.append(sorted(component))
    return out


def test_graph_sees_function_level_imports():
    graph = import_graph()
    # radsem.estimation.core.saved imports radsem.io inside a function only
    assert "radsem.io" in graph["radsem.estimation.core.saved"] or any(
        t.startswith("radsem.io") for t in graph["radsem.estimation.core.saved"]
    )
    assert len(graph) > 200


def test_strongly_connected_finds_a_cycle():
    toy = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset()}
    assert sorted(map(sorted, _strongly_connected(toy))) == [["a", "b", "c"], ["d"]]


def test_no_import_cycle():
    cycles = [c for c in _strongly_connected(import_graph()) if len(c) > 1]
    assert cycles == [], f"import cycles among radsem modules: {cycles}"


# -- private state of fits --------------------------------------------------------------------
def _private_reach_ins(tree: ast.AST) -> list[tuple[int, str]]:
    """``something._problem`` (etc.) where ``something`` is not ``self``."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE_FIT_STATE:
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                out.append((node.lineno, f"{ast.unparse(owner)}.{node.attr}"))
    return out


def test_private_reach_in_detector():
    tree = ast.parse("self._theta\nfit._theta\nself._fit._problem\nfit.theta\nd['_vcov']")
    assert _private_reach_ins(tree) == [(2, "fit._theta"), (3, "self._fit._problem")]


def test_no_module_reads_a_fits_private_state():
    found = defaultdict(list)
    for module, (path, _) in _modules().items():
        for line, text in _private_reach_ins(ast.parse(path.read_text(encoding="utf-8"))):
            found[module].append(f"line {line}: {text}")
    assert dict(found) == {}, (
        "use the FitResult members (problem, theta, vcov(), boot) instead of a fit's "
        f"private attributes: {dict(found)}"
    )
