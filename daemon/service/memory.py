"""Giving freed memory back to the system, which glibc's malloc stops doing in a long-running process.

glibc serves a large allocation (the stories window's arrays: tens of MB) with its own ``mmap`` and
unmaps it when freed, but each such free also raises the size from which it does so, up to 32 MB. After
the window's first merges its arrays came from the heap instead, and the heap does not shrink past what
is still in use above it: measured, a window of 30,000 articles of new text held 218 MB of resident
memory where 99 MB were in use. Fixing the threshold (``mallopt(M_MMAP_THRESHOLD)``) turns that dynamic
raise off: every allocation of 1 MB or more is its own mapping again, returned to the system when freed.
Elsewhere (musl, macOS) nothing is changed.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
THRESHOLD = 1 << 20


def return_large_frees() -> bool:
    """Make glibc unmap freed blocks of ``THRESHOLD`` bytes or more; True when it took the setting."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD))
    log.debug("malloc: blocks of %d bytes or more unmapped when freed: %s", THRESHOLD, done)
    return done
