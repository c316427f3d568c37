"""`GET /v1/charges` (reference §3 row 6, §5, §10): filters, pagination, and finding a lost create again."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from carteira.testing.efi_emulator import EfiEmulator

from .conftest import OTHER_CPF, authorize, billet, carnet, refusal

WINDOW = {"charge_type": "billet", "begin_date": "2026-01-01", "end_date": "2026-01-31"}


def _list(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = api.get("/v1/charges", params={**WINDOW, **params})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def _seed(api: httpx.Client) -> list[int]:
    ids = []
    for n in range(5):
        body = billet(metadata__custom_id=f"INV-{n}", items__0__value=10000 + n)
        if n == 4:
            body["payment"]["banking_billet"]["customer"]["cpf"] = OTHER_CPF
        ids.append(api.post("/v1/charge/one-step", json=body).json()["data"]["charge_id"])
    return ids


def test_custom_id_finds_exactly_that_charge(api: httpx.Client) -> None:
    ids = _seed(api)
    found = _list(api, custom_id="INV-3")
    assert [c["id"] for c in found] == [ids[3]]
    entry = found[0]
    assert "charge_id" not in entry  # the list uses `id`
    assert entry["custom_id"] == "INV-3"
    assert entry["payment"]["payment_method"] == "banking_billet"
    assert entry["payment"]["paid_at"] is None


def test_filters_by_status_document_and_value(emu: EfiEmulator, api: httpx.Client) -> None:
    ids = _seed(api)
    emu.pay(ids[1], value_cents=11000)
    assert [c["id"] for c in _list(api, status="paid")] == [ids[1]]
    assert [c["id"] for c in _list(api, customer_document=OTHER_CPF)] == [ids[4]]
    assert [c["id"] for c in _list(api, value=10000 + 1500 + 2)] == [ids[2]]
    paid = _list(api, status="paid")[0]["payment"]
    assert paid["paid_value"] == 11000
    assert paid["received_by_bank_at"] == "2026-01-10"
    assert paid["paid_at"] == "2026-01-10 09:00:00"


def test_date_window_and_date_of(emu: EfiEmulator, api: httpx.Client) -> None:
    ids = _seed(api)
    assert _list(api, begin_date="2026-01-11", end_date="2026-01-31") == []
    by_due = _list(api, date_of="expired", begin_date="2026-03-10", end_date="2026-03-10")
    assert [c["id"] for c in by_due] == ids
    emu.pay(ids[0])
    by_payment = _list(api, date_of="payment")
    assert [c["id"] for c in by_payment] == [ids[0]]


def test_charge_type_separates_boletos_and_parcels(api: httpx.Client) -> None:
    ids = _seed(api)
    parcels = api.post("/v1/carnet", json=carnet(repeats=2)).json()["data"]["charges"]
    assert [c["id"] for c in _list(api)] == ids
    assert [c["id"] for c in _list(api, charge_type="carnet")] == [p["charge_id"] for p in parcels]
    assert _list(api, charge_type="card") == []


def test_pagination(emu: EfiEmulator, api: httpx.Client) -> None:
    ids = _seed(api)
    first = api.get("/v1/charges", params={**WINDOW, "limit": 2}).json()
    assert [c["id"] for c in first["data"]] == ids[:2]
    assert first["params"]["pagination"] == {"limit": 2, "offset": 0, "page": 1}
    assert [c["id"] for c in _list(api, limit=2, page=3)] == ids[4:]
    assert [c["id"] for c in _list(api, limit=2, offset=1)] == ids[1:3]
    emu.switches.list_limit_max = 3
    assert len(_list(api, limit=50)) == 3  # the largest page served is a switch (§12.10)
    emu.switches.list_default_limit = 2
    assert len(_list(api)) == 2


@pytest.mark.parametrize(("params", "expected"), [
    ({"charge_type": None}, (3500034, "/charge_type")),
    ({"begin_date": None}, (3500034, "/begin_date")),
    ({"charge_type": "boleto"}, (3500034, "/charge_type")),
    ({"begin_date": "01/01/2026"}, (3500034, "/begin_date")),
    ({"end_date": "2025-12-31"}, (3500034, "/end_date")),
    ({"date_of": "due"}, (3500034, "/date_of")),
    ({"limit": "0"}, (3500034, "/limit")),
    ({"value": "12.5"}, (3500034, "/value")),
    ({"colour": "red"}, (3500010, "/colour")),
])
def test_refused_filters(api: httpx.Client, params: dict[str, Any], expected: tuple[int, str]) -> None:
    query = {k: v for k, v in {**WINDOW, **params}.items() if v is not None}
    assert refusal(api.get("/v1/charges", params=query)) == expected


def test_a_lost_create_is_found_by_custom_id_and_not_deduplicated(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.lose_next_response()
    with pytest.raises(httpx.ReadTimeout):
        api.post("/v1/charge/one-step", json=billet(metadata__custom_id="op-42"))
    found = _list(api, custom_id="op-42")
    assert len(found) == 1  # Efí did create it
    assert api.post("/v1/charge/one-step", json=billet(metadata__custom_id="op-42")).status_code == 200
    assert len(_list(api, custom_id="op-42")) == 2  # no idempotency key: a blind retry duplicates


def test_list_sees_clock_driven_status(emu: EfiEmulator, api: httpx.Client) -> None:
    ids = _seed(api)
    emu.today = date(2026, 3, 11)
    authorize(api)
    assert {c["status"] for c in _list(api)} == {"unpaid"}
    assert [c["id"] for c in _list(api)] == ids
