"""Decision trees against scikit-learn: same structure, same predictions, same pruning path."""

import numpy as np
import pytest
from sklearn import tree as sk_tree
from sklearn.datasets import load_iris, make_classification, make_regression

from groundup.ml.testing import check_estimator
from groundup.ml.tree import DecisionTreeClassifier, DecisionTreeRegressor, export_text
from groundup.ml.tree._binning import bin_features
from groundup.ml.tree._criterion import Gini
from groundup.ml.tree._splitter import naive_best_split
from groundup.ml.tree._tree import _Builder


def _no_ties(n=600, p=6, seed=0, classes=2):
    X, y = make_classification(n, p, n_informative=min(4, p - 1), n_redundant=0, n_classes=classes, random_state=seed)
    return X.astype(np.float32).astype(np.float64), y  # float32-exact, as scikit-learn sees it


def _assert_same_tree(a, b):
    assert a.node_count == b.node_count
    for name in ("children_left", "children_right", "feature", "n_node_samples"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    np.testing.assert_allclose(a.threshold, b.threshold, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(a.impurity, b.impurity, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.weighted_n_node_samples, b.weighted_n_node_samples)
    np.testing.assert_allclose(a.value, b.value, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("criterion", ["gini", "entropy"])
@pytest.mark.parametrize("splitter", ["best", "hist"])
def test_classifier_same_tree_as_sklearn(criterion, splitter):
    X, y = _no_ties(2000, classes=3)
    X = np.round(X, 1)  # ≤ 256 distinct values per feature: the hist finder is exact too
    # nodes of >= 40 rows: two features almost never tie on the impurity decrease
    kw = dict(criterion=criterion, max_depth=4, min_samples_leaf=40)
    ours = DecisionTreeClassifier(splitter=splitter, **kw).fit(X, y)
    theirs = sk_tree.DecisionTreeClassifier(random_state=0, **kw).fit(X, y)
    _assert_same_tree(ours.tree_, theirs.tree_)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X))
    np.testing.assert_allclose(ours.feature_importances_, theirs.feature_importances_, atol=1e-12)


def test_regressor_same_tree_as_sklearn():
    X, y = make_regression(500, 5, noise=5, random_state=1)
    X = X.astype(np.float32).astype(np.float64)
    ours = DecisionTreeRegressor(max_depth=6, min_samples_leaf=8).fit(X, y)
    theirs = sk_tree.DecisionTreeRegressor(max_depth=6, min_samples_leaf=8, random_state=0).fit(X, y)
    _assert_same_tree(ours.tree_, theirs.tree_)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X))
    assert ours.get_depth() == theirs.get_depth() and ours.get_n_leaves() == theirs.get_n_leaves()


def test_full_tree_fits_training_data_like_sklearn():
    X, y = _no_ties(400, 5, seed=3)
    # distinct values, yet the nodes of 2-3 rows are cut alike by several features: which one is
    # taken (a random order per node, in both libraries) changes the tree's size, so the sizes are
    # compared over seeds
    ours = [DecisionTreeClassifier(random_state=s).fit(X, y) for s in range(10)]
    theirs = [sk_tree.DecisionTreeClassifier(random_state=s).fit(X, y) for s in range(10)]
    for tree in ours:
        np.testing.assert_array_equal(tree.predict(X), y)
    assert {t.get_n_leaves() for t in ours} == {int(t.get_n_leaves()) for t in theirs}


def test_max_leaf_nodes_best_first_like_sklearn():
    X, y = make_regression(400, 4, noise=3, random_state=2)
    X = X.astype(np.float32).astype(np.float64)
    ours = DecisionTreeRegressor(max_leaf_nodes=9).fit(X, y)
    theirs = sk_tree.DecisionTreeRegressor(max_leaf_nodes=9, random_state=0).fit(X, y)
    assert ours.get_n_leaves() == 9
    np.testing.assert_allclose(np.sort(ours.predict(X)), np.sort(theirs.predict(X)))


def test_sort_and_hist_finders_agree_and_match_naive_reference():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 20, size=(300, 5)).astype(float)
    y = (X[:, 0] + rng.normal(0, 3, 300) > 10).astype(int)
    binning = bin_features(X)
    stats = np.zeros((300, 3))
    stats[:, 0] = 1
    stats[np.arange(300), 1 + y] = 1
    trees = [_Builder(binning, Gini(2), splitter=s, max_depth=1, class_index=y).build(stats)[0] for s in ("sort", "hist")]
    assert trees[0].feature[0] == trees[1].feature[0] and trees[0].threshold[0] == trees[1].threshold[0]

    def weighted_gini(a, b):
        g = lambda v: 1 - np.sum(np.bincount(v, minlength=2) ** 2) / len(v) ** 2
        return (len(a) * g(a) + len(b) * g(b)) / (len(a) + len(b))

    _, feature, threshold = naive_best_split(X, y, weighted_gini)
    assert (trees[0].feature[0], trees[0].threshold[0]) == (feature, threshold)


def test_sample_weight_ones_and_integer_repeats():
    X, y = _no_ties(200, 4, seed=5)
    a = DecisionTreeClassifier(max_depth=4, min_samples_leaf=5).fit(X, y)
    b = DecisionTreeClassifier(max_depth=4, min_samples_leaf=5).fit(X, y, sample_weight=np.ones(200))
    _assert_same_tree(a.tree_, b.tree_)
    w = np.random.default_rng(0).integers(0, 3, 200)
    c = DecisionTreeRegressor(max_depth=4).fit(X, y.astype(float), sample_weight=w)
    d = DecisionTreeRegressor(max_depth=4).fit(np.repeat(X, w, axis=0), np.repeat(y, w).astype(float))
    np.testing.assert_allclose(c.predict(X), d.predict(X))


def test_pruning_path_and_ccp_alpha_match_sklearn():
    X, y = load_iris(return_X_y=True)
    ours = DecisionTreeClassifier().cost_complexity_pruning_path(X, y)
    theirs = sk_tree.DecisionTreeClassifier(random_state=0).cost_complexity_pruning_path(X, y)
    np.testing.assert_allclose(ours["ccp_alphas"], theirs.ccp_alphas, atol=1e-12)
    np.testing.assert_allclose(ours["impurities"], theirs.impurities, atol=1e-12)
    a = DecisionTreeClassifier(ccp_alpha=0.02).fit(X, y)
    b = sk_tree.DecisionTreeClassifier(ccp_alpha=0.02, random_state=0).fit(X, y)
    assert a.tree_.node_count == b.tree_.node_count
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


def test_missing_values_go_to_the_better_side():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = (X[:, 0] > 0).astype(int)
    X[y == 1][:20]  # noqa: B018
    missing = np.flatnonzero(y == 1)[:40]
    X[missing, 0] = np.nan  # the missing values all belong to class 1 (the right side)
    tree = DecisionTreeClassifier(max_depth=1).fit(X, y)
    assert tree.tree_.feature[0] == 0 and tree.tree_.missing_go_to_left[0] == 0
    np.testing.assert_array_equal(tree.predict(X), y)
    theirs = sk_tree.DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y)
    np.testing.assert_array_equal(tree.predict(X), theirs.predict(X))


@pytest.mark.parametrize("splitter", ["best", "hist"])
def test_tree_with_missing_values_same_as_sklearn(splitter):
    # NaNs everywhere, and informative on feature 1: the "missing vs every present value" split
    # (threshold inf) is a candidate, and missing_go_to_left follows the larger child when the
    # node saw no NaN in its split feature -- all as scikit-learn does
    X, y = make_classification(1500, 5, n_informative=3, n_redundant=0, n_classes=3, random_state=0)
    X = np.round(X, 1)
    rng = np.random.default_rng(0)
    X[rng.random(X.shape) < 0.1] = np.nan
    X[(y == 2) & (rng.random(len(y)) < 0.5), 1] = np.nan
    kw = dict(max_depth=5, min_samples_leaf=30)
    ours = DecisionTreeClassifier(splitter=splitter, **kw).fit(X, y)
    theirs = sk_tree.DecisionTreeClassifier(random_state=0, **kw).fit(X, y)
    _assert_same_tree(ours.tree_, theirs.tree_)
    np.testing.assert_array_equal(ours.tree_.missing_go_to_left, theirs.tree_.missing_go_to_left)
    assert np.isinf(ours.tree_.threshold).sum() == 1
    Xt = X.copy()
    Xt[rng.random(X.shape) < 0.3] = np.nan
    np.testing.assert_allclose(ours.predict_proba(Xt), theirs.predict_proba(Xt))


def test_decision_path_apply_and_export_text():
    X, y = load_iris(return_X_y=True)
    X = X[:, [0, 3]]  # sepal length, petal width: no tie at the root
    ours = DecisionTreeClassifier(max_depth=2).fit(X, y)
    theirs = sk_tree.DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(ours.decision_path(X), theirs.decision_path(X).toarray())
    np.testing.assert_array_equal(ours.apply(X), theirs.apply(X))
    assert export_text(ours, feature_names=["sl", "pw"]) == sk_tree.export_text(theirs, feature_names=["sl", "pw"])


@pytest.mark.parametrize("make", [lambda: DecisionTreeClassifier(max_depth=3), lambda: DecisionTreeRegressor(max_depth=3)])
def test_check_estimator(make):
    check_estimator(make())


def test_bad_input_errors_name_the_argument():
    X, y = _no_ties(50, 3)
    with pytest.raises(ValueError, match="criterion.*help"):
        DecisionTreeClassifier(criterion="bogus").fit(X, y)
    with pytest.raises(ValueError, match="max_features.*help"):
        DecisionTreeClassifier(max_features=10).fit(X, y)
    with pytest.raises(ValueError, match="sample_weight"):
        DecisionTreeClassifier().fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="sample_weight"):
        DecisionTreeClassifier().fit(X, y, sample_weight=-np.ones(50))
    with pytest.raises(ValueError, match="class"):
        DecisionTreeClassifier().fit(X, np.zeros(50))
    with pytest.raises(ValueError, match="NaN"):
        DecisionTreeClassifier(splitter="random").fit(np.where(X > 1, np.nan, X), y)


@pytest.mark.parametrize("kind", ["gini", "entropy", "squared_error", "friedman_mse"])
def test_levelwise_builder_grows_the_reference_tree(kind, monkeypatch):
    # the level-wise builder (all nodes of a depth at once) against the node-at-a-time reference
    rng = np.random.default_rng(1)
    X = np.round(rng.normal(size=(700, 6)), 1)
    if kind in ("gini", "entropy"):
        y = (X[:, 0] + X[:, 1] ** 2 + rng.normal(size=700) > 1).astype(int) + (X[:, 2] > 1)
        make = lambda: DecisionTreeClassifier(criterion=kind, min_samples_leaf=3, max_depth=12,  # noqa: E731
                                              random_state=0)  # one tie order for both builders

    else:
        # continuous features and leaves of >= 5 rows: two features almost never give the same
        # partition, so sums rounded in a different order cannot flip a tie
        X = rng.normal(size=(700, 6))
        y = X[:, 0] * 3 + np.sin(X[:, 1]) + rng.normal(size=700)
        make = lambda: DecisionTreeRegressor(criterion=kind, min_samples_leaf=5, random_state=0)  # noqa: E731
    w = rng.integers(0, 4, 700).astype(float)
    built = []
    real = _Builder._use_levelwise
    monkeypatch.setattr(_Builder, "_use_levelwise", lambda self, never_pure: built.append(1) or real(self, never_pure) or True)
    fast = make().fit(X, y, sample_weight=w)
    assert built
    monkeypatch.setattr(_Builder, "levelwise", False)
    monkeypatch.setattr(_Builder, "_use_levelwise", real)
    ref = make().fit(X, y, sample_weight=w)
    _assert_same_tree(fast.tree_, ref.tree_)
    np.testing.assert_array_equal(fast.tree_.missing_go_to_left, ref.tree_.missing_go_to_left)


@pytest.mark.parametrize("sparse", [False, True])
def test_levelwise_lazy_feature_draw_matches_full_scan(monkeypatch, sparse):
    # candidate features per node are checked for constancy a few columns at a time; the result
    # must equal the plain rule: per node, the non-constant features in its random order, then the
    # constant ones (the first max_features of them), with each candidate's min and max code
    from types import SimpleNamespace

    import groundup.ml.tree._levelwise as lw

    orders, extended = [], []
    real_draw, real_complete = lw._draw_order, lw._complete_order
    monkeypatch.setattr(lw, "_draw_order", lambda *a: orders.append(real_draw(*a)) or orders[-1])

    def complete(rng, known, perm, drawn, rows):
        extended.append(np.any(drawn[rows] > 0))  # a drawn prefix completed (the scan read past it)
        return real_complete(rng, known, perm, drawn, rows)

    monkeypatch.setattr(lw, "_complete_order", complete)
    rng = np.random.default_rng(3)
    n, p = 400, 120
    X = rng.integers(0, 4, size=(n, p)).astype(float)
    X[:, ::3] = 0.0  # constant everywhere
    X[:200, 1::3] = 1.0  # constant in the first nodes only
    order = rng.permutation(n)
    X[order[300:]] = np.where(np.isin(np.arange(p), [5, 7]), X[order[300:]], X[order[300]])  # 2 non-constant
    if sparse:  # mostly zeros: features all zero in a node are known constant without a scan
        X[rng.random(X.shape) < 0.85] = 0.0
    binning = bin_features(X)
    assert (binning.above_lowest() is not None) == sparse
    codes = binning.codes
    seg_len = np.array([60, 140, 3, 97, 100])
    seg_start = np.concatenate([[0], np.cumsum(seg_len)[:-1]])
    m = len(seg_len)
    sub_min = np.array([codes[order[s : s + k]].min(axis=0) for s, k in zip(seg_start, seg_len)])
    sub_max = np.array([codes[order[s : s + k]].max(axis=0) for s, k in zip(seg_start, seg_len)])
    nonconst = sub_min != sub_max

    def plain_rule(q):
        # the node's random order (drawn as far as the scan read it: completely when it holds
        # fewer than q non-constant features), non-constant features first, the first q of them
        perm, drawn = orders[-1]
        ref = []
        for i in range(m):
            o = perm[i, : drawn[i]]
            ref.append(o[np.argsort(~nonconst[i, o], kind="stable")][:q])
        return np.array(ref)

    for q, splitter in [(4, "best"), (7, "random"), (30, "best"), (120, "random"), (120, "best")]:
        for with_known in (False, True):
            known = ~nonconst & (np.random.default_rng(q + 1).random((m, p)) < 0.5) if with_known else None
            before = None if known is None else known.copy()
            b = SimpleNamespace(binning=binning, max_features=q, splitter=splitter, rng=np.random.default_rng(q))
            every = q >= p and splitter != "random"  # all features, no draw (and no codes wanted)
            feats, valid, lo, hi, *got = lw._candidate_features(b, order, seg_start, seg_len, m, p, known,
                                                                want_codes=not every)
            ref = np.broadcast_to(np.arange(p), (m, p)) if every else plain_rule(q)
            np.testing.assert_array_equal(feats, ref)
            np.testing.assert_array_equal(valid, np.take_along_axis(nonconst, ref, axis=1))
            np.testing.assert_array_equal(valid.sum(axis=1), np.minimum(nonconst.sum(axis=1), q))
            np.testing.assert_array_equal(lo, np.take_along_axis(sub_min, ref, axis=1))
            np.testing.assert_array_equal(hi, np.take_along_axis(sub_max, ref, axis=1))
            # the candidates' codes per row, copied from the scan: the code matrix's, 0 if constant
            node = np.repeat(np.arange(m), seg_len)
            if not every:
                np.testing.assert_array_equal(got[0], np.where(valid[node].T, codes[order[None, :], feats[node].T], 0))
            if known is not None and not every:
                # known constants are never drawn before the open features; the constant
                # features found are added to the mask, never a non-constant one
                assert np.all(known >= before) and not np.any(known & nonconst)
                assert known.sum() > before.sum()
    assert any(extended) or sparse  # rejection-drawn prefixes were completed (dense data)


def test_constant_at_lowest_code_from_bitsets():
    # the OR of a node's rows' "above the lowest code" bitsets marks exactly the features that are
    # at their lowest code on every row of the node
    from groundup.ml.tree._levelwise import _constant_at_lowest

    rng = np.random.default_rng(0)
    n, p = 300, 70  # not a multiple of 64: padded words
    X = np.where(rng.random((n, p)) < 0.9, 0.0, rng.integers(1, 5, (n, p)))
    binning = bin_features(X)
    bits = binning.above_lowest()
    assert bits is not None and bits.dtype == np.uint64
    order = rng.permutation(n)[:250]
    seg_len = np.array([1, 9, 40, 200])
    seg_start = np.concatenate([[0], np.cumsum(seg_len)[:-1]])
    got = _constant_at_lowest(bits, order, seg_start, p)
    ref = np.array([(binning.codes[order[s : s + k]] == 0).all(axis=0) for s, k in zip(seg_start, seg_len)])
    np.testing.assert_array_equal(got, ref)
    assert bin_features(rng.normal(size=(50, 3))).above_lowest() is None  # dense data: no bitsets


def test_levelwise_feature_order_is_a_uniform_random_order_of_the_open_features():
    # _draw_order: a uniformly random ordered sample of each node's open features (rejection draws
    # for nodes with many of them, sorted keys for the others); _complete_order keeps the drawn
    # prefix and appends the other open features, then the known constants
    from groundup.ml.tree._levelwise import _complete_order, _draw_order

    rng = np.random.default_rng(0)
    m, p, width = 30_000, 8, 2
    known = np.zeros((m, p), dtype=bool)
    known[:, :2] = True  # 6 open features: rejection draws
    known[:50, :5] = True  # 3 open features: sorted keys
    n_open = p - known.sum(axis=1)
    perm, drawn = _draw_order(rng, known, n_open, width)
    assert np.all(drawn[:50] == p) and np.all(drawn[50:] == width)
    pre = perm[50:, :width]
    assert np.all(pre >= 2) and np.all(pre[:, 0] != pre[:, 1])
    # each ordered pair of distinct open features (30 of them) equally likely: counts within
    # 5 standard deviations of the binomial mean
    pairs = np.bincount((pre[:, 0] - 2) * 6 + pre[:, 1] - 2, minlength=36).reshape(6, 6)
    expect = (m - 50) / 30
    assert np.all(np.diag(pairs) == 0)
    off = pairs[~np.eye(6, dtype=bool)]
    assert np.all(np.abs(off - expect) < 5 * np.sqrt(expect * (1 - 1 / 30)))
    # complete orders: permutations, open features first, the drawn prefix kept
    np.testing.assert_array_equal(np.sort(perm[:50], axis=1), np.broadcast_to(np.arange(p), (50, p)))
    assert np.all(perm[:50, :3] >= 5)
    rows = np.arange(50, 60)
    prefix = perm[rows, :width].copy()
    _complete_order(rng, known, perm, drawn, rows)
    np.testing.assert_array_equal(perm[rows, :width], prefix)
    np.testing.assert_array_equal(np.sort(perm[rows], axis=1), np.broadcast_to(np.arange(p), (10, p)))
    assert np.all(perm[rows, :6] >= 2) and np.all(drawn[rows] == p)


@pytest.mark.parametrize("splitter", ["best", "hist"])
def test_constant_features_dropped_below_a_node_same_tree_as_sklearn(splitter):
    # sparse "pixel" data: many columns constant overall or constant inside nodes; features found
    # constant in a node's histogram are skipped in its subtree, the tree stays scikit-learn's
    rng = np.random.default_rng(0)
    n, p = 3000, 60
    X = np.where(rng.random((n, p)) < 0.15, rng.integers(1, 9, (n, p)), 0).astype(float)
    X[:, :10] = 0.0
    X[X[:, 20] > 0, 30:40] = 0.0
    y = (X[:, 20] + X[:, 25] + 2 * X[:, 31] > 6).astype(int) + (X[:, 45] > 3)
    kw = dict(max_depth=6, min_samples_leaf=30)
    ours = DecisionTreeClassifier(splitter=splitter, **kw).fit(X, y)
    theirs = sk_tree.DecisionTreeClassifier(random_state=0, **kw).fit(X, y)
    _assert_same_tree(ours.tree_, theirs.tree_)


def test_take2d_equals_fancy_indexing():
    from groundup.ml.tree._binning import take2d

    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, size=(50, 13)).astype(np.uint8)
    rows = rng.integers(0, 50, size=(7, 1))
    cols = rng.integers(0, 13, size=(7, 5))
    np.testing.assert_array_equal(take2d(a, rows, cols), a[rows, cols])
    np.testing.assert_array_equal(take2d(a, rows[:, 0], cols[:, 0]), a[rows[:, 0], cols[:, 0]])
    f = np.asfortranarray(a)  # any layout in, same values out
    np.testing.assert_array_equal(take2d(f, rows, cols), a[rows, cols])


@pytest.mark.parametrize("min_samples_leaf, min_weight_fraction_leaf", [(1, 0.0), (3, 0.0), (1, 0.01)])
@pytest.mark.parametrize("hist_entries", [0.0, 0.15, 1e9])
@pytest.mark.parametrize("scale", [1, 1000])
@pytest.mark.parametrize("density", [0.3, 0.9])
def test_radix_finder_grows_the_same_tree_as_the_sorted_finder(
        min_samples_leaf, min_weight_fraction_leaf, hist_entries, scale, density, monkeypatch):
    # forest-style trees (random features per node, bootstrap counts as weights) on pixel-like codes
    # with many ties: the radix finder's integer running sums and the histogram finder's (every
    # node, the large ones, none) must give the sorted finder's tree, leaf-size rules included;
    # sparse codes (mostly 0: both finders skip those rows) and dense ones; small radix chunks, so
    # that a level's nodes span several
    import groundup.ml.tree._levelwise as lw

    monkeypatch.setattr(lw, "_HIST_ENTRIES_PER_CELL", hist_entries)
    monkeypatch.setattr(lw, "_RADIX_ROWS", 200)

    rng = np.random.default_rng(0)
    n, p = 1500, 40
    X = np.where(rng.random((n, p)) < density, rng.integers(1, 12, (n, p)), 0).astype(float)
    y = (X[:, :5].sum(axis=1) + rng.integers(0, 3, n)) % 5
    # bootstrap counts; scaled by 1000, nodes outweigh 32767 (int64 running sums, not int32)
    w = scale * np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
    used = []
    real = lw._best_radix
    monkeypatch.setattr(lw, "_best_radix", lambda *a: used.append(1) or real(*a))
    make = lambda: DecisionTreeClassifier(max_features="sqrt", min_samples_leaf=min_samples_leaf,  # noqa: E731
                                          min_weight_fraction_leaf=min_weight_fraction_leaf, random_state=7)
    fast = make().fit(X, y, sample_weight=w)
    assert used
    monkeypatch.setattr(_Builder, "radix", False)
    ref = make().fit(X, y, sample_weight=w)
    _assert_same_tree(fast.tree_, ref.tree_)
    np.testing.assert_array_equal(fast.tree_.threshold, ref.tree_.threshold)


@pytest.mark.parametrize("lens", [[5, 0, 7, 1], [4, 4, 4]])
def test_sort_columns_sorts_each_column_stably(lens):
    from groundup.ml.tree._levelwise import _sort_columns

    rng = np.random.default_rng(0)
    bounds = np.concatenate([[0], np.cumsum(lens)])
    key = rng.integers(0, 3, bounds[-1]).astype(np.uint16)  # many equal keys: stability matters
    column = np.repeat(np.arange(len(lens)), lens)
    np.testing.assert_array_equal(_sort_columns(key, bounds), np.lexsort((key, column)))


@pytest.mark.parametrize("min_samples_leaf, min_weight_leaf", [(1, 0.0), (2, 0.0), (1, 3.0)])
@pytest.mark.parametrize("density", [0.4, 0.97])
def test_radix_nodes_equal_hist_nodes_on_ragged_levels(min_samples_leaf, min_weight_leaf, density,
                                                       monkeypatch):
    # one level, both finders on the same nodes: tiny nodes, candidates without any code above 0
    # (constant ones, last), columns without code 0, nodes spread over several radix chunks; sparse
    # codes (only the codes above 0 sorted) and dense ones (all rows sorted)
    from types import SimpleNamespace

    import groundup.ml.tree._levelwise as lw

    monkeypatch.setattr(lw, "_RADIX_ROWS", 40)
    rng = np.random.default_rng(1)
    q, nb, C = 5, 9, 3
    seg_len = rng.integers(2, 30, 25)
    n = int(seg_len.sum())
    codes = np.where(rng.random((q, n)) < density, rng.integers(1, nb, (q, n)), 0).astype(np.uint8)
    node = np.repeat(np.arange(len(seg_len)), seg_len)
    codes[-1, node % 3 == 0] = 0  # the last candidate constant (at code 0) in every third node
    codes[1, node % 4 == 1] = rng.integers(1, 3, int((node % 4 == 1).sum()))  # no code 0 at all
    cls = rng.integers(0, C, n).astype(np.uint16)
    w = rng.integers(1, 4, n).astype(np.int64)
    totals = np.zeros((len(seg_len), C + 1))
    np.add.at(totals, (node, 0), 1)
    np.add.at(totals, (node, 1 + cls), w)
    feats = np.tile(np.arange(q), (len(seg_len), 1))
    b = SimpleNamespace(binning=SimpleNamespace(n_bins=nb), min_samples_leaf=min_samples_leaf,
                        min_weight_leaf=min_weight_leaf)
    radix = lw._radix_nodes(b, codes, seg_len, feats, totals, cls, w)
    hist = lw._hist_nodes(b, codes, seg_len, feats, totals, cls, w)
    assert (radix[0] > 0).sum() > 10
    for r, h in zip(radix, hist):
        np.testing.assert_array_equal(r, h)


def test_radix_finder_only_for_integer_weights_and_gini():
    from types import SimpleNamespace

    from groundup.ml.tree._criterion import Entropy
    from groundup.ml.tree._levelwise import radix_applies

    binning = bin_features(np.arange(12.0).reshape(6, 2))
    stats = np.zeros((6, 3))
    make = lambda w, crit: SimpleNamespace(class_index=np.zeros(6, int), criterion=crit, splitter="best",  # noqa: E731
                                           binning=binning, _row_weight=np.asarray(w, float))
    assert radix_applies(make([1, 2, 0, 1, 1, 3], Gini(2)), stats)
    assert not radix_applies(make([1, 0.5, 0, 1, 1, 3], Gini(2)), stats)
    assert not radix_applies(make([1, 2, 0, 1, 1, 3], Entropy(2)), stats)


@pytest.mark.parametrize("max_bins, subsample", [(None, None), (16, None), (16, 200)])
def test_binning_in_threads_equals_serial(max_bins, subsample):
    # the subsampled quantiles draw their rows in column order, outside the threads: the same draws
    rng = np.random.default_rng(0)
    X = np.round(rng.normal(size=(300, 70)), 2)
    X[rng.random(X.shape) < 0.05] = np.nan
    X[:, 10:30] = np.nan_to_num(X[:, 10:30])  # blocks without missing values next to blocks with them
    X[:, 40] = 1.0
    kw = dict(max_bins=max_bins, subsample=subsample)
    serial = bin_features(X, rng=np.random.default_rng(1), **kw)
    threaded = bin_features(X, n_jobs=2, rng=np.random.default_rng(1), **kw)
    assert threaded.n_bins == serial.n_bins and threaded.has_missing
    np.testing.assert_array_equal(threaded.codes, serial.codes)
    np.testing.assert_array_equal(threaded.lower, serial.lower)
    np.testing.assert_array_equal(threaded.upper, serial.upper)
    np.testing.assert_array_equal(threaded.n_bins_feature, serial.n_bins_feature)
    for a, b in zip(threaded.edges, serial.edges):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("max_bins", [255, 40])
def test_quantile_bins_are_scikit_learns(max_bins):
    # scikit-learn's histogram boosting cuts at the same points (it keeps repeated quantiles, which
    # leave empty bins; we drop them): the same cut points, the same grouping of the rows
    from sklearn.ensemble._hist_gradient_boosting.binning import _BinMapper
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=2000), np.round(rng.exponential(size=2000), 1),
                         rng.integers(0, 30, 2000), np.where(rng.random(2000) < 0.6, 0.0, rng.normal(size=2000))])
    X[rng.random(X.shape) < 0.05] = np.nan
    ours = bin_features(X, max_bins=max_bins, n_jobs=2)
    theirs = _BinMapper(n_bins=max_bins + 1, subsample=None).fit(X)
    sk_codes = theirs.transform(X)
    for j in range(X.shape[1]):
        np.testing.assert_array_equal(ours.edges[j], np.unique(theirs.bin_thresholds_[j]))
        present = ~np.isnan(X[:, j])
        _, ours_groups = np.unique(ours.codes[present, j], return_inverse=True)
        _, sk_groups = np.unique(sk_codes[present, j], return_inverse=True)
        np.testing.assert_array_equal(ours_groups, sk_groups)


def test_binning_memory_map_keeps_every_array(tmp_path):
    rng = np.random.default_rng(0)
    X = np.where(rng.random((300, 70)) < 0.8, 0.0, np.round(np.abs(rng.normal(size=(300, 70))), 1) + 0.1)
    b = bin_features(X)
    codes, columns, bits = b.codes.copy(), b.columns().copy(), b.above_lowest().copy()
    b.memory_map(tmp_path)
    assert isinstance(b.codes, np.memmap) and not b.codes.flags.writeable
    np.testing.assert_array_equal(b.codes, codes)
    np.testing.assert_array_equal(b.columns(), columns)
    np.testing.assert_array_equal(b.above_lowest(), bits)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["above_lowest.npy", "codes.npy", "columns.npy"]


def test_apply_equals_a_row_by_row_walk():
    # the level-at-a-time descent against walking each row down the tree: ordered and categorical
    # nodes, NaN routing, row- and column-major X, and the binned twin on training codes
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 5))
    X[:, 1] = rng.integers(0, 7, 600)  # categories
    y = (X[:, 0] + (X[:, 1] % 3 == 0) + 0.3 * rng.normal(size=600) > 0.5).astype(int)
    X[rng.random(X.shape) < 0.1] = np.nan
    clf = DecisionTreeClassifier(max_depth=7, categorical_features=[1], random_state=0).fit(X, y)
    t = clf.tree_
    assert t.is_categorical.any() and (t.missing_go_to_left[t.children_left >= 0] == 1).any()

    def walk(x):
        node = 0
        while t.children_left[node] != -1:
            v = x[t.feature[node]]
            if np.isnan(v):
                left = bool(t.missing_go_to_left[node])
            elif t.is_categorical[node]:
                left = v in t.categories_left(node)
            else:
                left = v <= t.threshold[node]
            node = t.children_left[node] if left else t.children_right[node]
        return node

    expected = np.array([walk(x) for x in X])
    np.testing.assert_array_equal(t.apply(X), expected)
    np.testing.assert_array_equal(t.apply(np.asfortranarray(X)), expected)
