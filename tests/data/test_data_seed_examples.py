"""The course's worked examples with topic ``data``, through groundup.data's public API."""

from __future__ import annotations

import numpy as np

from groundup.data import transforms as T


def test_one_hot_mnist_label(seed_example):
    example = seed_example("one-hot-mnist-label")
    inputs = example["inputs"]
    one_hot = T.OneHot(inputs["num_classes"])(inputs["label"])
    np.testing.assert_allclose(one_hot, example["expected"]["one_hot"],
                               rtol=0, atol=example["tolerance"])


def _flat_positions(h, w, pixels):
    """Where each pixel (i, j) lands after Flatten: mark it with a unique value and look."""
    image = np.zeros((h, w), dtype=np.int64)
    for k, (i, j) in enumerate(pixels, start=1):
        image[i, j] = k
    flat = T.Flatten()(image)
    return len(flat), [int(np.flatnonzero(flat == k)[0]) for k in range(1, len(pixels) + 1)]


def test_mnist_flatten_index(seed_example):
    example = seed_example("mnist-flatten-index")
    inputs = example["inputs"]
    length, positions = _flat_positions(inputs["h"], inputs["w"], inputs["pixels"])
    assert length == example["expected"]["length"]
    assert positions == example["expected"]["index"]


def test_rasterize_image(seed_example):
    example = seed_example("rasterize-image")
    inputs, expected = example["inputs"], example["expected"]
    vector = T.Flatten()(np.array(inputs["matrix"]))
    np.testing.assert_array_equal(vector, expected["vector"])
    side = inputs["side"]
    length, positions = _flat_positions(side, side, inputs["pixels"])
    assert length == expected["length_224"]
    assert positions == expected["flat_index"]
