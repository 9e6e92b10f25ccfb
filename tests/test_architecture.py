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
PRIVATE_FIT_STATE = frozenset(
    {"_problem", "_theta", "_vcov", "_boot", "_npar", "_df", "_fmin", "_chisq", "_baseline"}
    | {"_sb", "_bollen_stine", "_inference", "_scaled_test", "_baseline_test", "_catml"}
)


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


#: Known import cycles still to remove (each one a strongly connected set of modules).
KNOWN_CYCLES: tuple[tuple[str, ...], ...] = ()


def test_no_import_cycle():
    cycles = {tuple(c) for c in _strongly_connected(import_graph()) if len(c) > 1}
    known = set(KNOWN_CYCLES)
    assert sorted(cycles - known) == [], "import cycles among radsem modules"
    assert known <= cycles, "a known cycle is gone: remove it from KNOWN_CYCLES"


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


# -- layers -----------------------------------------------------------------------------------
#: The layers of radsem, lowest first (docs/architecture.md draws them). A unit may import
#: its own modules and units of lower layers, never a unit of its own layer or above. Units
#: are top-level sub-packages, except ``radsem.report`` whose renderers (tables, documents,
#: plots, provenance; used by deep and genemap for their own reports) sit below the analysis
#: packages and whose SEM report (``sem_report``, and the package's ``__init__`` that
#: re-exports it) above ``radsem.estimation``.
TOP_LAYERS = (
    ("base",),  # errors, _version, the private helpers (_warnings, _optional, ...), radsem
    ("syntax", "survival", "cluster", "io", "datasets"),
    ("engines", "radiomics", "report.render"),
    ("estimation", "deep", "genemap"),
    ("compare", "segment", "simulate", "report"),
    ("workflows",),
    ("demo",),
    ("commands",),
    ("cli",),
)

#: Known upward arrows still to remove: (importer, imported) -> why it is there.
KNOWN_UPWARD: dict[tuple[str, str], str] = {}

#: Inside radsem.estimation, lowest first: the contract, the core, the wings in their fixed
#: order, the base family, the other families, the entry points. ``measures.indices`` (the
#: CFI/TLI/RMSEA formulas on test statistics) sits below ``robust``, which computes the
#: ``.scaled``/``.robust`` indices with them; the rest of ``measures`` (fit measures, summary,
#: LRT, modification indices, prediction) reports robust's tests and sits above it.
ESTIMATION_LAYERS = (
    ("result",),
    ("core",),
    ("missing",),
    ("measures.indices",),
    ("robust",),
    ("measures",),
    ("bootstrap",),
    ("families.continuous",),
    ("rotation",),  # rotations, and EFA / ESEM fits built on the continuous family
    ("families", "families.*"),  # ordinal, survival_outcome and any further family
    ("api",),
    ("__init__",),
)


def _top_unit(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("errors", "_version") or parts[1].startswith("_"):
        return "base"
    if parts[1] == "report":
        upper = len(parts) == 2 or parts[2] == "sem_report"
        return "report" if upper else "report.render"
    return parts[1]


def _estimation_unit(module: str) -> str:
    parts = module.split(".")[2:]
    if not parts:
        return "__init__"
    if parts[0] == "families" and len(parts) > 1:
        return f"families.{parts[1]}"
    if parts == ["measures", "indices"]:
        return "measures.indices"
    return parts[0]


def _rank(layers, unit: str) -> int:
    for rank, members in enumerate(layers):
        if unit in members:
            return rank
        if unit.startswith("families.") and "families.*" in members:
            return rank
    raise AssertionError(
        f"{unit!r} has no layer: add it to the layers in tests/test_architecture.py and "
        "docs/architecture.md"
    )


def _upward(layers, unit_of, modules, graph=None) -> list[str]:
    graph = import_graph() if graph is None else graph
    out = []
    for module in modules:
        source = unit_of(module)
        for target in graph[module]:
            if target not in modules:
                continue
            dest = unit_of(target)
            if dest == source:
                continue
            if _rank(layers, dest) >= _rank(layers, source):
                out.append(f"{module} ({source}) -> {target} ({dest})")
    return sorted(out)


def test_every_unit_has_a_layer():
    for module in _modules():
        _rank(TOP_LAYERS, _top_unit(module))
        if module.startswith("radsem.estimation"):
            _rank(ESTIMATION_LAYERS, _estimation_unit(module))


def test_no_upward_arrow_between_sub_packages():
    found = _upward(TOP_LAYERS, _top_unit, set(_modules()))
    known = {f"{a} ({_top_unit(a)}) -> {b} ({_top_unit(b)})" for a, b in KNOWN_UPWARD}
    assert sorted(set(found) - known) == [], "upward imports between radsem's layers"
    assert known <= set(found), "a known upward arrow is gone: remove it from KNOWN_UPWARD"


def test_estimation_core_wings_families_api():
    modules = {m for m in _modules() if m.startswith("radsem.estimation")}
    assert _upward(ESTIMATION_LAYERS, _estimation_unit, modules) == []


def test_the_core_and_the_wings_import_no_family():
    graph = import_graph()
    lowest_family = _rank(ESTIMATION_LAYERS, "families.continuous")
    for module in _modules():
        if not module.startswith("radsem.estimation."):
            continue
        if _rank(ESTIMATION_LAYERS, _estimation_unit(module)) >= lowest_family:
            continue
        assert not [t for t in graph[module] if t.startswith("radsem.estimation.families")], module


def test_upward_detector():
    layers = (("a",), ("b",))
    graph = {"x.a.m": frozenset({"x.b.n"}), "x.b.n": frozenset({"x.a.m"})}
    found = _upward(layers, lambda m: m.split(".")[1], set(graph), graph)
    assert found == ["x.a.m (a) -> x.b.n (b)"]
