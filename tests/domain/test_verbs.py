"""One shape for every verb: the installment first, the instrument, the policy, the rest by keyword; the calendar
required where D2 needs it; one result family (`SettlementResult`)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira import BrazilBankingCalendar
from carteira.domain import (
    ChargeTerms,
    CreditLetter,
    EveryDayCalendar,
    Installment,
    Money,
    OutcomeKind,
    Payment,
    Reversal,
    SettlementOutcome,
    SettlementPolicy,
    SettlementResult,
    amount_due,
    reverse,
    settle,
    use_credit_letter,
)

TERMS = ChargeTerms(Decimal("0.02"), Decimal("0.01"))
BRAZIL = BrazilBankingCalendar()
SATURDAY = date(2025, 3, 8)
MONDAY = date(2025, 3, 10)
LENIENT = SettlementPolicy(settle_beyond_tolerance=True)


def _due_on_saturday(amount: str = "100.00") -> Installment:
    return Installment("i1", "c1", SATURDAY, Money(amount), TERMS)


def test_the_dates_are_what_the_tests_say() -> None:
    assert (SATURDAY.weekday(), MONDAY.weekday()) == (5, 0)
    assert not BRAZIL.is_business_day(SATURDAY)


def test_a_title_due_on_saturday_paid_on_monday_is_on_time_with_the_brazilian_calendar() -> None:
    installment = _due_on_saturday()
    due = amount_due(installment, on=MONDAY, calendar=BRAZIL)
    assert (due.late, due.total) == (False, Money("100.00"))
    outcome = settle(installment, Payment(Money("100.00"), MONDAY), SettlementPolicy(), calendar=BRAZIL)
    assert outcome.kind is OutcomeKind.FULL
    assert outcome.settlement is not None
    assert (outcome.settlement.fine, outcome.settlement.interest) == (Money.ZERO, Money.ZERO)
    # Tuesday is past the next business day: the fine and two days of interest are charged.
    late = amount_due(installment, on=date(2025, 3, 11), calendar=BRAZIL)
    assert (late.fine, late.interest) == (Money("2.00"), Money("0.10"))


def test_a_letter_used_on_monday_for_a_saturday_title_pays_no_charge() -> None:
    letter = CreditLetter("L1", "c1", Money("500.00"), "origin", date(2025, 3, 1))
    outcome = use_credit_letter(_due_on_saturday(), letter, SettlementPolicy(), on=MONDAY, calendar=BRAZIL)
    assert outcome.kind is OutcomeKind.FULL
    assert outcome.credit_letter is not None
    assert outcome.credit_letter.balance == Money("400.00")


def test_every_day_calendar_is_the_explicit_choice_of_no_closed_days() -> None:
    calendar = EveryDayCalendar()
    assert all(calendar.is_business_day(date(2025, 3, day)) for day in range(1, 32))
    due = amount_due(_due_on_saturday(), on=MONDAY, calendar=calendar)
    assert (due.late, due.fine, due.interest) == (True, Money("2.00"), Money("0.07"))
    assert calendar == EveryDayCalendar()


@pytest.mark.parametrize(
    "call",
    [
        lambda: amount_due(_due_on_saturday(), on=MONDAY),
        lambda: settle(_due_on_saturday(), Payment(Money("100.00"), MONDAY), SettlementPolicy()),
        lambda: use_credit_letter(
            _due_on_saturday(),
            CreditLetter("L1", "c1", Money("5.00"), "origin", SATURDAY),
            SettlementPolicy(),
            on=MONDAY,
        ),
    ],
    ids=["amount_due", "settle", "use_credit_letter"],
)
def test_calling_without_a_calendar_is_a_type_error_at_the_call(call: Callable[[], object]) -> None:
    with pytest.raises(TypeError, match="calendar"):
        call()


# name -> the positional parameters, in order, and the keyword-only ones
SHAPES: dict[str, tuple[Callable[..., Any], list[str], list[str]]] = {
    "settle": (settle, ["installment", "payment", "policy"], ["calendar"]),
    "use_credit_letter": (use_credit_letter, ["installment", "letter", "policy"], ["on", "calendar"]),
    "reverse": (reverse, ["installment", "settlement", "policy"], ["on", "credit_letter"]),
    "amount_due": (amount_due, ["installment"], ["on", "calendar"]),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_verb_takes_the_installment_first_and_the_rest_by_keyword(name: str) -> None:
    function, positional, keyword = SHAPES[name]
    parameters = inspect.signature(function).parameters.values()
    assert [p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD] == positional
    assert [p.name for p in parameters if p.kind is p.KEYWORD_ONLY] == keyword
    # The calendar has no default: forgetting it is an error, never a silent "Saturday is open".
    calendar = inspect.signature(function).parameters.get("calendar")
    assert calendar is None or calendar.default is inspect.Parameter.empty


def _check_family(result: SettlementResult) -> None:
    assert isinstance(result, SettlementResult)
    assert isinstance(result.installment, Installment)


@given(extra=st.integers(1, 10_000), used=st.integers(1, 20_000))
def test_settle_use_and_reverse_return_one_family(extra: int, used: int) -> None:
    installment = _due_on_saturday()
    created = settle(installment, Payment(Money("100.00") + Money.from_cents(extra), MONDAY), LENIENT, calendar=BRAZIL)
    assert isinstance(created, SettlementOutcome)
    _check_family(created)
    assert created.kind is OutcomeKind.CREDIT_LETTER
    assert created.settlement is not None
    assert created.credit_letter is not None
    assert created.credit_letter.amount == Money.from_cents(extra)  # the letter this operation created

    target = Installment("i2", "c1", date(2025, 4, 10), Money.from_cents(used), TERMS)
    drawn = use_credit_letter(target, created.credit_letter, LENIENT, on=MONDAY, calendar=BRAZIL)
    assert isinstance(drawn, SettlementOutcome)
    _check_family(drawn)
    assert drawn.settlement is not None
    assert drawn.credit_letter is not None  # the letter this operation drew from
    assert drawn.credit_letter.id == created.credit_letter.id
    assert drawn.credit_letter.balance == created.credit_letter.balance - drawn.settlement.paid
    assert drawn.settlement.paid == min(Money.from_cents(extra), Money.from_cents(used))
    assert drawn.settlement.source_letter_id == created.credit_letter.id

    undone = reverse(drawn.installment, drawn.settlement, LENIENT, on=MONDAY, credit_letter=drawn.credit_letter)
    assert isinstance(undone, Reversal)
    _check_family(undone)
    assert undone.settlement.id == drawn.settlement.id  # the one now marked reversed
    assert undone.settlement.reversed_on == MONDAY
    assert undone.credit_letter is not None  # the letter this operation gave back to
    assert undone.credit_letter.balance == created.credit_letter.balance
    assert undone.installment.state == target.state


def test_a_refused_use_draws_nothing() -> None:
    letter = CreditLetter("L1", "c1", Money("5.00"), "origin", SATURDAY)
    closed = SettlementPolicy(closing_date=date(2025, 3, 31))
    outcome = use_credit_letter(_due_on_saturday(), letter, closed, on=MONDAY, calendar=BRAZIL)
    assert outcome.kind is OutcomeKind.REFUSED
    assert (outcome.settlement, outcome.credit_letter) == (None, None)
    assert outcome.installment == _due_on_saturday()
