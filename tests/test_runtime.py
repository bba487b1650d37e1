"""Process-wide runtime settings: the allocator setting made at import (groundup/_allocator.py) and
the kernel thread count (groundup/_threads.py)."""

import os
import platform
import subprocess
import sys

import pytest

glibc = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                           reason="the setting applies to glibc only")


def _tuned_in_subprocess(env_value):
    env = dict(os.environ)
    env.pop("GROUNDUP_MALLOC_TUNING", None)
    if env_value is not None:
        env["GROUNDUP_MALLOC_TUNING"] = env_value
    out = subprocess.run([sys.executable, "-c",
                          "import groundup._allocator as a, groundup; print(a.tuned)"],
                         env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


@glibc
def test_import_keeps_freed_memory_for_reuse():
    assert _tuned_in_subprocess(None) == "True"


@glibc
def test_environment_variable_turns_it_off():
    assert _tuned_in_subprocess("0") == "False"


def test_num_threads_follow_pytorch_names_and_refuse_bad_values():
    import groundup as gu
    from groundup import _threads

    before = gu.get_num_threads()
    try:
        gu.set_num_threads(3)
        assert gu.get_num_threads() == 3
        seen = []
        _threads.parallel_for(10, lambda a, b: seen.append((a, b)), elements=10**9)
        assert sorted(seen) == [(0, 3), (3, 6), (6, 10)]       # disjoint slices covering 0..9
        for bad in (0, -1, 1.5, True):
            with pytest.raises(ValueError, match="set_num_threads"):
                gu.set_num_threads(bad)
    finally:
        gu.set_num_threads(before)


def test_parallel_for_reraises_a_worker_error():
    from groundup import _threads

    def boom(a, b):
        if a > 0:
            raise RuntimeError(f"chunk {a}")

    before = _threads.get_num_threads()
    _threads.set_num_threads(2)
    try:
        with pytest.raises(RuntimeError, match="chunk 4"):
            _threads.parallel_for(8, boom, elements=10**9)
    finally:
        _threads.set_num_threads(before)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_parallel_for_works_in_a_forked_child():
    from groundup import _threads

    before = _threads.get_num_threads()
    _threads.set_num_threads(2)
    try:
        _threads.parallel_for(4, lambda a, b: None, elements=10**9)   # the parent's pool runs
        pid = os.fork()
        if pid == 0:                                                 # child: must not hang
            seen = []
            _threads.parallel_for(4, lambda a, b: seen.append((a, b)), elements=10**9)
            os._exit(0 if sorted(seen) == [(0, 2), (2, 4)] else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        _threads.set_num_threads(before)


def test_thread_count_default_and_environment_variable():
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count()
    for env_value, expected in ((None, str(cpus)), ("3", "3"), ("1", "1")):
        env = dict(os.environ)
        env.pop("GROUNDUP_NUM_THREADS", None)
        if env_value is not None:
            env["GROUNDUP_NUM_THREADS"] = env_value
        code = "import groundup; print(groundup.get_num_threads())"
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True)
        assert out.stdout.strip() == expected


def test_blas_runs_single_threaded_inside_a_parallel_region_and_is_restored_after():
    from groundup import _threads

    blas = _threads._find_openblas()
    if blas is None:
        pytest.skip("NumPy's BLAS is not an OpenBLAS this process can find")
    set_blas, get_blas = blas
    before_blas, before = get_blas(), _threads.get_num_threads()
    set_blas(2)
    _threads.set_num_threads(2)
    try:
        seen = []
        _threads.parallel_for(4, lambda a, b: seen.append(get_blas()), elements=10**9)
        assert seen == [1, 1]
        assert get_blas() == 2
    finally:
        set_blas(before_blas)
        _threads.set_num_threads(before)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("a_shape, b_shape", [
    ((300, 200), (200, 500)),          # wide output: column bands
    ((1000, 200), (200, 90)),          # tall output: row bands
    ((64, 3136), (3136, 100)),         # small output, long inner axis: partial sums
    ((2, 64, 288), (2, 288, 700)),     # batched (grouped) products
    ((64, 288), (3, 288, 400)),        # a broadcast against a batch
])
def test_gemm_split_over_threads_equals_the_plain_product(threads, a_shape, b_shape):
    import numpy as np

    from groundup import _threads
    from groundup.ops._gemm import gemm

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    before = _threads.get_num_threads()
    _threads.set_num_threads(threads)
    try:
        out = gemm(a, b)
        into = np.full(np.matmul(a, b).shape, np.nan)
        gemm(a, b.swapaxes(-1, -2).copy().swapaxes(-1, -2), out=into)   # a strided operand
    finally:
        _threads.set_num_threads(before)
    np.testing.assert_allclose(out, np.matmul(a, b), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(into, np.matmul(a, b), rtol=1e-12, atol=1e-12)


def test_products_run_blas_single_threaded_whatever_the_kernel_thread_count(monkeypatch):
    import numpy as np

    from groundup import _threads
    from groundup.ops._gemm import gemm

    blas = _threads._find_openblas()
    if blas is None:
        pytest.skip("NumPy's BLAS is not an OpenBLAS this process can find")
    set_blas, get_blas = blas
    seen = []
    real = np.matmul

    def spy(*args, **kw):
        seen.append(get_blas())
        return real(*args, **kw)

    before_blas, before = get_blas(), _threads.get_num_threads()
    set_blas(2)
    monkeypatch.setattr(np, "matmul", spy)
    try:
        for threads in (1, 2):
            _threads.set_num_threads(threads)
            gemm(np.ones((8, 8)), np.ones((8, 8)))                 # small: one call
            gemm(np.ones((600, 300)), np.ones((300, 600)))         # split over the threads
        assert len(seen) >= 4 and set(seen) == {1}
        assert get_blas() == 2
    finally:
        set_blas(before_blas)
        _threads.set_num_threads(before)
