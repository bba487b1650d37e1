"""Gradient boosting's presorted level-wise exact trees: the same tree as the depth-first reference
finder, and the same model as scikit-learn's classic booster (deterministic when subsample=1)."""

import numpy as np
import pytest
from sklearn import ensemble as sk
from sklearn.datasets import make_classification, make_regression

from groundup.ml import ensemble as gu
from groundup.ml.ensemble import _gb
from groundup.ml.ensemble._presorted import PresortedFeatures, grow_tree, sync_exact_bin_thresholds
from groundup.ml.tree._binning import bin_features
from groundup.ml.tree._criterion import FriedmanMSE, SquaredError
from groundup.ml.tree._tree import _Builder


def _assert_same_tree(a, b):
    assert a.node_count == b.node_count
    for name in ("children_left", "children_right", "feature", "n_node_samples", "bin_threshold"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    np.testing.assert_allclose(a.threshold, b.threshold, rtol=1e-12)
    np.testing.assert_allclose(a.impurity, b.impurity, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.weighted_n_node_samples, b.weighted_n_node_samples)
    np.testing.assert_allclose(a.value, b.value, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("crit", [FriedmanMSE, SquaredError])
@pytest.mark.parametrize("weights", ["unit", "integer"])
@pytest.mark.parametrize("depth, leaf", [(3, 1), (5, 4), (None, 6)])
def test_presorted_tree_is_the_reference_tree(crit, weights, depth, leaf):
    rng = np.random.default_rng(0)
    n = 900
    # continuous columns plus one with few values (ties in the sort order); continuous residuals,
    # so two features almost never give the same partition and rounding cannot flip a tie
    X = np.column_stack([rng.normal(size=(n, 5)), rng.integers(0, 4, n)])
    r = X[:, 0] * 2 + np.sin(3 * X[:, 1]) + 0.5 * X[:, 5] + rng.normal(size=n)
    w = np.ones(n) if weights == "unit" else rng.integers(0, 4, n).astype(float)
    stats = np.column_stack([np.ones(n), w, w * r, w * r * r])
    binning = bin_features(X)
    ref_builder = _Builder(binning, crit(), max_depth=depth, min_samples_leaf=leaf, splitter="sort")
    ref_builder.levelwise = False
    ref, ref_rows = ref_builder.build(stats)
    sync_exact_bin_thresholds(ref, binning)
    keep = None if weights == "unit" else w != 0
    tree, leaf_of = grow_tree(PresortedFeatures(binning), stats, crit(), max_depth=depth, min_samples_leaf=leaf,
                              keep=keep, unit_weight=weights == "unit")
    _assert_same_tree(tree, ref)
    # every used row's leaf, as the reference's leaf rows say; unused rows have none
    expected = np.full(n, -1)
    for node, rows in ref_rows.items():
        expected[rows] = node
    np.testing.assert_array_equal(leaf_of, expected)
    assert tree.n_leaves > 4


def test_presorted_tree_respects_min_impurity_decrease_and_min_samples_split():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 4))
    r = np.where(X[:, 0] > 0, 1.0, -1.0) + 0.1 * rng.normal(size=400)
    stats = np.column_stack([np.ones(400), np.ones(400), r, r * r])
    binning = bin_features(X)
    for kw in (dict(min_impurity_decrease=0.05), dict(min_samples_split=150)):
        ref_builder = _Builder(binning, SquaredError(), max_depth=4, splitter="sort", **kw)
        ref_builder.levelwise = False
        ref, _ = ref_builder.build(stats)
        sync_exact_bin_thresholds(ref, binning)
        tree, _ = grow_tree(PresortedFeatures(binning), stats, SquaredError(), max_depth=4, unit_weight=True, **kw)
        _assert_same_tree(tree, ref)
        assert 3 <= tree.node_count < 31


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("kw", [{}, {"max_depth": 2, "learning_rate": 0.5}])
def test_gradient_boosting_classifier_equals_sklearn(n_classes, kw):
    # exact splits on continuous features and Newton line searches: scikit-learn's model, value by
    # value. (Not with deep trees and large leaves: the first stage's residuals take two values, so
    # small nodes have exactly tied cuts, which scikit-learn breaks by a random feature order.)
    X, y = make_classification(n_samples=2000, n_features=10, n_informative=5, n_classes=n_classes, random_state=0)
    ours = gu.GradientBoostingClassifier(n_estimators=25, random_state=0, **kw).fit(X, y)
    theirs = sk.GradientBoostingClassifier(n_estimators=25, random_state=0, **kw).fit(X, y)
    np.testing.assert_allclose(ours.decision_function(X), theirs.decision_function(X), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.train_score_, theirs.train_score_ / (2 if n_classes == 2 else 1), rtol=1e-10)
    # tree by tree (a node whose rows two features split alike may name either feature)
    for a, b in zip(ours.estimators_.ravel(), theirs.estimators_.ravel()):
        assert a.tree_.node_count == b.tree_.node_count
        # our trees hold the shrunk step η·h, scikit-learn's h
        np.testing.assert_allclose(a.predict(X), ours.learning_rate * b.predict(X), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kw", [{}, {"max_depth": 5, "min_samples_leaf": 6}])
def test_gradient_boosting_regressor_equals_sklearn(kw):
    # squared error: continuous residuals, so no tied cuts even in deep trees
    X, y = make_regression(1000, 6, noise=10, random_state=0)
    ours = gu.GradientBoostingRegressor(n_estimators=20, random_state=0, **kw).fit(X, y)
    theirs = sk.GradientBoostingRegressor(n_estimators=20, random_state=0, **kw).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kw", [{"subsample": 0.6}, {"max_depth": 2, "learning_rate": 0.5}])
def test_presorted_booster_equals_the_reference_builder(kw, monkeypatch):
    # out-of-bag rows (weight 0) leave the sorted lists; their leaves come from the tree itself.
    # Independent features: no two of them split a node's rows alike (a tie broken by rounding)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1500, 8))
    y = (X[:, 0] + np.sin(2 * X[:, 1]) + 0.5 * rng.normal(size=1500) > 0).astype(int)
    sw = rng.integers(1, 3, 1500).astype(float)
    fast = gu.GradientBoostingClassifier(n_estimators=15, random_state=0, **kw).fit(X, y, sample_weight=sw)
    monkeypatch.setattr(_gb.BaseGradientBoosting, "presort", False)
    ref = gu.GradientBoostingClassifier(n_estimators=15, random_state=0, **kw).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(fast.decision_function(X), ref.decision_function(X), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast.train_score_, ref.train_score_, rtol=1e-9)
    np.testing.assert_allclose(fast.oob_scores_, ref.oob_scores_, rtol=1e-9)
