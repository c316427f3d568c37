"""OAuth client credentials (reference §2): Basic auth in, opaque bearer tokens out, 401 when they lapse."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from carteira.testing.efi_emulator.clock import BRASILIA
from carteira.testing.efi_emulator.refusals import EfiRefusal

REFRESH_TTL_FACTOR = 2  # the DOC-EFI sample's refresh JWT lives twice as long as the access JWT


@attrs.define(frozen=True)
class Credentials:
    """One application's credential pair; the secret never appears in a repr."""

    client_id: str
    client_secret: str = attrs.field(repr=False)


def _basic_pair(headers: Mapping[str, str]) -> tuple[str, str] | None:
    scheme, _, encoded = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    return (client_id, secret) if colon else None


class Authority:
    """Issues and checks bearer tokens. Not thread-safe by itself: the emulator calls it under its lock."""

    def __init__(self, credentials: Credentials, *, token_ttl_s: int) -> None:
        self._credentials = credentials
        self.token_ttl_s = token_ttl_s
        self._expiry: dict[str, datetime] = {}
        self._serial = itertools.count(1)

    def __repr__(self) -> str:
        return f"Authority(client_id={self._credentials.client_id!r}, tokens={len(self._expiry)})"

    def _token(self, kind: str, serial: int) -> str:
        # Deterministic for a given secret (replays match) yet unguessable without it.
        key = self._credentials.client_secret.encode()
        return hmac.new(key, f"{kind}:{serial}".encode(), hashlib.sha256).hexdigest()

    def authorize(self, headers: Mapping[str, str], body: bytes, now: datetime) -> dict[str, Any]:
        """Answer `POST /v1/authorize`, or raise the 401 refusal for a bad credential pair or grant."""
        pair = _basic_pair(headers)
        expected = (self._credentials.client_id, self._credentials.client_secret)
        if pair is None or not (
            hmac.compare_digest(pair[0].encode(), expected[0].encode())
            and hmac.compare_digest(pair[1].encode(), expected[1].encode())
        ):
            raise EfiRefusal(401, "Credenciais inválidas ou inativas.", kind="auth", error="invalid_client")
        try:
            grant = json.loads(body or b"{}").get("grant_type")
        except (ValueError, AttributeError):
            grant = None
        if grant != "client_credentials":
            raise EfiRefusal(
                400, "grant_type deve ser client_credentials.", kind="auth", error="unsupported_grant_type"
            )
        serial = next(self._serial)
        access = self._token("access", serial)
        expires = now + timedelta(seconds=self.token_ttl_s)
        self._expiry[access] = expires
        expire_at_ms = int(expires.replace(tzinfo=BRASILIA).timestamp() * 1000)
        return {
            "access_token": access,
            "refresh_token": self._token("refresh", serial),
            "expires_in": self.token_ttl_s,
            "expire_at": str(expire_at_ms),
            "token_type": "Bearer",
        }

    def check(self, headers: Mapping[str, str], now: datetime) -> None:
        """Raise the 401 refusal unless `headers` carry a bearer token issued here and not yet expired."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        expires = self._expiry.get(token.strip()) if scheme.lower() == "bearer" else None
        if expires is None or now >= expires:
            raise EfiRefusal(401, "Token de acesso inválido ou expirado.", kind="auth", error="invalid_token")

    def expire_all(self) -> None:
        """Forget every issued token, so the next API call answers 401 and the client must authorize again."""
        self._expiry.clear()
