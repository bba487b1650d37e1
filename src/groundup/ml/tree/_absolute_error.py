"""Absolute-error splits: leaves predict the weighted median, impurity is the mean absolute deviation.

The absolute error of a set is not a sum of per-sample statistics, so the prefix-sum trick of the
other criteria does not apply directly. What a split search needs is, for every prefix of the rows
in feature order, its weighted median ``m`` and its absolute error, which the pinball identity
turns into sums::

    AE = Σ_{y ≥ m} w (y - m) + Σ_{y < m} w (m - y) = (WY_hi - m·W_hi) + (m·W_lo - WY_lo)

The median of the first ``k`` rows is found for every ``k`` at once by a *parallel binary search*
over the node-local ranks of ``y``: at bit ``b`` (high to low) each prefix asks for the weight of
its rows whose rank falls in the next block of ``2^b`` ranks. Sorting the rows by (rank block,
position) once per bit makes every such question two ``searchsorted`` calls on a cumulative sum,
so all prefixes of all candidate features are answered in ``O(log n)`` vectorised passes —
``O(n log² n)`` work per node, no Python loop per sample. The suffixes (right children) are the
prefixes of the reversed order.

The weighted median follows scikit-learn: the value where the cumulative weight first exceeds half
the total, or the midpoint of the two neighbouring values when it reaches exactly half.
"""

from __future__ import annotations

import numpy as np

from ._binning import take2d
from ._categorical import random_categorical_sides, with_categories
from ._splitter import Split
from ._ties import first_best

_CHUNK_ELEMENTS = 1 << 21


def weighted_median(y, w):
    """Weighted median ``m`` of ``y``: the first value whose cumulative weight exceeds ``W/2``
    (the midpoint of the two values around it when the cumulative weight hits ``W/2`` exactly)."""
    order = np.argsort(y, kind="stable")
    ys, cw = y[order], np.cumsum(w[order])
    half = 0.5 * cw[-1]
    lo = min(int(np.searchsorted(cw, half, side="left")), len(ys) - 1)
    hi = min(int(np.searchsorted(cw, half, side="right")), len(ys) - 1)
    return float(ys[lo]) if lo == hi else float((ys[lo] + ys[hi]) / 2.0)


def median_and_impurity(y, w):
    """Weighted median of a node and its impurity ``Σ w|y - m| / Σ w``."""
    m = weighted_median(y, w)
    return m, float(np.sum(w * np.abs(y - m)) / np.sum(w))


def medians_and_impurities(y, w, node_rows):
    """:func:`median_and_impurity` of many nodes, the nodes of one size at a time: the same sorts,
    running sums and row sums, so the same numbers."""
    sizes = np.array([len(r) for r in node_rows])
    medians, impurities = np.empty(len(node_rows)), np.empty(len(node_rows))
    for m in np.unique(sizes).tolist():
        idx = np.flatnonzero(sizes == m)
        rows = np.stack([node_rows[i] for i in idx.tolist()])
        Y, W = y[rows], w[rows]
        order = np.argsort(Y, axis=1, kind="stable")
        ys = np.take_along_axis(Y, order, axis=1)
        cw = np.cumsum(np.take_along_axis(W, order, axis=1), axis=1)
        half = 0.5 * cw[:, -1:]
        lo = np.minimum((cw < half).sum(axis=1), m - 1)  # searchsorted(cw, half, "left")
        hi = np.minimum((cw <= half).sum(axis=1), m - 1)  # ... "right"
        at = np.arange(len(idx))
        med = np.where(lo == hi, ys[at, lo], (ys[at, lo] + ys[at, hi]) / 2.0)
        medians[idx] = med
        impurities[idx] = np.sum(W * np.abs(Y - med[:, None]), axis=1) / np.sum(W, axis=1)
    return medians, impurities


def _block_running_sums(values):
    """Running sums within each block (last axis), added in order, with a leading zero: shape
    (..., n_blocks, size + 1) flattened. Short blocks add column by column (cumsum's inner loop
    is slow on them); the result is the same sequential sum either way."""
    *lead, size = values.shape
    out = np.zeros((*lead, size + 1))
    if size <= 16:
        for j in range(size):
            np.add(out[..., j], values[..., j], out=out[..., j + 1])
    else:
        np.cumsum(values, axis=-1, out=out[..., 1:])
    return out.ravel()


def _left_half(start, count, level):
    """Rows of the block of ranks ``[start, start + 2^b)`` among a prefix, given the prefix's
    ``count`` rows in the enclosing block of ``2^(b+1)`` ranks: their number (read off the running
    count of left-half rows) and the flat index of their running sums."""
    b, Zf, z_base, s_base = level
    bit = 1 << b
    first = z_base + (start >> (b + 1)) * (2 * bit)
    c = Zf.take(first + count) - Zf.take(first)
    return c, s_base + (start >> b) * (bit + 1) + c


def prefix_absolute_errors(order, y, w):
    """Absolute error and weighted median of every prefix of every row ordering.

    ``order`` (L, m) holds L orderings ("lanes") of the node-local rows ``0..m-1``; ``y``, ``w``
    their targets and weights. Returns ``(ae, median)``, both (L, m): entry ``[l, k]`` describes
    the first ``k + 1`` rows of lane ``l``.

    This is scikit-learn's Fenwick-tree search (``WeightedFenwickTree.search``) run for all
    prefixes at once, with the same floating-point operations in the same order: a block of
    ``2^b`` ranks sums its rows in insertion order, the remaining target is decremented block by
    block. Splits whose absolute errors tie in exact arithmetic — frequent: moving two rows that
    straddle both medians changes nothing — are then told apart by the same rounding.

    The blocks of each level are laid out as in a wavelet tree (ranks grouped by block, each block
    in position order): a block's rows among the first ``k + 1`` positions are a prefix of it, whose
    length comes from the parent block's by counting the parent's rows that fall in its left half.
    """
    L, m = order.shape
    by_y = np.argsort(y, kind="stable")
    rank = np.empty(m, dtype=np.intp)
    rank[by_y] = np.arange(m)
    B = max(1, int(m - 1).bit_length())
    P = 1 << B
    # pad the ranks to a power of two with weightless "phantom" ranks placed after every row
    R = np.empty((L, P), dtype=np.intp)
    R[:, :m] = rank[order]
    R[:, m:] = np.arange(m, P)
    by_rank = np.zeros((3, P))
    by_rank[0, :m] = w[by_y]
    by_rank[1, :m] = (w * y)[by_y]
    by_rank[2, :m] = y[by_y]
    by_rank[2, m:] = y[by_y[-1]]
    unit = bool(np.all(w == 1.0))
    if unit or _integer_weights(w):  # exact integer weight sums: the order-statistic search
        ae, median, _, _ = _prefix_core_unit_pair(R, by_rank[1], by_rank[2], m,
                                                  None if unit else by_rank[0])
    else:
        ae, median = _prefix_core(R, by_rank[0], by_rank[1], by_rank[2], m)
    return ae[:, :m], median[:, :m]


def _wavelet_level(Rp, upper, b, row_base, tab_base):
    """Level ``b`` of the lanes' wavelet layout (ranks ``Rp`` (L, P), grouped by their bits above
    ``b``, each block in position order), from the level above, ``upper``. Returns ``Zf``: the
    flattened (L, P + 1) running counts of the rows of ``upper`` whose rank has bit ``b`` clear
    (the left-half counts); ``lower``: this level's layout; ``flat``: its indices into the rank
    tables (``tab_base`` is 0 for tables shared by every lane)."""
    L, P = Rp.shape
    Z = np.zeros((L, P + 1), dtype=np.intp)
    np.cumsum(((upper >> b) & 1) == 0, axis=1, out=Z[:, 1:])
    lower = Rp.ravel().take(np.argsort(Rp >> b, axis=1, kind="stable") + row_base)
    return Z.ravel(), lower, lower + tab_base


def _prefix_core(R, w_rank, wy_rank, y_rank, m):
    """:func:`prefix_absolute_errors` on lanes of their own rows: ``R`` (L, P) the rank of the row
    at each position (a power of two ``P``; lane ``l`` has ``m[l]`` rows, then phantom ranks
    ``m[l]..P-1`` in order), ``w_rank``/``wy_rank``/``y_rank`` (L, P) weight, ``w·y`` and ``y`` by
    rank (zero weight for phantoms), or (P,) tables shared by every lane. Returns ``(ae, median)``
    (L, max m); columns ``≥ m[l]`` are junk."""
    L, P = R.shape
    B = max(1, int(P - 1).bit_length())
    lane = np.arange(L)[:, None]
    row_base = lane * P
    tab_base = row_base if w_rank.ndim == 2 else 0  # per-lane tables or one shared table
    w_flat = np.ascontiguousarray(w_rank).ravel()
    wy_flat = np.ascontiguousarray(wy_rank).ravel()
    M = int(np.max(m))  # prefixes of phantoms are not needed: state arrays (L, M)
    cumW = np.cumsum(w_flat.take(R[:, :M] + tab_base), axis=1)  # sequential, like the tree's totals
    cumWY = np.cumsum(wy_flat.take(R[:, :M] + tab_base), axis=1)
    Rp = R.astype(np.int16 if P <= 1 << 15 else np.int32)
    count = np.broadcast_to(np.arange(1, M + 1), (L, M)).copy()  # rows of the current block in the prefix
    target = 0.5 * cumW  # remaining weight to pass
    cur = np.zeros((L, M), dtype=np.intp)  # ranks passed so far: the median rank at the end
    acc_w = np.zeros((L, M))  # weight and weighted y of the passed blocks
    acc_wy = np.zeros((L, M))
    matched = np.zeros((L, M), dtype=bool)  # the cumulative weight hit half exactly
    prev = np.zeros((L, M), dtype=np.intp)  # after a hit: the rank it happened at
    prev_count = np.zeros((L, M), dtype=np.intp)
    prev_target = np.zeros((L, M))
    upper = Rp  # level b+1 layout (one block per lane at the top)
    for b in range(B - 1, -1, -1):
        bit = 1 << b
        Zf, lower, flat = _wavelet_level(Rp, upper, b, row_base, tab_base)
        # this level's per-block running sums in insertion order (leading zero)
        Sw = _block_running_sums(w_flat.take(flat).reshape(L, P // bit, bit))
        Swy = _block_running_sums(wy_flat.take(flat).reshape(L, P // bit, bit))
        z_base = lane * (P + 1)
        s_base = lane * ((P // bit) * (bit + 1))

        level = (b, Zf, z_base, s_base)
        c_left, at = _left_half(cur, count, level)
        node_w = Sw.take(at)
        valid = cur + bit <= m
        hit = valid & ~matched & (target == node_w)
        if hit.any():
            prev = np.where(hit, cur, prev)
            prev_count = np.where(hit, count, prev_count)
            prev_target = np.where(hit, target, prev_target)
            matched |= hit
        if matched.any():
            c2, at2 = _left_half(prev, prev_count, level)
            node2 = Sw.take(at2)
            move2 = matched & (prev + bit <= m) & (prev_target > node2)
            prev_target = np.where(move2, prev_target - node2, prev_target)
            prev = prev + move2 * bit
            prev_count = np.where(move2, prev_count - c2, c2)
        move = valid & np.where(matched, target >= node_w, target > node_w)
        target = np.where(move, target - node_w, target)
        cur = cur + move * bit
        acc_w = np.where(move, acc_w + node_w, acc_w)
        acc_wy = np.where(move, acc_wy + Swy.take(at), acc_wy)
        count = np.where(move, count - c_left, c_left)
        upper = lower
    lo = np.where(matched, prev, cur)
    y_flat = np.ascontiguousarray(y_rank).ravel()
    y_cur = y_flat.take(np.minimum(cur, P - 1) + tab_base)
    y_lo = y_flat.take(np.minimum(lo, P - 1) + tab_base)
    median = np.where(lo == cur, y_cur, (y_lo + y_cur) / 2)
    ae = (cumWY - acc_wy - median * (cumW - acc_w)) + (median * acc_w - acc_wy)
    return ae, median


def _integer_weights(w):
    """True when every weight is a whole number small enough for exact float sums."""
    return bool(np.all(w == np.floor(w)) and np.all(w >= 0) and w.sum() < 2.0**52)


def _prefix_core_unit_pair(R, wy_rank, y_rank, m, w_rank=None):
    """:func:`_prefix_core` when the weights are integers (unit weights: ``w_rank`` None), for each
    lane and its reversal (the right children's prefixes), sharing one wavelet layout: the returned ``(ae, median, ae_rev, median_rev)`` (L, max m)
    describe the first ``k + 1`` rows of lane ``l`` and of lane ``l`` read backwards from its row
    ``m - 1``.

    A block of the reversed lane's layout is the forward block read backwards, phantoms first
    (their forward positions come after every row). So its rows of a reversed prefix are the
    first ``hi`` entries of the reversed block minus its phantoms, whose number follows from the
    ranks alone (ranks ``≥ m``); the zeros among the first ``hi`` entries of a reversed block are
    the forward block's zeros minus those among its first ``2^(b+1) - hi``; and its running sums in
    reversed order start with the phantoms' ``+0.0``s, which leave the rows' sequential sums
    unchanged. Only the running sums are computed twice.

    Unit weights: every weight sum is an exact integer, so the search needs no weights: the
    prefix of ``k`` rows has ``W = k``, and the Fenwick search for ``W/2`` ends on the rank of its
    order statistic ``t = ⌊k/2⌋`` (0-based; for odd ``k`` the half-integer target never equals a
    block weight; for even ``k`` it always meets one, so the median is the mean of order
    statistics ``t - 1`` and ``t``). Both are found by descending the wavelet layout by row
    counts (go right when the statistic's index ``≥`` the rows of the left half). The search
    passes exactly the blocks of the set bits of the final rank, so ``Σw`` of the passed blocks is
    ``t`` and ``Σw·y`` is the sum of those blocks' running sums in insertion order, high bit
    first — scikit-learn's additions, in its order.

    ``w_rank`` (integer weights by rank, e.g. a forest's bootstrap counts): weight sums are still
    exact integers in any order, so the search for ``W/2`` is one for the weighted order
    statistic: go right when the remaining ``⌊W/2⌋ ≥`` the prefix's weight in the left half. The
    target meets a block weight exactly iff ``W`` is even and the ranks before the result weigh
    exactly ``W/2`` (then the median is the mean with the previous rank, found by a second
    search for ``W/2 - 1``)."""
    L, P = R.shape
    B = max(1, int(P - 1).bit_length())
    lane = np.arange(L)[:, None]
    row_base = lane * P
    tab_base = row_base if wy_rank.ndim == 2 else 0
    wy_flat = np.ascontiguousarray(wy_rank).ravel()
    m_l = np.broadcast_to(np.asarray(m), (L, 1))
    M = int(np.max(m))
    k = np.arange(1, M + 1)
    kk = np.minimum(k[None, :], m_l)  # reversed prefixes past a lane's rows repeat its last (junk)
    back = np.take_along_axis(R, np.maximum(m_l - k[None, :], 0), axis=1)  # j-th row read backwards
    cumWY = np.cumsum(wy_flat.take(R[:, :M] + tab_base), axis=1)
    cumWY_r = np.cumsum(wy_flat.take(back + tab_base), axis=1)
    weighted = w_rank is not None
    if weighted:
        w_flat = np.ascontiguousarray(w_rank).ravel()
        W = np.cumsum(w_flat.take(R[:, :M] + tab_base), axis=1).astype(np.int64)
        W_r = np.take_along_axis(np.cumsum(w_flat.take(back + tab_base), axis=1), kk - 1, axis=1).astype(np.int64)
        sel = slice(None)  # the previous rank may be needed in any column
    else:
        W, W_r = np.broadcast_to(k, (L, M)), kk
        sel = slice(1, None, 2)  # even prefixes
    z_base = lane * (P + 1)
    # forward searchers: statistic ⌊W/2⌋ of every prefix, ⌊W/2⌋ - 1 where a hit can happen
    cur, count, rem = np.zeros((L, M), dtype=np.intp), np.broadcast_to(k, (L, M)).copy(), W // 2
    count2, rem2 = np.ascontiguousarray(count[:, sel]), W[:, sel] // 2 - 1
    cur2 = np.zeros(count2.shape, dtype=np.intp)
    # reversed searchers: ``hi`` counts the block's entries before the prefix's end, phantoms included
    cur_r, hi_r, rem_r = np.zeros((L, M), dtype=np.intp), P - m_l + kk, W_r // 2
    hi2_r, rem2_r = np.ascontiguousarray(hi_r[:, sel]), W_r[:, sel] // 2 - 1
    cur2_r = np.zeros(hi2_r.shape, dtype=np.intp)
    rem, rem_r = rem.copy(), rem_r.copy()
    acc_wy = np.zeros((L, M))
    acc_wy_r = np.zeros((L, M))
    Rp = R.astype(np.int16 if P <= 1 << 15 else np.int32)
    upper = Rp
    for b in range(B - 1, -1, -1):
        bit = 1 << b
        Zf, lower, flat = _wavelet_level(Rp, upper, b, row_base, tab_base)
        G = wy_flat.take(flat).reshape(L, P // bit, bit)
        Swy = _block_running_sums(G)
        Swy_r = _block_running_sums(G[:, :, ::-1])
        if weighted:
            Gw = w_flat.take(flat).reshape(L, P // bit, bit)
            Sw, Sw_r = _block_running_sums(Gw), _block_running_sums(Gw[:, :, ::-1])
        s_base = lane * ((P // bit) * (bit + 1))
        # forward: rows of the prefix in the left half of its block (which starts at position cur)
        first = z_base + cur
        c = Zf.take(first + count) - Zf.take(first)
        at = s_base + (cur >> b) * (bit + 1) + c
        cw = Sw.take(at).astype(np.int64) if weighted else c
        move = rem >= cw
        acc_wy += Swy.take(at) * move
        rem -= cw * move
        count = np.where(move, count - c, c)
        cur += move * bit
        first = z_base + cur2
        c = Zf.take(first + count2) - Zf.take(first)
        cw = Sw.take(s_base + (cur2 >> b) * (bit + 1) + c).astype(np.int64) if weighted else c
        move = rem2 >= cw
        rem2 -= cw * move
        count2 = np.where(move, count2 - c, c)
        cur2 += move * bit
        # reversed: entries among the first hi of the reversed block, minus its phantoms
        end = z_base + cur_r + 2 * bit
        h = Zf.take(end) - Zf.take(end - hi_r)
        c = h - np.minimum(np.maximum(cur_r + bit - m_l, 0), bit)
        at = s_base + (cur_r >> b) * (bit + 1) + h
        cw = Sw_r.take(at).astype(np.int64) if weighted else c
        move = rem_r >= cw
        acc_wy_r += Swy_r.take(at) * move
        rem_r -= cw * move
        hi_r = np.where(move, hi_r - h, h)
        cur_r += move * bit
        end = z_base + cur2_r + 2 * bit
        h = Zf.take(end) - Zf.take(end - hi2_r)
        if weighted:
            cw = Sw_r.take(s_base + (cur2_r >> b) * (bit + 1) + h).astype(np.int64)
        else:
            cw = h - np.minimum(np.maximum(cur2_r + bit - m_l, 0), bit)
        move = rem2_r >= cw
        rem2_r -= cw * move
        hi2_r = np.where(move, hi2_r - h, h)
        cur2_r += move * bit
        upper = lower
    y_flat = np.ascontiguousarray(y_rank).ravel()
    out = []
    sides = ((cur, cur2, acc_wy, cumWY, W, rem), (cur_r, cur2_r, acc_wy_r, cumWY_r, W_r, rem_r))
    for cur_, cur2_, acc, cum, Wt, rem_ in sides:
        median = y_flat.take(cur_ + tab_base)
        half = Wt // 2
        acc_w = (half - rem_).astype(np.float64)  # weight of the passed blocks (exact)
        if weighted:  # a hit: W even and the passed ranks weigh exactly W/2
            hit = (Wt % 2 == 0) & (rem_ == 0)
            median = np.where(hit, (y_flat.take(cur2_ + tab_base) + median) / 2, median)
        else:
            median[:, 1::2] = (y_flat.take(cur2_ + tab_base) + median[:, 1::2]) / 2
        out += [(cum - acc - median * (Wt - acc_w)) + (median * acc_w - acc), median]
    return tuple(out)


def _category_medians(codes_col, y, w, n_bins):
    """Lower weighted median of ``y`` per code (NaN for absent codes): the ordering key of a
    categorical feature under absolute error (a heuristic: Breiman's ordering is exact only for
    squared error and two classes)."""
    order = np.lexsort((y, codes_col))
    c, ys, ws = codes_col[order], y[order], w[order]
    cw = np.cumsum(ws)
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    ends = np.r_[starts[1:], len(c)]
    before = np.where(starts > 0, cw[starts - 1], 0.0)
    half = before + 0.5 * (cw[ends - 1] - before)
    pick = np.searchsorted(cw, half, side="left")
    pick = np.clip(pick, starts, ends - 1)
    key = np.full(n_bins, np.nan)
    key[c[starts]] = ys[pick]
    return key


def _lanes(sub, features, yl, wl, binning, categorical):
    """Row orderings to scan, as (feature, kind, order) with kind 0 = sorted by value (missing
    last), 1 = missing first, 2 = categories sorted by their median."""
    m = sub.shape[0]
    miss = binning.missing_code if binning.has_missing else None
    keep = sub.min(axis=0) != sub.max(axis=0)  # constant features cannot split
    is_cat = np.zeros(len(features), dtype=bool) if categorical is None else categorical[features]
    num = np.flatnonzero(keep & ~is_cat)
    lanes = []
    if len(num):
        orders = np.argsort(sub[:, num], axis=0, kind="stable").T
        lanes += [(int(features[j]), 0, o) for j, o in zip(num, orders)]
        if miss is not None:
            n_miss = (sub[:, num] == miss).sum(axis=0)
            both = num[(n_miss > 0) & (n_miss < m)]
            if len(both):
                first = np.where(sub[:, both] == miss, -1, sub[:, both].astype(np.intp))
                orders = np.argsort(first, axis=0, kind="stable").T
                lanes += [(int(features[j]), 1, o) for j, o in zip(both, orders)]
    for j in np.flatnonzero(keep & is_cat):
        col = sub[:, j].astype(np.intp)
        key = _category_medians(col, yl, wl, binning.n_bins)
        present = np.flatnonzero(~np.isnan(key))
        rank_of_code = np.zeros(binning.n_bins, dtype=np.intp)
        rank_of_code[present[np.argsort(key[present], kind="stable")]] = np.arange(len(present))
        lanes.append((int(features[j]), 2, np.lexsort((col, rank_of_code[col]))))
    return lanes


def split_absolute_error(codes, rows, features, y, stats, binning, min_samples_leaf, min_weight_leaf,
                         categorical=None, priority=None):
    """Best split of a node under absolute error: maximise scikit-learn's proxy
    ``-(w_L·AE_L/w_L + w_R·AE_R/w_R)`` (i.e. minimise ``AE_L + AE_R``) over every cut of every
    candidate feature (missing values tried on both sides; a categorical feature's categories in
    the order of their medians). Ties go to the lowest ``priority`` (the features' tie order,
    :mod:`._ties`; None: their order here), then the earliest cut. ``None`` when no split is allowed."""
    m = len(rows)
    if m < 2:
        return None
    yl = y[rows]
    wl = stats[rows, 1]
    sub = codes[rows][:, features]
    miss = binning.missing_code if binning.has_missing else None
    lanes = _lanes(sub, features, yl, wl, binning, categorical)
    if not lanes:
        return None
    w_node = float(wl.sum())
    best, best_value, best_priority = None, -np.inf, None
    prio_of = dict(zip(np.asarray(features).tolist(), range(len(features)) if priority is None else priority.tolist()))
    unit = bool(np.all(wl == 1.0))
    integer = unit or _integer_weights(wl)
    if integer:  # the rank tables of prefix_absolute_errors, made once for every chunk
        by_y = np.argsort(yl, kind="stable")
        rank = np.empty(m, dtype=np.intp)
        rank[by_y] = np.arange(m)
        P = 1 << max(1, int(m - 1).bit_length())
        w_rank, wy_rank, y_rank = np.zeros(P), np.zeros(P), np.empty(P)
        w_rank[:m], wy_rank[:m] = wl[by_y], (wl * yl)[by_y]
        y_rank[:m], y_rank[m:] = yl[by_y], yl[by_y[-1]]
    per_chunk = max(1, _CHUNK_ELEMENTS // max(1, 2 * m))
    for start in range(0, len(lanes), per_chunk):
        chunk = lanes[start : start + per_chunk]
        order = np.stack([o for _, _, o in chunk])
        n = len(chunk)
        if integer:  # each lane and its reversal through one layout
            R = np.empty((n, P), dtype=np.intp)
            R[:, :m] = rank[order]
            R[:, m:] = np.arange(m, P)
            ae_fwd, _, ae_rev, _ = _prefix_core_unit_pair(R, wy_rank, y_rank, m, None if unit else w_rank)
        else:
            ae, _ = prefix_absolute_errors(np.concatenate([order, order[:, ::-1]]), yl, wl)
            ae_fwd, ae_rev = ae[:n], ae[n:]
        # cut after position i: left = first i+1 rows, right = the last m-i-1 rows
        ae_left = ae_fwd[:, : m - 1]
        ae_right = ae_rev[:, m - 2 :: -1]
        w_left = np.cumsum(wl[order], axis=1)[:, :-1]
        w_right = w_node - w_left
        codes_sorted = np.take_along_axis(codes[rows][:, [f for f, _, _ in chunk]].T, order, axis=1).astype(np.intp)
        valid = codes_sorted[:, :-1] != codes_sorted[:, 1:]
        if miss is not None:
            kinds = np.array([k for _, k, _ in chunk])
            # missing first: only cuts between present values (the others repeat a partition)
            valid &= ~((kinds == 1)[:, None] & (codes_sorted[:, :-1] == miss))
        n_left = np.arange(1, m)[None, :]
        valid &= (n_left >= min_samples_leaf) & (m - n_left >= min_samples_leaf)
        valid &= (w_left >= min_weight_leaf) & (w_right >= min_weight_leaf) if min_weight_leaf > 0 else \
            (w_left > 0) & (w_right > 0)
        if not valid.any():
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            imp_left, imp_right = ae_left / w_left, ae_right / w_right
            proxy = -w_right * imp_right - w_left * imp_left
        proxy = np.where(valid, proxy, -np.inf)
        lane_priority = np.array([prio_of[f] for f, _, _ in chunk])
        li = first_best(proxy.max(axis=1), lane_priority)  # lanes of one feature: missing right first
        ci = int(np.argmax(proxy[li]))
        if proxy[li, ci] > best_value or (proxy[li, ci] == best_value and lane_priority[li] < best_priority):
            best_value, best_priority = float(proxy[li, ci]), lane_priority[li]
            best = (chunk[li], ci, float(imp_left[li, ci]), float(imp_right[li, ci]))
    if best is None:
        return None
    (f, kind, order), ci, imp_l, imp_r = best
    return _make_split(codes, rows, stats, binning, f, kind, order, ci, imp_l, imp_r, best_value)


def _make_split(codes, rows, stats, binning, f, kind, order, ci, imp_l, imp_r, best_value):
    """The :class:`Split` that cuts lane ``order`` (of feature ``f``) after position ``ci``."""
    m = len(rows)
    miss = binning.missing_code if binning.has_missing else None
    left_rows = np.zeros(m, dtype=bool)
    left_rows[order[: ci + 1]] = True
    L = stats[rows[left_rows]].sum(axis=0)
    R = stats[rows[~left_rows]].sum(axis=0)
    col = codes[rows, f].astype(np.intp)
    c_here, c_next = int(col[order[ci]]), int(col[order[ci + 1]])
    cat_left = None
    if kind == 2:
        cat_left = np.zeros(binning.n_bins, dtype=bool)
        cat_left[np.unique(col[left_rows])] = True
        b, threshold = 0, np.nan
        missing_left = bool(miss is not None and cat_left[miss])
    elif kind == 1:
        b, missing_left = c_here, True
        threshold = (binning.upper[f, b] + binning.lower[f, c_next]) / 2.0
    elif miss is not None and c_next == miss:  # every present value left, missing alone right
        b, missing_left, threshold = c_here, False, np.inf
    else:
        b, missing_left = c_here, False
        threshold = (binning.upper[f, b] + binning.lower[f, c_next]) / 2.0
    return Split(f, int(b), float(threshold), missing_left, best_value, L, R, cat_left=cat_left,
                 child_impurity=(imp_l, imp_r))


_BATCH_ELEMENTS = 1 << 20
_BATCH_MAX_ROWS = 1 << 8  # nodes of more rows are searched one at a time (batching saves only overhead)


def split_absolute_error_nodes(codes, node_rows, features, y, stats, binning, min_samples_leaf, min_weight_leaf,
                               priority=None):
    """:func:`split_absolute_error` for many nodes at once (ordered features without missing
    values): the lanes of every node whose row count rounds up to the same power of two go through
    one :func:`_prefix_core` pass, and each node's best cut is read off in one vectorised scan — the
    same splits, bit for bit, without a few dozen NumPy calls per node. ``priority`` (nodes,
    features), optional: each node's tie order of the features. Returns one split (or ``None``) per
    node."""
    if priority is None:
        priority = np.broadcast_to(np.arange(len(features)), (len(node_rows), len(features)))
    out = [None] * len(node_rows)
    buckets = {}
    for i, rows in enumerate(node_rows):
        m = len(rows)
        if m >= 2:
            buckets.setdefault(1 << max(1, int(m - 1).bit_length()), []).append(i)
    for P, members in sorted(buckets.items()):
        lanes_per_node = 2 * len(features)
        per_batch = max(1, _BATCH_ELEMENTS // (lanes_per_node * P))
        if P > _BATCH_MAX_ROWS:
            for i in members:  # big nodes: batching saves nothing; the one-node search chunks its lanes
                out[i] = split_absolute_error(codes, node_rows[i], features, y, stats, binning, min_samples_leaf,
                                              min_weight_leaf, priority=priority[i])
            continue
        for start in range(0, len(members), per_batch):
            batch = members[start : start + per_batch]
            for i, split in zip(batch, _split_batch(codes, [node_rows[i] for i in batch], features, y, stats,
                                                    binning, min_samples_leaf, min_weight_leaf, P, priority[batch])):
                out[i] = split
    return out


def _split_batch(codes, node_rows, features, y, stats, binning, min_samples_leaf, min_weight_leaf, P, priority):
    """Best cut of each node of a batch (every node has at most ``P`` rows): lanes ``(node, feature)``
    forward and reversed, built for all nodes with one stable sort per feature, searched by one
    :func:`_prefix_core` pass. A feature constant in a node gets a lane with no valid cut."""
    N, F = len(node_rows), len(features)
    sizes = np.array([len(r) for r in node_rows])
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rows_all = np.concatenate(node_rows)
    T = len(rows_all)
    node_of = np.repeat(np.arange(N), sizes)
    local = np.arange(T) - start[node_of]  # position of each row in its node's row list
    y_all, w_all = y[rows_all], stats[rows_all, 1]
    # node-local ranks of y (stable: ties by position, as one node's argsort)
    by_y = np.lexsort((y_all, node_of))
    rank = np.empty(T, dtype=np.intp)
    rank[by_y] = local
    slot = node_of[by_y] * P + local  # (node, rank) in tables of P ranks per node
    w_tab, wy_tab, y_tab = np.zeros(N * P), np.zeros(N * P), np.empty(N * P)
    w_tab[slot], wy_tab[slot], y_tab[slot] = w_all[by_y], (w_all * y_all)[by_y], y_all[by_y]
    y_tab = y_tab.reshape(N, P)
    pad = np.arange(P)[None, :] >= sizes[:, None]
    y_tab[pad] = np.repeat(y_tab[np.arange(N), sizes - 1], P - sizes)  # phantoms: the largest y
    # each feature's rows sorted within their node (stable: ties by position)
    sub = codes[rows_all][:, features]
    # integer weights: forward lanes only (their reversals share the layout); unit: w_left = n_left
    unit = bool(np.all(w_all == 1.0))
    integer = unit or _integer_weights(w_all)
    L = N * F if integer else 2 * N * F
    R = np.broadcast_to(np.arange(P), (L, P)).copy()  # phantom ranks m..P-1 after the rows
    w_pos = None if unit else np.zeros((N * F, P))
    C = np.full((N * F, P), -1, dtype=np.intp)
    orders = np.empty((F, T), dtype=np.intp)
    for j in range(F):
        # perm[t] for t in node i's segment: its rows by code; ``local[t]`` is then the position
        perm = np.lexsort((sub[:, j], node_of))
        orders[j] = local[perm]  # node-local row ids in sorted order
        if integer:
            R[node_of * F + j, local] = rank[perm]
        else:
            fwd_lane = node_of * (2 * F) + j
            R[fwd_lane, local] = rank[perm]
            R[fwd_lane + F, sizes[node_of] - 1 - local] = rank[perm]
        if not unit:
            w_pos[node_of * F + j, local] = w_all[perm]
        C[node_of * F + j, local] = sub[perm, j]
    lanes = np.arange(N * F)
    top = sizes.max()
    ae_fwd, ae_rev = np.zeros((N * F, P)), np.zeros((N * F, P))
    if integer:
        node = lanes // F
        ae_fwd[:, :top], _, ae_rev[:, :top], _ = _prefix_core_unit_pair(
            R, wy_tab.reshape(N, P)[node], y_tab[node], sizes[node][:, None],
            None if unit else w_tab.reshape(N, P)[node])
    else:
        fwd = (lanes // F) * (2 * F) + lanes % F
        rev = fwd + F
        lane_node = np.repeat(np.arange(N), 2 * F)
        ae = _prefix_core(R, w_tab.reshape(N, P)[lane_node], wy_tab.reshape(N, P)[lane_node], y_tab[lane_node],
                          sizes[lane_node][:, None])[0]
        ae_fwd[:, :top], ae_rev[:, :top] = ae[fwd], ae[rev]
    m_of = np.repeat(sizes, F)[:, None]
    w_node = np.repeat(np.bincount(node_of, weights=w_all, minlength=N), F)[:, None]
    pos = np.arange(P - 1)[None, :]  # cut after position i: left = the first i + 1 rows
    ae_left = ae_fwd[:, : P - 1]
    ae_right = np.take_along_axis(ae_rev, np.clip(m_of - 2 - pos, 0, P - 1), axis=1)
    w_left = np.broadcast_to(pos + 1.0, ae_left.shape) if unit else np.cumsum(w_pos, axis=1)[:, : P - 1]
    w_right = w_node - w_left
    valid = (C[:, :-1] != C[:, 1:]) & (pos <= m_of - 2)
    n_left = pos + 1
    valid &= (n_left >= min_samples_leaf) & (m_of - n_left >= min_samples_leaf)
    valid &= (w_left >= min_weight_leaf) & (w_right >= min_weight_leaf) if min_weight_leaf > 0 else \
        (w_left > 0) & (w_right > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        imp_left, imp_right = ae_left / w_left, ae_right / w_right
        proxy = -w_right * imp_right - w_left * imp_left
    proxy = np.where(valid, proxy, -np.inf)
    lane_pos = np.argmax(proxy, axis=1)  # first best cut of each lane
    lane_best = proxy[lanes, lane_pos].reshape(N, F)
    # the node's best feature: the highest score, ties to the lowest priority
    tied = lane_best == lane_best.max(axis=1, keepdims=True)
    best_f = np.argmin(np.where(tied, priority, np.iinfo(priority.dtype).max), axis=1)
    # every node's split at once (what _make_split does node by node): the cut after sorted
    # position ci of feature j sends left the rows whose code is <= the code there
    li = np.arange(N) * F + best_f
    ci = lane_pos[li]
    best = lane_best[np.arange(N), best_f]
    c_here, c_next = C[li, ci], C[li, np.minimum(ci + 1, P - 1)]
    f = np.asarray(features)[best_f]
    threshold = (binning.upper[f, c_here] + binning.lower[f, c_next]) / 2.0
    go_right = sub[np.arange(T), best_f[node_of]] > c_here[node_of]
    # children's statistics summed row by row in each node's row order, as stats[rows[left]].sum(0)
    key = 2 * node_of + go_right
    rows_stats = stats[rows_all]
    sums = np.stack([np.bincount(key, weights=rows_stats[:, col], minlength=2 * N)
                     for col in range(stats.shape[1])], axis=1)
    il, ir = imp_left[li, ci].tolist(), imp_right[li, ci].tolist()
    results = []
    for i, (fi, bi, ti, vi) in enumerate(zip(f.tolist(), c_here.tolist(), threshold.tolist(), best.tolist())):
        if not np.isfinite(vi):
            results.append(None)
            continue
        results.append(Split(fi, bi, ti, False, vi, sums[2 * i], sums[2 * i + 1], child_impurity=(il[i], ir[i])))
    return results


# -- the builder's side ----------------------------------------------------------------------------


def find_split_rows(builder, record):
    """Split search of a criterion that needs the rows themselves (absolute error)."""
    if builder.splitter == "random":
        return random_split_rows(builder, record)
    rows = record["rows"]
    features = builder._candidate_features(rows)
    if len(features) == 0:
        return None
    split = split_absolute_error(builder.binning.codes, rows, features, builder.criterion.y, builder.stats,
                                 builder.binning, builder.min_samples_leaf, builder.min_weight_leaf,
                                 builder.categorical, builder._tie_priority(record, features))
    if split is not None and split.cat_left is not None:
        split = with_categories(builder, split)
    return split


def random_split_rows(builder, record):
    """Extra-trees split under absolute error: one random threshold per candidate feature (drawn
    as in ``_Builder._random_split``), each scored by the children's absolute errors."""
    rows = record["rows"]
    features = builder._candidate_features(rows)
    if len(features) == 0:
        return None
    sub = take2d(builder.binning.codes, rows[:, None], features[None, :]).astype(np.intp)
    lo, hi = sub.min(axis=0), sub.max(axis=0)
    vlo = builder.binning.lower[features, lo]
    vhi = builder.binning.upper[features, hi]
    draw = vlo + builder.rng.random(len(features)) * (vhi - vlo)
    cut = np.array([np.searchsorted(builder.binning.upper[f], t, side="right") - 1
                    for f, t in zip(features, draw)], dtype=np.intp)
    cut = np.clip(cut, lo, np.maximum(hi - 1, lo))
    go_left, cat_left = sub <= cut[None, :], None
    if builder.categorical is not None:  # categorical candidates: a random category subset instead
        go_left, cat_left = random_categorical_sides(builder, rows, sub, features, go_left)
    y, w = builder.criterion.y[rows], builder.stats[rows, 1]
    best = None
    for j in np.flatnonzero(lo < hi):
        left = go_left[:, j]
        n_left = int(left.sum())
        wl, wr = float(w[left].sum()), float(w[~left].sum())
        too_small = min(n_left, len(rows) - n_left) < builder.min_samples_leaf
        if too_small or min(wl, wr) < max(builder.min_weight_leaf, 1e-300):
            continue
        _, il = median_and_impurity(y[left], w[left])
        _, ir = median_and_impurity(y[~left], w[~left])
        score = -(wl * il + wr * ir)
        if best is None or score > best[0]:
            best = (score, j, left, il, ir)
    if best is None:
        return None
    score, j, left, il, ir = best
    L, R = builder.stats[rows[left]].sum(axis=0), builder.stats[rows[~left]].sum(axis=0)
    if cat_left is not None and builder.categorical[features[j]]:
        return with_categories(builder, Split(int(features[j]), 0, float("nan"), False, float(score), L, R,
                                              cat_left=cat_left[j], child_impurity=(il, ir)))
    return Split(int(features[j]), int(cut[j]), float(draw[j]), False, float(score), L, R,
                 child_impurity=(il, ir))
