"""Activation functions and the (log-)softmax, each a differentiable op.

As in ``elementwise``, the hot backwards apply their rule to plain arrays when the backward is not
recorded (first-order ``backward()``), and with Tensor ops when it is (``create_graph=True``).
"""

from __future__ import annotations

import math

import numpy as np

from groundup._threads import parallel_for
from groundup.autograd.function import Function, saved_output
from groundup.autograd.grad_mode import state as _grad_mode
from groundup.ops import elementwise as E
from groundup.ops._util import normalize_dim

_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class ReLU(Function):
    """max(0, a); derivative 1 for a > 0 and 0 for a ≤ 0 (0 at exactly 0, like PyTorch)."""

    @staticmethod
    def forward(ctx, a):
        return _rowwise(a, lambda x, out: np.maximum(x, 0, out=out), a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.inputs
        if not _grad_mode.enabled:  # first-order: the same product on arrays
            g = grad.data
            if g.shape != a.shape:
                return (g * (a.data > 0),)
            return (_rowwise(g, lambda x, m, out: np.multiply(x, m > 0, out=out), g, a.data),)
        return (grad * (a.data > 0).astype(grad.data.dtype),)


def _rowwise(like, kernel, *arrays):
    """``kernel(*slices, out=slice)`` over slices of the leading axis of same-shape arrays, split
    over the kernel threads (a large activation is a memory-bound pass, like an im2col copy)."""
    out = np.empty_like(like)
    if like.ndim == 0:
        kernel(*arrays, out=out)
        return out
    parallel_for(len(like), lambda s, e: kernel(*(x[s:e] for x in arrays), out=out[s:e]),
                 like.size)
    return out


class LeakyReLU(Function):
    """a for a > 0, slope·a otherwise; derivative 1 or slope."""

    @staticmethod
    def forward(ctx, a, negative_slope=0.01):
        ctx.slope = negative_slope
        return np.where(a > 0, a, a * negative_slope)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.inputs
        d = np.where(a.data > 0, 1.0, ctx.slope).astype(grad.data.dtype)
        return (grad * d,)


class ELU(Function):
    """a for a > 0, α(e^a − 1) otherwise; derivative 1 or α·e^a."""

    @staticmethod
    def forward(ctx, a, alpha=1.0):
        ctx.alpha = alpha
        return np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0)))

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.inputs
        pos = (a.data > 0).astype(grad.data.dtype)
        neg_branch = E.exp(E.minimum(a, 0.0)) * ctx.alpha
        return (grad * (pos + (1.0 - pos) * neg_branch),)


def erf_array(x: np.ndarray) -> np.ndarray:
    """The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, elementwise, to double precision.

    |x| < 2: Maclaurin series Σ (−1)ⁿ x^(2n+1) / (n!(2n+1)); |x| ≥ 2: 1 − erfc(x) with erfc from
    its continued fraction (Lentz), which converges fast there.
    """
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    xd = x.astype(np.float64)
    ax = np.abs(xd)
    out = np.empty_like(xd)
    small = ax < 2.0
    if small.any():
        z = xd[small]
        z2 = z * z
        term = z.copy()
        total = z.copy()
        for n in range(1, 60):
            term = term * (-z2) / n
            total += term / (2 * n + 1)
        out[small] = total * (2.0 / math.sqrt(math.pi))
    large = ~small
    if large.any():
        z = ax[large]
        # erfc(z) = e^(−z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + ...))))), bottom-up.
        frac = np.zeros_like(z)
        for k in range(60, 0, -1):
            frac = (k / 2.0) / (z + frac)
        erfc = np.exp(-z * z) / math.sqrt(math.pi) / (z + frac)
        out[large] = np.sign(xd[large]) * (1.0 - erfc)
    return out.astype(dtype, copy=False)


class GELU(Function):
    """GELU(a) = a·Φ(a) with Φ the standard normal CDF; ``approximate="tanh"`` uses
    ½a(1 + tanh(√(2/π)(a + 0.044715a³))). Derivative (exact form): Φ(a) + a·φ(a)."""

    @staticmethod
    def forward(ctx, a, approximate="none"):
        ctx.approximate = approximate
        if approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (a + 0.044715 * a * a * a)
            return 0.5 * a * (1.0 + np.tanh(inner))
        return 0.5 * a * (1.0 + erf_array(a / _SQRT_2))

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.inputs
        if ctx.approximate == "tanh":
            inner = (a + a * a * a * 0.044715) * _SQRT_2_OVER_PI
            t = E.tanh(inner)
            d_inner = (1.0 + a * a * (3 * 0.044715)) * _SQRT_2_OVER_PI
            d = (1.0 + t) * 0.5 + a * 0.5 * (1.0 - t * t) * d_inner
        else:
            cdf = (1.0 + Erf.apply(a * (1.0 / _SQRT_2))) * 0.5
            pdf = E.exp(a * a * -0.5) * _INV_SQRT_2PI
            d = cdf + a * pdf
        return (grad * d,)


class Erf(Function):
    """erf(a); derivative 2/√π·e^(−a²)."""

    @staticmethod
    def forward(ctx, a):
        return erf_array(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.inputs
        return (grad * E.exp(-(a * a)) * (2.0 / math.sqrt(math.pi)),)


class Softplus(Function):
    """softplus(a) = (1/β)·ln(1 + e^(βa)), linear above ``threshold``; derivative σ(βa)."""

    @staticmethod
    def forward(ctx, a, beta=1.0, threshold=20.0):
        ctx.beta, ctx.threshold = beta, threshold
        ba = a * beta
        # ln(1+e^x) = max(x,0) + ln(1+e^−|x|): never overflows.
        soft = (np.maximum(ba, 0) + np.log1p(np.exp(-np.abs(ba)))) / beta
        return np.where(ba > threshold, a, soft).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.inputs
        lin = (a.data * ctx.beta > ctx.threshold).astype(grad.data.dtype)
        return (grad * (lin + (1.0 - lin) * E.sigmoid(a * ctx.beta)),)


class Softmax(Function):
    """softmax(a)_i = e^(a_i − max) / Σ_j e^(a_j − max) along ``dim`` (the max shift keeps it finite
    at ±1000). Backward: s ⊙ (g − Σ g⊙s)."""

    @staticmethod
    def forward(ctx, a, dim=-1):
        ctx.dim = dim
        shifted = a - a.max(axis=dim, keepdims=True)
        e = np.exp(shifted)
        e /= e.sum(axis=dim, keepdims=True)
        ctx.out = e
        return e

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.inputs
        if not _grad_mode.enabled:  # first-order: the same formula on arrays
            s = ctx.out
            gs = grad.data * s
            return (gs - s * gs.sum(axis=ctx.dim, keepdims=True),)
        s = saved_output(ctx, ctx.out, lambda: softmax(a, ctx.dim))
        gs = grad * s
        return (gs - s * gs.sum(dim=ctx.dim, keepdim=True),)


class LogSoftmax(Function):
    """log_softmax(a) = a − max − ln Σ e^(a − max) along ``dim``; backward g − softmax·Σg."""

    @staticmethod
    def forward(ctx, a, dim=-1):
        ctx.dim = dim
        shifted = a - a.max(axis=dim, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.inputs
        if not _grad_mode.enabled:  # first-order: the same formula on arrays
            g = grad.data
            return (g - np.exp(ctx.out) * g.sum(axis=ctx.dim, keepdims=True),)
        out = saved_output(ctx, ctx.out, lambda: log_softmax(a, ctx.dim))
        return (grad - E.exp(out) * grad.sum(dim=ctx.dim, keepdim=True),)


def _dim(a, dim, op):
    if dim is None:
        # PyTorch's implicit dim for softmax is deprecated; we use the last axis.
        return -1
    d = normalize_dim(dim, a.ndim, op)
    return d[0] if a.ndim else 0


def relu(a):
    """max(0, a)."""
    return ReLU.apply(a)


def leaky_relu(a, negative_slope=0.01):
    """a if a > 0 else negative_slope·a."""
    return LeakyReLU.apply(a, negative_slope=negative_slope)


def elu(a, alpha=1.0):
    """a if a > 0 else α(e^a − 1)."""
    return ELU.apply(a, alpha=alpha)


def gelu(a, approximate="none"):
    """a·Φ(a) (``approximate="tanh"`` for the tanh form)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}; "
                         "help: use approximate='tanh' for the fast form")
    return GELU.apply(a, approximate=approximate)


def erf(a):
    """The error function."""
    return Erf.apply(a)


def softplus(a, beta=1.0, threshold=20.0):
    """(1/β)·ln(1 + e^(βa)); linear when βa > threshold."""
    return Softplus.apply(a, beta=beta, threshold=threshold)


def softmax(a, dim=None):
    """Softmax along ``dim`` (default: last)."""
    return Softmax.apply(a, dim=_dim(a, dim, "softmax"))


def log_softmax(a, dim=None):
    """Log-softmax along ``dim`` (default: last), stable for any logits."""
    return LogSoftmax.apply(a, dim=_dim(a, dim, "log_softmax"))
