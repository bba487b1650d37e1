"""Categorical features in the ensembles: every tree of a forest, bagging, AdaBoost and classic
gradient boosting gets the ensemble's ``categorical_features`` (checked once, at fit), and a node may
send a subset of categories left."""

import numpy as np
import pytest
from sklearn import ensemble as sk_ensemble

from groundup.ml import ensemble as gu_ensemble
from groundup.ml.linear_model import LogisticRegression
from groundup.ml.tree import DecisionTreeClassifier, DecisionTreeRegressor

K = 30  # categories in column 2
FIELDS = ("children_left", "children_right", "feature", "threshold", "n_node_samples", "weighted_n_node_samples",
          "impurity", "value", "categorical_left", "is_categorical")
FORESTS = ["RandomForestClassifier", "ExtraTreesClassifier", "RandomForestRegressor", "ExtraTreesRegressor"]


def _task(seed=0, n=2000, regression=False):
    """Column 2 holds one of 30 categories; half of them (a random set) raise the target by 1.5, a
    subset effect an ordinal split can only chase one category boundary at a time."""
    rng = np.random.default_rng(seed)
    good = rng.permutation(K)[: K // 2]
    c = rng.integers(0, K, n)
    Z = rng.normal(size=(n, 4))
    X = np.column_stack([Z[:, :2], c, Z[:, 2:]]).astype(float)
    f = 1.5 * np.isin(c, good) + Z[:, 0] + 0.5 * Z[:, 1]
    y = f + 0.5 * rng.normal(size=n) if regression else ((f + 0.7 * rng.normal(size=n)) > 1.0).astype(int)
    h = n // 2
    return X[:h], y[:h], X[h:], y[h:]


def _one_hot(X):
    return np.column_stack([X[:, [0, 1, 3, 4]], np.eye(K)[X[:, 2].astype(int)]])


def _assert_same_tree(a, b):
    assert a.node_count == b.node_count
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.mark.parametrize("name", FORESTS)
def test_forest_with_categorical_feature_beats_ordinal_and_sklearn_one_hot(name):
    X, y, Xt, yt = _task(regression=name.endswith("Regressor"))
    kw = dict(n_estimators=20, min_samples_leaf=3, random_state=0)
    cat = getattr(gu_ensemble, name)(categorical_features=[2], **kw).fit(X, y)
    ordinal = getattr(gu_ensemble, name)(**kw).fit(X, y)
    one_hot = getattr(sk_ensemble, name)(**kw).fit(_one_hot(X), y)
    ours, theirs = cat.score(Xt, yt), one_hot.score(_one_hot(Xt), yt)
    # measured (accuracy or R²), with sets / ordinal codes / scikit-learn on one-hot columns:
    # RF clf 0.822 / 0.748 / 0.784; ET clf 0.829 / 0.777 / 0.816; RF reg 0.817 / 0.602 / 0.562;
    # ET reg 0.826 / 0.597 / 0.685
    assert ours >= ordinal.score(Xt, yt) + 0.04
    assert ours >= theirs + 0.01
    np.testing.assert_array_equal(cat.is_categorical_, [False, False, True, False, False])
    n_cat = 0
    for tree in cat.estimators_:
        np.testing.assert_array_equal(tree.is_categorical_, cat.is_categorical_)
        t = tree.tree_
        assert set(t.feature[t.is_categorical].tolist()) <= {2}  # only column 2 splits on sets
        assert np.all(np.isnan(t.threshold[t.is_categorical]))
        n_cat += int(t.is_categorical.sum())
        for node in np.flatnonzero(t.is_categorical)[:5]:
            assert set(t.categories_left(node).tolist()) < set(range(K))  # a proper subset of the codes
    assert n_cat >= 20 * 3


@pytest.mark.parametrize("name", FORESTS)
@pytest.mark.parametrize("empty", [[], [False] * 5, np.zeros(5, dtype=bool)])
def test_empty_categorical_mask_grows_the_same_forest(name, empty):
    X, y, Xt, _ = _task(n=600, regression=name.endswith("Regressor"))
    kw = dict(n_estimators=4, random_state=0)
    a = getattr(gu_ensemble, name)(categorical_features=empty, **kw).fit(X, y)
    b = getattr(gu_ensemble, name)(**kw).fit(X, y)
    assert a.is_categorical_ is None
    for ta, tb in zip(a.estimators_, b.estimators_):
        _assert_same_tree(ta.tree_, tb.tree_)
    np.testing.assert_array_equal(a.predict(Xt), b.predict(Xt))


@pytest.mark.parametrize("forest, tree", [("RandomForestClassifier", DecisionTreeClassifier),
                                          ("RandomForestRegressor", DecisionTreeRegressor)])
def test_forest_of_one_unbagged_full_tree_is_the_categorical_tree(forest, tree):
    X, y, Xt, _ = _task(n=800, regression=forest.endswith("Regressor"))
    mask = np.array([False, False, True, False, False])
    rf = getattr(gu_ensemble, forest)(1, bootstrap=False, max_features=None, categorical_features=mask,
                                      random_state=0).fit(X, y)
    # the tree refitted alone with the seed the forest gave it (its ties between features)
    single = tree(categorical_features=[2], random_state=rf.estimators_[0].random_state).fit(X, y)
    _assert_same_tree(rf.estimators_[0].tree_, single.tree_)
    assert single.tree_.is_categorical.any()
    np.testing.assert_array_equal(rf.predict(Xt), single.predict(Xt))


@pytest.mark.parametrize("criterion", ["squared_error", "absolute_error"])
def test_extra_trees_cut_the_sorted_categories_at_random(criterion):
    """An extra tree's categorical node sends left a random prefix (1 to k-1 categories) of the
    node's categories sorted by mean target: at an unbagged root, a set whose means all lie below
    the other categories' means, of a size that differs from tree to tree."""
    X, y, _, _ = _task(n=1200, regression=True)
    X = X[:, 2:3]  # the categorical column alone: every root splits on it
    et = gu_ensemble.ExtraTreesRegressor(20, criterion=criterion, categorical_features=[0], min_samples_leaf=5,
                                         random_state=0).fit(X, y)
    means = np.array([y[X[:, 0] == c].mean() for c in range(K)])
    sizes = []
    for tree in et.estimators_:
        t = tree.tree_
        assert t.is_categorical[0]
        left = t.categories_left(0)
        assert 1 <= len(left) <= K - 1
        right = np.setdiff1d(np.arange(K), left)
        assert means[left].max() <= means[right].min()
        sizes.append(len(left))
    assert len(set(sizes)) >= 8  # cut sizes drawn uniformly from 1..29


def test_extra_trees_multiclass_categorical_reaches_the_rule():
    """Three classes, each a set of categories: the one-vs-rest orderings (a random class per node)
    let the trees recover the rule, up to the 10% label noise."""
    rng = np.random.default_rng(1)
    c = rng.integers(0, 12, 1500)
    X = np.column_stack([c, rng.normal(size=1500)]).astype(float)
    rule = np.select([np.isin(c, [0, 3, 7, 9]), np.isin(c, [1, 2, 11])], [1, 2], 0)
    y = np.where(rng.random(1500) < 0.1, rng.integers(0, 3, 1500), rule)  # 10% label noise
    et = gu_ensemble.ExtraTreesClassifier(20, min_samples_leaf=5, categorical_features=[0], random_state=0)
    et.fit(X[:1000], y[:1000])
    # measured: 0.948, what the noise-free rule itself scores on these labels
    assert et.score(X[1000:], y[1000:]) >= np.mean(rule[1000:] == y[1000:]) - 0.005
    np.testing.assert_array_equal(et.predict(X[1000:]), rule[1000:])
    # 17 of the 20 trees split on category sets; 3 are a lone leaf (their root drew column 1 and a
    # threshold leaving fewer than min_samples_leaf rows on one side, as scikit-learn's extra trees do)
    assert sum(t.tree_.is_categorical.any() for t in et.estimators_) == 17


def test_gradient_boosting_one_stage_is_the_categorical_friedman_tree():
    """One stage with learning rate 1 is the mean plus a Friedman-MSE tree fitted to ``y - ȳ``."""
    X, y, Xt, _ = _task(n=800, regression=True)
    gb = gu_ensemble.GradientBoostingRegressor(n_estimators=1, learning_rate=1.0, max_depth=3,
                                               categorical_features=[2]).fit(X, y)
    tree = DecisionTreeRegressor(criterion="friedman_mse", max_depth=3, categorical_features=[2]).fit(X, y - y.mean())
    assert gb.estimators_[0, 0].tree_.is_categorical.any()
    for name in ("feature", "children_left", "n_node_samples", "categorical_left"):
        np.testing.assert_array_equal(getattr(gb.estimators_[0, 0].tree_, name), getattr(tree.tree_, name))
    np.testing.assert_allclose(gb.predict(Xt), y.mean() + tree.predict(Xt), rtol=0, atol=1e-10)
    np.testing.assert_allclose(gb.estimators_[0, 0].predict(Xt), tree.predict(Xt), rtol=0, atol=1e-10)


@pytest.mark.parametrize("max_bins", [None, 255])
def test_gradient_boosting_classifier_categorical_beats_ordinal(max_bins):
    X, y, Xt, yt = _task()
    kw = dict(n_estimators=30, max_depth=2, random_state=0, max_bins=max_bins)
    cat = gu_ensemble.GradientBoostingClassifier(categorical_features=[2], **kw).fit(X, y)
    ordinal = gu_ensemble.GradientBoostingClassifier(**kw).fit(X, y)
    theirs = sk_ensemble.GradientBoostingClassifier(n_estimators=30, max_depth=2, random_state=0).fit(_one_hot(X), y)
    # measured: 0.827 (exact codes) and 0.830 (255 bins) against 0.752 and 0.758 with ordinal codes,
    # and scikit-learn's 0.751 on one-hot columns
    assert cat.score(Xt, yt) >= ordinal.score(Xt, yt) + 0.04
    assert cat.score(Xt, yt) >= theirs.score(_one_hot(Xt), yt) + 0.01
    assert sum(e.tree_.is_categorical.sum() for e in cat.estimators_.ravel()) >= 30


def test_bagging_hands_each_learner_the_mask_of_its_columns():
    X, y, Xt, yt = _task()
    kw = dict(n_estimators=15, max_features=0.6, random_state=0)
    bag = gu_ensemble.BaggingClassifier(categorical_features=[2], **kw).fit(X, y)
    for est, cols in zip(bag.estimators_, bag.estimators_features_):
        expected = cols == 2
        if expected.any():
            np.testing.assert_array_equal(est.categorical_features, expected)
            np.testing.assert_array_equal(est.is_categorical_, expected)
        else:
            assert est.categorical_features is None
    # a learner's own categorical_features (columns of X) are remapped the same way
    own = gu_ensemble.BaggingClassifier(DecisionTreeClassifier(categorical_features=[2]), **kw).fit(X, y)
    np.testing.assert_array_equal(own.predict_proba(Xt), bag.predict_proba(Xt))
    ordinal = gu_ensemble.BaggingClassifier(**kw).fit(X, y)
    # measured: 0.805 against 0.761
    assert bag.score(Xt, yt) >= ordinal.score(Xt, yt) + 0.02
    reg = gu_ensemble.BaggingRegressor(n_estimators=5, categorical_features=[2], random_state=0)
    Xr, yr, Xrt, yrt = _task(regression=True)
    assert reg.fit(Xr, yr).score(Xrt, yrt) > gu_ensemble.BaggingRegressor(n_estimators=5, random_state=0).fit(
        Xr, yr).score(Xrt, yrt) + 0.05


def test_adaboost_stumps_split_on_category_sets():
    X, y, Xt, yt = _task()
    cat = gu_ensemble.AdaBoostClassifier(n_estimators=30, categorical_features=[2], random_state=0).fit(X, y)
    ordinal = gu_ensemble.AdaBoostClassifier(n_estimators=30, random_state=0).fit(X, y)
    # measured: 0.832 against 0.756 (R² of the regressor: 0.781 against 0.564)
    assert cat.score(Xt, yt) >= ordinal.score(Xt, yt) + 0.05
    assert sum(e.tree_.is_categorical[0] for e in cat.estimators_) == 4  # of 30 stumps (measured)
    reg = gu_ensemble.AdaBoostRegressor(n_estimators=20, categorical_features=[2], random_state=0)
    Xr, yr, Xrt, yrt = _task(regression=True)
    assert reg.fit(Xr, yr).score(Xrt, yrt) > gu_ensemble.AdaBoostRegressor(n_estimators=20, random_state=0).fit(
        Xr, yr).score(Xrt, yrt) + 0.1


ENSEMBLES = FORESTS + ["BaggingClassifier", "AdaBoostClassifier", "GradientBoostingClassifier",
                       "BaggingRegressor", "AdaBoostRegressor", "GradientBoostingRegressor"]


@pytest.mark.parametrize("name", ENSEMBLES)
def test_bad_categorical_features_fail_at_fit_before_any_work(name):
    X, y, _, _ = _task(n=200, regression=name.endswith("Regressor"))
    make = getattr(gu_ensemble, name)
    cases = [([7], r"categorical_features holds column index 7, X has 5 features.*help"),
             ([True, False], r"categorical_features is a mask of 2 booleans but X has 5 features.*help"),
             (["a"], r"categorical_features=\['a'\] is not a list of column indices.*help")]
    for spec, message in cases:
        est = make(categorical_features=spec)
        with pytest.raises(ValueError, match=f"{name}: {message}"):
            est.fit(X, y)
        assert not hasattr(est, "estimators_")
    bad = X.copy()
    bad[5, 2] = -1.0
    with pytest.raises(ValueError, match=rf"{name}: categorical column 2 holds -1\.0.*help"):
        make(categorical_features=[2]).fit(bad, y)
    bad[5, 2] = 2.5
    with pytest.raises(ValueError, match=rf"{name}: categorical column 2 holds 2\.5.*help"):
        make(categorical_features=[2]).fit(bad, y)
    fitted = make(categorical_features=[2], n_estimators=2).fit(X, y)
    with pytest.raises(ValueError, match=rf"{name}: categorical column 2 holds -3\.0.*help"):
        fitted.predict(np.array([[0.0, 0.0, -3.0, 0.0, 0.0]]))
    unseen = fitted.predict(np.array([[0.0, 0.0, 99.0, 0.0, 0.0]]))  # an unseen category is fine
    assert unseen.shape == (1,)


def test_categorical_features_need_a_learner_that_takes_them():
    X, y, _, _ = _task(n=200)
    with pytest.raises(ValueError, match="BaggingClassifier: categorical_features=.*LogisticRegression has no "
                                         "categorical_features parameter.*help"):
        gu_ensemble.BaggingClassifier(LogisticRegression(), categorical_features=[2]).fit(X, y)
    with pytest.raises(ValueError, match="AdaBoostClassifier: categorical_features=.*help"):
        gu_ensemble.AdaBoostClassifier(LogisticRegression(), categorical_features=[2]).fit(X, y)
    many = X.copy()
    many[:, 2] = np.arange(len(many))
    with pytest.raises(ValueError, match="GradientBoostingClassifier: categorical column 2 has 100 categories, "
                                         "more than max_bins=64.*help"):
        gu_ensemble.GradientBoostingClassifier(categorical_features=[2], max_bins=64).fit(many, y)
