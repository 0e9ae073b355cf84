"""Keeping a long-running process small on the box: glibc's malloc tuned before its threads.

glibc gives each thread that allocates a malloc arena of its own, which keeps what it freed
(the kiosk has a dozen threads: the devices, the till, the shop's records, the picture work);
one arena is enough behind Python's GIL. A block it once mapped for itself (a login's 16 MiB
scrypt check in the web, a 1600 x 1200 photo decoded by Pillow in the kiosk) raises its mmap
threshold to that size, so the next such blocks come from the heap and stay resident after they
are freed: a fixed threshold gives big blocks back to the system when freed. And free pages in
the middle of the heap stay resident until `give_back` hands them back. Elsewhere than glibc
(musl, macOS) nothing is tuned.
"""

from __future__ import annotations

import ctypes
from functools import cache
from typing import Any

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
#: Blocks from this size up are mapped on their own and unmapped when freed.
MMAP_THRESHOLD = 256 * 1024


@cache
def _libc() -> Any:
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        libc.malloc_trim.argtypes = (ctypes.c_size_t,)
    except (OSError, AttributeError):
        return None
    return libc


def keep_small() -> bool:
    """Tune malloc for this process, before its threads start; False when the C library is not
    glibc."""
    libc = _libc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        libc.mallopt(_M_ARENA_MAX, 1)
    )


def give_back() -> bool:
    """Return the heap's free pages to the system (a few milliseconds): after a burst of work,
    when nobody waits. False when nothing could be returned or the C library is not glibc."""
    libc = _libc()
    return libc is not None and bool(libc.malloc_trim(0))
