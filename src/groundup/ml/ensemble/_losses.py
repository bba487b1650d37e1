"""Losses of gradient boosting: initial constant, gradient and hessian of ``L(y, F)`` in ``F``."""

from __future__ import annotations

import numpy as np


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic


def _softmax(F):
    Z = F - F.max(axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=1, keepdims=True)
    return Z


class SquaredError:
    """``L = ½(y - F)²``; gradient ``F - y``, hessian 1; initial constant the (weighted) mean."""

    n_trees_per_iter = 1

    def init(self, y, w):
        return np.array([np.average(y, weights=w)])

    def gradient_hessian(self, y, F, w=None):
        return F[:, 0] - y, np.ones(len(y))

    def loss(self, y, F, w):
        return float(np.average((y - F[:, 0]) ** 2, weights=w)) * 0.5

    def leaf_value(self, y, F, residual, w):
        return np.average(residual, weights=w)


def weighted_percentile(values, w, percentile):
    """The weighted ``percentile`` (inverted CDF, scikit-learn's ``_weighted_percentile``): the
    smallest sorted value whose cumulative weight reaches the share, ``v₍ᵢ₎`` with
    ``i = min{i : Σ_{j≤i} w₍ⱼ₎ ≥ percentile/100 · Σw}``."""
    order = np.argsort(values)
    cw = np.cumsum(w[order])
    target = percentile / 100 * cw[-1]
    if target == 0:  # percentile 0: skip leading zero weights
        target = np.nextafter(target, 1.0)
    return values[order[min(int(np.searchsorted(cw, target)), len(values) - 1)]]


def _weighted_median(values, w):
    return weighted_percentile(values, w, 50.0)


def _init_percentile(y, w, percentile):
    """Initial constant of the quantile-based losses: ``np.percentile`` (linear interpolation) when
    the fit has no sample weights, the weighted inverted-CDF percentile when it has (as scikit-learn's
    ``DummyRegressor(strategy="quantile")``)."""
    if w is None:
        return np.array([np.percentile(y, percentile)])
    return np.array([weighted_percentile(y, w, percentile)])


class AbsoluteError:
    """``L = |y - F|``; gradient ``+1`` where ``F > y``, else ``-1``; initial constant and leaf values
    the weighted median of ``y`` and of ``y - F`` in the leaf."""

    n_trees_per_iter = 1

    def init(self, y, w):
        return _init_percentile(y, w, 50.0)

    def gradient_hessian(self, y, F, w=None):
        return np.where(F[:, 0] > y, 1.0, -1.0), np.ones(len(y))

    def loss(self, y, F, w):
        return float(np.average(np.abs(y - F[:, 0]), weights=w))

    def leaf_value(self, y, F, residual, w):
        return _weighted_median(y - F[:, 0], w)


class Quantile:
    """Pinball loss ``L = α(y - F)`` if ``y ≥ F`` else ``(1 - α)(F - y)``; gradient ``-α`` where
    ``y ≥ F``, else ``1 - α``; initial constant and leaf values the weighted ``α``-quantile of ``y``
    and of ``y - F`` in the leaf."""

    n_trees_per_iter = 1

    def __init__(self, alpha=0.9):
        self.alpha = alpha

    def init(self, y, w):
        return _init_percentile(y, w, 100 * self.alpha)

    def gradient_hessian(self, y, F, w=None):
        return np.where(y >= F[:, 0], -self.alpha, 1.0 - self.alpha), np.ones(len(y))

    def loss(self, y, F, w):
        diff = y - F[:, 0]
        return float(np.average(np.where(diff >= 0, self.alpha * diff, (self.alpha - 1.0) * diff), weights=w))

    def leaf_value(self, y, F, residual, w):
        return weighted_percentile(y - F[:, 0], w, 100 * self.alpha)


class Huber:
    """Huber loss ``L = ½d²`` if ``|d| ≤ δ`` else ``δ(|d| - δ/2)``, ``d = y - F``, with ``δ`` the
    weighted ``alpha``-quantile of ``|y - F|`` over all training rows, re-estimated every stage;
    leaf value Friedman's M-step ``m + mean(sign(d - m)·min(δ, |d - m|))``, ``m`` the leaf's median
    of ``d``."""

    n_trees_per_iter = 1

    def __init__(self, alpha=0.9):
        self.alpha = alpha
        self.delta = None

    def init(self, y, w):
        return _init_percentile(y, w, 50.0)

    def gradient_hessian(self, y, F, w=None):
        diff = y - F[:, 0]
        self.delta = float(weighted_percentile(np.abs(diff), np.ones(len(y)) if w is None else w, 100 * self.alpha))
        return -np.where(np.abs(diff) <= self.delta, diff, self.delta * np.sign(diff)), np.ones(len(y))

    def loss(self, y, F, w):
        diff = np.abs(y - F[:, 0])
        if self.delta is None:
            d = weighted_percentile(diff, np.ones(len(y)) if w is None else w, 100 * self.alpha)
        else:
            d = self.delta
        return float(np.average(np.where(diff <= d, 0.5 * diff**2, d * (diff - 0.5 * d)), weights=w))

    def leaf_value(self, y, F, residual, w):
        diff = y - F[:, 0]
        median = _weighted_median(diff, w)
        centered = diff - median
        return median + np.average(np.sign(centered) * np.minimum(self.delta, np.abs(centered)), weights=w)


class BinaryLogLoss:
    """``L = -[y log p + (1-y) log(1-p)]``, ``p = σ(F)``; gradient ``p - y``, hessian ``p(1-p)``."""

    n_trees_per_iter = 1

    def init(self, y, w):
        p = np.clip(np.average(y, weights=w), 1e-15, 1 - 1e-15)
        return np.array([np.log(p / (1 - p))])

    def gradient_hessian(self, y, F, w=None):
        p = _sigmoid(F[:, 0])
        return p - y, p * (1 - p)

    def loss(self, y, F, w):
        # log(1 + e^F) - y·F, stably
        return float(np.average(np.logaddexp(0, F[:, 0]) - y * F[:, 0], weights=w))

    def leaf_value(self, y, F, residual, w):
        # one Newton step: Σ w·r / Σ w·p(1-p) with r = y - p
        p = y - residual
        den = np.sum(w * p * (1 - p))
        return np.sum(w * residual) / den if den > 1e-150 else 0.0

    def proba(self, F):
        p = _sigmoid(F[:, 0])
        return np.column_stack([1 - p, p])


class MultinomialLogLoss:
    """``L = -Σ_k y_k log softmax(F)_k``; per class gradient ``p_k - y_k``, hessian ``p_k(1-p_k)``."""

    def __init__(self, n_classes):
        self.n_trees_per_iter = n_classes

    def init(self, Y, w):
        p = np.clip(np.average(Y, axis=0, weights=w), 1e-15, 1)
        return np.log(p) - np.log(p).mean()

    def gradient_hessian_all(self, Y, F):
        P = _softmax(F.copy())
        return P - Y, P * (1 - P)

    def loss(self, Y, F, w):
        logp = F - (np.log(np.exp(F - F.max(1, keepdims=True)).sum(1, keepdims=True)) + F.max(1, keepdims=True))
        return float(np.average(-(Y * logp).sum(1), weights=w))

    def leaf_value_k(self, y_k, residual, w, K):
        # Friedman's multiclass Newton step: (K-1)/K · Σ w·r / Σ w·p(1-p), p = y_k - r
        p = y_k - residual
        den = np.sum(w * p * (1 - p))
        return (K - 1) / K * np.sum(w * residual) / den if den > 1e-150 else 0.0

    def proba(self, F):
        return _softmax(F.copy())
