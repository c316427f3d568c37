"""EfiGateway: the PaymentGateway port over Efí's charges API, with httpx.

One :class:`EfiGateway` holds one ``httpx.Client`` and one OAuth token and may be shared by
many threads (a billing run sends from 32 threads over one client). The token is the client's
``httpx.Auth`` flow (:class:`~carteira.adapters.efi.auth.EfiAuth`): fetched with the client
credentials, cached, renewed shortly before it expires and once more when Efí answers 401.
Timeouts, 5xx, 4600100 and the rate-limit codes are retried with exponential backoff, jitter and
a cap; a create whose answer was lost is never sent again blindly: it raises
:class:`~carteira.errors.GatewayOutcomeUnknown` and the caller resolves it with
:func:`carteira.ports.gateway.find_created`.

Efí's integer ids become the port's strings at this edge: an id that is not Efí's digits is
refused before sending, and the operation id travels as Efí's ``metadata.custom_id``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal, Self, TypeVar
from urllib.parse import quote

import attrs
import httpx

from carteira.adapters.efi import rules, wire
from carteira.adapters.efi.auth import EfiAuth
from carteira.adapters.efi.errors import error_from_response, outcome_unknown
from carteira.domain.carnet import CarnetLimits
from carteira.errors import (
    GatewayAuthenticationError,
    GatewayError,
    GatewayUnavailable,
    GatewayValidationError,
    InvalidInput,
    InvalidType,
)
from carteira.ports.gateway import (
    BilletOutcome,
    BilletRequest,
    CarnetId,
    CarnetRequest,
    CarnetStatus,
    ChargeId,
    ChargeStatus,
    ChargeSummary,
    EventKind,
    IssuedBillet,
    IssuedCarnet,
    NotificationEvent,
)

_Issued = TypeVar("_Issued", IssuedBillet, IssuedCarnet)

__all__ = ["BASE_URLS", "EfiGateway", "Environment", "RetryPolicy", "brasilia_today"]

Environment = Literal["sandbox", "production"]

BASE_URLS: dict[str, str] = {
    "production": "https://cobrancas.api.efipay.com.br",
    "sandbox": "https://cobrancas-h.api.efipay.com.br",
}
"""Efí's charges API hosts; every path starts with ``/v1``."""

_LOG = logging.getLogger("carteira.adapters.efi")
_BRASILIA = timezone(timedelta(hours=-3))  # Brazil has kept no daylight saving time since 2019
_SDK_HEADER = "carteira-0.1"
_FIND_DAYS_BACK = 400
_FIND_PAGE_SIZE = 100
_FIND_PAGES_MAX = 50
# Not sent at all, so resending cannot duplicate anything, even a create.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def brasilia_today() -> date:
    """Today's date in Brasília, the calendar Efí's due dates follow (the default ``today`` of a gateway)."""
    return datetime.now(_BRASILIA).date()


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How often and how patiently a retryable failure is tried again.

    The n-th wait is ``min(backoff_max_s, backoff_initial_s × 2**(n-1))``, half of it fixed and
    half random (jitter spreads 32 threads that failed together). ``attempts`` counts every try,
    the first included; ``attempts=1`` disables retries.
    """

    attempts: int = 4
    backoff_initial_s: float = 0.25
    backoff_max_s: float = 8.0

    def __attrs_post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int) or not 1 <= self.attempts <= 20:
            raise InvalidInput("must be a whole number from 1 to 20", field="attempts", raw=repr(self.attempts))
        if not 0 <= self.backoff_initial_s <= self.backoff_max_s:
            raise InvalidInput("must satisfy 0 <= backoff_initial_s <= backoff_max_s", field="backoff_initial_s")

    def delay_s(self, attempt: int, draw: Callable[[], float]) -> float:
        """The wait after failed try number ``attempt`` (1-based); ``draw`` gives a number in [0, 1)."""
        ceiling = min(self.backoff_max_s, self.backoff_initial_s * 2 ** (attempt - 1))
        half = float(ceiling) / 2
        return half + half * draw()


class EfiGateway:
    """The :class:`~carteira.ports.gateway.PaymentGateway` over Efí's charges API.

    Args:
        client_id: the application's client id for ``environment``.
        client_secret: its secret; kept out of every repr, log line and error.
        environment: ``"sandbox"`` or ``"production"``; required, as the two credential pairs differ.
        transport: an httpx transport (an emulator's, a ``MockTransport``); the network by default.
        timeout: seconds for each request (connect, read, write, pool).
        base_url: another host than Efí's, e.g. an emulator on loopback (``http://127.0.0.1:8080``).
        retry: the retry policy for timeouts, 5xx and Efí's "try again" codes.
        today: the clock for the due-date checks; Brasília's date by default.
        sleep: how to wait between retries (tests pass a recorder).
        monotonic: the clock for token expiry.
        max_connections: the size of the connection pool (at least the number of sending threads).
        carnet_limits: the fewest and most parcels of one carnet; Efí's 2 to 12 by default
            (``rules.EFI_CARNET_LIMITS``), at most 24.

    Raises:
        InvalidInput: an unknown environment, empty credentials, or carnet limits Efí cannot meet.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        environment: Environment,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        today: Callable[[], date] = brasilia_today,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        max_connections: int = 64,
        carnet_limits: CarnetLimits = rules.EFI_CARNET_LIMITS,
    ) -> None:
        if environment not in BASE_URLS:
            raise InvalidInput(
                "must be 'sandbox' or 'production'",
                field="environment",
                raw=repr(environment),
                hint="each Efí application has one credential pair per environment",
            )
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 600:
            raise InvalidInput(
                "must be a number of seconds above 0 and at most 600", field="timeout", raw=repr(timeout)
            )
        if not isinstance(client_id, str) or not client_id:
            raise InvalidInput("is required", field="client_id")
        if not isinstance(client_secret, str) or not client_secret:
            raise InvalidInput("is required", field="client_secret")
        self._carnet_limits = rules.check_limits(carnet_limits)
        self._client_id = client_id
        self._environment: str = environment
        root = (base_url or BASE_URLS[environment]).rstrip("/")
        self._base_url = root[: -len("/v1")] if root.endswith("/v1") else root
        self._http = httpx.Client(
            base_url=self._base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout),
            headers={"api-sdk": _SDK_HEADER, "accept": "application/json"},
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )
        # The auth flow is the only holder of the secret; it authorizes through this same client.
        self._http.auth = EfiAuth(client_id, client_secret, environment, client=self._http, monotonic=monotonic)
        self._retry = retry or RetryPolicy()
        self._today = today
        self._sleep = sleep
        self._random = random.Random()
        self._converter = wire.make_converter()

    def __repr__(self) -> str:
        return (
            f"EfiGateway(client_id={self._client_id!r}, environment={self._environment!r}, base_url={self._base_url!r})"
        )

    def __getstate__(self) -> None:
        # A gateway holds a secret, a lock and sockets: pickling it would leak the first and break the others.
        raise InvalidType(
            "an EfiGateway cannot be pickled; build one per process from your configuration", field="gateway"
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool; the gateway cannot be used afterwards."""
        self._http.close()

    @property
    def environment(self) -> str:
        """``"sandbox"`` or ``"production"``."""
        return self._environment

    @property
    def carnet_limits(self) -> CarnetLimits:
        """The fewest and most parcels of one carnet this gateway issues (Efí's 2 to 12 unless configured)."""
        return self._carnet_limits

    # --- one call, with retries ---------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
        creates: bool = False,
        operation_id: str | None = None,
    ) -> Any:
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._once(method, path, operation, json, params, creates, operation_id)
            except GatewayError as exc:
                if not exc.retryable or attempt >= self._retry.attempts:
                    raise
                wait = self._retry.delay_s(attempt, self._random.random)
                _LOG.warning(
                    "%s: %s; retry %d of %d in %.2f s",
                    operation,
                    type(exc).__name__,
                    attempt,
                    self._retry.attempts - 1,
                    wait,
                )
                self._sleep(wait)

    def _once(
        self,
        method: str,
        path: str,
        operation: str,
        json: Any,
        params: dict[str, Any] | None,
        creates: bool,
        operation_id: str | None,
    ) -> Any:
        started = time.perf_counter()
        try:
            # The client's auth flow adds the token, and renews it and resends once on a 401.
            response = self._http.request(method, path, json=json, params=params)
        except _NOT_SENT as exc:
            raise GatewayUnavailable(f"{operation}: could not reach Efí ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            cause = f"no answer from Efí after sending ({type(exc).__name__})"
            if creates:
                raise outcome_unknown(operation, operation_id, cause) from None
            raise GatewayUnavailable(f"{operation}: {cause}") from None
        elapsed_ms = (time.perf_counter() - started) * 1000
        _LOG.debug("%s %s -> %d in %.0f ms", method, path, response.status_code, elapsed_ms)
        if response.status_code == 401:  # a second 401, to a token fetched a moment ago
            raise GatewayAuthenticationError(
                f"{operation}: Efí answered 401 to a fresh token for client_id {self._client_id!r}; "
                "check that the application may use the charges API",
                status=401,
            )
        if response.status_code != 200:
            raise error_from_response(response, operation=operation, creates=creates, operation_id=operation_id)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if creates:
                raise outcome_unknown(operation, operation_id, "Efí answered 200 without a JSON body", status=200)
            raise GatewayUnavailable(f"{operation}: Efí answered 200 without a JSON body", status=200)
        return body.get("data")

    def _decode(
        self, operation: str, decode: Callable[[], Any], *, creates: bool = False, operation_id: str | None = None
    ) -> Any:
        try:
            return decode()
        except wire.UnexpectedShape as exc:
            cause = f"Efí's answer has an unexpected shape ({exc})"
            if creates:
                raise outcome_unknown(operation, operation_id, cause, status=200) from None
            raise GatewayError(f"{operation}: {cause}", status=200) from None

    def _create(
        self, kind: str, path: str, body: Any, operation_id: str | None, decode: Callable[[Any], _Issued]
    ) -> _Issued:
        # A create is never resent blindly: `creates=True` turns a lost answer into GatewayOutcomeUnknown.
        operation = f"create {kind} {operation_id or ''}".rstrip()
        data = self._call("POST", path, operation=operation, json=body, creates=True, operation_id=operation_id)
        issued: _Issued = self._decode(operation, lambda: decode(data), creates=True, operation_id=operation_id)
        return issued

    # --- the port ------------------------------------------------------------------------------

    def create_billet(self, request: BilletRequest) -> IssuedBillet:
        """Issue a one-step billet (``POST /v1/charge/one-step``) after the local checks (SPEC G2).

        Raises:
            GatewayValidationError: refused locally (``code`` is ``None``) or by Efí (``code`` set).
            GatewayOutcomeUnknown: sent, but no usable answer: look it up by ``operation_id`` first.
            GatewayUnavailable: not taken, even after the retries; safe to send again later.
            GatewayAuthenticationError: the credentials were refused.
        """
        checked = rules.check_billet(request, self._today())
        body = wire.billet_body(request, checked, self._converter)
        return self._create(
            "billet",
            "/v1/charge/one-step",
            body,
            request.operation_id,
            lambda data: wire.issued_billet(
                data, self._converter, operation_id=request.operation_id, adjustments=checked.adjustments
            ),
        )

    def create_billets(
        self,
        requests: Sequence[BilletRequest],
        *,
        concurrency: int = 8,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[BilletOutcome]:
        """Issue many billets over this one client, ``concurrency`` at a time; one outcome per request, in order.

        A request's ``GatewayError`` becomes its outcome's ``error``; anything else (a bug) propagates.
        ``progress(done, total)`` is called after each request, from the sending threads but one call at
        a time, so ``done`` only grows.
        """
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= 256:
            raise InvalidInput("must be a whole number from 1 to 256", field="concurrency", raw=repr(concurrency))
        total = len(requests)
        done = 0
        progress_lock = threading.Lock()

        def one(request: BilletRequest) -> BilletOutcome:
            nonlocal done
            try:
                outcome = BilletOutcome(request=request, billet=self.create_billet(request))
            except GatewayError as exc:
                outcome = BilletOutcome(request=request, error=exc)
            if progress is not None:
                with progress_lock:
                    done += 1
                    progress(done, total)
            return outcome

        if concurrency == 1 or total <= 1:
            return [one(request) for request in requests]
        with ThreadPoolExecutor(max_workers=min(concurrency, total), thread_name_prefix="efi") as pool:
            return list(pool.map(one, requests))

    def create_carnet(self, request: CarnetRequest) -> IssuedCarnet:
        """Issue a carnet (``POST /v1/carnet``) after the local checks, ``repeats`` within :attr:`carnet_limits`;
        raises as :meth:`create_billet`."""
        checked = rules.check_carnet(request, self._today(), self._carnet_limits)
        body = wire.carnet_body(request, checked, self._converter)
        return self._create(
            "carnet",
            "/v1/carnet",
            body,
            request.operation_id,
            lambda data: wire.issued_carnet(
                data, self._converter, operation_id=request.operation_id, adjustments=checked.adjustments
            ),
        )

    def change_due_date(self, charge_id: ChargeId, due: date) -> None:
        """Move a billet's due date (``PUT /v1/charge/:id/billet``); on or before today is refused locally (G4)."""
        number = rules.efi_id(charge_id, "charge_id")
        rules.check_new_due(due, self._today())
        self._call(
            "PUT",
            f"/v1/charge/{number}/billet",
            operation=f"change due date of charge {number}",
            json={"expire_at": due.isoformat()},
        )

    def change_parcel_due_date(self, carnet_id: CarnetId, parcel: int, due: date) -> None:
        """Move one parcel's due date (``PUT /v1/carnet/:id/parcel/:parcel``) under the rule of G4."""
        number = rules.efi_id(carnet_id, "carnet_id")
        rules.parcel_number(parcel)
        rules.check_new_due(due, self._today())
        self._call(
            "PUT",
            f"/v1/carnet/{number}/parcel/{parcel}",
            operation=f"change due date of carnet {number} parcel {parcel}",
            json={"expire_at": due.isoformat()},
        )

    def settle_charge(self, charge_id: ChargeId) -> bool:
        """Mark a billet paid by hand (``PUT /v1/charge/:id/settle``); ``False`` when it already was (G5)."""
        number = rules.efi_id(charge_id, "charge_id")
        return self._change(
            f"/v1/charge/{number}/settle",
            f"settle charge {number}",
            lambda: self._charge_status(number) is ChargeStatus.SETTLED,
        )

    def settle_parcel(self, carnet_id: CarnetId, parcel: int) -> bool:
        """Mark one parcel paid by hand (``PUT /v1/carnet/:id/parcel/:parcel/settle``); ``False`` when it was."""
        number = rules.efi_id(carnet_id, "carnet_id")
        rules.parcel_number(parcel)
        return self._change(
            f"/v1/carnet/{number}/parcel/{parcel}/settle",
            f"settle carnet {number} parcel {parcel}",
            lambda: self._carnet_state(number).parcels.get(parcel) is ChargeStatus.SETTLED,
        )

    def cancel_charge(self, charge_id: ChargeId) -> bool:
        """Cancel a billet (``PUT /v1/charge/:id/cancel``); ``False`` when it already was cancelled."""
        number = rules.efi_id(charge_id, "charge_id")
        return self._change(
            f"/v1/charge/{number}/cancel",
            f"cancel charge {number}",
            lambda: self._charge_status(number) is ChargeStatus.CANCELED,
        )

    def cancel_carnet(self, carnet_id: CarnetId) -> bool:
        """Cancel a whole carnet (``PUT /v1/carnet/:id/cancel``); ``False`` when it already was cancelled."""
        number = rules.efi_id(carnet_id, "carnet_id")

        def already() -> bool:
            state = self._carnet_state(number)
            statuses = state.parcels.values()
            return state.status is CarnetStatus.CANCELED or (
                bool(statuses) and all(s is ChargeStatus.CANCELED for s in statuses)
            )

        return self._change(f"/v1/carnet/{number}/cancel", f"cancel carnet {number}", already)

    def cancel_parcel(self, carnet_id: CarnetId, parcel: int) -> bool:
        """Cancel one parcel (``PUT /v1/carnet/:id/parcel/:parcel/cancel``); ``False`` when it already was."""
        number = rules.efi_id(carnet_id, "carnet_id")
        rules.parcel_number(parcel)
        return self._change(
            f"/v1/carnet/{number}/parcel/{parcel}/cancel",
            f"cancel carnet {number} parcel {parcel}",
            lambda: self._carnet_state(number).parcels.get(parcel) is ChargeStatus.CANCELED,
        )

    def resend_billet(self, charge_id: ChargeId, email: str) -> None:
        """E-mail a billet again (``POST /v1/charge/:id/billet/resend``)."""
        number = rules.efi_id(charge_id, "charge_id")
        self._call(
            "POST",
            f"/v1/charge/{number}/billet/resend",
            operation=f"resend charge {number}",
            json={"email": rules.check_email(email)},
        )

    def resend_carnet(self, carnet_id: CarnetId, email: str) -> None:
        """E-mail a whole carnet again (``POST /v1/carnet/:id/resend``)."""
        number = rules.efi_id(carnet_id, "carnet_id")
        self._call(
            "POST",
            f"/v1/carnet/{number}/resend",
            operation=f"resend carnet {number}",
            json={"email": rules.check_email(email)},
        )

    def resend_parcel(self, carnet_id: CarnetId, parcel: int, email: str) -> None:
        """E-mail one parcel again (``POST /v1/carnet/:id/parcel/:parcel/resend``)."""
        number = rules.efi_id(carnet_id, "carnet_id")
        rules.parcel_number(parcel)
        self._call(
            "POST",
            f"/v1/carnet/{number}/parcel/{parcel}/resend",
            operation=f"resend carnet {number} parcel {parcel}",
            json={"email": rules.check_email(email)},
        )

    def notification_events(self, token: str) -> list[NotificationEvent]:
        """The events behind a callback's token (``GET /v1/notification/:token``), never the callback's own body.

        Efí's parcel events name the charge and the carnet but not the parcel number: the gateway
        reads each carnet concerned once (``GET /v1/carnet/:id``) to fill ``parcel`` in.
        """
        if not isinstance(token, str) or not token.strip():
            raise GatewayValidationError("notification token: is empty (checked before sending)", field="token")
        data = self._call("GET", f"/v1/notification/{quote(token, safe='')}", operation="read notification")
        events: list[NotificationEvent] = self._decode(
            "read notification", lambda: wire.notification_events(token, data, self._converter)
        )
        return self._with_parcels(events)

    def _with_parcels(self, events: list[NotificationEvent]) -> list[NotificationEvent]:
        parcel_of: dict[CarnetId, dict[ChargeId, int]] = {}
        numbered = []
        for event in events:
            if event.kind is EventKind.PARCEL and event.carnet_id is not None and event.charge_id is not None:
                if event.carnet_id not in parcel_of:
                    parcel_of[event.carnet_id] = self._carnet_state(int(event.carnet_id)).parcel_of
                event = attrs.evolve(event, parcel=parcel_of[event.carnet_id].get(event.charge_id))
            numbered.append(event)
        return numbered

    def find_charges(self, operation_id: str) -> list[ChargeSummary]:
        """Billets and carnet parcels created with ``operation_id`` in the last 400 days (``GET /v1/charges``,
        filtered by Efí's ``custom_id``)."""
        if not isinstance(operation_id, str) or not operation_id:
            raise GatewayValidationError("operation_id: is empty (checked before sending)", field="operation_id")
        today = self._today()
        found: dict[ChargeId, ChargeSummary] = {}
        for charge_type in ("billet", "carnet"):
            for page in range(1, _FIND_PAGES_MAX + 1):
                params = {
                    "charge_type": charge_type,
                    "begin_date": (today - timedelta(days=_FIND_DAYS_BACK)).isoformat(),
                    # a day ahead: Efí records creation in Brasília time, which may be ahead of our clock
                    "end_date": (today + timedelta(days=1)).isoformat(),
                    "custom_id": operation_id,
                    "limit": _FIND_PAGE_SIZE,
                    "page": page,
                }
                data = self._call("GET", "/v1/charges", operation=f"find charges {operation_id}", params=params)
                batch = self._summaries(data)
                for summary in batch:
                    # Filter again: a server that ignored the filter must not make us adopt another charge.
                    if summary.operation_id == operation_id:
                        found.setdefault(summary.charge_id, summary)
                if len(batch) < _FIND_PAGE_SIZE:
                    break
        return sorted(found.values(), key=lambda summary: int(summary.charge_id))

    def _summaries(self, data: object) -> list[ChargeSummary]:
        summaries: list[ChargeSummary] = self._decode(
            "find charges", lambda: wire.charge_summaries(data, self._converter)
        )
        return summaries

    # --- state look-ups for idempotent changes -------------------------------------------------

    def _change(self, path: str, operation: str, already: Callable[[], bool]) -> bool:
        try:
            self._call("PUT", path, operation=operation)
        except GatewayValidationError as exc:
            # A repeat (or a retry after a lost answer) is refused with a status code: that is success (G5).
            if exc.code is not None and already():
                _LOG.info("%s: already done (Efí code %s)", operation, exc.code)
                return False
            raise
        return True

    def _charge_status(self, number: int) -> ChargeStatus:
        data = self._call("GET", f"/v1/charge/{number}", operation=f"read charge {number}")
        status: ChargeStatus = self._decode(f"read charge {number}", lambda: wire.charge_status(data))
        return status

    def _carnet_state(self, number: int) -> wire.CarnetState:
        data = self._call("GET", f"/v1/carnet/{number}", operation=f"read carnet {number}")
        state: wire.CarnetState = self._decode(f"read carnet {number}", lambda: wire.carnet_state(data))
        return state
