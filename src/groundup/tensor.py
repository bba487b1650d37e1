"""``Tensor``: a NumPy array that remembers how it was computed, so gradients can flow back.

A tensor holds ``.data`` (a NumPy array; float32 by default for floats), ``.grad`` (a Tensor, filled
by ``backward``), ``requires_grad`` and ``_node`` (the op that made it, or None for a leaf). Every
operation is a :class:`~groundup.autograd.function.Function`; the methods below are thin wrappers.
"""

from __future__ import annotations

import numbers

import numpy as np

from groundup.autograd import function as _function
from groundup.autograd import grad_mode
from groundup.errors import DTypeError, GradError, ShapeError, hint
from groundup.ops import activation as _act
from groundup.ops import elementwise as _ew
from groundup.ops import linalg as _la
from groundup.ops import reduce as _red
from groundup.ops import shape as _sh

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

_SUPPORTED_KINDS = "fiub"
_state = grad_mode.state


def _check_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt.kind not in _SUPPORTED_KINDS:
        raise DTypeError(hint(
            f"unsupported dtype {dt}",
            "groundup tensors hold float16/32/64, int8/16/32/64, uint8 or bool",
        ))
    return dt


def as_array(data, dtype=None, copy=False) -> np.ndarray:
    """Convert ``data`` to a NumPy array with groundup's dtype rules: Python floats become float32,
    Python ints int64, bools bool; NumPy arrays keep their dtype unless ``dtype`` is given."""
    if isinstance(data, Tensor):
        arr = data.data
        native = True
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data)
        native = True
    else:
        try:
            arr = np.asarray(data if not _contains_tensor(data) else _unwrap(data))
        except ValueError as exc:
            raise ShapeError(hint(f"tensor(): cannot build a tensor from ragged data ({exc})",
                                  "all rows must have the same length")) from None
        native = False
    if dtype is not None:
        dt = _check_dtype(dtype)
        return np.array(arr, dtype=dt, copy=True) if copy else arr.astype(dt, copy=False)
    if not native:
        if arr.dtype.kind == "f":
            arr = arr.astype(np.float32)
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
        elif arr.dtype.kind == "b":
            pass
        elif arr.size == 0:
            arr = arr.astype(np.float32)
    _check_dtype(arr.dtype)
    return arr.copy() if copy else arr


def _contains_tensor(data) -> bool:
    if isinstance(data, Tensor):
        return True
    if isinstance(data, (list, tuple)):
        return any(_contains_tensor(x) for x in data)
    return False


def _unwrap(data):
    if isinstance(data, Tensor):
        return data.data
    if isinstance(data, (list, tuple)):
        return [_unwrap(x) for x in data]
    return data


def _operand(x):
    """An operand of a binary op: Tensors and Python numbers pass through, the rest becomes a
    constant Tensor."""
    t = type(x)
    if t is float or t is int or t is Tensor:  # the common cases, without ABC checks
        return x
    if isinstance(x, (Tensor, numbers.Number)) and not isinstance(x, bool):
        return x
    return Tensor(as_array(x))


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation (PyTorch's API)."""

    __slots__ = ("data", "grad", "requires_grad", "_node", "_version", "__weakref__")
    # Make NumPy defer to our reflected operators (ndarray * Tensor -> Tensor.__rmul__).
    __array_ufunc__ = None

    def __init__(self, data, dtype=None, requires_grad: bool = False) -> None:
        self.data = data if (dtype is None and type(data) is np.ndarray) else as_array(data, dtype)
        self.grad = None
        self._node = None
        self._version = 0
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (user-created tensors, parameters)."""
        return self._node is None

    @property
    def grad_fn(self):
        """The node that produced this tensor (``None`` for leaves)."""
        return self._node

    @property
    def T(self) -> Tensor:  # noqa: N802
        """All axes reversed (the matrix transpose for 2-D tensors)."""
        return self.permute(*reversed(range(self.ndim))) if self.ndim >= 2 else self

    @property
    def mT(self) -> Tensor:  # noqa: N802
        """The last two axes swapped (batched matrix transpose)."""
        return self.transpose(-1, -2)

    def size(self, dim=None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def element_size(self) -> int:
        return self.data.itemsize

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor; help: use .item() to read its value")
        return self.data.shape[0]

    # ------------------------------------------------------------------ conversion
    def numpy(self) -> np.ndarray:
        """The underlying array (shares memory; unlike PyTorch, also for tensors that require
        grad — the array is a read-out, not part of the graph)."""
        return self.data

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ShapeError(hint(
                f"item(): a tensor with {self.data.size} elements (shape {self.shape}) cannot be "
                "converted to a Python number",
                "reduce it first (e.g. .sum() or .mean()) or index one element",
            ))
        return self.data.reshape(()).item()

    def tolist(self):
        return self.data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub":
            raise TypeError("only integer tensors can be used as an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ShapeError(hint(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous",
                "use .any() or .all()",
            ))
        return bool(self.data.reshape(()).item())

    def to(self, dtype=None, *args, **kwargs) -> Tensor:
        """Convert to ``dtype`` (a differentiable cast between float types). Device strings such as
        ``"cpu"`` are accepted and ignored (groundup runs on the CPU)."""
        if isinstance(dtype, str):
            if dtype not in ("cpu",):
                raise ValueError(f"to(): device {dtype!r} is not available; help: groundup runs "
                                 "on the CPU only (use 'cpu')")
            dtype = kwargs.get("dtype") or (args[0] if args else None)
        if isinstance(dtype, Tensor):
            dtype = dtype.dtype
        if dtype is None:
            return self
        dt = _check_dtype(dtype)
        if dt == self.data.dtype:
            return self
        return Cast.apply(self, dtype=dt)

    def type(self, dtype=None):
        return str(self.dtype) if dtype is None else self.to(dtype)

    def float(self) -> Tensor:  # noqa: A003
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def half(self) -> Tensor:
        return self.to(float16)

    def long(self) -> Tensor:
        return self.to(int64)

    def int(self) -> Tensor:  # noqa: A003
        return self.to(int32)

    def bool(self) -> Tensor:  # noqa: A003
        return self.to(bool_)

    def cpu(self) -> Tensor:
        return self

    def contiguous(self) -> Tensor:
        return self

    # ------------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set whether gradients are recorded for this (leaf) tensor; returns self."""
        if requires_grad and self.data.dtype.kind != "f":
            raise DTypeError(hint(
                f"only floating-point tensors can require gradients, got dtype {self.dtype}",
                "convert with .float() or .double() first",
            ))
        if not requires_grad and not self.is_leaf:
            raise GradError(hint("requires_grad_(False) on a non-leaf tensor",
                                 "use .detach() to get a tensor cut from the graph"))
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """The same data cut from the graph (shares memory, requires no grad)."""
        return Tensor(self.data)

    def detach_(self) -> Tensor:
        self._node = None
        self.requires_grad = False
        return self

    def clone(self) -> Tensor:
        """A copy that stays in the graph (gradient flows back unchanged)."""
        return Clone.apply(self)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise GradError(hint("retain_grad() on a tensor that does not require grad",
                                 "only tensors in a recorded graph have gradients"))
        if self._node is not None:
            import weakref

            self._node.retained = weakref.ref(self)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        """Compute d(self)/d(leaf) for every leaf that requires grad and add it to ``leaf.grad``.

        ``gradient``: the upstream gradient (required unless self has one element).
        ``retain_graph``: keep the saved values for another backward (default: ``create_graph``).
        ``create_graph``: record the backward pass so gradients can be differentiated again.
        """
        from groundup.autograd.engine import run_backward

        if not self.requires_grad:
            raise GradError(hint(
                "backward(): this tensor does not require grad and has no grad_fn",
                "make an input require grad (requires_grad=True) before computing it, and do not "
                "compute it under no_grad()",
            ))
        if gradient is None:
            if self.data.size != 1:
                raise GradError(hint(
                    f"backward(): grad can be implicitly created only for scalar outputs, got "
                    f"shape {self.shape}",
                    "reduce to a scalar (e.g. .sum()) or pass gradient= of the same shape",
                ))
            gradient = Tensor(np.ones_like(self.data))
        else:
            gradient = gradient if isinstance(gradient, Tensor) else Tensor(as_array(gradient))
            if gradient.shape != self.shape:
                raise ShapeError(hint(
                    f"backward(): gradient has shape {gradient.shape} but the tensor has shape "
                    f"{self.shape}",
                    "pass a gradient of the same shape as the tensor",
                ))
        if retain_graph is None:
            retain_graph = create_graph
        if inputs is not None:
            inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
            grads = run_backward([self], [gradient], retain_graph, create_graph, inputs=inputs,
                                 allow_unused=True)
            for t, g in zip(inputs, grads):
                if g is not None:
                    t.grad = g if t.grad is None else t.grad + g
            return
        run_backward([self], [gradient], retain_graph, create_graph)

    # ------------------------------------------------------------------ in-place
    def _check_inplace(self, op: str) -> None:
        if self.requires_grad and _state.enabled:
            raise GradError(hint(
                f"{op}: in-place modification of a tensor that requires grad is not supported",
                "use the out-of-place form (x = x + 1), or wrap parameter updates in "
                "groundup.no_grad()",
            ))
        self._version += 1

    def _assign(self, op: str, values) -> Tensor:
        self._check_inplace(op)
        arr = values.data if isinstance(values, Tensor) else values
        if self.data.flags.writeable:
            self.data[...] = arr
        else:
            self.data = np.array(np.broadcast_to(arr, self.shape), dtype=self.dtype)
        return self

    def zero_(self) -> Tensor:
        return self._assign("zero_", 0)

    def fill_(self, value) -> Tensor:
        return self._assign("fill_", value)

    def copy_(self, src) -> Tensor:
        return self._assign("copy_", as_array(src))

    def add_(self, other, *, alpha=1) -> Tensor:
        o = other.data if isinstance(other, Tensor) else other
        return self._assign("add_", self.data + alpha * o)

    def sub_(self, other, *, alpha=1) -> Tensor:
        o = other.data if isinstance(other, Tensor) else other
        return self._assign("sub_", self.data - alpha * o)

    def mul_(self, other) -> Tensor:
        o = other.data if isinstance(other, Tensor) else other
        return self._assign("mul_", self.data * o)

    def div_(self, other) -> Tensor:
        o = other.data if isinstance(other, Tensor) else other
        return self._assign("div_", self.data / o)

    def clamp_(self, min=None, max=None) -> Tensor:  # noqa: A002
        return self._assign("clamp_", np.clip(self.data, min, max))

    def uniform_(self, a=0.0, b=1.0, generator=None) -> Tensor:
        from groundup.random import as_numpy_generator

        return self._assign("uniform_", as_numpy_generator(generator).uniform(a, b, self.shape))

    def normal_(self, mean=0.0, std=1.0, generator=None) -> Tensor:
        from groundup.random import as_numpy_generator

        return self._assign("normal_", as_numpy_generator(generator).normal(mean, std, self.shape))

    def __setitem__(self, key, value) -> None:
        self._check_inplace("__setitem__")
        key, _ = _sh._normalize_key(key)
        self.data[key] = value.data if isinstance(value, Tensor) else value

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    # ------------------------------------------------------------------ operators
    def __add__(self, other):
        return _ew.Add.apply(self, _operand(other))

    def __radd__(self, other):
        return _ew.Add.apply(_operand(other), self)

    def __sub__(self, other):
        return _ew.Sub.apply(self, _operand(other))

    def __rsub__(self, other):
        return _ew.Sub.apply(_operand(other), self)

    def __mul__(self, other):
        return _ew.Mul.apply(self, _operand(other))

    def __rmul__(self, other):
        return _ew.Mul.apply(_operand(other), self)

    def __truediv__(self, other):
        return _ew.Div.apply(self, _operand(other))

    def __rtruediv__(self, other):
        return _ew.Div.apply(_operand(other), self)

    def __pow__(self, other):
        return _ew.Pow.apply(self, _operand(other))

    def __rpow__(self, other):
        return _ew.Pow.apply(_operand(other), self)

    def __matmul__(self, other):
        return _la.MatMul.apply(self, _operand(other))

    def __rmatmul__(self, other):
        return _la.MatMul.apply(_operand(other), self)

    def __neg__(self):
        return _ew.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ew.Abs.apply(self)

    def __floordiv__(self, other):
        return Tensor(self.data // _raw(other))

    def __mod__(self, other):
        return Tensor(self.data % _raw(other))

    # comparisons give bool tensors with no gradient
    def __eq__(self, other):  # type: ignore[override]
        return Tensor(np.asarray(self.data == _raw(other)))

    def __ne__(self, other):  # type: ignore[override]
        return Tensor(np.asarray(self.data != _raw(other)))

    def __lt__(self, other):
        return Tensor(np.asarray(self.data < _raw(other)))

    def __le__(self, other):
        return Tensor(np.asarray(self.data <= _raw(other)))

    def __gt__(self, other):
        return Tensor(np.asarray(self.data > _raw(other)))

    def __ge__(self, other):
        return Tensor(np.asarray(self.data >= _raw(other)))

    def __and__(self, other):
        return Tensor(self.data & _raw(other))

    def __or__(self, other):
        return Tensor(self.data | _raw(other))

    def __xor__(self, other):
        return Tensor(self.data ^ _raw(other))

    def __invert__(self):
        return Tensor(~self.data)

    __hash__ = object.__hash__

    def eq(self, other):
        return self == other

    def ne(self, other):
        return self != other

    def lt(self, other):
        return self < other

    def le(self, other):
        return self <= other

    def gt(self, other):
        return self > other

    def ge(self, other):
        return self >= other

    def equal(self, other) -> bool:
        """True when shapes and all values are equal."""
        return self.shape == other.shape and bool(np.array_equal(self.data, _raw(other)))

    def allclose(self, other, rtol=1e-5, atol=1e-8) -> bool:
        return bool(np.allclose(self.data, _raw(other), rtol=rtol, atol=atol))

    def isnan(self):
        return Tensor(np.isnan(self.data))

    def isinf(self):
        return Tensor(np.isinf(self.data))

    def isfinite(self):
        return Tensor(np.isfinite(self.data))

    def any(self, dim=None, keepdim=False):
        return Tensor(np.asarray(np.any(self.data, axis=dim, keepdims=keepdim)))

    def all(self, dim=None, keepdim=False):  # noqa: A003
        return Tensor(np.asarray(np.all(self.data, axis=dim, keepdims=keepdim)))

    def __getitem__(self, key):
        return _sh.getitem(self, key)

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor; help: use .item()")
        return iter(_sh.unbind(self, 0))

    def __repr__(self) -> str:
        return _format_tensor(self)

    # ------------------------------------------------------------------ math methods
    add = _ew.add
    sub = _ew.sub
    mul = _ew.mul
    div = _ew.div
    neg = _ew.neg
    pow = _ew.pow  # noqa: A003
    exp = _ew.exp
    log = _ew.log
    log1p = _ew.log1p
    sqrt = _ew.sqrt
    rsqrt = _ew.rsqrt
    reciprocal = _ew.reciprocal
    abs = _ew.abs  # noqa: A003
    sign = _ew.sign
    sin = _ew.sin
    cos = _ew.cos
    tanh = _ew.tanh
    sigmoid = _ew.sigmoid
    clamp = _ew.clamp
    clip = _ew.clamp
    maximum = _ew.maximum
    minimum = _ew.minimum
    relu = _act.relu
    leaky_relu = _act.leaky_relu
    elu = _act.elu
    gelu = _act.gelu
    erf = _act.erf
    softplus = _act.softplus
    softmax = _act.softmax
    log_softmax = _act.log_softmax
    sum = _red.sum  # noqa: A003
    mean = _red.mean
    var = _red.var
    std = _red.std
    max = _red.max  # noqa: A003
    min = _red.min  # noqa: A003
    amax = _red.amax
    amin = _red.amin
    argmax = _red.argmax
    argmin = _red.argmin
    logsumexp = _red.logsumexp
    prod = _red.prod
    norm = _red.norm
    matmul = _la.matmul
    mm = _la.mm
    bmm = _la.bmm
    dot = _la.dot
    outer = _la.outer
    reshape = _sh.reshape
    view = _sh.reshape
    flatten = _sh.flatten
    unflatten = _sh.unflatten
    permute = _sh.permute
    transpose = _sh.transpose
    squeeze = _sh.squeeze
    unsqueeze = _sh.unsqueeze
    expand = _sh.expand
    broadcast_to = _sh.broadcast_to
    repeat = _sh.repeat
    split = _sh.split
    chunk = _sh.chunk
    unbind = _sh.unbind
    flip = _sh.flip
    roll = _sh.roll
    gather = _sh.gather
    index_select = _sh.index_select
    masked_fill = _sh.masked_fill

    def view_as(self, other):
        return self.reshape(other.shape)

    def expand_as(self, other):
        return self.expand(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def t(self):
        if self.ndim > 2:
            raise ShapeError(hint(f"t(): expects a tensor with <= 2 dims, got shape {self.shape}",
                                  "use transpose(dim0, dim1) or .mT"))
        return self.T

    def where(self, condition, other):
        return _ew.where(condition, self, other)

    def type_as(self, other):
        return self.to(other.dtype)


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def _format_tensor(t: Tensor) -> str:
    data = t.data
    kind = data.dtype.kind
    if kind == "f":
        finite = data[np.isfinite(data)] if data.size else data
        integral = finite.size == 0 or np.all(finite == np.round(finite))
        big = finite.size and np.abs(finite).max() >= 1e8
        if integral and not big:
            fmt = {"float_kind": lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)}
        else:
            fmt = {"float_kind": lambda v: f"{v:.4f}" if not big else f"{v:.4e}"}
        body = np.array2string(data, separator=", ", prefix="tensor(", formatter=fmt,
                               threshold=1000, edgeitems=3)
    else:
        body = np.array2string(data, separator=", ", prefix="tensor(", threshold=1000)
    extras = []
    if kind == "f" and data.dtype != np.float32:
        extras.append(f"dtype=groundup.{data.dtype}")
    elif kind in "iu" and data.dtype != np.int64:
        extras.append(f"dtype=groundup.{data.dtype}")
    if t._node is not None:
        extras.append(f"grad_fn=<{t._node.name}Backward>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    suffix = "".join(", " + e for e in extras)
    return f"tensor({body}{suffix})"


class Cast(_function.Function):
    """Change dtype; the gradient is cast back to the input's dtype."""

    keep_inputs = staticmethod(_function.keep_none)

    @staticmethod
    def forward(ctx, a, dtype=None):
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.inputs
        return (grad.to(a.dtype),)


class Clone(_function.Function):
    """A copy; the gradient passes through unchanged."""

    keep_inputs = staticmethod(_function.keep_none)

    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, grad):
        return (grad,)


_function._register_tensor_class(Tensor)
