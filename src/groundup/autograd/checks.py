"""``gradcheck`` and ``gradgradcheck``: compare autograd's derivatives with central differences.

For each input element x_k the numerical derivative is (f(x + h·e_k) − f(x − h·e_k)) / 2h, in
float64; the analytical one comes from backward. They must agree within ``atol + rtol·|numerical|``.
"""

from __future__ import annotations

import numpy as np

from groundup.errors import GradError


class GradcheckError(GradError):
    """Raised when analytical and numerical derivatives disagree."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _flat_outputs(func, inputs):
    out = _as_tuple(func(*inputs))
    return [o for o in out if hasattr(o, "data") and o.data.dtype.kind == "f"]


def _name(func) -> str:
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True) -> bool:
    """Check the gradients of ``func(*inputs)`` against central differences.

    ``inputs``: a Tensor or tuple of Tensors (those with ``requires_grad`` are checked; use float64).
    Returns True, or raises :class:`GradcheckError` naming the function, the input, the element index,
    the numerical and the analytical value (returns False instead with ``raise_exception=False``).
    """
    from groundup.autograd import grad as autograd_grad
    from groundup.tensor import Tensor

    inputs = _as_tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    for i in checked:
        if inputs[i].dtype != np.float64:
            import warnings

            warnings.warn(f"gradcheck: input {i} is {inputs[i].dtype}; use float64 for a "
                          "reliable check", stacklevel=2)
    outputs = _flat_outputs(func, inputs)
    for o_idx, out in enumerate(outputs):
        n_out = out.data.size
        # analytical Jacobian rows: one vector-Jacobian product per output element
        analytical = {i: np.zeros((n_out, inputs[i].data.size)) for i in checked}
        if out.requires_grad:
            for r in range(n_out):
                go = np.zeros(out.shape, dtype=out.dtype)
                go.reshape(-1)[r] = 1.0
                fresh = _flat_outputs(func, inputs)[o_idx]
                grads = autograd_grad(fresh, [inputs[i] for i in checked], Tensor(go),
                                      allow_unused=True)
                for i, g in zip(checked, grads):
                    if g is not None:
                        analytical[i][r] = g.data.reshape(-1)
        for i in checked:
            x = inputs[i]
            flat = x.data.reshape(-1)  # a view when contiguous; else write through copies below
            writable_view = np.shares_memory(flat, x.data)
            numerical = np.zeros((n_out, x.data.size))
            for k in range(x.data.size):
                orig = flat[k]
                # func runs with grad recording on: it may itself call autograd (gradgradcheck)
                _set(x, flat, k, orig + eps, writable_view)
                plus = np.array(_flat_outputs(func, inputs)[o_idx].data, dtype=np.float64)
                _set(x, flat, k, orig - eps, writable_view)
                minus = np.array(_flat_outputs(func, inputs)[o_idx].data, dtype=np.float64)
                _set(x, flat, k, orig, writable_view)
                numerical[:, k] = ((plus - minus) / (2 * eps)).reshape(-1)
            diff = np.abs(numerical - analytical[i])
            bad = diff > atol + rtol * np.abs(numerical)
            if bad.any():
                r, k = np.argwhere(bad)[0]
                idx = np.unravel_index(k, x.shape) if x.shape else ()
                msg = (f"gradcheck failed for {_name(func)}: input {i} (shape {x.shape}), element "
                       f"{tuple(int(v) for v in idx)}, output {o_idx} element {int(r)}: numerical "
                       f"{numerical[r, k]:.10g} vs analytical {analytical[i][r, k]:.10g}")
                if raise_exception:
                    raise GradcheckError(msg + "; help: check the op's backward formula")
                return False
    return True


def _set(x, flat, k, value, writable_view) -> None:
    if writable_view:
        flat[k] = value
    else:
        arr = x.data.copy()
        arr.reshape(-1)[k] = value
        x.data = arr


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, seed=0) -> bool:
    """Check second derivatives: gradcheck of the map (inputs, v) ↦ vᵀ·∂func/∂inputs, computed with
    ``create_graph=True``. ``grad_outputs`` defaults to random float64 tensors."""
    from groundup.autograd import grad as autograd_grad
    from groundup.tensor import Tensor

    inputs = _as_tuple(inputs)
    checked = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    outputs = _flat_outputs(func, inputs)
    rng = np.random.default_rng(seed)
    if grad_outputs is None:
        grad_outputs = [Tensor(rng.standard_normal(o.shape), requires_grad=True) for o in outputs]
    grad_outputs = list(_as_tuple(grad_outputs))
    n_in = len(inputs)

    def first_derivative(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = [o for o in _flat_outputs(func, ins) if o.requires_grad]
        grads = autograd_grad(outs, [x for x in ins if isinstance(x, Tensor) and x.requires_grad],
                              list(gos), create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None and g.requires_grad)

    del checked
    return gradcheck(first_derivative, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)
