"""Validation (reference §4.2, §6): what Efí refuses, with the same code and `property` pointer."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira.testing.efi_emulator import EfiEmulator
from carteira.testing.efi_emulator.documents import cnpj_is_valid, cpf_is_valid

from .conftest import CNPJ, CPF, TODAY, billet, carnet, refusal

BB = "payment__banking_billet"
P = "/payment/banking_billet"


@pytest.mark.parametrize(("changes", "expected"), [
    ({"items": []}, (3500034, "/items")),
    ({"items": ...}, (3500034, "/items")),
    ({"items__0__name": ""}, (3500034, "/items/0/name")),
    ({"items__0__name": "x" * 256}, (3500034, "/items/0/name")),
    ({"items__0__value": 125.5}, (3500034, "/items/0/value")),
    ({"items__0__value": "12500"}, (3500034, "/items/0/value")),
    ({"items__0__value": -100}, (3500034, "/items/0/value")),
    ({"items__0__amount": 0}, (3500034, "/items/0/amount")),
    ({"items__0__color": "blue"}, (3500010, "/items/0/color")),
    ({"shippings__0__value": True}, (3500034, "/shippings/0/value")),
    ({"metadata__custom_id": "x" * 256}, (3500034, "/metadata/custom_id")),
    ({"metadata__other": 1}, (3500010, "/metadata/other")),
    ({"surprise": 1}, (3500010, "/surprise")),
    ({f"{BB}__customer__name": "Maria"}, (3500034, f"{P}/customer/name")),
    ({f"{BB}__customer__name": " Maria "}, (3500034, f"{P}/customer/name")),
    ({f"{BB}__customer__cpf": "123.456.789-09"}, (3500034, f"{P}/customer/cpf")),
    ({f"{BB}__customer__cpf": "12345678900"}, (3500034, f"{P}/customer/cpf")),
    ({f"{BB}__customer__cpf": "11111111111"}, (3500034, f"{P}/customer/cpf")),
    ({f"{BB}__customer__cpf": ...}, (3500034, f"{P}/customer/cpf")),
    ({f"{BB}__customer__phone_number": ""}, (3500034, f"{P}/customer/phone_number")),
    ({f"{BB}__customer__phone_number": "(11) 98765-4321"}, (3500034, f"{P}/customer/phone_number")),
    ({f"{BB}__customer__phone_number": "01987654321"}, (3500034, f"{P}/customer/phone_number")),
    ({f"{BB}__customer__phone_number": "1198765432100"}, (3500034, f"{P}/customer/phone_number")),
    ({f"{BB}__customer__email": "maria"}, (3500034, f"{P}/customer/email")),
    ({f"{BB}__customer__birth": "1880-01-01"}, (3500034, f"{P}/customer/birth")),
    ({f"{BB}__customer__birth": "1990-02-30"}, (3500034, f"{P}/customer/birth")),
    ({f"{BB}__customer__address__zipcode": "01001-000"}, (3500034, f"{P}/customer/address/zipcode")),
    ({f"{BB}__customer__address__state": "XX"}, (3500034, f"{P}/customer/address/state")),
    ({f"{BB}__customer__address__city": ...}, (3500034, f"{P}/customer/address/city")),
    ({f"{BB}__expire_at": "2026-3-10"}, (3500034, f"{P}/expire_at")),
    ({f"{BB}__expire_at": "2026-02-30"}, (3500034, f"{P}/expire_at")),
    ({f"{BB}__expire_at": ...}, (3500034, f"{P}/expire_at")),
    ({f"{BB}__configurations__fine": 1001}, (3500034, f"{P}/configurations/fine")),
    ({f"{BB}__configurations__fine": -1}, (3500034, f"{P}/configurations/fine")),
    ({f"{BB}__configurations__interest": 331}, (3500034, f"{P}/configurations/interest")),
    ({f"{BB}__configurations__interest": {"value": 331, "type": "daily"}},
     (3500034, f"{P}/configurations/interest/value")),
    ({f"{BB}__configurations__interest": {"value": 10, "type": "yearly"}},
     (3500034, f"{P}/configurations/interest/type")),
    ({f"{BB}__configurations__days_to_write_off": 121}, (3500034, f"{P}/configurations/days_to_write_off")),
    ({f"{BB}__discount__type": "cents"}, (3500034, f"{P}/discount/type")),
    ({f"{BB}__discount__value": 10001, f"{BB}__discount__type": "percentage"}, (3500034, f"{P}/discount/value")),
    ({f"{BB}__conditional_discount__until_date": ...}, (3500034, f"{P}/conditional_discount/until_date")),
    ({f"{BB}__message": "\n".join(["linha"] * 5)}, (3500034, f"{P}/message")),
    ({f"{BB}__message": "x" * 101}, (3500034, f"{P}/message")),
    ({"payment": {}}, (3500034, f"{P}")),
])
def test_one_step_schema_refusals(api: httpx.Client, emu: EfiEmulator, changes: dict[str, Any],
                                  expected: tuple[int, str]) -> None:
    response = api.post("/v1/charge/one-step", json=billet(**changes))
    assert response.status_code == 400
    assert refusal(response) == expected
    assert emu.charges == {}  # nothing is half written


def test_the_refusal_body_is_efi_shaped(api: httpx.Client) -> None:
    body = api.post("/v1/charge/one-step", json=billet(**{f"{BB}__customer__phone_number": ""})).json()
    assert body["code"] == 3500034
    assert body["error"] == "validation_error"
    assert body["error_description"]["property"] == f"{P}/customer/phone_number"
    assert body["error_description"]["message"]


def test_a_company_payer_needs_no_name_or_cpf(api: httpx.Client) -> None:
    company = {"juridical_person": {"corporate_name": "ACME Ltda", "cnpj": CNPJ}}
    assert api.post("/v1/charge/one-step", json=billet(**{f"{BB}__customer": company})).status_code == 200
    bad = {"juridical_person": {"corporate_name": "ACME Ltda", "cnpj": "11222333000180"}}
    assert refusal(api.post("/v1/charge/one-step", json=billet(**{f"{BB}__customer": bad}))) == (
        3500034, f"{P}/customer/juridical_person/cnpj")


def test_value_floor_after_discount(api: httpx.Client) -> None:
    cheap = billet(items=[{"name": "Taxa", "value": 900}], shippings=[],
                   **{f"{BB}__discount": {"type": "currency", "value": 401}})
    assert refusal(api.post("/v1/charge/one-step", json=cheap))[0] == 4600523
    exact = billet(items=[{"name": "Taxa", "value": 900}], shippings=[],
                   **{f"{BB}__discount": {"type": "currency", "value": 400}})
    assert api.post("/v1/charge/one-step", json=exact).status_code == 200


def test_due_date_range(api: httpx.Client) -> None:
    assert refusal(api.post("/v1/charge/one-step", json=billet(**{f"{BB}__expire_at": "2026-01-09"})))[0] == 4600007
    assert api.post("/v1/charge/one-step", json=billet(**{f"{BB}__expire_at": "2029-06-10"})).status_code == 200
    assert refusal(api.post("/v1/charge/one-step", json=billet(**{f"{BB}__expire_at": "2029-06-11"})))[0] == 4600414


def test_phone_required_switch(emu: EfiEmulator, api: httpx.Client) -> None:
    body = billet(**{f"{BB}__customer__phone_number": ...})
    assert api.post("/v1/charge/one-step", json=body).status_code == 200
    emu.switches.phone_number_required = True
    body = billet(**{f"{BB}__customer__phone_number": ..., "items__0__name": "Outro"})
    assert refusal(api.post("/v1/charge/one-step", json=body)) == (3500034, f"{P}/customer/phone_number")


def test_check_digit_switch(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.switches.verify_check_digits = False
    assert api.post("/v1/charge/one-step", json=billet(**{f"{BB}__customer__cpf": "12345678900"})).status_code == 200


def test_monthly_interest_cap_switch(emu: EfiEmulator, api: httpx.Client) -> None:
    monthly = {f"{BB}__configurations__interest": {"value": 1000, "type": "monthly"}}
    assert refusal(api.post("/v1/charge/one-step", json=billet(**monthly)))[1] == (
        f"{P}/configurations/interest/value")
    emu.switches.interest_monthly_max = None
    assert api.post("/v1/charge/one-step", json=billet(**monthly)).status_code == 200


def test_message_width_switch(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.switches.message_line_max = 80
    assert refusal(api.post("/v1/charge/one-step", json=billet(**{f"{BB}__message": "x" * 81}))) == (
        3500034, f"{P}/message")


def test_negative_items_switch(emu: EfiEmulator, api: httpx.Client) -> None:
    body = billet(items=[{"name": "A", "value": 20000}, {"name": "Abatimento", "value": -1000}])
    assert refusal(api.post("/v1/charge/one-step", json=body))[1] == "/items/1/value"
    emu.switches.negative_item_values = True
    assert api.post("/v1/charge/one-step", json=body).json()["data"]["total"] == 20500


def test_third_identical_charge_is_refused_whatever_the_custom_id(emu: EfiEmulator, api: httpx.Client) -> None:
    for n in range(2):
        assert api.post("/v1/charge/one-step", json=billet(metadata__custom_id=f"op-{n}")).status_code == 200
    third = api.post("/v1/charge/one-step", json=billet(metadata__custom_id="op-2"))
    assert refusal(third)[0] == 4600210
    changed = billet(metadata__custom_id="op-3", **{f"{BB}__expire_at": "2026-03-11"})
    assert api.post("/v1/charge/one-step", json=changed).status_code == 200
    emu.switches.refuse_third_identical = False
    assert api.post("/v1/charge/one-step", json=billet()).status_code == 200


def test_account_rules(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.switches.account_holder_document = CPF
    assert refusal(api.post("/v1/charge/one-step", json=billet()))[0] == 4600222
    emu.switches.account_holder_document = None
    emu.switches.inconsistent_documents = frozenset({CPF})
    assert refusal(api.post("/v1/charge/one-step", json=billet()))[0] == 4600142
    emu.switches.inconsistent_documents = frozenset()
    emu.switches.account_value_limit_cents = 10000
    assert refusal(api.post("/v1/charge/one-step", json=billet()))[0] == 4600037


def test_business_error_status_switch(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.switches.business_error_status = 500
    response = api.post("/v1/charge/one-step", json=billet(**{f"{BB}__expire_at": "2026-01-01"}))
    assert response.status_code == 500
    assert refusal(response)[0] == 4600007


def test_invalid_json_body(api: httpx.Client) -> None:
    response = api.post("/v1/charge/one-step", content=b"{not json", headers={"content-type": "application/json"})
    assert refusal(response) == (3500034, "/")


def test_carnet_pointers_have_no_payment_prefix(api: httpx.Client) -> None:
    assert refusal(api.post("/v1/carnet", json=carnet(customer__phone_number="1234"))) == (
        3500034, "/customer/phone_number")
    assert refusal(api.post("/v1/carnet", json=carnet(configurations__days_to_write_off=10))) == (
        3500010, "/configurations/days_to_write_off")


# -- check digits, on their own ------------------------------------------------------------------------------

def _with_check_digits(base: list[int], weights_first: list[int], weights_second: list[int]) -> str:
    def digit(digits: list[int], weights: list[int]) -> int:
        rest = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        return 0 if rest < 2 else 11 - rest
    first = digit(base, weights_first)
    second = digit([*base, first], weights_second)
    return "".join(map(str, [*base, first, second]))


@given(st.lists(st.integers(0, 9), min_size=9, max_size=9).filter(lambda d: len(set(d)) > 1))
def test_cpf_with_right_check_digits_is_valid_and_any_other_pair_is_not(base: list[int]) -> None:
    cpf = _with_check_digits(base, list(range(10, 1, -1)), list(range(11, 1, -1)))
    assert cpf_is_valid(cpf)
    wrong = cpf[:9] + f"{(int(cpf[9:]) + 1) % 100:02d}"
    assert not cpf_is_valid(wrong)


@given(st.lists(st.integers(0, 9), min_size=12, max_size=12).filter(lambda d: len(set(d)) > 1))
def test_cnpj_with_right_check_digits_is_valid(base: list[int]) -> None:
    first = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    cnpj = _with_check_digits(base, first, [6, *first])
    assert cnpj_is_valid(cnpj)
    assert not cnpj_is_valid(cnpj[:13] + str((int(cnpj[13]) + 1) % 10))


def test_known_documents() -> None:
    assert cpf_is_valid("52998224725")
    assert cpf_is_valid(CPF)
    assert not cpf_is_valid("00000000000")
    assert cnpj_is_valid(CNPJ)
    assert not cnpj_is_valid("1122233300018")


@given(st.text(alphabet="0123456789()- ", max_size=14))
def test_phone_outside_the_pattern_is_refused_by_the_api(phone: str) -> None:
    emu = EfiEmulator("id", "secret", today=TODAY)
    with httpx.Client(transport=emu.transport(), base_url="https://cobrancas.api.efipay.com.br") as client:
        token = client.post("/v1/authorize", auth=("id", "secret"),
                            json={"grant_type": "client_credentials"}).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        response = client.post("/v1/charge/one-step", json=billet(**{f"{BB}__customer__phone_number": phone}))
    if re.fullmatch(r"[1-9]{2}9?[0-9]{8}", phone):  # the pattern as reference §4.2 writes it
        assert response.status_code == 200
    else:
        assert refusal(response) == (3500034, f"{P}/customer/phone_number")


def test_a_cancelled_twin_does_not_count_towards_the_third(api: httpx.Client) -> None:
    first = api.post("/v1/charge/one-step", json=billet()).json()["data"]["charge_id"]
    api.post("/v1/charge/one-step", json=billet())
    assert api.put(f"/v1/charge/{first}/cancel").status_code == 200
    assert api.post("/v1/charge/one-step", json=billet()).status_code == 200
    assert refusal(api.post("/v1/charge/one-step", json=billet()))[0] == 4600210
