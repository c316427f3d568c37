"""BrazilBankingCalendar: the national banking calendar for boleto collection (SPEC D2a)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

from dateutil.easter import easter

from carteira.errors import InvalidInput

__all__ = ["BrazilBankingCalendar"]

_FIXED_HOLIDAYS = ((1, 1), (4, 21), (5, 1), (9, 7), (10, 12), (11, 2), (11, 15), (12, 25))
_BLACK_CONSCIOUSNESS_FROM = 2024  # Lei 14.759/2023 made 20 Nov national from 2024 on.


@lru_cache(maxsize=256)
def _national_holidays(year: int) -> frozenset[date]:
    """National banking holidays of ``year``: fixed dates, Good Friday, Carnival Mon/Tue, Corpus Christi."""
    sunday = easter(year)
    days = {date(year, month, day) for month, day in _FIXED_HOLIDAYS}
    days |= {
        sunday - timedelta(days=48),  # Carnival Monday
        sunday - timedelta(days=47),  # Carnival Tuesday
        sunday - timedelta(days=2),  # Good Friday
        sunday + timedelta(days=60),  # Corpus Christi
    }
    if year >= _BLACK_CONSCIOUSNESS_FROM:
        days.add(date(year, 11, 20))
    return frozenset(days)


class BrazilBankingCalendar:
    """Weekends, national holidays (20 Nov from 2024), Good Friday, Carnival and Corpus Christi are closed.

    ``close_last_business_day`` (default on) also closes the year's last business day, when banks
    give no public service (CMN Res. 2.596/99); ``extra_holidays`` adds local dates (state or
    municipal holidays of the place of payment). Pure: built on ``dateutil.easter`` only.
    """

    __slots__ = ("_close_last", "_extra")

    def __init__(self, close_last_business_day: bool = True, extra_holidays: Iterable[date] = ()) -> None:
        extra = tuple(extra_holidays)
        for index, day in enumerate(extra):
            if not isinstance(day, date):
                raise InvalidInput(f"item {index} is a {type(day).__name__}, not a date", field="extra_holidays")
        self._close_last = bool(close_last_business_day)
        self._extra = frozenset(extra)

    def __repr__(self) -> str:
        return (
            f"BrazilBankingCalendar(close_last_business_day={self._close_last}, extra_holidays={sorted(self._extra)!r})"
        )

    def _open(self, day: date) -> bool:
        return day.weekday() < 5 and day not in _national_holidays(day.year) and day not in self._extra

    def _last_business_day(self, year: int) -> date:
        day = date(year, 12, 31)
        while not self._open(day):
            day -= timedelta(days=1)
        return day

    def is_business_day(self, day: date, /) -> bool:
        """Whether banks collect on ``day``."""
        if not self._open(day):
            return False
        return not (self._close_last and day.month == 12 and day == self._last_business_day(day.year))
