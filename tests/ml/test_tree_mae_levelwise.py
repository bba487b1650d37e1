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
    # one random_state: both searches break ties between features in the same random order
    fast = DecisionTreeRegressor(criterion="absolute_error", random_state=seed, **kw).fit(X, y, sample_weight=sw)
    monkeypatch.setattr(_tree._Builder, "levelwise", False)
    ref = DecisionTreeRegressor(criterion="absolute_error", random_state=seed, **kw).fit(X, y, sample_weight=sw)
    assert fast.tree_.node_count == ref.tree_.node_count > 20
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(fast.tree_, name), getattr(ref.tree_, name), err_msg=name)


@pytest.mark.parametrize("weights", ["unit", "small integers", "integers"])
def test_shared_layout_search_matches_the_general_search_bit_for_bit(weights):
    """Unit and integer weights search each lane and its reversal through one layout, as order
    statistics: the prefix absolute errors and medians are the general Fenwick search's, bit for
    bit (ties in y and in the cumulative weight included)."""
    from groundup.ml.tree._absolute_error import _prefix_core, _prefix_core_unit_pair

    rng = np.random.default_rng(0)
    for trial in range(40):
        m, L = int(rng.integers(2, 300)), int(rng.integers(1, 5))
        y = rng.normal(size=m) * 10
        y = np.round(y / 5) if trial % 3 == 0 else np.round(y) if trial % 3 == 1 else y
        w = {"unit": np.ones(m), "small integers": rng.integers(1, 3, m),
             "integers": rng.integers(1, 12, m)}[weights].astype(float)
        order = np.stack([rng.permutation(m) for _ in range(L)])
        by_y = np.argsort(y, kind="stable")
        rank = np.empty(m, dtype=np.intp)
        rank[by_y] = np.arange(m)
        P = 1 << max(1, int(m - 1).bit_length())
        both = np.concatenate([order, order[:, ::-1]])
        R = np.empty((2 * L, P), dtype=np.intp)
        R[:, :m], R[:, m:] = rank[both], np.arange(m, P)
        w_rank, wy_rank, y_rank = np.zeros(P), np.zeros(P), np.full(P, y[by_y[-1]])
        w_rank[:m], wy_rank[:m], y_rank[:m] = w[by_y], (w * y)[by_y], y[by_y]
        ae, median = _prefix_core(R, w_rank, wy_rank, y_rank, m)
        got = _prefix_core_unit_pair(R[:L], wy_rank, y_rank, m, None if weights == "unit" else w_rank)
        for mine, ref in zip(got, (ae[:L], median[:L], ae[L:], median[L:])):
            np.testing.assert_array_equal(mine[:, :m], ref[:, :m])
