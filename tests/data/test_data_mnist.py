"""The bundled MNIST: facts from the dataset's README, verification, fast batches."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

from groundup.data import DataLoader
from groundup.data import transforms as T
from groundup.data.datasets import MNIST
from groundup.data.datasets.mnist import BUNDLED_MNIST_DIR
from groundup.errors import DataError
from groundup.tensor import Tensor


@pytest.fixture(scope="module")
def train():
    return MNIST(train=True)


@pytest.fixture(scope="module")
def test():
    return MNIST(train=False)


def test_sizes_types_and_first_labels(train, test):
    assert len(train) == 60000 and len(test) == 10000
    assert train.data.shape == (60000, 28, 28) and train.data.dtype == np.uint8
    assert train.targets.shape == (60000,) and train.targets.dtype == np.int64
    assert train.targets[0] == 5 and test.targets[0] == 7
    assert np.bincount(train.targets).tolist() == [5923, 6742, 5958, 6131, 5842,
                                                   5421, 5918, 6265, 5851, 5949]


def test_pixel_statistics(train):
    # Exact moments from the histogram of grey levels (cheaper than 47M float64 values).
    counts = np.bincount(train.data.ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256) / 255.0
    mean = counts @ levels / counts.sum()
    std = np.sqrt(counts @ (levels - mean) ** 2 / counts.sum())
    assert mean == pytest.approx(0.1307, abs=5e-5)
    assert std == pytest.approx(0.3081, abs=5e-5)


def test_bundled_files_ship_inside_the_package():
    names = sorted(p.name for p in BUNDLED_MNIST_DIR.glob("*.gz"))
    assert names == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                     "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]


def test_getitem_applies_transforms(test):
    plain_image, label = test[0]
    assert plain_image.shape == (28, 28) and label == 7
    ds = MNIST(train=False, transform=T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))]),
               target_transform=T.OneHot(10))
    image, one_hot = ds[0]
    assert isinstance(image, Tensor) and image.data.shape == (1, 28, 28)
    np.testing.assert_array_equal(one_hot, np.eye(10, dtype=np.float32)[7])


def test_arrays_helper_equals_the_transform_pipeline(test):
    X, y = test.arrays(normalize=True)
    assert X.shape == (10000, 1, 28, 28) and X.dtype == np.float32
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    np.testing.assert_array_equal(X[:50], pipeline.batch(test.data[:50]).data)
    np.testing.assert_array_equal(y, test.targets)
    flat, _ = test.arrays(normalize=False, flatten=True)
    assert flat.shape == (10000, 784)
    assert flat.min() == 0.0 and flat.max() == 1.0


def test_loader_fast_path_matches_per_sample_transforms(test):
    transform = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,)), T.Flatten()])
    ds = MNIST(train=False, transform=transform)
    xb, yb = next(iter(DataLoader(ds, batch_size=64, shuffle=True, generator=0)))
    order = np.random.default_rng(0).permutation(10000)[:64]
    assert isinstance(xb, Tensor) and xb.data.shape == (64, 784) and xb.data.dtype == np.float32
    np.testing.assert_array_equal(yb.data, test.targets[order])
    for row, index in zip(xb.data[:5], order[:5], strict=True):
        np.testing.assert_array_equal(row, transform(test.data[index]).data)


def test_data_is_shared_read_only(train):
    with pytest.raises(ValueError):
        train.data[0, 0, 0] = 1


def test_root_folder_in_torchvision_layout_and_damage_detection(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        shutil.copy(BUNDLED_MNIST_DIR / f"{name}.gz", raw / f"{name}.gz")
    assert MNIST(root=tmp_path, train=False).targets[0] == 7
    # A file with the right format but different content must fail the SHA-256 check.
    labels = gzip.decompress((raw / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (raw / "t10k-labels-idx1-ubyte.gz").unlink()
    (raw / "t10k-labels-idx1-ubyte").write_bytes(labels[:-1] + bytes([(labels[-1] + 1) % 10]))
    with pytest.raises(DataError, match=r"SHA-256 .* expected ff7bcfd4.*help:"):
        MNIST(root=tmp_path, train=False)
    with pytest.raises(DataError, match="train-images-idx3-ubyte.*not found"):
        MNIST(root=tmp_path, train=True)
