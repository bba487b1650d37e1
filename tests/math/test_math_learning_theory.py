"""groundup.math.learning_theory: bounds by formula and simulation, shattering by construction."""

from __future__ import annotations

import math

import numpy as np
import pytest

import groundup.math as gm


def test_bounds_by_formula():
    assert gm.finite_class_bound(1000, 500, 0.05) == pytest.approx(
        math.sqrt((math.log(1000) + math.log(20)) / 1000))
    assert gm.vc_bound(3, 1000, 0.05) == pytest.approx(
        math.sqrt((3 * (math.log(2000 / 3) + 1) + math.log(80)) / 1000))
    assert gm.pac_sample_complexity(0.1, 0.05, d=3) == math.ceil(
        10 * (3 * math.log(10) + math.log(20)))
    assert gm.pac_sample_complexity(0.1, 0.05, h_size=100) == math.ceil(
        10 * (math.log(100) + math.log(20)))
    # More data shrinks the gap; more confidence and more hypotheses widen it.
    assert gm.finite_class_bound(10, 1000, 0.05) < gm.finite_class_bound(10, 100, 0.05)
    assert gm.finite_class_bound(10, 100, 0.01) > gm.finite_class_bound(10, 100, 0.05)
    assert gm.vc_bound(10, 1000, 0.05) > gm.vc_bound(3, 1000, 0.05)


def test_hoeffding_bound_holds_in_simulation_and_inverts():
    n, epsilon = 100, 0.1
    bound = gm.hoeffding_bound(n, epsilon=epsilon)
    assert bound == pytest.approx(2 * math.exp(-2 * n * epsilon**2))
    means = np.random.default_rng(0).binomial(n, 0.5, size=200_000) / n
    observed = np.mean(np.abs(means - 0.5) >= epsilon)
    assert observed <= bound
    # delta → epsilon and back.
    eps = gm.hoeffding_bound(n, delta=bound)
    assert eps == pytest.approx(epsilon)
    assert gm.hoeffding_bound(n, delta=0.05, value_range=(0, 10)) == pytest.approx(
        10 * gm.hoeffding_bound(n, delta=0.05))
    assert gm.hoeffding_bound(1, epsilon=0.01) == 1.0


def test_shattering_by_construction():
    assert gm.shatters([0.0, 1.0], "intervals")
    assert not gm.shatters([0.0, 1.0, 2.0], "intervals")  # + − + is impossible
    assert not gm.can_realize([0.0, 1.0, 2.0], [1, 0, 1], "intervals")
    assert gm.shatters([3.0], "thresholds") and not gm.shatters([0.0, 1.0], "thresholds")
    assert gm.shatters([[0, 0], [1, 0], [0, 1]], "linear-2d")
    assert not gm.shatters([[0, 0], [1, 1], [2, 2]], "linear-2d")  # collinear: + − + fails
    diamond = [[0, 1], [1, 0], [0, -1], [-1, 0]]
    assert gm.shatters(diamond, "rectangles")
    assert not gm.shatters(diamond + [[0, 0]], "rectangles")  # the centre is inside every box
    assert not gm.shatters([[0, 0], [1, 0], [0, 1], [1, 1]], "linear-2d")  # XOR
    simplex5 = np.vstack([np.zeros(5), np.eye(5)])
    assert gm.shatters(simplex5, "linear")


def test_vc_dimensions_and_witnesses():
    assert gm.vc_dimension("thresholds") == 1
    d, witness = gm.vc_dimension("rectangles", return_witness=True)
    assert d == 4 and gm.shatters(witness, "rectangles") and witness.shape == (4, 2)
    assert gm.vc_dimension("linear", dim=3) == 4
    with pytest.warns(RuntimeWarning, match="at least 2"):
        assert gm.vc_dimension("linear-2d", max_points=2) == 2


def test_linear_separability_and_best_accuracy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    w, b = rng.normal(size=3), 0.2
    y = (X @ w + b > 0).astype(int)
    assert gm.linearly_separable(X, y)
    # A negative point at the midpoint of two positives lies in their convex hull: inseparable.
    positives = X[y == 1]
    midpoint = (positives[0] + positives[1]) / 2
    assert not gm.linearly_separable(np.vstack([X, midpoint]), np.append(y, 0))
    assert gm.linearly_separable(np.vstack([X, midpoint]), np.append(y, 1))
    assert gm.best_linear_accuracy([[0], [1], [2], [3]], [0, 1, 0, 1]) == 0.75


def test_learning_theory_bad_inputs_name_the_argument():
    for bad in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="finite_class_bound: argument 'delta' must lie "
                                             "strictly between 0 and 1.*help:"):
            gm.finite_class_bound(10, 100, bad)
        with pytest.raises(ValueError, match="vc_bound: argument 'delta'"):
            gm.vc_bound(3, 100, bad)
        with pytest.raises(ValueError, match="pac_sample_complexity: argument 'epsilon'"):
            gm.pac_sample_complexity(bad, 0.05, d=3)
    with pytest.raises(ValueError, match="'family' must be one of"):
        gm.vc_dimension("circles")
    with pytest.raises(ValueError, match="exactly one of 'epsilon' and 'delta'"):
        gm.hoeffding_bound(10)
