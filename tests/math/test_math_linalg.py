"""groundup.math.linalg against NumPy's own routines, scikit-learn and hand computations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge

import groundup.math as gm
from groundup.errors import ShapeError

FAST = settings(max_examples=30, deadline=None)


@FAST
@given(seed=st.integers(0, 10_000), n=st.integers(1, 8), p=st.sampled_from([1, 1.5, 2, 3, np.inf]))
def test_norm_matches_numpy(seed, n, p):
    x = np.random.default_rng(seed).normal(size=n) * 10
    assert gm.norm(x, p) == pytest.approx(np.linalg.norm(x, ord=p), rel=1e-12)


def test_norm_does_not_overflow_and_works_along_an_axis():
    assert gm.norm([3e200, 4e200]) == pytest.approx(5e200, rel=1e-14)
    assert gm.norm([3e-200, 4e-200]) == pytest.approx(5e-200, rel=1e-14)
    X = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(gm.norm(X, axis=1), [5.0, 0.0, np.sqrt(2)], rtol=1e-14)
    assert gm.norm(np.zeros(3)) == 0.0


@FAST
@given(seed=st.integers(0, 10_000), n=st.integers(2, 6))
def test_angles_and_projections(seed, n):
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=n), rng.normal(size=n)
    cos = u @ v / (np.linalg.norm(u) * np.linalg.norm(v))
    assert gm.cosine_similarity(u, v) == pytest.approx(cos, abs=1e-12)
    assert gm.angle_between(u, v) == pytest.approx(np.arccos(cos), abs=1e-9)
    proj = gm.project(v, onto=u)
    # The residual is orthogonal to u, and projecting twice changes nothing.
    assert (v - proj) @ u == pytest.approx(0, abs=1e-10)
    np.testing.assert_allclose(gm.project(proj, onto=u), proj, atol=1e-12)
    # Onto a column space: the residual is orthogonal to every column.
    A = rng.normal(size=(n, n - 1))
    residual = v - gm.project(v, A)
    np.testing.assert_allclose(A.T @ residual, 0, atol=1e-10)


def test_parallel_and_antiparallel_vectors():
    assert gm.cosine_similarity([1, 2], [2, 4]) == pytest.approx(1.0, abs=1e-15)
    assert gm.angle_between([1, 0], [-3, 0], degrees=True) == pytest.approx(180.0)
    np.testing.assert_allclose(gm.unit_vector([0, 0, 5]), [0, 0, 1])


def test_gram_condition_rank():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_allclose(gm.gram_matrix(X), X @ X.T)
    np.testing.assert_allclose(gm.gram_matrix(X, of="columns"), X.T @ X)
    assert gm.condition_number(X) == pytest.approx(np.linalg.cond(X), rel=1e-12)
    assert gm.condition_number([[1.0, 2.0], [2.0, 4.0]]) == np.inf
    assert gm.rank([[1, 2], [2, 4]]) == 1
    assert gm.rank(np.zeros((3, 2))) == 0
    rng = np.random.default_rng(0)
    low_rank = rng.normal(size=(6, 2)) @ rng.normal(size=(2, 5))
    assert gm.rank(low_rank) == np.linalg.matrix_rank(low_rank) == 2


@FAST
@given(seed=st.integers(0, 10_000), m=st.integers(4, 12), n=st.integers(1, 4),
       ridge=st.sampled_from([0.0, 0.1, 3.0]))
def test_least_squares_matches_lstsq_and_sklearn_ridge(seed, m, n, ridge):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(m, n)), rng.normal(size=m)
    expected = Ridge(alpha=ridge, fit_intercept=False, solver="svd").fit(X, y).coef_ if ridge \
        else np.linalg.lstsq(X, y, rcond=None)[0]
    for method in ("lstsq", "normal"):
        np.testing.assert_allclose(gm.solve_least_squares(X, y, method=method, ridge=ridge),
                                   expected, atol=1e-9)


def test_normal_equations_warn_on_collinear_columns_and_fall_back():
    X = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])  # second column = 2 × first
    y = np.array([1.0, 2.0, 3.0])
    with pytest.warns(RuntimeWarning, match="singular or ill-conditioned"):
        w = gm.solve_least_squares(X, y, method="normal")
    np.testing.assert_allclose(w, np.linalg.pinv(X) @ y, atol=1e-12)  # the minimum-norm solution
    np.testing.assert_allclose(X @ w, y, atol=1e-12)


def test_eig_sorts_and_satisfies_the_definition():
    rng = np.random.default_rng(1)
    for A in (rng.normal(size=(4, 4)), (lambda B: B + B.T)(rng.normal(size=(4, 4)))):
        values, vectors = gm.eig(A)
        np.testing.assert_allclose(A @ vectors, vectors * values, atol=1e-10)
        assert np.all(np.diff(values.real) <= 1e-12)
    rotation = [[0.0, -1.0], [1.0, 0.0]]
    np.testing.assert_allclose(sorted(gm.eigenvalues(rotation), key=lambda z: z.imag), [-1j, 1j])


def test_definiteness_cases():
    assert gm.definiteness(np.eye(2)) == "positive definite"
    assert gm.definiteness([[1.0, 1.0], [1.0, 1.0]]) == "positive semidefinite"
    assert gm.definiteness(-np.eye(3)) == "negative definite"
    assert gm.definiteness([[-1.0, 0.0], [0.0, 0.0]]) == "negative semidefinite"
    assert gm.definiteness(np.zeros((2, 2))) == "zero"
    assert gm.is_positive_semidefinite([[1.0, 1.0], [1.0, 1.0]])
    assert not gm.is_positive_definite([[1.0, 1.0], [1.0, 1.0]])
    # A skew part does not change xᵀAx: [[1, 5], [−5, 1]] is positive definite as a form.
    assert gm.is_positive_definite([[1.0, 5.0], [-5.0, 1.0]])


def test_linalg_bad_inputs():
    with pytest.raises(ShapeError, match="dot: 'u' has shape \\(3,\\) but 'v' has shape \\(2,\\)"):
        gm.dot([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="unit_vector: argument 'x' is the zero vector"):
        gm.unit_vector([0, 0])
    with pytest.raises(ValueError, match="cosine_similarity: argument 'v' is the zero vector"):
        gm.cosine_similarity([1, 0], [0, 0])
    with pytest.raises(ValueError, match="norm: argument 'p' must be >= 1"):
        gm.norm([1, 2], 0.5)
    with pytest.raises(ShapeError, match="must be square"):
        gm.determinant([[1, 2, 3], [4, 5, 6]])
    with pytest.raises(ValueError, match="inverse: argument 'A' is singular.*help:"):
        gm.inverse([[1, 2], [2, 4]])
    with pytest.raises(ShapeError, match="solve_least_squares: 'X' has shape"):
        gm.solve_least_squares(np.ones((3, 2)), np.ones(4))
