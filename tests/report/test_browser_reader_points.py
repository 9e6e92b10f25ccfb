"""The points a reader checks in the two reports (issue: reports a clinician can read), on pages
rendered by headless Chromium: the DOM Chromium built and the figures it painted.

The SEM report is made from real radsem fits; the outcome report from small tables with every
input the demo gives. Screenshots of the demo's own reports are in docs/img/ (made by
benchmarks/report_screenshots.py).
"""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_browser import CHROMIUM, _chromium, _png

import radsem
from radsem.datasets import load
from radsem.report import comparison_report, segmentation_section, sem_report

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"
)

NINE = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
ONE = "g =~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9\n"


def _km(groups):
    rows = []
    for g, surv in groups.items():
        for k, s in enumerate(surv):
            rows.append((6.0 * (k + 1), 40 - 8 * k, 2, 1, s, 0.05, s - 0.1, min(s + 0.1, 1), g))
    return pd.DataFrame(
        rows,
        columns=[
            "time",
            "n_risk",
            "n_event",
            "n_censor",
            "surv",
            "std_err",
            "lower",
            "upper",
            "group",
        ],
    )


def _outcome_report():
    rng = np.random.default_rng(4)
    models = ["clinical", "radiomic", "SEM scores"]
    metrics = pd.DataFrame(
        {
            "model": models * 2,
            "metric": ["harrell_c"] * 3 + ["auc (24 months)"] * 3,
            "estimate": [0.66, 0.70, 0.72, 0.68, 0.71, 0.74],
            "ci_lower": 0.6,
            "ci_upper": 0.8,
        }
    )
    differences = pd.DataFrame(
        {
            "comparison": ["radiomic - clinical", "SEM scores - clinical", "SEM scores - radiomic"],
            "estimate": [0.04, 0.06, 0.02],
            "ci_lower": [-0.01, 0.01, -0.03],
            "ci_upper": [0.09, 0.11, 0.07],
            "pvalue": [0.09, 0.012, 0.4],
        }
    )
    hr = pd.DataFrame(
        {"hr": [1.8, 1.3], "ci_lower": [1.2, 0.9], "ci_upper": [2.7, 1.9]},
        index=["E6 (per SD)", "advanced"],
    )
    hr.attrs.update(n=118, events=41, per_sd=["E6 (per SD)"])
    decision = pd.DataFrame(
        [
            (m, t, 0.2 - t * (0.3 + 0.1 * k), 0.15 - t)
            for k, m in enumerate(models)
            for t in np.arange(0.05, 0.5, 0.05)
        ],
        columns=["model", "threshold", "net_benefit", "treat_all"],
    )
    calibration = pd.DataFrame(
        {
            "model": np.repeat(models, 3),
            "group": [1, 2, 3] * 3,
            "predicted": [0.1, 0.25, 0.5] * 3,
            "observed": [0.12, 0.22, 0.55] * 3,
        }
    )
    features = pd.DataFrame(rng.normal(size=(30, 5)), columns=[f"f{j}" for j in range(5)])
    clusters = np.repeat(["C1", "C2", "C3"], 10)
    return comparison_report(
        sections=[_segmentation()],
        metrics=metrics,
        differences=differences,
        hazard_ratios={"SEM scores + FIGO": hr},
        km={"by tertile": _km({"1 (low)": [0.9, 0.8, 0.7], "3 (high)": [0.7, 0.5, 0.3]})},
        calibration=calibration,
        decision=decision,
        horizon=24,
        cluster_features=features,
        clusters=clusters,
        notes=["Simulated cohort; follow-up in months."],
        warnings=[
            "harmonisation: DataWarning: 3 features constant in one protocol",
            "clusters: ConvergenceWarning: a cluster has 2 patients",
        ],
        metric_notes=["Rows '(24 months)': not run for the joint SEM-Cox model (reason)."],
    )


def _segmentation(patient_ids=True):
    per = pd.DataFrame(
        {
            "patient_id": ["P001", "P002", "P003"] * 2,
            "set": "held-out",
            "method": ["unet"] * 3 + ["threshold"] * 3,
            "status": "ok",
            "dice": [0.93, 0.88, 0.91, 0.71, 0.65, 0.8],
            "hd95_vox": [1.0, 1.4, 1.0, 6.0, 7.2, 4.1],
            "hd95_mm": [1.7, 2.2, 1.7, 11.0, 13.9, 7.5],
            "volume_pred_ml": [10.2, 22.5, 5.1, 14.0, 30.8, 7.7],
            "volume_ref_ml": [10.0, 23.9, 5.0, 10.0, 23.9, 5.0],
            "volume_diff_pct": [2.0, -5.9, 2.0, 40.0, 28.9, 54.0],
        }
    )
    predicted = pd.DataFrame(
        {
            "patient_id": ["P010", "P011"],
            "status": ["ok", "failed"],
            "voxels": [812, 0],
            "volume_ml": [1.6, 0.0],
            "touches_border": False,
            "method": "unet",
            "model_hash": "3f2a9c" * 10,
            "reason": ["", "patient P011: the predicted mask is empty"],
        }
    )
    source = pd.Series(
        ["reference"] * 3 + [f"predicted:unet:{'3f2a9c' * 10}"],
        index=["P001", "P002", "P003", "P010"],
    )
    return segmentation_section(
        per_patient=per,
        predicted=predicted,
        mask_source=source,
        crops_mask_source=source,
        patient_ids=patient_ids,
    )


def _segmentation_hidden():
    return _segmentation(patient_ids=False)


def _sem_report():
    data = load("HolzingerSwineford1939").copy()
    rng = np.random.default_rng(0)
    for col in ("x1", "x4", "x7", "x9"):
        data.loc[rng.choice(len(data), 25, replace=False), col] = np.nan
    fits = {
        "three factors": radsem.cfa(NINE, data=data, missing="ml"),
        "one factor": radsem.cfa(ONE, data=data, missing="ml"),
    }
    return sem_report(fits, data=data), fits


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reader")
    _outcome_report().to_html(folder / "outcome.html")
    sem, fits = _sem_report()
    sem.to_html(folder / "sem.html")
    return folder, fits


def _dom(tmp_path, page: Path) -> str:
    done = _chromium(tmp_path, page, "--dump-dom", "--window-size=1280,2000")
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _section(dom: str, sid: str) -> str:
    start = dom.index(f'<section id="{sid}">')
    return dom[start : dom.index("</section>", start)]


def _svgs(html: str) -> list[str]:
    return [
        base64.b64decode(b).decode("utf-8")
        for b in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    ]


def test_outcome_report_reader_points(pages, tmp_path):
    folder, _ = pages
    dom = _dom(tmp_path, folder / "outcome.html")
    ids = re.findall(r'<section id="([^"]+)">', dom)
    # warnings in their own section after the results, not in the overview
    assert ids[-2:] == ["warnings", "provenance"]
    assert "Warning:" not in _section(dom, "overview")
    assert _section(dom, "warnings").count('class="warning"') == 2
    # differences: p-values, Holm-adjusted, with the number of comparisons
    diff = _section(dom, "differences-between-models")
    assert "p (Holm)" in diff
    assert "Multiplicity: 3 comparisons" in diff
    assert "0.036" in diff  # Holm: 3 x 0.012
    # hazard ratios with N and events, per-SD terms marked
    hrs = _section(dom, "hazard-ratios")
    assert "(N = 118, 41 events)" in hrs
    assert "E6 (per SD)" in hrs
    assert "per standard deviation" in hrs
    # Kaplan-Meier axis in months
    assert any(">Months<" in svg for svg in _svgs(_section(dom, "kaplan-meier-by-tertile")))
    # the decision curve is drawn, at a stated horizon
    dc = _svgs(_section(dom, "decision-curves-at-24-months"))
    assert len(dc) == 1
    assert "Net benefit" in dc[0]
    assert "by 24 months" in dc[0]
    assert "calibration-at-24-months" in ids
    # heatmap: each cluster label once
    heat = _svgs(_section(dom, "cluster-heatmap"))[0]
    for label in ("C1", "C2", "C3"):
        assert len(re.findall(rf">{label}</text>", heat)) == 1, label
    assert "not run for the joint SEM-Cox model" in _section(dom, "cross-validated-metrics")
    # segmentation: who got predicted masks (model hash), Dice / HD95 per patient, volumes
    seg = _section(dom, "automatic-segmentation")
    assert "2 patient(s) had no reference mask" in seg
    assert "model hash 3f2a9c3f2a9c" in seg
    assert "1 ok, 0 flagged" in seg
    assert "P011: the predicted mask is empty" in seg
    assert seg.count("<tr>") >= 6 + 2 + 2 + 2
    assert ">0.930<" in seg
    assert "Mask source of the autoencoder crops" in seg
    assert "predicted:unet:3f2a9c" in seg
    vol = _svgs(seg)
    assert len(vol) == 1
    assert "Predicted mask volume (mL)" in vol[0]
    assert ids.index("automatic-segmentation") < ids.index("warnings")


def test_sem_report_reader_points(pages, tmp_path):
    folder, fits = pages
    dom = _dom(tmp_path, folder / "sem.html")
    missing = _section(dom, "missing-data")
    header = re.search(r"<thead>(.*?)</thead>", missing, re.S).group(1)
    assert header.count("<th") == 3  # rows, variables missing, which: fits on the page
    assert "x1, x4" in missing or "x1" in missing
    # SRMR beyond the guide flagged for the one-factor model only
    srmr = float(fits["one factor"].fit_measures()["srmr"])
    assert srmr > 0.08
    one = _section(dom, "one-factor-fit-measures")
    assert "BEYOND GUIDE (&gt; 0.08)" in one
    assert f"SRMR = {srmr:.3f} is above" in one
    assert "BEYOND" not in _section(dom, "three-factors-fit-measures").split("SRMR")[1][:400]
    # R-squared of the indicators
    r2 = _section(dom, "three-factors-parameter-estimates")
    assert "R-squared of the endogenous variables" in r2
    assert "R²" in r2
    # provenance: only packages imported in this process, never lifelines
    prov = _section(dom, "provenance")
    assert "lifelines" not in prov
    listed = re.findall(r"version: ([\w.-]+)", prov)
    from radsem.report.provenance import _IMPORTS

    for name in listed:
        if name in _IMPORTS:
            assert _IMPORTS[name] in sys.modules, name


def test_sem_page_has_no_blank_band_above_the_diagram(pages, tmp_path):
    """The path diagram's image starts with ink, not with a band of white."""
    _, fits = pages
    from radsem.report import path_diagram

    fig = path_diagram(fits["three factors"].parameter_estimates(), values="std_all")
    png = tmp_path / "diagram.png"
    png.write_bytes(fig.png)
    ink = np.flatnonzero((_png(png).min(axis=2) < 200).any(axis=1))
    height = _png(png).shape[0]
    assert ink[0] < 0.08 * height
    assert ink[-1] > 0.92 * height


def test_segmentation_section_without_patient_ids():
    from radsem.report import Report

    section = _segmentation()
    shown = Report("x", [section]).to_html()
    assert "P010" in shown
    assert "P011: the predicted mask is empty" in shown
    hidden = _segmentation_hidden()
    html = Report("x", [hidden]).to_html()
    for pid in ("P001", "P002", "P003", "P010", "P011"):
        assert pid not in html, pid
    assert "case 2: the predicted mask is empty" in html
    assert "identifiers are in the output tables" in html
