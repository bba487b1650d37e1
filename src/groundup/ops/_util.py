"""Helpers shared by the ops: the broadcasting adjoint, dim normalisation, shape checks."""

from __future__ import annotations

import numpy as np

from groundup.autograd import function as _function
from groundup.errors import ShapeError, hint


def tensor_cls():
    return _function._TENSOR


def unbroadcast(grad, shape):
    """The adjoint of broadcasting: sum ``grad`` (a Tensor) down to ``shape``.

    If ``x`` of shape ``shape`` was broadcast to ``grad.shape`` in the forward pass, every copy of an
    element received a gradient, so ∂L/∂x sums them: over the leading axes broadcasting added, and
    over the axes where ``shape`` has size 1. Written with Tensor ops, so it is differentiable.
    """
    gshape = grad.shape
    shape = tuple(shape)
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and gshape[lead + i] != 1
    )
    if axes:
        grad = grad.sum(dim=axes)
    if grad.shape != shape:
        grad = grad.reshape(shape)
    return grad


def sum_to(arr: np.ndarray, shape) -> np.ndarray:
    """Array form of :func:`unbroadcast` (first-order backward fast paths): sum ``arr`` to ``shape``."""
    ashape = arr.shape
    if ashape == shape:
        return arr
    shape = tuple(shape)
    lead = len(ashape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and ashape[lead + i] != 1
    )
    if axes:
        arr = arr.sum(axis=axes)
    return arr.reshape(shape)


def broadcast_shapes(op: str, *shapes) -> tuple:
    """The broadcast shape of ``shapes``, or a ShapeError naming ``op`` and the shapes."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        pretty = " and ".join(str(tuple(s)) for s in shapes)
        raise ShapeError(hint(
            f"{op}: shapes {pretty} cannot be broadcast together",
            "broadcasting aligns shapes from the right; each pair of sizes must be equal or one "
            "of them 1 (use reshape/unsqueeze to add axes)",
        )) from None


def normalize_dim(dim, ndim: int, op: str = "op") -> tuple | None:
    """``dim`` (None, int or tuple of ints, negatives allowed) as a sorted tuple of axes."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        d = int(d)
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise ShapeError(hint(
                f"{op}: dim {d} is out of range for a tensor with {ndim} dimension(s)",
                f"use a dim in [{-max(ndim, 1)}, {max(ndim, 1) - 1}]",
            ))
        out.append(d % ndim if ndim else 0)
    return tuple(sorted(set(out)))


def shape_of(x) -> tuple:
    return getattr(x, "shape", ())
