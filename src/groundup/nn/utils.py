"""Gradient clipping, weight penalties and parameter/vector conversion (``torch.nn.utils``).

* :func:`clip_grad_norm_` rescales all gradients together so that their global norm is at most
  ``max_norm`` (the primer's Q9.11: :math:`g \\leftarrow \\tau g/\\lVert g\\rVert` when
  :math:`\\lVert g\\rVert > \\tau`), and returns the norm before clipping.
* :func:`clip_grad_value_` clamps every gradient entry to ``[-clip_value, clip_value]``.
* :func:`l1_penalty` and :func:`l2_penalty` give the course's regularisation terms
  :math:`\\lambda\\lVert w\\rVert_1` and :math:`\\lambda\\lVert w\\rVert_2^2` as differentiable
  tensors to add to a loss.
* :func:`parameters_to_vector` / :func:`vector_to_parameters` flatten parameters into one vector
  and back.

Clipping works on ``p.grad.data`` in place and records no graph.
"""

from __future__ import annotations

import math

import numpy as np

from groundup.errors import GroundupError, hint
from groundup.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "l1_penalty", "l2_penalty",
           "parameters_to_vector", "vector_to_parameters"]


class ClipError(GroundupError, ValueError):
    """Bad clipping arguments or a non-finite gradient norm."""


def _as_list(parameters, name: str) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    if isinstance(parameters, (set, frozenset)):
        raise ClipError(hint(f"{name}: parameters given as a set (unordered)",
                             "pass model.parameters() or a list"))
    return list(parameters)


def _grads(parameters, name: str) -> list[np.ndarray]:
    return [p.grad.data for p in _as_list(parameters, name) if p.grad is not None]


def _norm_type(norm_type, name: str) -> float:
    try:
        n = float(norm_type)
    except (TypeError, ValueError):
        raise ClipError(hint(f"{name}: norm_type {norm_type!r} is not a number",
                             "pass 2.0 (Euclidean), 1.0 or 'inf'")) from None
    if not (n > 0):
        raise ClipError(hint(f"{name}: norm_type must be > 0, got {norm_type!r}",
                             "pass 2.0 (Euclidean), 1.0 or 'inf'"))
    return n


def _vector_norm(a: np.ndarray, p: float) -> float:
    """The p-norm of an array, in float64."""
    if a.size == 0:
        return 0.0
    flat = a.reshape(-1)
    if p == 2.0:
        x = flat.astype(np.float64, copy=False)
        return math.sqrt(float(np.dot(x, x)))
    if math.isinf(p):
        return float(np.max(np.abs(flat)))
    if p == 1.0:
        return float(np.sum(np.abs(flat), dtype=np.float64))
    return float(np.sum(np.abs(flat.astype(np.float64)) ** p) ** (1.0 / p))


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite: bool = False) -> Tensor:
    """The ``norm_type``-norm of all of ``tensors`` (arrays or tensors) taken together: the norm of
    the vector of their norms."""
    p = _norm_type(norm_type, "get_total_norm")
    arrays = [t.data if isinstance(t, Tensor) else np.asarray(t) for t in tensors]
    if not arrays:
        return Tensor(np.array(0.0, dtype=np.float32))
    norms = np.array([_vector_norm(a, p) for a in arrays])
    total = _vector_norm(norms, p)
    if error_if_nonfinite and not math.isfinite(total):
        raise ClipError(hint(
            f"the total norm of order {norm_type} of the gradients is {total}, so they cannot "
            "be clipped", "look for a NaN/inf in the loss; pass error_if_nonfinite=False to "
            "clip anyway"))
    return Tensor(np.array(total, dtype=arrays[0].dtype if arrays[0].dtype.kind == "f"
                           else np.float32))


def clip_grad_norm_(parameters, max_norm: float, norm_type=2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    r"""Rescale the gradients of ``parameters`` in place so that their global norm
    :math:`\lVert g\rVert = (\sum_i \lVert g_i\rVert^p)^{1/p}` is at most ``max_norm``:

    .. math:: g \leftarrow g \cdot \min\left(1, \frac{\tau}{\lVert g\rVert + 10^{-6}}\right)

    (PyTorch's rule; the direction of the gradient is kept). Returns the total norm *before*
    clipping, as a 0-d tensor. Parameters without a gradient are ignored. ``norm_type`` may be
    ``float('inf')`` (largest absolute entry). With ``error_if_nonfinite`` a NaN/inf norm raises.
    """
    if float(max_norm) < 0 or math.isnan(float(max_norm)):
        raise ClipError(hint(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm!r}",
                             "pass the largest allowed gradient norm, e.g. max_norm=1.0"))
    grads = _grads(parameters, "clip_grad_norm_")
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if not grads:
        return total
    coef = float(max_norm) / (float(total.data) + 1e-6)
    if coef < 1.0:
        for g in grads:
            np.multiply(g, coef, out=g)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient entry of ``parameters`` in place to ``[-clip_value, clip_value]``."""
    v = float(clip_value)
    if v < 0 or math.isnan(v):
        raise ClipError(hint(f"clip_grad_value_: clip_value must be >= 0, got {clip_value!r}",
                             "pass the largest allowed absolute gradient entry"))
    for g in _grads(parameters, "clip_grad_value_"):
        np.clip(g, -v, v, out=g)


def l1_penalty(parameters, weight: float = 1.0) -> Tensor:
    r"""The L1 (lasso) penalty :math:`\lambda \sum_i \lvert w_i\rvert` over ``parameters``, as a
    differentiable scalar tensor: ``loss = mse + l1_penalty(model.parameters(), 0.1)``. Its
    (sub)gradient is :math:`\lambda\,\mathrm{sign}(w)`."""
    params = _as_list(parameters, "l1_penalty")
    if not params:
        return Tensor(np.array(0.0, dtype=np.float32))
    total = None
    for p in params:
        term = p.abs().sum()
        total = term if total is None else total + term
    return total * weight if weight != 1.0 else total


def l2_penalty(parameters, weight: float = 1.0) -> Tensor:
    r"""The L2 (ridge) penalty :math:`\lambda \lVert w\rVert_2^2 = \lambda\sum_i w_i^2` over
    ``parameters`` (squared norm, no ½), as a differentiable scalar tensor. Its gradient is
    :math:`2\lambda w`, so it equals an optimizer's ``weight_decay=2λ`` (which adds
    :math:`\text{weight\_decay}\cdot w` to the gradient, i.e. penalises
    :math:`\tfrac{\text{weight\_decay}}{2}\lVert w\rVert^2`)."""
    params = _as_list(parameters, "l2_penalty")
    if not params:
        return Tensor(np.array(0.0, dtype=np.float32))
    total = None
    for p in params:
        term = (p * p).sum()
        total = term if total is None else total + term
    return total * weight if weight != 1.0 else total


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable, a copy)."""
    from groundup.ops.shape import cat

    params = _as_list(parameters, "parameters_to_vector")
    if not params:
        raise ClipError(hint("parameters_to_vector got no parameters",
                             "pass model.parameters()"))
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (in place, in order)."""
    arr = vec.data if isinstance(vec, Tensor) else np.asarray(vec)
    if arr.ndim != 1:
        raise ClipError(hint(f"vector_to_parameters: expected a 1-D vector, got shape {arr.shape}",
                             "flatten it first (vec.reshape(-1))"))
    params = _as_list(parameters, "vector_to_parameters")
    total = sum(p.data.size for p in params)
    if total != arr.size:
        raise ClipError(hint(
            f"vector_to_parameters: the vector has {arr.size} entries, the parameters have {total}",
            "use the vector made by parameters_to_vector of the same parameters"))
    offset = 0
    for p in params:
        n = p.data.size
        np.copyto(p.data, arr[offset:offset + n].reshape(p.data.shape), casting="same_kind")
        if hasattr(p, "_version"):
            p._version += 1
        offset += n
