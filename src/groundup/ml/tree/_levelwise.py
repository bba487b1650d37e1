"""Level-wise growth: every node of one depth is split in the same few NumPy calls.

The depth-first builder in :mod:`._tree` handles one node per Python iteration (~1 ms of NumPy
overhead each), which dominates deep trees with thousands of small nodes. An unlimited tree
(``max_leaf_nodes=None``) splits each node independently of the others, so the nodes can be
grown one *level* at a time instead, with the same result:

* the rows of the level's nodes sit in one array, grouped node after node (``seg_start``);
* each node gets its candidate features (all, or ``max_features`` random non-constant ones,
  drawn lazily: constancy is checked on a few columns at a time, never on all features, and the
  random order itself is drawn only that far, by rejection; a feature found constant in a node is
  never checked again in its subtree; on sparse codes, such as pixels, the features at their
  lowest code on all of a node's rows are known constant from per-row bitsets, without a scan);
* **best** splits: per candidate column, one ``argsort`` of ``node·n_bins + code`` sorts every
  node's rows at once; the statistics summed per (node, code) group by one ``bincount`` and a
  running sum over groups, minus each node's starting offset, give every node's left-child
  statistics at every cut between distinct values; **random** splits (extra trees): one uniform
  threshold per node and feature, and the left statistics from one ``bincount``;
* **Gini on at most 256 codes with integer weights** (random forests on bootstrap counts, pixel
  data): :func:`_best_radix`, the same splits, exact in integers, from class histograms per
  (candidate, code) for large nodes and from two 16-bit radix sorts per column with running sums
  of single numbers (no per-class arrays per row) for the others; on sparse codes both skip the
  rows at code 0 (most pixels), which go left at every cut; the candidates' codes are copied from
  the constancy scan's blocks, not read twice from the code matrix;
* one vectorised score, a best candidate per node (running maxima with ``ufunc.at``), one stable
  partition into the children, and the level's nodes recorded in bulk.

Hot 2-D gathers go through :func:`._binning.take2d` (one flat ``take``), several times faster
than NumPy's general fancy indexing.

Used for data without missing values; the depth-first builder remains the readable reference
(tests check both give the same tree).
"""

from __future__ import annotations

import numpy as np

from ._binning import take2d
from ._ties import child_keys, feature_priority, first_best_per_node

_EPSILON = np.finfo(np.float64).eps
_CHUNK_ELEMENTS = 1 << 20


def _segment_reduce(fn, values, seg_start):
    return fn.reduceat(values, seg_start, axis=0)


def _node_min_max(columns, order, seg_start, cols, out=None):
    """Smallest and largest code per node of the per-node columns ``cols`` (m, w); ``columns`` is
    the binning's column-major codes (a node's rows, in increasing order, read each column forwards).
    ``out`` (w, len(order)), optional, receives the codes read (column ``j`` of every row's node)."""
    m, w = cols.shape
    n_total = columns.shape[1]
    lo = np.empty((m, w), dtype=columns.dtype)
    hi = np.empty((m, w), dtype=columns.dtype)
    step = max(1, _CHUNK_ELEMENTS // max(1, len(order)))
    flat = columns.ravel()
    seg_len = np.diff(np.append(seg_start, len(order)))
    for j in range(0, w, step):
        # column starts, per row (np.repeat by segment is several times faster than a take)
        idx = np.repeat(cols[:, j : j + step].T * n_total, seg_len, axis=1)
        idx += order[None, :]
        sub = flat.take(idx) if out is None else flat.take(idx, out=out[j : j + step], mode="clip")
        lo[:, j : j + step] = np.minimum.reduceat(sub, seg_start, axis=1).T
        hi[:, j : j + step] = np.maximum.reduceat(sub, seg_start, axis=1).T
    return lo, hi


def _candidate_features(b, order, seg_start, seg_len, m, p, known=None, want_codes=False, keys=None):
    """(m, q) candidate features per node, in the node's tie order (:mod:`._ties`: among equal
    scores the earlier candidate wins), a validity mask (non-constant in the node), and the
    smallest and largest code of each candidate in its node.

    Every feature (``max_features >= p``): all ``p`` of them, in the random order the nodes' ``keys``
    give (their own order without keys).

    Like scikit-learn, features are drawn in a random order per node until ``max_features``
    non-constant ones are found; the constancy check runs lazily on a few columns at a time (a
    first chunk sized by the share of non-constant columns the previous level found, then chunks
    twice as wide for the nodes still short), so a level does not scan all features of all its
    rows. The result equals taking, per node, the non-constant features in the random order, then
    the constant ones (the chunk sizes change the work, never the result).

    ``known`` (m, p), optional: features already known to be constant in each node (constant in an
    ancestor, hence in every descendant). They are never scanned (the node's random order lists
    its open features first, see :func:`_draw_order`, which draws only as much of the order as
    the scan reads), and the features found constant here are added to it in place.

    ``want_codes``: also return the (q, n) codes of the rows in their node's candidates
    (``codes[order[i], feats[node(i), k]]`` for row ``i`` of the level, 0 for a candidate that is
    constant in the node), copied from the blocks the constancy scan read (they are still in the
    caches) rather than read again from the full code matrix.
    """
    codes = b.binning.codes
    columns = b.binning.columns()
    if b.max_features >= p and b.splitter != "random":
        if keys is None:
            feats = np.broadcast_to(np.arange(p), (m, p))
        else:
            feats = np.argsort(feature_priority(keys[:, None], np.arange(p)[None, :]), axis=1)
        lo, hi = _node_min_max(columns, order, seg_start, np.ascontiguousarray(feats))
        return feats, lo != hi, lo, hi
    q = min(b.max_features, p)
    if known is None:
        known = np.zeros((m, p), dtype=bool)
        keep_known = False
    else:
        keep_known = True
    bits = b.binning.above_lowest()
    if bits is not None:
        # sparse data: features at their lowest code on every row of a node are constant there
        # (an exact test, far cheaper than scanning them: 1 bit per feature and row)
        known |= _constant_at_lowest(bits, order, seg_start, p)
    n_open = p - known.sum(axis=1)
    rate = getattr(b, "_nonconstant_rate", 1.0)
    # a random order of each node's open features (known constants after them), drawn only as far
    # as the scan below is expected to read; ``drawn[i]`` says how far node i's order is drawn
    perm, drawn = _draw_order(b.rng, known, n_open, 2 * (int(np.ceil(q / max(rate, 0.02))) + 2) + 16)
    lo = np.zeros((m, p), dtype=codes.dtype)
    hi = np.zeros((m, p), dtype=codes.dtype)
    # known constants count as scanned (lo == hi == 0); they sit at positions >= n_open of a
    # completely drawn order
    scanned = (np.arange(p)[None, :] >= n_open[:, None]) & (drawn == p)[:, None]
    active = np.flatnonzero(n_open > 0)
    # first chunk: enough columns for q non-constant ones at the rate seen on the previous level;
    # the next ones: enough for the largest shortfall left at the rate seen on this level
    pos, width = 0, int(np.ceil(q / max(rate, 0.02))) + 2
    first = None
    blocks = []  # per scan round: (its nodes' local index or -1, first column, stop, local row starts, codes)
    while len(active) and pos < p:
        stop = min(p, pos + width)
        more = active[drawn[active] < stop]
        if len(more):  # these nodes' orders are read further than drawn: draw them completely
            _complete_order(b.rng, known, perm, drawn, more)
            scanned[more] |= np.arange(p)[None, :] >= n_open[more, None]
        if len(active) == m:
            o, ss = order, seg_start
        else:
            keep = np.zeros(m, dtype=bool)
            keep[active] = True
            keep = np.repeat(keep, seg_len)
            o = order.compress(keep)
            ln = seg_len[active]
            ss = np.concatenate([[0], np.cumsum(ln)[:-1]])
        cols = np.ascontiguousarray(perm[active, pos:stop])
        block = np.empty((stop - pos, len(o)), dtype=codes.dtype) if want_codes else None
        a_lo, a_hi = _node_min_max(columns, o, ss, cols, block)
        if want_codes:
            loc = np.full(m, -1)
            loc[active] = np.arange(len(active))
            blocks.append((loc, pos, stop, ss, block))
        lo[active, pos:stop], hi[active, pos:stop] = a_lo, a_hi
        scanned[active, pos:stop] = True
        n_found = (scanned[:, :stop] & (lo[:, :stop] != hi[:, :stop])).sum(axis=1)
        level_rate = max(n_found.sum() / max(1, np.minimum(n_open, stop).sum()), 0.02)
        if first is None:
            first = n_found.sum() / (len(active) * (stop - pos))
        active = active[(n_found[active] < q) & (n_open[active] > stop)]
        if len(active):
            width = int(np.ceil(1.25 * (q - n_found[active].min()) / level_rate)) + 2
        pos = stop
    if first is not None:
        b._nonconstant_rate = first
    # only the first W positions matter: every scanned one (known constants aside) and q at least
    W = min(p, max(pos, q))
    lo, hi, scanned, perm = lo[:, :W], hi[:, :W], scanned[:, :W], perm[:, :W]
    constant = scanned & (lo == hi)
    if keep_known:
        i, j = np.nonzero(constant)
        known[i, perm[i, j]] = True
    # per node: the non-constant features in the random order, then the rest (scanned constant
    # ones first; unscanned columns only ever follow q non-constant ones)
    rank = np.arange(W)[None, :] + W * ~(scanned & (lo != hi)) + W * ~scanned
    if 3 * W <= 1 << 16:
        rank = rank.astype(np.uint16)  # NumPy's stable sort of 16-bit integers is a radix sort
    take = np.argsort(rank, axis=1, kind="stable")[:, :q]
    r = np.arange(m)[:, None]
    feats, lo, hi = take2d(perm, r, take), take2d(lo, r, take), take2d(hi, r, take)
    if not want_codes:
        return feats, lo != hi, lo, hi
    return feats, lo != hi, lo, hi, _scanned_codes(blocks, take, lo != hi, seg_start, seg_len)


def _constant_at_lowest(bits, order, seg_start, p):
    """(m, p) mask of the features whose code is 0 (the lowest) on every row of a node: the OR of
    the node's rows' :meth:`Binning.above_lowest` bitsets (``bits``, one row per word), unpacked
    and negated."""
    above = np.bitwise_or.reduceat(bits.take(order, axis=1), seg_start, axis=1)
    return ~np.unpackbits(np.ascontiguousarray(above.T).view(np.uint8), axis=1, count=p).view(bool)


def _draw_order(rng, known, n_open, width):
    """Per node (row of ``known``, the (m, p) mask of features known to be constant there), the
    start of a uniformly random order of its open features: returns ``perm`` (m, p) and ``drawn``
    (m,), with ``perm[i, :drawn[i]]`` drawn (``drawn[i] >= min(width, n_open[i])``; a completely drawn
    order, ``drawn[i] == p``, lists the known constants after the open features).

    Nodes with many open features use rejection: iid uniform draws over all ``p`` features, keeping
    the first occurrence of each open one — a uniformly random ordered sample without replacement
    of the open features, O(width) work per node instead of O(p). The others (and the few whose
    draws fell short) get the complete order from sorted random keys (:func:`_complete_order`).
    """
    m, p = known.shape
    width = min(width, p)
    perm = np.zeros((m, p), dtype=np.intp)
    drawn = np.zeros(m, dtype=np.intp)
    rej = np.flatnonzero(n_open >= 2 * width)
    if len(rej):
        # enough draws for `width` distinct open features at the median node's acceptance rate
        srt = np.sort(n_open[rej])
        med = (srt[(len(srt) - 1) // 2] + srt[len(srt) // 2]) / 2  # np.median's value, without its overhead
        D = int(np.ceil(1.3 * width * p / med)) + 16
        F = rng.integers(0, p, (len(rej), D))
        # first occurrence of each feature in a node's draws: the smallest draw index per (node,
        # feature) cell (one minimum.at, about 4x faster than sorting the draws), read at every draw
        cell = F + (np.arange(len(rej)) * p)[:, None]
        j = np.broadcast_to(np.arange(D, dtype=np.int32), F.shape)
        first = np.full(len(rej) * p, D, dtype=np.int32)
        np.minimum.at(first, cell.ravel(), j.ravel())
        keep = first.take(cell) == j
        keep &= ~take2d(known, rej[:, None], F)
        n_keep = keep.sum(axis=1)
        # the first `width` kept draws of each node, in draw order (a stable sort of "not kept")
        at = np.argsort(~keep, axis=1, kind="stable")[:, :width]
        perm[rej, :width] = take2d(F, np.arange(len(rej))[:, None], at)
        drawn[rej] = width
        short = rej[n_keep < width]  # unlucky draws: complete order instead
        drawn[short] = 0
    _complete_order(rng, known, perm, drawn, np.flatnonzero(drawn < width))
    return perm, drawn


def _complete_order(rng, known, perm, drawn, rows):
    """Complete the random orders of ``rows`` in place: after the drawn prefix ``perm[i, :drawn[i]]``,
    the node's other open features in a uniformly random order (ascending iid uniform keys), then
    its known constants (in feature order: constant in the node, they are never split on there, so
    their order does not matter); ``drawn[rows] = p``."""
    if len(rows) == 0:
        return
    p = known.shape[1]
    keys = rng.random((len(rows), p))
    d = int(drawn[rows].max())
    if d:
        # the drawn prefix first, in its order
        j = np.arange(d)[None, :]
        i = np.broadcast_to(np.arange(len(rows))[:, None], (len(rows), d))
        have = j < drawn[rows][:, None]
        keys[i[have], perm[rows][:, :d][have]] = np.broadcast_to(j - d - 1.0, i.shape)[have]  # < 0, ascending
    # only the open features' keys are sorted (deep nodes have few open features): the open
    # features first by a stable sort of the mask, then sorted by key, the known constants after
    kn = known[rows]
    n_open = p - kn.sum(axis=1)
    order = np.argsort(kn, axis=1, kind="stable")
    w = int(n_open.max())
    if w:
        r = np.arange(len(rows))[:, None]
        k = take2d(keys, r, order[:, :w])
        k[np.arange(w)[None, :] >= n_open[:, None]] = np.inf  # known constants stay after the open ones
        order[:, :w] = take2d(order[:, :w], r, np.argsort(k, axis=1))
    perm[rows] = order
    drawn[rows] = p


def _scanned_codes(blocks, take, valid, seg_start, seg_len):
    """(q, n) codes of the level's rows in their node's candidates, gathered from the scan's blocks:
    candidate ``k`` of node ``i`` sits at perm position ``take[i, k]``, read in the scan round whose
    columns hold it, at that round's rows of node ``i``. Constant candidates point at zeros."""
    m, q = take.shape
    n = int(seg_len.sum())
    base = np.concatenate([[0], np.cumsum([blk.size for *_, blk in blocks])]).astype(np.intp)
    zero_at = int(base[-1])
    buf = np.zeros(zero_at + int(seg_len.max(initial=1)), dtype=blocks[0][4].dtype if blocks else np.uint8)
    for (*_, blk), b0 in zip(blocks, base):
        buf[b0 : b0 + blk.size] = blk.ravel()
    # flat start of each (node, candidate)'s rows, minus the node's first row in the level
    start = np.full((m, q), zero_at, dtype=np.intp)
    stops = np.array([st for _, _, st, _, _ in blocks], dtype=np.intp)
    rnd = np.searchsorted(stops, take, side="right")  # the scan round of each candidate
    for r, (loc, pos, _, ss, blk) in enumerate(blocks):
        i, k = np.nonzero(valid & (rnd == r))
        start[i, k] = base[r] + (take[i, k] - pos) * blk.shape[1] + ss[loc[i]]
    start -= seg_start[:, None]
    loc0, pos0, stop0, _, blk0 = blocks[0] if blocks else (None, -1, 0, None, None)
    if pos0 == 0 and stop0 >= q and np.all(loc0 >= 0):
        # the usual case: a node's candidates are the first q columns of the first scan round, all
        # non-constant, whose block holds every row of the level in order; those nodes' codes are
        # the block's first q rows as they are, only the other nodes' rows are gathered
        out = blk0[:q]
        gather = ~(valid.all(axis=1) & (take == np.arange(q)).all(axis=1))
        rows = np.flatnonzero(np.repeat(gather, seg_len))
        idx = np.repeat(start[gather].T, seg_len[gather], axis=1)
        idx += rows[None, :]
        out[:, rows] = buf.take(idx)
        return out
    idx = np.repeat(start.T, seg_len, axis=1)
    idx += np.arange(n)[None, :]
    return buf.take(idx)


def _best_sorted(b, order, row_node, seg_start, seg_len, feats, valid, totals, stats):
    """Best cut per node over its candidate features: one sort of ``node·n_bins + code`` per
    candidate column (a chunk of columns per call, column-major) sorts every node's rows at once.

    Rows with equal keys (same node, same code) form a group; the statistics are summed per group
    with one ``bincount`` (for classification the class goes into the index, so no one-hot rows are
    gathered) and cumulatively summed over groups: a node's left statistics at a cut are the
    running sum at the cut minus the running sum before the node's first group."""
    m, q = feats.shape
    codes, nb = b.binning.codes, b.binning.n_bins
    crit = b.criterion
    n, S = len(order), stats.shape[1]
    best_val = np.full(m, -np.inf)
    best_feat = np.zeros(m, dtype=np.intp)
    best_bin = np.zeros(m, dtype=np.intp)
    best_next = np.zeros(m, dtype=np.intp)
    best_L = np.zeros((m, S))
    st = stats[order]
    classify = b.class_index is not None
    if classify:
        C = S - 1
        cls_o = b.class_index[order].astype(np.intp)
        w_o = b._row_weight[order]
    same_node = row_node[:-1] == row_node[1:]
    key_base = (row_node.astype(np.int64) * nb)[None, :]
    chunk = max(1, _CHUNK_ELEMENTS // max(1, n * S))
    for start in range(0, q, chunk):
        ks = np.arange(start, min(q, start + chunk))
        qc = len(ks)
        F = take2d(feats, row_node[None, :], ks[:, None])  # (qc, n) the feature of column k in each row's node
        key = key_base + take2d(codes, order[None, :], F)
        perm = np.argsort(key, axis=1, kind="stable")
        skey = np.take_along_axis(key, perm, axis=1)  # node boundaries survive the sort
        new_group = np.empty((qc, n), dtype=bool)
        new_group[:, 0] = True
        np.not_equal(skey[:, 1:], skey[:, :-1], out=new_group[:, 1:])
        gid = np.cumsum(new_group.ravel()) - 1
        G = int(gid[-1]) + 1
        pf = perm.ravel()
        gs = np.empty((G, S))
        if classify:
            gs[:, 0] = np.bincount(gid, weights=st[pf, 0], minlength=G)
            gs[:, 1:] = np.bincount(gid * C + cls_o[pf], weights=w_o[pf], minlength=G * C).reshape(G, C)
        else:
            for s_ in range(S):
                gs[:, s_] = np.bincount(gid, weights=st[pf, s_], minlength=G)
        cum = np.cumsum(gs, axis=0)
        # cut after sorted position ci of column cj: the key changes, the node does not
        cj, ci = np.nonzero(new_group[:, 1:] & same_node[None, :])
        node_c = row_node[ci]
        keep = valid[node_c, ks[cj]]
        ci, cj, node_c = ci.compress(keep), cj.compress(keep), node_c.compress(keep)
        if len(ci) == 0:
            continue
        g0 = gid[cj * n + seg_start[node_c]]  # the node's first group in this column
        L = cum[gid[cj * n + ci]] - np.where((g0 > 0)[:, None], cum[np.maximum(g0 - 1, 0)], 0.0)
        R = totals[node_c] - L
        ok = (L[:, 0] >= b.min_samples_leaf) & (R[:, 0] >= b.min_samples_leaf)
        wl, wr = crit.weight(L), crit.weight(R)
        ok &= (wl >= b.min_weight_leaf) & (wr >= b.min_weight_leaf) if b.min_weight_leaf > 0 else (wl > 0) & (wr > 0)
        if not ok.any():
            continue
        idx = np.flatnonzero(ok)
        score = crit.proxy(L[idx], R[idx])
        nodes = node_c[idx]
        pos = ci[idx] - seg_start[nodes]
        # best per node; ties go to the earlier candidate column (the node's tie order), then the
        # earlier cut position; a later chunk's columns win only with a higher score
        first = first_best_per_node(nodes, score, cj[idx] * n + pos, m)
        wn, sc = nodes[first], score[first]
        better = sc > best_val[wn]
        win = idx[first[better]]
        wn = wn[better]
        best_val[wn] = sc[better]
        best_feat[wn] = feats[wn, ks[cj[win]]]
        best_bin[wn] = skey[cj[win], ci[win]] - wn * nb
        best_next[wn] = skey[cj[win], ci[win] + 1] - wn * nb
        best_L[wn] = L[win]
    has = np.isfinite(best_val)
    thr = (b.binning.upper[best_feat, best_bin] + b.binning.lower[best_feat, best_next]) / 2.0
    return has, best_feat, best_bin, thr, best_L


def _best_random(b, order, row_node, feats, valid, lo, hi, totals, stats):
    """Extra trees: one uniform threshold per node and candidate feature; the best of them."""
    m, q = feats.shape
    codes, lower, upper = b.binning.codes, b.binning.lower, b.binning.upper
    crit = b.criterion
    S = stats.shape[1]
    lo, hi = lo.astype(np.intp), hi.astype(np.intp)
    vlo, vhi = lower[feats, lo], upper[feats, hi]
    draw = vlo + b.rng.random((m, q)) * (vhi - vlo)
    # rows' values (exact codes: the code's value) against their node's thresholds
    F = feats[row_node]  # (n, q)
    c = take2d(codes, order[:, None], F)
    go_left = lower[F, c] <= draw[row_node]
    n = len(order)
    flat = (row_node[:, None] * q + np.arange(q)).ravel()
    L = np.empty((m * q, S))
    gl = go_left.ravel()
    if b.class_index is not None:
        C = S - 1
        cls = np.repeat(b.class_index[order], q)
        w = np.repeat(b._row_weight[order], q)
        L[:, 1:] = np.bincount(flat * C + cls, weights=w * gl, minlength=m * q * C).reshape(m * q, C)
        L[:, 0] = np.bincount(flat, weights=gl, minlength=m * q)
    else:
        st = stats[order]
        for s in range(S):
            L[:, s] = np.bincount(flat, weights=np.repeat(st[:, s], q) * gl, minlength=m * q)
    L = L.reshape(m, q, S)
    R = totals[:, None, :] - L
    ok = valid & (lo < hi) & (L[..., 0] >= b.min_samples_leaf) & (R[..., 0] >= b.min_samples_leaf)
    wl, wr = crit.weight(L), crit.weight(R)
    ok &= (wl >= b.min_weight_leaf) & (wr >= b.min_weight_leaf) if b.min_weight_leaf > 0 else (wl > 0) & (wr > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(ok, crit.proxy(L, R), -np.inf)
    k = np.argmax(score, axis=1)
    r = np.arange(m)
    has = np.isfinite(score[r, k])
    f = feats[r, k]
    t = draw[r, k]
    # code of the cut: the last value <= the draw (``code <= bin`` goes left for training rows)
    best_bin = np.zeros(m, dtype=np.intp)
    h = np.flatnonzero(has)
    if len(h):
        nbf = b.binning.n_bins_feature[f[h]]
        within = np.arange(upper.shape[1])[None, :] < nbf[:, None]
        best_bin[h] = ((upper[f[h]] <= t[h, None]) & within).sum(axis=1) - 1
    return has, f, best_bin, t, L[r, k]


# -- Gini on small integer codes and integer weights: radix sorts, no per-class work per row ----------

_RADIX_DENSE = 0.8  # a chunk with at least this share of codes above 0 sorts all its rows
_RADIX_ROWS = 32768  # rows per chunk of nodes (few chunks: each costs two sorts per candidate column)
# a node with at least this many entries (rows with a code above 0, per candidate) per (code, class)
# cell is searched through histograms: the class weights per (feature, code) from one bincount,
# instead of sorting its entries per feature
_HIST_ENTRIES_PER_CELL = 0.1
_HIST_ELEMENTS = 1 << 21  # (candidate, node, code, class) cells per histogram chunk


def radix_applies(b, stats):
    """The radix finder needs Gini, codes of at most 256 values, at most 256 classes and integer
    weights small enough for exact int64 sums of squares (bootstrap counts, unit weights)."""
    from ._criterion import Gini
    if b.class_index is None or type(b.criterion) is not Gini or b.splitter == "random":
        return False
    if b.binning.codes.dtype != np.uint8 or b.binning.n_bins > 256 or stats.shape[1] - 1 > 256:
        return False
    w = b._row_weight
    return bool(np.all(w == np.floor(w)) and w.sum() < 2**26)


def _chunks(seg_len, max_rows, max_nodes):
    """Consecutive node ranges holding at most ``max_rows`` rows (a larger node alone) and at most
    ``max_nodes`` nodes."""
    bounds, start, rows = [], 0, 0
    for j, s in enumerate(seg_len.tolist()):
        if j > start and (rows + s > max_rows or j - start >= max_nodes):
            bounds.append((start, j))
            start, rows = j, 0
        rows += s
    bounds.append((start, len(seg_len)))
    return bounds


def _best_radix(b, order, seg_start, seg_len, feats, totals, cls_lvl, w_lvl, cand_codes=None):
    """Best Gini cut per node on at most 256 codes with integer weights, the same as
    :func:`_best_sorted` (same scores bit for bit, same ties), without a comparison sort.

    ``order`` lists the level's rows node after node, ``cls_lvl`` and ``w_lvl`` their classes (as
    ``uint16``) and integer weights, ``cand_codes`` (q, n) their codes in their node's candidates
    (read here when not given). Large nodes (many codes above 0 per (code, class) cell) go to
    :func:`_hist_nodes` (class histograms per feature and code), the others to
    :func:`_radix_nodes` (16-bit radix sorts of their rows above code 0 per feature). Both score a
    cut from ``Σ_c L_c²``, ``Σ_c T_c·L_c`` and ``w_L`` (or their right-child counterparts), exact
    integers, as

        score = Σ_c L_c²/w_L + Σ_c R_c²/w_R,   Σ_c R_c² = Σ_c T_c² - 2·Σ_c T_c·L_c + Σ_c L_c²,

    so the score equals the reference's bit for bit. Returns what :func:`_best_sorted` returns and
    whether each row of the level goes left at its node's best cut.
    """
    m, q = feats.shape
    C = totals.shape[1] - 1
    cols = b.binning.columns()
    n_total = cols.shape[1]
    best = (np.zeros(m), np.zeros(m, dtype=np.intp), np.zeros(m, dtype=np.intp), np.zeros(m, dtype=np.intp))
    row_node = np.repeat(np.arange(m), seg_len)
    if cand_codes is None:
        idx = np.repeat(feats.T * n_total, seg_len, axis=1)
        idx += order[None, :]
        cand_codes = cols.ravel().take(idx)
    # large nodes go to the class histograms: many entries (codes above 0: the radix finder's rows)
    # per (code, class) cell; the share of codes above 0 is estimated on every 16th row of the level
    sample = cand_codes[:, ::16]
    above = np.count_nonzero(sample) / max(1, sample.size)
    big = seg_len * above >= _HIST_ENTRIES_PER_CELL * b.binning.n_bins * C
    for sel, finder in ((big, _hist_nodes), (~big, _radix_nodes)):
        if not sel.any():
            continue
        if sel.all():
            found = finder(b, cand_codes, seg_len, feats, totals, cls_lvl, w_lvl)
            for dst, src in zip(best, found):
                dst[:] = src
            continue
        rows = np.flatnonzero(np.repeat(sel, seg_len))
        found = finder(b, cand_codes.take(rows, axis=1), seg_len[sel], feats[sel], totals[sel], cls_lvl.take(rows),
                       w_lvl.take(rows))
        for dst, src in zip(best, found):
            dst[sel] = src
    best_val, best_feat, best_bin, best_next = best
    has = best_val > 0  # a Gini score is > 0: 0 means no allowed cut
    thr = (b.binning.upper[best_feat, best_bin] + b.binning.lower[best_feat, best_next]) / 2.0
    # the left child's statistics: count and class weights of the rows going left
    go_left = cols.ravel().take(best_feat.take(row_node) * n_total + order) <= best_bin.take(row_node)
    L = np.zeros((m, C + 1))
    L[:, 0] = np.bincount(row_node, weights=go_left, minlength=m)
    L[:, 1:] = np.bincount(row_node * C + cls_lvl, weights=w_lvl * go_left, minlength=m * C).reshape(m, C)
    return has, best_feat, best_bin, thr, L, go_left


def _class_histograms(codes, row_cell, w, T, nb):
    """(q, m, C, nb) weight of the rows per (candidate, node, class, code), from one ``bincount``:
    ``codes`` (q, n) the rows' codes in their node's candidates, ``row_cell`` each row's
    ``(node·C + class)·nb``, ``w`` the rows' integer weights, ``T`` (m, C) the nodes' class weights.

    When most codes are 0 (sparse data such as pixels) only the others are counted: a cell's weight
    at code 0 is then the node's class weight minus its weight at the other codes, exact in
    integers."""
    q, n = codes.shape
    m, C = T.shape
    size = q * m * C * nb
    above = codes != 0
    sparse = 2 * np.count_nonzero(above) < above.size
    if sparse:
        nz = np.flatnonzero(above)  # flat (candidate, row) of the codes above 0
        # candidate and row of each, from the candidates' counts (cheaper than a divmod)
        counts = np.diff(np.searchsorted(nz, np.arange(q + 1) * n))
        j = nz - np.repeat(np.arange(0, q * n, n), counts)
        cell = row_cell.take(j)
        cell += np.repeat(np.arange(0, size, m * C * nb), counts)
        cell += codes.ravel().take(nz)
        wj = w.take(j)
    else:
        cell = np.add((np.arange(q) * (m * C * nb))[:, None], row_cell[None, :])
        cell += codes
        cell, wj = cell.ravel(), np.broadcast_to(w, (q, n)).ravel()
    if wj.sum() <= 2 * len(wj):
        # small integer weights (bootstrap counts): each cell repeated w times and counted, about
        # twice as fast as a weighted count; exact integers either way
        H = np.bincount(np.repeat(cell, wj), minlength=size)
    else:
        H = np.bincount(cell, weights=wj.astype(np.float64), minlength=size)
    H = H.reshape(q, m, C, nb)
    if sparse:
        H[..., 0] = T[None, :, :] - H[..., 1:].sum(axis=3)
    return H


def _hist_nodes(b, cand_codes, seg_len, feats, totals, cls_lvl, w_lvl):
    """Best Gini cut of large nodes from class histograms: per (candidate, node, class, code) the
    weight ``H`` of the node's rows with that class and code (one ``bincount``; codes on the last
    axis, so the running sums over codes read contiguous memory). A cut after code ``t`` sends codes
    ``<= t`` left: ``L_c(t) = Σ_{code <= t} H``, ``w_L = Σ_c L_c``, and it scores

        Σ_c L_c²/w_L + (Σ_c T_c² - 2·Σ_c T_c·L_c + Σ_c L_c²)/w_R     (T_c the node's class weights).

    It is a cut between distinct values when code ``t`` occurs in the node and weight remains on
    the right (every row of a level has weight >= 1, so "occurs" is ``Σ_c H > 0``); with
    ``min_samples_leaf > 1`` the row counts per code come from a second ``bincount``. Ties go to the
    earliest candidate, then its first best code, as in the sorted finder. Returns (score, feature,
    code, next code) per node.
    """
    m, q = feats.shape
    nb = b.binning.n_bins
    C = totals.shape[1] - 1
    msl, mwl = b.min_samples_leaf, b.min_weight_leaf
    out = (np.zeros(m), np.zeros(m, dtype=np.intp), np.zeros(m, dtype=np.intp), np.zeros(m, dtype=np.intp))
    seg_start = np.concatenate([[0], np.cumsum(seg_len)[:-1]])
    per = max(1, _HIST_ELEMENTS // (q * nb * C))
    T_all = totals[:, 1:].astype(np.int64)  # integer class weights: the contractions below stay in int64
    for a in range(0, m, per):
        z = min(m, a + per)
        mc = z - a
        r0, r1 = seg_start[a], seg_start[z - 1] + seg_len[z - 1]
        nc = r1 - r0
        lens = seg_len[a:z]
        nl = np.repeat(np.arange(mc), lens)
        T = T_all[a:z]
        H = _class_histograms(cand_codes[:, r0:r1], (nl * C + cls_lvl[r0:r1]) * nb, w_lvl[r0:r1], T, nb)
        Hs = H.sum(axis=2)  # weight per (candidate, node, code)
        np.cumsum(H, axis=3, out=H)  # L_c(t)
        A = np.cumsum(Hs, axis=2)  # w_L
        P = np.einsum("kmct,mc->kmt", H, T)  # Σ_c T_c L_c
        np.square(H, out=H)
        Q = H.sum(axis=2)  # Σ_c L_c²
        del H
        Wn = T.sum(axis=1)
        ST2 = np.einsum("mc,mc->m", T, T)
        R = Wn[:, None] - A  # w_R
        cut = Hs > 0
        cut &= R > 0
        if msl > 1:
            cell = np.add((np.arange(q) * (mc * nb))[:, None], (nl * nb)[None, :])  # (candidate, node, code)
            cell += cand_codes[:, r0:r1]
            N = np.bincount(cell.ravel(), minlength=q * mc * nb).reshape(q, mc, nb)
            nL = np.cumsum(N, axis=2)
            cut &= nL >= msl
            cut &= (lens[None, :, None] - nL) >= msl
        if mwl > 0:
            cut &= (A >= mwl) & (R >= mwl)
        SR = ST2[None, :, None] - 2 * P
        SR += Q
        np.maximum(R, 1, out=R)
        np.maximum(A, 1, out=A)  # finite everywhere (a real cut has w_L, w_R >= 1)
        score = Q / A
        score += SR / R
        score *= cut
        tk = np.argmax(score, axis=2)  # each candidate's first best code (its smallest n_L)
        vk = np.take_along_axis(score, tk[:, :, None], axis=2)[:, :, 0]
        top = vk.max(axis=0)  # (mc,)
        ok = top > 0
        k = np.argmax(vk == top[None, :], axis=0)  # the earliest best candidate (the tie order)
        r = np.arange(mc)
        t = tk[k, r]
        later = (Hs[k, r] > 0) & (np.arange(nb)[None, :] > t[:, None])
        gn = np.arange(a, z)[ok]
        out[0][gn] = top[ok]
        out[1][gn] = feats[gn, k[ok]]
        out[2][gn] = t[ok]
        out[3][gn] = np.argmax(later, axis=1)[ok]
    return out


def _sort_columns(key, bounds):
    """Stable order of the flat ``key`` within each column's slice ``bounds[k]:bounds[k+1]`` (flat
    positions, each slice sorted on its own: ``uint16`` keys make each sort a radix sort)."""
    q = len(bounds) - 1
    lens = np.diff(bounds)
    if len(key) and np.all(lens == lens[0]):  # equal columns (dense codes): one 2-D sort
        pf = np.argsort(key.reshape(q, -1), axis=1, kind="stable")
        pf += bounds[:-1, None]
        return pf.ravel()
    pf = np.empty(len(key), dtype=np.intp)
    for k in range(q):
        s, e = bounds[k], bounds[k + 1]
        pf[s:e] = np.argsort(key[s:e], kind="stable")
        pf[s:e] += s
    return pf


def _segment_cumsum(x, first, dt, total=None):
    """Running sums of ``x`` that restart at every segment (``first``: ascending segment starts, the
    first one 0), as ``dt``: each segment's total (``total`` when known) is subtracted at the next
    segment's start, so the running sums never leave one segment's range (no overflow of a long
    array's total). ``x`` of type ``dt`` is overwritten with them."""
    y = x if x.dtype == dt else x.astype(dt)
    if total is None:
        total = np.add.reduceat(y, first)
    y[first[1:]] -= total[:-1]
    return np.cumsum(y, dtype=dt, out=y)


def _n_left(left0, gf, e):
    """Rows on the left of the cut after entry ``e`` (code order, largest first): the node's rows
    at code 0 plus the entries after ``e`` in its group (``gf`` the groups' first entries,
    ``left0`` per group its code-0 rows plus its last entry's position)."""
    return left0.take(np.searchsorted(gf, e, side="right") - 1) - e


def _radix_nodes(b, cand_codes, seg_len, feats, totals, cls_lvl, w_lvl):
    """Best Gini cut per node with two 16-bit radix sorts per candidate column, only of the rows
    whose code is above 0, and no per-class arrays per row.

    Most codes of sparse data (pixels) are 0, and rows at code 0 go left at every cut, so they are
    never sorted: per chunk of at most 256 nodes, each candidate column's other rows (its
    *entries*) are sorted by the key ``node·256 + (255 - code)``, largest code first
    (NumPy's stable sort of ``uint16`` is a radix sort, linear time), and running sums over them
    give the **right** child at each cut: moving a row of class ``c`` and weight ``w`` to the right
    adds ``w·(2·R_c + w)`` to ``Σ_c R_c²`` (``R_c`` the weight of its class already on the right),
    ``w·T_c`` to ``Σ_c T_c·R_c`` (``T`` the node's class weights) and ``w`` to ``w_R``. ``R_c``
    before each row comes from a second stable sort by ``node·C + class``: within a class the rows
    keep their code order, so a running sum of the weights gives it. The left child is the rest:
    ``w_L = W - w_R`` and ``Σ_c L_c² = Σ_c T_c² - 2·Σ_c T_c·R_c + Σ_c R_c²``. Every cut (the code
    changes inside a node, or the node's code-0 rows against all its entries) is scored; returns
    (score, feature, code, next code) per node.

    A chunk of dense codes (few at 0) sorts all its rows instead: every column then holds every
    row, so the sorts are 2-D and each running sum restarts from totals known per node (``T``),
    as no row is left out."""
    m, q = feats.shape
    C = totals.shape[1] - 1
    seg_start = np.concatenate([[0], np.cumsum(seg_len)[:-1]])
    out = (np.zeros(m), np.zeros(m, dtype=np.intp), np.zeros(m, dtype=np.intp), np.zeros(m, dtype=np.intp))
    best_val, best_feat, best_bin, best_next = out
    T_all = totals[:, 1:].astype(np.int64)  # (m, C) class weights per node
    msl, mwl = b.min_samples_leaf, b.min_weight_leaf
    for a, z in _chunks(seg_len, _RADIX_ROWS, 256):
        mc = z - a
        r0, r1 = seg_start[a], seg_start[z - 1] + seg_len[z - 1]
        nc = r1 - r0
        if nc < 2:
            continue
        lens = seg_len[a:z]
        nl = np.repeat(np.arange(mc, dtype=np.uint16), lens)
        T = T_all[a:z]
        Wn = T.sum(axis=1)
        # all running sums lie in [-2·W², 2·W²] (W the largest node weight): int32 when that fits
        dt = np.int32 if int(Wn.max()) <= 32767 else np.int64
        T = T.astype(dt)
        Wn = Wn.astype(dt)
        ST2 = np.einsum("ij,ij->i", T, T)  # Σ_c T_c² per node
        codes = np.ascontiguousarray(cand_codes[:, r0:r1]).ravel()
        above = codes != 0
        E = np.count_nonzero(above)
        if E == 0:
            continue
        dense = E >= _RADIX_DENSE * len(codes)
        if dense:
            # dense codes: every row is an entry (equal columns: 2-D sorts), those at code 0 sort
            # last and the code-0 cut is an ordinary one
            E = len(codes)
            bounds = np.arange(0, E + 1, nc)
            ke = np.repeat(np.arange(q, dtype=np.int32), nc)
            je = np.tile(np.arange(nc), q)
            key1 = np.subtract(255, codes, dtype=np.uint16)
        else:
            # the entries: flat (candidate, row) of the codes above 0, column after column
            at = np.flatnonzero(above)
            bounds = np.searchsorted(at, np.arange(q + 1) * nc)  # each column's entries
            ke = np.repeat(np.arange(q, dtype=np.int32), np.diff(bounds))  # each entry's column
            je = at - np.repeat(np.arange(0, q * nc, nc), np.diff(bounds))  # and row
            key1 = np.subtract(255, codes.take(at), dtype=np.uint16)
        key1 |= nl.take(je) << 8
        pf = _sort_columns(key1, bounds)
        sk = key1.take(pf)
        je = je.take(pf)
        ne = sk >> 8  # each entry's node, in sorted order
        # per row of the chunk: its (node, class) and w·T_c; per entry, read through its row
        nc_key = nl * np.uint16(C)
        nc_key += cls_lvl[r0:r1]
        w = w_lvl[r0:r1].astype(dt)
        key2 = nc_key.take(je)
        ws = w.take(je)
        tw = (w * T.ravel().take(nc_key)).take(je)  # w·T_c per entry
        # groups: one node's entries in one column, consecutive
        inner = bounds[1:-1]
        inner = inner[inner < E]  # column starts (empty columns at the end: none)
        group = np.ones(E, dtype=bool)
        np.not_equal(ne[1:], ne[:-1], out=group[1:])
        group[inner] = True
        gf = np.flatnonzero(group)
        # entries in (node, class) order, code order kept within a class: a running sum of the
        # weights per (column, node, class) is R_c including the entry, which adds w·(2·R_c - w)
        pf2 = _sort_columns(key2, bounds)
        ws2 = ws.take(pf2)
        k2 = key2.take(pf2)
        cg = np.ones(E, dtype=bool)
        np.not_equal(k2[1:], k2[:-1], out=cg[1:])
        cg[inner] = True
        cf = np.flatnonzero(cg)
        # with every row an entry (dense), a segment's total is its node's weight of the class
        c2 = _segment_cumsum(ws2.copy(), cf, dt, T.ravel().take(k2.take(cf)) if dense else None)
        c2 *= 2
        c2 -= ws2
        c2 *= ws2
        inc = np.empty(E, dtype=dt)
        inc[pf2] = c2  # back to code order
        # running sums per group: the right child of the cut after each entry
        # (with every row an entry, a group's totals are its node's: Σ_c T_c², Σ_c T_c², W)
        gn_ = ne.take(gf) if dense else None
        SR = _segment_cumsum(inc, gf, dt, ST2.take(gn_) if dense else None)  # Σ_c R_c²
        PR = _segment_cumsum(tw, gf, dt, ST2.take(gn_) if dense else None)  # Σ_c T_c·R_c
        WR = _segment_cumsum(ws, gf, dt, Wn.take(gn_) if dense else None)  # w_R
        # cuts, after entry e: the next entry of the group has a smaller code, or e is the group's
        # last entry and the node has rows at code 0 (all on the left)
        last = np.append(group[1:], True)  # the group's last entry
        gl = np.flatnonzero(last)
        left0 = lens.take(ne.take(gf)) - (gl + 1 - gf)  # rows at code 0
        cut = np.zeros(E, dtype=bool)
        np.not_equal(sk[:-1], sk[1:], out=cut[:-1])
        cut[gl] = left0 > 0
        left0 += gl
        e = np.flatnonzero(cut)
        nc_ = ne.take(e).astype(np.intp)  # each cut's node
        kc = ke.take(e)
        Rc = WR.take(e)
        Ac = Wn.take(nc_) - Rc  # w_L >= 1 at a cut
        if msl > 1 or mwl > 0:
            nL = _n_left(left0, gf, e)
            ok = (nL >= msl) & (lens.take(nc_) - nL >= msl)
            if mwl > 0:
                ok &= (Ac >= mwl) & (Rc >= mwl)
            e, nc_, kc, Ac, Rc = (a.compress(ok) for a in (e, nc_, kc, Ac, Rc))
        if len(e) == 0:
            continue
        SRc = SR.take(e)
        Qc = ST2.take(nc_) - 2 * PR.take(e)  # Σ_c L_c²
        Qc += SRc
        score = Qc / Ac
        score += SRc / Rc
        top = np.zeros(mc)  # best score per node (0: no cut)
        np.maximum.at(top, nc_, score)
        # ties: the earliest candidate column, then the earliest cut position in the node (the
        # fewest rows on the left; within a column a node's cuts run from the largest code down)
        hit = np.flatnonzero(score == top.take(nc_))
        node = nc_[hit]
        tie = kc[hit].astype(np.int64) * (nc + 1) + _n_left(left0, gf, e[hit])  # unique per cut
        low = np.full(mc, np.iinfo(np.int64).max)
        np.minimum.at(low, node, tie)
        first = hit[tie == low.take(node)]
        kk, ii, node = kc[first], e[first], nc_[first]
        gn = a + node
        best_val[gn] = top.take(node)
        best_feat[gn] = feats[gn, kk]
        # the code-0 cut (after a group's last entry) is at code 0
        best_bin[gn] = np.where(last[ii], 0, 255 - (sk.take(ii + 1, mode="clip") & 0xFF))
        best_next[gn] = 255 - (sk[ii] & 0xFF)
    return out


def build_levelwise(b, stats, rows, want_rows=True):
    """Grow ``b``'s tree (a :class:`._tree._Builder`) level by level; returns ``(tree, leaf_rows)``
    (``leaf_rows`` maps each leaf to its training rows, only when ``want_rows``)."""
    from ._tree import Tree

    crit = b.criterion
    codes = b.binning.codes
    n_total, p = codes.shape
    if b.class_index is not None:
        b._row_weight = stats[:, 1:].sum(axis=1)
    radix = b.radix and radix_applies(b, stats)
    if radix:
        cls_all = b.class_index.astype(np.uint16)
        w_all = b._row_weight.astype(np.int64)
    total = stats[rows].sum(axis=0)
    n_values = len(crit.value(total).ravel())
    tree = Tree(b.n_features, 1, n_values)
    leaf_rows = {}
    total_weight = float(crit.weight(total))
    b.total_weight = total_weight
    order = np.asarray(rows, dtype=np.intp)
    seg_len = np.array([len(order)])
    totals = total[None, :]
    node_ids = np.array([tree._add_node(None, False, len(order), total_weight, float(crit.impurity(total)),
                                        crit.value(total).ravel(), total)])
    n_nodes = 1
    grown = {name: [] for name in _GROWN}  # per level: the split nodes' records, their children's
    # features known to be constant per node (a constant feature stays constant in the subtree)
    lazy = b.max_features < p or b.splitter == "random"
    known = np.zeros((1, p), dtype=bool) if lazy else None
    # every feature a candidate: each node's key gives its random tie order (see _ties)
    root_key = getattr(b, "_root_key", None)
    keys = None if lazy or root_key is None else np.array([root_key], dtype=np.uint64)
    depth = 0
    while len(node_ids):
        m = len(node_ids)
        seg_start = np.concatenate([[0], np.cumsum(seg_len)[:-1]])
        weights = crit.weight(totals)
        impurity = np.asarray(crit.impurity(totals), dtype=np.float64)
        expand = ~((depth >= b.max_depth) | (seg_len < b.min_samples_split) | (seg_len < 2 * b.min_samples_leaf)
                   | (weights < 2 * b.min_weight_leaf) | (impurity <= _EPSILON))
        # leaves of this level keep their rows (gradient boosting's line search needs them)
        if want_rows:
            for i in np.flatnonzero(~expand):
                leaf_rows[int(node_ids[i])] = order[seg_start[i] : seg_start[i] + seg_len[i]]
        if not expand.any():
            break
        # keep only the expandable nodes' rows, still grouped node after node
        keep_rows = np.repeat(expand, seg_len)
        order = order[keep_rows]
        node_ids, seg_len, totals = node_ids[expand], seg_len[expand], totals[expand]
        if known is not None:
            known = known[expand]
        if keys is not None:
            keys = keys[expand]
        m = len(node_ids)
        seg_start = np.concatenate([[0], np.cumsum(seg_len)[:-1]])
        row_node = np.repeat(np.arange(m), seg_len)
        cand_codes = None
        if radix and lazy:  # the candidates' codes come with the constancy scan
            feats, valid, c_lo, c_hi, cand_codes = _candidate_features(b, order, seg_start, seg_len, m, p, known,
                                                                       want_codes=True)
        else:
            feats, valid, c_lo, c_hi = _candidate_features(b, order, seg_start, seg_len, m, p, known, keys=keys)
        if radix:
            has, f, bins, thr, L, go_left_all = _best_radix(b, order, seg_start, seg_len, feats, totals,
                                               cls_all.take(order), w_all.take(order), cand_codes)
        elif b.splitter == "random":
            has, f, bins, thr, L = _best_random(b, order, row_node, feats, valid, c_lo, c_hi, totals, stats)
        else:
            has, f, bins, thr, L = _best_sorted(b, order, row_node, seg_start, seg_len, feats, valid, totals, stats)
        R = totals - L
        if has.any():
            gain = np.where(has, crit.improvement(totals, np.where(has[:, None], L, totals),
                                                  np.where(has[:, None], R, totals), total_weight), -np.inf)
            has &= ~(gain + _EPSILON < b.min_impurity_decrease)
        if want_rows:
            for i in np.flatnonzero(~has):
                leaf_rows[int(node_ids[i])] = order[seg_start[i] : seg_start[i] + seg_len[i]]
        if not has.any():
            break
        # partition the split nodes' rows: left child then right child, node after node
        split_rows = np.repeat(has, seg_len)
        sel = np.flatnonzero(split_rows)
        order, row_node = order.take(sel), row_node.take(sel)
        if radix:  # the finder already sent each row left or right
            go_left = go_left_all[sel]
        else:
            go_left = take2d(codes, order, f[row_node]) <= bins[row_node]
        s_idx = np.flatnonzero(has)
        rank = np.full(m, -1)
        rank[s_idx] = np.arange(len(s_idx))
        child = 2 * rank[row_node] + (~go_left)
        if 2 * len(s_idx) <= 1 << 16:
            child = child.astype(np.uint16)  # NumPy's stable sort of 16-bit integers is a radix sort
        perm = np.argsort(child, kind="stable")
        order = order[perm]
        n_left = np.bincount(rank.take(row_node).compress(go_left), minlength=len(s_idx))
        n_node = seg_len[s_idx]
        new_len = np.empty(2 * len(s_idx), dtype=np.intp)
        new_len[0::2], new_len[1::2] = n_left, n_node - n_left
        new_tot = np.empty((2 * len(s_idx), totals.shape[1]))
        new_tot[0::2], new_tot[1::2] = L[s_idx], R[s_idx]
        child_w = crit.weight(new_tot)
        child_imp = np.asarray(crit.impurity(new_tot), dtype=np.float64)
        child_val = crit.value(new_tot).reshape(len(new_tot), -1)
        # record the splits and the children (left then right, node after node) as arrays per
        # level, written into the tree once at the end
        k = len(s_idx)
        new_ids = n_nodes + np.arange(2 * k)
        n_nodes += 2 * k
        for name, vals in (("parent", node_ids[s_idx]), ("feature", f[s_idx]),
                           ("threshold", thr[s_idx].astype(np.float64)), ("bin_threshold", bins[s_idx]),
                           ("missing_go_to_left", (2 * n_left > n_node).astype(np.uint8)),
                           ("children_left", new_ids[0::2]), ("impurity", child_imp), ("n_node_samples", new_len),
                           ("weighted_n_node_samples", np.asarray(child_w, dtype=np.float64)),
                           ("value", child_val), ("stats", new_tot)):
            grown[name].append(vals)
        node_ids, seg_len, totals = new_ids, new_len, new_tot
        if known is not None:
            known = np.repeat(known[s_idx], 2, axis=0)
        if keys is not None:
            # the children, left then right per split node, as the level's nodes are listed
            keys = child_keys(np.repeat(keys[s_idx], 2), np.tile([True, False], k))
        depth += 1
    _fill_tree(tree, grown, n_nodes)
    tree = tree._finalize()
    pre = _preorder(tree)
    _renumber(tree, pre)
    return tree, {int(pre[k]): v for k, v in leaf_rows.items()}


_GROWN = ("parent", "feature", "threshold", "bin_threshold", "missing_go_to_left", "children_left", "impurity",
           "n_node_samples", "weighted_n_node_samples", "value", "stats")


def _fill_tree(tree, grown, n_nodes):
    """Write the levels' records into ``tree`` (which holds the root): per split node (``parent``)
    its feature, thresholds, missing-value side and children (the right child follows the left
    one); per child its impurity, sizes, value and statistics; the other fields keep the leaf
    defaults (no children, undefined feature and threshold)."""
    L = tree._lists
    if not grown["parent"]:
        return
    cat = {name: np.concatenate(parts) for name, parts in grown.items()}
    parent = cat["parent"]
    for name, fill in (("feature", -2), ("threshold", -2.0), ("bin_threshold", 0), ("missing_go_to_left", 0),
                       ("children_left", -1), ("children_right", -1)):
        arr = np.full(n_nodes, fill, dtype=np.asarray(fill).dtype)
        arr[0] = L[name][0]
        arr[parent] = cat[name] if name != "children_right" else cat["children_left"] + 1
        L[name] = arr
    for name in ("impurity", "n_node_samples", "weighted_n_node_samples"):
        L[name] = np.concatenate([np.asarray(L[name]), cat[name]])
    for name in ("value", "stats"):
        L[name] = np.concatenate([np.asarray(L[name]).reshape(1, -1), cat[name].reshape(len(parent) * 2, -1)])


def _preorder(tree):
    """Depth-first preorder number of every node (scikit-learn's numbering), level by level."""
    left, right = tree.children_left, tree.children_right
    levels, frontier = [], np.array([0])
    while len(frontier):
        levels.append(frontier)
        inner = frontier[left[frontier] != -1]
        frontier = np.concatenate([left[inner], right[inner]])
    size = np.ones(tree.node_count, dtype=np.intp)
    for nodes in reversed(levels):
        inner = nodes[left[nodes] != -1]
        size[inner] = 1 + size[left[inner]] + size[right[inner]]
    pre = np.zeros(tree.node_count, dtype=np.intp)
    for nodes in levels:
        inner = nodes[left[nodes] != -1]
        pre[left[inner]] = pre[inner] + 1
        pre[right[inner]] = pre[inner] + 1 + size[left[inner]]
    return pre


def _renumber(tree, pre):
    inv = np.empty_like(pre)
    inv[pre] = np.arange(len(pre))
    for name in ("feature", "threshold", "impurity", "n_node_samples", "weighted_n_node_samples", "value",
                 "missing_go_to_left", "bin_threshold", "node_stats"):
        setattr(tree, name, getattr(tree, name)[inv])
    for name in ("_is_cat", "_cat_bitset", "_cat_bins"):  # category sets, on trees that have some
        if getattr(tree, name, None) is not None:
            setattr(tree, name, getattr(tree, name)[inv])
    for name in ("children_left", "children_right"):
        old = getattr(tree, name)[inv]
        setattr(tree, name, np.where(old == -1, -1, pre[np.maximum(old, 0)]))
