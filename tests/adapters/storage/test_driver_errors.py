"""Every error of the database driver reaches the caller as a typed carteira error, its cause chained (decision 0348).

A failed statement spoils the unit (decision 0300) and nothing of it is kept; on PostgreSQL the error the
caller sees is the one that failed the statement, not the "transaction is aborted" of the statements that
tidy up after it. No password of the DSN shows in the message or anywhere in the printed traceback.
"""

from __future__ import annotations

import sqlite3
import traceback
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import attrs
import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from carteira.adapters.storage import PostgresStore, SqliteStore
from carteira.domain import ChargeTerms, Customer, Installment, Money
from carteira.domain.notifications import SeenEvent
from carteira.errors import CarteiraError, InvalidInput, InvalidRow, InvalidType, NotFound, StoreUnavailable
from carteira.ports.storage import Store
from tests.adapters.storage.postgres_schema import postgres_schema
from tests.adapters.storage.targets import store_at, where
from tests.support import POSTGRES_DSN

__all__ = ["postgres_schema", "where"]

SECRET = "s3cret-Pa55"
_T0 = datetime(2025, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def store(where: str) -> Iterator[Store]:
    """A migrated store; on PostgreSQL its DSN carries a password (the test server ignores it) that must never show."""
    made = store_at(where)
    if isinstance(made, PostgresStore):
        made = PostgresStore(make_conninfo(POSTGRES_DSN, password=SECRET), schema=where, max_size=2)
    made.migrate()
    yield made
    made.close()


def _seen(error: BaseException) -> str:
    return str(error) + "\n" + "".join(traceback.format_exception(error))


def _bypassing(record: object, **fields: object) -> object:
    """``record`` with ``fields`` set without its validators: a record the domain would not make."""
    copy = attrs.evolve(record)  # type: ignore[misc]
    for name, value in fields.items():
        object.__setattr__(copy, name, value)
    return copy


def _rename(store: Store, where: str, table: str, to: str) -> None:
    if isinstance(store, SqliteStore):
        with sqlite3.connect(where) as connection:
            connection.execute(f"ALTER TABLE {table} RENAME TO {to}")
        return
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as admin:
        admin.execute(f"ALTER TABLE {where}.{table} RENAME TO {to}")


def test_a_table_gone_behind_the_store_is_store_unavailable_with_its_cause(store: Store, where: str) -> None:
    _rename(store, where, "contracts", "contracts_gone")
    try:
        with store.unit_of_work() as uow:
            with pytest.raises(StoreUnavailable, match="contracts") as caught:
                uow.contracts.get("k1")
            with pytest.raises(StoreUnavailable):
                uow.commit()
    finally:
        _rename(store, where, "contracts_gone", "contracts")
    assert caught.value.__cause__ is not None
    assert SECRET not in _seen(caught.value)


def test_a_row_a_check_constraint_refuses_is_invalid_input_and_the_unit_keeps_nothing(store: Store) -> None:
    # The domain refuses a negative event id at construction; this one was made around it.
    event = _bypassing(SeenEvent("tok-1", 1, "charge", "paid", _T0), event_id=-1)
    with store.unit_of_work() as uow:
        uow.customers.put(Customer("c1", "Ana"))
        with pytest.raises(InvalidInput, match="seen_events") as caught:
            uow.seen_events.add_many([event])  # type: ignore[list-item]
        assert not isinstance(caught.value, InvalidType)
        assert uow.customers.get("c1").name == "Ana"  # reads go on in the unit
        with pytest.raises(InvalidInput):
            uow.commit()
    assert caught.value.__cause__ is not None
    assert SECRET not in _seen(caught.value)
    with store.unit_of_work() as uow:
        with pytest.raises(NotFound):
            uow.customers.get("c1")
        assert uow.seen_events.of_token("tok-1") == []


def test_a_flag_that_is_not_a_bool_is_refused_before_the_statement(store: Store) -> None:
    event = _bypassing(SeenEvent("tok-1", 1, "charge", "paid", _T0), flagged=2)
    with store.unit_of_work() as uow, pytest.raises(InvalidRow) as caught:
        uow.seen_events.add_many([event])  # type: ignore[list-item]
    assert (caught.value.table, caught.value.column) == ("seen_events", "flagged")


def test_a_key_of_the_wrong_type_is_a_typed_error_or_finds_nothing(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.customers.put(Customer("5", "Ana"))
        uow.commit()
    with store.unit_of_work() as uow:
        try:
            found = uow.customers.get_many([5])  # type: ignore[list-item]
        except CarteiraError:
            pass
        else:
            assert found == {}  # 5 is not the id "5"
        assert uow.customers.get("5").name == "Ana"


def test_a_record_of_the_wrong_type_is_a_type_error_naming_the_argument(store: Store) -> None:
    with store.unit_of_work() as uow:
        with pytest.raises(InvalidType, match="Customer") as caught:
            uow.customers.put("Ana")  # type: ignore[arg-type]
        assert caught.value.field == "customer"
        with pytest.raises(InvalidType, match="Installment"):
            uow.installments.put_many([Customer("c1", "Ana")])  # type: ignore[list-item]


@pytest.mark.postgres
def test_a_lost_connection_chains_a_copy_of_the_drivers_error_without_the_password(postgres_schema: str) -> None:
    from tests.adapters.storage.postgres_schema import empty

    empty(postgres_schema)
    store = PostgresStore(make_conninfo(POSTGRES_DSN, password=SECRET), schema=postgres_schema, max_size=2)
    try:
        store.migrate()
        with store.unit_of_work() as uow:
            uow.customers.put(Customer("c1", "Ana"))
            with psycopg.connect(POSTGRES_DSN, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (uow._c.info.backend_pid,))
            with pytest.raises(StoreUnavailable) as caught:
                uow.customers.get("c1")
        cause = caught.value.__cause__
        assert cause is not None
        assert not isinstance(cause, psycopg.Error)
        assert "terminating connection" in str(cause)  # what the driver said, scrubbed
        assert SECRET not in _seen(caught.value)
    finally:
        store.close()


def test_a_bulk_write_refused_midway_leaves_none_of_its_rows(store: Store) -> None:
    # 100 rows: PostgreSQL sends them by COPY, SQLite by executemany; the driver meets the surrogate at the last.
    terms = ChargeTerms(Decimal("0.02"), Decimal("0.01"))
    many = [Installment(f"i{n:03}", "c1", date(2025, 3, 10), Money("1.00"), terms) for n in range(100)]
    many[-1] = attrs.evolve(many[-1], description="a\udc80")
    with store.unit_of_work() as uow:
        with pytest.raises(InvalidRow) as caught:
            uow.installments.put_many(many)
        assert (caught.value.table, caught.value.key, caught.value.column) == (
            "installments",
            "id='i099'",
            "description",
        )
        assert uow.installments.get_many([i.id for i in many]) == {}
