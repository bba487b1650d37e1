"""Synthetic datasets: shapes, geometry, seeding; scikit-learn as the oracle for moons/circles."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets as skd

from groundup.data.datasets import (
    make_blobs,
    make_circles,
    make_linear,
    make_moons,
    make_spirals,
    make_xor,
)

ALL = [make_xor, make_moons, make_circles, make_spirals, make_blobs, make_linear]


def test_xor_default_is_the_truth_table():
    X, y = make_xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])


def test_noisy_xor_keeps_labels_of_the_nearest_corner():
    X, y = make_xor(400, noise=0.1, random_state=0)
    corner = np.rint(np.clip(X, 0, 1))
    assert np.mean((corner[:, 0] != corner[:, 1]) == y) > 0.99
    assert np.bincount(y).tolist() == [200, 200]


@pytest.mark.parametrize("n", [1, 7, 100])
def test_moons_and_circles_equal_scikit_learn_without_noise(n):
    for ours, theirs in ((make_moons, skd.make_moons), (make_circles, skd.make_circles)):
        X, y = ours(n, shuffle=False)
        X_ref, y_ref = theirs(n, shuffle=False)
        np.testing.assert_array_equal(X, X_ref)
        np.testing.assert_array_equal(y, y_ref)


def test_circles_radii():
    X, y = make_circles(200, shuffle=True, factor=0.5, random_state=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.5)


def test_spirals_keep_radius_and_balance():
    X, y = make_spirals(301, n_classes=3, noise=0.3, random_state=1)
    assert X.shape == (301, 2) and np.bincount(y).tolist() == [101, 100, 100]
    radius = np.sort(np.hypot(X[y == 1, 0], X[y == 1, 1]))
    np.testing.assert_allclose(radius, np.linspace(0, 1, 100), atol=1e-12)


def test_blobs_cluster_around_their_centers():
    X, y, centers = make_blobs(3000, 2, centers=3, cluster_std=0.5, random_state=0,
                               return_centers=True)
    assert X.shape == (3000, 2) and np.bincount(y).tolist() == [1000, 1000, 1000]
    for k in range(3):
        # Standard error of the mean: 0.5 / sqrt(1000) ~= 0.016.
        np.testing.assert_allclose(X[y == k].mean(axis=0), centers[k], atol=0.08)
    assert np.all((centers >= -10) & (centers <= 10))


def test_linear_without_noise_is_exact_and_with_noise_recovers_w_b():
    X, y, w, b = make_linear(50, 3, weights=[1.0, -2.0, 0.5], bias=4.0, noise=0.0,
                             random_state=0, return_coef=True)
    np.testing.assert_allclose(y, X @ np.array([1.0, -2.0, 0.5]) + 4.0)
    X, y = make_linear(20000, random_state=1)  # the notes: y = 4 + 3x + 0.5 noise, x in [0, 2]
    assert X.shape == (20000, 1) and y.shape == (20000,)
    assert X.min() >= 0 and X.max() <= 2
    slope, intercept = np.polyfit(X[:, 0], y, 1)
    # Standard errors: slope ~0.006, intercept ~0.007; the bounds are ~8 of them.
    assert slope == pytest.approx(3.0, abs=0.05)
    assert intercept == pytest.approx(4.0, abs=0.06)
    residual_std = np.std(y - (slope * X[:, 0] + intercept))
    assert residual_std == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize("make", ALL)
def test_seeding_is_reproducible(make):
    kwargs = {"noise": 0.2} if make in (make_xor, make_moons, make_circles) else {}
    X1, y1 = make(50, random_state=3, **kwargs)[:2]
    X2, y2 = make(50, random_state=3, **kwargs)[:2]
    X3, _ = make(50, random_state=4, **kwargs)[:2]
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    assert X1.shape[0] == 50 and X1.dtype == np.float64


@pytest.mark.parametrize("make", ALL)
def test_invalid_sizes_are_rejected(make):
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1.*help:"):
        make(0)
