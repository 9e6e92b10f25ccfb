"""The LassoNet input stage of the gene network: the hierarchical proximal operator against
brute-force solutions of its convex problem, the penalty path, determinism and recovery of
driver genes on a small simulation."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("captum")

from scipy.optimize import minimize, minimize_scalar  # noqa: E402

from radsem.genemap.interpret import build_layout, gene_attributions, masked_predictions  # noqa: E402
from radsem.genemap.lassonet import SparseSettings, hier_prox, lassonet_fit  # noqa: E402
from radsem.genemap.models import GeneNetwork, NetworkSettings  # noqa: E402


def _objective(b, u, theta, w, lam):
    return 0.5 * np.sum((b - theta) ** 2) + 0.5 * np.sum((u - w) ** 2) + lam * np.linalg.norm(b)


def _brute_scalar(theta: float, w: np.ndarray, lam: float, m: float):
    """The convex problem for a scalar theta by a general constrained solver: for each sign
    of b the problem is a smooth QP with linear constraints m*|b| -+ u_k >= 0."""
    best = None
    for sign in (1.0, -1.0):
        cons = [{"type": "ineq", "fun": lambda z, s=sign: m * s * z[0] - z[1:]}]
        cons.append({"type": "ineq", "fun": lambda z, s=sign: m * s * z[0] + z[1:]})
        cons.append({"type": "ineq", "fun": lambda z, s=sign: s * z[0]})
        start = np.concatenate([[sign * (abs(theta) + 1.0)], np.zeros_like(w)])
        res = minimize(
            lambda z: _objective(z[:1], z[1:], np.array([theta]), w, lam),
            start,
            constraints=cons,
            method="SLSQP",
            options={"ftol": 1e-13, "maxiter": 500},
        )
        if best is None or res.fun < best.fun:
            best = res
    return best.x[0], best.x[1:], best.fun


def _brute_group(theta: np.ndarray, w: np.ndarray, lam: float, m: float) -> float:
    """Optimal ||b|| of the group version: b points along theta and u = clip(w, m ||b||),
    leaving a convex function of s = ||b|| minimised on a grid and then locally."""
    n, a = np.linalg.norm(theta), np.abs(w)

    def f(s):
        return 0.5 * (s - n) ** 2 + 0.5 * np.sum((a - np.minimum(a, m * s)) ** 2) + lam * s

    grid = np.linspace(0.0, n + a.sum() + 1.0, 40001)
    s0 = grid[int(np.argmin([f(s) for s in grid]))]
    step = grid[1]
    res = minimize_scalar(f, bounds=(max(0.0, s0 - step), s0 + step), method="bounded")
    return float(res.x) if f(res.x) < f(s0) else float(s0)


def test_hier_prox_solves_the_scalar_problem():
    rng = np.random.default_rng(0)
    for _ in range(60):
        k = int(rng.integers(1, 5))
        theta = float(rng.standard_normal())
        w = rng.standard_normal(k) * rng.choice([0.2, 1.0, 4.0])
        lam, m = float(rng.choice([0.0, 0.2, 0.7, 2.0])), float(rng.choice([0.5, 1.0, 10.0]))
        b, u = hier_prox(
            torch.tensor([[theta]], dtype=torch.float64), torch.tensor(w[None]), lam, m
        )
        b, u = b.numpy()[0], u.numpy()[0]
        ref_b, ref_u, ref_f = _brute_scalar(theta, w, lam, m)
        assert _objective(b, u, np.array([theta]), w, lam) <= ref_f + 1e-7
        np.testing.assert_allclose(b[0], ref_b, atol=1e-4)
        np.testing.assert_allclose(u, ref_u, atol=1e-4)


def test_hier_prox_solves_the_group_problem_row_by_row():
    rng = np.random.default_rng(1)
    theta = rng.standard_normal((40, 3))
    w = rng.standard_normal((40, 6)) * rng.choice([0.1, 1.0, 5.0], size=(40, 1))
    lam = rng.choice([0.0, 0.3, 1.0, 3.0], size=40)
    b, u = hier_prox(torch.tensor(theta), torch.tensor(w), torch.tensor(lam), 2.0)
    b, u = b.numpy(), u.numpy()
    for j in range(40):
        s = _brute_group(theta[j], w[j], lam[j], 2.0)
        np.testing.assert_allclose(np.linalg.norm(b[j]), s, atol=1e-4)
        if s > 0:  # b keeps theta's direction, u is w clipped at m ||b||
            np.testing.assert_allclose(
                b[j] / np.linalg.norm(b[j]), theta[j] / np.linalg.norm(theta[j]), atol=1e-9
            )
        np.testing.assert_allclose(u[j], np.clip(w[j], -2.0 * s, 2.0 * s), atol=1e-4)


def test_hier_prox_defining_properties():
    rng = np.random.default_rng(2)
    theta = torch.tensor(rng.standard_normal((30, 1)))
    w = torch.tensor(rng.standard_normal((30, 5)))
    m = 3.0
    b, u = hier_prox(theta, w, 0.4, m)
    # feasible: |u_jk| <= m |b_j|; the penalty only shrinks
    assert bool((u.abs() <= m * b.abs() + 1e-12).all())
    assert bool((b.abs() <= theta.abs() + w.abs().sum(1, keepdim=True) * m).all())
    # a feasible point is its own proximal point without a penalty
    feasible = torch.clamp(w, -m * theta.abs(), m * theta.abs())
    b0, u0 = hier_prox(theta, feasible, 0.0, m)
    torch.testing.assert_close(b0, theta)
    torch.testing.assert_close(u0, feasible)
    # a penalty of at least |theta| + m sum |w| removes the variable
    big = theta.abs()[:, 0] + m * w.abs().sum(1)
    bz, uz = hier_prox(theta, w, big * (1 + 1e-9), m)
    assert bool((bz == 0).all())
    assert bool((uz == 0).all())
    # just below that bound the variable stays in
    bk, _ = hier_prox(theta, w, big * 0.9, m)
    assert bool((bk != 0).all())


def _data(n=160, p=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p))
    s = x[:, :5] @ np.array([1.0, -0.8, 0.7, 0.6, -0.5])
    y = np.column_stack(
        [
            s + 0.5 * rng.standard_normal(n),
            np.maximum(x[:, 10] + x[:, 11], 0) * 2 + 0.4 * rng.standard_normal(n),
            rng.standard_normal(n),
        ]
    )
    return x, y


def test_path_starts_empty_and_chooses_on_the_inner_split():
    x, y = _data()
    xt = torch.as_tensor((x - x.mean(0)) / x.std(0), dtype=torch.float32)
    yt = torch.as_tensor((y - y.mean(0)) / y.std(0), dtype=torch.float32)
    perm = torch.randperm(len(xt), generator=torch.Generator().manual_seed(0))
    val, tr = perm[:32], perm[32:]
    s = SparseSettings(n_lambdas=12, steps=15, refit=False)
    module, info = lassonet_fit(xt, yt, val, tr, s, seed=0)
    lambdas, losses = info["lambdas"], info["val_loss"]
    assert lambdas.shape == (12, 3)
    assert bool((np.diff(lambdas, axis=0) < 0).all())  # from sparse to dense
    # at lambda_max every gene is out: the validation loss is that of a constant
    const = ((yt[val] - yt[tr].mean(0)) ** 2).mean(0).numpy()
    np.testing.assert_allclose(losses[0], const, rtol=0.05)
    # the chosen penalty is the smallest validation loss of the walked path
    chosen = info["chosen"]
    np.testing.assert_array_equal(chosen, np.argmin(losses, 0))
    with torch.no_grad():
        got = ((module(xt[val]) - yt[val]) ** 2).mean(0).numpy()
    np.testing.assert_allclose(got, losses[chosen, [0, 1, 2]], rtol=1e-5)
    # the hierarchy holds in the fitted first layer
    w = module[0].weight.detach()
    theta, hidden = w[:3], w[3:].reshape(3, s.hidden, -1)
    assert bool((hidden.abs() <= s.hierarchy * theta.abs()[:, None, :] + 1e-6).all())
    # the drivers of the linear target have the largest skip weights; most null genes are out
    sel = theta != 0
    assert set(torch.argsort(-theta[0].abs())[:5].tolist()) == set(range(5))
    assert int(sel[0, 5:].sum()) <= 40
    assert bool(sel[1, 10:12].all())


@pytest.fixture(scope="module")
def sparse_net():
    x, y = _data()
    net = GeneNetwork(NetworkSettings(sparse=SparseSettings(n_lambdas=15, steps=15)), seed=3)
    return net.fit(x[:120], y[:120]), x, y


def test_sparse_network_recovers_drivers_and_predicts(sparse_net):
    net, x, y = sparse_net
    pred = net.predict(x[120:])
    r2 = 1 - ((y[120:] - pred) ** 2).sum(0) / ((y[120:] - y[120:].mean(0)) ** 2).sum(0)
    assert r2[0] > 0.6
    assert r2[1] > 0.3
    assert r2[2] < 0.1
    attr = np.abs(gene_attributions(net.module_, net.x_scaler_.transform(x[120:]))).mean(0)
    assert set(np.argsort(-attr[:, 0])[:5]) == set(range(5))
    assert set(np.argsort(-attr[:, 1])[:2]) == {10, 11}


def test_sparse_network_is_deterministic(sparse_net):
    net, x, y = sparse_net
    again = GeneNetwork(net.settings, seed=3).fit(x[:120], y[:120])
    np.testing.assert_array_equal(net.predict(x[120:]), again.predict(x[120:]))
    other = GeneNetwork(net.settings, seed=4).fit(x[:120], y[:120])
    assert not np.array_equal(net.predict(x[120:]), other.predict(x[120:]))


def test_masking_of_the_sparse_network_equals_direct_masking(sparse_net):
    net, x, _ = sparse_net
    xz = net.x_scaler_.transform(x[120:130])
    lay = build_layout(
        {"a": np.arange(0, 6), "b": np.arange(8, 14)}, x.shape[1], 3, np.random.default_rng(0)
    )
    fast = masked_predictions(net.module_, xz, lay, "sufficiency")
    for g, members in enumerate(lay.members):
        direct = np.zeros_like(xz)
        direct[:, members] = xz[:, members]
        with torch.no_grad():
            want = net.module_(torch.as_tensor(direct, dtype=torch.float32)).numpy()
        np.testing.assert_allclose(fast[g], want, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_screened_hier_prox_equals_the_algorithm_on_every_row(dtype):
    from radsem.genemap.lassonet import _hier_prox_rows

    rng = np.random.default_rng(5)
    theta = torch.tensor(rng.standard_normal((400, 1)) * rng.choice([0.0, 0.01, 1.0], (400, 1)))
    w = torch.tensor(rng.standard_normal((400, 8)) * rng.choice([0.0, 0.01, 0.3], (400, 1)))
    theta, w = theta.to(dtype), w.to(dtype)
    m = 10.0
    bound = theta.abs()[:, 0] + m * w.abs().sum(1)
    # penalties around each row's removal bound, on both sides and exactly on it
    lam = bound * torch.tensor(rng.choice([0.5, 1 - 1e-7, 1.0, 1 + 1e-7, 2.0], 400), dtype=dtype)
    fast_b, fast_u = hier_prox(theta, w, lam, m)
    ref_b, ref_u = _hier_prox_rows(theta, w, lam, m)
    assert torch.equal(fast_b, ref_b)
    assert torch.equal(fast_u, ref_u)
    assert 0 < int((fast_b == 0).sum()) < 400  # both branches ran


def test_stacked_prox_equals_hier_prox_per_target_and_gene():
    from radsem.genemap.lassonet import _Path

    rng = np.random.default_rng(6)
    t, d, s = 3, 50, SparseSettings(hidden=4)
    path = _Path(d, t, s)
    w = torch.tensor(rng.standard_normal((t * (1 + s.hidden), d)), dtype=torch.float32)
    w *= torch.tensor(rng.choice([0.0, 0.05, 1.0], d), dtype=torch.float32)
    lam = torch.tensor([0.5, 3.0, 20.0])
    got, genes = path._prox_weight(w, lam)
    for j in range(t):
        hid = w[t + j * s.hidden : t + (j + 1) * s.hidden].T  # (genes, hidden)
        b, u = hier_prox(w[j][:, None], hid, lam[j], s.hierarchy)
        torch.testing.assert_close(got[j], b[:, 0], rtol=0, atol=0)
        torch.testing.assert_close(got[t + j * s.hidden : t + (j + 1) * s.hidden], u.T)
    assert set(torch.nonzero((got != 0).any(0))[:, 0].tolist()) <= set(genes.tolist())


def test_sparse_gradients_equal_autograd_through_the_module():
    from radsem.genemap.lassonet import _Path

    x, y = _data(n=60, p=40)
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    path = _Path(40, 3, SparseSettings(hidden=4))
    with torch.no_grad():  # a sparse state: 7 genes in the model
        w = path.module[0].weight
        w[:, :7] = torch.tensor(np.random.default_rng(7).standard_normal((15, 7)))
    f0, grads, genes = path._loss_and_grads(xt, yt)
    assert genes.tolist() == list(range(7))
    path.module.zero_grad()
    ref = path._losses(xt, yt)
    ref.sum().backward()
    torch.testing.assert_close(f0, ref.detach())
    for g, p in zip(grads, path._params(), strict=True):
        torch.testing.assert_close(g, p.grad, rtol=1e-5, atol=1e-6)
