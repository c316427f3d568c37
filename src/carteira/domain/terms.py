"""Charge terms and the amount due on a date (SPEC D1, D2)."""

from __future__ import annotations

import enum
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import attrs

from carteira.domain.calendar import BusinessCalendar, _next_business_day
from carteira.domain.money import _CONTEXT, _LIMIT, Money, _money, beyond_limit, in_context
from carteira.domain.validation import (
    count_field,
    flag_field,
    instance_field,
    money_field,
    rate_field,
    require_calendar,
    require_count,
    require_date,
    require_money,
)
from carteira.errors import InvalidInput

__all__ = ["AmountDue", "ChargeTerms", "Imputation", "InterestMode", "is_on_time"]

_CENT = Decimal("0.01")
_ZERO = Decimal("0.00")
_THIRTY = Decimal(30)
GRACE_DAYS_MAX = 366
DAYS_MAX = (date.max - date.min).days
"""The most days of interest there can be: from the first ``date`` to the last."""


class InterestMode(enum.Enum):
    """How late interest is computed from the monthly rate."""

    PRO_RATA = "pro_rata"
    """``round(P × rate × days / 30)``: the product computed whole, then rounded (the default)."""
    DAILY_AMOUNT = "daily_amount"
    """``round(P × rate / 30) × days``: a rounded amount per day, as boletos registered "R$ per day" and Efí charge."""


class Imputation(enum.Enum):
    """The order in which a partial payment is applied to open balances (Código Civil art. 354)."""

    INTEREST_FINE_PRINCIPAL = "interest_fine_principal"
    """Interest, then fine, then principal: the legal default absent a contract clause."""
    FINE_INTEREST_PRINCIPAL = "fine_interest_principal"
    """Fine, then interest, then principal."""
    PRINCIPAL_INTEREST_FINE = "principal_interest_fine"
    """Principal first, then interest, then fine (only where the contract says so)."""


@attrs.frozen
class ChargeTerms:
    """A contract's late-payment terms: fine and monthly interest rates (``Decimal`` fractions), grace, modes.

    ``fine_rate`` is charged once per installment on the open principal when it goes late;
    ``monthly_interest_rate`` accrues as simple interest per ``interest_mode``; ``grace_days``
    are days after the due date in which nothing is charged (after them, charges run from the
    due date). The domain enforces no legal cap: consumer contracts cap the fine at 2 % (CDC art. 52).
    """

    fine_rate: Decimal = attrs.field(validator=rate_field("fine_rate"))
    monthly_interest_rate: Decimal = attrs.field(validator=rate_field("monthly_interest_rate"))
    grace_days: int = attrs.field(default=0, validator=count_field("grace_days", 0, GRACE_DAYS_MAX))
    interest_mode: InterestMode = attrs.field(
        default=InterestMode.PRO_RATA,
        validator=instance_field(InterestMode, "interest_mode"),
    )
    imputation: Imputation = attrs.field(
        default=Imputation.INTEREST_FINE_PRINCIPAL,
        validator=instance_field(Imputation, "imputation"),
    )

    @in_context
    def fine_on(self, principal: Money) -> Money:
        """The fine on ``principal``, rounded half up to the cent."""
        return _money(self._fine(require_money(principal, "principal").amount))

    @in_context
    def interest_on(self, principal: Money, days: int) -> Money:
        """Simple interest on ``principal`` for ``days`` calendar days, per ``interest_mode``.

        ``days`` is an ``int`` from 0 to :data:`DAYS_MAX`.

        Raises:
            InvalidInput: a negative ``days``, or interest beyond the largest amount, ``Money.MAX``.
        """
        amount = require_money(principal, "principal").amount
        require_count(days, "days", 0, DAYS_MAX)
        interest = self._interest(amount, days)
        if interest > _LIMIT:
            raise beyond_limit("days", f"interest of {interest} on {principal} for {days} days")
        return _money(interest)

    def _fine(self, principal: Decimal) -> Decimal:
        return (principal * self.fine_rate).quantize(_CENT, ROUND_HALF_UP)

    def _interest(self, principal: Decimal, days: int) -> Decimal:
        if days <= 0:
            return _ZERO
        if self.interest_mode is InterestMode.DAILY_AMOUNT:
            daily = (principal * self.monthly_interest_rate / _THIRTY).quantize(_CENT, ROUND_HALF_UP)
            return daily * days
        # The whole product before the division: a pre-rounded daily rate drifts (A12).
        return (principal * self.monthly_interest_rate * days / _THIRTY).quantize(_CENT, ROUND_HALF_UP)


def is_on_time(paid_on: date, due: date, grace_days: int, calendar: BusinessCalendar) -> bool:
    """Whether a payment on ``paid_on`` of a title due on ``due`` bears no charges (D2, Lei 7.089/83).

    On time when ``paid_on <= due + grace_days``, or when ``due`` is not a business day of
    ``calendar`` and ``paid_on`` is on or before the next business day.

    Raises:
        InvalidType: a date that is not a date, ``grace_days`` not an int, ``calendar`` not a calendar.
        InvalidInput: negative ``grace_days``.
    """
    require_date(paid_on, "paid_on")
    require_date(due, "due")
    require_count(grace_days, "grace_days", 0)
    return _on_time(paid_on, due, grace_days, require_calendar(calendar))


def _on_time(paid_on: date, due: date, grace_days: int, calendar: BusinessCalendar) -> bool:
    """:func:`is_on_time` on checked arguments: the settlement's hot path calls this one."""
    if paid_on <= due or (paid_on - due).days <= grace_days:
        return True
    if calendar.is_business_day(due):
        return False
    return paid_on <= _next_business_day(calendar, due)


@attrs.frozen(slots=False)
class AmountDue:
    """What an installment owes on a date: open balances, new charges, and their total.

    ``fine_open`` and ``interest_open`` are balances left by earlier partial payments; ``fine``
    and ``interest`` are the new charges accrued on that date; ``late`` says whether the date is
    past the due date (grace and business days considered) and ``interest_days`` how many
    calendar days of interest were counted. ``total`` is the sum of the five amounts, and a date
    that is not late accrues nothing.
    """

    principal: Money = attrs.field(validator=money_field("principal"))
    fine_open: Money = attrs.field(validator=money_field("fine_open"))
    interest_open: Money = attrs.field(validator=money_field("interest_open"))
    fine: Money = attrs.field(validator=money_field("fine"))
    interest: Money = attrs.field(validator=money_field("interest"))
    total: Money = attrs.field(validator=money_field("total"))
    late: bool = attrs.field(default=False, validator=flag_field("late"))
    interest_days: int = attrs.field(default=0, validator=count_field("interest_days", 0, DAYS_MAX))

    def __attrs_post_init__(self) -> None:
        if not self.late and not (self.fine.is_zero() and self.interest.is_zero() and self.interest_days == 0):
            raise InvalidInput(
                "is False, but fine or interest accrued", field="late", raw=f"{self.fine} {self.interest}"
            )
        total = self.principal.amount
        for part in (self.fine_open, self.interest_open, self.fine, self.interest):
            total = _CONTEXT.add(total, part.amount)  # never the caller's context (decision 0014)
        if total != self.total.amount:
            raise InvalidInput(
                "is not the sum of principal, fine_open, interest_open, fine and interest",
                field="total",
                raw=str(self.total),
            )
