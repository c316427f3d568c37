"""SQLite units after a commit (decision 0304): no lock held until the next statement, and a kept commit never fails.

Every store here waits at most half a second for a lock, so a unit that would wait for another one's
lock fails fast with ``StoreUnavailable`` instead of hanging the suite.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from carteira.adapters.storage import SqliteStore
from carteira.domain import ChargeTerms, Customer, Installment, Money
from carteira.errors import StoreUnavailable

LOCK_WAIT_S = 0.5
TERMS = ChargeTerms(Decimal("0.02"), Decimal("0.01"))


def _installment(key: str) -> Installment:
    return Installment(key, "c1", date(2025, 3, 10), Money("10.00"), TERMS)


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    made = SqliteStore(tmp_path / "carteira.db", timeout_s=LOCK_WAIT_S)
    made.migrate()
    return made


def _stored(store: SqliteStore) -> set[str]:
    with store.unit_of_work() as uow:
        return set(uow.installments.get_many(["a1", "a2", "b1"]))


def test_a_unit_that_committed_lets_a_second_unit_in_the_same_thread_write_at_once(store: SqliteStore) -> None:
    with store.unit_of_work() as first:
        first.installments.put(_installment("a1"))
        first.commit()
        # Still inside the first unit's block (a gateway call would be here): the second unit does not wait.
        start = time.perf_counter()
        with store.unit_of_work() as second:
            second.installments.put(_installment("b1"))
            second.commit()
        assert time.perf_counter() - start < LOCK_WAIT_S
        # The first unit goes on in a new transaction, which sees what the second one committed.
        assert first.installments.get("b1").id == "b1"
        first.installments.put(_installment("a2"))
        first.commit()
    assert _stored(store) == {"a1", "a2", "b1"}


def test_a_unit_that_committed_lets_a_unit_of_another_thread_write_at_once(store: SqliteStore) -> None:
    committed, second_done = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def second() -> None:
        committed.wait(5)
        try:
            with store.unit_of_work() as uow:
                uow.installments.put(_installment("b1"))
                uow.commit()
            outcome["second"] = "committed"
        except StoreUnavailable as exc:  # pragma: no cover - the failure this test exists to catch
            outcome["second"] = exc
        finally:
            second_done.set()

    thread = threading.Thread(target=second)
    thread.start()
    with store.unit_of_work() as first:
        first.installments.put(_installment("a1"))
        first.commit()
        committed.set()
        # The first unit stays open, doing no database work, until the other thread's unit is done.
        assert second_done.wait(5)
        first.installments.put(_installment("a2"))
        first.commit()
    thread.join(5)
    assert outcome == {"second": "committed"}
    assert _stored(store) == {"a1", "a2", "b1"}


def test_units_still_run_one_at_a_time_while_one_of_them_has_work_uncommitted(store: SqliteStore) -> None:
    with store.unit_of_work() as first:
        first.installments.put(_installment("a1"))
        with pytest.raises(StoreUnavailable, match="write lock"), store.unit_of_work():
            pass
        first.commit()
        first.installments.put(_installment("a2"))  # the lock is taken again with this statement
        with pytest.raises(StoreUnavailable, match="write lock"), store.unit_of_work():
            pass
        first.commit()
    assert _stored(store) == {"a1", "a2"}


class _LockTakenAfterCommit:
    """A unit's connection whose COMMIT is followed at once by another writer taking the write lock.

    That is the moment the old eager begin lost: ``commit()`` kept the data, then failed to begin
    the next transaction and reported the whole unit as failed.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path
        self.other: sqlite3.Connection | None = None

    def execute(self, sql: str, *params: Any) -> sqlite3.Cursor:
        cursor = self._conn.execute(sql, *params)
        if sql == "COMMIT" and self.other is None:
            self.other = sqlite3.connect(self._path, isolation_level=None, timeout=0)
            self.other.execute("BEGIN IMMEDIATE")
        return cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def test_a_commit_that_kept_the_data_is_never_reported_as_failed(store: SqliteStore, tmp_path: Path) -> None:
    connections: list[_LockTakenAfterCommit] = []
    real_connect = store._connect

    def connect() -> Any:
        wrapped = _LockTakenAfterCommit(real_connect(), tmp_path / "carteira.db")
        connections.append(wrapped)
        return wrapped

    store._connect = connect  # type: ignore[method-assign]
    with store.unit_of_work() as uow:
        uow.installments.put(_installment("a1"))
        uow.commit()  # kept: it must not raise, though another writer holds the lock right after it
        # The unit's next statement needs the lock again, and that is where waiting for it fails.
        with pytest.raises(StoreUnavailable, match="write lock"):
            uow.customers.put(Customer("c1", "after the commit"))
        with pytest.raises(StoreUnavailable):
            uow.commit()  # the unit is spoiled: nothing after the first commit is kept
    other = connections[0].other
    assert other is not None
    assert other.execute("SELECT id FROM installments").fetchall() == [("a1",)]
    assert other.execute("SELECT id FROM customers").fetchall() == []
    other.execute("ROLLBACK")
    other.close()
    store._connect = real_connect  # type: ignore[method-assign]
    assert _stored(store) == {"a1"}
