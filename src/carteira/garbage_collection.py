"""Pausing CPython's cyclic garbage collector around bulk work that the caller owns (decision 0500).

carteira's records hold no reference cycles, yet building a hundred thousand of them with the collector
on triggers full collections that walk every record built so far, again and again: a third or more of
``parse_return``'s time and of a bulk load's (``docs/performance.md``). No library call switches the
collector off: the collector belongs to the process, and a library embedded in a web worker with many
threads must leave it alone. A caller that owns its process (a script, a night job, a ``carteira``
command) can hold the pause around its own bulk work with :func:`paused_collection`.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused_collection"]

_lock = threading.Lock()
_holders = 0  # how many paused_collection blocks are open, in every thread
_restore = False  # whether the collector was on when the first of them opened


@contextmanager
def paused_collection() -> Iterator[None]:
    """Turn CPython's automatic garbage collection off for the block, and restore it as it was found.

    The pause is **process-wide**, as the collector is: every thread runs without automatic
    collection until the block ends. Hold it in a script or a job that owns its process, around bulk
    work (``parse_return`` of a large file, a ``put_many`` of 100,000 installments, a settle loop),
    not in a web worker that serves other requests meanwhile.

    Blocks nest, also across threads: the collector comes back on when the last open block ends, and
    only if it was on when the first one began (a collector the caller had turned off stays off). It is
    restored when the block raises too. Nothing is collected on the way out; the next automatic
    collection walks what the block built.
    """
    global _holders, _restore
    with _lock:
        if _holders == 0:
            _restore = gc.isenabled()
            if _restore:
                gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _restore:
                gc.enable()
