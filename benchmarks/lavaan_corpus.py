"""The lavaan example corpus (``tests/reference/lavaan_corpus``): radsem against lavaan 0.6-14.

Usage::

    python benchmarks/lavaan_corpus.py [--verbose]

Fits every case with radsem and, live through rpy2, with lavaan, then prints the number of
cases, how many match lavaan (estimates 1e-4 absolute, standard errors 1e-4 relative, fit
measures 1e-4 relative), how many radsem refuses (with the reasons of ``KNOWN_UNSUPPORTED``)
and the largest deviations over the matched cases. ``--verbose`` prints one line per case.
Needs R with lavaan.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "reference"))


def main(argv: list[str] | None = None) -> int:
    from lavaan_corpus.cases import CASES, KNOWN_UNSUPPORTED
    from lavaan_corpus.compare import run_case

    verbose = "--verbose" in (sys.argv[1:] if argv is None else argv)
    start = time.perf_counter()
    outcomes = []
    for case in CASES:
        out = run_case(case)
        outcomes.append(out)
        if verbose:
            print(
                f"{case.name:30s} {out.status:8s} est {out.est:.1e}  se {out.se:.1e}  "
                f"fm {out.fm:.1e} ({out.n_fm})  {out.seconds:5.1f} s"
            )
    matched = [o for o in outcomes if o.status == "matched"]
    refused = [o for o in outcomes if o.status == "refused"]
    other = [o for o in outcomes if o.status not in ("matched", "refused")]
    print(f"cases     {len(outcomes)}")
    print(f"matched   {len(matched)}")
    print(
        f"refused   {len(refused)} (all listed in KNOWN_UNSUPPORTED: "
        f"{all(o.name in KNOWN_UNSUPPORTED for o in refused)})"
    )
    print(f"mismatch  {len(other)}")
    for o in other:
        print(f"  {o.name}: {o.message}")
    if matched:
        print(f"max |est diff|          {max(o.est for o in matched):.2e}")
        print(f"max rel. SE diff        {max(o.se for o in matched):.2e}")
        print(f"max rel. fit-meas. diff {max(o.fm for o in matched):.2e}")
        print(f"fit measures compared   {sum(o.n_fm for o in matched)}")
    print("refused cases:")
    for o in refused:
        print(f"  {o.name}: {KNOWN_UNSUPPORTED.get(o.name, 'NOT LISTED')}")
    print(f"wall time {time.perf_counter() - start:.1f} s")
    return 0 if not other else 1


if __name__ == "__main__":
    raise SystemExit(main())
