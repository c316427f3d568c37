"""The business-day calendar the domain consults (SPEC D2a); a Protocol so users may supply their own."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol

import attrs

from carteira.domain.validation import require_calendar, require_date
from carteira.errors import InvalidInput

__all__ = ["NEXT_BUSINESS_DAY_SEARCH_MAX", "BusinessCalendar", "EveryDayCalendar", "next_business_day"]

# A calendar that declares every day closed would loop forever; no real calendar has 31 closed days in a row.
NEXT_BUSINESS_DAY_SEARCH_MAX = 31


class BusinessCalendar(Protocol):
    """Tells whether a date is a banking business day; ``BrazilBankingCalendar`` is the shipped one.

    The domain functions whose rule needs one (``amount_due``, ``settle``, ``use_credit_letter``)
    take it as a required ``calendar`` argument: a title due on a Saturday and paid on the Monday
    after is on time only with a calendar that knows Saturday is closed (D2).
    """

    def is_business_day(self, day: date, /) -> bool:
        """Whether banks are open for collection on ``day``."""
        ...


@attrs.frozen
class EveryDayCalendar:
    """A calendar on which every day, weekends and holidays included, is a business day.

    For tests and non-Brazilian uses, where no closed day should move a due date. Boletos paid in
    Brazil need :class:`~carteira.BrazilBankingCalendar` (or a calendar of your own) instead.
    """

    def is_business_day(self, day: date, /) -> bool:
        """Always ``True``."""
        return True


def next_business_day(calendar: BusinessCalendar, day: date) -> date:
    """The first business day strictly after ``day``.

    Raises:
        InvalidType: ``calendar`` is not a calendar, ``day`` not a date.
        InvalidInput: the calendar declares more than ``NEXT_BUSINESS_DAY_SEARCH_MAX`` days in a row closed.
    """
    return _next_business_day(require_calendar(calendar), require_date(day, "day"))


def _next_business_day(calendar: BusinessCalendar, day: date) -> date:
    """:func:`next_business_day` on checked arguments."""
    candidate = day
    for _ in range(NEXT_BUSINESS_DAY_SEARCH_MAX):
        if candidate == date.max:
            raise InvalidInput(f"has no day after {date.max.isoformat()}, the last date", field="day")
        candidate += timedelta(days=1)
        if calendar.is_business_day(candidate):
            return candidate
    raise InvalidInput(
        f"has no business day in the {NEXT_BUSINESS_DAY_SEARCH_MAX} days after {day.isoformat()}",
        field="calendar",
        hint="a real calendar is never closed that long",
    )
