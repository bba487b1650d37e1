"""Reductions: sum, mean, var, std, max/min, amax/amin, logsumexp, prod, norm.

All take ``dim`` (None, an int or a tuple) and ``keepdim`` like PyTorch. The backward of a reduction
broadcasts the upstream gradient back over the reduced axes (after restoring them as size-1 axes).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from groundup.autograd.function import Function, keep_none, saved_output
from groundup.autograd.grad_mode import state as _grad_mode
from groundup.errors import ShapeError, hint
from groundup.ops import elementwise as E
from groundup.ops._util import normalize_dim, tensor_cls

MaxResult = namedtuple("MaxResult", ["values", "indices"])


def _restore(grad, shape, axes, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input: put back size-1 axes."""
    if axes is None:
        return grad.reshape((1,) * len(shape)) if shape else grad
    if keepdim:
        return grad
    kept = [1 if i in axes else s for i, s in enumerate(shape)]
    return grad.reshape(tuple(kept))


def _axis(axes):
    return None if axes is None else (axes if len(axes) != 1 else axes[0])


class Sum(Function):
    """Σ over ``dim``; backward broadcasts the gradient back: ∂(Σx)/∂x_i = 1."""

    keep_inputs = staticmethod(keep_none)

    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False, dtype=None):
        ctx.axes, ctx.keepdim = axes, keepdim
        out = np.sum(a, axis=_axis(axes), keepdims=keepdim, dtype=dtype)
        return np.asarray(out)

    @staticmethod
    def backward(ctx, grad):
        shape = ctx.shapes[0]
        if not _grad_mode.enabled:  # first-order: the same broadcast on arrays (a view, no copy)
            return (np.broadcast_to(_restore(grad.data, shape, ctx.axes, ctx.keepdim), shape),)
        g = _restore(grad, shape, ctx.axes, ctx.keepdim)
        return (g.expand(shape),)


class Prod(Function):
    """Π over ``dim``; ∂/∂x_i = Π_{j≠i} x_j (computed as prod/x_i when no zeros, exactly else)."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdim=False):
        ctx.axis, ctx.keepdim = axis, keepdim
        return np.asarray(np.prod(a, axis=axis, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.inputs
        axes = None if ctx.axis is None else (ctx.axis,)
        g = _restore(grad, a.shape, axes, ctx.keepdim)
        x = a.data
        if ctx.axis is None:
            flat = a.reshape(-1)
            n = flat.shape[0]
            # exclusive prefix and suffix products give Π_{j≠i} without dividing by zero
            others = _exclusive_products(flat, 0, n)
            return (g * others.reshape(x.shape),)
        others = _exclusive_products(a, ctx.axis, x.shape[ctx.axis])
        return (g * others,)


def _exclusive_products(a, axis, n):
    """Π_{j≠i} a_j along ``axis`` for every i, with Tensor ops (so it is differentiable)."""
    T = tensor_cls()
    pieces = a.split(1, dim=axis)
    ones = T(np.ones_like(pieces[0].data))
    prefix = [ones]
    for p in pieces[:-1]:
        prefix.append(prefix[-1] * p)
    suffix = [ones]
    for p in reversed(pieces[1:]):
        suffix.append(suffix[-1] * p)
    suffix.reverse()
    from groundup.ops.shape import cat

    return cat([pre * suf for pre, suf in zip(prefix, suffix)], dim=axis)


class MaxAll(Function):
    """max/min over ``dim`` without indices (amax/amin, or max() of the whole tensor). At ties the
    gradient is shared equally among the tied elements (PyTorch's convention for amax)."""

    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False, mode="max"):
        ctx.axes, ctx.keepdim, ctx.mode = axes, keepdim, mode
        fn = np.max if mode == "max" else np.min
        out = np.asarray(fn(a, axis=_axis(axes), keepdims=True))
        ctx.out_keep = out
        return out if keepdim else (out.reshape(()) if axes is None else np.squeeze(out, _axis(axes)))

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.inputs
        mask = (a.data == ctx.out_keep).astype(grad.data.dtype)
        mask /= mask.sum(axis=_axis(ctx.axes), keepdims=True)
        return (_restore(grad, a.shape, ctx.axes, ctx.keepdim) * mask,)


class MaxDim(Function):
    """Values at precomputed indices along one ``dim`` (max/min with ``dim``); the gradient goes to
    the index returned (the first occurrence at ties, like PyTorch's max(dim))."""

    keep_inputs = staticmethod(keep_none)

    @staticmethod
    def forward(ctx, a, index=None, dim=0, keepdim=False):
        ctx.index, ctx.dim, ctx.keepdim = index, dim, keepdim
        values = np.take_along_axis(a, index, axis=dim)
        return values if keepdim else np.squeeze(values, dim)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.inputs
        g = grad if ctx.keepdim else grad.unsqueeze(ctx.dim)
        from groundup.ops.shape import scatter_into_zeros

        return (scatter_into_zeros(g, ctx.index, ctx.dim, a.shape),)


class LogSumExp(Function):
    """ln Σ e^(a) along ``dim``, computed as m + ln Σ e^(a − m) with the max m detached;
    backward: g · softmax(a)."""

    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False):
        ctx.axes, ctx.keepdim = axes, keepdim
        ax = _axis(axes)
        m = np.max(a, axis=ax, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):  # all −inf: ln 0 = −inf is the right answer
            out = np.log(np.sum(np.exp(a - m), axis=ax, keepdims=True)) + m
        ctx.out_keep = out
        return out if keepdim else (out.reshape(()) if axes is None else np.squeeze(out, ax))

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.inputs
        out = saved_output(ctx, ctx.out_keep,
                           lambda: logsumexp(a, dim=ctx.axes, keepdim=True))
        g = _restore(grad, a.shape, ctx.axes, ctx.keepdim)
        return (g * E.exp(a - out),)


def _check_nonempty(a, axes, op):
    shape = a.shape
    sizes = shape if axes is None else [shape[i] for i in axes]
    if any(s == 0 for s in sizes) or (axes is None and a.data.size == 0):
        raise ShapeError(hint(
            f"{op}: cannot reduce over an empty dimension (input shape {shape})",
            "this reduction has no identity; check the input is not empty",
        ))


def sum(a, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    """Σ over ``dim`` (all elements when None)."""
    return Sum.apply(a, axes=normalize_dim(dim, a.ndim, "sum"), keepdim=keepdim, dtype=dtype)


def mean(a, dim=None, keepdim=False):
    """Arithmetic mean over ``dim``: Σx / n."""
    axes = normalize_dim(dim, a.ndim, "mean")
    n = a.data.size if axes is None else int(np.prod([a.shape[i] for i in axes]))
    s = Sum.apply(a, axes=axes, keepdim=keepdim)
    if n == 0:
        return s * float("nan")
    return s * (1.0 / n)


def var(a, dim=None, keepdim=False, *, correction=1, unbiased=None):
    """Variance Σ(x − x̄)² / (n − correction) over ``dim`` (correction=1: unbiased, 0: the MLE)."""
    if unbiased is not None:
        correction = 1 if unbiased else 0
    axes = normalize_dim(dim, a.ndim, "var")
    n = a.data.size if axes is None else int(np.prod([a.shape[i] for i in axes]))
    centred = a - mean(a, dim=axes, keepdim=True)
    ss = Sum.apply(centred * centred, axes=axes, keepdim=keepdim)
    denom = n - correction
    return ss * (1.0 / denom) if denom > 0 else ss * float("nan")


def std(a, dim=None, keepdim=False, *, correction=1, unbiased=None):
    """Standard deviation √var (same ``correction`` as :func:`var`)."""
    return E.sqrt(var(a, dim, keepdim, correction=correction, unbiased=unbiased))


def _max_min(a, dim, keepdim, mode):
    if dim is None:
        _check_nonempty(a, None, mode)
        return MaxAll.apply(a, axes=None, keepdim=False, mode=mode)
    (d,) = normalize_dim(dim, a.ndim, mode) or (0,)
    _check_nonempty(a, (d,), mode)
    arg = np.argmax(a.data, axis=d) if mode == "max" else np.argmin(a.data, axis=d)
    index = np.expand_dims(arg, d)
    values = MaxDim.apply(a, index=index, dim=d, keepdim=keepdim)
    indices = index if keepdim else arg
    T = tensor_cls()
    return MaxResult(values, T(indices.astype(np.int64)))


def max(a, dim=None, keepdim=False):  # noqa: A001
    """Largest element; with ``dim`` returns (values, indices) along it like PyTorch."""
    if dim is not None and not isinstance(dim, (int, np.integer)):
        other = dim
        return E.maximum(a, other)
    return _max_min(a, dim, keepdim, "max")


def min(a, dim=None, keepdim=False):  # noqa: A001
    """Smallest element; with ``dim`` returns (values, indices) along it like PyTorch."""
    if dim is not None and not isinstance(dim, (int, np.integer)):
        return E.minimum(a, dim)
    return _max_min(a, dim, keepdim, "min")


def amax(a, dim=None, keepdim=False):
    """Largest values over ``dim`` (int or tuple); ties share the gradient equally."""
    axes = normalize_dim(dim, a.ndim, "amax")
    _check_nonempty(a, axes, "amax")
    return MaxAll.apply(a, axes=axes, keepdim=keepdim, mode="max")


def amin(a, dim=None, keepdim=False):
    """Smallest values over ``dim`` (int or tuple); ties share the gradient equally."""
    axes = normalize_dim(dim, a.ndim, "amin")
    _check_nonempty(a, axes, "amin")
    return MaxAll.apply(a, axes=axes, keepdim=keepdim, mode="min")


def _arg_extremum(a, dim, keepdim, fn):
    T = tensor_cls()
    if dim is None:
        return T(np.asarray(fn(a.data), dtype=np.int64))
    out = fn(a.data, axis=dim)
    return T((np.expand_dims(out, dim) if keepdim else out).astype(np.int64))


def argmax(a, dim=None, keepdim=False):
    """Index of the largest element (flattened when ``dim`` is None); no gradient."""
    return _arg_extremum(a, dim, keepdim, np.argmax)


def argmin(a, dim=None, keepdim=False):
    """Index of the smallest element (flattened when ``dim`` is None); no gradient."""
    return _arg_extremum(a, dim, keepdim, np.argmin)


def logsumexp(a, dim=None, keepdim=False):
    """ln Σ exp(a) over ``dim``, stable at ±1000."""
    axes = normalize_dim(dim, a.ndim, "logsumexp")
    return LogSumExp.apply(a, axes=axes, keepdim=keepdim)


def prod(a, dim=None, keepdim=False):
    """Π over ``dim`` (all elements when None)."""
    axis = None if dim is None else normalize_dim(dim, a.ndim, "prod")[0]
    return Prod.apply(a, axis=axis, keepdim=keepdim)


def norm(a, p="fro", dim=None, keepdim=False):
    """Vector p-norm (Σ|x|^p)^(1/p) over ``dim`` (all elements when None); p=2/'fro' Euclidean,
    p=1, p=inf (max |x|)."""
    if p in ("fro", 2, 2.0):
        return E.sqrt(sum(a * a, dim=dim, keepdim=keepdim))
    if p == 1:
        return sum(E.abs(a), dim=dim, keepdim=keepdim)
    if p in (float("inf"), "inf"):
        return amax(E.abs(a), dim=dim, keepdim=keepdim)
    return sum(E.abs(a) ** p, dim=dim, keepdim=keepdim) ** (1.0 / p)
