"""The generator's training options: the log intensity scale and the unit prior variance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from radsem.deep.imagegen import ExpressionImageGenerator  # noqa: E402
from radsem.deep.imagegen_data import ImageSet  # noqa: E402
from radsem.errors import DataError  # noqa: E402

TINY = {"latent_dim": 2, "n_components": 3, "base_channels": 2, "epochs": 2, "batch_size": 8}


def _tiny_set(n: int = 16, seed: int = 3):
    rng = np.random.default_rng(seed)
    data = np.zeros((n, 4, 8, 16, 16), dtype=np.float32)
    genes = rng.normal(size=(n, 5))
    for i in range(n):
        r = 2 + int(genes[i, 0] > 0)
        data[i, 3, 4 - r : 4 + r, 8 - r : 8 + r, 8 - r : 8 + r] = 1.0
        gain = np.exp(0.3 * rng.normal())  # a scanner gain on the weighted images
        data[i, 0] = gain * (500.0 + 60.0 * rng.normal(size=(8, 16, 16)) * data[i, 3])
        data[i, 1] = gain * np.abs(100.0 + 20.0 * rng.normal(size=(8, 16, 16)))
        data[i, 2] = 1500.0 - 400.0 * data[i, 3] + 30.0 * rng.normal(size=(8, 16, 16))
    ids = pd.Index([f"P{i:02d}" for i in range(n)], name="patient_id")
    expr = pd.DataFrame(genes, index=ids, columns=[f"g{j}" for j in range(5)])
    return ImageSet(data, ids, (4.0, 2.5, 2.5)), expr


def test_log_intensity_scale_round_trips_and_keeps_adc_linear(tmp_path):
    images, expr = _tiny_set()
    model = ExpressionImageGenerator(random_state=0, **TINY).fit(images, expr)
    assert model.intensity_scale == "log"  # the default
    med = np.median(images.data[:, :2], axis=(0, 2, 3, 4))
    np.testing.assert_allclose(model.log_offset_, [0.01 * med[0], 0.01 * med[1], 0.0], rtol=1e-6)
    raw = images.data[:, :3].astype(np.float64)
    scaled = model._to_model_scale(raw)
    np.testing.assert_allclose(scaled[:, 0], np.log(raw[:, 0] + model.log_offset_[0]))
    np.testing.assert_array_equal(scaled[:, 2], raw[:, 2])
    np.testing.assert_allclose(model._from_model_scale(scaled.copy()), raw, rtol=1e-9)
    # the channel standardisation is fitted on the log scale
    np.testing.assert_allclose(model.channel_mean_[0], scaled[:, 0].mean(), rtol=1e-9)
    out = model.sample(expr.iloc[:4], random_state=2)[0]
    assert np.isfinite(out).all()
    assert (out[:, 0] > -model.log_offset_[0]).all()
    # a linear model on the same data: a different modelled scale, the same output units
    linear = ExpressionImageGenerator(intensity_scale="linear", random_state=0, **TINY)
    linear.fit(images, expr)
    assert linear.log_offset_.tolist() == [0.0, 0.0, 0.0]
    lin = linear.sample(expr.iloc[:4], random_state=2)[0]
    assert abs(np.median(out[:, 0]) / np.median(lin[:, 0]) - 1) < 0.5
    loaded = ExpressionImageGenerator.load(model.save(tmp_path / "m"))
    np.testing.assert_array_equal(loaded.log_offset_, model.log_offset_)
    assert loaded.sample(expr.iloc[:4], random_state=2)[0].tobytes() == out.tobytes()


def test_log_intensity_scale_refuses_negative_weighted_images():
    images, expr = _tiny_set()
    images.data[5, 1, 0, 0, 0] = -3.0
    with pytest.raises(DataError, match="non-negative DWI.*P05"):
        ExpressionImageGenerator(intensity_scale="log", **TINY).fit(images, expr)
    # the linear scale does not care
    ExpressionImageGenerator(intensity_scale="linear", **TINY).fit(images, expr)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"intensity_scale": "sqrt"}, "intensity_scale"),
        ({"intensity_scale": None}, "intensity_scale"),
        ({"prior_variance": "fixed"}, "prior_variance"),
    ],
)
def test_bad_option_values(params, match):
    images, expr = _tiny_set(8)
    with pytest.raises(DataError, match=match):
        ExpressionImageGenerator(**params).fit(images, expr)


def test_unit_prior_variance_learns_the_mean_only(tmp_path):
    images, expr = _tiny_set()
    model = ExpressionImageGenerator(random_state=0, **TINY).fit(images, expr)
    assert model.prior_variance == "unit"  # the default
    last = model.net_.prior[-1]
    assert last.out_features == TINY["latent_dim"]  # the mean only
    learned = ExpressionImageGenerator(prior_variance="learned", random_state=0, **TINY)
    learned.fit(images, expr)
    assert learned.net_.prior[-1].out_features == 2 * TINY["latent_dim"]
    with torch.no_grad():
        h = model.net_.cond(model._condition(expr))
        mu, logvar = model.net_.prior_params(h)
        x = model._to_tensor(images.data)
        mu_q, lv_q = model.net_.posterior_params(x, h)
    assert logvar.abs().max() == 0
    assert mu.std(0).min() > 0  # a function of the expression
    # the KL term is the one against N(mu, I)
    from radsem.deep.imagegen import _kl

    kl = _kl(mu_q, lv_q, mu, logvar)
    closed = 0.5 * (lv_q.exp() + (mu_q - mu) ** 2 - 1.0 - lv_q).sum(1)
    torch.testing.assert_close(kl, closed)
    # generation uses the calibrated spread around the learned mean, as with a learned variance
    spread = ((mu_q - mu).double() ** 2 + lv_q.double().exp()).mean(0).sqrt().numpy()
    np.testing.assert_allclose(model.prior_sd_, spread, rtol=1e-6)
    loaded = ExpressionImageGenerator.load(model.save(tmp_path / "m"))
    assert loaded.prior_variance == "unit"
    a = model.sample(expr.iloc[:3], random_state=1)[0]
    assert loaded.sample(expr.iloc[:3], random_state=1)[0].tobytes() == a.tobytes()
