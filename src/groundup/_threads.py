"""Intra-op parallelism: split a large array kernel over the batch axis onto a few threads.

NumPy runs each ufunc or copy on one core; BLAS already uses all of them. A convolutional layer's
memory-bound steps (im2col copies, pooling, folding columns back) would otherwise leave the other
cores idle while PyTorch uses them all. NumPy releases the GIL inside its loops over large
arrays, so a plain thread pool gets real parallel work out of them: ``parallel_for(n, fn)`` runs
``fn(start, stop)`` on disjoint slices [start, stop) of ``range(n)`` at once, the calling thread
taking the first slice.

BLAS calls inside those slices (the per-slice GEMMs of a convolution) run single-threaded: while a
parallel region runs, NumPy's OpenBLAS is set to one thread and restored afterwards. Two levels
of threads on the same cores would oversubscribe them, and OpenBLAS's idle workers spin for a
while after each call, stealing the core from the slice running beside them.

The number of threads is ``get_num_threads()``: ``GROUNDUP_NUM_THREADS`` when set, else the
number of CPUs this process may run on (PyTorch's default is its physical cores); change it with
``set_num_threads(n)`` (PyTorch's names). Before the GEMMs came under these threads, one thread
was the default: two made a CNN step slower (47.1 vs 44.3 ms on a quiet 2-core machine) because
OpenBLAS's own workers spun between GEMMs. Kernels only split work above
``MIN_PARALLEL_ELEMENTS`` array elements, and give each thread at least half that many: below
it, a hand-off costs more than it saves.
"""

from __future__ import annotations

import ctypes
import os
import threading
from concurrent.futures import ThreadPoolExecutor

MIN_PARALLEL_ELEMENTS = 1 << 18      # ~1 MB of float32: hand-offs cost tens of microseconds


def _default_threads() -> int:
    env = os.environ.get("GROUNDUP_NUM_THREADS", "")
    if env.strip().isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):             # not Linux
        return max(1, os.cpu_count() or 1)


_num_threads = _default_threads()
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_worker = threading.local()                          # marks the pool's own threads


def _forget_pool_in_child() -> None:
    # a forked child inherits the pool object but not its threads: start a fresh one on demand
    # (and no region of the parent's other threads runs in it)
    global _pool, _pool_lock, _blas_lock, _regions
    _pool = None
    _pool_lock = threading.Lock()
    _blas_lock = threading.Lock()
    _regions = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)


def get_num_threads() -> int:
    """Threads a kernel may use (PyTorch's ``torch.get_num_threads``)."""
    return _num_threads


def set_num_threads(n: int) -> None:
    """Use ``n`` ≥ 1 threads for groundup's array kernels (PyTorch's ``torch.set_num_threads``;
    BLAS keeps its own setting, e.g. ``OPENBLAS_NUM_THREADS``)."""
    global _num_threads, _pool
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive int, got {n!r}\n"
                         "help: e.g. set_num_threads(1) for single-threaded kernels")
    with _pool_lock:
        _num_threads = n
        if _pool is not None:
            _pool.shutdown(wait=True)
            _pool = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(_num_threads - 1, 1),
                                       thread_name_prefix="groundup",
                                       initializer=lambda: setattr(_worker, "inside", True))
        return _pool


def _find_openblas():
    """``(set_num_threads, get_num_threads)`` of the OpenBLAS library NumPy uses, or ``None``.

    Found among the libraries this process has loaded (Linux's /proc/self/maps), trying the
    symbol names of NumPy's wheels (scipy-openblas, 64-bit ints) and of a system OpenBLAS."""
    import numpy  # noqa: F401  (loads NumPy's BLAS before the search)
    try:
        with open("/proc/self/maps") as fh:
            paths = {line.split()[-1] for line in fh if "openblas" in line.lower()}
    except OSError:
        return None
    names = [("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
             ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
             ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
             ("openblas_set_num_threads", "openblas_get_num_threads")]
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for set_name, get_name in names:
            if hasattr(lib, set_name) and hasattr(lib, get_name):
                setter, getter = getattr(lib, set_name), getattr(lib, get_name)
                setter.argtypes, setter.restype = [ctypes.c_int], None
                getter.argtypes, getter.restype = [], ctypes.c_int
                return setter, getter
    return None


_blas = None
_blas_searched = False
_blas_lock = threading.Lock()
_regions = 0                                         # parallel regions running (any thread)
_blas_saved = 0                                      # BLAS threads to restore when they end


def _enter_region() -> None:
    """First region in: set OpenBLAS to one thread (remembering its count)."""
    global _blas, _blas_searched, _regions, _blas_saved
    with _blas_lock:
        if not _blas_searched:
            _blas, _blas_searched = _find_openblas(), True
        _regions += 1
        if _regions == 1 and _blas is not None:
            _blas_saved = _blas[1]()
            if _blas_saved > 1:
                _blas[0](1)


def _leave_region() -> None:
    """Last region out: give OpenBLAS its threads back."""
    global _regions
    with _blas_lock:
        _regions -= 1
        if _regions == 0 and _blas is not None and _blas_saved > 1:
            _blas[0](_blas_saved)


class _SingleThreadedBlas:
    """``with single_threaded_blas:`` — NumPy's OpenBLAS computes on one thread inside the block
    (re-entrant, any thread; its own count comes back when the last block ends). groundup's
    products run their BLAS calls this way (:func:`groundup.ops._gemm.gemm`): their parallelism
    is groundup's threads, so that OpenBLAS's workers never wake to spin beside them."""

    __slots__ = ()

    def __enter__(self):
        _enter_region()
        return self

    def __exit__(self, *exc):
        _leave_region()
        return False


single_threaded_blas = _SingleThreadedBlas()


def parallel_for(n: int, fn, elements: int) -> None:
    """Run ``fn(start, stop)`` over contiguous slices covering ``range(n)``, in parallel when the
    kernel touches at least ``MIN_PARALLEL_ELEMENTS`` array ``elements`` (else one call). BLAS
    runs single-threaded while the slices run."""
    k = min(_num_threads, n, elements // max(MIN_PARALLEL_ELEMENTS // 2, 1))
    if k <= 1 or elements < MIN_PARALLEL_ELEMENTS or getattr(_worker, "inside", False):
        fn(0, n)
        return
    bounds = [n * i // k for i in range(k + 1)]
    pool = _executor()
    with single_threaded_blas:
        futures = [pool.submit(fn, bounds[i], bounds[i + 1]) for i in range(1, k)]
        _worker.inside = True                        # a nested parallel_for in our slice: serial
        try:
            fn(bounds[0], bounds[1])
        finally:
            _worker.inside = False
            for f in futures:
                f.result()                           # re-raises a worker's exception here


__all__ = ["get_num_threads", "parallel_for", "set_num_threads", "single_threaded_blas"]
