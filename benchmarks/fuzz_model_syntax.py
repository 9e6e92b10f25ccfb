"""Fuzz radsem's lavaan-syntax front end with seeded mutations of valid models and count the
exceptions by type; only radsem's documented errors should appear.

    PYTHONPATH=. python benchmarks/fuzz_model_syntax.py [N_PARSE] [N_FIT] [SEED]
"""

from __future__ import annotations

import collections
import sys
import time
import traceback
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "robustness"))

from _mutations import fuzz_data, mutated_models  # noqa: E402

import radsem  # noqa: E402
from radsem.errors import RadsemError  # noqa: E402
from radsem.syntax import build_partable  # noqa: E402


def main(n_parse: int = 20_000, n_fit: int = 500, seed: int = 0) -> int:
    data = fuzz_data()
    counts: collections.Counter = collections.Counter()
    examples: dict[str, str] = {}
    start = time.perf_counter()
    for i, (_, text) in enumerate(mutated_models(n_parse, seed)):
        stage = "parse"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                build_partable(text, list(data.columns))
                if i < n_fit:
                    stage = "fit"
                    radsem.sem(text, data, ordered=[q for q in ("q1", "q2", "q3") if q in text])
            counts["ok"] += 1
        except RadsemError as exc:
            counts[f"{stage}: {type(exc).__name__}"] += 1
            if type(exc).__name__ == "ModelSpecificationError" and not getattr(exc, "line", None):
                counts[f"{stage}: ModelSpecificationError without line"] += 1
        except Exception as exc:  # noqa: BLE001 - counting what escapes is the point
            key = f"{stage}: UNDOCUMENTED {type(exc).__name__}"
            counts[key] += 1
            examples.setdefault(key, text + "\n" + traceback.format_exc(limit=-3))
    elapsed = time.perf_counter() - start
    print(f"{n_parse} mutated models ({n_fit} also fitted), seed {seed}, {elapsed:.1f} s")
    for key, value in sorted(counts.items()):
        print(f"  {key:60s} {value}")
    for key, text in examples.items():
        print(f"\n--- first {key}:\n{text}")
    return 1 if examples else 0


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:])))
