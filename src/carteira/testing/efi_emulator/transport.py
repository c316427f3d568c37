"""The in-process wire: an httpx transport over `EfiEmulator.handle`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from carteira.testing.efi_emulator.emulator import EfiEmulator


class EmulatorTransport(httpx.BaseTransport):
    """Hands each request to the emulator; a timeout or lost-response fault raises `httpx.ReadTimeout`."""

    def __init__(self, emulator: EfiEmulator) -> None:
        self._emulator = emulator

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer `request` in-process, the same way the HTTP server would."""
        body = request.read()
        reply = self._emulator.handle(
            request.method, request.url.path, request.url.query.decode("ascii"), dict(request.headers.items()), body
        )
        if reply.fault is not None:
            raise httpx.ReadTimeout(f"efi-emulator: injected fault ({reply.fault})", request=request)
        return httpx.Response(reply.status, headers=list(reply.headers), content=reply.body, request=request)
