from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radsem.deep.gan import ConditionalWGAN
from radsem.deep.gan_eval import (
    augmentation_stability,
    c2st_auroc,
    correlation_distance,
    evaluate_gan,
    mmd2_rbf,
)
from radsem.errors import DataError

COLUMNS = [
    "label",
    "n_train",
    "n_test",
    "n_synthetic",
    "c2st_auroc",
    "mmd2",
    "mmd2_baseline",
    "corr_distance",
    "corr_distance_baseline",
    "tstr_accuracy",
    "trtr_accuracy",
]


def _mmd2_loops(x, y, sigma):
    """Direct double-loop unbiased MMD^2 (Gretton et al. 2012, eq. 3), for checking."""

    def k(a, b):
        return np.exp(-np.sum((a - b) ** 2) / (2 * sigma**2))

    m, n = len(x), len(y)
    kxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    kyy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    kxy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return kxx + kyy - 2 * kxy


def test_mmd_matches_direct_formula_and_detects_shift(rng):
    x, y = rng.normal(size=(12, 3)), rng.normal(size=(9, 3)) + 0.5
    assert mmd2_rbf(x, y, bandwidth=1.3) == pytest.approx(_mmd2_loops(x, y, 1.3), rel=1e-10)
    same = mmd2_rbf(rng.normal(size=(100, 4)), rng.normal(size=(100, 4)))
    shifted = mmd2_rbf(rng.normal(size=(100, 4)), rng.normal(size=(100, 4)) + 1.0)
    assert abs(same) < 0.02
    assert shifted > 0.1
    assert np.isnan(mmd2_rbf(x[:1], y))


def test_correlation_distance(rng):
    x = rng.normal(size=(50, 4))
    assert correlation_distance(x, 3 * x + 1) == pytest.approx(0.0, abs=1e-12)
    y = x.copy()
    y[:, 1] = -y[:, 0]
    expected = np.linalg.norm(np.corrcoef(x.T) - np.corrcoef(y.T))
    assert correlation_distance(x, y) == pytest.approx(expected)
    assert np.isnan(correlation_distance(x[:2], y))


def test_c2st(rng):
    a, b = rng.normal(size=(60, 3)), rng.normal(size=(60, 3))
    assert 0.3 < c2st_auroc(a, b, random_state=0) < 0.7
    assert c2st_auroc(a, b + 3.0, random_state=0) > 0.95
    # variance collapse (mode collapse) is detected by the forest
    assert c2st_auroc(a, 0.05 * b, random_state=0) > 0.8
    assert c2st_auroc(a, b + 3.0, classifier="logistic") > 0.95
    with pytest.raises(DataError, match="classifier"):
        c2st_auroc(a, b, classifier="svm")


def _gan(**kw):
    params = dict(
        latent_dim=8,
        hidden=32,
        embedding_dim=4,
        epochs=100,
        batch_size=32,
        lr=2e-3,
        random_state=2,
        progress=False,
    )
    params.update(kw)
    return ConditionalWGAN(**params)


def test_evaluate_gan_table(expression):
    expr, labels = expression
    table = evaluate_gan(_gan(), expr, labels, classifier="logistic", random_state=0)
    assert list(table.columns) == COLUMNS
    assert list(table["label"]) == ["HPV16", "HPV18", "HPV45", "all"]
    t = table.set_index("label")
    assert t.loc["all", "n_train"] + t.loc["all", "n_test"] == len(expr)
    assert (t["n_synthetic"].iloc[:3].to_numpy() == labels.value_counts()[t.index[:3]]).all()
    # the subtypes differ strongly in mean: both classifiers recover them on held-out data
    assert t.loc["all", "trtr_accuracy"] > 0.8
    assert t.loc["all", "tstr_accuracy"] > 0.6
    assert ((t["c2st_auroc"] >= 0) & (t["c2st_auroc"] <= 1)).all()
    # the fitted generator is closer to the held-out rows than to nothing: MMD within a few
    # real-vs-real baselines, and finite correlation distances wherever 3+ rows exist
    assert t.loc["all", "mmd2"] < 0.1
    assert np.isfinite(t["corr_distance"]).all()


def test_evaluate_gan_is_deterministic(expression):
    expr, labels = expression
    model = _gan(epochs=10)
    a = evaluate_gan(model, expr, labels, classifier="logistic", random_state=1)
    b = evaluate_gan(model, expr, labels, classifier="logistic", random_state=1)
    pd.testing.assert_frame_equal(a, b)


def test_evaluate_gan_bad_split(expression):
    expr, labels = expression
    with pytest.raises(DataError, match="cannot split"):
        evaluate_gan(_gan(), expr, labels, test_size=0.99)


def test_augmentation_stability_table(expression):
    expr, labels = expression
    model = _gan(epochs=10).fit(expr, labels)
    table = augmentation_stability(model, expr, labels, n_boot=15, random_state=0)
    assert list(table["label"]) == ["HPV16", "HPV18", "HPV45"]
    assert (table["n_indicators"] == 5).all()
    assert (table["loading_sd_real"] > 0).all()
    assert np.allclose(table["sd_ratio"], table["loading_sd_augmented"] / table["loading_sd_real"])
    # the rarest subtype has the least stable loadings without augmentation
    assert table.set_index("label")["loading_sd_real"].idxmax() == "HPV45"
    with pytest.raises(DataError, match="indicators"):
        augmentation_stability(model, expr, labels, indicators=["G0", "nope", "G1"])


@pytest.mark.slow
def test_real_data_breast_cancer_er():
    """Real expression: 198 breast tumours x 76 genes (scikit-survival), conditioned on ER."""
    from sksurv.datasets import load_breast_cancer

    x, _ = load_breast_cancer()
    genes = [c for c in x.columns if c.startswith("X")]
    expr, er = x[genes], x["er"].astype(str).rename("er")
    model = ConditionalWGAN(epochs=60, batch_size=64, random_state=0, progress=False)
    table = evaluate_gan(model, expr, er, classifier="logistic", random_state=0)
    t = table.set_index("label")
    assert list(t.index) == ["negative", "positive", "all"]
    # a subtype classifier trained on synthetic rows only recognises ER status on real rows
    assert t.loc["all", "tstr_accuracy"] > 0.7
    assert t.loc["all", "tstr_accuracy"] > t.loc["all", "trtr_accuracy"] - 0.2
    # synthetic rows are closer to held-out real rows than a label-swapped generator would be
    fitted = ConditionalWGAN(**model.get_params()).fit(expr, er)
    neg = fitted.sample(pd.Series(["negative"] * 64, name="er"), random_state=0).to_numpy()
    pos = fitted.sample(pd.Series(["positive"] * 64, name="er"), random_state=0).to_numpy()
    real_neg = expr[er == "negative"].to_numpy()
    mu, sd = expr.to_numpy().mean(0), expr.to_numpy().std(0)
    assert mmd2_rbf((neg - mu) / sd, (real_neg - mu) / sd) < mmd2_rbf(
        (pos - mu) / sd, (real_neg - mu) / sd
    )
