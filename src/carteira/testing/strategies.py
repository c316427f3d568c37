"""Hypothesis strategies for carteira's domain values, for users' property tests.

Every strategy draws integers and maps them, so failures shrink towards R$ 0,00, rate 0 and
early dates. ``st.from_type(Money)`` (and the other registered types) works once hypothesis is
imported, through the ``hypothesis`` entry point (:mod:`carteira.testing.registration`).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from carteira.domain import (
    ChargeTerms,
    Imputation,
    Installment,
    InterestMode,
    Money,
    Payment,
    SettlementPolicy,
    Tolerance,
)

__all__ = [
    "charge_terms",
    "dates",
    "installments",
    "money",
    "payments",
    "policies",
    "rates",
    "tolerances",
]

_MONEY_MAX = Money("1000000.00")
_DATE_MIN = date(2020, 1, 1)
_DATE_MAX = date(2030, 12, 31)


def money(*, min_value: Money = Money.ZERO, max_value: Money = _MONEY_MAX) -> st.SearchStrategy[Money]:
    """Any ``Money`` in [min_value, max_value], drawn as integer cents."""
    if min_value > max_value:
        raise InvalidArgument(f"money(min_value={min_value}, max_value={max_value}): min is above max")
    return st.integers(min_value.cents, max_value.cents).map(Money.from_cents)


def rates(*, max_value: Decimal = Decimal("0.10"), places: int = 4) -> st.SearchStrategy[Decimal]:
    """A ``Decimal`` fraction in [0, max_value] with at most ``places`` decimal places."""
    if not Decimal(0) <= max_value <= Decimal(1):
        raise InvalidArgument(f"rates(max_value={max_value}): must be within [0, 1]")
    scale = 10**places
    top = int(max_value * scale)
    return st.integers(0, top).map(lambda units: Decimal(units).scaleb(-places))


def dates(*, min_value: date = _DATE_MIN, max_value: date = _DATE_MAX) -> st.SearchStrategy[date]:
    """A ``date`` in [min_value, max_value]."""
    return st.dates(min_value=min_value, max_value=max_value)


def charge_terms() -> st.SearchStrategy[ChargeTerms]:
    """Any valid ``ChargeTerms``: fine up to 10 %, interest up to 10 % a month, grace up to 10 days."""
    return st.builds(
        ChargeTerms,
        fine_rate=rates(max_value=Decimal("0.10")),
        monthly_interest_rate=rates(max_value=Decimal("0.10")),
        grace_days=st.integers(0, 10),
        interest_mode=st.sampled_from(InterestMode),
        imputation=st.sampled_from(Imputation),
    )


@st.composite
def _installment(
    draw: st.DrawFn, amount: st.SearchStrategy[Money], terms: st.SearchStrategy[ChargeTerms], customer_id: str
) -> Installment:
    number = draw(st.integers(1, 10_000))
    return Installment(
        f"inst-{number}",
        customer_id,
        draw(dates()),
        draw(amount),
        draw(terms),
        number=1 + number % 60,
        bank_contract=draw(st.none() | st.just("bank-001")),
    )


def installments(
    *,
    amount: st.SearchStrategy[Money] | None = None,
    terms: st.SearchStrategy[ChargeTerms] | None = None,
    customer_id: str = "cust-1",
) -> st.SearchStrategy[Installment]:
    """A new open ``Installment`` (due 2020-2030) of ``amount`` (default R$ 0,01 to R$ 100.000,00)."""
    return _installment(
        amount if amount is not None else money(min_value=Money("0.01"), max_value=Money("100000.00")),
        terms if terms is not None else charge_terms(),
        customer_id,
    )


@st.composite
def _payment(draw: st.DrawFn, installment: Installment | None, max_days_late: int) -> Payment:
    if installment is None:
        amount = draw(money(min_value=Money("0.01"), max_value=Money("100000.00")))
        paid_on = draw(dates())
        adjustments_cap = amount
    else:
        paid_on = installment.due + timedelta(days=draw(st.integers(-30, max_days_late)))
        ceiling = installment.principal_open * 2 + Money("1.00")
        amount = draw(money(min_value=Money("0.01"), max_value=ceiling))
        adjustments_cap = installment.principal_open
    discount = draw(st.just(Money.ZERO) | money(max_value=adjustments_cap))
    abatement = draw(st.just(Money.ZERO) | money(max_value=adjustments_cap - discount))
    return Payment(
        amount=amount,
        paid_on=paid_on,
        credited_on=paid_on + timedelta(days=draw(st.integers(0, 3))),
        discount=discount,
        abatement=abatement,
    )


def payments(*, installment: Installment | None = None, max_days_late: int = 400) -> st.SearchStrategy[Payment]:
    """A ``Payment``; given an ``installment``, a plausible one: early to ``max_days_late``, up to twice its value.

    Discount plus abatement never exceed the installment's open principal.
    """
    return _payment(installment, max_days_late)


def tolerances() -> st.SearchStrategy[Tolerance]:
    """A ``Tolerance`` with either limit set or unset (an absolute amount up to R$ 10, a rate up to 1 %)."""
    return st.builds(
        Tolerance,
        amount=st.none() | money(max_value=Money("10.00")),
        rate=st.none() | rates(max_value=Decimal("0.01")),
    )


def policies(*, closing_date: st.SearchStrategy[date | None] | None = None) -> st.SearchStrategy[SettlementPolicy]:
    """A ``SettlementPolicy`` with any tolerances and switch; no closing date unless a strategy is given."""
    return st.builds(
        SettlementPolicy,
        over=tolerances(),
        under=tolerances(),
        settle_beyond_tolerance=st.booleans(),
        closing_date=closing_date if closing_date is not None else st.none(),
    )
