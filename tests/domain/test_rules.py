"""Rules beyond the worked vectors: calendar, carnet limits, anticipation groups, letters and reversal edges."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs
import pytest

from carteira import BrazilBankingCalendar
from carteira.domain import (
    AnticipationStatus,
    CarnetLimits,
    ChargeTerms,
    CreditLetter,
    EveryDayCalendar,
    Installment,
    Money,
    OutcomeKind,
    Payment,
    RevenueKind,
    SettlementPolicy,
    anticipate,
    carnet_due_dates,
    next_business_day,
    plan_carnet,
    present_value,
    reverse,
    settle,
    use_credit_letter,
)
from carteira.errors import InvalidInput, RuleViolation

TERMS = ChargeTerms(Decimal("0.02"), Decimal("0.01"))
CAL = BrazilBankingCalendar()


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        (date(2023, 11, 20), True),  # 20 Nov became national only in 2024
        (date(2024, 11, 20), False),
        (date(2025, 4, 21), False),  # Tiradentes
        (date(2025, 3, 4), False),  # Carnival Tuesday
        (date(2025, 3, 5), True),  # Ash Wednesday opens at noon: a business day
        (date(2025, 12, 24), True),
        (date(2025, 12, 31), False),  # last business day of the year
        (date(2022, 12, 30), False),  # 31 Dec 2022 was a Saturday: Friday 30 is the last business day
        (date(2022, 12, 29), True),
    ],
)
def test_brazil_banking_calendar(day: date, open_: bool) -> None:
    assert CAL.is_business_day(day) is open_


def test_extra_holidays_close_local_dates() -> None:
    sao_paulo = BrazilBankingCalendar(extra_holidays=[date(2025, 1, 25)])
    assert CAL.is_business_day(date(2025, 1, 24))
    assert not sao_paulo.is_business_day(date(2025, 1, 25))
    assert next_business_day(sao_paulo, date(2025, 4, 17)) == date(2025, 4, 22)  # Good Friday, weekend, Tiradentes


def test_a_calendar_that_never_opens_is_an_error_not_a_hang() -> None:
    class Closed:
        def is_business_day(self, day: date, /) -> bool:
            return False

    with pytest.raises(ValueError, match="no business day"):
        next_business_day(Closed(), date(2025, 1, 1))


def _series(count: int, first: date = date(2025, 1, 10)) -> list[Installment]:
    return [
        Installment(f"p{n + 1}", "c1", due, Money("99.90"), TERMS, description="Plano")
        for n, due in enumerate(carnet_due_dates(first, count))
    ]


def test_a_long_series_is_cut_into_carnets_of_the_maximum() -> None:
    plan = plan_carnet(_series(25), CarnetLimits(min_parcels=2, max_parcels=12))
    assert [len(c.parcel_ids) for c in plan.carnets] == [12, 12]
    assert plan.billets == ("p25",)  # a remainder of one is below the minimum of two
    assert plan.carnets[1].first_due == date(2026, 1, 10)


def test_a_remainder_at_or_above_the_minimum_is_its_own_carnet() -> None:
    plan = plan_carnet(_series(15), CarnetLimits(min_parcels=3, max_parcels=12))
    assert [len(c.parcel_ids) for c in plan.carnets] == [12, 3]
    assert plan.billets == ()


def test_carnet_limits_and_input_are_checked() -> None:
    with pytest.raises(InvalidInput):
        CarnetLimits(min_parcels=5, max_parcels=4)
    with pytest.raises(InvalidInput):
        CarnetLimits(min_parcels=0, max_parcels=4)
    limits = CarnetLimits(min_parcels=2, max_parcels=12)
    with pytest.raises(InvalidInput):
        plan_carnet([], limits)
    with pytest.raises(InvalidInput, match="order"):
        plan_carnet(list(reversed(_series(3))), limits)


def test_an_anticipation_group_totals_its_items() -> None:
    items = [
        Installment("a1", "c1", date(2025, 4, 9), Money("1000.00"), TERMS),
        Installment("a2", "c1", date(2025, 4, 24), Money("5000.00"), TERMS),
    ]
    group = anticipate("ant-1", items, date(2025, 3, 10), Decimal("0.01"))
    assert group.status is AnticipationStatus.IN_STUDY
    assert group.face_total == Money("6000.00")
    expected = [present_value(i.amount, i.due, date(2025, 3, 10), Decimal("0.01")) for i in items]
    assert [item.present_value for item in group.items] == expected
    assert group.present_total + group.discount_total == group.face_total
    with pytest.raises(InvalidInput):
        anticipate("ant-2", [items[0], items[0]], date(2025, 3, 10), Decimal("0.01"))
    with pytest.raises(InvalidInput):
        anticipate("ant-3", [], date(2025, 3, 10), Decimal("0.01"))


def test_revenue_kind_follows_the_bank_contract() -> None:
    bank = Installment("b", "c1", date(2025, 3, 10), Money("10.00"), TERMS, bank_contract="001-123")
    cash = Installment("k", "c1", date(2025, 3, 10), Money("10.00"), TERMS)
    policy = SettlementPolicy()
    for installment, kind in ((bank, RevenueKind.BANK), (cash, RevenueKind.CASH)):
        outcome = settle(installment, Payment(Money("10.00"), date(2025, 3, 10)), policy, calendar=EveryDayCalendar())
        assert outcome.settlement is not None
        assert outcome.settlement.revenue_kind is kind


def test_a_settled_installment_refuses_another_settlement_and_letter_use() -> None:
    installment = Installment("i1", "c1", date(2025, 3, 10), Money("10.00"), TERMS)
    settled = settle(
        installment, Payment(Money("10.00"), date(2025, 3, 10)), SettlementPolicy(), calendar=EveryDayCalendar()
    ).installment
    again = settle(settled, Payment(Money("10.00"), date(2025, 3, 10)), SettlementPolicy(), calendar=EveryDayCalendar())
    assert again.kind is OutcomeKind.REFUSED
    assert "already settled" in again.reason
    letter = CreditLetter("L", "c1", Money("5.00"), "origin", date(2025, 3, 1))
    with pytest.raises(RuleViolation, match="already settled"):
        use_credit_letter(settled, letter, SettlementPolicy(), on=date(2025, 3, 11), calendar=EveryDayCalendar())


def test_a_letter_is_used_only_by_its_customer() -> None:
    letter = CreditLetter("L", "other", Money("5.00"), "origin", date(2025, 3, 1))
    installment = Installment("i1", "c1", date(2025, 3, 10), Money("10.00"), TERMS)
    with pytest.raises(RuleViolation, match="belongs to customer other"):
        use_credit_letter(installment, letter, SettlementPolicy(), on=date(2025, 3, 5), calendar=EveryDayCalendar())


def test_reversal_needs_the_letter_the_settlement_touched() -> None:
    installment = Installment("i1", "c1", date(2025, 3, 10), Money("10.00"), TERMS)
    outcome = settle(
        installment,
        Payment(Money("15.00"), date(2025, 3, 10)),
        SettlementPolicy(settle_beyond_tolerance=True),
        calendar=EveryDayCalendar(),
    )
    assert outcome.settlement is not None
    with pytest.raises(InvalidInput, match="needs credit letter"):
        reverse(outcome.installment, outcome.settlement, SettlementPolicy(), on=date(2025, 3, 11))
    done = reverse(
        outcome.installment,
        outcome.settlement,
        SettlementPolicy(),
        on=date(2025, 3, 11),
        credit_letter=outcome.credit_letter,
    )
    with pytest.raises(RuleViolation, match="already reversed"):
        reverse(
            done.installment,
            done.settlement,
            SettlementPolicy(),
            on=date(2025, 3, 12),
            credit_letter=done.credit_letter,
        )


def test_reversal_refuses_an_installment_that_does_not_match_the_settlement() -> None:
    installment = Installment("i1", "c1", date(2025, 3, 10), Money("10.00"), TERMS)
    outcome = settle(
        installment,
        Payment(Money("4.00"), date(2025, 3, 10)),
        SettlementPolicy(settle_beyond_tolerance=True),
        calendar=EveryDayCalendar(),
    )
    assert outcome.settlement is not None
    tampered = attrs.evolve(outcome.installment, principal_open=Money("7.00"))
    with pytest.raises(InvalidInput, match="does not hold what settlement"):
        reverse(tampered, outcome.settlement, SettlementPolicy(), on=date(2025, 3, 11))


def test_discount_and_abatement_above_the_principal_are_refused() -> None:
    installment = Installment("i1", "c1", date(2025, 3, 10), Money("10.00"), TERMS)
    outcome = settle(
        installment,
        Payment(Money("1.00"), date(2025, 3, 10), discount=Money("11.00")),
        SettlementPolicy(),
        calendar=EveryDayCalendar(),
    )
    assert outcome.kind is OutcomeKind.REFUSED
    assert "exceed the open principal" in outcome.reason
