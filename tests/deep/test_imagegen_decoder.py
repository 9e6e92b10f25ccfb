"""The generator's heteroscedastic decoder: variance floor, likelihood, voxel noise."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from radsem.deep.imagegen import ExpressionImageGenerator, _ar1_field  # noqa: E402
from radsem.deep.voxel_weights import tumour_balance_weights  # noqa: E402
from radsem.errors import DataError  # noqa: E402

HET = "heteroscedastic"


def _lag1(field: np.ndarray, axis: int) -> float:
    n = field.shape[axis]
    a = np.take(field, range(n - 1), axis=axis).ravel()
    b = np.take(field, range(1, n), axis=axis).ravel()
    return float(np.corrcoef(a, b)[0, 1])


def _raw_resid_x(seed: int = 0, shape=(2, 2, 3, 4)):
    g = torch.Generator().manual_seed(seed)
    n = shape[0]
    raw = torch.randn((n, 3) + shape[1:], generator=g)
    resid = torch.randn((n, 3) + shape[1:], generator=g)
    x = torch.randn((n, 4) + shape[1:], generator=g)
    x[:, 3] = (torch.rand((n,) + shape[1:], generator=g) > 0.7).float()
    return raw, resid, x


def test_log_variance_has_a_smooth_floor():
    model = ExpressionImageGenerator(sigma_floor=0.1)
    raw = torch.tensor([-50.0, 0.0, 50.0]).reshape(1, 3, 1, 1, 1).requires_grad_(True)
    lv = model._logvar(raw)
    expected = [math.log(0.01 + math.exp(-50.0)), math.log(1.01), 50.0]
    np.testing.assert_allclose(lv.detach().numpy().ravel(), expected, rtol=1e-6)
    # far below the floor the variance is the floor's, but finite and differentiable
    assert float(lv.detach().min()) >= 2 * math.log(0.1) - 1e-6
    lv.sum().backward()
    assert torch.isfinite(raw.grad).all()


@pytest.mark.parametrize("balance", [True, False])
def test_variance_likelihood_equals_the_closed_form(balance):
    from scipy import stats

    raw, resid, x = _raw_resid_x()
    floor = 0.05
    model = ExpressionImageGenerator(sigma_floor=floor, tumour_balance=balance)
    w = tumour_balance_weights(x[:, 3:4]) if balance else torch.ones_like(x[:, 3:4])
    w = w.expand(-1, 3, -1, -1, -1).numpy().astype(np.float64)
    var = floor**2 + np.exp(raw.numpy().astype(np.float64))
    logpdf = stats.norm.logpdf(resid.numpy().astype(np.float64), scale=np.sqrt(var))
    got = model._variance_nll(raw, resid, x).numpy()
    np.testing.assert_allclose(got, -(w * logpdf).reshape(len(x), -1).sum(1), rtol=1e-5)
    # the gradient vanishes where the variance equals the squared residual
    a = raw.clone().requires_grad_(True)
    model._variance_nll(a, resid, x).sum().backward()
    sq = resid.numpy().astype(np.float64) ** 2
    dlv = np.exp(raw.numpy().astype(np.float64)) / var  # d log var / d raw
    np.testing.assert_allclose(a.grad.numpy(), 0.5 * w * (1 - sq / var) * dlv, rtol=1e-4, atol=1e-6)
    # the mean model's image term stays the unit-variance half weighted sum of squares
    out = torch.randn((2, 4) + x.shape[2:], generator=torch.Generator().manual_seed(1))
    half_sse = 0.5 * (w * (out[:, :3] - x[:, :3]).numpy() ** 2).reshape(2, -1).sum(1)
    np.testing.assert_allclose(model._image_nll(out, x).numpy(), half_sse, rtol=1e-5)


def test_ar1_field_has_unit_variance_and_the_given_correlation():
    rho = torch.tensor([[0.5, 0.8, 0.0], [0.0, 0.0, 0.0], [0.9, 0.2, 0.6]], dtype=torch.float64)
    shape = (60, 3, 16, 24, 24)
    f = _ar1_field(shape, rho, torch.Generator().manual_seed(1)).numpy().astype(np.float64)
    again = _ar1_field(shape, rho, torch.Generator().manual_seed(1)).numpy()
    np.testing.assert_array_equal(f.astype(np.float32), again)
    for c in range(3):
        fc = f[:, c]
        assert fc.var() == pytest.approx(1.0, abs=0.03)
        for axis in range(3):
            assert _lag1(fc, axis + 1) == pytest.approx(float(rho[c, axis]), abs=0.03)
    # separable: lag two along z is rho squared
    n = f.shape[2]
    lag2 = np.corrcoef(f[:, 2, : n - 2].ravel(), f[:, 2, 2:].ravel())[0, 1]
    assert lag2 == pytest.approx(0.81, abs=0.03)


@pytest.mark.parametrize("noise", ["correlated", "white"])
def test_noise_correlation_is_estimated_from_the_residuals(noise):
    rho = torch.tensor([[0.3, 0.7, 0.5], [0.6, 0.1, 0.4], [0.8, 0.8, 0.2]])
    resid = _ar1_field((40, 3, 12, 16, 16), rho, torch.Generator().manual_seed(2))
    mask = torch.zeros(40, 1, 12, 16, 16)
    mask[:, 0, 4:8, 5:10, 5:10] = 1.0
    model = ExpressionImageGenerator(voxel_noise=noise)
    est = model._noise_correlation(resid, tumour_balance_weights(mask))
    expected = rho.numpy() if noise == "correlated" else np.zeros((3, 3))
    np.testing.assert_allclose(est, expected, atol=0.04)
    # negative correlations are clipped to 0 (the field model has none)
    alternating = resid.clone()
    alternating[:, :, 1::2] *= -1  # lag-one correlation along z turns negative
    est = model._noise_correlation(alternating, tumour_balance_weights(mask))
    if noise == "correlated":
        np.testing.assert_allclose(est[:, 0], 0.0)
        np.testing.assert_allclose(est[:, 1:], rho.numpy()[:, 1:], atol=0.04)


def _tiny_set(n: int = 24, seed: int = 0):
    from radsem.deep.imagegen_data import ImageSet

    rng = np.random.default_rng(seed)
    data = np.zeros((n, 4, 8, 16, 16), dtype=np.float32)
    genes = rng.normal(size=(n, 6))
    for i in range(n):
        r = 2 + int(genes[i, 0] > 0)
        data[i, 3, 4 - r : 4 + r, 8 - r : 8 + r, 8 - r : 8 + r] = 1.0
        tex = rng.normal(size=(8, 16, 16)) * (10.0 + 30.0 * (genes[i, 1] > 0))
        data[i, 0] = 500.0 + tex * data[i, 3]  # texture only: the mean is flat
        data[i, 1] = 100.0 + 20.0 * rng.normal(size=(8, 16, 16))
        data[i, 2] = 1500.0 - 400.0 * data[i, 3] + 30.0 * rng.normal(size=(8, 16, 16))
    ids = pd.Index([f"P{i:02d}" for i in range(n)], name="patient_id")
    expr = pd.DataFrame(genes, index=ids, columns=[f"g{j}" for j in range(6)])
    return ImageSet(data, ids, (4.0, 2.5, 2.5)), expr


def _decoded_at_sampled_z(model, expr, seed):
    """The decoder output at the z that ``sample`` draws with ``seed`` (same stream order)."""
    c = model._condition(expr)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        h = model.net_.cond(c)
        mu = model.net_.prior_params(h)[0]
        sd = torch.from_numpy(model.prior_sd_).float()
        z = mu + torch.randn(mu.shape, generator=gen) * sd
        dec = model.net_.decode(z, h)
        dec[:, 3] += float(model.mask_offset_[0])
        if model.variance_net_ is None:
            return dec, None
        scale = torch.from_numpy(model.noise_scale_).float().reshape(1, -1, 1, 1, 1)
        return dec, model._bounded_logvar(z, h) + 2.0 * scale.log()


def test_sampled_images_carry_the_decoder_noise():
    images, expr = _tiny_set()
    tiny = {"latent_dim": 2, "n_components": 3, "base_channels": 2, "epochs": 3, "batch_size": 8}
    model = ExpressionImageGenerator(random_state=0, image_likelihood=HET, **tiny)
    model.fit(images, expr)
    assert model.noise_rho_.shape == (3, 3)
    assert ((model.noise_rho_ >= 0) & (model.noise_rho_ <= 0.95)).all()
    out = model.sample(expr, random_state=7)[0].astype(np.float64)
    dec, lv = _decoded_at_sampled_z(model, expr, 7)
    scale = model.channel_scale_.reshape(1, -1, 1, 1, 1)
    centre = model.channel_mean_.reshape(1, -1, 1, 1, 1)
    mean = dec[:, :3].numpy() * scale + centre
    sd = (0.5 * lv).exp().numpy() * scale
    # the noise is added on the modelled scale (T2 and DWI: the log scale by default)
    unit_noise = (model._to_model_scale(out[:, :3]) - mean) / sd
    assert unit_noise.var() == pytest.approx(1.0, abs=0.03)
    for c in range(3):
        for axis in range(3):
            lag = _lag1(unit_noise[:, c], axis + 1)
            assert lag == pytest.approx(float(model.noise_rho_[c, axis]), abs=0.04)
    # the mask is the decoder's probability, never noisy; mode="mean" has no voxel noise
    np.testing.assert_allclose(out[:, 3], torch.sigmoid(dec[:, 3]).numpy(), rtol=1e-5)
    typical = model.sample(expr, random_state=7, mode="mean")[0]
    assert (
        np.abs(np.diff(typical[:, 0], axis=-1)).mean()
        < 0.5 * np.abs(np.diff(out[:, 0], axis=-1)).mean()
    )
    # the unit-variance decoder generates the mean image at the sampled z
    unit = ExpressionImageGenerator(random_state=0, image_likelihood="unit", **tiny)
    unit.fit(images, expr)
    dec, lv = _decoded_at_sampled_z(unit, expr, 7)
    assert lv is None
    got = unit.sample(expr, random_state=7)[0]
    expected = dec[:, :3].numpy() * unit.channel_scale_.reshape(1, -1, 1, 1, 1)
    expected += unit.channel_mean_.reshape(1, -1, 1, 1, 1)
    expected = unit._from_model_scale(expected.astype(np.float64))
    np.testing.assert_allclose(got[:, :3], expected, rtol=1e-5, atol=1e-2)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"image_likelihood": "laplace"}, "image_likelihood"),
        ({"voxel_noise": "pink"}, "voxel_noise"),
        ({"sigma_floor": 0.0}, "sigma_floor"),
        ({"sigma_floor": float("nan")}, "sigma_floor"),
        ({"variance_epochs": 0}, "variance_epochs"),
    ],
)
def test_bad_decoder_settings(params, match):
    images, expr = _tiny_set(8)
    with pytest.raises(DataError, match=match):
        ExpressionImageGenerator(**params).fit(images, expr)


def test_mean_model_is_the_unit_decoders_and_the_variance_fits_the_residuals():
    images, expr = _tiny_set()
    tiny = {"latent_dim": 2, "n_components": 3, "base_channels": 2, "epochs": 2, "batch_size": 8}
    het = ExpressionImageGenerator(
        random_state=3, image_likelihood=HET, variance_epochs=40, **tiny
    ).fit(images, expr)
    unit = ExpressionImageGenerator(random_state=3, image_likelihood="unit", **tiny)
    unit.fit(images, expr)
    # the variance network is fitted after the mean model, which it leaves unchanged
    for (name, a), (_, b) in zip(
        het.net_.state_dict().items(), unit.net_.state_dict().items(), strict=True
    ):
        assert a.equal(b), name
    pd.testing.assert_frame_equal(het.history_, unit.history_)
    assert unit.variance_history_.empty
    hist = het.variance_history_
    assert list(hist["epoch"]) == list(range(1, 41))
    assert hist["image_nll"].iloc[-1] < hist["image_nll"].iloc[0]
    # the tumour's T2 texture SD is four times larger with gene g1 > 0: the fitted T2 SD
    # inside the tumour is larger for those patients (z at the prior mean)
    c = het._condition(expr)
    with torch.no_grad():
        h = het.net_.cond(c)
        z = het.net_.prior_params(h)[0]
        sd = (0.5 * het._logvar(het.variance_net_(z, h))).exp()[:, 0].numpy()
    tumour = images.data[:, 3] > 0.5
    inside = np.array([s[m].mean() for s, m in zip(sd, tumour, strict=True)])
    rough = expr["g1"].to_numpy() > 0
    assert inside[rough].mean() > inside[~rough].mean()


def test_detail_removes_the_smooth_part_of_the_residuals():
    from radsem.deep.imagegen import _detail

    z, y, x = torch.meshgrid(torch.arange(6.0), torch.arange(8.0), torch.arange(8.0), indexing="ij")
    ramp = (2.0 * z - y + 0.5 * x + 7.0).expand(2, 3, 6, 8, 8)
    d = _detail(ramp)
    # a constant is removed everywhere, a linear ramp wherever the 3 x 3 x 3 window fits
    np.testing.assert_allclose(_detail(torch.full((1, 1, 4, 4, 4), 5.0)).numpy(), 0.0, atol=1e-6)
    np.testing.assert_allclose(d[:, :, 1:-1, 1:-1, 1:-1].numpy(), 0.0, atol=1e-5)
    # white noise keeps 26/27 of its variance
    noise = torch.randn((20, 1, 12, 16, 16), generator=torch.Generator().manual_seed(0))
    inner = _detail(noise)[:, :, 1:-1, 1:-1, 1:-1]
    assert float(inner.var()) == pytest.approx(26.0 / 27.0, rel=0.03)


def test_heteroscedastic_model_same_seed_same_bytes_and_round_trip(tmp_path):
    import json

    images, expr = _tiny_set()
    tiny = {"latent_dim": 2, "n_components": 3, "base_channels": 2, "epochs": 2, "batch_size": 8}
    params = {"image_likelihood": HET, "variance_epochs": 3, **tiny}
    a = ExpressionImageGenerator(random_state=5, **params).fit(images, expr)
    b = ExpressionImageGenerator(random_state=5, **params).fit(images, expr)
    for pa, pb in zip(a.variance_net_.parameters(), b.variance_net_.parameters(), strict=True):
        assert pa.detach().equal(pb.detach())
    np.testing.assert_array_equal(a.noise_rho_, b.noise_rho_)
    first = a.sample(expr.iloc[:4], random_state=9)[0]
    assert first.tobytes() == b.sample(expr.iloc[:4], random_state=9)[0].tobytes()
    assert not np.array_equal(first, a.sample(expr.iloc[:4], random_state=10)[0])
    folder = a.save(tmp_path / "model")
    meta = json.loads((folder / "model.json").read_text())
    assert meta["params"]["image_likelihood"] == HET
    assert len(meta["variance_history"]["epoch"]) == 3
    loaded = ExpressionImageGenerator.load(folder)
    assert loaded.sample(expr.iloc[:4], random_state=9)[0].tobytes() == first.tobytes()
    pd.testing.assert_frame_equal(loaded.variance_history_, a.variance_history_)
    np.testing.assert_array_equal(loaded.noise_rho_, a.noise_rho_)
    # a heteroscedastic model.json with the variance weights missing is refused clearly

    payload = torch.load(folder / "weights.pt", weights_only=True)
    del payload["variance_state_dict"]
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.json").write_text(json.dumps(meta))
    torch.save(payload, broken / "weights.pt")
    with pytest.raises(DataError, match="weights do not match"):
        ExpressionImageGenerator.load(broken)


def test_generation_is_calibrated_on_the_training_patients():
    images, expr = _tiny_set()
    tiny = {"latent_dim": 2, "n_components": 3, "base_channels": 2, "epochs": 3, "batch_size": 8}
    model = ExpressionImageGenerator(random_state=1, image_likelihood=HET, **tiny)
    model.fit(images, expr)
    x = model._to_tensor(images.data)
    with torch.no_grad():
        h = model.net_.cond(model._condition(expr))
        mu_q, lv_q = model.net_.posterior_params(x, h)
        mu_p = model.net_.prior_params(h)[0]
        lv = model._logvar(model.variance_net_(mu_q, h)).double().numpy()
    # the prior spread: root mean square of the posterior around the prior mean, per dimension
    spread = ((mu_q - mu_p).double() ** 2 + lv_q.double().exp()).mean(0).sqrt().numpy()
    np.testing.assert_allclose(model.prior_sd_, spread, rtol=1e-6)
    # the noise range: the variance network's log-variances on the training voxels
    np.testing.assert_allclose(model.logvar_range_[:, 0], lv.min(axis=(0, 2, 3, 4)), rtol=1e-6)
    np.testing.assert_allclose(model.logvar_range_[:, 1], lv.max(axis=(0, 2, 3, 4)), rtol=1e-6)
    # far from every training posterior the log-variance is clipped to that range
    z_far = torch.full((4, 2), 1e4)
    with torch.no_grad():
        raw = model._logvar(model.variance_net_(z_far, h[:4])).double().numpy()
        bounded = model._bounded_logvar(z_far, h[:4]).double().numpy()
    lo = model.logvar_range_[:, 0].reshape(1, -1, 1, 1, 1)
    hi = model.logvar_range_[:, 1].reshape(1, -1, 1, 1, 1)
    assert (bounded >= lo - 1e-5).all()
    assert (bounded <= hi + 1e-5).all()
    assert (raw > hi + 1.0).any() or (raw < lo - 1.0).any()  # the clip did act
    np.testing.assert_allclose(bounded, np.clip(raw, lo, hi), rtol=1e-5, atol=1e-5)
    # the mask offset: the training patients' prior-mean images have the median real volume
    prob = model.sample(expr, random_state=0, mode="mean")[0][:, 3].astype(np.float64)
    generated = np.median(prob.reshape(len(prob), -1).sum(1))
    real = np.median((images.data[:, 3] > 0.5).reshape(len(prob), -1).sum(1))
    assert generated == pytest.approx(real, abs=0.05)
    # the noise scale: at z drawn as in generation (4 draws per patient, seed 0), the scaled
    # variance has the weighted mean square of the detail residuals it was fitted to
    from radsem.deep.imagegen import _NOISE_DRAWS, _detail

    w = model._voxel_weights(x).double()
    with torch.no_grad():
        d = _detail(x[:, :3] - model.net_.decode(mu_q, h)[:, :3]).double()
        draw = torch.Generator().manual_seed(0)
        sd = torch.from_numpy(model.prior_sd_).float()
        var = torch.zeros(3, dtype=torch.float64)
        for i in range(0, len(x), tiny["batch_size"]):
            sl = slice(i, i + tiny["batch_size"])
            for _ in range(_NOISE_DRAWS):
                zd = mu_p[sl] + torch.randn(mu_p[sl].shape, generator=draw) * sd
                lv_d = model._bounded_logvar(zd, h[sl]).double()
                var += (w[sl] * lv_d.exp()).sum((0, 2, 3, 4)) / _NOISE_DRAWS
    target = (w * d**2).sum((0, 2, 3, 4))
    np.testing.assert_allclose(model.noise_scale_**2 * var.numpy(), target.numpy(), rtol=1e-5)
