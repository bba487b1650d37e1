"""Input checks shared by groundup.math: each one names the function and the argument it rejects."""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from groundup.errors import ShapeError, hint


def check_callable(f: object, func: str, arg: str = "f") -> Callable:
    """Return ``f`` if it can be called, else raise a ``TypeError`` naming ``func(arg=...)``."""
    if not callable(f):
        raise TypeError(
            hint(
                f"{func}: argument '{arg}' must be a callable function, "
                f"got {type(f).__name__} {f!r}",
                f"pass the function itself, e.g. {func}(lambda x: x**2, ...), not its value",
            )
        )
    return f


def as_float_array(x: object, func: str, arg: str) -> np.ndarray:
    """``x`` as a float64 array of finite numbers; a clear error otherwise."""
    try:
        array = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            hint(
                f"{func}: argument '{arg}' must be numbers, got {type(x).__name__} {x!r}",
                "pass a float, a list of floats or a NumPy array",
            )
        ) from exc
    if not np.all(np.isfinite(array)):
        raise ValueError(
            hint(
                f"{func}: argument '{arg}' contains NaN or infinity: {array!r}",
                "remove or impute the non-finite entries first",
            )
        )
    return array


def as_float_vector(x: object, func: str, arg: str) -> np.ndarray:
    """``x`` as a 1-D float64 array (a scalar becomes a length-1 vector)."""
    array = as_float_array(x, func, arg)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ShapeError(
            hint(
                f"{func}: argument '{arg}' must be a vector (1-D), got shape {array.shape}",
                "flatten it first, e.g. x.ravel()",
            )
        )
    return array


def as_matrix(A: object, func: str, arg: str, square: bool = False) -> np.ndarray:
    """``A`` as a 2-D float64 array (optionally square)."""
    array = as_float_array(A, func, arg)
    if array.ndim != 2:
        raise ShapeError(
            hint(
                f"{func}: argument '{arg}' must be a matrix (2-D), got shape {array.shape}",
                "pass a list of rows or a 2-D NumPy array",
            )
        )
    if square and array.shape[0] != array.shape[1]:
        raise ShapeError(
            hint(
                f"{func}: argument '{arg}' must be square, got shape {array.shape}",
                "this operation is defined for n×n matrices only",
            )
        )
    return array


def check_probability_vector(
    p: object, func: str, arg: str = "p", atol: float = 1e-6
) -> np.ndarray:
    """``p`` as a float64 array whose last axis is a probability distribution.

    Entries must be finite and non-negative and each distribution must sum to 1 within ``atol``.
    """
    array = as_float_array(p, func, arg)
    if array.ndim == 0 or array.shape[-1] == 0:
        raise ShapeError(
            hint(
                f"{func}: argument '{arg}' must be a non-empty probability vector, "
                f"got shape {array.shape}",
                "pass the probabilities of every outcome, e.g. [0.5, 0.5]",
            )
        )
    if np.any(array < 0):
        raise ValueError(
            hint(
                f"{func}: argument '{arg}' has negative entries {array[array < 0]!r}; "
                "probabilities must be >= 0",
                "did you pass logits or log-probabilities? apply softmax or exp first",
            )
        )
    totals = array.sum(axis=-1)
    if np.any(np.abs(totals - 1.0) > atol):
        raise ValueError(
            hint(
                f"{func}: argument '{arg}' must sum to 1 (within {atol:g}), but sums to "
                f"{np.round(totals, 10)!r}",
                f"normalise it first: {arg} / {arg}.sum()",
            )
        )
    return array


def check_probability(p: object, func: str, arg: str = "p") -> np.ndarray:
    """``p`` as a float64 array of probabilities in [0, 1]."""
    array = as_float_array(p, func, arg)
    if np.any((array < 0) | (array > 1)):
        raise ValueError(
            hint(
                f"{func}: argument '{arg}' must be a probability in [0, 1], got {p!r}",
                "probabilities lie between 0 and 1 inclusive",
            )
        )
    return array


def check_open_unit(value: object, func: str, arg: str) -> float:
    """A scalar strictly between 0 and 1 (a confidence δ or an accuracy ε)."""
    number = check_scalar(value, func, arg)
    if not 0.0 < number < 1.0:
        raise ValueError(
            hint(
                f"{func}: argument '{arg}' must lie strictly between 0 and 1, got {value!r}",
                f"{arg} is a probability such as 0.05 (a 95% guarantee)",
            )
        )
    return number


def check_scalar(value: object, func: str, arg: str) -> float:
    """A finite real scalar as a Python float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | np.ndarray):
        raise TypeError(
            hint(
                f"{func}: argument '{arg}' must be a real number, got {type(value).__name__} "
                f"{value!r}",
                "pass a single float or int",
            )
        )
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 0 or not np.isfinite(array):
        raise ValueError(
            hint(
                f"{func}: argument '{arg}' must be one finite number, got {value!r}",
                "pass a single finite float or int",
            )
        )
    return float(array)


def check_positive(value: object, func: str, arg: str, strict: bool = True) -> float:
    """A finite scalar > 0 (or >= 0 when ``strict`` is False)."""
    number = check_scalar(value, func, arg)
    if number < 0 or (strict and number == 0):
        bound = "> 0" if strict else ">= 0"
        raise ValueError(
            hint(
                f"{func}: argument '{arg}' must be {bound}, got {value!r}",
                f"pass a {'positive' if strict else 'non-negative'} number",
            )
        )
    return number


def check_count(value: object, func: str, arg: str, minimum: int = 0) -> int:
    """An integer >= ``minimum`` (accepts integral floats such as 10.0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | np.integer):
        raise TypeError(
            hint(
                f"{func}: argument '{arg}' must be an integer, got {type(value).__name__} "
                f"{value!r}",
                "pass a whole number such as 10",
            )
        )
    if value != int(value) or value < minimum:
        raise ValueError(
            hint(
                f"{func}: argument '{arg}' must be an integer >= {minimum}, got {value!r}",
                f"pass a whole number of at least {minimum}",
            )
        )
    return int(value)


def check_choice(value: object, choices: tuple[str, ...], func: str, arg: str) -> str:
    """One of the allowed option strings."""
    if value not in choices:
        raise ValueError(
            hint(
                f"{func}: argument '{arg}' must be one of {choices}, got {value!r}",
                f"pick one of: {', '.join(map(repr, choices))}",
            )
        )
    return value  # type: ignore[return-value]


def as_generator(rng: object, func: str) -> np.random.Generator:
    """A ``numpy.random.Generator`` from None, an int seed or a Generator."""
    if rng is None or isinstance(rng, numbers.Integral):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(
        hint(
            f"{func}: argument 'rng' must be None, an int seed or a numpy.random.Generator, "
            f"got {type(rng).__name__}",
            "pass np.random.default_rng(0) or a seed such as 0",
        )
    )
