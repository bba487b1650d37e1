"""Decision trees for classification and regression (scikit-learn's API, CART's algorithm).

A tree splits a node by the question ``x_j <= t`` that most reduces the impurity (Gini, entropy or
variance), recursively, until a stopping rule holds; a leaf predicts the class proportions or the
mean of its training rows. See :mod:`._splitter` for the two split finders and :mod:`._tree` for
the array structure ``tree_``.
"""

from __future__ import annotations

import numbers

import numpy as np

from groundup.errors import hint
from groundup.ml.base import BaseEstimator, ClassifierMixin, RegressorMixin, check_is_fitted
from groundup.ml.validation import (
    check_array,
    check_classification_targets,
    check_n_features,
    check_random_state,
    check_sample_weight,
    check_X_y,
)

from ._binning import bin_features
from ._categorical import check_categorical_input, resolve_categorical_features
from ._criterion import CLASSIFICATION_CRITERIA, REGRESSION_CRITERIA
from ._tree import TREE_LEAF, Tree, _Builder

__all__ = ["DecisionTreeClassifier", "DecisionTreeRegressor"]

_SPLITTERS = ("best", "hist", "random")


def resolve_max_features(max_features, n_features: int, owner: str) -> int:
    """Number of features tried per split: None → p, "sqrt" → ⌊√p⌋, "log2" → ⌊log₂ p⌋, int, fraction."""
    if max_features is None:
        return n_features
    if isinstance(max_features, str):
        if max_features == "sqrt":
            return max(1, int(np.sqrt(n_features)))
        if max_features == "log2":
            return max(1, int(np.log2(n_features)))
    elif isinstance(max_features, numbers.Integral) and not isinstance(max_features, bool):
        if 1 <= max_features <= n_features:
            return int(max_features)
    elif isinstance(max_features, numbers.Real) and 0.0 < max_features <= 1.0:
        return max(1, int(max_features * n_features))
    raise ValueError(hint(
        f"{owner}: max_features={max_features!r} is out of range for {n_features} features",
        f"use None, 'sqrt', 'log2', an int in [1, {n_features}] or a float in (0, 1]"))


def _check_positive_int(value, name, owner, minimum=1, allow_none=False, allow_fraction=False):
    if value is None and allow_none:
        return
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= minimum:
        return
    if allow_fraction and isinstance(value, numbers.Real) and 0.0 < value <= 1.0 and not isinstance(value, numbers.Integral):
        return
    raise ValueError(hint(f"{owner}: {name}={value!r} is invalid",
                          f"pass an int >= {minimum}" + (" or a fraction in (0, 1]" if allow_fraction else "")
                          + (" or None" if allow_none else "")))


class BaseDecisionTree(BaseEstimator):
    """Shared fitting, pruning and inspection of both trees."""

    _allow_nan = True

    def _validate_params(self, n_samples):
        owner = type(self).__name__
        criteria = CLASSIFICATION_CRITERIA if self._is_classifier else REGRESSION_CRITERIA
        if self.criterion not in criteria:
            raise ValueError(hint(f"{owner}: unknown criterion={self.criterion!r}",
                                  f"choose one of {sorted(criteria)}"))
        if self.splitter not in _SPLITTERS:
            raise ValueError(hint(f"{owner}: unknown splitter={self.splitter!r}", f"choose one of {list(_SPLITTERS)}"))
        _check_positive_int(self.max_depth, "max_depth", owner, allow_none=True)
        _check_positive_int(self.min_samples_split, "min_samples_split", owner, minimum=2, allow_fraction=True)
        _check_positive_int(self.min_samples_leaf, "min_samples_leaf", owner, allow_fraction=True)
        _check_positive_int(self.max_leaf_nodes, "max_leaf_nodes", owner, minimum=2, allow_none=True)
        if not 0.0 <= self.min_weight_fraction_leaf <= 0.5:
            raise ValueError(hint(f"{owner}: min_weight_fraction_leaf={self.min_weight_fraction_leaf!r}",
                                  "pass a fraction in [0, 0.5]"))
        for name in ("min_impurity_decrease", "ccp_alpha"):
            if getattr(self, name) < 0:
                raise ValueError(hint(f"{owner}: {name}={getattr(self, name)!r} is negative", "pass a value >= 0"))
        msl = self.min_samples_leaf
        msl = int(np.ceil(msl * n_samples)) if isinstance(msl, float) else msl
        mss = self.min_samples_split
        mss = max(2, int(np.ceil(mss * n_samples))) if isinstance(mss, float) else mss
        return max(1, msl), max(mss, 2 * max(1, msl))

    def _stats(self, y_encoded, sample_weight):
        """Per-sample statistics for the criterion: [1, w·onehot] or [1, w, w·y, w·y²]."""
        n = len(sample_weight)
        if self._is_classifier:
            stats = np.zeros((n, self.n_classes_ + 1))
            stats[:, 0] = 1.0
            stats[np.arange(n), 1 + y_encoded] = sample_weight
            return stats
        return np.column_stack([np.ones(n), sample_weight, sample_weight * y_encoded,
                                sample_weight * y_encoded * y_encoded])

    def _fit(self, X, y, sample_weight=None, *, binning=None, rng=None, y_encoded=None):
        """Fit on validated data; ensembles pass a shared ``binning`` and encoded targets."""
        n = X.shape[0] if X is not None else binning.codes.shape[0]
        min_samples_leaf, min_samples_split = self._validate_params(n)
        n_features = self.n_features_in_
        max_features = resolve_max_features(self.max_features, n_features, type(self).__name__)
        if self._is_classifier:
            criterion = CLASSIFICATION_CRITERIA[self.criterion](self.n_classes_)
        else:
            criterion = REGRESSION_CRITERIA[self.criterion]()
            if getattr(criterion, "row_based", False):
                criterion.y = np.asarray(y_encoded, dtype=np.float64)
        categorical = getattr(self, "is_categorical_", None)
        if binning is None:
            if self.splitter == "random" and np.isnan(X).any():
                raise ValueError(hint(f"{type(self).__name__}(splitter='random'): X contains NaN",
                                      "missing values need splitter='best' or 'hist'; or impute them first"))
            binning = bin_features(X, max_bins=self.max_bins if self.splitter == "hist" else None)
        weight_total = float(sample_weight.sum())
        mode = {"best": "auto", "hist": "hist", "random": "random"}[self.splitter]
        builder = _Builder(
            binning, criterion, max_depth=self.max_depth, min_samples_split=min_samples_split,
            min_samples_leaf=min_samples_leaf, min_weight_leaf=self.min_weight_fraction_leaf * weight_total,
            min_impurity_decrease=self.min_impurity_decrease, max_features=max_features,
            max_leaf_nodes=self.max_leaf_nodes, rng=rng if rng is not None else check_random_state(self.random_state),
            splitter=mode, class_index=y_encoded if self._is_classifier else None)
        builder.want_leaf_rows = False
        builder.categorical = categorical
        tree, _ = builder.build(self._stats(y_encoded, sample_weight))
        self.tree_ = tree
        self.max_features_ = max_features
        if self.ccp_alpha > 0.0:
            self.tree_ = _prune(self.tree_, self.ccp_alpha)
        return self

    def _check_X(self, X):
        check_is_fitted(self, "tree_")
        X = check_array(X, allow_nan=self._allow_nan)
        check_n_features(self, X, reset=False)
        check_categorical_input(X, getattr(self, "is_categorical_", None), type(self).__name__)
        return X

    def _set_categorical(self, X):
        # histogram coding would merge categories beyond max_bins into one bin: refuse instead
        limit = self.max_bins if self.splitter == "hist" else None
        self.is_categorical_ = resolve_categorical_features(self.categorical_features, X, type(self).__name__,
                                                            max_categories=limit)

    def apply(self, X):
        """Index of the leaf each sample ends up in."""
        X = self._check_X(X)
        return self.tree_.apply(X)

    def decision_path(self, X):
        """Dense indicator (n_samples, n_nodes): entry (i, k) is 1 when sample i passes node k.

        (scikit-learn returns the same matrix as scipy CSR; groundup stays NumPy-only.)
        """
        X = self._check_X(X)
        t = self.tree_
        path = np.zeros((X.shape[0], t.node_count), dtype=np.int8)
        node = np.zeros(X.shape[0], dtype=np.intp)
        rows = np.arange(X.shape[0])
        path[rows, 0] = 1
        active = rows[t.children_left[node] != TREE_LEAF]
        while len(active):
            nd = node[active]
            x = X[active, t.feature[nd]]
            go_left = x <= t.threshold[nd]
            if t._is_cat is not None:
                go_left = t._categorical_go_left(nd, x, go_left)
            go_left = np.where(np.isnan(x), t.missing_go_to_left[nd].astype(bool), go_left)
            node[active] = np.where(go_left, t.children_left[nd], t.children_right[nd])
            path[active, node[active]] = 1
            active = active[t.children_left[node[active]] != TREE_LEAF]
        return path

    def get_depth(self):
        """Depth of the tree: the longest root-to-leaf path (a lone root has depth 0)."""
        check_is_fitted(self, "tree_")
        return self.tree_.max_depth

    def get_n_leaves(self):
        """Number of leaves."""
        check_is_fitted(self, "tree_")
        return self.tree_.n_leaves

    @property
    def feature_importances_(self):
        """Mean decrease in impurity: ``Σ_splits on j (w·I - w_L·I_L - w_R·I_R)``, normalised to sum 1."""
        check_is_fitted(self, "tree_")
        return tree_feature_importances(self.tree_, self.n_features_in_)

    def cost_complexity_pruning_path(self, X, y, sample_weight=None):
        """Effective alphas of minimal cost-complexity pruning and the total leaf impurity at each.

        Weakest-link pruning: ``g(t) = (R(t) - R(T_t)) / (|leaves(T_t)| - 1)`` with
        ``R(t) = w_t/W · impurity(t)``; repeatedly prune the node with the smallest ``g``.
        Returns a dict with ``ccp_alphas`` and ``impurities`` (like scikit-learn's Bunch).
        """
        alpha = self.ccp_alpha
        try:
            self.ccp_alpha = 0.0
            est = type(self)(**self.get_params()).fit(X, y, sample_weight)
        finally:
            self.ccp_alpha = alpha
        alphas, impurities = _pruning_path(est.tree_)
        return {"ccp_alphas": alphas, "impurities": impurities}


def tree_feature_importances(tree: Tree, n_features: int) -> np.ndarray:
    """Impurity-decrease importances of one tree, normalised to sum 1 (zeros for a lone leaf)."""
    inner = np.flatnonzero(tree.children_left != TREE_LEAF)
    w, imp = tree.weighted_n_node_samples, tree.impurity
    left, right = tree.children_left[inner], tree.children_right[inner]
    decrease = w[inner] * imp[inner] - w[left] * imp[left] - w[right] * imp[right]
    importances = np.bincount(tree.feature[inner], weights=decrease, minlength=n_features)
    total = importances.sum()
    return importances / total if total > 0 else importances


def _subtree_sums(tree, is_leaf):
    """Per node: Σ R over the leaves below it and their number, given which nodes are leaves."""
    R = tree.weighted_n_node_samples / tree.weighted_n_node_samples[0] * tree.impurity
    depth = tree.node_depths()
    leaf_R = np.where(is_leaf, R, 0.0)
    n_leaves = is_leaf.astype(np.float64)
    for d in range(int(depth.max()) - 1, -1, -1):  # children before parents, one level at a time
        nodes = np.flatnonzero((depth == d) & ~is_leaf & (tree.children_left != TREE_LEAF))
        l, r = tree.children_left[nodes], tree.children_right[nodes]
        leaf_R[nodes] = leaf_R[l] + leaf_R[r]
        n_leaves[nodes] = n_leaves[l] + n_leaves[r]
    return R, leaf_R, n_leaves


def _weakest_links(tree, max_alpha=np.inf):
    """Sequence of (alpha, leaf mask, total impurity) of weakest-link pruning up to ``max_alpha``."""
    is_leaf = tree.children_left == TREE_LEAF
    # a node under a pruned node is dropped; track which nodes are still reachable
    parent = np.full(tree.node_count, -1)
    inner = np.flatnonzero(~is_leaf)
    parent[tree.children_left[inner]] = inner
    parent[tree.children_right[inner]] = inner
    depth = tree.node_depths()
    alive = np.ones(tree.node_count, dtype=bool)
    steps = []
    while True:
        R, leaf_R, n_leaves = _subtree_sums(tree, is_leaf)
        steps.append(leaf_R[0])
        candidates = np.flatnonzero(alive & ~is_leaf)
        if len(candidates) == 0:
            break
        g = (R[candidates] - leaf_R[candidates]) / (n_leaves[candidates] - 1)
        alpha = g.min()
        if alpha > max_alpha:
            break
        prune = candidates[g <= alpha]
        is_leaf[prune] = True
        for d in range(int(depth.max()) + 1):  # nodes whose parent is a leaf or dead die
            kids = np.flatnonzero(depth == d + 1)
            alive[kids] = alive[parent[kids]] & ~is_leaf[parent[kids]]
        steps.append(float(alpha))
    return steps, is_leaf, alive


def _pruning_path(tree):
    steps, _, _ = _weakest_links(tree)
    impurities = [steps[0]]
    alphas = [0.0]
    for i in range(1, len(steps) - 1, 2):
        alphas.append(steps[i])
        impurities.append(steps[i + 1])
    return np.array(alphas), np.array(impurities)


def _prune(tree, ccp_alpha):
    """The subtree left after pruning every link whose effective alpha is <= ``ccp_alpha``."""
    _, is_leaf, alive = _weakest_links(tree, ccp_alpha)
    old_ids = []
    stack = [0]
    while stack:  # preorder, left first: the numbering a freshly grown tree has
        node = stack.pop()
        old_ids.append(node)
        if not is_leaf[node]:
            stack.append(tree.children_right[node])
            stack.append(tree.children_left[node])
    old_ids = np.array(old_ids)
    new_id = np.full(tree.node_count, TREE_LEAF)
    new_id[old_ids] = np.arange(len(old_ids))
    pruned = Tree.__new__(Tree)
    pruned.n_features, pruned.n_outputs = tree.n_features, tree.n_outputs
    leaf = is_leaf[old_ids]
    for name in ("feature", "threshold", "impurity", "n_node_samples", "weighted_n_node_samples", "value",
                 "missing_go_to_left", "bin_threshold", "node_stats"):
        setattr(pruned, name, getattr(tree, name)[old_ids].copy())
    if tree._is_cat is not None:
        for name in ("_is_cat", "_cat_bitset", "_cat_bins"):
            setattr(pruned, name, getattr(tree, name)[old_ids].copy())
        pruned._is_cat[leaf] = False
        pruned._cat_bitset[leaf] = 0
        pruned._cat_bins[leaf] = 0
    pruned.children_left = np.where(leaf, TREE_LEAF, new_id[tree.children_left[old_ids]])
    pruned.children_right = np.where(leaf, TREE_LEAF, new_id[tree.children_right[old_ids]])
    pruned.feature[leaf] = -2
    pruned.threshold[leaf] = -2.0
    return pruned


class DecisionTreeClassifier(ClassifierMixin, BaseDecisionTree):
    """CART classification tree: splits maximise the impurity decrease
    ``I(S) - |S_L|/|S|·I(S_L) - |S_R|/|S|·I(S_R)`` with ``I`` = Gini ``1-Σp²`` or entropy ``-Σp log₂p``.

    ``splitter="best"`` tries every threshold between distinct values (exact); ``"hist"`` first
    bins each feature into at most ``max_bins`` quantile bins (same tree when features have fewer
    distinct values); ``"random"`` draws one random threshold per feature (extra trees). NaNs are
    routed to whichever side gains more, recorded in ``tree_.missing_go_to_left``.

    ``categorical_features`` (column indices or a boolean mask) marks columns of non-negative
    integer category codes: a node then asks ``x_j in S`` for a subset ``S`` of categories, found
    by sorting the categories by their class-1 proportion (two classes: the optimal subset, Breiman)
    or, for more classes, by each class's proportion in turn, keeping the best prefix (a one-vs-rest
    heuristic). A category outside ``S`` (also one unseen in training) goes right. With
    ``splitter="random"`` ``S`` is a random subset instead (Geurts et al.'s extra-trees rule: a
    random non-empty proper subset of the node's categories, plus a random half of the others).
    """

    _is_classifier = True

    def __init__(self, *, criterion="gini", splitter="best", max_depth=None, min_samples_split=2,
                 min_samples_leaf=1, min_weight_fraction_leaf=0.0, max_features=None, random_state=None,
                 max_leaf_nodes=None, min_impurity_decrease=0.0, class_weight=None, ccp_alpha=0.0,
                 max_bins=256, categorical_features=None):
        self.criterion = criterion
        self.splitter = splitter
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_weight_fraction_leaf = min_weight_fraction_leaf
        self.max_features = max_features
        self.random_state = random_state
        self.max_leaf_nodes = max_leaf_nodes
        self.min_impurity_decrease = min_impurity_decrease
        self.class_weight = class_weight
        self.ccp_alpha = ccp_alpha
        self.max_bins = max_bins
        self.categorical_features = categorical_features

    def fit(self, X, y, sample_weight=None):
        """Grow the tree on ``X`` (n_samples, n_features) and class labels ``y``."""
        X, y = check_X_y(X, y, allow_nan=self._allow_nan)
        check_n_features(self, X, reset=True)
        self._set_categorical(X)
        self.classes_ = check_classification_targets(y)
        self.n_classes_ = len(self.classes_)
        y_encoded = np.searchsorted(self.classes_, y)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        sample_weight = sample_weight * compute_sample_weight(self.class_weight, y_encoded, self.n_classes_,
                                                              self.classes_)
        self.n_outputs_ = 1
        return self._fit(X, y, sample_weight, y_encoded=y_encoded)

    def predict_proba(self, X):
        """Class probabilities: the weighted class proportions of the leaf each sample lands in."""
        leaves = self.apply(X)  # checks fitted first
        return self.tree_.value[leaves, 0, :]

    def predict_log_proba(self, X):
        """Natural log of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Most probable class of each sample."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


def compute_sample_weight(class_weight, y_encoded, n_classes, classes):
    """Per-sample factor from ``class_weight``: None → 1, "balanced" → n/(k·n_c), dict → given."""
    if class_weight is None:
        return np.ones(len(y_encoded))
    if class_weight == "balanced":
        counts = np.bincount(y_encoded, minlength=n_classes)
        per_class = len(y_encoded) / (n_classes * np.maximum(counts, 1))
    elif isinstance(class_weight, dict):
        per_class = np.array([class_weight.get(c, 1.0) for c in classes], dtype=np.float64)
    else:
        raise ValueError(hint(f"class_weight={class_weight!r} is invalid", "pass None, 'balanced' or a dict"))
    return per_class[y_encoded]


class DecisionTreeRegressor(RegressorMixin, BaseDecisionTree):
    """CART regression tree: splits maximise the variance reduction
    ``Var(S) - |S_L|/|S|·Var(S_L) - |S_R|/|S|·Var(S_R)``; a leaf predicts the mean of its rows.

    ``criterion="friedman_mse"`` scores splits by ``w_L·w_R/(w_L+w_R)·(ȳ_L - ȳ_R)²`` (gradient
    boosting's default). ``criterion="absolute_error"`` minimises ``Σ_L w|y - m_L| + Σ_R w|y - m_R|``
    with ``m`` the weighted median, which a leaf then predicts (the impurity is the mean absolute
    deviation from it); it finds every prefix median of a sorted feature at once by a vectorised
    binary search over the ranks of ``y`` (:mod:`._absolute_error`), ``O(n log² n)`` per node, all
    nodes of a depth in one pass when every feature is tried in every node. Splitters and missing values as in :class:`DecisionTreeClassifier`.

    ``categorical_features``: as in :class:`DecisionTreeClassifier`; the categories are sorted by
    their mean target, which gives the optimal subset for squared error (Breiman), and by their
    median under absolute error (a heuristic).
    """

    _is_classifier = False

    def __init__(self, *, criterion="squared_error", splitter="best", max_depth=None, min_samples_split=2,
                 min_samples_leaf=1, min_weight_fraction_leaf=0.0, max_features=None, random_state=None,
                 max_leaf_nodes=None, min_impurity_decrease=0.0, ccp_alpha=0.0, max_bins=256,
                 categorical_features=None):
        self.criterion = criterion
        self.splitter = splitter
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_weight_fraction_leaf = min_weight_fraction_leaf
        self.max_features = max_features
        self.random_state = random_state
        self.max_leaf_nodes = max_leaf_nodes
        self.min_impurity_decrease = min_impurity_decrease
        self.ccp_alpha = ccp_alpha
        self.max_bins = max_bins
        self.categorical_features = categorical_features

    def fit(self, X, y, sample_weight=None):
        """Grow the tree on ``X`` (n_samples, n_features) and real targets ``y``."""
        X, y = check_X_y(X, y, y_numeric=True, allow_nan=self._allow_nan)
        check_n_features(self, X, reset=True)
        self._set_categorical(X)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        self.n_outputs_ = 1
        return self._fit(X, y, sample_weight, y_encoded=y)

    def predict(self, X):
        """Mean (median for ``absolute_error``) target of the leaf each sample lands in."""
        leaves = self.apply(X)
        return self.tree_.value[leaves, 0, 0]
