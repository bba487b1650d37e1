"""What the meta-ensembles (bagging, AdaBoost) share."""

from __future__ import annotations

from groundup.ml.base import clone


def seeded_clone(base, rng):
    """An unfitted copy of ``base`` whose ``random_state`` (if it has one) is drawn from ``rng``, as
    scikit-learn seeds an ensemble's members: refitting the ensemble with the same seed refits the
    same members (a tree breaks ties between features at random, for one)."""
    est = clone(base)
    if "random_state" in est.get_params():
        est.set_params(random_state=int(rng.integers(2**31 - 1)))
    return est
