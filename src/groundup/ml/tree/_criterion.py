"""Split criteria: what a node's statistics are, its impurity, and how good a split is.

Every criterion works on per-sample *statistics* summed over a node, a vector whose column 0 is the
sample count (for ``min_samples_leaf``) and whose other columns are criterion-specific sums
(weighted class counts; ``w, w·y, w·y²``; gradients and hessians). Sums over sorted prefixes or
histogram bins give the left child's statistics of every candidate split at once, and
``proxy(L, R)`` scores all of them in one vectorised expression (larger is better).
"""

from __future__ import annotations

import numpy as np

EPSILON = np.finfo(np.float64).eps


def gini_impurity(proportions) -> np.ndarray:
    """Gini impurity ``1 - Σ_c p_c²`` of class proportions (last axis), e.g. 0.42 for (0.7, 0.3)."""
    p = np.asarray(proportions, dtype=np.float64)
    return 1.0 - np.sum(p * p, axis=-1)


def entropy_impurity(proportions) -> np.ndarray:
    """Entropy in bits ``-Σ_c p_c log₂ p_c`` of class proportions (last axis), 0·log 0 = 0."""
    p = np.asarray(proportions, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return -np.sum(terms, axis=-1)


def information_gain(parent_counts, children_counts, criterion: str = "entropy") -> float:
    """Information gain ``H(S) - Σ_v |S_v|/|S| · H(S_v)`` of a split (class counts per child)."""
    parent = np.asarray(parent_counts, dtype=np.float64)
    impurity = entropy_impurity if criterion in ("entropy", "log_loss") else gini_impurity
    gain = impurity(parent / parent.sum())
    for child in children_counts:
        child = np.asarray(child, dtype=np.float64)
        if child.sum() > 0:
            gain -= child.sum() / parent.sum() * impurity(child / child.sum())
    return float(gain)


def _xlogx(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, x * np.log2(np.where(x > 0, x, 1.0)), 0.0)


class Criterion:
    """Base: statistics layout, impurity, leaf value and split score of one criterion."""

    n_stats: int  # columns including the count in column 0

    def weight(self, stats):
        """Weighted number of samples held in ``stats`` (last axis)."""
        raise NotImplementedError

    def impurity(self, stats):
        raise NotImplementedError

    def proxy(self, left, right):
        """Score of splits with child statistics ``left``/``right`` (…, S); larger is better."""
        raise NotImplementedError

    def value(self, stats):
        raise NotImplementedError

    def improvement(self, total, left, right, total_weight):
        """Weighted impurity decrease ``w/W·(I - w_L/w·I_L - w_R/w·I_R)`` of one split."""
        w, wl, wr = self.weight(total), self.weight(left), self.weight(right)
        return (w / total_weight) * (
            self.impurity(total) - wl / w * self.impurity(left) - wr / w * self.impurity(right)
        )


class ClassificationCriterion(Criterion):
    """Statistics ``[count, w_1, …, w_C]``: the weighted class counts of a node."""

    def __init__(self, n_classes: int):
        self.n_classes = n_classes
        self.n_stats = n_classes + 1

    def weight(self, stats):
        return stats[..., 1:].sum(axis=-1)

    def value(self, stats):
        w = self.weight(stats)
        return stats[..., 1:] / np.where(w > 0, w, 1.0)[..., None]


class Gini(ClassificationCriterion):
    """Gini impurity ``1 - Σ p_c²``; split score ``Σ_c L_c²/w_L + Σ_c R_c²/w_R``."""

    def impurity(self, stats):
        return gini_impurity(self.value(stats))

    def proxy(self, left, right):
        wl, wr = self.weight(left), self.weight(right)
        lc, rc = left[..., 1:], right[..., 1:]
        with np.errstate(divide="ignore", invalid="ignore"):  # Σ_c L_c² as one einsum (no squared temporary)
            return np.einsum("...c,...c->...", lc, lc) / wl + np.einsum("...c,...c->...", rc, rc) / wr


class Entropy(ClassificationCriterion):
    """Entropy ``-Σ p_c log₂ p_c``; score ``-(w_L·H_L + w_R·H_R)`` in count form."""

    def impurity(self, stats):
        return entropy_impurity(self.value(stats))

    def proxy(self, left, right):
        wl, wr = self.weight(left), self.weight(right)
        # w·H = w log w - Σ w_c log w_c, so no division per class is needed
        return -(_xlogx(wl) - _xlogx(left[..., 1:]).sum(-1)) - (
            _xlogx(wr) - _xlogx(right[..., 1:]).sum(-1)
        )


class SquaredError(Criterion):
    """Variance ``Σw(y-ȳ)²/Σw``; statistics ``[count, w, w·y, w·y²]``; score ``S_L²/w_L + S_R²/w_R``."""

    n_stats = 4

    def weight(self, stats):
        return stats[..., 1]

    def value(self, stats):
        w = stats[..., 1]
        return (stats[..., 2] / np.where(w > 0, w, 1.0))[..., None]

    def impurity(self, stats):
        w = np.where(stats[..., 1] > 0, stats[..., 1], 1.0)
        mean = stats[..., 2] / w
        return np.maximum(stats[..., 3] / w - mean * mean, 0.0)

    def proxy(self, left, right):
        with np.errstate(divide="ignore", invalid="ignore"):
            return left[..., 2] ** 2 / left[..., 1] + right[..., 2] ** 2 / right[..., 1]


class FriedmanMSE(SquaredError):
    """Friedman's improvement ``w_L·w_R·(ȳ_L - ȳ_R)²/(w_L + w_R)`` (gradient boosting's default)."""

    def proxy(self, left, right):
        wl, wr = left[..., 1], right[..., 1]
        diff = left[..., 2] * wr - right[..., 2] * wl
        with np.errstate(divide="ignore", invalid="ignore"):
            return diff * diff / (wl * wr * (wl + wr))

    def improvement(self, total, left, right, total_weight):
        return self.proxy(left, right)


class NewtonGain(Criterion):
    """XGBoost's regularised second-order objective; statistics ``[count, H, G]``.

    Leaf weight ``-G/(H+λ)``; split gain ``½[G_L²/(H_L+λ) + G_R²/(H_R+λ) - G²/(H+λ)] - γ``.
    """

    n_stats = 3

    def __init__(self, l2_regularization: float = 0.0, min_split_gain: float = 0.0):
        self.l2 = float(l2_regularization)
        self.gamma = float(min_split_gain)

    def weight(self, stats):
        return stats[..., 1]

    def value(self, stats):
        return (-stats[..., 2] / (stats[..., 1] + self.l2 + 1e-300))[..., None]

    def impurity(self, stats):
        # -½ G²/(H+λ): the best objective reachable by a leaf (lower is better)
        return -0.5 * stats[..., 2] ** 2 / (stats[..., 1] + self.l2 + 1e-300)

    def proxy(self, left, right):
        with np.errstate(divide="ignore", invalid="ignore"):
            return left[..., 2] ** 2 / (left[..., 1] + self.l2) + right[..., 2] ** 2 / (
                right[..., 1] + self.l2
            )

    def improvement(self, total, left, right, total_weight):
        return self.gain(total, self.proxy(left, right))

    def gain(self, total, proxy):
        """The split gain from the children's score ``proxy = G_L²/(H_L+λ) + G_R²/(H_R+λ)``."""
        return 0.5 * (proxy - total[..., 2] ** 2 / (total[..., 1] + self.l2)) - self.gamma


class AbsoluteError(SquaredError):
    """Mean absolute deviation from the weighted median ``Σw|y-m|/Σw``; a leaf predicts ``m``.

    Not a function of summed statistics: the builder asks :mod:`._absolute_error` for a node's
    median and impurity and for its splits (``row_based``). The statistics ``[count, w, w·y, w·y²]``
    still carry counts and weights; ``y`` is set by the estimator before building.
    """

    row_based = True
    y = None


CLASSIFICATION_CRITERIA = {"gini": Gini, "entropy": Entropy, "log_loss": Entropy}
REGRESSION_CRITERIA = {"squared_error": SquaredError, "friedman_mse": FriedmanMSE, "absolute_error": AbsoluteError}
