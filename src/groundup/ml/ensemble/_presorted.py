"""Exact split search for gradient boosting's trees: sort each feature once per fit, grow level-wise.

Friedman's booster fits ``n_estimators × K`` small regression trees to residuals of the *same* ``X``.
Sorting is the expensive part of an exact split search, and the order of a feature's values never
changes between trees, so it is done once (:class:`PresortedFeatures`):

* ``order[j]`` lists the rows by increasing ``X[:, j]`` (ties by row index) and ``sorted_codes[j]``
  the matching exact codes (ranks of distinct values, :func:`groundup.ml.tree._binning.bin_features`).

A tree is then grown one depth at a time (:func:`grow_tree`). In every feature's list the rows of the
level's nodes are grouped node after node and still sorted within each node (a stable partition
keeps both properties from level to level), so for all features and all cut positions at once:

* one gather ``(w·r)[order]`` and a cumulative sum per node give the left child's ``S_L = Σ w·r``
  (and ``w_L = Σ w``; with unit weights ``w_L`` is the position in the node);
* a cut after position ``i`` is a candidate when the codes at ``i`` and ``i + 1`` differ, both rows
  lie in the same node and each side keeps ``min_samples_leaf`` rows;
* every candidate is scored in one expression: Friedman's ``(S_L·w_R - S_R·w_L)²/(w_L·w_R·(w_L + w_R))``
  (``= w_L·w_R/(w_L + w_R)·(ȳ_L - ȳ_R)²``) or the squared-error proxy ``S_L²/w_L + S_R²/w_R``,
  with ``S_R = S - S_L``, ``w_R = w - w_L``; a node's best is its largest score, ties to the feature
  first in the node's random tie order, then its earliest position (:mod:`groundup.ml.tree._ties`,
  as the reference finder);
* the chosen splits send each row left (``code ≤ bin``, i.e. ``x ≤ t``) or right, and one stable
  radix sort of the child ids per feature partitions every list for the next level; rows of new
  leaves drop out. The leaf of every training row falls out of the same pass, so the booster's
  line search and its update ``F ← F + η·h(x)`` need no tree traversal.

The tree is the one the depth-first exact builder (``_Builder(splitter="sort")``) grows, numbered
in scikit-learn's preorder; a test checks they agree. Used for data without missing values and
trees that try every feature in every node (``max_features=None``, ``max_leaf_nodes=None``).
"""

from __future__ import annotations

import numpy as np

from groundup.ml.tree._binning import take2d
from groundup.ml.tree._criterion import FriedmanMSE, SquaredError
from groundup.ml.tree._levelwise import _preorder, _renumber
from groundup.ml.tree._ties import child_keys, feature_priority
from groundup.ml.tree._tree import Tree

_EPSILON = np.finfo(np.float64).eps
_LOOP_NODES = 64  # up to this many nodes a level sums each node separately (no cross-node rounding)


class PresortedFeatures:
    """Every feature's row order and sorted codes, computed once for a whole ensemble."""

    def __init__(self, binning):
        self.binning = binning
        self.codes_T = np.ascontiguousarray(binning.codes.T)  # (p, n)
        self.order = np.argsort(self.codes_T, axis=1, kind="stable")
        self.sorted_codes = np.take_along_axis(self.codes_T, self.order, axis=1)

    def restricted(self, keep):
        """``order`` and ``sorted_codes`` of the rows where ``keep`` holds (still sorted)."""
        if keep is None:
            return self.order, self.sorted_codes
        mask = keep[self.order]
        p = self.order.shape[0]
        return self.order[mask].reshape(p, -1), self.sorted_codes[mask].reshape(p, -1)


def _segment_cumsum(values, seg_start, seg_len):
    """Cumulative sum along axis 1 restarting at every segment (node)."""
    out = np.empty_like(values)
    if len(seg_start) <= _LOOP_NODES:
        for s, ln in zip(seg_start.tolist(), seg_len.tolist()):
            np.cumsum(values[:, s : s + ln], axis=1, out=out[:, s : s + ln])
        return out
    np.cumsum(values, axis=1, out=out)
    base = np.zeros((values.shape[0], len(seg_start)))
    base[:, 1:] = out[:, seg_start[1:] - 1]
    out -= np.repeat(base, seg_len, axis=1)
    return out


def _score(friedman, sl, sr, wl, wr):
    with np.errstate(divide="ignore", invalid="ignore"):
        if friedman:
            diff = sl * wr
            diff -= sr * wl
            diff *= diff
            diff /= wl * wr * (wl + wr)
            return diff
        return sl * sl / wl + sr * sr / wr


def _best_cuts(O, C, seg_start, seg_len, totals, wr_row, w_row, unit, friedman, min_samples_leaf, priority=None):
    """Best cut per node: ``(has, feature, position)`` over all features and positions; ties go
    to the feature of lowest ``priority`` (p, m) in the node (None: the lowest index), then to its
    earliest position (see :mod:`groundup.ml.tree._ties`)."""
    m = len(seg_len)
    n_act = O.shape[1]
    node_of_pos = np.repeat(np.arange(m), seg_len)
    count_l = np.arange(1, n_act + 1) - np.repeat(seg_start, seg_len)  # rows left of a cut after i
    count_r = seg_len[node_of_pos] - count_l
    pos_ok = (count_l >= min_samples_leaf) & (count_r >= min_samples_leaf) & (count_r > 0)
    sl = _segment_cumsum(wr_row.take(O), seg_start, seg_len)  # (p, n_act)
    sr = totals[node_of_pos, 2][None, :] - sl
    if unit:
        wl, wr = count_l.astype(np.float64), count_r.astype(np.float64)
    else:
        wl = _segment_cumsum(w_row.take(O), seg_start, seg_len)
        wr = totals[node_of_pos, 1][None, :] - wl
    score = _score(friedman, sl, sr, wl, wr)
    valid = np.zeros(C.shape, dtype=bool)
    np.not_equal(C[:, :-1], C[:, 1:], out=valid[:, :-1])
    valid &= pos_ok[None, :]
    if not unit:
        valid &= (wl > 0) & (wr > 0)
    score[~valid] = -np.inf
    feat_best = np.maximum.reduceat(score, seg_start, axis=1)  # (p, m) each feature's best per node
    top = feat_best.max(axis=0)
    has = np.isfinite(top)
    tied = feat_best == top[None, :]
    if priority is None:
        feat = np.argmax(tied, axis=0)
    else:
        feat = np.argmin(np.where(tied, priority, np.iinfo(priority.dtype).max), axis=0)
    # the chosen feature's first position with the node's best score
    at_best = score[feat[node_of_pos], np.arange(n_act)] == top[node_of_pos]
    big = np.iinfo(np.intp).max
    first = np.minimum.reduceat(np.where(at_best, np.arange(n_act), big), seg_start)
    first = np.where(has, first, seg_start)
    return has, feat, first


def sync_exact_bin_thresholds(tree, binning):
    """Set each split's ``bin_threshold`` to the largest exact code of its feature whose value is
    ``≤ threshold``. A builder stores the node's own left-most cut code; codes between the node's
    neighbouring values (rows outside the tree's sample, e.g. out of bag, or rows of other nodes)
    then take the side ``x ≤ t`` gives them, so ``Tree.apply_binned`` on the training codes agrees
    with ``Tree.apply`` on the values. Exact codes only (one value per code)."""
    for node in np.flatnonzero(tree.children_left != -1).tolist():
        f, b = tree.feature[node], tree.bin_threshold[node]
        above = binning.upper[f, b + 1 : binning.n_bins_feature[f]]
        tree.bin_threshold[node] = b + int(np.searchsorted(above, tree.threshold[node], side="right"))
    return tree


def grow_tree(pre, stats, criterion, *, max_depth, min_samples_split=2, min_samples_leaf=1,
              min_impurity_decrease=0.0, keep=None, unit_weight=False, root_key=None):
    """Grow one exact regression tree level by level on presorted features.

    ``stats`` (n, 4) holds ``[1, w, w·r, w·r²]`` per row; ``keep`` marks the rows used (non-zero
    weight); ``unit_weight`` says every used row has ``w = 1``; ``root_key`` (from
    :func:`groundup.ml.tree._ties.root_key`, None: lowest index first) orders tied features per
    node. Returns ``(tree, leaf)`` where ``leaf[i]`` is the (preorder) leaf of training row ``i``
    (``-1`` for rows not used).
    """
    binning = pre.binning
    codes = binning.codes
    n = codes.shape[0]
    friedman = isinstance(criterion, FriedmanMSE)
    if not isinstance(criterion, SquaredError):
        raise TypeError(f"grow_tree: criterion {type(criterion).__name__} is not a squared-error criterion")
    O, C = pre.restricted(keep)
    rows = O[0]
    w_row = stats[:, 1]
    wr_row = stats[:, 2]
    total = stats[rows].sum(axis=0)
    tree = Tree(codes.shape[1], 1, 1)
    total_weight = float(criterion.weight(total))
    node_ids = np.array([tree._add_node(None, False, len(rows), total_weight, float(criterion.impurity(total)),
                                        criterion.value(total).ravel(), total)])
    leaf = np.full(n, -1, dtype=np.intp)
    seg_len = np.array([len(rows)])
    totals = total[None, :]
    max_depth = np.inf if max_depth is None else max_depth
    node_keys = None if root_key is None else np.array([root_key], dtype=np.uint64)
    all_features = np.arange(codes.shape[1])[:, None]
    depth = 0
    while len(node_ids):
        impurity = np.asarray(criterion.impurity(totals), dtype=np.float64)
        expand = ~((depth >= max_depth) | (seg_len < min_samples_split) | (seg_len < 2 * min_samples_leaf)
                   | (impurity <= _EPSILON))
        seg_start = np.concatenate([[0], np.cumsum(seg_len)[:-1]])
        if not expand.all():
            node_of_pos = np.repeat(np.arange(len(seg_len)), seg_len)
            rows = O[0]
            leaf[rows] = np.where(expand[node_of_pos], leaf[rows], node_ids[node_of_pos])
            if not expand.any():
                break
            pos = expand[node_of_pos]
            O, C = O[:, pos], C[:, pos]
            node_ids, seg_len, totals = node_ids[expand], seg_len[expand], totals[expand]
            node_keys = None if node_keys is None else node_keys[expand]
            seg_start = np.concatenate([[0], np.cumsum(seg_len)[:-1]])
        m = len(node_ids)
        priority = None if node_keys is None else feature_priority(node_keys[None, :], all_features)
        has, f, at = _best_cuts(O, C, seg_start, seg_len, totals, wr_row, w_row, unit_weight, friedman,
                                min_samples_leaf, priority)
        bins = C[f, at].astype(np.intp)
        nxt = C[f, np.minimum(at + 1, C.shape[1] - 1)].astype(np.intp)
        # every row of the level, node after node, and the side of its node's split
        rows = O[0]
        node_of_pos = np.repeat(np.arange(m), seg_len)
        go_right = take2d(codes, rows, f[node_of_pos]) > bins[node_of_pos]
        key = 2 * node_of_pos + go_right
        child_tot = np.empty((2 * m, stats.shape[1]))
        for s in range(stats.shape[1]):
            child_tot[:, s] = np.bincount(key, weights=stats[rows, s], minlength=2 * m)
        Lt, Rt = child_tot[0::2], child_tot[1::2]
        if has.any():
            safe_L = np.where(has[:, None], Lt, totals)
            safe_R = np.where(has[:, None], Rt, totals)
            gain = np.where(has, criterion.improvement(totals, safe_L, safe_R, total_weight), -np.inf)
            has &= ~(gain + _EPSILON < min_impurity_decrease)
        if not has.all():
            leaf[rows] = np.where(has[node_of_pos], leaf[rows], node_ids[node_of_pos])
        if not has.any():
            break
        s_idx = np.flatnonzero(has)
        k = len(s_idx)
        n_left = Lt[s_idx, 0].astype(np.intp)
        n_node = seg_len[s_idx]
        thr = (binning.upper[f, bins] + binning.lower[f, nxt]) / 2.0
        new_len = np.empty(2 * k, dtype=np.intp)
        new_len[0::2], new_len[1::2] = n_left, n_node - n_left
        new_tot = np.empty((2 * k, stats.shape[1]))
        new_tot[0::2], new_tot[1::2] = Lt[s_idx], Rt[s_idx]
        lists = tree._lists
        parents = node_ids[s_idx].tolist()
        new_ids = len(lists["feature"]) + np.arange(2 * k)
        for name, vals in (("feature", f[s_idx]), ("threshold", thr[s_idx]), ("bin_threshold", bins[s_idx]),
                           ("missing_go_to_left", (2 * n_left > n_node).astype(int)),
                           ("children_left", new_ids[0::2]), ("children_right", new_ids[1::2])):
            lst = lists[name]
            for node, v in zip(parents, vals.tolist()):
                lst[node] = v
        lists["children_left"].extend([-1] * (2 * k))
        lists["children_right"].extend([-1] * (2 * k))
        lists["feature"].extend([-2] * (2 * k))
        lists["threshold"].extend([-2.0] * (2 * k))
        lists["impurity"].extend(np.asarray(criterion.impurity(new_tot), dtype=np.float64).tolist())
        lists["n_node_samples"].extend(new_len.tolist())
        lists["weighted_n_node_samples"].extend(np.asarray(criterion.weight(new_tot), dtype=np.float64).tolist())
        lists["value"].extend(list(criterion.value(new_tot).reshape(2 * k, -1)))
        lists["missing_go_to_left"].extend([0] * (2 * k))
        lists["bin_threshold"].extend([0] * (2 * k))
        lists["stats"].extend(list(new_tot))
        depth += 1
        # child of every row of a split node (left 2·rank, right 2·rank + 1); others drop out
        rank = np.cumsum(has) - 1
        split_pos = has[node_of_pos]
        child = 2 * rank[node_of_pos] + go_right
        if depth >= max_depth:  # the children are leaves: no need to partition the lists
            leaf[rows[split_pos]] = new_ids[child[split_pos]]
            break
        dtype = np.uint8 if 2 * k < 255 else np.uint16 if 2 * k < 65535 else np.intp
        child_of_row = np.full(n, 2 * k, dtype=dtype)
        child_of_row[rows[split_pos]] = child[split_pos]
        keys = child_of_row[O]
        perm = np.argsort(keys, axis=1, kind="stable")[:, : int(split_pos.sum())]  # radix sort: O(n)
        O = np.take_along_axis(O, perm, axis=1)
        C = np.take_along_axis(C, perm, axis=1)
        node_ids, seg_len, totals = new_ids, new_len, new_tot
        if node_keys is not None:
            # the children, left then right per split node, as the level's nodes are listed
            node_keys = child_keys(np.repeat(node_keys[s_idx], 2), np.tile([True, False], k))
    tree = tree._finalize()
    pre_num = _preorder(tree)
    _renumber(tree, pre_num)
    sync_exact_bin_thresholds(tree, binning)
    return tree, np.where(leaf >= 0, pre_num[np.maximum(leaf, 0)], -1)
