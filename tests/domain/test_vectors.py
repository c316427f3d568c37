"""Every worked vector of reference/domain.md §8, each a test with its id (A1…K12)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from dateutil.easter import easter

from carteira import BrazilBankingCalendar
from carteira.domain import (
    CarnetLimits,
    ChargeTerms,
    EveryDayCalendar,
    Installment,
    InterestMode,
    Money,
    OutcomeKind,
    Payment,
    SettlementPolicy,
    Tolerance,
    amount_due,
    carnet_due_dates,
    plan_carnet,
    present_value,
    reverse,
    settle,
    use_credit_letter,
)
from carteira.domain.calendar import BusinessCalendar

TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
BRAZIL = BrazilBankingCalendar()
EVERY_DAY = EveryDayCalendar()  # weekends and holidays are ordinary days: what passing no calendar used to do
D = date(2025, 3, 10)


class _PublicHolidaysOnly:
    """What `holidays.Brazil()` gives by default: Carnival is missing (the 'pub' column of A8)."""

    def is_business_day(self, day: date, /) -> bool:
        sunday = easter(day.year)
        if day in (sunday - timedelta(days=48), sunday - timedelta(days=47)):
            return True
        return BRAZIL.is_business_day(day)


def inst(amount: str = "1000.00", due: date = D, terms: ChargeTerms = TERMS, **kwargs: object) -> Installment:
    return Installment("i1", "c1", due, Money(amount), terms, **kwargs)  # type: ignore[arg-type]


# id, principal, due, paid on, calendar, terms, fine, interest, total
A_VECTORS: list[tuple[str, str, date, date, BusinessCalendar, ChargeTerms, str, str, str]] = [
    ("A1", "1000.00", D, date(2025, 3, 10), BRAZIL, TERMS, "0.00", "0.00", "1000.00"),
    ("A2", "1000.00", D, date(2025, 3, 11), BRAZIL, TERMS, "20.00", "0.33", "1020.33"),
    ("A3", "1000.00", D, date(2025, 4, 10), BRAZIL, TERMS, "20.00", "10.33", "1030.33"),
    (
        "A3-daily-amount", "1000.00", D, date(2025, 4, 10), BRAZIL,
        ChargeTerms(Decimal("0.02"), Decimal("0.01"), interest_mode=InterestMode.DAILY_AMOUNT),
        "20.00", "10.23", "1030.23",
    ),
    ("A4", "1000.00", date(2025, 3, 15), date(2025, 3, 17), BRAZIL, TERMS, "0.00", "0.00", "1000.00"),
    ("A4-every-day", "1000.00", date(2025, 3, 15), date(2025, 3, 17), EVERY_DAY, TERMS, "20.00", "0.67", "1020.67"),
    ("A5", "1000.00", date(2025, 3, 15), date(2025, 3, 18), BRAZIL, TERMS, "20.00", "1.00", "1021.00"),
    ("A6", "1000.00", date(2025, 4, 18), date(2025, 4, 22), BRAZIL, TERMS, "0.00", "0.00", "1000.00"),
    ("A6-every-day", "1000.00", date(2025, 4, 18), date(2025, 4, 22), EVERY_DAY, TERMS, "20.00", "1.33", "1021.33"),
    ("A7", "1000.00", date(2025, 4, 18), date(2025, 4, 23), BRAZIL, TERMS, "20.00", "1.67", "1021.67"),
    ("A8", "1000.00", date(2026, 2, 16), date(2026, 2, 18), BRAZIL, TERMS, "0.00", "0.00", "1000.00"),
    (
        "A8-public-holidays-only", "1000.00", date(2026, 2, 16), date(2026, 2, 18), _PublicHolidaysOnly(), TERMS,
        "20.00", "0.67", "1020.67",
    ),
    ("A9", "1000.00", date(2025, 6, 19), date(2025, 6, 20), BRAZIL, TERMS, "0.00", "0.00", "1000.00"),
    ("A9-every-day", "1000.00", date(2025, 6, 19), date(2025, 6, 20), EVERY_DAY, TERMS, "20.00", "0.33", "1020.33"),
    ("A10", "1000.00", date(2025, 12, 31), date(2026, 1, 2), BRAZIL, TERMS, "0.00", "0.00", "1000.00"),
    (
        "A10-last-day-open", "1000.00", date(2025, 12, 31), date(2026, 1, 2),
        BrazilBankingCalendar(close_last_business_day=False), TERMS, "20.00", "0.67", "1020.67",
    ),
    ("A11", "100.25", D, date(2025, 3, 11), BRAZIL, TERMS, "2.01", "0.03", "102.29"),
    ("A12", "1000.50", D, date(2025, 4, 9), BRAZIL, TERMS, "20.01", "10.01", "1030.52"),
    (
        "A12-daily-amount", "1000.50", D, date(2025, 4, 9), BRAZIL,
        ChargeTerms(Decimal("0.02"), Decimal("0.01"), interest_mode=InterestMode.DAILY_AMOUNT),
        "20.01", "9.90", "1030.41",
    ),
    ("A13", "15.00", D, date(2025, 3, 11), BRAZIL, TERMS, "0.30", "0.01", "15.31"),
    ("A14", "12345.67", D, date(2025, 4, 24), BRAZIL, TERMS, "246.91", "185.19", "12777.77"),
    ("A15", "1000.00", date(2025, 1, 31), date(2025, 2, 28), BRAZIL, TERMS, "20.00", "9.33", "1029.33"),
    (
        "A16", "1000.00", D, date(2025, 3, 13), BRAZIL, ChargeTerms(Decimal("0.02"), Decimal("0.01"), grace_days=3),
        "0.00", "0.00", "1000.00",
    ),
    (
        "A17", "1000.00", D, date(2025, 3, 14), BRAZIL, ChargeTerms(Decimal("0.02"), Decimal("0.01"), grace_days=3),
        "20.00", "1.33", "1021.33",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("principal", "due", "paid_on", "calendar", "terms", "fine", "interest", "total"),
    [pytest.param(*row[1:], id=row[0]) for row in A_VECTORS],
)
def test_amount_due_vectors(
    principal: str,
    due: date,
    paid_on: date,
    calendar: BusinessCalendar,
    terms: ChargeTerms,
    fine: str,
    interest: str,
    total: str,
) -> None:
    result = amount_due(inst(principal, due, terms), on=paid_on, calendar=calendar)
    assert (result.fine, result.interest, result.total) == (Money(fine), Money(interest), Money(total))
    assert result.late is (Money(fine) > Money.ZERO)


# ---- T: tolerance, installment of A3 (amount due 1030.33 on 2025-04-10) -------------------------------

PAID_ON = date(2025, 4, 10)
OVER = Tolerance(amount=Money("1.00"), rate=Decimal("0.005"))
UNDER = Tolerance(amount=Money("0.50"), rate=Decimal("0.001"))
POLICY = SettlementPolicy(over=OVER, under=UNDER, settle_beyond_tolerance=True)


def _settle(paid: str, policy: SettlementPolicy = POLICY, **payment: object):  # type: ignore[no-untyped-def]
    return settle(inst(), Payment(Money(paid), PAID_ON, **payment), policy, calendar=BRAZIL)  # type: ignore[arg-type]


def test_T1_exact_payment_settles_in_full() -> None:
    outcome = _settle("1030.33")
    assert outcome.kind is OutcomeKind.FULL
    assert outcome.settlement is not None
    assert (outcome.settlement.extra_charge, outcome.settlement.extra_discount) == (Money.ZERO, Money.ZERO)


def test_T2_under_within_tolerance_is_an_extra_discount() -> None:
    outcome = _settle("1030.23")
    assert outcome.kind is OutcomeKind.FULL
    assert outcome.settlement is not None
    assert outcome.settlement.extra_discount == Money("0.10")
    assert outcome.limit == Money("0.50")


def test_T3_over_within_tolerance_is_an_extra_charge() -> None:
    outcome = _settle("1031.00")
    assert outcome.kind is OutcomeKind.FULL
    assert outcome.settlement is not None
    assert outcome.settlement.extra_charge == Money("0.67")
    assert outcome.limit == Money("1.00")  # the smaller of 1.00 and 0.5 % (5.15)


def test_T4_over_beyond_tolerance_creates_a_credit_letter() -> None:
    outcome = _settle("1033.00")
    assert outcome.kind is OutcomeKind.CREDIT_LETTER
    assert outcome.credit_letter is not None
    assert outcome.credit_letter.amount == Money("2.67")
    assert outcome.settlement is not None
    assert outcome.settlement.credit_letter_amount == Money("2.67")
    assert outcome.installment.balance == Money.ZERO


def test_T5_under_beyond_tolerance_settles_partially() -> None:
    outcome = _settle("1029.50")
    assert outcome.kind is OutcomeKind.PARTIAL
    s = outcome.settlement
    assert s is not None
    assert (s.interest, s.fine, s.principal) == (Money("10.33"), Money("20.00"), Money("999.17"))
    assert outcome.installment.principal_open == Money("0.83")


def test_T6_boundary_is_inclusive() -> None:
    outcome = _settle("1029.83")
    assert outcome.kind is OutcomeKind.FULL
    assert outcome.settlement is not None
    assert outcome.settlement.extra_discount == Money("0.50")


def test_T7_rate_only_tolerance() -> None:
    policy = SettlementPolicy(over=OVER, under=Tolerance(rate=Decimal("0.001")), settle_beyond_tolerance=True)
    outcome = _settle("1029.50", policy)
    assert outcome.kind is OutcomeKind.FULL
    assert outcome.settlement is not None
    assert outcome.settlement.extra_discount == Money("0.83")
    assert outcome.limit == Money("1.03")


def test_T8_beyond_tolerance_with_the_switch_off_is_refused() -> None:
    policy = SettlementPolicy(over=OVER, under=UNDER, settle_beyond_tolerance=False)
    outcome = _settle("1029.50", policy)
    assert outcome.kind is OutcomeKind.REFUSED
    assert outcome.reason == "underpaid 0.83, limit 0.50"
    assert outcome.settlement is None
    assert outcome.installment == inst()


def test_T9_bank_discount_and_abatement_reduce_what_is_expected() -> None:
    outcome = settle(
        inst(), Payment(Money("940.00"), D, discount=Money("10.00"), abatement=Money("50.00")), POLICY, calendar=BRAZIL
    )
    assert outcome.kind is OutcomeKind.FULL
    s = outcome.settlement
    assert s is not None
    assert (s.principal, s.discount, s.abatement) == (Money("1000.00"), Money("10.00"), Money("50.00"))
    assert s.conserves()


# ---- P: partial settlement --------------------------------------------------------------------------

EXACT = SettlementPolicy(settle_beyond_tolerance=True)


def test_P1_partial_payment_goes_to_interest_fine_then_principal() -> None:
    outcome = settle(inst(), Payment(Money("500.00"), PAID_ON), EXACT, calendar=BRAZIL)
    s = outcome.settlement
    assert s is not None
    assert (s.interest, s.fine, s.principal) == (Money("10.33"), Money("20.00"), Money("469.67"))
    after = outcome.installment
    assert after.principal_open == Money("530.33")
    assert after.fine_charged is True
    assert after.interest_from == PAID_ON


def test_P2_no_second_fine_and_interest_from_the_payment_date() -> None:
    after = settle(inst(), Payment(Money("500.00"), PAID_ON), EXACT, calendar=BRAZIL).installment
    assert amount_due(after, on=date(2025, 5, 10), calendar=BRAZIL).total == Money("535.63")


def test_P3_nothing_accrues_on_the_payment_date_itself() -> None:
    after = settle(inst(), Payment(Money("500.00"), PAID_ON), EXACT, calendar=BRAZIL).installment
    assert amount_due(after, on=PAID_ON, calendar=BRAZIL).total == Money("530.33")


def test_P4_unpaid_fine_stays_open_and_bears_no_interest() -> None:
    outcome = settle(inst(), Payment(Money("15.00"), PAID_ON), EXACT, calendar=BRAZIL)
    s = outcome.settlement
    assert s is not None
    assert (s.interest, s.fine, s.principal) == (Money("10.33"), Money("4.67"), Money.ZERO)
    after = outcome.installment
    assert (after.principal_open, after.fine_open) == (Money("1000.00"), Money("15.33"))
    assert amount_due(after, on=date(2025, 5, 10), calendar=BRAZIL).total == Money("1025.33")


def test_P5_early_partial_payment_keeps_interest_running_from_the_due_date() -> None:
    outcome = settle(inst(), Payment(Money("400.00"), date(2025, 3, 5)), EXACT, calendar=BRAZIL)
    after = outcome.installment
    assert after.principal_open == Money("600.00")
    assert after.interest_from is None
    due = amount_due(after, on=PAID_ON, calendar=BRAZIL)
    assert (due.fine, due.interest, due.total) == (Money("12.00"), Money("6.20"), Money("618.20"))


def test_P6_reversal_restores_the_installment() -> None:
    original = inst()
    outcome = settle(original, Payment(Money("500.00"), PAID_ON), EXACT, calendar=BRAZIL)
    assert outcome.settlement is not None
    undone = reverse(outcome.installment, outcome.settlement, EXACT, on=PAID_ON)
    assert undone.installment.state == original.state
    assert amount_due(undone.installment, on=PAID_ON, calendar=BRAZIL).total == Money("1030.33")


# ---- C: credit letters ------------------------------------------------------------------------------

OVER_ONE = SettlementPolicy(over=Tolerance(amount=Money("1.00")), settle_beyond_tolerance=True)


def _c1():  # type: ignore[no-untyped-def]
    return settle(inst(), Payment(Money("1100.00"), PAID_ON), OVER_ONE, calendar=BRAZIL)


def test_C1_overpayment_beyond_tolerance_settles_with_a_letter() -> None:
    outcome = _c1()
    s = outcome.settlement
    assert s is not None
    assert (s.principal, s.fine, s.interest) == (Money("1000.00"), Money("20.00"), Money("10.33"))
    assert outcome.credit_letter is not None
    assert outcome.credit_letter.balance == Money("69.67")


def _small(installment_id: str, amount: str) -> Installment:
    return Installment(installment_id, "c1", date(2025, 5, 10), Money(amount), TERMS)


def test_C2_C3_using_a_letter_fully_then_partially() -> None:
    letter = _c1().credit_letter
    assert letter is not None
    c2 = use_credit_letter(_small("i2", "50.00"), letter, OVER_ONE, on=date(2025, 5, 5), calendar=BRAZIL)
    assert c2.kind is OutcomeKind.FULL
    assert c2.credit_letter is not None
    assert c2.credit_letter.balance == Money("19.67")
    c3 = use_credit_letter(_small("i3", "100.00"), c2.credit_letter, OVER_ONE, on=date(2025, 5, 5), calendar=BRAZIL)
    assert c3.kind is OutcomeKind.PARTIAL
    assert c3.installment.principal_open == Money("80.33")
    assert c3.credit_letter is not None
    assert c3.credit_letter.balance == Money.ZERO


def test_C4_reversing_the_origin_of_a_used_letter_is_refused() -> None:
    from carteira.errors import RuleViolation

    c1 = _c1()
    assert c1.credit_letter is not None
    assert c1.settlement is not None
    used = use_credit_letter(_small("i2", "50.00"), c1.credit_letter, OVER_ONE, on=date(2025, 5, 5), calendar=BRAZIL)
    with pytest.raises(RuleViolation, match="already used"):
        reverse(c1.installment, c1.settlement, OVER_ONE, on=date(2025, 5, 6), credit_letter=used.credit_letter)


def test_C5_reversing_the_uses_gives_the_balance_back() -> None:
    c1 = _c1()
    assert c1.credit_letter is not None
    i2, i3 = _small("i2", "50.00"), _small("i3", "100.00")
    c2 = use_credit_letter(i2, c1.credit_letter, OVER_ONE, on=date(2025, 5, 5), calendar=BRAZIL)
    assert c2.credit_letter is not None
    c3 = use_credit_letter(i3, c2.credit_letter, OVER_ONE, on=date(2025, 5, 5), calendar=BRAZIL)
    assert c2.settlement is not None
    assert c3.settlement is not None
    r3 = reverse(c3.installment, c3.settlement, OVER_ONE, on=date(2025, 5, 6), credit_letter=c3.credit_letter)
    assert r3.credit_letter is not None
    assert r3.credit_letter.balance == Money("19.67")
    assert r3.installment.state == i3.state
    r2 = reverse(c2.installment, c2.settlement, OVER_ONE, on=date(2025, 5, 6), credit_letter=r3.credit_letter)
    assert r2.credit_letter is not None
    assert r2.credit_letter.balance == Money("69.67")
    assert r2.installment.state == i2.state


# ---- V: anticipation --------------------------------------------------------------------------------

V_VECTORS = [
    ("V1", "1000.00", date(2025, 4, 9), "0.01", "990.10", "9.90"),
    ("V2", "1000.00", date(2025, 3, 10), "0.01", "1000.00", "0.00"),
    ("V3", "1000.00", date(2025, 3, 1), "0.01", "1000.00", "0.00"),
    ("V4", "1000.00", date(2025, 3, 11), "0.01", "999.67", "0.33"),
    ("V5", "5000.00", date(2025, 4, 24), "0.015", "4889.57", "110.43"),
    ("V6", "2500.00", date(2026, 3, 10), "0.02", "1964.74", "535.26"),
    ("V7", "1234.56", date(2025, 5, 9), "0.0199", "1186.85", "47.71"),
    ("V8", "1000.00", date(2025, 6, 8), "0.02", "942.32", "57.68"),
]


@pytest.mark.parametrize(
    ("face", "due", "rate", "pv", "discount"), [pytest.param(*row[1:], id=row[0]) for row in V_VECTORS]
)
def test_present_value_vectors(face: str, due: date, rate: str, pv: str, discount: str) -> None:
    value = present_value(Money(face), due, D, Decimal(rate))
    assert value == Money(pv)
    assert Money(face) - value == Money(discount)


# ---- K: carnets ---------------------------------------------------------------------------------------


def test_K1_first_plus_k_months_clamps_to_the_month_end() -> None:
    assert carnet_due_dates(date(2025, 1, 31), 4) == (
        date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30),
    )  # fmt: skip


def test_K2_chaining_month_by_month_would_drift() -> None:
    chained = [date(2025, 1, 31)]
    for _ in range(3):
        from dateutil.relativedelta import relativedelta

        chained.append(chained[-1] + relativedelta(months=1))
    assert chained == [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 28), date(2025, 4, 28)]
    assert tuple(chained) != carnet_due_dates(date(2025, 1, 31), 4)


@pytest.mark.parametrize(
    ("first", "count", "expected"),
    [
        pytest.param(date(2024, 1, 31), 3, (date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31)), id="K3"),
        pytest.param(date(2023, 12, 31), 3, (date(2023, 12, 31), date(2024, 1, 31), date(2024, 2, 29)), id="K4"),
        pytest.param(date(2024, 2, 29), 3, (date(2024, 2, 29), date(2024, 3, 29), date(2024, 4, 29)), id="K5"),
    ],
)
def test_carnet_due_date_vectors(first: date, count: int, expected: tuple[date, ...]) -> None:
    assert carnet_due_dates(first, count) == expected


def test_K5_twelve_months_after_a_leap_day() -> None:
    assert carnet_due_dates(date(2024, 2, 29), 13)[12] == date(2025, 2, 28)


LIMITS = CarnetLimits(min_parcels=2, max_parcels=12)  # a gateway's limits, here the ones Efí's adapter uses


def _parcels(values: list[str], dues: list[date], descriptions: list[str] | None = None) -> list[Installment]:
    descriptions = descriptions or ["Internet 300M"] * len(values)
    return [
        Installment(f"p{n + 1}", "c1", due, Money(value), TERMS, number=n + 1, description=text)
        for n, (value, due, text) in enumerate(zip(values, dues, descriptions, strict=True))
    ]


def test_K6_a_clamped_monthly_series_is_one_carnet() -> None:
    dues = [date(2025, 1, 30), date(2025, 2, 28), date(2025, 3, 30), date(2025, 4, 30)]
    plan = plan_carnet(_parcels(["99.90"] * 4, dues), LIMITS)
    assert plan.billets == ()
    assert [c.parcel_ids for c in plan.carnets] == [("p1", "p2", "p3", "p4")]
    assert plan.carnets[0].due_dates == tuple(dues)


def test_K7_a_chained_series_is_billets() -> None:
    plan = plan_carnet(_parcels(["99.90"] * 3, [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 28)]), LIMITS)
    assert plan.billets == ("p1", "p2", "p3")
    assert plan.carnets == ()
    assert "2025-03-31" in plan.reasons[-1]


K8_DUES = [date(2025, 1, 15), date(2025, 2, 15), date(2025, 3, 15), date(2025, 4, 15)]


def test_K8_pro_rata_first_parcel_goes_as_a_billet() -> None:
    plan = plan_carnet(_parcels(["37.42", "99.90", "99.90", "99.90"], K8_DUES), LIMITS)
    assert plan.billets == ("p1",)
    assert [c.parcel_ids for c in plan.carnets] == [("p2", "p3", "p4")]
    assert plan.carnets[0].first_due == date(2025, 2, 15)


def test_K9_reanchoring_on_parcel_two_can_break_a_day_31_series() -> None:
    dues = [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30)]
    plan = plan_carnet(_parcels(["37.42", "99.90", "99.90", "99.90"], dues), LIMITS)
    assert plan.billets == ("p1", "p2", "p3", "p4")
    assert plan.carnets == ()


def test_K10_a_minimum_the_split_cannot_meet_gives_billets() -> None:
    plan = plan_carnet(
        _parcels(["37.42", "99.90", "99.90", "99.90"], K8_DUES), CarnetLimits(min_parcels=4, max_parcels=12)
    )
    assert plan.billets == ("p1", "p2", "p3", "p4")
    assert plan.carnets == ()


def test_K11_different_descriptions_give_billets() -> None:
    dues = carnet_due_dates(date(2025, 1, 10), 6)
    texts = ["Plano A"] * 3 + ["Plano B"] + ["Plano A"] * 2
    plan = plan_carnet(_parcels(["99.90"] * 6, list(dues), texts), LIMITS)
    assert plan.billets == tuple(f"p{n}" for n in range(1, 7))
    assert "Plano B" in plan.reasons[-1]


def test_K12_a_weekly_series_is_not_a_carnet() -> None:
    plan = plan_carnet(_parcels(["99.90"] * 3, [date(2025, 3, 3), date(2025, 3, 10), date(2025, 3, 17)]), LIMITS)
    assert plan.billets == ("p1", "p2", "p3")
