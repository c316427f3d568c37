"""EfiGateway: the PaymentGateway port over Efí's charges API, with httpx.

One :class:`EfiGateway` holds one ``httpx.Client`` and one OAuth token and may be shared by
many threads (a billing run sends from 32 threads over one client). The token is fetched with
the client credentials, cached, renewed shortly before it expires and once more when Efí
answers 401. Timeouts, 5xx, 4600100 and the rate-limit codes are retried with exponential
backoff, jitter and a cap; a create whose answer was lost is never sent again blindly: it raises
:class:`~carteira.errors.GatewayOutcomeUnknown` and the caller resolves it with
:func:`carteira.ports.gateway.find_created`.
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
from carteira.adapters.efi.errors import error_from_response, outcome_unknown
from carteira.errors import (
    GatewayAuthenticationError,
    GatewayError,
    GatewayUnavailable,
    GatewayValidationError,
    InvalidInput,
)
from carteira.ports.gateway import (
    BilletOutcome,
    BilletRequest,
    CarnetRequest,
    ChargeStatus,
    ChargeSummary,
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
_TOKEN_MARGIN_S = 30.0  # renew before Efí's expiry, so a token never dies between check and use
_TOKEN_TTL_DEFAULT_S = 600.0
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


@attrs.frozen
class _Token:
    value: str = attrs.field(repr=False)
    renew_at: float


class _Unauthorized(Exception):
    """Efí answered 401 to an API call: the token expired or was revoked."""


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

    Raises:
        InvalidInput: an unknown environment or empty credentials.
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
        self._client_id = client_id
        self._auth = httpx.BasicAuth(client_id, client_secret)  # the only place the secret is kept
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
        self._retry = retry or RetryPolicy()
        self._today = today
        self._sleep = sleep
        self._monotonic = monotonic
        self._random = random.Random()
        self._token: _Token | None = None
        self._token_lock = threading.Lock()
        self._converter = wire.make_converter()

    def __repr__(self) -> str:
        return (
            f"EfiGateway(client_id={self._client_id!r}, environment={self._environment!r}, base_url={self._base_url!r})"
        )

    def __getstate__(self) -> None:
        # A gateway holds a secret, a lock and sockets: pickling it would leak the first and break the others.
        raise TypeError("an EfiGateway cannot be pickled; build one per process from your configuration")

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

    # --- authorization -------------------------------------------------------------------------

    def _bearer(self) -> str:
        token = self._token
        if token is not None and self._monotonic() < token.renew_at:
            return token.value
        with self._token_lock:  # single flight: one thread renews, the others wait and reuse its token
            token = self._token
            if token is None or self._monotonic() >= token.renew_at:
                token = self._authorize()
                self._token = token
            return token.value

    def _forget(self, stale: str) -> None:
        with self._token_lock:
            if self._token is not None and self._token.value == stale:
                self._token = None

    def _authorize(self) -> _Token:
        started = self._monotonic()
        try:
            response = self._http.post("/v1/authorize", json={"grant_type": "client_credentials"}, auth=self._auth)
        except httpx.TransportError as exc:
            raise GatewayUnavailable(f"authorize: no answer from Efí ({type(exc).__name__})") from None
        if response.status_code in (400, 401, 403):
            _LOG.warning("Efí refused the credentials of client_id %s (%s)", self._client_id, self._environment)
            raise GatewayAuthenticationError(
                f"Efí refused the credentials of client_id {self._client_id!r} in {self._environment}: check the "
                f"client id and secret, and that they belong to the {self._environment} environment",
                status=response.status_code,
            )
        if response.status_code != 200:
            raise error_from_response(response, operation="authorize", creates=False)
        try:
            body = response.json()
            access = body["access_token"]
            ttl = float(body.get("expires_in") or _TOKEN_TTL_DEFAULT_S)
        except (ValueError, KeyError, TypeError):
            raise GatewayUnavailable("authorize: Efí's answer has no access_token", status=200) from None
        if not isinstance(access, str) or not access:
            raise GatewayUnavailable("authorize: Efí's answer has no access_token", status=200)
        _LOG.debug("authorized client_id %s, token valid %.0f s", self._client_id, ttl)
        return _Token(access, started + max(ttl - _TOKEN_MARGIN_S, ttl / 2))

    # --- one call, with retries ----------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
        creates: bool = False,
        custom_id: str | None = None,
    ) -> Any:
        attempt = 0
        reauthorized = False
        while True:
            attempt += 1
            try:
                return self._once(method, path, operation, json, params, creates, custom_id)
            except _Unauthorized:
                if reauthorized:
                    raise GatewayAuthenticationError(
                        f"{operation}: Efí answered 401 to a fresh token for client_id {self._client_id!r}; "
                        "check that the application may use the charges API",
                        status=401,
                    ) from None
                reauthorized = True
                attempt -= 1  # a renewed token is not a retry: the request never ran
                continue
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
        custom_id: str | None,
    ) -> Any:
        token = self._bearer()
        started = time.perf_counter()
        try:
            response = self._http.request(
                method, path, json=json, params=params, headers={"Authorization": f"Bearer {token}"}
            )
        except _NOT_SENT as exc:
            raise GatewayUnavailable(f"{operation}: could not reach Efí ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            cause = f"no answer from Efí after sending ({type(exc).__name__})"
            if creates:
                raise outcome_unknown(operation, custom_id, cause) from None
            raise GatewayUnavailable(f"{operation}: {cause}") from None
        elapsed_ms = (time.perf_counter() - started) * 1000
        _LOG.debug("%s %s -> %d in %.0f ms", method, path, response.status_code, elapsed_ms)
        if response.status_code == 401:
            self._forget(token)
            raise _Unauthorized
        if response.status_code != 200:
            raise error_from_response(response, operation=operation, creates=creates, custom_id=custom_id)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if creates:
                raise outcome_unknown(operation, custom_id, "Efí answered 200 without a JSON body", status=200)
            raise GatewayUnavailable(f"{operation}: Efí answered 200 without a JSON body", status=200)
        return body.get("data")

    def _decode(
        self, operation: str, decode: Callable[[], Any], *, creates: bool = False, custom_id: str | None = None
    ) -> Any:
        try:
            return decode()
        except wire.UnexpectedShape as exc:
            cause = f"Efí's answer has an unexpected shape ({exc})"
            if creates:
                raise outcome_unknown(operation, custom_id, cause, status=200) from None
            raise GatewayError(f"{operation}: {cause}", status=200) from None

    def _create(
        self, kind: str, path: str, body: Any, custom_id: str | None, decode: Callable[[Any], _Issued]
    ) -> _Issued:
        # A create is never resent blindly: `creates=True` turns a lost answer into GatewayOutcomeUnknown.
        operation = f"create {kind} {custom_id or ''}".rstrip()
        data = self._call("POST", path, operation=operation, json=body, creates=True, custom_id=custom_id)
        issued: _Issued = self._decode(operation, lambda: decode(data), creates=True, custom_id=custom_id)
        return issued

    # --- the port ------------------------------------------------------------------------------

    def create_billet(self, request: BilletRequest) -> IssuedBillet:
        """Issue a one-step billet (``POST /v1/charge/one-step``) after the local checks (SPEC G2).

        Raises:
            GatewayValidationError: refused locally (``code`` is ``None``) or by Efí (``code`` set).
            GatewayOutcomeUnknown: sent, but no usable answer: look it up by ``custom_id`` first.
            GatewayUnavailable: not taken, even after the retries; safe to send again later.
            GatewayAuthenticationError: the credentials were refused.
        """
        checked = rules.check_billet(request, self._today())
        body = wire.billet_body(request, checked, self._converter)
        return self._create(
            "billet",
            "/v1/charge/one-step",
            body,
            request.custom_id,
            lambda data: wire.issued_billet(
                data, self._converter, custom_id=request.custom_id, adjustments=checked.adjustments
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
        """Issue a carnet (``POST /v1/carnet``) after the local checks; raises as :meth:`create_billet`."""
        checked = rules.check_carnet(request, self._today())
        body = wire.carnet_body(request, checked, self._converter)
        return self._create(
            "carnet",
            "/v1/carnet",
            body,
            request.custom_id,
            lambda data: wire.issued_carnet(
                data, self._converter, custom_id=request.custom_id, adjustments=checked.adjustments
            ),
        )

    def change_due_date(self, charge_id: int, due: date) -> None:
        """Move a billet's due date (``PUT /v1/charge/:id/billet``); on or before today is refused locally (G4)."""
        _check_id(charge_id, "charge_id")
        rules.check_new_due(due, self._today())
        self._call(
            "PUT",
            f"/v1/charge/{charge_id}/billet",
            operation=f"change due date of charge {charge_id}",
            json={"expire_at": due.isoformat()},
        )

    def change_parcel_due_date(self, carnet_id: int, parcel: int, due: date) -> None:
        """Move one parcel's due date (``PUT /v1/carnet/:id/parcel/:parcel``) under the rule of G4."""
        _check_id(carnet_id, "carnet_id")
        _check_id(parcel, "parcel")
        rules.check_new_due(due, self._today())
        self._call(
            "PUT",
            f"/v1/carnet/{carnet_id}/parcel/{parcel}",
            operation=f"change due date of carnet {carnet_id} parcel {parcel}",
            json={"expire_at": due.isoformat()},
        )

    def settle_charge(self, charge_id: int) -> bool:
        """Mark a billet paid by hand (``PUT /v1/charge/:id/settle``); ``False`` when it already was (G5)."""
        _check_id(charge_id, "charge_id")
        return self._change(
            f"/v1/charge/{charge_id}/settle",
            f"settle charge {charge_id}",
            lambda: self._charge_status(charge_id) is ChargeStatus.SETTLED,
        )

    def settle_parcel(self, carnet_id: int, parcel: int) -> bool:
        """Mark one parcel paid by hand (``PUT /v1/carnet/:id/parcel/:parcel/settle``); ``False`` when it was."""
        _check_id(carnet_id, "carnet_id")
        _check_id(parcel, "parcel")
        return self._change(
            f"/v1/carnet/{carnet_id}/parcel/{parcel}/settle",
            f"settle carnet {carnet_id} parcel {parcel}",
            lambda: self._parcel_status(carnet_id, parcel) is ChargeStatus.SETTLED,
        )

    def cancel_charge(self, charge_id: int) -> bool:
        """Cancel a billet (``PUT /v1/charge/:id/cancel``); ``False`` when it already was cancelled."""
        _check_id(charge_id, "charge_id")
        return self._change(
            f"/v1/charge/{charge_id}/cancel",
            f"cancel charge {charge_id}",
            lambda: self._charge_status(charge_id) is ChargeStatus.CANCELED,
        )

    def cancel_carnet(self, carnet_id: int) -> bool:
        """Cancel a whole carnet (``PUT /v1/carnet/:id/cancel``); ``False`` when it already was cancelled."""
        _check_id(carnet_id, "carnet_id")

        def already() -> bool:
            status, parcels = self._carnet_state(carnet_id)
            return status == "canceled" or (bool(parcels) and all(s is ChargeStatus.CANCELED for s in parcels.values()))

        return self._change(f"/v1/carnet/{carnet_id}/cancel", f"cancel carnet {carnet_id}", already)

    def cancel_parcel(self, carnet_id: int, parcel: int) -> bool:
        """Cancel one parcel (``PUT /v1/carnet/:id/parcel/:parcel/cancel``); ``False`` when it already was."""
        _check_id(carnet_id, "carnet_id")
        _check_id(parcel, "parcel")
        return self._change(
            f"/v1/carnet/{carnet_id}/parcel/{parcel}/cancel",
            f"cancel carnet {carnet_id} parcel {parcel}",
            lambda: self._parcel_status(carnet_id, parcel) is ChargeStatus.CANCELED,
        )

    def resend_billet(self, charge_id: int, email: str) -> None:
        """E-mail a billet again (``POST /v1/charge/:id/billet/resend``)."""
        _check_id(charge_id, "charge_id")
        self._call(
            "POST",
            f"/v1/charge/{charge_id}/billet/resend",
            operation=f"resend charge {charge_id}",
            json={"email": rules.check_email(email)},
        )

    def resend_carnet(self, carnet_id: int, email: str) -> None:
        """E-mail a whole carnet again (``POST /v1/carnet/:id/resend``)."""
        _check_id(carnet_id, "carnet_id")
        self._call(
            "POST",
            f"/v1/carnet/{carnet_id}/resend",
            operation=f"resend carnet {carnet_id}",
            json={"email": rules.check_email(email)},
        )

    def resend_parcel(self, carnet_id: int, parcel: int, email: str) -> None:
        """E-mail one parcel again (``POST /v1/carnet/:id/parcel/:parcel/resend``)."""
        _check_id(carnet_id, "carnet_id")
        _check_id(parcel, "parcel")
        self._call(
            "POST",
            f"/v1/carnet/{carnet_id}/parcel/{parcel}/resend",
            operation=f"resend carnet {carnet_id} parcel {parcel}",
            json={"email": rules.check_email(email)},
        )

    def notification_events(self, token: str) -> list[NotificationEvent]:
        """The events behind a callback's token (``GET /v1/notification/:token``), never the callback's own body."""
        if not isinstance(token, str) or not token.strip():
            raise GatewayValidationError("notification token: is empty (checked before sending)", field="token")
        data = self._call("GET", f"/v1/notification/{quote(token, safe='')}", operation="read notification")
        events: list[NotificationEvent] = self._decode(
            "read notification", lambda: wire.notification_events(token, data, self._converter)
        )
        return events

    def find_charges(self, custom_id: str) -> list[ChargeSummary]:
        """Billets and carnet parcels created with ``custom_id`` in the last 400 days (``GET /v1/charges``)."""
        if not isinstance(custom_id, str) or not custom_id:
            raise GatewayValidationError("custom_id: is empty (checked before sending)", field="custom_id")
        today = self._today()
        found: dict[int, ChargeSummary] = {}
        for charge_type in ("billet", "carnet"):
            for page in range(1, _FIND_PAGES_MAX + 1):
                params = {
                    "charge_type": charge_type,
                    "begin_date": (today - timedelta(days=_FIND_DAYS_BACK)).isoformat(),
                    # a day ahead: Efí records creation in Brasília time, which may be ahead of our clock
                    "end_date": (today + timedelta(days=1)).isoformat(),
                    "custom_id": custom_id,
                    "limit": _FIND_PAGE_SIZE,
                    "page": page,
                }
                data = self._call("GET", "/v1/charges", operation=f"find charges {custom_id}", params=params)
                batch = self._summaries(data)
                for summary in batch:
                    # Filter again: a server that ignored the filter must not make us adopt another charge.
                    if summary.custom_id == custom_id:
                        found.setdefault(summary.charge_id, summary)
                if len(batch) < _FIND_PAGE_SIZE:
                    break
        return sorted(found.values(), key=lambda summary: summary.charge_id)

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

    def _charge_status(self, charge_id: int) -> ChargeStatus:
        data = self._call("GET", f"/v1/charge/{charge_id}", operation=f"read charge {charge_id}")
        status: ChargeStatus = self._decode(f"read charge {charge_id}", lambda: wire.charge_status(data))
        return status

    def _carnet_state(self, carnet_id: int) -> tuple[str, dict[int, ChargeStatus]]:
        data = self._call("GET", f"/v1/carnet/{carnet_id}", operation=f"read carnet {carnet_id}")
        state: tuple[str, dict[int, ChargeStatus]] = self._decode(
            f"read carnet {carnet_id}", lambda: wire.carnet_state(data)
        )
        return state

    def _parcel_status(self, carnet_id: int, parcel: int) -> ChargeStatus | None:
        return self._carnet_state(carnet_id)[1].get(parcel)


def _check_id(value: int, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise GatewayValidationError(
            f"{field}: {value!r} is not a positive integer id (checked before sending)", field=field
        )
