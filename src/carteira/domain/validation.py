"""Checks on values that come into the domain: a wrong type is ``InvalidType``, a wrong value ``InvalidInput``.

One rule for every constructor and function of the domain: a float where money or a rate belongs,
a bool where a number belongs, a ``str`` where a date belongs, any object of the wrong class, is
:class:`~carteira.errors.InvalidType` (a ``TypeError``); a value of the right type that the rules
refuse (a negative amount, a rate above 1, NaN) is :class:`~carteira.errors.InvalidInput` (a
``ValueError``). Both name the field. The ``*_field`` functions make attrs validators; the
``require_*`` functions check a plain function's argument and return it. Each validator returns at
once for the common, valid value (every row a store loads runs them) and leaves the refusals to the
``require_*`` function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar, cast

from carteira.domain.money import Money, printed, quoted
from carteira.errors import InvalidInput, InvalidType

if TYPE_CHECKING:  # calendar.py checks its own arguments with this module
    from carteira.domain.calendar import BusinessCalendar

__all__: list[str] = []

T = TypeVar("T")
Validator = Callable[[Any, Any, Any], None]
"""An attrs validator: ``(instance, attribute, value)``, raising when ``value`` is refused."""

_ZERO = Decimal(0)
_ONE = Decimal(1)
_SHOWN = 40  # characters of a refused value shown in a message: enough to recognise it


def wrong_type(value: object, field: str, wanted: str, hint: str = "") -> InvalidType:
    """The error for ``value`` where ``wanted`` belongs, naming ``field``."""
    shown = quoted(value, _SHOWN)
    text = f"{field} must be {wanted}, not {type(value).__name__} {shown}"
    return InvalidType(f"{text}: {hint}" if hint else text, field=field)


def require_money(value: object, field: str, *, positive: bool = False, signed: bool = False) -> Money:
    """``value`` if it is ``Money`` of at least zero (more than zero when ``positive``, any sign when ``signed``)."""
    if type(value) is not Money:
        number = isinstance(value, (float, int, Decimal))
        example = f"write Money('{printed(value, 24)}')" if number else "write Money('10.50')"
        raise wrong_type(value, field, "Money", example)
    if signed:
        return value
    amount = value.amount
    if positive and amount <= _ZERO:
        raise InvalidInput("must be more than zero", field=field, raw=str(value))
    if amount < _ZERO:
        raise InvalidInput("must not be negative", field=field, raw=str(value))
    return value


def require_rate(value: object, field: str) -> Decimal:
    """``value`` if it is a finite ``Decimal`` fraction between 0 and 1 (``Decimal('0.02')`` is 2 %)."""
    if not isinstance(value, Decimal):
        hint = f"write Decimal('{printed(value, 24)}')" if isinstance(value, (float, int)) else "2 % is Decimal('0.02')"
        raise wrong_type(value, field, "a Decimal fraction", hint)
    if not value.is_finite() or not _ZERO <= value <= _ONE:
        raise InvalidInput(
            "must be a fraction between 0 and 1", field=field, raw=str(value), hint="2 % is Decimal('0.02')"
        )
    return value


def require_date(value: object, field: str) -> date:
    """``value`` if it is a ``datetime.date`` (a ``datetime`` is refused: comparing it with a date raises later)."""
    if type(value) is date or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    raise wrong_type(value, field, "a datetime.date", "pass date(2025, 3, 10), not a string or a datetime")


def require_instance(value: object, kind: type[T], field: str) -> T:
    """``value`` if it is a ``kind``."""
    if isinstance(value, kind):
        return value
    raise wrong_type(value, field, f"a {kind.__name__}")


def require_items(value: object, kind: type[T], field: str) -> list[T]:
    """``value``'s items as a list, if it is an iterable (not a ``str``) of ``kind``; an item is named ``field[i]``."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise wrong_type(value, field, f"an iterable of {kind.__name__}")
    return [require_instance(item, kind, f"{field}[{index}]") for index, item in enumerate(value)]


def require_calendar(value: object) -> BusinessCalendar:
    """``value`` if it has the ``is_business_day`` method of a :class:`BusinessCalendar` (a class is not one)."""
    if callable(getattr(value, "is_business_day", None)) and not isinstance(value, type):
        return cast("BusinessCalendar", value)
    hint = "pass BrazilBankingCalendar(), or EveryDayCalendar() to ignore closed days (an instance, not the class)"
    raise wrong_type(value, "calendar", "a BusinessCalendar", hint)


def require_count(value: object, field: str, minimum: int, maximum: int | None = None) -> int:
    """``value`` if it is an ``int`` (not a bool) between ``minimum`` and ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise wrong_type(value, field, "an int")
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and {maximum}"
        raise InvalidInput(
            f"must be at least {minimum}" if not upper else f"must be between {minimum}{upper}",
            field=field,
            raw=str(value),
        )
    return value


def money_field(field: str, *, positive: bool = False, optional: bool = False, signed: bool = False) -> Validator:
    """A validator for a ``Money`` field (``None`` allowed when ``optional``); see :func:`require_money`."""

    def check(_instance: object, _attribute: object, value: object) -> None:
        # Every value a store loads runs this for each amount: the common case returns after one comparison.
        if type(value) is Money and (signed or (value.amount > _ZERO if positive else value.amount >= _ZERO)):
            return
        if value is not None or not optional:
            require_money(value, field, positive=positive, signed=signed)

    return check


def rate_field(field: str, *, optional: bool = False) -> Validator:
    """A validator for a rate field (``None`` allowed when ``optional``); see :func:`require_rate`."""

    def check(_instance: object, _attribute: object, value: object) -> None:
        if type(value) is Decimal and value.is_finite() and _ZERO <= value <= _ONE:  # NaN may not be compared
            return
        if value is not None or not optional:
            require_rate(value, field)

    return check


def date_field(field: str, *, optional: bool = False) -> Validator:
    """A validator for a ``datetime.date`` field (``None`` allowed when ``optional``)."""

    def check(_instance: object, _attribute: object, value: object) -> None:
        if type(value) is date:
            return
        if value is not None or not optional:
            require_date(value, field)

    return check


def text_field(field: str, *, optional: bool = False, blank: bool = True) -> Validator:
    """A validator for a ``str`` field (``None`` allowed when ``optional``; only blanks refused unless ``blank``)."""

    def check(_instance: object, _attribute: object, value: object) -> None:
        if type(value) is str and (blank or value.strip()):
            return
        if value is not None or not optional:
            text = require_instance(value, str, field)
            if not blank and not text.strip():
                raise InvalidInput("must not be blank", field=field, raw=repr(text))

    return check


def instance_field(kind: type[Any], field: str, *, optional: bool = False) -> Validator:
    """A validator for a field that must be a ``kind`` (an enum, a record); ``None`` passes when ``optional``."""

    def check(_instance: object, _attribute: object, value: object) -> None:
        if type(value) is kind:
            return
        if value is not None or not optional:
            require_instance(value, kind, field)

    return check


def tuple_field(kind: type[Any], field: str, *, empty: bool = True, blank: bool = True) -> Validator:
    """A validator for a ``tuple`` of ``kind`` (a list is refused: the value must stay hashable).

    ``empty`` says whether ``()`` is allowed; for a tuple of ``str``, ``blank`` whether an item may be blank.
    """

    def check(_instance: object, _attribute: object, value: object) -> None:
        if type(value) is not tuple:
            raise wrong_type(value, field, f"a tuple of {kind.__name__}")
        for item in value:
            if not isinstance(item, kind) or isinstance(item, bool) is not (kind is bool):
                raise wrong_type(item, field, f"a tuple of {kind.__name__}")
            if not blank and isinstance(item, str) and not item.strip():
                raise InvalidInput("must not hold a blank item", field=field, raw=repr(value)[:_SHOWN])
        if not empty and not value:
            raise InvalidInput("must not be empty", field=field)

    return check


def decimal_field(field: str, *, optional: bool = False) -> Validator:
    """A validator for a finite ``Decimal`` whose range an adapter checks (a rate); ``None`` passes if ``optional``."""

    def check(_instance: object, _attribute: object, value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, Decimal):
            raise wrong_type(value, field, "a Decimal", "2 % is Decimal('0.02')")
        if not value.is_finite():
            raise InvalidInput("must be a finite number", field=field, raw=str(value))

    return check


def integer_field(field: str, *, optional: bool = False) -> Validator:
    """A validator for an ``int`` (not a bool) whose range the adapter checks; ``None`` passes when ``optional``."""

    def check(_instance: object, _attribute: object, value: object) -> None:
        if (isinstance(value, bool) or not isinstance(value, int)) and (value is not None or not optional):
            raise wrong_type(value, field, "an int")

    return check


def flag_field(field: str, *, optional: bool = False) -> Validator:
    """A validator for a ``bool`` field (``None`` allowed when ``optional``): ``1`` or ``"yes"`` is not a flag."""

    def check(_instance: object, _attribute: object, value: object) -> None:
        if type(value) is not bool and (value is not None or not optional):
            raise wrong_type(value, field, "a bool")

    return check


def count_field(field: str, minimum: int, maximum: int | None = None, *, optional: bool = False) -> Validator:
    """A validator for an ``int`` field between ``minimum`` and ``maximum`` (``None`` allowed when ``optional``)."""

    def check(_instance: object, _attribute: object, value: object) -> None:
        if type(value) is int and value >= minimum and (maximum is None or value <= maximum):
            return
        if value is not None or not optional:
            require_count(value, field, minimum, maximum)

    return check


def instant_field(field: str, *, optional: bool = False) -> Validator:
    """A validator for a timezone-aware ``datetime`` field (``None`` allowed when ``optional``)."""

    def check(_instance: object, _attribute: object, value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, datetime):
            raise wrong_type(value, field, "a timezone-aware datetime")
        if value.tzinfo is None:
            raise InvalidInput("must be a timezone-aware datetime", field=field, raw=repr(value))

    return check
