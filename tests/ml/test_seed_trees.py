"""The course's worked examples on trees, through groundup's public API."""

import numpy as np

from groundup.ml.tree import entropy_impurity, gini_impurity, information_gain


def test_gini_70_30(seed_example):
    ex = seed_example("gini-70-30")
    got = [float(gini_impurity(d)) for d in ex["inputs"]["distributions"]]
    np.testing.assert_allclose(got, ex["expected"]["gini"], atol=ex["tolerance"])


def test_entropy_and_information_gain_on_workshop_definitions():
    # H = -Σ p log2 p: a 50/50 node holds one bit; a pure split recovers all of it
    assert float(entropy_impurity([0.5, 0.5])) == 1.0
    assert information_gain([5, 5], [[5, 0], [0, 5]]) == 1.0
    expected = 1.0 - (6 / 10) * float(entropy_impurity([4 / 6, 2 / 6])) - (4 / 10) * float(entropy_impurity([1 / 4, 3 / 4]))
    np.testing.assert_allclose(information_gain([5, 5], [[4, 2], [1, 3]]), expected, rtol=1e-12)
