"""Friedman's booster with every loss against scikit-learn's, stage by stage: initial constant,
negative gradient, tree, leaf update (median, quantile, Huber's M-step, Newton step), subsampling and
sample weights.

Where agreement is exact. scikit-learn draws its subsample with its own legacy ``RandomState``; the
tests record its masks (``fit(monitor=...)``) and hand them to ours. Outside exact agreement:
(i) a node whose candidate cuts tie exactly, which scikit-learn breaks by a random feature order —
two features splitting a node's rows alike, or, with residuals of two values (absolute error,
quantile) and unit weights, two cuts with equal counts; continuous random weights and nodes of at
least 20 rows avoid them; (ii) scikit-learn reads ``X`` as float32 and treats values closer than
1e-7 as equal, so the data drop rows with near-equal values; (iii) a node whose residuals are all
equal, which scikit-learn still splits when rounding leaves its variance above machine epsilon.
"""

import numpy as np
import pytest
from sklearn import ensemble as sk
from sklearn.datasets import make_classification, make_friedman1, make_regression
from sklearn.utils.stats import _weighted_percentile

from groundup.ml import ensemble as gu
from groundup.ml.ensemble import _gb
from groundup.ml.ensemble._losses import weighted_percentile
from groundup.ml.tree._binning import bin_features


def _spread(X, y):
    """Drop rows whose value in some feature lies within 1e-6 of another row's (see the module
    docstring, (ii))."""
    keep = np.ones(len(X), dtype=bool)
    for j in range(X.shape[1]):
        order = np.argsort(X[:, j])
        close = np.diff(X[order, j]) < 1e-6
        keep[order[1:][close]] = False
    return X[keep], y[keep]


def _data(kind, n, seed):
    if kind == "regression":
        X, y = make_regression(n, 6, noise=10, random_state=seed)
    else:
        X, y = make_friedman1(n, 7, noise=1, random_state=seed)
    return _spread(X, y)


def _fit_both(monkeypatch, name, X, y, sample_weight=None, **kw):
    """Fit scikit-learn's and our booster on the same subsamples (scikit-learn's masks)."""
    masks = []

    def monitor(i, est, local):
        masks.append(local["sample_mask"].copy())
        return False

    theirs = getattr(sk, name)(random_state=0, **kw).fit(X, y, sample_weight=sample_weight, monitor=monitor)
    drawn = iter(masks)
    monkeypatch.setattr(_gb.BaseGradientBoosting, "_inbag_mask", staticmethod(lambda n, n_inbag, rng: next(drawn)))
    ours = getattr(gu, name)(random_state=0, **kw).fit(X, y, sample_weight=sample_weight)
    return ours, theirs


def _assert_same_stages(ours, theirs, X, classifier=False):
    stages = zip(ours.staged_decision_function(X), theirs.staged_decision_function(X)) if classifier else \
        zip(ours.staged_predict(X), theirs.staged_predict(X))
    n = 0
    for a, b in stages:
        b = b.reshape(np.shape(a))
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10 * np.abs(b).max(), err_msg=f"stage {n}")
        n += 1
    assert n == theirs.n_estimators_


def test_weighted_percentile_is_sklearns():
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 50):
        v = rng.normal(size=n)
        for w in (np.ones(n), rng.uniform(0.1, 3, n), rng.integers(0, 3, n).astype(float)):
            if w.sum() == 0:
                continue
            for q in (0.0, 10.0, 25.0, 50.0, 90.0, 100.0):
                assert weighted_percentile(v, w, q) == _weighted_percentile(v, w, q)


@pytest.mark.parametrize("loss", ["absolute_error", "huber", "quantile"])
@pytest.mark.parametrize("weighted", [False, True])
def test_initial_constant_is_sklearns(loss, weighted):
    # no weights: np.percentile (interpolated: even n gives the mean of the two middle values);
    # weights: the weighted inverted-CDF percentile
    X, y = make_regression(300, 4, noise=5, random_state=0)
    sw = np.random.default_rng(0).uniform(0.5, 2, 300) if weighted else None
    ours = gu.GradientBoostingRegressor(loss=loss, n_estimators=1).fit(X, y, sample_weight=sw)
    theirs = sk.GradientBoostingRegressor(loss=loss, n_estimators=1).fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(ours.init_, theirs.init_.constant_.ravel())


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind", ["regression", "friedman1"])
@pytest.mark.parametrize("subsample", [1.0, 0.7])
@pytest.mark.parametrize("loss, alpha", [("huber", 0.9), ("absolute_error", 0.9), ("quantile", 0.9),
                                         ("quantile", 0.25), ("squared_error", 0.9)])
def test_regression_losses_equal_sklearn_with_weights(monkeypatch, loss, alpha, subsample, kind, seed):
    X, y = _data(kind, 800, seed)
    sw = np.random.default_rng(seed).uniform(0.5, 2.0, len(y))
    ours, theirs = _fit_both(monkeypatch, "GradientBoostingRegressor", X, y, sw, loss=loss, alpha=alpha,
                             n_estimators=30, subsample=subsample, max_depth=3, min_samples_leaf=40)
    _assert_same_stages(ours, theirs, X)
    # scikit-learn reports 2·(½ squared error) for squared error, the loss itself otherwise
    factor = 2.0 if loss == "squared_error" else 1.0
    np.testing.assert_allclose(factor * ours.train_score_, theirs.train_score_, rtol=1e-10)
    if subsample < 1:
        np.testing.assert_allclose(factor * ours.oob_scores_, theirs.oob_scores_, rtol=1e-10)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("loss", ["huber", "absolute_error", "quantile"])
def test_regression_losses_equal_sklearn_without_weights(monkeypatch, loss, seed):
    # unit weights: the np.percentile start; few stages of shallow trees on large nodes keep
    # equal-count cuts of two-valued residuals from tying (module docstring, (i))
    X, y = _data("regression", 800, seed)
    ours, theirs = _fit_both(monkeypatch, "GradientBoostingRegressor", X, y, loss=loss, n_estimators=15,
                             max_depth=2, min_samples_leaf=40)
    _assert_same_stages(ours, theirs, X)
    np.testing.assert_allclose(ours.train_score_, theirs.train_score_, rtol=1e-10)


@pytest.mark.parametrize("presort", [True, False])
@pytest.mark.parametrize("loss", ["huber", "absolute_error", "quantile"])
def test_both_tree_builders_equal_sklearn(monkeypatch, loss, presort):
    # the node-at-a-time builder (max_leaf_nodes, max_features, missing values) and the presorted one
    monkeypatch.setattr(_gb.BaseGradientBoosting, "presort", presort)
    X, y = _data("friedman1", 700, 3)
    sw = np.random.default_rng(3).uniform(0.5, 2.0, len(y))
    for kw in ({"subsample": 0.7}, {"max_leaf_nodes": 6, "max_depth": None}):
        ours, theirs = _fit_both(monkeypatch, "GradientBoostingRegressor", X, y, sw, loss=loss, n_estimators=25,
                                 min_samples_leaf=20, **kw)
        _assert_same_stages(ours, theirs, X)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("subsample", [1.0, 0.7])
def test_classifier_newton_leaves_equal_sklearn_with_weights(monkeypatch, subsample, n_classes, seed):
    # leaf value Σw·(y - p) / Σw·p(1 - p), times (K - 1)/K for K > 2 classes
    X, y = make_classification(1000, 8, n_informative=5, n_classes=n_classes, random_state=seed)
    X, y = _spread(X, y)
    sw = np.random.default_rng(seed).uniform(0.5, 2.0, len(y))
    ours, theirs = _fit_both(monkeypatch, "GradientBoostingClassifier", X, y, sw, n_estimators=20,
                             subsample=subsample, min_samples_leaf=20)
    _assert_same_stages(ours, theirs, X, classifier=True)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-10, atol=1e-12)


def test_out_of_bag_rows_follow_the_thresholds():
    # a row out of the bag whose value falls between two in-bag neighbours takes the side x ≤ t
    # gives it, both while fitting (codes) and when predicting (values)
    X, y = _data("regression", 500, 0)
    gb = gu.GradientBoostingRegressor(loss="huber", n_estimators=10, subsample=0.5, random_state=0).fit(X, y)
    codes = bin_features(X).codes
    for stage in gb._stages:
        np.testing.assert_array_equal(stage[0].apply_binned(codes, None), stage[0].apply(X))
