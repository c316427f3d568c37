"""Notifications (reference §8): one token per charge or carnê, growing event lists, callbacks and re-delivery."""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import pytest

from carteira.testing.efi_emulator import EfiEmulator

from .conftest import CLIENT_ID, CLIENT_SECRET, TODAY, authorize, billet, carnet, one_step, refusal

URL = "https://erp.example/efi/callback"


def _events(api: httpx.Client, token: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/notification/{token}")
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["data"]
    return events


def test_events_grow_with_ids_one_to_n(emu: EfiEmulator, api: httpx.Client) -> None:
    charge_id = one_step(api)
    token = emu.charges[charge_id]["notification_token"]
    first = _events(api, token)
    assert [(e["id"], e["status"]["previous"], e["status"]["current"]) for e in first] == [
        (1, None, "new"),
        (2, "new", "waiting"),
    ]
    assert first[0]["type"] == "charge"
    assert first[0]["identifiers"] == {"charge_id": charge_id}
    assert first[0]["custom_id"] == "INV-000123"
    emu.pay(charge_id, value_cents=13990, paid_on=date(2026, 1, 9))
    second = _events(api, token)
    assert second[:2] == first  # the whole history again, then what is new
    paid = second[2]
    assert paid["id"] == 3
    assert paid["value"] == 13990
    assert paid["received_by_bank_at"] == "2026-01-09"
    assert paid["created_at"] == "2026-01-10 09:00:00"


def test_settled_event_carries_no_value(emu: EfiEmulator, api: httpx.Client) -> None:
    charge_id = one_step(api)
    api.put(f"/v1/charge/{charge_id}/settle")
    last = _events(api, emu.charges[charge_id]["notification_token"])[-1]
    assert last["status"] == {"current": "settled", "previous": "waiting"}
    assert "value" not in last


def test_one_token_covers_a_carnet_and_its_parcels(emu: EfiEmulator, api: httpx.Client) -> None:
    data = api.post("/v1/carnet", json=carnet(repeats=2)).json()["data"]
    token = emu.carnets[data["carnet_id"]]["notification_token"]
    parcel_ids = [p["charge_id"] for p in data["charges"]]
    assert {emu.charges[c]["notification_token"] for c in parcel_ids} == {token}
    emu.pay(parcel_ids[0])
    events = _events(api, token)
    assert [(e["type"], e["status"]["current"]) for e in events] == [
        ("carnet", "up_to_date"),
        ("carnet_charge", "waiting"),
        ("carnet_charge", "waiting"),
        ("carnet_charge", "paid"),
    ]
    assert events[1]["identifiers"] == {"carnet_id": data["carnet_id"], "charge_id": parcel_ids[0]}
    assert [e["id"] for e in events] == [1, 2, 3, 4]


def test_unknown_token(api: httpx.Client) -> None:
    assert refusal(api.get("/v1/notification/nope")) == (3500010, "token")


def test_in_process_callback_gets_the_token_on_every_change(emu: EfiEmulator, api: httpx.Client) -> None:
    received: list[str] = []
    emu.register_callback(URL, received.append)  # returns None: counts as 200
    charge_id = one_step(api)
    token = emu.charges[charge_id]["notification_token"]
    assert received == [token, token]  # new, waiting
    emu.pay(charge_id)
    assert received == [token] * 3
    assert all(d.delivered for d in emu.deliveries)


@pytest.mark.parametrize(("answer", "status"), [(None, 200), ("stored", 200), (True, 200), (503, 503)])
def test_only_an_int_a_callback_returns_is_its_status(
    emu: EfiEmulator, api: httpx.Client, answer: object, status: int
) -> None:
    emu.register_callback(URL, lambda token: answer)  # e.g. portfolio.payments.receive returns the Notification
    one_step(api)
    assert {d.status for d in emu.deliveries} == {status}


def test_a_callback_may_call_the_emulator_back(emu: EfiEmulator, api: httpx.Client) -> None:
    seen: list[int] = []
    emu.register_callback(URL, lambda token: seen.append(len(_events(api, token))) or 200)
    one_step(api)
    assert seen == [2, 2]  # both events recorded before the first POST went out


def test_no_callback_without_notification_url(emu: EfiEmulator, api: httpx.Client) -> None:
    received: list[str] = []
    emu.register_callback(URL, received.append)
    one_step(api, billet(metadata={"custom_id": "no-url"}))
    assert received == []


def test_non_loopback_urls_are_never_contacted(emu: EfiEmulator, api: httpx.Client) -> None:
    one_step(api)
    assert [d.status for d in emu.deliveries] == [None, None]
    assert all("loopback" in (d.error or "") for d in emu.deliveries)


def test_non_2xx_is_retried_on_the_documented_schedule(emu: EfiEmulator, api: httpx.Client) -> None:
    answers = iter([500, 429, 302])
    emu.register_callback(URL, lambda token: next(answers, 200))
    one_step(api, billet(metadata__notification_url=URL, payment__banking_billet__expire_at="2026-03-11"))
    assert [d.status for d in emu.deliveries] == [500, 429]  # each change's first POST
    emu.advance(5 * 60 - 1)
    assert len(emu.deliveries) == 2
    emu.advance(1)
    assert [d.status for d in emu.deliveries][2:] == [302, 200]  # 5 min later; a redirect counts as a failure
    emu.advance(10 * 60)
    assert [d.attempt for d in emu.deliveries] == [1, 1, 2, 2, 3]
    emu.advance(24 * 3600)
    assert len(emu.deliveries) == 5  # delivered: no more retries


def test_until_queried_policy_redelivers_until_the_token_is_read(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.switches.callback_policy = "until_queried"
    received: list[str] = []
    emu.register_callback(URL, received.append)
    charge_id = one_step(api)
    assert len(received) == 2
    emu.advance(5 * 60)
    authorize(api)
    assert len(received) == 4  # 2xx was not enough: the token was not queried
    _events(api, emu.charges[charge_id]["notification_token"])
    emu.advance(3600)
    assert len(received) == 4


def test_deliberate_duplicates(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.switches.callback_duplicates = 2
    received: list[str] = []
    emu.register_callback(URL, received.append)
    one_step(api)
    assert len(received) == 6


def test_manual_mode_waits_for_deliver_callbacks() -> None:
    emu = EfiEmulator(CLIENT_ID, CLIENT_SECRET, today=TODAY, callback_mode="manual")
    received: list[str] = []
    emu.register_callback(URL, received.append)
    with httpx.Client(transport=emu.transport(), base_url="https://cobrancas.api.efipay.com.br") as api:
        authorize(api)
        one_step(api)
    assert received == []
    assert emu.deliver_callbacks() == 2
    assert len(received) == 2


def test_a_raising_callback_counts_as_500_and_is_retried(emu: EfiEmulator, api: httpx.Client) -> None:
    calls: list[str] = []

    def flaky(token: str) -> int:
        calls.append(token)
        if len(calls) == 1:
            raise RuntimeError("ERP down")
        return 200

    emu.register_callback(URL, flaky)
    one_step(api)
    assert emu.deliveries[0].status == 500
    assert "ERP down" in (emu.deliveries[0].error or "")
    emu.advance(300)
    assert [d.status for d in emu.deliveries] == [500, 200, 200]


# -- over loopback HTTP ------------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    posts: ClassVar[list[tuple[str, str]]] = []
    status: ClassVar[int] = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"])).decode()
        type(self).posts.append((self.headers["content-type"], body))
        self.send_response(type(self).status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.posts, _Receiver.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/efi/callback"
    server.shutdown()
    server.server_close()


def test_loopback_callback_is_a_form_post(emu: EfiEmulator, api: httpx.Client, receiver: str) -> None:
    charge_id = one_step(api, billet(metadata__notification_url=receiver))
    token = emu.charges[charge_id]["notification_token"]
    form = urllib.parse.urlencode({"notification": token})
    assert _Receiver.posts == [("application/x-www-form-urlencoded", form)] * 2
    assert [d.status for d in emu.deliveries] == [200, 200]


def test_loopback_callback_as_json_switch(emu: EfiEmulator, api: httpx.Client, receiver: str) -> None:
    emu.switches.callback_content_type = "json"
    one_step(api, billet(metadata__notification_url=receiver))
    assert _Receiver.posts[0][0] == "application/json"
    assert '"notification"' in _Receiver.posts[0][1]


def test_loopback_failure_is_retried(emu: EfiEmulator, api: httpx.Client, receiver: str) -> None:
    _Receiver.status = 503
    one_step(api, billet(metadata__notification_url=receiver))
    _Receiver.status = 200
    emu.advance(300)
    assert [d.status for d in emu.deliveries] == [503, 503, 200, 200]


def test_background_mode_delivers_from_a_worker() -> None:
    emu = EfiEmulator(CLIENT_ID, CLIENT_SECRET, today=TODAY, callback_mode="background")
    done = threading.Event()
    emu.register_callback(URL, lambda token: done.set())
    with emu, httpx.Client(transport=emu.transport(), base_url="https://cobrancas.api.efipay.com.br") as api:
        authorize(api)
        one_step(api)
        assert done.wait(5)


def test_events_older_than_six_months_drop_out(emu: EfiEmulator, api: httpx.Client) -> None:
    charge_id = one_step(api)
    token = emu.charges[charge_id]["notification_token"]
    emu.advance(100 * 24 * 3600)
    emu.pay(charge_id, paid_on=date(2026, 3, 10))
    emu.advance(90 * 24 * 3600)
    authorize(api)
    events = _events(api, token)
    # new and waiting are 190 days old; unpaid and paid (day 100) stay, with their numbers
    assert [(e["id"], e["status"]["current"]) for e in events] == [(3, "unpaid"), (4, "paid")]
