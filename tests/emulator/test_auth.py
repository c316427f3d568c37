"""OAuth client credentials (reference §2): tokens, expiry, bad credentials, and the secret kept out of sight."""

from __future__ import annotations

import logging
from datetime import date

import httpx
import pytest

from carteira.testing.efi_emulator import EfiEmulator

from .conftest import CLIENT_ID, CLIENT_SECRET, SANDBOX, TODAY, authorize, one_step


def test_authorize_answers_the_documented_token_shape(emu: EfiEmulator) -> None:
    with httpx.Client(transport=emu.transport(), base_url=SANDBOX) as client:
        response = authorize(client)
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"access_token", "refresh_token", "expires_in", "expire_at", "token_type"}
    assert body["expires_in"] == 600
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expire_at"], str)
    assert body["expire_at"].isdigit()  # epoch milliseconds as a string, as in the DOC-EFI sample
    assert body["access_token"] != body["refresh_token"]


@pytest.mark.parametrize(("client_id", "secret"), [(CLIENT_ID, "wrong"), ("other", CLIENT_SECRET), ("", "")])
def test_bad_credentials_get_401_with_error_and_description(emu: EfiEmulator, client_id: str, secret: str) -> None:
    with httpx.Client(transport=emu.transport(), base_url=SANDBOX) as client:
        response = authorize(client, client_id, secret)
    assert response.status_code == 401
    assert set(response.json()) == {"error", "error_description"}
    assert CLIENT_SECRET not in response.text


def test_authorize_refuses_another_grant_type(emu: EfiEmulator) -> None:
    with httpx.Client(transport=emu.transport(), base_url=SANDBOX) as client:
        response = client.post("/v1/authorize", auth=(CLIENT_ID, CLIENT_SECRET), json={"grant_type": "password"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_calls_without_a_token_get_401(emu: EfiEmulator) -> None:
    with httpx.Client(transport=emu.transport(), base_url=SANDBOX) as client:
        assert client.get("/v1/charge/1").status_code == 401
        client.headers["Authorization"] = "Bearer not-a-token"
        assert client.get("/v1/charge/1").status_code == 401


def test_token_expires_after_expires_in_seconds(emu: EfiEmulator, api: httpx.Client) -> None:
    charge_id = one_step(api)
    emu.advance(599)
    assert api.get(f"/v1/charge/{charge_id}").status_code == 200
    emu.advance(1)
    assert api.get(f"/v1/charge/{charge_id}").status_code == 401
    assert authorize(api).status_code == 200
    assert api.get(f"/v1/charge/{charge_id}").status_code == 200


def test_expire_tokens_forces_a_new_authorization(emu: EfiEmulator, api: httpx.Client) -> None:
    charge_id = one_step(api)
    emu.expire_tokens()
    assert api.get(f"/v1/charge/{charge_id}").status_code == 401
    authorize(api)
    assert api.get(f"/v1/charge/{charge_id}").json()["data"]["charge_id"] == charge_id


def test_token_ttl_is_configurable() -> None:
    emu = EfiEmulator(CLIENT_ID, CLIENT_SECRET, today=TODAY, token_ttl_s=30)
    with httpx.Client(transport=emu.transport(), base_url=SANDBOX) as client:
        assert authorize(client).json()["expires_in"] == 30
        emu.advance(30)
        assert client.get("/v1/charge/1").status_code == 401


def test_the_auth_failure_status_is_a_switch(emu: EfiEmulator) -> None:
    emu.switches.auth_failure_status = 403
    with httpx.Client(transport=emu.transport(), base_url=SANDBOX) as client:
        assert authorize(client, CLIENT_ID, "wrong").status_code == 403


def test_the_secret_never_shows_in_repr_or_logs(emu: EfiEmulator, api: httpx.Client,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    one_step(api)
    authorize(api, CLIENT_ID, "wrong")
    assert CLIENT_SECRET not in repr(emu)
    assert CLIENT_SECRET not in repr(emu._authority)
    assert CLIENT_SECRET not in repr(emu._credentials)
    assert all(CLIENT_SECRET not in record.getMessage() for record in caplog.records)


def test_setting_today_moves_token_lifetimes_too(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.today = date(2026, 1, 11)
    assert api.get("/v1/charge/1").status_code == 401


def test_a_pair_bound_to_production_is_refused_on_the_sandbox_hosts() -> None:
    emu = EfiEmulator(CLIENT_ID, CLIENT_SECRET, today=TODAY, environment="production")
    for host, expected in [("https://cobrancas.api.efipay.com.br", 200), ("https://api.gerencianet.com.br", 200),
                           ("https://cobrancas-h.api.efipay.com.br", 401), ("https://sandbox.gerencianet.com.br", 401)]:
        with httpx.Client(transport=emu.transport(), base_url=host) as client:
            assert authorize(client).status_code == expected, host
    with httpx.Client(transport=emu.transport(), base_url="https://cobrancas.api.efipay.com.br") as client:
        token = authorize(client).json()["access_token"]
    with httpx.Client(transport=emu.transport(), base_url="https://cobrancas-h.api.efipay.com.br") as client:
        client.headers["Authorization"] = f"Bearer {token}"
        assert client.get("/v1/charge/1").status_code == 401
