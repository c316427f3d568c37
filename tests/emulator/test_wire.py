"""The same handler over two wires: in-process transport and loopback HTTP answer identically; the CLI; hooks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from carteira.testing.efi_emulator import EfiEmulator, serve

from .conftest import CLIENT_ID, CLIENT_SECRET, TODAY, billet, carnet

SCRIPT: list[tuple[str, str, dict[str, Any] | None, dict[str, str] | None]] = [
    ("POST", "/v1/charge/one-step", billet(), None),
    ("POST", "/v1/charge/one-step", billet(payment__banking_billet__customer__phone_number=""), None),
    ("POST", "/v1/charge", {"items": [{"name": "Serviço", "value": 9900}], "metadata": {"custom_id": "two"}}, None),
    ("POST", "/v1/charge/1000003/pay", {"payment": billet()["payment"]}, None),
    ("GET", "/v1/charge/1000001", None, None),
    ("PUT", "/v1/charge/1000001/billet", {"expire_at": "2026-04-01"}, None),
    ("PUT", "/v1/charge/1000001/cancel", None, None),
    ("PUT", "/v1/charge/1000001/cancel", None, None),
    ("PUT", "/v1/charge/1000003/settle", None, None),
    ("POST", "/v1/carnet", carnet(repeats=3), None),
    ("PUT", "/v1/carnet/900001/parcels", {"parcels": [{"parcel": 2, "expire_at": "2026-01-20"}]}, None),
    ("PUT", "/v1/carnet/900001/parcel/1/cancel", None, None),
    ("GET", "/v1/carnet/900001", None, None),
    ("GET", "/v1/charges", None, {"charge_type": "billet", "begin_date": "2026-01-01", "end_date": "2026-01-31"}),
    ("GET", "/v1/charges", None, {"charge_type": "billet", "begin_date": "2026-01-01"}),
    ("GET", "/v1/charge/424242", None, None),
    ("DELETE", "/v1/charge/1000001", None, None),
]


def _run(client: httpx.Client) -> list[tuple[int, Any]]:
    token = client.post("/v1/authorize", auth=(CLIENT_ID, CLIENT_SECRET),
                        json={"grant_type": "client_credentials"}).json()
    client.headers["Authorization"] = f"Bearer {token['access_token']}"
    answers: list[tuple[int, Any]] = [(200, token)]
    for method, path, body, params in SCRIPT:
        response = client.request(method, path, json=body, params=params)
        answers.append((response.status_code, response.json()))
    return answers


def test_loopback_http_answers_exactly_as_in_process() -> None:
    in_process = EfiEmulator(CLIENT_ID, CLIENT_SECRET, today=TODAY)
    over_http = EfiEmulator(CLIENT_ID, CLIENT_SECRET, today=TODAY)
    with httpx.Client(transport=in_process.transport(), base_url="https://cobrancas-h.api.efipay.com.br") as client:
        expected = _run(client)
    with serve(over_http) as url, httpx.Client(base_url=url) as client:
        actual = _run(client)
    assert actual == expected
    assert [status for status, _ in expected].count(200) >= 10  # the script exercises successes and refusals
    assert {status for status, _ in expected} >= {200, 400, 404}
    token = in_process.charges[1000001]["notification_token"]
    with serve(in_process) as url, httpx.Client(base_url=url) as client:
        client.headers["Authorization"] = f"Bearer {expected[0][1]['access_token']}"
        via_http = client.get(f"/v1/notification/{token}").json()
    with httpx.Client(transport=in_process.transport(), base_url="https://cobrancas.api.efipay.com.br") as client:
        client.headers["Authorization"] = f"Bearer {expected[0][1]['access_token']}"
        assert client.get(f"/v1/notification/{token}").json() == via_http


def test_timeout_over_http_is_a_client_timeout_and_does_no_work() -> None:
    emu = EfiEmulator(CLIENT_ID, CLIENT_SECRET, today=TODAY)
    with serve(emu) as url, httpx.Client(base_url=url, timeout=0.3) as client:
        token = client.post("/v1/authorize", auth=(CLIENT_ID, CLIENT_SECRET),
                            json={"grant_type": "client_credentials"}).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        emu.timeout_next()
        with pytest.raises(httpx.ReadTimeout):
            client.post("/v1/charge/one-step", json=billet())
        assert emu.charges == {}
        emu.lose_next_response()
        with pytest.raises(httpx.ReadTimeout):
            client.post("/v1/charge/one-step", json=billet())
        assert len(emu.charges) == 1


def test_control_routes_drive_the_hooks_over_http() -> None:
    emu = EfiEmulator(CLIENT_ID, CLIENT_SECRET, today=TODAY)
    with serve(emu) as url, httpx.Client(base_url=url) as client:
        token = client.post("/v1/authorize", auth=(CLIENT_ID, CLIENT_SECRET),
                            json={"grant_type": "client_credentials"}).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        charge_id = client.post("/v1/charge/one-step", json=billet()).json()["data"]["charge_id"]
        paid = client.post("/_emulator/pay", json={"charge_id": charge_id, "value": 14100, "paid_on": "2026-01-09"})
        assert paid.json() == {"data": "paid"}
        assert client.post("/_emulator/pay", json={"charge_id": charge_id}).status_code == 409
        assert emu.charges[charge_id]["paid_value"] == 14100
        assert client.post("/_emulator/clock", json={"today": "2026-02-01"}).json() == {
            "data": {"now": "2026-02-01 09:00:00"}}
        switches = client.post("/_emulator/switches", json={"phone_number_required": True}).json()["data"]
        assert switches["phone_number_required"] is True
        assert emu.switches.phone_number_required is True
        assert client.post("/_emulator/switches", json={"no_such": 1}).status_code == 400
        client.post("/_emulator/faults", json={"fail_next": {"n": 1, "status": 502}})
        assert client.get("/_emulator/charges").json()["data"][str(charge_id)]["status"] == "paid"
        client.post("/_emulator/expire-tokens", json={})
        assert client.get(f"/v1/charge/{charge_id}").status_code == 502  # the fault comes before the token check
        assert client.get(f"/v1/charge/{charge_id}").status_code == 401


def test_cli_prints_one_line_when_ready_and_serves() -> None:
    env = {**os.environ, "EFI_EMULATOR_CLIENT_SECRET": CLIENT_SECRET}
    process = subprocess.Popen(
        [sys.executable, "-m", "carteira.testing.efi_emulator", "--port", "0", "--client-id", CLIENT_ID,
         "--today", "2026-01-10"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("efi-emulator listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        response = httpx.post(f"{url}/v1/authorize", auth=(CLIENT_ID, CLIENT_SECRET),
                              json={"grant_type": "client_credentials"})
        assert response.status_code == 200
        assert CLIENT_SECRET not in line
    finally:
        process.terminate()
        started = time.monotonic()
        process.wait(timeout=10)
        assert time.monotonic() - started < 10
    assert process.returncode == 0
    assert CLIENT_SECRET not in (process.stderr.read() if process.stderr else "")


def test_the_server_reads_chunked_bodies() -> None:
    emu = EfiEmulator(CLIENT_ID, CLIENT_SECRET, today=TODAY)

    def chunks() -> Any:
        yield b'{"grant_type": '
        yield b'"client_credentials"}'

    with serve(emu) as url, httpx.Client(base_url=url) as client:
        response = client.post("/v1/authorize", auth=(CLIENT_ID, CLIENT_SECRET), content=chunks())
        assert response.status_code == 200
        assert response.json()["token_type"] == "Bearer"
