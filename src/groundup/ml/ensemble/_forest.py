"""Random forests and extremely randomised trees (Breiman 2001; Geurts et al. 2006).

A forest grows ``n_estimators`` trees, each on a bootstrap sample (rows drawn with replacement,
passed to the tree as integer sample weights) and trying only ``max_features`` random features per
split, which decorrelates the trees; it predicts the average of their class probabilities
(classification) or values (regression). The features are coded once (exact codes: every
threshold between distinct training values stays available, as in scikit-learn) and shared by every
tree. Deep trees are grown level by level; Gini trees on features with at most 256 distinct values
(pixels) and bootstrap counts as weights use a radix-sort split finder that gives the same trees as
the exact sorted finder (see :mod:`groundup.ml.tree._levelwise`). On large classification data
the coded rows are stored class by class (then along two principal directions), so the few rows of
a deep node lie close together in memory; the trees are the same. Trees are grown in parallel
through joblib (``n_jobs``: threads on small data, processes on large data), so joblib's backends
apply; ``n_jobs`` threads also code the columns.

``sample_weight`` (and ``class_weight``) have scikit-learn's frequency meaning: a tree's bootstrap
rows are drawn with probability ``w_i/Σw`` and it is grown on their counts (without ``bootstrap``,
on the weights themselves); a float ``max_samples`` is then a share of ``Σw``.
``class_weight="balanced_subsample"`` balances the classes of each tree's own bootstrap sample.

``categorical_features`` (column indices or a boolean mask; columns of non-negative integer
category codes) is checked once by the forest and handed to every tree: a node may then send a
subset of categories left — the best subset of the categories sorted by class proportion or mean
target (random forests), a random subset (extra trees); see :class:`DecisionTreeClassifier`.
"""

from __future__ import annotations

import numbers
import os
import tempfile

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

from groundup.errors import hint
from groundup.ml.base import BaseEstimator, ClassifierMixin, RegressorMixin, check_is_fitted
from groundup.ml.tree import DecisionTreeClassifier, DecisionTreeRegressor
from groundup.ml.tree._binning import bin_features
from groundup.ml.tree._categorical import resolve_categorical_features
from groundup.ml.tree._classes import compute_sample_weight, tree_feature_importances
from groundup.ml.validation import (
    check_classification_targets,
    check_n_features,
    check_random_state,
    check_sample_weight,
    check_X_y,
)

from ._base import LogProbaMixin, check_predict_X, sample_count

__all__ = ["RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor"]

_TREE_PARAMS = ("criterion", "max_depth", "min_samples_split", "min_samples_leaf", "min_weight_fraction_leaf",
                "max_features", "max_leaf_nodes", "min_impurity_decrease", "ccp_alpha")


def _bootstrap_rows(rng, n, n_draw, prob):
    """``n_draw`` rows drawn with replacement, uniformly (``prob`` None) or with probabilities ``prob``."""
    return rng.integers(0, n, n_draw) if prob is None else rng.choice(n, n_draw, p=prob)


def _bootstrap_counts(rng, n, n_draw, prob):
    """How many times each row is drawn (:func:`_bootstrap_rows`)."""
    return np.bincount(_bootstrap_rows(rng, n, n_draw, prob), minlength=n)


# joblib's preferred backend for the trees. Small data: threads, which start at once and share the
# binned data. Large data (at least ``_PROCESS_MIN_CELLS`` coded cells): processes (loky), each with
# its own GIL. A tree makes thousands of NumPy calls with Python in between; two threads pass the GIL
# back and forth and spend about a third more CPU per tree than one, while the binned data reach a
# worker process as a memory map (joblib writes arrays over 1 MB to shared memory once per fit).
# Measured on full MNIST (2 shared cores, load about 1-1.8): 100 trees in 27 s with processes,
# 34.5 s with threads; 40 trees 12.5-13 s against 16-24 s; on 15,000 rows 3.3 s against 3.7 s, on
# 5,000 rows the same (worker start-up and shipping the data cost about 1.5 s per fit).
# ``joblib.parallel_backend`` (loky, Dask, Ray, threading) overrides the hint; the trees go to the
# jobs in a few batches each. With processes the forest memory-maps the coded matrix itself
# (``Binning.memory_map``): joblib then pickles a file reference per batch, where it would hash the
# ~100 MB of MNIST's codes for every batch in the main process, CPU taken from the workers (100
# trees: 25.1-25.4 s before, 22.8-23.8 s after, same machine and load).
_PROCESS_MIN_CELLS = 1 << 23
_BATCHES_PER_JOB = 4


# classification data with at least this many rows is stored in a locality order (see below)
_LOCALITY_MIN_ROWS = 20_000


def _locality_order(X, y_encoded, rng_seed=0):
    """A row order that places rows likely to share a deep node next to each other in memory: by
    class, then by a coarse bucket (8 quantiles) of the second principal direction, then by the
    first (both from a few power iterations on at most 2,000 rows).

    A deep node holds a few rows scattered over the data set; reading one feature of its rows then
    costs a cache miss per row. Grown on the reordered rows (with every row's bootstrap count,
    class and weight moved along), a Gini tree on integer weights is the same tree: its scores
    are exact integer sums, and ties are broken by positions in code order, not row numbers.
    """
    n = len(X)
    rng = np.random.default_rng(rng_seed)
    S = X[rng.choice(n, min(n, 2000), replace=False)]
    mean = S.mean(axis=0)
    S = S - mean
    dirs = []
    for _ in range(2):
        v = rng.normal(size=X.shape[1])
        for _ in range(12):
            for d in dirs:
                v -= (v @ d) * d
            v = S.T @ (S @ v)
            v /= max(np.linalg.norm(v), 1e-300)
        dirs.append(v)
    z = X @ np.column_stack(dirs)  # (the mean shifts every row alike: no centred copy)
    bucket = np.minimum(8 * np.argsort(np.argsort(z[:, 1], kind="stable"), kind="stable") // n, 7)
    return np.lexsort((z[:, 0], bucket, y_encoded))


def _shared_memory_dir():
    """``/dev/shm`` where it exists (memory-backed, as joblib uses it), else the default temp dir."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def _grow_tree(tree, binning, y_encoded, sample_weight, seed, bootstrap, n_draw, row_order=None, prob=None,
               subsample_balance=None):
    """Grow ``tree``: on bootstrap counts (rows drawn with ``prob``, in the original row order)
    or, without ``bootstrap``, on ``sample_weight``. ``subsample_balance``: the number of classes
    when ``class_weight="balanced_subsample"`` (each drawn row then also weighs
    ``n_draw/(k·n_c)``, ``n_c`` its class's rows in the sample, ``k`` the classes drawn)."""
    rng = np.random.default_rng(seed)
    n = len(sample_weight)
    weight = sample_weight
    if bootstrap:
        counts = _bootstrap_counts(rng, n, n_draw, prob)
        if row_order is not None:  # the rows are stored in this order: counts move along
            counts = counts[row_order]
        weight = counts.astype(np.float64)
        if subsample_balance is not None:  # "balanced" on the sample: n_draw/(k·n_c), k classes drawn
            in_sample = np.bincount(y_encoded, weights=weight, minlength=subsample_balance)
            weight *= (n_draw / (np.count_nonzero(in_sample) * np.maximum(in_sample, 1)))[y_encoded]
    tree._fit(None, None, weight, binning=binning, rng=rng, y_encoded=y_encoded)
    # the per-node statistics served the growing (and pruning) only: without them a grown MNIST tree
    # is ~40% smaller to send back from a worker and to keep (its ``value`` holds what predicts)
    tree.tree_.node_stats = None
    return tree


def _grow_trees(trees, seeds, binning, y_encoded, sample_weight, bootstrap, n_draw, row_order, prob,
                subsample_balance):
    return [_grow_tree(t, binning, y_encoded, sample_weight, s, bootstrap, n_draw, row_order, prob, subsample_balance)
            for t, s in zip(trees, seeds)]


class BaseForest(BaseEstimator):
    """Fitting shared by all forests."""

    _allow_nan = True

    def _make_tree(self):
        params = {k: getattr(self, k) for k in _TREE_PARAMS}
        tree = self._tree_class(splitter=self._splitter, categorical_features=self.categorical_features, **params)
        tree.is_categorical_ = self.is_categorical_  # checked once by the forest, shared by every tree
        return tree

    def _set_categorical(self, X):
        """Resolve ``categorical_features`` against ``X`` once (before any coding or growing):
        ``is_categorical_`` is the boolean mask, None when no column is categorical."""
        self.is_categorical_ = resolve_categorical_features(self.categorical_features, X, type(self).__name__)

    def fit(self, X, y, sample_weight=None):
        """Grow the trees in parallel on bootstrap samples of ``(X, y)``."""
        owner = type(self).__name__
        X, y = check_X_y(X, y, y_numeric=not self._is_classifier, allow_nan=self._splitter != "random")
        check_n_features(self, X, reset=True)
        self._set_categorical(X)
        n = X.shape[0]
        weighted = sample_weight is not None
        sample_weight = check_sample_weight(sample_weight, n)
        if not isinstance(self.n_estimators, numbers.Integral) or self.n_estimators < 1:
            raise ValueError(hint(f"{owner}: n_estimators={self.n_estimators!r}", "pass an int >= 1"))
        if self.oob_score and not self.bootstrap:
            raise ValueError(hint(f"{owner}: oob_score=True needs bootstrap=True",
                                  "out-of-bag rows exist only when trees see bootstrap samples"))
        if self._is_classifier:
            self.classes_ = check_classification_targets(y)
            self.n_classes_ = len(self.classes_)
            y_encoded = np.searchsorted(self.classes_, y)
            cw = self.class_weight
            if cw == "balanced_subsample" and not self.bootstrap:
                cw = "balanced"  # without bootstrap, the sample is the training set (scikit-learn's rule)
            if cw is not None and cw != "balanced_subsample":
                sample_weight = sample_weight * compute_sample_weight(cw, y_encoded, self.n_classes_, self.classes_)
                weighted = True
        else:
            y_encoded = y
        subsample_balance = (self.n_classes_ if self._is_classifier and self.class_weight == "balanced_subsample"
                             and self.bootstrap else None)
        # weighted bootstrap (scikit-learn's frequency meaning): rows drawn with probability w/Σw
        prob = None
        if weighted and self.bootstrap:
            if not sample_weight.sum() > 0:
                raise ValueError(hint(f"{owner}: sample_weight sums to {sample_weight.sum()}",
                                      "give some rows a positive weight"))
            prob = sample_weight / sample_weight.sum()
        n_draw = (sample_count(self.max_samples, n, None if prob is None else sample_weight.sum(), owner, most=n)
                  if self.bootstrap else n)
        if self._splitter == "random" and np.isnan(X).any():
            raise ValueError(hint(f"{owner}: X contains NaN", "extra trees need complete data; impute first"))
        binning = bin_features(X, n_jobs=self.n_jobs)  # columns coded in threads
        row_order, y_fit, w_fit = None, y_encoded, sample_weight
        # the trees' weights are whole numbers: bootstrap counts, or integer sample weights
        whole = (self.bootstrap and subsample_balance is None) or np.all(sample_weight == np.floor(sample_weight))
        if (self._is_classifier and self.criterion == "gini" and n >= _LOCALITY_MIN_ROWS
                and not binning.has_missing and whole):
            # exact codes do not depend on the row order: the coded rows are reordered
            row_order = _locality_order(X, y_encoded)
            y_fit, w_fit = y_encoded[row_order], sample_weight[row_order]
            binning.codes = binning.codes[row_order]
            binning._columns = binning._above_lowest = None
        binning.columns()  # made once, shared by the trees
        binning.above_lowest()
        prefer = "processes" if n * X.shape[1] >= _PROCESS_MIN_CELLS else "threads"
        rng = check_random_state(self.random_state)
        seeds = rng.integers(0, 2**63 - 1, self.n_estimators)
        trees = []
        for seed in seeds.tolist():
            tree = self._make_tree()
            # as scikit-learn: each tree keeps the seed it is grown with (an unbagged tree refits alike)
            tree.set_params(random_state=seed)
            tree.n_features_in_ = X.shape[1]
            tree.n_outputs_ = 1
            if self._is_classifier:
                tree.classes_, tree.n_classes_ = self.classes_, self.n_classes_
            trees.append(tree)
        trees[0]._validate_params(n)  # bad parameters fail before any work
        # a few batches of trees per job: a worker process receives the shared data once per batch
        n_batches = min(len(trees), _BATCHES_PER_JOB * effective_n_jobs(self.n_jobs))
        with tempfile.TemporaryDirectory(prefix="groundup-forest-", dir=_shared_memory_dir(),
                                         ignore_cleanup_errors=True) as folder:
            if prefer == "processes" and n_batches > 1:
                binning.memory_map(folder)  # the workers get file references, not 100 MB each batch
            grown = Parallel(n_jobs=self.n_jobs, prefer=prefer)(
                delayed(_grow_trees)([trees[i] for i in idx], seeds[idx], binning, y_fit, w_fit, self.bootstrap,
                                     n_draw, row_order, prob, subsample_balance)
                for idx in np.array_split(np.arange(len(trees)), n_batches))
            del binning  # (the memory maps close before their files go)
        self.estimators_ = [t for batch in grown for t in batch]
        self.estimator_ = self._make_tree()  # the template of the trees (scikit-learn's name)
        self.n_outputs_ = 1
        self._seeds = seeds
        self._n_draw = n_draw
        self._n_rows = n
        self._bootstrap_prob = prob
        if self.oob_score:
            self._set_oob_score(X, y_encoded, seeds, n_draw)
        return self

    @property
    def estimators_samples_(self):
        """The rows each tree was grown on: its bootstrap draw (repeats included), or every row
        without ``bootstrap``."""
        check_is_fitted(self, "estimators_")
        n = self._n_rows
        if not self.bootstrap:
            return [np.arange(n) for _ in self._seeds]
        return [_bootstrap_rows(np.random.default_rng(seed), n, self._n_draw, self._bootstrap_prob)
                for seed in self._seeds]

    def _in_bag(self, seed, n, n_draw):
        return _bootstrap_counts(np.random.default_rng(seed), n, n_draw, getattr(self, "_bootstrap_prob", None)) > 0

    def _set_oob_score(self, X, y_encoded, seeds, n_draw):
        n = X.shape[0]
        width = self.n_classes_ if self._is_classifier else 1
        total = np.zeros((n, width))
        seen = np.zeros(n)
        for tree, seed in zip(self.estimators_, seeds):
            oob = ~self._in_bag(seed, n, n_draw)
            total[oob] += tree.tree_.value[tree.tree_.apply(X[oob]), 0, :]
            seen[oob] += 1
        ok = seen > 0
        pred = total[ok] / seen[ok, None]
        if self._is_classifier:
            self.oob_decision_function_ = np.where(ok[:, None], total / np.maximum(seen, 1)[:, None], np.nan)
            self.oob_score_ = float(np.mean(pred.argmax(1) == y_encoded[ok]))
        else:
            self.oob_prediction_ = np.where(ok, total[:, 0] / np.maximum(seen, 1), np.nan)
            y = y_encoded[ok]
            self.oob_score_ = float(1 - np.sum((y - pred[:, 0]) ** 2) / np.sum((y - y.mean()) ** 2))

    def _check_X(self, X):
        return check_predict_X(self, X, allow_nan=self._allow_nan)

    def _mean_value(self, X):
        X = self._check_X(X)
        total = None
        for tree in self.estimators_:
            v = tree.tree_.value[tree.tree_.apply(X), 0, :]
            total = v if total is None else total + v
        return total / len(self.estimators_)

    def apply(self, X):
        """Leaf index of every sample in every tree, shape (n_samples, n_estimators)."""
        X = self._check_X(X)
        return np.column_stack([t.tree_.apply(X) for t in self.estimators_])

    @property
    def feature_importances_(self):
        """Mean over trees of each tree's normalised impurity-decrease importances."""
        check_is_fitted(self, "estimators_")
        imps = [tree_feature_importances(t.tree_, self.n_features_in_) for t in self.estimators_]
        mean = np.mean(imps, axis=0)
        return mean / mean.sum() if mean.sum() > 0 else mean


class ForestClassifierMixin(LogProbaMixin, ClassifierMixin):
    _is_classifier = True
    _tree_class = DecisionTreeClassifier

    def predict_proba(self, X):
        """Class probabilities averaged over the trees: ``(1/B) Σ_b p_b(c | x)``."""
        return self._mean_value(X)

    def predict(self, X):
        """Class with the highest averaged probability."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class ForestRegressorMixin(RegressorMixin):
    _is_classifier = False
    _tree_class = DecisionTreeRegressor

    def predict(self, X):
        """Average of the trees' predictions: ``(1/B) Σ_b f_b(x)``."""
        return self._mean_value(X)[:, 0]


def _forest_init(self, n_estimators, criterion, max_depth, min_samples_split, min_samples_leaf,
                 min_weight_fraction_leaf, max_features, max_leaf_nodes, min_impurity_decrease, bootstrap,
                 oob_score, n_jobs, random_state, ccp_alpha, max_samples):
    self.n_estimators = n_estimators
    self.criterion = criterion
    self.max_depth = max_depth
    self.min_samples_split = min_samples_split
    self.min_samples_leaf = min_samples_leaf
    self.min_weight_fraction_leaf = min_weight_fraction_leaf
    self.max_features = max_features
    self.max_leaf_nodes = max_leaf_nodes
    self.min_impurity_decrease = min_impurity_decrease
    self.bootstrap = bootstrap
    self.oob_score = oob_score
    self.n_jobs = n_jobs
    self.random_state = random_state
    self.ccp_alpha = ccp_alpha
    self.max_samples = max_samples


class RandomForestClassifier(ForestClassifierMixin, BaseForest):
    """Random forest classifier: bagged CART trees, ``max_features="sqrt"`` random features per split,
    prediction ``argmax_c (1/B) Σ_b p_b(c | x)``. ``oob_score`` estimates accuracy on out-of-bag rows."""

    _splitter = "best"

    def __init__(self, n_estimators=100, *, criterion="gini", max_depth=None, min_samples_split=2,
                 min_samples_leaf=1, min_weight_fraction_leaf=0.0, max_features="sqrt", max_leaf_nodes=None,
                 min_impurity_decrease=0.0, bootstrap=True, oob_score=False, n_jobs=None, random_state=None,
                 class_weight=None, ccp_alpha=0.0, max_samples=None, categorical_features=None):
        _forest_init(self, n_estimators, criterion, max_depth, min_samples_split, min_samples_leaf,
                     min_weight_fraction_leaf, max_features, max_leaf_nodes, min_impurity_decrease, bootstrap,
                     oob_score, n_jobs, random_state, ccp_alpha, max_samples)
        self.categorical_features = categorical_features
        self.class_weight = class_weight


class RandomForestRegressor(ForestRegressorMixin, BaseForest):
    """Random forest regressor: bagged CART regression trees averaged, ``(1/B) Σ_b f_b(x)``.

    ``max_features`` defaults to 1.0 (all features) like scikit-learn; the workshop's rule of thumb
    p/3 is ``max_features=1/3``.
    """

    _splitter = "best"

    def __init__(self, n_estimators=100, *, criterion="squared_error", max_depth=None, min_samples_split=2,
                 min_samples_leaf=1, min_weight_fraction_leaf=0.0, max_features=1.0, max_leaf_nodes=None,
                 min_impurity_decrease=0.0, bootstrap=True, oob_score=False, n_jobs=None, random_state=None,
                 ccp_alpha=0.0, max_samples=None, categorical_features=None):
        _forest_init(self, n_estimators, criterion, max_depth, min_samples_split, min_samples_leaf,
                     min_weight_fraction_leaf, max_features, max_leaf_nodes, min_impurity_decrease, bootstrap,
                     oob_score, n_jobs, random_state, ccp_alpha, max_samples)
        self.categorical_features = categorical_features


class ExtraTreesClassifier(ForestClassifierMixin, BaseForest):
    """Extremely randomised trees: one uniform random threshold per tried feature, no bootstrap by
    default; prediction ``argmax_c (1/B) Σ_b p_b(c | x)``."""

    _splitter = "random"
    _allow_nan = False

    def __init__(self, n_estimators=100, *, criterion="gini", max_depth=None, min_samples_split=2,
                 min_samples_leaf=1, min_weight_fraction_leaf=0.0, max_features="sqrt", max_leaf_nodes=None,
                 min_impurity_decrease=0.0, bootstrap=False, oob_score=False, n_jobs=None, random_state=None,
                 class_weight=None, ccp_alpha=0.0, max_samples=None, categorical_features=None):
        _forest_init(self, n_estimators, criterion, max_depth, min_samples_split, min_samples_leaf,
                     min_weight_fraction_leaf, max_features, max_leaf_nodes, min_impurity_decrease, bootstrap,
                     oob_score, n_jobs, random_state, ccp_alpha, max_samples)
        self.categorical_features = categorical_features
        self.class_weight = class_weight


class ExtraTreesRegressor(ForestRegressorMixin, BaseForest):
    """Extremely randomised regression trees averaged: ``(1/B) Σ_b f_b(x)``."""

    _splitter = "random"
    _allow_nan = False

    def __init__(self, n_estimators=100, *, criterion="squared_error", max_depth=None, min_samples_split=2,
                 min_samples_leaf=1, min_weight_fraction_leaf=0.0, max_features=1.0, max_leaf_nodes=None,
                 min_impurity_decrease=0.0, bootstrap=False, oob_score=False, n_jobs=None, random_state=None,
                 ccp_alpha=0.0, max_samples=None, categorical_features=None):
        _forest_init(self, n_estimators, criterion, max_depth, min_samples_split, min_samples_leaf,
                     min_weight_fraction_leaf, max_features, max_leaf_nodes, min_impurity_decrease, bootstrap,
                     oob_score, n_jobs, random_state, ccp_alpha, max_samples)
        self.categorical_features = categorical_features
