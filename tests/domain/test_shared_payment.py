"""One payment for several installments: oldest first, tolerance on the group, the difference with the last (B4)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira import BrazilBankingCalendar, ChargeTerms, Installment, Money, OutcomeKind, Payment, SettlementPolicy
from carteira.domain import RefusalReason, Tolerance, amount_due
from carteira.domain.shared_payment import settle_together
from carteira.errors import InvalidInput

CALENDAR = BrazilBankingCalendar()
TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
POLICY = SettlementPolicy(over=Tolerance(amount=Money("1.00")), under=Tolerance(amount=Money("1.00")))
LENIENT = SettlementPolicy(
    over=Tolerance(amount=Money("1.00")), under=Tolerance(amount=Money("1.00")), settle_beyond_tolerance=True
)


def parcels(*amounts: str) -> list[Installment]:
    return [
        Installment(f"p{n}", "c1", date(2026, 3, 10) + timedelta(days=31 * n), Money(amount), TERMS, number=n + 1)
        for n, amount in enumerate(amounts)
    ]


def test_an_exact_payment_settles_every_parcel_in_full() -> None:
    group = parcels("100.00", "100.00", "100.00")
    shared = settle_together(group, Payment(Money("300.00"), date(2026, 3, 10)), POLICY, calendar=CALENDAR)
    assert [o.kind for o in shared.outcomes] == [OutcomeKind.FULL] * 3
    assert [o.installment.id for o in shared.outcomes] == ["p0", "p1", "p2"]


def test_a_difference_within_the_groups_tolerance_goes_with_the_last() -> None:
    group = parcels("100.00", "100.00", "100.00")
    shared = settle_together(group, Payment(Money("299.20"), date(2026, 3, 10)), POLICY, calendar=CALENDAR)
    assert [o.kind for o in shared.outcomes] == [OutcomeKind.FULL] * 3
    last = shared.outcomes[-1].settlement
    assert last is not None
    assert last.extra_discount == Money("0.80")
    assert shared.outcomes[0].settlement is not None
    assert shared.outcomes[0].settlement.extra_discount == Money.ZERO


def test_beyond_tolerance_with_the_policy_off_settles_nothing() -> None:
    group = parcels("100.00", "100.00")
    shared = settle_together(group, Payment(Money("150.00"), date(2026, 3, 10)), POLICY, calendar=CALENDAR)
    assert shared.refused
    assert shared.refusal is RefusalReason.BEYOND_TOLERANCE
    assert "underpaid 50.00" in shared.reason


def test_an_underpayment_pays_the_oldest_first_and_the_money_runs_out_on_one() -> None:
    group = parcels("100.00", "100.00", "100.00")
    shared = settle_together(group, Payment(Money("150.00"), date(2026, 3, 10)), LENIENT, calendar=CALENDAR)
    assert [o.kind for o in shared.outcomes] == [OutcomeKind.FULL, OutcomeKind.PARTIAL]
    assert shared.outcomes[1].installment.principal_open == Money("50.00")


def test_an_overpayment_beyond_tolerance_leaves_a_credit_letter_with_the_last() -> None:
    group = parcels("100.00", "100.00")
    shared = settle_together(group, Payment(Money("230.00"), date(2026, 3, 10)), LENIENT, calendar=CALENDAR)
    assert [o.kind for o in shared.outcomes] == [OutcomeKind.FULL, OutcomeKind.CREDIT_LETTER]
    letter = shared.outcomes[-1].credit_letter
    assert letter is not None
    assert letter.amount == Money("30.00")


def test_a_settled_parcel_or_a_closed_date_refuses_the_whole_group() -> None:
    group = parcels("100.00", "100.00")
    paid = settle_together(group[:1], Payment(Money("100.00"), date(2026, 3, 10)), POLICY, calendar=CALENDAR)
    group[0] = paid.outcomes[0].installment
    again = settle_together(group, Payment(Money("200.00"), date(2026, 3, 10)), POLICY, calendar=CALENDAR)
    assert again.refusal is RefusalReason.NOT_OPEN
    closed = SettlementPolicy(closing_date=date(2026, 4, 1))
    early = Payment(Money("2.00"), date(2026, 3, 10))
    late = settle_together(parcels("1.00", "1.00"), early, closed, calendar=CALENDAR)
    assert late.refusal is RefusalReason.CLOSED_PERIOD


def test_no_installments_or_one_twice_is_refused() -> None:
    with pytest.raises(InvalidInput):
        settle_together([], Payment(Money("1.00"), date(2026, 3, 10)), POLICY, calendar=CALENDAR)
    one = parcels("1.00")
    with pytest.raises(InvalidInput):
        settle_together(one * 2, Payment(Money("1.00"), date(2026, 3, 10)), POLICY, calendar=CALENDAR)


cents = st.integers(min_value=500, max_value=500_000)


@given(
    amounts=st.lists(cents, min_size=1, max_size=5),
    paid=st.integers(min_value=1, max_value=3_000_000),
    late=st.integers(min_value=-10, max_value=90),
    discount=st.integers(min_value=0, max_value=400),
    lenient=st.booleans(),
)
def test_the_group_conserves_money_and_each_settlement_adds_up(
    amounts: list[int], paid: int, late: int, discount: int, lenient: bool
) -> None:
    group = parcels(*(str(Money.from_cents(amount)) for amount in amounts))
    on = date(2026, 3, 10) + timedelta(days=late)
    payment = Payment(Money.from_cents(paid), on, discount=Money.from_cents(discount))
    shared = settle_together(group, payment, LENIENT if lenient else POLICY, calendar=CALENDAR)
    if shared.refused:
        assert shared.reason
        return
    settlements = [o.settlement for o in shared.outcomes if o.settlement is not None]
    assert len(settlements) == len(shared.outcomes)
    total = Money.ZERO
    for settlement in settlements:
        assert settlement.conserves()
        total += settlement.paid
    assert total == payment.amount
    # Oldest first: every settlement but the last closes its installment.
    assert all(o.kind is OutcomeKind.FULL for o in shared.outcomes[:-1])
    due = Money.ZERO
    for item in group:
        due += amount_due(item, on=on, calendar=CALENDAR).total
    assert shared.expected == due - payment.discount
