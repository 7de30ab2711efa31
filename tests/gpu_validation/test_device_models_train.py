"""Device selection, models and single training steps on tiny sizes."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch.func import functional_call  # noqa: E402

from gpu_validation import device, models, train  # noqa: E402


def test_resolve_device():
    assert device.resolve_device("cpu").type == "cpu"
    assert device.resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device must be one of"):
        device.resolve_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(RuntimeError, match="no CUDA GPU is available.*--device cpu"):
        device.resolve_device("cuda")


def test_timer_measures():
    with device.Timer("cpu") as t:
        sum(range(10000))
    assert 0 <= t.seconds < 5


def test_models_shapes_and_determinism():
    x = torch.rand(5, 1, 8, 8)
    a, b = models.MLP(64, 7, 3, seed=1), models.MLP(64, 7, 3, seed=1)
    assert torch.equal(a(x), b(x)) and a(x).shape == (5, 3)
    assert not torch.equal(a(x), models.MLP(64, 7, 3, seed=2)(x))
    for shape in ((1, 8, 8), (1, 28, 28), (3, 32, 32)):
        assert models.SmallCNN(shape, 10, width=2)(torch.rand(2, *shape)).shape == (2, 10)
    with pytest.raises(ValueError, match="in_shape"):
        models.SmallCNN((1, 9, 9), 10)


def test_two_layer_ntk_is_eq1():
    net = models.TwoLayerNTK(4, 6, activation="tanh", seed=0)
    x = torch.randn(3, 4)
    direct = sum(net.a[k] / math.sqrt(6) * torch.tanh(x @ net.W[k]) for k in range(6))
    torch.testing.assert_close(net(x), direct)
    assert set(net.a.tolist()) <= {-1.0, 1.0} and not net.a.requires_grad


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_balanced_init(depth):
    v = torch.randn(5, dtype=torch.float64)
    Ws = models.balanced_init(5, depth, 4, 0.3, v, seed=0)
    for j in range(depth - 1):  # eq. (13)
        torch.testing.assert_close(Ws[j + 1].T @ Ws[j + 1], Ws[j] @ Ws[j].T)
    w = models.DeepLinear(Ws).end_to_end()
    torch.testing.assert_close(w.norm(), torch.tensor(0.3 ** depth, dtype=torch.float64))
    assert float(torch.dot(w.detach(), v)) > 0


def test_kd_loss_gradient_matches_eq5_for_softmax_regression():
    """For soft-max regression (a linear model) eq. (5) is exact (paper 000, App. B.2)."""
    torch.manual_seed(0)
    lin_s, lin_t = torch.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    x, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
    for lam in (0.0, 0.3, 0.9):
        true = train.true_distillation_grad(lin_s, lin_t, x, y, lam)
        approx = train.approx_distillation_grad(lin_s, lin_t, x, y, lam)
        torch.testing.assert_close(true, approx, atol=1e-6, rtol=1e-5)


def test_kd_loss_gradient_differs_from_eq5_for_mlp():
    s, t = models.MLP(4, 5, 3, seed=0), models.MLP(4, 5, 3, seed=1)
    x, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
    true = train.true_distillation_grad(s, t, x, y, 0.5)
    approx = train.approx_distillation_grad(s, t, x, y, 0.5)
    assert (true - approx).norm() > 1e-4
    # at x = θ they coincide: both are (1 − λ)∇f_ξ(θ)
    torch.testing.assert_close(train.true_distillation_grad(s, s, x, y, 0.5),
                               train.approx_distillation_grad(s, s, x, y, 0.5), atol=1e-6, rtol=1e-5)


def test_unbiased_kd_full_batch_mean_is_plain_gradient_at_teacher():
    """Eq. (16) at x = θ with ξ = all data: ∇f(θ) − λ∇f(θ) + λ∇f(θ) = ∇f(θ)."""
    m = models.MLP(4, 5, 3, seed=0)
    X, y = torch.randn(10, 4), torch.randint(0, 3, (10,))
    fg = train.full_grad(m, X, y)
    torch.testing.assert_close(train.unbiased_kd_grad(m, m, X, y, 0.7, fg), fg, atol=1e-6, rtol=1e-5)


def test_ensemble_step_equals_single_model_sgd():
    X, y = torch.randn(12, 4), torch.randint(0, 3, (12,))
    ms = [models.MLP(4, 5, 3, seed=s) for s in range(2)]
    ref = models.MLP(4, 5, 3, seed=1)
    ens = train.make_ensemble(ms, torch.device("cpu"))

    def loss(p, b, idx):
        return F.cross_entropy(functional_call(ens.base, (p, b), (X[idx],)), y[idx])

    sch = train.batch_schedule(12, 4, 1, np.random.default_rng(0), torch.device("cpu"))
    train.train_ensemble(ens, loss, sch, lr=0.1)
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    for t in range(sch.shape[1]):
        opt.zero_grad()
        F.cross_entropy(ref(X[sch[0, t]]), y[sch[0, t]]).backward()
        opt.step()
    torch.testing.assert_close(ens.member(1).fc1.weight, ref.fc1.weight)


def test_nan_member_is_stopped_and_others_continue():
    X, y = torch.randn(12, 4), torch.randint(0, 3, (12,))
    ens = train.make_ensemble([models.MLP(4, 5, 3, seed=s) for s in range(3)], torch.device("cpu"))
    scale = torch.ones(3)
    snap = {}

    def loss(p, b, idx, s):
        return s * F.cross_entropy(functional_call(ens.base, (p, b), (X[idx],)), y[idx])

    def on_epoch(e, _):  # member 1 turns NaN after one epoch, with its momentum buffer full
        if e == 0:
            scale[1] = float("nan")
            snap["w"] = ens.flat().clone()

    sch = train.batch_schedule(12, 4, 3, np.random.default_rng(0), torch.device("cpu"))
    hist = train.train_ensemble(ens, loss, sch, lr=0.1, momentum=0.9, member_args=(scale,), on_epoch=on_epoch)
    st = train.status_of(ens)
    assert st["nan_stopped"] == [1]
    assert torch.isfinite(hist[0]).all() and torch.isnan(hist[1:, 1]).all() and torch.isfinite(hist[:, [0, 2]]).all()
    assert torch.equal(ens.flat()[1], snap["w"][1])  # frozen (momentum included), not poisoned
    assert not torch.equal(ens.flat()[0], snap["w"][0])


def test_fixed_mask_keeps_pruned_weights_zero():
    X, y = torch.randn(12, 4), torch.randint(0, 3, (12,))
    ens = train.make_ensemble([models.MLP(4, 5, 3, seed=0)], torch.device("cpu"))
    mask = {k: (torch.rand_like(v) > 0.5).float() for k, v in ens.params.items()}

    def loss(p, b, idx):
        return F.cross_entropy(functional_call(ens.base, (p, b), (X[idx],)), y[idx])

    train.train_ensemble(ens, loss, train.batch_schedule(12, 4, 2, np.random.default_rng(0), torch.device("cpu")),
                         lr=0.1, mask=mask)
    for k, v in ens.params.items():
        assert torch.all(v[mask[k] == 0] == 0)


def test_sgd_with_grad_matches_torch_sgd_and_keeps_the_mask():
    X, y = torch.randn(12, 4), torch.randint(0, 3, (12,))
    m, ref = models.MLP(4, 5, 3, seed=0), models.MLP(4, 5, 3, seed=0)
    sch = train.batch_schedule(12, 4, 2, np.random.default_rng(0), torch.device("cpu"))
    _, ok = train.sgd_with_grad(m, lambda xb, yb: train.flat_grad(m, F.cross_entropy(m(xb), yb)), X, y, sch, 0.1)
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    for e in range(2):
        for t in range(sch.shape[1]):
            opt.zero_grad()
            F.cross_entropy(ref(X[sch[e, t]]), y[sch[e, t]]).backward()
            opt.step()
    assert ok
    torch.testing.assert_close(m.fc2.weight, ref.fc2.weight)
    # eq. (18) with a fixed mask: pruned coordinates stay exactly zero
    P = sum(p.numel() for p in m.parameters())
    mask = (torch.arange(P) % 3 != 0).float()
    teacher = models.MLP(4, 5, 3, seed=1)
    train.sgd_with_grad(m, lambda xb, yb: train.approx_distillation_grad(m, teacher, xb, yb, 0.5), X, y, sch, 0.1,
                        mask=mask)
    flat = torch.cat([p.detach().reshape(-1) for p in m.parameters()])
    assert torch.all(flat[mask == 0] == 0) and torch.any(flat[mask == 1] != 0)


def test_sgd_with_grad_reports_nan():
    m = models.MLP(4, 5, 3, seed=0)
    X, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
    sch = train.batch_schedule(8, 4, 1, np.random.default_rng(0), torch.device("cpu"))
    _, ok = train.sgd_with_grad(m, lambda xb, yb: torch.full((sum(p.numel() for p in m.parameters()),), float("nan")),
                                X, y, sch, 0.1)
    assert ok is False


def test_hinton_kd_loss_limits():
    s, t = torch.randn(6, 4), torch.randn(6, 4)
    y = torch.randint(0, 4, (6,))
    torch.testing.assert_close(train.hinton_kd_loss(s, y, t, alpha=1.0), F.cross_entropy(s, y))
    assert float(train.hinton_kd_loss(t, y, t, alpha=0.0)) == pytest.approx(0.0, abs=1e-6)


def test_lipschitz_penalty_linear_is_max_column_sum():
    W = torch.tensor([[1.0, -3.0], [2.0, 0.5]])
    x = torch.tensor([0.0, 1.0])  # the 1-norm of W x at a unit basis vector reaches the bound
    assert float(train.lipschitz_penalty({"fc.weight": W, "fc.bias": torch.ones(2)})) == pytest.approx(3.5)
    assert float((W @ x).abs().sum()) == pytest.approx(3.5)


def test_conv_lipschitz_bounds_the_1_norm_gain():
    conv = torch.nn.Conv2d(2, 3, 3, padding=1, bias=False)
    L = float(train.lipschitz_penalty({"c.weight": conv.weight.detach()}))
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        x = torch.randn(1, 2, 6, 6, generator=g)
        assert float(conv(x).detach().abs().sum()) <= L * float(x.abs().sum()) + 1e-5


def test_torch_regularisers_match_kdtheory():
    ld = pytest.importorskip("kdtheory.label_distribution")
    m = models.SmallCNN((1, 8, 8), 10, width=3, seed=0)
    params = dict(m.named_parameters())
    mats = [v.detach().double().numpy() for k, v in params.items() if k.endswith("weight")]
    assert float(train.lipschitz_penalty(params).detach()) == pytest.approx(ld.network_lipschitz_l1(mats), rel=1e-6)
    p, q = torch.softmax(torch.randn(7, 4), -1), torch.softmax(torch.randn(7, 4), -1)
    assert float(train.consistency_penalty(p, q)) == pytest.approx(ld.consistency_loss(p.double().numpy(), q.double().numpy(), 1), rel=1e-6)


def _unrolled_l1(fn, shape):
    """The 1→1 norm (max absolute column sum) of the linear map ``fn`` unrolled by its Jacobian at 0."""
    J = torch.autograd.functional.jacobian(lambda v: fn(v.reshape(shape)).flatten(), torch.zeros(int(np.prod(shape))))
    return float(J.abs().sum(0).max())


def test_lipschitz_penalty_includes_batchnorm_against_the_unrolled_operators():
    ld = pytest.importorskip("kdtheory.label_distribution")
    g = torch.Generator().manual_seed(0)
    conv = torch.nn.Conv2d(2, 3, 3, padding=1, bias=False)
    bn = torch.nn.BatchNorm2d(3)
    fc = torch.nn.Linear(3 * 5 * 5, 4, bias=False)
    net = torch.nn.Sequential(conv, bn, torch.nn.Flatten(), fc).eval()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([0.5, -2.0, 1.2]))
        bn.running_var.copy_(torch.rand(3, generator=g) + 0.3)
        bn.running_mean.copy_(torch.randn(3, generator=g))
        bn.bias.copy_(torch.randn(3, generator=g))
    # each component unrolled into its matrix (affine parts removed: a Lipschitz constant ignores offsets)
    L_conv = _unrolled_l1(conv, (1, 2, 5, 5))
    L_bn = _unrolled_l1(lambda h: bn(h) - bn(torch.zeros_like(h)), (1, 3, 5, 5))
    L_fc = _unrolled_l1(fc, (1, 75))
    params, buffers = dict(net.named_parameters()), dict(net.named_buffers())
    pen = train.lipschitz_penalty(params, buffers)
    assert float(pen.detach()) == pytest.approx(L_conv + L_bn + L_fc, rel=1e-5)
    assert L_bn == pytest.approx(2.0 / math.sqrt(float(bn.running_var[1]) + bn.eps), rel=1e-5)
    assert L_bn == pytest.approx(ld.lipschitz_batchnorm_l1(bn.weight.detach().numpy(), bn.running_var.numpy()), rel=1e-6)
    pen.backward()  # the penalty reaches γ (only the channel attaining the max)
    assert float(bn.weight.grad.abs().sum()) > 0
    # the authors' entrywise variant: conv term Σ|W| ≥ the operator norm
    ent = train.lipschitz_penalty(params, buffers, conv="entrywise")
    assert float(ent.detach()) == pytest.approx(float(conv.weight.abs().sum().detach()) + L_bn + L_fc, rel=1e-5)
    assert float(ent.detach()) > float(pen.detach())
    with pytest.raises(ValueError, match="running_var"):
        train.lipschitz_penalty(params)
    with pytest.raises(ValueError, match="conv"):
        train.lipschitz_penalty(params, buffers, conv="spectral")
