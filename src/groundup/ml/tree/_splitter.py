"""Best-split search for one node, vectorised over all candidate features and thresholds.

Two finders produce the same thing — for every candidate feature ``j`` and cut position, the
statistics of the left child — and one scorer picks the best:

* **sort** (the exact reference): the node's codes are argsorted per feature (all features at once)
  and the per-sample statistics are cumulatively summed in that order; position ``i`` is a cut when
  the ``i``-th and ``i+1``-th sorted values differ — every threshold between distinct values, as the
  workshop's recursive algorithm describes.
* **hist**: per-feature histograms of the statistics over the bins (one ``np.bincount`` for all
  features), a cumulative sum over bins, cuts after every non-empty bin. A child's histogram is its
  parent's minus its sibling's (the sibling-subtraction trick), so only the smaller child is counted.

On codes that are exact (≤ ``max_bins`` distinct values) both finders give the same split.
Missing values (the last code) are tried on both sides; the better side is recorded. Among equally
good cuts both take the feature first in the node's tie order, then its lowest cut (:mod:`._ties`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._ties import first_best

_CHUNK_ELEMENTS = 1 << 22  # bound the (n, features, stats) temporaries to ~32 MB


@dataclass
class Split:
    feature: int
    bin: int  # rows with code <= bin go left (missing rows follow missing_left)
    threshold: float
    missing_left: bool
    proxy: float
    left_stats: np.ndarray
    right_stats: np.ndarray
    # categorical split: which codes go left (missing code included); None for ``code <= bin``
    cat_left: np.ndarray | None = None
    # (impurity_left, impurity_right) when the criterion cannot derive them from the statistics
    child_impurity: tuple | None = None
    cat_values: np.ndarray | None = None  # the category values of ``cat_left`` (set by the builder)


def node_histogram(codes, rows, features, stats_rows, n_bins, class_index=None, class_weight=None,
                   unit_weight=False):
    """Histogram ``(len(features), n_bins, S)`` of per-sample statistics over the bins.

    One ``np.bincount`` per statistic column over all features at once (flat index
    ``feature·n_bins + code``). For classification (``class_index`` given) the class goes into the
    flat index too, so a single weighted bincount yields all class counts (``unit_weight``: every
    weight and count is one, so an unweighted integer count gives both the class counts and the
    sample counts).
    """
    q = len(features)
    sub = codes[rows][:, features] if q != codes.shape[1] else codes[rows]
    S = stats_rows.shape[1]
    hist = np.empty((q, n_bins, S))
    size = q * n_bins
    if class_index is not None:
        n_classes = S - 1
        # flat index (feature·n_bins + code)·n_classes + class, built in place
        cls_flat = sub.astype(np.intp)
        cls_flat *= n_classes
        cls_flat += class_index[rows][:, None]
        cls_flat += (np.arange(q, dtype=np.intp) * (n_bins * n_classes))[None, :]
        cls_flat = cls_flat.ravel()
        if unit_weight:
            counts = np.bincount(cls_flat, minlength=size * n_classes).reshape(q, n_bins, n_classes)
            hist[:, :, 1:] = counts
            hist[:, :, 0] = counts.sum(axis=2)
            return hist
        w = np.broadcast_to(class_weight[rows][:, None], sub.shape).ravel()
        hist[:, :, 1:] = np.bincount(cls_flat, weights=w, minlength=size * n_classes).reshape(q, n_bins, n_classes)
        hist[:, :, 0] = np.bincount(cls_flat // n_classes, minlength=size).reshape(q, n_bins)
        return hist
    flat = sub.astype(np.intp)
    flat += (np.arange(q, dtype=np.intp) * n_bins)[None, :]
    flat = flat.ravel()
    hist[:, :, 0] = np.bincount(flat, minlength=size).reshape(q, n_bins)
    for s in range(1, S):
        w = np.broadcast_to(stats_rows[:, s][:, None], sub.shape).ravel()
        hist[:, :, s] = np.bincount(flat, weights=w, minlength=size).reshape(q, n_bins)
    return hist


def _score(criterion, total, left, missing, min_samples_leaf, min_weight_leaf, priority=None):
    """Best of ``m`` candidate splits given their left statistics ``left`` (m, S).

    ``missing`` (m, S) holds the statistics of the rows with a missing value in each candidate's
    feature (or None): they are tried on the right (default) and on the left. ``priority`` (m,), the
    candidates' tie order (:mod:`._ties`; None: their order here): among equal scores the lowest
    priority wins, then the earliest candidate, then missing values on the right. Returns
    ``(score, index, missing_left, L, R)`` or ``(-inf, None, ...)`` when no candidate is allowed.
    """
    right = total - left  # the missing rows (if any) are in here: they go right by default
    options = [(left, right, False)]
    if missing is not None:
        options.append((left + missing, right - missing, True))
    best = (-np.inf, None, False, None, None)
    for L, R, miss_left in options:
        wl, wr = criterion.weight(L), criterion.weight(R)
        ok = (L[:, 0] >= min_samples_leaf) & (R[:, 0] >= min_samples_leaf)
        ok &= (wl >= min_weight_leaf) & (wr >= min_weight_leaf) if min_weight_leaf > 0 else (wl > 0) & (wr > 0)
        if miss_left:
            ok &= missing[:, 0] > 0  # moving nothing changes nothing
        if not ok.any():
            continue
        idx = np.flatnonzero(ok)
        score = criterion.proxy(L, R) if len(idx) == len(L) else criterion.proxy(L[idx], R[idx])
        k = int(np.argmax(score)) if priority is None else first_best(score, priority[idx])
        i = idx[k]
        if score[k] > best[0] or (priority is not None and best[1] is not None and score[k] == best[0]
                                  and priority[i] < priority[best[1]]):
            best = (float(score[k]), i, miss_left, L[i].copy(), R[i].copy())
    return best


def split_from_histogram(hist, total, features, binning, criterion, min_samples_leaf, min_weight_leaf, priority=None):
    """Best split of a node from its histogram ``(q, n_bins, S)``; ``None`` if there is none.
    ``priority`` (q,): the features' tie order (:mod:`._ties`; None: their order here)."""
    n_bins = binning.n_bins
    missing = None
    if binning.has_missing:
        missing = hist[:, -1, :]
        hist = hist[:, :-1, :]
        n_bins -= 1
    nonempty = hist[:, :, 0] > 0
    # only features with at least two non-empty bins (counting the missing bin) can split
    n_nonempty = nonempty.sum(axis=1)
    if missing is not None:
        n_nonempty = n_nonempty + (missing[:, 0] > 0)
    splittable = np.flatnonzero(n_nonempty >= 2)
    if len(splittable) == 0:
        return None
    if len(splittable) < len(features):
        hist, nonempty, features = hist[splittable], nonempty[splittable], features[splittable]
        if priority is not None:
            priority = priority[splittable]
        if missing is not None:
            missing = missing[splittable]
    idx = np.where(nonempty, np.arange(n_bins), n_bins)
    # next non-empty bin after each bin: reverse running minimum, shifted by one
    nxt = np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1]
    nxt = np.concatenate([nxt[:, 1:], np.full((len(features), 1), n_bins)], axis=1)
    cj, cb = np.nonzero(nonempty & (nxt < n_bins))
    left = np.cumsum(hist, axis=1)[cj, cb]
    n_cuts = len(cj)
    miss_c = None
    if missing is not None:
        miss_c = missing[cj]
        # one more candidate per feature with missing rows: every present value left, missing right
        m = np.flatnonzero((missing[:, 0] > 0) & (hist[:, :, 0].sum(axis=1) > 0))
        if len(m):
            last = n_bins - 1 - np.argmax(nonempty[m, ::-1], axis=1)
            cj, cb = np.concatenate([cj, m]), np.concatenate([cb, last])
            left = np.concatenate([left, total[None, :] - missing[m]])
            miss_c = np.concatenate([miss_c, np.zeros((len(m), missing.shape[1]))])
    value, i, miss_left, L, R = _score(criterion, total, left, miss_c, min_samples_leaf, min_weight_leaf,
                                       None if priority is None else priority[cj])
    if i is None:
        return None
    j, b = cj[i], cb[i]
    f = int(features[j])
    if i >= n_cuts:  # missing alone on the right: x <= inf holds for every present value
        return Split(f, int(b), np.inf, False, value, L, R)
    threshold = (binning.upper[f, b] + binning.lower[f, nxt[j, b]]) / 2.0
    return Split(f, int(b), float(threshold), bool(miss_left), value, L, R)


def split_by_sorting(codes, rows, features, stats_rows, total, binning, criterion, min_samples_leaf, min_weight_leaf,
                     priority=None):
    """Best split of a node by argsorting its codes per feature (the exact reference finder).
    ``priority`` (q,): the features' tie order (:mod:`._ties`; None: their order here)."""
    n = len(rows)
    S = stats_rows.shape[1]
    chunk = max(1, _CHUNK_ELEMENTS // max(1, n * S))
    best_value, best, best_priority = -np.inf, None, None
    miss = binning.missing_code if binning.has_missing else None
    if priority is None:
        priority = np.arange(len(features))
    for start in range(0, len(features), chunk):
        feats = features[start : start + chunk]
        prio = priority[start : start + chunk]
        sub = codes[rows][:, feats]  # rows, then columns: faster than np.ix_
        if miss is None:  # constant features cannot split: drop them before sorting
            keep = sub.min(axis=0) != sub.max(axis=0)
            if not keep.all():
                feats, sub, prio = feats[keep], sub[:, keep], prio[keep]
            if len(feats) == 0:
                continue
        order = np.argsort(sub, axis=0, kind="stable")
        sorted_codes = np.take_along_axis(sub, order, axis=0)  # (n, q)
        valid = sorted_codes[:-1] != sorted_codes[1:]
        if miss is not None:
            valid &= sorted_codes[1:] != miss
        ci, cj = np.nonzero(valid)  # cut after sorted position ci of feature cj
        n_cuts = len(ci)
        missing = None
        if miss is not None:
            n_present = (sorted_codes != miss).sum(axis=0)
            if n_cuts == 0 and not ((n_present > 0) & (n_present < n)).any():
                continue
            cum = np.cumsum(stats_rows[order], axis=0)  # (n, q, S)
            left = cum[ci, cj]
            present = np.where((n_present > 0)[:, None], cum[np.maximum(n_present - 1, 0), np.arange(len(feats))], 0.0)
            missing = (total[None, :] - present)[cj]
            # one more candidate per feature with missing rows: every present value left, missing right
            m = np.flatnonzero((n_present > 0) & (n_present < n))
            ci, cj = np.concatenate([ci, n_present[m] - 1]), np.concatenate([cj, m])
            left = np.concatenate([left, present[m]])
            missing = np.concatenate([missing, np.zeros((len(m), S))])
        else:
            if n_cuts == 0:
                continue
            cum = np.cumsum(stats_rows[order], axis=0)  # (n, q, S)
            left = cum[ci, cj]
        value, i, miss_left, L, R = _score(criterion, total, left, missing, min_samples_leaf, min_weight_leaf,
                                           prio[cj])
        if i is not None and (value > best_value or (value == best_value and prio[cj[i]] < best_priority)):
            best_priority = prio[cj[i]]
            f = int(feats[cj[i]])
            b = int(sorted_codes[ci[i], cj[i]])
            if i >= n_cuts:  # missing alone on the right
                threshold = np.inf
            else:
                threshold = (binning.upper[f, b] + binning.lower[f, int(sorted_codes[ci[i] + 1, cj[i]])]) / 2.0
            best_value, best = value, Split(f, b, float(threshold), bool(miss_left), value, L, R)
    return best


def naive_best_split(X, y, criterion_fn, min_samples_leaf=1):
    """Plain reference: try every feature and every midpoint, score with ``criterion_fn``.

    ``criterion_fn(y_left, y_right)`` returns the weighted child impurity (lower is better).
    Quadratic and loop-based on purpose: the fast finders are tested against it.
    """
    best = (np.inf, None, None)
    for j in range(X.shape[1]):
        values = np.unique(X[:, j])
        for t in (values[:-1] + values[1:]) / 2.0:
            mask = X[:, j] <= t
            if mask.sum() < min_samples_leaf or (~mask).sum() < min_samples_leaf:
                continue
            score = criterion_fn(y[mask], y[~mask])
            if score < best[0] - 1e-12:
                best = (score, j, t)
    return best
