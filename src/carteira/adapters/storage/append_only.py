"""What every store does the same way with append-only records (seen events, postings): naming and checking keys.

Append-only records carry no version: a key that is already stored, or given twice in one
``add_many``, is a ``Conflict`` naming the key, the same text in every store.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["repeated_key", "seen_event_key"]


def seen_event_key(token: str, event_id: int) -> str:
    """How a ``Conflict`` names a seen event: ``token/event_id`` (a token holds no ``/``)."""
    return f"{token}/{event_id}"


def repeated_key(keys: Sequence[str]) -> str | None:
    """The first key that appears a second time in ``keys``, if any."""
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            return key
        seen.add(key)
    return None
