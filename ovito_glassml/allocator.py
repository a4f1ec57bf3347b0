"""Keep PyTorch's large CPU buffers on the heap while a D-MPNN trains.

glibc serves an allocation above its mmap threshold (at most 32 MB) with a fresh ``mmap`` and
gives it back to the kernel on ``free``. A training batch of 3D windows holds edge tensors of
tens to hundreds of MB (50 windows of 580 particles with k = 12 are 350 000 directed edges), so
every forward and backward pass maps them again and page-faults them in: in a 3D training of
2 epochs the kernel took 19 s of a 40 s run. With mmap off and the heap left untrimmed, freed
buffers are reused (``benchmarks/bench_allocator.py`` measures the ratio).

:func:`heap_allocation` switches this on for the span of a ``with`` block (or a decorated call)
and restores glibc's defaults afterwards, trimming the heap, so a long-lived process (OVITO, a
test session) gets its memory back. Elsewhere than glibc (macOS, Windows, musl) it does nothing.
The price is memory: freed buffers stay with the process while it trains (peak resident memory
of that 3D training 4.3 GB against 2.4 GB). ``GLASSML_HEAP_ALLOCATION=0`` in the environment
switches it off.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import threading
from functools import lru_cache

# mallopt parameters (malloc.h) and glibc's defaults for them
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
DEFAULT_TRIM_THRESHOLD = 128 * 1024
DEFAULT_MMAP_MAX = 65536
# freed heap memory kept up to this size while the block runs
TRIM_WHILE_HEAP = 1 << 40
#: environment variable that switches heap allocation off when it is "0"
ENVIRONMENT = "GLASSML_HEAP_ALLOCATION"

_lock = threading.Lock()
_depth = 0


@lru_cache(maxsize=1)
def _glibc():
    """The C library if it is glibc (it has ``mallopt`` and ``malloc_trim``), else None."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 (present in glibc only, like the two below)
        libc.mallopt, libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    return libc


def available() -> bool:
    """Whether :func:`heap_allocation` changes anything here (glibc)."""
    return _glibc() is not None


def _set(mmap_max: int, trim_threshold: int) -> None:
    libc = _glibc()
    libc.mallopt(M_MMAP_MAX, mmap_max)
    libc.mallopt(M_TRIM_THRESHOLD, trim_threshold)


@contextlib.contextmanager
def heap_allocation(enabled: bool | None = None):
    """Serve large allocations from the heap, kept untrimmed, inside the block.

    Nested blocks share the outermost one's setting; the defaults come back, and the heap is
    trimmed, when the outermost block ends (also on an exception). ``enabled=None`` follows the
    environment (on unless ``GLASSML_HEAP_ALLOCATION=0``); ``enabled=False`` (or a C library other
    than glibc) makes the block a no-op, which is how a benchmark measures the default. The block
    yields whether it is active.
    """
    global _depth
    if enabled is None:
        enabled = os.environ.get(ENVIRONMENT, "1").strip() != "0"
    active = enabled and available()
    if active:
        with _lock:
            if _depth == 0:
                _set(0, TRIM_WHILE_HEAP)
            _depth += 1
    try:
        yield active
    finally:
        if active:
            with _lock:
                _depth -= 1
                if _depth == 0:
                    _set(DEFAULT_MMAP_MAX, DEFAULT_TRIM_THRESHOLD)
                    _glibc().malloc_trim(0)
