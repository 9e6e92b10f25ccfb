"""Compare two lavaan-style summary texts block by block (labels and printed numbers).

Used by the summary parity tests: lavaan's ``summary()`` is captured in R with
``capture.output`` and radsem's ``fit.summary()`` text is parsed the same way.
"""

from __future__ import annotations

import re

_NUM = re.compile(r"^-?\d+(\.\d+)?$|^NA$")
# lines whose values are radsem's own (not lavaan's): the first line, the optimiser
_SKIP = ("Optimization method",)


def parse_summary(text: str) -> dict[tuple[str, str, str, int], list[float | str]]:
    """``(group, block, label, occurrence) -> values`` for every line with values.

    The label is the text before the first number (labels of fixed-width cells such as
    ``(a)`` kept); sub-headings (``visual =~``, ``.y1 ~~``) become part of the labels of the
    rows under them, so ``visual =~ x2`` and ``textual =~ x2`` are told apart.
    """
    out: dict[tuple[str, str, str, int], list[float | str]] = {}
    group, block, sub = "", "", ""
    for line in text.splitlines()[1:]:
        s = line.strip()
        if not s:
            continue
        if re.match(r"^Group \d+ \[.*\]:$", s):
            group, block, sub = s, "", ""
            continue
        if s.endswith(":") and not line.startswith("  "):
            block, sub = s[:-1], ""
            continue
        if s.endswith("=~") or s.endswith("~~") or (s.endswith(" ~") and block == "Regressions"):
            sub = s
            continue
        tokens = s.split()
        k = len(tokens)
        while k > 0 and _NUM.match(tokens[k - 1]):
            k -= 1
        label = " ".join(tokens[:k])
        values = [t if t == "NA" else float(t) for t in tokens[k:]]
        if not values or label.startswith(_SKIP):
            continue
        if block in ("Latent Variables", "Regressions", "Covariances"):
            label = f"{sub} {label}"
        n = 0
        while (group, block, label, n) in out:
            n += 1
        out[(group, block, label, n)] = values
    return out


def compare_summaries(ours: str, theirs: str, tol: float = 1.001e-3) -> list[str]:
    """Differences between two summary texts (empty when they agree).

    Every labelled line of lavaan's text must be in ours with the same values within
    ``tol`` (one unit of the printed 3 decimals), and ours has no extra labelled lines; the
    text-only lines of the header and test blocks must be the same (:func:`compare_text_lines`).
    """
    a, b = parse_summary(ours), parse_summary(theirs)
    problems = compare_text_lines(ours, theirs)
    for key, want in b.items():
        got = a.get(key)
        if got is None:
            problems.append(f"missing line {key}: lavaan {want}")
            continue
        if len(got) != len(want):
            problems.append(f"{key}: radsem {got}, lavaan {want}")
            continue
        for x, y in zip(got, want, strict=True):
            if isinstance(x, str) or isinstance(y, str):
                if x != y:
                    problems.append(f"{key}: radsem {got}, lavaan {want}")
            elif abs(x - y) > tol:
                problems.append(f"{key}: radsem {got}, lavaan {want}")
    for key in a.keys() - b.keys():
        problems.append(f"extra line {key}: radsem {a[key]}")
    return problems


def _text_lines(text: str) -> list[tuple[str, str]]:
    """``(block, line)`` for the lines without numbers before the parameter blocks (test
    names such as ``Satorra-Bentler correction``, ``Standard errors  Robust.sem``), with
    runs of spaces collapsed; the first line and the optimiser are radsem's own."""
    out = []
    block = ""
    for line in text.split("\nLatent Variables:")[0].splitlines()[1:]:
        s = " ".join(line.split())
        if not s or s.startswith(_SKIP):
            continue
        if s.endswith(":") and not line.startswith("  "):
            block = s[:-1]
            continue
        tokens = s.split()
        if _NUM.match(tokens[-1]):
            continue
        out.append((block, s))
    return out


def compare_text_lines(ours: str, theirs: str) -> list[str]:
    """Differences in the text-only lines of the header and test blocks (same lines, same
    order)."""
    a, b = _text_lines(ours), _text_lines(theirs)
    if a == b:
        return []
    return [f"text lines differ: radsem {a}, lavaan {b}"]
