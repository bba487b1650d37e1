"""Convolution: conv1d, conv2d, conv_transpose2d (pooling is in :mod:`groundup.ops.pooling`).

Every op here is a fused kernel: forward and backward work on NumPy arrays (the backward is
``once_differentiable``) so that each costs a few large vectorised steps instead of a graph of
small ops.

**Convolution is one matrix product (im2col).** PyTorch's conv2d is a cross-correlation::

    out[n, o, i, j] = b[o] + Σ_{c, p, q} x_pad[n, c, i·s + p·d, j·s + q·d] · w[o, c, p, q]

Gather every receptive field of the padded input into a column (``sliding_window_view`` gives the
windows as a view; one reshape copies them into the matrix ``cols`` of shape (kH·kW·C, N·OH·OW)),
and the whole convolution is ``W (O, kH·kW·C) @ cols`` — a single BLAS GEMM. The backward is two
more: ∂W = G·colsᵀ (one GEMM), and ∂x: ∂cols = Wᵀ·G (one GEMM) folded back onto the image
("col2im") by kH·kW strided, vectorised adds — one per kernel offset, no ``np.add.at`` — or, when
the conv narrows the channels, a convolution of the padded output gradient with the kernel
rotated by 180° and its in/out channels swapped (im2col + one GEMM). With ``groups`` the channels
split into independent blocks: the same products, batched over the group axis.

Two memory layouts, chosen by the output map's size. Channel-major (C, N, H, W) makes each
product one large GEMM over the whole batch, at the price of reordering to and from NCHW; it wins
on small maps (deep layers). Batch-major keeps NCHW and runs one GEMM per sample,
out[n] = W (O, C·kH·kW) @ cols[n] (C·kH·kW, OH·OW), whose result already *is* NCHW; it wins on
large maps (the first layers), where the reorders cost more than the GEMMs. Every step is split
over groundup's kernel threads (:mod:`groundup._threads`), as PyTorch parallelises its own: the
memory-bound ones (padding, im2col, col2im, reorders) by batch slices, the GEMMs by blocks of
the product (:func:`groundup.ops._gemm.gemm`), each block a single-threaded BLAS call.

The output size of every op here (per spatial axis, input n, kernel k, padding p, stride s,
dilation d) is

    floor((n + 2p − d·(k − 1) − 1) / s) + 1

(the course's floor((n + 2p − k)/s) + 1 when d = 1).

A plain loop version of each op lives in the tests, which check these kernels against it and
against PyTorch.
"""

from __future__ import annotations

import threading

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from groundup._threads import parallel_for
from groundup.autograd.function import Function
from groundup.errors import DTypeError, ShapeError, hint
from groundup.ops._gemm import gemm
from groundup.ops._util import tensor_cls

# ----------------------------------------------------------------------------- argument helpers


def _pair(value, name: str, op: str, n: int = 2) -> tuple:
    """An int or a length-``n`` tuple as a tuple of ``n`` non-negative ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    try:
        out = tuple(int(v) for v in value)
    except TypeError:
        out = ()
    if len(out) != n:
        raise ValueError(hint(
            f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}",
            f"e.g. {name}=2 or {name}={(2,) * n}",
        ))
    return out


def _check_positive(values: tuple, name: str, op: str, allow_zero: bool = False) -> None:
    low = 0 if allow_zero else 1
    if any(v < low for v in values):
        raise ValueError(hint(
            f"{op}: {name} must be {'non-negative' if allow_zero else 'positive'}, got {values}",
            f"use {name} ≥ {low}",
        ))


def conv_output_size(n: int, k: int, s: int = 1, p: int = 0, d: int = 1,
                     ceil_mode: bool = False) -> int:
    """Output length of a convolution or pooling along one axis:
    floor((n + 2p − d(k−1) − 1)/s) + 1 (ceil instead of floor with ``ceil_mode``; then, as in
    PyTorch, a last window that would start inside the right padding is dropped)."""
    span = n + 2 * p - d * (k - 1) - 1
    if ceil_mode:
        out = -(-span // s) + 1
        if (out - 1) * s >= n + p:
            out -= 1
        return out
    return span // s + 1


def _conv_padding(padding, kernel: tuple, dilation: tuple, stride: tuple, op: str) -> tuple:
    """Padding as ((before, after), ...) per spatial axis; handles ints, tuples, 'same', 'valid'."""
    nd = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(hint(
                    f"{op}: padding='same' is not supported for strided convolutions "
                    f"(stride={stride})",
                    "use stride=1 with 'same', or give the padding as numbers",
                ))
            # PyTorch's rule: total d(k−1) per axis, the odd one out goes after (right/bottom).
            out = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                out.append((total // 2, total - total // 2))
            return tuple(out)
        raise ValueError(hint(f"{op}: padding must be an int, a tuple, 'same' or 'valid', got "
                              f"{padding!r}", "e.g. padding=1 or padding='same'"))
    pads = _pair(padding, "padding", op, nd)
    _check_positive(pads, "padding", op, allow_zero=True)
    return tuple((p, p) for p in pads)


def _float_dtype(op: str, *arrays) -> np.dtype:
    """The common dtype of a kernel's array arguments (they must be the same float type)."""
    dt = arrays[0].dtype
    if dt.kind != "f":
        raise DTypeError(hint(f"{op}: input must be a floating-point tensor, got dtype {dt}",
                              "convert it with .float()"))
    for a in arrays[1:]:
        if a is not None and a.dtype != dt:
            raise DTypeError(hint(
                f"{op}: input dtype {dt} and weight/bias dtype {a.dtype} differ",
                "convert them to the same dtype (module.to(dtype) or tensor.float()/.double())",
            ))
    return dt


# ----------------------------------------------------------------------------- im2col / col2im
#
# Inside the kernels, images are kept channel-major, (C, N, H, W): then the column matrix has rows
# (p, q, c) and columns (n, i, j), every kernel offset's block of it is one contiguous slab, and
# the GEMM's output (O, N·OH·OW) turns into (N, O, OH, OW) by moving whole OH·OW planes.


_SCRATCH = threading.local()
_SCRATCH_MAX_BYTES = 64 << 20


def _scratch(role: str, shape: tuple, dtype, zero: bool = False) -> np.ndarray:
    """A reusable array for a temporary that never leaves the kernel asking for it.

    Why: a fresh multi-megabyte array is new memory from the OS (glibc hands large blocks back on
    free), and touching it page-faults every 4 KB — on an MNIST-sized conv layer that cost more
    than the GEMM itself. Each ``role`` names one temporary (two temporaries alive at once use
    two roles); buffers are per thread and only kept up to 64 MB each."""
    dtype = np.dtype(dtype)
    n = 1
    for v in shape:
        n *= int(v)
    if n * dtype.itemsize > _SCRATCH_MAX_BYTES:
        return np.zeros(shape, dtype) if zero else np.empty(shape, dtype)
    bufs = _SCRATCH.__dict__.setdefault("bufs", {})
    buf = bufs.get((role, dtype))
    if buf is None or buf.size < n:
        buf = bufs[(role, dtype)] = np.empty(max(n, 1), dtype)
    out = buf[:n].reshape(shape)
    if zero:
        out.fill(0)
    return out


def _pad2d(x: np.ndarray, pads: tuple, value=0.0) -> np.ndarray:
    """Pad the last two axes of an (N, C, H, W) array; ``pads`` = ((top, bottom), (left, right))."""
    (pt, pb), (pl, pr) = pads
    if pt == pb == pl == pr == 0:
        return x
    N, C, H, W = x.shape
    out = np.full((N, C, H + pt + pb, W + pl + pr), value, dtype=x.dtype)
    out[:, :, pt:pt + H, pl:pl + W] = x
    return out


def _pad_cn(x: np.ndarray, pads: tuple) -> np.ndarray:
    """(N, C, H, W) → zero-padded, channel-major (C, N, H + pt + pb, W + pl + pr): one copy into
    scratch memory (the result only feeds :func:`_im2col`)."""
    (pt, pb), (pl, pr) = pads
    N, C, H, W = x.shape
    padded = pt or pb or pl or pr
    out = _scratch("pad", (C, N, H + pt + pb, W + pl + pr), x.dtype)

    def run(a, b):
        if padded:
            out[:, a:b] = 0
        out[:, a:b, pt:pt + H, pl:pl + W] = x[a:b].transpose(1, 0, 2, 3)

    parallel_for(N, run, out.size)
    return out


def _windows(xp: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple, out_hw: tuple):
    """View of every receptive field of a padded (A, B, Hp, Wp) array: (A, B, OH, OW, kH, kW) with
    ``v[a, b, i, j, p, q] = xp[a, b, i·sH + p·dH, j·sW + q·dW]`` (no copy)."""
    (kH, kW), (sH, sW), (dH, dW), (OH, OW) = kernel, stride, dilation, out_hw
    span = ((kH - 1) * dH + 1, (kW - 1) * dW + 1)
    win = sliding_window_view(xp, span, axis=(2, 3))
    return win[:, :, :(OH - 1) * sH + 1:sH, :(OW - 1) * sW + 1:sW, ::dH, ::dW]


def _offset(xp: np.ndarray, p: int, q: int, stride, dilation, out_hw) -> np.ndarray:
    """The (…, OH, OW) view of ``xp`` that kernel offset (p, q) touches: rows p·d, p·d + s, …"""
    (sH, sW), (dH, dW), (OH, OW) = stride, dilation, out_hw
    return xp[..., p * dH:p * dH + (OH - 1) * sH + 1:sH, q * dW:q * dW + (OW - 1) * sW + 1:sW]


def _im2col(xpc, kernel, stride, dilation, out_hw, groups, temporary=False) -> np.ndarray:
    """Column matrix (G, kH·kW·Cg, N·OH·OW) of a padded channel-major (C, N, Hp, Wp) input.

    Entry [g, (p, q, c), (n, i, j)] = xpc[g·Cg + c, n, i·sH + p·dH, j·sW + q·dW]: the window view
    from ``sliding_window_view``, copied once (into scratch memory when ``temporary``)."""
    C, N = xpc.shape[:2]
    (OH, OW), (kH, kW) = out_hw, kernel
    Cg = C // groups
    win = _windows(xpc, kernel, stride, dilation, out_hw).reshape(groups, Cg, N, OH, OW, kH, kW)
    win = win.transpose(0, 5, 6, 1, 2, 3, 4)                  # (G, kH, kW, Cg, N, OH, OW)
    out = _scratch("cols", win.shape, xpc.dtype) if temporary else np.empty(win.shape, xpc.dtype)
    parallel_for(N, lambda a, b: np.copyto(out[:, :, :, :, a:b], win[:, :, :, :, a:b]), out.size)
    return out.reshape(groups, kH * kW * Cg, N * OH * OW)


def _nchw_to_batch_last(g: np.ndarray, groups: int) -> np.ndarray:
    """(N, C, H, W) → (G, C/G, H·W·N), the batch axis last (one copy into scratch memory, split
    over channels): the GEMM layout of :func:`_col2im_batch_last`."""
    N, C, H, W = g.shape
    out = _scratch("gemm_in_bl", (C, H, W, N), g.dtype)   # "gemm_in" may hold G for ∂W
    parallel_for(C, lambda a, b: np.copyto(out[a:b], g[:, a:b].transpose(1, 2, 3, 0)), out.size)
    return out.reshape(groups, C // groups, H * W * N)


def _col2im_batch_last(cols, padded_hw, kernel, stride, dilation, out_hw) -> np.ndarray:
    """Adjoint of :func:`_im2col` for columns ordered (i, j, n), batch last: add every column
    entry back onto the pixel it was read from, giving a padded (C, Hp, Wp, N) array.

    One vectorised add per kernel offset (p, q); windows that overlap accumulate because the adds
    run one after another (no ``np.add.at``). Why batch last: an offset's block then lands on
    runs of OW·N contiguous numbers (one per channel and row) instead of rows of OW, and NumPy
    pays for every run — on MNIST's 14×14 maps this halved the fold. Channels are independent:
    split over threads by channel."""
    G, K, M = cols.shape
    (kH, kW), (OH, OW) = kernel, out_hw
    Cg = K // (kH * kW)
    N = M // (OH * OW)
    C = G * Cg
    c = cols.reshape(G, kH, kW, Cg, OH, OW, N)
    out = _scratch("col2im", (C,) + tuple(padded_hw) + (N,), cols.dtype)
    (sH, sW), (dH, dW) = stride, dilation

    def run(a, b):                      # channels [a, b), as (group, channel-in-group) blocks
        part = out[a:b]
        part[...] = 0
        for gi in range(a // Cg, (b - 1) // Cg + 1):
            lo, hi = max(a, gi * Cg), min(b, (gi + 1) * Cg)
            dst = part[lo - a:hi - a]
            for p in range(kH):
                for q in range(kW):
                    dst[:, p * dH:p * dH + (OH - 1) * sH + 1:sH,
                        q * dW:q * dW + (OW - 1) * sW + 1:sW] += c[gi, p, q, lo - gi * Cg:hi - gi * Cg]

    parallel_for(C, run, out.size + cols.size)
    return out                                                   # scratch: crop/copy it at once


def _weight_matrix(w: np.ndarray, groups: int) -> np.ndarray:
    """Conv weight (O, Cg, kH, kW) → (G, O/G, kH·kW·Cg), columns ordered like im2col's rows."""
    O, Cg, kH, kW = w.shape
    return w.reshape(groups, O // groups, Cg, kH, kW).transpose(0, 1, 3, 4, 2).reshape(
        groups, O // groups, kH * kW * Cg)


def _weight_from_matrix(m: np.ndarray, shape: tuple) -> np.ndarray:
    """Inverse of :func:`_weight_matrix`: (G, O/G, kH·kW·Cg) → (O, Cg, kH, kW)."""
    O, Cg, kH, kW = shape
    G = m.shape[0]
    # always a fresh array: ``m`` may live in scratch memory
    return np.array(m.reshape(G, O // G, kH, kW, Cg).transpose(0, 1, 4, 2, 3).reshape(shape),
                    order="C", copy=True)


def _adjoint_weight(w: np.ndarray, groups: int) -> np.ndarray:
    """The weight of the convolution that computes conv2d's input gradient at stride 1:
    (O, Cg, kH, kW) → (C, O/G, kH, kW) with w'[g·Cg + c, o, p, q] = w[g·Og + o, c, kH−1−p, kW−1−q]
    (in and out channels swapped within each group, kernel rotated by 180°)."""
    O, Cg, kH, kW = w.shape
    Og = O // groups
    return np.ascontiguousarray(
        w[:, :, ::-1, ::-1].reshape(groups, Og, Cg, kH, kW).transpose(0, 2, 1, 3, 4)
        .reshape(groups * Cg, Og, kH, kW))


def _gemm_to_nchw(out: np.ndarray, N: int, out_hw: tuple, bias=None) -> np.ndarray:
    """(G, Og, N·OH·OW) product → contiguous (N, G·Og, OH, OW), adding the bias in the same pass."""
    G, Og = out.shape[:2]
    OH, OW = out_hw
    src = out.reshape(G * Og, N, OH, OW).transpose(1, 0, 2, 3)
    res = np.empty((N, G * Og, OH, OW), dtype=out.dtype)
    if bias is not None:
        b = bias.reshape(1, -1, 1, 1)
        parallel_for(N, lambda i, j: np.add(src[i:j], b, out=res[i:j]), res.size)
    else:
        parallel_for(N, lambda i, j: np.copyto(res[i:j], src[i:j]), res.size)
    return res


def _nchw_to_gemm(g: np.ndarray, groups: int) -> np.ndarray:
    """(N, C, H, W) → (G, C/G, N·H·W): the layout the GEMMs use (one copy, into scratch memory:
    the result is an operand of a GEMM and never leaves the kernel)."""
    N, C, H, W = g.shape
    out = _scratch("gemm_in", (C, N, H, W), g.dtype)
    parallel_for(N, lambda a, b: np.copyto(out[:, a:b], g[a:b].transpose(1, 0, 2, 3)), out.size)
    return out.reshape(groups, C // groups, N * H * W)


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b (one GEMM per group) into scratch memory, for products that are consumed at once;
    split over the kernel threads by :func:`groundup.ops._gemm.gemm`."""
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1])
    return gemm(a, b, out=_scratch("gemm_out", shape, np.result_type(a, b)))


def _batch_last_crop_to_nchw(xp: np.ndarray, pads: tuple, hw: tuple) -> np.ndarray:
    """Padded batch-last (C, Hp, Wp, N) → the (N, C, H, W) interior, contiguous."""
    (pt, _), (pl, _) = pads
    H, W = hw
    C, N = xp.shape[0], xp.shape[-1]
    res = np.empty((N, C, H, W), dtype=xp.dtype)       # fresh: ``xp`` is scratch memory
    inner = xp[:, pt:pt + H, pl:pl + W].transpose(3, 0, 1, 2)
    parallel_for(C, lambda a, b: np.copyto(res[:, a:b], inner[:, a:b]), res.size)
    return res


def _crop2d(xp: np.ndarray, pads: tuple, hw: tuple) -> np.ndarray:
    (pt, _), (pl, _) = pads
    H, W = hw
    if xp.shape[2:] == (H, W):
        return xp
    return np.ascontiguousarray(xp[:, :, pt:pt + H, pl:pl + W])


def _conv2d_arrays(x, w, pads, stride, dilation, groups, out_hw, bias=None, keep_cols=False):
    """conv2d on arrays: the (N, O, OH, OW) output, and the column matrix if ``keep_cols``."""
    cols = _im2col(_pad_cn(x, pads), w.shape[2:], stride, dilation, out_hw, groups,
                   temporary=not keep_cols)
    out = _gemm_to_nchw(_matmul(_weight_matrix(w, groups), cols), x.shape[0], out_hw, bias)
    return out, (cols if keep_cols else None)


def _channel_major_conv2d(x, w, bias, pads, stride, dilation, out_hw, keep_cols, groups):
    """:func:`_conv2d_arrays` with the batch-major path's signature. When the columns are not
    kept (inference, frozen weights), large batches run in slices of samples whose columns fit
    the scratch memory: a batch of 1,000 MNIST maps would otherwise need a 225 MB matrix."""
    N = x.shape[0]
    per_sample = w.shape[1] * w.shape[2] * w.shape[3] * groups * out_hw[0] * out_hw[1]
    step = max(1, (_SCRATCH_MAX_BYTES // 2) // (per_sample * x.dtype.itemsize))
    if keep_cols or N <= step:
        return _conv2d_arrays(x, w, pads, stride, dilation, groups, out_hw, bias, keep_cols)
    out = np.empty((N, w.shape[0]) + tuple(out_hw), dtype=x.dtype)
    for a in range(0, N, step):
        out[a:a + step] = _conv2d_arrays(x[a:a + step], w, pads, stride, dilation, groups, out_hw,
                                         bias)[0]
    return out, None


def _conv2d_input_grad(g, w, pad_tl, stride, dilation, groups, hw):
    """∂L/∂x of a conv2d whose input (N, C, H, W) was padded by ``pad_tl`` = (top, left) (the
    bottom/right padding only decides how many windows fit, and ``g`` tells that): for the output
    gradient g (N, O, OH, OW), returns (N, C, H, W).

    Wᵀ·G (one GEMM, G laid out batch last) folded back onto the image by
    :func:`_col2im_batch_last`; or, at stride 1 when the conv
    has fewer output than input channels (then the gradient's columns are the smaller matrix), a
    convolution of the zero-padded gradient with the rotated, channel-swapped kernel
    (:func:`_adjoint_weight`) — im2col + one GEMM again."""
    (H, W), (OH, OW) = hw, g.shape[2:]
    spans = [d * (k - 1) for k, d in zip(w.shape[2:], dilation)]
    # Adjoint padding: `span − top` before, and after whatever makes the output exactly H × W.
    apads = tuple((sp - t, n + t - m) for sp, t, n, m in zip(spans, pad_tl, (H, W), (OH, OW)))
    fewer_out = w.shape[0] < w.shape[1] * groups
    if stride == (1, 1) and fewer_out and all(a >= 0 and b >= 0 for a, b in apads):
        return _conv2d_arrays(g, _adjoint_weight(w, groups), apads, (1, 1), dilation, groups,
                              hw)[0]
    gcols = _matmul(_weight_matrix(w, groups).transpose(0, 2, 1), _nchw_to_batch_last(g, groups))
    padded = tuple(max((m - 1) * s + sp + 1, t + n)
                   for m, s, sp, t, n in zip((OH, OW), stride, spans, pad_tl, (H, W)))
    gxp = _col2im_batch_last(gcols, padded, w.shape[2:], stride, dilation, (OH, OW))
    return _batch_last_crop_to_nchw(gxp, ((pad_tl[0], 0), (pad_tl[1], 0)), hw)


# ----------------------------------------------------------------------------- batch-major path
#
# For large feature maps (the first layers of a CNN) the channel-major layout's reorders cost more
# than they save: there each sample's product W (O, K) @ cols[n] (K, OH·OW) is already a wide,
# efficient GEMM. So the columns are kept per sample, (N, K, OH·OW) with rows (c, p, q) — the
# weight's own memory order, so W is a free reshape — and the output (N, O, OH·OW) *is* NCHW.

_BATCH_MAJOR_MIN_PIXELS = 400      # output maps of ≥ 20×20: measured faster batch-major


def _uses_batch_major(groups: int, out_hw: tuple) -> bool:
    return groups == 1 and out_hw[0] * out_hw[1] >= _BATCH_MAJOR_MIN_PIXELS


def _pad_nchw(x: np.ndarray, pads: tuple, role: str) -> np.ndarray:
    """(N, C, H, W) zero-padded into scratch memory (``x`` itself when there is no padding)."""
    (pt, pb), (pl, pr) = pads
    if pt == pb == pl == pr == 0:
        return x
    N, C, H, W = x.shape
    out = _scratch(role, (N, C, H + pt + pb, W + pl + pr), x.dtype, zero=True)
    out[:, :, pt:pt + H, pl:pl + W] = x
    return out


def _conv2d_batch_major(x, w, bias, pads, stride, dilation, out_hw, keep_cols, groups=1):
    """conv2d by per-sample GEMMs: out[n] = W (O, C·kH·kW) @ cols[n] (C·kH·kW, OH·OW) + b.

    Returns the (N, O, OH, OW) output and, if ``keep_cols``, the (N, K, OH·OW) columns. Samples
    are split over threads: these GEMMs are too small for BLAS to parallelise on its own."""
    N = x.shape[0]
    O, C, kH, kW = w.shape
    OH, OW = out_hw
    K = C * kH * kW
    wm = w.reshape(O, K)
    out = np.empty((N, O, OH * OW), dtype=x.dtype)
    cols = np.empty((N, K, OH * OW), x.dtype) if keep_cols else None

    def run(a, b):
        xp = _pad_nchw(x[a:b], pads, "pad")
        shape = (b - a, C, kH, kW, OH, OW)
        c = cols[a:b].reshape(shape) if keep_cols else _scratch("cols", shape, x.dtype)
        for p in range(kH):                 # one strided copy per kernel offset
            for q in range(kW):
                c[:, :, p, q] = _offset(xp, p, q, stride, dilation, out_hw)
        gemm(wm, c.reshape(b - a, K, OH * OW), out=out[a:b])
        if bias is not None:
            out[a:b] += bias.reshape(1, O, 1)

    parallel_for(N, run, out.size + N * K * OH * OW)
    return out.reshape(N, O, OH, OW), cols


def _conv2d_batch_major_input_grad(g, w, pads, stride, dilation, hw):
    """∂L/∂x of :func:`_conv2d_batch_major`: ∂cols[n] = Wᵀ (K, O) @ G[n] (O, OH·OW), each
    kernel offset's rows added back onto the pixels they were read from, padding cropped."""
    N, O, OH, OW = g.shape
    _, C, kH, kW = w.shape
    (pt, pb), (pl, pr) = pads
    H, W = hw
    wt = w.reshape(O, C * kH * kW).T
    gx = np.empty((N, C, H, W), dtype=g.dtype)

    def run(a, b):
        gcols = _matmul(wt, g[a:b].reshape(b - a, O, OH * OW)).reshape(b - a, C, kH, kW, OH, OW)
        gxp = _scratch("col2im", (b - a, C, H + pt + pb, W + pl + pr), g.dtype, zero=True)
        for p in range(kH):
            for q in range(kW):
                _offset(gxp, p, q, stride, dilation, (OH, OW))[...] += gcols[:, :, p, q]
        gx[a:b] = gxp[:, :, pt:pt + H, pl:pl + W]

    parallel_for(N, run, gx.size + N * C * kH * kW * OH * OW)
    return gx


def _conv2d_batch_major_weight_grad(g, cols, shape, with_bias=False):
    """∂L/∂W = Σ_n G[n] (O, OH·OW) @ cols[n]ᵀ (OH·OW, K), as the weight's (O, C, kH, kW), and, if
    ``with_bias``, ∂L/∂b = Σ_{n,i,j} G[n, :, i, j] from the same pass over G (else None)."""
    N, O = g.shape[:2]
    parts = {}

    def run(a, b):
        gs = g[a:b].reshape(b - a, O, -1)
        per_sample = _matmul(gs, cols[a:b].transpose(0, 2, 1))
        parts[a] = (per_sample.sum(axis=0), gs.sum(axis=(0, 2)) if with_bias else None)

    parallel_for(N, run, g.size + cols.size)
    starts = sorted(parts)               # a fixed order: the same sum whatever thread ends first
    gw, gb = parts[starts[0]]
    for a in starts[1:]:
        gw = gw + parts[a][0]
        if with_bias:
            gb = gb + parts[a][1]
    return gw.reshape(shape), gb


# ----------------------------------------------------------------------------- convolution


def _check_conv_args(op, x, weight, bias, groups, transposed=False):
    if x.ndim != 4:
        raise ShapeError(hint(
            f"{op}: expected a 4-D input (N, C, H, W) (or 3-D unbatched), got shape {x.shape}",
            "add a batch axis with x.unsqueeze(0), or a channel axis for grayscale images",
        ))
    if weight.ndim != 4:
        raise ShapeError(hint(
            f"{op}: weight must be 4-D, got shape {weight.shape}",
            "conv2d weight is (out_channels, in_channels/groups, kH, kW); "
            "conv_transpose2d weight is (in_channels, out_channels/groups, kH, kW)",
        ))
    if groups < 1:
        raise ValueError(hint(f"{op}: groups must be ≥ 1, got {groups}", "use groups=1"))
    C = x.shape[1]
    if transposed:
        if weight.shape[0] != C or C % groups:
            raise ShapeError(hint(
                f"{op}: input has {C} channels but weight of shape {weight.shape} expects "
                f"{weight.shape[0]} (weight is (in_channels, out_channels/groups, kH, kW))",
                "in_channels must equal weight.shape[0] and be divisible by groups",
            ))
        out_ch = weight.shape[1] * groups
    else:
        if C % groups or weight.shape[1] * groups != C or weight.shape[0] % groups:
            raise ShapeError(hint(
                f"{op}: input has {C} channels but weight of shape {weight.shape} with "
                f"groups={groups} expects {weight.shape[1] * groups}",
                "weight is (out_channels, in_channels/groups, kH, kW); in and out channels must "
                "be divisible by groups",
            ))
        out_ch = weight.shape[0]
    if bias is not None and bias.shape != (out_ch,):
        raise ShapeError(hint(f"{op}: bias must have shape ({out_ch},), got {bias.shape}",
                              "one bias per output channel"))
    return _float_dtype(op, x, weight, bias)


class Conv2d(Function):
    """2-D cross-correlation (PyTorch's conv2d) by im2col and one GEMM; see the module docstring.

    Shapes: x (N, C, H, W), weight (O, C/groups, kH, kW), bias (O,) → (N, O, OH, OW).
    Backward: ∂W = G·colsᵀ (one GEMM), ∂b = Σ G, ∂x by :func:`_conv2d_input_grad`.
    """

    once_differentiable = True

    @staticmethod
    def forward(ctx, x, weight, bias=None, *, stride=(1, 1), pads=((0, 0), (0, 0)),
                dilation=(1, 1), groups=1):
        _check_conv_args("conv2d", x, weight, bias, groups)
        N, C, H, W = x.shape
        O, _, kH, kW = weight.shape
        (pt, pb), (pl, pr) = pads
        OH = conv_output_size(H + pt + pb, kH, stride[0], 0, dilation[0])
        OW = conv_output_size(W + pl + pr, kW, stride[1], 0, dilation[1])
        if OH < 1 or OW < 1:
            raise ShapeError(hint(
                f"conv2d: input of spatial size {(H, W)} (padded: {(H + pt + pb, W + pl + pr)}) "
                f"is smaller than the dilated kernel "
                f"{((kH - 1) * dilation[0] + 1, (kW - 1) * dilation[1] + 1)}",
                "use a larger input, more padding, or a smaller kernel",
            ))
        # the columns are kept for ∂W (a fresh array: it outlives this call)
        needs = ctx.needs_input_grad
        keep = needs is not None and needs[1]
        ctx.batch_major = _uses_batch_major(groups, (OH, OW))
        conv = _conv2d_batch_major if ctx.batch_major else _channel_major_conv2d
        out, ctx.cols = conv(x, weight, bias, pads, stride, dilation, (OH, OW), keep, groups)
        ctx.geom = (stride, pads, dilation, groups)
        return out

    @staticmethod
    def backward(ctx, grad):
        stride, pads, dilation, groups = ctx.geom
        x, weight, bias = ctx.inputs
        needs = ctx.needs_input_grad
        g = grad.data
        T = tensor_cls()
        gx = gw = gb = None
        if ctx.batch_major:
            if needs[0]:
                gx = T(_conv2d_batch_major_input_grad(g, weight.data, pads, stride, dilation,
                                                      x.shape[2:]))
            want_b = bias is not None and needs[2]
            if needs[1]:
                w_grad, b_grad = _conv2d_batch_major_weight_grad(g, ctx.cols, weight.shape, want_b)
                gw = T(w_grad)
                gb = T(b_grad) if want_b else None
            elif want_b:
                gb = T(g.sum(axis=(0, 2, 3)))
            return gx, gw, gb
        want_b = bias is not None and needs[2]
        if needs[0]:
            gx = T(_conv2d_input_grad(g, weight.data, (pads[0][0], pads[1][0]), stride,
                                      dilation, groups, x.shape[2:]))
        if needs[1] or want_b:
            gm = _nchw_to_gemm(g, groups)                                     # (G, Og, M)
            if needs[1]:
                gw = T(_weight_from_matrix(_matmul(gm, ctx.cols.transpose(0, 2, 1)),
                                           weight.shape))
            if want_b:
                gb = T(gm.sum(axis=-1).reshape(-1))       # contiguous rows: one fast pass
        return gx, gw, gb


class ConvTranspose2d(Function):
    """Transposed 2-D convolution: the adjoint (gradient with respect to the input) of conv2d.

    Shapes: x (N, Cin, H, W), weight (Cin, Cout/groups, kH, kW), bias (Cout,) →
    (N, Cout, OH, OW) with OH = (H − 1)·s − 2p + d(k − 1) + output_padding + 1.
    Every input pixel scatters ``x[n, c, i, j] · w[c, :, :, :]`` onto the output at
    (i·s − p + p'·d, j·s − p + q'·d). It is computed exactly as conv2d's input gradient (with the
    weight read as a conv2d weight of Cin outputs); its own backward is a conv2d of the gradient
    (im2col + GEMM): the two halves of conv2d swap roles.
    """

    once_differentiable = True

    @staticmethod
    def forward(ctx, x, weight, bias=None, *, stride=(1, 1), padding=(0, 0),
                output_padding=(0, 0), dilation=(1, 1), groups=1):
        _check_conv_args("conv_transpose2d", x, weight, bias, groups, transposed=True)
        N, Cin, H, W = x.shape
        _, Cog, kH, kW = weight.shape
        for op_, s, d in zip(output_padding, stride, dilation):
            if op_ >= max(s, d):
                raise ValueError(hint(
                    f"conv_transpose2d: output_padding {output_padding} must be smaller than "
                    f"either stride {stride} or dilation {dilation}",
                    "output_padding only resolves which of the s input sizes mapping to the "
                    "same output size is meant",
                ))
        OH = (H - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kH - 1) + output_padding[0] + 1
        OW = (W - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kW - 1) + output_padding[1] + 1
        if OH < 1 or OW < 1:
            raise ShapeError(hint(
                f"conv_transpose2d: output size {(OH, OW)} is not positive for input {(H, W)}",
                "reduce the padding",
            ))
        # x is the gradient of a conv2d from (OH, OW) with padding p to (H, W): compute that.
        out = _conv2d_input_grad(x, weight, padding, stride, dilation, groups, (OH, OW))
        if bias is not None:
            out += bias.reshape(1, -1, 1, 1)
        pads = ((padding[0], padding[0]), (padding[1], padding[1]))
        ctx.geom = (stride, pads, dilation, groups, (H, W))
        return out

    @staticmethod
    def backward(ctx, grad):
        stride, pads, dilation, groups, hw = ctx.geom
        x, weight, bias = ctx.inputs
        needs = ctx.needs_input_grad
        g = grad.data
        w = weight.data
        # The forward's conv2d maps (N, Cout, OH, OW) to x's (H, W); read its windows of g.
        gcols = _im2col(_pad_cn(g, pads), w.shape[2:], stride, dilation, hw, groups,
                        temporary=True)                                       # (G, K, M)
        T = tensor_cls()
        gx = gw = gb = None
        if needs[0]:
            gx = T(_gemm_to_nchw(_matmul(_weight_matrix(w, groups), gcols), x.shape[0], hw))
        if needs[1]:
            xm = _nchw_to_gemm(x.data, groups)                                # (G, Cig, M)
            gw = T(_weight_from_matrix(_matmul(xm, gcols.transpose(0, 2, 1)), w.shape))
        if bias is not None and needs[2]:
            gb = T(g.sum(axis=(0, 2, 3)))
        return gx, gw, gb


def _unbatched(x, ndim: int):
    """PyTorch accepts a single sample without its batch axis; add it (and remember to drop it)."""
    if x.ndim == ndim - 1:
        return x.unsqueeze(0), True
    return x, False


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation), PyTorch's ``F.conv2d``.

    input (N, C, H, W) or (C, H, W); weight (O, C/groups, kH, kW); bias (O,) or None.
    ``padding``: int, (pH, pW), ``"valid"`` (0) or ``"same"`` (output size = input size; stride 1;
    an odd total goes to the bottom/right, as in PyTorch). Output (N, O, OH, OW) with
    OH = floor((H + 2pH − dH(kH − 1) − 1)/sH) + 1, likewise OW.
    """
    stride = _pair(stride, "stride", "conv2d")
    dilation = _pair(dilation, "dilation", "conv2d")
    _check_positive(stride, "stride", "conv2d")
    _check_positive(dilation, "dilation", "conv2d")
    pads = _conv_padding(padding, tuple(weight.shape[2:]), dilation, stride, "conv2d")
    x, squeeze = _unbatched(input, 4)
    out = Conv2d.apply(x, weight, bias, stride=stride, pads=pads, dilation=dilation,
                       groups=int(groups))
    return out.squeeze(0) if squeeze else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution, PyTorch's ``F.conv1d``: input (N, C, L) or (C, L), weight (O, C/groups, k).

    Output (N, O, L_out), L_out = floor((L + 2p − d(k − 1) − 1)/s) + 1. Computed as a conv2d over
    a height-1 image (the same im2col kernel)."""
    if weight.ndim != 3:
        raise ShapeError(hint(f"conv1d: weight must be 3-D (out, in/groups, k), got {weight.shape}",
                              "use conv2d for 4-D weights"))
    (s,) = _pair(stride, "stride", "conv1d", 1)
    (d,) = _pair(dilation, "dilation", "conv1d", 1)
    _check_positive((s,), "stride", "conv1d")
    _check_positive((d,), "dilation", "conv1d")
    ((pa, pb),) = _conv_padding(padding, (weight.shape[2],), (d,), (s,), "conv1d")
    x, squeeze = _unbatched(input, 3)
    if x.ndim != 3:
        raise ShapeError(hint(
            f"conv1d: expected a 3-D input (N, C, L) (or 2-D unbatched), got shape "
            f"{tuple(input.shape)}",
            "sequences are (batch, channels, length)",
        ))
    out = Conv2d.apply(x.unsqueeze(2), weight.unsqueeze(2), bias, stride=(1, s),
                       pads=((0, 0), (pa, pb)), dilation=(1, d), groups=int(groups)).squeeze(2)
    return out.squeeze(0) if squeeze else out


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 2-D convolution, PyTorch's ``F.conv_transpose2d`` (argument order included).

    input (N, Cin, H, W) or (Cin, H, W); weight (Cin, Cout/groups, kH, kW); output (N, Cout, OH, OW)
    with OH = (H − 1)·sH − 2pH + dH(kH − 1) + output_paddingH + 1 (the inverse of conv2d's size
    formula; ``output_padding`` picks among the input sizes a strided conv2d maps to one size)."""
    op = "conv_transpose2d"
    stride = _pair(stride, "stride", op)
    dilation = _pair(dilation, "dilation", op)
    padding = _pair(padding, "padding", op)
    output_padding = _pair(output_padding, "output_padding", op)
    _check_positive(stride, "stride", op)
    _check_positive(dilation, "dilation", op)
    _check_positive(padding, "padding", op, allow_zero=True)
    _check_positive(output_padding, "output_padding", op, allow_zero=True)
    x, squeeze = _unbatched(input, 4)
    out = ConvTranspose2d.apply(x, weight, bias, stride=stride, padding=padding,
                                output_padding=output_padding, dilation=dilation,
                                groups=int(groups))
    return out.squeeze(0) if squeeze else out


__all__ = ["conv1d", "conv2d", "conv_output_size", "conv_transpose2d"]
