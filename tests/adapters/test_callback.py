"""The callback endpoint (G6a): every answer through direct WSGI and ASGI calls, then under real servers on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira.adapters.callback import FORM, asgi_app, wsgi_app
from carteira.adapters.efi import EfiGateway
from carteira.domain.notifications import TOKEN_PATTERN, check_token
from carteira.errors import InvalidInput, InvalidType
from carteira.testing.efi_emulator import EfiEmulator

from .efi.scripted import TODAY, billet

TOKEN = "3f1c2b7a-9e4d-4c1a-8b2e-5d6f7a8b9c0d"
GOOD = f"notification={TOKEN}".encode()

Reply = tuple[int, dict[str, str], bytes]


# --- calling the apps by hand ----------------------------------------------------------------------


class _Unreadable(io.RawIOBase):
    """A request body that must not be read."""

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body was read")


def call_wsgi(
    app: Any,
    body: bytes = GOOD,
    *,
    method: str = "POST",
    path: str = "/",
    content_type: str | None = FORM,
    length: str | None = "auto",
    stream: Any = None,
    terminated: bool = False,
) -> Reply:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "wsgi.input": io.BytesIO(body) if stream is None else stream,
    }
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type
    if length is not None:
        environ["CONTENT_LENGTH"] = str(len(body)) if length == "auto" else length
    if terminated:
        environ["wsgi.input_terminated"] = True
    started: list[tuple[str, list[tuple[str, str]]]] = []
    chunks = app(environ, lambda status, headers: started.append((status, headers)))
    body = b"".join(chunks)
    if hasattr(chunks, "close"):  # as a server does once the answer went out (PEP 3333)
        chunks.close()
    status, headers = started[0]
    return int(status.split()[0]), {k.lower(): v for k, v in headers}, body


def call_asgi(
    app: Any,
    body: bytes = GOOD,
    *,
    method: str = "POST",
    path: str = "/",
    content_type: str | None = FORM,
    length: str | None = "auto",
    chunks: list[bytes] | None = None,
    disconnect: bool = False,
) -> tuple[Reply | None, int]:
    """The reply (None when nothing was sent) and how many messages the app read."""
    headers = []
    if content_type is not None:
        headers.append((b"content-type", content_type.encode()))
    if length is not None:
        headers.append((b"content-length", (str(len(body)) if length == "auto" else length).encode()))
    parts = [body] if chunks is None else chunks
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1} for i, part in enumerate(parts)
    ]
    if disconnect:
        messages[-1]["more_body"] = True
        messages.append({"type": "http.disconnect"})
    read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        return messages[read - 1]

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": headers, "query_string": b""}
    asyncio.run(app(scope, receive, send))
    if not sent:
        return None, read
    reply_headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return (sent[0]["status"], reply_headers, b"".join(m.get("body", b"") for m in sent[1:])), read


Call = Callable[..., Reply]


def _asgi_reply(app: Any, body: bytes = GOOD, **options: Any) -> Reply:
    reply, _read = call_asgi(app, body, **options)
    assert reply is not None
    return reply


@pytest.fixture(params=["wsgi", "asgi"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _app(kind: str, receive: Callable[[str], object], **options: Any) -> Any:
    return (wsgi_app if kind == "wsgi" else asgi_app)(receive, **options)


def _call(kind: str) -> Call:
    return call_wsgi if kind == "wsgi" else _asgi_reply


# --- answers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", [FORM, "application/x-www-form-urlencoded; charset=UTF-8", "Application/X-WWW-Form-Urlencoded"]
)
def test_a_valid_form_is_received_then_answered_200(kind: str, content_type: str) -> None:
    received: list[str] = []
    status, _headers, _body = _call(kind)(_app(kind, received.append), content_type=content_type)
    assert status == 200
    assert received == [TOKEN]


def test_200_comes_only_after_receive_returned(kind: str) -> None:
    order: list[str] = []
    app = _app(kind, lambda token: order.append("stored"))
    status, _h, _b = _call(kind)(app)
    order.append(f"answered {status}")
    assert order == ["stored", "answered 200"]


BAD_BODIES = [
    b"",
    b"notification",
    b"notification=",
    b"notification=a&notification=b",
    b"notification=abc&other=1",
    b"other=abc",
    b"&notification=abc",
    b"notification=abc&",
    b"notification=abc+def",
    b"notification=-abc",
    b"notification=" + b"a" * 129,
    b"notification=%ff%fe",
    b"notification=abc%00",
    b'{"notification": "abc"}',
    "notification=ação".encode(),
    b"notification=abc\n",
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_any_other_body_is_400_and_nothing_received(kind: str, body: bytes) -> None:
    received: list[str] = []
    status, _h, reply = _call(kind)(_app(kind, received.append), body)
    assert (status, received) == (400, [])
    assert TOKEN.encode() not in reply


@pytest.mark.parametrize("content_type", [None, "application/json", "text/plain", "multipart/form-data; boundary=x"])
def test_a_wrong_content_type_is_400(kind: str, content_type: str | None) -> None:
    received: list[str] = []
    status, _h, _b = _call(kind)(_app(kind, received.append), content_type=content_type)
    assert (status, received) == (400, [])


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "post"])
def test_another_method_is_405_with_allow(kind: str, method: str) -> None:
    received: list[str] = []
    status, headers, _b = _call(kind)(_app(kind, received.append), method=method)
    assert (status, headers["allow"], received) == (405, "POST", [])


def test_another_path_is_404_when_a_path_is_given(kind: str) -> None:
    received: list[str] = []
    app = _app(kind, received.append, path="/efi/callback")
    assert _call(kind)(app, path="/efi/other")[0] == 404
    assert _call(kind)(app, path="/efi/callback/")[0] == 404
    assert _call(kind)(app, path="/efi/other", method="GET")[0] == 404
    assert received == []
    assert _call(kind)(app, path="/efi/callback")[0] == 200
    assert received == [TOKEN]


def test_any_path_is_served_without_a_path(kind: str) -> None:
    received: list[str] = []
    assert _call(kind)(_app(kind, received.append), path="/anything/at/all")[0] == 200
    assert received == [TOKEN]


def test_wsgi_path_includes_the_mount_point() -> None:
    received: list[str] = []
    app = wsgi_app(received.append, path="/erp/efi")
    environ = {"REQUEST_METHOD": "POST", "SCRIPT_NAME": "/erp", "PATH_INFO": "/efi", "CONTENT_TYPE": FORM,
               "CONTENT_LENGTH": str(len(GOOD)), "wsgi.input": io.BytesIO(GOOD)}  # fmt: skip
    statuses: list[str] = []
    app(environ, lambda status, headers: statuses.append(status))
    assert (statuses, received) == (["200 OK"], [TOKEN])


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", " 10", "\u0661\u0664"])
def test_a_malformed_content_length_is_400(kind: str, length: str) -> None:
    received: list[str] = []
    status, _h, _b = _call(kind)(_app(kind, received.append), length=length)
    assert (status, received) == (400, [])


def test_a_declared_length_over_the_limit_is_413_without_reading_the_body() -> None:
    received: list[str] = []
    wsgi = wsgi_app(received.append, max_body=200)
    assert call_wsgi(wsgi, b"x" * 201, stream=_Unreadable())[0] == 413
    reply, read = call_asgi(asgi_app(received.append, max_body=200), b"x" * 201)
    assert reply is not None
    assert (reply[0], reply[1]["connection"], read) == (413, "close", 0)
    assert received == []


def test_a_body_of_exactly_the_limit_is_read() -> None:
    received: list[str] = []
    token = "t" * 128  # the longest token, in the smallest limit allowed
    body = f"notification={token}".encode()
    assert len(body) == 141
    assert call_wsgi(wsgi_app(received.append, max_body=141), body)[0] == 200
    assert _asgi_reply(asgi_app(received.append, max_body=141), body)[0] == 200
    assert received == [token, token]


def test_a_body_of_unknown_length_is_refused_as_it_grows_past_the_limit() -> None:
    received: list[str] = []
    big = b"notification=" + b"a" * 100_000
    wsgi = wsgi_app(received.append, max_body=4096)
    assert call_wsgi(wsgi, big, length=None, terminated=True)[0] == 413
    assert call_wsgi(wsgi, GOOD, length=None, terminated=True)[0] == 200
    chunks = [big[i : i + 1000] for i in range(0, len(big), 1000)]
    reply, read = call_asgi(asgi_app(received.append, max_body=4096), length=None, chunks=chunks)
    assert reply is not None
    assert reply[0] == 413
    assert read == 5  # stopped at the chunk that crossed 4096 bytes, not at the 101st
    good_chunks = [GOOD[:10], GOOD[10:]]
    assert call_asgi(asgi_app(received.append), length=None, chunks=good_chunks)[0] is not None
    assert received == [TOKEN, TOKEN]


def test_wsgi_without_a_length_on_a_server_that_does_not_end_the_input_is_411() -> None:
    received: list[str] = []
    assert call_wsgi(wsgi_app(received.append), length=None, stream=_Unreadable())[0] == 411
    assert received == []


def test_wsgi_body_shorter_than_its_length_is_400() -> None:
    received: list[str] = []
    assert call_wsgi(wsgi_app(received.append), GOOD, length=str(len(GOOD) + 5))[0] == 400
    assert received == []


def test_asgi_client_gone_mid_body_gets_no_answer_and_nothing_received() -> None:
    received: list[str] = []
    reply, _read = call_asgi(asgi_app(received.append), disconnect=True)
    assert (reply, received) == (None, [])


def test_receive_that_raises_is_503_logged_by_type_only(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    def failing(token: str) -> None:
        raise ConnectionError("could not connect: password=hunter2")

    with caplog.at_level(logging.WARNING, logger="carteira.callback"):
        status, _h, body = _call(kind)(_app(kind, failing))
    assert status == 503
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "ConnectionError" in record.getMessage()
    assert "hunter2" not in caplog.text
    assert record.exc_info is None
    assert b"hunter2" not in body


def test_then_runs_after_the_200_with_the_stored_token(kind: str) -> None:
    order: list[str] = []
    app = _app(kind, lambda token: order.append("stored"), then=lambda token: order.append(f"then {token}"))
    status, _h, _b = _call(kind)(app)
    assert (status, order) == (200, ["stored", f"then {TOKEN}"])


def test_wsgi_then_waits_for_the_server_to_close_the_answer() -> None:
    processed: list[str] = []
    app = wsgi_app(lambda token: None, then=processed.append)
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "CONTENT_TYPE": FORM, "CONTENT_LENGTH": str(len(GOOD))}
    answer = app({**environ, "wsgi.input": io.BytesIO(GOOD)}, lambda status, headers: None)
    assert b"".join(answer) == b""
    assert processed == []
    answer.close()  # type: ignore[attr-defined]
    assert processed == [TOKEN]


@pytest.mark.parametrize("body", [b"notification=", b"other=1"])
def test_then_is_not_run_for_a_refused_body(kind: str, body: bytes) -> None:
    processed: list[str] = []
    status, _h, _b = _call(kind)(_app(kind, lambda token: None, then=processed.append), body)
    assert (status, processed) == (400, [])


def test_then_is_not_run_when_the_token_was_not_stored(kind: str) -> None:
    processed: list[str] = []

    def failing(token: str) -> None:
        raise OSError("the store is down")

    status, _h, _b = _call(kind)(_app(kind, failing, then=processed.append))
    assert (status, processed) == (503, [])


def test_then_that_raises_keeps_the_200_and_is_logged_by_type_only(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    def failing(token: str) -> None:
        raise RuntimeError("gateway said: secret=hunter2")

    with caplog.at_level(logging.WARNING, logger="carteira.callback"):
        status, _h, _b = _call(kind)(_app(kind, lambda token: None, then=failing))
    assert status == 200
    [record] = caplog.records
    assert "RuntimeError" in record.getMessage()
    assert "hunter2" not in caplog.text


def test_asgi_runs_receive_in_a_worker_thread_leaving_the_loop_free() -> None:
    loop_ran = threading.Event()
    threads: list[int] = []

    def slow(token: str) -> None:
        threads.append(threading.get_ident())
        assert loop_ran.wait(5), "the event loop was blocked while receive ran"

    app = asgi_app(slow)
    sent: list[dict[str, Any]] = []

    async def run() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": GOOD, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        asyncio.get_running_loop().call_later(0.05, loop_ran.set)
        headers = [(b"content-type", FORM.encode())]
        await app({"type": "http", "method": "POST", "path": "/", "headers": headers}, receive, send)

    asyncio.run(run())
    assert sent[0]["status"] == 200
    assert len(threads) == 1
    assert threads[0] != threading.get_ident()


def test_asgi_lifespan_is_answered() -> None:
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(asgi_app(print)({"type": "lifespan"}, receive, send))
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]


def test_asgi_closes_a_websocket_and_refuses_other_scopes() -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    app = asgi_app(print)
    asyncio.run(app({"type": "websocket", "path": "/"}, receive, send))
    assert sent == [{"type": "websocket.close", "code": 1008}]
    with pytest.raises(InvalidInput) as raised:
        asyncio.run(app({"type": "telepathy"}, receive, send))
    assert raised.value.field == "scope"


@pytest.mark.parametrize("factory", [wsgi_app, asgi_app])
def test_arguments_are_checked(factory: Any) -> None:
    with pytest.raises(InvalidType, match="receive"):
        factory("not callable")
    with pytest.raises(InvalidType, match="max_body"):
        factory(print, max_body=True)
    with pytest.raises(InvalidType, match="then"):
        factory(print, then="process")
    with pytest.raises(InvalidInput, match="at least 141") as small:
        factory(print, max_body=140)
    assert small.value.field == "max_body"
    with pytest.raises(InvalidInput) as relative:
        factory(print, path="efi")
    assert relative.value.field == "path"
    factory(print, max_body=141, path="/efi")


@given(st.from_regex(TOKEN_PATTERN, fullmatch=True))
def test_every_valid_token_arrives_as_sent(token: str) -> None:
    received: list[str] = []
    body = urllib.parse.urlencode({"notification": token}).encode()
    assert call_wsgi(wsgi_app(received.append), body)[0] == 200
    assert _asgi_reply(asgi_app(received.append), body)[0] == 200
    assert received == [token, token]


@given(st.binary(max_size=300) | st.text(max_size=200).map(lambda t: ("notification=" + t).encode()))
def test_any_body_is_200_with_a_valid_token_or_400_with_nothing(body: bytes) -> None:
    received: list[str] = []
    status = call_wsgi(wsgi_app(received.append), body)[0]
    assert status in (200, 400)
    assert _asgi_reply(asgi_app(received.append), body)[0] == status
    if status == 200:
        assert len(received) == 2
        assert received[0] == received[1] == check_token(received[0])
        assert urllib.parse.parse_qs(body.decode("ascii")) == {"notification": [received[0]]}
    else:
        assert received == []


# --- real servers on loopback ----------------------------------------------------------------------


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def received() -> list[str]:
    return []


def _failing_or_store(received: list[str]) -> Callable[[str], None]:
    def receive(token: str) -> None:
        if token == "fail":
            raise OSError("the store is down")
        received.append(token)

    return receive


@contextlib.contextmanager
def _wsgiref_serving(app: Any) -> Iterator[str]:
    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/efi/callback"
    server.shutdown()
    server.server_close()
    thread.join(5)


@contextlib.contextmanager
def _uvicorn_serving(app: Any) -> Iterator[str]:
    uvicorn = pytest.importorskip("uvicorn")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/efi/callback"
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def wsgi_url(received: list[str]) -> Iterator[str]:
    with _wsgiref_serving(wsgi_app(_failing_or_store(received), path="/efi/callback")) as url:
        yield url


@pytest.fixture
def asgi_url(received: list[str]) -> Iterator[str]:
    with _uvicorn_serving(asgi_app(_failing_or_store(received), path="/efi/callback")) as url:
        yield url


@pytest.fixture(params=["wsgiref", "uvicorn"])
def url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("wsgi_url" if request.param == "wsgiref" else "asgi_url"))


def test_real_server_answers(url: str, received: list[str]) -> None:
    with httpx.Client(timeout=5) as client:
        assert client.post(url, data={"notification": TOKEN}).status_code == 200
        assert received == [TOKEN]
        assert client.post(url, data={"notification": "fail"}).status_code == 503
        assert client.post(url, data={"notification": TOKEN, "x": "1"}).status_code == 400
        assert client.post(url, json={"notification": TOKEN}).status_code == 400
        refused = client.get(url)
        assert (refused.status_code, refused.headers["allow"]) == (405, "POST")
        assert client.post(url + "/other", data={"notification": TOKEN}).status_code == 404
        assert (
            client.post(url, content=b"notification=" + b"a" * 5000, headers={"content-type": FORM}).status_code == 413
        )
    assert received == [TOKEN]


def test_uvicorn_refuses_a_chunked_body_growing_past_the_limit(asgi_url: str, received: list[str]) -> None:
    def body() -> Iterator[bytes]:
        yield b"notification="
        for _ in range(8):
            yield b"a" * 1000

    with httpx.Client(timeout=5) as client:
        response = client.post(asgi_url, content=body(), headers={"content-type": FORM})
        assert "content-length" not in response.request.headers
        assert response.status_code == 413
        chunked = client.post(
            asgi_url, content=iter([b"notification=", TOKEN.encode()]), headers={"content-type": FORM}
        )
        assert chunked.status_code == 200
    assert received == [TOKEN]


def test_the_emulator_calls_the_endpoint_over_http(url: str, received: list[str]) -> None:
    emulator = EfiEmulator(client_id="cid", client_secret="csecret-callback", today=TODAY, callback_mode="inline")
    with (
        emulator,
        EfiGateway(
            "cid", "csecret-callback", "sandbox", transport=emulator.transport(), today=lambda: emulator.today
        ) as efi,
    ):
        issued = efi.create_billet(billet(operation_id="op-cb", notification_url=url))
        token = emulator.charges[int(issued.charge_id)]["notification_token"]
        created = len(received)
        assert created >= 1
        emulator.pay(int(issued.charge_id))
    assert len(received) > created  # the payment was announced too
    assert set(received) == {token}
    assert all(delivery.status == 200 for delivery in emulator.deliveries)


@pytest.mark.parametrize("server", ["wsgiref", "uvicorn"])
def test_a_real_server_answers_before_then_has_finished(server: str) -> None:
    """The inline setting answers Efí at once: the client has its 200 while ``then`` is still running."""
    answered, finished = threading.Event(), threading.Event()
    processed: list[str] = []

    def process(token: str) -> None:
        assert answered.wait(5), "then ran before the client had its answer"
        processed.append(token)
        finished.set()

    factory, serving = (wsgi_app, _wsgiref_serving) if server == "wsgiref" else (asgi_app, _uvicorn_serving)
    with serving(factory(lambda token: None, then=process)) as url, httpx.Client(timeout=5) as client:
        assert client.post(url, data={"notification": TOKEN}).status_code == 200
        answered.set()
        assert finished.wait(5)
    assert processed == [TOKEN]
