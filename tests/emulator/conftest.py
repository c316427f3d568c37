"""Fixtures for the emulator's tests: a fresh emulator on a fixed day and a plain, authorized httpx.Client."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from carteira.testing.efi_emulator import EfiEmulator

TODAY = date(2026, 1, 10)
SANDBOX = "https://cobrancas-h.api.efipay.com.br"
CLIENT_ID, CLIENT_SECRET = "Client_Id_emulator", "Client_Secret_s3cr3t-value"
CPF, OTHER_CPF, CNPJ = "12345678909", "52998224725", "11222333000181"


def authorize(client: httpx.Client, client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> httpx.Response:
    """POST /v1/authorize and, on success, set the bearer token on `client`."""
    response = client.post("/v1/authorize", auth=(client_id, secret), json={"grant_type": "client_credentials"})
    if response.status_code == 200:
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return response


@pytest.fixture
def emu() -> Iterator[EfiEmulator]:
    emulator = EfiEmulator(CLIENT_ID, CLIENT_SECRET, today=TODAY)
    yield emulator
    emulator.close()


@pytest.fixture
def api(emu: EfiEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=emu.transport(), base_url=SANDBOX) as client:
        assert authorize(client).status_code == 200
        yield client


BILLET: dict[str, Any] = {
    "items": [{"name": "Mensalidade março", "value": 12500, "amount": 1}],
    "shippings": [{"name": "Frete", "value": 1500}],
    "metadata": {"custom_id": "INV-000123", "notification_url": "https://erp.example/efi/callback"},
    "payment": {"banking_billet": {
        "expire_at": "2026-03-10",
        "customer": {"name": "Maria da Silva", "cpf": CPF, "email": "maria@example.com",
                     "phone_number": "11987654321", "birth": "1980-05-01",
                     "address": {"street": "Rua A", "number": "10", "neighborhood": "Centro",
                                 "zipcode": "01001000", "city": "São Paulo", "state": "SP"}},
        "configurations": {"days_to_write_off": 30, "fine": 200, "interest": {"value": 33, "type": "daily"}},
        "discount": {"type": "currency", "value": 500},
        "conditional_discount": {"type": "percentage", "value": 500, "until_date": "2026-03-05"},
        "message": "Linha 1\nLinha 2"}},
}

CARNET: dict[str, Any] = {
    "items": [{"name": "Curso", "value": 30000, "amount": 1}],
    "customer": {"name": "João Souza", "cpf": CPF, "phone_number": "21998765432"},
    "expire_at": "2026-04-05", "repeats": 6, "split_items": False,
    "configurations": {"fine": 200, "interest": 33},
    "discount": {"type": "currency", "value": 0},
    "message": "Carnê 2026", "metadata": {"custom_id": "CT-77", "notification_url": "https://erp.example/efi/callback"},
}


def billet(**changes: Any) -> dict[str, Any]:
    """A valid one-step body; `changes` maps a path joined by `__` (``payment__banking_billet__expire_at``) to a value,
    or to ``...`` (Ellipsis) to remove the key."""
    return _edit(BILLET, changes)


def carnet(**changes: Any) -> dict[str, Any]:
    """A valid carnê body, edited like `billet`."""
    return _edit(CARNET, changes)


def _edit(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(base)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target: Any = body
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if value is ...:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return body


def refusal(response: httpx.Response) -> tuple[int, Any]:
    """`(code, property or text)` of an Efí error body, after checking its shape."""
    body = response.json()
    assert set(body) == {"code", "error", "error_description"}, body
    description = body["error_description"]
    if isinstance(description, dict):
        assert set(description) == {"property", "message"}, description
        return body["code"], description["property"]
    assert isinstance(description, str), body
    return body["code"], description


def one_step(api: httpx.Client, body: dict[str, Any] | None = None) -> int:
    """Create a boleto and return its charge_id."""
    response = api.post("/v1/charge/one-step", json=body or billet())
    assert response.status_code == 200, response.text
    return int(response.json()["data"]["charge_id"])
