"""Bad input gets a typed error naming the argument: InvalidType for a wrong type, InvalidInput for a wrong value."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import pytest

from carteira import BrazilBankingCalendar
from carteira.domain import (
    AnticipatedInstallment,
    Anticipation,
    ChargeTerms,
    CreditLetter,
    EveryDayCalendar,
    Installment,
    Money,
    Payment,
    SettlementPolicy,
    Tolerance,
    amount_due,
    anticipate,
    present_value,
    reverse,
    settle,
    use_credit_letter,
)
from carteira.errors import CarteiraError, InvalidInput, InvalidType

TERMS = ChargeTerms(Decimal("0.02"), Decimal("0.01"))
DUE = date(2025, 3, 10)
INSTALLMENT = Installment("i1", "c1", DUE, Money("100.00"), TERMS)
EVERY_DAY = EveryDayCalendar()
LETTER = CreditLetter("L1", "c1", Money("5.00"), "origin", DUE)
FLOAT = 10.5


@pytest.mark.parametrize("value", [10.5, 0.1, float("nan")])
def test_money_refuses_float_with_a_type_error(value: float) -> None:
    with pytest.raises(TypeError, match="float") as caught:
        Money(value)  # type: ignore[arg-type]
    assert isinstance(caught.value, CarteiraError)
    assert isinstance(caught.value, InvalidType)


@pytest.mark.parametrize("value", [True, False, None, [1], b"10"])
def test_money_refuses_other_types(value: object) -> None:
    with pytest.raises(InvalidType) as caught:
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
    with pytest.raises(InvalidType) as caught:
        operation(Money("1.00"), other)  # type: ignore[operator]
    assert caught.value.field == "other"
    assert "Money(" in str(caught.value)


def test_money_refuses_bool_and_non_finite_factors() -> None:
    with pytest.raises(InvalidType) as caught:
        Money("1.00") * True
    assert caught.value.field == "factor"
    with pytest.raises(InvalidInput) as wrong_value:
        Money("1.00") * Decimal("NaN")
    assert wrong_value.value.field == "factor"


def test_money_has_no_truth_value() -> None:
    with pytest.raises(InvalidType, match=r"Money\.ZERO"):
        bool(Money.ZERO)


def test_money_equality_with_non_numbers_is_just_false() -> None:
    assert Money("1.00") != "1.00"
    assert Money("1.00") != None  # noqa: E711 (the point: no exception for None)


# ---- a float in every money or rate argument: InvalidType naming the field -------------------------------

_MONEY = Money("1.00")
_RATE = Decimal("0.01")


def _installment(**fields: object) -> object:
    return Installment("i", "c", DUE, fields.pop("amount", _MONEY), TERMS, **fields)  # type: ignore[arg-type]


def _letter(**fields: object) -> object:
    return CreditLetter("L", "c", fields.pop("amount", _MONEY), "s", DUE, **fields)  # type: ignore[arg-type]


# (what is called, the field the error must name); each call has FLOAT where money or a rate belongs.
FLOATS: list[tuple[str, Callable[[], object], str]] = [
    ("Money", lambda: Money(FLOAT), "amount"),  # type: ignore[arg-type]
    ("Money.from_cents", lambda: Money.from_cents(FLOAT), "cents"),  # type: ignore[arg-type]
    ("Money.rounded", lambda: Money.rounded(FLOAT), "exact"),  # type: ignore[arg-type]
    ("Money * float", lambda: _MONEY * FLOAT, "factor"),  # type: ignore[operator]
    ("float * Money", lambda: FLOAT * _MONEY, "factor"),  # type: ignore[operator]
    ("Money + float", lambda: _MONEY + FLOAT, "other"),  # type: ignore[operator]
    ("Money - float", lambda: _MONEY - FLOAT, "other"),  # type: ignore[operator]
    ("Money < float", lambda: _MONEY < FLOAT, "other"),  # type: ignore[operator]
    ("Money == float", lambda: _MONEY == FLOAT, "other"),
    ("Installment.amount", lambda: _installment(amount=FLOAT), "amount"),
    ("Installment.principal_open", lambda: _installment(principal_open=FLOAT), "principal_open"),
    ("Installment.fine_open", lambda: _installment(fine_open=FLOAT), "fine_open"),
    ("Installment.interest_open", lambda: _installment(interest_open=FLOAT), "interest_open"),
    ("Payment.amount", lambda: Payment(FLOAT, DUE), "amount"),  # type: ignore[arg-type]
    ("Payment.discount", lambda: Payment(_MONEY, DUE, discount=FLOAT), "discount"),  # type: ignore[arg-type]
    ("Payment.abatement", lambda: Payment(_MONEY, DUE, abatement=FLOAT), "abatement"),  # type: ignore[arg-type]
    ("Payment.bank_charges", lambda: Payment(_MONEY, DUE, bank_charges=FLOAT), "bank_charges"),  # type: ignore[arg-type]
    ("Payment.other", lambda: Payment(_MONEY, DUE, other=FLOAT), "other"),  # type: ignore[arg-type]
    ("Tolerance.amount", lambda: Tolerance(amount=FLOAT), "amount"),  # type: ignore[arg-type]
    ("Tolerance.rate", lambda: Tolerance(rate=FLOAT), "rate"),  # type: ignore[arg-type]
    ("Tolerance.limit", lambda: Tolerance().limit(FLOAT), "expected"),  # type: ignore[arg-type]
    ("ChargeTerms.fine_rate", lambda: ChargeTerms(FLOAT, _RATE), "fine_rate"),  # type: ignore[arg-type]
    ("ChargeTerms.monthly_interest_rate", lambda: ChargeTerms(_RATE, FLOAT), "monthly_interest_rate"),  # type: ignore[arg-type]
    ("ChargeTerms.fine_on", lambda: TERMS.fine_on(FLOAT), "principal"),  # type: ignore[arg-type]
    ("ChargeTerms.interest_on", lambda: TERMS.interest_on(FLOAT, 30), "principal"),  # type: ignore[arg-type]
    ("CreditLetter.amount", lambda: _letter(amount=FLOAT), "amount"),
    ("CreditLetter.balance", lambda: _letter(balance=FLOAT), "balance"),
    ("CreditLetter.draw", lambda: LETTER.draw(FLOAT), "value"),  # type: ignore[arg-type]
    ("CreditLetter.refund", lambda: LETTER.refund(FLOAT), "value"),  # type: ignore[arg-type]
    ("present_value.face_value", lambda: present_value(FLOAT, DUE, DUE, _RATE), "face_value"),  # type: ignore[arg-type]
    ("present_value.monthly_rate", lambda: present_value(_MONEY, DUE, DUE, FLOAT), "monthly_rate"),  # type: ignore[arg-type]
    ("anticipate.monthly_rate", lambda: anticipate("a", [INSTALLMENT], DUE, FLOAT), "monthly_rate"),  # type: ignore[arg-type]
    ("Anticipation.monthly_rate", lambda: Anticipation("a", FLOAT, DUE, ()), "monthly_rate"),  # type: ignore[arg-type]
    ("AnticipatedInstallment.face_value", lambda: AnticipatedInstallment("i", FLOAT, DUE, _MONEY), "face_value"),  # type: ignore[arg-type]
    ("AnticipatedInstallment.present_value", lambda: AnticipatedInstallment("i", _MONEY, DUE, FLOAT), "present_value"),  # type: ignore[arg-type]
    ("settle.payment", lambda: settle(INSTALLMENT, FLOAT, SettlementPolicy(), calendar=EVERY_DAY), "payment"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("call", "field"), [pytest.param(call, field, id=name) for name, call, field in FLOATS])
def test_a_float_where_money_or_a_rate_belongs_is_invalid_type(call: Callable[[], object], field: str) -> None:
    with pytest.raises(InvalidType) as caught:
        call()
    assert caught.value.field == field
    assert "float" in str(caught.value)


def test_invalid_type_is_a_type_error_and_survives_pickling() -> None:
    with pytest.raises(TypeError) as caught:
        Payment(FLOAT, DUE)  # type: ignore[arg-type]
    copy = pickle.loads(pickle.dumps(caught.value))
    assert isinstance(copy, InvalidType)
    assert (copy.field, str(copy)) == ("amount", str(caught.value))


# ---- other wrong types: InvalidType too; wrong values stay InvalidInput ----------------------------------


@pytest.mark.parametrize(
    ("amount", "error"),
    [(Money.ZERO, InvalidInput), (Money("-1.00"), InvalidInput), (Decimal("10"), InvalidType), (10, InvalidType)],
)
def test_a_payment_must_be_positive_money(amount: object, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        Payment(amount, date(2025, 1, 1))  # type: ignore[arg-type]
    assert caught.value.field == "amount"  # type: ignore[attr-defined]


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
        ({"fine_rate": Decimal("0.02"), "monthly_interest_rate": Decimal("0.01"), "grace_days": -1}, "grace_days"),
        ({"fine_rate": Decimal("NaN"), "monthly_interest_rate": Decimal("0.01")}, "fine_rate"),
    ],
)
def test_terms_refuse_rates_outside_zero_one_and_negative_grace(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        ChargeTerms(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"fine_rate": "0.02", "monthly_interest_rate": Decimal("0.01")}, "fine_rate"),
        ({"fine_rate": Decimal("0.02"), "monthly_interest_rate": 1}, "monthly_interest_rate"),
        ({"fine_rate": Decimal("0.02"), "monthly_interest_rate": Decimal("0.01"), "grace_days": True}, "grace_days"),
        ({"fine_rate": Decimal("0.02"), "monthly_interest_rate": Decimal("0.01"), "grace_days": 1.0}, "grace_days"),
        (
            {"fine_rate": Decimal("0.02"), "monthly_interest_rate": Decimal("0.01"), "interest_mode": "pro_rata"},
            "interest_mode",
        ),
    ],
)
def test_terms_refuse_wrong_types(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidType) as caught:
        ChargeTerms(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_tolerance_refuses_bad_limits() -> None:
    with pytest.raises(InvalidInput):
        Tolerance(amount=Money("-1.00"))
    with pytest.raises(InvalidInput):
        Tolerance(rate=Decimal("1.01"))
    with pytest.raises(InvalidType) as caught:
        Tolerance(amount=Decimal("1.00"))  # type: ignore[arg-type]
    assert caught.value.field == "amount"


def test_policy_refuses_wrong_types() -> None:
    with pytest.raises(InvalidType) as caught:
        SettlementPolicy(over=Money("1.00"))  # type: ignore[arg-type]
    assert caught.value.field == "over"
    with pytest.raises(InvalidType) as caught:
        SettlementPolicy(settle_beyond_tolerance=1)  # type: ignore[arg-type]
    assert caught.value.field == "settle_beyond_tolerance"


@pytest.mark.parametrize("value", ["2025-03-10", datetime(2025, 3, 10, 12, 0), 20250310, None])
def test_dates_must_be_dates(value: object) -> None:
    with pytest.raises(InvalidType) as caught:
        amount_due(INSTALLMENT, on=value, calendar=EVERY_DAY)  # type: ignore[arg-type]
    assert caught.value.field == "on"
    with pytest.raises(InvalidType) as caught:
        Payment(Money("1.00"), value)  # type: ignore[arg-type]
    assert caught.value.field == "paid_on"
    with pytest.raises(InvalidType) as caught:
        Installment("i", "c", value, Money("1.00"), TERMS)  # type: ignore[arg-type]
    assert caught.value.field == "due"


def test_installment_refuses_zero_amount_and_bad_terms() -> None:
    with pytest.raises(InvalidInput) as caught:
        Installment("i", "c", date(2025, 1, 1), Money.ZERO, TERMS)
    assert caught.value.field == "amount"
    with pytest.raises(InvalidType) as wrong_type:
        Installment("i", "c", date(2025, 1, 1), Money("1.00"), {"fine_rate": 0.02})  # type: ignore[arg-type]
    assert wrong_type.value.field == "terms"
    with pytest.raises(InvalidType) as flag:
        Installment("i", "c", date(2025, 1, 1), Money("1.00"), TERMS, number=True)
    assert flag.value.field == "number"
    with pytest.raises(InvalidInput) as zero:
        Installment("i", "c", date(2025, 1, 1), Money("1.00"), TERMS, number=0)
    assert zero.value.field == "number"


def test_a_letter_balance_above_its_amount_is_a_wrong_value() -> None:
    with pytest.raises(InvalidInput) as caught:
        CreditLetter("L", "c", Money("1.00"), "s", DUE, balance=Money("2.00"))
    assert caught.value.field == "balance"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: settle(INSTALLMENT, Money("1.00"), SettlementPolicy(), calendar=EVERY_DAY), "payment"),
        (lambda: settle("i1", Payment(Money("1.00"), DUE), SettlementPolicy(), calendar=EVERY_DAY), "installment"),
        (lambda: settle(INSTALLMENT, Payment(Money("1.00"), DUE), None, calendar=EVERY_DAY), "policy"),
        (lambda: settle(INSTALLMENT, Payment(Money("1.00"), DUE), SettlementPolicy(), calendar=None), "calendar"),
        (lambda: amount_due(INSTALLMENT, on=DUE, calendar="BR"), "calendar"),
        (lambda: amount_due(LETTER, on=DUE, calendar=EVERY_DAY), "installment"),
        (lambda: use_credit_letter(LETTER, INSTALLMENT, SettlementPolicy(), on=DUE, calendar=EVERY_DAY), "installment"),
        (lambda: use_credit_letter(INSTALLMENT, LETTER, SettlementPolicy(), on="2025-03-10", calendar=EVERY_DAY), "on"),
        (lambda: use_credit_letter(INSTALLMENT, LETTER, SettlementPolicy(), on=DUE, calendar=None), "calendar"),
        (lambda: reverse(INSTALLMENT, LETTER, SettlementPolicy(), on=DUE), "settlement"),
    ],
    ids=[
        "settle-payment",
        "settle-installment",
        "settle-policy",
        "settle-calendar",
        "amount_due-calendar",
        "amount_due-installment",
        "use_credit_letter-swapped",
        "use_credit_letter-on",
        "use_credit_letter-calendar",
        "reverse-settlement",
    ],
)
def test_the_verbs_refuse_wrong_argument_types(call: Callable[[], object], field: str) -> None:
    with pytest.raises(InvalidType) as caught:
        call()
    assert caught.value.field == field


def test_present_value_refuses_bad_rates() -> None:
    with pytest.raises(InvalidInput) as caught:
        present_value(Money("1.00"), date(2025, 1, 1), date(2024, 1, 1), Decimal("-0.1"))
    assert caught.value.field == "monthly_rate"
    with pytest.raises(InvalidType) as wrong_type:
        present_value(Money("1.00"), "2025-01-01", date(2024, 1, 1), Decimal("0.01"))  # type: ignore[arg-type]
    assert wrong_type.value.field == "due"


def test_calendar_refuses_extra_holidays_that_are_not_dates() -> None:
    with pytest.raises(InvalidInput) as caught:
        BrazilBankingCalendar(extra_holidays=["2025-01-25"])  # type: ignore[list-item]
    assert caught.value.field == "extra_holidays"


def test_invalid_input_message_says_what_where_and_why() -> None:
    error = InvalidInput("is not a number", field="valor_pago", source="RET.ret", line=7, raw="00A", hint="check it")
    assert str(error) == "RET.ret:7: valor_pago: is not a number (found '00A'). check it"
    assert isinstance(error, ValueError)
