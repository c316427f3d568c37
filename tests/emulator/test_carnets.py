"""Carnê endpoints (reference §3 rows 14-25, §4.3, §7): parcels, split_items, status derivation, refusals."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from carteira.testing.efi_emulator import EfiEmulator

from .conftest import authorize, carnet, refusal


def _create(api: httpx.Client, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.post("/v1/carnet", json=body or carnet())
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_create_answers_the_documented_shape(api: httpx.Client) -> None:
    data = _create(api)
    assert data["status"] == "up_to_date"
    assert {"carnet_id", "cover", "link", "carnet_link", "pdf", "charges"} <= set(data)
    parcels = data["charges"]
    assert [p["parcel"] for p in parcels] == ["1", "2", "3", "4", "5", "6"]  # strings on create
    assert [p["expire_at"] for p in parcels][:3] == ["2026-04-05", "2026-05-05", "2026-06-05"]
    assert {p["value"] for p in parcels} == {30000}  # split_items false: each parcel costs the full total
    assert {p["status"] for p in parcels} == {"waiting"}
    assert len({p["charge_id"] for p in parcels}) == 6


def test_detail_uses_integer_parcels_and_sums_the_value(api: httpx.Client) -> None:
    carnet_id = _create(api)["carnet_id"]
    data = api.get(f"/v1/carnet/{carnet_id}").json()["data"]
    assert [p["parcel"] for p in data["charges"]] == [1, 2, 3, 4, 5, 6]
    assert data["value"] == 6 * 30000
    assert data["repeats"] == 6
    assert data["custom_id"] == "CT-77"
    assert data["charges"][0]["configurations"] == {"interest_type": "daily", "interest": 33, "fine": 200}


@pytest.mark.parametrize(("remainder", "expected"), [("first", [3334, 3333, 3333]), ("last", [3333, 3333, 3334])])
def test_split_items_puts_the_leftover_cents_on_the_switched_parcel(emu: EfiEmulator, api: httpx.Client,
                                                                     remainder: str, expected: list[int]) -> None:
    emu.switches.split_remainder = remainder  # type: ignore[assignment]
    data = _create(api, carnet(items=[{"name": "Curso", "value": 10000}], repeats=3, split_items=True))
    assert [p["value"] for p in data["charges"]] == expected


@pytest.mark.parametrize(("overflow", "expected"), [
    ("clamp", ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"]),
    ("roll_over", ["2026-01-31", "2026-03-03", "2026-03-31", "2026-05-01"]),
])
def test_parcels_on_day_31(emu: EfiEmulator, api: httpx.Client, overflow: str, expected: list[str]) -> None:
    emu.switches.parcel_day_overflow = overflow  # type: ignore[assignment]
    data = _create(api, carnet(expire_at="2026-01-31", repeats=4))
    assert [p["expire_at"] for p in data["charges"]] == expected


def test_repeats_bounds_and_switch(emu: EfiEmulator, api: httpx.Client) -> None:
    assert refusal(api.post("/v1/carnet", json=carnet(repeats=1)))[0] == 3500041
    assert refusal(api.post("/v1/carnet", json=carnet(repeats=13)))[0] == 4600059
    emu.switches.repeats_min, emu.switches.repeats_max = 1, 24
    assert _create(api, carnet(repeats=24))["charges"][-1]["parcel"] == "24"


def test_parcel_floor_and_limit(emu: EfiEmulator, api: httpx.Client) -> None:
    small = carnet(items=[{"name": "Curso", "value": 2900}], repeats=6, split_items=True)
    assert refusal(api.post("/v1/carnet", json=small))[0] == 4600523
    emu.switches.parcel_value_limit_cents = 20000
    assert refusal(api.post("/v1/carnet", json=carnet()))[0] == 4600057


def test_parcel_is_a_charge_that_refuses_charge_routes(api: httpx.Client) -> None:
    charge_id = _create(api)["charges"][0]["charge_id"]
    detail = api.get(f"/v1/charge/{charge_id}").json()["data"]
    assert detail["payment"]["method"] == "carnet"
    assert detail["payment"]["carnet"]["parcel"] == 1
    assert refusal(api.put(f"/v1/charge/{charge_id}/cancel"))[0] == 3500084
    assert refusal(api.put(f"/v1/charge/{charge_id}/settle"))[0] == 3500084
    assert refusal(api.put(f"/v1/charge/{charge_id}/metadata", json={"custom_id": "x"}))[0] == 3500100
    assert refusal(api.put(f"/v1/charge/{charge_id}/billet", json={"expire_at": "2026-09-01"}))[0] == 3500036


def test_update_one_parcel(emu: EfiEmulator, api: httpx.Client) -> None:
    data = _create(api)
    carnet_id = data["carnet_id"]
    assert api.put(f"/v1/carnet/{carnet_id}/parcel/2", json={"expire_at": "2026-05-20"}).json() == {"code": 200}
    assert emu.charges[data["charges"][1]["charge_id"]]["expire_at"] == "2026-05-20"
    assert refusal(api.put(f"/v1/carnet/{carnet_id}/parcel/2", json={})) == (3500023, "/expire_at")
    assert refusal(api.put(f"/v1/carnet/{carnet_id}/parcel/2", json={"expire_at": "2025-12-01"}))[0] == 4600007
    assert refusal(api.put(f"/v1/carnet/{carnet_id}/parcel/9", json={"expire_at": "2026-05-20"})) == (
        3500010, "parcel")
    api.put(f"/v1/carnet/{carnet_id}/parcel/2/settle")
    assert refusal(api.put(f"/v1/carnet/{carnet_id}/parcel/2", json={"expire_at": "2026-05-21"}))[0] == 3500038


def test_bulk_parcel_update_is_all_or_nothing(emu: EfiEmulator, api: httpx.Client) -> None:
    data = _create(api)
    carnet_id = data["carnet_id"]
    moves = {"parcels": [{"parcel": 1, "expire_at": "2026-04-10"}, {"parcel": 2, "expire_at": "2026-05-01"}]}
    response = api.put(f"/v1/carnet/{carnet_id}/parcels", json=moves)
    body = response.json()
    assert body["code"] == 3500101
    assert body["error"] == "update_parcels"
    assert isinstance(body["error_description"], str)
    assert "parcela 2" in body["error_description"]  # moved earlier than 2026-05-05
    assert emu.charges[data["charges"][0]["charge_id"]]["expire_at"] == "2026-04-05"  # nothing applied
    good = {"parcels": [{"parcel": 1, "expire_at": "2026-04-10"}, {"parcel": 2, "expire_at": "2026-05-10"}]}
    assert api.put(f"/v1/carnet/{carnet_id}/parcels", json=good).status_code == 200
    assert emu.charges[data["charges"][0]["charge_id"]]["expire_at"] == "2026-04-10"
    malformed = {"parcels": [{"parcel": 1, "expire_at": "10-04-2026"}]}
    assert refusal(api.put(f"/v1/carnet/{carnet_id}/parcels", json=malformed)) == (
        3500034, "/parcels/0/expire_at")
    assert refusal(api.put(f"/v1/carnet/{carnet_id}/parcels", json={"parcels": [{"parcel": 1}]})) == (
        3500023, "/parcels/0/expire_at")
    unknown = {"parcels": [{"parcel": 7, "expire_at": "2026-12-10"}]}
    assert refusal(api.put(f"/v1/carnet/{carnet_id}/parcels", json=unknown))[0] == 3500101


def test_cancel_parcel_then_carnet(emu: EfiEmulator, api: httpx.Client) -> None:
    data = _create(api)
    carnet_id = data["carnet_id"]
    assert api.put(f"/v1/carnet/{carnet_id}/parcel/1/cancel").status_code == 200
    assert refusal(api.put(f"/v1/carnet/{carnet_id}/parcel/1/cancel"))[0] == 3500043
    assert api.put(f"/v1/carnet/{carnet_id}/cancel").status_code == 200
    assert emu.carnets[carnet_id]["status"] == "canceled"
    assert {emu.charges[c]["status"] for c in emu.carnets[carnet_id]["charge_ids"]} == {"canceled"}
    assert refusal(api.put(f"/v1/carnet/{carnet_id}/cancel"))[0] == 3500068
    assert refusal(api.put(f"/v1/carnet/{carnet_id}/parcel/2/cancel"))[0] == 3500068
    assert refusal(api.post(f"/v1/carnet/{carnet_id}/resend", json={"email": "a@b.com"}))[0] == 3500068


def test_carnet_status_after_cancel_is_a_switch(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.switches.carnet_status_after_cancel = "finished"
    carnet_id = _create(api)["carnet_id"]
    api.put(f"/v1/carnet/{carnet_id}/cancel")
    assert emu.carnets[carnet_id]["status"] == "finished"
    assert refusal(api.put(f"/v1/carnet/{carnet_id}/cancel"))[0] == 3500083


def test_active_label_switch(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.switches.carnet_active_status = "active"
    assert _create(api)["status"] == "active"


def test_status_derives_from_parcels(emu: EfiEmulator, api: httpx.Client) -> None:
    data = _create(api, carnet(repeats=2))
    carnet_id, parcels = data["carnet_id"], [p["charge_id"] for p in data["charges"]]
    emu.today = date(2026, 4, 6)
    assert emu.carnets[carnet_id]["status"] == "unpaid"
    emu.pay(parcels[0], value_cents=30300)
    assert emu.carnets[carnet_id]["status"] == "up_to_date"
    authorize(api)
    assert api.put(f"/v1/carnet/{carnet_id}/parcel/2/settle").status_code == 200
    assert emu.carnets[carnet_id]["status"] == "finished"
    assert refusal(api.put(f"/v1/carnet/{carnet_id}/settle"))[0] == 3500083
    assert refusal(api.put(f"/v1/carnet/{carnet_id}/parcel/1/settle"))[0] == 3500083
    assert refusal(api.put(f"/v1/carnet/{carnet_id}/parcel/1/cancel"))[0] == 3500083
    assert refusal(api.post(f"/v1/carnet/{carnet_id}/parcel/1/resend", json={"email": "a@b.com"}))[0] == 3500083


def test_settle_whole_carnet(emu: EfiEmulator, api: httpx.Client) -> None:
    carnet_id = _create(api)["carnet_id"]
    assert api.put(f"/v1/carnet/{carnet_id}/settle").json() == {"code": 200}
    assert emu.carnets[carnet_id]["status"] == "finished"
    assert {emu.charges[c]["paid_value"] for c in emu.carnets[carnet_id]["charge_ids"]} == {None}


def test_resend_and_history(emu: EfiEmulator, api: httpx.Client) -> None:
    data = _create(api)
    carnet_id = data["carnet_id"]
    assert api.post(f"/v1/carnet/{carnet_id}/resend", json={"email": "joao@example.com"}).status_code == 200
    assert api.post(f"/v1/carnet/{carnet_id}/parcel/3/resend", json={"email": "joao@example.com"}).status_code == 200
    assert refusal(api.post(f"/v1/carnet/{carnet_id}/parcel/3/resend", json={})) == (3500023, "/email")
    emu.pay(data["charges"][2]["charge_id"])
    assert refusal(api.post(f"/v1/carnet/{carnet_id}/parcel/3/resend", json={"email": "j@e.com"}))[0] == 3500066
    assert api.post(f"/v1/carnet/{carnet_id}/history", json={"description": "Acordo"}).status_code == 200
    assert api.get(f"/v1/carnet/{carnet_id}").json()["data"]["history"][-1]["message"] == "Acordo"


def test_metadata_follows_to_parcels(emu: EfiEmulator, api: httpx.Client) -> None:
    data = _create(api)
    carnet_id = data["carnet_id"]
    assert api.put(f"/v1/carnet/{carnet_id}/metadata", json={"custom_id": "CT-78"}).status_code == 200
    assert emu.charges[data["charges"][0]["charge_id"]]["custom_id"] == "CT-78"


def test_unknown_carnet_is_3500010(api: httpx.Client) -> None:
    assert refusal(api.get("/v1/carnet/1000001")) == (3500010, "id")


def test_third_identical_carnet_is_refused(api: httpx.Client) -> None:
    _create(api)
    _create(api)
    assert refusal(api.post("/v1/carnet", json=carnet()))[0] == 4600210
