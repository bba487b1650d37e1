"""Datasets: indexable collections of samples, as in ``torch.utils.data``.

A dataset maps an index ``i`` in ``range(len(dataset))`` to one sample, usually a tuple
``(input, target)``. Datasets that keep their samples in arrays also implement
``get_batch(indices)``, which returns a whole batch with one fancy-indexing operation per array;
``DataLoader`` uses it instead of ``len(batch)`` calls to ``__getitem__`` plus a collate.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

import numpy as np

from groundup.data._interop import as_generator, is_tensor, to_array, to_tensor
from groundup.errors import ShapeError, hint

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__(i)`` and ``__len__()``.

    ``get_batch(indices)`` (optional) returns the batch of samples ``indices`` already collated
    into NumPy arrays (same structure as one sample, each leaf stacked along a new axis 0), or
    ``NotImplemented`` when the dataset cannot do this faster than sample by sample.
    ``dataset_a + dataset_b`` concatenates datasets.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def get_batch(self, indices: np.ndarray):
        """The collated batch for integer array ``indices`` (shape ``(B,)``), or NotImplemented."""
        return NotImplemented

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


def _check_index(index, length: int, owner: str) -> int:
    if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
        raise TypeError(
            hint(
                f"{owner} index must be an integer, got {type(index).__name__}",
                "index one sample at a time; use Subset or DataLoader for many",
            )
        )
    index = int(index)
    if index < -length or index >= length:
        raise IndexError(
            hint(
                f"{owner} index {index} is out of range for a dataset of {length} samples",
                f"use an index in [-{length}, {length - 1}]",
            )
        )
    return index % length if length else index


class TensorDataset(Dataset):
    """A dataset of arrays (or Tensors) that share their first dimension: sample ``i`` is
    ``tuple(a[i] for a in arrays)``.

    ``TensorDataset(X, y)`` with ``X`` of shape ``(N, ...)`` and ``y`` of shape ``(N, ...)``.
    Samples are NumPy views (Tensors when the arrays were given as Tensors); ``get_batch`` takes
    a batch of every array with one fancy-indexing operation (this is the DataLoader's fast path).
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError(
                hint("TensorDataset needs at least one array", "call TensorDataset(X, y)")
            )
        self.tensors = tensors
        self._arrays = tuple(to_array(t) for t in tensors)
        self._as_tensor = tuple(is_tensor(t) for t in tensors)
        for position, array in enumerate(self._arrays):
            if array.ndim == 0:
                raise ShapeError(
                    hint(
                        f"TensorDataset: array {position} is a scalar (shape ())",
                        "every array needs a first (sample) dimension",
                    )
                )
        sizes = [a.shape[0] for a in self._arrays]
        if len(set(sizes)) != 1:
            shapes = ", ".join(str(a.shape) for a in self._arrays)
            raise ShapeError(
                hint(
                    f"TensorDataset: arrays have different numbers of samples: shapes {shapes}",
                    "all arrays must have the same size along dimension 0 (one row per sample)",
                )
            )
        self._length = sizes[0]

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):
        index = _check_index(index, self._length, "TensorDataset")
        return tuple(
            to_tensor(np.asarray(a[index])) if as_tensor else a[index]
            for a, as_tensor in zip(self._arrays, self._as_tensor, strict=True)
        )

    def get_batch(self, indices: np.ndarray):
        """``tuple(a[indices] for a in arrays)``: one gather per array, shape ``(B, ...)``."""
        return tuple(a[indices] for a in self._arrays)


class Subset(Dataset):
    """The samples of ``dataset`` at positions ``indices``: ``Subset(d, idx)[k] == d[idx[k]]``."""

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(
                hint(
                    f"Subset: indices range over [{self.indices.min()}, {self.indices.max()}] "
                    f"but the dataset has {n} samples",
                    f"use indices in [0, {n - 1}]",
                )
            )

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        index = _check_index(index, len(self.indices), "Subset")
        return self.dataset[int(self.indices[index])]

    def get_batch(self, indices: np.ndarray):
        """The underlying dataset's batch at ``self.indices[indices]`` (if it has a fast path)."""
        get_batch = getattr(self.dataset, "get_batch", None)
        if get_batch is None:
            return NotImplemented
        return get_batch(self.indices[indices])


class ConcatDataset(Dataset):
    """The datasets one after another: indices ``0..len(d0)-1`` map to ``d0``, then ``d1``, ..."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError(
                hint("ConcatDataset needs at least one dataset", "pass a list of datasets")
            )
        self.cumulative_sizes = []
        total = 0
        for dataset in self.datasets:
            total += len(dataset)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        index = _check_index(index, len(self), "ConcatDataset")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]

    def get_batch(self, indices: np.ndarray):
        """Gather from each part with its own fast path, then restore the requested order;
        NotImplemented unless every part involved has one and they share a structure."""
        indices = np.asarray(indices, dtype=np.int64) % len(self)
        which = np.searchsorted(self.cumulative_sizes, indices, side="right")
        order = np.argsort(which, kind="stable")  # requests grouped by part, in order
        parts = []
        for part in np.unique(which):
            start = self.cumulative_sizes[part - 1] if part else 0
            get_batch = getattr(self.datasets[part], "get_batch", None)
            batch = NotImplemented if get_batch is None else get_batch(
                indices[which == part] - start)
            if batch is NotImplemented:
                return NotImplemented
            parts.append(batch)
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        return _concat_trees(parts, inverse)


def _concat_trees(parts: list, inverse: np.ndarray):
    """Concatenate batches with the same nested structure leaf by leaf, then reorder rows."""
    first = parts[0]
    if isinstance(first, dict):
        return {key: _concat_trees([p[key] for p in parts], inverse) for key in first}
    if isinstance(first, (tuple, list)):
        fields = [_concat_trees(list(column), inverse) for column in zip(*parts, strict=True)]
        return type(first)(fields) if not hasattr(first, "_fields") else type(first)(*fields)
    return np.concatenate([np.asarray(p) for p in parts])[inverse]


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    lengths = list(lengths)
    if not lengths:
        raise ValueError(hint("random_split: lengths is empty", "pass e.g. [0.8, 0.2]"))
    if all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in lengths):
        if any(x < 0 for x in lengths) or sum(lengths) != n:
            raise ValueError(
                hint(
                    f"random_split: lengths {lengths} sum to {sum(lengths)}, "
                    f"but the dataset has {n} samples",
                    "integer lengths must be non-negative and add up to len(dataset)",
                )
            )
        return [int(x) for x in lengths]
    if any(x < 0 or x > 1 for x in lengths) or not math.isclose(sum(lengths), 1.0, abs_tol=1e-9):
        raise ValueError(
            hint(
                f"random_split: fractions {lengths} must lie in [0, 1] and sum to 1 "
                f"(they sum to {sum(lengths)})",
                "pass fractions such as [0.8, 0.2] or integer lengths adding up to len(dataset)",
            )
        )
    # PyTorch's rule: floor every part, then hand out the remainder one by one from the first.
    sizes = [int(math.floor(n * fraction)) for fraction in lengths]
    for i in range(n - sum(sizes)):
        sizes[i % len(sizes)] += 1
    return sizes


def random_split(dataset, lengths: Sequence[float], generator=None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given ``lengths``.

    ``lengths`` are integers adding up to ``len(dataset)`` or fractions adding up to 1 (each part
    gets ``floor(n * fraction)`` samples and the remainder goes one by one to the first parts, as
    in PyTorch). The permutation is drawn from ``generator`` (a ``numpy.random.Generator`` or an
    int seed; default: groundup's global generator), so the same seed gives the same split.
    """
    n = len(dataset)
    sizes = _split_lengths(n, lengths)
    permutation = as_generator(generator).permutation(n)
    subsets, start = [], 0
    for size in sizes:
        subsets.append(Subset(dataset, permutation[start : start + size]))
        start += size
    return subsets
