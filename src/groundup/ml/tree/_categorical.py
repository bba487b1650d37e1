"""Categorical splits: a node sends a *subset* of the categories left.

Trying all ``2^(k-1) - 1`` subsets of ``k`` categories is hopeless beyond a handful, but for two
classes (any concave impurity: Gini, entropy) and for squared error, Breiman et al. (CART, 1984,
§9.4) proved the best subset is a *prefix* of the categories sorted by the class-1 proportion
(resp. the mean target). So a categorical feature is scanned like an ordered one, after sorting its
categories by

* **regression** (squared error, Friedman MSE): the weighted mean ``Σwy/Σw`` of each category — exact;
* **two classes**: the weighted proportion of the second class — exact;
* **more classes** (a heuristic: no ordering is optimal in general): one ordering per class ``c``,
  by the proportion of ``c`` (one-vs-rest), and the best prefix over all of them;
* **histogram boosting**: ``G/(H + 10)`` per category, like scikit-learn and LightGBM
  (``cat_smooth = 10``); categories with hessian support below 10 are never sent left, and the
  sorted list is scanned from both ends up to its middle (scikit-learn's rule).

Missing values (the last code, when the data has any) are one more category. The split is stored
as a mask over the codes of the feature; the tree turns it into a set of category values.
"""

from __future__ import annotations

import numpy as np

from ._criterion import ClassificationCriterion, NewtonGain
from ._splitter import Split, _score, split_from_histogram

CAT_SMOOTH = 10.0  # scikit-learn's MIN_CAT_SUPPORT / LightGBM's cat_smooth


def category_order_keys(criterion, hist):
    """Sort keys (K, q, n_bins) of the categories of ``q`` features from their histogram
    ``(q, n_bins, S)``; NaN marks a category that is absent (or has too little support) and
    always goes right. ``K`` orderings are tried (one per class for more than two classes)."""
    count = hist[:, :, 0]
    present = count > 0
    if isinstance(criterion, ClassificationCriterion):
        cls = hist[:, :, 1:]
        w = cls.sum(axis=-1)
        ok = present & (w > 0)
        p = cls / np.where(ok, w, 1.0)[..., None]
        classes = [1] if criterion.n_classes == 2 else range(criterion.n_classes)
        return np.stack([np.where(ok, p[..., c], np.nan) for c in classes])
    if isinstance(criterion, NewtonGain):
        H, G = hist[:, :, 1], hist[:, :, 2]
        n_node = count.sum(axis=1, keepdims=True)
        h_node = H.sum(axis=1, keepdims=True)
        factor = n_node / np.where(h_node > 0, h_node, 1.0)  # 1 when hessians are all one
        ok = present & (H * factor >= CAT_SMOOTH)
        return np.where(ok, G / (H + CAT_SMOOTH), np.nan)[None]
    w = hist[:, :, 1]
    ok = present & (w > 0)
    return np.where(ok, hist[:, :, 2] / np.where(ok, w, 1.0), np.nan)[None]


def split_categorical(hist, total, features, criterion, min_samples_leaf, min_weight_leaf, priority=None):
    """Best subset split over the categorical ``features`` from their node histogram
    ``(q, n_bins, S)``: categories sorted by :func:`category_order_keys`, every prefix scored; ties
    to the lowest ``priority`` (the features' tie order, :mod:`._ties`; None: their order here).
    Returns a :class:`Split` whose ``cat_left`` masks the codes sent left, or ``None``."""
    q, n_bins, S = hist.shape
    keys = category_order_keys(criterion, hist)  # (K, q, B)
    K = keys.shape[0]
    keys = keys.reshape(K * q, n_bins)
    feat_of = np.tile(np.arange(q), K)
    order = np.argsort(keys, axis=1, kind="stable")  # NaN (unused categories) last
    n_used = (~np.isnan(keys)).sum(axis=1)
    sorted_hist = hist[feat_of[:, None], order]  # (K·q, B, S)
    cum = np.cumsum(sorted_hist, axis=1)
    half_scan = isinstance(criterion, NewtonGain)
    lengths = np.arange(1, n_bins + 1)[None, :]
    rows_c, lens_c, left_c, dirs_c = [], [], [], []
    if half_scan:
        # scikit-learn: prefixes up to the middle from the left, then from the right
        fwd = lengths <= ((n_used + 1) // 2)[:, None]
        r, i = np.nonzero(fwd & (n_used >= 2)[:, None])
        rows_c.append(r), lens_c.append(i + 1), left_c.append(cum[r, i]), dirs_c.append(np.ones(len(r), int))
        bwd = lengths <= ((n_used + 1) // 2 - 1)[:, None]
        r, i = np.nonzero(bwd & (n_used >= 2)[:, None])
        used_sum = cum[r, n_used[r] - 1]
        below = cum[r, n_used[r] - 2 - i]
        rows_c.append(r), lens_c.append(i + 1), left_c.append(used_sum - below), dirs_c.append(-np.ones(len(r), int))
    else:
        r, i = np.nonzero(lengths < n_used[:, None])  # every proper prefix of the used categories
        rows_c.append(r), lens_c.append(i + 1), left_c.append(cum[r, i]), dirs_c.append(np.ones(len(r), int))
    rows_c = np.concatenate(rows_c)
    if len(rows_c) == 0:
        return None
    lens_c, dirs_c = np.concatenate(lens_c), np.concatenate(dirs_c)
    left = np.concatenate(left_c).reshape(-1, S)
    prio = feat_of[rows_c] if priority is None else priority[feat_of[rows_c]]
    value, k, _, L, R = _score(criterion, total, left, None, min_samples_leaf, min_weight_leaf, prio)
    if k is None:
        return None
    r, length = rows_c[k], lens_c[k]
    chosen = order[r, :length] if dirs_c[k] == 1 else order[r, n_used[r] - length : n_used[r]]
    mask = np.zeros(n_bins, dtype=bool)
    mask[chosen] = True
    return Split(int(features[feat_of[r]]), 0, float("nan"), False, float(value), L, R, cat_left=mask)


# -- the fitted tree's side: category sets per node -----------------------------------------------


def _set_bits(words, values):
    np.bitwise_or.at(words, values >> 6, np.left_shift(np.uint64(1), (values & 63).astype(np.uint64)))


class CategoricalTreeMixin:
    """Category sets of a :class:`._tree.Tree`'s categorical nodes (see its module docstring)."""

    # None when the tree has no categorical split: node mask, bitsets over values and over codes
    _is_cat = None
    _cat_bitset = None
    _cat_bins = None

    def _finalize_categorical(self):
        cat = self._cat
        del self._cat
        n = len(self.feature)
        top = max((int(v.max()) if len(v) else 0) for _, v in cat.values())
        n_bins = max(len(mask) for mask, _ in cat.values())
        self._is_cat = np.zeros(n, dtype=bool)
        self._cat_bitset = np.zeros((n, top // 64 + 1), dtype=np.uint64)
        self._cat_bins = np.zeros((n, (n_bins - 1) // 64 + 1), dtype=np.uint64)
        for node, (mask, values) in cat.items():
            self._is_cat[node] = True
            _set_bits(self._cat_bitset[node], np.asarray(values, dtype=np.int64))
            _set_bits(self._cat_bins[node], np.flatnonzero(mask))
            self.threshold[node] = np.nan

    @property
    def is_categorical(self) -> np.ndarray:
        """Per node: True when it splits on a category set rather than a threshold."""
        return self._is_cat if self._is_cat is not None else np.zeros(self.node_count, dtype=bool)

    @property
    def categorical_left(self) -> np.ndarray:
        """Bitset (node_count, n_words) uint64 of the category values each node sends left: bit
        ``v % 64`` of word ``v // 64`` is set when category ``v`` goes left (zeros off categorical
        nodes)."""
        if self._cat_bitset is None:
            return np.zeros((self.node_count, 1), dtype=np.uint64)
        return self._cat_bitset

    def categories_left(self, node: int) -> np.ndarray:
        """Sorted category values sent left by a categorical ``node`` (empty for other nodes)."""
        words = self.categorical_left[node]
        bits = (words[:, None] >> np.arange(64, dtype=np.uint64)[None, :]) & np.uint64(1)
        return np.flatnonzero(bits.ravel().astype(bool))

    def _categorical_go_left(self, nd, x, go_left):
        """``go_left`` with the categorical nodes among ``nd`` answered by set membership of ``x``."""
        cat = self._is_cat[nd]
        if not cat.any():
            return go_left
        xc = x[cat]
        ok = np.isfinite(xc) & (xc >= 0) & (xc < 64.0 * self._cat_bitset.shape[1])
        v = np.where(ok, xc, 0).astype(np.int64)
        bits = (self._cat_bitset[nd[cat], v >> 6] >> (v & 63).astype(np.uint64)) & np.uint64(1)
        go_left = go_left.copy()
        go_left[cat] = ok & (bits == 1) & (v == xc)
        return go_left

    def _categorical_codes_go_left(self, nd, c, go_left):
        cat = self._is_cat[nd]
        if not cat.any():
            return go_left
        v = c[cat].astype(np.int64)
        bits = (self._cat_bins[nd[cat], v >> 6] >> (v & 63).astype(np.uint64)) & np.uint64(1)
        go_left = go_left.copy()
        go_left[cat] = bits == 1
        return go_left


# -- the builder's side: split search over a mix of ordered and categorical features --------------


def find_split_mixed(builder, record):
    """Best split when some features are categorical: the ordered ones through the usual
    finders, the categorical ones through their node histogram (:func:`split_categorical`)."""
    rows, total = record["rows"], record["total"]
    features = record.get("features")
    if features is None:
        features = builder._candidate_features(rows)
    if len(features) == 0:
        return None
    is_cat = builder.categorical[features]
    priority = builder._tie_priority(record, features)
    if builder._use_hist(len(rows)):
        hist = builder._node_hist(rows, features, record)
        num = None
        if not is_cat.all():
            num = split_from_histogram(hist[~is_cat], total, features[~is_cat], builder.binning,
                                       builder.criterion, builder.min_samples_leaf, builder.min_weight_leaf,
                                       priority[~is_cat])
        cat_hist = hist[is_cat]
    else:
        num = None
        if not is_cat.all():
            num = builder._find_split({"rows": rows, "total": total, "features": features[~is_cat],
                                       "priority": priority[~is_cat], "numeric_only": True})
        cat_hist = builder._hist(rows, features[is_cat]) if is_cat.any() else None
    cat = None
    if is_cat.any():
        cat = split_categorical(cat_hist, total, features[is_cat], builder.criterion,
                                builder.min_samples_leaf, builder.min_weight_leaf, priority[is_cat])
    if cat is not None and num is not None and cat.proxy == num.proxy:  # a tie: the feature first in order
        rank = dict(zip(features.tolist(), priority.tolist()))
        return with_categories(builder, cat) if rank[cat.feature] < rank[num.feature] else num
    if cat is not None and (num is None or cat.proxy > num.proxy):
        return with_categories(builder, cat)
    return num


def random_categorical_sides(builder, rows, sub, features, go_left):
    """Extremely randomised trees on categorical features: a random threshold on the categories
    sorted as the best-split finder sorts them. The categories present in the node are ordered by
    their weighted mean target (regression), class-1 proportion (two classes) or the proportion of
    one class drawn at random (more classes, one-vs-rest), and a cut ``c`` drawn uniformly from
    ``{1, …, k-1}`` sends the first ``c`` of the ``k`` categories left — as extra trees draw a
    threshold uniformly between an ordered feature's extremes, only the candidate set is the one
    Breiman's ordering makes optimal. (A uniformly random subset, Geurts et al.'s rule, was tried
    too: it rarely isolates a group among many categories, and lost 1–11 points of accuracy or R²
    on a 30-category task.)
    Categories absent from the node go right, like unseen ones.

    ``sub`` (m, q) holds the node's codes of the candidate ``features`` for its ``rows``,
    ``go_left`` (m, q) the sides of the ordered features' random thresholds. Returns
    ``(go_left, cat_left)`` with the categorical columns of ``go_left`` replaced and ``cat_left``
    (q, n_bins) the code masks sent left (rows of ordered features all False), or
    ``(go_left, None)`` without categorical candidates. The draws come after the thresholds', so
    trees without categorical features are unchanged.
    """
    is_cat = builder.categorical[features]
    if not is_cat.any():
        return go_left, None
    cols = np.flatnonzero(is_cat)
    q, n_bins, rng = len(cols), builder.binning.n_bins, builder.rng
    codes = sub[:, cols].astype(np.intp)
    stats = builder.stats[rows]
    if builder.class_index is not None:  # [1, w·onehot(y)]
        n_classes = stats.shape[1] - 1
        cls = np.ones(q, dtype=np.intp) if n_classes == 2 else rng.integers(0, n_classes, q)
        weight, num = stats[:, 1:].sum(axis=1)[:, None], stats[:, 1 + cls]
    else:  # [1, w, w·y, w·y²]
        weight, num = stats[:, 1:2], stats[:, 2:3]
    flat = (np.arange(q)[None, :] * n_bins + codes).ravel()  # (row, column) → column·n_bins + code
    size = q * n_bins
    W = np.bincount(flat, weights=np.broadcast_to(weight, codes.shape).ravel(), minlength=size).reshape(q, n_bins)
    N = np.bincount(flat, weights=np.broadcast_to(num, codes.shape).ravel(), minlength=size).reshape(q, n_bins)
    key = np.where(W > 0, N / np.where(W > 0, W, 1.0), np.nan)
    order = np.argsort(key, axis=1, kind="stable")  # absent categories (NaN) last
    n_used = (~np.isnan(key)).sum(axis=1)
    cut = 1 + (rng.random(q) * np.maximum(n_used - 1, 1)).astype(np.intp)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(n_bins)[None, :], axis=1)
    left = (rank < cut[:, None]) & ~np.isnan(key)
    go_left = go_left.copy()
    go_left[:, cols] = left[np.arange(q)[None, :], codes]
    cat_left = np.zeros((len(features), n_bins), dtype=bool)
    cat_left[cols] = left
    return go_left, cat_left


def with_categories(builder, split):
    """Fill a categorical split's NaN routing and category values from the binning."""
    mask = split.cat_left
    if builder.binning.has_missing:
        split.missing_left = bool(mask[builder.binning.missing_code])
        mask = mask[:-1]
    codes = np.flatnonzero(mask)
    split.cat_values = builder.binning.lower[split.feature, codes].astype(np.int64)
    return split


MAX_CATEGORY_CODE = 65535  # category sets are bitsets over the codes


def resolve_categorical_features(categorical_features, X, owner, max_categories=None):
    """Boolean mask of the categorical columns of ``X`` from indices or a mask (``None`` when
    there are none), after checking each such column holds non-negative integer codes (NaN allowed)
    and, for histogram coding, at most ``max_categories`` distinct categories."""
    from groundup.errors import hint

    if categorical_features is None:
        return None
    p = X.shape[1]
    spec = np.asarray(categorical_features)
    if spec.ndim != 1 or spec.dtype.kind not in "biu" and spec.size:
        raise ValueError(hint(f"{owner}: categorical_features={categorical_features!r} is not a list of column "
                              "indices or a boolean mask", f"pass e.g. [0, 3] or a mask of {p} booleans"))
    if spec.dtype.kind == "b":
        if len(spec) != p:
            raise ValueError(hint(f"{owner}: categorical_features is a mask of {len(spec)} booleans but X has "
                                  f"{p} features", "pass one boolean per column of X"))
        mask = spec.copy()
    else:
        bad = spec[(spec < 0) | (spec >= p)]
        if len(bad):
            raise ValueError(hint(f"{owner}: categorical_features holds column index {int(bad[0])}, X has "
                                  f"{p} features", f"use indices in [0, {p - 1}]"))
        mask = np.zeros(p, dtype=bool)
        mask[spec.astype(np.intp)] = True
    if not mask.any():
        return None
    for j in np.flatnonzero(mask):
        check_categorical_column(X[:, j], j, owner)
        if max_categories is not None:
            col = X[:, j]
            n_cat = len(np.unique(col[~np.isnan(col)]))
            if n_cat > max_categories:
                raise ValueError(hint(f"{owner}: categorical column {j} has {n_cat} categories, more than "
                                      f"max_bins={max_categories}",
                                      "group rare categories together, or treat the column as numeric"))
    return mask


def check_categorical_column(col, j, owner, fit=True):
    """Raise when column ``j`` holds a negative or non-integer code (or, at fit, one above
    ``MAX_CATEGORY_CODE``); NaN is a missing value."""
    from groundup.errors import hint

    present = col[~np.isnan(col)]
    bad = present[(present < 0) | (present != np.floor(present))]
    if len(bad):
        raise ValueError(hint(f"{owner}: categorical column {j} holds {float(bad[0])!r}, not a non-negative integer "
                              "category code", "encode the categories as 0, 1, 2, … (e.g. OrdinalEncoder)"))
    if fit and len(present) and present.max() > MAX_CATEGORY_CODE:
        raise ValueError(hint(f"{owner}: categorical column {j} holds code {int(present.max())}, above "
                              f"{MAX_CATEGORY_CODE}", "re-encode the categories as 0, 1, …, k-1"))


def check_categorical_input(X, mask, owner):
    """Predict-time check of the categorical columns (unseen non-negative codes are allowed)."""
    if mask is not None:
        for j in np.flatnonzero(mask):
            check_categorical_column(X[:, j], j, owner, fit=False)
