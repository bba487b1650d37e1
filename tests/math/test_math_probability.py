"""groundup.math.probability against scipy.stats and simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import groundup.math as gm

FAST = settings(max_examples=40, deadline=None)


@FAST
# scipy's own pmf overflows for subnormal p, so p stays in [1e-9, 1 − 1e-9] or exactly 0 or 1.
@given(n=st.integers(0, 2000), seed=st.integers(0, 1000),
       p=st.one_of(st.sampled_from([0.0, 1.0]), st.floats(1e-9, 1 - 1e-9)))
def test_binomial_pmf_matches_scipy(n, p, seed):
    k = np.random.default_rng(seed).integers(-2, n + 3, size=6)
    np.testing.assert_allclose(gm.binomial_pmf(k, n, p), stats.binom.pmf(k, n, p),
                               rtol=1e-9, atol=1e-300)
    mean, var = gm.binomial_mean_var(n, p)
    assert (mean, var) == pytest.approx(stats.binom.stats(n, p, moments="mv"), rel=1e-12)


def test_binomial_pmf_sums_to_one_and_handles_edges():
    assert gm.binomial_pmf(np.arange(51), 50, 0.3).sum() == pytest.approx(1.0, abs=1e-12)
    assert gm.binomial_pmf(0, 5, 0.0) == 1.0 and gm.binomial_pmf(5, 5, 1.0) == 1.0
    assert gm.binomial_pmf(2.5, 5, 0.5) == 0.0 and gm.binomial_pmf(6, 5, 0.5) == 0.0
    assert gm.binomial_pmf(500_000, 1_000_000, 0.5) == pytest.approx(
        stats.binom.pmf(500_000, 1_000_000, 0.5), rel=1e-8)


def test_guessing_simulation_follows_the_binomial():
    scores = gm.simulate_guessing_test(10, 200_000, rng=0)
    assert scores.shape == (200_000,) and scores.min() >= 0 and scores.max() <= 10
    # Sample mean within 5 standard errors of n·p = 5, variance near n·p(1−p) = 2.5.
    assert abs(scores.mean() - 5.0) < 5 * math.sqrt(2.5 / 200_000)
    assert scores.var() == pytest.approx(2.5, rel=0.02)
    # Every frequency within 5 binomial standard errors of the pmf.
    frequencies = np.bincount(scores, minlength=11) / scores.size
    pmf = stats.binom.pmf(np.arange(11), 10, 0.5)
    assert np.all(np.abs(frequencies - pmf) < 5 * np.sqrt(pmf * (1 - pmf) / scores.size))
    # A biased guesser centres at n·p.
    biased = gm.simulate_guessing_test(20, 100_000, rng=np.random.default_rng(1), p_correct=0.8)
    assert abs(biased.mean() - 16.0) < 5 * math.sqrt(20 * 0.16 / 100_000)


def test_guessing_simulation_is_reproducible():
    first = gm.simulate_guessing_test(15, 1000, rng=42)
    second = gm.simulate_guessing_test(15, 1000, rng=np.random.default_rng(42))
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, gm.simulate_guessing_test(15, 1000, rng=43))


@FAST
@given(seed=st.integers(0, 10_000), m=st.integers(2, 40))
def test_gaussian_mle_matches_numpy_and_scipy_fit(seed, m):
    x = np.random.default_rng(seed).normal(3, 2, size=m)
    fit = gm.gaussian_mle(x)
    loc, scale = stats.norm.fit(x)
    assert fit.mean == pytest.approx(loc, abs=1e-9)
    assert fit.std == pytest.approx(scale, rel=1e-7)
    assert gm.gaussian_mle(x, ddof=1).variance == pytest.approx(np.var(x, ddof=1), rel=1e-12)


def test_beta_posterior_matches_scipy_beta():
    post = gm.beta_binomial_posterior(2, 5, successes=7, failures=3)
    dist = stats.beta(post.alpha, post.beta)
    assert post.mean == pytest.approx(dist.mean())
    assert post.variance == pytest.approx(dist.var())
    grid = np.linspace(0.001, 0.999, 9999)
    assert post.map == pytest.approx(grid[np.argmax(dist.pdf(grid))], abs=1e-3)
    assert gm.beta_binomial_posterior(1, 1, 0, 0).map != gm.beta_binomial_posterior(1, 1, 0, 0).map
    assert gm.beta_binomial_posterior(1, 1, 0, 3).map == 0.0  # Beta(1, 4) peaks at 0
    assert gm.beta_binomial_posterior(1, 1, 3, 0).map == 1.0


def test_bayes_posterior_and_errors():
    posterior = gm.bayes_posterior([0.5, 0.25, 0.25], [0.1, 0.4, 0.0])
    np.testing.assert_allclose(posterior, [0.05, 0.1, 0.0] / np.float64(0.15))
    with pytest.raises(ValueError, match="bayes_posterior: argument 'prior' must sum to 1"):
        gm.bayes_posterior([0.5, 0.6], [0.1, 0.2])
    with pytest.raises(ValueError, match="evidence P\\(data\\).*is 0"):
        gm.bayes_posterior([1.0, 0.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="binomial_pmf: argument 'p' must be a probability"):
        gm.binomial_pmf(1, 5, 1.2)
    with pytest.raises(ValueError, match="'n_tests' must be an integer >= 1"):
        gm.simulate_guessing_test(10, 0)
    with pytest.raises(ValueError, match="7 successes out of 5 trials"):
        gm.bernoulli_mle(7, trials=5)
