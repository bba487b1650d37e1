"""Convolution ops (conv1d, conv2d, conv_transpose2d): the fast im2col kernels against plain loop
references written here, against central differences (gradcheck, float64) and against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groundup as gu
from groundup import _threads
from groundup.autograd import gradcheck
from groundup.errors import DTypeError, GradError, ShapeError
from groundup.ops import conv as C
from groundup.ops import _gemm

# ----------------------------------------------------------------------------- references


def naive_conv2d(x, w, b=None, stride=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
    """PyTorch's conv2d by its definition: for every output pixel, the dot product of the kernel
    with the (dilated) input window it covers."""
    N, Cin, H, W = x.shape
    O, Cg, kH, kW = w.shape
    (pt, pb), (pl, pr) = pads
    (sH, sW), (dH, dW) = stride, dilation
    xp = np.zeros((N, Cin, H + pt + pb, W + pl + pr), dtype=np.float64)
    xp[:, :, pt:pt + H, pl:pl + W] = x
    OH = (H + pt + pb - dH * (kH - 1) - 1) // sH + 1
    OW = (W + pl + pr - dW * (kW - 1) - 1) // sW + 1
    Og = O // groups
    out = np.zeros((N, O, OH, OW))
    for n in range(N):
        for o in range(O):
            g = o // Og
            for i in range(OH):
                for j in range(OW):
                    window = xp[n, g * Cg:(g + 1) * Cg,
                                i * sH:i * sH + dH * (kH - 1) + 1:dH,
                                j * sW:j * sW + dW * (kW - 1) + 1:dW]
                    out[n, o, i, j] = np.sum(window * w[o]) + (0.0 if b is None else b[o])
    return out


def naive_conv_transpose2d(x, w, b=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0),
                           dilation=(1, 1), groups=1):
    """Transposed convolution by its definition: every input pixel scatters x·kernel onto the
    output at (i·s − p + p'·d, j·s − p + q'·d)."""
    N, Cin, H, W = x.shape
    _, Cog, kH, kW = w.shape
    (sH, sW), (pH, pW), (dH, dW) = stride, padding, dilation
    OH = (H - 1) * sH - 2 * pH + dH * (kH - 1) + output_padding[0] + 1
    OW = (W - 1) * sW - 2 * pW + dW * (kW - 1) + output_padding[1] + 1
    Cig = Cin // groups
    out = np.zeros((N, Cog * groups, OH, OW))
    for n in range(N):
        for c in range(Cin):
            g = c // Cig
            for i in range(H):
                for j in range(W):
                    for oc in range(Cog):
                        for p in range(kH):
                            for q in range(kW):
                                r, s = i * sH - pH + p * dH, j * sW - pW + q * dW
                                if 0 <= r < OH and 0 <= s < OW:
                                    out[n, g * Cog + oc, r, s] += x[n, c, i, j] * w[c, oc, p, q]
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def _sym(p):
    return ((p[0], p[0]), (p[1], p[1]))


def _t(a, grad=True):
    return gu.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


RNG = np.random.default_rng(20240601)


@pytest.fixture(autouse=True, params=["channel-major", "batch-major", "channel-major-threads",
                                      "batch-major-threads"])
def conv_path(request, monkeypatch):
    """Run every test through each conv2d path: the threshold on the output map size that picks
    the batch-major path is set so that it is always (or never) taken where it applies; the
    threaded variants split even tiny batches and GEMMs over 3 threads."""
    monkeypatch.setattr(C, "_BATCH_MAJOR_MIN_PIXELS",
                        10**12 if request.param.startswith("channel") else 0)
    if request.param.endswith("threads"):
        monkeypatch.setattr(_threads, "MIN_PARALLEL_ELEMENTS", 0)
        monkeypatch.setattr(_threads, "_num_threads", 3)
        monkeypatch.setattr(_gemm, "MIN_SPLIT_MACS", 0)       # and split every GEMM in blocks
        monkeypatch.setattr(_gemm, "BLOCK", 2)                # of 2 rows, columns or terms
    return request.param

# (N, C, H, W, O, kernel, stride, padding, dilation, groups)
CONV_CASES = [
    (2, 3, 7, 6, 4, (3, 3), (1, 1), (1, 1), (1, 1), 1),      # 'same'-like 3×3
    (1, 1, 5, 5, 1, (3, 3), (1, 1), (0, 0), (1, 1), 1),      # batch of 1, single channel, valid
    (2, 4, 9, 8, 6, (3, 2), (2, 1), (1, 0), (1, 2), 2),      # non-square everything, groups
    (2, 6, 7, 7, 6, (3, 3), (1, 1), (2, 2), (2, 2), 6),      # depthwise, dilated
    (3, 2, 8, 5, 3, (1, 1), (2, 2), (0, 0), (1, 1), 1),      # 1×1 strided
    (1, 3, 6, 7, 2, (5, 4), (3, 2), (2, 1), (1, 1), 1),      # large kernel, uneven stride
    (2, 2, 4, 4, 2, (2, 2), (1, 1), (3, 3), (1, 1), 1),      # padding beyond the kernel span
    (2, 5, 6, 7, 3, (3, 3), (1, 1), (1, 2), (1, 1), 1),      # fewer out than in channels: ∂x
]                                                            # by the adjoint convolution


# ----------------------------------------------------------------------------- forward values


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_matches_loop_reference(case):
    N, Cin, H, W, O, k, s, p, d, g = case
    x = RNG.standard_normal((N, Cin, H, W))
    w = RNG.standard_normal((O, Cin // g, *k))
    b = RNG.standard_normal(O)
    out = C.conv2d(_t(x, False), _t(w, False), _t(b, False), stride=s, padding=p, dilation=d,
                   groups=g)
    np.testing.assert_allclose(out.data, naive_conv2d(x, w, b, s, _sym(p), d, g),
                               rtol=1e-12, atol=1e-12)


def test_conv2d_output_size_formula_on_many_shapes():
    # floor((n + 2p − d(k−1) − 1)/s) + 1 on each axis, checked through the op's output shape
    for n in range(3, 12):
        for k in (1, 2, 3, 5):
            for s in (1, 2, 3):
                for p in (0, 1, 2):
                    for d in (1, 2):
                        if n + 2 * p < d * (k - 1) + 1:
                            continue
                        x = gu.zeros(1, 1, n, n + 1)
                        y = C.conv2d(x, gu.zeros(1, 1, k, k), stride=s, padding=p, dilation=d)
                        expect_h = (n + 2 * p - d * (k - 1) - 1) // s + 1
                        expect_w = (n + 1 + 2 * p - d * (k - 1) - 1) // s + 1
                        assert y.shape == (1, 1, expect_h, expect_w)


def test_conv2d_float32_stays_float32_and_is_accurate():
    x = RNG.standard_normal((2, 3, 8, 8)).astype(np.float32)
    w = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = RNG.standard_normal(4).astype(np.float32)
    xt, wt, bt = (gu.tensor(a, requires_grad=True) for a in (x, w, b))
    out = C.conv2d(xt, wt, bt, padding=1)
    out.sum().backward()
    assert out.dtype == np.float32
    assert xt.grad.dtype == wt.grad.dtype == bt.grad.dtype == np.float32
    ref = naive_conv2d(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64),
                       pads=((1, 1), (1, 1)))
    np.testing.assert_allclose(out.data, ref, rtol=1e-5, atol=1e-5)


def test_conv2d_non_contiguous_input():
    base = RNG.standard_normal((2, 5, 6, 3))
    x = base.transpose(0, 3, 1, 2)          # (2, 3, 5, 6), not C-contiguous
    w = RNG.standard_normal((2, 3, 3, 3))
    out = C.conv2d(gu.tensor(x), gu.tensor(w), padding=1)
    np.testing.assert_allclose(out.data, naive_conv2d(x, w, pads=((1, 1), (1, 1))), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("k,d", [(3, 1), (4, 1), (2, 3), (5, 2), (1, 1)])
def test_conv2d_padding_same_keeps_size_and_puts_odd_padding_after(k, d):
    x = RNG.standard_normal((1, 2, 7, 6))
    w = RNG.standard_normal((3, 2, k, k))
    out = C.conv2d(_t(x, False), _t(w, False), padding="same", dilation=d)
    assert out.shape == (1, 3, 7, 6)
    total = d * (k - 1)
    pads = ((total // 2, total - total // 2),) * 2        # PyTorch: the extra one goes after
    np.testing.assert_allclose(out.data, naive_conv2d(x, w, pads=pads, dilation=(d, d)),
                               rtol=1e-12, atol=1e-12)
    if total + 1 <= 6:                                     # 'valid' needs the kernel to fit
        valid = C.conv2d(_t(x, False), _t(w, False), padding="valid", dilation=d)
        np.testing.assert_allclose(valid.data, naive_conv2d(x, w, dilation=(d, d)), atol=1e-12)


def test_conv2d_unbatched_input():
    x = RNG.standard_normal((3, 6, 5))
    w = RNG.standard_normal((2, 3, 3, 3))
    out = C.conv2d(gu.tensor(x), gu.tensor(w), padding=1)
    assert out.shape == (2, 6, 5)
    np.testing.assert_allclose(out.data, naive_conv2d(x[None], w, pads=((1, 1), (1, 1)))[0],
                               atol=1e-12)


@pytest.mark.parametrize("s,p,d,g", [(1, 0, 1, 1), (2, 1, 1, 1), (1, 2, 2, 2), (3, 1, 1, 4)])
def test_conv1d_matches_loop_reference(s, p, d, g):
    x = RNG.standard_normal((2, 4, 13))
    w = RNG.standard_normal((4, 4 // g, 3))
    b = RNG.standard_normal(4)
    out = C.conv1d(_t(x, False), _t(w, False), _t(b, False), stride=s, padding=p, dilation=d,
                   groups=g)
    ref = naive_conv2d(x[:, :, None], w[:, :, None], b, (1, s), ((0, 0), (p, p)), (1, d), g)
    np.testing.assert_allclose(out.data, ref[:, :, 0], rtol=1e-12, atol=1e-12)


# (N, Cin, H, W, Cout, kernel, stride, padding, output_padding, dilation, groups)
CONVT_CASES = [
    (2, 3, 4, 5, 2, (3, 3), (1, 1), (0, 0), (0, 0), (1, 1), 1),
    (1, 2, 3, 3, 4, (3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 1),   # the autoencoder upsampler
    (2, 4, 4, 3, 6, (2, 3), (3, 2), (1, 0), (2, 1), (1, 2), 2),
    (1, 2, 5, 4, 2, (3, 3), (1, 1), (2, 1), (1, 1), (2, 2), 1),   # stride 1, output_padding < d
    (2, 2, 3, 3, 2, (2, 2), (2, 2), (0, 0), (0, 0), (1, 1), 2),   # non-overlapping, grouped
]


@pytest.mark.parametrize("case", CONVT_CASES)
def test_conv_transpose2d_matches_scatter_reference(case):
    N, Cin, H, W, Cout, k, s, p, op, d, g = case
    x = RNG.standard_normal((N, Cin, H, W))
    w = RNG.standard_normal((Cin, Cout // g, *k))
    b = RNG.standard_normal(Cout)
    out = C.conv_transpose2d(_t(x, False), _t(w, False), _t(b, False), stride=s, padding=p,
                             output_padding=op, groups=g, dilation=d)
    np.testing.assert_allclose(out.data, naive_conv_transpose2d(x, w, b, s, p, op, d, g),
                               rtol=1e-12, atol=1e-12)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    # <conv2d(x), y> = <x, conv_transpose2d(y)> for the same weight, stride, padding, dilation
    x = RNG.standard_normal((2, 3, 9, 8))
    w = RNG.standard_normal((4, 3, 3, 2))
    y_shape = C.conv2d(gu.tensor(x), gu.tensor(w), stride=2, padding=1, dilation=(1, 2)).shape
    y = RNG.standard_normal(y_shape)
    lhs = np.sum(C.conv2d(gu.tensor(x), gu.tensor(w), stride=2, padding=1,
                          dilation=(1, 2)).data * y)
    xt = C.conv_transpose2d(gu.tensor(y), gu.tensor(w), stride=2, padding=1, dilation=(1, 2),
                            output_padding=(0, 1))
    assert xt.shape == x.shape
    np.testing.assert_allclose(lhs, np.sum(x * xt.data), rtol=1e-12)


# ----------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("case", CONV_CASES[:6])
def test_conv2d_gradcheck(case):
    N, Cin, H, W, O, k, s, p, d, g = case
    N = 1  # keep the numerical Jacobian small
    x = _t(RNG.standard_normal((N, Cin, min(H, 6), min(W, 6))))
    w = _t(RNG.standard_normal((O, Cin // g, *k)))
    b = _t(RNG.standard_normal(O))
    assert gradcheck(lambda x, w, b: C.conv2d(x, w, b, s, p, d, g), (x, w, b))


def test_conv2d_gradcheck_same_padding_even_kernel_and_large_padding():
    x = _t(RNG.standard_normal((1, 2, 5, 4)))
    w = _t(RNG.standard_normal((2, 2, 2, 4)))
    assert gradcheck(lambda x, w: C.conv2d(x, w, padding="same"), (x, w))
    w1 = _t(RNG.standard_normal((2, 2, 2, 2)))
    assert gradcheck(lambda x, w: C.conv2d(x, w, padding=3), (x, w1))          # p > d(k − 1)
    assert gradcheck(lambda x, w: C.conv2d(x, w, stride=2, padding=3), (x, w1))


@pytest.mark.parametrize("case", CONVT_CASES)
def test_conv_transpose2d_gradcheck(case):
    _, Cin, H, W, Cout, k, s, p, op, d, g = case
    x = _t(RNG.standard_normal((1, Cin, H, W)))
    w = _t(RNG.standard_normal((Cin, Cout // g, *k)))
    b = _t(RNG.standard_normal(Cout))
    assert gradcheck(lambda x, w, b: C.conv_transpose2d(x, w, b, s, p, op, g, d), (x, w, b))


def test_conv1d_gradcheck():
    x = _t(RNG.standard_normal((2, 2, 9)))
    w = _t(RNG.standard_normal((4, 1, 3)))
    b = _t(RNG.standard_normal(4))
    assert gradcheck(lambda x, w, b: C.conv1d(x, w, b, stride=2, padding=2, dilation=2,
                                              groups=2), (x, w, b))


def test_conv2d_gradient_only_for_what_requires_grad():
    x = gu.tensor(RNG.standard_normal((2, 3, 5, 5)))                  # data: no grad
    w = _t(RNG.standard_normal((4, 3, 3, 3)))
    C.conv2d(x, w).sum().backward()
    assert x.grad is None
    # dL/dw[o, c, p, q] for L = Σ out = Σ over windows of x: a sum of shifted input blocks
    expect = np.stack([x.data[:, :, p:p + 3, q:q + 3].sum(axis=(0, 2, 3))
                       for p in range(3) for q in range(3)], axis=-1).reshape(3, 3, 3)
    np.testing.assert_allclose(w.grad.data, np.broadcast_to(expect, (4, 3, 3, 3)), rtol=1e-12)


def test_conv2d_second_derivative_raises_clear_error():
    x = _t(RNG.standard_normal((1, 1, 4, 4)))
    w = _t(RNG.standard_normal((1, 1, 2, 2)))
    out = C.conv2d(x, w).sum()
    with pytest.raises(GradError, match="Conv2d is once-differentiable"):
        gu.autograd.grad(out, [x], create_graph=True)       # a graph of the backward: refused
    (gx,) = gu.autograd.grad(C.conv2d(x, w).sum(), [x])     # first derivatives are fine
    ones = gu.ones(1, 1, 3, 3, dtype=gu.float64)
    np.testing.assert_allclose(gx.data, C.conv_transpose2d(ones, w.detach()).data, rtol=1e-12)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])   # conv_path: a setting
@given(n=st.integers(1, 2), cin_g=st.integers(1, 2), o_g=st.integers(1, 2),
       groups=st.integers(1, 2), h=st.integers(3, 7), w_=st.integers(3, 7),
       kh=st.integers(1, 3), kw=st.integers(1, 3), sh=st.integers(1, 3), sw=st.integers(1, 3),
       ph=st.integers(0, 2), pw=st.integers(0, 2), dh=st.integers(1, 2), dw=st.integers(1, 2),
       seed=st.integers(0, 2**16))
def test_conv2d_random_configs_against_reference(n, cin_g, o_g, groups, h, w_, kh, kw, sh, sw,
                                                 ph, pw, dh, dw, seed):
    if h + 2 * ph < dh * (kh - 1) + 1 or w_ + 2 * pw < dw * (kw - 1) + 1:
        return
    rng = np.random.default_rng(seed)
    cin, o = cin_g * groups, o_g * groups
    x = rng.standard_normal((n, cin, h, w_))
    wt = rng.standard_normal((o, cin_g, kh, kw))
    xt, wtt = _t(x), _t(wt)
    out = C.conv2d(xt, wtt, None, (sh, sw), (ph, pw), (dh, dw), groups)
    ref = naive_conv2d(x, wt, None, (sh, sw), ((ph, ph), (pw, pw)), (dh, dw), groups)
    np.testing.assert_allclose(out.data, ref, rtol=1e-12, atol=1e-12)
    # The backward against the loop reference's own adjoints: <∂L/∂x, e> for L = Σ R·out equals
    # the directional derivative of the (linear) reference, exactly.
    R = rng.standard_normal(out.shape)
    out.backward(gu.tensor(R))
    ex = rng.standard_normal(x.shape)
    ew = rng.standard_normal(wt.shape)
    dx_ref = np.sum(R * naive_conv2d(ex, wt, None, (sh, sw), ((ph, ph), (pw, pw)), (dh, dw),
                                     groups))
    dw_ref = np.sum(R * naive_conv2d(x, ew, None, (sh, sw), ((ph, ph), (pw, pw)), (dh, dw),
                                     groups))
    np.testing.assert_allclose(np.sum(xt.grad.data * ex), dx_ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(np.sum(wtt.grad.data * ew), dw_ref, rtol=1e-10, atol=1e-10)


# ----------------------------------------------------------------------------- bad input


def test_conv2d_errors_name_the_op_and_shapes():
    x = gu.zeros(2, 3, 8, 8)
    with pytest.raises(ShapeError, match=r"conv2d: input has 3 channels .* expects 4"):
        C.conv2d(x, gu.zeros(5, 4, 3, 3))
    with pytest.raises(ShapeError, match=r"smaller than the dilated kernel \(9, 9\)"):
        C.conv2d(x, gu.zeros(1, 3, 5, 5), dilation=2)
    with pytest.raises(ShapeError, match=r"expected a 4-D input"):
        C.conv2d(gu.zeros(8, 8), gu.zeros(1, 1, 3, 3))
    with pytest.raises(ShapeError, match=r"bias must have shape \(5,\)"):
        C.conv2d(x, gu.zeros(5, 3, 3, 3), gu.zeros(4))
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        C.conv2d(x, gu.zeros(1, 3, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match="stride must be positive"):
        C.conv2d(x, gu.zeros(1, 3, 3, 3), stride=0)
    with pytest.raises(DTypeError, match="differ"):
        C.conv2d(x, gu.zeros(1, 3, 3, 3, dtype=gu.float64))
    with pytest.raises(ValueError, match="output_padding"):
        C.conv_transpose2d(x, gu.zeros(3, 2, 3, 3), stride=2, output_padding=2)


# ----------------------------------------------------------------------------- PyTorch parity


def _torch_pair(shape, torch):
    a = RNG.standard_normal(shape)
    return _t(a), torch.tensor(a, requires_grad=True)


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_matches_torch_values_and_gradients(case):
    torch = pytest.importorskip("torch")
    N, Cin, H, W, O, k, s, p, d, g = case
    x, xt = _torch_pair((N, Cin, H, W), torch)
    w, wt = _torch_pair((O, Cin // g, *k), torch)
    b, bt = _torch_pair((O,), torch)
    out = C.conv2d(x, w, b, s, p, d, g)
    ref = torch.nn.functional.conv2d(xt, wt, bt, s, p, d, g)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-10)
    R = RNG.standard_normal(out.shape)
    out.backward(gu.tensor(R))
    ref.backward(torch.tensor(R))
    for mine, theirs in ((x, xt), (w, wt), (b, bt)):
        np.testing.assert_allclose(mine.grad.data, theirs.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("case", CONVT_CASES)
def test_conv_transpose2d_matches_torch(case):
    torch = pytest.importorskip("torch")
    N, Cin, H, W, Cout, k, s, p, op, d, g = case
    x, xt = _torch_pair((N, Cin, H, W), torch)
    w, wt = _torch_pair((Cin, Cout // g, *k), torch)
    b, bt = _torch_pair((Cout,), torch)
    out = C.conv_transpose2d(x, w, b, s, p, op, g, d)
    ref = torch.nn.functional.conv_transpose2d(xt, wt, bt, s, p, op, g, d)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-10)
    R = RNG.standard_normal(out.shape)
    out.backward(gu.tensor(R))
    ref.backward(torch.tensor(R))
    for mine, theirs in ((x, xt), (w, wt), (b, bt)):
        np.testing.assert_allclose(mine.grad.data, theirs.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("padding", [0, 1, "same", "valid"])
def test_conv1d_matches_torch(padding):
    torch = pytest.importorskip("torch")
    x, xt = _torch_pair((3, 4, 11), torch)
    w, wt = _torch_pair((6, 2, 4), torch)
    out = C.conv1d(x, w, None, 1, padding, 2, 2)
    ref = torch.nn.functional.conv1d(xt, wt, None, 1, padding, 2, 2)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-10)
    R = RNG.standard_normal(out.shape)
    out.backward(gu.tensor(R))
    ref.backward(torch.tensor(R))
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(w.grad.data, wt.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_conv2d_float32_matches_torch_on_mnist_sized_batch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((8, 32, 14, 14)).astype(np.float32)
    w = (RNG.standard_normal((64, 32, 3, 3)) / 17).astype(np.float32)
    out = C.conv2d(gu.tensor(x), gu.tensor(w), padding=1)
    ref = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1)
    # float32 sums of 288 products: agreement to a few float32 ulps of the output's scale
    np.testing.assert_allclose(out.data, ref.numpy(), rtol=1e-5, atol=1e-5)


def test_kernels_never_hand_out_their_scratch_memory():
    # The kernels reuse scratch buffers for temporaries; results and saved columns must own
    # their data, or a later call would overwrite them. A 1×1 stride-1 conv is the case where
    # the column matrix could be a mere view of the padded input.
    xs = [_t(RNG.standard_normal((2, 3, 4, 5))) for _ in range(2)]
    ws = [_t(RNG.standard_normal((4, 3, 1, 1))) for _ in range(2)]
    outs = [C.conv2d(x, w) for x, w in zip(xs, ws)]
    refs = [naive_conv2d(x.data, w.data) for x, w in zip(xs, ws)]
    R = RNG.standard_normal(outs[0].shape)
    for out in outs:
        out.backward(gu.tensor(R))
    for x, w, out, ref in zip(xs, ws, outs, refs):
        np.testing.assert_allclose(out.data, ref, rtol=1e-12)
        # ∂L/∂w[o, c] = Σ R[:, o] · x[:, c]
        np.testing.assert_allclose(w.grad.data[:, :, 0, 0],
                                   np.einsum("nohw,nchw->oc", R, x.data), rtol=1e-12)
        np.testing.assert_allclose(x.grad.data,
                                   np.einsum("nohw,oc->nchw", R, w.data[:, :, 0, 0]), rtol=1e-12)
    # single-channel, single-sample maps: transposes that are no-ops
    a = C.conv_transpose2d(_t(np.ones((1, 1, 3, 3))), _t(np.ones((1, 1, 2, 2))), stride=2)
    b = C.conv_transpose2d(_t(np.zeros((1, 1, 3, 3))), _t(np.ones((1, 1, 2, 2))), stride=2)
    np.testing.assert_array_equal(a.data, np.ones((1, 1, 6, 6)))
    np.testing.assert_array_equal(b.data, np.zeros((1, 1, 6, 6)))


def test_conv2d_inference_on_a_large_batch_runs_in_slices(monkeypatch):
    # Without a graph the columns are not kept, so a batch whose columns outgrow the scratch
    # memory runs a few samples at a time: the result must not change.
    monkeypatch.setattr(C, "_SCRATCH_MAX_BYTES", 4096)
    x = RNG.standard_normal((7, 3, 6, 5))
    w = RNG.standard_normal((4, 3, 3, 3))
    b = RNG.standard_normal(4)
    with gu.no_grad():
        out = C.conv2d(_t(x, False), _t(w, False), _t(b, False), padding=1)
    np.testing.assert_allclose(out.data, naive_conv2d(x, w, b, (1, 1), ((1, 1), (1, 1))),
                               rtol=1e-12, atol=1e-12)
