"""Histogram boosting's tree grower: histograms of gradients counted once per node, cuts scanned at once.

A node's statistics ``[count, H = Σh, G = Σg]`` per (feature, bin) are sums over the flat index
``offset_j + code`` of the node's rows (:class:`HistData`): ``count`` by ``np.bincount``, ``H`` and
``G`` together by ``np.add.at`` on ``h + i·g`` (one complex number per row, one pass for both); the
layout is ragged: feature ``j`` holds only its bins ``0 … max code`` (MNIST at 10,000 rows: 78,599
cells instead of 673 × 255 = 171,615), and every pass over a histogram is that much shorter:

* **features** that take one value in the whole training set are dropped once per fit;
* **sparse data** (MNIST: ~80 % of the pixels are 0): each feature's most frequent bin is its
  *default* bin, and only the other entries are stored (row by row, like a CSR matrix) and counted;
  the default bin's statistics are the node's totals minus the rest: ``hist[j, d_j] = total - Σ_{b≠d_j}`` (the other bins summed in order);
* **sibling subtraction**: after a split only the smaller child is counted; the larger child's
  histogram is its parent's minus its sibling's;
* at the root (all rows, no subsample) the entries' flat indices and the count histogram are the
  same for every tree of the fit, so they are built once.

A node's best cut: cumulative sums over the bins give ``count_L, H_L, G_L`` of every cut of every
feature at once (``H`` and ``G`` stay one complex array ``H + i·G`` from the histogram to the
running sums, which then cost one chain of additions instead of two), ``R = total - L``, and the
score ``G_L²/(H_L+λ) + G_R²/(H_R+λ)`` is evaluated on all cuts with ``count ≥ min_samples_leaf``
and ``H ≥ min_child_weight`` on both sides; the largest wins (ties to the lower feature, then the
lower bin). A cut after an empty bin repeats the cut after the non-empty bin before it (same sums,
same score), so the first maximum is always a real cut. The split gain is ``½[G_L²/(H_L+λ) + G_R²/(H_R+λ) - G²/(H+λ)] - γ``; leaves grow best-first (largest gain first)
up to ``max_leaf_nodes``; the leaf weight is ``-G/(H+λ)``. Scores within a relative ``1e-14`` of the
best count as ties (sums of the same rows in a different order differ by rounding only), and a gain
below ``1e-14`` of the score is no gain (a node whose rows all share one ``g/h`` is not split).

**Missing values** (NaN: their own last bin) are handled on the full-grid scan (dense data, up to
``_DENSE_SCAN`` features): each cut is scored with the node's missing rows right and left, and a
cut may send them alone to the right (every present value left, threshold ``inf``); a node without
missing rows sends a NaN at predict time to its larger child. **Categorical features** (same
layout) are searched as the shared builder searches them (:func:`split_categorical`: categories
sorted by ``G/(H + 10)``, scanned from both ends), the ordered ones by the grid scan; the higher
score wins, equal scores the lower feature. Sparse or wide data with missing values or
categorical features take the shared builder.

The trees are the ones :class:`groundup.ml.tree._tree._Builder` grows with histograms (tests check
it; where two different cuts give the same partition, the two may take either).
"""

from __future__ import annotations

import heapq

import numpy as np

from groundup.errors import hint
from groundup.ml.tree._categorical import split_categorical
from groundup.ml.tree._criterion import NewtonGain
from groundup.ml.tree._levelwise import _preorder, _renumber
from groundup.ml.tree._tree import Tree

_TIE = 1e-14  # relative difference of scores below which two cuts are taken as equally good
_PACK_WIDTHS = (8, 32, 128)  # row widths of the packed non-empty bins (see best_cut)
_PRUNE_FIRST = 16  # features scanned before the bound prunes the others (see best_cut)
_BOUND_SLACK = 1e-9  # margin on a bound, relative to Σ G_b²/H_b: far above the rounding of the sums
_BLOCK = 16  # bins per block of the pruning bound
_SPARSE_DENSITY = 0.5  # store only non-default entries below this fraction of non-default values
_DENSE_SCAN = 2 * _PRUNE_FIRST  # up to this many features, scan the full (feature, bin) grid
_SMALL_NODE = 1024  # dense data: nodes of at most this many rows are counted in one call


class HistData:
    """The binned training matrix laid out for fast node histograms (see the module docstring)."""

    def __init__(self, binning):
        codes = binning.codes
        n, p = codes.shape
        nb = binning.n_bins
        self.binning, self.n, self.n_bins = binning, n, nb
        self.missing_code = binning.missing_code if binning.has_missing else None
        self.codes_T = binning.columns()  # (p, n): one feature's codes are contiguous
        lowest, highest = self.codes_T.min(axis=1), self.codes_T.max(axis=1)
        self.features = np.flatnonzero(lowest != highest)  # non-constant features
        q = len(self.features)
        self.q = q
        # bin counts per (kept) feature, one contiguous column at a time
        counts = np.zeros((q, nb), dtype=np.intp)
        for i, f in enumerate(self.features):
            counts[i] = np.bincount(self.codes_T[f], minlength=nb)
        self.default = np.argmax(counts, axis=1)  # the most frequent bin of each feature
        # ragged layout: feature j's bins 0..max code sit at offsets[j] + bin of one flat array
        width = highest[self.features].astype(np.intp) + 1
        offsets = np.concatenate([[0], np.cumsum(width)]).astype(np.intp)
        self.size = int(offsets[-1])
        self.layout = (offsets, np.repeat(np.arange(q), width), nb)
        self.default_cell = offsets[:-1] + self.default
        # a row's entry is non-default where its code differs from the feature's default bin (a
        # constant feature's only value is its default: it has none)
        default_all = lowest.copy()
        default_all[self.features] = self.default
        nondefault = codes != default_all.astype(codes.dtype)
        nnz = nondefault.sum(axis=1)
        self.sparse = bool(q and nnz.sum() < _SPARSE_DENSITY * n * q)
        self.root_count = counts[np.arange(nb) < width[:, None]]  # row-major: the ragged layout
        if self.sparse:
            at = np.flatnonzero(nondefault)  # row-major: entries grouped by row, features in order
            entry_row = np.repeat(np.arange(n), nnz)
            # feature offsets by original index (a constant feature has no entries)
            start = np.zeros(p, dtype=np.intp)
            start[self.features] = offsets[:-1]
            self.keys = codes.ravel()[at] + start[at - entry_row * p]
            self.indptr = np.concatenate([[0], np.cumsum(nnz)])
            self.nnz = nnz
        else:
            # (q, n) flat index of every entry, feature-major: a node's entries are one `take` along
            # the rows of the narrowest integer type; the root's are kept as intp
            small = np.uint16 if self.size <= np.iinfo(np.uint16).max else np.uint32
            self.flat_T = self.codes_T[self.features] + offsets[:-1, None]
            self.flat_T_small = self.flat_T.astype(small)
            self.flat_rows_small = np.ascontiguousarray(self.flat_T_small.T)  # (n, q): small nodes

    @staticmethod
    def pack(g, h):
        """``h + i·g``: a row's hessian and gradient as one complex number, so one pass of
        ``np.add.at`` sums both (bitwise the sums of two ``np.bincount``: the same additions in the
        same order, one per lane)."""
        gh = np.empty(len(g), dtype=np.complex128)
        gh.real = h
        gh.imag = g
        return gh

    def histogram(self, rows, g, h, gh, root=False):
        """``[count, Z]`` per (feature, bin), flat in the ragged layout, of the rows ``rows``:
        ``Z = H + i·G`` (complex, see :meth:`pack`; ``Z.real`` and ``Z.imag`` are ``H`` and ``G``).
        ``gh``: :meth:`pack` of ``g, h``. Sparse data: an entry's weight is its row's ``gh``, repeated
        over the row's entries (``np.repeat``: sequential, several times faster than gathering it
        per entry)."""
        size = self.size
        if self.sparse:
            if root:
                keys = self.keys
                weights = np.repeat(gh, self.nnz)
                count = None  # the root's counts are known: self.root_count
            else:
                lens = self.nnz[rows]
                ends = np.cumsum(lens)
                pos = np.repeat(self.indptr[rows] - (ends - lens), lens)
                pos += np.arange(ends[-1] if len(ends) else 0)
                keys = self.keys[pos]
                weights = np.repeat(gh.take(rows), lens)
                count = np.bincount(keys, minlength=size)
            Z = np.zeros(size, dtype=np.complex128)
            np.add.at(Z, keys, weights)
            # the default bins hold the rest of the node's totals
            d, starts = self.default_cell, self.layout[0][:-1]
            H, G = Z.real, Z.imag
            if root:
                H[d] = h.sum() - np.add.reduceat(H, starts)
                G[d] = g.sum() - np.add.reduceat(G, starts)
                return [self.root_count, Z]
            count[d] = len(rows) - np.add.reduceat(count, starts)
            H[d] = h[rows].sum() - np.add.reduceat(H, starts)
            G[d] = g[rows].sum() - np.add.reduceat(G, starts)
            return [count, Z]
        if not root and len(rows) <= _SMALL_NODE:
            # a few rows: their entries row by row in one call (each cell still sums its rows in
            # increasing order: bitwise the per-feature passes), not one call per feature
            keys = self.flat_rows_small.take(rows, axis=0).astype(np.intp).ravel()
            Z = np.zeros(size, dtype=np.complex128)
            np.add.at(Z, keys, np.repeat(gh.take(rows), self.q))
            return [np.bincount(keys, minlength=size), Z]
        if root:
            flat = self.flat_T
            count = self.root_count  # the same for every tree: never changed in place
            node_gh = gh
        else:
            flat = self.flat_T_small.take(rows, axis=1).astype(np.intp)
            count = np.bincount(flat.ravel(), minlength=size)
            node_gh = gh.take(rows)
        # one feature at a time: the node's packed stats serve every feature without being copied
        Z = np.zeros(size, dtype=np.complex128)
        for keys in flat:
            np.add.at(Z, keys, node_gh)
        return [count, Z]


def _proxy(sums, l2):
    """``G_L²/(H_L+λ) + G_R²/(H_R+λ)`` from ``sums = [H_L, G_L, H_R, G_R]`` (one array, unit-stride
    rows): both sides in one pass per operation."""
    hs, gs = sums[0::2], sums[1::2]  # (left, right) of each
    with np.errstate(divide="ignore", invalid="ignore"):
        both = gs * gs
        both /= hs + l2 if l2 else hs
        return np.add(both[0], both[1], out=both[0])


def _hessian_rule(bad, h_left, h_right, min_child_weight):
    """Mark in ``bad`` the cuts with a side whose hessian sum is below ``min_child_weight`` (not
    positive when it is 0)."""
    if min_child_weight > 0:
        bad |= h_left < min_child_weight
        bad |= h_right < min_child_weight
    else:
        bad |= (h_left <= 0) | (h_right <= 0)


def _scan(count, Z, total, min_samples_leaf, min_child_weight, l2, check_hessian):
    """Scores ``G_L²/(H_L+λ) + G_R²/(H_R+λ)`` of the cut after every bin of every row of the
    histograms ``count`` and ``Z = H + i·G`` (rows: features; bins in order), ``-inf`` where a side
    breaks a rule; and the cumulative ``count_L, H_L, G_L``.

    A running sum is a chain of dependent additions (~4 ns a bin, whatever the vector width): the
    complex one runs the ``H`` and ``G`` chains side by side, in the time of one, bitwise the two
    real running sums. They are then copied apart (NumPy's vector loops want unit strides) and
    both sides are scored in one pass per operation."""
    n, Ht, Gt = total
    cl = count.cumsum(axis=1)  # the methods: np.cumsum's wrapper costs ~1 µs a call
    cz = Z.cumsum(axis=1)
    sums = np.empty((4,) + cz.shape)  # H_L, G_L, H_R, G_R
    hl, gl, hr, gr = sums
    hl[...] = cz.real
    gl[...] = cz.imag
    np.subtract(Ht, hl, out=hr)
    np.subtract(Gt, gl, out=gr)
    score = _proxy(sums, l2)
    room = int(n) - 2 * min_samples_leaf
    if room >= 0 and cl.dtype == np.intp:
        # count_L < min_samples_leaf or count_L > n - min_samples_leaf: one unsigned comparison
        bad = np.subtract(cl, min_samples_leaf).view(np.uintp) > room
    else:
        bad = (cl < min_samples_leaf) | (cl > n - min_samples_leaf)
    if check_hessian:
        _hessian_rule(bad, hl, hr, min_child_weight)
    score[bad] = -np.inf
    return score, cl, hl, gl


def _score_missing_left(cl, hl, gl, total, miss, min_samples_leaf, min_child_weight, l2, check_hessian):
    """Scores of the cuts of :func:`_scan` with the node's missing rows sent left: ``L + M`` and
    ``(total - L) - M``, ``M = (count, H, G)`` of each feature's missing bin (``miss``, columns);
    ``-inf`` where a side breaks a rule or the feature has no missing row here."""
    n, Ht, Gt = total
    mc, mh, mg = miss
    c_left = cl + mc
    sums = np.stack([hl + mh, gl + mg, (Ht - hl) - mh, (Gt - gl) - mg])  # H_L, G_L, H_R, G_R
    score = _proxy(sums, l2)
    bad = (c_left < min_samples_leaf) | ((n - cl) - mc < min_samples_leaf) | (mc == 0)
    if check_hessian:
        _hessian_rule(bad, sums[0], sums[2], min_child_weight)
    score[bad] = -np.inf
    return score, (c_left, sums[0], sums[1])


def _first_best(score, width):
    """``(best, feature, bin)`` of a scored grid: scores within a relative ``_TIE`` of the best are
    ties, won by the lowest feature, then the lowest bin."""
    flat = score.ravel()
    best = float(flat.max())
    j, b = divmod(int(np.argmax(flat >= best - _TIE * abs(best))), width)
    return best, j, b


def _bounds(q, nb, cells, live):
    """An upper bound on the score of every cut of each feature (``-inf`` for features not in
    ``live``, ``inf`` where a non-empty bin has ``H_b ≤ 0``).

    For positive ``H_b``, Cauchy-Schwarz gives ``(Σ_S G_b)²/Σ_S H_b ≤ Σ_S G_b²/H_b`` (bins, or blocks
    of bins, as the terms). Cut the bins into blocks of ``_BLOCK``; a cut inside block ``j`` (or after
    its last bin) leaves on its left the blocks before ``j`` (sums ``A``, ``H_A``) and part of ``j``,
    on its right the rest of ``j`` and the blocks after (``C``, ``H_C``), so, as
    ``G_L²/(H_L+λ) ≤ G_L²/H_L``, its score is at most
    ``A²/H_A + C²/H_C + Σ_{b∈j} G_b²/H_b``; the bound is the largest over ``j``. Rounding of the sums
    is covered by adding ``_BOUND_SLACK·Σ_b G_b²/H_b`` (errors are ~1e-14 of it)."""
    f_cell, bins, _, zv, _, _ = cells
    hv, gv = zv.real, zv.imag
    if not (hv > 0).all():  # rare: no bound for the features with such a bin
        bad = np.bincount(f_cell, weights=~(hv > 0), minlength=q) > 0
        keep = ~bad[f_cell]
        f_cell, bins, hv, gv = f_cell[keep], bins[keep], hv[keep], gv[keep]
    else:
        bad = None
    nblk = -(-nb // _BLOCK)
    key = f_cell * nblk + bins // _BLOCK
    T = np.bincount(key, weights=gv * gv / hv, minlength=q * nblk).reshape(q, nblk)
    Gb = np.bincount(key, weights=gv, minlength=q * nblk).reshape(q, nblk)
    Hb = np.bincount(key, weights=hv, minlength=q * nblk).reshape(q, nblk)
    GA = np.cumsum(Gb, axis=1)
    HA = np.cumsum(Hb, axis=1)
    GC = GA[:, -1:] - GA  # blocks after j
    HC = HA[:, -1:] - HA
    GA -= Gb  # blocks before j
    HA -= Hb
    # H_A = 0 only without bins (then G_A = 0): 0/tiny = 0
    side = GA * GA
    side /= np.maximum(HA, 1e-300)
    GC *= GC
    GC /= np.maximum(HC, 1e-300)
    side += GC
    side += T
    bound = side.max(axis=1)
    bound += _BOUND_SLACK * T.sum(axis=1)
    if bad is not None:
        np.putmask(bound, bad, np.inf)
    np.putmask(bound, ~live, -np.inf)
    return bound


def _scan_features(mask, k, cells, args, widths):
    """Scan the features in ``mask``: a list of ``(features, bins, score, count_L, H_L, G_L)``
    groups, rows in the order of ``features`` (ascending); ``bins`` maps a packed column to its bin.
    ``cells``: ``(f_cell, bin, count, H + i·G, rank, group)`` of every non-empty bin, feature-major."""
    q = len(mask)
    feats = np.flatnonzero(mask)
    f_cell, bins, cv, zv, rank, group = cells
    mine = np.flatnonzero(mask[f_cell])
    g_mine = group[f_cell[mine]]
    groups = []
    for gi, w in enumerate(widths):
        local = feats[group[feats] == gi]
        if len(local) == 0:
            continue
        row = np.zeros(q, dtype=np.intp)
        row[local] = np.arange(len(local))
        sel = mine[g_mine == gi]
        pos = row[f_cell[sel]] * w + rank[sel]
        packed = []
        for v in (cv, zv, bins):
            a = np.zeros(len(local) * w, dtype=v.dtype)
            a[pos] = v[sel]
            packed.append(a.reshape(len(local), w))
        groups.append((local, packed[2], *_scan(*packed[:2], *args)))
    return groups


def _best_cut_dense(count, Z, offsets, nb, total, allowed, min_samples_leaf, min_child_weight,
                    l2, check_hessian, missing=None):
    """:func:`best_cut` on the full ``(feature, bin)`` grid, for few features (no pruning to gain):
    the ragged histograms are spread on a ``(q, W)`` grid, ``W`` the widest feature, zeros in the
    missing bins; a few whole-grid passes beat gathering the non-empty bins for a handful of rows.

    A cut after an empty bin repeats the cut before it (adding 0 leaves a cumulative sum bitwise as
    it was), so the first best cut is a real one, and every score equals the packed scan's. Empty
    bins are zeroed first: after a sibling subtraction they may hold rounding residues, which the
    packed scan never reads (zeroed in place: the histogram only gains exact zeros where it has no
    rows). Cuts with every row on one side (``count_L`` 0 or ``n``) are not cuts.

    ``missing``: the code of missing values (the last bin) when the training data have some. The
    running sums then cover the other bins; every cut is scored with the node's missing rows on
    the right (the cut after a feature's last present value sends the missing rows alone right)
    and on the left, and the left wins only if it scores higher, as the shared tree builder
    decides. Returns ``(score, feature, bin, L, missing_left)``."""
    q = len(offsets) - 1
    if offsets[-1] == q * nb:  # every feature fills all nb bins (no feature is wider)
        W = nb
        c, z = count.reshape(q, W), Z.reshape(q, W)
    else:
        widths = np.diff(offsets)
        W = int(widths.max())
        feature = np.repeat(np.arange(q), widths)
        cell = feature * W + (np.arange(offsets[-1]) - offsets[feature])
        c, z = (np.zeros(q * W, dtype=a.dtype) for a in (count, Z))
        c[cell] = count
        z[cell] = Z
        c, z = c.reshape(q, W), z.reshape(q, W)
    z[c == 0] = 0
    miss = None
    if missing is not None and W > missing:  # some feature has missing values: their bin apart
        mz = z[:, missing:missing + 1]
        miss = (c[:, missing:missing + 1].copy(), mz.real.copy(), mz.imag.copy())
        c, z, W = c[:, :missing], z[:, :missing], missing
    msl = max(min_samples_leaf, 1)
    score, cl, hl, gl = _scan(c, z, total, msl, min_child_weight, l2, check_hessian)
    if allowed is not None:
        score[~allowed] = -np.inf
    # ties (scores equal up to rounding): the lowest feature, then the lowest bin, as best_cut
    best, j, b = _first_best(score, W)
    if miss is not None:
        score_left, sides = _score_missing_left(cl, hl, gl, total, miss, msl, min_child_weight, l2, check_hessian)
        if allowed is not None:
            score_left[~allowed] = -np.inf
        best_left, jl, bl = _first_best(score_left, W)
        # missing rows left only when that scores higher (equal scores: missing right)
        if np.isfinite(best_left) and (not np.isfinite(best) or best_left > best + _TIE * abs(best)):
            return best_left, jl, bl, np.array([a[jl, bl] for a in sides], dtype=np.float64), True
    if not np.isfinite(best):
        return None
    return best, j, b, np.array([cl[j, b], hl[j, b], gl[j, b]], dtype=np.float64), False


def best_cut(hist, total, allowed, min_samples_leaf, min_child_weight, l2, check_hessian=True, layout=None,
             missing=None):
    """Best cut of a node from its histogram: ``(score, local feature, bin, L, missing_left)`` or
    ``None``. ``missing``: the missing values' code (their own last bin; the full-grid scan only).

    ``allowed`` (boolean mask over the local features, or None) restricts the features.
    ``check_hessian=False`` when every row's hessian is at least ``min_child_weight/min_samples_leaf``
    (and positive): then the count rule implies the hessian rule. Up to ``_DENSE_SCAN`` features,
    every cut of the full grid is scored at once (:func:`_best_cut_dense`); for more, as follows.

    **Pruning** (exact): each feature's scores have an upper bound from its blocks of 16 bins
    (:func:`_bounds`, Cauchy-Schwarz). The ``_PRUNE_FIRST`` features of largest bound are scanned
    first; of the others only those whose bound reaches the best score found less the tie margin
    (the bound carries a margin far above rounding) can hold the best cut or tie with it, and only
    they are scanned. ``layout``: ``(offsets, feature of each cell, n_bins)`` of flat ragged
    histograms (:class:`HistData`); None for ``(q, n_bins)`` arrays.

    Only the non-empty bins are scanned: a cut after an empty bin repeats the one before it. Each
    feature's non-empty bins are packed to the left of a row of a width ``w`` (8, 32, 128 or all
    bins: features grouped by how many bins they fill), zeros after them; the cumulative sums along
    a row are then bitwise those of the full histogram (adding 0 changes nothing), and the padding
    cuts have everything on the left, so the count rule rejects them.

    ``hist``: ``[count, Z]``, ``Z = H + i·G`` (:meth:`HistData.histogram`)."""
    count, Z = hist
    if layout is None:  # (q, n_bins) arrays
        q, nb = count.shape
        count, Z = count.ravel(), Z.ravel()
        offsets, cell_feature = np.arange(q + 1) * nb, None
    else:
        offsets, cell_feature, nb = layout
        q = len(offsets) - 1
    if q <= _DENSE_SCAN:
        return _best_cut_dense(count, Z, offsets, nb, total, allowed, min_samples_leaf,
                               min_child_weight, l2, check_hessian, missing)
    if missing is not None:
        raise ValueError(hint(f"best_cut: missing values with {q} features",
                              f"the packed scan has no missing bin; use at most {_DENSE_SCAN} features"))
    cell = np.flatnonzero(count > 0)  # the non-empty bins, feature-major
    f_cell = cell // nb if cell_feature is None else cell_feature[cell]
    k = np.bincount(f_cell, minlength=q)  # non-empty bins per feature
    live = k >= 2
    if allowed is not None:
        live &= allowed
    n_live = int(live.sum())
    if not n_live:
        return None
    args = (total, min_samples_leaf, min_child_weight, l2, check_hessian)
    widths = [w for w in _PACK_WIDTHS if w < nb] + [nb]
    group = np.searchsorted(widths, k)  # the narrowest packing width that holds the feature
    start = np.cumsum(k) - k
    cells = (f_cell, cell - offsets[f_cell], count[cell], Z[cell],
             np.arange(len(cell)) - start[f_cell], group)  # rank: position among the feature's bins
    if n_live <= 2 * _PRUNE_FIRST:
        groups = _scan_features(live, k, cells, args, widths)
    else:
        bound = _bounds(q, nb, cells, live)
        first = np.zeros(q, dtype=bool)
        first[np.argpartition(-bound, _PRUNE_FIRST)[:_PRUNE_FIRST]] = True
        groups = _scan_features(first, k, cells, args, widths)
        best = max(float(sc.max()) for _, _, sc, _, _, _ in groups)
        rest = live & ~first
        if np.isfinite(best):
            # a cut of a pruned feature scores at most bound·(1 + ~1e-13) (rounding of the sums)
            rest &= bound >= best - _TIE * abs(best)
        if rest.any():
            groups += _scan_features(rest, k, cells, args, widths)
    best = max(float(sc.max()) for _, _, sc, _, _, _ in groups)
    if not np.isfinite(best):
        return None
    # cuts whose scores differ by rounding only (the same rows summed in another order) are ties:
    # the lowest feature, then the lowest bin, wins, as in exact arithmetic
    threshold = best - _TIE * abs(best)
    pick = None
    for feats, b, sc, cl, hl, gl in groups:
        flat = sc.ravel()
        i = int(np.argmax(flat >= threshold))
        if flat[i] < threshold:
            continue
        j, c = divmod(i, sc.shape[1])
        if pick is None or feats[j] < pick[0]:
            pick = (int(feats[j]), int(b[j, c]), cl[j, c], hl[j, c], gl[j, c])
    f, bin_, *L = pick
    return best, f, bin_, np.array(L, dtype=np.float64), False


def grow_tree(data, g, h, *, rows=None, l2=0.0, gamma=0.0, max_leaf_nodes=31, max_depth=None,
              min_samples_leaf=20, min_child_weight=1e-3, features=None, learning_rate=1.0, categorical=None):
    """Grow one second-order tree on gradients ``g`` and hessians ``h`` (already times the sample
    weights). ``rows``: the rows used (default all); ``features``: original feature indices allowed
    (colsample). Leaf values are ``learning_rate·(-G/(H+λ))``. Returns ``(tree, leaves)``, ``leaves`` a
    list of ``(node, rows)``."""
    crit = NewtonGain(l2, gamma)
    binning = data.binning
    p = binning.codes.shape[1]
    max_depth = np.inf if max_depth is None else max_depth
    allowed = None
    if features is not None:
        allowed = np.isin(data.features, features)
    # categorical features (a mask over the original features): category subsets found as the shared
    # builder finds them (:func:`split_categorical`), the ordered features by the grid scan
    cat_local = None if categorical is None else np.asarray(categorical)[data.features]
    if cat_local is not None and cat_local.any():
        ordered = ~cat_local if allowed is None else allowed & ~cat_local
        cat_j = np.flatnonzero(cat_local if allowed is None else allowed & cat_local)
        cat_features = data.features[cat_j]
        offsets = data.layout[0]
    else:
        cat_local, ordered = None, allowed
    root = rows is None
    if root:
        rows = np.arange(data.n)
    tree = Tree(p, 1, 1)
    leaves = []
    h_node = h if root else h.take(rows)  # no copy at the root
    total = np.array([len(rows), h_node.sum(), (g if root else g.take(rows)).sum()])
    h_min = float(h_node.min()) if len(rows) else 0.0
    check_hessian = not (h_min > 0 and h_min * min_samples_leaf >= min_child_weight)

    def splittable(n, total, depth):
        return not (depth >= max_depth or n < 2 or n < 2 * min_samples_leaf or total[1] < 2 * min_child_weight)

    def categorical_cut(hist, total):
        """The best category subset of the node (a :class:`Split` with ``cat_left``) or None: the
        categorical features' histograms as the shared builder holds them, ``(q, n_bins, 3)``."""
        count, Z = hist
        block = np.zeros((len(cat_j), binning.n_bins, 3))
        for i, j in enumerate(cat_j):
            cells = slice(offsets[j], offsets[j + 1])
            width = offsets[j + 1] - offsets[j]
            block[i, :width, 0] = count[cells]
            block[i, :width, 1] = Z.real[cells]
            block[i, :width, 2] = Z.imag[cells]
        return split_categorical(block, total, cat_features, crit, min_samples_leaf, min_child_weight,
                                 cat_features.astype(np.uint64))

    def evaluate(node, rows, total, hist):
        """The node's split (gain, feature, bin, L, R, missing_left, category split or None) or None."""
        cat = categorical_cut(hist, total) if cat_local is not None and len(cat_j) else None
        found = best_cut(hist, total, ordered, min_samples_leaf, min_child_weight, l2, check_hessian,
                         data.layout, data.missing_code)
        if cat is not None and (found is None or cat.proxy > found[0]
                                or (cat.proxy == found[0] and cat.feature < data.features[found[1]])):
            # the shared builder's rule: the higher score; equal scores, the lower feature
            score, L, R = cat.proxy, cat.left_stats, cat.right_stats
            gain = float(crit.gain(total, score))
            if gain <= _TIE * abs(score):
                return None
            return gain, int(np.searchsorted(data.features, cat.feature)), 0, L, R, False, cat
        if found is None:
            return None
        score, j, b, L, missing_left = found
        R = total - L
        # the scan's score is bitwise crit.proxy(L, R): the same operations on the same sums
        gain = float(crit.gain(total, score))
        # a gain at the rounding level (a node whose rows all have the same g/h) is no gain
        if gain <= _TIE * abs(score):
            return None
        return gain, j, b, L, R, missing_left, None

    def add(rows, total, depth, parent, is_left):
        return tree._add_node(parent, is_left, len(rows), float(total[1]), float(crit.impurity(total)),
                              crit.value(total).ravel(), total)

    node = add(rows, total, 0, None, False)
    heap, counter = [], 0
    split = None
    gh = data.pack(g, h)
    if splittable(len(rows), total, 0):
        hist = data.histogram(rows, g, h, gh, root=root)
        split = evaluate(node, rows, total, hist)
    if split is None:
        leaves.append((node, rows))
    else:
        heapq.heappush(heap, (-split[0], counter, node, rows, total, 0, split, hist))
    n_leaves = 1
    limit = np.inf if max_leaf_nodes is None else max_leaf_nodes
    lists = tree._lists
    while heap and n_leaves < limit:
        _, _, node, rows, total, depth, split, hist = heapq.heappop(heap)
        gain, j, b, L, R, missing_left, cat = split
        f = int(data.features[j])
        codes = data.codes_T[f].take(rows)
        n_missing = 0
        if cat is not None:  # a category subset; the missing code is one more category
            go_left = cat.cat_left[codes]
            mask = cat.cat_left
            if data.missing_code is not None:
                missing_left = bool(mask[data.missing_code])
                n_missing = int(np.count_nonzero(codes == data.missing_code))
                mask = mask[:-1]
            cat.missing_left = missing_left
            cat.cat_values = binning.lower[f, np.flatnonzero(mask)].astype(np.int64)
        else:
            go_left = codes <= b
            if data.missing_code is not None:
                is_missing = codes == data.missing_code
                n_missing = int(np.count_nonzero(is_missing))
                if missing_left:
                    go_left |= is_missing
        # np.compress: ~3x faster than boolean indexing on a random mask
        left_rows, right_rows = rows.compress(go_left), rows.compress(~go_left)
        if cat is not None:
            tree._set_split(node, cat)
        else:
            lists["feature"][node] = f
            # every present value left, the missing rows alone right: x <= inf (the builder's cut)
            alone = n_missing and not missing_left and len(left_rows) == len(rows) - n_missing
            lists["threshold"][node] = np.inf if alone else float(binning.edges[f][b])
            lists["bin_threshold"][node] = b
        # no missing value in the node: a NaN at predict time follows the larger child
        lists["missing_go_to_left"][node] = (int(missing_left) if n_missing
                                             else int(2 * len(left_rows) > len(rows)))
        n_leaves += 1
        children = []
        for child_rows, child_total, is_left in ((left_rows, L, True), (right_rows, R, False)):
            child = add(child_rows, child_total, depth + 1, node, is_left)
            children.append([child, child_rows, child_total])
        last = n_leaves >= limit  # the children will stay leaves: no need to look for their splits
        want = [not last and splittable(len(c[1]), c[2], depth + 1) for c in children]
        hists = [None, None]
        if any(want):
            s = 0 if len(left_rows) <= len(right_rows) else 1
            hists[s] = data.histogram(children[s][1], g, h, gh)
            if want[1 - s]:  # sibling subtraction (in place: the parent is done with its histogram)
                hists[1 - s] = [np.subtract(a, c, out=a if a is not data.root_count else None)
                                for a, c in zip(hist, hists[s])]
        del hist
        for (child, child_rows, child_total), w, hh in zip(children, want, hists):
            sp = evaluate(child, child_rows, child_total, hh) if w else None
            if sp is None:
                leaves.append((child, child_rows))
            else:
                counter += 1
                heapq.heappush(heap, (-sp[0], counter, child, child_rows, child_total, depth + 1, sp, hh))
    for item in heap:  # never expanded: leaves after all
        leaves.append((item[2], item[3]))
    tree = tree._finalize()
    tree.value *= learning_rate
    if max_leaf_nodes is None:  # number the nodes in preorder, as the depth-first builder does
        pre = _preorder(tree)
        _renumber(tree, pre)
        leaves = [(int(pre[nd]), r) for nd, r in leaves]
    return tree, leaves
