"""sem_report and the Report outputs (HTML, Markdown, LaTeX) built from fit-like objects."""

from __future__ import annotations

import hashlib
import re
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from report_fakes import make_fit
from scipy import stats

from radsem.errors import DataError
from radsem.report import Provenance, Report, ResultTable, missing_patterns, sem_report
from radsem.report.sem_report import chisq_difference, fit_warnings


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.normal(size=(40, 6)), columns=["a1", "a2", "a3", "b1", "b2", "b3"])
    frame.loc[:4, "a1"] = np.nan
    frame.loc[3:6, "b3"] = np.nan
    frame.insert(0, "patient_id", [f"RSM-{i:04d}" for i in range(40)])
    return frame


@pytest.fixture(scope="module")
def report(tmp_path_factory, data):
    fits = {"free": make_fit(), "orthogonal": make_fit(chisq=52.5, df=20, npar=16, free_cov=False)}
    folder = tmp_path_factory.mktemp("inputs")
    src = folder / "data.csv"
    data.to_csv(src, index=False)
    return sem_report(
        fits,
        data=data,
        nested=True,
        title="Test <report>",
        provenance={"inputs": [src], "seeds": {"simulation": 7}},
    ), src


def test_sections_present(report):
    rep, _ = report
    titles = [s.title for s in rep.sections]
    assert titles[:3] == ["Overview", "Missing data", "Model comparison"]
    for name in ("free", "orthogonal"):
        for part in (
            "fit measures",
            "parameter estimates",
            "path diagram",
            "modification indices",
            "warnings",
        ):
            assert f"{name}: {part}" in titles
    assert len(rep.figures()) == 2


def _tables(rep, title_part):
    return [
        b
        for s in rep.sections
        for b in s.blocks
        if isinstance(b, ResultTable) and title_part in (b.title or "")
    ]


def test_fit_measures_with_rmsea_ci_and_context(report):
    rep, _ = report
    table = _tables(rep, "Fit measures: free")[0]
    row = table.frame.set_index("measure").loc["rmsea"]
    assert row["value"] == "0.041"
    assert row["ci_lower"] == 0.0101
    assert row["ci_upper"] == 0.0673
    assert "<= 0.06" in row["context"]
    assert "not verdicts" in table.notes[0]
    assert "90% CI lower" in table.formatted().columns


def test_chisq_difference_matches_hand_computation(report):
    rep, _ = report
    table = _tables(rep, "Chi-square difference")[0].frame
    assert table.loc["orthogonal", "Chisq diff"] == pytest.approx(52.5 - 30.0)
    assert int(table.loc["orthogonal", "Df diff"]) == 1
    assert table.loc["orthogonal", "Pr(>Chisq)"] == pytest.approx(stats.chi2.sf(22.5, 1))


def test_chisq_difference_fallback_agrees():
    fits = [make_fit(), make_fit(chisq=52.5, df=20, npar=16)]
    table, caught = chisq_difference(fits, ["a", "b"])
    assert not caught
    assert table.loc["b", "Chisq diff"] == pytest.approx(22.5)


def test_modification_indices_top10_sorted(report):
    rep, _ = report
    mi = _tables(rep, "Modification indices (top 10): free")[0].frame
    assert len(mi) == 10
    assert mi["mi"].is_monotonic_decreasing
    assert mi.iloc[0][["lhs", "op", "rhs"]].tolist() == ["a1", "~~", "a2"]


def test_parameter_tables_blank_fixed_se(report):
    rep, _ = report
    load = _tables(rep, "Latent variables (loadings): free")[0].frame
    assert len(load) == 6
    assert np.isnan(load.loc[0, "se"])  # marker loading is fixed
    assert load.loc[1, "std_all"] == 0.7


def test_missing_patterns_counts(data):
    pats = missing_patterns(data, ["a1", "a2", "b3"])
    assert pats["n"].sum() == 40
    assert pats.iloc[0][["n", "a1", "a2", "b3", "n_missing"]].tolist() == [33, 1, 1, 1, 0]
    both = pats[(pats["a1"] == 0) & (pats["b3"] == 0)]
    assert both["n"].tolist() == [2]  # rows 3 and 4
    assert "patient_id" not in pats.columns
    with pytest.raises(DataError, match="none of the model's observed"):
        missing_patterns(data, ["zz"])


def test_warnings_nonconvergence_and_heywood():
    fit = make_fit(negative_var=True, converged=False)
    fit.warnings.append(UserWarning("optimiser stopped early"))
    msgs = fit_warnings(fit, fit.parameter_estimates())
    assert any("did not converge" in m for m in msgs)
    assert any("variance of a1" in m and "Heywood" in m for m in msgs)
    assert any("optimiser stopped early" in m for m in msgs)
    rep = sem_report(fit)
    html = rep.to_html()
    assert html.count('class="warning"') >= 3


def test_html_self_contained(report, tmp_path):
    rep, src = report
    path = tmp_path / "r.html"
    html = rep.to_html(path)
    assert path.read_text(encoding="utf-8") == html
    assert "<title>Test &lt;report&gt;</title>" in html
    assert not re.search(r"(src|href)=\"(https?:|//|file:)", html)
    assert "@import" not in html
    assert "@media print" in html
    assert html.count('src="data:image/svg+xml;base64,') == 2
    assert "RSM-0" not in html  # no patient identifiers
    assert hashlib.sha256(src.read_bytes()).hexdigest() in html
    assert "seed: simulation" in html
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temporary files left
    nav = ET.fromstring(re.search(r'<nav class="toc">.*?</nav>', html, re.S).group(0))
    assert len(nav.findall("./ul/li/ul/li")) == 10  # five subsections per model, nested


def test_multigroup_tables_and_diagram():
    fit = make_fit()
    pe = fit.parameter_estimates()
    two = pd.concat([pe, pe.assign(group=2, est=pe["est"] * 1.1)], ignore_index=True)
    fit._pe = two
    rep = sem_report(fit)
    load = _tables(rep, "Latent variables")[0].frame
    assert sorted(set(load["group"])) == [1, 2]
    fig = rep.figures()[0]
    assert "(group 1)" in fig.caption
    assert len(fig.data["edges"]) == (pe["op"] == "=~").sum() + 1  # loadings + factor covariance


def test_markdown_and_latex_write_figures(report, tmp_path):
    rep, _ = report
    md = rep.to_markdown(tmp_path / "r.md")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert len(links) == 2
    for link in links:
        ET.fromstring((tmp_path / link).read_bytes())
    assert "## Provenance" in md
    tex = rep.to_latex(tmp_path / "r.tex")
    assert tex.startswith(r"\documentclass")
    assert r"\usepackage{booktabs}" in tex
    assert r"\end{document}" in tex
    for inc in re.findall(r"\\includegraphics\[[^\]]*\]\{([^}]+)\}", tex):
        assert (tmp_path / inc).read_bytes().startswith(b"\x89PNG")
    assert tex.count(r"\begin{table}") == tex.count(r"\end{table}") > 5


def test_provenance_records_versions(tmp_path):
    f = tmp_path / "model.lav"
    f.write_text("f =~ a + b + c\n")
    prov = Provenance(inputs=[f], options={"estimator": "ML"}, seeds={"cv": 1})
    d = prov.as_dict()
    assert d["inputs"] == {"model.lav": hashlib.sha256(f.read_bytes()).hexdigest()}
    assert {"radsem", "python", "numpy", "pandas"} <= set(d["versions"])
    assert str(tmp_path) not in prov.frame().to_string()  # no folders (may name a person)
    with pytest.raises(DataError, match="input file not found"):
        Provenance(inputs=[tmp_path / "missing.csv"])


def test_bad_inputs(fake_fit):
    with pytest.raises(DataError, match="at least one"):
        sem_report([])
    with pytest.raises(DataError, match="not a fitted model"):
        sem_report(pd.DataFrame())
    with pytest.raises(DataError, match="2 names for 1 fits"):
        sem_report(fake_fit, names=["a", "b"])
    with pytest.raises(DataError, match="nested sets"):
        sem_report({"a": fake_fit, "b": make_fit()}, nested=[["a", "zz"]])
    with pytest.raises(DataError, match="does not exist"):
        Report("x").to_html("/nonexistent-folder/x.html")


def test_not_nested_note(fake_fits):
    rep = sem_report(fake_fits)
    text = rep.to_markdown()
    assert "No chi-square difference test" in text


def test_real_radsem_fit():
    import radsem

    try:
        fit_fn = radsem.cfa
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"radsem.cfa not available: {exc}")
    from radsem.datasets import load

    hs = load("HolzingerSwineford1939")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_fn("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6", hs)
    rep = sem_report(fit, data=hs)
    fig = rep.figures()[0]
    pe = fit.parameter_estimates()
    drawn = pe[pe["op"].isin(["=~"]) | ((pe["op"] == "~~") & (pe["lhs"] != pe["rhs"]))]
    assert len(fig.data["edges"]) == len(drawn)
    fm = _tables(rep, "Fit measures")[0].frame.set_index("measure")
    assert fm.loc["chisq", "value"] == f"{fit.fit_measures()['chisq']:.3f}"


def test_lavaan_fit_through_rpy2(r_lavaan):
    from radsem.datasets import load
    from radsem.engines import fit_lavaan

    pdem = load("PoliticalDemocracy")
    model = "ind60 =~ x1 + x2 + x3\ndem60 =~ y1 + y2 + y3 + y4\ndem60 ~ ind60\ny1 ~~ y3"
    fit = fit_lavaan(model, pdem, "sem")
    rep = sem_report(fit, names=["lavaan"])
    mi = _tables(rep, "Modification indices")[0].frame
    ref = fit.modindices().sort_values("mi", ascending=False).head(10)
    np.testing.assert_allclose(mi["mi"].to_numpy(), ref["mi"].to_numpy())
    pe = fit.parameter_estimates()
    reg = pe[pe["op"] == "~"].iloc[0]
    edge = next(e for e in rep.figures()[0].data["edges"] if e["op"] == "~")
    assert edge["label"] == f"{reg['std_all']:.2f}"
