"""t-SNE: affinities against scikit-learn's, the exact gradient against finite differences, the
FFT-interpolated repulsion against the O(n²) sum, and map quality (trustworthiness) against
scikit-learn's TSNE on the same data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.manifold import TSNE as SkTSNE
from sklearn.manifold import _t_sne as sk_t_sne
from sklearn.manifold import trustworthiness

from groundup.ml import manifold
from groundup.ml.decomposition import PCA
from groundup.ml.manifold import TSNE, joint_probabilities
from groundup.ml.testing import check_estimator


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300]


def test_dense_affinities_match_sklearn(digits):
    X = digits[0][:120]
    sq = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    theirs = sk_t_sne._joint_probabilities(sq.astype(np.float32), 20.0, 0)  # condensed
    ours = joint_probabilities(X, perplexity=20.0)
    iu = np.triu_indices(len(X), 1)
    np.testing.assert_allclose(ours[iu], theirs, rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose(ours, ours.T)
    assert ours.sum() == pytest.approx(1.0)


def test_conditional_rows_reach_the_perplexity(digits):
    X = digits[0][:100]
    sq = manifold._squared_distances(X, X)
    P = manifold._binary_search_perplexity(sq, 15.0, mask_self=True)
    entropy = -np.sum(np.where(P > 0, P * np.log(np.where(P > 0, P, 1)), 0.0), axis=1)
    np.testing.assert_allclose(np.exp(entropy), 15.0, rtol=1e-4)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert np.all(np.diag(P) == 0)


def test_sparse_affinities_with_all_neighbours_equal_dense(digits):
    X = digits[0][:60]
    rows, cols, values = joint_probabilities(X, perplexity=10.0, n_neighbors=len(X) - 1)
    dense = np.zeros((len(X), len(X)))
    dense[rows, cols] = values
    np.testing.assert_allclose(dense, joint_probabilities(X, perplexity=10.0), atol=1e-12)


def test_nearest_neighbours_match_brute_force(digits):
    X = digits[0][:150]
    idx, dist = manifold._nearest_neighbours(X, 7, block=64)
    full = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(full, np.inf)
    np.testing.assert_allclose(dist, np.sort(full, axis=1)[:, :7], atol=1e-9)
    np.testing.assert_allclose(np.take_along_axis(full, idx, axis=1), dist, atol=1e-9)


def test_exact_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(15, 5))
    P = joint_probabilities(X, perplexity=4.0)
    Y = rng.normal(size=(15, 2))
    _, grad = manifold._exact_kl_and_grad(Y, P, dof=1)
    numeric = np.zeros_like(Y)
    eps = 1e-6
    for i in range(Y.shape[0]):
        for d in range(Y.shape[1]):
            step = np.zeros_like(Y)
            step[i, d] = eps
            up, _ = manifold._exact_kl_and_grad(Y + step, P, dof=1)
            down, _ = manifold._exact_kl_and_grad(Y - step, P, dof=1)
            numeric[i, d] = (up - down) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("scale", [0.01, 5.0, 30.0])
def test_interpolated_repulsion_matches_exact_sum(scale):
    rng = np.random.default_rng(1)
    centres = rng.uniform(-3, 3, size=(6, 2)) * scale
    Y = centres[rng.integers(0, 6, 1500)] + rng.normal(size=(1500, 2)) * max(scale / 10, 0.01)
    rep_fast, Z_fast = manifold._interpolated_repulsion(Y)
    rep_exact, Z_exact = manifold._exact_repulsion(Y)
    assert Z_fast == pytest.approx(Z_exact, rel=5e-3)
    error = np.linalg.norm(rep_fast - rep_exact, axis=1)
    assert np.median(error / np.linalg.norm(rep_exact, axis=1)) < 0.03
    assert error.max() < 0.08 * np.abs(rep_exact).max()
    if scale > 10:  # where the grid (not float32 rounding) limits accuracy:
        # quadratic interpolation: halving the boxes shrinks the error about eightfold
        rep_fine, _ = manifold._interpolated_repulsion(Y, box_width=0.5)
        assert np.linalg.norm(rep_fine - rep_exact, axis=1).max() < error.max() / 4


def _quiet_sklearn_tsne(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SkTSNE(**kwargs)


@pytest.mark.parametrize("method, n", [("exact", 150), ("barnes_hut", 300)])
def test_trustworthiness_close_to_sklearn(digits, method, n):
    X = digits[0][:n]
    settings = dict(perplexity=20.0, max_iter=500, method=method, init="pca", random_state=0)
    ours = TSNE(**settings).fit(X)
    theirs = _quiet_sklearn_tsne(**settings).fit(X)
    t_ours = trustworthiness(X, ours.embedding_, n_neighbors=10)
    t_theirs = trustworthiness(X, theirs.embedding_, n_neighbors=10)
    assert abs(t_ours - t_theirs) <= 0.02
    assert t_ours > 0.9
    assert ours.embedding_.shape == (n, 2)
    assert ours.n_iter_ == theirs.n_iter_
    # the optimisation is chaotic (sklearn runs in float32), so compare quality, not the path
    assert ours.kl_divergence_ <= 1.2 * theirs.kl_divergence_


def test_exact_method_follows_sklearn_closely(digits):
    X = digits[0][:80]
    settings = dict(perplexity=10.0, max_iter=300, method="exact", init="pca", random_state=0)
    ours = TSNE(**settings).fit(X)
    theirs = _quiet_sklearn_tsne(**settings).fit(X)
    assert ours.kl_divergence_ <= 1.2 * theirs.kl_divergence_
    assert trustworthiness(X, ours.embedding_, n_neighbors=5) >= trustworthiness(
        X, theirs.embedding_, n_neighbors=5) - 0.02


def test_pca_init_and_random_init_are_reproducible(digits):
    X = digits[0][:60]
    a = TSNE(perplexity=5.0, max_iter=250, init="random", random_state=3).fit_transform(X)
    b = TSNE(perplexity=5.0, max_iter=250, init="random", random_state=3).fit_transform(X)
    assert np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, b)
    pca_start = PCA(2).fit_transform(X)
    started = TSNE(perplexity=5.0, max_iter=250, init=pca_start, method="exact").fit_transform(X)
    assert np.all(np.isfinite(started))


def test_bad_parameters_rejected_before_work():
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match=r"perplexity=30.0 must be less than n_samples=20.*help:"):
        TSNE().fit(X)
    with pytest.raises(ValueError, match=r"max_iter=100 .*help:"):
        TSNE(perplexity=5, max_iter=100).fit(X)
    with pytest.raises(ValueError, match=r"barnes_hut.*n_components.*help:"):
        TSNE(n_components=4, perplexity=5).fit(X)
    with pytest.raises(ValueError, match=r"init='pca' needs n_components=4.*help:"):
        TSNE(n_components=4, perplexity=5, method="exact").fit(X)
    with pytest.raises(ValueError, match=r"method='fast'.*help:"):
        TSNE(method="fast", perplexity=5).fit(X)
    with pytest.raises(ValueError, match="NaN|nan"):
        TSNE(perplexity=5).fit(np.where(X > 1, np.nan, X))


def test_has_no_transform_like_sklearn():
    assert not hasattr(TSNE(), "transform")


def test_check_estimator_passes_for_pca_and_tsne():
    check_estimator(PCA())
    check_estimator(PCA(n_components=1, whiten=True))
    # the contract code is shared by both methods; the exact one keeps this check fast
    check_estimator(TSNE(perplexity=5.0, max_iter=250, init="random", method="exact",
                         random_state=0))
