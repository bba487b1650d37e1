"""AdaBoost (Freund & Schapire): re-weight the samples each round so the next weak learner
focuses on the mistakes, and weight each learner by how good it is."""

from __future__ import annotations

import numbers

import numpy as np

from groundup.errors import hint
from groundup.ml.base import BaseEstimator, ClassifierMixin, RegressorMixin, check_is_fitted, clone
from groundup.metrics import accuracy_score, r2_score
from groundup.ml.ensemble._base import LogProbaMixin, check_predict_X, seeded_clone
from groundup.ml.tree import DecisionTreeClassifier, DecisionTreeRegressor
from groundup.ml.validation import (
    check_classification_targets,
    check_n_features,
    check_random_state,
    check_sample_weight,
    check_X_y,
)

from ._bagging import resolve_learner_categorical

__all__ = ["AdaBoostClassifier", "AdaBoostRegressor", "samme_alpha"]


def samme_alpha(error, n_classes=2, learning_rate=1.0, convention="sklearn"):
    """Weight of a weak learner with weighted error ε.

    ``convention="workshop"``: ``α = ½·ln((1-ε)/ε)`` (two classes, the workshop's formula);
    ``"sklearn"`` (SAMME): ``α = η·(ln((1-ε)/ε) + ln(K-1))`` — twice the workshop's for K = 2,
    which scales all votes equally and so predicts the same; the ``ln(K-1)`` term keeps α > 0 for
    any learner better than chance (ε < 1 - 1/K).
    """
    error = np.asarray(error, dtype=np.float64)
    if convention == "workshop":
        return 0.5 * np.log((1 - error) / error)
    return learning_rate * (np.log((1 - error) / error) + np.log(n_classes - 1))


def _check_common(est):
    owner = type(est).__name__
    if not isinstance(est.n_estimators, numbers.Integral) or est.n_estimators < 1:
        raise ValueError(hint(f"{owner}: n_estimators={est.n_estimators!r}", "pass an int >= 1"))
    if not est.learning_rate > 0:
        raise ValueError(hint(f"{owner}: learning_rate={est.learning_rate!r}", "pass a float > 0"))


def _with_categorical(boost, base, X):
    """``base`` (a clone when it changes) told the categorical columns: the booster's
    ``categorical_features`` checked once against ``X`` before any round (see
    :func:`._bagging.resolve_learner_categorical`); ``is_categorical_`` records the mask."""
    boost.is_categorical_ = resolve_learner_categorical(boost.categorical_features, base, X, type(boost).__name__)
    if boost.categorical_features is None:
        return base
    return clone(base).set_params(categorical_features=boost.is_categorical_)


class _AdaBoostCommon:
    """What both AdaBoosts add on top of their rounds (scikit-learn's names)."""

    @property
    def feature_importances_(self):
        """The learners' importances averaged with their weights: ``Σ_t α_t·imp_t / Σ_t α_t``."""
        check_is_fitted(self, "estimators_")
        weights = self.estimator_weights_
        return sum(a * est.feature_importances_ for a, est in zip(weights, self.estimators_)) / weights.sum()

    def staged_score(self, X, y, sample_weight=None):
        """:meth:`score` (accuracy, or R²) after each round."""
        metric = accuracy_score if self._estimator_type == "classifier" else r2_score
        for pred in self.staged_predict(X):
            yield metric(y, pred, sample_weight=sample_weight)


class AdaBoostClassifier(LogProbaMixin, _AdaBoostCommon, ClassifierMixin, BaseEstimator):
    """AdaBoost-SAMME: each round fits a stump on weights ``w``, computes ``ε = Σ_wrong w / Σ w``,
    ``α = η(ln((1-ε)/ε) + ln(K-1))`` and ``w ← w·e^{α·[wrong]}``; predicts ``argmax_c Σ_t α_t [h_t = c]``.
    ``categorical_features`` is handed to every learner (a stump may then split on a category subset)."""

    _allow_nan = True

    def __init__(self, estimator=None, *, n_estimators=50, learning_rate=1.0, random_state=None,
                 categorical_features=None):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.categorical_features = categorical_features

    def fit(self, X, y, sample_weight=None):
        """Run up to ``n_estimators`` boosting rounds (stops early on a perfect learner)."""
        _check_common(self)
        X, y = check_X_y(X, y, allow_nan=True)
        check_n_features(self, X, reset=True)
        self.classes_ = check_classification_targets(y)
        K = self.n_classes_ = len(self.classes_)
        w = check_sample_weight(sample_weight, X.shape[0]).copy()
        w /= w.sum()
        base = self.estimator if self.estimator is not None else DecisionTreeClassifier(max_depth=1)
        base = self.estimator_ = _with_categorical(self, base, X)
        rng = check_random_state(self.random_state)
        self.estimators_, weights, errors = [], [], []
        for _ in range(self.n_estimators):
            est = seeded_clone(base, rng)
            est.fit(X, y, sample_weight=w)
            wrong = est.predict(X) != y
            error = float(np.sum(w[wrong]) / np.sum(w))
            if error <= 0:  # a perfect learner decides alone
                self.estimators_.append(est)
                weights.append(1.0)
                errors.append(0.0)
                break
            if error >= 1.0 - 1.0 / K:  # no better than chance: stop before it hurts
                if not self.estimators_:
                    raise ValueError(hint(f"AdaBoostClassifier: the first learner is no better than chance "
                                          f"(error {error:.3f} >= {1 - 1 / K:.3f})", "use a stronger estimator"))
                break
            alpha = float(samme_alpha(error, K, self.learning_rate))
            self.estimators_.append(est)
            weights.append(alpha)
            errors.append(error)
            w = w * np.exp(alpha * wrong)
            w /= w.sum()
        self.estimator_weights_ = np.array(weights)
        self.estimator_errors_ = np.array(errors)
        return self

    def _check_X(self, X):
        return check_predict_X(self, X)

    def staged_decision_function(self, X):
        """Normalised votes ``Σ_t α_t·code(h_t(x)) / Σ_t α_t`` after each round, SAMME's coding
        (1 for the predicted class, -1/(K-1) for the others); for two classes one column."""
        X = self._check_X(X)
        K = self.n_classes_
        votes = np.zeros((X.shape[0], K))
        total = 0.0
        for est, alpha in zip(self.estimators_, self.estimator_weights_):
            code = np.where(est.predict(X)[:, None] == self.classes_[None, :], 1.0, -1.0 / (K - 1))
            votes += alpha * code
            total += alpha
            out = votes / total
            yield (out[:, 1] - out[:, 0]) / 2 if K == 2 else out  # binary: like scikit-learn's sign

    def decision_function(self, X):
        """:meth:`staged_decision_function` after the last round."""
        out = None
        for out in self.staged_decision_function(X):
            pass
        return out

    def staged_predict(self, X):
        """Predictions after each round."""
        for d in self.staged_decision_function(X):
            yield self.classes_[(d > 0).astype(int)] if self.n_classes_ == 2 else self.classes_[np.argmax(d, 1)]

    def predict(self, X):
        """``argmax_c Σ_t α_t [h_t(x) = c]``."""
        d = self.decision_function(X)  # checks fitted first
        return self.classes_[(d > 0).astype(int)] if self.n_classes_ == 2 else self.classes_[np.argmax(d, 1)]

    def _proba(self, d):
        if self.n_classes_ == 2:
            d = np.column_stack([-d, d])
        z = d / (self.n_classes_ - 1)
        z = np.exp(z - z.max(1, keepdims=True))
        return z / z.sum(1, keepdims=True)

    def predict_proba(self, X):
        """SAMME probabilities ``softmax(d/(K-1))`` of the decision function ``d``."""
        return self._proba(self.decision_function(X))

    def staged_predict_proba(self, X):
        """:meth:`predict_proba` after each round."""
        for d in self.staged_decision_function(X):
            yield self._proba(d)


class AdaBoostRegressor(_AdaBoostCommon, RegressorMixin, BaseEstimator):
    """AdaBoost.R2 (Drucker 1997): fit on a weighted bootstrap, relative losses ``L_i ∈ [0,1]``,
    ``β = L̄/(1-L̄)``, ``w ← w·β^{η(1-L_i)}``, learner weight ``η ln(1/β)``; predicts the weighted median.
    ``categorical_features`` is handed to every learner."""

    _allow_nan = True

    def __init__(self, estimator=None, *, n_estimators=50, learning_rate=1.0, loss="linear", random_state=None,
                 categorical_features=None):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.loss = loss
        self.random_state = random_state
        self.categorical_features = categorical_features

    def fit(self, X, y, sample_weight=None):
        """Run up to ``n_estimators`` rounds of AdaBoost.R2."""
        _check_common(self)
        if self.loss not in ("linear", "square", "exponential"):
            raise ValueError(hint(f"AdaBoostRegressor: unknown loss={self.loss!r}",
                                  "choose 'linear', 'square' or 'exponential'"))
        X, y = check_X_y(X, y, y_numeric=True, allow_nan=True)
        check_n_features(self, X, reset=True)
        n = X.shape[0]
        w = check_sample_weight(sample_weight, n).copy()
        w /= w.sum()
        base = self.estimator if self.estimator is not None else DecisionTreeRegressor(max_depth=3)
        base = self.estimator_ = _with_categorical(self, base, X)
        rng = check_random_state(self.random_state)
        self.estimators_, weights, errors = [], [], []
        for _ in range(self.n_estimators):
            idx = rng.choice(n, n, replace=True, p=w)
            est = seeded_clone(base, rng).fit(X[idx], y[idx])
            err = np.abs(est.predict(X) - y)
            if err.max() > 0:
                err = err / err.max()
            if self.loss == "square":
                err = err**2
            elif self.loss == "exponential":
                err = 1 - np.exp(-err)
            avg = float(np.sum(w * err))
            if avg <= 0:
                self.estimators_.append(est)
                weights.append(1.0)
                errors.append(0.0)
                break
            if avg >= 0.5:
                if not self.estimators_:
                    self.estimators_.append(est)
                    weights.append(1.0)
                    errors.append(avg)
                break
            beta = avg / (1 - avg)
            self.estimators_.append(est)
            weights.append(self.learning_rate * np.log(1 / beta))
            errors.append(avg)
            w = w * beta ** ((1 - err) * self.learning_rate)
            w /= w.sum()
        self.estimator_weights_ = np.array(weights)
        self.estimator_errors_ = np.array(errors)
        return self

    def _median(self, preds, weights):
        order = np.argsort(preds, axis=1)
        sorted_w = np.asarray(weights)[order]
        cw = np.cumsum(sorted_w, axis=1)
        pick = (cw >= 0.5 * cw[:, -1:]).argmax(axis=1)
        return preds[np.arange(len(preds)), order[np.arange(len(preds)), pick]]

    def staged_predict(self, X):
        """Weighted median of the first t learners, for t = 1, 2, …"""
        X = check_predict_X(self, X)
        preds = np.column_stack([e.predict(X) for e in self.estimators_])
        for t in range(1, len(self.estimators_) + 1):
            yield self._median(preds[:, :t], self.estimator_weights_[:t])

    def predict(self, X):
        """Weighted median of the learners' predictions."""
        out = None
        for out in self.staged_predict(X):
            pass
        return out
