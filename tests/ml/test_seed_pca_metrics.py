"""The course's worked PCA and error-metric examples (shared/spec/seed_examples.json, topic pca and
the regression losses of Q7.7) through groundup's public API."""

from __future__ import annotations

import numpy as np
import pytest

from groundup.metrics import mean_absolute_error, mean_squared_error
from groundup.ml.decomposition import PCA


def data_with_eigenvalues(eigenvalues):
    """Points ±a_i·e_i (2p points, mean 0, uncorrelated axes) whose sample covariance (1/(m-1)) has
    exactly the given eigenvalues: 2a_i² / (m - 1) = λ_i."""
    eigenvalues = np.asarray(eigenvalues, dtype=float)
    p = len(eigenvalues)
    m = 2 * p
    a = np.sqrt(eigenvalues * (m - 1) / 2)
    return np.vstack([np.diag(a), -np.diag(a)])


@pytest.mark.parametrize("example_id", ["pca-variance-example-12-1",
                                        "pca-components-90pct-q12-4"])
def test_variance_retained_and_components_needed(seed_example, example_id):
    ex = seed_example(example_id)
    tol = ex["tolerance"]
    X = data_with_eigenvalues(ex["inputs"]["eigenvalues"])
    full = PCA().fit(X)
    np.testing.assert_allclose(full.explained_variance_, ex["inputs"]["eigenvalues"], atol=1e-9)
    assert full.explained_variance_.sum() == pytest.approx(ex["expected"]["total"], abs=tol)
    cumulative = np.cumsum(full.explained_variance_ratio_)
    assert cumulative[1] == pytest.approx(ex["expected"]["ratio_k2"], abs=tol)
    assert cumulative[2] == pytest.approx(ex["expected"]["ratio_k3"], abs=tol)
    chosen = PCA(ex["inputs"]["threshold"]).fit(X)
    assert chosen.n_components_ == ex["expected"]["k_for_threshold"]


def test_inverse_square_spectrum(seed_example):
    ex = seed_example("pca-inverse-square-spectrum-q12-8")
    tol = ex["tolerance"]
    k = np.arange(1, ex["inputs"]["n_components"] + 1)
    X = data_with_eigenvalues(1.0 / k**2)
    full = PCA().fit(X)
    cumulative_variance = np.cumsum(full.explained_variance_)
    cumulative_ratio = np.cumsum(full.explained_variance_ratio_)
    assert cumulative_variance[-1] == pytest.approx(ex["expected"]["total"], abs=tol)
    report = np.array(ex["inputs"]["report_k"]) - 1
    np.testing.assert_allclose(cumulative_variance[report], ex["expected"]["partial_sums"], atol=tol)
    np.testing.assert_allclose(cumulative_ratio[report], ex["expected"]["ratios"], atol=tol)
    assert PCA(ex["inputs"]["threshold"]).fit(X).n_components_ == ex["expected"]["k_for_threshold"]


def test_two_d_exercise_with_corrected_arithmetic(seed_example):
    # The primer's scatter matrix for this exercise is wrong; the spec carries the correct values.
    ex = seed_example("pca-2d-q12-7")
    tol = ex["tolerance"]
    X = np.array(ex["inputs"]["X"])
    m = len(X)
    library = PCA(2).fit(X)  # 1/(m-1), scikit-learn's convention
    course = PCA(2, ddof=0).fit(X)  # 1/m, the exercise's convention
    np.testing.assert_allclose(course.mean_, ex["expected"]["mean"], atol=tol)
    np.testing.assert_allclose(course.get_covariance(), ex["expected"]["cov_1_over_m"], atol=tol)
    np.testing.assert_allclose(course.get_covariance() * m, ex["expected"]["scatter_XtX"], atol=tol)
    np.testing.assert_allclose(course.explained_variance_, ex["expected"]["eigenvalues_1_over_m"],
                               atol=tol)
    np.testing.assert_allclose(library.explained_variance_,
                               ex["expected"]["eigenvalues_1_over_m_minus_1"], atol=tol)
    assert library.explained_variance_ratio_[0] == pytest.approx(
        ex["expected"]["explained_ratio_pc1"], abs=tol)
    np.testing.assert_allclose(library.components_[0], ex["expected"]["pc1"], atol=tol)


def test_regression_losses(seed_example):
    ex = seed_example("regression-losses-q7-7")
    y_true, y_pred = ex["inputs"]["y"], ex["inputs"]["y_hat"]
    assert mean_squared_error(y_true, y_pred) == pytest.approx(ex["expected"]["mse"],
                                                               abs=ex["tolerance"])
    assert mean_absolute_error(y_true, y_pred) == pytest.approx(ex["expected"]["mae"],
                                                                abs=ex["tolerance"])
