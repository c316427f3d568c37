"""Bad input gets a typed error from carteira.errors (or TypeError for a float) that names the argument."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from carteira import BrazilBankingCalendar
from carteira.domain import (
    ChargeTerms,
    Installment,
    Money,
    Payment,
    SettlementPolicy,
    Tolerance,
    amount_due,
    present_value,
    settle,
)
from carteira.errors import CarteiraError, InvalidInput, MoneyTypeError

TERMS = ChargeTerms(Decimal("0.02"), Decimal("0.01"))
INSTALLMENT = Installment("i1", "c1", date(2025, 3, 10), Money("100.00"), TERMS)


@pytest.mark.parametrize("value", [10.5, 0.1, float("nan")])
def test_money_refuses_float_with_a_type_error(value: float) -> None:
    with pytest.raises(TypeError, match="float") as caught:
        Money(value)  # type: ignore[arg-type]
    assert isinstance(caught.value, CarteiraError)


@pytest.mark.parametrize("value", [True, False, None, [1], b"10"])
def test_money_refuses_other_types(value: object) -> None:
    with pytest.raises(MoneyTypeError) as caught:
        Money(value)  # type: ignore[arg-type]
    assert caught.value.field == "amount"


@pytest.mark.parametrize("value", ["10.505", "abc", "", "NaN", "Infinity", Decimal("0.001")])
def test_money_refuses_what_is_not_whole_cents(value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        Money(value)  # type: ignore[arg-type]
    assert caught.value.field == "amount"


@pytest.mark.parametrize("other", [Decimal("1.00"), 1, 0])
@pytest.mark.parametrize(
    "operation",
    [
        lambda m, o: m + o,
        lambda m, o: o + m,
        lambda m, o: m - o,
        lambda m, o: m < o,
        lambda m, o: m >= o,
        lambda m, o: m == o,
    ],
    ids=["add", "radd", "sub", "lt", "ge", "eq"],
)
def test_money_does_not_mix_with_bare_numbers(operation: object, other: object) -> None:
    with pytest.raises(MoneyTypeError) as caught:
        operation(Money("1.00"), other)  # type: ignore[operator]
    assert caught.value.field == "other"
    assert "Money(" in str(caught.value)


def test_money_refuses_float_and_bool_factors() -> None:
    with pytest.raises(TypeError, match="float"):
        Money("1.00") * 1.5  # type: ignore[operator]
    with pytest.raises(MoneyTypeError):
        Money("1.00") * True


def test_money_has_no_truth_value() -> None:
    with pytest.raises(MoneyTypeError, match=r"Money\.ZERO"):
        bool(Money.ZERO)


def test_money_equality_with_non_numbers_is_just_false() -> None:
    assert Money("1.00") != "1.00"
    assert Money("1.00") != None  # noqa: E711 (the point: no exception for None)


@pytest.mark.parametrize(
    ("amount", "field"),
    [(Money.ZERO, "amount"), (Money("-1.00"), "amount"), (Decimal("10"), "amount")],
)
def test_a_payment_must_be_positive_money(amount: object, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Payment(amount, date(2025, 1, 1))  # type: ignore[arg-type]
    assert caught.value.field == field


def test_a_float_payment_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="float"):
        Payment(10.0, date(2025, 1, 1))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["discount", "abatement", "bank_charges", "other"])
def test_payment_parts_must_not_be_negative(name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Payment(Money("1.00"), date(2025, 1, 1), **{name: Money("-0.01")})  # type: ignore[arg-type]
    assert caught.value.field == name


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"fine_rate": Decimal("1.5"), "monthly_interest_rate": Decimal("0.01")}, "fine_rate"),
        ({"fine_rate": Decimal("-0.01"), "monthly_interest_rate": Decimal("0.01")}, "fine_rate"),
        ({"fine_rate": Decimal("0.02"), "monthly_interest_rate": Decimal("2")}, "monthly_interest_rate"),
        ({"fine_rate": "0.02", "monthly_interest_rate": Decimal("0.01")}, "fine_rate"),
        ({"fine_rate": Decimal("0.02"), "monthly_interest_rate": Decimal("0.01"), "grace_days": -1}, "grace_days"),
        ({"fine_rate": Decimal("0.02"), "monthly_interest_rate": Decimal("0.01"), "grace_days": True}, "grace_days"),
        ({"fine_rate": Decimal("NaN"), "monthly_interest_rate": Decimal("0.01")}, "fine_rate"),
    ],
)
def test_terms_refuse_rates_outside_zero_one_and_negative_grace(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        ChargeTerms(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_a_float_rate_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="float"):
        ChargeTerms(0.02, Decimal("0.01"))  # type: ignore[arg-type]


def test_tolerance_refuses_bad_limits() -> None:
    with pytest.raises(InvalidInput):
        Tolerance(amount=Money("-1.00"))
    with pytest.raises(InvalidInput):
        Tolerance(rate=Decimal("1.01"))


@pytest.mark.parametrize("value", ["2025-03-10", datetime(2025, 3, 10, 12, 0), 20250310, None])
def test_dates_must_be_dates(value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        amount_due(INSTALLMENT, value)  # type: ignore[arg-type]
    assert caught.value.field == "on"
    with pytest.raises(InvalidInput) as caught:
        Payment(Money("1.00"), value)  # type: ignore[arg-type]
    assert caught.value.field == "paid_on"
    with pytest.raises(InvalidInput) as caught:
        Installment("i", "c", value, Money("1.00"), TERMS)  # type: ignore[arg-type]
    assert caught.value.field == "due"


def test_installment_refuses_zero_amount_and_bad_terms() -> None:
    with pytest.raises(InvalidInput) as caught:
        Installment("i", "c", date(2025, 1, 1), Money.ZERO, TERMS)
    assert caught.value.field == "amount"
    with pytest.raises(InvalidInput) as caught:
        Installment("i", "c", date(2025, 1, 1), Money("1.00"), {"fine_rate": 0.02})  # type: ignore[arg-type]
    assert caught.value.field == "terms"


def test_settle_refuses_wrong_argument_types() -> None:
    with pytest.raises(InvalidInput) as caught:
        settle(INSTALLMENT, Money("1.00"), SettlementPolicy())  # type: ignore[arg-type]
    assert caught.value.field == "payment"


def test_present_value_refuses_bad_rates() -> None:
    with pytest.raises(InvalidInput) as caught:
        present_value(Money("1.00"), date(2025, 1, 1), date(2024, 1, 1), Decimal("-0.1"))
    assert caught.value.field == "monthly_rate"
    with pytest.raises(TypeError):
        present_value(Money("1.00"), date(2025, 1, 1), date(2024, 1, 1), 0.01)  # type: ignore[arg-type]


def test_calendar_refuses_extra_holidays_that_are_not_dates() -> None:
    with pytest.raises(InvalidInput) as caught:
        BrazilBankingCalendar(extra_holidays=["2025-01-25"])  # type: ignore[list-item]
    assert caught.value.field == "extra_holidays"


def test_invalid_input_message_says_what_where_and_why() -> None:
    error = InvalidInput("is not a number", field="valor_pago", source="RET.ret", line=7, raw="00A", hint="check it")
    assert str(error) == "RET.ret:7: valor_pago: is not a number (found '00A'). check it"
    assert isinstance(error, ValueError)
