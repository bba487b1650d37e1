"""Transforms: values of the deterministic ones, geometry of the random ones, batch == sample."""

from __future__ import annotations

import numpy as np
import pytest

from groundup.data import transforms as T
from groundup.errors import DataError, ShapeError
from groundup.tensor import Tensor

rng = np.random.default_rng(0)
IMAGES = rng.integers(0, 256, size=(6, 5, 7), dtype=np.uint8)


def test_to_tensor_scales_uint8_and_moves_channels_first():
    out = T.ToTensor()(np.array([[0, 51], [255, 102]], dtype=np.uint8))
    assert isinstance(out, Tensor) and out.data.dtype == np.float32
    np.testing.assert_array_equal(out.data, np.array([[[0.0, 0.2], [1.0, 0.4]]], np.float32))
    hwc = rng.integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
    chw = T.ToTensor()(hwc).data
    assert chw.shape == (3, 4, 5)
    np.testing.assert_array_equal(chw[2], hwc[..., 2].astype(np.float32) / np.float32(255))
    floats = T.ToTensor()(np.full((2, 2), 7.0))
    np.testing.assert_array_equal(floats.data, np.full((1, 2, 2), 7.0, np.float32))


def test_to_tensor_batch_equals_per_sample():
    batch = T.ToTensor().batch(IMAGES).data
    assert batch.shape == (6, 1, 5, 7)
    for i in range(6):
        np.testing.assert_array_equal(batch[i], T.ToTensor()(IMAGES[i]).data)


def test_normalize_per_channel():
    x = np.stack([np.full((2, 2), 0.5), np.full((2, 2), 1.0)]).astype(np.float32)
    out = T.Normalize(mean=(0.5, 0.0), std=(0.25, 2.0))(x)
    np.testing.assert_array_equal(out[0], np.zeros((2, 2)))
    np.testing.assert_array_equal(out[1], np.full((2, 2), 0.5))
    assert x[1, 0, 0] == 1.0  # not in place by default


def test_normalize_mnist_constants_match_the_formula():
    image = T.ToTensor()(IMAGES[0])
    out = T.Normalize((0.1307,), (0.3081,))(image)
    assert isinstance(out, Tensor) and out.data.dtype == np.float32
    expected = (IMAGES[0].astype(np.float64) / 255 - 0.1307) / 0.3081
    np.testing.assert_allclose(out.data[0], expected, rtol=0, atol=1e-6)


def test_normalize_rejects_channel_mismatch():
    with pytest.raises(ShapeError, match=r"expected \(\.\.\., 3, H, W\).*help:"):
        T.Normalize((0.5, 0.5, 0.5), (0.2, 0.2, 0.2))(np.zeros((1, 4, 4), np.float32))


def test_flatten_is_row_major():
    image = np.arange(12).reshape(3, 4)
    flat = T.Flatten()(image)
    assert flat.shape == (12,)
    assert flat[4 * 2 + 1] == image[2, 1]
    assert T.Flatten().batch(np.zeros((5, 1, 3, 4))).shape == (5, 12)


def test_one_hot_sample_and_batch():
    np.testing.assert_array_equal(T.OneHot(4)(2), [0, 0, 1, 0])
    out = T.OneHot(3).batch(np.array([2, 0, 0]))
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0], [1, 0, 0]])
    assert out.dtype == np.float32
    with pytest.raises(DataError, match=r"\[0, 3\] but num_classes=3"):
        T.OneHot(3).batch(np.array([0, 3]))


def test_compose_chains_sample_and_batch_paths_identically():
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,)), T.Flatten()])
    batch = pipeline.batch(IMAGES)
    assert isinstance(batch, Tensor) and batch.data.shape == (6, 35)
    for i in range(6):
        np.testing.assert_array_equal(batch.data[i], pipeline(IMAGES[i]).data)


def test_lambda_and_default_batch_loop():
    doubled = T.Lambda(lambda x: x * 2).batch(np.arange(6).reshape(3, 2))
    np.testing.assert_array_equal(doubled, [[0, 2], [4, 6], [8, 10]])


def test_horizontal_flip_probabilities():
    always = T.RandomHorizontalFlip(p=1.0, generator=0)
    never = T.RandomHorizontalFlip(p=0.0, generator=0)
    np.testing.assert_array_equal(always(IMAGES[0]), IMAGES[0][:, ::-1])
    np.testing.assert_array_equal(never.batch(IMAGES), IMAGES)
    half = T.RandomHorizontalFlip(p=0.5, generator=5).batch(IMAGES)
    flipped = [np.array_equal(half[i], IMAGES[i][:, ::-1]) for i in range(6)]
    kept = [np.array_equal(half[i], IMAGES[i]) for i in range(6)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True))
    expected = np.random.default_rng(5).random(6) < 0.5
    assert flipped == expected.tolist()


def test_random_crop_without_padding_is_a_window():
    crop = T.RandomCrop((3, 4), generator=1)
    out = crop.batch(IMAGES)
    assert out.shape == (6, 3, 4)
    params = np.random.default_rng(1)
    tops, lefts = params.integers(0, 3, size=6), params.integers(0, 4, size=6)
    for i in range(6):
        t, left = tops[i], lefts[i]
        np.testing.assert_array_equal(out[i], IMAGES[i, t:t + 3, left:left + 4])


def test_random_crop_with_padding_is_a_shift_with_fill():
    image = np.arange(1, 17, dtype=np.uint8).reshape(1, 4, 4)
    out = T.RandomCrop(4, padding=1, generator=2)(image)
    params = np.random.default_rng(2)
    top, left = int(params.integers(0, 3)), int(params.integers(0, 3))
    padded = np.pad(image, ((0, 0), (1, 1), (1, 1)))
    np.testing.assert_array_equal(out, padded[:, top:top + 4, left:left + 4])
    assert out.shape == (1, 4, 4)


def test_affine_with_zero_parameters_is_identity_and_shift_is_exact():
    affine = T.RandomAffine(0)
    batch = IMAGES.astype(np.float32)
    np.testing.assert_array_equal(affine.warp(batch, np.zeros(6), np.zeros(6), np.zeros(6),
                                              np.ones(6)), batch)
    shifted = affine.warp(batch[:1], [0.0], [2.0], [-1.0], [1.0])[0]
    expected = np.zeros_like(batch[0])
    expected[:-1, 2:] = batch[0, 1:, :-2]  # right by 2, up by 1, zeros come in
    np.testing.assert_array_equal(shifted, expected)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_affine_rotation_by_90_degrees_is_rot90(interpolation):
    square = rng.integers(0, 256, size=(2, 1, 6, 6), dtype=np.uint8)
    out = T.RandomAffine(0, interpolation=interpolation).warp(square, [90.0, -90.0],
                                                              [0, 0], [0, 0], [1, 1])
    np.testing.assert_array_equal(out[0, 0], np.rot90(square[0, 0], 1))
    np.testing.assert_array_equal(out[1, 0], np.rot90(square[1, 0], -1))


def test_random_affine_draws_per_sample_parameters_and_is_seeded():
    batch = np.repeat(IMAGES[:1], 8, axis=0)
    first = T.RandomAffine(15, translate=(0.1, 0.1), generator=3).batch(batch)
    again = T.RandomAffine(15, translate=(0.1, 0.1), generator=3).batch(batch)
    np.testing.assert_array_equal(first, again)
    assert first.dtype == np.uint8 and first.shape == batch.shape
    distinct = {first[i].tobytes() for i in range(8)}
    assert len(distinct) > 1


def test_random_transforms_keep_tensor_inputs_as_tensors():
    image = T.ToTensor()(IMAGES[0])
    for transform in (T.RandomHorizontalFlip(generator=0), T.RandomCrop((5, 7), padding=2,
                                                                             generator=0),
                      T.RandomAffine(10, generator=0)):
        out = transform(image)
        assert isinstance(out, Tensor) and out.data.shape == (1, 5, 7)
