"""Training diagnostics from the course's debugging checklist.

- :func:`grad_norms`: the L2 norm of each layer's gradient (exploding or vanishing gradients show up
  as norms that grow or shrink by orders of magnitude from one layer to the next);
- :class:`DeadReLUMonitor`: the fraction of ReLU units that output 0 for every sample of a batch
  ("dead" units no longer learn: a learning rate too high or a bad initialisation);
- :func:`explain_nonfinite`: when the loss becomes NaN or infinite, find the likely cause (bad input,
  weights or gradients already broken, learning rate too high) and say how to fix it;
  :class:`TrainingDivergedError` carries that message.

These are cheap enough to run every few hundred steps; the Trainer records them in
``history.diagnostics`` every ``diagnostics_every`` steps.
"""

from __future__ import annotations

import math

import numpy as np

from groundup.errors import GroundupError, hint

__all__ = ["DeadReLUMonitor", "TrainingDivergedError", "explain_nonfinite", "grad_norms",
           "layer_parameters"]


class TrainingDivergedError(GroundupError, FloatingPointError):
    """The loss or the gradients became NaN or infinite; the message names the likely cause and a
    fix. ``step`` and ``lr`` say where it happened."""

    def __init__(self, message: str, step: int | None = None, lr: float | None = None) -> None:
        super().__init__(message)
        self.step = step
        self.lr = lr


def layer_parameters(model) -> dict[str, list]:
    """Parameters grouped by the module that owns them: ``{"layers.0": [weight, bias], ...}``."""
    groups: dict[str, list] = {}
    for name, p in model.named_parameters():
        owner = name.rpartition(".")[0] or name
        groups.setdefault(owner, []).append(p)
    return groups


def grad_norms(model) -> dict[str, float]:
    """L2 norm of the gradient of each layer's parameters (weight and bias together), in
    ``named_parameters`` order; layers without gradients are left out."""
    norms = {}
    for owner, params in layer_parameters(model).items():
        total, seen = 0.0, False
        for p in params:
            if p.grad is not None:
                g = p.grad.data.ravel()
                total += float(np.dot(g, g))  # one BLAS dot, no temporary
                seen = True
        if seen:
            norms[owner] = math.sqrt(total)
    return norms


class DeadReLUMonitor:
    """Measures, for each ReLU layer, the fraction of units that are zero for every sample of the
    batch it sees while armed.

    ``arm()`` attaches forward hooks, the next forward pass fills ``fractions``, ``disarm()``
    removes the hooks (so steps without diagnostics pay nothing). A "unit" is one output feature
    (one channel-position for convolutional maps).
    """

    def __init__(self, model) -> None:
        from groundup.nn.layers.activation import ReLU

        self.layers = [(name, m) for name, m in model.named_modules() if isinstance(m, ReLU)]
        self.fractions: dict[str, float] = {}
        self._handles: list = []

    def _hook(self, name: str):
        def record(module, inputs, output):
            out = output.data
            active = (out.reshape(out.shape[0], -1) > 0).any(axis=0)
            self.fractions[name] = float(1.0 - active.mean())
        return record

    def arm(self) -> None:
        self.fractions = {}
        if not self._handles:
            self._handles = [m.register_forward_hook(self._hook(n)) for n, m in self.layers]

    def disarm(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []


def _nonfinite_names(named_arrays) -> list[str]:
    return [name for name, arr in named_arrays if arr is not None and not np.all(np.isfinite(arr))]


def explain_nonfinite(model, loss_value: float, step: int, lr: float | None, inputs=None) -> str:
    """The message for a NaN/inf loss at ``step``: what is broken and the likely fix."""
    what = "NaN" if math.isnan(loss_value) else "infinite"
    where = f"loss became {what} at step {step}" + (f" (lr={lr:g})" if lr is not None else "")
    if inputs is not None:
        x = inputs.data if hasattr(inputs, "data") and not isinstance(inputs, np.ndarray) \
            else np.asarray(inputs)
        if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
            return hint(f"{where}: the input batch contains NaN or inf values",
                        "clean the data (check for missing values and divisions by zero in the "
                        "preprocessing)")
    bad_weights = _nonfinite_names((n, p.data) for n, p in model.named_parameters())
    if bad_weights:
        return hint(f"{where}: weights {', '.join(bad_weights[:4])} are already NaN/inf, so the "
                    "previous update overflowed",
                    "lower the learning rate (try lr/10) or clip gradients "
                    "(optim.clip_grad_norm_ / --clip-grad 1.0)")
    bad_grads = _nonfinite_names((n, None if p.grad is None else p.grad.data)
                                 for n, p in model.named_parameters())
    if bad_grads:
        return hint(f"{where}: gradients of {', '.join(bad_grads[:4])} are NaN/inf",
                    "lower the learning rate or clip gradients")
    return hint(f"{where}: the weights are still finite, so the loss itself overflowed (logits "
                "too large: the learning rate is too high for this model)",
                "lower the learning rate (try lr/10), use a learning-rate warm-up, or clip "
                "gradients; check that the loss gets logits (CrossEntropyLoss applies "
                "log-softmax itself)")
