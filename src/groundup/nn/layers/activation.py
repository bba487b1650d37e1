"""Activation modules (each calls its ``nn.functional`` form): ReLU, LeakyReLU, PReLU, ELU, GELU,
Sigmoid, Tanh, Softplus, SiLU, Softmax, LogSoftmax, and the perceptron's Step and Sign."""

from __future__ import annotations

import numpy as np

from groundup.nn import functional as F
from groundup.nn.module import Module
from groundup.nn.parameter import Parameter
from groundup.ops.activation import ELU as _ELUFn
from groundup.ops.activation import LeakyReLU as _LeakyFn
from groundup.ops.activation import ReLU as _ReLUFn
from groundup.ops.elementwise import Sigmoid as _SigmoidFn
from groundup.ops.elementwise import Tanh as _TanhFn


class ReLU(Module):
    """max(0, x) elementwise; any shape. (``inplace`` is accepted and ignored.)"""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return _ReLUFn.apply(x)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope·x; any shape."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return _LeakyFn.apply(x, negative_slope=self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class PReLU(Module):
    """x if x > 0 else a·x with a learned slope a: one shared (num_parameters=1) or one per channel
    (axis 1). ``weight`` (num_parameters,) starts at ``init`` (0.25)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=None) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.weight = Parameter(np.full((num_parameters,), init,
                                        dtype=np.dtype(dtype or np.float32)))

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """x if x > 0 else α(eˣ − 1); any shape."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        return _ELUFn.apply(x, alpha=self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class GELU(Module):
    """x·Φ(x) (Φ the standard normal CDF); ``approximate="tanh"`` for the tanh form."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    """σ(x) = 1/(1 + e⁻ˣ); any shape."""

    def forward(self, x):
        return _SigmoidFn.apply(x)


class Tanh(Module):
    """tanh(x); any shape."""

    def forward(self, x):
        return _TanhFn.apply(x)


class SiLU(Module):
    """x·σ(x) (swish); any shape."""

    def forward(self, x):
        return F.silu(x)


class Softplus(Module):
    """(1/β)·log(1 + e^(βx)), linear where βx > threshold; any shape."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return F.softplus(x, beta=self.beta, threshold=self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """e^{x_i}/Σ_j e^{x_j} along ``dim`` (stable); any shape."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """x_i − log Σ_j e^{x_j} along ``dim`` (stable); any shape."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Step(Module):
    """The perceptron's step: 1 where x ≥ threshold, else 0 (no gradient: train a perceptron with
    its own update rule, or use Sigmoid for gradient descent)."""

    def __init__(self, threshold: float = 0.0) -> None:
        super().__init__()
        self.threshold = threshold

    def forward(self, x):
        return F.step(x, self.threshold)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}"


class Sign(Module):
    """The perceptron's sign: +1 where x > 0, −1 otherwise (the course's convention; no
    gradient)."""

    def forward(self, x):
        return F.sign(x)
