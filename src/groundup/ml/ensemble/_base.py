"""What the ensembles share: seeding members, log-probabilities."""

from __future__ import annotations

import numbers

import numpy as np

from groundup.errors import hint
from groundup.ml.base import check_is_fitted, clone
from groundup.ml.tree._categorical import check_categorical_input
from groundup.ml.validation import check_array, check_n_features


def check_predict_X(est, X, fitted="estimators_", allow_nan=True):
    """``X`` checked for an ensemble's predictions (fitted, as many features as in fit, known
    category codes) and C-contiguous: its trees read rows through flat indices, so one copy of a
    column-major ``X`` here saves one per tree."""
    check_is_fitted(est, fitted)
    X = check_array(X, allow_nan=allow_nan)
    check_n_features(est, X, reset=False)
    check_categorical_input(X, getattr(est, "is_categorical_", None), type(est).__name__)
    return np.ascontiguousarray(X)


def sample_count(max_samples, n, weight_sum, owner, most=None):
    """Rows each member draws, as scikit-learn: None → ``n``; an int (at most ``most``, when
    given); a float in (0, 1] → that share of the rows, or of ``Σw`` (``weight_sum``) when the
    draw is weighted."""
    if max_samples is None:
        return n
    whole = isinstance(max_samples, numbers.Integral) and not isinstance(max_samples, bool)
    if whole and 1 <= max_samples <= (most or max_samples):
        return int(max_samples)
    if not whole and isinstance(max_samples, numbers.Real) and not isinstance(max_samples, bool) and 0 < max_samples <= 1:
        return max(1, int(max_samples * (n if weight_sum is None else weight_sum)))
    ints = f"an int in [1, {most}]" if most else "an int >= 1"
    raise ValueError(hint(f"{owner}: max_samples={max_samples!r} is out of range for {n} samples",
                          f"pass None, {ints} or a float in (0, 1]"))


class LogProbaMixin:
    """``predict_log_proba(X) = log predict_proba(X)`` (``-inf`` where a probability is 0)."""

    def predict_log_proba(self, X):
        """``log p(c|x)`` of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


def seeded_clone(base, rng):
    """An unfitted copy of ``base`` whose ``random_state`` (if it has one) is drawn from ``rng``, as
    scikit-learn seeds an ensemble's members: refitting the ensemble with the same seed refits the
    same members (a tree breaks ties between features at random, for one)."""
    est = clone(base)
    if "random_state" in est.get_params():
        est.set_params(random_state=int(rng.integers(2**31 - 1)))
    return est
