"""Dataset, TensorDataset, Subset, ConcatDataset, random_split."""

from __future__ import annotations

import numpy as np
import pytest

from groundup.data import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from groundup.errors import ShapeError
from groundup.tensor import Tensor


def make_dataset(n=10):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64) * 10
    return TensorDataset(X, y), X, y


def test_tensor_dataset_indexes_every_array():
    ds, X, y = make_dataset()
    assert len(ds) == 10
    x7, y7 = ds[7]
    np.testing.assert_array_equal(x7, X[7])
    assert y7 == 70
    np.testing.assert_array_equal(ds[-1][0], X[9])
    with pytest.raises(IndexError, match="out of range"):
        ds[10]


def test_tensor_dataset_keeps_tensors_as_tensors():
    ds = TensorDataset(Tensor(np.ones((4, 2), dtype=np.float32)), np.arange(4))
    x, y = ds[1]
    assert isinstance(x, Tensor) and x.shape == (2,)
    assert y == 1


def test_tensor_dataset_rejects_mismatched_lengths():
    with pytest.raises(ShapeError, match=r"\(5, 2\), \(4,\).*help:"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))


def test_get_batch_gathers_rows():
    ds, X, y = make_dataset()
    xb, yb = ds.get_batch(np.array([3, 0, 3]))
    np.testing.assert_array_equal(xb, X[[3, 0, 3]])
    np.testing.assert_array_equal(yb, [30, 0, 30])


def test_subset_maps_indices_and_delegates_batches():
    ds, X, _ = make_dataset()
    sub = Subset(ds, [9, 2, 5])
    assert len(sub) == 3
    np.testing.assert_array_equal(sub[1][0], X[2])
    xb, yb = sub.get_batch(np.array([2, 0]))
    np.testing.assert_array_equal(yb, [50, 90])
    with pytest.raises(IndexError):
        Subset(ds, [10])


def test_concat_dataset_and_plus():
    a, _, _ = make_dataset(3)
    b, _, _ = make_dataset(4)
    both = a + b
    assert isinstance(both, ConcatDataset) and len(both) == 7
    assert both[2][1] == 20 and both[3][1] == 0 and both[6][1] == 30
    assert both[-1][1] == 30
    xb, yb = both.get_batch(np.array([5, 0, 6, 2, 3]))
    np.testing.assert_array_equal(yb, [20, 0, 30, 20, 0])
    np.testing.assert_array_equal(xb, np.stack([both[i][0] for i in (5, 0, 6, 2, 3)]))


def test_random_split_fractions_follow_pytorch_rounding():
    ds, _, _ = make_dataset(10)
    parts = random_split(ds, [0.33, 0.33, 0.34], generator=0)
    # floor gives 3, 3, 3; the remainder of 1 goes to the first part.
    assert [len(p) for p in parts] == [4, 3, 3]
    seen = np.concatenate([p.indices for p in parts])
    assert sorted(seen.tolist()) == list(range(10))


def test_random_split_is_reproducible_from_a_seed():
    ds, _, _ = make_dataset(50)
    first = random_split(ds, [40, 10], generator=np.random.default_rng(3))
    second = random_split(ds, [40, 10], generator=np.random.default_rng(3))
    other = random_split(ds, [40, 10], generator=np.random.default_rng(4))
    np.testing.assert_array_equal(first[1].indices, second[1].indices)
    assert not np.array_equal(first[1].indices, other[1].indices)


def test_random_split_rejects_bad_lengths():
    ds, _, _ = make_dataset(10)
    with pytest.raises(ValueError, match="sum to 9.*help:"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError, match="fractions"):
        random_split(ds, [0.5, 0.6])


def test_base_dataset_has_no_fast_path():
    class Squares(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return i * i

    assert Squares().get_batch(np.arange(2)) is NotImplemented
    assert Squares()[3] == 9
