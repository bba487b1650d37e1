"""Functional derivatives built on reverse mode: ``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``hvp``.

For f: ℝⁿ → ℝᵐ, the Jacobian J[i, j] = ∂f_i/∂x_j is assembled one row per vector-Jacobian product
vᵀJ with v = e_i; the Hessian of a scalar f is the Jacobian of its gradient (double backward).
"""

from __future__ import annotations

import numpy as np


def _tensors(x):
    return (tuple(x), False) if isinstance(x, (tuple, list)) else ((x,), True)


def _prepare(inputs, create_graph):
    from groundup.tensor import Tensor

    xs, single = _tensors(inputs)
    fresh = tuple(Tensor(x.data if create_graph else x.data.copy(), requires_grad=True)
                  if not (create_graph and x.requires_grad) else x for x in xs)
    return fresh, single


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀ·J): the output and the vector-Jacobian product."""
    from groundup.autograd import grad
    from groundup.tensor import Tensor

    xs, single = _prepare(inputs, create_graph)
    out = func(*xs)
    if v is None:
        v = Tensor(np.ones_like(out.data))
    g = grad(out, xs, v, create_graph=create_graph, allow_unused=True)
    g = tuple(Tensor(np.zeros_like(x.data)) if gi is None else gi for x, gi in zip(xs, g))
    out = out if create_graph else out.detach()
    return out, (g[0] if single else g)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J·v): the Jacobian-vector product, by the double-vjp trick
    J·v = ∂/∂u (uᵀJ)·v, exact for any func."""
    from groundup.autograd import grad
    from groundup.tensor import Tensor

    xs, single = _prepare(inputs, True)
    vs, _ = _tensors(v) if v is not None else (tuple(Tensor(np.ones_like(x.data)) for x in xs), 0)
    out = func(*xs)
    u = Tensor(np.zeros_like(out.data), requires_grad=True)
    g = grad(out, xs, u, create_graph=True, allow_unused=True)
    total = None
    for gi, vi in zip(g, vs):
        if gi is not None:
            term = (gi * vi).sum()
            total = term if total is None else total + term
    if total is None or not total.requires_grad:
        jv = Tensor(np.zeros_like(out.data))
    else:
        (jv,) = grad(total, [u], create_graph=create_graph, allow_unused=True)
        jv = Tensor(np.zeros_like(out.data)) if jv is None else jv
    return (out if create_graph else out.detach()), (jv if create_graph else jv.detach())


def jacobian(func, inputs, create_graph=False, strict=False):
    """J[i..., j...] = ∂func(x)_i/∂x_j, shape output.shape + input.shape (a tuple per input when
    ``inputs`` is a tuple)."""
    from groundup.autograd import grad
    from groundup.tensor import Tensor

    xs, single = _prepare(inputs, create_graph)
    out = func(*xs)
    out_t, out_single = _tensors(out)
    results = []
    for o in out_t:
        rows = [[] for _ in xs]
        for r in range(o.data.size):
            go = np.zeros(o.shape, dtype=o.dtype)
            go.reshape(-1)[r] = 1.0
            if o.requires_grad:
                gs = grad(o, xs, Tensor(go), retain_graph=True, create_graph=create_graph,
                          allow_unused=True)
            else:
                gs = (None,) * len(xs)
            for k, (x, g) in enumerate(zip(xs, gs)):
                rows[k].append(Tensor(np.zeros_like(x.data)) if g is None else g)
        per_input = []
        for k, x in enumerate(xs):
            from groundup.ops.shape import stack

            j = stack(rows[k]) if rows[k] else Tensor(np.zeros((0,) + x.shape, dtype=x.dtype))
            j = j.reshape(o.shape + x.shape)
            per_input.append(j if create_graph else j.detach())
        results.append(per_input[0] if single else tuple(per_input))
    return results[0] if out_single else tuple(results)


def hessian(func, inputs, create_graph=False, strict=False):
    """H[i, j] = ∂²f/∂x_i∂x_j of a scalar ``func`` (shape input.shape + input.shape): the Jacobian
    of the gradient, computed by double backward."""
    from groundup.autograd import grad

    xs, single = _prepare(inputs, True)

    def gradient(*args):
        out = func(*args)
        g = grad(out, args, create_graph=True, allow_unused=True)
        from groundup.tensor import Tensor

        g = tuple(Tensor(np.zeros_like(a.data)) if gi is None else gi for a, gi in zip(args, g))
        return g[0] if single else g

    h = jacobian(gradient, xs[0] if single else xs, create_graph=create_graph)
    return h


def hvp(func, inputs, v, create_graph=False, strict=False):
    """(func(inputs), H·v): the Hessian-vector product by double backward, without forming H:
    H·v = ∇(∇f · v)."""
    from groundup.autograd import grad
    from groundup.tensor import Tensor

    xs, single = _prepare(inputs, True)
    vs, _ = _tensors(v)
    out = func(*xs)
    g = grad(out, xs, create_graph=True, allow_unused=True)
    total = None
    for gi, vi in zip(g, vs):
        if gi is not None and gi.requires_grad:
            term = (gi * vi).sum()
            total = term if total is None else total + term
    if total is None:
        hv = tuple(Tensor(np.zeros_like(x.data)) for x in xs)
    else:
        hv = grad(total, xs, create_graph=create_graph, allow_unused=True)
        hv = tuple(Tensor(np.zeros_like(x.data)) if h is None else h for x, h in zip(xs, hv))
    if not create_graph:
        hv = tuple(h.detach() for h in hv)
        out = out.detach()
    return out, (hv[0] if single else hv)
