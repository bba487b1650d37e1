"""Functions that create tensors: from data, filled with constants, ranges, and random draws.

Random functions draw from ``generator`` (a :class:`groundup.Generator`) or the default generator
seeded by :func:`groundup.manual_seed`.
"""

from __future__ import annotations

import numpy as np

from groundup.random import as_numpy_generator
from groundup.tensor import Tensor, _check_dtype, as_array


def _shape(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(int(s) for s in size)


def _float_dtype(dtype) -> np.dtype:
    return np.dtype(np.float32) if dtype is None else _check_dtype(dtype)


def _new(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers, NumPy arrays or tensors).
    Python floats become float32 and ints int64; NumPy arrays keep their dtype."""
    return _new(as_array(data, dtype, copy=True), requires_grad)


def as_tensor(data, dtype=None) -> Tensor:
    """Like :func:`tensor` but shares memory with a NumPy array when no conversion is needed."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    return Tensor(as_array(data, dtype))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (its dtype is kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}; "
                        "help: use groundup.tensor(data) for other inputs")
    _check_dtype(array.dtype)
    return Tensor(array)


def zeros(*size, dtype=None, requires_grad=False) -> Tensor:
    """A tensor of zeros of the given size."""
    return _new(np.zeros(_shape(size), dtype=_float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False) -> Tensor:
    """A tensor of ones of the given size."""
    return _new(np.ones(_shape(size), dtype=_float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False) -> Tensor:
    """An uninitialised tensor of the given size."""
    return _new(np.empty(_shape(size), dtype=_float_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from the value)."""
    if dtype is None:
        dtype = as_array(fill_value).dtype
    return _new(np.full(tuple(size), fill_value, dtype=_check_dtype(dtype)), requires_grad)


def zeros_like(t, dtype=None, requires_grad=False) -> Tensor:
    return _new(np.zeros(t.shape, dtype=dtype or t.dtype), requires_grad)


def ones_like(t, dtype=None, requires_grad=False) -> Tensor:
    return _new(np.ones(t.shape, dtype=dtype or t.dtype), requires_grad)


def empty_like(t, dtype=None, requires_grad=False) -> Tensor:
    return _new(np.empty(t.shape, dtype=dtype or t.dtype), requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False) -> Tensor:
    return _new(np.full(t.shape, fill_value, dtype=dtype or t.dtype), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 when all are integers."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if integral else np.float32
    return _new(np.arange(start, end, step).astype(_check_dtype(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    return _new(np.linspace(start, end, int(steps)).astype(_float_dtype(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False) -> Tensor:
    """The n×m identity matrix."""
    return _new(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, requires_grad=False) -> Tensor:
    """Uniform samples on [0, 1)."""
    rng = as_numpy_generator(generator)
    dt = _float_dtype(dtype)
    return _new(rng.random(_shape(size), dtype=np.float64).astype(dt), requires_grad)


def randn(*size, generator=None, dtype=None, requires_grad=False) -> Tensor:
    """Standard normal samples N(0, 1)."""
    rng = as_numpy_generator(generator)
    dt = _float_dtype(dtype)
    return _new(rng.standard_normal(_shape(size)).astype(dt), requires_grad)


def randint(low, high=None, size=(), generator=None, dtype=None) -> Tensor:
    """Integers uniform on [low, high) (``randint(high, size)`` starts at 0)."""
    if high is None:
        low, high = 0, low
    rng = as_numpy_generator(generator)
    dt = np.int64 if dtype is None else _check_dtype(dtype)
    return Tensor(rng.integers(low, high, size=tuple(size)).astype(dt))


def randperm(n, generator=None, dtype=None) -> Tensor:
    """A random permutation of 0..n−1."""
    rng = as_numpy_generator(generator)
    return Tensor(rng.permutation(int(n)).astype(dtype or np.int64))


def rand_like(t, generator=None, dtype=None) -> Tensor:
    return rand(t.shape, generator=generator, dtype=dtype or t.dtype)


def randn_like(t, generator=None, dtype=None) -> Tensor:
    return randn(t.shape, generator=generator, dtype=dtype or t.dtype)


def randint_like(t, low, high=None, generator=None) -> Tensor:
    return randint(low, high, t.shape, generator=generator, dtype=t.dtype)


def normal(mean=0.0, std=1.0, size=(), generator=None, dtype=None) -> Tensor:
    """Normal samples N(mean, std²) of the given size."""
    rng = as_numpy_generator(generator)
    return Tensor(rng.normal(mean, std, tuple(size)).astype(_float_dtype(dtype)))


def bernoulli(p, generator=None) -> Tensor:
    """1 with probability p (elementwise, p a tensor), else 0."""
    rng = as_numpy_generator(generator)
    probs = p.data if isinstance(p, Tensor) else np.asarray(p)
    return Tensor((rng.random(probs.shape) < probs).astype(probs.dtype))


def multinomial(probs, num_samples=1, replacement=False, generator=None) -> Tensor:
    """Draw category indices from (rows of) ``probs`` (non-negative weights)."""
    rng = as_numpy_generator(generator)
    p = np.asarray(probs.data if isinstance(probs, Tensor) else probs, dtype=np.float64)
    rows = p.reshape(-1, p.shape[-1])
    out = np.stack([rng.choice(rows.shape[1], size=num_samples, replace=replacement,
                               p=r / r.sum()) for r in rows])
    return Tensor(out.reshape(p.shape[:-1] + (num_samples,)).astype(np.int64))
