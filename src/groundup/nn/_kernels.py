"""Fused kernels behind ``nn.functional``: cross-entropy from logits, normalisation (batch, layer,
group), dropout's mask multiply and the embedding lookup.

Each is a :class:`~groundup.autograd.Function` whose first-order backward works on NumPy arrays (one
pass, no graph bookkeeping: this is the hot path of training). When the backward itself is being
recorded (``backward(create_graph=True)``) it switches to the same formula written with Tensor ops,
so second derivatives still work. The tests check both paths against plain compositions.
"""

from __future__ import annotations

import numpy as np

from groundup._threads import parallel_for
from groundup.autograd import grad_mode
from groundup.autograd.function import Function
from groundup.errors import hint
from groundup.ops import activation as A
from groundup.ops._util import sum_to as _sum_to
from groundup.tensor import Tensor

_state = grad_mode.state


# ----------------------------------------------------------------------------- cross-entropy
def _to_rows(x: np.ndarray) -> np.ndarray:
    """(C,) → (1, C); (N, C) as is; (N, C, d1, ...) → (N·d1·..., C) with classes last."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim == 2:
        return x
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _from_rows(rows: np.ndarray, shape: tuple) -> np.ndarray:
    """Inverse of :func:`_to_rows` for an array of logits' shape."""
    if len(shape) <= 2:
        return rows.reshape(shape)
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return np.moveaxis(rows.reshape(moved), -1, 1)


class CrossEntropy(Function):
    """Cross-entropy from logits in one pass (PyTorch's ``F.cross_entropy``).

    Shapes: logits (C,), (N, C) or (N, C, d1, ...); target class indices of shape (), (N) or
    (N, d1, ...), or class probabilities of the logits' shape. Per element
    loss = −Σ_c w_c·t_c·log softmax(z)_c with t the (smoothed) one-hot or given distribution.
    Backward: ∂loss/∂z = softmax(z)·Σ_c w_c t_c − w⊙t, scaled by the upstream gradient (and by
    1/Σ w_{y_i} for the mean over indices, 1/N for probabilities).
    """

    @staticmethod
    def forward(ctx, logits, target, weight=None, ignore_index=-100, reduction="mean",
                label_smoothing=0.0, probs=False):
        shape = logits.shape
        n_classes = shape[0] if logits.ndim == 1 else shape[1]
        dtype = logits.dtype
        z = _to_rows(logits)
        m = z.max(axis=1, keepdims=True) if z.size else np.zeros((z.shape[0], 1), dtype)
        sh = z - m
        e = np.exp(sh)
        s = e.sum(axis=1, keepdims=True)
        logs = np.log(s)
        ctx.e, ctx.s = e, s
        ctx.shape, ctx.reduction, ctx.ls, ctx.probs = shape, reduction, label_smoothing, probs
        ctx.weight = None if weight is None else np.asarray(weight, dtype=dtype)
        w = ctx.weight
        ls = label_smoothing
        if probs:
            t = _to_rows(np.asarray(target, dtype=dtype))
            if ls:
                t = t * (1.0 - ls) + ls / n_classes
            coef = t * w if w is not None else t
            losses = -(coef * (sh - logs)).sum(axis=1)
            ctx.coef = coef
            denom = losses.shape[0]
            out_shape = shape[:1] + shape[2:] if logits.ndim >= 2 else ()
        else:
            y = np.asarray(target).reshape(-1)
            valid = y != ignore_index
            yc = np.where(valid, y, 0)
            if y.size and (yc.min() < 0 or yc.max() >= n_classes):
                bad = y[valid & ((y < 0) | (y >= n_classes))]
                raise ValueError(hint(
                    f"cross_entropy: target class {int(bad[0])} is out of range for {n_classes} "
                    "classes",
                    f"class indices must lie in [0, {n_classes - 1}] (or equal ignore_index="
                    f"{ignore_index}); labels 1..C must be shifted to 0..C-1",
                ))
            rows = np.arange(y.shape[0])
            w_y = w[yc] * valid if w is not None else valid.astype(dtype)
            losses = -w_y * (sh[rows, yc] - logs[:, 0])
            if ls:
                logp = sh - logs
                smooth = -(logp @ w) if w is not None else -logp.sum(axis=1)
                losses = (1.0 - ls) * losses + (ls / n_classes) * (smooth * valid)
            ctx.yc, ctx.valid, ctx.w_y, ctx.rows = yc, valid, w_y, rows
            denom = w_y.sum()
            out_shape = np.shape(target)
        losses = losses.astype(dtype, copy=False)
        ctx.denom = denom
        if reduction == "none":
            return losses.reshape(out_shape)
        if reduction == "sum":
            return np.asarray(losses.sum(), dtype=dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(losses.sum() / denom, dtype=dtype)

    @staticmethod
    def _upstream(ctx, g: np.ndarray) -> np.ndarray:
        """The per-row factor: the upstream gradient per element (/denominator for the mean)."""
        n = ctx.e.shape[0]
        if ctx.reduction == "none":
            return g.reshape(-1)
        if ctx.reduction == "sum":
            return np.full(n, g.reshape(()), dtype=g.dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.full(n, g.reshape(()) / ctx.denom, dtype=g.dtype)

    @staticmethod
    def backward(ctx, grad):
        logits, target = ctx.inputs[0], ctx.inputs[1]
        if _state.enabled:
            return CrossEntropy._backward_graph(ctx, grad)
        gi = CrossEntropy._upstream(ctx, grad.data)
        n_classes = ctx.e.shape[1]
        gz = gt = None
        if ctx.needs_input_grad[0]:
            p = ctx.e / ctx.s
            if ctx.probs:
                coef = ctx.coef
                dz = p * (coef.sum(axis=1) * gi)[:, None]
                dz -= coef * gi[:, None]
            else:
                ls, w = ctx.ls, ctx.weight
                rowsum = (1.0 - ls) * ctx.w_y
                if ls:
                    rowsum = rowsum + (ls / n_classes) * ctx.valid * (w.sum() if w is not None
                                                                      else n_classes)
                dz = p * (rowsum * gi)[:, None]
                if ls:
                    base = (ctx.valid * gi * (ls / n_classes))[:, None]
                    dz -= base * w if w is not None else base
                dz[ctx.rows, ctx.yc] -= (1.0 - ls) * ctx.w_y * gi
            gz = Tensor(_from_rows(dz.astype(logits.dtype, copy=False), ctx.shape))
        if ctx.probs and len(ctx.needs_input_grad) > 1 and ctx.needs_input_grad[1]:
            logp = np.log(ctx.e) - np.log(ctx.s)
            w = ctx.weight if ctx.weight is not None else 1.0
            dt = -(logp * w) * (1.0 - ctx.ls) * gi[:, None]
            gt = Tensor(_from_rows(dt.astype(target.dtype, copy=False), ctx.shape))
        return gz, gt

    @staticmethod
    def _backward_graph(ctx, grad):
        """The same gradient built from Tensor ops, so that it can be differentiated again."""
        logits, target = ctx.inputs[0], ctx.inputs[1]
        shape = ctx.shape
        cdim = 0 if len(shape) == 1 else 1
        n_classes = shape[cdim]
        bshape = [1] * len(shape)
        bshape[cdim] = n_classes
        w = None if ctx.weight is None else Tensor(ctx.weight.reshape(bshape))
        if ctx.reduction == "none":
            gi = grad.unsqueeze(cdim) if len(shape) > 1 else grad
        elif ctx.reduction == "sum":
            gi = grad
        else:
            gi = grad / float(ctx.denom)
        ls = ctx.ls
        if ctx.probs:
            t = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
            coef = t * (1.0 - ls) + ls / n_classes if ls else t
            coef = coef * w if w is not None else coef
        else:
            c2 = np.zeros(ctx.e.shape, dtype=ctx.e.dtype)
            c2[ctx.rows, ctx.yc] = (1.0 - ls) * ctx.w_y
            if ls:
                c2 += (ls / n_classes) * ctx.valid[:, None] * (ctx.weight if ctx.weight is not None
                                                               else 1.0)
            coef = Tensor(_from_rows(c2, shape))
        gz = gt = None
        if ctx.needs_input_grad[0]:
            p = A.softmax(logits, cdim)
            gz = (p * coef.sum(dim=cdim, keepdim=True) - coef) * gi
        if ctx.probs and ctx.needs_input_grad[1]:
            logp = A.log_softmax(logits, cdim)
            gt = -(logp * w if w is not None else logp) * ((1.0 - ls) * gi)
        return gz, gt


# ----------------------------------------------------------------------------- normalisation
def _mean(x: np.ndarray, axes: tuple) -> np.ndarray:
    # np.add.reduce is what np.mean runs, without its Python-level wrapper: these kernels call it
    # several times per step on small arrays, where the wrapper's cost is comparable to the sum.
    n = 1
    for a in axes:
        n *= x.shape[a]
    out = np.add.reduce(x, axis=axes, keepdims=True)
    out *= 1.0 / max(n, 1) if n else np.nan
    return out


def _over_slices(shape: tuple, axis, fn) -> None:
    """``fn(index)`` for disjoint slices covering ``axis`` of an array of ``shape`` (``index`` a
    tuple selecting one slice), on several threads for large arrays
    (:func:`groundup._threads.parallel_for`). The slices share no reduction: each computes its own
    part of every result, as one call on the whole array would."""
    lead = (slice(None),) * axis
    parallel_for(shape[axis], lambda a, b: fn(lead + (slice(a, b),)), int(np.prod(shape)))


def moments(x: np.ndarray, axes: tuple, split=None):
    """Mean, biased variance (kept as size-1 axes) and the centred input x − μ over ``axes``,
    two-pass for accuracy. ``split``: an axis not in ``axes`` (batch norm's channels) whose slices
    are computed on separate threads (None: one pass over the whole array)."""
    if split is None:
        mean = _mean(x, axes)
        xc = x - mean
        var = _mean(np.square(xc), axes)
        return mean, var, xc
    kept = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    mean, var, xc = np.empty(kept, x.dtype), np.empty(kept, x.dtype), np.empty_like(x)

    def part(ix):
        m = mean[ix] = _mean(x[ix], axes)
        c = np.subtract(x[ix], m, out=xc[ix])
        var[ix] = _mean(np.square(c), axes)

    _over_slices(x.shape, split, part)
    return mean, var, xc


class Normalize(Function):
    """y = (x − μ)/√(σ² + ε)·γ + β with μ, σ² over ``axes`` (batch, layer and group norm).

    Shapes: x any; weight γ and bias β (or None) broadcast against x after reshaping to ``pshape``.
    The caller passes the statistics from :func:`moments` on x: the centred input ``xc`` = x − μ
    (a scratch array this op takes over) and ``var``.
    Backward: with x̂ the normalised input and g' = g·γ,
    ∂x = (1/σ̂)·(g' − mean(g') − x̂·mean(g'·x̂)), ∂γ = Σ g·x̂, ∂β = Σ g.
    ``split``: an axis outside ``axes`` along which γ and β vary, constant over the reduced axes
    (batch norm's channels): slices of it run on separate threads, and γ folds into per-channel
    factors (see :meth:`_backward_slices`); the saved array is then x − μ, not x̂.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, axes=(), eps=1e-5, pshape=(), xc=None, var=None, split=None):
        invstd = 1.0 / np.sqrt(var + eps)
        ctx.invstd, ctx.axes, ctx.eps, ctx.pshape, ctx.split = invstd, axes, eps, pshape, split
        if split is not None:
            ctx.xhat, out = Normalize._forward_slices(xc, invstd, weight, bias, pshape, split)
            return out.astype(x.dtype, copy=False)
        xhat = np.multiply(xc, invstd, out=xc)
        ctx.xhat = xhat
        if weight is not None:
            out = xhat * weight.reshape(pshape)
            if bias is not None:
                out += bias.reshape(pshape)
        elif bias is not None:
            out = xhat + bias.reshape(pshape)
        else:
            out = xhat.copy()  # the output must not alias the array saved for backward
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def _forward_slices(xc, invstd, weight, bias, pshape, split):
        """y = xc·(σ̂⁻¹·γ) + β, slice by slice along ``split`` (γ, β arrays, constant over each
        slice's reduced axes): one product per element instead of forming x̂ first. Keeps ``xc``
        (not x̂) for the backward."""
        scale = invstd * weight.reshape(pshape) if weight is not None else invstd
        b = bias.reshape(pshape) if bias is not None else None
        out = np.empty(xc.shape, np.result_type(xc, scale, *(() if b is None else (b,))))

        def part(ix):
            np.multiply(xc[ix], scale[ix], out=out[ix])
            if b is not None:
                out[ix] += b[ix]

        _over_slices(xc.shape, split, part)
        return xc, out

    @staticmethod
    def backward(ctx, grad):
        x, weight, bias = ctx.inputs
        if _state.enabled:
            return Normalize._backward_graph(ctx, grad)
        g = grad.data
        xhat, axes = ctx.xhat, ctx.axes
        if ctx.split is not None:
            return Normalize._backward_slices(ctx, g, x, weight, bias)
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gp = g * weight.data.reshape(ctx.pshape) if weight is not None else g
            dx = gp - _mean(gp, axes)
            dx -= xhat * _mean(gp * xhat, axes)
            dx *= ctx.invstd
            gx = Tensor(dx.astype(x.dtype, copy=False))
        if weight is not None and ctx.needs_input_grad[1]:
            gw = Tensor(_sum_to(g * xhat, ctx.pshape).reshape(weight.shape)
                        .astype(weight.dtype, copy=False))
        if bias is not None and ctx.needs_input_grad[2]:
            gb = Tensor(_sum_to(g, ctx.pshape).reshape(bias.shape).astype(bias.dtype, copy=False))
        return gx, gw, gb

    @staticmethod
    def _backward_slices(ctx, g, x, weight, bias):
        """The backward when γ is constant over each reduction (batch norm: one γ per channel),
        slice by slice along ``ctx.split``, from two per-channel sums, as PyTorch's kernel:
        S = Σ g, D = Σ g·(x − μ); then ∂β = S, ∂γ = σ̂⁻¹·D and
        ∂x = σ̂⁻¹·γ·(g − S/n − (x − μ)·σ̂⁻²·D/n): three passes over the data instead of seven."""
        xc, axes, invstd, pshape, split = ctx.xhat, ctx.axes, ctx.invstd, ctx.pshape, ctx.split
        want_x, want_w, want_b = ctx.needs_input_grad
        n = xc.size // invstd.size
        scale = invstd * weight.data.reshape(pshape) if weight is not None else invstd
        dtype = np.result_type(g, xc)
        dx = np.empty(xc.shape, np.result_type(dtype, scale)) if want_x else None
        S, D = np.empty(pshape, dtype), np.empty(pshape, dtype)

        def part(ix):
            gi, ci = g[ix], xc[ix]
            S[ix] = s = np.add.reduce(gi, axis=axes, keepdims=True)
            D[ix] = d = np.add.reduce(gi * ci, axis=axes, keepdims=True)
            if dx is not None:
                k = scale[ix]
                out = np.multiply(gi, k, out=dx[ix])
                out -= ci * (k * invstd[ix] * invstd[ix] * d / n)
                out -= k * s / n

        _over_slices(xc.shape, split, part)
        gx = Tensor(dx.astype(x.dtype, copy=False)) if dx is not None else None
        gw = gb = None
        if weight is not None and want_w:
            gw = Tensor((D * invstd).reshape(weight.shape).astype(weight.dtype, copy=False))
        if bias is not None and want_b:
            gb = Tensor(S.reshape(bias.shape).astype(bias.dtype, copy=False))
        return gx, gw, gb

    @staticmethod
    def _backward_graph(ctx, grad):
        from groundup.ops._util import unbroadcast

        x, weight, bias = ctx.inputs
        axes = ctx.axes
        mean = x.mean(dim=axes, keepdim=True)
        xc = x - mean
        invstd = ((xc * xc).mean(dim=axes, keepdim=True) + ctx.eps).rsqrt()
        xhat = xc * invstd
        gp = grad * weight.reshape(ctx.pshape) if weight is not None else grad
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = invstd * (gp - gp.mean(dim=axes, keepdim=True)
                           - xhat * (gp * xhat).mean(dim=axes, keepdim=True))
        if weight is not None and ctx.needs_input_grad[1]:
            gw = unbroadcast(grad * xhat, ctx.pshape).reshape(weight.shape)
        if bias is not None and ctx.needs_input_grad[2]:
            gb = unbroadcast(grad, ctx.pshape).reshape(bias.shape)
        return gx, gw, gb


# ----------------------------------------------------------------------------- dropout
class MaskMul(Function):
    """x·mask with a constant mask (dropout's scaled keep mask, broadcastable to x);
    backward g·mask."""

    @staticmethod
    def forward(ctx, x, mask=None):
        ctx.mask = mask
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        if _state.enabled:
            return (grad * Tensor(ctx.mask),)
        return (Tensor(grad.data * ctx.mask),)


# ----------------------------------------------------------------------------- embedding
class EmbeddingLookup(Function):
    """weight[indices]: shapes weight (V, D), indices (...) → (..., D). Backward scatter-adds the
    gradient rows into a zero (V, D) matrix (rows at ``padding_idx`` get none)."""

    @staticmethod
    def forward(ctx, weight, indices=None, padding_idx=None):
        ctx.indices, ctx.padding_idx = indices, padding_idx
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        (weight,) = ctx.inputs
        return (EmbeddingScatter.apply(grad, indices=ctx.indices, num=weight.shape[0],
                                       padding_idx=ctx.padding_idx),)


class EmbeddingScatter(Function):
    """The adjoint of :class:`EmbeddingLookup`: out[v] = Σ_{i: idx_i = v} g_i (linear in g)."""

    @staticmethod
    def forward(ctx, g, indices=None, num=0, padding_idx=None):
        ctx.indices, ctx.padding_idx = indices, padding_idx
        d = g.shape[-1]
        out = np.zeros((num, d), dtype=g.dtype)
        np.add.at(out, indices.reshape(-1), g.reshape(-1, d))
        if padding_idx is not None:
            out[padding_idx] = 0
        return out

    @staticmethod
    def backward(ctx, grad):
        gg = EmbeddingLookup.apply(grad, indices=ctx.indices)
        if ctx.padding_idx is not None:
            keep = (ctx.indices != ctx.padding_idx)[..., None].astype(grad.dtype)
            gg = gg * Tensor(keep)
        return (gg,)
