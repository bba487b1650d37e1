"""Losses: naive references, gradcheck, PyTorch parity for every option, edge cases and the
course's examples."""

import math

import numpy as np
import pytest
from nn_testutils import t64

import groundup as gu
from groundup import nn
from groundup.autograd import gradcheck, gradgradcheck
from groundup.errors import ShapeError

F = nn.functional
RNG = np.random.default_rng(99)


def randn(*shape):
    return RNG.standard_normal(shape)


def torch_or_skip():
    return pytest.importorskip("torch")


def parity(gu_loss, torch_loss, inputs, target_gu, target_t, grad_target=False, rtol=1e-10):
    """Compare loss values and input (and target) gradients with PyTorch in float64."""
    torch = torch_or_skip()
    xg = t64(inputs)
    xt = torch.tensor(inputs, requires_grad=True)
    if grad_target:
        target_gu = t64(getattr(target_gu, "data", target_gu))
        target_t = (target_t.detach().clone() if isinstance(target_t, torch.Tensor)
                    else torch.tensor(target_t)).requires_grad_(True)
    lg, lt = gu_loss(xg, target_gu), torch_loss(xt, target_t)
    w = randn(*lt.shape)
    (lg * gu.tensor(w)).sum().backward()
    (lt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(lg.data, lt.detach().numpy(), rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(xg.grad.data, xt.grad.numpy(), rtol=rtol, atol=1e-12)
    if grad_target:
        np.testing.assert_allclose(target_gu.grad.data, target_t.grad.numpy(), rtol=rtol,
                                   atol=1e-12)


REDUCTIONS = ["none", "mean", "sum"]


# --------------------------------------------------------------------------- regression losses
def test_regression_losses_seed_example(seed_example):
    ex = seed_example("regression-losses-q7-7")
    y, yh = gu.tensor(ex["inputs"]["y"]).double(), gu.tensor(ex["inputs"]["y_hat"]).double()
    e, tol = ex["expected"], ex["tolerance"]
    assert nn.MSELoss()(yh, y).item() == pytest.approx(e["mse"], abs=tol)
    assert nn.L1Loss()(yh, y).item() == pytest.approx(e["mae"], abs=tol)
    huber = nn.HuberLoss(delta=ex["inputs"]["delta"])
    assert huber(yh, y).item() == pytest.approx(e["huber"], abs=tol)
    np.testing.assert_allclose(nn.HuberLoss(reduction="none")(yh, y).data, e["huber_per_sample"],
                               atol=tol)
    np.testing.assert_allclose((y - yh).data, e["residuals"], atol=tol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_reference_gradcheck_and_torch(reduction):
    x, y = randn(3, 4) * 2, randn(3, 4)
    x[0, 0] = y[0, 0] + 1.0  # exactly at Huber's δ = 1: both branches meet
    e = x - y
    refs = {
        "MSELoss": e**2,
        "L1Loss": np.abs(e),
        "HuberLoss": np.where(np.abs(e) < 1.0, 0.5 * e**2, np.abs(e) - 0.5),
        "SmoothL1Loss": np.where(np.abs(e) < 0.5, 0.5 * e**2 / 0.5, np.abs(e) - 0.25),
    }
    kwargs = {"SmoothL1Loss": {"beta": 0.5}}
    for name, ref in refs.items():
        mod = getattr(nn, name)(reduction=reduction, **kwargs.get(name, {}))
        red = {"none": ref, "mean": ref.mean(), "sum": ref.sum()}[reduction]
        np.testing.assert_allclose(mod(gu.tensor(x), gu.tensor(y)).data, red, rtol=1e-12)
        xs = x.copy()
        xs[0, 0] += 0.1  # gradcheck away from the branch point
        gradcheck(lambda a, b: (mod(a, b) * 1.0).sum(), (t64(xs), t64(y)))
        torch = pytest.importorskip("torch")
        tmod = getattr(torch.nn, name)(reduction=reduction, **kwargs.get(name, {}))
        parity(mod, tmod, x, gu.tensor(y), torch.tensor(y), grad_target=True)


def test_smooth_l1_beta_zero_is_l1_and_shape_warning():
    x, y = gu.tensor(randn(5)), gu.tensor(randn(5))
    np.testing.assert_allclose(F.smooth_l1_loss(x, y, beta=0.0).data, F.l1_loss(x, y).data)
    with pytest.warns(UserWarning, match="broadcast"):
        F.mse_loss(gu.zeros(4, 1), gu.zeros(4))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


# --------------------------------------------------------------------------- binary losses
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_reference_and_torch(reduction):
    p = 1 / (1 + np.exp(-randn(4, 3)))
    y = (RNG.random((4, 3)) > 0.5).astype(float)
    w = RNG.random(3) + 0.5
    ref = -w * (y * np.log(p) + (1 - y) * np.log(1 - p))
    red = {"none": ref, "mean": ref.mean(), "sum": ref.sum()}[reduction]
    mod = nn.BCELoss(weight=gu.tensor(w), reduction=reduction)
    np.testing.assert_allclose(mod(gu.tensor(p), gu.tensor(y)).data, red, rtol=1e-12)
    torch = pytest.importorskip("torch")
    yt = RNG.random((4, 3))  # soft targets, with a gradient
    parity(mod, torch.nn.BCELoss(weight=torch.tensor(w), reduction=reduction), p, yt, yt,
           grad_target=True)


def test_bce_clamps_log_at_minus_100():
    out = F.binary_cross_entropy(gu.tensor([0.0, 1.0]).double(), gu.tensor([1.0, 0.0]).double(),
                                 reduction="none")
    np.testing.assert_array_equal(out.data, [100.0, 100.0])
    with pytest.raises(ValueError, match="probabilities"):
        F.binary_cross_entropy(gu.tensor([1.5]), gu.tensor([1.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_pos_weight_reference_and_torch(reduction):
    z = randn(5, 3) * 3
    y = (RNG.random((5, 3)) > 0.5).astype(float)
    pw, w = RNG.random(3) * 3, RNG.random(3) + 0.5
    s = 1 / (1 + np.exp(-z))
    ref = -w * (pw * y * np.log(s) + (1 - y) * np.log(1 - s))
    red = {"none": ref, "mean": ref.mean(), "sum": ref.sum()}[reduction]
    mod = nn.BCEWithLogitsLoss(weight=w, pos_weight=pw, reduction=reduction)
    np.testing.assert_allclose(mod(gu.tensor(z), gu.tensor(y)).data, red, rtol=1e-10)
    gradcheck(lambda a: (mod(a, gu.tensor(y)) * 1.0).sum(), (t64(z),))
    torch = pytest.importorskip("torch")
    tmod = torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(pw),
                                      reduction=reduction)
    parity(mod, tmod, z, gu.tensor(y), torch.tensor(y))


def test_bce_with_logits_is_stable_at_extreme_logits():
    z = gu.tensor([1000.0, -1000.0, 1000.0, -1000.0], requires_grad=True)
    y = gu.tensor([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    np.testing.assert_allclose(loss.data, [0, 0, 1000, 1000])
    loss.sum().backward()
    np.testing.assert_allclose(z.grad.data, [0, 0, 1, -1])


# --------------------------------------------------------------------------- cross-entropy
def naive_ce(z, y, w=None, ignore=-100, ls=0.0, reduction="mean"):
    """Row by row: −Σ_c w_c t_c log softmax(z)_c with t the smoothed one-hot; the mean divides by
    Σ w_{y_i} over non-ignored rows."""
    n, c = z.shape
    w = np.ones(c) if w is None else w
    losses, denom = [], 0.0
    for i in range(n):
        if y[i] == ignore:
            losses.append(0.0)
            continue
        logp = z[i] - max(z[i]) - math.log(sum(math.exp(v - max(z[i])) for v in z[i]))
        nll = -w[y[i]] * logp[y[i]]
        smooth = -sum(w[k] * logp[k] for k in range(c)) / c
        losses.append((1 - ls) * nll + ls * smooth)
        denom += w[y[i]]
    losses = np.array(losses)
    return {"none": losses, "sum": losses.sum(), "mean": losses.sum() / denom}[reduction]


CE_CASES = [
    {},
    {"weight": [0.2, 1.0, 3.0, 0.5]},
    {"ignore_index": 2},
    {"label_smoothing": 0.1},
    {"weight": [0.2, 1.0, 3.0, 0.5], "label_smoothing": 0.3, "ignore_index": 1},
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", CE_CASES, ids=lambda o: ",".join(o) or "plain")
def test_cross_entropy_indices_reference_gradcheck_torch(opts, reduction):
    z = randn(6, 4) * 2
    y = np.array([0, 1, 2, 3, 2, 1])
    w = np.array(opts["weight"]) if "weight" in opts else None
    ref = naive_ce(z, y, w, opts.get("ignore_index", -100), opts.get("label_smoothing", 0.0),
                   reduction)
    kw = dict(opts)
    if w is not None:
        kw["weight"] = gu.tensor(w)
    mod = nn.CrossEntropyLoss(reduction=reduction, **kw)
    np.testing.assert_allclose(mod(gu.tensor(z), gu.tensor(y)).data, ref, rtol=1e-10)
    gradcheck(lambda a: (mod(a, gu.tensor(y)) * 1.0).sum(), (t64(z),))
    torch = pytest.importorskip("torch")
    tkw = dict(opts)
    if w is not None:
        tkw["weight"] = torch.tensor(w)
    parity(mod, torch.nn.CrossEntropyLoss(reduction=reduction, **tkw), z, gu.tensor(y),
           torch.from_numpy(y))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probabilities_and_spatial_against_torch(reduction):
    torch = pytest.importorskip("torch")
    z = randn(3, 4)
    p = np.exp(randn(3, 4))
    p /= p.sum(1, keepdims=True)
    w = np.array([0.5, 1.0, 2.0, 1.5])
    for ls in (0.0, 0.2):
        mod = nn.CrossEntropyLoss(weight=gu.tensor(w), reduction=reduction, label_smoothing=ls)
        tmod = torch.nn.CrossEntropyLoss(weight=torch.tensor(w), reduction=reduction,
                                         label_smoothing=ls)
        parity(mod, tmod, z, p, p, grad_target=True)
    # (N, C, d1, d2) logits with (N, d1, d2) indices (segmentation-style)
    z4 = randn(2, 3, 2, 2)
    y4 = RNG.integers(0, 3, (2, 2, 2))
    y4[0, 0, 0] = -100
    parity(nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.1),
           torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.1), z4,
           gu.tensor(y4), torch.from_numpy(y4))
    # unbatched (C,) logits with a scalar target
    parity(nn.CrossEntropyLoss(reduction=reduction), torch.nn.CrossEntropyLoss(reduction=reduction),
           randn(5), gu.tensor(np.array(3)), torch.tensor(3))


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    z = randn(4, 3)
    y = np.array([2, 0, 1, 1])
    x = t64(z)
    F.cross_entropy(x, gu.tensor(y)).backward()
    s = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    np.testing.assert_allclose(x.grad.data, (s - np.eye(3)[y]) / 4, rtol=1e-12)


def test_cross_entropy_stable_at_1000_logits_and_float32():
    z = gu.tensor([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]], requires_grad=True)
    loss = F.cross_entropy(z, gu.tensor(np.array([1, 2])), reduction="none")
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.data, [2000.0, math.log(3)], rtol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(z.grad.data, [[1, -1, 0], [1 / 3, 1 / 3, -2 / 3]], atol=1e-6)
    assert np.isnan(F.cross_entropy(gu.zeros(2, 3), gu.tensor(np.array([-100, -100]))).item())


def test_cross_entropy_double_backward_equals_composition():
    z = randn(3, 4)
    y = gu.tensor(np.array([1, 3, 0]))
    w = gu.tensor(np.array([1.0, 2.0, 0.5, 1.0]))
    for kwargs in ({}, {"label_smoothing": 0.2, "weight": w}):
        gradgradcheck(lambda a: F.cross_entropy(a, y, **kwargs), (t64(z),))
    v = randn(3, 4)

    def hvp(loss_fn):
        x = t64(z)
        (g,) = gu.autograd.grad(loss_fn(x), [x], create_graph=True)
        (h,) = gu.autograd.grad((g * gu.tensor(v)).sum(), [x])
        return h.data

    fused = hvp(lambda x: F.cross_entropy(x, y, weight=w))
    composed = hvp(lambda x: F.nll_loss(F.log_softmax(x, 1), y, weight=w))
    np.testing.assert_allclose(fused, composed, rtol=1e-10, atol=1e-12)


def test_cross_entropy_bad_targets():
    with pytest.raises(ValueError, match="out of range"):
        F.cross_entropy(gu.zeros(2, 3), gu.tensor(np.array([0, 3])))
    with pytest.raises(ShapeError, match="not one-hot"):
        F.cross_entropy(gu.zeros(2, 3), gu.tensor(np.array([[0, 1, 0], [1, 0, 0]])))
    with pytest.raises(ShapeError, match="weight"):
        F.cross_entropy(gu.zeros(2, 3), gu.tensor(np.array([0, 1])), weight=gu.ones(4))


def test_cross_entropy_seed_example(seed_example):
    ex = seed_example("ce-one-hot-0.7")
    y, y_hat = ex["inputs"]["y"], ex["inputs"]["y_hat"]
    # the course's one-hot form: probabilities as targets, log of the predicted probabilities
    logits = gu.tensor(y_hat).double().log().unsqueeze(0)
    target = gu.tensor(y).double().unsqueeze(0)
    assert F.cross_entropy(logits, target).item() == pytest.approx(ex["expected"]["loss"],
                                                                   abs=ex["tolerance"])
    idx = gu.tensor(np.array([int(np.argmax(y))]))
    assert nn.NLLLoss()(logits, idx).item() == pytest.approx(ex["expected"]["loss"],
                                                             abs=ex["tolerance"])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_against_torch_and_gradgradcheck(reduction):
    torch = pytest.importorskip("torch")
    logp = randn(5, 4)
    y = np.array([0, 3, -100, 2, 3])
    w = np.array([1.0, 0.5, 2.0, 3.0])
    parity(nn.NLLLoss(weight=gu.tensor(w), reduction=reduction),
           torch.nn.NLLLoss(weight=torch.tensor(w), reduction=reduction), logp, gu.tensor(y),
           torch.from_numpy(y))
    gradgradcheck(lambda a: F.nll_loss(F.log_softmax(a, 1), gu.tensor(y), reduction=reduction),
                  (t64(logp),))


# --------------------------------------------------------------------------- KL, hinge, focal
@pytest.mark.filterwarnings("ignore:reduction. .mean. divides")
@pytest.mark.parametrize("reduction", ["none", "mean", "sum", "batchmean"])
def test_kl_div_against_reference_and_torch(reduction):
    q = np.exp(randn(3, 4))
    q /= q.sum(1, keepdims=True)
    p = np.exp(randn(3, 4))
    p[0, 1] = 0.0  # 0·log 0 = 0
    p /= p.sum(1, keepdims=True)
    ref = np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0) - p * np.log(q)
    red = {"none": ref, "mean": ref.mean(), "sum": ref.sum(), "batchmean": ref.sum() / 3}
    mod = nn.KLDivLoss(reduction=reduction)
    np.testing.assert_allclose(mod(gu.tensor(np.log(q)), gu.tensor(p)).data, red[reduction],
                               rtol=1e-12)
    torch = pytest.importorskip("torch")
    parity(mod, torch.nn.KLDivLoss(reduction=reduction), np.log(q), gu.tensor(p),
           torch.tensor(p))
    logp = np.log(p + 0.1)
    parity(nn.KLDivLoss(reduction=reduction, log_target=True),
           torch.nn.KLDivLoss(reduction=reduction, log_target=True), np.log(q), logp, logp,
           grad_target=True)


def test_hinge_loss_svm():
    f = gu.tensor([2.0, 0.5, -0.3, -2.0], requires_grad=True)
    y = gu.tensor([1.0, 1.0, 1.0, -1.0])
    loss = nn.HingeLoss()(f, y)
    assert loss.item() == pytest.approx((0 + 0.5 + 1.3 + 0) / 4)
    loss.backward()
    np.testing.assert_allclose(f.grad.data, [0, -0.25, -0.25, 0])
    np.testing.assert_allclose(nn.HingeLoss(reduction="none", margin=2.0)(f, y).data,
                               [0, 1.5, 2.3, 0], rtol=1e-6)
    with pytest.raises(ValueError, match="−1 or \\+1"):
        nn.HingeLoss()(f, gu.tensor([1.0, 0.0, 1.0, 0.0]))


def test_focal_loss_formula_and_limits():
    z = randn(6)
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    p = 1 / (1 + np.exp(-z))
    p_t = np.where(y == 1, p, 1 - p)
    a_t = np.where(y == 1, 0.25, 0.75)
    ref = -a_t * (1 - p_t) ** 2 * np.log(p_t)
    np.testing.assert_allclose(nn.FocalLoss(reduction="none")(gu.tensor(z), gu.tensor(y)).data,
                               ref, rtol=1e-10)
    gradcheck(lambda a: nn.FocalLoss(gamma=1.5)(a, gu.tensor(y)), (t64(z),))
    # γ = 0, α = 1 (binary: α < 0 disables the weighting): plain BCE / CE
    np.testing.assert_allclose(
        nn.FocalLoss(alpha=-1, gamma=0)(gu.tensor(z), gu.tensor(y)).data,
        F.binary_cross_entropy_with_logits(gu.tensor(z), gu.tensor(y)).data, rtol=1e-12)
    zc, yc = randn(5, 3), np.array([0, 2, 1, 1, 0])
    np.testing.assert_allclose(nn.FocalLoss(alpha=1.0, gamma=0)(gu.tensor(zc), gu.tensor(yc)).data,
                               F.cross_entropy(gu.tensor(zc), gu.tensor(yc)).data, rtol=1e-12)
    # multi-class with per-class α
    alpha = [0.2, 0.5, 0.3]
    sm = np.exp(zc) / np.exp(zc).sum(1, keepdims=True)
    pt = sm[np.arange(5), yc]
    ref = -np.array(alpha)[yc] * (1 - pt) ** 2 * np.log(pt)
    out = nn.FocalLoss(alpha, reduction="sum")(gu.tensor(zc), gu.tensor(yc))
    np.testing.assert_allclose(out.data, ref.sum(), rtol=1e-10)
    gradcheck(lambda a: nn.FocalLoss(alpha)(a, gu.tensor(yc)), (t64(zc),))
