"""Fakes for the clock and notifier ports, for users' tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone

import attrs

__all__ = ["FixedClock", "RecordingNotifier", "SentNotice"]


class FixedClock:
    """A clock that says what it is told: ``FixedClock(date(2025, 3, 10))``, moved with :meth:`advance`."""

    def __init__(self, today: date, at: time = time(12, 0), zone: timezone = timezone(timedelta(hours=-3))) -> None:
        self._now = datetime.combine(today, at, tzinfo=zone)

    def __repr__(self) -> str:
        return f"FixedClock({self._now.isoformat()})"

    def today(self) -> date:
        """The fixed date."""
        return self._now.date()

    def now(self) -> datetime:
        """The fixed time, timezone-aware."""
        return self._now

    def advance(self, *, days: int = 0, seconds: float = 0) -> None:
        """Move the clock forward (or back, with negative values)."""
        self._now += timedelta(days=days, seconds=seconds)

    def set(self, today: date) -> None:
        """Jump to ``today``, keeping the time of day."""
        self._now = datetime.combine(today, self._now.timetz())


@attrs.frozen
class SentNotice:
    """One notice a :class:`RecordingNotifier` received."""

    users: tuple[str, ...]
    subject: str
    body: str


class RecordingNotifier:
    """A notifier that keeps every notice in ``sent`` so a test can assert on it."""

    def __init__(self) -> None:
        self.sent: list[SentNotice] = []

    def notify(self, users: Sequence[str], subject: str, body: str) -> None:
        """Record the notice."""
        self.sent.append(SentNotice(tuple(users), subject, body))
