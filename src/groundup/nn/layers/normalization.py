"""``BatchNorm1d``, ``BatchNorm2d``, ``LayerNorm``, ``GroupNorm``."""

from __future__ import annotations

import numpy as np

from groundup.errors import ShapeError, hint
from groundup.nn import functional as F
from groundup.nn import init
from groundup.nn.module import Module
from groundup.nn.parameter import Parameter
from groundup.tensor import Tensor


class _BatchNorm(Module):
    _expected = ""
    _ndims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype=None) -> None:
        super().__init__()
        dt = np.dtype(dtype or np.float32)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dt))
            self.bias = Parameter(np.zeros(num_features, dtype=dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dt)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """running_mean ← 0, running_var ← 1, num_batches_tracked ← 0."""
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self) -> None:
        """Reset the running statistics and set γ = 1, β = 0."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def _check_input(self, x) -> None:
        if x.ndim not in self._ndims or x.shape[1] != self.num_features:
            raise ShapeError(hint(
                f"{type(self).__name__}({self.num_features}) got input of shape {x.shape}: "
                f"expected {self._expected.format(c=self.num_features)}",
                "the channel axis 1 must equal num_features"
                + (" (use BatchNorm2d for images)" if x.ndim == 4 and 4 not in self._ndims else "")
                + (" (use BatchNorm1d for flat features)" if x.ndim in (2, 3)
                   and 2 not in self._ndims else ""),
            ))

    def forward(self, x):
        self._check_input(x)
        batch_stats = self.training or not self.track_running_stats
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
        track = self.training and self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean if (track or not batch_stats) else None,
            self.running_var if (track or not batch_stats) else None,
            self.weight, self.bias, training=batch_stats, momentum=self.momentum, eps=self.eps,
            num_batches_tracked=self.num_batches_tracked,
        )

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) over N (and L) per feature C:
    y = (x − μ_B)/√(σ²_B + ε)·γ + β in training (running stats updated with ``momentum``),
    y = (x − running_mean)/√(running_var + ε)·γ + β in eval."""

    _expected = "(N, {c}) or (N, {c}, L)"
    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) over N, H, W per channel C (see BatchNorm1d)."""

    _expected = "(N, {c}, H, W)"
    _ndims = (4,)


class LayerNorm(Module):
    """Normalise each sample over its trailing ``normalized_shape`` axes:
    y = (x − μ)/√(σ² + ε)·γ + β, with γ (ones) and β (zeros) of ``normalized_shape``."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype=None) -> None:
        super().__init__()
        ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps = ns, eps
        self.elementwise_affine = elementwise_affine
        dt = np.dtype(dtype or np.float32)
        if elementwise_affine:
            self.weight = Parameter(np.ones(ns, dtype=dt))
            self.bias = Parameter(np.zeros(ns, dtype=dt)) if bias else None
            if not bias:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Normalise (N, C, ...) over groups of C/num_groups channels (and all positions), then a
    per-channel affine y·γ_c + β_c."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 dtype=None) -> None:
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(hint(f"GroupNorm: num_channels={num_channels} is not divisible by "
                                  f"num_groups={num_groups}", "pick a divisor of num_channels"))
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels,
                                                                     eps, affine)
        dt = np.dtype(dtype or np.float32)
        if affine:
            self.weight = Parameter(np.ones(num_channels, dtype=dt))
            self.bias = Parameter(np.zeros(num_channels, dtype=dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ShapeError(hint(
                f"GroupNorm({self.num_groups}, {self.num_channels}) got input of shape {x.shape}: "
                f"expected (N, {self.num_channels}, ...)",
                "the channel axis 1 must equal num_channels",
            ))
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
