"""Probability and estimation for the course: the binomial distribution, a vectorised simulation
of guessing on a true/false test, maximum-likelihood estimates, the Beta–Binomial conjugate update
and Bayes' rule."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from groundup.errors import ShapeError, hint
from groundup.math._validate import (
    as_float_array,
    as_float_vector,
    as_generator,
    check_count,
    check_positive,
    check_probability,
    check_probability_vector,
)

__all__ = [
    "binomial_pmf",
    "binomial_mean_var",
    "simulate_guessing_test",
    "bernoulli_mle",
    "gaussian_mle",
    "GaussianMLE",
    "beta_binomial_posterior",
    "BetaPosterior",
    "bayes_posterior",
]

_log_gamma = np.vectorize(math.lgamma, otypes=[np.float64])


def binomial_pmf(k, n: int, p: float):
    """``P(K = k) = C(n, k) pᵏ (1 − p)ⁿ⁻ᵏ`` for K ~ Binomial(n, p); 0 for k outside {0..n}.

    k may be an array (result has its shape). Computed in log space with log-gamma, so it stays
    accurate for n in the millions.
    """
    n = check_count(n, "binomial_pmf", "n")
    p = float(check_probability(p, "binomial_pmf", "p"))
    k = as_float_array(k, "binomial_pmf", "k")
    valid = (k >= 0) & (k <= n) & (k == np.floor(k))
    kk = np.where(valid, k, 0.0)
    log_choose = math.lgamma(n + 1) - _log_gamma(kk + 1) - _log_gamma(n - kk + 1)
    # k·log p with the convention 0·log 0 = 0 (p = 0 or p = 1 are legal).
    with np.errstate(divide="ignore"):
        log_p, log_q = np.log(p), np.log1p(-p)
    success_term = np.multiply(kk, log_p, out=np.zeros_like(kk), where=kk > 0)
    failure_term = np.multiply(n - kk, log_q, out=np.zeros_like(kk), where=n - kk > 0)
    pmf = np.where(valid, np.exp(log_choose + success_term + failure_term), 0.0)
    return float(pmf) if pmf.ndim == 0 else pmf


def binomial_mean_var(n: int, p: float) -> tuple[float, float]:
    """Mean ``n·p`` and variance ``n·p·(1 − p)`` of Binomial(n, p) (a sum of n Bernoulli(p))."""
    n = check_count(n, "binomial_mean_var", "n")
    p = float(check_probability(p, "binomial_mean_var", "p"))
    return n * p, n * p * (1 - p)


def simulate_guessing_test(
    n_questions: int, n_tests: int, rng=None, p_correct: float = 0.5
) -> np.ndarray:
    """Scores of ``n_tests`` random guessers on a test of ``n_questions`` true/false questions.

    Each answer is right with probability ``p_correct`` (½ for a coin flip), so each score is a
    draw from Binomial(n_questions, p_correct); the answers are simulated question by question
    (in blocks of whole tests, vectorised) rather than drawn from the binomial directly, to show
    the law of large numbers at work. Returns an int array (n_tests,) of the number right; divide
    by n_questions for the fraction. ``rng``: None, a seed or a ``numpy.random.Generator``.
    """
    n_questions = check_count(n_questions, "simulate_guessing_test", "n_questions", minimum=1)
    n_tests = check_count(n_tests, "simulate_guessing_test", "n_tests", minimum=1)
    p_correct = float(check_probability(p_correct, "simulate_guessing_test", "p_correct"))
    generator = as_generator(rng, "simulate_guessing_test")
    scores = np.empty(n_tests, dtype=np.int64)
    # Blocks of about 4M answers keep memory small. An answer is right when a uniform float32 draw
    # falls below p_correct (exact for p = ½; off by < 6e-8 otherwise, float32's grid spacing).
    block = max(1, 4_000_000 // n_questions)
    for start in range(0, n_tests, block):
        stop = min(start + block, n_tests)
        draws = generator.random((stop - start, n_questions), dtype=np.float32)
        scores[start:stop] = np.count_nonzero(draws < p_correct, axis=1)
    return scores


def bernoulli_mle(outcomes_or_successes, trials: int | None = None) -> float:
    """Maximum-likelihood estimate of a Bernoulli parameter: ``p̂ = k / m`` (the success rate).

    Either a vector of 0/1 outcomes, or the number of successes k together with ``trials`` m.
    """
    if trials is not None:
        trials = check_count(trials, "bernoulli_mle", "trials", minimum=1)
        successes = check_count(outcomes_or_successes, "bernoulli_mle", "outcomes_or_successes")
        if successes > trials:
            raise ValueError(hint(f"bernoulli_mle: {successes} successes out of {trials} trials",
                                  "successes cannot exceed trials"))
        return successes / trials
    outcomes = as_float_vector(outcomes_or_successes, "bernoulli_mle", "outcomes_or_successes")
    if outcomes.size == 0 or not np.all((outcomes == 0) | (outcomes == 1)):
        raise ValueError(
            hint("bernoulli_mle: 'outcomes_or_successes' must be a non-empty vector of 0s and 1s",
                 "or pass the count of successes with trials=...")
        )
    return float(outcomes.mean())


@dataclass(frozen=True)
class GaussianMLE:
    """Estimated mean and variance of a normal distribution."""

    mean: float
    variance: float

    @property
    def std(self) -> float:
        """Standard deviation √variance."""
        return math.sqrt(self.variance)


def gaussian_mle(x, ddof: int = 0) -> GaussianMLE:
    """Maximum-likelihood fit of N(μ, σ²) to samples x (m,): ``μ̂ = mean(x)``,
    ``σ̂² = Σ(xᵢ − μ̂)²/m``.

    The MLE variance (ddof=0) is biased low; ``ddof=1`` divides by m − 1 instead (unbiased, like
    ``np.var(x, ddof=1)``).
    """
    x = as_float_vector(x, "gaussian_mle", "x")
    ddof = check_count(ddof, "gaussian_mle", "ddof")
    if x.size <= ddof:
        raise ValueError(hint(f"gaussian_mle: need more than ddof={ddof} samples, got {x.size}",
                              "pass more data or use ddof=0"))
    mean = float(x.mean())
    return GaussianMLE(mean, float(np.sum((x - mean) ** 2) / (x.size - ddof)))


@dataclass(frozen=True)
class BetaPosterior:
    """Beta(alpha, beta) posterior of a coin's bias with its point estimates.

    ``mean = α/(α+β)``; ``map`` (the mode) ``= (α−1)/(α+β−2)`` when α, β > 1 (at 0 or 1 when one
    parameter is <= 1, NaN when the mode is not unique, e.g. the flat Beta(1, 1)); ``variance =
    αβ/((α+β)²(α+β+1))``. The mean and the MAP are different numbers: the primer's Q3.5 calls
    160/300 the MAP, but that is the mean; the MAP is 159/298.
    """

    alpha: float
    beta: float

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def map(self) -> float:
        a, b = self.alpha, self.beta
        if a > 1 and b > 1:
            return (a - 1) / (a + b - 2)
        if a <= 1 < b or (a < 1 and b == 1):
            return 0.0
        if b <= 1 < a or (b < 1 and a == 1):
            return 1.0
        return math.nan

    mode = map

    @property
    def variance(self) -> float:
        total = self.alpha + self.beta
        return self.alpha * self.beta / (total**2 * (total + 1))


def beta_binomial_posterior(
    alpha: float, beta: float, successes: int, failures: int
) -> BetaPosterior:
    """Conjugate update: prior Beta(α, β) and k successes, f failures → Beta(α + k, β + f).

    The prior acts like α − 1 earlier successes and β − 1 earlier failures. Returns a
    :class:`BetaPosterior` with ``alpha``, ``beta``, ``mean``, ``map`` and ``variance``.
    """
    alpha = check_positive(alpha, "beta_binomial_posterior", "alpha")
    beta = check_positive(beta, "beta_binomial_posterior", "beta")
    successes = check_count(successes, "beta_binomial_posterior", "successes")
    failures = check_count(failures, "beta_binomial_posterior", "failures")
    return BetaPosterior(alpha + successes, beta + failures)


def bayes_posterior(prior, likelihoods) -> np.ndarray:
    """Bayes' rule over k hypotheses: ``P(h|data) = P(data|h) P(h) / Σ_h' P(data|h') P(h')``.

    prior: (k,) probability vector; likelihoods: (k,) values ``P(data|h)`` >= 0 (they need not sum
    to 1). Returns the posterior (k,). Example: P(spam) = 0.3, P("winner"|spam) = 0.8,
    P("winner"|ham) = 0.05 → P(spam|"winner") = 0.24/0.275 = 0.873.
    """
    prior = check_probability_vector(prior, "bayes_posterior", "prior")
    likelihoods = as_float_array(likelihoods, "bayes_posterior", "likelihoods")
    if likelihoods.shape != prior.shape:
        raise ShapeError(
            hint(f"bayes_posterior: 'prior' has shape {prior.shape} but 'likelihoods' has shape "
                 f"{likelihoods.shape}", "give one likelihood P(data|h) per hypothesis h")
        )
    if np.any(likelihoods < 0):
        raise ValueError(hint(f"bayes_posterior: 'likelihoods' must be >= 0, got {likelihoods}",
                              "likelihoods are probabilities (or densities) of the data"))
    joint = prior * likelihoods
    evidence = joint.sum()
    if evidence == 0:
        raise ValueError(
            hint("bayes_posterior: the evidence P(data) = Σ prior·likelihood is 0",
                 "the data is impossible under every hypothesis with prior mass; check the inputs")
        )
    return joint / evidence
