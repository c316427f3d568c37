"""Two processes at once: settling one installment on PostgreSQL (one succeeds, one gets Conflict); importing
one return file on PostgreSQL and SQLite (one batch is left, the other process gets DuplicateImport naming it).
Workers sharing the outbox and the notification tokens on PostgreSQL: units claiming at once take disjoint
operations and tokens (SKIP LOCKED)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from carteira.adapters.storage import PostgresStore, SqliteStore
from carteira.domain import Installment, InstallmentStatus, Money
from carteira.domain.notifications import Notification, NotificationStatus
from carteira.domain.operations import Operation, OperationKind, OperationStatus
from carteira.ports.storage import Store, UnitOfWork
from tests.adapters.storage.child import IMPORT_RECORDS, TERMS
from tests.adapters.storage.postgres_schema import empty, postgres_schema
from tests.support import POSTGRES_DSN, ROOT

__all__ = ["postgres_schema"]

IMPORT_TRIALS = 3
WORKERS = 4
OUTBOX_SIZE = 300
TOKENS = 300
CLAIM_LIMIT = 7
LEASE = timedelta(minutes=5)
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.postgres
def test_two_processes_settling_one_installment_one_wins_one_conflicts(postgres_schema: str) -> None:
    empty(postgres_schema)
    store = PostgresStore(POSTGRES_DSN, schema=postgres_schema, max_size=2)
    try:
        store.migrate()
        with store.unit_of_work() as uow:
            uow.installments.put(Installment("i1", "c1", date(2025, 1, 10), Money("100.00"), TERMS))
            uow.commit()
        children = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.adapters.storage.child", "settle", postgres_schema],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        for child in children:  # both have read version 1 before either writes
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "READ"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        results = sorted(child.communicate(timeout=60)[0].strip() for child in children)
        assert results == ["CONFLICT", "OK"]
        with store.unit_of_work() as uow:
            installment = uow.installments.get("i1")
            settlements = uow.settlements.of_installment("i1")
        assert installment.version == 2
        assert installment.status is InstallmentStatus.SETTLED
        assert len(settlements) == 1
        (settlement,) = settlements
        # Money is conserved: what was owed is what one settlement closed, to the cent.
        assert settlement.before.principal_open - settlement.principal == installment.principal_open
        assert settlement.paid == Money("100.00")
        assert settlement.conserves()
    finally:
        store.close()


def _race_to_import(store: Store, where: str) -> None:
    """Two processes add the same file at once, ``IMPORT_TRIALS`` times; each time one batch is left."""
    for trial in range(IMPORT_TRIALS):
        ids = (f"t{trial}-a", f"t{trial}-b")
        children = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.adapters.storage.child", "import", where, batch_id],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for batch_id in ids
        ]
        for child in children:  # both have started and opened the store before either adds
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "READY"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        results = [child.communicate(timeout=60)[0].strip() for child in children]
        assert sorted(results)[1] == "OK", results
        winner = ids[results.index("OK")]
        assert sorted(results)[0] == f"DUPLICATE {winner}"
        with store.unit_of_work() as uow:
            assert [b.id for b in uow.return_batches.all()] == [winner]
            assert len(uow.return_batches.records(winner)) == IMPORT_RECORDS
            assert uow.return_batches.records(ids[1 - ids.index(winner)]) == []
            uow.return_batches.delete(winner)  # the next trial imports the file again
            uow.commit()


@pytest.mark.postgres
def test_two_processes_importing_one_file_on_postgres_leave_one_batch(postgres_schema: str) -> None:
    empty(postgres_schema)
    store = PostgresStore(POSTGRES_DSN, schema=postgres_schema, max_size=2)
    try:
        store.migrate()
        _race_to_import(store, postgres_schema)
    finally:
        store.close()


def test_two_processes_importing_one_file_on_sqlite_leave_one_batch(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    store = SqliteStore(path)
    store.migrate()
    _race_to_import(store, str(path))


def _claimed_by_workers(store: PostgresStore, claim: Callable[[UnitOfWork], list[str]]) -> list[list[str]]:
    """What each of :data:`WORKERS` threads claimed, each claiming with ``claim`` in its own units until none is due."""
    claimed: list[list[str]] = [[] for _ in range(WORKERS)]
    failures: list[BaseException] = []
    start = threading.Barrier(WORKERS)

    def work(worker: int) -> None:
        try:
            start.wait()
            while True:
                with store.unit_of_work() as uow:
                    keys = claim(uow)
                    if not keys:  # nothing left but what other workers hold
                        return
                    uow.commit()
                claimed[worker].extend(keys)
        except BaseException as exc:  # handed to the test's thread, which raises it
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert sum(1 for keys in claimed if keys) > 1  # they did share the work
    return claimed


def _outbox(store: PostgresStore, size: int) -> datetime:
    """``size`` PENDING operations, one a second from :data:`T0`; returns an instant when all are due."""
    with store.unit_of_work() as uow:
        uow.operations.put_many(
            [
                Operation(f"op-{n:04}", OperationKind.ISSUE_BILLET, (f"i{n}",), T0 + timedelta(seconds=n))
                for n in range(size)
            ]
        )
        uow.commit()
    return T0 + timedelta(seconds=size)


def _ids(operations: list[Operation]) -> list[str]:
    return [o.id for o in operations]


@pytest.mark.postgres
def test_units_open_at_once_take_disjoint_operations_and_give_them_back_at_commit(postgres_schema: str) -> None:
    empty(postgres_schema)
    store = PostgresStore(POSTGRES_DSN, schema=postgres_schema, max_size=3)
    try:
        store.migrate()
        now = _outbox(store, 10)
        with store.unit_of_work() as first, store.unit_of_work() as second:
            assert _ids(first.operations.due(now, limit=4)) == [f"op-{n:04}" for n in range(4)]
            assert _ids(second.operations.due(now, limit=4)) == [f"op-{n:04}" for n in range(4, 8)]
            first.commit()  # claimed nothing: its rows are free again, the second unit's are still held
            with store.unit_of_work() as third:
                assert _ids(third.operations.due(now, limit=10)) == [f"op-{n:04}" for n in (0, 1, 2, 3, 8, 9)]
        with store.unit_of_work() as uow:
            assert len(uow.operations.due(now, limit=10)) == 10
    finally:
        store.close()


@pytest.mark.postgres
def test_workers_claiming_in_threads_take_each_operation_once_and_all_of_them(postgres_schema: str) -> None:
    empty(postgres_schema)
    store = PostgresStore(POSTGRES_DSN, schema=postgres_schema, max_size=WORKERS)
    try:
        store.migrate()
        now = _outbox(store, OUTBOX_SIZE)

        def claim(uow: UnitOfWork) -> list[str]:
            due = uow.operations.due(now, limit=CLAIM_LIMIT)
            uow.operations.put_many([o.claimed(now, lease=LEASE) for o in due])
            return _ids(due)

        everything = [key for ids in _claimed_by_workers(store, claim) for key in ids]
        assert len(everything) == len(set(everything)) == OUTBOX_SIZE
        with store.unit_of_work() as uow:
            stored = uow.operations.get_many(everything).values()
            assert {(o.status, o.version) for o in stored} == {(OperationStatus.UNKNOWN, 2)}
            assert uow.operations.due(now, limit=OUTBOX_SIZE) == []
    finally:
        store.close()


def _tokens(store: PostgresStore, size: int) -> datetime:
    """``size`` PENDING notifications, one received a second from :data:`T0`; returns an instant when all are due."""
    with store.unit_of_work() as uow:
        for n in range(size):
            uow.notifications.put(Notification(f"tok-{n:04}", T0 + timedelta(seconds=n)))
        uow.commit()
    return T0 + timedelta(seconds=size)


def _claim(uow: UnitOfWork, now: datetime, limit: int) -> list[str]:
    """A worker's claim: the due tokens, each put back claimed with a lease; their tokens."""
    due = uow.notifications.due(now, limit=limit)
    for notification in due:
        uow.notifications.put(notification.claimed(now, lease=LEASE))
    return [n.token for n in due]


@pytest.mark.postgres
def test_units_open_at_once_claim_disjoint_notifications(postgres_schema: str) -> None:
    empty(postgres_schema)
    store = PostgresStore(POSTGRES_DSN, schema=postgres_schema, max_size=3)
    try:
        store.migrate()
        now = _tokens(store, 10)
        with store.unit_of_work() as first, store.unit_of_work() as second:
            assert _claim(first, now, 4) == [f"tok-{n:04}" for n in range(4)]
            # Looked at before claiming: were they the first unit's, the claim would wait for it forever.
            assert [n.token for n in second.notifications.due(now, limit=4)] == [f"tok-{n:04}" for n in range(4, 8)]
            assert _claim(second, now, 4) == [f"tok-{n:04}" for n in range(4, 8)]
            second.commit()  # claimed: leased until now + LEASE, not due for anyone
            with store.unit_of_work() as third:  # the first unit still holds its four
                assert [n.token for n in third.notifications.due(now, limit=10)] == ["tok-0008", "tok-0009"]
            first.commit()
        with store.unit_of_work() as uow:
            assert uow.notifications.due(now, limit=10) == [
                uow.notifications.get("tok-0008"),
                uow.notifications.get("tok-0009"),
            ]
            assert len(uow.notifications.due(now + LEASE, limit=10)) == 10  # every lease ran out
    finally:
        store.close()


@pytest.mark.postgres
def test_workers_claiming_tokens_in_threads_take_each_once_and_all_of_them(postgres_schema: str) -> None:
    empty(postgres_schema)
    store = PostgresStore(POSTGRES_DSN, schema=postgres_schema, max_size=WORKERS)
    try:
        store.migrate()
        now = _tokens(store, TOKENS)
        everything = [
            token
            for tokens in _claimed_by_workers(store, lambda uow: _claim(uow, now, CLAIM_LIMIT))
            for token in tokens
        ]
        assert len(everything) == len(set(everything)) == TOKENS
        with store.unit_of_work() as uow:
            stored = [uow.notifications.get(token) for token in everything]
            assert {(n.status, n.attempts, n.version) for n in stored} == {(NotificationStatus.PENDING, 1, 2)}
            assert uow.notifications.due(now, limit=TOKENS) == []
    finally:
        store.close()
