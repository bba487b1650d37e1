"""Pooling: max_pool1d/2d, avg_pool2d, adaptive_avg_pool2d.

Every op here is a fused kernel on NumPy arrays (``once_differentiable``), sharing the window
geometry of :mod:`groundup.ops.conv`: per spatial axis the output length is

    floor((n + 2p − d·(k − 1) − 1) / s) + 1     (``stride`` defaults to ``kernel_size``)

Windows are strided views of the (padded) input — one vectorised step per kernel offset — and
windows that tile the input (kernel == stride, no padding) are a plain reshape of it.

A plain loop version of each op lives in the tests, which check these kernels against it and
against PyTorch.
"""

from __future__ import annotations

import numpy as np

from groundup._threads import parallel_for
from groundup.autograd.function import Function
from groundup.errors import ShapeError, hint
from groundup.ops._util import tensor_cls
from groundup.ops.conv import (
    _check_positive,
    _crop2d,
    _offset,
    _pad2d,
    _pair,
    _scratch,
    _unbatched,
    conv_output_size,
)


def _pool_args(op, kernel_size, stride, padding, dilation, n=2):
    k = _pair(kernel_size, "kernel_size", op, n)
    # stride=None (or PyTorch's empty list) means stride = kernel_size
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else \
        _pair(stride, "stride", op, n)
    p = _pair(padding, "padding", op, n)
    d = _pair(dilation, "dilation", op, n)
    _check_positive(k, "kernel_size", op)
    _check_positive(s, "stride", op)
    _check_positive(d, "dilation", op)
    _check_positive(p, "padding", op, allow_zero=True)
    # PyTorch's rule, on the dilated window: p ≤ (d(k − 1) + 1) // 2
    if any(pi > (di * (ki - 1) + 1) // 2 for pi, ki, di in zip(p, k, d)):
        raise ValueError(hint(
            f"{op}: padding {p} must be at most half the (dilated) kernel size {k}",
            "a window must never lie entirely in the padding",
        ))
    return k, s, p, d


def _pool_geometry(op, shape, k, s, p, d, ceil_mode):
    """Output size and the (top, bottom), (left, right) padding that makes every window fit."""
    H, W = shape[-2:]
    OH = conv_output_size(H, k[0], s[0], p[0], d[0], ceil_mode)
    OW = conv_output_size(W, k[1], s[1], p[1], d[1], ceil_mode)
    if OH < 1 or OW < 1:
        raise ShapeError(hint(
            f"{op}: input of spatial size {(H, W)} is too small for kernel {k} with padding {p} "
            f"and dilation {d} (output would be {(OH, OW)})",
            "use a smaller kernel or pool a larger feature map",
        ))
    # Extra room on the bottom/right for ceil_mode's last, partial window.
    need_h = (OH - 1) * s[0] + d[0] * (k[0] - 1) + 1
    need_w = (OW - 1) * s[1] + d[1] * (k[1] - 1) + 1
    pads = ((p[0], max(p[0], need_h - H - p[0])), (p[1], max(p[1], need_w - W - p[1])))
    return (OH, OW), pads


def _is_tiling(k, s, p, d, hw, out_hw) -> bool:
    """Windows that tile the input without overlap or padding: the reshape fast path applies."""
    return (k == s and p == (0, 0) and d == (1, 1)
            and out_hw[0] * k[0] <= hw[0] and out_hw[1] * k[1] <= hw[1])


def _tiles(x, k, out_hw):
    """(N, C, OH·kH, OW·kW) crop viewed as (N, C, OH, kH, OW, kW): a reshape, no copy."""
    N, C = x.shape[:2]
    (OH, OW), (kH, kW) = out_hw, k
    return x[:, :, :OH * kH, :OW * kW].reshape(N, C, OH, kH, OW, kW)


class _Pool2x2:
    """MaxPool2d(2) on even-sized maps, in passes whose inner loops run over whole rows or more.

    NumPy pays per inner loop, and the obvious strided views of a 2×2 window have inner loops of
    only W/2 elements. So: split the columns into even and odd (one copy whose source coalesces
    into a single stride-2 run), take the max of each horizontal pair (``hright``: the right one is
    strictly larger), then of each vertical pair of those (``below``: the bottom row's is strictly
    larger). Ties go left and up: the first maximum in row-major window order, like PyTorch.
    Large batches are split over threads (:func:`groundup._threads.parallel_for`)."""

    __slots__ = ("below", "hright", "out")

    def __init__(self, x):
        N, C, H, W = x.shape
        self.out = np.empty((N, C, H // 2, W // 2), dtype=x.dtype)
        self.below = np.empty((N, C, H // 2, W // 2), dtype=bool)
        self.hright = np.empty((N, C, H, W // 2), dtype=bool)
        parallel_for(N, lambda a, b: self._forward(x[a:b], slice(a, b)), x.size)

    def _forward(self, x, rows_of):
        n, C, H, W = x.shape
        cols = np.empty((2, n, C, H, W // 2), dtype=x.dtype)
        np.copyto(cols, x.reshape(n, C, H, W // 2, 2).transpose(4, 0, 1, 2, 3))
        left, right = cols
        np.greater(right, left, out=self.hright[rows_of])
        rows = np.maximum(left, right, out=left).reshape(n, C, H // 2, 2, W // 2)
        top, bottom = rows[:, :, :, 0], rows[:, :, :, 1]
        np.greater(bottom, top, out=self.below[rows_of])
        np.maximum(top, bottom, out=self.out[rows_of])

    def argmax(self):
        """The window index p·2 + q of each output's maximum, as int8 (for return_indices)."""
        N, C, OH, OW = self.below.shape
        hr = self.hright.reshape(N, C, OH, 2, OW)
        right = np.where(self.below, hr[:, :, :, 1], hr[:, :, :, 0])
        arg = self.below.view(np.int8) * np.int8(2)
        arg += right.view(np.int8)
        return arg

    def backward(self, g):
        """Route g (N, C, OH, OW) to the argmax pixels: the inverse of the two forward steps."""
        N, C, OH, OW = g.shape
        gx = np.empty((N, C, 2 * OH, OW, 2), dtype=g.dtype)
        parallel_for(N, lambda a, b: self._backward(g[a:b], gx[a:b], slice(a, b)), gx.size)
        return gx.reshape(N, C, 2 * OH, 2 * OW)

    def _backward(self, g, gx, rows_of):
        n, C, OH, OW = g.shape
        below, hright = self.below[rows_of], self.hright[rows_of]
        rows = np.empty((n, C, OH, 2, OW), dtype=g.dtype)
        np.multiply(g, ~below, out=rows[:, :, :, 0])
        np.multiply(g, below, out=rows[:, :, :, 1])
        rows = rows.reshape(n, C, 2 * OH, OW)
        np.multiply(rows, ~hright, out=gx[..., 0])
        np.multiply(rows, hright, out=gx[..., 1])


def _first_max_scan(views):
    """Max over the window offsets' views and the index of the first offset holding it: a
    running maximum, then the offsets scanned backwards, each overwriting the index."""
    out = views[0].copy()
    for v in views[1:]:
        np.maximum(out, v, out=out)
    kk = len(views)
    arg = np.full(out.shape, kk - 1, dtype=np.int8 if kk <= 127 else np.int32)
    hit = _scratch("mask", out.shape, bool)
    for k in range(kk - 2, -1, -1):
        np.equal(views[k], out, out=hit)
        np.copyto(arg, k, where=hit)
    return out, arg


class MaxPool2d(Function):
    """Max over each window; the gradient goes to the (first, in row-major window order) maximum,
    as PyTorch's does, so ties send the whole gradient to one input. NaN propagates.

    Shapes: (N, C, H, W) → (N, C, OH, OW), OH = floor((H + 2p − d(k − 1) − 1)/s) + 1.
    Non-overlapping windows (kernel == stride, no padding) are a reshape of the input; otherwise the
    windows are strided views of the input padded with −∞. The kernel runs one vectorised step per
    window offset (2×2 windows: three maxima and three comparisons in all). The window argmax is
    only computed when a gradient or the indices are wanted.
    """

    once_differentiable = True

    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding, dilation, ceil_mode, sink=None):
        # ``sink``: a list that receives the window argmax (for return_indices) without a
        # second pass over the input.
        N, C, H, W = x.shape
        (OH, OW), pads = _pool_geometry("max_pool2d", x.shape, kernel, stride, padding, dilation,
                                        ceil_mode)
        kH, kW = kernel
        tiling = _is_tiling(kernel, stride, padding, dilation, (H, W), (OH, OW))
        if tiling:
            tiles = _tiles(x, kernel, (OH, OW))
            views = [tiles[:, :, :, p, :, q] for p in range(kH) for q in range(kW)]
        else:
            fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
            xp = _pad2d(x, pads, fill)
            views = [_offset(xp, p, q, stride, dilation, (OH, OW))
                     for p in range(kH) for q in range(kW)]
        if ctx.needs_input_grad is None and sink is None:
            out = views[0].copy()
            for v in views[1:]:
                np.maximum(out, v, out=out)
            return out
        ctx.geom = (x.shape, kernel, stride, pads, dilation, (OH, OW), tiling)
        if kernel == (2, 2) and tiling and (H, W) == (2 * OH, 2 * OW) and x.dtype.kind == "f":
            pool = _Pool2x2(x)
            out = pool.out
            if not np.isnan(out).any():              # NaNs take the general scan's rule below
                pool.out = None
                if sink is not None:
                    sink.append(pool.argmax())
                ctx.arg = pool
                return out
        out, arg = _first_max_scan(views)
        if x.dtype.kind == "f":
            nan = np.isnan(out)
            if nan.any():
                # PyTorch's scan takes a NaN whenever it meets one, so the last NaN wins.
                for k in range(len(views)):
                    np.copyto(arg, k, where=nan & np.isnan(views[k]))
        if sink is not None:
            sink.append(arg)
        ctx.arg = arg
        return out

    @staticmethod
    def backward(ctx, grad):
        shape, kernel, stride, pads, dilation, out_hw, tiling = ctx.geom
        (pt, pb), (pl, pr) = pads
        N, C, H, W = shape
        (kH, kW), (OH, OW) = kernel, out_hw
        g, arg = grad.data, ctx.arg
        if isinstance(arg, _Pool2x2):
            return (tensor_cls()(arg.backward(g)),)
        if tiling and (OH * kH, OW * kW) == (H, W):
            # every pixel belongs to exactly one window: each offset writes its own pixels
            gx = np.empty(shape, dtype=g.dtype)
            tiles = gx.reshape(N, C, OH, kH, OW, kW)
            hit = _scratch("mask", arg.shape, bool)
            for p in range(kH):
                for q in range(kW):
                    np.equal(arg, p * kW + q, out=hit)
                    np.multiply(hit, g, out=tiles[:, :, :, p, :, q])
            return (tensor_cls()(gx),)
        padded = (pt, pb, pl, pr) != (0, 0, 0, 0)
        gxp = np.zeros((N, C, H + pt + pb, W + pl + pr), dtype=g.dtype)
        # Windows overlap when the stride is shorter than the (dilated) window: then offsets
        # share pixels and must accumulate; otherwise each pixel is written once.
        overlap = any(s < d * (k - 1) + 1 for s, k, d in zip(stride, kernel, dilation))
        hit = _scratch("mask", arg.shape, bool)
        for p in range(kH):
            for q in range(kW):
                np.equal(arg, p * kW + q, out=hit)
                target = _offset(gxp, p, q, stride, dilation, out_hw)
                if overlap:
                    target += np.where(hit, g, 0)
                else:
                    np.multiply(hit, g, out=target)
        gx = _crop2d(gxp, pads, (H, W)) if padded else gxp
        return (tensor_cls()(gx),)


class AvgPool2d(Function):
    """Mean over each window (PyTorch's avg_pool2d): the gradient spreads g/divisor evenly over
    the window. ``count_include_pad`` counts padded zeros in the divisor; windows that overhang the
    padded input in ``ceil_mode`` divide by their clipped size; ``divisor_override`` replaces it."""

    once_differentiable = True

    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding, ceil_mode, count_include_pad,
                divisor_override):
        N, C, H, W = x.shape
        dil = (1, 1)
        (OH, OW), pads = _pool_geometry("avg_pool2d", x.shape, kernel, stride, padding, dil,
                                        ceil_mode)
        tiling = _is_tiling(kernel, stride, padding, dil, (H, W), (OH, OW))
        div = _avg_divisor((H, W), kernel, stride, padding, (OH, OW), count_include_pad,
                           divisor_override, x.dtype)
        if tiling:
            s = _tiles(x, kernel, (OH, OW)).sum(axis=(3, 5))
        else:
            # kH·kW vectorised adds of strided views, one per window offset
            xp = _pad2d(x, pads)
            s = _offset(xp, 0, 0, stride, dil, (OH, OW)).copy()
            for p in range(kernel[0]):
                for q in range(kernel[1]):
                    if p or q:
                        s += _offset(xp, p, q, stride, dil, (OH, OW))
        ctx.div = div
        ctx.geom = (x.shape, kernel, stride, pads, (OH, OW), tiling)
        return (s / div).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        shape, kernel, stride, pads, out_hw, tiling = ctx.geom
        N, C, H, W = shape
        (OH, OW), (kH, kW) = out_hw, kernel
        gd = (grad.data / ctx.div).astype(grad.data.dtype, copy=False)
        if tiling:
            rep = np.broadcast_to(gd[:, :, :, None, :, None], (N, C, OH, kH, OW, kW))
            gx = np.zeros(shape, dtype=gd.dtype)
            gx[:, :, :OH * kH, :OW * kW] = rep.reshape(N, C, OH * kH, OW * kW)
        else:
            (pt, pb), (pl, pr) = pads
            gxp = np.zeros((N, C, H + pt + pb, W + pl + pr), dtype=gd.dtype)
            for p in range(kH):
                for q in range(kW):
                    _offset(gxp, p, q, stride, (1, 1), out_hw)[...] += gd
            gx = _crop2d(gxp, pads, (H, W))
        return (tensor_cls()(gx),)


def _avg_divisor(hw, kernel, stride, padding, out_hw, count_include_pad, divisor_override, dtype):
    """The divisor of each output window (PyTorch's rule), as an (OH, OW) array or a scalar."""
    if divisor_override:
        return dtype.type(divisor_override)

    def sizes(n, k, s, p, out):
        start = np.arange(out) * s - p
        end = np.minimum(start + k, n + p)            # clipped to the padded input
        if count_include_pad:
            return end - start
        return np.minimum(end, n) - np.maximum(start, 0)

    dh = sizes(hw[0], kernel[0], stride[0], padding[0], out_hw[0])
    dw = sizes(hw[1], kernel[1], stride[1], padding[1], out_hw[1])
    div = np.outer(dh, dw).astype(dtype)
    return div


class AdaptiveAvgPool2d(Function):
    """Average pooling to a fixed output size (PyTorch's adaptive_avg_pool2d).

    Output cell i along an axis of length n averages input positions
    [floor(i·n/out), ceil((i+1)·n/out)). Averaging over a rectangle is separable, so the op is
    Pₕ · x · P_wᵀ with the (out, n) averaging matrices Pₕ, P_w — two matrix products, and the
    backward is the transpose Pₕᵀ · g · P_w. Global pooling (1, 1) is a plain mean.
    """

    once_differentiable = True

    @staticmethod
    def forward(ctx, x, *, output_size):
        H, W = x.shape[-2:]
        oh, ow = output_size
        ctx.hw = (H, W)
        if (oh, ow) == (1, 1):
            ctx.global_ = True
            return x.mean(axis=(2, 3), keepdims=True, dtype=x.dtype)
        ctx.global_ = False
        ph, pw = _adaptive_matrix(H, oh, x.dtype), _adaptive_matrix(W, ow, x.dtype)
        ctx.ph, ctx.pw = ph, pw
        return np.matmul(np.matmul(ph, x), pw.T)

    @staticmethod
    def backward(ctx, grad):
        g = grad.data
        H, W = ctx.hw
        if ctx.global_:
            gx = np.broadcast_to(g / g.dtype.type(H * W), g.shape[:2] + (H, W)).copy()
        else:
            gx = np.matmul(np.matmul(ctx.ph.T, g), ctx.pw)
        return (tensor_cls()(gx),)


def _adaptive_matrix(n: int, out: int, dtype) -> np.ndarray:
    """(out, n) matrix whose row i averages positions [floor(i·n/out), ceil((i+1)·n/out))."""
    m = np.zeros((out, n), dtype=dtype)
    for i in range(out):                          # `out` rows: tiny, once per call
        start = (i * n) // out
        end = -(-((i + 1) * n) // out)
        m[i, start:end] = 1.0 / (end - start)
    return m


def _check_pool_input(op: str, x, ndim: int):
    if x.ndim not in (ndim - 1, ndim):
        layout = "(N, C, H, W) or (C, H, W)" if ndim == 4 else "(N, C, L) or (C, L)"
        raise ShapeError(hint(f"{op}: expected input {layout}, got shape {tuple(x.shape)}",
                              "pooling works on batches of feature maps"))


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling, PyTorch's ``F.max_pool2d``: (N, C, H, W) → (N, C, OH, OW),
    OH = floor((H + 2p − d(k − 1) − 1)/s) + 1 (``stride`` defaults to ``kernel_size``).

    With ``return_indices`` also returns, for each output, the flat index h·W + w of the chosen
    input pixel within its (H, W) map (PyTorch's convention, usable by ``max_unpool2d``)."""
    _check_pool_input("max_pool2d", input, 4)
    k, s, p, d = _pool_args("max_pool2d", kernel_size, stride, padding, dilation)
    x, squeeze = _unbatched(input, 4)
    sink = [] if return_indices else None
    out = MaxPool2d.apply(x, kernel=k, stride=s, padding=p, dilation=d, ceil_mode=bool(ceil_mode),
                          sink=sink)
    if not return_indices:
        return out.squeeze(0) if squeeze else out
    idx = _indices_from_arg(sink[0], x.shape[-2:], k, s, p, d, out.shape[-2:])
    if squeeze:
        return out.squeeze(0), idx.squeeze(0)
    return out, idx


def _indices_from_arg(arg, hw, k, s, p, d, out_hw):
    """Window argmax (N, C, OH, OW) → flat index row·W + column into the unpadded input."""
    H, W = hw
    OH, OW = out_hw
    pr, pc = arg // k[1], arg % k[1]
    rows = np.arange(OH)[:, None] * s[0] - p[0] + pr * d[0]
    cols = np.arange(OW)[None, :] * s[1] - p[1] + pc * d[1]
    return tensor_cls()((rows * W + cols).astype(np.int64))


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling, PyTorch's ``F.max_pool1d``: (N, C, L) → (N, C, L_out),
    L_out = floor((L + 2p − d(k − 1) − 1)/s) + 1. Computed as a max_pool2d over height 1."""
    _check_pool_input("max_pool1d", input, 3)
    (k,) = _pair(kernel_size, "kernel_size", "max_pool1d", 1)
    (s,) = (k,) if stride is None else _pair(stride, "stride", "max_pool1d", 1)
    (p,) = _pair(padding, "padding", "max_pool1d", 1)
    (d,) = _pair(dilation, "dilation", "max_pool1d", 1)
    res = max_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, p), (1, d), ceil_mode,
                     return_indices)
    if return_indices:
        return res[0].squeeze(-2), res[1].squeeze(-2)
    return res.squeeze(-2)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling, PyTorch's ``F.avg_pool2d``: (N, C, H, W) → (N, C, OH, OW),
    OH = floor((H + 2p − k)/s) + 1 (``stride`` defaults to ``kernel_size``)."""
    _check_pool_input("avg_pool2d", input, 4)
    k, s, p, _ = _pool_args("avg_pool2d", kernel_size, stride, padding, 1)
    if divisor_override is not None and divisor_override <= 0:
        raise ValueError(hint(f"avg_pool2d: divisor_override must be positive, got "
                              f"{divisor_override}", "leave it None for the window size"))
    x, squeeze = _unbatched(input, 4)
    out = AvgPool2d.apply(x, kernel=k, stride=s, padding=p, ceil_mode=bool(ceil_mode),
                          count_include_pad=bool(count_include_pad),
                          divisor_override=divisor_override)
    return out.squeeze(0) if squeeze else out


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (OH, OW) (PyTorch's ``F.adaptive_avg_pool2d``); ``None`` in
    ``output_size`` keeps that input size; (1, 1) is global average pooling."""
    _check_pool_input("adaptive_avg_pool2d", input, 4)
    H, W = input.shape[-2:]
    if isinstance(output_size, (int, np.integer)):
        output_size = (int(output_size), int(output_size))
    oh, ow = output_size
    size = (H if oh is None else int(oh), W if ow is None else int(ow))
    if size[0] < 1 or size[1] < 1:
        raise ValueError(hint(f"adaptive_avg_pool2d: output_size must be positive, got "
                              f"{output_size}", "e.g. output_size=1 for global average pooling"))
    x, squeeze = _unbatched(input, 4)
    out = AdaptiveAvgPool2d.apply(x, output_size=size)
    return out.squeeze(0) if squeeze else out

__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "max_pool1d", "max_pool2d"]
