"""PCA against scikit-learn: components up to sign (and exactly, given the shared sign rule),
variances, projections, inverse transform, variance targets, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.decomposition import PCA as SkPCA

from groundup.errors import NotFittedError, ShapeError
from groundup.ml.decomposition import PCA

SK_SOLVER = {"svd": "full", "eigh": "covariance_eigh", "auto": "auto"}


def correlated(rng, n, p):
    return rng.normal(size=(n, p)) @ rng.normal(size=(p, p)) + rng.normal(size=p) * 3


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 60), st.integers(1, 12), st.sampled_from(["svd", "eigh", "auto"]),
       st.booleans(), st.integers(0, 2**31))
def test_matches_sklearn_on_random_data(n, p, solver, whiten, seed):
    rng = np.random.default_rng(seed)
    X = correlated(rng, n, p)
    k = int(rng.integers(1, min(n, p) + 1))
    ours = PCA(k, solver=solver, whiten=whiten).fit(X)
    theirs = SkPCA(k, svd_solver=SK_SOLVER[solver], whiten=whiten).fit(X)
    scale = max(theirs.explained_variance_[0], 1.0)
    atol = 1e-8 * scale
    np.testing.assert_allclose(ours.mean_, theirs.mean_, atol=1e-12 * scale)
    np.testing.assert_allclose(ours.explained_variance_, theirs.explained_variance_, atol=atol)
    np.testing.assert_allclose(ours.explained_variance_ratio_, theirs.explained_variance_ratio_,
                               atol=1e-8)
    np.testing.assert_allclose(ours.singular_values_, theirs.singular_values_,
                               atol=1e-6 * np.sqrt(scale * n))
    np.testing.assert_allclose(ours.noise_variance_, theirs.noise_variance_, atol=atol)
    # components equal up to sign, only where the eigenvalue is well separated from its neighbours
    ev = np.r_[np.inf, theirs.explained_variance_, 0.0]
    if solver == "eigh":
        ev = np.r_[np.inf, SkPCA(svd_solver="covariance_eigh").fit(X).explained_variance_, 0.0]
    gap = np.minimum(ev[:-2] - ev[1:-1], ev[1:-1] - ev[2:])[:k]
    separated = gap > 1e-3 * scale
    signs = np.sign(np.sum(ours.components_ * theirs.components_, axis=1))
    np.testing.assert_allclose((ours.components_ * signs[:, None])[separated],
                               theirs.components_[separated], atol=1e-6)


def test_components_and_transform_equal_sklearn_exactly_with_its_sign_rule():
    rng = np.random.default_rng(0)
    X = correlated(rng, 200, 6)
    for solver in ("svd", "eigh"):
        ours = PCA(4, solver=solver).fit(X)
        theirs = SkPCA(4, svd_solver=SK_SOLVER[solver]).fit(X)
        np.testing.assert_allclose(ours.components_, theirs.components_, atol=1e-10)
        np.testing.assert_allclose(ours.transform(X), theirs.transform(X), atol=1e-9)
        np.testing.assert_allclose(ours.fit_transform(X), theirs.fit_transform(X), atol=1e-9)
        np.testing.assert_allclose(ours.inverse_transform(ours.transform(X)),
                                   theirs.inverse_transform(theirs.transform(X)), atol=1e-9)
        np.testing.assert_allclose(ours.get_covariance(), theirs.get_covariance(), atol=1e-9)
        largest = np.abs(ours.components_).argmax(axis=1)
        assert np.all(ours.components_[np.arange(4), largest] > 0)


def test_whitened_projection_has_unit_variance_and_inverts():
    rng = np.random.default_rng(1)
    X = correlated(rng, 300, 5)
    pca = PCA(3, whiten=True).fit(X)
    Z = pca.transform(X)
    np.testing.assert_allclose(Z.var(axis=0, ddof=1), 1.0, rtol=1e-10)
    np.testing.assert_allclose(Z, SkPCA(3, whiten=True).fit_transform(X), atol=1e-9)
    full = PCA(whiten=True).fit(X)
    np.testing.assert_allclose(full.inverse_transform(full.transform(X)), X, atol=1e-9)


def test_variance_target_matches_sklearn_away_from_ties():
    rng = np.random.default_rng(2)
    X = correlated(rng, 100, 10)
    for target in (0.5, 0.8, 0.95, 0.999):
        ours = PCA(target).fit(X)
        theirs = SkPCA(target, svd_solver="full").fit(X)
        assert ours.n_components_ == theirs.n_components_
        assert np.sum(ours.explained_variance_ratio_) >= target
        assert np.sum(ours.explained_variance_ratio_[:-1]) < target


def test_ddof_zero_gives_the_course_one_over_m_eigenvalues():
    rng = np.random.default_rng(3)
    X = correlated(rng, 40, 4)
    m = len(X)
    default, course = PCA().fit(X), PCA(ddof=0).fit(X)
    np.testing.assert_allclose(course.explained_variance_, default.explained_variance_ * (m - 1) / m)
    np.testing.assert_allclose(course.explained_variance_ratio_, default.explained_variance_ratio_)
    np.testing.assert_allclose(course.get_covariance(), np.cov(X.T, ddof=0), atol=1e-10)


def test_bad_n_components_rejected_before_work():
    X = np.random.default_rng(0).normal(size=(5, 3))
    with pytest.raises(ValueError, match=r"n_components=4 .*min\(5, 3\)=3.*help:"):
        PCA(4).fit(X)
    with pytest.raises(ValueError, match="n_components=1.5 .*help:"):
        PCA(1.5).fit(X)
    with pytest.raises(ValueError, match="n_components=0 .*help:"):
        PCA(0).fit(X)
    with pytest.raises(ValueError, match="solver='qr'.*help:"):
        PCA(solver="qr").fit(X)
    with pytest.raises(ValueError, match="NaN|nan"):
        PCA(2).fit(np.array([[1.0, np.nan], [2.0, 3.0], [0.0, 1.0]]))


def test_not_fitted_and_feature_mismatch():
    with pytest.raises(NotFittedError):
        PCA(2).transform(np.ones((3, 3)))
    pca = PCA(2).fit(np.random.default_rng(0).normal(size=(10, 4)))
    with pytest.raises(ShapeError, match="4"):
        pca.transform(np.ones((2, 5)))
    with pytest.raises(ValueError, match="Z has 3 columns.*help:"):
        pca.inverse_transform(np.ones((2, 3)))
