"""Expression-conditioned autoencoder and the code comparison (tiny models, few epochs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from deep_synthetic import make_cases

from radsem.deep.cae import ConvAutoencoder
from radsem.deep.condae import ConditionedAutoencoder
from radsem.deep.condae_eval import PCACodes, compare_codes, mechanism_scores, summarise_codes
from radsem.deep.crops import CropSpec, crop_cases
from radsem.errors import DataError

TINY = {
    "latent_dim": 2,
    "base_channels": 2,
    "n_blocks": 2,
    "epochs": 2,
    "batch_size": 8,
    "progress": False,
}


@pytest.fixture(scope="module")
def crops():
    return crop_cases(make_cases(24), CropSpec(shape=(8, 16, 16)))


def _contrast_target(crops) -> pd.DataFrame:
    # a target the images carry: mean intensity of channel 0 in the crop centre
    centre = crops.data[:, 0, 3:5, 6:10, 6:10].mean(axis=(1, 2, 3))
    return pd.DataFrame({"contrast": centre}, index=crops.patient_id)


def test_fit_transform_shapes_and_determinism(crops):
    y = _contrast_target(crops)
    y.iloc[:6] = np.nan  # images only: reconstruction loss only
    a = ConditionedAutoencoder(random_state=0, **TINY).fit(crops, y)
    b = ConditionedAutoencoder(random_state=0, **TINY).fit(crops, y)
    pd.testing.assert_frame_equal(a.transform(crops), b.transform(crops))
    assert a.transform(crops).shape == (24, 2)
    assert a.reconstruct(crops).shape == crops.data.shape
    assert list(a.predict_targets(crops).columns) == ["contrast"]
    assert a.n_conditioned_ == int(y.iloc[a.train_index_].notna().all(axis=1).sum())
    assert {"train_aux", "val_aux"} <= set(a.history_.columns)


def test_rows_without_targets_do_not_train_the_head(crops):
    y = _contrast_target(crops).assign(other=1.0)
    y.iloc[:8, 1] = np.nan  # incomplete targets: these patients train reconstruction only
    y_changed = y.copy()
    y_changed.iloc[:8, 0] = 1e3  # their remaining target value must not matter
    a = ConditionedAutoencoder(random_state=3, **TINY).fit(crops, y).transform(crops)
    b = ConditionedAutoencoder(random_state=3, **TINY).fit(crops, y_changed).transform(crops)
    pd.testing.assert_frame_equal(a, b)
    # but the targets of complete rows do change the fit
    y2 = y.copy()
    y2.iloc[8:, 0] = -y2.iloc[8:, 0]
    c = ConditionedAutoencoder(random_state=3, **TINY).fit(crops, y2).transform(crops)
    assert not np.allclose(a.to_numpy(), c.to_numpy())


def test_auxiliary_head_learns_the_target(crops):
    y = _contrast_target(crops)
    params = dict(TINY, epochs=40, latent_dim=2, patience=40, validation_fraction=0.0)
    model = ConditionedAutoencoder(random_state=0, aux_weight=5.0, **params).fit(crops, y)
    pred = model.predict_targets(crops)["contrast"]
    r = np.corrcoef(pred, y["contrast"])[0, 1]
    assert r > 0.8


def test_bad_targets(crops):
    with pytest.raises(DataError, match="needs targets"):
        ConditionedAutoencoder(**TINY).fit(crops)
    with pytest.raises(DataError, match="at least 2"):
        ConditionedAutoencoder(**TINY).fit(
            crops, pd.DataFrame({"t": np.nan}, index=crops.patient_id)
        )
    with pytest.raises(DataError, match="one row per crop"):
        ConditionedAutoencoder(**TINY).fit(crops.data, np.zeros(3))
    with pytest.raises(DataError, match="aux_weight"):
        ConditionedAutoencoder(aux_weight=-1, **TINY).fit(crops, _contrast_target(crops))


def test_save_load(tmp_path, crops):
    model = ConditionedAutoencoder(random_state=0, **TINY).fit(crops, _contrast_target(crops))
    model.save(tmp_path / "m.pt")
    loaded = ConditionedAutoencoder.load(tmp_path / "m.pt")
    pd.testing.assert_frame_equal(loaded.transform(crops), model.transform(crops))
    pd.testing.assert_frame_equal(loaded.predict_targets(crops), model.predict_targets(crops))
    with pytest.raises(DataError):
        ConvAutoencoder.load(tmp_path / "m.pt")


def test_mechanism_scores_signs():
    expr = pd.DataFrame({"A": [1.0, 2.0, 3.0], "B": [3.0, 2.0, 1.0], "C": [0.0, 0.0, 1.0]})
    s = mechanism_scores(expr, {"m": {"A": 1, "B": -1}})
    np.testing.assert_allclose(s["m"], [-1.0, 0.0, 1.0])
    with pytest.raises(DataError, match="no gene"):
        mechanism_scores(expr, {"m": {"Z": 1}})


def test_pca_codes_reconstruction_matches_sklearn(crops):
    from sklearn.decomposition import PCA

    p = PCACodes(3).fit(crops)
    flat = p._std(crops.data)
    ref = PCA(3, svd_solver="full").fit(flat)
    err = ((flat - ref.inverse_transform(ref.transform(flat))) ** 2).mean(axis=1)
    np.testing.assert_allclose(p.reconstruction_error(crops), err, rtol=1e-6)


def test_compare_codes_runs(crops):
    y = _contrast_target(crops)
    rng = np.random.default_rng(0)
    expr = pd.DataFrame(
        rng.normal(size=(20, 4)), index=crops.patient_id[:20], columns=["g1", "g2", "g3", "g4"]
    )
    expr["g1"] += y["contrast"].iloc[:20].to_numpy()
    sets = {"m1": {"g1": 1, "g2": 1}, "m2": {"g3": 1, "g4": -1}}
    folds, models = compare_codes(
        crops,
        expr,
        sets,
        cae=ConvAutoencoder(**TINY),
        conditioned=ConditionedAutoencoder(**TINY),
        n_splits=2,
        n_pcs=2,
        return_models=True,
    )
    assert len(folds) == 6
    assert set(folds["model"]) == {"conditioned", "unconditional", "pca"}
    assert set(models) == {"conditioned", "unconditional", "pca"}
    assert np.isfinite(folds[["r2_mechanisms", "r2_pcs", "mse_test"]].to_numpy()).all()
    summ = summarise_codes(folds)
    assert "r2_mechanisms_mean" in summ.columns
    with pytest.raises(DataError, match="target"):
        compare_codes(crops, expr, sets, target="genes")


def test_warm_start_starts_from_the_cae(crops):
    cae = ConvAutoencoder(random_state=4, **TINY).fit(crops)
    y = _contrast_target(crops)
    # a vanishing learning rate: the conditioned model keeps the CAE's encoder and decoder
    cond = ConditionedAutoencoder(random_state=4, lr=1e-12, **dict(TINY, epochs=1))
    cond.fit(crops, y, init=cae)
    np.testing.assert_array_equal(cond.channel_mean_, cae.channel_mean_)
    np.testing.assert_array_equal(cond.validation_index_, cae.validation_index_)
    np.testing.assert_allclose(cond.transform(crops), cae.transform(crops), atol=1e-5)
    assert cond.init_val_loss_ == pytest.approx(cae.history_["val_loss"].min(), rel=1e-4)
    # a real fine-tune moves the code away from the CAE's
    tuned = ConditionedAutoencoder(random_state=4, aux_weight=5.0, **dict(TINY, epochs=5))
    tuned.fit(crops, y, init=cae)
    assert not np.allclose(tuned.transform(crops), cae.transform(crops), atol=1e-3)


def test_warm_start_bad_init(crops):
    y = _contrast_target(crops)
    with pytest.raises(DataError, match="fitted ConvAutoencoder"):
        ConditionedAutoencoder(**TINY).fit(crops, y, init=ConvAutoencoder(**TINY))
    other = ConvAutoencoder(random_state=0, **dict(TINY, latent_dim=3)).fit(crops)
    with pytest.raises(DataError, match="same latent_dim"):
        ConditionedAutoencoder(**TINY).fit(crops, y, init=other)


def test_head_on_a_subset_of_the_code(crops):
    y = _contrast_target(crops)
    model = ConditionedAutoencoder(random_state=0, n_supervised=1, **dict(TINY, latent_dim=3))
    model.fit(crops, y)
    assert tuple(model.net_.head.weight.shape) == (1, 1)
    codes = model.transform(crops).to_numpy()
    w, b = model.net_.head.weight.detach().numpy(), model.net_.head.bias.detach().numpy()
    expected = (codes[:, 2:] @ w.T + b) * model.target_scale_ + model.target_mean_
    np.testing.assert_allclose(model.predict_targets(crops).to_numpy(), expected, rtol=1e-5)
    with pytest.raises(DataError, match="n_supervised"):
        ConditionedAutoencoder(n_supervised=4, **dict(TINY, latent_dim=3)).fit(crops, y)


def test_choose_weight_rule():
    from radsem.deep.condae import _choose_weight

    scores = [(1.00, 0.5), (1.04, 0.3), (1.20, 0.1)]
    assert _choose_weight(scores, 1.0, 1.05) == 1  # best aux within 5 % of the reference
    assert _choose_weight(scores, None, 1.25) == 2
    assert _choose_weight(scores, 0.5, 1.05) == 0  # none qualifies: best reconstruction
    assert _choose_weight(scores[:1], 1.0, 1.05) == 0


def test_weight_search_keeps_the_chosen_single_fit(crops):
    y = _contrast_target(crops)
    search = ConditionedAutoencoder(random_state=1, aux_weight=[0.1, 3.0], **TINY).fit(crops, y)
    assert list(search.weight_search_["aux_weight"]) == [0.1, 3.0]
    single = ConditionedAutoencoder(random_state=1, aux_weight=search.aux_weight_, **TINY)
    single.fit(crops, y)
    pd.testing.assert_frame_equal(search.transform(crops), single.transform(crops))
    with pytest.raises(DataError, match="aux_weight"):
        ConditionedAutoencoder(aux_weight=[-1.0], **TINY).fit(crops, y)


def test_compare_codes_warm_start_and_reference(crops):
    y = _contrast_target(crops)
    rng = np.random.default_rng(1)
    expr = pd.DataFrame(
        rng.normal(size=(20, 4)), index=crops.patient_id[:20], columns=["g1", "g2", "g3", "g4"]
    )
    expr["g1"] += 3 * y["contrast"].iloc[:20].to_numpy() / y["contrast"].std()
    sets = {"m1": {"g1": 1, "g2": 1}, "m2": {"g3": 1, "g4": -1}}
    folds, models = compare_codes(
        crops,
        expr,
        sets,
        cae=ConvAutoencoder(**TINY),
        conditioned=ConditionedAutoencoder(**TINY),
        n_splits=2,
        n_pcs=2,
        return_models=True,
        warm_start=True,
        reference={"truth": y, "noise": pd.DataFrame({"z": rng.normal(size=24)}, y.index)},
    )
    assert set(folds["model"]) == {"conditioned", "unconditional", "pca", "truth", "noise"}
    ref = folds[folds["model"].isin(["truth", "noise"])]
    assert ref["mse_test"].isna().all()
    r2 = ref.groupby("model")["r2_mechanisms"].mean()
    assert r2["truth"] > r2["noise"] + 0.1  # the feature that drives m1 explains it
    np.testing.assert_array_equal(
        models["conditioned"].channel_mean_, models["unconditional"].channel_mean_
    )
