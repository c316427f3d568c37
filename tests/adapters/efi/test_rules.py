"""The checks made before anything is sent (SPEC G2, G4): names, tax ids, phones, totals, terms, dates."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira.adapters.efi import rules
from carteira.domain import CarnetLimits
from carteira.domain.money import Money
from carteira.errors import GatewayValidationError, InvalidInput, InvalidType
from carteira.ports.gateway import Address, CarnetRequest, Item, Payer

from .scripted import CPF, TODAY, billet

CNPJ = "11.222.333/0001-81"


def _cpf_with_check_digits(body: str) -> str:
    digits = [int(d) for d in body]
    for _ in range(2):
        weights = range(len(digits) + 1, 1, -1)
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    return "".join(map(str, digits))


@given(st.text(alphabet="0123456789", min_size=9, max_size=9).filter(lambda s: len(set(s)) > 1))
def test_every_cpf_with_right_check_digits_passes_and_any_other_last_digit_fails(body: str) -> None:
    cpf = _cpf_with_check_digits(body)
    assert rules.tax_id_digits(cpf) == ("cpf", cpf)
    wrong = cpf[:-1] + str((int(cpf[-1]) + 1) % 10)
    with pytest.raises(GatewayValidationError) as caught:
        rules.tax_id_digits(wrong)
    assert caught.value.field == "payer.tax_id"
    assert caught.value.code is None  # refused here, not by Efí


@pytest.mark.parametrize("tax_id", ["111.111.111-11", "00000000000", "1234567890", "52998224724", "11222333000182"])
def test_bad_tax_ids_are_refused_with_the_field_named(tax_id: str) -> None:
    with pytest.raises(GatewayValidationError, match=r"payer\.tax_id"):
        rules.tax_id_digits(tax_id)


def test_a_cnpj_is_recognised_with_punctuation() -> None:
    assert rules.tax_id_digits(CNPJ) == ("cnpj", "11222333000181")


@pytest.mark.parametrize(
    ("phone", "sent"),
    [
        ("(11) 98765-4321", "11987654321"),
        ("+55 21 3456-7890", "2134567890"),
        ("5511987654321", "11987654321"),
        ("", None),
        ("98765-4321", None),  # no area code
        ("(01) 98765-4321", None),  # area codes do not start with 0
        ("11 88765-43210", None),  # too long
    ],
)
def test_phones_are_sent_as_digits_or_left_out(phone: str, sent: str | None) -> None:
    assert rules.phone_digits(phone) == sent


@given(st.integers(min_value=0, max_value=1000))
def test_fine_maps_a_rate_to_hundredths_of_a_percent(units: int) -> None:
    assert rules.fine_units(Decimal(units) / 10_000) == units


@given(st.integers(min_value=1, max_value=9999))
def test_a_fine_finer_than_a_hundredth_of_a_percent_is_refused(units: int) -> None:
    with pytest.raises(GatewayValidationError) as caught:
        rules.fine_units(Decimal(units) / 100_000 + Decimal("0.000001"))
    assert caught.value.field == "fine_rate"


def test_fine_over_ten_percent_is_refused() -> None:
    with pytest.raises(GatewayValidationError, match="10 %"):
        rules.fine_units(Decimal("0.1001"))


@given(st.decimals(min_value=0, max_value=Decimal("0.099"), places=5))
def test_interest_is_the_rounded_daily_rate_and_says_when_it_rounded(monthly: Decimal) -> None:
    units, note = rules.interest_units(monthly)
    exact = monthly * 100_000 / 30
    assert abs(Decimal(units) - exact) <= Decimal("0.5")  # the nearest whole unit
    assert 0 <= units <= rules.INTEREST_UNITS_MAX
    assert (note is None) == (Decimal(units) == exact)


def test_one_percent_a_month_is_33_and_the_loss_is_reported() -> None:
    units, note = rules.interest_units(Decimal("0.01"))
    assert units == 33
    assert note is not None
    assert "0.99 %" in note


@given(st.decimals(min_value=Decimal("0.09915"), max_value=1, places=5))
def test_interest_over_the_cap_is_refused(monthly: Decimal) -> None:
    with pytest.raises(GatewayValidationError) as caught:
        rules.interest_units(monthly)
    assert caught.value.field == "monthly_interest_rate"


@pytest.mark.parametrize("name", ["Maria", "  Maria  ", "Maria "])
def test_a_person_needs_two_words(name: str) -> None:
    with pytest.raises(GatewayValidationError) as caught:
        rules.check_billet(billet(payer=Payer(name, CPF)), TODAY)
    assert caught.value.field == "payer.name"


def test_a_company_may_have_a_one_word_name() -> None:
    checked = rules.check_billet(billet(payer=Payer("Acme", CNPJ)), TODAY)
    assert checked.payer.kind == "cnpj"


@pytest.mark.parametrize(("cents", "refused"), [(499, True), (500, False), (501, False)])
def test_the_total_must_reach_five_reais(cents: int, refused: bool) -> None:
    request = billet(items=(Item("x", Money.from_cents(cents)),))
    if refused:
        with pytest.raises(GatewayValidationError, match=r"R\$ 5\.00") as caught:
            rules.check_billet(request, TODAY)
        assert caught.value.field == "items"
    else:
        assert rules.check_billet(request, TODAY).total == Money.from_cents(cents)


def test_quantity_and_shipping_count_in_the_total() -> None:
    request = billet(items=(Item("x", Money("2.00"), quantity=2),), shipping=Money("1.00"))
    assert rules.check_billet(request, TODAY).total == Money("5.00")


@pytest.mark.parametrize("due", [TODAY - timedelta(days=1), TODAY])
def test_a_due_date_on_or_before_today_is_refused(due: date) -> None:
    with pytest.raises(GatewayValidationError) as caught:
        rules.check_billet(billet(due=due), TODAY)
    assert caught.value.field == "due"
    assert "nothing was sent" in str(caught.value)


def test_small_totals_report_that_efi_drops_the_terms() -> None:
    request = billet(items=(Item("x", Money("6.00")),), fine_rate=Decimal("0.02"))
    assert any("no fine or interest" in note for note in rules.check_billet(request, TODAY).adjustments)


def test_a_bad_phone_is_reported_not_refused() -> None:
    checked = rules.check_billet(billet(payer=Payer("Maria da Silva", CPF, phone="n/a")), TODAY)
    assert checked.payer.phone is None
    assert any("phone" in note for note in checked.adjustments)


def test_address_fields_are_checked() -> None:
    address = Address("Rua A", "10", "Centro", "01001-000", "São Paulo", "XX")
    with pytest.raises(GatewayValidationError) as caught:
        rules.check_billet(billet(payer=Payer("Maria da Silva", CPF, address=address)), TODAY)
    assert caught.value.field == "payer.address.state"


def test_message_has_at_most_four_lines_of_100() -> None:
    rules.check_billet(billet(message="\n".join(["x" * 100] * 4)), TODAY)
    with pytest.raises(GatewayValidationError, match="message"):
        rules.check_billet(billet(message="\n".join(["x"] * 5)), TODAY)


@pytest.mark.parametrize("repeats", [1, 13])
def test_carnet_repeats_are_2_to_12_by_default(repeats: int) -> None:
    request = CarnetRequest(
        items=(Item("Curso", Money("300.00")),),
        payer=Payer("João Souza", CPF),
        first_due=date(2026, 4, 5),
        repeats=repeats,
    )
    with pytest.raises(GatewayValidationError) as caught:
        rules.check_carnet(request, TODAY)
    assert caught.value.field == "repeats"


def _carnet(repeats: int) -> CarnetRequest:
    return CarnetRequest(
        items=(Item("Curso", Money("300.00")),),
        payer=Payer("João Souza", CPF),
        first_due=date(2026, 4, 5),
        repeats=repeats,
    )


@pytest.mark.parametrize(("repeats", "ok"), [(2, False), (3, True), (18, True), (19, False)])
def test_carnet_repeats_follow_the_limits_given(repeats: int, ok: bool) -> None:
    limits = CarnetLimits(min_parcels=3, max_parcels=18)
    if ok:
        rules.check_carnet(_carnet(repeats), TODAY, limits)
        return
    with pytest.raises(GatewayValidationError, match="3 to 18") as caught:
        rules.check_carnet(_carnet(repeats), TODAY, limits)
    assert caught.value.field == "repeats"


def test_efi_carnet_limits_are_2_to_12_and_at_most_24_can_be_configured() -> None:
    assert CarnetLimits(min_parcels=2, max_parcels=12) == rules.EFI_CARNET_LIMITS
    assert rules.check_limits(CarnetLimits(min_parcels=2, max_parcels=24)).max_parcels == 24
    for limits in (CarnetLimits(min_parcels=2, max_parcels=25), CarnetLimits(min_parcels=1, max_parcels=12)):
        with pytest.raises(InvalidInput) as caught:
            rules.check_limits(limits)
        assert caught.value.field == "carnet_limits"
    with pytest.raises(InvalidType):
        rules.check_limits((2, 12))  # type: ignore[arg-type]


@given(st.integers(1, 10**18 - 1))
def test_an_efi_id_goes_to_the_wire_and_back_unchanged(number: int) -> None:
    assert rules.efi_id(str(number), "charge_id") == number


@pytest.mark.parametrize(
    "text", ["", "0", "007", "-4", "+4", " 4", "4 ", "4.0", "1e3", "٣", "1" * 19, "0b1", "3f2504e0-4f89-11d3"]
)
def test_an_id_efi_could_not_have_issued_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(GatewayValidationError) as caught:
        rules.efi_id(text, "carnet_id")
    assert caught.value.field == "carnet_id"
    assert caught.value.code is None
    assert not isinstance(caught.value, ValueError) or isinstance(caught.value, GatewayValidationError)


@pytest.mark.parametrize("value", [4711, None, 4711.0, True, b"4711"])
def test_an_id_that_is_not_a_string_is_a_type_error_naming_the_field(value: object) -> None:
    with pytest.raises(InvalidType) as caught:
        rules.efi_id(value, "charge_id")  # type: ignore[arg-type]
    assert caught.value.field == "charge_id"
