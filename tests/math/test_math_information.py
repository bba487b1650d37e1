"""groundup.math.information against scipy.stats.entropy, scikit-learn and the identities."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import jensenshannon
from sklearn.metrics import mutual_info_score

import groundup.math as gm
from groundup.errors import ShapeError

FAST = settings(max_examples=40, deadline=None)


def distributions(k: int, seed: int, zeros: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p, q = rng.dirichlet(np.ones(k)), rng.dirichlet(np.ones(k))
    if zeros and k > 1:
        p[rng.integers(k)] = 0.0  # exercise the 0·log 0 = 0 convention
        p /= p.sum()
    return p, q


@FAST
@given(k=st.integers(1, 8), seed=st.integers(0, 10_000), zeros=st.booleans(),
       base=st.sampled_from([None, 2, 10]))
def test_entropy_cross_entropy_kl_match_scipy(k, seed, zeros, base):
    p, q = distributions(k, seed, zeros)
    assert gm.entropy(p, base) == pytest.approx(stats.entropy(p, base=base), abs=1e-12)
    assert gm.kl_divergence(p, q, base) == pytest.approx(stats.entropy(p, q, base=base),
                                                         abs=1e-12)
    # H(p, q) = H(p) + KL(p‖q)
    assert gm.cross_entropy(p, q, base) == pytest.approx(
        stats.entropy(p, base=base) + stats.entropy(p, q, base=base), abs=1e-12)
    assert gm.js_divergence(p, q, base=2) == pytest.approx(jensenshannon(p, q, base=2) ** 2,
                                                           abs=1e-12)
    assert gm.perplexity(p) == pytest.approx(np.exp(stats.entropy(p)), rel=1e-12)


def test_batches_of_distributions():
    rng = np.random.default_rng(0)
    P, Q = rng.dirichlet(np.ones(4), size=5), rng.dirichlet(np.ones(4), size=5)
    np.testing.assert_allclose(gm.entropy(P), stats.entropy(P, axis=1), atol=1e-12)
    np.testing.assert_allclose(gm.kl_divergence(P, Q), stats.entropy(P, Q, axis=1), atol=1e-12)


def test_kl_is_asymmetric_nonnegative_and_infinite_on_missing_support():
    p, q = [0.9, 0.1], [0.5, 0.5]
    forward, reverse = gm.kl_divergence(p, q), gm.kl_divergence(q, p)
    assert forward == pytest.approx(0.9 * math.log(1.8) + 0.1 * math.log(0.2))
    assert reverse == pytest.approx(0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1))
    assert forward != pytest.approx(reverse)
    assert gm.kl_divergence(p, p) == 0.0
    # p puts mass where q has none: infinite forward KL and cross-entropy; reverse stays finite.
    assert gm.kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert gm.cross_entropy([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert gm.kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2))
    # JS is bounded by 1 bit even on disjoint supports.
    assert gm.js_divergence([1, 0], [0, 1], base=2) == pytest.approx(1.0)


def test_entropy_extremes_and_units():
    assert gm.entropy([0.25] * 4, base=2) == pytest.approx(2.0)
    assert gm.entropy([1.0, 0.0, 0.0]) == 0.0
    assert gm.perplexity([0.25] * 4) == pytest.approx(4.0)
    assert gm.information_content(0.0) == math.inf
    assert gm.information_content(0.25, base=None) == pytest.approx(math.log(4))


@FAST
@given(seed=st.integers(0, 10_000), n=st.integers(5, 60))
def test_mutual_information_from_samples_matches_sklearn(seed, n):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, size=n)
    y = (x + rng.integers(0, 2, size=n)) % 4
    assert gm.mutual_information(x, y) == pytest.approx(mutual_info_score(x, y), abs=1e-12)
    table, _, _ = gm.joint_distribution(x, y)
    assert gm.mutual_information(table) == pytest.approx(mutual_info_score(x, y), abs=1e-12)
    # I(X;Y) = H(Y) − H(Y|X), and I(X;X) = H(X).
    assert gm.mutual_information(table) == pytest.approx(
        gm.entropy(table.sum(axis=0)) - gm.conditional_entropy(table), abs=1e-12)
    assert gm.mutual_information(x, x) == pytest.approx(gm.entropy(np.bincount(x) / n),
                                                        abs=1e-12)


def test_conditional_entropy_and_independence():
    joint = np.array([[0.25, 0.25], [0.0, 0.5]])
    # H(Y|X) = P(X=0)·H(½,½) + P(X=1)·H(0,1) = 0.5 bit.
    assert gm.conditional_entropy(joint, base=2) == pytest.approx(0.5)
    assert gm.joint_entropy(joint, base=2) == pytest.approx(1.5)
    independent = np.outer([0.2, 0.8], [0.3, 0.3, 0.4])
    assert gm.mutual_information(independent) == pytest.approx(0.0, abs=1e-15)
    assert gm.conditional_entropy(independent) == pytest.approx(gm.entropy([0.3, 0.3, 0.4]))


def test_information_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="entropy: argument 'p' has negative entries.*help:"):
        gm.entropy([0.5, -0.1, 0.6])
    with pytest.raises(ValueError, match="kl_divergence: argument 'q' must sum to 1.*help:"):
        gm.kl_divergence([0.5, 0.5], [0.5, 0.6])
    with pytest.raises(ValueError, match="cross_entropy: argument 'p' must sum to 1"):
        gm.cross_entropy([0.2, 0.2], [0.5, 0.5])
    with pytest.raises(ShapeError, match="'p' has 3 outcomes but 'q' has 2.*help:"):
        gm.kl_divergence([0.2, 0.3, 0.5], [0.5, 0.5])
    with pytest.raises(ShapeError, match="js_divergence: 'p' has 2 outcomes"):
        gm.js_divergence([0.5, 0.5], [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="information_content: argument 'p' must be a probability"):
        gm.information_content(1.5)
    with pytest.raises(ValueError, match="'joint' must sum to 1"):
        gm.mutual_information(np.ones((2, 2)))
