"""Layers: gradcheck through each module (inputs and parameters), naive references, PyTorch parity,
train/eval behaviour, init, and bad-input messages."""

import math

import numpy as np
import pytest
from nn_testutils import check_module_grads, copy_params_to_torch, t64

import groundup as gu
from groundup import nn
from groundup.errors import ShapeError

RNG = np.random.default_rng(1234)


def randn(*shape):
    return RNG.standard_normal(shape)


# --------------------------------------------------------------------------- Linear
def test_linear_values_against_numpy():
    lin = nn.Linear(3, 2).double()
    x = randn(5, 3)
    out = lin(gu.tensor(x))
    np.testing.assert_allclose(out.data, x @ lin.weight.data.T + lin.bias.data, rtol=1e-12)
    x3 = randn(2, 5, 3)  # extra leading axes broadcast like PyTorch
    np.testing.assert_allclose(lin(gu.tensor(x3)).data, x3 @ lin.weight.data.T + lin.bias.data)


def test_linear_default_init_is_pytorchs():
    gu.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = lin.weight.data, lin.bias.data
    assert w.shape == (300, 400) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(−a, a) has variance a²/3
    assert abs(w.var() - bound**2 / 3) < 0.03 * bound**2 / 3
    # the generator option gives reproducible, independent initialisation
    a = nn.Linear(4, 3, generator=gu.Generator(7))
    c = nn.Linear(4, 3, generator=gu.Generator(7))
    np.testing.assert_array_equal(a.weight.data, c.weight.data)


def test_linear_gradcheck_inputs_and_params():
    check_module_grads(nn.Linear(3, 2), t64(randn(4, 3)))
    check_module_grads(nn.Linear(3, 2, bias=False), t64(randn(2, 1, 3)))


def test_linear_shape_error_names_layer_shape_and_hint():
    lin = nn.Linear(784, 256)
    with pytest.raises(ShapeError) as err:
        lin(gu.zeros(64, 28, 28))
    assert str(err.value) == ("Linear(784→256) got input of shape (64, 28, 28): expected "
                              "(..., 784); help: flatten the image first (nn.Flatten())")


def test_linear_torch_parity_outputs_and_grads():
    torch = pytest.importorskip("torch")
    lin = nn.Linear(5, 3)
    tl = copy_params_to_torch(lin, torch.nn.Linear(5, 3))
    x = randn(4, 5).astype(np.float32)
    xg, xt = gu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (lin(xg) ** 2).sum().backward()
    (tl(xt) ** 2).sum().backward()
    np.testing.assert_allclose(xg.grad.data, xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(lin.weight.grad.data, tl.weight.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(lin.bias.grad.data, tl.bias.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_flatten_unflatten_identity():
    x = gu.tensor(randn(2, 3, 4, 5))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape == (2, 3, 20)
    np.testing.assert_array_equal(nn.Unflatten(1, (3, 4, 5))(nn.Flatten()(x)).data, x.data)
    assert nn.Identity(54, unused="x")(x) is x
    with pytest.raises(ShapeError, match="Unflatten"):
        nn.Unflatten(1, (7, 7))(gu.zeros(2, 60))


# --------------------------------------------------------------------------- activations
ACTIVATIONS = [
    ("ReLU", (), lambda x: np.maximum(x, 0)),
    ("LeakyReLU", (0.2,), lambda x: np.where(x > 0, x, 0.2 * x)),
    ("ELU", (0.7,), lambda x: np.where(x > 0, x, 0.7 * np.expm1(x))),
    ("GELU", (), None),
    ("Sigmoid", (), lambda x: 1 / (1 + np.exp(-x))),
    ("Tanh", (), np.tanh),
    ("Softplus", (2.0,), lambda x: np.log1p(np.exp(2 * x)) / 2),
    ("SiLU", (), lambda x: x / (1 + np.exp(-x))),
    ("Softmax", (1,), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    ("LogSoftmax", (1,), lambda x: x - np.log(np.exp(x).sum(1, keepdims=True))),
]


@pytest.mark.parametrize("name,args,ref", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_values_gradcheck_and_torch_parity(name, args, ref):
    x = randn(3, 4)
    x[0, 0] = 0.0  # the kink of ReLU-like activations
    mod = getattr(nn, name)(*args)
    if ref is not None:
        np.testing.assert_allclose(mod(gu.tensor(x)).data, ref(x), rtol=1e-10, atol=1e-12)
    xc = x.copy()
    xc[0, 0] = 0.3  # gradcheck away from the kink
    check_module_grads(mod, t64(xc))
    torch = pytest.importorskip("torch")
    tmod = getattr(torch.nn, name)(*args)
    xt = torch.tensor(x, requires_grad=True)
    xg = gu.tensor(x, requires_grad=True)
    w = randn(3, 4)
    (mod(xg) * gu.tensor(w)).sum().backward()
    (tmod(xt) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(mod(xg).data, tmod(xt).detach().numpy(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(xg.grad.data, xt.grad.numpy(), rtol=1e-7, atol=1e-9)


def test_gelu_tanh_approximation_torch_parity():
    x = randn(3, 5) * 3
    mod = nn.GELU(approximate="tanh")
    check_module_grads(mod, t64(x))
    torch = pytest.importorskip("torch")
    xg, xt = t64(x), torch.tensor(x, requires_grad=True)
    mod(xg).sum().backward()
    torch.nn.GELU(approximate="tanh")(xt).sum().backward()
    np.testing.assert_allclose(mod(xg).data, torch.nn.functional.gelu(
        torch.tensor(x), approximate="tanh").numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(xg.grad.data, xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_prelu_per_channel_gradcheck_and_torch_parity():
    x = randn(2, 3, 4)
    check_module_grads(nn.PReLU(3, init=0.1), t64(x))
    check_module_grads(nn.PReLU(), t64(x))
    torch = pytest.importorskip("torch")
    m = nn.PReLU(3).double()
    m.weight.data[...] = [0.1, 0.2, 0.3]
    tm = copy_params_to_torch(m, torch.nn.PReLU(3).double())
    x[0, 0, 0] = 0.0
    xg, xt = gu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    w = randn(2, 3, 4)
    (m(xg) * gu.tensor(w)).sum().backward()
    (tm(xt) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(m(xg).data, tm(xt).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(xg.grad.data, xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(m.weight.grad.data, tm.weight.grad.numpy(), rtol=1e-12)


def test_step_and_sign_for_the_perceptron():
    x = gu.tensor([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(nn.Step()(x).data, [0, 1, 1])
    np.testing.assert_array_equal(nn.Sign()(x).data, [-1, -1, 1])  # the course: −1 "otherwise"
    assert not nn.Sign()(gu.tensor([1.0], requires_grad=True)).requires_grad


def test_relu_at_zero_has_zero_gradient():
    x = gu.tensor([0.0, 1.0], requires_grad=True)
    nn.ReLU()(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 1])


# --------------------------------------------------------------------------- dropout
def test_dropout_train_is_inverted_and_eval_is_identity():
    d = nn.Dropout(0.3, generator=gu.Generator(0))
    x = gu.ones(200, 500)
    y = d(x).data
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    assert abs(kept.mean() - 0.7) < 0.01  # 100,000 draws: 4.5 standard errors
    assert abs(y.mean() - 1.0) < 0.02  # E[y] = x
    d.eval()
    assert d(x) is x
    d.train()
    assert (d(x).data == 0).any()


def test_dropout_gradient_uses_the_same_mask():
    d = nn.Dropout(0.5, generator=gu.Generator(3))
    x = gu.tensor(randn(6, 7), requires_grad=True)
    y = d(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, (y.data != 0) * 2.0)


def test_dropout_generator_reproducible_and_edge_probabilities():
    a = nn.Dropout(0.5, generator=gu.Generator(11))(gu.ones(50)).data
    b = nn.Dropout(0.5, generator=gu.Generator(11))(gu.ones(50)).data
    np.testing.assert_array_equal(a, b)
    gu.manual_seed(5)
    c = nn.functional.dropout(gu.ones(50), 0.5)
    gu.manual_seed(5)
    np.testing.assert_array_equal(c.data, nn.functional.dropout(gu.ones(50), 0.5).data)
    assert np.all(nn.Dropout(1.0)(gu.ones(5)).data == 0)
    x = gu.ones(5)
    assert nn.Dropout(0.0)(x) is x
    with pytest.raises(ValueError, match="not in"):
        nn.Dropout(1.5)


def test_dropout2d_zeroes_whole_channels():
    d = nn.Dropout2d(0.5, generator=gu.Generator(1))
    y = d(gu.ones(8, 16, 3, 3)).data
    per_channel = y.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0 < (per_channel == 0).all(-1).mean() < 1
    d.eval()
    np.testing.assert_array_equal(d(gu.ones(2, 3, 4, 4)).data, 1)


def test_dropout_seed_example(seed_example):
    ex = seed_example("dropout-expectation-q7-9")
    h, p = np.array(ex["inputs"]["h"]), ex["inputs"]["p"]
    tol = ex["tolerance"]
    d = nn.Dropout(p, generator=gu.Generator(0))
    # average many inverted-dropout passes: E[y] = h; kept units equal h/(1 − p)
    x = gu.tensor(np.tile(h, (40000, 1)))
    y = d(x).data
    kept_vals = np.where(y != 0, y, np.nan)
    # every kept unit equals h/(1 − p) exactly (up to float32 rounding)
    np.testing.assert_allclose(np.nanmin(kept_vals, 0), ex["expected"]["inverted_kept_values"],
                               rtol=1e-6, atol=tol)
    np.testing.assert_allclose(np.nanmax(kept_vals, 0), ex["expected"]["inverted_kept_values"],
                               rtol=1e-6, atol=tol)
    np.testing.assert_allclose(1 / (1 - p), ex["expected"]["inverted_scale"], atol=tol)
    # 40,000 samples: standard error of the mean ≤ 3·√(0.3/0.7)/200 ≈ 0.01
    np.testing.assert_allclose(y.mean(0), ex["expected"]["expected_inverted"], atol=0.05)
    np.testing.assert_allclose((1 - p) * h, ex["expected"]["expected_standard"], atol=tol)


# --------------------------------------------------------------------------- batch norm
def naive_batchnorm(x, gamma, beta, eps):
    """Per channel c: mean and biased variance over every other axis, by explicit loops."""
    out = np.empty_like(x)
    for c in range(x.shape[1]):
        v = x[:, c].ravel()
        mu = sum(v) / len(v)
        var = sum((vi - mu) ** 2 for vi in v) / len(v)
        out[:, c] = (x[:, c] - mu) / math.sqrt(var + eps) * gamma[c] + beta[c]
    return out


@pytest.mark.parametrize("shape,cls", [((5, 3), "BatchNorm1d"), ((4, 3, 2), "BatchNorm1d"),
                                       ((3, 2, 3, 2), "BatchNorm2d")])
def test_batchnorm_train_against_naive_and_gradcheck(shape, cls):
    bn = getattr(nn, cls)(shape[1]).double()
    bn.weight.data[...] = randn(shape[1])
    bn.bias.data[...] = randn(shape[1])
    x = randn(*shape) * 3 + 1
    np.testing.assert_allclose(bn(gu.tensor(x)).data,
                               naive_batchnorm(x, bn.weight.data, bn.bias.data, 1e-5), rtol=1e-10,
                               atol=1e-12)
    check_module_grads(bn, t64(x))
    bn.eval()
    check_module_grads(bn, t64(x))


def test_batchnorm_running_stats_update_only_in_training():
    bn = nn.BatchNorm1d(2, momentum=0.1).double()
    x = randn(6, 2) * 2 + 3
    bn(gu.tensor(x))
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.data, 0.9 + 0.1 * x.var(0, ddof=1), rtol=1e-12)
    assert int(bn.num_batches_tracked.data) == 1
    rm, rv = bn.running_mean.data.copy(), bn.running_var.data.copy()
    bn.eval()
    y = bn(gu.tensor(x)).data
    np.testing.assert_allclose(y, (x - rm) / np.sqrt(rv + 1e-5), rtol=1e-12)
    np.testing.assert_array_equal(bn.running_mean.data, rm)
    assert int(bn.num_batches_tracked.data) == 1
    bn.train()
    bn(gu.tensor(x))
    assert int(bn.num_batches_tracked.data) == 2
    assert not np.allclose(bn.running_mean.data, rm)


def test_batchnorm_cumulative_average_and_no_tracking():
    bn = nn.BatchNorm1d(2, momentum=None).double()
    xs = [randn(4, 2) + i for i in range(3)]
    for x in xs:
        bn(gu.tensor(x))
    np.testing.assert_allclose(bn.running_mean.data, np.mean([x.mean(0) for x in xs], 0),
                               rtol=1e-12)
    free = nn.BatchNorm1d(2, track_running_stats=False, affine=False).double()
    assert free.running_mean is None and list(free.state_dict()) == []
    free.eval()  # no running statistics: batch statistics even in eval
    x = randn(5, 2)
    np.testing.assert_allclose(free(gu.tensor(x)).data, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5),
                               rtol=1e-10)


def test_batchnorm_torch_parity_train_then_eval():
    torch = pytest.importorskip("torch")
    for cls, shape in (("BatchNorm1d", (8, 3)), ("BatchNorm2d", (4, 3, 5, 5))):
        bn = getattr(nn, cls)(3, momentum=0.2)
        bn.weight.data[...] = [0.5, 1.5, -1.0]
        bn.bias.data[...] = [0.1, 0.0, -0.3]
        tb = copy_params_to_torch(bn, getattr(torch.nn, cls)(3, momentum=0.2))
        for step in range(3):
            x = (randn(*shape) * 2 + step).astype(np.float32)
            xg, xt = gu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            w = randn(*shape).astype(np.float32)
            out_g, out_t = bn(xg), tb(xt)
            (out_g * gu.tensor(w)).sum().backward()
            (out_t * torch.tensor(w)).sum().backward()
            np.testing.assert_allclose(out_g.data, out_t.detach().numpy(), rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(xg.grad.data, xt.grad.numpy(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(bn.weight.grad.data, tb.weight.grad.numpy(), rtol=1e-4,
                                   atol=1e-4)
        np.testing.assert_allclose(bn.bias.grad.data, tb.bias.grad.numpy(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(bn.running_mean.data, tb.running_mean.numpy(), rtol=1e-5)
        np.testing.assert_allclose(bn.running_var.data, tb.running_var.numpy(), rtol=1e-5)
        bn.eval(), tb.eval()
        x = randn(*shape).astype(np.float32)
        np.testing.assert_allclose(bn(gu.tensor(x)).data, tb(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape,affine", [((8, 16, 48, 48), True), ((8, 16, 48, 48), False),
                                          ((64, 24, 200), True)])
def test_batchnorm_split_over_threads_is_bit_identical(shape, affine):
    # inputs large enough that the kernel threads each take a slice of channels: forward, input
    # and parameter gradients and running statistics bit for bit those of one thread
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    cls = nn.BatchNorm2d if len(shape) == 4 else nn.BatchNorm1d

    def run(threads):
        bn = cls(shape[1], affine=affine)
        if affine:
            bn.weight.data[...] = rng.standard_normal(shape[1]).astype(np.float32)
            bn.bias.data[...] = rng.standard_normal(shape[1]).astype(np.float32)
        before = gu.get_num_threads()
        gu.set_num_threads(threads)
        try:
            xg = gu.tensor(x, requires_grad=True)
            out = bn(xg)
            out.backward(gu.tensor(g))
        finally:
            gu.set_num_threads(before)
        grads = [p.grad.data for p in bn.parameters()]
        return [out.data, xg.grad.data, bn.running_mean.data, bn.running_var.data, *grads]

    rng = np.random.default_rng(1)
    one = run(1)
    rng = np.random.default_rng(1)
    three = run(3)
    for a, b in zip(one, three, strict=True):
        np.testing.assert_array_equal(a, b)
    # and the float32 results are the float64 formulas' to float32 accuracy
    axes = (0,) + tuple(range(2, len(shape)))
    rng = np.random.default_rng(1)
    w = rng.standard_normal(shape[1]) if affine else np.ones(shape[1])
    b = rng.standard_normal(shape[1]) if affine else np.zeros(shape[1])
    pshape = (1, shape[1]) + (1,) * (len(shape) - 2)
    x64, g64, w, b = x.astype(np.float64), g.astype(np.float64), w.reshape(pshape), b.reshape(pshape)
    invstd = 1 / np.sqrt(x64.var(axis=axes, keepdims=True) + 1e-5)
    xhat = (x64 - x64.mean(axis=axes, keepdims=True)) * invstd
    gp = g64 * w
    dx = invstd * (gp - gp.mean(axis=axes, keepdims=True) - xhat * (gp * xhat).mean(axis=axes, keepdims=True))
    np.testing.assert_allclose(one[0], xhat * w + b, rtol=1e-6, atol=5e-6)
    np.testing.assert_allclose(one[1], dx, rtol=1e-6, atol=5e-6)


def test_batchnorm_errors():
    with pytest.raises(ShapeError, match=r"BatchNorm1d\(4\) got input of shape \(2, 3\)"):
        nn.BatchNorm1d(4)(gu.zeros(2, 3))
    with pytest.raises(ShapeError, match="BatchNorm2d"):
        nn.BatchNorm1d(3)(gu.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(gu.zeros(1, 3))


def test_normalization_double_backward_matches_composition():
    # The fused kernel switches to Tensor ops under create_graph: compare Hessian-vector products
    # with those of the plain composition (x − μ)/√(σ² + ε)·γ + β.
    x = randn(4, 3)
    v = randn(4, 3)
    g = randn(3)

    def hvp(fn):
        xt = t64(x)
        out = fn(xt)
        (gx,) = gu.autograd.grad((out * out).sum(), [xt], create_graph=True)
        (h,) = gu.autograd.grad((gx * gu.tensor(v)).sum(), [xt])
        return h.data

    def composed(xt):
        mu = xt.mean(0, keepdim=True)
        var = ((xt - mu) ** 2).mean(0, keepdim=True)
        return (xt - mu) / (var + 1e-5).sqrt() * gu.tensor(g)

    w = gu.tensor(g)
    fused = hvp(lambda xt: nn.functional.batch_norm(xt, None, None, w, None, training=True))
    np.testing.assert_allclose(fused, hvp(composed), rtol=1e-7, atol=1e-9)


# --------------------------------------------------------------------------- layer / group norm
def test_layernorm_values_gradcheck_and_torch_parity():
    ln = nn.LayerNorm((3, 4)).double()
    ln.weight.data[...] = randn(3, 4)
    ln.bias.data[...] = randn(3, 4)
    x = randn(2, 3, 4) * 5
    mu = x.mean((1, 2), keepdims=True)
    ref = (x - mu) / np.sqrt(x.var((1, 2), keepdims=True) + 1e-5) * ln.weight.data + ln.bias.data
    np.testing.assert_allclose(ln(gu.tensor(x)).data, ref, rtol=1e-10)
    check_module_grads(ln, t64(x))
    check_module_grads(nn.LayerNorm(4, elementwise_affine=False), t64(randn(3, 4)))
    torch = pytest.importorskip("torch")
    tl = copy_params_to_torch(ln, torch.nn.LayerNorm((3, 4)).double())
    xg, xt = gu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    w = randn(2, 3, 4)
    (ln(xg) * gu.tensor(w)).sum().backward()
    (tl(xt) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xg.grad.data, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ln.weight.grad.data, tl.weight.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(ln.bias.grad.data, tl.bias.grad.numpy(), rtol=1e-9)
    with pytest.raises(ShapeError, match="normalized_shape"):
        ln(gu.zeros(2, 4, 3))


def test_groupnorm_values_gradcheck_and_torch_parity():
    gn = nn.GroupNorm(2, 4).double()
    gn.weight.data[...] = randn(4)
    gn.bias.data[...] = randn(4)
    x = randn(3, 4, 2, 2)
    xg_ = x.reshape(3, 2, -1)
    ref = ((xg_ - xg_.mean(-1, keepdims=True)) / np.sqrt(xg_.var(-1, keepdims=True) + 1e-5))
    ref = ref.reshape(x.shape) * gn.weight.data[:, None, None] + gn.bias.data[:, None, None]
    np.testing.assert_allclose(gn(gu.tensor(x)).data, ref, rtol=1e-10)
    check_module_grads(gn, t64(x))
    torch = pytest.importorskip("torch")
    tg = copy_params_to_torch(gn, torch.nn.GroupNorm(2, 4).double())
    xg, xt = gu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    w = randn(*x.shape)
    (gn(xg) * gu.tensor(w)).sum().backward()
    (tg(xt) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xg.grad.data, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gn.weight.grad.data, tg.weight.grad.numpy(), rtol=1e-9)
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)


# --------------------------------------------------------------------------- embedding
def test_embedding_lookup_gradient_and_padding():
    emb = nn.Embedding(5, 3, padding_idx=0).double()
    assert np.all(emb.weight.data[0] == 0)
    idx = gu.tensor(np.array([[1, 0, 1], [4, 2, 0]]))
    out = emb(idx)
    np.testing.assert_array_equal(out.data, emb.weight.data[idx.data])
    w = randn(2, 3, 3)
    (out * gu.tensor(w)).sum().backward()
    expected = np.zeros((5, 3))
    for (i, j), v in np.ndenumerate(idx.data):
        if v != 0:
            expected[v] += w[i, j]
    np.testing.assert_allclose(emb.weight.grad.data, expected, rtol=1e-12)
    check_module_grads(nn.Embedding(4, 2), gu.tensor(np.array([0, 3, 3, 1])))
    with pytest.raises(ValueError, match="out of range"):
        emb(gu.tensor(np.array([5])))


def test_embedding_torch_parity():
    torch = pytest.importorskip("torch")
    emb = nn.Embedding(6, 4, padding_idx=2)
    te = copy_params_to_torch(emb, torch.nn.Embedding(6, 4, padding_idx=2))
    idx = np.array([[2, 3, 3], [5, 0, 2]])
    w = randn(2, 3, 4).astype(np.float32)
    (emb(gu.tensor(idx)) * gu.tensor(w)).sum().backward()
    (te(torch.from_numpy(idx)) * torch.from_numpy(w)).sum().backward()
    np.testing.assert_allclose(emb.weight.grad.data, te.weight.grad.numpy(), rtol=1e-6)


# --------------------------------------------------------------------------- init
def test_init_functions_statistics_and_generator():
    w = nn.Parameter(np.empty((300, 200), dtype=np.float32))
    nn.init.xavier_uniform_(w, generator=gu.Generator(0))
    a = math.sqrt(6 / 500)
    assert np.abs(w.data).max() <= a and abs(w.data.var() - a**2 / 3) < 0.03 * a**2 / 3
    nn.init.xavier_normal_(w, gain=2.0, generator=0)
    assert abs(w.data.std() - 2 * math.sqrt(2 / 500)) < 0.02 * 2 * math.sqrt(2 / 500)
    nn.init.kaiming_normal_(w, nonlinearity="relu", generator=1)
    assert abs(w.data.std() - math.sqrt(2 / 200)) < 0.02 * math.sqrt(2 / 200)
    nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu", generator=1)
    assert np.abs(w.data).max() <= math.sqrt(2) * math.sqrt(3 / 300)
    nn.init.constant_(w, 0.5)
    assert np.all(w.data == 0.5)
    nn.init.ones_(w), nn.init.zeros_(w)
    assert np.all(w.data == 0)
    a1 = nn.init.normal_(nn.Parameter(np.zeros(5)), generator=gu.Generator(3)).data.copy()
    a2 = nn.init.normal_(nn.Parameter(np.zeros(5)), generator=gu.Generator(3)).data
    np.testing.assert_array_equal(a1, a2)
    conv_w = nn.Parameter(np.zeros((8, 4, 3, 3)))
    assert nn.init._calculate_fan_in_and_fan_out(conv_w) == (36, 72)
    with pytest.raises(ShapeError, match="fan in"):
        nn.init.xavier_uniform_(nn.Parameter(np.zeros(3)))


def test_calculate_gain_matches_pytorch():
    assert nn.init.calculate_gain("relu") == math.sqrt(2)
    assert nn.init.calculate_gain("tanh") == 5 / 3
    assert nn.init.calculate_gain("sigmoid") == 1
    assert nn.init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    assert nn.init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported"):
        nn.init.calculate_gain("swish")
    torch = pytest.importorskip("torch")
    for name in ("relu", "tanh", "leaky_relu", "selu", "conv2d"):
        assert nn.init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
