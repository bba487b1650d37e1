"""The absolute-error criterion and categorical splits, against scikit-learn and brute force."""

import itertools

import numpy as np
import pytest
from sklearn import ensemble as sk_ensemble
from sklearn import tree as sk_tree
from test_tree import _assert_same_tree  # tests/ml is on sys.path (pytest's rootdir-less layout)

from groundup.ml import ensemble as gu_ensemble
from groundup.ml.testing import check_estimator
from groundup.ml.tree import DecisionTreeClassifier, DecisionTreeRegressor, export_text
from groundup.ml.tree._absolute_error import prefix_absolute_errors, weighted_median
from groundup.ml.tree._criterion import entropy_impurity, gini_impurity


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    # scikit-learn's OpenMP boosting oversubscribes a busy 2-core machine
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):
        yield


def _heavy_tailed(seed, n=300, p=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)).astype(np.float32).astype(np.float64)  # float32-exact, as sklearn sees it
    y = 2 * X[:, 0] + np.abs(X[:, 1]) + rng.standard_t(2, size=n)
    return X, y, rng


# -- absolute error ----------------------------------------------------------------------------

def test_prefix_medians_and_absolute_errors_match_brute_force():
    rng = np.random.default_rng(0)
    for trial in range(60):
        m = int(rng.integers(1, 40))
        y = rng.normal(size=m) if trial % 3 else rng.integers(0, 5, m).astype(float)  # ties in y too
        w = rng.integers(1, 4, m).astype(float) if trial % 2 else rng.random(m) + 0.1
        order = np.stack([rng.permutation(m) for _ in range(3)])
        ae, median = prefix_absolute_errors(order, y, w)
        for lane in range(3):
            for k in range(m):
                rows = order[lane, : k + 1]
                ys, ws = y[rows], w[rows]
                # the weighted median by its definition: smallest value with cumulative weight > W/2,
                # the midpoint when the cumulative weight hits W/2 exactly
                srt = np.argsort(ys, kind="stable")
                cw = np.cumsum(ws[srt])
                i = np.searchsorted(cw, cw[-1] / 2)
                expected = ys[srt][i] if not np.isclose(cw[i], cw[-1] / 2) else (ys[srt][i] + ys[srt][i + 1]) / 2
                assert median[lane, k] == pytest.approx(expected)
                assert ae[lane, k] == pytest.approx(np.sum(ws * np.abs(ys - expected)), abs=1e-9)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("max_depth, min_samples_leaf", [(2, 1), (3, 5), (4, 10)])
@pytest.mark.parametrize("weights", ["none", "integer", "float"])
def test_absolute_error_same_tree_as_sklearn(seed, max_depth, min_samples_leaf, weights):
    X, y, rng = _heavy_tailed(seed)
    w = {"none": None, "integer": rng.integers(1, 4, len(y)).astype(float),
         "float": rng.random(len(y)) + 0.5}[weights]
    kw = dict(criterion="absolute_error", max_depth=max_depth, min_samples_leaf=min_samples_leaf)
    ours = DecisionTreeRegressor(**kw).fit(X, y, sample_weight=w)
    theirs = sk_tree.DecisionTreeRegressor(random_state=0, **kw).fit(X, y, sample_weight=w)
    _assert_same_tree(ours.tree_, theirs.tree_)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X))
    np.testing.assert_allclose(ours.feature_importances_, theirs.feature_importances_, atol=1e-12)


@pytest.mark.parametrize("max_leaf_nodes", [5, 10])
def test_absolute_error_best_first_same_tree_as_sklearn(max_leaf_nodes):
    X, y, _ = _heavy_tailed(0)
    kw = dict(criterion="absolute_error", max_leaf_nodes=max_leaf_nodes, min_samples_leaf=5)
    ours = DecisionTreeRegressor(**kw).fit(X, y)
    theirs = sk_tree.DecisionTreeRegressor(random_state=0, **kw).fit(X, y)
    assert ours.get_n_leaves() == theirs.get_n_leaves() == max_leaf_nodes
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X))


def test_absolute_error_leaves_hold_weighted_medians_and_mean_absolute_deviation():
    X, y, rng = _heavy_tailed(1)
    w = rng.integers(1, 5, len(y)).astype(float)
    tree = DecisionTreeRegressor(criterion="absolute_error", max_depth=3).fit(X, y, sample_weight=w)
    leaves = tree.apply(X)
    for leaf in np.unique(leaves):
        rows = leaves == leaf
        m = weighted_median(y[rows], w[rows])
        assert tree.tree_.value[leaf, 0, 0] == pytest.approx(m)
        assert tree.tree_.impurity[leaf] == pytest.approx(np.sum(w[rows] * np.abs(y[rows] - m)) / w[rows].sum())


def test_absolute_error_with_missing_values_same_as_sklearn():
    X, y, rng = _heavy_tailed(2, n=400, p=5)
    X[rng.random(X.shape) < 0.1] = np.nan
    kw = dict(criterion="absolute_error", max_depth=3, min_samples_leaf=10)
    ours = DecisionTreeRegressor(**kw).fit(X, y)
    theirs = sk_tree.DecisionTreeRegressor(random_state=0, **kw).fit(X, y)
    _assert_same_tree(ours.tree_, theirs.tree_)
    np.testing.assert_array_equal(ours.tree_.missing_go_to_left, theirs.tree_.missing_go_to_left)


def test_absolute_error_hist_splitter_on_exact_bins_is_the_same_tree():
    X, y, _ = _heavy_tailed(3)
    X = np.round(X, 1)  # fewer than max_bins distinct values: histogram codes are exact
    kw = dict(criterion="absolute_error", max_depth=4, min_samples_leaf=10)
    best = DecisionTreeRegressor(**kw).fit(X, y)
    hist = DecisionTreeRegressor(splitter="hist", **kw).fit(X, y)
    np.testing.assert_array_equal(best.apply(X), hist.apply(X))
    np.testing.assert_array_equal(best.tree_.value, hist.tree_.value)


@pytest.mark.parametrize("name", ["RandomForestRegressor", "ExtraTreesRegressor"])
def test_forests_accept_absolute_error(name):
    X, y, _ = _heavy_tailed(4, n=400, p=5)
    Xt, yt, _ = _heavy_tailed(5, n=2000, p=5)
    kw = dict(n_estimators=10, criterion="absolute_error", min_samples_leaf=5, random_state=0)
    ours = getattr(gu_ensemble, name)(**kw).fit(X, y)
    theirs = getattr(sk_ensemble, name)(**kw).fit(X, y)
    assert all(t.criterion == "absolute_error" for t in ours.estimators_)
    mae_ours = np.mean(np.abs(ours.predict(Xt) - yt))
    mae_theirs = np.mean(np.abs(theirs.predict(Xt) - yt))
    # different random draws: the test error of 10 trees varies by a few percent between seeds
    assert mae_ours == pytest.approx(mae_theirs, rel=0.05)


def test_check_estimator_absolute_error():
    check_estimator(DecisionTreeRegressor(criterion="absolute_error", max_depth=3))


# -- categorical splits ------------------------------------------------------------------------

def _subset_data(n=600, seed=0, k=10):
    rng = np.random.default_rng(seed)
    x0 = rng.integers(0, k, n).astype(float)
    X = np.column_stack([x0, rng.normal(size=n)])
    return X, rng


@pytest.mark.parametrize("splitter", ["best", "hist"])
def test_depth_one_tree_finds_the_category_subset(splitter):
    X, _ = _subset_data()
    y = np.isin(X[:, 0], [1, 4, 7]).astype(int)
    tree = DecisionTreeClassifier(max_depth=1, splitter=splitter, categorical_features=[0]).fit(X, y)
    assert tree.score(X, y) == 1.0
    assert tree.tree_.is_categorical.tolist() == [True, False, False]
    left = set(tree.tree_.categories_left(0).tolist())
    assert left in ({1, 4, 7}, {0, 2, 3, 5, 6, 8, 9})
    # the same column as an ordered number, or one-hot encoded, needs more than one split
    assert DecisionTreeClassifier(max_depth=1).fit(X, y).score(X, y) < 1.0
    onehot = np.eye(10)[X[:, 0].astype(int)]
    for depth in (1, 2):  # one-hot isolates one category per split: three splits deep for {1, 4, 7}
        assert DecisionTreeClassifier(max_depth=depth).fit(onehot, y).score(onehot, y) < 1.0
    assert DecisionTreeClassifier(max_depth=3).fit(onehot, y).score(onehot, y) == 1.0
    # a regressor too, with each criterion
    target = np.where(np.isin(X[:, 0], [2, 3, 9]), 5.0, 0.0)
    for criterion in ("squared_error", "friedman_mse", "absolute_error"):
        reg = DecisionTreeRegressor(max_depth=1, criterion=criterion, splitter=splitter,
                                    categorical_features=np.array([True, False])).fit(X, target)
        assert reg.score(X, target) == 1.0, criterion


def _best_subset_by_brute_force(codes, impurity_of):
    """Smallest weighted child impurity over every split of the categories into two non-empty sets."""
    cats = np.unique(codes)
    best = np.inf
    for r in range(1, len(cats)):
        for left in itertools.combinations(cats[1:], r):  # cats[0] always right: each partition once
            mask = np.isin(codes, left)
            best = min(best, impurity_of(mask) * mask.sum() + impurity_of(~mask) * (~mask).sum())
    return best


@pytest.mark.parametrize("kind", ["gini", "entropy", "squared_error"])
def test_breiman_ordering_gives_the_best_subset(kind):
    for seed in range(5):
        X, rng = _subset_data(n=300, seed=seed, k=7)
        codes = X[:, 0].astype(int)
        if kind == "squared_error":
            y = rng.normal(size=7)[codes] + rng.normal(size=300)
            tree = DecisionTreeRegressor(max_depth=1, categorical_features=[0]).fit(X[:, :1], y)

            def impurity_of(mask, y=y):
                return y[mask].var()
        else:
            y = (rng.random(300) < rng.random(7)[codes]).astype(int)
            tree = DecisionTreeClassifier(criterion=kind, max_depth=1, categorical_features=[0]).fit(X[:, :1], y)
            fn = gini_impurity if kind == "gini" else entropy_impurity

            def impurity_of(mask, y=y, fn=fn):
                return fn(np.bincount(y[mask], minlength=2) / mask.sum())
        t = tree.tree_
        found = t.impurity[1] * t.n_node_samples[1] + t.impurity[2] * t.n_node_samples[2]
        assert found == pytest.approx(_best_subset_by_brute_force(codes, impurity_of), rel=1e-10)


def test_multiclass_categories_one_vs_rest_orderings():
    X, _ = _subset_data()
    y = np.select([np.isin(X[:, 0], [0, 5]), np.isin(X[:, 0], [1, 2, 8])], [1, 2], 0)
    tree = DecisionTreeClassifier(max_depth=2, categorical_features=[0]).fit(X, y)
    assert tree.score(X, y) == 1.0
    assert tree.get_n_leaves() == 3


def test_unseen_categories_go_right_and_nan_follows_the_learned_side():
    X, rng = _subset_data()
    X[rng.random(len(X)) < 0.1, 0] = np.nan
    y = (np.isin(X[:, 0], [1, 4, 7]) | np.isnan(X[:, 0])).astype(int)
    tree = DecisionTreeClassifier(max_depth=1, categorical_features=[0]).fit(X, y)
    assert tree.score(X, y) == 1.0
    left = set(tree.tree_.categories_left(0).tolist())
    nan_side = 1 if tree.tree_.missing_go_to_left[0] else 2
    assert tree.apply(np.array([[np.nan, 0.0]]))[0] == nan_side
    assert tree.predict(np.array([[np.nan, 0.0]]))[0] == 1
    new = np.array([[12.0, 0.0], [1000.0, 0.0]])  # never seen in training
    np.testing.assert_array_equal(tree.apply(new), [2, 2])
    assert tree.predict(np.array([[4.0, 0.0]]))[0] == 1 and (4 in left) == (nan_side == 1)
    path = tree.decision_path(X)
    np.testing.assert_array_equal(np.flatnonzero(path[0]), [0, tree.apply(X[:1])[0]])
    last_on_path = path.shape[1] - 1 - path[:, ::-1].argmax(axis=1)  # children are numbered after parents
    np.testing.assert_array_equal(last_on_path, tree.apply(X))


def test_export_text_and_plot_tree_print_the_category_set():
    X, _ = _subset_data()
    y = np.isin(X[:, 0], [1, 4, 7]).astype(int)
    tree = DecisionTreeClassifier(max_depth=1, categorical_features=[0]).fit(X, y)
    cats = ", ".join(str(c) for c in tree.tree_.categories_left(0))
    text = export_text(tree, feature_names=["colour", "size"])
    assert text.splitlines()[0] == f"|--- colour in {{{cats}}}"
    assert text.splitlines()[2] == f"|--- colour not in {{{cats}}}"
    pytest.importorskip("matplotlib")
    from groundup.viz import plot_tree
    fig = plot_tree(tree, feature_names=["colour", "size"])
    assert any(t.get_text().startswith(f"colour in {{{cats}}}") for t in fig.axes[0].texts)


def test_pruned_categorical_tree_routes_like_the_full_one():
    X, rng = _subset_data(n=400, seed=3)
    y = (np.isin(X[:, 0], [1, 4, 7]) ^ (rng.random(400) < 0.15)).astype(int)
    full = DecisionTreeClassifier(categorical_features=[0], random_state=0).fit(X, y)
    alpha = full.cost_complexity_pruning_path(X, y)["ccp_alphas"][-2]
    pruned = DecisionTreeClassifier(categorical_features=[0], ccp_alpha=alpha).fit(X, y)
    assert pruned.get_n_leaves() == 2 and pruned.tree_.is_categorical[0]
    np.testing.assert_array_equal(pruned.predict(X), np.isin(X[:, 0], [1, 4, 7]).astype(int))


def test_categorical_bad_input_names_the_column():
    X, _ = _subset_data(n=50)
    y = np.arange(50) % 2
    bad = X.copy()
    bad[3, 0] = -1
    with pytest.raises(ValueError, match=r"categorical column 0 holds -1\.0.*help"):
        DecisionTreeClassifier(categorical_features=[0]).fit(bad, y)
    bad[3, 0] = 2.5
    with pytest.raises(ValueError, match=r"categorical column 0 holds 2\.5.*help"):
        DecisionTreeClassifier(categorical_features=[0]).fit(bad, y)
    with pytest.raises(ValueError, match="column index 5.*help"):
        DecisionTreeClassifier(categorical_features=[5]).fit(X, y)
    with pytest.raises(ValueError, match="mask of 3 booleans.*2 features.*help"):
        DecisionTreeClassifier(categorical_features=[True, False, True]).fit(X, y)
    many = np.column_stack([np.arange(300) % 257, np.zeros(300)]).astype(float)
    with pytest.raises(ValueError, match="categorical column 0 has 257 categories.*max_bins=256.*help"):
        DecisionTreeClassifier(categorical_features=[0], splitter="hist").fit(many, np.arange(300) % 2)
    tree = DecisionTreeClassifier(categorical_features=[0]).fit(X, y)
    with pytest.raises(ValueError, match=r"categorical column 0 holds -3\.0"):
        tree.predict(np.array([[-3.0, 0.0]]))
    wide = np.column_stack([np.arange(300) % 257, np.zeros(300)]).astype(float)
    with pytest.raises(ValueError, match="categorical column 0 has 257 categories.*max_bins=255.*help"):
        gu_ensemble.HistGradientBoostingClassifier(categorical_features=[0]).fit(wide, np.arange(300) % 2)


def _hgb_task(seed, n=6000, k=40):
    """Half of 40 categories raise the log-odds by 2.5: a subset effect that ordinal splits chase
    one category boundary at a time."""
    rng = np.random.default_rng(seed)
    good = rng.permutation(k)[: k // 2]
    c0 = rng.integers(0, k, n)
    x1 = rng.normal(size=n)
    logit = 2.5 * (np.isin(c0, good) - 0.5) + 0.8 * x1
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = np.column_stack([c0, x1]).astype(float)
    half = n // 2
    return X[:half], y[:half], X[half:], y[half:]


@pytest.mark.parametrize("seed", range(3))
def test_hist_gradient_boosting_categorical_beats_ordinal_and_matches_sklearn(seed):
    X, y, Xt, yt = _hgb_task(seed)
    kw = dict(max_iter=20, max_leaf_nodes=4, early_stopping=False, random_state=0)
    cat = gu_ensemble.HistGradientBoostingClassifier(categorical_features=[0], **kw).fit(X, y)
    ordinal = gu_ensemble.HistGradientBoostingClassifier(**kw).fit(X, y)
    theirs = sk_ensemble.HistGradientBoostingClassifier(categorical_features=[0], **kw).fit(X, y)
    assert cat.score(Xt, yt) >= ordinal.score(Xt, yt) + 0.05
    # same algorithm (G/(H+10) ordering, support filter, both-end scan): the same trees up to float
    # rounding, so test accuracy agrees within one point (flipped near-ties may move a few rows)
    assert cat.score(Xt, yt) == pytest.approx(theirs.score(Xt, yt), abs=0.01)
    stats = cat.explain_split(0, 0, 0)
    assert stats["feature"] == 0 and np.isnan(stats["threshold"]) and len(stats["categories_left"]) >= 1


def test_hist_gradient_boosting_regressor_categorical_same_predictions_as_sklearn():
    X, _, Xt, _ = _hgb_task(7)
    y = np.isin(X[:, 0], np.arange(0, 40, 3)) * 3.0 + X[:, 1]
    kw = dict(max_iter=20, max_leaf_nodes=4, early_stopping=False, random_state=0)
    ours = gu_ensemble.HistGradientBoostingRegressor(categorical_features=[0], **kw).fit(X, y)
    theirs = sk_ensemble.HistGradientBoostingRegressor(categorical_features=[0], **kw).fit(X, y)
    # summation order differs (bincount vs scikit-learn's loops): predictions agree to ~1e-9
    np.testing.assert_allclose(ours.predict(Xt), theirs.predict(Xt), rtol=0, atol=1e-7)


def test_hist_gradient_boosting_categorical_with_missing_and_unseen_categories():
    X, y, Xt, yt = _hgb_task(1)
    rng = np.random.default_rng(0)
    X[rng.random(len(X)) < 0.05, 0] = np.nan
    Xt = Xt.copy()
    Xt[:10, 0] = 99.0  # unseen category: goes right at every categorical node
    est = gu_ensemble.HistGradientBoostingClassifier(categorical_features=np.array([True, False]), max_iter=20,
                                                     early_stopping=False).fit(X, y)
    assert est.score(Xt, yt) > 0.7
    assert est.predict_proba(Xt[:10]).shape == (10, 2)


@pytest.mark.parametrize("make", [
    lambda: DecisionTreeClassifier(max_depth=3, categorical_features=None),
    lambda: gu_ensemble.HistGradientBoostingClassifier(max_iter=5, categorical_features=None),
])
def test_check_estimator_with_the_categorical_parameter(make):
    check_estimator(make())
