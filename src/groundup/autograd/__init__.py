"""Reverse-mode automatic differentiation: the engine, grad modes, ``grad``, checks and teaching
tools (``to_dot``, ``trace``).

The core (``function``, ``engine``, ``grad_mode``) works on graph nodes and arrays and does not import
the Tensor class; the tools above it (``gradcheck``, ``functional``, ``graph``) import it lazily.
"""

from groundup.autograd.function import Context, Function
from groundup.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned as a tuple (nothing is
    accumulated into ``.grad``). ``grad_outputs`` weights each output (default: ones for scalars).
    With ``create_graph=True`` the result is itself differentiable."""
    from groundup.autograd.engine import run_backward
    from groundup.errors import GradError, hint
    from groundup.tensor import Tensor

    single = isinstance(outputs, Tensor)
    outputs = [outputs] if single else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    gos = []
    for out, go in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise GradError(hint("grad(): an output does not require grad",
                                 "compute it from inputs with requires_grad=True"))
        if go is None:
            if out.data.size != 1:
                raise GradError(hint(
                    f"grad(): grad_outputs must be given for non-scalar output of shape {out.shape}",
                    "pass grad_outputs=torch.ones_like(output) to sum the output",
                ))
            import numpy as np

            go = Tensor(np.ones_like(out.data))
        gos.append(go)
    for t in inputs:
        if not t.requires_grad:
            raise GradError(hint("grad(): one of the inputs does not require grad",
                                 "create it with requires_grad=True"))
    if retain_graph is None:
        retain_graph = create_graph
    return run_backward(outputs, gos, retain_graph, create_graph, inputs=inputs,
                        allow_unused=allow_unused)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Accumulate gradients of several ``tensors`` at once (each with its ``grad_tensors``)."""
    import numpy as np

    from groundup.autograd.engine import run_backward
    from groundup.tensor import Tensor

    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None:
        grad_tensors = [Tensor(np.ones_like(t.data)) for t in tensors]
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(tensors, list(grad_tensors), retain_graph, create_graph)


def __getattr__(name):
    # The tools above the Tensor class load on first use, keeping the import graph a ladder.
    if name in ("gradcheck", "gradgradcheck", "GradcheckError"):
        from groundup.autograd import checks

        return getattr(checks, name)
    if name in ("to_dot", "trace"):
        from groundup.autograd import graph

        return getattr(graph, name)
    if name == "functional":
        import importlib

        return importlib.import_module("groundup.autograd.functional")
    raise AttributeError(f"module 'groundup.autograd' has no attribute {name!r}")


__all__ = [
    "Context", "Function", "backward", "enable_grad", "grad", "gradcheck", "gradgradcheck",
    "is_grad_enabled", "no_grad", "set_grad_enabled", "to_dot", "trace", "functional",
]
