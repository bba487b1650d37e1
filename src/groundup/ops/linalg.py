"""Matrix products: matmul (every case of PyTorch's ``@``), mm, bmm, outer, dot, einsum, linear.

Matmul's adjoint for C = A·B is ∂L/∂A = G·Bᵀ and ∂L/∂B = Aᵀ·G (batched over leading axes, then
reduced with unbroadcast where the batch axes were broadcast). 1-D operands are promoted to a row
(left) or a column (right) and the promoted axis is removed again, as NumPy and PyTorch do.

A first-order backward (nothing records it) computes the same products on plain arrays: one BLAS
call each, without a Tensor and a Function call around every transpose, product and sum.
"""

from __future__ import annotations

import numpy as np

from groundup.autograd.function import Function, keep_partners
from groundup.autograd.grad_mode import state as _grad_mode
from groundup.errors import ShapeError, hint
from groundup.ops._gemm import gemm
from groundup.ops._util import sum_to, unbroadcast


def _matmul_error(op, sa, sb, reason):
    return ShapeError(hint(
        f"{op}: cannot multiply shapes {tuple(sa)} and {tuple(sb)}: {reason}",
        "the last dimension of the left operand must equal the second-to-last of the right "
        "(transpose one of them with .T or .transpose(-1, -2))",
    ))


class MatMul(Function):
    """a @ b."""

    keep_inputs = staticmethod(keep_partners)

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise _matmul_error("matmul", a.shape, b.shape, "both operands need at least 1 dimension")
        ka = a.shape[-1]
        kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if ka != kb:
            raise _matmul_error("matmul", a.shape, b.shape, f"inner sizes {ka} and {kb} differ")
        try:
            if a.ndim >= 2 and b.ndim >= 2:
                return gemm(a, b)
            return np.matmul(a, b)
        except ValueError:
            raise _matmul_error("matmul", a.shape, b.shape, "batch dimensions do not broadcast")

    @staticmethod
    def backward(ctx, grad):
        if not _grad_mode.enabled:
            return MatMul._backward_arrays(ctx, grad.data)
        a, b = ctx.inputs
        sa, sb = ctx.shapes
        if len(sa) == 1 and len(sb) == 1:  # dot product: ∂(a·b)/∂a = b, ∂/∂b = a
            na, nb = ctx.needs_input_grad
            return (grad * b if na else None), (grad * a if nb else None)
        g = grad
        if len(sa) == 1:
            g = g.unsqueeze(-2)
        if len(sb) == 1:
            g = g.unsqueeze(-1)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            B = b.unsqueeze(-1) if len(sb) == 1 else b
            ga = g @ B.transpose(-1, -2)
            if len(sa) == 1:
                ga = ga.squeeze(-2)
            ga = unbroadcast(ga, sa)
        if ctx.needs_input_grad[1]:
            A = a.unsqueeze(0) if len(sa) == 1 else a
            gb = A.transpose(-1, -2) @ g
            if len(sb) == 1:
                gb = gb.squeeze(-1)
            gb = unbroadcast(gb, sb)
        return ga, gb

    @staticmethod
    def _backward_arrays(ctx, g):
        """The rules above on arrays (first-order backward): G·Bᵀ and Aᵀ·G."""
        a, b = ctx.inputs
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad
        if len(sa) == 1 and len(sb) == 1:
            return (g * b.data if na else None), (g * a.data if nb else None)
        if len(sa) == 1:
            g = np.expand_dims(g, -2)
        if len(sb) == 1:
            g = np.expand_dims(g, -1)
        ga = gb = None
        if na:
            B = b.data[:, None] if len(sb) == 1 else b.data
            ga = gemm(g, np.swapaxes(B, -1, -2))
            ga = sum_to(ga[..., 0, :] if len(sa) == 1 else ga, sa)
        if nb:
            A = a.data[None, :] if len(sa) == 1 else a.data
            gb = gemm(np.swapaxes(A, -1, -2), g)
            gb = sum_to(gb[..., 0] if len(sb) == 1 else gb, sb)
        return ga, gb


def _x_wt(x, weight):
    """x·Wᵀ for a 2-D x (n, in) and W (out, in): one GEMM (split over the kernel threads by
    :func:`groundup.ops._gemm.gemm`), returned row-major.

    For a small batch and a wide layer OpenBLAS runs the product faster as (W·xᵀ)ᵀ (measured: 0.5–0.9×
    the time for n ≤ out/4 and in ≥ 256). Each output element is the same dot product either way,
    so the numbers are identical; only the order in which BLAS visits them changes.
    """
    n, k = x.shape
    m = weight.shape[0]
    if m >= max(4 * n, 256) and k >= 256:
        return np.ascontiguousarray(gemm(weight, x.T).T)
    return gemm(x, weight.T)


class Linear(Function):
    """y = x·Wᵀ + b, fused (one BLAS call forward, two backward). Shapes: x (..., in), W (out, in),
    b (out,). Backward: ∂x = G·W, ∂W = Gᵀ·x (summed over the batch), ∂b = Σ G."""

    keep_inputs = staticmethod(keep_partners)

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        if x.shape[-1] != weight.shape[1]:
            raise ShapeError(hint(
                f"linear: input of shape {x.shape} does not match weight of shape {weight.shape}: "
                f"expected (..., {weight.shape[1]})",
                "the input's last dimension must equal in_features (flatten images first)",
            ))
        if x.ndim == 2:
            out = _x_wt(x, weight)
        elif x.ndim > 2:  # one GEMM over all leading axes, not one per batch entry
            out = _x_wt(x.reshape(-1, x.shape[-1]), weight).reshape(x.shape[:-1] + (-1,))
        else:
            out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight, bias = ctx.inputs
        if not _grad_mode.enabled:
            return Linear._backward_arrays(ctx, grad.data)
        gx = gw = gb = None
        g2 = grad.reshape(-1, grad.shape[-1]) if grad.ndim != 2 else grad
        if ctx.needs_input_grad[0]:
            gx = g2 @ weight
            if grad.ndim != 2:
                gx = gx.reshape(ctx.shapes[0])
        if ctx.needs_input_grad[1] or (bias is not None and ctx.needs_input_grad[2]):
            if ctx.needs_input_grad[1]:
                x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
                gw = g2.transpose(0, 1) @ x2
            if bias is not None and ctx.needs_input_grad[2]:
                gb = g2.sum(dim=0)
        return gx, gw, gb

    @staticmethod
    def _backward_arrays(ctx, g):
        """The rules above on arrays (first-order backward): G·W, Gᵀ·x, Σ G, one BLAS call each."""
        x, weight, bias = ctx.inputs
        nx, nw = ctx.needs_input_grad[:2]
        nb = bias is not None and ctx.needs_input_grad[2]
        g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
        gx = gw = gb = None
        if nx:
            gx = gemm(g2, weight.data)
            if g.ndim != 2:
                gx = gx.reshape(ctx.shapes[0])
        if nw:
            xd = x.data
            gw = gemm(g2.T, xd.reshape(-1, xd.shape[-1]) if xd.ndim != 2 else xd)
        if nb:
            gb = g2.sum(axis=0)
        return gx, gw, gb


def matmul(a, b):
    """Matrix product with PyTorch's ``@`` semantics (vectors, matrices, broadcast batches)."""
    return MatMul.apply(a, b)


def mm(a, b):
    """Product of two 2-D matrices (n, k) @ (k, m) → (n, m)."""
    if a.ndim != 2 or b.ndim != 2:
        raise _matmul_error("mm", a.shape, b.shape, "mm takes two 2-D matrices (use matmul)")
    return MatMul.apply(a, b)


def bmm(a, b):
    """Batched product (B, n, k) @ (B, k, m) → (B, n, m), same batch size required."""
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise _matmul_error("bmm", a.shape, b.shape, "bmm takes (B, n, k) and (B, k, m)")
    return MatMul.apply(a, b)


def outer(a, b):
    """Outer product of vectors: (n,) ⊗ (m,) → (n, m), out[i, j] = a_i·b_j."""
    if a.ndim != 1 or b.ndim != 1:
        raise _matmul_error("outer", a.shape, b.shape, "outer takes two 1-D vectors")
    return a.unsqueeze(1) * b.unsqueeze(0)


def dot(a, b):
    """Dot product of two 1-D vectors of equal length: Σ a_i b_i."""
    if a.ndim != 1 or b.ndim != 1 or a.shape[0] != b.shape[0]:
        raise _matmul_error("dot", a.shape, b.shape, "dot takes two 1-D vectors of equal length")
    return MatMul.apply(a, b)


def linear(x, weight, bias=None):
    """y = x·Wᵀ + b with W of shape (out_features, in_features) (PyTorch's layout)."""
    return Linear.apply(x, weight, bias)


class Einsum(Function):
    """Einstein summation over one or two operands without repeated indices within an operand."""

    @staticmethod
    def forward(ctx, *operands, equation=""):
        ctx.equation = equation
        return np.asarray(np.einsum(equation, *operands, optimize=len(operands) > 1))

    @staticmethod
    def backward(ctx, grad):
        ins, out = ctx.equation.split("->")
        subs = ins.split(",")
        grads = []
        for i, sub in enumerate(subs):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [(s, ctx.inputs[j]) for j, s in enumerate(subs) if j != i]
            available = set(out).union(*[set(s) for s, _ in others])
            present = "".join(c for c in sub if c in available)
            eq = ",".join([out] + [s for s, _ in others]) + "->" + present
            g = einsum(eq, grad, *[t for _, t in others])
            if present != sub:
                shape = ctx.shapes[i]
                # an index summed away within this operand alone: its gradient is broadcast back
                for pos, c in enumerate(sub):
                    if c not in available:
                        g = g.unsqueeze(pos)
                g = g.expand(shape)
            grads.append(g)
        return tuple(grads)


def einsum(equation, *operands):
    """Einstein summation, e.g. ``einsum("ij,jk->ik", a, b)`` (one or two operands; explicit
    ``->`` output; no repeated index inside one operand)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    if "->" not in eq:
        ins = eq.split(",")
        letters = sorted(c for c in set("".join(ins)) if sum(s.count(c) for s in ins) == 1)
        eq = eq + "->" + "".join(letters)
    ins, _ = eq.split("->")
    subs = ins.split(",")
    if "." in eq or any(len(set(s)) != len(s) for s in subs) or len(subs) != len(operands):
        raise ShapeError(hint(
            f"einsum: unsupported equation {equation!r} for {len(operands)} operand(s)",
            "use explicit indices (no '...'), no repeated index inside one operand, and one "
            "subscript group per operand",
        ))
    for s, op in zip(subs, operands):
        if len(s) != len(op.shape):
            raise ShapeError(hint(
                f"einsum: subscripts {s!r} have {len(s)} indices but the operand has shape "
                f"{tuple(op.shape)}",
                "give one index letter per dimension",
            ))
    return Einsum.apply(*operands, equation=eq)
