"""Keeping the web process small on the box: glibc's malloc tuned before the server's threads.

A login's scrypt check takes 16 MiB at once. glibc then raises its mmap threshold to that size,
so the next such block comes from its heap and stays resident after it is freed (17 MB for the
life of the process), and each server thread gets a malloc arena of its own that keeps freed
memory too. A fixed threshold gives big blocks back to the system when freed, and one arena is
enough behind Python's GIL. Elsewhere than glibc (musl, macOS) nothing is tuned.
"""

from __future__ import annotations

import ctypes

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
#: Blocks from this size up are mapped on their own and unmapped when freed.
MMAP_THRESHOLD = 256 * 1024


def keep_small() -> bool:
    """Tune malloc for this process; False when the C library is not glibc."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_ARENA_MAX, 1))
