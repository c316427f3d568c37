"""On PostgreSQL a write costs one round trip: its SAVEPOINT and RELEASE travel with the next statement (decision 0715).

Counted from libpq's trace of the unit's connection: each round trip ends with the server's
``ReadyForQuery``. Before decision 0715 each write here cost three (SAVEPOINT, the statement, RELEASE).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator

import pytest

from carteira.adapters.storage import PostgresStore
from carteira.adapters.storage.postgres import PostgresUnitOfWork
from carteira.domain import Customer
from carteira.errors import Conflict
from tests.adapters.storage.postgres_schema import empty, postgres_schema
from tests.support import POSTGRES_DSN

__all__ = ["postgres_schema"]

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(postgres_schema: str) -> Iterator[PostgresStore]:
    empty(postgres_schema)
    made = PostgresStore(POSTGRES_DSN, schema=postgres_schema, max_size=1)
    made.migrate()
    yield made
    made.close()


def _round_trips(uow: PostgresUnitOfWork, action: Callable[[], object]) -> int:
    """How many round trips ``action`` made on the unit's connection."""
    assert uow._conn is not None  # borrowed when the unit began
    pgconn = uow._conn.pgconn
    with tempfile.TemporaryFile("w+") as out:
        pgconn.trace(out.fileno())
        try:
            action()
        finally:
            pgconn.untrace()
        out.seek(0)
        return sum("ReadyForQuery" in line for line in out)


def test_each_write_costs_one_round_trip_and_its_release_goes_with_the_next_statement(store: PostgresStore) -> None:
    with store.unit_of_work() as uow:
        uow.customers.get_many(["none"])  # the transaction's BEGIN and a first read: not counted

        def writes_then_a_read() -> None:
            uow.customers.put(Customer("c1", "Ana"))  # insert: SAVEPOINT + INSERT
            stored = uow.customers.put(Customer("c2", "Bia"))  # RELEASE + SAVEPOINT + INSERT
            uow.customers.put(Customer("c2", "Bia Souza", version=stored.version))  # RELEASE + SAVEPOINT + UPDATE
            assert uow.customers.get("c2").name == "Bia Souza"  # RELEASE + SELECT

        assert _round_trips(uow, writes_then_a_read) == 4
        uow.commit()
    with store.unit_of_work() as uow:
        assert {c.id: c.name for c in uow.customers.get_many(["c1", "c2"]).values()} == {"c1": "Ana", "c2": "Bia Souza"}


def test_a_stale_write_after_pipelined_savepoints_is_a_conflict_and_the_unit_reads_on(store: PostgresStore) -> None:
    with store.unit_of_work() as uow:
        uow.customers.put(Customer("c1", "Ana"))
        uow.commit()
    with store.unit_of_work() as uow:
        uow.customers.put(Customer("c2", "Bia"))
        with pytest.raises(Conflict):
            uow.customers.put(Customer("c1", "Ana Maria", version=7))  # stored version is 1
        assert uow.customers.get("c1").name == "Ana"  # the savepoint was sent: the unit still reads
        with pytest.raises(Conflict):
            uow.commit()
    with store.unit_of_work() as uow:
        assert set(uow.customers.get_many(["c1", "c2"])) == {"c1"}  # nothing of the spoiled unit was kept
