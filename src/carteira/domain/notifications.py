"""Notification tokens from the payment gateway, kept before anything else is done with them (SPEC G6, G6a).

When a charge changes, Efí POSTs ``notification=<token>`` to the ERP; the events behind the token are
fetched from the gateway afterwards, never taken from the callback's body. A token is stored the
moment it arrives (the endpoint answers 200 only then), and processed by the endpoint itself or by a
worker. Efí keeps one token per charge and calls again with it at each change, so a token that comes
back is due again: its newer events have not been seen yet.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime, timedelta

import attrs

from carteira.domain.validation import count_field, flag_field, instant_field, text_field, wrong_type
from carteira.errors import InvalidInput

__all__ = ["TOKEN_PATTERN", "Notification", "NotificationStatus", "SeenEvent", "check_token"]

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
"""What a notification token may be: Efí's are UUIDs; letters, digits, ``-`` and ``_``, up to 128."""


def check_token(token: object) -> str:
    """``token`` if it can be a notification token; otherwise ``InvalidInput`` (``InvalidType`` if not a str)."""
    if not isinstance(token, str):
        raise wrong_type(token, "token", "a str")
    if TOKEN_PATTERN.fullmatch(token) is None:
        raise InvalidInput(
            "is not a notification token (letters, digits, '-' and '_', at most 128)", field="token", raw=token[:140]
        )
    return token


class NotificationStatus(enum.Enum):
    """PENDING: its events are still to be fetched and processed; PROCESSED: every event seen so far was;
    REFUSED: the gateway would not say what is behind it (a token it does not know), kept for a person."""

    PENDING = "pending"
    PROCESSED = "processed"
    REFUSED = "refused"


@attrs.frozen
class Notification:
    """One notification token and where its processing stands; every change is a new value.

    ``deliveries`` counts the gateway's calls with it, ``attempts`` the tries to process it;
    ``next_attempt_at`` holds it from other workers (while one processes it, or after a failed
    fetch); ``error`` says why the last try failed, in words with no secret.
    """

    token: str = attrs.field(validator=lambda _i, _a, value: check_token(value))
    received_at: datetime = attrs.field(validator=instant_field("received_at"))
    status: NotificationStatus = attrs.field(default=NotificationStatus.PENDING)
    deliveries: int = attrs.field(default=1, validator=count_field("deliveries", 1))
    attempts: int = attrs.field(default=0, validator=count_field("attempts", 0))
    next_attempt_at: datetime | None = attrs.field(
        default=None, validator=instant_field("next_attempt_at", optional=True)
    )
    processed_at: datetime | None = attrs.field(default=None, validator=instant_field("processed_at", optional=True))
    error: str = attrs.field(default="", validator=text_field("error"))
    version: int = attrs.field(default=0, kw_only=True, validator=count_field("version", 0))

    @status.validator
    def _a_status(self, _attribute: object, value: object) -> None:
        if not isinstance(value, NotificationStatus):
            raise wrong_type(value, "status", "a NotificationStatus")

    def due(self, now: datetime) -> bool:
        """Whether a worker may process it at ``now``."""
        if self.status is not NotificationStatus.PENDING:
            return False
        return self.next_attempt_at is None or now >= self.next_attempt_at

    def delivered_again(self) -> Notification:
        """The gateway called with it once more: it may carry new events, so it is due at once."""
        return attrs.evolve(
            self, status=NotificationStatus.PENDING, deliveries=self.deliveries + 1, next_attempt_at=None
        )

    def claimed(self, now: datetime, *, lease: timedelta) -> Notification:
        """Taken by a worker at ``now``: the others leave it alone until ``now + lease``."""
        if not self.due(now):
            raise InvalidInput(f"notification {self.token} is not due", field="status")
        if lease <= timedelta(0):
            raise InvalidInput("must be longer than processing can take", field="lease", raw=str(lease))
        return attrs.evolve(self, attempts=self.attempts + 1, next_attempt_at=now + lease)

    def processed(self, at: datetime) -> Notification:
        """Every event behind it was processed (or recorded for a person)."""
        return attrs.evolve(self, status=NotificationStatus.PROCESSED, processed_at=at, next_attempt_at=None, error="")

    def refused(self, error: str, *, at: datetime) -> Notification:
        """The gateway refused to give its events (``error`` says why): not tried again unless delivered again."""
        return attrs.evolve(self, status=NotificationStatus.REFUSED, processed_at=at, next_attempt_at=None, error=error)

    def failed(self, error: str, *, retry_at: datetime) -> Notification:
        """Its events could not be fetched or processed: tried again at ``retry_at``, never dropped."""
        return attrs.evolve(self, status=NotificationStatus.PENDING, next_attempt_at=retry_at, error=error)


@attrs.frozen
class SeenEvent:
    """One event behind a notification token, recorded once it was processed: ``(token, event_id)`` is its key.

    ``charge_id`` is the gateway's charge it concerns (``None`` for a whole carnet's event); what
    carteira did with it: ``installment_id`` and ``settlement_id`` when it settled one, ``flagged`` with
    a ``note`` when a person must look (a payment for a charge carteira never issued, a ``settled``
    carteira did not cause). ``kind`` and ``status`` are the gateway's own words.
    """

    token: str = attrs.field(validator=lambda _i, _a, value: check_token(value))
    event_id: int = attrs.field(validator=count_field("event_id", 0))
    kind: str = attrs.field(validator=text_field("kind", blank=False))
    status: str = attrs.field(validator=text_field("status", blank=False))
    seen_at: datetime = attrs.field(validator=instant_field("seen_at"))
    charge_id: str | None = attrs.field(default=None, validator=text_field("charge_id", optional=True))
    installment_id: str | None = attrs.field(default=None, validator=text_field("installment_id", optional=True))
    settlement_id: str | None = attrs.field(default=None, validator=text_field("settlement_id", optional=True))
    flagged: bool = attrs.field(default=False, validator=flag_field("flagged"))
    note: str = attrs.field(default="", validator=text_field("note"))

    @property
    def key(self) -> tuple[str, int]:
        """``(token, event_id)``: the same event delivered again, or by another worker, has the same key."""
        return (self.token, self.event_id)
