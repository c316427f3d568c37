"""What each column holds (``rows.HOLDS``, decision 0347) is what the migrated schema says, on both engines.

A migration that adds or changes a column without its declaration, or a declaration that drifts from the
schema, fails here: the checks before a write and the names of a bad row read back both depend on it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from carteira.adapters.storage import PostgresStore, SqliteStore
from carteira.adapters.storage import columns as c
from carteira.adapters.storage import rows as r
from tests.adapters.storage.postgres_schema import empty, postgres_schema
from tests.support import POSTGRES_DSN

__all__ = ["postgres_schema"]

_POSTGRES_TYPE = {
    "text": "text",
    "a 32-bit whole number": "integer",
    "a 64-bit whole number": "bigint",
    "an amount in cents": "bigint",
    "a date": "date",
    "an instant": "timestamp with time zone",
    "a rate": "numeric",
    "a flag": "boolean",
    "JSON text": "text",
}


def _postgres_type(holds: c.Holds) -> str:
    return "text" if holds.kind.startswith("a value of ") else _POSTGRES_TYPE[holds.kind]


@pytest.mark.postgres
def test_every_column_is_declared_as_postgresql_has_it(postgres_schema: str) -> None:
    empty(postgres_schema)
    store = PostgresStore(POSTGRES_DSN, schema=postgres_schema, max_size=1)
    try:
        store.migrate()
        conn = store._getconn()
        try:
            for table, declared in r.HOLDS.items():
                found = conn.execute(
                    "SELECT attname, format_type(atttypid, atttypmod), NOT attnotnull FROM pg_attribute "
                    "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped AND attname <> 'seq'",
                    (table,),
                ).fetchall()
                schema = {str(name): (str(kind), bool(nullable)) for name, kind, nullable in found}
                expected = {name: (_postgres_type(holds), holds.nullable) for name, holds in declared.items()}
                assert expected == schema, table
            conn.rollback()
        finally:
            store._putconn(conn)
    finally:
        store.close()


def test_every_sqlite_table_is_declared_with_its_key(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "s.db").migrate()
    with sqlite3.connect(tmp_path / "s.db") as connection:
        names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table in names - {"schema_version", "sqlite_sequence"}:
            info = connection.execute(f"PRAGMA table_info({table})").fetchall()
            assert {row[1] for row in info} - {"seq"} == set(r.HOLDS[table]), table
            primary = tuple(row[1] for row in sorted(info, key=lambda row: row[5]) if row[5] and row[1] != "seq")
            assert primary in ((), r.KEYS[table]), table
            assert set(r.KEYS[table]) <= set(r.HOLDS[table])


def test_the_mappers_write_exactly_the_declared_columns() -> None:
    for table in (r.CUSTOMERS, r.INSTALLMENTS, r.SETTLEMENTS, r.OPERATIONS, r.SEEN_EVENTS, r.POSTINGS, r.BATCHES):
        assert set(table.columns) <= set(r.HOLDS[table.name])
    assert set(r.RECORD_COLUMNS) | {"version"} == set(r.HOLDS["batch_records"])
    assert set(r.ITEM_COLUMNS) == set(r.HOLDS["anticipated_installments"])
    assert set(r.DOCUMENT_COLUMNS) == set(r.HOLDS["operation_documents"])
