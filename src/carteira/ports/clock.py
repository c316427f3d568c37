"""The clock port: services ask it for today instead of reading the system clock."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

__all__ = ["Clock", "SystemClock"]


class Clock(Protocol):
    """Where services get the current date and time; tests pass a ``FixedClock``."""

    def today(self) -> date:
        """The current date in the portfolio's time zone."""
        ...

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    """The real clock, in a fixed time zone (Brasília by default, as banks and Efí date things)."""

    def __init__(self, zone: str = "America/Sao_Paulo") -> None:
        from zoneinfo import ZoneInfo

        self._zone = ZoneInfo(zone)

    def __repr__(self) -> str:
        return f"SystemClock({str(self._zone)!r})"

    def today(self) -> date:
        """Today in the clock's zone."""
        return self.now().date()

    def now(self) -> datetime:
        """Now in the clock's zone."""
        return datetime.now(self._zone)
