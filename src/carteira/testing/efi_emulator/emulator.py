"""`EfiEmulator`: the Efí charges API in memory, behind one handler shared by the httpx transport and the server."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from datetime import date, datetime
from datetime import time as time_of_day
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import parse_qs

import attrs
import httpx

from carteira.testing.efi_emulator import control, routing
from carteira.testing.efi_emulator.auth import Authority, Credentials
from carteira.testing.efi_emulator.clock import Clock
from carteira.testing.efi_emulator.faults import FaultRates, Faults
from carteira.testing.efi_emulator.ledger import Ledger
from carteira.testing.efi_emulator.notifications import CallbackFn, Courier, DeliveryRecord, NotificationBook
from carteira.testing.efi_emulator.refusals import EfiRefusal, invalid
from carteira.testing.efi_emulator.switches import Switches
from carteira.testing.efi_emulator.transport import EmulatorTransport
from carteira.testing.efi_emulator.views import carnet_view, charge_view

_log = logging.getLogger("carteira.testing.efi_emulator")

CallbackMode = Literal["inline", "background", "manual"]
Environment = Literal["production", "sandbox"]
#: Reference §1: the current and the old Gerencianet host of each environment.
HOSTS: dict[str, Environment] = {
    "cobrancas.api.efipay.com.br": "production",
    "api.gerencianet.com.br": "production",
    "cobrancas-h.api.efipay.com.br": "sandbox",
    "sandbox.gerencianet.com.br": "sandbox",
}
JSON_HEADERS = (("content-type", "application/json; charset=utf-8"),)
TOKEN_TTL_S = 600  # reference §2: expires_in is 600 s
RATE_LIMITS = {"GET /notification/:token": 2}  # the notification endpoint gets twice the daily quota


@attrs.frozen
class Reply:
    """What the handler answers: status, headers and body, or a fault the wrapper must act out instead."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    fault: Literal["timeout", "lost"] | None = None

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


def encode(payload: Any) -> bytes:
    """Compact UTF-8 JSON, as the emulator sends it."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class EfiEmulator:
    """The Efí charges API (reference gateway-efi.md §11) in memory: auth, state machines, validation, callbacks.

    Args:
        client_id: the credential pair `POST /v1/authorize` accepts (Basic auth).
        client_secret: never shown in a repr or a log line.
        today: freeze the clock on this date (09:00 Brasília); None follows the system clock.
        token_ttl_s: the `expires_in` of issued tokens.
        switches: answers to the uncertain points of reference §12 (defaults in decision 0400).
        callback_mode: "inline" sends callbacks right after the call that caused them (deterministic tests),
            "background" from a worker thread (like Efí), "manual" only on `deliver_callbacks()`.
        first_charge_id: where the deterministic charge id sequence starts (apart from the carnets', so a
            charge id passed as a carnê id names nothing).
        first_carnet_id: where the deterministic carnet id sequence starts.
        environment: bind the credential pair to "production" or "sandbox": a request to the other
            environment's host gets 401, as Efí's pairs are not interchangeable. None (default) serves both;
            loopback and unknown hosts always count as the bound environment.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        today: date | None = None,
        token_ttl_s: int = TOKEN_TTL_S,
        switches: Switches | None = None,
        latency_s: float = 0.0,
        callback_mode: CallbackMode = "inline",
        first_charge_id: int = 1_000_001,
        first_carnet_id: int = 900_001,
        environment: Environment | None = None,
    ) -> None:
        self._credentials = Credentials(client_id, client_secret)
        self._clock = Clock(None if today is None else datetime.combine(today, time_of_day(9, 0)))
        self.switches = switches or Switches()
        self.latency_s = latency_s
        self.environment = environment
        self.callback_mode: CallbackMode = callback_mode
        self.timeout_hang_s = 30.0  # how long the HTTP server holds a "timed out" request before dropping it
        self._lock = threading.RLock()
        self._authority = Authority(self._credentials, token_ttl_s=token_ttl_s)
        book = NotificationBook(seed=client_id)
        self._courier = Courier(self.switches, self._clock, book, self._lock)
        self._ledger = Ledger(
            self._clock,
            self.switches,
            book,
            self._courier,
            first_charge_id=first_charge_id,
            first_carnet_id=first_carnet_id,
        )
        self._faults = Faults()
        self._calls: dict[tuple[str, date], int] = {}
        self._worker: threading.Thread | None = None
        self._wake = threading.Event()
        self._closed = threading.Event()

    def __repr__(self) -> str:
        return (
            f"EfiEmulator(client_id={self._credentials.client_id!r}, now={self.now():%Y-%m-%d %H:%M:%S}, "
            f"charges={len(self._ledger.charges)}, carnets={len(self._ledger.carnets)})"
        )

    # -- the clock ------------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The emulator's wall time (naive, Brasília)."""
        return self._clock.now()

    @property
    def today(self) -> date:
        """The emulator's date; setting it freezes the clock on that day (boletos past due turn `unpaid`)."""
        return self._clock.now().date()

    @today.setter
    def today(self, value: date) -> None:
        self._clock.set_today(value)
        self._settle_time()

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds` (token expiry, callback retries, due dates)."""
        self._clock.advance(seconds)
        self._settle_time()

    def _settle_time(self) -> None:
        with self._lock:
            self._ledger.tick()
        self._after_call()

    # -- test hooks -----------------------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Expire every issued token now: the next API call answers 401 until the client authorizes again."""
        with self._lock:
            self._authority.expire_all()

    def pay(self, charge_id: int, value_cents: int | None = None, paid_on: date | None = None) -> None:
        """A bank pays `charge_id` (default: its total, today): status `paid`, an event with `value`.

        Raises:
            PaymentRefused: the charge has no boleto, is already paid or settled, or was written off.
        """
        with self._lock:
            self._ledger.tick()
            self._ledger.pay(charge_id, value_cents, paid_on)
        self._after_call()

    @property
    def charges(self) -> Mapping[int, Mapping[str, Any]]:
        """A snapshot of every charge (parcels included) by id, for assertions."""
        with self._lock:
            return MappingProxyType({i: MappingProxyType(charge_view(c)) for i, c in self._ledger.charges.items()})

    @property
    def carnets(self) -> Mapping[int, Mapping[str, Any]]:
        """A snapshot of every carnê by id, for assertions."""
        with self._lock:
            return MappingProxyType({i: MappingProxyType(carnet_view(c)) for i, c in self._ledger.carnets.items()})

    def fail_next(self, n: int = 1, status: int = 500, code: int = 3500000) -> None:
        """The next `n` API calls (not `/authorize`) answer `status` with an Efí error body, doing nothing."""
        self._faults.fail_next(n, status, code)

    def timeout_next(self, n: int = 1) -> None:
        """The next `n` API calls time out without doing anything (in-process: `httpx.ReadTimeout`)."""
        self._faults.timeout_next(n)

    def lose_next_response(self, n: int = 1) -> None:
        """The next `n` API calls do their work, then the answer is lost (in-process: `httpx.ReadTimeout`)."""
        self._faults.lose_next_response(n)

    def random_faults(self, rates: FaultRates | None) -> None:
        """Draw a fault at random for each API call with `rates` (seeded) from now on; None stops it.

        Queued faults (`fail_next`, `timeout_next`, `lose_next_response`) are taken first.
        """
        self._faults.at_random(rates)

    @property
    def fault_rates(self) -> FaultRates | None:
        """The random faults in force, if any."""
        return self._faults.rates

    def clear_faults(self) -> None:
        """Drop every queued fault and stop the random ones (latency stays as set)."""
        self._faults.clear()

    # -- callbacks ------------------------------------------------------------------------------------------

    def register_callback(self, url: str, fn: CallbackFn) -> None:
        """Deliver callbacks addressed to `url` to `fn(token)` instead of over HTTP; an int it returns is the
        answer's status, anything else a 200 (so `portfolio.payments.receive` can be registered as it is)."""
        self._courier.register(url, fn)

    @property
    def deliveries(self) -> list[DeliveryRecord]:
        """Every callback sent so far, oldest first."""
        return self._courier.records

    def deliver_callbacks(self) -> int:
        """Send every callback that is due now (first sends and retries); return how many POSTs were made."""
        return self._courier.deliver_due()

    def allow_callbacks_to_any_host(self, allowed: bool = True) -> None:
        """Let callbacks go to non-loopback URLs (an ERP in another container); off by default."""
        self._courier.any_host = allowed

    def _after_call(self) -> None:
        if self.callback_mode == "inline":
            self._courier.deliver_due()
        elif self.callback_mode == "background":
            self._ensure_worker()
            self._wake.set()

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._worker is None and not self._closed.is_set():
                self._worker = threading.Thread(
                    target=self._deliver_forever, name="efi-emulator-callbacks", daemon=True
                )
                self._worker.start()

    def _deliver_forever(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            try:
                self._courier.deliver_due()
            except Exception:  # a delivery bug must not kill the worker silently for every later callback
                _log.exception("callback delivery failed")

    def close(self) -> None:
        """Stop the callback worker and close the HTTP client used for loopback callbacks."""
        self._closed.set()
        self._wake.set()
        if self._worker is not None:
            self._worker.join(timeout=5)
        self._courier.close()

    def __enter__(self) -> EfiEmulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the wire -------------------------------------------------------------------------------------------

    def transport(self) -> httpx.BaseTransport:
        """An httpx transport that answers in-process: `httpx.Client(transport=emu.transport(), base_url=...)`."""
        return EmulatorTransport(self)

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer one HTTP request. The transport and the HTTP server are thin wrappers over this.

        Latency (and a random "slow" fault) is slept before any lock is taken, so concurrent calls overlap as they
        would against Efí.
        """
        if self.latency_s > 0:
            time.sleep(self.latency_s)
        method, lowered = method.upper(), {k.lower(): v for k, v in headers.items()}
        if path.startswith(control.PREFIX):
            status, payload = control.handle(self, method, path, body)
            return Reply(status, JSON_HEADERS, encode(payload))
        if self._wrong_environment(lowered):
            error = "invalid_client" if path == routing.AUTHORIZE else "invalid_token"
            return self._refusal(
                EfiRefusal(401, f"Credenciais não pertencem ao ambiente {self.environment}.", kind="auth", error=error)
            )
        if method == "POST" and path == routing.AUTHORIZE:
            return self._authorize(lowered, body)
        found = routing.resolve(method, path)
        if found is None:
            return self._reply(
                404, {"code": 404, "error": "not_found", "error_description": f"Rota {method} {path} não encontrada."}
            )
        fault = self._faults.before()
        drawn = self._faults.draw(found[0].name) if fault is None else None
        if drawn == "timeout":
            fault = "timeout"
        elif drawn == "fail":
            fault = (500, 3500000)
        elif drawn == "slow":
            time.sleep(self._faults.rates.slow_s if self._faults.rates is not None else 0.0)
        if fault == "timeout":
            return Reply(0, (), b"", fault="timeout")
        if fault is not None:
            status, code = fault
            return self._reply(
                status,
                {
                    "code": code,
                    "error": "internal_server_error",
                    "error_description": "Erro interno do servidor. Tente novamente.",
                },
            )
        reply = self._dispatch(found, query, lowered, body)
        lost = self._faults.after() or drawn == "lost"
        self._after_call()
        return attrs.evolve(reply, fault="lost") if lost else reply

    def _wrong_environment(self, headers: Mapping[str, str]) -> bool:
        host = headers.get("host", "").rsplit(":", 1)[0].lower()
        return self.environment is not None and HOSTS.get(host, self.environment) != self.environment

    def _dispatch(
        self, found: tuple[routing.Route, tuple[str, ...]], query: str, headers: Mapping[str, str], body: bytes
    ) -> Reply:
        route, params = found
        try:
            payload = json.loads(body) if body.strip() else None
        except ValueError:
            return self._refusal(invalid("/", "O corpo da requisição não é um JSON válido."))
        arguments = parse_qs(query, keep_blank_values=True)
        with self._lock:
            try:
                now = self._clock.now()
                self._ledger.tick()
                self._authority.check(headers, now)
                self._count(route.name, now.date())
                return self._reply(200, route.handler(self._ledger, params, arguments, payload))
            except EfiRefusal as refusal:
                return self._refusal(refusal)

    def _count(self, name: str, today: date) -> None:
        limit = self.switches.daily_request_limit
        if limit is None:
            return
        key = (name, today)
        self._calls[key] = self._calls.get(key, 0) + 1
        if self._calls[key] > limit * RATE_LIMITS.get(name, 1):
            raise EfiRefusal(3500049, f"Limite diário de requisições do endpoint {name} excedido.", kind="rate_limit")

    def _authorize(self, headers: Mapping[str, str], body: bytes) -> Reply:
        with self._lock:
            try:
                return self._reply(200, self._authority.authorize(headers, body, self._clock.now()))
            except EfiRefusal as refusal:
                return self._refusal(refusal)

    def _refusal(self, refusal: EfiRefusal) -> Reply:
        switches = self.switches
        status = {
            "validation": switches.validation_error_status,
            "not_found": switches.validation_error_status,
            "business": switches.business_error_status,
            "rate_limit": switches.rate_limit_status,
            "internal": 500,
        }.get(refusal.kind)
        if status is None:  # auth: 401 for credentials and tokens (switchable), 400 for a bad grant
            status = switches.auth_failure_status if refusal.code == 401 else refusal.code
        return self._reply(status, refusal.body())

    @staticmethod
    def _reply(status: int, payload: Any) -> Reply:
        return Reply(status, JSON_HEADERS, encode(payload))
