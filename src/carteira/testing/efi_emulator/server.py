"""The loopback wire: a stdlib `ThreadingHTTPServer` over `EfiEmulator.handle`, and `serve()` to run it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from carteira.testing.efi_emulator.emulator import EfiEmulator

_log = logging.getLogger("carteira.testing.efi_emulator")


class EmulatorServer(ThreadingHTTPServer):
    """One thread per connection; `stopping` releases requests held by a timeout fault at shutdown."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], emulator: EfiEmulator) -> None:
        super().__init__(address, _Handler)
        self.emulator = emulator
        self.stopping = threading.Event()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a request that failed; a client that hung up first (it timed out) is routine, not a traceback."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            _log.debug("%s hung up before its answer was written", client_address)
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        """``http://host:port`` of the listening socket."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, the body waits for the client's delayed ACK (40 ms).
    disable_nagle_algorithm = True
    server: EmulatorServer

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers, up to the blank line
                pass
            return b"".join(chunks)
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self) -> None:
        body = self._body()
        path, _, query = self.path.partition("?")
        reply = self.server.emulator.handle(self.command, unquote(path), query, dict(self.headers.items()), body)
        if reply.fault is not None:
            # Hold the request until the client gives up (or the server stops), then drop it unanswered.
            self.server.stopping.wait(self.server.emulator.timeout_hang_s)
            self.close_connection = True
            return
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("content-length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        # The request line carries no secret (tokens travel in headers); keep it off stderr unless asked.
        _log.debug("%s %s", self.address_string(), format % args)


@contextmanager
def serve(emulator: EfiEmulator, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `emulator` over real HTTP on `host:port` (0 = any free port) and yield its base URL.

    Example:
        >>> with serve(EfiEmulator("cid", "csecret")) as url:  # doctest: +SKIP
        ...     httpx.post(f"{url}/v1/authorize", auth=("cid", "csecret"), json={"grant_type": "client_credentials"})
    """
    server = EmulatorServer((host, port), emulator)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="efi-emulator-http", daemon=True
    )
    thread.start()
    try:
        yield server.url
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
