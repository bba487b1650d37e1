"""Elementwise arithmetic and math functions with full NumPy broadcasting.

Each op's backward is written with Tensor ops (so it can itself be differentiated) and reduces its
gradient to each input's shape with :func:`unbroadcast`. The hot ones also apply the same rule to
plain arrays when nothing records the backward (a first-order ``backward()``, the training case):
the numbers are identical, without a Tensor and a Function call per intermediate result.
"""

from __future__ import annotations

import math

import numpy as np

from groundup.autograd.function import Function, keep_none, keep_partners, saved_output
from groundup.autograd.grad_mode import state as _grad_mode
from groundup.ops._util import broadcast_shapes, shape_of, sum_to, unbroadcast


def value(x):
    """The array (or Python number) behind an op input: first-order fast paths compute on these."""
    return getattr(x, "data", x)


def _binary_check(op, a, b):
    sa, sb = shape_of(a), shape_of(b)
    if sa != sb and sa and sb:
        broadcast_shapes(op, sa, sb)


class Add(Function):
    """a + b."""

    keep_inputs = staticmethod(keep_none)

    @staticmethod
    def forward(ctx, a, b):
        try:
            return a + b
        except ValueError:
            _binary_check("add", a, b)
            raise

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        na, nb = ctx.needs_input_grad
        if not _grad_mode.enabled:  # first-order: same rule on arrays (see the module docstring)
            g = grad.data
            return (sum_to(g, a.shape) if na else None), (sum_to(g, b.shape) if nb else None)
        return (unbroadcast(grad, a.shape) if na else None,
                unbroadcast(grad, b.shape) if nb else None)


class Sub(Function):
    """a − b."""

    keep_inputs = staticmethod(keep_none)

    @staticmethod
    def forward(ctx, a, b):
        try:
            return a - b
        except ValueError:
            _binary_check("sub", a, b)
            raise

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        na, nb = ctx.needs_input_grad
        if not _grad_mode.enabled:  # first-order: same rule on arrays
            g = grad.data
            return (sum_to(g, a.shape) if na else None), (sum_to(-g, b.shape) if nb else None)
        return (unbroadcast(grad, a.shape) if na else None,
                unbroadcast(-grad, b.shape) if nb else None)


class Mul(Function):
    """a · b; ∂/∂a = b, ∂/∂b = a (the "swap")."""

    keep_inputs = staticmethod(keep_partners)

    @staticmethod
    def forward(ctx, a, b):
        try:
            return a * b
        except ValueError:
            _binary_check("mul", a, b)
            raise

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        na, nb = ctx.needs_input_grad
        if not _grad_mode.enabled:  # first-order: same rule on arrays
            g = grad.data
            return ((sum_to(g * value(b), a.shape) if na else None),
                    (sum_to(g * value(a), b.shape) if nb else None))
        ga = unbroadcast(grad * b, a.shape) if na else None
        gb = unbroadcast(grad * a, b.shape) if nb else None
        return ga, gb


class Div(Function):
    """a / b; ∂/∂a = 1/b, ∂/∂b = −a/b²."""

    keep_inputs = staticmethod(lambda needs: (needs[1], True))

    @staticmethod
    def forward(ctx, a, b):
        try:
            return a / b
        except ValueError:
            _binary_check("div", a, b)
            raise

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        na, nb = ctx.needs_input_grad
        if not _grad_mode.enabled:  # first-order: same rule on arrays
            g, av, bv = grad.data, value(a), value(b)
            return ((sum_to(g / bv, a.shape) if na else None),
                    (sum_to(-g * av / (bv * bv), b.shape) if nb else None))
        ga = unbroadcast(grad / b, a.shape) if na else None
        gb = unbroadcast(-grad * a / (b * b), b.shape) if nb else None
        return ga, gb


class Neg(Function):
    """−a."""

    keep_inputs = staticmethod(keep_none)

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return (-grad.data if not _grad_mode.enabled else -grad,)  # arrays when first-order


class Pow(Function):
    """a ** b for tensor or scalar b; ∂/∂a = b·a^(b−1), ∂/∂b = a^b·ln a."""

    @staticmethod
    def forward(ctx, a, b):
        try:
            out = a**b
        except ValueError:
            _binary_check("pow", a, b)
            raise
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        sa, sb = ctx.shapes
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if isinstance(b, (int, float)):
                if b == 0:
                    ga = grad * 0.0
                elif b == 1:
                    ga = grad
                elif b == 2:
                    ga = grad * (a * 2.0)
                else:
                    ga = grad * (b * a ** (b - 1))
            else:
                ga = grad * (b * a ** (b - 1))
            ga = unbroadcast(ga, sa)
        if ctx.needs_input_grad[1]:
            out = saved_output(ctx, ctx.out, lambda: a**b)
            log_a = math.log(a) if isinstance(a, (int, float)) else log(a)
            gb = unbroadcast(grad * out * log_a, sb)
        return ga, gb


def _unary(name, fwd, bwd, doc, uses_output=False, arithmetic=True):
    """Build a one-input Function from its forward (arrays) and backward (Tensors) rules.

    ``arithmetic``: the backward rule uses only + − × ÷, so it runs unchanged on arrays, which a
    first-order backward does (no Tensor per intermediate result)."""

    if uses_output:

        def forward(ctx, a):
            out = fwd(a)
            ctx.out = out
            return out

        def backward(ctx, grad):
            (a,) = ctx.inputs
            if arithmetic and not _grad_mode.enabled:
                return (bwd(grad.data, a.data, ctx.out),)
            out = saved_output(ctx, ctx.out, lambda: _PUBLIC[name](a))
            return (bwd(grad, a, out),)

    else:

        def forward(ctx, a):
            return fwd(a)

        def backward(ctx, grad):
            (a,) = ctx.inputs
            if arithmetic and not _grad_mode.enabled:
                return (bwd(grad.data, a.data, None),)
            return (bwd(grad, a, None),)

    cls = type(name, (Function,), {
        "forward": staticmethod(forward),
        "backward": staticmethod(backward),
        "__doc__": doc,
    })
    return cls


def _sigmoid_array(x):
    """σ(x) = 1/(1+e^−x) without overflow and with full relative precision on both tails:
    with e = e^(−|x|), σ(x) = 1/(1+e) for x ≥ 0 and e/(1+e) for x < 0."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    e = np.exp(-np.abs(x))
    inv = 1.0 / (1.0 + e)
    return np.where(x >= 0, inv, e * inv).astype(x.dtype, copy=False)


Exp = _unary("Exp", np.exp, lambda g, a, out: g * out, "e^a; derivative e^a.", uses_output=True)
Log = _unary("Log", np.log, lambda g, a, out: g / a, "ln a; derivative 1/a.")
Log1p = _unary("Log1p", np.log1p, lambda g, a, out: g / (a + 1.0), "ln(1+a); derivative 1/(1+a).")
Sqrt = _unary("Sqrt", np.sqrt, lambda g, a, out: g / (out * 2.0), "√a; derivative 1/(2√a).",
              uses_output=True)
Rsqrt = _unary("Rsqrt", lambda a: 1.0 / np.sqrt(a), lambda g, a, out: g * (out * out * out) * -0.5,
               "1/√a; derivative −½·a^(−3/2).", uses_output=True)
Reciprocal = _unary("Reciprocal", np.reciprocal, lambda g, a, out: -g * out * out,
                    "1/a; derivative −1/a².", uses_output=True)
Abs = _unary("Abs", np.abs, lambda g, a, out: g * sign(a), "|a|; derivative sign(a) (0 at 0).",
             arithmetic=False)
Sin = _unary("Sin", np.sin, lambda g, a, out: g * cos(a), "sin a; derivative cos a.",
             arithmetic=False)
Cos = _unary("Cos", np.cos, lambda g, a, out: -g * sin(a), "cos a; derivative −sin a.",
             arithmetic=False)
Tanh = _unary("Tanh", np.tanh, lambda g, a, out: g * (1.0 - out * out),
              "tanh a; derivative 1 − tanh² a.", uses_output=True)
Sigmoid = _unary("Sigmoid", _sigmoid_array, lambda g, a, out: g * (out * (1.0 - out)),
                 "σ(a) = 1/(1+e^−a); derivative σ(a)(1−σ(a)).", uses_output=True)


class Sign(Function):
    """sign(a) ∈ {−1, 0, 1}; its gradient is zero everywhere (and undefined at 0: we use 0)."""

    @staticmethod
    def forward(ctx, a):
        return np.sign(a)

    @staticmethod
    def backward(ctx, grad):
        return (grad * 0.0,)


class Clamp(Function):
    """min(max(a, lo), hi); gradient 1 where lo ≤ a ≤ hi (boundary included, like PyTorch), else 0."""

    @staticmethod
    def forward(ctx, a, lo=None, hi=None):
        ctx.lo, ctx.hi = lo, hi
        return np.clip(a, lo, hi) if (lo is not None or hi is not None) else a.copy()

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.inputs
        x = a.data
        mask = np.ones(x.shape, dtype=bool)
        if ctx.lo is not None:
            mask &= x >= ctx.lo
        if ctx.hi is not None:
            mask &= x <= ctx.hi
        return (grad * mask.astype(x.dtype),)


def _extremum_weights(a, b, grad, pick):
    """Share of the gradient that goes to ``a`` in max/min(a, b): 1 where ``a`` is picked, 0 where
    ``b`` is, ½ at ties (PyTorch's convention)."""
    av, bv = np.asarray(getattr(a, "data", a)), np.asarray(getattr(b, "data", b))
    dtype = grad.data.dtype
    return pick(av, bv).astype(dtype) + 0.5 * (av == bv).astype(dtype)


class Maximum(Function):
    """Elementwise max(a, b); at ties the gradient is split half and half (like PyTorch)."""

    combine = staticmethod(np.maximum)
    picks_a = staticmethod(np.greater)  # where the gradient goes to a

    @staticmethod
    def forward(ctx, a, b):
        return ctx.fn.combine(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        wa = _extremum_weights(a, b, grad, ctx.fn.picks_a)
        sa, sb = ctx.shapes
        return unbroadcast(grad * wa, sa), unbroadcast(grad * (1.0 - wa), sb)


class Minimum(Maximum):
    """Elementwise min(a, b); at ties the gradient is split half and half (like PyTorch)."""

    combine = staticmethod(np.minimum)
    picks_a = staticmethod(np.less)


class Where(Function):
    """where(cond, a, b): a where cond is true, else b; the gradient follows the same choice."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = np.asarray(cond, dtype=bool)
        return np.where(ctx.cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        _, sa, sb = ctx.shapes
        m = ctx.cond.astype(grad.data.dtype)
        return None, unbroadcast(grad * m, sa), unbroadcast(grad * (1.0 - m), sb)


# ----------------------------------------------------------------------------- public functions


def add(a, b, *, alpha=1):
    """a + alpha·b (broadcasting)."""
    return Add.apply(a, b if alpha == 1 else b * alpha)


def sub(a, b, *, alpha=1):
    """a − alpha·b (broadcasting)."""
    return Sub.apply(a, b if alpha == 1 else b * alpha)


def mul(a, b):
    """a · b elementwise (broadcasting)."""
    return Mul.apply(a, b)


def div(a, b):
    """a / b elementwise (broadcasting)."""
    return Div.apply(a, b)


def neg(a):
    """−a."""
    return Neg.apply(a)


def pow(a, b):  # noqa: A001 (PyTorch's name)
    """a ** b, b a tensor or a scalar."""
    return Pow.apply(a, b)


def exp(a):
    """e^a."""
    return Exp.apply(a)


def log(a):
    """Natural logarithm ln a."""
    return Log.apply(a)


def log1p(a):
    """ln(1 + a), accurate for small a."""
    return Log1p.apply(a)


def sqrt(a):
    """√a."""
    return Sqrt.apply(a)


def rsqrt(a):
    """1/√a."""
    return Rsqrt.apply(a)


def reciprocal(a):
    """1/a."""
    return Reciprocal.apply(a)


def abs(a):  # noqa: A001
    """|a|."""
    return Abs.apply(a)


def sign(a):
    """sign(a) (gradient zero)."""
    return Sign.apply(a)


def sin(a):
    """sin a."""
    return Sin.apply(a)


def cos(a):
    """cos a."""
    return Cos.apply(a)


def tanh(a):
    """tanh a."""
    return Tanh.apply(a)


def sigmoid(a):
    """σ(a) = 1 / (1 + e^−a), computed stably for any a."""
    return Sigmoid.apply(a)


def clamp(a, min=None, max=None):  # noqa: A002
    """Clamp into [min, max] (either bound may be None)."""
    return Clamp.apply(a, lo=min, hi=max)


clip = clamp


def maximum(a, b):
    """Elementwise maximum of two tensors."""
    return Maximum.apply(a, b)


def minimum(a, b):
    """Elementwise minimum of two tensors."""
    return Minimum.apply(a, b)


def where(condition, a, b):
    """Elements of ``a`` where ``condition`` holds, else of ``b`` (all three broadcast)."""
    cond = getattr(condition, "data", condition)
    return Where.apply(cond, a, b)


_PUBLIC = {
    "Exp": exp, "Sqrt": sqrt, "Rsqrt": rsqrt, "Reciprocal": reciprocal, "Tanh": tanh,
    "Sigmoid": sigmoid,
}
