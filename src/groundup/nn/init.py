"""Weight initialisation (PyTorch's ``nn.init``): each function fills a tensor in place, records no
graph, and returns it. Every random one takes an optional ``generator`` (a ``groundup.Generator``,
a NumPy Generator or an int seed); without one it draws from the default generator, so
``groundup.manual_seed`` makes initialisation reproducible.

Fans: for a weight of shape (out, in, *kernel), fan_in = in·Πkernel and fan_out = out·Πkernel.
"""

from __future__ import annotations

import math

import numpy as np

from groundup.errors import ShapeError, hint
from groundup.random import as_numpy_generator


def _fill(tensor, values):
    # In-place write that bypasses autograd (parameters require grad); bump the version so a
    # graph recorded before the change notices that its saved value is stale.
    tensor.data[...] = values
    tensor._version += 1
    return tensor


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for ``nonlinearity``: linear/conv/sigmoid 1, tanh 5/3, relu √2,
    leaky_relu √(2/(1+slope²)) (slope ``param``, default 0.01), selu 3/4."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid", "identity")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(hint(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}",
                          "use one of linear, conv2d, sigmoid, tanh, relu, leaky_relu, selu"))


def _calculate_fan_in_and_fan_out(tensor) -> tuple[int, int]:
    shape = tensor.shape
    if len(shape) < 2:
        raise ShapeError(hint(
            f"fan in and fan out cannot be computed for a tensor of shape {tuple(shape)} "
            "(fewer than 2 dimensions)",
            "use these initialisers on weight matrices or conv kernels, and uniform_/zeros_ on "
            "biases",
        ))
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    """Fill with draws from U(a, b)."""
    rng = as_numpy_generator(generator)
    return _fill(tensor, rng.uniform(a, b, tensor.shape))


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    """Fill with draws from N(mean, std²)."""
    rng = as_numpy_generator(generator)
    return _fill(tensor, rng.normal(mean, std, tensor.shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std²) truncated to [a, b] (redraws what falls outside)."""
    rng = as_numpy_generator(generator)
    out = rng.normal(mean, std, tensor.shape)
    bad = (out < a) | (out > b)
    while bad.any():
        out[bad] = rng.normal(mean, std, int(bad.sum()))
        bad = (out < a) | (out > b)
    return _fill(tensor, out)


def constant_(tensor, val: float):
    """Fill with ``val``."""
    return _fill(tensor, val)


def zeros_(tensor):
    """Fill with 0."""
    return _fill(tensor, 0)


def ones_(tensor):
    """Fill with 1."""
    return _fill(tensor, 1)


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix."""
    if tensor.ndim != 2:
        raise ShapeError(f"eye_: needs a 2-D tensor, got shape {tensor.shape}")
    return _fill(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    """Glorot uniform: U(−a, a) with a = gain·√(6/(fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    """Glorot normal: N(0, std²) with std = gain·√(2/(fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator=None):
    """He uniform: U(−bound, bound) with bound = gain·√(3/fan), gain = calculate_gain(nonlinearity,
    a). (PyTorch's Linear/Conv default is a = √5, i.e. bound = 1/√fan_in.)"""
    gain = calculate_gain(nonlinearity, a)
    bound = gain * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator=None):
    """He normal: N(0, std²) with std = gain/√fan."""
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain: float = 1.0, generator=None):
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one, times ``gain``."""
    if tensor.ndim < 2:
        raise ShapeError(f"orthogonal_: needs at least 2 dimensions, got shape {tensor.shape}")
    rows = tensor.shape[0]
    cols = tensor.data.size // rows
    flat = as_numpy_generator(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))  # make the decomposition unique (uniform over orthogonal matrices)
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


# PyTorch's deprecated spellings without the underscore are not provided on purpose.
