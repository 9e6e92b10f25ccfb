"""The lavaan example corpus, fitted live by radsem and by lavaan (through rpy2).

Every case of :data:`lavaan_corpus.cases.CASES` either matches lavaan (estimates 1e-4
absolute, standard errors 1e-4 relative, every fit measure both report 1e-4 relative) or is
refused with radsem's own error and listed in ``KNOWN_UNSUPPORTED`` with the reason; a listed
case that starts working fails the test, so the table stays honest. Skips without R.
"""

from __future__ import annotations

import pytest

from lavaan_corpus.cases import CASES, KNOWN_UNSUPPORTED
from lavaan_corpus.compare import run_case


def test_corpus_is_large_and_consistent():
    names = [case.name for case in CASES]
    assert len(names) >= 60
    assert len(set(names)) == len(names), "duplicate case names"
    assert set(KNOWN_UNSUPPORTED) <= set(names), "KNOWN_UNSUPPORTED names an unknown case"
    assert all(reason.strip() for reason in KNOWN_UNSUPPORTED.values())


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case_matches_lavaan_or_is_known_unsupported(r_lavaan, case):
    outcome = run_case(case)
    if case.name in KNOWN_UNSUPPORTED:
        assert outcome.status == "refused", (
            f"{case.name} is listed in KNOWN_UNSUPPORTED "
            f"({KNOWN_UNSUPPORTED[case.name]}) but radsem now fits it "
            f"({outcome.status}: {outcome.message or 'matches lavaan'}); remove it from the table"
        )
        assert outcome.message.strip(), "a refusal needs a message"
        return
    assert outcome.status == "matched", f"{case.name}: {outcome.status}: {outcome.message}"


def test_coverage_page_lists_every_unsupported_case():
    from pathlib import Path

    page = Path(__file__).resolve().parents[3] / "docs" / "lavaan-coverage.md"
    text = page.read_text(encoding="utf-8")
    missing = [name for name in KNOWN_UNSUPPORTED if f"`{name}`" not in text]
    assert not missing, f"docs/lavaan-coverage.md does not list {missing}"
