"""Figures of radsem's shape (issue 18): the import graph, its cycles and upward arrows, private
reach-ins into fits, and what routing by declaration costs per call.

Run from the repository root::

    python benchmarks/bench_architecture.py

The graph and the checks are those of ``tests/test_architecture.py`` (read with ``ast``,
function-level imports included).
"""

from __future__ import annotations

import importlib.util
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _architecture():
    spec = importlib.util.spec_from_file_location(
        "test_architecture", ROOT / "tests" / "test_architecture.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    arch = _architecture()
    graph = arch.import_graph()
    modules = set(graph)
    cycles = [c for c in arch._strongly_connected(graph) if len(c) > 1]
    upward = arch._upward(arch.TOP_LAYERS, arch._top_unit, modules)
    estimation = {m for m in modules if m.startswith("radsem.estimation")}
    est_upward = arch._upward(arch.ESTIMATION_LAYERS, arch._estimation_unit, estimation)
    reach_ins = sum(
        len(arch._private_reach_ins(__import__("ast").parse(path.read_text(encoding="utf-8"))))
        for path, _ in arch._modules().values()
    )
    print(f"radsem modules                      {len(modules)}")
    print(f"import edges (module -> module)     {sum(len(v) for v in graph.values())}")
    print(f"import cycles (SCCs of size > 1)    {len(cycles)}")
    print(f"upward arrows between sub-packages  {len(upward)} (known: {len(arch.KNOWN_UPWARD)})")
    print(f"upward arrows inside estimation     {len(est_upward)}")
    print(f"private reach-ins into fits         {reach_ins}")

    from radsem.estimation.api import family_of
    from radsem.syntax.declaration import read_declaration

    model = (
        "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
        "visual ~ textual + speed"
    )
    import pandas as pd

    data = pd.DataFrame({"x1": [1.0]})
    n = 500
    best = min(
        timeit.repeat(
            lambda: family_of(read_declaration(model), data, None, {}), number=n, repeat=5
        )
    )
    print(f"routing by declaration per call     {1e3 * best / n:.3f} ms (4-line model)")


if __name__ == "__main__":
    main()
