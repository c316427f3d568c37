"""A notification token's life cycle as values (SPEC G6, G6a): stored first, processed once, retried, never dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira.domain.notifications import Notification, NotificationStatus, check_token
from carteira.errors import InvalidInput, InvalidType

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def test_a_token_is_what_efi_sends_and_nothing_else() -> None:
    assert check_token("2da02321-f9e4-1ec1-b107-ee0836f7a98e") == "2da02321-f9e4-1ec1-b107-ee0836f7a98e"
    for bad in ("", "-starts-with-dash", "has space", "a" * 129, "token\n", "tok&en=1", "ção"):
        with pytest.raises(InvalidInput) as caught:
            check_token(bad)
        assert caught.value.field == "token"
    with pytest.raises(InvalidType):
        check_token(b"bytes")
    with pytest.raises(InvalidInput):
        Notification("not a token", T0)
    with pytest.raises(InvalidInput, match="timezone-aware"):
        Notification("tok-1", T0.replace(tzinfo=None))


def test_a_token_is_claimed_processed_and_due_again_when_efi_calls_again() -> None:
    received = Notification("tok-1", T0)
    assert received.due(T0)
    claimed = received.claimed(T0, lease=LEASE)
    assert (claimed.attempts, claimed.due(T0), claimed.due(T0 + LEASE)) == (1, False, True)
    with pytest.raises(InvalidInput, match="not due"):
        claimed.claimed(T0, lease=LEASE)
    done = claimed.processed(T0 + timedelta(seconds=2))
    assert (done.status, done.due(T0 + LEASE), done.next_attempt_at) == (NotificationStatus.PROCESSED, False, None)
    again = done.delivered_again()
    assert (again.status, again.deliveries, again.due(T0)) == (NotificationStatus.PENDING, 2, True)


def test_a_failed_fetch_is_tried_again_later_never_dropped() -> None:
    failed = Notification("tok-1", T0).claimed(T0, lease=LEASE).failed("Efí did not answer", retry_at=T0 + LEASE)
    assert (failed.status, failed.error, failed.due(T0), failed.due(T0 + LEASE)) == (
        NotificationStatus.PENDING,
        "Efí did not answer",
        False,
        True,
    )
    assert failed.processed(T0 + LEASE).error == ""


def test_a_token_the_gateway_refuses_waits_for_a_person_until_delivered_again() -> None:
    refused = Notification("tok-1", T0).claimed(T0, lease=LEASE).refused("unknown token", at=T0)
    assert (refused.status, refused.error, refused.next_attempt_at) == (
        NotificationStatus.REFUSED,
        "unknown token",
        None,
    )
    assert not refused.due(T0 + timedelta(days=30))
    again = refused.delivered_again()
    assert (again.status, again.due(T0)) == (NotificationStatus.PENDING, True)


@given(steps=st.lists(st.sampled_from(["claim", "process", "fail", "refuse", "again"]), max_size=12))
def test_whatever_happens_a_token_is_either_processed_or_due_later(steps: list[str]) -> None:
    """Any sequence of deliveries, claims, failures and successes leaves the token PROCESSED, REFUSED (for a
    person), or due at some time."""
    notification, now = Notification("tok-1", T0), T0
    for step in steps:
        now += timedelta(seconds=40)
        if step == "claim" and notification.due(now):
            notification = notification.claimed(now, lease=LEASE)
        elif step == "process" and notification.status is NotificationStatus.PENDING:
            notification = notification.processed(now)
        elif step == "fail" and notification.status is NotificationStatus.PENDING:
            notification = notification.failed("timeout", retry_at=now + LEASE)
        elif step == "refuse" and notification.status is NotificationStatus.PENDING:
            notification = notification.refused("unknown token", at=now)
        elif step == "again":
            notification = notification.delivered_again()
    settled = notification.status in (NotificationStatus.PROCESSED, NotificationStatus.REFUSED)
    assert settled or notification.due(now + LEASE)
