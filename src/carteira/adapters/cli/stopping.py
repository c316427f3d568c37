"""How a long-running command stops: SIGINT or SIGTERM ends it after the unit under way, never inside one.

``ops drain --follow`` and ``worker`` own their process while they run: :func:`stop_on_signals`
installs the handlers for as long as they loop and restores the previous ones after, and
:func:`nap` sleeps in short steps so that a signal ends the sleep soon. The library never touches
signals; only these commands do (decision 0605).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["Stopping", "nap", "stop_on_signals"]

_NAP_STEP_S = 0.2
"""The longest a sleeping loop goes without looking for a stop signal."""


class Stopping:
    """A SIGINT or SIGTERM handler: stop after the unit under way (``requested``); a second Ctrl-C at once."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        signal.signal(signal.SIGINT, signal.default_int_handler)


@contextmanager
def stop_on_signals() -> Iterator[Stopping]:
    """Catch SIGINT and SIGTERM while looping (the command owns its process), restoring the handlers after."""
    stopping = Stopping()
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield stopping
        return
    before = {number: signal.signal(number, stopping) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stopping
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)


def nap(seconds: float, stopping: Stopping) -> None:
    """Sleep ``seconds`` in short steps, so that a stop signal ends the sleep soon."""
    deadline = time.monotonic() + seconds
    while not stopping.requested and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, _NAP_STEP_S))
