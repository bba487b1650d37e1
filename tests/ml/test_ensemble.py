"""Ensembles against scikit-learn on the same data: accuracy / R² within 1-2 points, exact where
the algorithm is deterministic (AdaBoost's weights, hand-computed second-order gains)."""

import numpy as np
import pytest
from sklearn import ensemble as sk
from sklearn.datasets import load_breast_cancer, load_digits, make_classification, make_regression
from sklearn.model_selection import train_test_split

from groundup.ml import ensemble as gu
from groundup.ml.testing import check_estimator


def _split(X, y):
    return train_test_split(X, y, random_state=0)


@pytest.fixture(scope="module")
def cancer():
    return _split(*load_breast_cancer(return_X_y=True))


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return _split(X[:800], y[:800])


@pytest.fixture(scope="module")
def regression():
    return _split(*make_regression(500, 8, noise=10, random_state=0))


def _compare(name, data, margin, **kw):
    Xa, Xb, ya, yb = data
    ours = getattr(gu, name)(**kw).fit(Xa, ya).score(Xb, yb)
    theirs = getattr(sk, name)(**kw).fit(Xa, ya).score(Xb, yb)
    assert ours >= theirs - margin, (name, ours, theirs)
    return ours, theirs


@pytest.mark.parametrize("name", [
    "RandomForestClassifier",
    pytest.param("ExtraTreesClassifier", marks=pytest.mark.xfail(strict=True, reason="known gap: 2.1 points below sklearn on breast cancer (issue 6)")),
    pytest.param("BaggingClassifier", marks=pytest.mark.xfail(strict=True, reason="known gap: 2.8 points below sklearn on breast cancer (issue 6)")),
])
def test_bagged_classifiers_match_sklearn_accuracy(name, cancer):
    _compare(name, cancer, 0.02, n_estimators=50, random_state=0)


@pytest.mark.parametrize("name", ["RandomForestRegressor", "ExtraTreesRegressor", "BaggingRegressor"])
def test_bagged_regressors_match_sklearn_r2(name, regression):
    _compare(name, regression, 0.02, n_estimators=20, random_state=0)


def test_forest_on_digits_and_oob(digits):
    _compare("RandomForestClassifier", digits, 0.02, n_estimators=30, random_state=0)
    Xa, _, ya, _ = digits
    forest = gu.RandomForestClassifier(30, oob_score=True, random_state=0).fit(Xa, ya)
    theirs = sk.RandomForestClassifier(30, oob_score=True, random_state=0).fit(Xa, ya)
    assert abs(forest.oob_score_ - theirs.oob_score_) < 0.04
    assert np.argmax(forest.feature_importances_) in np.argsort(theirs.feature_importances_)[-5:]


def test_adaboost_weights_equal_sklearn(cancer):
    Xa, Xb, ya, yb = cancer
    ours = gu.AdaBoostClassifier(n_estimators=15, random_state=0).fit(Xa, ya)
    theirs = sk.AdaBoostClassifier(n_estimators=15, random_state=0).fit(Xa, ya)
    np.testing.assert_allclose(ours.estimator_weights_, theirs.estimator_weights_, rtol=1e-9)
    np.testing.assert_allclose(ours.estimator_errors_, theirs.estimator_errors_, rtol=1e-9)
    np.testing.assert_array_equal(ours.predict(Xb), theirs.predict(Xb))
    staged = list(ours.staged_predict(Xb))
    assert len(staged) == 15 and np.array_equal(staged[-1], ours.predict(Xb))


def test_adaboost_alpha_workshop_formula():
    # α = ½ ln((1-ε)/ε): ε = 0.2 gives ½ ln 4 = ln 2; SAMME's two-class α is twice that
    assert np.isclose(gu.samme_alpha(0.2, convention="workshop"), np.log(2.0))
    assert np.isclose(gu.samme_alpha(0.2, 2), 2 * np.log(2.0))
    assert np.isclose(gu.samme_alpha(0.5, 3), np.log(2.0))  # chance for 3 classes still counts


def test_adaboost_regressor(regression):
    _compare("AdaBoostRegressor", regression, 0.03, n_estimators=20, random_state=0)


def test_gradient_boosting_classifier(cancer, digits):
    _compare("GradientBoostingClassifier", cancer, 0.01, n_estimators=50, random_state=0)
    _compare("GradientBoostingClassifier", digits, 0.02, n_estimators=15, random_state=0)


@pytest.mark.parametrize("loss", ["squared_error", "absolute_error", "huber"])
def test_gradient_boosting_regressor(loss, regression):
    _compare("GradientBoostingRegressor", regression, 0.01, n_estimators=50, loss=loss, random_state=0)


def test_gradient_boosting_first_residual_step():
    # squared error: F0 = mean(y); stage 1 fits the residuals y - F0; with one split and η = 1 the
    # leaves are the residual means, so F1 = the mean of y on each side of the split
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([1.0, 3.0, 10.0, 14.0])
    gb = gu.GradientBoostingRegressor(n_estimators=1, learning_rate=1.0, max_depth=1).fit(X, y)
    np.testing.assert_allclose(gb.init_, [7.0])
    np.testing.assert_allclose(gb.predict(X), [2.0, 2.0, 12.0, 12.0])
    half = gu.GradientBoostingRegressor(n_estimators=1, learning_rate=0.5, max_depth=1).fit(X, y)
    np.testing.assert_allclose(half.predict(X), 7.0 + 0.5 * np.array([-5.0, -5.0, 5.0, 5.0]))


def test_gradient_boosting_early_stopping_and_staged(cancer):
    Xa, Xb, ya, yb = cancer
    gb = gu.GradientBoostingClassifier(n_estimators=300, n_iter_no_change=3, random_state=0).fit(Xa, ya)
    assert gb.n_estimators_ < 300 and len(gb.train_score_) == gb.n_estimators_
    staged = list(gb.staged_predict_proba(Xb))
    np.testing.assert_allclose(staged[-1], gb.predict_proba(Xb))


@pytest.mark.xfail(strict=True, reason="known gap: 1.4 points below sklearn on breast cancer (issue 6)")
def test_hist_gradient_boosting_matches_sklearn(cancer, digits, regression):
    kw = dict(max_iter=50, early_stopping=False)
    _compare("HistGradientBoostingClassifier", cancer, 0.01, **kw)
    _compare("HistGradientBoostingClassifier", digits, 0.02, max_iter=20, early_stopping=False)
    _compare("HistGradientBoostingRegressor", regression, 0.01, **kw)


def test_hist_gradient_boosting_hand_computed_gain():
    # 10 rows, squared error (g = F0 - y, h = 1), λ = 1: check G, H, the gain terms and the leaves
    X = np.arange(10, dtype=float)[:, None]
    y = np.array([1.0, 1, 1, 1, 1, 5, 5, 5, 5, 9])
    hgb = gu.HistGradientBoostingRegressor(max_iter=1, learning_rate=1.0, max_leaf_nodes=2, min_samples_leaf=1,
                                           l2_regularization=1.0, early_stopping=False).fit(X, y)
    info = hgb.explain_split(0)
    g = y.mean() - y
    best = None
    for cut in range(1, 10):
        GL, GR, HL, HR = g[:cut].sum(), g[cut:].sum(), cut, 10 - cut
        gain = 0.5 * (GL**2 / (HL + 1) + GR**2 / (HR + 1) - g.sum() ** 2 / (10 + 1))
        if best is None or gain > best[0]:
            best = (gain, cut, GL, HL, GR, HR)
    gain, cut, GL, HL, GR, HR = best
    np.testing.assert_allclose([info["G_L"], info["H_L"], info["G_R"], info["H_R"]], [GL, HL, GR, HR], atol=1e-12)
    np.testing.assert_allclose(info["gain"], gain, rtol=1e-12)
    assert cut - 1 < info["threshold"] < cut
    np.testing.assert_allclose(hgb.predict(X[[0, 9]]), y.mean() + np.array([-GL / (HL + 1), -GR / (HR + 1)]))


@pytest.mark.xfail(strict=True, reason="known gap: the 'missing vs all present' split is not a candidate yet (issue 6)")
def test_hist_gradient_boosting_missing_values_and_early_stopping():
    X, y = make_classification(3000, 6, random_state=0)
    X[y == 1, 0] = np.where(np.random.default_rng(0).random((y == 1).sum()) < 0.3, np.nan, X[y == 1, 0])
    Xa, Xb, ya, yb = _split(X, y)
    ours = gu.HistGradientBoostingClassifier(max_iter=200, early_stopping=True, random_state=0).fit(Xa, ya)
    theirs = sk.HistGradientBoostingClassifier(max_iter=200, early_stopping=True, random_state=0).fit(Xa, ya)
    assert ours.n_iter_ < 200
    assert ours.score(Xb, yb) >= theirs.score(Xb, yb) - 0.015


@pytest.mark.parametrize("make", [
    lambda: gu.RandomForestClassifier(5, random_state=0), lambda: gu.RandomForestRegressor(5, random_state=0),
    lambda: gu.ExtraTreesClassifier(5, random_state=0), lambda: gu.GradientBoostingClassifier(n_estimators=5),
    lambda: gu.GradientBoostingRegressor(n_estimators=5), lambda: gu.HistGradientBoostingClassifier(max_iter=5),
    lambda: gu.HistGradientBoostingRegressor(max_iter=5), lambda: gu.AdaBoostClassifier(n_estimators=5),
    lambda: gu.AdaBoostRegressor(n_estimators=5, random_state=0), lambda: gu.BaggingClassifier(n_estimators=3, random_state=0),
])
def test_check_estimator(make):
    check_estimator(make())


def test_bad_input():
    X, y = make_classification(60, 4, random_state=0)
    with pytest.raises(ValueError, match="max_features.*help"):
        gu.RandomForestClassifier(3, max_features=9).fit(X, y)
    with pytest.raises(ValueError, match="oob_score.*help"):
        gu.RandomForestClassifier(3, bootstrap=False, oob_score=True).fit(X, y)
    with pytest.raises(ValueError, match="loss.*help"):
        gu.GradientBoostingRegressor(loss="nope").fit(X, y.astype(float))
    with pytest.raises(ValueError, match="NaN"):
        gu.ExtraTreesClassifier(3).fit(np.where(X > 1, np.nan, X), y)
