"""The shape of a `GET /v1/charges` entry (decision 0403): every field the SDKs' list types name, null where Efí
sends null, absent where it omits, the same over the in-process transport and loopback HTTP."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from carteira.adapters.efi import EfiGateway
from carteira.domain.money import Money
from carteira.testing.efi_emulator import EfiEmulator, serve

from .conftest import CLIENT_ID, CLIENT_SECRET, CNPJ, SANDBOX, TODAY, authorize, billet, carnet

WINDOW = {"begin_date": "2026-01-01", "end_date": "2026-01-31"}


@pytest.fixture(params=["in_process", "loopback_http"])
def api(request: pytest.FixtureRequest, emu: EfiEmulator) -> Iterator[httpx.Client]:
    """An authorized client over one wire or the other; every test here runs over both."""
    if request.param == "in_process":
        with httpx.Client(transport=emu.transport(), base_url=SANDBOX) as client:
            assert authorize(client).status_code == 200
            yield client
        return
    with serve(emu) as url, httpx.Client(base_url=url) as client:
        assert authorize(client).status_code == 200
        yield client


def _entries(api: httpx.Client, charge_type: str = "billet") -> dict[int, dict[str, Any]]:
    response = api.get("/v1/charges", params={**WINDOW, "charge_type": charge_type})
    assert response.status_code == 200, response.text
    return {entry["id"]: entry for entry in response.json()["data"]}


def _one_step(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/v1/charge/one-step", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def _parcels(api: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = api.post("/v1/carnet", json=body)
    assert response.status_code == 200, response.text
    charges: list[dict[str, Any]] = response.json()["data"]["charges"]
    return charges


def test_a_billet_entry_carries_exactly_the_documented_fields(api: httpx.Client) -> None:
    created = _one_step(api, billet())
    entry = _entries(api)[created["charge_id"]]
    assert set(entry) == {"id", "total", "status", "custom_id", "created_at", "customer", "payment"}
    assert (entry["total"], entry["status"], entry["custom_id"]) == (14000, "waiting", "INV-000123")
    assert entry["created_at"] == "2026-01-10 09:00:00"
    payment = entry["payment"]
    assert set(payment) == {"payment_method", "paid_at", "banking_billet"}
    assert (payment["payment_method"], payment["paid_at"]) == ("banking_billet", None)
    assert payment["banking_billet"] == {"barcode": created["barcode"], "link": created["link"],
                                         "pdf": created["pdf"], "expire_at": "2026-03-10"}
    assert payment["banking_billet"]["pdf"]["charge"].endswith(".pdf")


def test_the_billet_links_are_the_ones_the_detail_shows(api: httpx.Client) -> None:
    charge_id = _one_step(api, billet())["charge_id"]
    detail = api.get(f"/v1/charge/{charge_id}").json()["data"]["payment"]["banking_billet"]
    listed = _entries(api)[charge_id]["payment"]["banking_billet"]
    assert (listed["link"], listed["pdf"], listed["barcode"]) == (detail["link"], detail["pdf"], detail["barcode"])


def test_a_person_payer_is_name_cpf_and_phone(api: httpx.Client) -> None:
    charge_id = _one_step(api, billet())["charge_id"]
    assert _entries(api)[charge_id]["customer"] == {"name": "Maria da Silva", "cpf": "12345678909",
                                                    "phone_number": "11987654321"}


def test_a_missing_phone_is_listed_as_null_not_left_out(api: httpx.Client) -> None:
    charge_id = _one_step(api, billet(payment__banking_billet__customer__phone_number=...))["charge_id"]
    customer = _entries(api)[charge_id]["customer"]
    assert "phone_number" in customer
    assert customer["phone_number"] is None
    # The detail leaves it out instead: both SDKs type it optional there (decision 0403).
    detail = api.get(f"/v1/charge/{charge_id}").json()["data"]["customer"]
    assert "phone_number" not in detail


def test_a_company_payer_is_corporate_name_cnpj_and_phone(api: httpx.Client) -> None:
    body = billet(payment__banking_billet__customer__phone_number=...)
    customer = body["payment"]["banking_billet"]["customer"]
    del customer["name"], customer["cpf"]
    customer["juridical_person"] = {"corporate_name": "Padaria Pão Quente Ltda", "cnpj": CNPJ}
    charge_id = _one_step(api, body)["charge_id"]
    assert _entries(api)[charge_id]["customer"] == {"corporate_name": "Padaria Pão Quente Ltda", "cnpj": CNPJ,
                                                    "phone_number": None}
    detail = api.get(f"/v1/charge/{charge_id}").json()["data"]["customer"]
    assert (detail["name"], detail["cpf"], detail["cnpj"]) == (None, None, CNPJ)


def test_the_list_shows_no_contact_details_beyond_the_phone(api: httpx.Client) -> None:
    charge_id = _one_step(api, billet())["charge_id"]
    customer = _entries(api)[charge_id]["customer"]
    assert not {"email", "birth", "address"} & set(customer)  # the detail has them; the list types do not


def test_the_detail_address_has_a_null_complement_when_none_was_sent(api: httpx.Client) -> None:
    plain = _one_step(api, billet())["charge_id"]
    with_complement = _one_step(api, billet(payment__banking_billet__customer__address__complement="Sala 4",
                                            items__0__value=12600))["charge_id"]
    address = api.get(f"/v1/charge/{plain}").json()["data"]["customer"]["address"]
    assert "complement" in address
    assert address["complement"] is None
    assert api.get(f"/v1/charge/{with_complement}").json()["data"]["customer"]["address"]["complement"] == "Sala 4"


def test_custom_id_is_null_when_none_was_sent(api: httpx.Client) -> None:
    charge_id = _one_step(api, billet(metadata=...))["charge_id"]
    entry = _entries(api)[charge_id]
    assert "custom_id" in entry
    assert entry["custom_id"] is None


def test_a_parcel_entry_carries_link_pdf_and_configurations(api: httpx.Client) -> None:
    parcels = _parcels(api, carnet(repeats=2))
    entries = _entries(api, "carnet")
    for created in parcels:
        entry = entries[created["charge_id"]]
        assert set(entry) == {"id", "total", "status", "custom_id", "created_at", "customer", "payment"}
        assert set(entry["payment"]) == {"payment_method", "paid_at", "carnet"}
        assert entry["payment"]["payment_method"] == "carnet"
        block = entry["payment"]["carnet"]
        assert set(block) == {"parcel", "barcode", "link", "pdf", "expire_at", "configurations", "carnet_id"}
        assert block["parcel"] == int(created["parcel"])  # an integer here, a string on create
        assert (block["link"], block["pdf"], block["barcode"]) == (created["parcel_link"], created["pdf"],
                                                                   created["barcode"])
        assert block["expire_at"] == created["expire_at"]
        assert block["configurations"] == {"days_to_write_off": 89, "interest_type": "daily", "interest": 33,
                                           "fine": 200}


def test_parcel_configurations_keep_a_monthly_interest_and_follow_the_write_off_switch(
        emu: EfiEmulator, api: httpx.Client) -> None:
    emu.switches.default_days_to_write_off = 15
    (first, _) = _parcels(api, carnet(repeats=2, configurations={"fine": 0, "interest": {"value": 100,
                                                                                         "type": "monthly"}}))
    configurations = _entries(api, "carnet")[first["charge_id"]]["payment"]["carnet"]["configurations"]
    assert configurations == {"days_to_write_off": 15, "interest_type": "monthly", "interest": 100, "fine": 0}


def test_the_parcel_carnet_id_is_a_switch(emu: EfiEmulator, api: httpx.Client) -> None:
    (first, _) = _parcels(api, carnet(repeats=2))
    block = _entries(api, "carnet")[first["charge_id"]]["payment"]["carnet"]
    carnet_id = emu.charges[first["charge_id"]]["carnet_id"]
    assert block["carnet_id"] == carnet_id
    emu.switches.list_parcel_carnet_id = False  # the entry as both SDKs type it
    assert "carnet_id" not in _entries(api, "carnet")[first["charge_id"]]["payment"]["carnet"]


def test_paid_value_and_bank_date_appear_only_once_paid(emu: EfiEmulator, api: httpx.Client) -> None:
    charge_id = _one_step(api, billet())["charge_id"]
    before = _entries(api)[charge_id]["payment"]
    assert before["paid_at"] is None
    assert not {"paid_value", "received_by_bank_at"} & set(before)
    emu.pay(charge_id, value_cents=14250)
    after = _entries(api)[charge_id]["payment"]
    assert (after["paid_value"], after["received_by_bank_at"], after["paid_at"]) == (
        14250, "2026-01-10", "2026-01-10 09:00:00")


def test_a_settled_charge_lists_no_payment(api: httpx.Client) -> None:
    charge_id = _one_step(api, billet())["charge_id"]
    assert api.put(f"/v1/charge/{charge_id}/settle").status_code == 200
    payment = _entries(api)[charge_id]["payment"]
    assert payment["paid_at"] is None
    assert not {"paid_value", "received_by_bank_at"} & set(payment)


def test_a_paid_parcel_carries_its_payment(emu: EfiEmulator, api: httpx.Client) -> None:
    (first, second) = _parcels(api, carnet(repeats=2))
    emu.pay(first["charge_id"], value_cents=30000)
    entries = _entries(api, "carnet")
    assert entries[first["charge_id"]]["payment"]["paid_value"] == 30000
    assert "paid_value" not in entries[second["charge_id"]]["payment"]


def test_bolix_puts_pix_on_the_payment_not_inside_the_boleto(emu: EfiEmulator, api: httpx.Client) -> None:
    plain = _one_step(api, billet())["charge_id"]
    assert "pix" not in _entries(api)[plain]["payment"]
    emu.switches.bolix = True
    (parcel, _) = _parcels(api, carnet(repeats=2))
    for charge_id, entry in [(plain, _entries(api)[plain]), (parcel["charge_id"],
                                                             _entries(api, "carnet")[parcel["charge_id"]])]:
        payment = entry["payment"]
        assert set(payment["pix"]) == {"qrcode", "qrcode_image"}
        assert str(charge_id) in payment["pix"]["qrcode"]
        block = payment.get("banking_billet") or payment["carnet"]
        assert "pix" not in block


def test_a_charge_without_payment_method_lists_neither_payer_nor_payment(api: httpx.Client) -> None:
    response = api.post("/v1/charge", json={"items": [{"name": "Serviço", "value": 9900}]})
    charge_id = response.json()["data"]["charge_id"]
    entry = _entries(api)[charge_id]
    assert entry == {"id": charge_id, "total": 9900, "status": "new", "custom_id": None,
                     "created_at": "2026-01-10 09:00:00"}


# -- the Efí adapter reads every entry shape ----------------------------------------------------------------------


@pytest.fixture(params=["in_process", "loopback_http"])
def gateway(request: pytest.FixtureRequest, emu: EfiEmulator) -> Iterator[EfiGateway]:
    """carteira's own Efí adapter, over one wire or the other."""
    with contextlib.ExitStack() as stack:
        wire: dict[str, Any] = {"transport": emu.transport()}
        if request.param == "loopback_http":
            wire = {"base_url": stack.enter_context(serve(emu))}
        yield stack.enter_context(EfiGateway(CLIENT_ID, CLIENT_SECRET, "sandbox", today=lambda: emu.today, **wire))


def test_the_efi_adapter_reads_every_entry_shape(emu: EfiEmulator, gateway: EfiGateway) -> None:
    emu.switches.bolix = True  # the payment-level `pix` too
    with httpx.Client(transport=emu.transport(), base_url=SANDBOX) as api:
        assert authorize(api).status_code == 200
        no_phone = _one_step(api, billet(metadata__custom_id="op-1",
                                         payment__banking_billet__customer__phone_number=...))["charge_id"]
        company = billet(metadata__custom_id="op-2", items__0__value=13000)
        payer = company["payment"]["banking_billet"]["customer"]
        del payer["name"], payer["cpf"]
        payer["juridical_person"] = {"corporate_name": "Padaria Pão Quente Ltda", "cnpj": CNPJ}
        company_id = _one_step(api, company)["charge_id"]
        parcels = _parcels(api, carnet(metadata__custom_id="op-3", repeats=2))
        fresh = api.post("/v1/charge", json={"items": [{"name": "Serviço", "value": 9900}],
                                             "metadata": {"custom_id": "op-4"}}).json()["data"]["charge_id"]
    emu.pay(no_phone, value_cents=14000)

    (paid,) = gateway.find_charges("op-1")
    assert (str(paid.charge_id), paid.status.value, paid.paid_value) == (str(no_phone), "paid", Money.from_cents(14000))
    assert paid.paid_on == TODAY
    (by_company,) = gateway.find_charges("op-2")
    assert (str(by_company.charge_id), by_company.status.value, by_company.paid_value) == (
        str(company_id), "waiting", None)
    found = gateway.find_charges("op-3")
    assert sorted(str(s.charge_id) for s in found) == sorted(str(p["charge_id"]) for p in parcels)
    assert {str(s.carnet_id) for s in found} == {str(emu.charges[parcels[0]["charge_id"]]["carnet_id"])}
    (new,) = gateway.find_charges("op-4")
    assert (str(new.charge_id), new.status.value) == (str(fresh), "new")
