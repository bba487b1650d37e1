"""Shape and indexing ops: reshape, transpose, permute, squeeze, expand, repeat, cat, stack, split,
pad, flip, roll, indexing, gather, scatter, index_select, masked_fill, one_hot.

Each moves elements without changing them, so each backward moves the gradient back the same way
(reshape back, transpose back, slice back, scatter-add back).
"""

from __future__ import annotations

import numpy as np

from groundup.autograd.function import Function, keep_none
from groundup.autograd.grad_mode import state as _grad_mode
from groundup.errors import DTypeError, ShapeError, hint
from groundup.ops._util import normalize_dim, sum_to, tensor_cls, unbroadcast


def _shape_args(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


class Reshape(Function):
    """Same elements, new shape (row-major order)."""

    keep_inputs = staticmethod(keep_none)

    @staticmethod
    def forward(ctx, a, shape=()):
        try:
            return a.reshape(shape)
        except ValueError:
            raise ShapeError(hint(
                f"reshape: cannot reshape a tensor of shape {a.shape} ({a.size} elements) into "
                f"{tuple(shape)}",
                "the new shape must have the same number of elements (one -1 may be inferred)",
            )) from None

    @staticmethod
    def backward(ctx, grad):
        g = grad.data if not _grad_mode.enabled else grad  # arrays when first-order (no graph)
        return (g.reshape(ctx.shapes[0]),)


class Permute(Function):
    """Reorder axes; backward applies the inverse permutation."""

    keep_inputs = staticmethod(keep_none)

    @staticmethod
    def forward(ctx, a, dims=()):
        ctx.dims = dims
        return np.transpose(a, dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = tuple(np.argsort(ctx.dims))
        if not _grad_mode.enabled:  # first-order: the same permutation on arrays
            return (np.transpose(grad.data, inverse),)
        return (grad.permute(*inverse),)


class Expand(Function):
    """Broadcast to a larger shape (a view); backward sums over the broadcast axes."""

    keep_inputs = staticmethod(keep_none)

    @staticmethod
    def forward(ctx, a, shape=()):
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        if not _grad_mode.enabled:  # first-order: the same sum on arrays
            return (sum_to(grad.data, ctx.shapes[0]),)
        return (unbroadcast(grad, ctx.shapes[0]),)


class Repeat(Function):
    """Tile the tensor ``reps`` times along each axis (PyTorch's ``repeat``, NumPy's ``tile``)."""

    keep_inputs = staticmethod(keep_none)

    @staticmethod
    def forward(ctx, a, reps=()):
        ctx.reps = reps
        return np.tile(a, reps)

    @staticmethod
    def backward(ctx, grad):
        shape = ctx.shapes[0]
        reps = ctx.reps
        full = (1,) * (len(reps) - len(shape)) + tuple(shape)
        # (r0·s0, r1·s1, …) → (r0, s0, r1, s1, …), then sum the r axes.
        split = []
        for r, s in zip(reps, full):
            split += [r, s]
        g = grad.reshape(tuple(split)).sum(dim=tuple(range(0, 2 * len(reps), 2)))
        return (g.reshape(shape),)


def _normalize_key(key):
    """Turn Tensors inside an index into arrays; report whether the key is basic slicing only."""
    T = tensor_cls()
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    basic = True
    for k in key:
        if isinstance(k, T):
            k = k.data
        if isinstance(k, list):
            k = np.asarray(k)
        if isinstance(k, np.ndarray):
            if k.dtype.kind not in "biu":
                raise DTypeError(hint(
                    f"indexing: index arrays must be integer or bool, got dtype {k.dtype}",
                    "convert the index with .long() or build a bool mask",
                ))
            basic = False
        out.append(k)
    return tuple(out), basic


class Index(Function):
    """a[key] for basic slices, integer arrays and bool masks."""

    keep_inputs = staticmethod(keep_none)

    @staticmethod
    def forward(ctx, a, key=(), basic=True):
        ctx.key, ctx.basic = key, basic
        try:
            out = a[key]
        except IndexError as exc:
            raise ShapeError(hint(
                f"indexing: {exc} (tensor shape {a.shape})",
                "indices must lie in [-size, size-1] along each axis",
            )) from None
        return np.array(out) if not isinstance(out, np.ndarray) else out

    @staticmethod
    def backward(ctx, grad):
        if not _grad_mode.enabled:  # first-order: the scatter-add on arrays
            return (_index_add(grad.data, ctx.key, ctx.basic, ctx.shapes[0]),)
        return (IndexAdd.apply(grad, key=ctx.key, basic=ctx.basic, shape=ctx.shapes[0]),)


def _index_add(g, key, basic, shape):
    """zeros(shape) with ``g`` added at ``key`` (np.add.at accumulates repeated indices)."""
    out = np.zeros(shape, dtype=g.dtype)
    if basic:
        out[key] = g
    else:
        np.add.at(out, key, g)
    return out


class IndexAdd(Function):
    """zeros(shape) with ``grad`` added at ``key`` (repeated indices accumulate): Index's adjoint."""

    keep_inputs = staticmethod(keep_none)

    @staticmethod
    def forward(ctx, g, key=(), basic=True, shape=()):
        ctx.key, ctx.basic = key, basic
        return _index_add(g, key, basic, shape)

    @staticmethod
    def backward(ctx, grad):
        return (Index.apply(grad, key=ctx.key, basic=ctx.basic),)


def _gather_index(index, dim):
    grids = list(np.ogrid[tuple(slice(s) for s in index.shape)])
    grids[dim] = index
    return tuple(grids)


class Gather(Function):
    """out[i][j][k] = a[i][index[i][j][k]][k] for dim=1 (PyTorch's gather)."""

    keep_inputs = staticmethod(keep_none)

    @staticmethod
    def forward(ctx, a, index=None, dim=0):
        ctx.index, ctx.dim = index, dim
        return a[_gather_index(index, dim)]

    @staticmethod
    def backward(ctx, grad):
        return (ScatterAdd.apply(grad, index=ctx.index, dim=ctx.dim, shape=ctx.shapes[0]),)


class ScatterAdd(Function):
    """zeros(shape) with src added at ``index`` along ``dim``: the adjoint of gather."""

    keep_inputs = staticmethod(keep_none)

    @staticmethod
    def forward(ctx, src, index=None, dim=0, shape=()):
        ctx.index, ctx.dim = index, dim
        out = np.zeros(shape, dtype=src.dtype)
        np.add.at(out, _gather_index(index, dim), src)
        return out

    @staticmethod
    def backward(ctx, grad):
        return (Gather.apply(grad, index=ctx.index, dim=ctx.dim),)


class Cat(Function):
    """Concatenate along ``dim``; backward slices the gradient back into the pieces."""

    keep_inputs = staticmethod(keep_none)

    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ctx.dim = dim
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        grads, start = [], 0
        for shape, needs in zip(ctx.shapes, ctx.needs_input_grad):
            size = shape[ctx.dim]
            if needs:
                key = (slice(None),) * ctx.dim + (slice(start, start + size),)
                grads.append(Index.apply(grad, key=key, basic=True))
            else:
                grads.append(None)
            start += size
        return tuple(grads)


class Stack(Function):
    """Stack equal shapes along a new axis ``dim``."""

    keep_inputs = staticmethod(keep_none)

    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ctx.dim = dim
        return np.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return tuple(
            Index.apply(grad, key=(slice(None),) * ctx.dim + (i,), basic=True) if needs else None
            for i, needs in enumerate(ctx.needs_input_grad)
        )


class Pad(Function):
    """Constant padding; ``widths`` is NumPy's per-axis ((before, after), ...)."""

    keep_inputs = staticmethod(keep_none)

    @staticmethod
    def forward(ctx, a, widths=(), value=0.0):
        ctx.widths = widths
        return np.pad(a, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        key = tuple(slice(b, grad.shape[i] - e) for i, (b, e) in enumerate(ctx.widths))
        return (Index.apply(grad, key=key, basic=True),)


class Flip(Function):
    """Reverse the order of elements along ``dims``."""

    keep_inputs = staticmethod(keep_none)

    @staticmethod
    def forward(ctx, a, dims=()):
        ctx.dims = dims
        return np.flip(a, dims).copy()

    @staticmethod
    def backward(ctx, grad):
        return (grad.flip(ctx.dims),)


class Roll(Function):
    """Shift elements cyclically along ``dims`` by ``shifts``."""

    keep_inputs = staticmethod(keep_none)

    @staticmethod
    def forward(ctx, a, shifts=(), dims=None):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(a, shifts, axis=dims)

    @staticmethod
    def backward(ctx, grad):
        neg = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return (roll(grad, neg, ctx.dims),)


# ----------------------------------------------------------------------------- public functions


def reshape(a, *shape):
    """Same elements in a new shape; one size may be -1 (inferred)."""
    shape = _shape_args(shape)
    if tuple(shape) == a.shape:
        return a
    return Reshape.apply(a, shape=shape)


view = reshape


def flatten(a, start_dim=0, end_dim=-1):
    """Merge axes ``start_dim``..``end_dim`` into one."""
    if a.ndim == 0:
        return reshape(a, (1,))
    s = start_dim % a.ndim
    e = end_dim % a.ndim
    shape = a.shape[:s] + (-1,) + a.shape[e + 1:] if e >= s else a.shape
    return reshape(a, shape)


def unflatten(a, dim, sizes):
    """Split axis ``dim`` into ``sizes``."""
    d = dim % a.ndim
    return reshape(a, a.shape[:d] + tuple(sizes) + a.shape[d + 1:])


def permute(a, *dims):
    """Reorder axes: ``permute(x, 2, 0, 1)``."""
    dims = _shape_args(dims)
    if len(dims) != a.ndim or sorted(d % max(a.ndim, 1) for d in dims) != list(range(a.ndim)):
        raise ShapeError(hint(
            f"permute: dims {dims} are not a permutation of the {a.ndim} axes of shape {a.shape}",
            f"give each of 0..{a.ndim - 1} exactly once",
        ))
    return Permute.apply(a, dims=tuple(d % a.ndim for d in dims))


def transpose(a, dim0, dim1):
    """Swap two axes."""
    if a.ndim < 2:
        return a
    dims = list(range(a.ndim))
    d0, d1 = dim0 % a.ndim, dim1 % a.ndim
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(a, dims=tuple(dims))


def squeeze(a, dim=None):
    """Remove size-1 axes (all, or only ``dim``)."""
    if dim is None:
        shape = tuple(s for s in a.shape if s != 1)
    else:
        dims = normalize_dim(dim, a.ndim, "squeeze")
        shape = tuple(s for i, s in enumerate(a.shape) if not (i in dims and s == 1))
    return reshape(a, shape)


def unsqueeze(a, dim):
    """Insert a size-1 axis at ``dim`` (−1 appends)."""
    d = dim if dim >= 0 else dim + a.ndim + 1
    if not 0 <= d <= a.ndim:
        raise ShapeError(hint(
            f"unsqueeze: dim {dim} is out of range for a tensor with {a.ndim} dimension(s)",
            f"use a dim in [{-a.ndim - 1}, {a.ndim}]",
        ))
    return Reshape.apply(a, shape=a.shape[:d] + (1,) + a.shape[d:])


def expand(a, *sizes):
    """Broadcast to ``sizes`` without copying (−1 keeps a size)."""
    sizes = _shape_args(sizes)
    lead = len(sizes) - a.ndim
    if lead < 0:
        raise ShapeError(hint(
            f"expand: cannot expand shape {a.shape} to fewer dimensions {sizes}",
            "give at least as many sizes as the tensor has dimensions",
        ))
    shape = tuple(a.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    if shape == a.shape:
        return a
    try:
        np.broadcast_shapes(a.shape, shape)
    except ValueError:
        raise ShapeError(hint(
            f"expand: cannot expand shape {a.shape} to {shape}",
            "only size-1 axes can be expanded",
        )) from None
    return Expand.apply(a, shape=shape)


def broadcast_to(a, shape):
    """Broadcast to ``shape`` (like NumPy)."""
    return expand(a, tuple(shape))


def repeat(a, *reps):
    """Tile ``reps`` times along each axis."""
    return Repeat.apply(a, reps=_shape_args(reps))


def cat(tensors, dim=0):
    """Concatenate a sequence of tensors along ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise ShapeError(hint("cat: got an empty list of tensors", "pass at least one tensor"))
    nd = tensors[0].ndim
    d = dim % nd
    for t in tensors[1:]:
        if t.ndim != nd or any(t.shape[i] != tensors[0].shape[i] for i in range(nd) if i != d):
            raise ShapeError(hint(
                f"cat: shapes {[tuple(x.shape) for x in tensors]} differ outside dim {dim}",
                "all tensors must have the same shape except along the concatenation dim",
            ))
    return Cat.apply(*tensors, dim=d)


concat = cat


def stack(tensors, dim=0):
    """Stack equal-shaped tensors along a new axis ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise ShapeError(hint("stack: got an empty list of tensors", "pass at least one tensor"))
    if any(t.shape != tensors[0].shape for t in tensors):
        raise ShapeError(hint(
            f"stack: all shapes must be equal, got {[tuple(x.shape) for x in tensors]}",
            "use cat to join tensors of different sizes",
        ))
    d = dim % (tensors[0].ndim + 1)
    return Stack.apply(*tensors, dim=d)


def split(a, split_size_or_sections, dim=0):
    """Split into chunks of ``split_size`` (an int) or of the given sizes (a list) along ``dim``."""
    d = dim % a.ndim
    n = a.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        sizes = [min(step, n - i) for i in range(0, n, step)]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ShapeError(hint(
                f"split: sizes {sizes} sum to {sum(sizes)}, but dim {dim} has size {n}",
                "the sizes must add up to the length of the split dimension",
            ))
    out, start = [], 0
    for s in sizes:
        key = (slice(None),) * d + (slice(start, start + s),)
        out.append(Index.apply(a, key=key, basic=True))
        start += s
    return tuple(out)


def chunk(a, chunks, dim=0):
    """Split into ``chunks`` nearly equal pieces along ``dim`` (the last may be smaller)."""
    n = a.shape[dim % a.ndim]
    size = -(-n // chunks)
    return split(a, size, dim)


def unbind(a, dim=0):
    """The slices along ``dim``, as a tuple."""
    d = dim % a.ndim
    return tuple(Index.apply(a, key=(slice(None),) * d + (i,), basic=True) for i in range(a.shape[d]))


def pad(a, pad, mode="constant", value=0.0):
    """Constant padding; ``pad`` lists (before, after) pairs from the last axis backwards, like
    PyTorch's ``F.pad``: (left, right, top, bottom, ...)."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}; help: pad with a "
                         "constant value")
    if len(pad) % 2 or len(pad) // 2 > a.ndim:
        raise ShapeError(hint(
            f"pad: {len(pad)} padding values for a tensor with {a.ndim} dimension(s)",
            "give an even number of values, at most two per dimension",
        ))
    widths = [(0, 0)] * a.ndim
    for i in range(len(pad) // 2):
        widths[a.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return Pad.apply(a, widths=tuple(widths), value=value)


def flip(a, dims):
    """Reverse the order along ``dims``."""
    dims = normalize_dim(dims, a.ndim, "flip")
    return Flip.apply(a, dims=dims)


def roll(a, shifts, dims=None):
    """Cyclic shift by ``shifts`` along ``dims`` (flattened when None)."""
    if isinstance(shifts, list):
        shifts = tuple(shifts)
    if isinstance(dims, list):
        dims = tuple(dims)
    return Roll.apply(a, shifts=shifts, dims=dims)


def getitem(a, key):
    """``a[key]`` with slices, ints, None, Ellipsis, integer arrays and bool masks."""
    key, basic = _normalize_key(key)
    return Index.apply(a, key=key, basic=basic)


def gather(a, dim, index):
    """Values of ``a`` along ``dim`` at ``index`` (same number of dims as ``a``)."""
    idx = np.asarray(getattr(index, "data", index))
    if idx.dtype.kind not in "iu":
        raise DTypeError(hint(f"gather: index must be an integer tensor, got {idx.dtype}",
                              "convert it with .long()"))
    d = dim % a.ndim
    if idx.ndim != a.ndim:
        raise ShapeError(hint(
            f"gather: index has {idx.ndim} dims but input has {a.ndim} (shape {a.shape})",
            "index must have as many dimensions as the input",
        ))
    src = a
    if any(idx.shape[i] < a.shape[i] for i in range(a.ndim) if i != d):
        src = getitem(a, tuple(slice(0, idx.shape[i]) if i != d else slice(None)
                               for i in range(a.ndim)))
    return Gather.apply(src, index=idx, dim=d)


def scatter_into_zeros(src, index, dim, shape):
    """zeros(shape) with ``src`` added at ``index`` along ``dim`` (differentiable scatter-add)."""
    return ScatterAdd.apply(src, index=np.asarray(index), dim=dim, shape=tuple(shape))


def index_select(a, dim, index):
    """Slices of ``a`` along ``dim`` at the 1-D integer ``index``."""
    idx = np.asarray(getattr(index, "data", index))
    d = dim % a.ndim
    return Index.apply(a, key=(slice(None),) * d + (idx,), basic=False)


def masked_fill(a, mask, value):
    """Copy of ``a`` with ``value`` wherever the bool ``mask`` (broadcastable) is true."""
    from groundup.ops.elementwise import where

    m = np.asarray(getattr(mask, "data", mask))
    if m.dtype != np.bool_:
        raise DTypeError(hint(f"masked_fill: mask must be bool, got {m.dtype}",
                              "build the mask with a comparison, e.g. x > 0"))
    T = tensor_cls()
    return where(m, T(np.asarray(value, dtype=a.data.dtype)), a)


def one_hot(indices, num_classes=-1):
    """One-hot encoding of integer class indices: (…,) → (…, num_classes), int64, no gradient."""
    T = tensor_cls()
    idx = np.asarray(getattr(indices, "data", indices))
    if idx.dtype.kind not in "iu":
        raise DTypeError(hint(f"one_hot: indices must be integers, got {idx.dtype}",
                              "convert labels with .long()"))
    if num_classes < 0:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ShapeError(hint(
            f"one_hot: class values must lie in [0, {num_classes - 1}], got range "
            f"[{idx.min()}, {idx.max()}]",
            "pass num_classes at least max(label) + 1",
        ))
    out = np.zeros(idx.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.intp), 1, axis=-1)
    return T(out)
