"""The emulator's clock: Brasília wall time, frozen on a date for tests or following the system clock."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

#: Efí's timestamps carry no zone; Brasília time (UTC-3, no daylight saving since 2019) is presumed.
BRASILIA = timezone(timedelta(hours=-3), "BRT")


class Clock:
    """Naive Brasília wall time; frozen at `start` (moved only by `advance` and `set_today`) or real when None."""

    def __init__(self, start: datetime | None) -> None:
        self._lock = threading.Lock()
        self._frozen = start
        self._offset = timedelta(0)

    def now(self) -> datetime:
        """The current emulator time, to the second."""
        with self._lock:
            base = self._frozen if self._frozen is not None else datetime.now(BRASILIA).replace(tzinfo=None)
            return (base + self._offset).replace(microsecond=0)

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, with a negative number) by `seconds`."""
        with self._lock:
            self._offset += timedelta(seconds=seconds)

    def set_today(self, today: date) -> None:
        """Freeze the clock on `today`, keeping the time of day, so token lifetimes still count in seconds."""
        current = self.now()
        with self._lock:
            self._frozen = datetime.combine(today, current.time())
            self._offset = timedelta(0)
