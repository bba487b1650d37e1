"""The fitted tree as flat arrays (like scikit-learn's ``tree_``) and the builder that grows it.

Node ``i`` splits on ``feature[i]`` at ``threshold[i]``: rows with ``x <= threshold`` go to
``children_left[i]``, the others to ``children_right[i]``; a NaN goes left when
``missing_go_to_left[i]``. Leaves have ``children_left == children_right == -1`` and
``feature == -2``. ``value[i]`` holds class proportions (classifiers) or the mean target.

A *categorical* node (``is_categorical[i]``) sends left the rows whose value is in its category
set instead (``categories_left(i)``, stored as the bitset ``categorical_left[i]`` over category
values); ``threshold[i]`` is NaN. A category outside the set — including one never seen in
training — goes right; NaN follows ``missing_go_to_left`` as for numeric nodes.
"""

from __future__ import annotations

import heapq

import numpy as np

from ._absolute_error import (
    find_split_rows,
    median_and_impurity,
    medians_and_impurities,
    split_absolute_error_nodes,
)
from ._binning import take2d
from ._categorical import (
    CategoricalTreeMixin,
    find_split_mixed,
    random_categorical_sides,
    with_categories,
)
from ._splitter import node_histogram, split_by_sorting, split_from_histogram
from ._ties import child_keys, feature_priority, root_key

TREE_LEAF = -1
TREE_UNDEFINED = -2
_EPSILON = np.finfo(np.float64).eps
_HIST_FACTOR = 1.0  # a node uses histograms once it has at least as many rows as bins
_LEVELWISE_MIN_DEPTH = 8
_HIST_MEMORY_ELEMENTS = 1 << 24  # cap on histogram floats kept alive for sibling subtraction


class Tree(CategoricalTreeMixin):
    """Array representation of a binary decision tree (see the module docstring)."""

    def __init__(self, n_features: int, n_outputs: int, n_values: int):
        self.n_features = n_features
        self.n_outputs = n_outputs
        self._lists = {k: [] for k in (
            "children_left", "children_right", "feature", "threshold", "impurity",
            "n_node_samples", "weighted_n_node_samples", "value", "missing_go_to_left",
            "bin_threshold", "stats")}

    def _add_node(self, parent, is_left, n, w, impurity, value, stats):
        node = len(self._lists["feature"])
        L = self._lists
        L["children_left"].append(TREE_LEAF)
        L["children_right"].append(TREE_LEAF)
        L["feature"].append(TREE_UNDEFINED)
        L["threshold"].append(float(TREE_UNDEFINED))
        L["impurity"].append(float(impurity))
        L["n_node_samples"].append(int(n))
        L["weighted_n_node_samples"].append(float(w))
        L["value"].append(value)
        L["missing_go_to_left"].append(0)
        L["bin_threshold"].append(0)
        L["stats"].append(stats)
        if parent is not None:
            L["children_left" if is_left else "children_right"][parent] = node
        return node

    def _set_split(self, node, split):
        L = self._lists
        L["feature"][node] = split.feature
        L["threshold"][node] = split.threshold
        L["missing_go_to_left"][node] = int(split.missing_left)
        L["bin_threshold"][node] = split.bin
        if split.cat_left is not None:
            if not hasattr(self, "_cat"):
                self._cat = {}
            self._cat[node] = (split.cat_left, split.cat_values)

    def _finalize(self):
        L = self._lists
        self.children_left = np.array(L["children_left"], dtype=np.intp)
        self.children_right = np.array(L["children_right"], dtype=np.intp)
        self.feature = np.array(L["feature"], dtype=np.intp)
        self.threshold = np.array(L["threshold"], dtype=np.float64)
        self.impurity = np.array(L["impurity"], dtype=np.float64)
        self.n_node_samples = np.array(L["n_node_samples"], dtype=np.intp)
        self.weighted_n_node_samples = np.array(L["weighted_n_node_samples"], dtype=np.float64)
        self.value = np.array(L["value"], dtype=np.float64).reshape(len(self.feature), self.n_outputs, -1)
        self.missing_go_to_left = np.array(L["missing_go_to_left"], dtype=np.uint8)
        self.bin_threshold = np.array(L["bin_threshold"], dtype=np.intp)
        self.node_stats = np.array(L["stats"], dtype=np.float64)
        del self._lists
        if getattr(self, "_cat", None):
            self._finalize_categorical()
        return self

    @property
    def node_count(self) -> int:
        return len(self.feature)

    @property
    def n_leaves(self) -> int:
        return int(np.sum(self.children_left == TREE_LEAF))

    @property
    def max_depth(self) -> int:
        depth = self.node_depths()
        return int(depth.max()) if len(depth) else 0

    def node_depths(self) -> np.ndarray:
        """Depth of every node (root 0), one vectorised pass per level."""
        depth = np.zeros(self.node_count, dtype=np.intp)
        frontier = np.array([0])
        d = 0
        while len(frontier):
            depth[frontier] = d
            inner = frontier[self.children_left[frontier] != TREE_LEAF]
            frontier = np.concatenate([self.children_left[inner], self.children_right[inner]])
            d += 1
        return depth

    def _descend(self, n_rows, side):
        """Leaf of each of ``n_rows`` rows: every row still in an inner node moves one level per
        step (no loop per sample). ``side(rows, nd)`` says which rows go left from their nodes
        ``nd``. Rows are carried with their node and written out when they reach a leaf; children
        are read from one (left, right) table by ``2·node + went_right``."""
        leaf = np.zeros(n_rows, dtype=np.intp)
        kids = np.stack([self.children_left, self.children_right], axis=1).ravel()
        rows = np.arange(n_rows) if self.children_left[0] != TREE_LEAF else np.zeros(0, dtype=np.intp)
        nd = np.zeros(len(rows), dtype=np.intp)
        while len(rows):
            go_left = side(rows, nd)
            nd = kids.take(2 * nd + ~go_left)
            inner = self.children_left.take(nd) != TREE_LEAF
            if not inner.all():
                done = ~inner
                leaf[rows.compress(done)] = nd.compress(done)
                rows, nd = rows.compress(inner), nd.compress(inner)
        return leaf

    def apply(self, X: np.ndarray) -> np.ndarray:
        """Leaf index of every row (``x[feature] <= threshold`` goes left; NaN follows
        ``missing_go_to_left``; category sets on categorical nodes). Rows are gathered with flat
        ``take`` (several times faster than 2-D fancy indexing)."""
        X = np.ascontiguousarray(X)

        def side(rows, nd):
            x = take2d(X, rows, self.feature.take(nd))
            go_left = x <= self.threshold.take(nd)
            if self._is_cat is not None:
                go_left = self._categorical_go_left(nd, x, go_left)
            nan = np.isnan(x)
            if nan.any():
                go_left = np.where(nan, self.missing_go_to_left.take(nd).astype(bool), go_left)
            return go_left

        return self._descend(X.shape[0], side)

    def apply_binned(self, codes: np.ndarray, missing_code: int | None) -> np.ndarray:
        """Like :meth:`apply` on training codes (``code <= bin_threshold`` goes left)."""
        codes = np.ascontiguousarray(codes)

        def side(rows, nd):
            c = take2d(codes, rows, self.feature.take(nd))
            go_left = c <= self.bin_threshold.take(nd)
            if self._is_cat is not None:
                go_left = self._categorical_codes_go_left(nd, c, go_left)
            if missing_code is not None:
                go_left = np.where(c == missing_code, self.missing_go_to_left.take(nd).astype(bool), go_left)
            return go_left

        return self._descend(codes.shape[0], side)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``value`` of the leaf each row lands in, shape (n, n_outputs, n_values)."""
        return self.value[self.apply(X)]


class _Builder:
    """Grows a tree on binned data, depth-first (``max_leaf_nodes=None``) or best-first.

    An unlimited tree on data without missing values is grown level-wise instead (all nodes of a
    depth at once, :mod:`._levelwise`): the same tree, far fewer NumPy calls. ``levelwise=False``
    keeps the node-at-a-time reference.
    """

    levelwise = True
    radix = True  # level-wise Gini on <= 256 codes with integer weights: radix-sort finder (same tree)
    want_leaf_rows = True  # trees and forests say False: only boosting's line search needs them
    # all-feature trees break ties between features in a random order per node, as scikit-learn's
    # trees (see _ties); histogram boosting's say False: lowest index first, as scikit-learn's
    random_ties = True

    def __init__(self, binning, criterion, *, max_depth=None, min_samples_split=2, min_samples_leaf=1,
                 min_weight_leaf=0.0, min_impurity_decrease=0.0, max_features=None,
                 max_leaf_nodes=None, rng=None, splitter="auto", class_index=None):
        self.binning = binning
        self.criterion = criterion
        self.max_depth = np.inf if max_depth is None else max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_weight_leaf = min_weight_leaf
        self.min_impurity_decrease = min_impurity_decrease
        self.n_features = binning.codes.shape[1]
        self.max_features = self.n_features if max_features is None else max_features
        self.max_leaf_nodes = max_leaf_nodes
        self.rng = rng
        self.splitter = splitter  # "auto" | "sort" | "hist" | "random"
        self.class_index = class_index
        self._hist_elements = 0
        self.feature_subset = None  # fixed features of this tree (boosting's colsample_bytree)
        # histogram boosting places a threshold on the global bin edge (like scikit-learn and
        # LightGBM) rather than halfway between the node's neighbouring training values
        self.edge_thresholds = False
        self.categorical = None  # boolean mask of the categorical features (None: all ordered)

    # -- histograms ---------------------------------------------------------------------
    def _use_hist(self, n_rows):
        if self.splitter == "sort":
            return False
        if self.splitter == "hist":
            return True
        # counting a histogram costs ~n·q, scanning it ~q·bins·S; sorting ~n·q·log n
        return n_rows * _HIST_FACTOR >= self.binning.n_bins

    def _all_features(self):
        return self.max_features >= self.n_features and self.splitter != "random"

    def _node_hist(self, rows, features, record):
        """The node's histograms: the one handed down in ``record`` (a sibling subtraction) or a
        fresh one; kept in ``record`` for the children when every feature is a candidate."""
        hist = record.get("hist")
        if hist is None:
            hist = self._hist(rows, features)
        if self._all_features():
            record["hist"] = hist
            record["live"] = self._live_features(hist)
            record["features"] = features
        return hist

    def _hist(self, rows, features):
        if self.class_index is not None and self._class_weight is None:
            self._class_weight = self.stats[:, 1:].sum(axis=1)
            # unit weights and counts: the class counts need no weights (integer counting)
            self._unit_weight = bool(np.all(self._class_weight == 1.0) and np.all(self.stats[:, 0] == 1.0))
        return node_histogram(self.binning.codes, rows, features, self.stats[rows], self.binning.n_bins,
                              self.class_index, self._class_weight, unit_weight=self._unit_weight)

    @staticmethod
    def _live_features(hist):
        """Mask of the features with at least two non-empty bins (the missing bin included) in a
        node's histogram: the others are constant there and in every descendant, so the children
        never look at them."""
        return (hist[:, :, 0] > 0).sum(axis=1) >= 2

    # -- candidate features -------------------------------------------------------------
    def _candidate_features(self, rows):
        if self._all_features():
            return self.feature_subset if self.feature_subset is not None else np.arange(self.n_features)
        # like scikit-learn: draw features at random until max_features non-constant ones are found
        order = self.rng.permutation(self.n_features)
        codes = self.binning.codes
        found, pos = [], 0
        need = self.max_features
        while need > 0 and pos < self.n_features:
            take = order[pos : pos + max(need * 2, 8)]
            pos += len(take)
            sub = take2d(codes, rows[:, None], take[None, :])
            nonconstant = take[sub.min(axis=0) != sub.max(axis=0)]
            found.append(nonconstant[:need])
            need -= len(found[-1])
        return np.concatenate(found) if found else np.empty(0, dtype=np.intp)

    def _tie_priority(self, record, features):
        """Tie order of the node's candidate ``features`` (lower first, see :mod:`._ties`): the draw
        order for drawn features, a random order per node (from the node's key) for all features."""
        if not self._all_features():
            return np.arange(len(features), dtype=np.uint64)
        return feature_priority(record.get("key"), features)

    def _find_split(self, record):
        if getattr(self.criterion, "row_based", False):
            return find_split_rows(self, record)
        if self.categorical is not None and not record.get("numeric_only") and self.splitter != "random":
            return find_split_mixed(self, record)
        rows, total = record["rows"], record["total"]
        crit = self.criterion
        if self.splitter == "random":
            return self._random_split(record)
        features = record.get("features")
        if features is None:
            features = self._candidate_features(rows)
        if len(features) == 0:
            return None
        priority = record.get("priority")
        if priority is None:
            priority = self._tie_priority(record, features)
        if self._use_hist(len(rows)):
            hist = self._node_hist(rows, features, record)
            return split_from_histogram(hist, total, features, self.binning, crit,
                                        self.min_samples_leaf, self.min_weight_leaf, priority)
        stats_rows, sub_total, cols = self.stats[rows], total, None
        if self.class_index is not None:
            # only the classes present in the node matter: fewer columns to sort and sum
            cols = np.concatenate([[0], 1 + np.flatnonzero(total[1:] > 0)])
            if len(cols) < len(total):
                stats_rows, sub_total = stats_rows[:, cols], total[cols]
            else:
                cols = None
        split = split_by_sorting(self.binning.codes, rows, features, stats_rows, sub_total, self.binning,
                                 crit, self.min_samples_leaf, self.min_weight_leaf, priority)
        if split is not None and cols is not None:
            L = np.zeros_like(total)
            L[cols] = split.left_stats
            split.left_stats, split.right_stats = L, total - L
        return split

    def _random_split(self, record):
        """Extremely randomised trees: one uniform random threshold per candidate feature."""
        from ._splitter import Split
        rows, total = record["rows"], record["total"]
        features = self._candidate_features(rows)
        if len(features) == 0:
            return None
        sub = take2d(self.binning.codes, rows[:, None], features[None, :]).astype(np.intp)
        lo, hi = sub.min(axis=0), sub.max(axis=0)
        if self.binning.has_missing:
            miss = self.binning.missing_code
            present = np.where(sub == miss, -1, sub)
            hi = present.max(axis=0)
            lo = np.where(sub == miss, np.iinfo(np.intp).max, sub).min(axis=0)
        vlo = self.binning.lower[features, lo]
        vhi = self.binning.upper[features, np.maximum(hi, 0)]
        draw = vlo + self.rng.random(len(features)) * (vhi - vlo)
        # code of the cut: last bin whose largest value is <= the drawn threshold
        cut = np.array([np.searchsorted(self.binning.upper[f], t, side="right") - 1
                        for f, t in zip(features, draw)], dtype=np.intp)
        cut = np.clip(cut, lo, np.maximum(hi - 1, lo))
        go_left = sub <= cut[None, :]
        cat_left = None
        if self.categorical is not None:  # categorical candidates: a random category subset instead
            go_left, cat_left = random_categorical_sides(self, rows, sub, features, go_left)
        stats = self.stats[rows]
        left = (go_left.T.astype(np.float64) @ stats)[:, None, :]  # (q, 1, S)
        from ._splitter import _score
        ok = np.flatnonzero(lo < hi)
        value, i, miss_left, L, R = _score(self.criterion, total, left[ok, 0], None, self.min_samples_leaf,
                                           self.min_weight_leaf)
        if i is None:
            return None
        j = ok[i]
        f = int(features[j])
        if cat_left is not None and self.categorical[f]:
            return with_categories(self, Split(f, 0, float("nan"), False, float(value), L, R, cat_left=cat_left[j]))
        b = int(cut[j])
        # keep the drawn threshold itself (as scikit-learn does): on exact codes ``x <= draw`` is
        # ``code <= cut`` for the training rows, and unseen values are cut where the draw fell
        return Split(f, b, float(draw[j]), False, float(value), L, R)

    # -- nodes ----------------------------------------------------------------------------
    def _is_leaf(self, record, impurity):
        n, w, depth = len(record["rows"]), record["weight"], record["depth"]
        if depth >= self.max_depth or n < self.min_samples_split or n < 2 * self.min_samples_leaf:
            return True
        if w < 2 * self.min_weight_leaf:
            return True
        # a pure node cannot improve (boosting's gradients have no notion of purity)
        return not self._never_pure and impurity <= _EPSILON

    def _make_record(self, rows, depth, parent, is_left, total=None, key=None):
        if total is None:
            total = self.stats[rows].sum(axis=0)
        return {"rows": rows, "depth": depth, "parent": parent, "is_left": is_left, "total": total,
                "weight": float(self.criterion.weight(total)), "key": key}

    def _child_records(self, record, left_rows, right_rows, left_stats, right_stats, parent=None):
        depth, key = record["depth"] + 1, record.get("key")
        return (self._make_record(left_rows, depth, parent, True, left_stats, child_keys(key, True)),
                self._make_record(right_rows, depth, parent, False, right_stats, child_keys(key, False)))

    def _add(self, record):
        total = record["total"]
        if getattr(self.criterion, "row_based", False):
            rows = record["rows"]
            median, impurity = median_and_impurity(self.criterion.y[rows], self.stats[rows, 1])
            value = np.array([median])
        else:
            impurity = float(self.criterion.impurity(total))
            value = self.criterion.value(total).ravel()
        node = self.tree._add_node(record["parent"], record["is_left"], len(record["rows"]), record["weight"],
                                   impurity, value, total)
        record["node"] = node
        record["impurity"] = impurity
        split = None
        if not self._is_leaf(record, impurity):
            split = self._find_split(record)
            if split is not None:
                if split.child_impurity is None:
                    gain = self.criterion.improvement(total, split.left_stats, split.right_stats, self.total_weight)
                else:  # w/W·(I - w_L/w·I_L - w_R/w·I_R) with the finder's child impurities
                    w, wl, wr = (float(self.criterion.weight(s))
                                 for s in (total, split.left_stats, split.right_stats))
                    il, ir = split.child_impurity
                    gain = w / self.total_weight * (impurity - wl / w * il - wr / w * ir)
                record["improvement"] = float(gain)
                if gain + _EPSILON < self.min_impurity_decrease or (self._never_pure and gain <= 0):
                    split = None
                elif self.edge_thresholds and np.isfinite(split.threshold):
                    split.threshold = float(self.binning.edges[split.feature][split.bin])
        record["split"] = split
        if split is None:
            record.pop("hist", None)
            self.leaf_rows[node] = record["rows"]
        return record

    def _children(self, record):
        split = record["split"]
        rows = record["rows"]
        c = self.binning.codes[rows, split.feature]
        go_left = c <= split.bin if split.cat_left is None else split.cat_left[c]
        if self.binning.has_missing:
            go_left = np.where(c == self.binning.missing_code, split.missing_left, go_left)
            if not split.missing_left and not (c == self.binning.missing_code).any():
                # no missing value seen here: a NaN at predict time follows the larger child
                self.tree._lists["missing_go_to_left"][record["node"]] = int(go_left.sum() * 2 > len(rows))
        else:
            self.tree._lists["missing_go_to_left"][record["node"]] = int(go_left.sum() * 2 > len(rows))
        left_rows, right_rows = rows.compress(go_left), rows.compress(~go_left)  # faster than rows[mask]
        left, right = self._child_records(record, left_rows, right_rows, split.left_stats, split.right_stats,
                                          record["node"])
        parent_hist = record.pop("hist", None)
        live = record.pop("live", None)
        if live is not None:
            # features constant in the parent stay constant in its children
            feats = record["features"][live]
            left["features"] = right["features"] = feats
            if parent_hist is not None and not live.all():
                parent_hist = parent_hist[live]
        if parent_hist is not None:
            small, large = (left, right) if len(left_rows) <= len(right_rows) else (right, left)
            if self._use_hist(len(large["rows"])):
                small_hist = self._hist(small["rows"], large.get("features", self._candidate_features(small["rows"])))
                large_hist = parent_hist
                large_hist -= small_hist  # sibling subtraction, in place: the parent is done
                large["hist"] = large_hist
                if self._use_hist(len(small["rows"])):
                    small["hist"] = small_hist
        return left, right

    def _use_levelwise(self, never_pure):
        """Level-wise pays on deep trees (many nodes per level) that try few features per node
        (forests, extra trees); an all-features tree gains more from histograms on big nodes."""
        if not self.levelwise or never_pure or self.max_leaf_nodes is not None or self.binning.has_missing:
            return False
        if self.categorical is not None or getattr(self.criterion, "row_based", False):
            return False
        if self.feature_subset is not None or self.edge_thresholds or self.max_depth < _LEVELWISE_MIN_DEPTH:
            return False
        return self.splitter == "random" or 4 * self.max_features <= self.n_features

    def _use_rows_levelwise(self):
        """Absolute error searches every node of a depth at once when nothing in the search is
        random or node-specific (all features, ordered, no missing values, depth-first growth)."""
        return (self.levelwise and getattr(self.criterion, "row_based", False) and self.splitter != "random"
                and self._all_features() and self.max_leaf_nodes is None and not self.binning.has_missing
                and self.categorical is None and not self.edge_thresholds)

    def _build_rows_levelwise(self, rows, n_outputs, n_values):
        """The depth-first tree of a row-based criterion, found a depth at a time: each level's
        splits come from one batched search (:func:`split_absolute_error_nodes`), then the nodes are
        numbered depth first, as :meth:`build` numbers them."""
        y, w = self.criterion.y, self.stats[:, 1]
        codes = self.binning.codes
        root = self._make_record(rows, 0, None, False, key=self._root_key)
        self.total_weight = root["weight"]
        features = self._candidate_features(rows)
        level = [root]
        while level:
            todo = []
            medians, impurities = medians_and_impurities(y, w, [rec["rows"] for rec in level])
            for rec, median, impurity in zip(level, medians.tolist(), impurities.tolist()):
                rec["value"], rec["impurity"], rec["split"] = np.array([median]), impurity, None
                if not self._is_leaf(rec, impurity):
                    todo.append(rec)
            found = [None] * len(todo)
            if todo and len(features):
                keys = None if self._root_key is None else np.array([rec["key"] for rec in todo], dtype=np.uint64)
                priority = feature_priority(None if keys is None else keys[:, None], features[None, :])
                found = split_absolute_error_nodes(codes, [rec["rows"] for rec in todo], features, y, self.stats,
                                                   self.binning, self.min_samples_leaf, self.min_weight_leaf,
                                                   np.broadcast_to(priority, (len(todo), len(features))))
            level = []
            for rec, split in zip(todo, found):
                if split is None:
                    continue
                total, impurity = rec["total"], rec["impurity"]
                wt, wl, wr = (float(self.criterion.weight(t)) for t in (total, split.left_stats, split.right_stats))
                il, ir = split.child_impurity
                gain = wt / self.total_weight * (impurity - wl / wt * il - wr / wt * ir)
                rec["improvement"] = float(gain)
                if gain + _EPSILON < self.min_impurity_decrease or (self._never_pure and gain <= 0):
                    continue
                rec["split"] = split
                r = rec["rows"]
                go_left = codes[r, split.feature] <= split.bin
                rec["missing_left"] = int(go_left.sum() * 2 > len(r))
                rec["children"] = self._child_records(rec, r.compress(go_left), r.compress(~go_left),
                                                      split.left_stats, split.right_stats)
                level.extend(rec["children"])
        self.tree = Tree(self.n_features, n_outputs, n_values)
        self.leaf_rows = {}
        stack = [(root, None, False)]
        while stack:
            rec, parent, is_left = stack.pop()
            node = self.tree._add_node(parent, is_left, len(rec["rows"]), rec["weight"], rec["impurity"],
                                       rec["value"], rec["total"])
            if rec["split"] is None:
                self.leaf_rows[node] = rec["rows"]
                continue
            self.tree._set_split(node, rec["split"])
            self.tree._lists["missing_go_to_left"][node] = rec["missing_left"]
            left, right = rec["children"]
            stack.append((right, node, False))
            stack.append((left, node, True))
        return self.tree._finalize(), self.leaf_rows

    def build(self, stats, n_outputs=1, never_pure=False, rows=None):
        """Grow the tree on per-sample statistics ``stats`` (n, S) over ``rows`` (default: all rows
        of non-zero weight, like scikit-learn, which drops zero-weight samples)."""
        self.stats = stats
        self._class_weight = None
        self._unit_weight = False
        self._never_pure = never_pure
        if rows is None:
            rows = np.flatnonzero(self.criterion.weight(stats) != 0) if not never_pure else np.arange(len(stats))
        # ties between features: a random order per node, from the root's key (see _ties)
        self._root_key = root_key(self.rng) if self.random_ties and self._all_features() else None
        if self._use_levelwise(never_pure):
            # same tree, every node of a depth split at once (see _levelwise)
            from ._levelwise import build_levelwise
            self.tree, self.leaf_rows = build_levelwise(self, stats, rows, self.want_leaf_rows)
            return self.tree, self.leaf_rows
        n_values = len(self.criterion.value(stats[:1].sum(axis=0)).ravel())
        if self._use_rows_levelwise():
            return self._build_rows_levelwise(rows, n_outputs, n_values)
        self.tree = Tree(self.n_features, n_outputs, n_values)
        self.leaf_rows = {}
        root = self._make_record(rows, 0, None, False, key=self._root_key)
        self.total_weight = root["weight"]
        if self.max_leaf_nodes is None:
            stack = [root]
            while stack:
                record = self._add(stack.pop())
                if record["split"] is not None:
                    self.tree._set_split(record["node"], record["split"])
                    left, right = self._children(record)
                    stack.append(right)
                    stack.append(left)
        else:
            heap, counter = [], 0
            self._add(root)
            n_leaves = 1
            if root["split"] is not None:
                heapq.heappush(heap, (-root["improvement"], counter, root))
            while heap and n_leaves < self.max_leaf_nodes:
                _, _, record = heapq.heappop(heap)
                self.tree._set_split(record["node"], record["split"])
                left, right = self._children(record)
                self.leaf_rows.pop(record["node"], None)
                n_leaves += 1
                for child in (left, right):
                    self._add(child)
                    if child["split"] is not None:
                        counter += 1
                        heapq.heappush(heap, (-child["improvement"], counter, child))
            for _, _, record in heap:  # never expanded: leaves after all
                self.leaf_rows[record["node"]] = record["rows"]
        return self.tree._finalize(), self.leaf_rows
