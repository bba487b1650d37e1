"""The course's worked examples on linear models, logistic regression and ridge, via the public API."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from groundup.errors import ConvergenceWarning
from groundup.math import derivative
from groundup.metrics import log_loss, mean_squared_error
from groundup.ml.linear_model import (
    LinearRegression,
    LogisticRegression,
    Perceptron,
    Ridge,
    logistic_loss_grad,
    normal_equation,
    sigmoid,
    softmax,
)


def close(actual, expected, tol):
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float), rtol=0, atol=tol)


def test_house_price_linear(seed_example):
    ex = seed_example("house-price-linear")
    w, b = np.array(ex["inputs"]["w"]), ex["inputs"]["b"]
    # Fit the model to noise-free houses priced by the example's formula, then price the new house.
    rng = np.random.default_rng(0)
    houses = np.column_stack([rng.uniform(500, 3000, 20), rng.integers(1, 6, 20)])
    model = LinearRegression().fit(houses, houses @ w + b)
    close(model.predict([ex["inputs"]["x"]])[0], ex["expected"]["price"], ex["tolerance"] * 1e6)
    close(model.coef_, w, 1e-6)


def test_normal_equation_5_points(seed_example):
    ex = seed_example("normal-equation-5-points")
    x, y, tol = np.array(ex["inputs"]["x"]), np.array(ex["inputs"]["y"]), ex["tolerance"]
    pieces = normal_equation(np.column_stack([np.ones_like(x), x]), y)
    close(pieces.XtX, ex["expected"]["XtX"], tol)
    close(pieces.Xty, ex["expected"]["Xty"], tol)
    close(pieces.w, ex["expected"]["w"], tol)
    for solver in ("normal", "lstsq"):
        model = LinearRegression(solver=solver).fit(x[:, None], y)
        close([model.intercept_, model.coef_[0]], ex["expected"]["w"], tol)


def test_normal_equation_3_points(seed_example):
    ex = seed_example("normal-equation-3-points")
    X, y, tol = np.array(ex["inputs"]["X"]), np.array(ex["inputs"]["y"]), ex["tolerance"]
    pieces = normal_equation(X, y)
    close(pieces.XtX, ex["expected"]["XtX"], tol)
    close(pieces.Xty, ex["expected"]["Xty"], tol)
    close(pieces.det, ex["expected"]["det"], tol)
    close(pieces.w, ex["expected"]["w"], tol)
    # X carries its own bias column, so no separate intercept.
    close(LinearRegression(fit_intercept=False).fit(X, y).coef_, ex["expected"]["w"], tol)


def test_ridge_lambda2_3_points_course_convention(seed_example):
    ex = seed_example("ridge-lambda2-3-points")
    X, y, lam, tol = np.array(ex["inputs"]["X"]), np.array(ex["inputs"]["y"]), ex["inputs"]["lam"], ex["tolerance"]
    pieces = normal_equation(X, y, alpha=lam)
    close(pieces.A, ex["expected"]["A"], tol)
    close(pieces.det, ex["expected"]["det"], tol)
    close(pieces.w, ex["expected"]["w"], tol)
    course = Ridge(alpha=lam, penalize_intercept=True).fit(X[:, 1:], y)
    close([course.intercept_, course.coef_[0]], ex["expected"]["w"], tol)
    close(Ridge(alpha=lam, fit_intercept=False).fit(X, y).coef_, ex["expected"]["w"], tol)
    # scikit-learn's convention (intercept not penalised) gives a different line, as the spec notes.
    library = Ridge(alpha=lam).fit(X[:, 1:], y)
    assert abs(library.coef_[0] - ex["expected"]["w"][1]) > 0.1


def test_normal_equation_singular_when_d_greater_than_m(seed_example):
    ex = seed_example("normal-equation-singular-d-gt-m")
    m, d, lam = ex["inputs"]["m"], ex["inputs"]["d"], ex["inputs"]["lam"]
    X = np.random.default_rng(ex["inputs"]["seed"]).standard_normal((m, d))
    y = X[:, 0]
    plain = normal_equation(X, y)
    assert plain.rank == ex["expected"]["rank_XtX"]
    assert (plain.w is None) == ex["expected"]["XtX_singular"]
    ridge = normal_equation(X, y, alpha=lam)
    assert ridge.rank == ex["expected"]["rank_ridge_matrix"]
    assert (np.linalg.eigvalsh(ridge.A).min() >= lam - 1e-9) == ex["expected"]["min_eig_ridge_at_least_lam"]
    # The estimators still fit: the normal solver falls back to the minimum-norm least squares.
    assert LinearRegression().fit(X, y).score(X, y) == pytest.approx(1.0)
    assert np.all(np.isfinite(Ridge(lam, fit_intercept=False).fit(X, y).coef_))


def test_sse_linear_fit_section_4_2(seed_example):
    ex = seed_example("sse-linear-fit-section-4-2")
    x, y, tol = np.array(ex["inputs"]["x"]), np.array(ex["inputs"]["y"]), ex["tolerance"]
    w, b = ex["inputs"]["w"], ex["inputs"]["b"]
    guess = LinearRegression().fit(x[:, None], w * x + b)  # a model that is exactly y = 1.5x + 1
    predictions = guess.predict(x[:, None])
    close(predictions, ex["expected"]["predictions"], tol)
    close((y - predictions) ** 2, ex["expected"]["squared_errors"], tol)
    close(len(x) * mean_squared_error(y, predictions), ex["expected"]["total_loss"], tol)
    best = LinearRegression().fit(x[:, None], y)
    close([best.coef_[0], best.intercept_], [ex["expected"]["w_opt"], ex["expected"]["b_opt"]], tol)
    close(len(x) * mean_squared_error(y, best.predict(x[:, None])), ex["expected"]["loss_at_opt"], tol)
    gd = LinearRegression(solver="gd", learning_rate=0.05, max_iter=20_000, tol=0.0)  # run every epoch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gd.fit(x[:, None], y)
    close([gd.coef_[0], gd.intercept_], [ex["expected"]["w_opt"], ex["expected"]["b_opt"]], 1e-9)


def test_sigmoid_properties(seed_example):
    ex = seed_example("sigmoid-properties")
    e, tol = ex["expected"], ex["tolerance"]
    close(sigmoid(0.0), e["sigma_0"], tol)
    close(derivative(sigmoid, 0.0), e["dsigma_0"], tol)
    close(sigmoid(2.0), e["sigma_2"], tol)
    close(sigmoid(-2.0), e["sigma_minus_2"], tol)
    grid = np.linspace(-8, 8, 1601)
    close(np.max(sigmoid(grid) * (1 - sigmoid(grid))), e["max_derivative"], tol)
    close(sigmoid(-grid), 1 - sigmoid(grid), 1e-15)


def test_logistic_gradient_example_6_1(seed_example):
    ex = seed_example("logistic-gradient-example-6-1")
    i, e, tol = ex["inputs"], ex["expected"], ex["tolerance"]
    x, w = np.array(i["x"]), np.array(i["w"])
    close(x @ w + i["b"], e["z"], tol)
    close(sigmoid(x @ w + i["b"]), e["p_hat"], tol)
    _, grad_w, _ = logistic_loss_grad(w[None, :], [i["b"]], x[None, :], [int(i["y"])])
    close(grad_w[0], e["grad_w"], tol)


def test_logistic_predict_q6_7(seed_example):
    ex = seed_example("logistic-predict-q6-7")
    w, x, e, tol = np.array(ex["inputs"]["w"]), np.array(ex["inputs"]["x"]), ex["expected"], ex["tolerance"]
    z = w @ x  # x0 = 1 carries the bias w0
    close(z, e["z"], tol)
    close(sigmoid(z), e["p_hat"], tol)
    assert int(sigmoid(z) >= 0.5) == e["predicted_class"]
    loss, _, _ = logistic_loss_grad(w[None, 1:], [w[0]], x[None, 1:], [1])
    close(loss, e["ce_if_y1"], tol)


def test_softmax_ce_q6_8(seed_example):
    ex = seed_example("softmax-ce-q6-8")
    z, k, e, tol = np.array(ex["inputs"]["z"]), ex["inputs"]["true_class"], ex["expected"], ex["tolerance"]
    probs = softmax(z)
    close(probs, e["probs"], tol)
    close(log_loss([k], probs[None, :], labels=[0, 1, 2]), e["ce"], tol)
    # The logits as intercepts of a softmax model with no features: ∂CE/∂z = p − y.
    loss, _, grad_logits = logistic_loss_grad(np.zeros((3, 1)), z, [[0.0]], [k])
    close(loss, e["ce"], tol)
    close(grad_logits, e["grad_logits"], tol)
    close(grad_logits, e["p_minus_y"], tol)


def test_logistic_decision_boundary_q6_9(seed_example):
    ex = seed_example("logistic-decision-boundary-q6-9")
    w, points, e, tol = np.array(ex["inputs"]["w"]), np.array(ex["inputs"]["points"]), ex["expected"], ex["tolerance"]
    # Boundary w0 + w1 x1 + w2 x2 = 0  ⇔  x2 = −(w1/w2) x1 − w0/w2.
    close(-w[1] / w[2], e["boundary_slope"], tol)
    close(-w[0] / w[2], e["boundary_intercept"], tol)
    probs = sigmoid(points @ w[1:] + w[0])
    close(probs, e["probs"], tol)
    np.testing.assert_array_equal((probs >= 0.5).astype(int), e["classes"])


def test_xor_not_linearly_separable(seed_example):
    ex = seed_example("xor-not-linearly-separable")
    X, y = np.array(ex["inputs"]["X"], dtype=float), np.array(ex["inputs"]["y"])
    with pytest.warns(ConvergenceWarning, match="linearly separable"):
        Perceptron(max_iter=100).fit(X, y)
    # Any three of the four points are separable: a linear model then gets 3 of 4 right ...
    achieved = []
    for drop in range(4):
        keep = np.arange(4) != drop
        model = LogisticRegression(C=1e4, max_iter=1000).fit(X[keep], y[keep])
        assert model.score(X[keep], y[keep]) == 1.0
        achieved.append(model.score(X, y))
    # ... and no line does better: every direction and offset on a fine grid gets at most 3 right.
    angles = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    directions = np.column_stack([np.cos(angles), np.sin(angles)])
    scores = X @ directions.T  # (4, 720)
    offsets = np.linspace(-2, 2, 401)
    predictions = scores[:, :, None] > offsets  # (4, 720, 401)
    grid_best = np.max(np.mean(predictions == y[:, None, None], axis=0))
    assert max(achieved) == grid_best == ex["expected"]["max_linear_accuracy"]
