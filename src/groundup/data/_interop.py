"""Bridges between NumPy arrays, groundup Tensors and random generators for ``groundup.data``.

``groundup.data`` is importable without the Tensor class (layer 3, NumPy only at import time), so
``groundup.tensor`` is imported lazily, at the first batch.
"""

from __future__ import annotations

import numpy as np

_TENSOR_CLASS = None


def tensor_class():
    """The ``groundup.tensor.Tensor`` class, imported on first use (``None`` if not installed)."""
    global _TENSOR_CLASS
    if _TENSOR_CLASS is None:
        try:
            from groundup.tensor import Tensor
        except ImportError:  # the tensor layer is not present: batches stay NumPy arrays
            return None
        _TENSOR_CLASS = Tensor
    return _TENSOR_CLASS


def is_tensor(value) -> bool:
    """True when ``value`` is a groundup Tensor."""
    cls = tensor_class()
    return cls is not None and isinstance(value, cls)


def to_array(value) -> np.ndarray:
    """The NumPy array behind ``value`` (a Tensor's ``.data``, or ``np.asarray(value)``)."""
    if is_tensor(value):
        return value.data
    return np.asarray(value)


def to_tensor(array: np.ndarray):
    """Wrap ``array`` in a groundup Tensor without copying (the array itself if there is none)."""
    cls = tensor_class()
    if cls is None:
        return array
    return cls(array)


def like_input(array: np.ndarray, original):
    """Return ``array`` as the same kind (Tensor or ndarray) as ``original``."""
    return to_tensor(array) if is_tensor(original) else array


def default_generator() -> np.random.Generator:
    """The NumPy generator behind groundup's global generator (``groundup.manual_seed``), or a
    process-wide fallback when ``groundup.random`` is absent. Looked up at each call because
    ``manual_seed`` replaces it."""
    global _FALLBACK_GENERATOR
    try:
        from groundup.random import default_generator as global_generator
    except ImportError:
        if _FALLBACK_GENERATOR is None:
            _FALLBACK_GENERATOR = np.random.default_rng()
        return _FALLBACK_GENERATOR
    return global_generator.numpy


_FALLBACK_GENERATOR: np.random.Generator | None = None


def as_generator(generator) -> np.random.Generator:
    """Turn ``generator`` (a ``numpy.random.Generator``, a ``groundup.random.Generator``, an int
    seed, or ``None`` for groundup's global generator) into a ``numpy.random.Generator``."""
    if generator is None:
        return default_generator()
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    wrapped = getattr(generator, "numpy", None)  # groundup.random.Generator
    if isinstance(wrapped, np.random.Generator):
        return wrapped
    from groundup.errors import hint

    raise TypeError(
        hint(
            f"generator must be a numpy.random.Generator, a groundup Generator, an int seed or "
            f"None, got {type(generator).__name__}",
            "pass numpy.random.default_rng(seed) or a seed such as 0",
        )
    )


def owned_generator(generator) -> np.random.Generator:
    """A generator the caller may keep: ``generator`` itself, or for ``None`` a new generator
    seeded from groundup's global one (so ``manual_seed`` still makes it reproducible)."""
    if generator is None:
        return np.random.default_rng(int(default_generator().integers(2**63)))
    return as_generator(generator)
