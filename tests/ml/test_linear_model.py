"""Linear models against scikit-learn on the same data, plus the common estimator checks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import linear_model as sk
from sklearn.datasets import load_breast_cancer, load_iris

from groundup.errors import ConvergenceWarning, NotFittedError
from groundup.ml.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Perceptron,
    Ridge,
    minimize_lbfgs,
)
from groundup.ml.testing import check_estimator


def regression(n=120, d=6, seed=0, offset=3.0, n_targets=None):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) + offset
    w = rng.normal(size=(d,) if n_targets is None else (d, n_targets))
    w[:2] = 0.0
    y = X @ w + 0.3 * rng.normal(size=(n,) if n_targets is None else (n, n_targets)) + 1.5
    return X, y


def standardized(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return standardized(X), y


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return standardized(X), y


# ---- least squares -----------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["normal", "lstsq"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_targets", [None, 3])
def test_linear_regression_closed_form_matches_sklearn(solver, fit_intercept, n_targets):
    X, y = regression(n_targets=n_targets)
    ours = LinearRegression(solver=solver, fit_intercept=fit_intercept).fit(X, y)
    ref = sk.LinearRegression(fit_intercept=fit_intercept).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-8)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-8)
    assert ours.score(X, y) == pytest.approx(ref.score(X, y), abs=1e-12)


def test_normal_equation_falls_back_to_minimum_norm_on_singular_gram():
    X, y = regression()
    X = np.hstack([X, X[:, :1]])  # a duplicated column makes XᵀX singular
    ours = LinearRegression(solver="normal").fit(X, y)
    ref = sk.LinearRegression().fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-8)


def test_batch_gradient_descent_converges_to_normal_equation():
    X, y = regression()
    X = standardized(X)
    gd = LinearRegression(solver="gd", learning_rate=0.1, max_iter=5000, tol=1e-14).fit(X, y)
    exact = sk.LinearRegression().fit(X, y)
    np.testing.assert_allclose(gd.coef_, exact.coef_, atol=1e-6)
    assert gd.intercept_ == pytest.approx(exact.intercept_, abs=1e-6)
    assert gd.n_iter_ == len(gd.loss_history_) < 5000
    assert np.all(np.diff(gd.loss_history_) <= 0)  # a small enough step never raises the MSE


def test_minibatch_with_full_batch_equals_gd():
    X, y = regression()
    X = standardized(X)
    a = LinearRegression(solver="gd", learning_rate=0.05, max_iter=50, tol=0).fit
    b = LinearRegression(solver="minibatch", batch_size=len(X), learning_rate=0.05, max_iter=50, tol=0).fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        np.testing.assert_allclose(a(X, y).coef_, b(X, y).coef_, atol=1e-12)


@pytest.mark.parametrize(("solver", "rate"), [("sgd", 0.002), ("minibatch", 0.02)])
def test_stochastic_solvers_reach_the_least_squares_fit(solver, rate):
    X, y = regression(n=400)
    X = standardized(X)
    model = LinearRegression(solver=solver, learning_rate=rate, max_iter=60, tol=1e-7, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    exact = sk.LinearRegression().fit(X, y)
    # Constant-step SGD hovers around the optimum; its fit is within 1% of the best R².
    assert model.score(X, y) == pytest.approx(exact.score(X, y), abs=0.01)
    np.testing.assert_allclose(model.coef_, exact.coef_, atol=0.1)
    best_mse = np.mean((exact.predict(X) - y) ** 2)
    assert best_mse <= model.loss_history_[-1] <= 1.05 * best_mse
    # Same seed, same shuffles, same result.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        again = LinearRegression(solver=solver, learning_rate=rate, max_iter=60, tol=1e-7, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.coef_, again.coef_)


def test_gradient_descent_divergence_and_non_convergence_are_reported():
    X, y = regression()
    with pytest.raises(FloatingPointError, match=r"diverged.*help: lower learning_rate"):
        LinearRegression(solver="gd", learning_rate=10.0, max_iter=500).fit(X, y)
    with pytest.warns(ConvergenceWarning, match=r"max_iter=3.*help: raise max_iter"):
        LinearRegression(solver="gd", learning_rate=1e-4, max_iter=3).fit(X, y)
    with pytest.raises(ValueError, match=r"solver='newton' is not supported"):
        LinearRegression(solver="newton").fit(X, y)


def test_regressors_reject_string_targets_and_predict_checks_features():
    X, y = regression()
    with pytest.raises(TypeError, match=r"y has non-numeric labels"):
        LinearRegression().fit(X[:3], ["a", "b", "c"])
    model = LinearRegression().fit(X, y)
    with pytest.raises(ValueError, match=r"X has 5 feature\(s\).*fitted with 6"):
        model.predict(X[:, :5])
    with pytest.raises(NotFittedError):
        Ridge().predict(X)


# ---- ridge -------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.0, 0.1, 10.0])
@pytest.mark.parametrize("solver", ["auto", "cholesky", "svd"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_matches_sklearn(alpha, solver, fit_intercept):
    X, y = regression()
    ours = Ridge(alpha, solver=solver, fit_intercept=fit_intercept).fit(X, y)
    ref = sk.Ridge(alpha, fit_intercept=fit_intercept).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)


def test_ridge_multi_output_and_large_feature_means():
    X, y = regression(n_targets=2)
    np.testing.assert_allclose(Ridge(2.0).fit(X, y).coef_, sk.Ridge(2.0).fit(X, y).coef_, atol=1e-6)
    # Features far from zero: the Gram shortcut would cancel digits, so X is centered explicitly.
    X, y = regression(offset=1e5)
    ours, ref = Ridge(1.0).fit(X, y), sk.Ridge(1.0).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-6)


def test_ridge_penalize_intercept_equals_ridge_on_a_ones_column():
    X, y = regression()
    ours = Ridge(3.0, penalize_intercept=True).fit(X, y)
    A = np.hstack([np.ones((len(X), 1)), X])
    ref = sk.Ridge(3.0, fit_intercept=False).fit(A, y)
    assert ours.intercept_ == pytest.approx(ref.coef_[0], abs=1e-8)
    np.testing.assert_allclose(ours.coef_, ref.coef_[1:], atol=1e-8)


def test_ridge_rejects_negative_alpha():
    with pytest.raises(ValueError, match=r"alpha=-1.*non-negative"):
        Ridge(-1).fit(*regression())


# ---- lasso and elastic net ---------------------------------------------------------------------


@pytest.mark.parametrize("precompute", ["auto", False])
@pytest.mark.parametrize(("alpha", "l1_ratio"), [(0.05, 1.0), (0.3, 1.0), (0.1, 0.5), (0.2, 0.2)])
def test_enet_matches_sklearn_default_tolerance(precompute, alpha, l1_ratio):
    X, y = regression()
    ours = ElasticNet(alpha, l1_ratio=l1_ratio, precompute=precompute).fit(X, y)
    ref = sk.ElasticNet(alpha, l1_ratio=l1_ratio).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-6)
    np.testing.assert_array_equal(ours.coef_ == 0, ref.coef_ == 0)
    assert ours.n_iter_ == ref.n_iter_


@pytest.mark.parametrize("precompute", ["auto", True, False, 5])
def test_lasso_residual_then_gram_sweeps_match_sklearn(precompute):
    # precompute=5 runs 5 residual sweeps, then continues on the Gram matrix.
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 40)) + 1.0
    X[:, 1] = X[:, 0] + 0.1 * rng.normal(size=300)  # correlated columns need many sweeps
    y = X[:, :10] @ rng.normal(size=10) + 0.1 * rng.normal(size=300)
    ours = Lasso(0.001, precompute=precompute, max_iter=5000).fit(X, y)
    ref = sk.Lasso(0.001, max_iter=5000).fit(X, y)
    assert ours.n_iter_ == ref.n_iter_ > 5
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-6)


def test_lasso_matches_sklearn_at_tight_tolerance_wide_data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 80))  # more features than samples: residual updates, no Gram
    y = X[:, :5] @ np.array([2.0, -1, 1, 3, -2]) + 0.1 * rng.normal(size=30)
    ours = Lasso(0.05, tol=1e-12, max_iter=100_000).fit(X, y)
    ref = sk.Lasso(0.05, tol=1e-12, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    assert np.sum(ours.coef_ != 0) == np.sum(ref.coef_ != 0) < 30


def test_lasso_options_positive_random_warm_start_multi_output():
    X, y = regression()
    np.testing.assert_allclose(
        Lasso(0.1, positive=True).fit(X, y).coef_, sk.Lasso(0.1, positive=True).fit(X, y).coef_, atol=1e-6
    )
    optimum = sk.Lasso(0.1, tol=1e-12, max_iter=10_000).fit(X, y).coef_
    random_order = Lasso(0.1, selection="random", random_state=0, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(random_order.coef_, optimum, atol=1e-6)
    warm = Lasso(0.1, warm_start=True, tol=1e-12, max_iter=10_000).fit(X, y)
    first_iters = warm.n_iter_
    warm.fit(X, y)
    assert warm.n_iter_ < first_iters  # started at the solution
    np.testing.assert_allclose(warm.coef_, optimum, atol=1e-6)
    Xm, Ym = regression(n_targets=2)
    np.testing.assert_allclose(Lasso(0.1).fit(Xm, Ym).coef_, sk.Lasso(0.1).fit(Xm, Ym).coef_, atol=1e-6)


def test_lasso_warns_when_not_converged_and_validates_params():
    X, y = regression()
    with pytest.warns(ConvergenceWarning, match=r"max_iter=1.*duality gap.*help: raise max_iter"):
        Lasso(0.001, max_iter=1, tol=1e-12).fit(X, y)
    with pytest.raises(ValueError, match=r"l1_ratio=2"):
        ElasticNet(l1_ratio=2).fit(X, y)
    assert "l1_ratio" not in Lasso().get_params()


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), alpha=st.floats(0.01, 1.0), l1_ratio=st.floats(0.1, 1.0))
def test_enet_matches_sklearn_property(seed, alpha, l1_ratio):
    X, y = regression(n=50, d=4, seed=seed)
    ours = ElasticNet(alpha, l1_ratio=l1_ratio, tol=1e-10, max_iter=10_000).fit(X, y)
    ref = sk.ElasticNet(alpha, l1_ratio=l1_ratio, tol=1e-10, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)


# ---- logistic regression -----------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["iris", "cancer"])
@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
@pytest.mark.parametrize("C", [0.1, 1.0])
def test_logistic_matches_sklearn(request, dataset, solver, C):
    X, y = request.getfixturevalue(dataset)
    ours = LogisticRegression(C=C, solver=solver, tol=1e-8, max_iter=1000).fit(X, y)
    ref = sk.LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X, y)
    assert ours.coef_.shape == ref.coef_.shape and ours.intercept_.shape == ref.intercept_.shape
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    assert np.mean(ours.predict(X) == ref.predict(X)) >= 0.99
    assert ours.score(X, y) == pytest.approx(ref.score(X, y), abs=0.005)


def test_logistic_decision_function_and_probabilities_are_consistent(iris, cancer):
    X, y = cancer
    binary = LogisticRegression().fit(X, y)
    z = binary.decision_function(X)
    assert z.shape == (len(X),)
    np.testing.assert_allclose(binary.predict_proba(X)[:, 1], 1 / (1 + np.exp(-z)), atol=1e-12)
    np.testing.assert_allclose(binary.predict_log_proba(X), np.log(binary.predict_proba(X)), atol=1e-10)
    X, y = iris
    multi = LogisticRegression().fit(X, y)
    Z = multi.decision_function(X)
    assert Z.shape == (len(X), 3)
    np.testing.assert_allclose(multi.predict_proba(X).sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(multi.predict(X), Z.argmax(axis=1))
    assert np.all(np.diff(multi.loss_history_) <= 1e-12)  # Wolfe steps always decrease f


def test_logistic_without_penalty_and_without_intercept(cancer):
    X, y = cancer
    X = X[:, :4]
    ours = LogisticRegression(None, tol=1e-8, max_iter=1000).fit(X, y)
    ref = sk.LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    ours = LogisticRegression(fit_intercept=False, tol=1e-8).fit(X, y)
    ref = sk.LogisticRegression(fit_intercept=False, tol=1e-10, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    assert np.all(ours.intercept_ == 0)


@pytest.mark.parametrize("dataset", ["iris", "cancer"])
def test_logistic_l1_by_proximal_gradient_matches_saga(request, dataset):
    X, y = request.getfixturevalue(dataset)
    X = X[:, :10]  # keeps saga, the oracle, quick
    ours = LogisticRegression("l1", C=0.5, solver="gd", tol=1e-9, max_iter=5000).fit(X, y)
    ref = sk.LogisticRegression(C=0.5, l1_ratio=1.0, solver="saga", tol=1e-10, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_ - ref.intercept_.mean() * (len(ref.intercept_) > 1), atol=1e-5)
    np.testing.assert_array_equal(ours.coef_ == 0, np.abs(ref.coef_) < 1e-8)
    assert 0 < np.sum(ours.coef_ == 0) < ours.coef_.size  # sparse, not empty


def test_logistic_gd_l2_agrees_with_lbfgs(iris):
    X, y = iris
    gd = LogisticRegression(solver="gd", tol=1e-7, max_iter=5000).fit(X, y)
    ref = sk.LogisticRegression(tol=1e-10, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(gd.predict_proba(X), ref.predict_proba(X), atol=1e-5)


def test_logistic_string_labels_and_bad_input(cancer):
    X, y = cancer
    labels = np.array(["benign", "malignant"])[y]
    model = LogisticRegression().fit(X, labels)
    np.testing.assert_array_equal(model.classes_, ["benign", "malignant"])
    assert set(model.predict(X)) <= {"benign", "malignant"}
    with pytest.raises(ValueError, match=r"single class"):
        LogisticRegression().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match=r"y looks continuous"):
        LogisticRegression().fit(X, np.linspace(0, 1, len(X)))
    with pytest.raises(ValueError, match=r"penalty='l1'.*help: use solver='gd'"):
        LogisticRegression("l1").fit(X, y)
    with pytest.raises(ValueError, match=r"C=0 must be a positive"):
        LogisticRegression(C=0).fit(X, y)
    with pytest.warns(ConvergenceWarning, match=r"max_iter=2"):
        LogisticRegression(max_iter=2).fit(X, y)


def test_logistic_probabilities_stay_finite_for_huge_scores(cancer):
    X, y = cancer
    model = LogisticRegression().fit(X, y)
    P = model.predict_proba(1e4 * X[:5])
    assert np.all(np.isfinite(P)) and np.allclose(P.sum(axis=1), 1)
    assert np.all(np.isfinite(model.predict_log_proba(1e4 * X[:5])))


def test_minimize_lbfgs_on_rosenbrock_and_quadratic():
    def rosen(x):
        f = np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
        g = np.zeros_like(x)
        g[1:] += 200 * (x[1:] - x[:-1] ** 2)
        g[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
        return f, g

    result = minimize_lbfgs(rosen, -np.ones(6), max_iter=500, gtol=1e-9, ftol=0)
    np.testing.assert_allclose(result.x, np.ones(6), atol=1e-6)
    assert result.converged
    rng = np.random.default_rng(0)
    M = rng.normal(size=(8, 8))
    A = M @ M.T + np.eye(8)
    b = rng.normal(size=8)
    quad = minimize_lbfgs(lambda x: (0.5 * x @ A @ x - b @ x, A @ x - b), np.zeros(8), max_iter=200, gtol=1e-10, ftol=0)
    np.testing.assert_allclose(quad.x, np.linalg.solve(A, b), atol=1e-8)


# ---- perceptron --------------------------------------------------------------------------------


def test_perceptron_separates_separable_data_like_sklearn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2))
    y = (X @ np.array([1.0, -2.0]) + 0.3 > 0).astype(int)
    X = X[np.abs(X @ np.array([1.0, -2.0]) + 0.3) > 0.2]  # keep a margin
    y = (X @ np.array([1.0, -2.0]) + 0.3 > 0).astype(int)
    ours = Perceptron().fit(X, y)
    ref = sk.Perceptron(tol=None, max_iter=1000, shuffle=False).fit(X, y)
    assert ours.score(X, y) == ref.score(X, y) == 1.0
    assert ours.errors_[-1] == 0 and ours.n_iter_ == len(ours.errors_) < 1000
    assert np.all(y[ours.decision_function(X) > 0] == 1)


def test_perceptron_one_vs_rest_on_blobs(iris):
    X, y = iris
    X, y = X[y != 2], y[y != 2]  # setosa vs versicolor is separable
    assert Perceptron().fit(X, y).score(X, y) == 1.0
    X3 = np.vstack([np.random.default_rng(1).normal(c, 0.3, size=(20, 2)) for c in ([0, 5], [5, 0], [-5, -5])])
    y3 = np.repeat([0, 1, 2], 20)
    model = Perceptron().fit(X3, y3)
    assert model.coef_.shape == (3, 2)
    assert model.score(X3, y3) == sk.Perceptron(shuffle=False).fit(X3, y3).score(X3, y3) == 1.0


def test_perceptron_warns_on_xor():
    X = np.array([[0.0, 0], [0, 1], [1, 0], [1, 1]])
    with pytest.warns(ConvergenceWarning, match=r"not be linearly separable"):
        model = Perceptron(max_iter=50).fit(X, [0, 1, 1, 0])
    assert model.n_iter_ == 50 and model.score(X, [0, 1, 1, 0]) <= 0.75


# ---- contract ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "estimator",
    [
        LinearRegression(),
        LinearRegression(solver="lstsq"),
        LinearRegression(solver="gd", learning_rate=0.05),
        LinearRegression(solver="minibatch", random_state=0),
        Ridge(),
        Ridge(solver="svd", penalize_intercept=True),
        Lasso(0.01),
        ElasticNet(0.01),
        LogisticRegression(),
        LogisticRegression(solver="newton"),
        LogisticRegression("l1", solver="gd"),
        Perceptron(),
    ],
    ids=repr,
)
def test_check_estimator_passes(estimator):
    report = check_estimator(estimator)
    assert set(report.values()) == {"passed"}
