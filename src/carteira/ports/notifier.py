"""The notifier port: how carteira tells the configured users that something needs a person (G1, G10)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["Notifier"]


class Notifier(Protocol):
    """Delivers a short message to users (e-mail, chat, a task list: the ERP decides)."""

    def notify(self, users: Sequence[str], subject: str, body: str) -> None:
        """Tell ``users`` about ``subject``; must not raise for a delivery failure the caller cannot act on."""
        ...
