"""Samplers: the order in which a DataLoader visits a dataset's indices (``torch.utils.data``).

Besides iterating over indices like PyTorch's samplers, the built-in samplers return a whole
epoch's order at once with ``index_array()``, so the DataLoader can cut batches by slicing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from groundup.data._interop import owned_generator
from groundup.errors import hint

__all__ = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "BatchSampler",
]


class Sampler:
    """Base class: ``iter(sampler)`` yields dataset indices; ``len(sampler)`` counts them."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError

    def index_array(self) -> np.ndarray:
        """One epoch's indices as an int64 array (consumes the sampler's randomness once)."""
        return np.fromiter(iter(self), dtype=np.int64)


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __len__(self) -> int:
        return len(self.data_source)

    def index_array(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))


class RandomSampler(Sampler):
    """A random permutation of ``range(len(data_source))`` per epoch, or, with
    ``replacement=True``, ``num_samples`` indices drawn uniformly with replacement.

    ``generator`` is a ``numpy.random.Generator`` or an int seed (default: a generator seeded
    from groundup's global one when the sampler is built); the order is a function of its
    state, so saving ``generator.bit_generator.state``
    before an epoch reproduces that epoch.
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator=None):
        self.data_source = data_source
        self.replacement = bool(replacement)
        self._num_samples = num_samples
        self.generator = owned_generator(generator)
        if num_samples is not None and (
            not isinstance(num_samples, (int, np.integer)) or num_samples < 0
        ):
            raise ValueError(
                hint(
                    f"RandomSampler: num_samples must be a non-negative integer, "
                    f"got {num_samples!r}",
                    "leave it as None to use len(data_source)",
                )
            )

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def __len__(self) -> int:
        return self.num_samples

    def index_array(self) -> np.ndarray:
        n = len(self.data_source)
        if self.replacement:
            return self.generator.integers(0, n, size=self.num_samples, dtype=np.int64)
        if self.num_samples <= n:
            return self.generator.permutation(n)[: self.num_samples].astype(np.int64, copy=False)
        # More samples than data without replacement: whole permutations one after another.
        rounds = -(-self.num_samples // n)
        orders = [self.generator.permutation(n) for _ in range(rounds)]
        return np.concatenate(orders)[: self.num_samples].astype(np.int64, copy=False)

    def __iter__(self) -> Iterator[int]:
        return iter(self.index_array().tolist())


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order (a new permutation per epoch)."""

    def __init__(self, indices: Sequence[int], generator=None):
        self.indices = np.asarray(indices, dtype=np.int64)
        self.generator = owned_generator(generator)

    def __len__(self) -> int:
        return len(self.indices)

    def index_array(self) -> np.ndarray:
        return self.indices[self.generator.permutation(len(self.indices))]

    def __iter__(self) -> Iterator[int]:
        return iter(self.index_array().tolist())


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter
    unless ``drop_last``)."""

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        self.sampler = sampler
        self.batch_size = _check_batch_size(batch_size, "BatchSampler")
        self.drop_last = bool(drop_last)

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        indices = (
            self.sampler.index_array() if hasattr(self.sampler, "index_array")
            else np.fromiter(iter(self.sampler), dtype=np.int64)
        )
        for batch in split_batches(indices, self.batch_size, self.drop_last):
            yield batch.tolist()


def _check_batch_size(batch_size, owner: str) -> int:
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) \
            or batch_size < 1:
        raise ValueError(
            hint(
                f"{owner}: batch_size must be a positive integer, got {batch_size!r}",
                "use e.g. batch_size=64",
            )
        )
    return int(batch_size)


def split_batches(indices: np.ndarray, batch_size: int, drop_last: bool) -> list[np.ndarray]:
    """Cut an epoch's ``indices`` into consecutive slices of ``batch_size`` (views, no copy)."""
    stop = len(indices) - len(indices) % batch_size if drop_last else len(indices)
    return [indices[start : start + batch_size] for start in range(0, stop, batch_size)]
