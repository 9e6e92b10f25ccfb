"""The HTML reports as a reader sees them: rendered by headless Chromium.

CI installs Debian's ``chromium``; elsewhere these tests skip (they never install anything).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_fakes import make_fit

from radsem.report import comparison_report, sem_report

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"
)


def _chromium(tmp_path: Path, html: Path, *extra: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *extra,
        html.resolve().as_uri(),
    ]
    env = dict(os.environ, HOME=str(tmp_path))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def _png(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=float)


@pytest.fixture(scope="module")
def pages(tmp_path_factory, km_table_module):
    folder = tmp_path_factory.mktemp("html")
    sem = sem_report(
        {"free": make_fit(), "orthogonal": make_fit(chisq=52.5, df=20, npar=16, free_cov=False)},
        nested=True,
    )
    sem.to_html(folder / "sem.html")
    hr = pd.DataFrame(
        {"hr": [3.33, 2.51], "ci_lower": [1.37, 1.02], "ci_upper": [8.07, 6.16]},
        index=["cluster 2/3 vs 1", "adjusted"],
    )
    comp = comparison_report(
        metrics=pd.DataFrame(
            {
                "model": ["SEM", "clinical"],
                "metric": ["C-index"] * 2,
                "estimate": [0.71, 0.66],
                "ci_lower": [0.64, 0.58],
                "ci_upper": [0.78, 0.73],
            }
        ),
        hazard_ratios=hr,
        km={"by radiomic cluster": km_table_module},
        feature_ranking=pd.Series([2.1, 1.7, 1.2], index=["f_a", "f_b", "f_c"]),
    )
    comp.to_html(folder / "comparison.html")
    return folder


@pytest.fixture(scope="module")
def km_table_module():
    rows = []
    for g, surv in (("C1", [0.9, 0.7, 0.5]), ("C2", [0.8, 0.4, 0.2])):
        for k, s in enumerate(surv):
            rows.append((k + 1.0, 10 - 3 * k, 1, 1, s, 0.1, s - 0.15, min(s + 0.15, 1), g))
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


@pytest.mark.parametrize(
    ("page", "sections", "images", "height"),
    [
        (
            "sem.html",
            [
                "overview",
                "model-comparison",
                "free-path-diagram",
                "orthogonal-warnings",
                "provenance",
            ],
            2,
            2000,
        ),
        (
            "comparison.html",
            [
                "cross-validated-metrics",
                "hazard-ratios",
                "kaplan-meier-by-radiomic-cluster",
                "feature-ranking-fr",
                "provenance",
            ],
            3,
            4000,
        ),
    ],
)
def test_renders_with_sections_and_images(pages, tmp_path, page, sections, images, height):
    dom = _chromium(tmp_path, pages / page, "--dump-dom", "--window-size=1280,2000")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert "<h1>" in html
    for sid in sections:
        assert f'<section id="{sid}">' in html
    assert html.count('<img src="data:image/svg+xml;base64,') == images
    assert "Uncaught" not in dom.stderr
    shot = tmp_path / "shot.png"
    result = _chromium(
        tmp_path, pages / page, f"--screenshot={shot}", f"--window-size=1280,{height}"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    pixels = _png(shot)
    assert pixels.shape[:2] == (height, 1280)
    non_white = (pixels.min(axis=2) < 200).mean()
    assert 0.01 < non_white < 0.6, non_white  # text and rules, not blank, not all dark
    if page == "comparison.html":
        # red (#c0392b) is used only inside the figures (KM group C2, FR bars above 1.85,
        # forest plot none): red pixels mean the embedded SVG images were painted
        red = np.abs(pixels - np.array([0xC0, 0x39, 0x2B])).max(axis=2) < 40
        assert red.sum() > 300, red.sum()
