"""Gradient boosting, first order (Friedman) and second order (XGBoost-style histogram boosting).

``GradientBoosting*`` is the workshop's algorithm: start from the constant ``F₀ = argmin_c Σ L(yᵢ, c)``;
at each stage fit a regression tree to the residuals ``rᵢ = -∂L/∂F(xᵢ)``, set each leaf to the
loss's line-search value, and add it shrunk: ``F ← F + η·h``. Its trees use Friedman's MSE on the
exact feature values (or, with ``max_bins``, on quantile bins). With ``categorical_features`` a
node may send a subset of categories left: the best prefix of the categories sorted by their mean
residual (Breiman's ordering, the optimal subset under squared error); such trees are grown node
by node rather than on presorted features.

``HistGradientBoosting*`` uses gradients ``g`` *and* hessians ``h``: a leaf's weight is
``-G/(H+λ)`` and a split's gain ``½[G_L²/(H_L+λ) + G_R²/(H_R+λ) - G²/(H+λ)] - γ``, searched on
histograms of ≤ 255 bins per feature, leaves grown best-first. ``explain_split`` shows those terms.
``categorical_features`` (indices or a boolean mask; non-negative integer codes, at most
``max_bins`` categories per column) lets a node send a subset of categories left: the categories
are sorted by ``G/(H + 10)`` (LightGBM's and scikit-learn's ``cat_smooth``) and scanned like an
ordered feature; a category unseen in training goes right (see :mod:`groundup.ml.tree._categorical`).
"""

from __future__ import annotations

import numbers
import os

import numpy as np

from groundup.errors import hint
from groundup.ml.base import BaseEstimator, ClassifierMixin, RegressorMixin, check_is_fitted
from groundup.ml.tree import DecisionTreeRegressor
from groundup.ml.tree._binning import bin_features
from groundup.ml.tree._categorical import resolve_categorical_features
from groundup.ml.tree._classes import compute_sample_weight, resolve_max_features, tree_feature_importances
from groundup.ml.tree._criterion import FriedmanMSE, NewtonGain
from groundup.ml.tree._criterion import SquaredError as SquaredErrorCriterion
from groundup.ml.tree._ties import root_key

from ._base import LogProbaMixin, check_predict_X
from groundup.ml.tree._tree import _Builder
from groundup.ml.validation import (
    check_array,
    check_classification_targets,
    check_n_features,
    check_random_state,
    check_sample_weight,
    check_X_y,
)

from . import _losses
from ._class_trees import ClassTreePool
from ._hist_grower import _DENSE_SCAN, HistData
from ._hist_grower import grow_tree as grow_hist_tree
from ._presorted import PresortedFeatures, grow_tree, sync_exact_bin_thresholds

__all__ = ["GradientBoostingClassifier", "GradientBoostingRegressor", "HistGradientBoostingClassifier",
           "HistGradientBoostingRegressor"]


# multinomial boosting grows its class trees in worker processes from this much work (iterations ×
# classes × rows × features; ~8 s of single-process growth on MNIST): below it, starting a worker
# (~0.7 s: a fresh interpreter importing NumPy and groundup) does not pay
_MIN_PARALLEL_WORK = 1e9


def _n_threads():
    """Parallel workers for histogram boosting (the calling process and worker processes), as
    scikit-learn's OpenMP threads: ``OMP_NUM_THREADS`` if set, else the CPUs this process may run on."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    env = os.environ.get("OMP_NUM_THREADS", "")
    return max(1, min(cpus, int(env))) if env.isdigit() else cpus


def _validation_split(n, fraction, rng, y_encoded=None, owner="", counts=False):
    """Random (stratified for classes) split of row indices into train and validation.

    ``fraction``: the share of rows held out, a float in (0, 1), or with ``counts`` (histogram
    boosting, as scikit-learn's) also an int: that many rows."""
    if counts and isinstance(fraction, numbers.Integral) and not isinstance(fraction, bool):
        if not 1 <= fraction < n:
            raise ValueError(hint(f"{owner}: validation_fraction={fraction!r} rows of {n}",
                                  f"pass an int in [1, {n - 1}], a float in (0, 1) or None"))
        fraction = fraction / n
    elif not (isinstance(fraction, numbers.Real) and not isinstance(fraction, bool) and 0 < fraction < 1):
        raise ValueError(hint(f"{owner}: validation_fraction={fraction!r}",
                              "pass a float in (0, 1)" + (", an int number of rows or None" if counts else "")))
    if y_encoded is None:
        perm = rng.permutation(n)
        n_val = max(1, int(np.ceil(fraction * n)))
        return np.sort(perm[n_val:]), np.sort(perm[:n_val])
    val = []
    for c in np.unique(y_encoded):
        idx = rng.permutation(np.flatnonzero(y_encoded == c))
        val.append(idx[: max(1, int(round(fraction * len(idx))))])
    val = np.sort(np.concatenate(val))
    mask = np.ones(n, dtype=bool)
    mask[val] = False
    return np.flatnonzero(mask), val


class _BoostingCommon(BaseEstimator):
    """Target encoding, loss choice, raw predictions and staging shared by both boosters."""

    _allow_nan = True

    def _encode_targets(self, X, y):
        if self._is_classifier:
            self.classes_ = check_classification_targets(y)
            self.n_classes_ = len(self.classes_)
            y_enc = np.searchsorted(self.classes_, y)
            if self.n_classes_ == 2:
                return y_enc.astype(np.float64), _losses.BinaryLogLoss(), y_enc
            Y = np.eye(self.n_classes_)[y_enc]
            return Y, _losses.MultinomialLogLoss(self.n_classes_), y_enc
        losses = {"squared_error": _losses.SquaredError, "absolute_error": _losses.AbsoluteError,
                  "huber": lambda: _losses.Huber(self.alpha), "quantile": lambda: _losses.Quantile(self.alpha)}
        if self.loss not in self._losses_allowed:
            raise ValueError(hint(f"{type(self).__name__}: unknown loss={self.loss!r}",
                                  f"choose one of {list(self._losses_allowed)}"))
        return y, losses[self.loss](), None

    def _check_X(self, X):
        return check_predict_X(self, X, fitted="_stages")

    def _raw_stages(self, X):
        """Yield the raw scores ``F_m(x)`` after each stage m = 1, 2, …"""
        X = self._check_X(X)
        F = np.tile(self._baseline, (X.shape[0], 1))
        for stage in self._stages:
            for k, tree in enumerate(stage):
                F[:, k] += tree.value[tree.apply(X), 0, 0]
            yield F

    def _raw(self, X):
        F = None
        for F in self._raw_stages(X):
            pass
        if F is None:
            X = check_array(X, allow_nan=True)
            F = np.tile(self._baseline, (X.shape[0], 1))
        return F

    def _proba_from_raw(self, F):
        return self._loss_obj.proba(F)

    # public prediction API --------------------------------------------------------------
    def decision_function(self, X):
        """Raw score ``F(x) = F₀ + η Σ_m h_m(x)`` (a column per class when there are > 2 classes)."""
        F = self._raw(X)
        return F[:, 0] if F.shape[1] == 1 else F

    def staged_decision_function(self, X):
        """:meth:`decision_function` after each stage."""
        for F in self._raw_stages(X):
            yield F[:, 0].copy() if F.shape[1] == 1 else F.copy()

    def predict(self, X):
        """Class with the highest probability (classifier) or ``F(x)`` (regressor)."""
        F = self._raw(X)
        if self._is_classifier:
            return self.classes_[np.argmax(self._proba_from_raw(F), axis=1)]
        return F[:, 0]

    def staged_predict(self, X):
        """:meth:`predict` after each stage (to watch the ensemble learn)."""
        for F in self._raw_stages(X):
            if self._is_classifier:
                yield self.classes_[np.argmax(self._proba_from_raw(F), axis=1)]
            else:
                yield F[:, 0].copy()

    def _check_common(self):
        owner = type(self).__name__
        if not isinstance(self._n_iter_param, numbers.Integral) or self._n_iter_param < 1:
            raise ValueError(hint(f"{owner}: number of iterations {self._n_iter_param!r}", "pass an int >= 1"))
        if not (isinstance(self.learning_rate, numbers.Real) and self.learning_rate > 0):
            raise ValueError(hint(f"{owner}: learning_rate={self.learning_rate!r}", "pass a float > 0"))


class _ProbaMixin(LogProbaMixin):
    def predict_proba(self, X):
        """Class probabilities: ``σ(F)`` for two classes, ``softmax(F)`` for more."""
        return self._proba_from_raw(self._raw(X))

    def staged_predict_proba(self, X):
        """:meth:`predict_proba` after each stage."""
        for F in self._raw_stages(X):
            yield self._proba_from_raw(F)


def _line_search(tree, loss, K, k, leaf, y, F, r, w, learning_rate):
    """Set every leaf of ``tree`` (class ``k``'s tree) to ``η`` times the loss's optimal constant on
    its rows (``leaf[i]`` is row ``i``'s leaf, ``-1`` for unused rows): one ``bincount`` per sum for
    the log-losses (Newton step ``Σw·r / Σw·p(1-p)`` with ``p = y - r``; Friedman's
    ``(K-1)/K · Σw·r / Σw·p(1-p)`` for K classes) and squared error (``Σw·r / Σw``); a loop over
    leaves for the quantile-based losses."""
    is_leaf = tree.children_left == -1
    used = leaf >= 0
    idx, wu, ru = leaf[used], w[used], r[used]
    size = tree.node_count
    if K > 1 or isinstance(loss, (_losses.BinaryLogLoss, _losses.SquaredError)):
        num = np.bincount(idx, weights=wu * ru, minlength=size)
        if K > 1:
            p = y[used, k] - ru
            den = np.bincount(idx, weights=wu * p * (1 - p), minlength=size)
            scale = (K - 1) / K
        elif isinstance(loss, _losses.BinaryLogLoss):
            p = y[used] - ru
            den = np.bincount(idx, weights=wu * p * (1 - p), minlength=size)
            scale = 1.0
        else:
            den = np.bincount(idx, weights=wu, minlength=size)
            scale = 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(den > 1e-150, scale * num / den, 0.0)
        tree.value[is_leaf, 0, 0] = v[is_leaf] * learning_rate
        return
    rows_used = np.flatnonzero(used)
    order = np.argsort(idx, kind="stable")
    bounds = np.flatnonzero(np.diff(idx[order])) + 1
    for rows in np.split(rows_used[order], bounds):
        node = leaf[rows[0]]
        tree.value[node, 0, 0] = loss.leaf_value(y[rows], F[rows], r[rows], w[rows]) * learning_rate


def _stopping(history, n_iter_no_change, tol):
    """scikit-learn's rule for first-order boosting: stop when the newest validation loss is not
    below any of the ``n_iter_no_change`` losses before it by more than ``tol``."""
    if n_iter_no_change is None or len(history) <= n_iter_no_change:
        return False
    newest = history[-1] + tol
    return not any(newest < h for h in history[-n_iter_no_change - 1:-1])


def _no_improvement(scores, n_iter_no_change, tol):
    """scikit-learn's rule for histogram boosting: stop when none of the last ``n_iter_no_change``
    scores (higher is better) beats the score before them by more than ``tol``."""
    if len(scores) <= n_iter_no_change:
        return False
    reference = scores[-n_iter_no_change - 1] + tol
    return not any(s > reference for s in scores[-n_iter_no_change:])


class BaseGradientBoosting(_BoostingCommon):
    """Friedman's first-order gradient boosting (see the module docstring)."""

    def apply(self, X):
        """The leaf each sample reaches in every tree: shape ``(n_samples, n_estimators, K)`` for a
        classifier (``K = 1`` with two classes), ``(n_samples, n_estimators)`` for a regressor."""
        X = self._check_X(X)
        leaves = np.array([[tree.apply(X) for tree in stage] for stage in self._stages]).transpose(2, 0, 1)
        return leaves if self._is_classifier else leaves[:, :, 0]

    presort = True  # exact trees on features sorted once per fit; False: the node-at-a-time builder

    @property
    def _n_iter_param(self):
        return self.n_estimators

    @staticmethod
    def _inbag_mask(n, n_inbag, rng):
        """Stage's subsample: a boolean mask with ``n_inbag`` rows drawn without replacement."""
        inbag = np.zeros(n, dtype=bool)
        inbag[rng.choice(n, n_inbag, replace=False)] = True
        return inbag

    def fit(self, X, y, sample_weight=None):
        """Fit ``n_estimators`` stages of residual-fitting regression trees."""
        self._check_common()
        X, y = check_X_y(X, y, y_numeric=not self._is_classifier, allow_nan=True)
        check_n_features(self, X, reset=True)
        # checked once, before any work; binned codes must keep each category in its own bin
        self.is_categorical_ = resolve_categorical_features(self.categorical_features, X, type(self).__name__,
                                                            max_categories=self.max_bins)
        w_all = check_sample_weight(sample_weight, X.shape[0])
        if not 0.0 < self.subsample <= 1.0:
            raise ValueError(hint(f"{type(self).__name__}: subsample={self.subsample!r}", "pass a float in (0, 1]"))
        target, loss, y_enc = self._encode_targets(X, y)
        self._loss_obj = loss
        rng = check_random_state(self.random_state)
        train = np.arange(X.shape[0])
        val = None
        if self.n_iter_no_change is not None:
            train, val = _validation_split(X.shape[0], self.validation_fraction, rng, y_enc, type(self).__name__)
        Xt, yt, wt = (X if val is None else X[train]), target[train], w_all[train]  # no copy of X without a split
        n = len(train)
        max_features = resolve_max_features(self.max_features, X.shape[1], type(self).__name__)
        binning = bin_features(Xt, max_bins=self.max_bins)
        # no sample weights: the quantile losses start from np.percentile (interpolated), as scikit-learn
        self._baseline = loss.init(yt, None if sample_weight is None else wt)
        K = len(self._baseline)
        F = np.tile(self._baseline, (n, 1))
        Fv = np.tile(self._baseline, (len(val), 1)) if val is not None else None
        crit = FriedmanMSE() if self.criterion == "friedman_mse" else SquaredErrorCriterion()
        self._stages, self.train_score_, self.oob_scores_ = [], [], []
        val_history = []
        missing = binning.missing_code if binning.has_missing else None
        presorted = None
        # exact codes (max_bins=None): presorted level-wise trees; binned codes are faster on the
        # histogram route of the shared builder
        if (self.presort and self.max_bins is None and not binning.has_missing and self.max_leaf_nodes is None
                and max_features >= X.shape[1] and self.is_categorical_ is None):
            presorted = PresortedFeatures(binning)
        unit_all = bool(np.all(wt == 1.0))
        for _ in range(self.n_estimators):
            inbag = np.ones(n, dtype=bool)
            if self.subsample < 1.0:
                inbag = self._inbag_mask(n, max(1, int(self.subsample * n)), rng)
            w = np.where(inbag, wt, 0.0)
            if K == 1:
                grad, _ = loss.gradient_hessian(yt, F, wt)  # Huber's δ: over all training rows
                residuals = [-grad]
            else:
                G, _ = loss.gradient_hessian_all(yt, F)
                residuals = [-G[:, k] for k in range(K)]
            stage = []
            keep = None if inbag.all() and np.all(wt != 0) else w != 0
            unit = bool(np.all(w[keep] == 1.0)) if keep is not None else unit_all
            for k, r in enumerate(residuals):
                stats = np.column_stack([np.ones(n), w, w * r, w * r * r])
                if presorted is not None:
                    # exact splits on features sorted once per fit (see _presorted)
                    tree, leaf = grow_tree(presorted, stats, crit, max_depth=self.max_depth,
                                           min_samples_split=self.min_samples_split,
                                           min_samples_leaf=self.min_samples_leaf,
                                           min_impurity_decrease=self.min_impurity_decrease, keep=keep,
                                           unit_weight=unit, root_key=root_key(rng))
                    _line_search(tree, loss, K, k, leaf, yt, F, r, w, self.learning_rate)
                    if keep is not None and not keep.all():
                        out = ~keep
                        leaf[out] = tree.apply_binned(binning.codes[out], None)
                    F[:, k] += tree.value[leaf, 0, 0]
                else:
                    builder = _Builder(binning, crit, max_depth=self.max_depth,
                                       min_samples_split=self.min_samples_split,
                                       min_samples_leaf=self.min_samples_leaf, max_features=max_features,
                                       max_leaf_nodes=self.max_leaf_nodes,
                                       min_impurity_decrease=self.min_impurity_decrease, rng=rng)
                    builder.categorical = self.is_categorical_  # category subsets by mean residual
                    tree, leaf_rows = builder.build(stats)
                    if self.max_bins is None:  # out-of-bag rows follow the thresholds
                        sync_exact_bin_thresholds(tree, binning)
                    # line search per leaf: the loss's own optimal constant (Newton step for log-loss)
                    for node, rows in leaf_rows.items():
                        if K == 1:
                            v = loss.leaf_value(yt[rows], F[rows], r[rows], w[rows])
                        else:
                            v = loss.leaf_value_k(yt[rows, k], r[rows], w[rows], K)
                        tree.value[node, 0, 0] = v * self.learning_rate
                    leaves = tree.apply_binned(binning.codes, missing)
                    F[:, k] += tree.value[leaves, 0, 0]
                if Fv is not None:
                    Fv[:, k] += tree.value[tree.apply(X[val]), 0, 0]
                stage.append(tree)
            self._stages.append(stage)
            self.train_score_.append(loss.loss(yt[inbag], F[inbag], wt[inbag]))
            if self.subsample < 1.0 and (~inbag).any():
                self.oob_scores_.append(loss.loss(yt[~inbag], F[~inbag], wt[~inbag]))
            if val is not None:
                val_history.append(loss.loss(target[val], Fv, w_all[val]))
                if _stopping(val_history, self.n_iter_no_change, self.tol):
                    break
        self.train_score_ = np.array(self.train_score_)
        self.oob_scores_ = np.array(self.oob_scores_)
        self.n_estimators_ = len(self._stages)
        self.n_trees_per_iteration_ = K
        self.max_features_ = max_features
        self.estimators_ = np.empty((self.n_estimators_, K), dtype=object)
        for i, stage in enumerate(self._stages):
            for k, tree in enumerate(stage):
                shell = DecisionTreeRegressor(criterion=self.criterion, max_depth=self.max_depth,
                                              categorical_features=self.categorical_features)
                shell.tree_, shell.n_features_in_, shell.n_outputs_ = tree, X.shape[1], 1
                shell.is_categorical_ = self.is_categorical_
                self.estimators_[i, k] = shell
        self.init_ = self._baseline
        return self

    @property
    def feature_importances_(self):
        """Mean over all trees of their normalised impurity-decrease importances."""
        check_is_fitted(self, "_stages")
        imps = [tree_feature_importances(t, self.n_features_in_) for stage in self._stages for t in stage]
        mean = np.mean(imps, axis=0)
        return mean / mean.sum() if mean.sum() > 0 else mean


def _gb_init(self, loss, learning_rate, n_estimators, subsample, criterion, min_samples_split, min_samples_leaf,
             max_depth, min_impurity_decrease, random_state, max_features, max_leaf_nodes, validation_fraction,
             n_iter_no_change, tol, max_bins, categorical_features=None):
    self.loss = loss
    self.learning_rate = learning_rate
    self.n_estimators = n_estimators
    self.subsample = subsample
    self.criterion = criterion
    self.min_samples_split = min_samples_split
    self.min_samples_leaf = min_samples_leaf
    self.max_depth = max_depth
    self.min_impurity_decrease = min_impurity_decrease
    self.random_state = random_state
    self.max_features = max_features
    self.max_leaf_nodes = max_leaf_nodes
    self.validation_fraction = validation_fraction
    self.n_iter_no_change = n_iter_no_change
    self.tol = tol
    self.max_bins = max_bins
    self.categorical_features = categorical_features


class GradientBoostingClassifier(_ProbaMixin, ClassifierMixin, BaseGradientBoosting):
    """Gradient boosting for classification with the log-loss: ``F ← F + η·h``, ``h`` fitted to
    ``y - p``; ``p = σ(F)`` (binary, one tree per stage) or ``softmax(F)`` (K trees per stage).

    ``max_bins=None`` (default) splits on exact values like scikit-learn; ``max_bins=255`` first
    bins each feature by quantiles, much faster on large data with near-identical accuracy.
    """

    _is_classifier = True

    def __init__(self, *, loss="log_loss", learning_rate=0.1, n_estimators=100, subsample=1.0,
                 criterion="friedman_mse", min_samples_split=2, min_samples_leaf=1, max_depth=3,
                 min_impurity_decrease=0.0, random_state=None, max_features=None, max_leaf_nodes=None,
                 validation_fraction=0.1, n_iter_no_change=None, tol=1e-4, max_bins=None,
                 categorical_features=None):
        _gb_init(self, loss, learning_rate, n_estimators, subsample, criterion, min_samples_split,
                 min_samples_leaf, max_depth, min_impurity_decrease, random_state, max_features, max_leaf_nodes,
                 validation_fraction, n_iter_no_change, tol, max_bins, categorical_features)

    def fit(self, X, y, sample_weight=None):
        if self.loss != "log_loss":
            raise ValueError(hint(f"GradientBoostingClassifier: unknown loss={self.loss!r}", "use loss='log_loss'"))
        return super().fit(X, y, sample_weight)


class GradientBoostingRegressor(RegressorMixin, BaseGradientBoosting):
    """Gradient boosting for regression: residuals ``-∂L/∂F`` of squared error (``y - F``),
    absolute error (``sign(y - F)``, leaves set to the median of ``y - F``), Huber loss (``y - F``
    clipped at ``δ``, the ``alpha``-quantile of ``|y - F|``) or quantile loss (``α`` or ``α - 1``,
    leaves set to the ``alpha``-quantile of ``y - F``); ``F ← F + η·h``."""

    _is_classifier = False
    _losses_allowed = ("squared_error", "absolute_error", "huber", "quantile")

    def __init__(self, *, loss="squared_error", learning_rate=0.1, n_estimators=100, subsample=1.0,
                 criterion="friedman_mse", min_samples_split=2, min_samples_leaf=1, max_depth=3,
                 min_impurity_decrease=0.0, random_state=None, max_features=None, alpha=0.9,
                 max_leaf_nodes=None, validation_fraction=0.1, n_iter_no_change=None, tol=1e-4, max_bins=None,
                 categorical_features=None):
        _gb_init(self, loss, learning_rate, n_estimators, subsample, criterion, min_samples_split,
                 min_samples_leaf, max_depth, min_impurity_decrease, random_state, max_features, max_leaf_nodes,
                 validation_fraction, n_iter_no_change, tol, max_bins, categorical_features)
        self.alpha = alpha


class BaseHistGradientBoosting(_BoostingCommon):
    """Second-order histogram boosting (see the module docstring)."""

    hist_grower = True  # boosting's own grower (see _hist_grower); False: the shared tree builder

    @property
    def _n_iter_param(self):
        return self.max_iter

    def fit(self, X, y, sample_weight=None):
        """Fit up to ``max_iter`` iterations of Newton-step trees on binned features."""
        self._check_common()
        owner = type(self).__name__
        X, y = check_X_y(X, y, y_numeric=not self._is_classifier, allow_nan=True)
        check_n_features(self, X, reset=True)
        w_all = check_sample_weight(sample_weight, X.shape[0])
        if not (isinstance(self.max_bins, numbers.Integral) and 2 <= self.max_bins <= 255):
            raise ValueError(hint(f"{owner}: max_bins={self.max_bins!r}", "pass an int in [2, 255]"))
        for name in ("subsample", "colsample_bytree"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(hint(f"{owner}: {name}={getattr(self, name)!r}", "pass a float in (0, 1]"))
        if self.l2_regularization < 0 or self.min_split_gain < 0:
            raise ValueError(hint(f"{owner}: l2_regularization and min_split_gain must be >= 0",
                                  "pass non-negative values"))
        self.is_categorical_ = resolve_categorical_features(self.categorical_features, X, owner,
                                                            max_categories=self.max_bins)
        target, loss, y_enc = self._encode_targets(X, y)
        if getattr(self, "class_weight", None) is not None:  # weights of the classes times the rows'
            w_all = w_all * compute_sample_weight(self.class_weight, y_enc, self.n_classes_, self.classes_)
        self._loss_obj = loss
        rng = check_random_state(self.random_state)
        early = self.early_stopping
        if early == "auto":
            early = X.shape[0] > 10_000
        train, val = np.arange(X.shape[0]), None
        if early and self.validation_fraction is not None:  # None: stop on the training loss
            train, val = _validation_split(X.shape[0], self.validation_fraction, rng, y_enc, owner, counts=True)
        yt, wt = target[train], w_all[train]
        n = len(train)
        # without a validation split every row trains: no copy of X
        # columns binned in threads, as scikit-learn's (its OpenMP threads)
        binning = bin_features(X if val is None else X[train], max_bins=self.max_bins, subsample=200_000, rng=rng,
                               n_jobs=_n_threads())
        self._bin_edges = binning.edges
        self._baseline = loss.init(yt, wt)
        K = len(self._baseline)
        F = np.tile(self._baseline, (n, 1))
        Fv = np.tile(self._baseline, (len(val), 1)) if val is not None else None
        criterion = NewtonGain(self.l2_regularization, self.min_split_gain)
        n_features = X.shape[1]
        n_cols = max(1, int(round(self.colsample_bytree * n_features)))
        self._stages, self.train_score_, self.validation_score_ = [], [], []

        def stop_early():
            """Record the scores (``-loss``, training and validation) of the model so far; True when
            none of the last ``n_iter_no_change`` validation scores (training scores without a
            validation set) beat the one before them by ``tol`` (scikit-learn's rule). Only with
            early stopping, as scikit-learn: without it the fit computes no loss at all."""
            self.train_score_.append(-loss.loss(yt, F, wt))
            if val is None:
                return _no_improvement(self.train_score_, self.n_iter_no_change, self.tol)
            self.validation_score_.append(-loss.loss(target[val], Fv, w_all[val]))
            return _no_improvement(self.validation_score_, self.n_iter_no_change, self.tol)

        if early:
            stop_early()  # the first scores: the constant model, before any tree
        missing = binning.missing_code if binning.has_missing else None
        # boosting's own grower; missing values and categorical features where its cut scan runs on
        # the full (feature, bin) grid (dense data, few features), else the shared tree builder
        hist_data = None
        categorical = self.is_categorical_ if np.any(self.is_categorical_) else None
        if self.hist_grower:
            hist_data = HistData(binning)
            if (binning.has_missing or categorical is not None) and (hist_data.sparse or hist_data.q > _DENSE_SCAN):
                hist_data = None
        own_grower = hist_data is not None
        # the K class trees of an iteration grow side by side in processes when the fit is long
        # enough to repay starting them (see _class_trees)
        n_workers = 0
        if own_grower and K > 1 and self.max_iter * K * n * n_features >= _MIN_PARALLEL_WORK:
            n_workers = min(_n_threads(), K) - 1  # the caller grows trees too
        pool = ClassTreePool(hist_data, n_workers) if n_workers > 0 else None
        try:
            for _ in range(self.max_iter):
                rows = None
                if self.subsample < 1.0:
                    rows = np.sort(rng.choice(n, max(1, int(self.subsample * n)), replace=False))
                if K == 1:
                    g, h = loss.gradient_hessian(yt, F)
                    gh = [(g, h)]
                else:
                    G, H = loss.gradient_hessian_all(yt, F)
                    gh = [(G[:, k], H[:, k]) for k in range(K)]
                stage = []
                if hist_data is not None:
                    tasks = [(wt * g, wt * h, dict(
                        rows=rows, l2=self.l2_regularization, gamma=self.min_split_gain,
                        max_leaf_nodes=self.max_leaf_nodes, max_depth=self.max_depth,
                        min_samples_leaf=self.min_samples_leaf, min_child_weight=self.min_child_weight,
                        features=np.sort(rng.choice(n_features, n_cols, replace=False)) if n_cols < n_features else None,
                        learning_rate=self.learning_rate, categorical=categorical)) for g, h in gh]
                    if pool is not None:
                        grown = pool.grow(tasks)
                    else:
                        grown = [grow_hist_tree(hist_data, g, h, **settings) for g, h, settings in tasks]
                    for k, (tree, leaves) in enumerate(grown):
                        if rows is None:  # the leaves partition the rows: one scatter each, one add
                            step = np.empty(n)
                            for node, r in leaves:
                                step[r] = tree.value[node, 0, 0]
                            F[:, k] += step
                        else:
                            F[:, k] += tree.value[tree.apply_binned(binning.codes, missing), 0, 0]
                        if Fv is not None:
                            Fv[:, k] += tree.value[tree.apply(X[val]), 0, 0]
                        stage.append(tree)
                for k, (g, h) in enumerate(gh if hist_data is None else ()):
                    builder = _Builder(binning, criterion, max_depth=self.max_depth, min_samples_leaf=self.min_samples_leaf,
                                       min_samples_split=2, min_weight_leaf=self.min_child_weight,
                                       max_leaf_nodes=self.max_leaf_nodes, rng=rng, splitter="auto")
                    builder.edge_thresholds = True
                    builder.random_ties = False  # lowest feature index first, as scikit-learn's booster
                    builder.categorical = self.is_categorical_
                    if n_cols < n_features:
                        builder.feature_subset = np.sort(rng.choice(n_features, n_cols, replace=False))
                    stats = np.column_stack([np.ones(n), wt * h, wt * g])
                    tree, leaf_rows = builder.build(stats, never_pure=True, rows=rows)
                    tree.value *= self.learning_rate  # leaf weight -G/(H+λ), shrunk
                    if rows is None:
                        for node, r in leaf_rows.items():
                            F[r, k] += tree.value[node, 0, 0]
                    else:
                        F[:, k] += tree.value[tree.apply_binned(binning.codes, missing), 0, 0]
                    if Fv is not None:
                        Fv[:, k] += tree.value[tree.apply(X[val]), 0, 0]
                    stage.append(tree)
                self._stages.append(stage)
                if early and stop_early():
                    break
        finally:
            if pool is not None:
                pool.close()
        self.train_score_ = np.array(self.train_score_)
        self.validation_score_ = np.array(self.validation_score_)
        self.n_iter_ = len(self._stages)
        self.n_trees_per_iteration_ = K
        self.do_early_stopping_ = bool(early)
        return self

    def explain_split(self, node=0, iteration=0, tree=0):
        """The numbers behind one split of the tree ``tree`` of ``iteration``: ``G``, ``H`` of the
        node and its children, λ, γ and each term of
        ``gain = ½[G_L²/(H_L+λ) + G_R²/(H_R+λ) - G²/(H+λ)] - γ``, plus leaf weights ``-G/(H+λ)``.
        """
        check_is_fitted(self, "_stages")
        t = self._stages[iteration][tree]
        lam, gamma = float(self.l2_regularization), float(self.min_split_gain)

        def gh(i):
            return float(t.node_stats[i, 2]), float(t.node_stats[i, 1])

        G, H = gh(node)
        out = {"node": node, "G": G, "H": H, "lambda": lam, "gamma": gamma, "weight": -G / (H + lam),
               "n_samples": int(t.n_node_samples[node])}
        left, right = t.children_left[node], t.children_right[node]
        if left == -1:
            out["is_leaf"] = True
            return out
        GL, HL = gh(left)
        GR, HR = gh(right)
        terms = {"left": GL**2 / (HL + lam), "right": GR**2 / (HR + lam), "parent": G**2 / (H + lam)}
        out.update(is_leaf=False, feature=int(t.feature[node]), threshold=float(t.threshold[node]),
                   G_L=GL, H_L=HL, G_R=GR, H_R=HR, left_term=terms["left"], right_term=terms["right"],
                   parent_term=terms["parent"],
                   gain=0.5 * (terms["left"] + terms["right"] - terms["parent"]) - gamma,
                   weight_left=-GL / (HL + lam), weight_right=-GR / (HR + lam),
                   missing_go_to_left=bool(t.missing_go_to_left[node]))
        if t.is_categorical[node]:
            out["categories_left"] = t.categories_left(node).tolist()
        return out


def _hgb_init(self, loss, learning_rate, max_iter, max_leaf_nodes, max_depth, min_samples_leaf,
              l2_regularization, min_split_gain, min_child_weight, colsample_bytree, subsample, max_bins,
              early_stopping, validation_fraction, n_iter_no_change, tol, random_state, categorical_features=None):
    self.loss = loss
    self.learning_rate = learning_rate
    self.max_iter = max_iter
    self.max_leaf_nodes = max_leaf_nodes
    self.max_depth = max_depth
    self.min_samples_leaf = min_samples_leaf
    self.l2_regularization = l2_regularization
    self.min_split_gain = min_split_gain
    self.min_child_weight = min_child_weight
    self.colsample_bytree = colsample_bytree
    self.subsample = subsample
    self.max_bins = max_bins
    self.early_stopping = early_stopping
    self.validation_fraction = validation_fraction
    self.n_iter_no_change = n_iter_no_change
    self.tol = tol
    self.random_state = random_state
    self.categorical_features = categorical_features


class HistGradientBoostingClassifier(_ProbaMixin, ClassifierMixin, BaseHistGradientBoosting):
    """Histogram gradient boosting with the log-loss (XGBoost's second-order objective):
    leaf weight ``-G/(H+λ)`` with ``g = p - y``, ``h = p(1-p)``; K trees per iteration for K > 2.
    ``class_weight`` (a dict or ``"balanced"``: ``n/(K·n_c)``) multiplies each row's sample weight
    by its class's, as scikit-learn's."""

    _is_classifier = True

    def __init__(self, loss="log_loss", *, learning_rate=0.1, max_iter=100, max_leaf_nodes=31, max_depth=None,
                 min_samples_leaf=20, l2_regularization=0.0, min_split_gain=0.0, min_child_weight=1e-3,
                 colsample_bytree=1.0, subsample=1.0, max_bins=255, early_stopping="auto",
                 validation_fraction=0.1, n_iter_no_change=10, tol=1e-7, random_state=None,
                 categorical_features=None, class_weight=None):
        _hgb_init(self, loss, learning_rate, max_iter, max_leaf_nodes, max_depth, min_samples_leaf,
                  l2_regularization, min_split_gain, min_child_weight, colsample_bytree, subsample, max_bins,
                  early_stopping, validation_fraction, n_iter_no_change, tol, random_state, categorical_features)
        self.class_weight = class_weight

    def fit(self, X, y, sample_weight=None):
        if self.loss != "log_loss":
            raise ValueError(hint(f"HistGradientBoostingClassifier: unknown loss={self.loss!r}", "use 'log_loss'"))
        return super().fit(X, y, sample_weight)


class HistGradientBoostingRegressor(RegressorMixin, BaseHistGradientBoosting):
    """Histogram gradient boosting for regression with squared error (``g = F - y``, ``h = 1``):
    leaf weight ``-G/(H+λ)``, gain ``½[G_L²/(H_L+λ) + G_R²/(H_R+λ) - G²/(H+λ)] - γ``."""

    _is_classifier = False
    _losses_allowed = ("squared_error",)

    def __init__(self, loss="squared_error", *, learning_rate=0.1, max_iter=100, max_leaf_nodes=31,
                 max_depth=None, min_samples_leaf=20, l2_regularization=0.0, min_split_gain=0.0,
                 min_child_weight=1e-3, colsample_bytree=1.0, subsample=1.0, max_bins=255, early_stopping="auto",
                 validation_fraction=0.1, n_iter_no_change=10, tol=1e-7, random_state=None,
                 categorical_features=None):
        _hgb_init(self, loss, learning_rate, max_iter, max_leaf_nodes, max_depth, min_samples_leaf,
                  l2_regularization, min_split_gain, min_child_weight, colsample_bytree, subsample, max_bins,
                  early_stopping, validation_fraction, n_iter_no_change, tol, random_state, categorical_features)
