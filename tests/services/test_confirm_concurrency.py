"""Two workers confirming at once (SPEC B7, issue #11): different batches never wait on each other; the same batch
is never settled twice.

Each worker is a thread with a store of its own (its own connection pool, its own PostgreSQL
sessions, named so that the test can watch them in ``pg_stat_activity``), as two worker processes
of an ERP would have. A worker's unit is held open by the hook ``AnnouncingStore`` runs just before
a COMMIT: the unit has written its chunk (installments, settlements, records, the batch's status)
and holds every row lock it took.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from carteira.adapters.storage import PostgresStore, SqliteStore
from carteira.domain.return_batch import BatchStatus
from carteira.errors import Conflict
from carteira.portfolio import Portfolio
from carteira.ports.storage import Store
from carteira.services.confirmation import ConfirmReport
from carteira.testing import FixedClock
from tests.adapters.storage.postgres_schema import empty
from tests.services.confirm_child import TODAY, AnnouncingStore, check_settled_once, prepare
from tests.support import POSTGRES_DSN

WAIT_S = 30  # far longer than any step here takes: reaching it means a worker waited on the other


def _postgres(schema: str, worker: str) -> PostgresStore:
    return PostgresStore(make_conninfo(POSTGRES_DSN, application_name=f"{worker}-{schema}"), schema=schema, max_size=2)


def _sessions(schema: str, worker: str) -> list[tuple[str | None, str | None]]:
    """The (state, wait event type) of each PostgreSQL session of ``worker``."""
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT state, wait_event_type FROM pg_stat_activity WHERE application_name = %s", (f"{worker}-{schema}",)
        ).fetchall()
    return [(row[0], row[1]) for row in rows]


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting: {what}")
        time.sleep(0.01)


def confirm_until_done(
    store: Store, batch_id: str, *, chunk_size: int, attempts: int = 10
) -> tuple[ConfirmReport, int]:
    """What a caller does (decision 0336): ``confirm`` again after a ``Conflict``; the report, and how many it met."""
    returns = Portfolio(store, clock=FixedClock(TODAY)).returns
    for conflicts in range(attempts):
        try:
            return returns.confirm(batch_id, chunk_size=chunk_size), conflicts
        except Conflict:
            time.sleep(0.01 * (conflicts + 1))
    pytest.fail(f"confirm met a Conflict {attempts} times in a row")


class _Worker(threading.Thread):
    """A thread that confirms one batch on its own store, until done, keeping what happened."""

    def __init__(self, store: Store, batch_id: str, *, chunk_size: int, after: threading.Event | None = None) -> None:
        super().__init__(daemon=True)
        self.store = store
        self.batch_id = batch_id
        self.chunk_size = chunk_size
        self.go = after
        self.report: ConfirmReport | None = None
        self.conflicts = 0
        self.error: BaseException | None = None
        self.seconds = 0.0

    def run(self) -> None:
        try:
            if self.go is not None:
                self.go.wait(WAIT_S)
            started = time.perf_counter()
            self.report, self.conflicts = confirm_until_done(self.store, self.batch_id, chunk_size=self.chunk_size)
            self.seconds = time.perf_counter() - started
        except BaseException as exc:  # kept for the test thread to raise
            self.error = exc

    def result(self) -> ConfirmReport:
        self.join(WAIT_S)
        assert not self.is_alive(), f"the worker on {self.batch_id} did not finish within {WAIT_S} s"
        if self.error is not None:
            raise self.error
        assert self.report is not None
        return self.report


class _Hold:
    """A ``before_commit`` hook that holds the first COMMIT until released: the unit stays open meanwhile."""

    def __init__(self) -> None:
        self.holding = threading.Event()
        self.release = threading.Event()
        self._first = True

    def __call__(self) -> None:
        if self._first:
            self._first = False
            self.holding.set()
            assert self.release.wait(WAIT_S), "nobody released the held unit"


@pytest.fixture
def schema(postgres_schema: str) -> str:
    """The run's schema, empty and migrated."""
    empty(postgres_schema)
    store = PostgresStore(POSTGRES_DSN, schema=postgres_schema, max_size=1)
    store.migrate()
    store.close()
    return postgres_schema


@pytest.mark.postgres
def test_two_workers_confirm_different_batches_without_waiting_on_each_other(schema: str) -> None:
    setup = PostgresStore(POSTGRES_DSN, schema=schema, max_size=2)
    first = prepare(setup, prefix="a", records=60, sequence=1, seed=1)
    second = prepare(setup, prefix="b", records=150, sequence=2, seed=2)
    hold = _Hold()
    barrier = threading.Barrier(2, timeout=WAIT_S)

    class _Started(_Worker):
        def run(self) -> None:
            barrier.wait()
            super().run()

    a = _Started(AnnouncingStore(_postgres(schema, "worker-a"), hold), first.batch_id, chunk_size=10)
    # B starts its whole batch once A's first chunk is written and held uncommitted.
    b = _Started(_postgres(schema, "worker-b"), second.batch_id, chunk_size=10, after=hold.holding)
    a.start()
    b.start()
    try:
        b_report = b.result()  # A still holds its first unit: B finished without waiting on it
        assert ("idle in transaction", "Client") in _sessions(schema, "worker-a"), "A's unit was not open any more"
        assert not hold.release.is_set()
        assert (b_report.settled, b_report.status, b.conflicts) == (150, BatchStatus.COMPLETED, 0)
    finally:
        hold.release.set()
    a_report = a.result()
    assert (a_report.settled, a_report.status, a.conflicts) == (60, BatchStatus.COMPLETED, 0)
    check_settled_once(setup, first)
    check_settled_once(setup, second)
    for store in (setup, a.store, b.store):
        store.close()


@pytest.mark.postgres
def test_a_worker_that_meets_another_in_the_same_batch_gets_conflict_and_a_retry_finishes(schema: str) -> None:
    setup = PostgresStore(POSTGRES_DSN, schema=schema, max_size=2)
    prepared = prepare(setup, prefix="s", records=40, seed=3)
    hold = _Hold()
    a = _Worker(AnnouncingStore(_postgres(schema, "worker-a"), hold), prepared.batch_id, chunk_size=5)
    b = _Worker(_postgres(schema, "worker-b"), prepared.batch_id, chunk_size=5, after=hold.holding)
    a.start()
    b.start()
    try:
        # B settles the same first chunk and waits for the row locks A's held unit took.
        _until(lambda: ("active", "Lock") in _sessions(schema, "worker-b"), "worker B waiting on A's row locks")
    finally:
        hold.release.set()
    a.result()
    b.result()
    assert b.conflicts >= 1  # its first chunk found A's versions once A committed, and kept nothing
    check_settled_once(setup, prepared)
    for store in (setup, a.store, b.store):
        store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Makes a new store over one database: a SQLite file, or the run's PostgreSQL schema (empty, migrated)."""
    made: list[Store] = []

    def new() -> Store:
        store: Store
        if request.param == "sqlite":
            store = SqliteStore(tmp_path / "race.db")
        else:
            store = PostgresStore(POSTGRES_DSN, schema=request.getfixturevalue("schema"), max_size=2)
        made.append(store)
        return store

    new().migrate()
    yield new
    for store in made:
        store.close()


@pytest.mark.parametrize("round_", range(5))
def test_two_workers_racing_through_the_same_batch_settle_each_record_once(
    stores: Callable[[], Store], round_: int
) -> None:
    setup = stores()
    prepared = prepare(setup, prefix=f"r{round_}", records=60, seed=round_)
    go = threading.Event()
    workers = [_Worker(stores(), prepared.batch_id, chunk_size=5 + round_ % 3, after=go) for _ in range(2)]
    for worker in workers:
        worker.start()
    go.set()
    reports = [worker.result() for worker in workers]
    assert all(report.status is BatchStatus.COMPLETED for report in reports)
    check_settled_once(setup, prepared)
