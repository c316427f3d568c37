"""The storage contract of the gateway's notification tokens (G6, G6a): ``uow.notifications``.

:class:`NotificationStorageContract` is a mixin of :class:`~carteira.testing.contracts.storage.StorageContract`,
so every store that runs the storage contract runs these tests too; it uses the ``store`` fixture,
``_fresh()`` and ``interleaved_units`` of that class. What it checks: every field round trips
(instants equal to the microsecond whatever their zone, ``None`` where optional); the version rule,
``Conflict``, ``NotFound`` and rollback; two units inserting one token leave one; and that ``due``
and ``with_status`` return exactly what :meth:`Notification.due` and a plain sort say, for generated
notifications.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira.domain.notifications import Notification, NotificationStatus
from carteira.errors import Conflict, NotFound
from carteira.ports.storage import Store, UnitOfWork
from carteira.testing.contracts.samples import EXAMPLES as _EXAMPLES
from carteira.testing.contracts.samples import T0 as _T0
from carteira.testing.contracts.samples import TEXT as _TEXT
from carteira.testing.contracts.samples import TICK as _TICK
from carteira.testing.contracts.samples import ZONES as _ZONES
from carteira.testing.contracts.samples import moments

__all__ = ["NotificationStorageContract", "a_notification"]

# Tokens that Python orders by code point ('-' < digits < upper case < '_' < lower case); a database
# collation that ordered them otherwise (ignoring punctuation or case) would show.
_TOKENS = ("tok-1", "tok-10", "tok-2", "Tok-3", "tok_4", "TOK-5", "tok-6", "tokA", "toka", "9tok", "t0k", "tok-12")
_LEASE = timedelta(minutes=5)


@st.composite
def _notification(draw: st.DrawFn, token: str) -> Notification:
    """Any notification ``token``: every field drawn, whatever its status (storage keeps what it is given)."""
    moment = st.none() | moments()
    return Notification(
        token,
        draw(moments()),
        draw(st.sampled_from(NotificationStatus)),
        draw(st.integers(1, 4)),
        draw(st.integers(0, 5)),
        draw(moment),
        draw(moment),
        draw(_TEXT),
    )


def _notifications() -> st.SearchStrategy[list[Notification]]:
    """Up to 12 new notifications with distinct tokens."""
    return st.lists(st.sampled_from(_TOKENS), unique=True, max_size=len(_TOKENS)).flatmap(
        lambda tokens: st.tuples(*(_notification(token) for token in tokens)).map(list)
    )


def _oldest_first(notifications: Iterable[Notification]) -> list[Notification]:
    return sorted(notifications, key=lambda n: (n.received_at, n.token))


def _put_and_commit(uow: UnitOfWork, notification: Notification) -> None:
    uow.notifications.put(notification)
    uow.commit()


def _race(store: Store, token: str) -> list[str]:
    """Two threads insert ``token`` at once, received a tick apart; what each got: ``OK`` or the conflict."""
    outcomes = ["", ""]
    start = threading.Barrier(2)

    def insert(side: int) -> None:
        start.wait()
        try:
            with store.unit_of_work() as uow:
                _put_and_commit(uow, a_notification(token, at=_T0 + side * _TICK))
            outcomes[side] = "OK"
        except Conflict as exc:
            outcomes[side] = f"CONFLICT {exc.kind} {exc.key}"

    threads = [threading.Thread(target=insert, args=(side,)) for side in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def a_notification(token: str = "tok-1", *, at: datetime = _T0, **fields: Any) -> Notification:
    """A new PENDING notification ``token`` received ``at``; ``fields`` override the others."""
    return attrs.evolve(Notification(token, at), **fields)


class NotificationStorageContract:
    """The notification tokens' part of the storage contract; :class:`StorageContract` inherits it."""

    interleaved_units: bool
    """Whether two units of work of one store may be open at once in one thread (``StorageContract`` sets it)."""

    def _fresh(self) -> Store:
        """A new, migrated store (``StorageContract`` supplies it)."""
        raise NotImplementedError

    # -- round trips ----------------------------------------------------------------------------

    def test_a_notification_round_trips_every_field(self, store: Store) -> None:
        later = _T0 + timedelta(microseconds=1)
        full = a_notification(
            "0f3c9d1e-4b2a-4c8e-9d7f-1a2b3c4d5e6f",
            status=NotificationStatus.PROCESSED,
            deliveries=3,
            attempts=2,
            next_attempt_at=later.astimezone(timezone(timedelta(hours=9))),
            processed_at=later + timedelta(days=1),
            error="fetch failed: 'x' \\ \"y\" ç\n",
        )
        bare = a_notification("tok-2", at=_T0.astimezone(UTC))
        with store.unit_of_work() as uow:
            stored = [uow.notifications.put(n) for n in (full, bare)]
            assert stored == [attrs.evolve(n, version=1) for n in (full, bare)]
            uow.commit()
        with store.unit_of_work() as uow:
            loaded = [uow.notifications.get(n.token) for n in stored]
        assert loaded == stored
        assert loaded[1].next_attempt_at is None
        assert loaded[1].processed_at is None
        assert loaded[1].error == ""
        for moment in (loaded[0].received_at, loaded[0].next_attempt_at, loaded[0].processed_at):
            assert moment is not None
            assert moment.utcoffset() is not None
        assert loaded[0].next_attempt_at == later
        assert loaded[0].next_attempt_at is not None
        assert loaded[0].next_attempt_at.microsecond == later.microsecond

    @_EXAMPLES
    @given(notifications=_notifications(), data=st.data())
    def test_notifications_round_trip_and_when_rewritten(
        self, notifications: list[Notification], data: st.DataObject
    ) -> None:
        store = self._fresh()
        try:
            with store.unit_of_work() as uow:
                stored = [uow.notifications.put(n) for n in notifications]
                uow.commit()
            assert stored == [attrs.evolve(n, version=1) for n in notifications]
            with store.unit_of_work() as uow:
                assert [uow.notifications.get(n.token) for n in stored] == stored
                # Every field rewritten: the store keeps the new value whole.
                rewritten = [attrs.evolve(data.draw(_notification(n.token)), version=n.version) for n in stored]
                again = [uow.notifications.put(n) for n in rewritten]
                uow.commit()
            assert again == [attrs.evolve(n, version=2) for n in rewritten]
            with store.unit_of_work() as uow:
                assert [uow.notifications.get(n.token) for n in again] == again
        finally:
            store.close()

    # -- the version rule, NotFound, rollback ---------------------------------------------------

    def test_notifications_follow_the_version_rule(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            with pytest.raises(NotFound) as missing:
                uow.notifications.get("tok-1")
            assert (missing.value.kind, missing.value.key) == ("notification", "tok-1")
            read = uow.notifications.put(a_notification("tok-1"))
            uow.commit()
        with store.unit_of_work() as uow:
            winner = uow.notifications.put(read.claimed(_T0, lease=_LEASE))
            assert winner.version == 2
            uow.commit()
        with store.unit_of_work() as uow:
            uow.notifications.put(a_notification("tok-new-in-the-stale-unit"))
            with pytest.raises(Conflict) as stale:
                uow.notifications.put(read.delivered_again())
            assert (stale.value.kind, stale.value.key, stale.value.expected_version) == ("notification", "tok-1", 1)
        with store.unit_of_work() as uow, pytest.raises(Conflict) as again:
            _put_and_commit(uow, a_notification("tok-1"))  # a second insert of a stored token
        assert (again.value.kind, again.value.key) == ("notification", "tok-1")
        with store.unit_of_work() as uow:
            assert uow.notifications.get("tok-1") == winner
            with pytest.raises(NotFound):
                uow.notifications.get("tok-new-in-the-stale-unit")

    def test_a_notification_unit_without_commit_or_with_an_error_keeps_nothing(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.notifications.put(a_notification("tok-1"))

        def fail_half_way() -> None:
            with store.unit_of_work() as uow:
                uow.notifications.put(a_notification("tok-2"))
                _ = 1 / 0

        with pytest.raises(ZeroDivisionError):
            fail_half_way()
        with store.unit_of_work() as uow:
            for token in ("tok-1", "tok-2"):
                with pytest.raises(NotFound):
                    uow.notifications.get(token)
            assert uow.notifications.due(_T0 + _LEASE, limit=5) == []
            assert uow.notifications.with_status(NotificationStatus.PENDING) == []

    # -- two units, one token -------------------------------------------------------------------

    def test_two_open_units_inserting_one_token_leave_one(self, store: Store) -> None:
        if not self.interleaved_units:
            pytest.skip("this store runs its units one after the other (the threaded test covers it)")
        with store.unit_of_work() as slow:
            with store.unit_of_work() as fast:
                kept = fast.notifications.put(a_notification("tok-1", deliveries=1))
                fast.commit()
            slow.notifications.put(a_notification("tok-2"))
            with pytest.raises(Conflict) as raised:  # at put (SQL) or at commit (memory)
                _put_and_commit(slow, a_notification("tok-1", at=_T0 + _TICK))
            assert (raised.value.kind, raised.value.key) == ("notification", "tok-1")
        with store.unit_of_work() as uow:
            assert uow.notifications.get("tok-1") == kept
            assert [n.token for n in uow.notifications.with_status(NotificationStatus.PENDING)] == ["tok-1"]

    def test_two_threads_inserting_one_token_leave_one(self, store: Store) -> None:
        for trial in range(3):
            token = f"tok-race-{trial}"
            outcomes = _race(store, token)
            assert sorted(outcomes) == [f"CONFLICT notification {token}", "OK"], outcomes
            with store.unit_of_work() as uow:
                kept = uow.notifications.get(token)
            assert kept == a_notification(token, at=_T0 + outcomes.index("OK") * _TICK, version=1)

    # -- due and with_status agree with the domain ----------------------------------------------

    @pytest.mark.parametrize("size", [5, 80])
    def test_a_worker_claims_due_notifications_until_the_lease_runs_out(self, store: Store, size: int) -> None:
        received = [a_notification(f"tok-{n:03}", at=_T0 + n * _TICK) for n in range(size)]
        with store.unit_of_work() as uow:
            for notification in received:
                uow.notifications.put(notification)
            uow.commit()
        now = _T0 + size * _TICK
        with store.unit_of_work() as uow:
            due = uow.notifications.due(now, limit=size)
            assert [n.token for n in due] == [n.token for n in received]
            claimed = [uow.notifications.put(n.claimed(now, lease=_LEASE)) for n in due]
            assert uow.notifications.due(now, limit=size) == []
            assert uow.notifications.due(now + _LEASE - timedelta(microseconds=1), limit=size) == []
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.notifications.due(now + _LEASE, limit=2) == claimed[:2]  # the lease ran out
            for notification in claimed:
                uow.notifications.put(notification.processed(now))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.notifications.due(now + _LEASE, limit=size) == []
            done = uow.notifications.with_status(NotificationStatus.PROCESSED, limit=3)
            assert [n.token for n in done] == [n.token for n in received[::-1][:3]]
            assert {n.version for n in uow.notifications.with_status(NotificationStatus.PROCESSED)} == {3}

    def test_tokens_received_at_one_instant_are_ordered_by_code_point(self, store: Store) -> None:
        # One instant written in every zone: only the token orders them, as Python orders str.
        same = [a_notification(token, at=_T0.astimezone(_ZONES[n % len(_ZONES)])) for n, token in enumerate(_TOKENS)]
        with store.unit_of_work() as uow:
            for notification in same:
                uow.notifications.put(notification)
            uow.commit()
        by_code_point = sorted(_TOKENS)
        with store.unit_of_work() as uow:
            assert [n.token for n in uow.notifications.due(_T0, limit=len(_TOKENS))] == by_code_point
            assert [n.token for n in uow.notifications.due(_T0, limit=3)] == by_code_point[:3]
            newest = uow.notifications.with_status(NotificationStatus.PENDING, limit=4)
            assert [n.token for n in newest] == by_code_point[::-1][:4]
            assert uow.notifications.with_status(NotificationStatus.PROCESSED) == []

    @_EXAMPLES
    @given(notifications=_notifications(), data=st.data())
    def test_due_and_with_status_agree_with_the_domain(
        self, notifications: list[Notification], data: st.DataObject
    ) -> None:
        store = self._fresh()
        try:
            with store.unit_of_work() as uow:
                stored = [uow.notifications.put(n) for n in notifications]
                uow.commit()
            with store.unit_of_work() as uow:
                for _ in range(4):
                    now, limit = data.draw(moments()), data.draw(st.integers(0, 6))
                    expected = _oldest_first(n for n in stored if n.due(now))[:limit]
                    assert uow.notifications.due(now, limit=limit) == expected
                    status = data.draw(st.sampled_from(NotificationStatus))
                    newest = _oldest_first(n for n in stored if n.status is status)[::-1]
                    cap = data.draw(st.none() | st.integers(0, 6))
                    assert uow.notifications.with_status(status, limit=cap) == newest[:cap]
        finally:
            store.close()
