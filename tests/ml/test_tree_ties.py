"""Ties between features: a tree that tries every feature takes, among equally good cuts, the feature
first in a random order per node (as scikit-learn, which shuffles the features of every node), and
every finder and builder applies the same order."""

import numpy as np
import pytest

from groundup.ml.ensemble import _gb
from groundup.ml.ensemble import _presorted as ps
from groundup.ml import ensemble as gu
from groundup.ml.tree import DecisionTreeClassifier, DecisionTreeRegressor, _tree
from groundup.ml.tree._binning import bin_features
from groundup.ml.tree._criterion import FriedmanMSE, Gini
from groundup.ml.tree._ties import child_keys, feature_priority, first_best, first_best_per_node, root_key
from groundup.ml.tree._tree import _Builder

COPIES = np.array([1, 3, 4, 6])  # the columns holding the same informative feature


def _copied(n=600, seed=0, regression=False, rounded=True):
    """One informative few-valued feature in four identical columns, among noise columns (rounded:
    few-valued too): every cut on it ties four ways."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8))
    if rounded:
        X = np.round(X, 1)
    X[:, COPIES] = np.round(rng.normal(size=n), 1)[:, None]
    signal = X[:, 1] + 0.3 * X[:, 0]
    if regression:
        return X, signal + 0.3 * rng.normal(size=n)
    return X, (signal + 0.4 * rng.normal(size=n) > 0.2).astype(int) + (signal > 1.2)


def test_first_best_takes_the_highest_score_then_the_lowest_priority_then_the_earliest():
    score = np.array([1.0, 3.0, 3.0, 2.0, 3.0])
    assert first_best(score, np.array([0, 9, 4, 0, 4])) == 2
    assert first_best(score, np.array([0, 1, 4, 0, 4])) == 1
    node = np.array([0, 1, 0, 1, 0, 2])
    score = np.array([5.0, 1.0, 5.0, 1.0, 4.0, 0.0])
    prio = np.array([7, 3, 2, 3, 0, 1])
    # node 0: entries 0 and 2 tie (5.0), 2 has the lower priority; node 1: 1 and 3 tie at equal
    # priority, the earlier wins; node 2: its only entry
    np.testing.assert_array_equal(first_best_per_node(node, score, prio, 3), [2, 1, 5])


def test_node_keys_give_every_node_its_own_random_order():
    key = root_key(np.random.default_rng(0))
    assert key == root_key(np.random.default_rng(0)) and root_key(None) is None
    left, right = child_keys(key, True), child_keys(key, False)
    assert len({int(key), int(left), int(right)}) == 3
    orders = [np.argsort(feature_priority(k, np.arange(20))) for k in (key, left, right)]
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
    assert sorted(orders[0]) == list(range(20))
    # vectorised over nodes: the same priorities as one node at a time
    both = feature_priority(np.array([left, right], dtype=np.uint64)[:, None], np.arange(20)[None, :])
    np.testing.assert_array_equal(both[1], feature_priority(right, np.arange(20)))
    np.testing.assert_array_equal(feature_priority(None, np.array([4, 2])), [4, 2])


def test_all_feature_tree_takes_the_tied_copy_first_in_the_nodes_random_order():
    X, y = _copied()
    roots = []
    for seed in range(24):
        tree = DecisionTreeClassifier(random_state=seed).fit(X, y).tree_
        key = root_key(np.random.default_rng(seed))
        expected = COPIES[np.argmin(feature_priority(key, COPIES))]
        assert tree.feature[0] == expected
        # the root's left child: its own key, its own order among the copies
        left = tree.children_left[0]
        if np.isin(tree.feature[left], COPIES):
            k = child_keys(key, True)
            assert tree.feature[left] == COPIES[np.argmin(feature_priority(k, COPIES))]
        roots.append(tree.feature[0])
        used = tree.feature[np.isin(tree.feature, COPIES)]
        assert len(set(used.tolist())) >= 2  # per node, not one copy for the whole tree
    assert set(roots) == set(COPIES.tolist())
    # the same seed, the same tree
    a, b = (DecisionTreeClassifier(random_state=5).fit(X, y).tree_ for _ in range(2))
    np.testing.assert_array_equal(a.feature, b.feature)


@pytest.mark.parametrize("criterion", ["gini", "entropy"])
def test_histogram_and_sorting_finders_break_ties_alike(criterion):
    from groundup.ml.tree._criterion import Entropy

    X, y = _copied(seed=1)
    binning = bin_features(X)
    stats = np.zeros((len(y), 4))
    stats[:, 0] = 1
    stats[np.arange(len(y)), 1 + y] = 1
    crit = Gini(3) if criterion == "gini" else Entropy(3)
    trees = [_Builder(binning, crit, splitter=s, min_samples_leaf=2, class_index=y,
                      rng=np.random.default_rng(4)).build(stats)[0] for s in ("sort", "hist")]
    for name in ("feature", "children_left", "bin_threshold", "n_node_samples"):
        np.testing.assert_array_equal(getattr(trees[0], name), getattr(trees[1], name), err_msg=name)
    assert np.isin(trees[0].feature, COPIES).sum() > 5


@pytest.mark.parametrize("kind", ["gini", "squared_error", "absolute_error"])
def test_level_wise_and_depth_first_builders_break_ties_alike(kind, monkeypatch):
    regression = kind != "gini"
    X, y = _copied(seed=2, regression=regression)
    make = (lambda: DecisionTreeRegressor(criterion=kind, min_samples_leaf=3, random_state=9)) if regression else \
        (lambda: DecisionTreeClassifier(min_samples_leaf=3, random_state=9))
    if kind != "absolute_error":  # absolute error's level-wise search is chosen on its own
        real = _Builder._use_levelwise
        monkeypatch.setattr(_Builder, "_use_levelwise", lambda self, never_pure: real(self, never_pure) or True)
    fast = make().fit(X, y)
    monkeypatch.setattr(_tree._Builder, "levelwise", False)
    ref = make().fit(X, y)
    for name in ("feature", "children_left", "bin_threshold", "n_node_samples"):
        np.testing.assert_array_equal(getattr(fast.tree_, name), getattr(ref.tree_, name), err_msg=name)
    assert len(set(fast.tree_.feature[np.isin(fast.tree_.feature, COPIES)].tolist())) >= 2


def test_presorted_boosting_tree_breaks_ties_as_the_reference_builder():
    # continuous noise columns: only the copies tie (other features giving a small node's rows the
    # same partition would tie only up to the summation order, which differs between the builders)
    X, r = _copied(seed=3, regression=True, rounded=False)
    n = len(r)
    stats = np.column_stack([np.ones(n), np.ones(n), r, r * r])
    binning = bin_features(X)
    # and leaves of >= 15 rows: in tiny nodes many features cut the rows alike
    ref, _ = _Builder(binning, FriedmanMSE(), max_depth=6, min_samples_leaf=15, splitter="sort",
                      rng=np.random.default_rng(11)).build(stats)
    tree, _ = ps.grow_tree(ps.PresortedFeatures(binning), stats, FriedmanMSE(), max_depth=6, min_samples_leaf=15,
                           unit_weight=True, root_key=root_key(np.random.default_rng(11)))
    ps.sync_exact_bin_thresholds(ref, binning)
    for name in ("feature", "children_left", "bin_threshold", "n_node_samples"):
        np.testing.assert_array_equal(getattr(tree, name), getattr(ref, name), err_msg=name)
    assert len(set(tree.feature[np.isin(tree.feature, COPIES)].tolist())) >= 2


def test_gradient_boosting_presorted_and_reference_paths_agree_on_tied_data(monkeypatch):
    X, y = _copied(seed=4)
    fast = gu.GradientBoostingClassifier(n_estimators=8, max_depth=4, random_state=0).fit(X, y)
    monkeypatch.setattr(_gb.BaseGradientBoosting, "presort", False)
    ref = gu.GradientBoostingClassifier(n_estimators=8, max_depth=4, random_state=0).fit(X, y)
    np.testing.assert_allclose(fast.decision_function(X), ref.decision_function(X), rtol=1e-9, atol=1e-12)
    feats = {f for stage in fast.estimators_ for t in stage for f in t.tree_.feature.tolist() if f in COPIES}
    assert len(feats) >= 2


def test_histogram_boosting_keeps_the_lowest_index_first():
    # scikit-learn's histogram booster takes the lowest feature index among tied features
    X, y = _copied(seed=5, regression=True)
    hgb = gu.HistGradientBoostingRegressor(max_iter=5, early_stopping=False).fit(X, y)
    used = {f for stage in hgb._stages for t in stage for f in t.feature.tolist() if f in COPIES}
    assert used == {COPIES[0]}
