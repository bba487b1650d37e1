"""Histogram boosting's own grower: the same trees as the shared histogram builder (the reference),
on dense and on sparse (mostly-zero) data, and the packed cut scan equal to the plain one."""

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

from groundup.ml import ensemble as gu
from groundup.ml.ensemble import _class_trees, _gb, _hist_grower
from groundup.ml.tree._binning import bin_features


def _data(sparse):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1500, 10))
    X[:, 3] = 1.0  # constant: dropped once per fit
    if sparse:
        X = np.where(rng.random(X.shape) < 0.8, 0.0, X)
    # continuous targets: gradients never tie, so both growers must pick the very same cuts
    y = X[:, 0] * 3 + np.sin(2 * X[:, 1]) + X[:, 2] * X[:, 4] + rng.normal(size=1500)
    return X, y


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("kw", [
    {},
    {"max_leaf_nodes": None, "max_depth": 5, "l2_regularization": 1.0},
    {"subsample": 0.7, "colsample_bytree": 0.6, "random_state": 0},
    {"min_samples_leaf": 5, "min_split_gain": 0.5},
    {"max_bins": 32, "min_child_weight": 30.0},
])
def test_hist_grower_grows_the_reference_trees(sparse, kw, monkeypatch):
    X, y = _data(sparse)
    assert _hist_grower.HistData(bin_features(X, 255)).sparse == sparse
    fast = gu.HistGradientBoostingRegressor(max_iter=15, early_stopping=False, **kw).fit(X, y)
    monkeypatch.setattr(_gb.BaseHistGradientBoosting, "hist_grower", False)
    ref = gu.HistGradientBoostingRegressor(max_iter=15, early_stopping=False, **kw).fit(X, y)
    for a, b in zip((t for s in fast._stages for t in s), (t for s in ref._stages for t in s)):
        np.testing.assert_array_equal(a.feature, b.feature)
        np.testing.assert_array_equal(a.bin_threshold, b.bin_threshold)
        np.testing.assert_array_equal(a.children_left, b.children_left)
        np.testing.assert_array_equal(a.n_node_samples, b.n_node_samples)
        np.testing.assert_allclose(a.threshold, b.threshold)
        np.testing.assert_allclose(a.value, b.value, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast.predict(X), ref.predict(X), rtol=1e-9, atol=1e-9)


def test_hist_grower_multiclass_on_sparse_images_matches_sklearn():
    # digits with the faint strokes cut to 0 (most pixels 0: the sparse route), 10 trees per
    # iteration. The first
    # iterations' gradients take few values, so equal cuts abound and either may be taken: compare
    # what the model learns with scikit-learn's
    from sklearn import ensemble as sk
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    X = np.where(X > 8, X, 0.0)
    assert _hist_grower.HistData(bin_features(X[:1200], 255)).sparse
    kw = dict(max_iter=15, early_stopping=False)
    ours = gu.HistGradientBoostingClassifier(**kw).fit(X[:1200], y[:1200]).score(X[1200:], y[1200:])
    theirs = sk.HistGradientBoostingClassifier(**kw).fit(X[:1200], y[:1200]).score(X[1200:], y[1200:])
    assert ours >= theirs - 0.01, (ours, theirs)


def _plain_best_cut(hist, total, msl, mcw):
    """Every cut after a non-empty bin with a later non-empty bin, scored one by one."""
    count, H, G = hist
    best = (-np.inf, None, None)
    for j in range(count.shape[0]):
        nonempty = np.flatnonzero(count[j] > 0)
        for b in nonempty[:-1]:
            cl, hl, gl = count[j, : b + 1].sum(), H[j, : b + 1].sum(), G[j, : b + 1].sum()
            cr, hr, gr = total[0] - cl, total[1] - hl, total[2] - gl
            if min(cl, cr) < msl or min(hl, hr) < mcw:
                continue
            score = gl * gl / hl + gr * gr / hr
            if score > best[0] * (1 + 1e-12):
                best = (score, j, b)
    return best


@pytest.mark.parametrize("q", [40, 12])  # 40: the packed scan; 12 (≤ _DENSE_SCAN): the full grid
@pytest.mark.parametrize("density", [0.02, 0.2, 1.0])
def test_packed_cut_scan_equals_the_plain_scan(density, q):
    # the packed scan (non-empty bins only, rows of 8/32/128/all bins) and the full-grid scan
    # against a loop over cuts
    assert (q <= _hist_grower._DENSE_SCAN) == (q == 12)
    rng = np.random.default_rng(int(density * 100))
    nb, n = 64, 400
    count = np.zeros((q, nb), dtype=np.int64)
    for j in range(q):
        k = 2 + int(density * nb * rng.random())
        np.add.at(count[j], rng.choice(nb, k, replace=True)[rng.integers(0, k, n)], 1)
    H = count * rng.uniform(0.1, 0.3, size=(q, nb))
    G = count * rng.normal(size=(q, nb))
    total = np.array([n, H[0].sum(), G[0].sum()])
    # every feature holds the same rows: the totals agree up to rounding
    H *= total[1] / H.sum(axis=1, keepdims=True)
    G += (total[2] - G.sum(axis=1, keepdims=True)) * (count > 0) / np.maximum((count > 0).sum(axis=1, keepdims=True), 1)
    found = _hist_grower.best_cut([count, H + 1j * G], total, None, 20, 1e-3, 0.0)
    score, j, b = _plain_best_cut([count, H, G], total, 20, 1e-3)
    assert found is not None and (found[1], found[2]) == (j, b)
    np.testing.assert_allclose(found[0], score, rtol=1e-12)
    np.testing.assert_allclose(found[3], [count[j, : b + 1].sum(), H[j, : b + 1].sum(), G[j, : b + 1].sum()])


def _plain_best_cut_missing(count, H, G, total, msl, mcw):
    """Every cut scored one by one with the missing rows (the last bin) right and, where there are
    some, left; plus the cut sending every present value left and the missing rows alone right."""
    best = (-np.inf, None, None, None)
    q, nb = count.shape
    for j in range(q):
        present = np.flatnonzero(count[j, :-1] > 0)
        miss = np.array([count[j, -1], H[j, -1], G[j, -1]])
        cuts = [(b, False) for b in present[:-1]] + [(b, True) for b in present[:-1] if miss[0] > 0]
        if miss[0] > 0 and len(present):
            cuts.append((present[-1], False))  # missing alone on the right
        for b, left in cuts:
            L = np.array([count[j, : b + 1].sum(), H[j, : b + 1].sum(), G[j, : b + 1].sum()]) + (miss if left else 0)
            R = total - L
            if min(L[0], R[0]) < msl or min(L[1], R[1]) < mcw:
                continue
            score = L[2] ** 2 / L[1] + R[2] ** 2 / R[1]
            if score > best[0] * (1 + 1e-12):
                best = (score, j, b, left)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_cut_scan_with_missing_values_equals_the_plain_scan(seed):
    # the last bin holds the missing values: every cut tried with them right and left, and the
    # cut that leaves them alone on the right, against a loop over cuts
    rng = np.random.default_rng(seed)
    q, nb, n = 7, 33, 300
    count = np.zeros((q, nb), dtype=np.int64)
    for j in range(q):
        k = int(rng.integers(2, nb - 1))
        missing = int(rng.integers(0, 60)) if j % 3 else 0  # some features without missing rows
        np.add.at(count[j], rng.integers(0, k, n - missing), 1)
        count[j, -1] = missing
    H = count * rng.uniform(0.1, 0.3, size=(q, nb))
    G = count * rng.normal(size=(q, nb))
    H *= H[0].sum() / H.sum(axis=1, keepdims=True)  # every feature holds the same rows
    nonempty = count > 0
    G += (G[0].sum() - G.sum(axis=1, keepdims=True)) * nonempty / nonempty.sum(axis=1, keepdims=True)
    total = np.array([n, H[0].sum(), G[0].sum()])
    found = _hist_grower.best_cut([count, H + 1j * G], total, None, 20, 1e-3, 0.0, missing=nb - 1)
    score, j, b, left = _plain_best_cut_missing(count, H, G, total, 20, 1e-3)
    assert found is not None and (found[1], found[2], found[4]) == (j, b, left)
    np.testing.assert_allclose(found[0], score, rtol=1e-12)
    miss = np.array([count[j, -1], H[j, -1], G[j, -1]]) if left else 0
    np.testing.assert_allclose(found[3], np.array([count[j, : b + 1].sum(), H[j, : b + 1].sum(), G[j, : b + 1].sum()]) + miss)


@pytest.mark.parametrize("kw", [
    {}, {"max_leaf_nodes": None, "max_depth": 4, "l2_regularization": 1.0},
    {"subsample": 0.7, "colsample_bytree": 0.6, "random_state": 0}, {"min_samples_leaf": 50},
])
def test_hist_grower_with_missing_values_grows_the_reference_trees(kw, monkeypatch):
    # missing values in most features, one feature whose present values are all equal (it can only
    # split on missingness): the trees of the shared builder, missing directions included
    rng = np.random.default_rng(1)
    X, y = make_regression(3000, 8, noise=5, random_state=1)
    X[rng.random(X.shape) < 0.2] = np.nan
    X[:, 3] = np.where(rng.random(3000) < 0.5, np.nan, 1.0)
    y = y + 40 * np.isnan(X[:, 3])
    kw = dict(max_iter=15, early_stopping=False, min_samples_leaf=30) | kw
    fast = gu.HistGradientBoostingRegressor(**kw).fit(X, y)
    monkeypatch.setattr(_gb.BaseHistGradientBoosting, "hist_grower", False)
    ref = gu.HistGradientBoostingRegressor(**kw).fit(X, y)
    inf_cuts = 0
    for a, b in zip((t for s in fast._stages for t in s), (t for s in ref._stages for t in s), strict=True):
        for name in ("feature", "bin_threshold", "children_left", "n_node_samples", "missing_go_to_left"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        np.testing.assert_allclose(a.threshold, b.threshold)
        np.testing.assert_allclose(a.value, b.value, rtol=1e-9, atol=1e-12)
        inf_cuts += np.isinf(a.threshold).sum()
    assert inf_cuts > 0  # splits on missingness alone were taken
    np.testing.assert_allclose(fast.predict(X), ref.predict(X), rtol=1e-9, atol=1e-9)


def test_hist_boosting_with_missing_values_matches_sklearn(monkeypatch):
    from sklearn import ensemble as sk
    X, y = make_classification(6000, 12, random_state=0)
    rng = np.random.default_rng(0)
    X[rng.random(X.shape) < 0.15] = np.nan
    Xa, Xb, ya, yb = X[:4500], X[4500:], y[:4500], y[4500:]
    kw = dict(max_iter=60, early_stopping=False)
    grown = []
    real = _gb.grow_hist_tree
    monkeypatch.setattr(_gb, "grow_hist_tree", lambda *a, **k: grown.append(1) or real(*a, **k))
    ours = gu.HistGradientBoostingClassifier(**kw).fit(Xa, ya)
    assert len(grown) == 60  # every tree by boosting's own grower, not the shared builder
    theirs = sk.HistGradientBoostingClassifier(**kw).fit(Xa, ya)
    assert ours.score(Xb, yb) >= theirs.score(Xb, yb) - 0.01, (ours.score(Xb, yb), theirs.score(Xb, yb))


@pytest.mark.parametrize("kw", [
    {}, {"subsample": 0.7, "colsample_bytree": 0.6, "random_state": 0, "nan": True},
    {"max_leaf_nodes": None, "max_depth": 5, "l2_regularization": 1.0},
])
def test_hist_grower_with_categorical_features_grows_the_reference_trees(kw, monkeypatch):
    # two categorical columns (12 and 40 categories) that matter, beside ordered ones: the same
    # category sets, cuts and missing directions as the shared builder
    rng = np.random.default_rng(0)
    X, y = make_regression(4000, 8, noise=5, random_state=1)
    X[:, 0], X[:, 5] = rng.integers(0, 12, 4000), rng.integers(0, 40, 4000)
    y = y + 30 * np.isin(X[:, 0], [1, 4, 7]) + 10 * (X[:, 5] % 5 == 0)
    if kw.pop("nan", False):
        X[rng.random(X.shape) < 0.1] = np.nan
    kw = dict(max_iter=12, early_stopping=False, categorical_features=[0, 5]) | kw
    fast = gu.HistGradientBoostingRegressor(**kw).fit(X, y)
    monkeypatch.setattr(_gb.BaseHistGradientBoosting, "hist_grower", False)
    ref = gu.HistGradientBoostingRegressor(**kw).fit(X, y)
    n_cat = 0
    for a, b in zip((t for s in fast._stages for t in s), (t for s in ref._stages for t in s), strict=True):
        for name in ("feature", "bin_threshold", "children_left", "n_node_samples", "missing_go_to_left",
                     "is_categorical", "categorical_left"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        np.testing.assert_allclose(a.threshold, b.threshold)
        np.testing.assert_allclose(a.value, b.value, rtol=1e-9, atol=1e-12)
        n_cat += a.is_categorical.sum()
    assert n_cat > 0
    np.testing.assert_allclose(fast.predict(X), ref.predict(X), rtol=1e-9, atol=1e-9)


def test_hist_boosting_with_categorical_features_matches_sklearn(monkeypatch):
    from sklearn import ensemble as sk
    rng = np.random.default_rng(0)
    X, y = make_classification(6000, 10, n_informative=4, random_state=0)
    X[:, 0] = np.digitize(X[:, 0], np.quantile(X[:, 0], np.linspace(0, 1, 12)[1:-1]))
    X[:, 1] = rng.permutation(np.digitize(X[:, 1], np.quantile(X[:, 1], np.linspace(0, 1, 9)[1:-1])))
    X[rng.random(X.shape) < 0.05] = np.nan
    Xa, Xb, ya, yb = X[:4500], X[4500:], y[:4500], y[4500:]
    kw = dict(max_iter=60, early_stopping=False, categorical_features=[0, 1])
    grown = []
    real = _gb.grow_hist_tree
    monkeypatch.setattr(_gb, "grow_hist_tree", lambda *a, **k: grown.append(1) or real(*a, **k))
    ours = gu.HistGradientBoostingClassifier(**kw).fit(Xa, ya)
    assert len(grown) == 60  # every tree by boosting's own grower
    assert any(t.is_categorical.any() for s in ours._stages for t in s)
    theirs = sk.HistGradientBoostingClassifier(**kw).fit(Xa, ya)
    assert ours.score(Xb, yb) >= theirs.score(Xb, yb) - 0.01, (ours.score(Xb, yb), theirs.score(Xb, yb))


def test_bound_pruning_keeps_the_trees():
    # features whose bound Σ G_b²/H_b falls below the best score found are never scanned: the trees
    # are bitwise those of the scan of every feature (64 pixel features, 10 trees per iteration)
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    kw = dict(max_iter=8, early_stopping=False)
    pruned = gu.HistGradientBoostingClassifier(**kw).fit(X, y)
    import unittest.mock
    with unittest.mock.patch.object(_hist_grower, "_PRUNE_FIRST", 10**6):
        full = gu.HistGradientBoostingClassifier(**kw).fit(X, y)
    for a, b in zip((t for s in pruned._stages for t in s), (t for s in full._stages for t in s)):
        np.testing.assert_array_equal(a.feature, b.feature)
        np.testing.assert_array_equal(a.bin_threshold, b.bin_threshold)
        np.testing.assert_array_equal(a.value, b.value)


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize("kw", [dict(colsample_bytree=0.7), dict(subsample=0.6, l2_regularization=0.5)])
def test_class_trees_grown_in_processes_equal_the_serial_ones(monkeypatch, workers, kw):
    # the K trees of an iteration are independent: grown by the calling process and 1 or 2 worker
    # processes, they are the very trees one process grows (with column and row subsampling too)
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    kw = dict(max_iter=4, early_stopping=False, random_state=0, **kw)
    monkeypatch.setattr(_gb, "_MIN_PARALLEL_WORK", 0)
    monkeypatch.setattr(_gb, "_n_threads", lambda: workers)
    grown = []
    real_grow = _class_trees.ClassTreePool.grow

    def grow(self, tasks):  # record that the workers were used
        grown.append(self.n_workers)
        return real_grow(self, tasks)

    monkeypatch.setattr(_class_trees.ClassTreePool, "grow", grow)
    parallel = gu.HistGradientBoostingClassifier(**kw).fit(X, y)
    assert grown == [workers - 1] * 4
    monkeypatch.setattr(_gb, "_n_threads", lambda: 1)
    serial = gu.HistGradientBoostingClassifier(**kw).fit(X, y)
    assert len(grown) == 4
    for a, b in zip((t for s in parallel._stages for t in s), (t for s in serial._stages for t in s), strict=True):
        np.testing.assert_array_equal(a.feature, b.feature)
        np.testing.assert_array_equal(a.bin_threshold, b.bin_threshold)
        np.testing.assert_array_equal(a.threshold, b.threshold)
        np.testing.assert_array_equal(a.value, b.value)
    np.testing.assert_array_equal(parallel.decision_function(X), serial.decision_function(X))


def test_class_tree_pool_ships_the_binning_as_plain_arrays_and_cleans_up():
    # the workers' copy of the binned matrix is the caller's, array for array; the temporary
    # folder goes when the pool closes
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    X[::7, 2] = np.nan
    binning = bin_features(X, 32)
    folder = Path(tempfile.mkdtemp())
    try:
        _class_trees._save_binning(binning, folder)
        back = _class_trees._load_binning(folder)
    finally:
        shutil.rmtree(folder)
    for name in ("codes", "lower", "upper", "n_bins_feature"):
        np.testing.assert_array_equal(getattr(back, name), getattr(binning, name))
        assert getattr(back, name).dtype == getattr(binning, name).dtype
    assert (back.n_bins, back.has_missing) == (binning.n_bins, True)
    assert len(back.edges) == len(binning.edges)
    for a, b in zip(back.edges, binning.edges):
        np.testing.assert_array_equal(a, b)
    data = _hist_grower.HistData(bin_features(rng.normal(size=(200, 4)), 16))
    rng_g = np.random.default_rng(1)
    g, h = rng_g.normal(size=200), rng_g.uniform(0.1, 1.0, 200)
    with _class_trees.ClassTreePool(data, 1) as pool:
        folder = pool._folder
        assert folder.is_dir()
        (t1, leaves1), (t2, _) = pool.grow([(g, h, dict(min_samples_leaf=5)), (-g, h, dict(max_leaf_nodes=4))])
    assert not folder.exists()
    ref1, ref_leaves1 = _hist_grower.grow_tree(data, g, h, min_samples_leaf=5)
    ref2, _ = _hist_grower.grow_tree(data, -g, h, max_leaf_nodes=4)
    for a, b in ((t1, ref1), (t2, ref2)):
        np.testing.assert_array_equal(a.feature, b.feature)
        np.testing.assert_array_equal(a.value, b.value)
    assert t2.node_count == 7
    assert [(nd, r.tolist()) for nd, r in leaves1] == [(nd, r.tolist()) for nd, r in ref_leaves1]


@pytest.mark.parametrize("q", [40, 12])
def test_cut_scan_on_ragged_histograms_equals_the_plain_scan(q):
    # features of different widths (bins 0 … max code) laid end to end, as HistData stores them;
    # rounding residues in empty bins (left by sibling subtraction) must not move the cut
    rng = np.random.default_rng(q)
    nb, n = 64, 500
    widths = rng.integers(2, nb + 1, q)
    count = np.zeros((q, nb), dtype=np.int64)
    for j in range(q):
        np.add.at(count[j], rng.integers(0, widths[j], n), 1)
    H = count * rng.uniform(0.1, 0.3, size=(q, nb))
    G = count * rng.normal(size=(q, nb))
    H *= H[0].sum() / H.sum(axis=1, keepdims=True)
    nonempty = count > 0
    G += (G[0].sum() - G.sum(axis=1, keepdims=True)) * nonempty / nonempty.sum(axis=1,
                                                                               keepdims=True)
    total = np.array([n, H[0].sum(), G[0].sum()])
    inside = np.arange(nb) < widths[:, None]
    residue = np.where(count == 0, 1e-17, 0.0)
    flat = [count[inside], ((H + residue) + 1j * (G - residue))[inside]]
    offsets = np.concatenate([[0], np.cumsum(widths)])
    layout = (offsets, np.repeat(np.arange(q), widths), nb)
    found = _hist_grower.best_cut(flat, total, None, 20, 1e-3, 0.0, layout=layout)
    score, j, b = _plain_best_cut([count, H, G], total, 20, 1e-3)
    assert found is not None and (found[1], found[2]) == (j, b)
    np.testing.assert_allclose(found[0], score, rtol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_node_histograms_equal_plain_sums(sparse):
    # count, H = Σh, G = Σg per (feature, bin) of a node's rows (H and G summed together by
    # np.add.at on h + i·g) against one bincount per feature, at the root (every row) and for a
    # subset of rows
    X, _ = _data(sparse)
    data = _hist_grower.HistData(bin_features(X, 255))
    assert data.sparse == sparse
    rng = np.random.default_rng(1)
    g, h = rng.normal(size=data.n), rng.uniform(0.05, 0.25, data.n)
    gh = data.pack(g, h)
    offsets = data.layout[0]
    # the root, a node counted in one call (<= _SMALL_NODE rows) and one counted feature by feature
    small = np.sort(rng.choice(data.n, 300, replace=False))
    large = np.sort(rng.choice(data.n, _hist_grower._SMALL_NODE + 100, replace=False))
    for rows, root in ((np.arange(data.n), True), (small, False), (large, False)):
        count, Z = data.histogram(rows, g, h, gh, root=root)
        H, G = Z.real, Z.imag
        for j, f in enumerate(data.features):
            codes = data.binning.codes[rows, f]
            width = offsets[j + 1] - offsets[j]
            cells = slice(offsets[j], offsets[j + 1])
            np.testing.assert_array_equal(count[cells], np.bincount(codes, minlength=width))
            for stat, v in ((H, h), (G, g)):
                plain = np.bincount(codes, v[rows], minlength=width)
                if sparse:  # the default bin is the node's total minus the other bins
                    np.testing.assert_allclose(stat[cells], plain, rtol=1e-12, atol=1e-12)
                else:  # the same additions in the same order: bitwise equal
                    np.testing.assert_array_equal(stat[cells], plain)


def test_class_tree_pool_grows_locally_when_its_workers_cannot_start():
    # a worker that fails to start (here: its data folder is gone) breaks the process pool; the
    # trees are then grown in the calling process, the same trees
    rng = np.random.default_rng(2)
    data = _hist_grower.HistData(bin_features(rng.normal(size=(150, 3)), 16))
    g, h = rng.normal(size=150), np.ones(150)
    tasks = [(g, h, dict(min_samples_leaf=5)), (-g, h, dict(min_samples_leaf=5)), (g * 2, h, {})]
    with _class_trees.ClassTreePool(data, 1) as pool:
        shutil.rmtree(pool._folder)
        grown = pool.grow(tasks)
        assert pool._broken
    for (tree, _), (g_, h_, settings) in zip(grown, tasks, strict=True):
        ref, _ = _hist_grower.grow_tree(data, g_, h_, **settings)
        np.testing.assert_array_equal(tree.feature, ref.feature)
        np.testing.assert_array_equal(tree.value, ref.value)
