"""Information theory for the course: surprise, entropy, cross-entropy, KL and JS divergences,
conditional entropy, mutual information and perplexity.

Conventions (shared by every function here):

- A distribution is a vector of non-negative probabilities summing to 1 (within 1e-6); a batch of
  distributions is an array whose last axis is the distribution (the result then has the batch
  shape). Bad inputs raise errors that name the argument.
- Terms with p(x) = 0 contribute 0 (the limit 0·log 0 = 0), so zero-probability outcomes are fine.
- Where p(x) > 0 but q(x) = 0, cross-entropy and KL divergence are ``inf``: an outcome that
  happens is declared impossible by q, so coding it costs infinitely many bits (the ``−log q(x)``
  term diverges). This is the mathematical value, not an error.
- ``base`` selects the unit: None (default, natural log) gives nats, as ``scipy.stats.entropy`` and
  every ML loss; 2 gives bits. ``information_content`` defaults to bits, as the course writes it.
"""

from __future__ import annotations

import numpy as np

from groundup.errors import ShapeError, hint
from groundup.math._validate import (
    as_float_array,
    check_positive,
    check_probability,
    check_probability_vector,
)

__all__ = [
    "information_content",
    "entropy",
    "cross_entropy",
    "kl_divergence",
    "js_divergence",
    "joint_entropy",
    "conditional_entropy",
    "mutual_information",
    "joint_distribution",
    "perplexity",
]


def _log(values: np.ndarray, base: float | None, func: str) -> np.ndarray:
    with np.errstate(divide="ignore"):
        logs = np.log(values)
    if base is None:
        return logs
    base = check_positive(base, func, "base")
    if base == 1:
        raise ValueError(hint(f"{func}: argument 'base' cannot be 1 (log base 1 is undefined)",
                              "use base=2 for bits or base=None for nats"))
    return logs / np.log(base)


def _result(value: np.ndarray):
    return float(value) if np.ndim(value) == 0 else value


def _pair(p, q, func: str) -> tuple[np.ndarray, np.ndarray]:
    p = check_probability_vector(p, func, "p")
    q = check_probability_vector(q, func, "q")
    if p.shape[-1] != q.shape[-1]:
        raise ShapeError(
            hint(
                f"{func}: 'p' has {p.shape[-1]} outcomes but 'q' has {q.shape[-1]} "
                f"(shapes {p.shape} and {q.shape})",
                "both distributions must be over the same outcomes, in the same order",
            )
        )
    return p, q


def information_content(p, base: float | None = 2):
    """Self-information (surprise) of an event of probability p: ``I = −log_base(p)``.

    Bits by default: p = 1 → 0, p = 0.5 → 1, p = 0.01 → 6.644; p = 0 → inf. Elementwise.
    """
    p = check_probability(p, "information_content", "p")
    return _result(-_log(p, base, "information_content") + 0.0)  # + 0.0 turns −0 into 0


def entropy(p, base: float | None = None):
    """Shannon entropy ``H(p) = −Σₓ p(x) log p(x)`` (0·log 0 = 0); in [0, log k] for k outcomes.

    p: (..., k) → (...). Nats by default, bits with base=2.
    """
    p = check_probability_vector(p, "entropy", "p")
    terms = np.where(p > 0, p * _log(np.where(p > 0, p, 1.0), base, "entropy"), 0.0)
    return _result(np.maximum(-terms.sum(axis=-1), 0.0))


def cross_entropy(p, q, base: float | None = None):
    """Cross-entropy ``H(p, q) = −Σₓ p(x) log q(x) = H(p) + KL(p‖q)``; inf if q(x) = 0 < p(x).

    The classification loss when p is the one-hot label and q the predicted probabilities.
    p, q: (..., k) → (...).
    """
    p, q = _pair(p, q, "cross_entropy")
    log_q = _log(q, base, "cross_entropy")
    terms = np.where(p > 0, p * np.where(p > 0, log_q, 0.0), 0.0)
    return _result(-terms.sum(axis=-1))


def kl_divergence(p, q, base: float | None = None):
    """Forward KL divergence ``KL(p‖q) = Σₓ p(x) log(p(x)/q(x))`` >= 0, zero iff p = q.

    Not symmetric: ``KL(p‖q) ≠ KL(q‖p)`` in general (forward KL is mean-seeking — q must cover
    every outcome of p — reverse KL is mode-seeking), so it is not a distance. Terms with
    p(x) = 0 are 0; a term with p(x) > 0 = q(x) makes it ``inf``. p, q: (..., k) → (...).
    """
    p, q = _pair(p, q, "kl_divergence")
    positive = p > 0
    safe_p = np.where(positive, p, 1.0)
    with np.errstate(divide="ignore"):
        ratio = np.where(positive, safe_p / np.where(positive, q, 1.0), 1.0)
    terms = np.where(positive, p * _log(ratio, base, "kl_divergence"), 0.0)
    return _result(np.maximum(terms.sum(axis=-1), 0.0))


def js_divergence(p, q, base: float | None = None):
    """Jensen–Shannon divergence ``JS(p, q) = ½KL(p‖m) + ½KL(q‖m)`` with ``m = (p + q)/2``.

    Symmetric, always finite, between 0 and log 2 (1 bit); its square root is a metric.
    """
    p, q = _pair(p, q, "js_divergence")
    m = (p + q) / 2
    value = 0.5 * np.asarray(kl_divergence(p, m, base)) + 0.5 * np.asarray(
        kl_divergence(q, m, base)
    )
    return _result(value)


def _joint(joint, func: str) -> np.ndarray:
    table = as_float_array(joint, func, "joint")
    if table.ndim != 2:
        raise ShapeError(
            hint(f"{func}: argument 'joint' must be a 2-D table P(X=i, Y=j), got shape "
                 f"{table.shape}", "rows index X, columns index Y")
        )
    check_probability_vector(table.ravel(), func, "joint")
    return table


def joint_entropy(joint, base: float | None = None) -> float:
    """Joint entropy ``H(X, Y) = −Σᵢⱼ P(i, j) log P(i, j)`` of a joint table (rows X, columns Y)."""
    return entropy(_joint(joint, "joint_entropy").ravel(), base)


def conditional_entropy(joint, base: float | None = None) -> float:
    """Conditional entropy ``H(Y|X) = H(X, Y) − H(X)`` of a joint table ``joint[i, j] = P(i, j)``.

    The uncertainty left in Y (columns) once X (rows) is known; transpose the table for H(X|Y).
    """
    table = _joint(joint, "conditional_entropy")
    value = entropy(table.ravel(), base) - entropy(table.sum(axis=1), base)
    return max(float(value), 0.0)


def joint_distribution(x, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Empirical joint table of paired samples: ``P(X=a, Y=b) = #{i: xᵢ=a, yᵢ=b} / n``.

    Returns (table (|X|, |Y|), values of x, values of y).
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 1 or x.shape != y.shape or x.size == 0:
        raise ShapeError(
            hint(f"joint_distribution: 'x' and 'y' must be non-empty 1-D arrays of equal length, "
                 f"got shapes {x.shape} and {y.shape}", "pass paired samples (xᵢ, yᵢ)")
        )
    x_values, x_codes = np.unique(x, return_inverse=True)
    y_values, y_codes = np.unique(y, return_inverse=True)
    counts = np.zeros((x_values.size, y_values.size))
    np.add.at(counts, (x_codes, y_codes), 1.0)
    return counts / x.size, x_values, y_values


def mutual_information(joint_or_x, y=None, base: float | None = None) -> float:
    """Mutual information ``I(X; Y) = H(X) + H(Y) − H(X, Y) = KL(P_XY ‖ P_X P_Y)`` >= 0.

    Either a joint table ``mutual_information(joint)`` (rows X, columns Y), or paired samples
    ``mutual_information(x_samples, y_samples)`` (plug-in estimate from their empirical joint
    distribution; equals ``sklearn.metrics.mutual_info_score`` in nats). Symmetric; 0 iff
    independent; ``I(X; X) = H(X)``.
    """
    if y is not None:
        table = joint_distribution(joint_or_x, y)[0]
    else:
        table = _joint(joint_or_x, "mutual_information")
    value = (
        entropy(table.sum(axis=1), base) + entropy(table.sum(axis=0), base)
        - entropy(table.ravel(), base)
    )
    return max(float(value), 0.0)


def perplexity(p, q=None):
    """Perplexity ``exp(H(p))`` — the effective number of equally likely outcomes (k for uniform).

    With q: ``exp(H(p, q))``, the perplexity of model q on data distributed as p (a language
    model's ``exp(mean −log q(token))``). The same in any log base: ``2^H`` with H in bits.
    """
    value = entropy(p) if q is None else cross_entropy(p, q)
    return _result(np.exp(value))
