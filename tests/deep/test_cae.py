from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from deep_synthetic import make_cases

from radsem.deep.cae import ConvAutoencoder
from radsem.deep.cae_eval import reconstruction_benchmark
from radsem.deep.crops import CropSpec, crop_cases
from radsem.errors import DataError

SPEC = CropSpec(shape=(8, 16, 16))


def _small(**kw):
    params = dict(
        latent_dim=4,
        base_channels=4,
        n_blocks=2,
        epochs=6,
        batch_size=8,
        lr=3e-3,
        patience=3,
        random_state=7,
        progress=False,
    )
    params.update(kw)
    return ConvAutoencoder(**params)


@pytest.fixture(scope="module")
def crops(cases):
    return crop_cases(cases, SPEC)


@pytest.fixture(scope="module")
def fitted(crops):
    return _small().fit(crops)


def test_transform_is_a_dataframe_indexed_by_patient(fitted, crops):
    z = fitted.transform(crops)
    assert isinstance(z, pd.DataFrame)
    assert list(z.columns) == [f"latent_{i}" for i in range(4)]
    assert list(z.index) == list(crops.patient_id)
    assert np.isfinite(z.to_numpy()).all()
    plain = fitted.transform(crops.data)
    assert isinstance(plain.index, pd.RangeIndex)
    np.testing.assert_array_equal(plain.to_numpy(), z.to_numpy())


def test_history_and_split(fitted, crops):
    h = fitted.history_
    assert list(h.columns) == ["epoch", "train_loss", "val_loss"]
    assert 1 <= len(h) <= 6
    assert h["val_loss"].notna().all()
    assert fitted.best_epoch_ == int(h.loc[h["val_loss"].idxmin(), "epoch"])
    assert len(fitted.validation_index_) == round(0.2 * len(crops))
    assert not set(fitted.validation_index_) & set(fitted.train_index_)


def test_same_seed_same_numbers_and_state_restored(crops, fitted):
    threads, det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    state = torch.random.get_rng_state()
    again = _small().fit(crops)
    np.testing.assert_array_equal(
        again.transform(crops).to_numpy(), fitted.transform(crops).to_numpy()
    )
    pd.testing.assert_frame_equal(again.history_, fitted.history_)
    other = _small(random_state=8).fit(crops)
    assert not np.allclose(other.transform(crops).to_numpy(), fitted.transform(crops).to_numpy())
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == det
    assert torch.equal(torch.random.get_rng_state(), state)


def test_save_load_round_trip(tmp_path, fitted, crops):
    path = tmp_path / "sub" / "cae.pt"
    fitted.save(path)
    assert [p.name for p in path.parent.iterdir()] == ["cae.pt"]  # no temp file left behind
    loaded = ConvAutoencoder.load(path)
    np.testing.assert_array_equal(
        loaded.transform(crops).to_numpy(), fitted.transform(crops).to_numpy()
    )
    np.testing.assert_allclose(loaded.reconstruct(crops), fitted.reconstruct(crops))
    pd.testing.assert_frame_equal(loaded.history_, fitted.history_)
    assert loaded.get_params() == fitted.get_params()
    junk = tmp_path / "junk.pt"
    torch.save({"kind": "something else"}, junk)
    with pytest.raises(DataError, match="does not hold"):
        ConvAutoencoder.load(junk)
    junk.write_bytes(b"not a torch file")
    with pytest.raises(DataError, match="not a readable"):
        ConvAutoencoder.load(junk)


def test_reconstruct_units_and_error(fitted, crops):
    rec = fitted.reconstruct(crops)
    assert rec.shape == crops.data.shape
    err = fitted.reconstruction_error(crops)
    assert (err > 0).all()
    assert list(err.index) == list(crops.patient_id)


def test_2d_autoencoder(cases):
    crops2d = crop_cases(cases, CropSpec(dims=2, shape=(16, 16), slices=2))
    assert crops2d.data.shape == (len(cases), 6, 16, 16)
    model = _small(dims=2, channels=6, epochs=3).fit(crops2d)
    assert model.transform(crops2d).shape == (len(cases), 4)


def test_learns_structure_better_than_the_mean():
    crops = crop_cases(make_cases(40), SPEC)
    table = reconstruction_benchmark(
        _small(epochs=60, patience=60, lr=3e-3), crops, test_size=0.25, random_state=0
    )
    assert list(table["model"]) == ["cae", "pca", "mean"]
    mean_row = table.set_index("model").loc["mean"]
    assert mean_row["r2_test"] == pytest.approx(0.0)
    cae = table.set_index("model").loc["cae"]
    assert cae["mse_test"] < 0.95 * mean_row["mse_test"]
    assert table.set_index("model").loc["pca", "n_components"] == 4


def test_early_stopping_stops(crops):
    model = _small(epochs=40, patience=2, lr=0.05).fit(crops)
    h = model.history_
    assert len(h) < 40
    assert len(h) == model.best_epoch_ + 2
    assert h["val_loss"].iloc[-2:].min() >= h["val_loss"].min()


def test_bad_inputs(crops, fitted):
    bad = crops.data.copy()
    bad[0, 0, 0, 0, 0] = np.nan
    with pytest.raises(DataError, match="NaN"):
        _small().fit(bad)
    with pytest.raises(DataError, match="shape"):
        _small().fit(crops.data[:, :, 0])
    with pytest.raises(DataError, match="channels"):
        _small().fit(crops.data[:, :2])
    with pytest.raises(DataError, match="divisible"):
        _small().fit(crops.data[:, :, :6])
    with pytest.raises(DataError, match="fitted on"):
        fitted.transform(crops.data[:, :, :4])
    with pytest.raises(DataError, match="too few"):
        _small().fit(crops.data[:2])
    with pytest.raises(DataError, match="not fitted"):
        _small().transform(crops)
    with pytest.raises(DataError, match="latent_dim"):
        _small(latent_dim=0).fit(crops)
    with pytest.raises(DataError, match="validation_fraction"):
        _small(validation_fraction=1.0).fit(crops)


def test_divergence_is_an_estimation_error(crops):
    from radsem.errors import EstimationError

    with pytest.raises(EstimationError, match="diverged"):
        _small(lr=1e12, epochs=3).fit(crops)
