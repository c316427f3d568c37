"""A scripted Efí for unit tests: an httpx.MockTransport handler that records requests and answers from a queue."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx

from carteira.adapters.efi import EfiGateway, RetryPolicy
from carteira.domain.money import Money
from carteira.ports.gateway import BilletRequest, Item, Payer

TODAY = date(2026, 1, 10)
SECRET = "s3cr3t-Client_Secret-value"
CPF = "529.982.247-25"
Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def efi_error(
    code: int, message: str, *, prop: str | None = None, status: int = 400, slug: str = "validation_error"
) -> httpx.Response:
    """An Efí error body as reference §6 shows it."""
    description: object = {"property": prop, "message": message} if prop else message
    return httpx.Response(status, json={"code": code, "error": slug, "error_description": description})


def ok(data: object = None) -> httpx.Response:
    """Efí's success envelope."""
    return httpx.Response(200, json={"code": 200} if data is None else {"code": 200, "data": data})


def one_step_data(charge_id: int = 4711, total: int = 14000, due: str = "2026-03-10") -> dict[str, Any]:
    return {
        "charge_id": charge_id,
        "status": "waiting",
        "total": total,
        "payment": "banking_billet",
        "barcode": "36490.00019 00000.000000 00000.000000 1 12340000014000",
        "link": "https://pay.example/responsive",
        "billet_link": "https://pay.example/billet",
        "pdf": {"charge": "https://pay.example/charge.pdf"},
        "expire_at": due,
    }


class ScriptedEfi:
    """Answers /v1/authorize with a fresh token (unless told otherwise) and every other call from ``answers``."""

    def __init__(self, *answers: Answer, expires_in: int = 600) -> None:
        self.answers: list[Answer] = list(answers)
        self.requests: list[httpx.Request] = []
        self.authorizations = 0
        self.auth_answers: list[Answer] = []
        self.expires_in = expires_in

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/v1/authorize":
            if self.auth_answers:
                return self._play(self.auth_answers.pop(0), request)
            self.authorizations += 1
            return httpx.Response(
                200,
                json={
                    "access_token": f"token-{self.authorizations}",
                    "expires_in": self.expires_in,
                    "token_type": "Bearer",
                },
            )
        if not self.answers:
            raise AssertionError(f"unexpected call {request.method} {request.url}")
        return self._play(self.answers.pop(0), request)

    def _play(self, answer: Answer, request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path != "/v1/authorize"]

    def body(self, index: int = -1) -> Any:
        return json.loads(self.api_requests()[index].content)


def gateway(
    script: ScriptedEfi,
    *,
    sleeps: list[float] | None = None,
    attempts: int = 4,
    monotonic: Callable[[], float] | None = None,
) -> EfiGateway:
    recorded = sleeps if sleeps is not None else []
    extra: dict[str, Any] = {"monotonic": monotonic} if monotonic else {}
    return EfiGateway(
        "client-id",
        SECRET,
        "sandbox",
        transport=httpx.MockTransport(script),
        retry=RetryPolicy(attempts=attempts, backoff_initial_s=0.1, backoff_max_s=1.0),
        today=lambda: TODAY,
        sleep=recorded.append,
        **extra,
    )


def billet(**changes: Any) -> BilletRequest:
    fields: dict[str, Any] = {
        "items": (Item("Mensalidade março", Money("125.00")),),
        "payer": Payer("Maria da Silva", CPF, email="maria@example.com", phone="(11) 98765-4321"),
        "due": date(2026, 3, 10),
        "operation_id": "op-1",
    }
    fields.update(changes)
    return BilletRequest(**fields)
