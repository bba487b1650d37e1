"""Absolute-error trees searched a depth at a time (all nodes of a level in one batched prefix-median
pass) are the trees the node-at-a-time search grows, array for array."""

import numpy as np
import pytest
from sklearn.datasets import make_regression

from groundup.ml.tree import DecisionTreeRegressor, _tree

FIELDS = ("children_left", "children_right", "feature", "threshold", "bin_threshold", "n_node_samples",
          "weighted_n_node_samples", "impurity", "value", "missing_go_to_left")


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("weights", ["unit", "float", "integer"])
@pytest.mark.parametrize("kw", [{}, {"max_depth": 5, "min_samples_leaf": 7},
                                {"min_samples_split": 10, "min_impurity_decrease": 0.01},
                                {"min_weight_fraction_leaf": 0.01}])
def test_levelwise_absolute_error_tree_is_the_node_by_node_tree(monkeypatch, seed, weights, kw):
    X, y = make_regression(700, 5, noise=10, random_state=seed)
    X[:, 0] = np.round(X[:, 0], 1)  # ties in a feature
    y[::7] = np.round(y[::7])  # and in the target
    rng = np.random.default_rng(seed)
    sw = {"unit": None, "float": rng.uniform(0.5, 2, 700), "integer": rng.integers(0, 3, 700).astype(float)}[weights]
    fast = DecisionTreeRegressor(criterion="absolute_error", **kw).fit(X, y, sample_weight=sw)
    monkeypatch.setattr(_tree._Builder, "levelwise", False)
    ref = DecisionTreeRegressor(criterion="absolute_error", **kw).fit(X, y, sample_weight=sw)
    assert fast.tree_.node_count == ref.tree_.node_count > 20
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(fast.tree_, name), getattr(ref.tree_, name), err_msg=name)
