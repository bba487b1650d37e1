"""DataLoader: batching, shuffling, drop_last, len, collate, fast path, exact resume."""

from __future__ import annotations

import json
from collections import namedtuple

import numpy as np
import pytest

import groundup
from groundup.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
)
from groundup.tensor import Tensor


class PerSample(Dataset):
    """A dataset without a fast path: every sample goes through __getitem__."""

    def __init__(self, n):
        self.n = n
        self.calls = 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.calls += 1
        return np.full(2, i, dtype=np.float32), i


def arrays(n=10):
    return np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n, dtype=np.int64)


@pytest.mark.parametrize("n, batch, drop_last, expected_sizes", [
    (10, 3, False, [3, 3, 3, 1]),
    (10, 3, True, [3, 3, 3]),
    (10, 5, True, [5, 5]),
    (1, 4, False, [1]),
    (1, 4, True, []),
])
def test_batch_sizes_and_len(n, batch, drop_last, expected_sizes):
    X, y = arrays(n)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch, drop_last=drop_last)
    sizes = [len(yb.data) for _, yb in loader]
    assert sizes == expected_sizes
    assert len(loader) == len(expected_sizes)


def test_batches_are_tensors_in_order_without_shuffle():
    X, y = arrays()
    batches = list(DataLoader(TensorDataset(X, y), batch_size=4))
    xb, yb = batches[1]
    assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
    assert xb.data.dtype == np.float32 and yb.data.dtype == np.int64
    np.testing.assert_array_equal(xb.data, X[4:8])
    np.testing.assert_array_equal(yb.data, [4, 5, 6, 7])


def test_batches_do_not_alias_the_dataset():
    X, y = arrays()
    xb, _ = next(iter(DataLoader(TensorDataset(X, y), batch_size=4)))
    xb.data[:] = -1
    assert X[0, 0] == 0


def test_shuffle_visits_every_sample_once_in_a_seeded_order():
    X, y = arrays(100)
    order = [np.concatenate([yb.data for _, yb in DataLoader(TensorDataset(X, y), batch_size=16,
                                                             shuffle=True, generator=seed)])
             for seed in (7, 7, 8)]
    assert sorted(order[0].tolist()) == list(range(100))
    np.testing.assert_array_equal(order[0], order[1])
    assert not np.array_equal(order[0], order[2])
    # The permutation is the generator's first permutation of range(100).
    np.testing.assert_array_equal(order[0], np.random.default_rng(7).permutation(100))


def test_each_epoch_gets_a_new_order():
    X, y = arrays(50)
    loader = DataLoader(TensorDataset(X, y), batch_size=50, shuffle=True, generator=1)
    first = next(iter(loader))[1].data.copy()
    second = next(iter(loader))[1].data.copy()
    assert sorted(first.tolist()) == sorted(second.tolist())
    assert not np.array_equal(first, second)


def test_default_generator_follows_manual_seed():
    X, y = arrays(40)
    groundup.random.manual_seed(123)
    a = next(iter(DataLoader(TensorDataset(X, y), batch_size=40, shuffle=True)))[1].data
    groundup.random.manual_seed(123)
    b = next(iter(DataLoader(TensorDataset(X, y), batch_size=40, shuffle=True)))[1].data
    np.testing.assert_array_equal(a, b)


def test_fast_path_equals_per_sample_path():
    n = 23
    fast = DataLoader(TensorDataset(np.stack([np.full(2, i, np.float32) for i in range(n)]),
                                    np.arange(n)), batch_size=5, shuffle=True, generator=4)
    slow_ds = PerSample(n)
    slow = DataLoader(slow_ds, batch_size=5, shuffle=True, generator=4)
    for (xf, yf), (xs, ys) in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(xf.data, xs.data)
        np.testing.assert_array_equal(yf.data, ys.data)
    assert slow_ds.calls == n


def test_fast_path_is_used_for_tensor_datasets():
    calls = []

    class Counting(TensorDataset):
        def __getitem__(self, i):
            calls.append(i)
            return super().__getitem__(i)

    X, y = arrays(10)
    list(DataLoader(Counting(X, y), batch_size=4))
    assert calls == []
    # A custom collate_fn needs the samples, so it goes through __getitem__.
    list(DataLoader(Counting(X, y), batch_size=4, collate_fn=lambda samples: len(samples)))
    assert len(calls) == 10


def test_subset_of_tensor_dataset_uses_the_underlying_rows():
    X, y = arrays(10)
    loader = DataLoader(Subset(TensorDataset(X, y), [8, 1, 5]), batch_size=2)
    assert [yb.data.tolist() for _, yb in loader] == [[8, 1], [5]]


def test_default_collate_structures():
    Point = namedtuple("Point", "x label")
    batch = default_collate([Point(np.ones((2, 2)), 1), Point(np.zeros((2, 2)), 2)])
    assert isinstance(batch, Point)
    assert batch.x.data.shape == (2, 2, 2)
    assert batch.label.data.dtype == np.int64
    np.testing.assert_array_equal(batch.label.data, [1, 2])
    d = default_collate([{"a": 1.5, "name": "u"}, {"a": 2.5, "name": "v"}])
    assert d["name"] == ["u", "v"]
    assert d["a"].data.dtype == np.float64
    np.testing.assert_array_equal(d["a"].data, [1.5, 2.5])
    t = default_collate([(Tensor(np.ones(3, np.float32)), np.float32(2.0))] * 4)
    assert isinstance(t, tuple) and t[0].data.shape == (4, 3) and t[1].data.dtype == np.float32


def test_default_collate_rejects_ragged_samples():
    with pytest.raises(ValueError, match=r"different shapes.*help:"):
        default_collate([np.zeros(2), np.zeros(3)])


def test_batch_size_none_yields_single_samples():
    X, y = arrays(3)
    samples = list(DataLoader(TensorDataset(X, y), batch_size=None))
    assert len(samples) == 3
    assert samples[2][0].data.shape == (2,)


def test_custom_samplers():
    X, y = arrays(10)
    ds = TensorDataset(X, y)
    loader = DataLoader(ds, batch_size=4, sampler=[9, 8, 7, 6, 5])
    assert [yb.data.tolist() for _, yb in loader] == [[9, 8, 7, 6], [5]]
    batches = BatchSampler(SequentialSampler(ds), batch_size=3, drop_last=True)
    loader = DataLoader(ds, batch_sampler=batches)
    assert len(loader) == 3
    assert [yb.data.tolist() for _, yb in loader][-1] == [6, 7, 8]
    replacement = RandomSampler(ds, replacement=True, num_samples=25, generator=0)
    drawn = np.concatenate([yb.data for _, yb in DataLoader(ds, batch_size=10,
                                                             sampler=replacement)])
    assert len(drawn) == 25 and drawn.min() >= 0 and drawn.max() <= 9


def test_invalid_arguments_are_explained():
    X, y = arrays()
    ds = TensorDataset(X, y)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="exclude each other"):
        DataLoader(ds, shuffle=True, sampler=[0, 1])
    with pytest.raises(TypeError, match="TensorDataset"):
        DataLoader(42)


def _train_order(loader, epochs):
    return [yb.data.tolist() for _ in range(epochs) for _, yb in loader]


def test_state_dict_resumes_mid_epoch_exactly():
    X, y = arrays(30)
    reference = _train_order(DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True,
                                        generator=11), epochs=3)
    # Run 1 epoch and 3 batches, save, then continue in a brand-new loader.
    loader = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, generator=11)
    seen = _train_order(loader, epochs=1)
    iterator = iter(loader)
    seen += [next(iterator)[1].data.tolist() for _ in range(3)]
    state = json.loads(json.dumps(loader.state_dict()))  # must survive JSON (checkpoints)
    assert state["batches_done"] == 3
    resumed = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, generator=999)
    resumed.load_state_dict(state)
    seen += [yb.data.tolist() for _, yb in resumed]
    seen += _train_order(resumed, epochs=1)
    assert seen == reference


def test_state_dict_between_epochs_resumes_the_next_epoch():
    X, y = arrays(12)
    loader = DataLoader(TensorDataset(X, y), batch_size=5, shuffle=True, generator=2)
    _train_order(loader, epochs=1)
    state = loader.state_dict()
    assert state["batches_done"] == 0
    expected = _train_order(loader, epochs=1)
    other = DataLoader(TensorDataset(X, y), batch_size=5, shuffle=True, generator=3)
    other.load_state_dict(state)
    assert _train_order(other, epochs=1) == expected


def test_epoch_of_mnist_sized_arrays_batches_every_sample():
    X = np.zeros((60000, 784), dtype=np.float32)
    y = np.arange(60000)
    loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True, generator=0)
    assert len(loader) == 938
    count, total = 0, 0
    for _, yb in loader:
        count += 1
        total += int(yb.data.sum())
    assert count == 938 and total == 60000 * 59999 // 2


def test_accepts_a_groundup_generator():
    X, y = arrays(20)
    loader = DataLoader(TensorDataset(X, y), batch_size=20, shuffle=True,
                        generator=groundup.random.Generator(5))
    np.testing.assert_array_equal(next(iter(loader))[1].data,
                                  np.random.default_rng(5).permutation(20))
