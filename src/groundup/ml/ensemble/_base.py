"""What the ensembles share: seeding members, log-probabilities."""

from __future__ import annotations

import numpy as np

from groundup.ml.base import clone


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
