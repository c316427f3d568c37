"""Properties of the settlement arithmetic (D1-D12), checked by hypothesis over generated portfolios."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from carteira import BrazilBankingCalendar
from carteira.domain import (
    BusinessCalendar,
    ChargeTerms,
    CreditLetter,
    EveryDayCalendar,
    Installment,
    InstallmentStatus,
    InterestMode,
    Money,
    OutcomeKind,
    Payment,
    RefusalReason,
    SettlementPolicy,
    Tolerance,
    amount_due,
    present_value,
    reverse,
    settle,
    use_credit_letter,
)
from carteira.errors import ClosedPeriod
from carteira.testing.strategies import charge_terms, installments, money, payments, policies, rates

CALENDAR = BrazilBankingCalendar()
calendars = st.sampled_from([EveryDayCalendar(), CALENDAR])


@st.composite
def cases(draw: st.DrawFn) -> tuple[Installment, Payment, SettlementPolicy]:
    installment = draw(installments())
    return installment, draw(payments(installment=installment)), draw(policies())


# ---- Money (D1) ----------------------------------------------------------------------------------------


@given(st.integers(-(10**12), 10**12))
def test_cents_round_trip(cents: int) -> None:
    assert Money.from_cents(cents).cents == cents
    assert Money(str(Money.from_cents(cents))) == Money.from_cents(cents)


@given(st.integers(-(10**9), 10**9), st.integers(-(10**9), 10**9))
def test_addition_is_integer_addition_of_cents(a: int, b: int) -> None:
    x, y = Money.from_cents(a), Money.from_cents(b)
    assert (x + y).cents == a + b
    assert (x + y) - y == x
    assert x - x == Money.ZERO


@given(st.integers(0, 10**10), st.integers(0, 10**6))
def test_multiplication_rounds_half_up_like_integer_arithmetic(cents: int, rate_units: int) -> None:
    rate = Decimal(rate_units).scaleb(-6)
    exact_micro_cents = cents * rate_units  # cents × rate × 10^6, exactly
    whole, rest = divmod(exact_micro_cents, 10**6)
    expected = whole + (1 if rest * 2 >= 10**6 else 0)
    assert (Money.from_cents(cents) * rate).cents == expected


# ---- amount due (D2) -----------------------------------------------------------------------------------


@given(installments(), st.integers(0, 400), st.integers(1, 60), calendars)
def test_amount_due_never_decreases_with_time(
    installment: Installment, days: int, more: int, calendar: BusinessCalendar
) -> None:
    earlier = amount_due(installment, on=installment.due + timedelta(days=days), calendar=calendar)
    later = amount_due(installment, on=installment.due + timedelta(days=days + more), calendar=calendar)
    assert later.total >= earlier.total
    assert (
        earlier.total == earlier.principal + earlier.fine_open + earlier.interest_open + earlier.fine + earlier.interest
    )


@given(installments(), st.integers(-60, 0), calendars)
def test_nothing_is_charged_on_or_before_the_due_date(
    installment: Installment, days: int, calendar: BusinessCalendar
) -> None:
    due = amount_due(installment, on=installment.due + timedelta(days=days), calendar=calendar)
    assert due.total == installment.amount
    assert not due.late


@given(installments(), st.integers(1, 400))
def test_fine_and_interest_are_on_the_principal_only(installment: Installment, days: int) -> None:
    late_days = installment.terms.grace_days + days
    due = amount_due(installment, on=installment.due + timedelta(days=late_days), calendar=EveryDayCalendar())
    principal, terms = installment.amount.amount, installment.terms
    cent = Decimal("0.01")
    assert due.fine == Money(str((principal * terms.fine_rate).quantize(cent, rounding=ROUND_HALF_UP)))
    if terms.interest_mode is InterestMode.PRO_RATA:
        exact = principal * terms.monthly_interest_rate * late_days / 30
    else:
        exact = (principal * terms.monthly_interest_rate / 30).quantize(cent, rounding=ROUND_HALF_UP) * late_days
    assert due.interest == Money(str(exact.quantize(cent, rounding=ROUND_HALF_UP)))
    assert due.interest_days == late_days


# ---- settle (D3-D5, D12) --------------------------------------------------------------------------------


@given(cases(), calendars)
def test_every_outcome_conserves_money(case: tuple[Installment, Payment, SettlementPolicy], calendar: object) -> None:
    installment, payment, policy = case
    outcome = settle(installment, payment, policy, calendar=calendar)  # type: ignore[arg-type]
    # settle() computes the charges on its own path; they must be those amount_due() states.
    assert outcome.due == amount_due(installment, on=payment.paid_on, calendar=calendar)  # type: ignore[arg-type]
    assert outcome.expected == outcome.due.total - payment.discount - payment.abatement
    assert outcome.difference == payment.amount - outcome.expected
    if outcome.kind is OutcomeKind.REFUSED:
        assert outcome.settlement is None
        assert outcome.installment == installment
        return
    s = outcome.settlement
    assert s is not None
    assert s.paid + s.discount + s.abatement + s.extra_discount == (
        s.principal + s.interest + s.fine + s.extra_charge + s.credit_letter_amount
    )
    after = outcome.installment
    assert after.principal_open == installment.principal_open - s.principal
    assert after.balance == outcome.due.total - (s.principal + s.interest + s.fine)
    assert min(after.principal_open, after.fine_open, after.interest_open) >= Money.ZERO
    letter = outcome.credit_letter
    assert (letter.amount if letter is not None else Money.ZERO) == s.credit_letter_amount
    if outcome.kind is OutcomeKind.PARTIAL:
        assert after.status is InstallmentStatus.PARTIALLY_SETTLED
        assert abs(outcome.difference) > outcome.limit
    else:
        assert after.status is InstallmentStatus.SETTLED
        assert after.balance == Money.ZERO


@given(cases(), calendars)
def test_within_tolerance_always_settles_in_full(
    case: tuple[Installment, Payment, SettlementPolicy], calendar: object
) -> None:
    installment, payment, policy = case
    outcome = settle(installment, payment, policy, calendar=calendar)  # type: ignore[arg-type]
    assume(outcome.refusal is None)
    if abs(outcome.difference) <= outcome.limit:
        assert outcome.kind is OutcomeKind.FULL
    elif not policy.settle_beyond_tolerance:
        pytest.fail("beyond tolerance with the switch off must be refused")


@given(cases(), calendars, st.integers(0, 30))
def test_reverse_restores_every_outcome_exactly(
    case: tuple[Installment, Payment, SettlementPolicy], calendar: object, later: int
) -> None:
    installment, payment, policy = case
    outcome = settle(installment, payment, policy, calendar=calendar)  # type: ignore[arg-type]
    assume(outcome.settlement is not None)
    assert outcome.settlement is not None
    undone = reverse(
        outcome.installment,
        outcome.settlement,
        policy,
        on=payment.paid_on + timedelta(days=later),
        credit_letter=outcome.credit_letter,
    )
    assert undone.installment.state == installment.state
    assert undone.installment == installment.__class__(
        **{**_fields(installment), "settlements_made": installment.settlements_made + 1}
    )
    assert undone.settlement.reversed_on == payment.paid_on + timedelta(days=later)
    if outcome.credit_letter is not None:
        assert undone.credit_letter is not None
        assert undone.credit_letter.balance == Money.ZERO


def _fields(installment: Installment) -> dict[str, object]:
    import attrs

    return attrs.asdict(installment, recurse=False)


@given(installments(), st.lists(st.tuples(st.integers(0, 90), money(min_value=Money("0.01"))), min_size=1, max_size=8))
def test_partial_payments_charge_the_fine_once_and_never_go_negative(
    installment: Installment, steps: list[tuple[int, Money]]
) -> None:
    policy = SettlementPolicy(settle_beyond_tolerance=True)
    on = installment.due
    fines_charged = 0
    for gap, paid in steps:
        on += timedelta(days=gap)
        outcome = settle(installment, Payment(paid, on), policy, calendar=EveryDayCalendar())
        if outcome.kind is OutcomeKind.REFUSED:
            assert outcome.refusal is RefusalReason.NOT_OPEN
            break
        assert outcome.settlement is not None
        fines_charged += outcome.settlement.fine_accrued > Money.ZERO
        installment = outcome.installment
        assert min(installment.principal_open, installment.fine_open, installment.interest_open) >= Money.ZERO
    assert fines_charged <= 1


@given(
    st.lists(money(min_value=Money("0.01"), max_value=Money("500.00")), min_size=1, max_size=6),
    money(min_value=Money("0.01"), max_value=Money("2000.00")),
    charge_terms(),
)
def test_a_credit_letter_never_goes_negative(targets: list[Money], credit: Money, terms: ChargeTerms) -> None:
    letter = CreditLetter("L1", "cust-1", credit, "origin", date(2025, 1, 1))
    policy = SettlementPolicy()
    used = Money.ZERO
    for number, amount in enumerate(targets):
        if letter.balance == Money.ZERO:
            break
        target = Installment(f"i{number}", "cust-1", date(2025, 2, 10), amount, terms)
        outcome = use_credit_letter(target, letter, policy, on=date(2025, 2, 1), calendar=EveryDayCalendar())
        assert outcome.settlement is not None
        assert outcome.credit_letter is not None
        letter = outcome.credit_letter
        used += outcome.settlement.paid
        assert letter.balance >= Money.ZERO
        assert outcome.settlement.paid <= amount
    assert letter.balance + used == credit


@given(cases(), st.integers(1, 400))
def test_no_settlement_before_the_closing_date(case: tuple[Installment, Payment, SettlementPolicy], ahead: int) -> None:
    installment, payment, policy = case
    closed = SettlementPolicy(
        over=policy.over,
        under=policy.under,
        settle_beyond_tolerance=policy.settle_beyond_tolerance,
        closing_date=payment.paid_on + timedelta(days=ahead),
    )
    outcome = settle(installment, payment, closed, calendar=EveryDayCalendar())
    assert outcome.kind is OutcomeKind.REFUSED
    assert outcome.refusal is RefusalReason.CLOSED_PERIOD
    assert installment.id in outcome.reason


@given(cases(), st.integers(1, 400))
def test_no_reversal_of_a_settlement_before_the_closing_date(
    case: tuple[Installment, Payment, SettlementPolicy], ahead: int
) -> None:
    installment, payment, policy = case
    outcome = settle(installment, payment, policy, calendar=EveryDayCalendar())
    assume(outcome.settlement is not None)
    assert outcome.settlement is not None
    closing = payment.paid_on + timedelta(days=ahead)
    closed = SettlementPolicy(over=policy.over, under=policy.under, closing_date=closing)
    with pytest.raises(ClosedPeriod) as caught:
        reverse(outcome.installment, outcome.settlement, closed, on=closing, credit_letter=outcome.credit_letter)
    assert caught.value.closing_date == closing
    assert caught.value.on == payment.paid_on


# ---- tolerance (D3) -------------------------------------------------------------------------------------


@given(st.none() | money(max_value=Money("50.00")), st.none() | rates(max_value=Decimal("0.05")), money())
def test_the_smaller_of_the_set_limits_wins(amount: Money | None, rate: Decimal | None, expected: Money) -> None:
    limit = Tolerance(amount=amount, rate=rate).limit(expected)
    candidates = []
    if amount is not None:
        candidates.append(amount.cents)
    if rate is not None:
        candidates.append(int((expected.amount * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).scaleb(2)))
    assert limit.cents == (min(candidates) if candidates else 0)


# ---- anticipation (D10) ---------------------------------------------------------------------------------


@given(money(min_value=Money("0.01")), st.integers(0, 720), st.integers(1, 60), rates(max_value=Decimal("0.05")))
def test_present_value_falls_with_time_and_never_exceeds_face(face: Money, days: int, more: int, rate: Decimal) -> None:
    on = date(2025, 1, 1)
    nearer = present_value(face, on + timedelta(days=days), on, rate)
    farther = present_value(face, on + timedelta(days=days + more), on, rate)
    assert Money.ZERO <= farther <= nearer <= face
