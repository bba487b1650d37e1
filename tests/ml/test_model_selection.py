"""Splitting, cross-validation, curves, grid search, bias–variance and pipelines, against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import linear_model as sk
from sklearn import model_selection as skms
from sklearn import pipeline as skpipe
from sklearn import preprocessing as skp
from sklearn.datasets import load_iris

from groundup.errors import NotFittedError, ShapeError
from groundup.ml.base import clone
from groundup.ml.linear_model import LinearRegression, LogisticRegression, Ridge
from groundup.ml.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedKFold,
    bias_variance_decomposition,
    cross_val_score,
    cross_validate,
    learning_curve,
    train_test_split,
    validation_curve,
)
from groundup.ml.pipeline import Pipeline, make_pipeline
from groundup.ml.preprocessing import PolynomialFeatures, StandardScaler
from groundup.ml.testing import check_estimator


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), y  # standardised: every solver converges quickly


def regression(n=90, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, X @ rng.normal(size=d) + 0.5 * rng.normal(size=n)


# ---- splitting ---------------------------------------------------------------------------------


def test_train_test_split_sizes_match_sklearn_and_partition():
    X = np.arange(40).reshape(20, 2)
    y = np.arange(20)
    for kwargs in ({}, {"test_size": 0.3}, {"test_size": 7}, {"train_size": 0.5}, {"train_size": 11, "test_size": 4}):
        ours = train_test_split(X, y, random_state=0, **kwargs)
        ref = skms.train_test_split(X, y, random_state=0, **kwargs)
        assert [a.shape for a in ours] == [a.shape for a in ref]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=1)
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(20))
    np.testing.assert_array_equal(X_tr[:, 0] // 2, y_tr)  # rows stay aligned across arrays
    same = train_test_split(X, y, test_size=0.25, random_state=1)
    np.testing.assert_array_equal(same[0], X_tr)
    head = train_test_split(y, shuffle=False, test_size=5)
    np.testing.assert_array_equal(head[1], skms.train_test_split(y, shuffle=False, test_size=5)[1])


def test_train_test_split_stratify_keeps_proportions_like_sklearn():
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    X = np.arange(100)[:, None]
    _, _, y_tr, y_te = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    _, _, r_tr, r_te = skms.train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    np.testing.assert_array_equal(np.bincount(y_te), np.bincount(r_te))
    np.testing.assert_array_equal(np.bincount(y_tr), np.bincount(r_tr))
    with pytest.raises(ValueError, match=r"class 1 has only 1 member"):
        train_test_split(X[:5], stratify=[0, 0, 0, 0, 1], test_size=2)


def test_train_test_split_bad_input():
    with pytest.raises(ShapeError, match=r"array 1 has 3 samples but array 0 has 4"):
        train_test_split(np.zeros((4, 1)), np.zeros(3))
    with pytest.raises(ValueError, match=r"test_size=1.5"):
        train_test_split(np.zeros((4, 1)), test_size=1.5)


@pytest.mark.parametrize("n", [10, 11, 17])
@pytest.mark.parametrize("k", [2, 3, 5])
def test_kfold_matches_sklearn(n, k):
    X = np.zeros((n, 1))
    for (a_tr, a_te), (b_tr, b_te) in zip(KFold(k).split(X), skms.KFold(k).split(X), strict=True):
        np.testing.assert_array_equal(a_tr, b_tr)
        np.testing.assert_array_equal(a_te, b_te)
    tests = np.concatenate([te for _, te in KFold(k, shuffle=True, random_state=0).split(X)])
    assert sorted(tests.tolist()) == list(range(n))


@pytest.mark.parametrize("k", [2, 3, 5])
def test_stratified_kfold_matches_sklearn(iris, k):
    rng = np.random.default_rng(0)
    y = rng.permutation(np.array(["a"] * 17 + ["b"] * 9 + ["c"] * 6))
    X = np.zeros((len(y), 1))
    for (a_tr, a_te), (b_tr, b_te) in zip(StratifiedKFold(k).split(X, y), skms.StratifiedKFold(k).split(X, y), strict=True):
        np.testing.assert_array_equal(a_tr, b_tr)
        np.testing.assert_array_equal(a_te, b_te)
    for _, test in StratifiedKFold(k, shuffle=True, random_state=3).split(X, y):
        counts = np.array([np.sum(y[test] == c) for c in "abc"])
        assert np.all(np.abs(counts - np.array([17, 9, 6]) / k) < 1)
    with pytest.raises(ValueError, match=r"n_splits=20 is greater than the largest class count 17"):
        list(StratifiedKFold(20).split(X, y))


# ---- cross-validation --------------------------------------------------------------------------


def test_cross_val_score_matches_sklearn(iris):
    X, y = iris
    ours = cross_val_score(LogisticRegression(tol=1e-8), X, y, cv=3)
    ref = skms.cross_val_score(sk.LogisticRegression(tol=1e-10), X, y, cv=3)
    np.testing.assert_allclose(ours, ref, atol=1e-12)  # same folds, same predictions
    Xr, yr = regression()
    for scoring in (None, "r2", "neg_mean_squared_error", "neg_mean_absolute_error"):
        np.testing.assert_allclose(
            cross_val_score(Ridge(1.0), Xr, yr, cv=4, scoring=scoring),
            skms.cross_val_score(sk.Ridge(1.0), Xr, yr, cv=4, scoring=scoring),
            rtol=1e-9,
        )


def test_cross_validate_returns_train_scores_and_estimators(iris):
    X, y = iris
    result = cross_validate(LogisticRegression(tol=1e-8), X, y, cv=3, scoring="accuracy",
                            return_train_score=True, return_estimator=True)
    ref = skms.cross_validate(sk.LogisticRegression(tol=1e-10), X, y, cv=3, scoring="accuracy", return_train_score=True)
    np.testing.assert_allclose(result["test_score"], ref["test_score"], atol=1e-12)
    np.testing.assert_allclose(result["train_score"], ref["train_score"], atol=1e-12)
    assert len(result["estimator"]) == 3 and all(hasattr(e, "coef_") for e in result["estimator"])
    assert result["fit_time"].shape == (3,)
    with pytest.raises(ValueError, match=r"scoring='nope' is not a known scorer"):
        cross_val_score(Ridge(), X, y, scoring="nope")


def test_learning_and_validation_curves_match_sklearn():
    X, y = regression(n=80)
    sizes, tr, te = learning_curve(Ridge(0.5), X, y, train_sizes=[0.25, 0.5, 1.0], cv=4, scoring="r2")
    r_sizes, r_tr, r_te = skms.learning_curve(sk.Ridge(0.5), X, y, train_sizes=[0.25, 0.5, 1.0], cv=4, scoring="r2")
    np.testing.assert_array_equal(sizes, r_sizes)
    np.testing.assert_allclose(tr, r_tr, rtol=1e-9)
    np.testing.assert_allclose(te, r_te, rtol=1e-9)
    tr, te = validation_curve(Ridge(), X, y, param_name="alpha", param_range=[0.01, 1.0, 100.0], cv=3)
    r_tr, r_te = skms.validation_curve(sk.Ridge(), X, y, param_name="alpha", param_range=[0.01, 1.0, 100.0], cv=3)
    np.testing.assert_allclose(tr, r_tr, rtol=1e-9)
    np.testing.assert_allclose(te, r_te, rtol=1e-9)


def test_grid_search_matches_sklearn(iris):
    X, y = iris
    grid = {"C": [0.01, 0.1, 1.0]}
    ours = GridSearchCV(LogisticRegression(tol=1e-8), grid, cv=3).fit(X, y)
    ref = skms.GridSearchCV(sk.LogisticRegression(tol=1e-10), grid, cv=3).fit(X, y)
    assert ours.best_params_ == ref.best_params_
    assert ours.best_score_ == pytest.approx(ref.best_score_, abs=1e-12)
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], atol=1e-12)
    np.testing.assert_array_equal(ours.cv_results_["rank_test_score"], ref.cv_results_["rank_test_score"])
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert ours.score(X, y) == pytest.approx(ref.score(X, y))


def test_grid_search_over_a_pipeline():
    X, y = regression(n=60, d=1)
    y = y + X[:, 0] ** 2
    pipe = make_pipeline(PolynomialFeatures(include_bias=False), StandardScaler(), Ridge())
    grid = {"polynomialfeatures__degree": [1, 2, 3], "ridge__alpha": [0.1, 10.0]}
    ours = GridSearchCV(pipe, grid, cv=3, scoring="neg_mean_squared_error").fit(X, y)
    ref_pipe = skpipe.make_pipeline(skp.PolynomialFeatures(include_bias=False), skp.StandardScaler(), sk.Ridge())
    ref = skms.GridSearchCV(ref_pipe, grid, cv=3, scoring="neg_mean_squared_error").fit(X, y)
    assert ours.best_params_ == ref.best_params_
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], rtol=1e-9)


# ---- pipeline ----------------------------------------------------------------------------------


def test_pipeline_matches_sklearn_pipeline(iris):
    X, y = iris
    ours = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(C=0.5, tol=1e-8))]).fit(X, y)
    ref = skpipe.Pipeline([("scale", skp.StandardScaler()), ("clf", sk.LogisticRegression(C=0.5, tol=1e-10))]).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)
    assert ours.score(X, y) == pytest.approx(ref.score(X, y))
    assert ours.named_steps["scale"] is ours[0] is ours["scale"]
    assert len(ours[:1]) == 1 and not hasattr(ours[:1], "predict")
    np.testing.assert_allclose(ours[:1].transform(X), ref[:1].transform(X))


def test_pipeline_params_clone_and_not_fitted():
    pipe = make_pipeline(StandardScaler(), Ridge())
    assert [name for name, _ in pipe.steps] == ["standardscaler", "ridge"]
    assert pipe.get_params()["ridge__alpha"] == 1.0
    pipe.set_params(ridge__alpha=5.0, standardscaler="passthrough")
    assert pipe.named_steps["ridge"].alpha == 5.0 and pipe.steps[0][1] == "passthrough"
    copy = clone(pipe)
    assert copy.named_steps["ridge"] is not pipe.named_steps["ridge"] and copy.named_steps["ridge"].alpha == 5.0
    with pytest.raises(NotFittedError):
        copy.predict(np.zeros((2, 3)))
    X, y = regression()
    np.testing.assert_allclose(pipe.fit(X, y).predict(X), Ridge(5.0).fit(X, y).predict(X))
    assert [n for n, _ in make_pipeline(StandardScaler(), StandardScaler(), Ridge()).steps] == [
        "standardscaler-1", "standardscaler-2", "ridge"]
    with pytest.raises(TypeError, match=r"step 'ridge' \(Ridge\) is not a transformer"):
        Pipeline([("ridge", Ridge()), ("lr", LinearRegression())]).fit(X, y)


@pytest.mark.parametrize(
    "estimator",
    [make_pipeline(StandardScaler(), LogisticRegression()), make_pipeline(PolynomialFeatures(), StandardScaler()),
     GridSearchCV(Ridge(), {"alpha": [0.1, 1.0]}, cv=3)],
    ids=repr,
)
def test_check_estimator_passes(estimator):
    assert set(check_estimator(estimator).values()) == {"passed"}


# ---- bias–variance -----------------------------------------------------------------------------


def test_bias_variance_decomposition_on_known_function():
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(2000, 1))
    f = np.sin(X[:, 0])
    y = f + 0.3 * rng.normal(size=2000)
    simple = bias_variance_decomposition(LinearRegression(), X, y, 30, test_size=0.5, f_true=f, random_state=0)
    flexible = bias_variance_decomposition(
        make_pipeline(PolynomialFeatures(9), LinearRegression()), X, y, 30, test_size=0.5, f_true=f, random_state=0)
    # A line cannot follow sin(x): large bias; a degree-9 polynomial can: small bias, more variance.
    assert simple["bias_squared"] > 10 * flexible["bias_squared"]
    assert flexible["variance"] > simple["variance"]
    for result in (simple, flexible):
        total = result["bias_squared"] + result["variance"] + result["noise"]
        # The cross term 2(y − f)(f − mean prediction) vanishes only in expectation; over 1,000
        # test points its size is about 2·0.3·0.4/√1000 ≈ 0.008.
        assert result["expected_loss"] == pytest.approx(total, abs=0.02)
        assert result["noise"] == pytest.approx(0.09, rel=0.1)
    plain = bias_variance_decomposition(LinearRegression(), X, y, 40, random_state=0)
    assert plain["noise"] == 0.0
    # Without f, the bias is measured against y: bias² + variance equals the expected loss exactly.
    assert plain["expected_loss"] == pytest.approx(plain["bias_squared"] + plain["variance"], rel=1e-12)
    with pytest.raises(ValueError, match=r"n_rounds=1"):
        bias_variance_decomposition(LinearRegression(), X, y, 1)
