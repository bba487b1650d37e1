"""``Function``: an operation with a forward on arrays and a backward on Tensors.

An op subclasses :class:`Function` and writes two static methods::

    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b):          # NumPy arrays (or Python scalars) in, array out
            return a * b

        @staticmethod
        def backward(ctx, grad):         # grad: Tensor shaped like the output
            a, b = ctx.inputs            # the op's inputs as Tensors (or scalars)
            return unbroadcast(grad * b, ctx.shapes[0]), unbroadcast(grad * a, ctx.shapes[1])

``Function.apply`` unwraps tensors, runs ``forward``, wraps the result, and, when grad mode is on and
some input requires grad, records a node (the ``ctx``) in the graph. Because ``backward`` is written
with Tensor ops, running it while recording (``create_graph=True``) differentiates the derivative
itself: gradients of gradients come for free.

This module does not import the ``Tensor`` class (the autograd core sits below it); ``tensor.py``
registers the class here when it is imported.
"""

from __future__ import annotations

import itertools

import numpy as np

from groundup.autograd import grad_mode
from groundup.errors import GradError, hint

_state = grad_mode.state
_TENSOR = None  # set by groundup.tensor at import time


def _register_tensor_class(cls) -> None:
    global _TENSOR
    _TENSOR = cls


class Context:
    """A node of the graph: what one op saved for its backward.

    ``inputs``: the op's inputs as given (Tensors, scalars or arrays); ``needs_input_grad``: which
    of them need a gradient (already set when ``forward`` runs, and ``None`` there when no graph is
    recorded, so a kernel can skip what only its backward would read); ``shapes``: their shapes; ``seq``: a creation counter (an op's inputs are
    always created before it, so decreasing ``seq`` is a valid backward order). Ops may store any
    other attribute they need (an op whose derivative uses its output saves the output array and
    rebuilds it with :func:`saved_output`). After ``backward`` without ``retain_graph`` the node is
    freed: its inputs and saved values are dropped.
    """

    __slots__ = ("fn", "inputs", "needs_input_grad", "versions", "seq", "retained", "freed",
                 "acc", "__dict__")

    def __init__(self, fn) -> None:
        self.fn = fn
        self.freed = False
        self.retained = None
        self.acc = None

    @property
    def name(self) -> str:
        return self.fn.__name__

    @property
    def shapes(self) -> tuple:
        return tuple(getattr(x, "shape", ()) for x in self.inputs)

    def save_for_backward(self, *values) -> None:
        """Keep extra values for backward (PyTorch's spelling); read them as ``ctx.saved_tensors``."""
        self.saved_tensors = values

    def free(self) -> None:
        self.inputs = ()
        self.versions = ()
        self.__dict__.clear()
        self.freed = True


class Edge:
    """Stands in the graph for an input whose value the backward does not need: it keeps the
    input's shape, dtype and producing node (for the walk back) but not its array, so the memory of
    intermediate results is released as soon as nothing else uses them."""

    __slots__ = ("shape", "dtype", "_node", "requires_grad")

    def __init__(self, tensor) -> None:
        self.shape = tensor.data.shape
        self.dtype = tensor.data.dtype
        self._node = tensor._node
        self.requires_grad = tensor.requires_grad

    @property
    def ndim(self) -> int:
        return len(self.shape)


def keep_none(needs_input_grad):
    """``keep_inputs`` for ops whose backward uses only shapes (add, reshape, sum, ...)."""
    return (False,) * len(needs_input_grad)


def keep_partners(needs_input_grad):
    """``keep_inputs`` for products: input i is needed only for the *other* input's gradient
    (∂(ab)/∂a = b), so keep a when b needs a gradient and b when a does."""
    na, nb = needs_input_grad[0], needs_input_grad[1]
    return (nb, na) + (False,) * (len(needs_input_grad) - 2)


_new_context = Context.__new__
_next_seq = itertools.count(1).__next__  # creation counter of recorded nodes


class Function:
    """Base class of every differentiable operation (see the module docstring)."""

    # A fused kernel whose backward works on arrays sets this: its second derivative then raises.
    once_differentiable = False
    # Which inputs the backward reads (a function of needs_input_grad → tuple of bools); None keeps
    # all. Inputs not kept are replaced by an :class:`Edge`, so their arrays can be freed early.
    keep_inputs = None

    @staticmethod
    def forward(ctx, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **kwargs):
        """Run the op on ``inputs`` and, when needed, record it in the graph."""
        Tensor = _TENSOR
        arrays = []
        needs = []
        record = False
        for x in inputs:
            if isinstance(x, Tensor):
                arrays.append(x.data)
                if x.requires_grad:
                    record = True
                    needs.append(True)
                else:
                    needs.append(False)
            else:
                arrays.append(x)
                needs.append(False)
        ctx = _new_context(Context)
        ctx.fn = cls
        record = record and _state.enabled
        # set before forward, so a kernel can skip what only its backward needs (None: no graph)
        ctx.needs_input_grad = needs = tuple(needs) if record else None
        out = cls.forward(ctx, *arrays, **kwargs)
        if type(out) is not np.ndarray:  # NumPy returns scalars from 0-d ops; keep arrays
            out = np.asarray(out)
        result = Tensor.__new__(Tensor)
        result.data = out
        result.grad = None
        result._version = 0
        if record:
            keep = cls.keep_inputs
            kept = keep(needs) if keep is not None else (True,) * len(needs)
            saved = []
            versions = []  # (tensor, version) of each saved tensor, to detect in-place changes
            for x, k in zip(inputs, kept):
                if isinstance(x, Tensor):
                    # leaves that need a gradient stay (the engine accumulates into them); other
                    # tensors the backward does not read become Edges
                    if not k and (x._node is not None or not x.requires_grad):
                        x = Edge(x)
                    else:
                        versions.append((x, x._version))
                saved.append(x)
            ctx.inputs = tuple(saved)
            ctx.versions = versions
            ctx.freed = False
            ctx.retained = None
            ctx.acc = None  # the gradient of this node's output, summed during backward
            ctx.seq = _next_seq()
            result.requires_grad = True
            result._node = ctx
        else:
            result.requires_grad = False
            result._node = None
        return result


def check_twice_differentiable(ctx) -> None:
    """Raise when a once-differentiable op is asked for its derivative while recording."""
    if ctx.fn.once_differentiable and _state.enabled:
        raise GradError(hint(
            f"{ctx.fn.__name__} is once-differentiable: its backward is a fused array kernel and "
            "cannot itself be differentiated",
            "build the same computation from elementary ops (e.g. log_softmax + nll_loss) to take "
            "second derivatives",
        ))


def saved_output(ctx, array, recompute):
    """The op's output as a Tensor for use in its backward.

    First-order backward wraps the saved ``array`` (no recomputation). When the backward is itself
    being recorded (``create_graph=True``), the output must be connected to the inputs so that its
    own derivative flows: ``recompute()`` rebuilds it with Tensor ops.
    """
    if _state.enabled:
        return recompute()
    return _TENSOR(array)
