"""Bagging (Breiman 1996): fit one estimator per bootstrap sample, aggregate by vote or mean.

``sample_weight`` has scikit-learn's frequency meaning: each learner's rows are drawn with
probability ``w_i/Σw`` (a row of weight 2 is drawn as often as two copies of it), and a float
``max_samples`` is a share of ``Σw``.

``categorical_features`` (column indices or a boolean mask of ``X``) is handed to every learner,
restricted to the columns that learner sees (``max_features``, ``bootstrap_features``); without it
a learner's own ``categorical_features`` (indices of ``X``) is remapped the same way.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from joblib import Parallel, delayed

from groundup.errors import hint
from groundup.ml.base import BaseEstimator, ClassifierMixin, RegressorMixin
from groundup.ml.ensemble._base import LogProbaMixin, check_predict_X, sample_count, seeded_clone
from groundup.ml.tree import DecisionTreeClassifier, DecisionTreeRegressor
from groundup.ml.tree._categorical import resolve_categorical_features
from groundup.ml.validation import (
    check_classification_targets,
    check_n_features,
    check_random_state,
    check_sample_weight,
    check_X_y,
)

__all__ = ["BaggingClassifier", "BaggingRegressor"]


def _count(value, n, name, owner):
    if isinstance(value, numbers.Integral) and 1 <= value <= n:
        return int(value)
    if isinstance(value, numbers.Real) and 0 < value <= 1:
        return max(1, int(value * n))
    raise ValueError(hint(f"{owner}: {name}={value!r} is out of range for {n}", f"pass an int in [1, {n}] or a float in (0, 1]"))


def resolve_learner_categorical(categorical_features, base, X, owner):
    """Boolean mask of the categorical columns of ``X`` for an ensemble of copies of ``base``
    (``None`` when there are none): the ensemble's ``categorical_features`` if given, otherwise
    ``base``'s own. Checked once, before any learner is fitted; a learner that cannot take the
    mask is refused."""
    takes = "categorical_features" in base.get_params()
    if categorical_features is None:
        spec = base.get_params()["categorical_features"] if takes else None
        return resolve_categorical_features(spec, X, f"{owner}(estimator={type(base).__name__})")
    mask = resolve_categorical_features(categorical_features, X, owner)
    if mask is not None and not takes:
        raise ValueError(hint(f"{owner}: categorical_features={categorical_features!r} but the estimator "
                              f"{type(base).__name__} has no categorical_features parameter",
                              "use a groundup decision tree (the default estimator), or one-hot encode the "
                              "categorical columns"))
    return mask


def _fit_one(est, X, y, rows, cols):
    return est.fit(X[np.ix_(rows, cols)], y[rows])


class BaseBagging(BaseEstimator):
    _allow_nan = True

    def __init__(self, estimator=None, n_estimators=10, *, max_samples=None, max_features=1.0, bootstrap=True,
                 bootstrap_features=False, oob_score=False, n_jobs=None, random_state=None,
                 categorical_features=None):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.max_features = max_features
        self.bootstrap = bootstrap
        self.bootstrap_features = bootstrap_features
        self.oob_score = oob_score
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.categorical_features = categorical_features

    def fit(self, X, y, sample_weight=None):
        """Fit each estimator on rows (and columns) drawn at random; with ``sample_weight``, rows
        drawn with probability proportional to their weight."""
        owner = type(self).__name__
        X, y = check_X_y(X, y, y_numeric=not self._is_classifier, allow_nan=True)
        check_n_features(self, X, reset=True)
        n, p = X.shape
        if not isinstance(self.n_estimators, numbers.Integral) or self.n_estimators < 1:
            raise ValueError(hint(f"{owner}: n_estimators={self.n_estimators!r}", "pass an int >= 1"))
        prob = None
        if sample_weight is not None:
            w = check_sample_weight(sample_weight, n)
            if not w.sum() > 0:
                raise ValueError(hint(f"{owner}: sample_weight sums to {w.sum()}", "give some rows a positive weight"))
            prob = w / w.sum()
            if not self.bootstrap:
                warnings.warn(f"{owner}: with sample_weight, bootstrap=True keeps the weights' frequency meaning "
                              "(rows drawn without replacement are not)", UserWarning, stacklevel=2)
        n_rows = sample_count(self.max_samples, n, None if prob is None else w.sum(), owner)
        if not self.bootstrap and n_rows > (n if prob is None else np.count_nonzero(prob)):
            raise ValueError(hint(f"{owner}: max_samples={self.max_samples!r} asks for {n_rows} rows drawn without "
                                  f"replacement from {n if prob is None else np.count_nonzero(prob)}",
                                  "lower max_samples, or set bootstrap=True"))
        n_cols = _count(self.max_features, p, "max_features", owner)
        if self._is_classifier:
            self.classes_ = check_classification_targets(y)
            self.n_classes_ = len(self.classes_)
        base = self.estimator if self.estimator is not None else self._default()
        self.estimator_ = base  # the template every member is cloned from (scikit-learn's name)
        self.is_categorical_ = resolve_learner_categorical(self.categorical_features, base, X, owner)
        rng = check_random_state(self.random_state)
        self.estimators_samples_, self.estimators_features_, ests = [], [], []
        for _ in range(self.n_estimators):
            if prob is not None:
                rows = rng.choice(n, n_rows, replace=self.bootstrap, p=prob)
            else:
                rows = rng.integers(0, n, n_rows) if self.bootstrap else rng.permutation(n)[:n_rows]
            cols = (rng.integers(0, p, n_cols) if self.bootstrap_features else np.sort(rng.permutation(p)[:n_cols]))
            est = seeded_clone(base, rng)
            if self.is_categorical_ is not None:  # the mask follows the learner's columns
                sub = self.is_categorical_[cols]
                est.set_params(categorical_features=sub if sub.any() else None)
            ests.append(est)
            self.estimators_samples_.append(rows)
            self.estimators_features_.append(cols)
        self.estimators_ = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_one)(e, X, y, r, c) for e, r, c in zip(ests, self.estimators_samples_, self.estimators_features_))
        if self.oob_score:
            self._oob(X, y)
        return self

    def _oob(self, X, y):
        n = X.shape[0]
        width = self.n_classes_ if self._is_classifier else 1
        total, seen = np.zeros((n, width)), np.zeros(n)
        for est, rows, cols in zip(self.estimators_, self.estimators_samples_, self.estimators_features_):
            oob = np.ones(n, dtype=bool)
            oob[rows] = False
            if oob.any():
                total[oob] += self._one(est, X[np.ix_(oob, cols)])
                seen[oob] += 1
        ok = seen > 0
        pred = total[ok] / seen[ok, None]
        if self._is_classifier:
            self.oob_score_ = float(np.mean(self.classes_[pred.argmax(1)] == y[ok]))
        else:
            self.oob_score_ = float(1 - np.sum((y[ok] - pred[:, 0]) ** 2) / np.sum((y[ok] - y[ok].mean()) ** 2))

    def _mean(self, X):
        X = check_predict_X(self, X)
        return sum(self._one(e, X[:, c]) for e, c in zip(self.estimators_, self.estimators_features_)) / len(self.estimators_)


class BaggingClassifier(LogProbaMixin, ClassifierMixin, BaseBagging):
    """Bagged classifiers: probabilities averaged ``(1/B) Σ_b p_b(c|x)`` (votes when a learner has no
    ``predict_proba``); default learner a full decision tree."""

    _is_classifier = True

    def _default(self):
        return DecisionTreeClassifier()

    def _one(self, est, X):
        if hasattr(est, "predict_proba"):
            proba = est.predict_proba(X)
            out = np.zeros((X.shape[0], self.n_classes_))
            out[:, np.searchsorted(self.classes_, est.classes_)] = proba
            return out
        return (est.predict(X)[:, None] == self.classes_[None, :]).astype(np.float64)

    def predict_proba(self, X):
        """Averaged class probabilities."""
        return self._mean(X)

    def predict(self, X):
        """Class with the highest averaged probability."""
        proba = self._mean(X)
        return self.classes_[np.argmax(proba, axis=1)]


class BaggingRegressor(RegressorMixin, BaseBagging):
    """Bagged regressors: ``(1/B) Σ_b f_b(x)``; default learner a full regression tree."""

    _is_classifier = False

    def _default(self):
        return DecisionTreeRegressor()

    def _one(self, est, X):
        return est.predict(X)[:, None]

    def predict(self, X):
        """Mean of the learners' predictions."""
        return self._mean(X)[:, 0]
