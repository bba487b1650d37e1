"""One matrix product split over groundup's kernel threads.

``gemm(a, b, out)`` computes a (…, P, K) @ b (…, K, M) like ``np.matmul``, always with BLAS on one
thread (:data:`groundup._threads.single_threaded_blas`): the parallelism is groundup's own kernel
threads, as in PyTorch, where ``set_num_threads`` governs its BLAS too. Two thread pools on the
same cores fight — OpenBLAS's idle workers spin after each call, and on a busy 2-core machine an
MLP step took ten times the CPU time with them. With one kernel thread (or a small product) it is
one ``np.matmul``; with several, the product is cut into blocks that the threads compute at once:

- along the output's wider axis (rows P or columns M) when it has at least two blocks: each
  thread owns a band of the output, and every element is the same dot product as unsplit;
- else along the inner axis K: out = Σ_t a[…, :, K_t] @ b[…, K_t, :], the partial products
  summed in a fixed order (so a run repeats exactly; the last bits can differ from the unsplit
  product, as PyTorch's differ between thread counts).
"""

from __future__ import annotations

import numpy as np

from groundup._threads import get_num_threads, parallel_for, single_threaded_blas

BLOCK = 64          # rows, columns or inner-axis entries per unit of work
# Split only products of at least this many multiply-adds (~0.5 ms on one core here): handing
# a slice to another thread and waiting for it costs ~0.05–0.3 ms.
MIN_SPLIT_MACS = 1 << 24


def gemm(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """a (…, P, K) @ b (…, K, M) → (…, P, M) for operands of ≥ 2 dimensions, into ``out`` when
    given (see the module docstring)."""
    P, K = a.shape[-2:]
    M = b.shape[-1]
    batch = max(a.size // (P * K), b.size // (K * M)) if P * K and K * M else 1
    macs = batch * P * K * M
    if get_num_threads() <= 1 or macs < MIN_SPLIT_MACS:
        with single_threaded_blas:
            return np.matmul(a, b, out=out)
    if out is None:
        shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (P, M)
        out = np.empty(shape, np.result_type(a, b))
    blocks = lambda n: -(-n // BLOCK)                              # noqa: E731
    if max(P, M) >= 2 * BLOCK:
        if M >= P:
            def band(s, e):
                s, e = s * BLOCK, min(e * BLOCK, M)
                np.matmul(a, b[..., s:e], out=out[..., s:e])
            parallel_for(blocks(M), band, macs)
        else:
            def band(s, e):
                s, e = s * BLOCK, min(e * BLOCK, P)
                np.matmul(a[..., s:e, :], b, out=out[..., s:e, :])
            parallel_for(blocks(P), band, macs)
        return out
    if K < 2 * BLOCK:
        with single_threaded_blas:
            return np.matmul(a, b, out=out)
    parts = {}

    def inner(s, e):
        s, e = s * BLOCK, min(e * BLOCK, K)
        parts[s] = np.matmul(a[..., s:e], b[..., s:e, :])

    parallel_for(blocks(K), inner, macs)
    starts = sorted(parts)                     # a fixed order: the same sum on every run
    np.copyto(out, parts[starts[0]])
    for s in starts[1:]:
        out += parts[s]
    return out


__all__ = ["gemm"]
