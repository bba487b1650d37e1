"""Keep freed array memory in the process instead of handing it back to the OS (glibc only).

Why: a training step allocates and frees the same multi-megabyte arrays (activations, gradients,
im2col columns) every step. By default glibc serves blocks above a dynamic threshold with
``mmap`` and returns them with ``munmap`` on free, so each step's fresh arrays are new pages from
the kernel: one page fault, and the kernel zeroing 4 KB, per page touched. On the course's CNN
that was about a quarter of the step's CPU time. Raising ``M_MMAP_THRESHOLD`` to its ceiling
(32 MB) and ``M_TRIM_THRESHOLD`` to 256 MB lets such blocks be reused from the heap; the peak
memory is unchanged (it is what the program needs at once), freed memory is simply kept for the
next step.

Set ``GROUNDUP_MALLOC_TUNING=0`` in the environment to leave the allocator alone. Elsewhere than
Linux with glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20        # glibc's largest accepted value on 64-bit systems
TRIM_THRESHOLD = 256 << 20

tuned = False


def tune_allocator() -> bool:
    """Apply the settings above once; returns whether they are in effect."""
    global tuned
    if tuned:
        return True
    if os.environ.get("GROUNDUP_MALLOC_TUNING", "1") == "0":
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
        ok = libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
    except (OSError, AttributeError):
        return False
    tuned = ok
    return ok
