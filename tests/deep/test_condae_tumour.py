"""Tumour-aware autoencoders: mask channel, tumour-pooled codes, tumour-weighted reconstruction
(tiny models, few epochs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from deep_synthetic import make_cases

from radsem.deep.cae import ConvAutoencoder, tumour_weights
from radsem.deep.condae import ConditionedAutoencoder
from radsem.deep.condae_eval import compare_codes
from radsem.deep.crops import CropSpec, crop_case, crop_cases
from radsem.errors import DataError

TINY = {
    "latent_dim": 3,
    "base_channels": 2,
    "n_blocks": 2,
    "epochs": 2,
    "batch_size": 8,
    "progress": False,
    "channels": 4,
    "mask_channel": True,
}


@pytest.fixture(scope="module")
def cases():
    return make_cases(24)


@pytest.fixture(scope="module")
def crops(cases):
    return crop_cases(cases, CropSpec(shape=(8, 16, 16), with_mask=True))


def _tumour_target(crops) -> pd.DataFrame:
    # what the tumour-pooled codes should reach: mean of channel 2 inside the mask
    m = crops.data[:, -1]
    mean = (crops.data[:, 2] * m).sum(axis=(1, 2, 3)) / m.sum(axis=(1, 2, 3))
    return pd.DataFrame({"tumour_mean": mean}, index=crops.patient_id)


def test_crops_with_mask_channel(cases):
    spec = CropSpec(shape=(8, 16, 16))
    plain = crop_cases(cases[:4], spec)
    with_mask = crop_cases(cases[:4], CropSpec(shape=(8, 16, 16), with_mask=True))
    assert with_mask.channels == ("t2", "dwi", "adc", "mask")
    np.testing.assert_array_equal(with_mask.data[:, :3], plain.data)
    # the mask channel is the mask cropped like an image, as a fraction in [0, 1]
    c = cases[0]
    raw = CropSpec(shape=(8, 16, 16), normalize="none")
    ref = crop_case(c.mask.astype(float), c.mask, c.spacing, raw)[0]
    np.testing.assert_allclose(with_mask.data[0, 3], np.clip(ref, 0, 1), atol=1e-6)
    assert 0.0 <= with_mask.data[:, 3].min()
    assert with_mask.data[:, 3].max() <= 1.0
    # with a fixed extent the crop's tumour volume tracks the true one (same voxel volume)
    fixed = CropSpec(shape=(8, 16, 16), extent_mm=(24.0, 16.0, 16.0), with_mask=True)
    vol = crop_cases(cases[:8], fixed).data[:, 3].sum(axis=(1, 2, 3))
    true = np.array([cs.mask.sum() for cs in cases[:8]], dtype=float)
    assert np.corrcoef(vol, true)[0, 1] > 0.95
    np.testing.assert_allclose(vol, true, rtol=0.25)
    with pytest.raises(DataError, match="dims=3"):
        crop_cases(cases[:2], CropSpec(dims=2, with_mask=True))


def test_tumour_weights():
    rng = np.random.default_rng(0)
    mask = torch.from_numpy(rng.uniform(size=(3, 1, 4, 6, 6)).astype(np.float32))
    mask = (mask > 0.8).float() * 0.7 + (mask > 0.95).float() * 0.3
    w = tumour_weights(mask, 0.25)
    assert torch.allclose(w.mean(dim=(1, 2, 3, 4)), torch.ones(3), atol=1e-5)
    # a binary mask: exactly the share on the tumour voxels, uniform within each part
    binary = (mask > 0).float()
    wb = tumour_weights(binary, 0.25)
    share = (wb * binary).sum(dim=(1, 2, 3, 4)) / wb.sum(dim=(1, 2, 3, 4))
    assert torch.allclose(share, torch.full((3,), 0.25), atol=1e-5)
    n_in = binary[0].sum()
    assert torch.allclose(wb[0][binary[0] > 0], 0.25 * binary[0].numel() / n_in)
    # tumour under one voxel, or the whole crop: uniform weights
    tiny = torch.zeros(1, 1, 2, 2, 2)
    tiny[0, 0, 0, 0, 0] = 0.5
    assert torch.equal(tumour_weights(tiny, 0.5), torch.ones_like(tiny))
    assert torch.equal(tumour_weights(torch.ones(1, 1, 2, 2, 2), 0.5), torch.ones(1, 1, 2, 2, 2))


def test_weighted_reconstruction_loss_matches_numpy(crops):
    model = ConvAutoencoder(random_state=0, tumour_share=0.5, **TINY).fit(crops)
    x = model._standardise(crops.data)
    with torch.no_grad():
        out = model.net_(x)
        loss = float(model._rec_loss(model.net_, out, x))
    xs, rec = x.numpy(), out.numpy()
    m = xs[:, 3:4]
    n = m[0].size
    w = 0.5 * m / m.sum(axis=(1, 2, 3, 4), keepdims=True)
    w = w + 0.5 * (1 - m) / (1 - m).sum(axis=(1, 2, 3, 4), keepdims=True)
    ref = float(((rec - xs[:, :3]) ** 2 * w * n).mean())
    assert loss == pytest.approx(ref, rel=1e-5)
    unweighted = ConvAutoencoder(random_state=0, **TINY).fit(crops)
    assert not np.allclose(unweighted.transform(crops), model.transform(crops))


def test_mask_channel_is_input_only(crops):
    model = ConvAutoencoder(random_state=0, tumour_codes=1, **TINY).fit(crops)
    assert model.channel_mean_[-1] == 0.0
    assert model.channel_scale_[-1] == 1.0
    assert model.reconstruct(crops).shape == (24, 3, 8, 16, 16)
    err = model.reconstruction_error(crops)
    x = model._standardise(crops.data).numpy()[:, :3]
    rec = model.reconstruct(crops)
    rec = (rec - model.channel_mean_[:3, None, None, None]) / model.channel_scale_[
        :3, None, None, None
    ]
    np.testing.assert_allclose(err, ((x - rec) ** 2).reshape(24, -1).mean(axis=1), rtol=1e-5)


def test_tumour_codes_are_pooled_over_the_mask(crops):
    model = ConvAutoencoder(random_state=0, tumour_codes=1, **TINY).fit(crops)
    x = model._standardise(crops.data)
    with torch.no_grad():
        pooled, _ = model.net_.tumour_features(x)
    xs = x.numpy()
    m = xs[:, 3]
    mean = (xs[:, :3] * m[:, None]).sum(axis=(2, 3, 4)) / m.sum(axis=(1, 2, 3))[:, None]
    vol = np.log1p(m.sum(axis=(1, 2, 3)))
    fixed = np.column_stack([mean, vol])
    mu = model.net_.pool_mean.numpy()[[0, 1, 2, 6]]
    sd = model.net_.pool_scale.numpy()[[0, 1, 2, 6]]
    np.testing.assert_allclose(pooled[:, [0, 1, 2, 6]].numpy(), (fixed - mu) / sd, atol=1e-4)
    # standardised with the training crops' statistics
    train = (fixed[model.train_index_] - mu) / sd
    np.testing.assert_allclose(train.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(train.std(axis=0, ddof=1), 1.0, rtol=1e-3)
    # the last code dimension reads the pooled features only (not the whole feature map)
    codes = model.transform(crops).to_numpy()
    w = model.net_.tumour_latent.weight.detach().numpy()
    b = model.net_.tumour_latent.bias.detach().numpy()
    np.testing.assert_allclose(codes[:, -1], pooled.numpy() @ w[0] + b[0], rtol=1e-4, atol=1e-5)
    # image voxels outside the mask's reach do not move the level-0 pooled means
    far = crops.data.copy()
    far[:, :3][np.broadcast_to(far[:, 3:4] == 0, far[:, :3].shape)] += 50.0
    with torch.no_grad():
        moved, _ = model.net_.tumour_features(model._standardise(far))
    np.testing.assert_allclose(moved[:, :3].numpy(), pooled[:, :3].numpy(), rtol=1e-4, atol=1e-4)


def test_determinism_and_save_load(tmp_path, crops):
    params = dict(TINY, tumour_codes=1, tumour_share=0.5)
    a = ConvAutoencoder(random_state=2, **params).fit(crops)
    b = ConvAutoencoder(random_state=2, **params).fit(crops)
    pd.testing.assert_frame_equal(a.transform(crops), b.transform(crops))
    a.save(tmp_path / "cae.pt")
    pd.testing.assert_frame_equal(
        ConvAutoencoder.load(tmp_path / "cae.pt").transform(crops), a.transform(crops)
    )
    y = _tumour_target(crops)
    c1 = ConditionedAutoencoder(random_state=2, n_supervised=1, **params).fit(crops, y, init=a)
    c2 = ConditionedAutoencoder(random_state=2, n_supervised=1, **params).fit(crops, y, init=a)
    pd.testing.assert_frame_equal(c1.transform(crops), c2.transform(crops))
    c1.save(tmp_path / "cond.pt")
    loaded = ConditionedAutoencoder.load(tmp_path / "cond.pt")
    pd.testing.assert_frame_equal(loaded.predict_targets(crops), c1.predict_targets(crops))


def test_default_network_unchanged(crops):
    # without the new options the network has exactly the earlier modules
    plain = ConvAutoencoder(random_state=0, **dict(TINY, channels=3, mask_channel=False))
    model = plain.fit(crops.data[:, :3])
    assert not any(k.startswith("tumour_latent") for k in model.net_.state_dict())
    assert model.net_.to_latent.out_features == 3
    assert model.reconstruct(crops.data[:, :3]).shape == (24, 3, 8, 16, 16)


def test_tumour_head_learns_the_tumour_mean(crops):
    y = _tumour_target(crops)
    params = dict(TINY, epochs=40, patience=40, validation_fraction=0.0, tumour_codes=1)
    model = ConditionedAutoencoder(
        random_state=0, aux_weight=5.0, n_supervised=1, head_lr=1e-2, **params
    )
    pred = model.fit(crops, y).predict_targets(crops)["tumour_mean"]
    assert np.corrcoef(pred, y["tumour_mean"])[0, 1] > 0.9


def test_head_lr_moves_the_head_faster(crops):
    y = _tumour_target(crops)
    cae = ConvAutoencoder(random_state=0, tumour_codes=1, **TINY).fit(crops)
    params = dict(TINY, tumour_codes=1, epochs=3, lr=1e-6, patience=3)

    def moved(**kw):
        cond = ConditionedAutoencoder(random_state=0, n_supervised=1, **params, **kw)
        cond.fit(crops, y, init=cae)
        old = cae.net_.state_dict()
        new = cond.net_.state_dict()
        return {
            k: float((new[k] - old[k]).abs().max())
            for k in ("tumour_latent.weight", "encoder.0.weight")
        }

    slow, fast = moved(), moved(head_lr=1e-2)
    assert fast["tumour_latent.weight"] > 100 * slow["tumour_latent.weight"]
    assert fast["encoder.0.weight"] < 1e-4  # the rest still at lr
    with pytest.raises(DataError, match="head_lr"):
        ConditionedAutoencoder(head_lr=0.0, **params).fit(crops, y, init=cae)


def test_bad_settings(crops):
    with pytest.raises(DataError, match="need mask_channel"):
        ConvAutoencoder(**dict(TINY, mask_channel=False, tumour_codes=1)).fit(crops)
    with pytest.raises(DataError, match="need mask_channel"):
        ConvAutoencoder(**dict(TINY, mask_channel=False, tumour_share=0.5)).fit(crops)
    with pytest.raises(DataError, match="below latent_dim"):
        ConvAutoencoder(**dict(TINY, tumour_codes=3)).fit(crops)
    with pytest.raises(DataError, match="tumour_share"):
        ConvAutoencoder(**dict(TINY, tumour_share=1.0)).fit(crops)
    with pytest.raises(DataError, match="tumour_codes must"):
        ConvAutoencoder(**dict(TINY, tumour_codes=-1)).fit(crops)
    bad = crops.data.copy()
    bad[:, -1] *= 3.0
    with pytest.raises(DataError, match="tumour mask"):
        ConvAutoencoder(**TINY).fit(bad)
    cae = ConvAutoencoder(random_state=0, **TINY).fit(crops)
    with pytest.raises(DataError, match="tumour_codes"):
        ConditionedAutoencoder(**dict(TINY, tumour_codes=1)).fit(
            crops, _tumour_target(crops), init=cae
        )


def test_compare_codes_with_mask_channel(crops):
    y = _tumour_target(crops)
    rng = np.random.default_rng(1)
    expr = pd.DataFrame(
        rng.normal(size=(20, 4)), index=crops.patient_id[:20], columns=["g1", "g2", "g3", "g4"]
    )
    expr["g1"] += 3 * y["tumour_mean"].iloc[:20].to_numpy() / y["tumour_mean"].std()
    sets = {"m1": {"g1": 1, "g2": 1}, "m2": {"g3": 1, "g4": -1}}
    params = dict(TINY, tumour_codes=1)
    folds, models = compare_codes(
        crops,
        expr,
        sets,
        cae=ConvAutoencoder(**params),
        conditioned=ConditionedAutoencoder(n_supervised=1, **params),
        n_splits=2,
        n_pcs=2,
        return_models=True,
        warm_start=True,
    )
    assert np.isfinite(folds[["r2_mechanisms", "r2_pcs", "mse_test"]].to_numpy()).all()
    # PCA sees the three image channels only, and every error is on those channels
    assert len(models["pca"].mean_) == 3
    assert models["pca"].shape_ == (3, 8, 16, 16)


def test_compare_codes_folds_concatenate(crops):
    y = _tumour_target(crops)
    rng = np.random.default_rng(2)
    expr = pd.DataFrame(
        rng.normal(size=(20, 4)), index=crops.patient_id[:20], columns=["g1", "g2", "g3", "g4"]
    )
    expr["g1"] += y["tumour_mean"].iloc[:20].to_numpy()
    sets = {"m1": {"g1": 1, "g2": 1}, "m2": {"g3": 1, "g4": -1}}
    params = dict(TINY, tumour_codes=1)
    kw = dict(
        cae=ConvAutoencoder(**params),
        conditioned=ConditionedAutoencoder(n_supervised=1, **params),
        n_splits=2,
        n_pcs=2,
        warm_start=True,
    )
    whole = compare_codes(crops, expr, sets, **kw)
    parts = pd.concat(
        [compare_codes(crops, expr, sets, folds=[k], **kw) for k in (0, 1)], ignore_index=True
    )
    pd.testing.assert_frame_equal(parts, whole)
    with pytest.raises(DataError, match="folds"):
        compare_codes(crops, expr, sets, folds=[2], **kw)
