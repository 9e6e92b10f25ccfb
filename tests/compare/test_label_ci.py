"""The AUC interval compare_label reports: the mean per-fold AUC with the corrected resampled-t
interval (Nadeau & Bengio 2003). Permuted labels give intervals covering 0.5 for most
permutations (the pooled DeLong interval does not); a real label's interval excludes 0.5.
benchmarks/label_ci_coverage.py measures the coverage over 100+ permutations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from radsem.compare import binary_auc, compare_label


def _data(seed: int, n: int = 80):
    """Three of eight features carry the label through a latent score."""
    rng = np.random.default_rng(seed)
    idx = pd.Index([f"P{i:03d}" for i in range(n)], name="patient_id")
    latent = rng.standard_normal(n)
    label = pd.Series(np.where(latent + 0.7 * rng.standard_normal(n) > 0, 1, 0), index=idx)
    cols = {
        f"adc_f{j}": (-0.8 * latent if j < 3 else 0.0) + rng.standard_normal(n) for j in range(8)
    }
    return pd.DataFrame(cols, index=idx), label.rename("status")


def test_reported_interval_is_the_corrected_t_over_fold_aucs():
    feats, label = _data(1)
    res = compare_label(
        feats,
        label,
        selectors=("mrmr",),
        classifiers=("logistic",),
        n_features=3,
        n_splits=4,
        n_repeats=2,
        seed=0,
    )
    folds = res.folds
    assert len(folds) == 2 * 2 * 4  # groups ADC and all, 2 repeats x 4 folds
    tested = (folds["n_cases"] + folds["n_controls"]).groupby(folds["repeat"]).sum()
    assert (tested == 2 * len(label)).all()  # two groups, every patient tested once a repeat
    row = res.summary.query("group == 'ADC'").iloc[0]
    sub = folds.query("group == 'ADC'")
    a = sub["auc"].to_numpy()
    se = np.sqrt((1 / a.size + 1 / 3) * a.var(ddof=1))  # n_test / n_train = 1 / (K - 1)
    q = stats.t.ppf(0.975, a.size - 1)
    assert row["auc_folds"] == pytest.approx(a.mean())
    assert row["se"] == pytest.approx(se)
    assert row["ci_lower"] == pytest.approx(a.mean() - q * se)
    assert row["ci_upper"] == pytest.approx(a.mean() + q * se)
    assert (row["ci_lower_folds"], row["ci_upper_folds"]) == (row["ci_lower"], row["ci_upper"])
    # each fold's DeLong variance is that of binary_auc; the pooled DeLong interval is kept
    assert (sub["var"] > 0).all()
    pooled = binary_auc(label.loc[res.predictions.index], res.predictions["ADC/mrmr/logistic"])
    assert row["auc"] == pytest.approx(pooled["auc"])
    assert row["ci_lower_delong"] == pytest.approx(pooled["ci_lower"])
    assert row["se_delong"] == pytest.approx(pooled["se"])


def test_permuted_labels_cover_one_half_and_a_real_label_does_not():
    feats, label = _data(2)
    kw = dict(
        groups={"all": list(feats.columns)},
        selectors=("mrmr",),
        classifiers=("logistic",),
        n_features=3,
        n_splits=4,
        seed=1,
    )
    real = compare_label(feats, label, **kw).summary.iloc[0]
    assert real["ci_lower"] > 0.5
    covers = []
    for k in range(30):
        perm = pd.Series(np.random.default_rng(k).permutation(label.to_numpy()), label.index)
        s = compare_label(feats, perm.rename("status"), **kw).summary.iloc[0]
        covers.append(s["ci_lower"] < 0.5 < s["ci_upper"])
    assert np.mean(covers) >= 0.85, np.mean(covers)
