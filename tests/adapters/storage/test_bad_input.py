"""Bad input to the stores: a file that is not a database, a newer schema, rows edited by hand (DSNs:
test_postgres_dsn.py)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from carteira.adapters.storage import SCHEMA_VERSION, PostgresStore, SqliteStore
from carteira.domain.operations import Operation, OperationFilter, OperationKind
from carteira.errors import Conflict, InvalidInput, InvalidRow, SchemaVersionError, StoreUnavailable
from tests.adapters.storage.postgres_schema import empty, postgres_schema
from tests.support import POSTGRES_DSN

__all__ = ["postgres_schema"]


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    content = b"these are my notes, not a database\n" * 200
    path.write_bytes(content)
    store = SqliteStore(path)
    with pytest.raises(StoreUnavailable, match=r"is not a database.*point SqliteStore at a carteira database"):
        store.migrate()
    with pytest.raises(StoreUnavailable), store.unit_of_work():
        pass
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_a_folder_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="folder exists"):
        SqliteStore(tmp_path / "missing" / "carteira.db").migrate()


def test_a_store_never_migrated_says_to_migrate(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "new.db")
    with pytest.raises(SchemaVersionError, match=r"call store.migrate\(\) first") as raised, store.unit_of_work():
        pass
    assert raised.value.found is None


def test_a_sqlite_schema_newer_than_the_library_is_refused_and_nothing_written(tmp_path: Path) -> None:
    path = tmp_path / "carteira.db"
    SqliteStore(path).migrate()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, '2030-01-01')")
    before = _dump(path)
    store = SqliteStore(path)
    newer = rf"newer than the {SCHEMA_VERSION} this carteira understands.*Upgrade"
    with pytest.raises(SchemaVersionError, match=newer) as raised:
        store.migrate()
    assert (raised.value.found, raised.value.supported) == (99, SCHEMA_VERSION)
    with pytest.raises(SchemaVersionError), store.unit_of_work():
        pass
    assert _dump(path) == before


def _dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())


def test_a_schema_name_that_is_not_an_identifier_is_refused() -> None:
    with pytest.raises(InvalidInput, match="plain identifier"):
        PostgresStore(POSTGRES_DSN, schema="carteira; DROP TABLE x")


@pytest.mark.postgres
def test_a_postgres_schema_newer_than_the_library_is_refused_and_nothing_written(postgres_schema: str) -> None:
    empty(postgres_schema)
    store = PostgresStore(POSTGRES_DSN, schema=postgres_schema, max_size=2)
    try:
        store.migrate()
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as admin:
            admin.execute(f"INSERT INTO {postgres_schema}.schema_version VALUES (99, '2030-01-01')")
            newer = PostgresStore(POSTGRES_DSN, schema=postgres_schema, max_size=2)
            try:
                with pytest.raises(SchemaVersionError, match=f"newer than the {SCHEMA_VERSION}") as raised:
                    newer.migrate()
                assert raised.value.found == 99
                with pytest.raises(SchemaVersionError), newer.unit_of_work():
                    pass
            finally:
                newer.close()
            rows = admin.execute(f"SELECT version FROM {postgres_schema}.schema_version ORDER BY 1").fetchall()
            admin.execute(f"DELETE FROM {postgres_schema}.schema_version WHERE version = 99")
        assert rows == [*((version,) for version in range(1, SCHEMA_VERSION + 1)), (99,)]
    finally:
        store.close()


def test_an_in_memory_sqlite_path_is_refused_with_the_store_to_use() -> None:
    with pytest.raises(InvalidInput, match="MemoryStore"):
        SqliteStore(":memory:")


def test_a_row_changed_outside_carteira_is_named_not_a_bare_key_error(tmp_path: Path) -> None:
    from datetime import date
    from decimal import Decimal

    from carteira.domain import ChargeTerms, Installment, Money

    path = tmp_path / "carteira.db"
    store = SqliteStore(path)
    store.migrate()
    terms = ChargeTerms(Decimal("0.02"), Decimal("0.01"))
    with store.unit_of_work() as uow:
        uow.installments.put_many(
            [Installment(f"i{n}", "c1", date(2025, 3, 10), Money("10.00"), terms) for n in range(3)]
        )
        uow.commit()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE installments SET status = 'bogus' WHERE id = 'i1'")
    with store.unit_of_work() as uow:
        assert uow.installments.get("i0").id == "i0"
        with pytest.raises(InvalidRow, match="restore it from a backup") as caught:
            uow.installments.get_many(["i0", "i1", "i2"])
    assert (caught.value.table, caught.value.key, caught.value.column) == ("installments", "id='i1'", "status")
    assert caught.value.raw == "bogus"
    assert isinstance(caught.value.__cause__, (KeyError, ValueError))
    store.close()


# (column, value written by hand, the column named): each makes the row something carteira never writes.
_BAD_OPERATION_EDITS = [
    ("kind", "'teleport'", "kind"),
    ("created_at", "'2025-03-01 12:00:00'", "created_at"),  # no zone, and not the one width that sorts
    ("created_at", "'2025-03-01T09:00:00.000000-03:00'", "created_at"),  # not in UTC: it would sort wrongly
    ("warnings", "'[1, 2]'", "warnings"),
    ("arguments", "'[[\"due\"]]'", "arguments"),
    ("error_code", "'E1'", "error_message"),  # with no error_message: an error without its message
]


@pytest.mark.parametrize(("column", "value", "named"), _BAD_OPERATION_EDITS)
def test_an_operation_row_changed_outside_carteira_is_named(
    tmp_path: Path, column: str, value: str, named: str
) -> None:
    path = tmp_path / "carteira.db"
    store = SqliteStore(path)
    store.migrate()
    with store.unit_of_work() as uow:
        uow.operations.put(Operation("op-1", OperationKind.CANCEL, ("i1",), datetime(2025, 3, 1, 12, tzinfo=UTC)))
        uow.commit()
    with sqlite3.connect(path) as connection:
        # CHECK constraints hold for a hand edit too; the edit that breaks one is refused by SQLite itself.
        connection.execute("PRAGMA ignore_check_constraints = ON")
        connection.execute(f"UPDATE operations SET {column} = {value} WHERE id = 'op-1'")
    with store.unit_of_work() as uow, pytest.raises(InvalidRow, match="restore it from a backup") as caught:
        uow.operations.get("op-1")
    assert (caught.value.table, caught.value.key, caught.value.column) == ("operations", "id='op-1'", named)


def test_an_operation_without_its_document_rows_is_named(tmp_path: Path) -> None:
    path = tmp_path / "carteira.db"
    store = SqliteStore(path)
    store.migrate()
    with store.unit_of_work() as uow:
        uow.operations.put(Operation("op-1", OperationKind.CANCEL, ("i1",), datetime(2025, 3, 1, 12, tzinfo=UTC)))
        uow.commit()
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM operation_documents")
    with store.unit_of_work() as uow, pytest.raises(InvalidRow, match="must name at least one installment") as caught:
        uow.operations.find(OperationFilter())
    assert (caught.value.table, caught.value.key) == ("operations", "id='op-1'")


def test_document_rows_left_without_their_operation_make_a_new_one_a_conflict(tmp_path: Path) -> None:
    path = tmp_path / "carteira.db"
    store = SqliteStore(path)
    store.migrate()
    with sqlite3.connect(path) as connection:
        connection.execute("INSERT INTO operation_documents VALUES ('op-1', 0, 'i9')")
    created = datetime(2025, 3, 1, 12, tzinfo=UTC)
    with store.unit_of_work() as uow:
        with pytest.raises(Conflict, match="documents of this id without its operation") as caught:
            uow.operations.put(Operation("op-1", OperationKind.CANCEL, ("i1",), created))
        assert (caught.value.kind, caught.value.key) == ("operation", "op-1")
        with pytest.raises(Conflict):
            uow.commit()  # the unit is spoiled: nothing of it is kept
    with store.unit_of_work() as uow:
        assert uow.operations.get_many(["op-1"]) == {}
