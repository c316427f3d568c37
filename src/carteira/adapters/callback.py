"""The gateway's callback endpoint as framework-free WSGI and ASGI callables (SPEC G6a, decision 0606).

Efí POSTs ``notification=<token>`` as a form to the charge's ``notification_url`` (reference
gateway-efi.md §8). ``wsgi_app(receive)`` and ``asgi_app(receive)`` check the request, hand a valid
token to ``receive`` and answer 200 only once ``receive`` has returned; anything else is refused
with a status that says why and ``receive`` is never called. Mount them under any server or
framework that speaks WSGI or ASGI; they need nothing but the standard library.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from typing import Any

import attrs

from carteira.domain.notifications import check_token
from carteira.domain.validation import wrong_type
from carteira.errors import InvalidInput

__all__ = ["FORM", "ASGIApp", "Receive", "WSGIApp", "asgi_app", "wsgi_app"]

_log = logging.getLogger("carteira.callback")

FORM = "application/x-www-form-urlencoded"
"""The one content type accepted: Efí's POST is an HTML form (a ``charset`` parameter is allowed)."""

Receive = Callable[[str], object]
"""Stores a token durably (and may process it); its return value is ignored, an exception means not stored."""

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
"""A WSGI application (PEP 3333)."""

_Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[_Message]], Callable[[_Message], Awaitable[None]]],
    Awaitable[None],
]
"""An ASGI 3 application: ``await app(scope, receive, send)``."""

_CHUNK = 8192  # how much of a body of unknown length is read at a time
_SMALLEST_LIMIT = len("notification=") + 128  # the body of the longest token check_token allows


@attrs.frozen
class _Answer:
    """A status, its extra headers and a short text body (never the token)."""

    status: int
    reason: str
    text: str = ""
    headers: tuple[tuple[str, str], ...] = ()

    def header_list(self) -> list[tuple[str, str]]:
        body = self.text.encode()
        return [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))), *self.headers]


_OK = _Answer(200, "OK")
_WRONG_PATH = _Answer(404, "Not Found", "no notification endpoint here\n")
_WRONG_METHOD = _Answer(405, "Method Not Allowed", "POST only\n", (("Allow", "POST"),))
_NO_LENGTH = _Answer(411, "Length Required", "the body's length must be given\n")
_TOO_LARGE = _Answer(413, "Content Too Large", "the body is larger than a notification\n")
_BAD_BODY = _Answer(400, "Bad Request", "the body must be the form notification=<token>\n")
_BAD_TYPE = _Answer(400, "Bad Request", f"the body must be {FORM}\n")
_NOT_STORED = _Answer(503, "Service Unavailable", "the notification was not stored: call again\n")


@attrs.frozen
class _Endpoint:
    """What WSGI and ASGI share: the checks before the body, the body's token, and handing it over."""

    receive: Receive
    max_body: int
    path: str | None
    then: Receive | None = None

    def refusal(self, method: str, path: str, content_type: str | None, length: str | None) -> _Answer | None:
        """Why the request is refused before its body is read, or None to read it."""
        if self.path is not None and path != self.path:
            return _WRONG_PATH
        if method != "POST":
            return _WRONG_METHOD
        if length is not None:
            if not (length.isascii() and length.isdigit()):
                return _BAD_BODY
            if int(length) > self.max_body:
                return _TOO_LARGE
        if content_type is None or not _is_form(content_type):
            return _BAD_TYPE
        return None

    def store(self, token: str) -> _Answer:
        """200 once ``receive(token)`` returned; 503 if it raised (logged by type, without its message)."""
        try:
            self.receive(token)
        except Exception as exc:  # the store failed: Efí calls again, so say so rather than crash the server
            # The type only: the message of a driver error may carry what a log should not.
            _log.warning("notification callback not stored: %s raised by receive", type(exc).__name__)
            return _NOT_STORED
        return _OK

    def follow_up(self, token: str) -> None:
        """Run ``then(token)`` after the 200 went out; a failure is logged (by type) and left to a worker."""
        if self.then is None:
            return
        try:
            self.then(token)
        except Exception as exc:  # the token is stored: a worker processes it later, so nothing is lost
            _log.warning("notification stored, inline processing failed: %s (a worker will retry)", type(exc).__name__)


def _is_form(content_type: str) -> bool:
    media_type, _, _parameters = content_type.partition(";")
    return media_type.strip().lower() == FORM


def _token_of(body: bytes) -> str | None:
    """The token of a body that is exactly ``notification=<token>``, or None."""
    try:
        fields = urllib.parse.parse_qsl(
            body.decode("ascii"), keep_blank_values=True, strict_parsing=True, max_num_fields=1, errors="strict"
        )
    except ValueError:  # not ASCII, not a form, more than one field, or a %-escape that is not UTF-8
        return None
    if len(fields) != 1 or fields[0][0] != "notification":
        return None
    try:
        return check_token(fields[0][1])
    except InvalidInput:
        return None


def _endpoint(receive: object, max_body: object, path: object, then: object) -> _Endpoint:
    if not callable(receive):
        raise wrong_type(receive, "receive", "a callable taking the token")
    follow_up: Receive | None = None
    if then is not None:
        if not callable(then):
            raise wrong_type(then, "then", "a callable taking the token, or None")
        follow_up = then
    if isinstance(max_body, bool) or not isinstance(max_body, int):
        raise wrong_type(max_body, "max_body", "an int")
    if max_body < _SMALLEST_LIMIT:
        raise InvalidInput(
            f"must be at least {_SMALLEST_LIMIT} bytes, room for a token of 128", field="max_body", raw=str(max_body)
        )
    if path is not None and not isinstance(path, str):
        raise wrong_type(path, "path", "a str or None")
    if path is not None and not path.startswith("/"):
        raise InvalidInput("must start with '/'", field="path", raw=path)
    return _Endpoint(receive, max_body, path, follow_up)


# --- WSGI ----------------------------------------------------------------------------------------


def wsgi_app(
    receive: Receive, *, max_body: int = 4096, path: str | None = None, then: Receive | None = None
) -> WSGIApp:
    """A WSGI application that takes Efí's ``notification=<token>`` POST and hands the token to ``receive``.

    Args:
        receive: called with the token once the body is valid; it stores the token durably (and may
            process it). The answer is 200 only after it returned, 503 if it raised.
        max_body: the largest body read, in bytes; a larger one gets 413.
        path: when given, the only path served (``SCRIPT_NAME`` + ``PATH_INFO``); others get 404.
        then: the inline setting: called with a stored token once its 200 was sent (in the response's
            ``close``, as PEP 3333 runs it), typically ``portfolio.payments.process_token``. Without
            it, workers process the token. A failure in it is logged and the token stays due.

    Raises:
        InvalidType: an argument of the wrong type.
        InvalidInput: ``max_body`` under 141, or a ``path`` that does not start with ``/``.
    """
    endpoint = _endpoint(receive, max_body, path, then)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer, token = _wsgi_answer(endpoint, environ)
        start_response(f"{answer.status} {answer.reason}", answer.header_list())
        body = answer.text.encode()
        if answer is _OK and token is not None and endpoint.then is not None:
            return _ThenFollowUp(body, endpoint, token)
        return [body]

    return app


class _ThenFollowUp:
    """A WSGI body whose ``close`` runs the endpoint's follow-up: the server calls it once the answer went out."""

    def __init__(self, body: bytes, endpoint: _Endpoint, token: str) -> None:
        self._body = body
        self._endpoint = endpoint
        self._token = token

    def __iter__(self) -> Iterator[bytes]:
        yield self._body

    def close(self) -> None:
        self._endpoint.follow_up(self._token)


def _wsgi_answer(endpoint: _Endpoint, environ: dict[str, Any]) -> tuple[_Answer, str | None]:
    """The answer, and the token when the body held one."""
    length = environ.get("CONTENT_LENGTH") or None
    path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
    refusal = endpoint.refusal(str(environ.get("REQUEST_METHOD", "")), path, environ.get("CONTENT_TYPE"), length)
    if refusal is not None:
        return refusal, None
    stream = environ["wsgi.input"]
    if length is not None:
        body = _read_exactly(stream, int(length))
    elif not environ.get("wsgi.input_terminated"):
        return _NO_LENGTH, None  # PEP 3333: without a length, reading may block on the next request's bytes
    else:
        body = _read_at_most(stream, endpoint.max_body)
        if body is None:
            return _TOO_LARGE, None
    token = None if body is None else _token_of(body)
    return (_BAD_BODY, None) if token is None else (endpoint.store(token), token)


def _read_exactly(stream: Any, length: int) -> bytes | None:
    """``length`` bytes, or None if the client stopped sending first."""
    parts: list[bytes] = []
    remaining = length
    while remaining > 0:
        part: bytes = stream.read(remaining)
        if not part:
            return None
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _read_at_most(stream: Any, limit: int) -> bytes | None:
    """The whole body if it is at most ``limit`` bytes, or None as soon as it grows past it."""
    parts: list[bytes] = []
    size = 0
    while part := stream.read(_CHUNK):
        size += len(part)
        if size > limit:
            return None
        parts.append(part)
    return b"".join(parts)


# --- ASGI ----------------------------------------------------------------------------------------


def asgi_app(
    receive: Receive, *, max_body: int = 4096, path: str | None = None, then: Receive | None = None
) -> ASGIApp:
    """An ASGI application that takes Efí's ``notification=<token>`` POST and hands the token to ``receive``.

    ``receive`` runs in a worker thread (``asyncio.to_thread``), so a blocking store does not hold up
    the event loop. HTTP is served; the lifespan protocol is answered; a WebSocket is closed at once;
    any other scope raises ``InvalidInput``, as ASGI asks of an application. Arguments and answers
    are those of ``wsgi_app`` (``path`` is matched against the scope's ``path``); ``then`` runs in a
    worker thread too, after the 200 was sent.

    Raises:
        InvalidType: an argument of the wrong type.
        InvalidInput: ``max_body`` under 141, or a ``path`` that does not start with ``/``.
    """
    endpoint = _endpoint(receive, max_body, path, then)

    async def app(
        scope: MutableMapping[str, Any],
        read_message: Callable[[], Awaitable[_Message]],
        send_message: Callable[[_Message], Awaitable[None]],
    ) -> None:
        kind = scope.get("type")
        if kind == "http":
            await _serve_http(endpoint, scope, read_message, send_message)
        elif kind == "lifespan":
            await _serve_lifespan(read_message, send_message)
        elif kind == "websocket":
            await read_message()  # websocket.connect
            await send_message({"type": "websocket.close", "code": 1008})
        else:
            raise InvalidInput("is not served by the notification endpoint", field="scope", raw=repr(kind)[:40])

    return app


async def _serve_http(
    endpoint: _Endpoint,
    scope: MutableMapping[str, Any],
    read_message: Callable[[], Awaitable[_Message]],
    send_message: Callable[[_Message], Awaitable[None]],
) -> None:
    headers = {bytes(name).lower(): bytes(value).decode("latin-1") for name, value in scope.get("headers", ())}
    length = headers.get(b"content-length")
    refusal = endpoint.refusal(
        str(scope.get("method", "")), str(scope.get("path", "")), headers.get(b"content-type"), length
    )
    if refusal is not None:
        await _send(send_message, refusal, close=refusal is _TOO_LARGE)
        return
    body, complete = await _read_body(read_message, endpoint.max_body)
    if not complete:
        return  # the client went away: nobody to answer, nothing stored
    if body is None:
        await _send(send_message, _TOO_LARGE, close=True)
        return
    token = _token_of(body)
    if token is None:
        await _send(send_message, _BAD_BODY)
        return
    answer = await asyncio.to_thread(endpoint.store, token)
    await _send(send_message, answer)
    if answer is _OK:
        await asyncio.to_thread(endpoint.follow_up, token)


async def _read_body(read_message: Callable[[], Awaitable[_Message]], limit: int) -> tuple[bytes | None, bool]:
    """(the body, True); (None, True) once it grows past ``limit``; (None, False) if the client disconnected."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await read_message()
        if message.get("type") != "http.request":
            return None, False
        part = bytes(message.get("body", b""))
        size += len(part)
        if size > limit:
            return None, True
        parts.append(part)
        if not message.get("more_body", False):
            return b"".join(parts), True


async def _send(send_message: Callable[[_Message], Awaitable[None]], answer: _Answer, *, close: bool = False) -> None:
    headers = [(name.lower().encode(), value.encode()) for name, value in answer.header_list()]
    if close:  # the rest of the body was not read: the connection cannot carry another request
        headers.append((b"connection", b"close"))
    await send_message({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send_message({"type": "http.response.body", "body": answer.text.encode()})


async def _serve_lifespan(
    read_message: Callable[[], Awaitable[_Message]], send_message: Callable[[_Message], Awaitable[None]]
) -> None:
    while True:
        message = await read_message()
        if message.get("type") == "lifespan.startup":
            await send_message({"type": "lifespan.startup.complete"})
        elif message.get("type") == "lifespan.shutdown":
            await send_message({"type": "lifespan.shutdown.complete"})
            return
