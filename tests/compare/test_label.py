"""Binary labels (molecular status) predicted from feature groups by nested cross-validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from radsem.compare import compare_label
from radsem.compare.label import binary_label, lasso_select, mrmr_select
from radsem.errors import DataError


def _data(rng, n=120):
    """ADC features carry the label (through a latent score), T2 and DWI features do not."""
    idx = pd.Index([f"P{i:03d}" for i in range(n)], name="patient_id")
    latent = rng.standard_normal(n)
    label = pd.Series(
        np.where(latent + 0.5 * rng.standard_normal(n) > 0, "mut", "wt"), index=idx, name="TP53"
    )
    cols = {}
    for seq in ("t2", "dwi", "adc"):
        for j in range(8):
            signal = -latent if seq == "adc" and j < 3 else 0.0
            cols[f"{seq}_original_f{j}"] = signal + rng.standard_normal(n)
    return pd.DataFrame(cols, index=idx), label


@pytest.fixture(scope="module")
def result():
    feats, label = _data(np.random.default_rng(11))
    return compare_label(feats, label, n_features=4, n_splits=4, seed=3), feats, label


def test_label_signal_is_found_where_it_is(result):
    res, _, label = result
    assert res.positive == "wt"  # second class sorted
    s = res.summary.set_index(["group", "selector", "classifier"])
    assert set(s.index.get_level_values("group")) == {"T2", "DWI", "ADC", "all"}
    for sel in ("lasso", "mrmr"):
        for clf in ("logistic", "random_forest"):
            assert s.loc[("ADC", sel, clf), "ci_lower_delong"] > 0.6
            assert s.loc[("ADC", sel, clf), "ci_lower_folds"] > 0.5
            t2 = s.loc[("T2", sel, clf)]
            assert t2["ci_lower_delong"] < 0.5 < t2["ci_upper_delong"]
            assert s.loc[("ADC", sel, clf), "ci_lower"] > 0.5  # the reported interval
            assert t2["ci_lower"] < 0.5 < t2["ci_upper"]
    # the out-of-fold AUC is the plain AUC of the stored predictions
    y = (label == "wt").astype(int).loc[res.predictions.index]
    col = res.predictions["ADC/lasso/logistic"]
    assert s.loc[("ADC", "lasso", "logistic"), "auc"] == pytest.approx(roc_auc_score(y, col))
    pair = res.paired.set_index(["selector", "classifier", "group_a", "group_b"])
    assert pair.loc[("mrmr", "logistic", "T2", "ADC"), "pvalue"] < 0.01
    assert len(res.paired) == 2 * 2 * 6  # 4 groups -> 6 pairs
    top = res.selected.query("group == 'ADC' and selector == 'mrmr'").nlargest(2, "share")
    assert set(top["feature"]) <= {"adc_original_f0", "adc_original_f1", "adc_original_f2"}
    lasso = res.selected.query("group == 'ADC' and selector == 'lasso'").nlargest(3, "share")
    assert set(lasso["feature"]) == {"adc_original_f0", "adc_original_f1", "adc_original_f2"}


def test_permuted_label_covers_one_half(result):
    _, feats, label = result
    perm = pd.Series(np.random.default_rng(5).permutation(label.to_numpy()), index=label.index)
    res = compare_label(
        feats,
        perm,
        groups={"ADC": [c for c in feats if c.startswith("adc")]},
        selectors=("mrmr",),
        n_features=4,
        n_splits=4,
        seed=3,
    )
    assert (res.summary["ci_lower_delong"] < 0.5).all()
    assert (res.summary["ci_upper_delong"] > 0.5).all()
    assert (res.summary["ci_lower"] < 0.5).all()
    assert (res.summary["ci_upper"] > 0.5).all()
    assert (res.summary["ci_lower_folds"] < 0.5).all()
    assert (res.summary["ci_upper_folds"] > 0.5).all()


def test_same_seed_same_result(result):
    res, feats, label = result
    adc = {"ADC": [c for c in feats if c.startswith("adc")]}
    np.random.seed(12345)  # noqa: NPY002 - the global numpy state must not matter
    again = compare_label(feats, label, groups=adc, n_features=4, n_splits=4, seed=3)
    first = res.summary[res.summary["group"] == "ADC"].reset_index(drop=True)
    pd.testing.assert_frame_equal(first, again.summary)


def test_bad_labels(rng):
    feats, label = _data(rng, 40)
    with pytest.raises(DataError, match=r"'TP53' has 2 missing value\(s\)"):
        compare_label(feats, label.where(label.index.isin(label.index[2:])))
    with pytest.raises(DataError, match="exactly two classes, found 1"):
        compare_label(feats, pd.Series("wt", index=label.index, name="TP53"))
    with pytest.raises(DataError, match="at least n_splits"):
        compare_label(
            feats,
            label.where(label.index != label.index[0], "x")
            .replace("x", "wt")
            .where(np.arange(40) > 2, "mut")
            .where(np.arange(40) <= 2, "wt"),
        )
    with pytest.raises(DataError, match="unknown selector"):
        compare_label(feats, label, selectors=("boruta",))
    with pytest.raises(DataError, match="positive class"):
        binary_label(label, positive="MSI")


def test_selectors(rng):
    X = rng.standard_normal((80, 6))
    y = (X[:, 2] + 0.3 * rng.standard_normal(80) > 0).astype(int)
    X[:, 4] = X[:, 2] + 0.01 * rng.standard_normal(80)  # redundant copy of the relevant one
    sel = mrmr_select(X, y, 2)
    assert sel[0] in (2, 4)
    assert sel[1] not in (2, 4)
    assert set(lasso_select(X, y, 3, seed=0)) & {2, 4}
