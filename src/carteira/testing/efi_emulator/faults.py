"""Fault injection: failures on demand for the next calls, counted under a small lock of their own."""

from __future__ import annotations

import threading
from typing import Literal

Before = Literal["timeout"] | tuple[int, int] | None


class Faults:
    """Queued faults for the next non-auth API calls, consumed in the order the calls arrive."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: list[tuple[int, int]] = []
        self._timeouts = 0
        self._lost = 0

    def fail_next(self, n: int, status: int, code: int) -> None:
        """The next `n` calls answer `status` with an Efí error body of `code`, doing nothing."""
        with self._lock:
            self._failures.extend([(status, code)] * n)

    def timeout_next(self, n: int) -> None:
        """The next `n` calls never answer and do nothing."""
        with self._lock:
            self._timeouts += n

    def lose_next_response(self, n: int) -> None:
        """The next `n` calls do their work, then their answer is lost."""
        with self._lock:
            self._lost += n

    def before(self) -> Before:
        """Take the fault (if any) that strikes before the work: a timeout, or a (status, code) failure."""
        with self._lock:
            if self._timeouts:
                self._timeouts -= 1
                return "timeout"
            if self._failures:
                return self._failures.pop(0)
        return None

    def after(self) -> bool:
        """Take a "response lost" fault, if one is queued."""
        with self._lock:
            if self._lost:
                self._lost -= 1
                return True
        return False

    def clear(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._failures.clear()
            self._timeouts = self._lost = 0
