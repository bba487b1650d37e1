"""``Linear``, ``Identity``, ``Flatten``, ``Unflatten``."""

from __future__ import annotations

import math

import numpy as np

from groundup.errors import ShapeError, hint
from groundup.nn import init
from groundup.nn.module import Module
from groundup.nn.parameter import Parameter
from groundup.ops.linalg import Linear as _LinearFn
from groundup.ops.shape import flatten, unflatten


def _float_dtype(dtype):
    dt = np.dtype(np.float32 if dtype is None else dtype)
    if dt.kind != "f":
        raise TypeError(f"layers hold floating-point parameters, got dtype {dt}; help: use "
                        "float32 or float64")
    return dt


class Linear(Module):
    """Fully connected layer y = x·Wᵀ + b.

    Shapes: input (..., in_features) → output (..., out_features); ``weight`` (out_features,
    in_features) and ``bias`` (out_features,), PyTorch's layout. Initialisation is PyTorch's:
    W, b ~ U(−1/√in_features, 1/√in_features) (kaiming_uniform_ with a = √5).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None,
                 generator=None, device=None) -> None:
        super().__init__()
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        dt = _float_dtype(dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dt))
        if bias:
            self.bias = Parameter(np.empty((self.out_features,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        """PyTorch's default: kaiming_uniform_(W, a=√5) and b ~ U(−1/√fan_in, 1/√fan_in)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, x):
        shape = x.data.shape
        if not shape or shape[-1] != self.in_features:
            help_ = ("flatten the image first (nn.Flatten())" if len(shape) > 2
                     else f"the input's last dimension must equal in_features={self.in_features}")
            raise ShapeError(hint(
                f"Linear({self.in_features}→{self.out_features}) got input of shape "
                f"{tuple(shape)}: expected (..., {self.in_features})", help_))
        return _LinearFn.apply(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input unchanged (any arguments to the constructor are ignored)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    """Flattens axes ``start_dim``..``end_dim`` into one: (N, C, H, W) → (N, C·H·W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        if x.ndim <= (self.start_dim if self.start_dim >= 0 else -self.start_dim - 1):
            raise ShapeError(hint(
                f"Flatten(start_dim={self.start_dim}) got input of shape {x.shape}: expected at "
                f"least {self.start_dim + 1 if self.start_dim >= 0 else -self.start_dim} "
                "dimensions",
                "Flatten keeps the batch axis 0; add it with x.unsqueeze(0)",
            ))
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits axis ``dim`` into ``unflattened_size``: (N, 784) → (N, 1, 28, 28) with
    Unflatten(1, (1, 28, 28))."""

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        n = int(np.prod(self.unflattened_size))
        if -1 not in self.unflattened_size and x.shape[self.dim] != n:
            raise ShapeError(hint(
                f"Unflatten(dim={self.dim}, {self.unflattened_size}) got input of shape "
                f"{x.shape}: axis {self.dim} has size {x.shape[self.dim]}, expected {n}",
                "the product of unflattened_size must equal that axis' size",
            ))
        return unflatten(x, self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
