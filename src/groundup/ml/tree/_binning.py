"""Code each feature as small integers once, so every node's split search is integer arithmetic.

Two codings share one layout. *Exact* coding ranks the distinct values of a feature (lossless:
every threshold between distinct values stays available). *Histogram* coding cuts a feature with
more than ``max_bins`` distinct values at quantiles. Each bin remembers the smallest and largest
training value it holds, so a split between bins ``b`` and the next non-empty bin ``b'`` of a node
gets the threshold ``(upper[b] + lower[b'])/2`` — the midpoint between neighbouring training values,
as an exact tree places it. Missing values (NaN) get their own last code ``n_bins - 1``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from joblib import effective_n_jobs


@dataclass
class Binning:
    """Integer codes of a training matrix plus each bin's value range.

    ``codes[i, j]`` is the bin of ``X[i, j]``; ``lower[j, b]``/``upper[j, b]`` the smallest/largest
    training value in bin ``b`` of feature ``j``; ``n_bins`` the width of the code space (including
    the missing bin when ``has_missing``); ``edges[j]`` the cut points used to code new data.
    """

    codes: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    n_bins: int
    has_missing: bool
    edges: list
    n_bins_feature: np.ndarray
    _columns: np.ndarray | None = field(default=None, repr=False, compare=False)
    _above_lowest: tuple | None = field(default=None, repr=False, compare=False)

    def columns(self) -> np.ndarray:
        """The codes column by column, ``columns()[j, i] == codes[i, j]`` (made once, then kept):
        a node's rows listed in increasing order read one feature's codes forwards through a
        single short column instead of one cache line per row."""
        if self._columns is None:
            self._columns = np.ascontiguousarray(self.codes.T)
        return self._columns

    def above_lowest(self) -> np.ndarray | None:
        """Per row, the features whose code is above the feature's lowest (``codes[i, j] > 0``) as a
        bitset (64 features a ``uint64`` word, in ``np.packbits`` order), when most codes are the
        lowest (sparse data such as pixels); ``None`` otherwise (made once, then kept). Stored word
        by word, shape ``(n_words, n_rows)`` (row ``i``'s bitset is column ``i``): a node's rows then
        read each word forwards, and its OR runs along long rows. OR-ed over a node's rows, a zero bit
        marks a feature that is constant (at its lowest value) in the node."""
        if self._above_lowest is None:
            above = self.codes != 0
            bits = None
            if above.mean() <= 0.5:
                # padded to whole 64-bit words: a node's OR runs over words, not bytes
                packed = np.packbits(above, axis=1)
                n_words = -(-packed.shape[1] // 8)
                bits = np.zeros((len(packed), 8 * n_words), dtype=np.uint8)
                bits[:, : packed.shape[1]] = packed
                bits = np.ascontiguousarray(bits.view(np.uint64).T)
            self._above_lowest = (bits,)
        return self._above_lowest[0]

    def memory_map(self, folder) -> None:
        """Move the large arrays (codes, their columns, the bitsets) to read-only memory maps of
        ``.npy`` files written once in ``folder``. joblib's process backend then sends a worker a
        reference to each file, instead of hashing (and comparing) ~100 MB per batch of work."""
        from pathlib import Path

        def mapped(name, a):
            if a is None:
                return None
            path = Path(folder) / f"{name}.npy"
            np.save(path, a)
            return np.load(path, mmap_mode="r")

        self.codes = mapped("codes", self.codes)
        self._columns = mapped("columns", self.columns())
        self._above_lowest = (mapped("above_lowest", self.above_lowest()),)

    @property
    def missing_code(self) -> int:
        return self.n_bins - 1

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Code new data with the training bins: bin ``b`` holds ``edges[b-1] < x <= edges[b]``."""
        codes = np.empty(X.shape, dtype=self.codes.dtype)
        for j, edges in enumerate(self.edges):
            col = X[:, j]
            codes[:, j] = np.searchsorted(edges, col, side="left")
            if self.has_missing:
                codes[np.isnan(col), j] = self.missing_code
        return codes


def _code_dtype(n_bins: int):
    return np.uint8 if n_bins <= 256 else np.uint16 if n_bins <= 65536 else np.int32


_BLOCK = 64  # columns coded per block (one transposed copy of the block: contiguous columns)


def bin_features(X: np.ndarray, max_bins: int | None = None, subsample: int | None = None, rng=None,
                 n_jobs: int | None = None):
    """Code ``X`` per feature: ranks of distinct values (``max_bins=None`` or few values) or quantiles.

    With ``max_bins`` set, a feature with more distinct values is cut at the midpoints of
    ``max_bins`` quantiles (computed on at most ``subsample`` rows), like LightGBM and scikit-learn's
    histogram boosting. Columns are coded in blocks, each block copied column-major first (every
    column then reads contiguous memory, and the codes come out column-major as well, see
    :meth:`Binning.columns`). ``n_jobs`` threads sort and code columns at once (NumPy's sorts and
    binary searches release the GIL); the codes do not depend on it, nor does the use of ``rng``.
    """
    n, p = X.shape
    has_missing = bool(np.isnan(X).any())
    blocks = [np.arange(j, min(p, j + _BLOCK)) for j in range(0, p, _BLOCK)] or [np.arange(0)]
    workers = min(effective_n_jobs(n_jobs), p) if n_jobs not in (None, 1) else 1
    if workers > 1 and len(blocks) > 1 and (max_bins is None or subsample is None):
        # many columns, no random draws: whole blocks in threads (fewer, larger tasks)
        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(lambda cols: _bin_block(X, cols, max_bins, subsample, rng, has_missing, map),
                                  blocks))
    elif workers > 1:  # the columns of each block in threads, the random draws between, in order
        with ThreadPoolExecutor(workers) as pool:
            parts = [_bin_block(X, cols, max_bins, subsample, rng, has_missing, pool.map) for cols in blocks]
    else:
        parts = [_bin_block(X, cols, max_bins, subsample, rng, has_missing, map) for cols in blocks]
    return _merge(parts, blocks, n, p, has_missing)


def _distinct(sorted_values):
    """The distinct values of a sorted array (``np.unique`` without its sort)."""
    if len(sorted_values) == 0:
        return sorted_values
    keep = np.empty(len(sorted_values), dtype=bool)
    keep[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=keep[1:])
    return sorted_values[keep]


def _quantile_edges(sample, distinct, max_bins):
    """Cut points at ``max_bins`` quantiles of ``sample`` and each bin's first/last distinct value."""
    # scikit-learn's rule (1.5+): averaged inverted CDF, i.e. midpoints at ties of the ECDF
    qs = np.percentile(sample, np.linspace(0, 100, max_bins + 1)[1:-1], method="averaged_inverted_cdf")
    edges = np.unique(qs)
    stops = np.searchsorted(distinct, edges, side="right")
    starts = np.concatenate([[0], stops])
    ends = np.concatenate([stops, [len(distinct)]]) - 1
    keep = ends >= starts
    lo = np.where(keep, distinct[np.minimum(starts, len(distinct) - 1)], np.inf)
    hi = np.where(keep, distinct[np.maximum(ends, 0)], -np.inf)
    return edges, (lo, hi)


def _bin_block(X, cols, max_bins, subsample, rng, has_missing, run):
    """:class:`Binning` of the columns ``cols`` of ``X`` (codes made column-major); ``run``: a
    ``map`` over columns (a thread pool's, or the built-in). One sort per column gives both its
    distinct values and (unless subsampled) the sorted data its quantiles are read from; the random
    draws of ``subsample`` rows happen in column order, outside the threads."""
    n = X.shape[0]
    XT = np.ascontiguousarray(X[:, cols].T)
    present = [col[~np.isnan(col)] for col in XT] if has_missing else list(XT)
    ordered = list(run(np.sort, present))
    distinct = [_distinct(s) for s in ordered]
    samples = [None] * len(present)  # the sorted values (or a subsample) a quantile feature is cut on
    for j, (values, sorted_values, d) in enumerate(zip(present, ordered, distinct)):
        if max_bins is not None and len(d) > max_bins:
            samples[j] = sorted_values
            if subsample is not None and len(values) > subsample:
                gen = rng if rng is not None else np.random.default_rng(0)
                samples[j] = gen.choice(values, subsample, replace=False)

    def edges_of(j):
        if samples[j] is None:  # cut halfway between neighbouring distinct values: lossless
            d = distinct[j]
            return (d[:-1] + d[1:]) / 2.0, (d, d)
        return _quantile_edges(samples[j], distinct[j], max_bins)

    per_feature, ranges = zip(*run(edges_of, range(len(present)))) if len(present) else ((), ())
    widest = max((len(e) + 1 for e in per_feature), default=1)
    n_bins = widest + (1 if has_missing else 0)
    columns = np.empty((len(cols), n), dtype=_code_dtype(n_bins))

    def code(j):
        col = XT[j]
        c = np.searchsorted(per_feature[j], col, side="left")
        if has_missing:
            c[np.isnan(col)] = n_bins - 1
        columns[j] = c

    for _ in run(code, range(len(present))):
        pass
    lower = np.full((len(cols), n_bins), np.inf)
    upper = np.full((len(cols), n_bins), -np.inf)
    for j, (lo, hi) in enumerate(ranges):
        lower[j, : len(lo)] = lo
        upper[j, : len(hi)] = hi
    n_bins_feature = np.array([len(e) + 1 for e in per_feature], dtype=np.intp)
    return Binning(columns.T, lower, upper, n_bins, has_missing, list(per_feature), n_bins_feature, columns)


def _merge(parts, blocks, n, p, has_missing):
    """One :class:`Binning` from the binnings of blocks of columns (the widest code space wins)."""
    edges = [None] * p
    for part, cols in zip(parts, blocks):
        for j, e in zip(cols, part.edges):
            edges[j] = e
    widest = max((len(e) + 1 for e in edges), default=1)
    n_bins = widest + (1 if has_missing else 0)
    columns = np.empty((p, n), dtype=_code_dtype(n_bins))
    lower = np.full((p, n_bins), np.inf)
    upper = np.full((p, n_bins), -np.inf)
    for part, cols in zip(parts, blocks):
        c = part.columns()
        if has_missing and part.n_bins != n_bins:
            c = np.where(c == part.missing_code, n_bins - 1, c)
        if len(cols):
            columns[cols[0] : cols[-1] + 1] = c
        k = part.n_bins - (1 if part.has_missing else 0)  # present-value bins of the block
        lower[cols, :k] = part.lower[:, :k]
        upper[cols, :k] = part.upper[:, :k]
    n_bins_feature = np.array([len(e) + 1 for e in edges], dtype=np.intp)
    codes = np.ascontiguousarray(columns.T)
    return Binning(codes, lower, upper, n_bins, has_missing, edges, n_bins_feature, columns)


def take2d(a: np.ndarray, rows, cols) -> np.ndarray:
    """``a[rows, cols]`` (index arrays broadcast together) as one 1-D ``take`` on the flat C-order
    array: several times faster than NumPy's general 2-D fancy indexing on the hot gathers."""
    a = np.ascontiguousarray(a)
    idx = np.asarray(rows, dtype=np.intp) * a.shape[1]
    idx = idx + np.asarray(cols, dtype=np.intp)
    return a.ravel().take(idx)
