"""Pooling ops and layers (max_pool1d/2d, avg_pool2d, adaptive_avg_pool2d): the fast kernels
against plain loop references written here, gradcheck in float64, PyTorch parity, ties and NaN."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import groundup as gu
from groundup import _threads, nn
from groundup.autograd import gradcheck
from groundup.errors import GradError, ShapeError
from groundup.ops import pooling as C

RNG = np.random.default_rng(7)


def _t(a, grad=True):
    return gu.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _out_size(n, k, s, p, d, ceil_mode):
    span = n + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


# ----------------------------------------------------------------------------- references


def naive_max_pool2d(x, k, s, p, d=(1, 1), ceil_mode=False):
    """Max of each window (padding never wins), the flat index of the first maximum, and the
    input gradient of Σ out·g for a given g (all routed to that maximum)."""
    N, Cc, H, W = x.shape
    OH = _out_size(H, k[0], s[0], p[0], d[0], ceil_mode)
    OW = _out_size(W, k[1], s[1], p[1], d[1], ceil_mode)
    out = np.zeros((N, Cc, OH, OW))
    idx = np.zeros((N, Cc, OH, OW), dtype=np.int64)
    for n in range(N):
        for c in range(Cc):
            for i in range(OH):
                for j in range(OW):
                    best, where = -np.inf, None
                    for a in range(k[0]):
                        for b in range(k[1]):
                            r, q = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + b * d[1]
                            inside = 0 <= r < H and 0 <= q < W
                            if inside and (where is None or x[n, c, r, q] > best):
                                best, where = x[n, c, r, q], r * W + q
                    out[n, c, i, j], idx[n, c, i, j] = best, where
    return out, idx


def naive_max_pool2d_grad(x_shape, idx, g):
    gx = np.zeros(x_shape)
    N, Cc, H, W = x_shape
    for n, c, i, j in np.ndindex(*idx.shape):
        r, q = divmod(idx[n, c, i, j], W)
        gx[n, c, r, q] += g[n, c, i, j]
    return gx


def naive_avg_pool2d(x, k, s, p, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """PyTorch's avg_pool2d rule: the window is clipped to the padded input; the divisor counts the
    padding (count_include_pad) or only real pixels; divisor_override replaces it."""
    N, Cc, H, W = x.shape
    OH = _out_size(H, k[0], s[0], p[0], 1, ceil_mode)
    OW = _out_size(W, k[1], s[1], p[1], 1, ceil_mode)
    out = np.zeros((N, Cc, OH, OW))
    for i in range(OH):
        for j in range(OW):
            h0, w0 = i * s[0] - p[0], j * s[1] - p[1]
            h1, w1 = min(h0 + k[0], H + p[0]), min(w0 + k[1], W + p[1])
            size = (h1 - h0) * (w1 - w0)
            h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, H), min(w1, W)
            div = divisor_override or (size if count_include_pad else (h1 - h0) * (w1 - w0))
            out[:, :, i, j] = x[:, :, h0:h1, w0:w1].sum(axis=(2, 3)) / div
    return out


def naive_adaptive_avg_pool2d(x, out_hw):
    H, W = x.shape[2:]
    oh, ow = out_hw
    out = np.zeros(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            h0, h1 = (i * H) // oh, math.ceil((i + 1) * H / oh)
            w0, w1 = (j * W) // ow, math.ceil((j + 1) * W / ow)
            out[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
    return out


# (H, W, kernel, stride, padding, dilation, ceil_mode)
MAX_CASES = [
    (8, 8, (2, 2), (2, 2), (0, 0), (1, 1), False),     # the reshape (tiling) path
    (7, 9, (2, 2), (2, 2), (0, 0), (1, 1), False),     # tiling with a cropped border
    (7, 9, (2, 2), (2, 2), (0, 0), (1, 1), True),      # ceil_mode: partial last window
    (7, 9, (3, 3), (2, 2), (1, 1), (1, 1), False),     # overlapping, padded
    (9, 8, (3, 2), (1, 2), (1, 1), (2, 1), True),      # non-square, dilated, ceil
    (5, 6, (2, 3), (3, 1), (1, 1), (1, 2), False),
    (1, 6, (1, 3), (1, 2), (0, 1), (1, 1), False),     # height 1 (max_pool1d's case)
]


# ----------------------------------------------------------------------------- max pooling


@pytest.mark.parametrize("case", MAX_CASES)
def test_max_pool2d_matches_loop_reference(case):
    H, W, k, s, p, d, cm = case
    x = RNG.standard_normal((2, 3, H, W))
    xt = _t(x)
    out, idx = C.max_pool2d(xt, k, s, p, d, cm, return_indices=True)
    ref, ref_idx = naive_max_pool2d(x, k, s, p, d, cm)
    np.testing.assert_array_equal(out.data, ref)
    np.testing.assert_array_equal(idx.data, ref_idx)
    g = RNG.standard_normal(out.shape)
    out.backward(gu.tensor(g))
    np.testing.assert_allclose(xt.grad.data, naive_max_pool2d_grad(x.shape, ref_idx, g),
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("case", MAX_CASES)
def test_max_pool2d_gradcheck(case):
    H, W, k, s, p, d, cm = case
    # distinct, well-separated values so the argmax is stable under the ±1e-6 differences
    x = _t(RNG.permutation(H * W * 2).reshape(1, 2, H, W) / 7.0)
    assert gradcheck(lambda x: C.max_pool2d(x, k, s, p, d, cm), (x,))


@settings(max_examples=40, deadline=None)
@given(h=st.integers(2, 8), w=st.integers(2, 8), kh=st.integers(1, 3), kw=st.integers(1, 3),
       sh=st.integers(1, 3), sw=st.integers(1, 3), dh=st.integers(1, 2), dw=st.integers(1, 2),
       ph=st.integers(0, 2), pw=st.integers(0, 2), ceil=st.booleans(), seed=st.integers(0, 999))
def test_max_pool2d_random_configs_with_ties(h, w, kh, kw, sh, sw, dh, dw, ph, pw, ceil, seed):
    if ph > (dh * (kh - 1) + 1) // 2 or pw > (dw * (kw - 1) + 1) // 2:
        return                                          # PyTorch refuses such padding too
    if h + 2 * ph < dh * (kh - 1) + 1 or w + 2 * pw < dw * (kw - 1) + 1:
        return
    # values from {0, 1, 2}: most windows hold ties
    x = np.random.default_rng(seed).integers(0, 3, (1, 2, h, w)).astype(np.float64)
    xt = _t(x)
    k, s, p, d = (kh, kw), (sh, sw), (ph, pw), (dh, dw)
    out, idx = C.max_pool2d(xt, k, s, p, d, ceil, return_indices=True)
    ref, ref_idx = naive_max_pool2d(x, k, s, p, d, ceil)
    np.testing.assert_array_equal(out.data, ref)
    np.testing.assert_array_equal(idx.data, ref_idx)
    g = np.arange(1.0, out.data.size + 1).reshape(out.shape)
    out.backward(gu.tensor(g))
    np.testing.assert_array_equal(xt.grad.data, naive_max_pool2d_grad(x.shape, ref_idx, g))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool2d_2x2_fast_path_matches_reference_on_ties(dtype, threads, monkeypatch):
    monkeypatch.setattr(_threads, "MIN_PARALLEL_ELEMENTS", 0)      # split even this small batch
    monkeypatch.setattr(_threads, "_num_threads", threads)
    # every tie pattern of a 2×2 window over {0, 1, 2}: 81 windows, several times over
    x = np.random.default_rng(3).integers(0, 3, (3, 5, 12, 18)).astype(dtype)
    xt = gu.tensor(x, requires_grad=True)
    out, idx = C.max_pool2d(xt, 2, return_indices=True)
    ref, ref_idx = naive_max_pool2d(x.astype(np.float64), (2, 2), (2, 2), (0, 0), (1, 1), False)
    np.testing.assert_array_equal(out.data, ref)
    np.testing.assert_array_equal(idx.data, ref_idx)
    g = np.arange(1.0, out.data.size + 1).reshape(out.shape).astype(dtype)
    out.backward(gu.tensor(g))
    np.testing.assert_array_equal(xt.grad.data, naive_max_pool2d_grad(x.shape, ref_idx, g))
    with gu.no_grad():                                     # the no-graph path skips the argmax
        np.testing.assert_array_equal(C.max_pool2d(gu.tensor(x), 2).data, ref)


def test_max_pool2d_ties_send_the_gradient_to_the_first_maximum():
    # ReLU outputs are full of equal zeros: every window here is a tie
    x = _t(np.zeros((1, 1, 4, 4)))
    x.data[0, 0, 1, 0] = x.data[0, 0, 1, 1] = 5.0          # a tie inside the first window
    out, idx = C.max_pool2d(x, 2, return_indices=True)
    out.sum().backward()
    expect = np.zeros((4, 4))
    expect[1, 0] = 1.0                                      # first in row-major window order
    expect[0, 2] = expect[2, 0] = expect[2, 2] = 1.0        # all-zero windows: top-left
    np.testing.assert_array_equal(x.grad.data[0, 0], expect)
    np.testing.assert_array_equal(idx.data[0, 0], [[4, 2], [8, 10]])


def test_max_pool2d_propagates_nan():
    x = RNG.standard_normal((1, 1, 4, 4))
    x[0, 0, 0, 1] = np.nan
    out = C.max_pool2d(gu.tensor(x), 2)
    assert np.isnan(out.data[0, 0, 0, 0])
    assert not np.isnan(out.data[0, 0, 1, 1])
    ov = C.max_pool2d(gu.tensor(x), 3, stride=1, padding=1)
    assert np.isnan(ov.data[0, 0, :2, :3]).all() and not np.isnan(ov.data[0, 0, 3, 3])


def test_max_pool1d_matches_reference_and_indices():
    x = RNG.standard_normal((2, 3, 11))
    xt = _t(x)
    out, idx = C.max_pool1d(xt, 3, stride=2, padding=1, return_indices=True)
    ref, ref_idx = naive_max_pool2d(x[:, :, None], (1, 3), (1, 2), (0, 1))
    np.testing.assert_array_equal(out.data, ref[:, :, 0])
    np.testing.assert_array_equal(idx.data, ref_idx[:, :, 0])
    assert gradcheck(lambda x: C.max_pool1d(x, 2), (_t(RNG.permutation(24).reshape(2, 2, 6)),))


def test_max_pool2d_unbatched_and_float32():
    x = RNG.standard_normal((3, 6, 6)).astype(np.float32)
    out = C.max_pool2d(gu.tensor(x), 2)
    assert out.shape == (3, 3, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out.data, x.reshape(3, 3, 2, 3, 2).max(axis=(2, 4)))


def test_max_pool2d_is_once_differentiable():
    x = _t(RNG.standard_normal((1, 1, 4, 4)))
    with pytest.raises(GradError, match="MaxPool2d is once-differentiable"):
        gu.autograd.grad(C.max_pool2d(x, 2).sum(), [x], create_graph=True)


# ----------------------------------------------------------------------------- average pooling


AVG_CASES = [
    (8, 8, (2, 2), (2, 2), (0, 0), False, True, None),        # tiling path
    (7, 9, (2, 2), (2, 2), (0, 0), False, True, None),        # tiling, cropped border
    (7, 9, (3, 3), (2, 2), (1, 1), False, True, None),
    (7, 9, (3, 3), (2, 2), (1, 1), True, False, None),        # padding not counted
    (7, 8, (2, 3), (1, 2), (1, 1), True, True, None),         # ceil: window clipped at the pad
    (6, 6, (3, 3), (3, 3), (1, 1), True, True, 5),            # divisor_override
]


@pytest.mark.parametrize("case", AVG_CASES)
def test_avg_pool2d_matches_loop_reference_and_gradcheck(case):
    H, W, k, s, p, cm, cip, dv = case
    x = RNG.standard_normal((2, 2, H, W))
    out = C.avg_pool2d(_t(x, False), k, s, p, cm, cip, dv)
    np.testing.assert_allclose(out.data, naive_avg_pool2d(x, k, s, p, cm, cip, dv), rtol=1e-12,
                               atol=1e-15)
    xs = _t(x[:1, :1])
    assert gradcheck(lambda x: C.avg_pool2d(x, k, s, p, cm, cip, dv), (xs,))


@pytest.mark.parametrize("out_hw", [(1, 1), (2, 3), (3, 4), (4, 2), (7, 9), (5, 6)])
def test_adaptive_avg_pool2d_matches_reference_and_gradcheck(out_hw):
    x = RNG.standard_normal((2, 3, 7, 9))
    out = C.adaptive_avg_pool2d(_t(x, False), out_hw)
    np.testing.assert_allclose(out.data, naive_adaptive_avg_pool2d(x, out_hw), rtol=1e-12,
                               atol=1e-15)
    assert gradcheck(lambda x: C.adaptive_avg_pool2d(x, out_hw), (_t(x[:1, :2]),))


def test_adaptive_avg_pool2d_sizes_and_none():
    x = RNG.standard_normal((2, 3, 8, 6))
    assert C.adaptive_avg_pool2d(gu.tensor(x), 1).shape == (2, 3, 1, 1)
    out = C.adaptive_avg_pool2d(gu.tensor(x), (None, 2))
    np.testing.assert_allclose(out.data, x.reshape(2, 3, 8, 2, 3).mean(axis=4), rtol=1e-12)
    # evenly dividing sizes are plain non-overlapping average pooling
    np.testing.assert_allclose(C.adaptive_avg_pool2d(gu.tensor(x), (4, 3)).data,
                               C.avg_pool2d(gu.tensor(x), 2).data, rtol=1e-12)


# ----------------------------------------------------------------------------- layers


def test_pool_layers_and_repr():
    x = gu.tensor(RNG.standard_normal((2, 4, 28, 28)).astype(np.float32))
    assert nn.MaxPool2d(2)(x).shape == (2, 4, 14, 14)
    assert nn.AvgPool2d(3, stride=2, padding=1)(x).shape == (2, 4, 14, 14)
    assert nn.AdaptiveAvgPool2d(1)(x).shape == (2, 4, 1, 1)
    assert nn.MaxPool1d(4)(gu.zeros(2, 3, 10)).shape == (2, 3, 2)
    out, idx = nn.MaxPool2d(2, return_indices=True)(x)
    assert idx.shape == out.shape and idx.dtype == np.int64
    assert repr(nn.MaxPool2d(2)) == ("MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, "
                                     "ceil_mode=False)")
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AdaptiveAvgPool2d((5, 7))) == "AdaptiveAvgPool2d(output_size=(5, 7))"
    assert list(nn.MaxPool2d(2).parameters()) == []


def test_pool_layer_errors_name_the_layer_and_shapes():
    with pytest.raises(ShapeError, match=r"MaxPool2d\(kernel_size=2.*got input of shape "
                                         r"\(28, 28\): expected \(N, C, H, W\).*help:"):
        nn.MaxPool2d(2)(gu.zeros(28, 28))
    with pytest.raises(ShapeError, match=r"AvgPool2d\(kernel_size=5.*too small for kernel"):
        nn.AvgPool2d(5)(gu.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="padding .* at most half the .dilated. kernel"):
        nn.MaxPool2d(2, padding=2)
    with pytest.raises(ShapeError, match=r"MaxPool1d.*expected \(N, C, L\)"):
        nn.MaxPool1d(2)(gu.zeros(1, 2, 3, 4))


# ----------------------------------------------------------------------------- PyTorch parity


@pytest.mark.parametrize("case", MAX_CASES)
def test_max_pool2d_matches_torch(case):
    torch = pytest.importorskip("torch")
    H, W, k, s, p, d, cm = case
    x = RNG.standard_normal((2, 3, H, W))
    x[0, 0, :2, :2] = 0.0                                  # include ties
    xt, xr = _t(x), torch.tensor(x, requires_grad=True)
    out, idx = C.max_pool2d(xt, k, s, p, d, cm, True)
    ref, ref_idx = torch.nn.functional.max_pool2d(xr, k, s, p, d, cm, True)
    np.testing.assert_array_equal(out.data, ref.detach().numpy())
    np.testing.assert_array_equal(idx.data, ref_idx.numpy())
    g = RNG.standard_normal(out.shape)
    out.backward(gu.tensor(g))
    ref.backward(torch.tensor(g))
    # overlapping windows add several gradients into one pixel: float64 sums in either order
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_max_pool2d_relu_ties_match_torch_float32():
    torch = pytest.importorskip("torch")
    x = np.maximum(RNG.standard_normal((4, 8, 12, 12)), 0).astype(np.float32)  # many zero ties
    xt, xr = gu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    C.max_pool2d(xt, 2).sum().backward()
    torch.nn.functional.max_pool2d(xr, 2).sum().backward()
    np.testing.assert_array_equal(xt.grad.data, xr.grad.numpy())


@pytest.mark.parametrize("case", AVG_CASES)
def test_avg_pool2d_matches_torch(case):
    torch = pytest.importorskip("torch")
    H, W, k, s, p, cm, cip, dv = case
    x = RNG.standard_normal((2, 3, H, W))
    xt, xr = _t(x), torch.tensor(x, requires_grad=True)
    out = C.avg_pool2d(xt, k, s, p, cm, cip, dv)
    ref = torch.nn.functional.avg_pool2d(xr, k, s, p, cm, cip, dv)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12, atol=1e-15)
    g = RNG.standard_normal(out.shape)
    out.backward(gu.tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("out_hw", [(1, 1), (3, 4), (5, 3), (2, 2), (7, 9), (None, 2)])
def test_adaptive_avg_pool2d_matches_torch(out_hw):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 3, 7, 9))
    xt, xr = _t(x), torch.tensor(x, requires_grad=True)
    out = C.adaptive_avg_pool2d(xt, out_hw)
    ref = torch.nn.functional.adaptive_avg_pool2d(xr, out_hw)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12, atol=1e-15)
    g = RNG.standard_normal(out.shape)
    out.backward(gu.tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_max_pool1d_matches_torch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 3, 17))
    xt, xr = _t(x), torch.tensor(x, requires_grad=True)
    out = nn.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True)(xt)
    ref = torch.nn.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True)(xr)
    np.testing.assert_array_equal(out.data, ref.detach().numpy())
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_array_equal(xt.grad.data, xr.grad.numpy())
