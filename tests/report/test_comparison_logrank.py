"""The comparison report shows a log-rank result as a sentence and its observed/expected table."""

from __future__ import annotations

from radsem.datasets import load
from radsem.report import comparison_report
from radsem.survival import kaplan_meier, logrank


def test_logrank_is_rendered_as_a_sentence_and_table():
    lung = load("lung").dropna(subset=["time", "status", "sex"])
    lung = lung.assign(event=(lung["status"] == 2).astype(int))
    km = kaplan_meier(lung, time="time", event="event", group="sex")
    test = logrank(lung, time="time", event="event", group="sex")
    report = comparison_report(km={"by sex": km.table}, logrank={"by sex": test})
    text = report.to_markdown()
    # R: survdiff(Surv(time, status) ~ sex, lung) gives chisq 10.3 on 1 df, p = 0.001
    assert "Log-rank test: chi-square 10.33 on 1 df, p = 0.001." in text
    assert "Observed and expected events by group" in text
    assert "LogrankResult(" not in text
    plain = comparison_report(km={"by sex": km.table}, logrank={"by sex": "see text"})
    assert "Log-rank test: see text" in plain.to_markdown()
