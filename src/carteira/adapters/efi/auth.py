"""EfiAuth: Efí's OAuth client-credentials token as an ``httpx.Auth`` flow, shared by every thread of a gateway.

The flow puts ``Authorization: Bearer <token>`` on each request, fetching the token first when
there is none or it is about to expire, and when Efí answers 401 it renews the token once and
sends the request again (Efí checks the token before doing any work, so even a create is safe to
resend after a 401). httpx's ``Auth`` documentation asks a scheme that does I/O or uses locks to
override ``sync_auth_flow`` rather than ``auth_flow``; this one does both, so it is synchronous
only, like carteira.

Thread safety (decision 0453): reading a fresh token takes no lock; renewing takes one, with a
second look inside it, so 32 threads that find the token stale cause one ``POST /v1/authorize``.
The secret lives in the ``httpx.BasicAuth`` used for that call and the token in a field kept out
of every repr; neither reaches a log line or an error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator

import attrs
import httpx

from carteira.adapters.efi.errors import error_from_response
from carteira.errors import GatewayAuthenticationError, GatewayUnavailable, InvalidType

__all__ = ["EfiAuth"]

_LOG = logging.getLogger("carteira.adapters.efi")
_TOKEN_MARGIN_S = 30.0  # renew before Efí's expiry, so a token never dies between the check and its use
_TOKEN_TTL_DEFAULT_S = 600.0
_AUTHORIZE_PATH = "/v1/authorize"


@attrs.frozen
class _Token:
    value: str = attrs.field(repr=False)
    renew_at: float


class EfiAuth(httpx.Auth):
    """Bearer tokens for Efí's charges API, fetched with the client credentials, cached and renewed.

    Args:
        client_id: the application's client id.
        client_secret: its secret; held only by an ``httpx.BasicAuth`` used for ``POST /v1/authorize``.
        environment: ``"sandbox"`` or ``"production"``, for the messages.
        client: the ``httpx.Client`` that sends ``POST /v1/authorize`` (its base URL, transport,
            timeouts and headers); the gateway passes its own and then makes this its ``auth``.
        monotonic: the clock that decides when a token is due for renewal.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        environment: str,
        *,
        client: httpx.Client,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_id = client_id
        self._basic = httpx.BasicAuth(client_id, client_secret)
        self._environment = environment
        self._monotonic = monotonic
        self._token: _Token | None = None
        self._lock = threading.Lock()
        self._client = client

    def __repr__(self) -> str:
        return f"EfiAuth(client_id={self._client_id!r}, environment={self._environment!r})"

    def __getstate__(self) -> None:
        raise InvalidType("an EfiAuth holds a secret and cannot be pickled", field="auth")

    # --- the flow ------------------------------------------------------------------------------

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Send ``request`` with the current token; on a 401, renew the token once and send it again."""
        token = self._current()
        request.headers["Authorization"] = f"Bearer {token.value}"
        response = yield request
        if response.status_code != 401:
            return
        _LOG.info("Efí answered 401 to %s %s: renewing the token once", request.method, request.url.path)
        # Read the 401 to the end first: that hands its connection back to the pool, so threads queued
        # on the renewal lock never hold the connections the one renewing needs.
        response.read()
        self._forget(token)
        # A copy, not the same object: the 401 in the response's history keeps the request as it went out.
        request.read()  # our bodies are in memory already; this makes sure the copy can carry them
        again = httpx.Request(
            request.method, request.url, headers=request.headers, content=request.content, extensions=request.extensions
        )
        again.headers["Authorization"] = f"Bearer {self._current().value}"
        yield again

    def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Not supported: the flow renews tokens with blocking I/O and a thread lock (carteira is synchronous)."""
        raise InvalidType("EfiAuth works with httpx.Client, not httpx.AsyncClient", field="auth")

    # --- the token -----------------------------------------------------------------------------

    def _current(self) -> _Token:
        token = self._token
        if token is not None and self._monotonic() < token.renew_at:
            return token
        with self._lock:  # single flight: one thread renews, the others wait here and reuse its token
            token = self._token
            if token is None or self._monotonic() >= token.renew_at:
                token = self._authorize()
                self._token = token
            return token

    def _forget(self, stale: _Token) -> None:
        with self._lock:
            if self._token is stale:  # another thread may have renewed it already: keep theirs
                self._token = None

    def _authorize(self) -> _Token:
        started = self._monotonic()
        try:
            response = self._client.post(_AUTHORIZE_PATH, json={"grant_type": "client_credentials"}, auth=self._basic)
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
        return self._token_from(response, started)

    def _token_from(self, response: httpx.Response, started: float) -> _Token:
        try:
            body = response.json()
            access = body["access_token"]
            ttl = float(body.get("expires_in") or _TOKEN_TTL_DEFAULT_S)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise GatewayUnavailable("authorize: Efí's answer has no access_token", status=200) from None
        if not isinstance(access, str) or not access:
            raise GatewayUnavailable("authorize: Efí's answer has no access_token", status=200)
        _LOG.debug("authorized client_id %s, token valid %.0f s", self._client_id, ttl)
        return _Token(access, started + max(ttl - _TOKEN_MARGIN_S, ttl / 2))
