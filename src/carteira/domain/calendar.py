"""The business-day calendar the domain consults (SPEC D2a); a Protocol so users may supply their own."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol

__all__ = ["NEXT_BUSINESS_DAY_SEARCH_MAX", "BusinessCalendar", "next_business_day"]

# A calendar that declares every day closed would loop forever; no real calendar has 31 closed days in a row.
NEXT_BUSINESS_DAY_SEARCH_MAX = 31


class BusinessCalendar(Protocol):
    """Tells whether a date is a banking business day; ``BrazilBankingCalendar`` is the shipped one."""

    def is_business_day(self, day: date, /) -> bool:
        """Whether banks are open for collection on ``day``."""
        ...


def next_business_day(calendar: BusinessCalendar, day: date) -> date:
    """The first business day strictly after ``day``.

    Raises:
        ValueError: the calendar declares more than ``NEXT_BUSINESS_DAY_SEARCH_MAX`` days in a row closed.
    """
    candidate = day
    for _ in range(NEXT_BUSINESS_DAY_SEARCH_MAX):
        candidate += timedelta(days=1)
        if calendar.is_business_day(candidate):
            return candidate
    raise ValueError(
        f"the calendar has no business day in the {NEXT_BUSINESS_DAY_SEARCH_MAX} days after {day.isoformat()}"
    )
