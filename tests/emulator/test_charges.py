"""Charge endpoints (reference §3 rows 2-13): happy paths, the state machine of §7, and its refusal codes."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from carteira.testing.efi_emulator import EfiEmulator, PaymentRefused

from .conftest import TODAY, authorize, billet, one_step, refusal

ITEMS = [{"name": "Produto", "value": 9000, "amount": 2}]
PAYMENT = {"banking_billet": {"expire_at": "2026-02-01", "customer": {"name": "Ana Lima", "cpf": "52998224725"}}}


def _new_charge(api: httpx.Client, custom_id: str = "C-1") -> int:
    response = api.post("/v1/charge", json={"items": ITEMS, "metadata": {"custom_id": custom_id}})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["status"] == "new"
    assert data["total"] == 18000
    assert data["custom_id"] == custom_id
    assert data["created_at"] == f"{TODAY.isoformat()} 09:00:00"
    return int(data["charge_id"])


def test_one_step_answers_the_documented_shape(api: httpx.Client) -> None:
    data = api.post("/v1/charge/one-step", json=billet()).json()["data"]
    assert set(data) == {"charge_id", "status", "total", "payment", "barcode", "link", "billet_link", "pdf",
                         "expire_at"}
    assert data["status"] == "waiting"
    assert data["total"] == 12500 + 1500  # items plus shippings, before discount
    assert data["payment"] == "banking_billet"
    assert data["expire_at"] == "2026-03-10"
    assert len("".join(c for c in data["barcode"] if c.isdigit())) == 47
    assert data["barcode"].startswith("364")


def test_bolix_adds_the_pix_block(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.switches.bolix = True
    data = api.post("/v1/charge/one-step", json=billet()).json()["data"]
    assert set(data["pix"]) == {"qrcode", "qrcode_image"}


def test_ids_are_deterministic_and_increasing(api: httpx.Client) -> None:
    first = one_step(api)
    second = one_step(api, billet(items__0__name="Outro item"))
    assert second == first + 1


def test_two_step_charge_new_then_pay(api: httpx.Client) -> None:
    charge_id = _new_charge(api)
    detail = api.get(f"/v1/charge/{charge_id}").json()["data"]
    assert detail["status"] == "new"
    assert "payment" not in detail
    paid = api.post(f"/v1/charge/{charge_id}/pay", json={"payment": PAYMENT})
    assert paid.status_code == 200
    assert paid.json()["data"]["status"] == "waiting"
    again = api.post(f"/v1/charge/{charge_id}/pay", json={"payment": PAYMENT})
    assert refusal(again)[0] == 3500030


def test_pay_refuses_a_cancelled_new_charge(api: httpx.Client) -> None:
    charge_id = _new_charge(api)
    assert api.put(f"/v1/charge/{charge_id}/cancel").status_code == 200
    assert refusal(api.post(f"/v1/charge/{charge_id}/pay", json={"payment": PAYMENT}))[0] == 3500044


def test_detail_shape(api: httpx.Client) -> None:
    charge_id = one_step(api)
    data = api.get(f"/v1/charge/{charge_id}").json()["data"]
    assert data["charge_id"] == charge_id
    assert data["custom_id"] == "INV-000123"
    assert data["notification_url"] == "https://erp.example/efi/callback"
    assert data["customer"]["cpf"] == "12345678909"
    assert data["payment"]["method"] == "banking_billet"
    assert data["payment"]["banking_billet"]["configurations"] == {
        "days_to_write_off": 30, "interest_type": "daily", "interest": 33, "fine": 200}
    assert "paid_value" not in str(data)  # reference §5: no paid amount in the detail


def test_unknown_charge_is_3500010_on_detail(api: httpx.Client) -> None:
    assert refusal(api.get("/v1/charge/42")) == (3500010, "id")


def test_metadata_update(api: httpx.Client) -> None:
    charge_id = one_step(api)
    response = api.put(f"/v1/charge/{charge_id}/metadata", json={"custom_id": "NEW-ID", "notification_url": None})
    assert response.json() == {"code": 200}
    data = api.get(f"/v1/charge/{charge_id}").json()["data"]
    assert data["custom_id"] == "NEW-ID"
    assert data["notification_url"] is None
    assert refusal(api.put(f"/v1/charge/{charge_id}/metadata", json={"resend": True})) == (3500010, "/resend")


def test_update_billet_due_date(api: httpx.Client) -> None:
    charge_id = one_step(api)
    assert api.put(f"/v1/charge/{charge_id}/billet", json={"expire_at": "2026-04-01"}).status_code == 200
    assert api.get(f"/v1/charge/{charge_id}").json()["data"]["payment"]["banking_billet"]["expire_at"] == "2026-04-01"


def test_update_billet_refusals(api: httpx.Client) -> None:
    charge_id = one_step(api)
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    assert refusal(api.put(f"/v1/charge/{charge_id}/billet", json={"expire_at": yesterday}))[0] == 4600007
    assert refusal(api.put(f"/v1/charge/{charge_id}/billet", json={"expire_at": "10/03/2026"})) == (
        3500034, "/expire_at")
    assert refusal(api.put(f"/v1/charge/{charge_id}/billet", json={})) == (3500023, "/expire_at")
    assert refusal(api.put("/v1/charge/99/billet", json={"expire_at": "2026-04-01"}))[0] == 4600001
    new_id = _new_charge(api)
    assert refusal(api.put(f"/v1/charge/{new_id}/billet", json={"expire_at": "2026-04-01"}))[0] == 3500036
    api.put(f"/v1/charge/{charge_id}/cancel")
    assert refusal(api.put(f"/v1/charge/{charge_id}/billet", json={"expire_at": "2026-04-01"}))[0] == 3500038


def test_due_date_today_is_accepted_unless_switched(emu: EfiEmulator, api: httpx.Client) -> None:
    charge_id = one_step(api)
    assert api.put(f"/v1/charge/{charge_id}/billet", json={"expire_at": TODAY.isoformat()}).status_code == 200
    emu.switches.due_date_today_allowed = False
    assert refusal(api.put(f"/v1/charge/{charge_id}/billet", json={"expire_at": TODAY.isoformat()}))[0] == 4600007


@pytest.mark.parametrize("status", ["new", "waiting", "unpaid"])
def test_cancel_from_each_open_status(emu: EfiEmulator, api: httpx.Client, status: str) -> None:
    charge_id = _new_charge(api) if status == "new" else one_step(api)
    if status == "unpaid":
        emu.today = date(2026, 3, 11)
        authorize(api)
    assert emu.charges[charge_id]["status"] == status
    assert api.put(f"/v1/charge/{charge_id}/cancel").json() == {"code": 200}
    assert emu.charges[charge_id]["status"] == "canceled"
    assert refusal(api.put(f"/v1/charge/{charge_id}/cancel"))[0] == 3500043  # a repeat is a status error


def test_cancel_unknown_is_4600001(api: httpx.Client) -> None:
    assert refusal(api.put("/v1/charge/7/cancel"))[0] == 4600001


def test_settle_records_no_value(emu: EfiEmulator, api: httpx.Client) -> None:
    charge_id = one_step(api)
    assert api.put(f"/v1/charge/{charge_id}/settle").json() == {"code": 200}
    view = emu.charges[charge_id]
    assert view["status"] == "settled"
    assert view["paid_value"] is None
    assert refusal(api.put(f"/v1/charge/{charge_id}/settle"))[0] == 3500069
    assert refusal(api.put(f"/v1/charge/{charge_id}/cancel"))[0] == 3500043


def test_settle_of_a_new_charge_follows_the_switch(emu: EfiEmulator, api: httpx.Client) -> None:
    first = _new_charge(api, "A")
    assert api.put(f"/v1/charge/{first}/settle").status_code == 200
    emu.switches.settle_allows_new = False
    second = _new_charge(api, "B")
    assert refusal(api.put(f"/v1/charge/{second}/settle"))[0] == 3500069


def test_resend_only_while_waiting(emu: EfiEmulator, api: httpx.Client) -> None:
    charge_id = one_step(api)
    assert api.post(f"/v1/charge/{charge_id}/billet/resend", json={"email": "a@b.com"}).json() == {"code": 200}
    assert refusal(api.post(f"/v1/charge/{charge_id}/billet/resend", json={})) == (3500023, "/email")
    assert refusal(api.post(f"/v1/charge/{charge_id}/billet/resend", json={"email": "nope"})) == (3500034, "/email")
    emu.pay(charge_id)
    assert refusal(api.post(f"/v1/charge/{charge_id}/billet/resend", json={"email": "a@b.com"}))[0] == 3500066


def test_history_line_is_appended(api: httpx.Client) -> None:
    charge_id = one_step(api)
    assert api.post(f"/v1/charge/{charge_id}/history", json={"description": "Ligação feita"}).status_code == 200
    history = api.get(f"/v1/charge/{charge_id}").json()["data"]["history"]
    assert history[-1]["message"] == "Ligação feita"
    assert refusal(api.post(f"/v1/charge/{charge_id}/history", json={"description": "x" * 256})) == (
        3500034, "/description")


def test_balance_sheet_is_stored_and_bounded(api: httpx.Client) -> None:
    charge_id = one_step(api)
    assert api.post(f"/v1/charge/{charge_id}/balance-sheet", json={"title": "Balancete"}).status_code == 200
    huge = {"rows": ["x" * 1000] * 310}
    assert refusal(api.post(f"/v1/charge/{charge_id}/balance-sheet", json=huge)) == (3500034, "/")


def test_pay_hook_records_value_and_bank_date(emu: EfiEmulator, api: httpx.Client) -> None:
    charge_id = one_step(api)
    emu.pay(charge_id, value_cents=13000, paid_on=date(2026, 1, 9))
    view = emu.charges[charge_id]
    assert view["status"] == "paid"
    assert view["paid_value"] == 13000
    assert view["received_by_bank_at"] == "2026-01-09"
    with pytest.raises(PaymentRefused, match="paid"):
        emu.pay(charge_id)


def test_pay_hook_defaults_to_the_total_today(emu: EfiEmulator, api: httpx.Client) -> None:
    charge_id = one_step(api)
    emu.pay(charge_id)
    assert emu.charges[charge_id]["paid_value"] == 14000
    assert emu.charges[charge_id]["received_by_bank_at"] == TODAY.isoformat()


def test_pay_hook_refuses_what_a_bank_would(emu: EfiEmulator, api: httpx.Client) -> None:
    new_id = _new_charge(api)
    with pytest.raises(PaymentRefused, match="new"):
        emu.pay(new_id)
    with pytest.raises(PaymentRefused, match="does not exist"):
        emu.pay(1)
    charge_id = one_step(api)  # days_to_write_off 30 after 2026-03-10
    with pytest.raises(PaymentRefused, match="written off"):
        emu.pay(charge_id, paid_on=date(2026, 4, 10))
    emu.pay(charge_id, paid_on=date(2026, 4, 9))


def test_cancelled_boleto_can_still_be_paid(emu: EfiEmulator, api: httpx.Client) -> None:
    charge_id = one_step(api)
    api.put(f"/v1/charge/{charge_id}/cancel")
    emu.pay(charge_id)
    assert emu.charges[charge_id]["status"] == "paid"


def test_boleto_turns_unpaid_after_due_date_then_can_be_paid_late(emu: EfiEmulator, api: httpx.Client) -> None:
    charge_id = one_step(api)
    emu.today = date(2026, 3, 10)
    assert emu.charges[charge_id]["status"] == "waiting"
    emu.today = date(2026, 3, 11)
    assert emu.charges[charge_id]["status"] == "unpaid"
    emu.pay(charge_id, value_cents=14300)
    assert emu.charges[charge_id]["status"] == "paid"


def test_unpaid_after_days_is_a_switch(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.switches.unpaid_after_days = 3
    charge_id = one_step(api)
    emu.today = date(2026, 3, 12)
    assert emu.charges[charge_id]["status"] == "waiting"
    emu.today = date(2026, 3, 13)
    assert emu.charges[charge_id]["status"] == "unpaid"


def test_moving_an_unpaid_boleto_due_date_makes_it_wait_again(emu: EfiEmulator, api: httpx.Client) -> None:
    charge_id = one_step(api)
    emu.today = date(2026, 3, 20)
    authorize(api)
    assert emu.charges[charge_id]["status"] == "unpaid"
    assert api.put(f"/v1/charge/{charge_id}/billet", json={"expire_at": "2026-03-25"}).status_code == 200
    assert emu.charges[charge_id]["status"] == "waiting"


def test_identified_before_paid_switch(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.switches.identified_before_paid = True
    charge_id = one_step(api)
    emu.pay(charge_id)
    token = emu.charges[charge_id]["notification_token"]
    statuses = [e["status"]["current"] for e in api.get(f"/v1/notification/{token}").json()["data"]]
    assert statuses == ["new", "waiting", "identified", "paid"]


def test_unknown_route_is_404(api: httpx.Client) -> None:
    assert api.post("/v1/charge/1/settle").status_code == 404  # settle is PUT (reference §3)
    assert api.get("/v2/charges").status_code == 404
