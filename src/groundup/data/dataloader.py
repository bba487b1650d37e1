"""DataLoader: iterate over a dataset in (shuffled) mini-batches, like PyTorch's ``DataLoader``.

Fast path: when ``collate_fn`` is the default and the dataset implements ``get_batch(indices)``
(``TensorDataset``, ``Subset`` of one, ``MNIST``, ...), a batch is gathered with one
fancy-indexing operation per array instead of ``batch_size`` calls to ``__getitem__`` and a
stack. An epoch of MNIST at batch size 64 (938 batches) then costs milliseconds of loading.

Reproducibility: the shuffle order comes from ``loader.generator`` (a ``numpy.random.Generator``).
``state_dict()`` / ``load_state_dict()`` save and restore it together with the position inside
the current epoch, so a checkpoint taken after batch k resumes with batch k + 1 of the same order.
"""

from __future__ import annotations

import collections.abc
import copy
from collections.abc import Callable, Iterator

import numpy as np

from groundup.data._interop import as_generator, is_tensor, to_tensor
from groundup.data.sampler import (
    RandomSampler,
    Sampler,
    SequentialSampler,
    _check_batch_size,
    split_batches,
)
from groundup.errors import hint

__all__ = ["DataLoader", "default_collate", "default_convert"]


def _stack_leaves(samples: list, leaf_type: str):
    if leaf_type == "tensor":
        return to_tensor(np.stack([s.data for s in samples]))
    return to_tensor(np.stack(samples) if leaf_type == "array" else np.asarray(samples))


def default_collate(batch: list):
    """Merge a list of samples into one batch, leaf by leaf (PyTorch's ``default_collate``).

    Per leaf type: NumPy arrays and Tensors of shape ``S`` are stacked into a Tensor of shape
    ``(B, *S)``; Python ints become an int64 Tensor of shape ``(B,)``, Python floats a float64
    one, bools a bool one, NumPy scalars keep their dtype; strings stay a list. Tuples, lists,
    named tuples and dicts are collated field by field and keep their structure (a tuple of
    leaves becomes a tuple of batches; PyTorch returns a list there).
    """
    if not batch:
        raise ValueError(hint("default_collate: empty batch", "batches need at least one sample"))
    elem = batch[0]
    if is_tensor(elem):
        return _stack_leaves(batch, "tensor")
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUSV":
            raise TypeError(
                hint(
                    f"default_collate: cannot batch NumPy arrays of dtype {elem.dtype}",
                    "convert samples to numeric arrays, or pass a collate_fn",
                )
            )
        shapes = {s.shape for s in batch}
        if len(shapes) > 1:
            raise ValueError(
                hint(
                    f"default_collate: samples have different shapes {sorted(shapes)}",
                    "resize or pad samples to one shape (transforms.RandomCrop, padding), "
                    "or pass a collate_fn",
                )
            )
        return _stack_leaves(batch, "array")
    if isinstance(elem, np.generic):
        return to_tensor(np.array(batch, dtype=elem.dtype))
    if isinstance(elem, bool):
        return to_tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return to_tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return to_tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, collections.abc.Sequence):
        sizes = {len(sample) for sample in batch}
        if len(sizes) > 1:
            raise ValueError(
                hint(
                    f"default_collate: samples have different numbers of fields {sorted(sizes)}",
                    "every sample of a dataset must have the same structure",
                )
            )
        fields = [default_collate(list(column)) for column in zip(*batch, strict=True)]
        if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # named tuple
            return type(elem)(*fields)
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise TypeError(
        hint(
            f"default_collate: cannot batch samples of type {type(elem).__name__}",
            "samples should be arrays, Tensors, numbers, or tuples/lists/dicts of them; "
            "otherwise pass a collate_fn",
        )
    )


def default_convert(data):
    """Turn the NumPy arrays inside ``data`` (nested tuples/lists/dicts) into Tensors, keeping
    the structure; other leaves are returned unchanged (PyTorch's ``default_convert``)."""
    if isinstance(data, np.ndarray):
        return to_tensor(data) if data.dtype.kind not in "OUSV" else data
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(value) for value in data))
    if isinstance(data, tuple):
        return tuple(default_convert(value) for value in data)
    if isinstance(data, list):
        return [default_convert(value) for value in data]
    return data


class DataLoader:
    """Iterates over ``dataset`` in mini-batches.

    Args:
        dataset: a map-style dataset (``__getitem__`` and ``__len__``).
        batch_size: samples per batch (``None`` yields single samples without batching).
        shuffle: visit the samples in a new random order every epoch.
        sampler: the order of indices (a ``Sampler`` or any iterable of ints with ``len``);
            excludes ``shuffle``.
        batch_sampler: yields lists of indices, one per batch; excludes ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``.
        drop_last: drop the last batch when it has fewer than ``batch_size`` samples.
        collate_fn: merges a list of samples into a batch (default: ``default_collate``, whose
            leaves are groundup Tensors).
        generator: ``numpy.random.Generator``, ``groundup.random.Generator`` or int seed for
            the shuffle order. Default: a new
            generator seeded from groundup's global generator when the loader is built, so
            ``groundup.manual_seed(s)`` makes the order reproducible.
        num_workers, pin_memory: accepted for PyTorch compatibility and ignored; loading runs
            in the main process (the array fast path needs no workers).

    ``len(loader)`` is the number of batches per epoch:
    ``ceil(N / batch_size)``, or ``floor(N / batch_size)`` with ``drop_last``.
    """

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | None = None,
        batch_sampler=None,
        num_workers: int = 0,
        collate_fn: Callable | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        generator=None,
    ):
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(
                hint(
                    f"DataLoader: dataset of type {type(dataset).__name__} has no "
                    "__getitem__/__len__",
                    "wrap arrays in TensorDataset(X, y) or subclass Dataset",
                )
            )
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    hint(
                        "DataLoader: batch_sampler excludes batch_size, shuffle, sampler and "
                        "drop_last",
                        "set those on the batch sampler instead",
                    )
                )
            batch_size, drop_last = None, False
        elif batch_size is not None:
            batch_size = _check_batch_size(batch_size, "DataLoader")
        elif drop_last:
            raise ValueError(
                hint(
                    "DataLoader: drop_last=True needs a batch_size",
                    "pass batch_size or leave drop_last=False",
                )
            )
        if sampler is not None and shuffle:
            raise ValueError(
                hint(
                    "DataLoader: sampler and shuffle=True exclude each other",
                    "pass RandomSampler(dataset) as the sampler, or drop the sampler",
                )
            )
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = bool(drop_last)
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.collate_fn = collate_fn if collate_fn is not None else default_collate
        self._default_collate = collate_fn is None
        if sampler is None:
            if shuffle:
                # With generator=None the sampler seeds its own generator from the global one:
                # reproducible after manual_seed, and the loader's state_dict is self-contained.
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = getattr(sampler, "generator", None)
        if self.generator is None and generator is not None:
            self.generator = as_generator(generator)
        # Bookkeeping for exact mid-epoch resume (see state_dict).
        self._epoch_start_state = None
        self._batches_done = 0
        self._resume_batches = 0
        self._in_epoch = False

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _epoch_batches(self) -> list:
        if self.batch_sampler is not None:
            return [np.asarray(batch, dtype=np.int64) for batch in self.batch_sampler]
        indices = (
            self.sampler.index_array() if hasattr(self.sampler, "index_array")
            else np.fromiter(iter(self.sampler), dtype=np.int64)
        )
        if self.batch_size is None:
            return list(indices)
        return split_batches(indices, self.batch_size, self.drop_last)

    def _fetch(self, indices):
        if self.batch_size is None and self.batch_sampler is None:
            return default_convert(self.dataset[int(indices)])
        if self._default_collate:
            batch = self.dataset.get_batch(indices) if hasattr(self.dataset, "get_batch") \
                else NotImplemented
            if batch is not NotImplemented:
                return default_convert(batch)
        return self.collate_fn([self.dataset[int(i)] for i in indices])

    def __iter__(self) -> Iterator:
        skip, self._resume_batches = self._resume_batches, 0
        generator = self.generator
        self._epoch_start_state = (
            copy.deepcopy(generator.bit_generator.state) if generator is not None else None
        )
        self._batches_done = skip
        batches = self._epoch_batches()
        self._in_epoch = True
        for position in range(skip, len(batches)):
            batch = self._fetch(batches[position])
            self._batches_done = position + 1
            yield batch
        self._in_epoch = False

    def state_dict(self) -> dict:
        """The loader's resumable state, JSON-serialisable.

        ``{"generator": bit-generator state or None, "batches_done": int}``. In the middle of
        an epoch the generator state is the one from the start of that epoch and
        ``batches_done`` counts the batches already yielded; between epochs it is the current
        state and 0.
        """
        generator_state = None
        batches_done = 0
        if self._in_epoch and self._batches_done < len(self):
            generator_state = self._epoch_start_state
            batches_done = self._batches_done
        elif self.generator is not None:
            generator_state = self.generator.bit_generator.state
        return {"generator": copy.deepcopy(generator_state), "batches_done": int(batches_done)}

    def load_state_dict(self, state: dict) -> None:
        """Restore a ``state_dict()``: the next ``iter(loader)`` re-draws the saved epoch's
        order and starts after its first ``batches_done`` batches."""
        missing = {"generator", "batches_done"} - set(state)
        if missing:
            raise ValueError(
                hint(
                    f"DataLoader.load_state_dict: state is missing {sorted(missing)}",
                    "pass a dict returned by DataLoader.state_dict()",
                )
            )
        if state["generator"] is not None:
            if self.generator is None:
                raise ValueError(
                    hint(
                        "DataLoader.load_state_dict: the state has a generator but this loader "
                        "does not shuffle",
                        "build the loader with shuffle=True (or the same sampler) as when saved",
                    )
                )
            self.generator.bit_generator.state = copy.deepcopy(state["generator"])
        self._in_epoch = False
        self._resume_batches = int(state["batches_done"])
