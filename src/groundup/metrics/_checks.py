"""Input checks shared by the metrics: 1-D targets, equal lengths, sample weights.

Every error names the argument and ends with a ``help:`` hint (see ``groundup.errors``).
"""

from __future__ import annotations

import numpy as np

from groundup.errors import ShapeError, hint


class UndefinedMetricWarning(UserWarning):
    """A metric is ill-defined for the given input (e.g. precision with no predicted positives)
    and was set to ``zero_division`` (or NaN)."""


def column_or_1d(values, name: str) -> np.ndarray:
    """Return ``values`` as a 1-D array; a column vector ``(n, 1)`` is flattened."""
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ShapeError(
            hint(
                f"{name} must be 1-D, got an array of shape {array.shape}",
                f"pass one label or value per sample, e.g. {name}.ravel()",
            )
        )
    return array


def check_consistent_length(**arrays) -> None:
    """Raise if the named arrays (``None`` skipped) do not all have the same first dimension."""
    lengths = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ShapeError(
            hint(
                f"inconsistent numbers of samples: {shown}",
                "every argument needs one entry per sample",
            )
        )


def check_sample_weight(sample_weight, n_samples: int) -> np.ndarray | None:
    """Validate ``sample_weight``: 1-D float array of length ``n_samples``, finite, not negative."""
    if sample_weight is None:
        return None
    weight = column_or_1d(sample_weight, "sample_weight").astype(np.float64)
    if weight.shape[0] != n_samples:
        raise ShapeError(
            hint(
                f"sample_weight has {weight.shape[0]} entries but there are {n_samples} samples",
                "pass one weight per sample",
            )
        )
    if not np.all(np.isfinite(weight)):
        raise ValueError(hint("sample_weight contains NaN or infinity", "use finite weights"))
    if n_samples and not np.any(weight):
        raise ValueError(hint("sample_weight is all zeros", "give at least one sample a weight"))
    return weight


def _is_continuous(array: np.ndarray) -> bool:
    """True when ``array`` holds floats that are not all whole numbers (regression targets)."""
    return array.dtype.kind == "f" and bool(np.any(array != np.round(array)))


def check_classification_targets(y_true, y_pred, sample_weight=None):
    """Validate a pair of label vectors for a classification metric.

    Returns ``(y_type, labels, y_true, y_pred, sample_weight)`` where ``labels`` is the sorted union
    of the labels present and ``y_type`` is ``"binary"`` (at most two labels) or ``"multiclass"``.
    """
    y_true = column_or_1d(y_true, "y_true")
    y_pred = column_or_1d(y_pred, "y_pred")
    check_consistent_length(y_true=y_true, y_pred=y_pred)
    for name, array in (("y_true", y_true), ("y_pred", y_pred)):
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            raise ValueError(
                hint(f"{name} contains NaN or infinity", "drop or impute the missing labels")
            )
        if _is_continuous(array):
            raise ValueError(
                hint(
                    f"{name} holds continuous values (e.g. {array[array != np.round(array)][0]!r}); "
                    "classification metrics need discrete labels",
                    "threshold probabilities into labels first, or use a regression metric",
                )
            )
    if (y_true.dtype.kind in "OUS") != (y_pred.dtype.kind in "OUS") and len(y_true):
        raise TypeError(
            hint(
                f"y_true has dtype {y_true.dtype} but y_pred has dtype {y_pred.dtype}: "
                "a mix of string and numeric labels",
                "encode both with the same label type",
            )
        )
    labels = np.unique(np.concatenate([y_true, y_pred]))
    y_type = "binary" if len(labels) <= 2 else "multiclass"
    sample_weight = check_sample_weight(sample_weight, len(y_true))
    return y_type, labels, y_true, y_pred, sample_weight


def encode(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Index of each value in ``labels`` (any order), or -1 where the value is not a label."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    position = np.searchsorted(sorted_labels, values)
    position = np.clip(position, 0, max(len(labels) - 1, 0))
    if len(labels) == 0:
        return np.full(len(values), -1, dtype=np.intp)
    found = sorted_labels[position] == values
    return np.where(found, order[position], -1)


def weighted_average(values: np.ndarray, weights: np.ndarray | None = None, axis=None):
    """``sum(w * v) / sum(w)`` (plain mean when ``weights`` is None)."""
    if weights is None:
        return np.mean(values, axis=axis)
    return np.average(values, axis=axis, weights=weights)
