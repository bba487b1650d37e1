"""Rosenblatt's perceptron."""

from __future__ import annotations

import warnings

import numpy as np

from groundup.errors import ConvergenceWarning, hint
from groundup.ml.base import BaseEstimator, ClassifierMixin
from groundup.ml.linear_model._base import LinearClassifierMixin
from groundup.ml.validation import (
    check_classification_targets,
    check_n_features,
    check_random_state,
    check_X_y,
)

__all__ = ["Perceptron"]


class Perceptron(LinearClassifierMixin, ClassifierMixin, BaseEstimator):
    """Rosenblatt's perceptron: predict sign(wᵀx + b); for each misclassified sample
    (yᵢ(wᵀxᵢ + b) ≤ 0 with yᵢ ∈ {−1, +1}) update w ← w + η yᵢ xᵢ, b ← b + η yᵢ.

    Epochs run until one makes no mistake (the data are then separated — guaranteed to happen for
    linearly separable data by the perceptron convergence theorem) or ``max_iter`` epochs pass; on
    data that are not separable (XOR) it never stops by itself and a :class:`ConvergenceWarning`
    says so. More than two classes: one perceptron per class (one-vs-rest), updated together.
    Attributes: ``coef_`` (1 or n_classes, n_features), ``intercept_``, ``classes_``, ``n_iter_``
    (epochs run), ``errors_`` (mistakes per epoch).
    """

    def __init__(self, *, eta0: float = 1.0, max_iter: int = 1000, fit_intercept: bool = True, shuffle: bool = False, random_state=None):
        self.eta0 = eta0
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.shuffle = shuffle
        self.random_state = random_state

    def fit(self, X, y):
        """Run the perceptron rule on ``X`` (n_samples, n_features) and labels ``y`` (n_samples,)."""
        if not self.eta0 > 0:
            raise ValueError(hint(f"eta0={self.eta0!r} must be positive", "try eta0=1.0"))
        X, y = check_X_y(X, y)
        check_n_features(self, X, reset=True)
        self.classes_ = check_classification_targets(y)
        index = np.searchsorted(self.classes_, y)
        k = 1 if len(self.classes_) == 2 else len(self.classes_)
        # Targets in {−1, +1}: for two classes one column, otherwise one column per class (one-vs-rest).
        T = (2.0 * index - 1.0)[:, None] if k == 1 else np.where(index[:, None] == np.arange(k), 1.0, -1.0)
        n, d = X.shape
        W = np.zeros((k, d))
        b = np.zeros(k)
        rng = check_random_state(self.random_state)
        eta = float(self.eta0)
        errors = []
        for _epoch in range(int(self.max_iter)):
            order = rng.permutation(n) if self.shuffle else range(n)
            mistakes = 0
            # The rule is sequential by nature: each update changes the next sample's score.
            for i in order:
                x, t = X[i], T[i]
                wrong = t * (W @ x + b) <= 0
                if wrong.any():
                    mistakes += 1
                    step = eta * np.where(wrong, t, 0.0)
                    W += step[:, None] * x
                    if self.fit_intercept:
                        b += step
            errors.append(mistakes)
            if mistakes == 0:
                break
        self.coef_, self.intercept_ = W, b
        self.n_iter_ = len(errors)
        self.errors_ = np.asarray(errors)
        if errors[-1] > 0:
            warnings.warn(
                f"Perceptron did not converge: {errors[-1]} of {n} samples still misclassified after "
                f"max_iter={self.max_iter} epochs; help: the classes may not be linearly separable (like XOR) — "
                "use a nonlinear model or features, or raise max_iter",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self
