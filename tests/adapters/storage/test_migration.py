"""Migration 0002 on a store that holds version 1 data: the normalized number keys are filled from the rows."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import psycopg
import pytest

from carteira.adapters.storage import SCHEMA_VERSION, PostgresStore, SqliteStore
from carteira.adapters.storage.schema import migrations
from carteira.ports.storage import Store
from tests.adapters.storage.postgres_schema import postgres_schema
from tests.support import POSTGRES_DSN

__all__ = ["postgres_schema"]

# (id, bank title number, document number) as an ERP may have stored them under schema 1.
_ROWS = [
    ("i1", "000123", "\t0042 "),
    ("i2", "123", "42"),
    ("i3", "0000", "   "),
    ("i4", None, None),
    ("i5", "001 2", "A-1"),
]


def _v1_row(key: str, title: str | None, document: str | None, day: object) -> tuple[object, ...]:
    return (key, "c1", None, day, 10_000, 1, "", title, document, None, "0.02", "0.01", 0, "pro_rata",
            "fine_interest_principal", 10_000, 0, 0, False, None, "open", None, 0, 1)  # fmt: skip


def _insert_sql(marks: str) -> str:
    return (
        "INSERT INTO installments (id, customer_id, contract_id, due, amount_cents, number, description, "
        "bank_title_number, document_number, bank_contract, fine_rate, monthly_interest_rate, grace_days, "
        "interest_mode, imputation, principal_open_cents, fine_open_cents, interest_open_cents, fine_charged, "
        f"interest_from, status, latest_settlement_id, settlements_made, version) VALUES ({marks})"
    )


def _check_upgraded(store: Store) -> None:
    with store.unit_of_work() as uow:
        found = uow.installments
        assert [i.id for i in found.by_bank_title_numbers(["123"])] == ["i1", "i2"]
        assert [i.id for i in found.by_bank_title_numbers(["12"])] == []  # "001 2" keeps its inner blank
        assert [i.id for i in found.by_bank_title_numbers(["0 1 2"])] == ["i5"]
        assert [i.id for i in found.by_document_numbers(["0042"])] == ["i1", "i2"]
        assert found.by_bank_title_numbers(["0"]) == []
        assert found.get("i1").bank_title_number == "000123"
        assert found.get("i1").bank_transmission is None
        assert uow.return_batches.all() == []


def test_sqlite_version_1_data_is_upgraded_with_its_keys(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_on TEXT NOT NULL)")
        for statement in migrations("sqlite")[0][1]:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (1, '2026-01-01')")
        conn.executemany(_insert_sql(", ".join("?" * 24)), [_v1_row(*row, "2025-01-10") for row in _ROWS])
    store = SqliteStore(path)
    store.migrate()
    store.migrate()  # idempotent
    _check_upgraded(store)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone() == (SCHEMA_VERSION,)
        plan = " ".join(
            str(row[-1])
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM installments WHERE bank_title_number_key IN ('1', '2')"
            )
        )
    assert "installments_bank_title_key" in plan  # the finder reads an index, not the table


@pytest.mark.postgres
def test_postgres_version_1_data_is_upgraded_with_its_keys(postgres_schema: str) -> None:
    schema = f"{postgres_schema}_v1"
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.execute(f"CREATE SCHEMA {schema}")
        admin.execute(f"SET search_path TO {schema}")
        admin.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_on DATE NOT NULL)")
        for statement in migrations("postgres")[0][1]:
            admin.execute(statement)
        admin.execute("INSERT INTO schema_version VALUES (1, '2026-01-01')")
        with admin.cursor() as cursor:
            cursor.executemany(_insert_sql(", ".join(["%s"] * 24)), [_v1_row(*row, date(2025, 1, 10)) for row in _ROWS])
    store = PostgresStore(POSTGRES_DSN, schema=schema, max_size=2)
    try:
        store.migrate()
        _check_upgraded(store)
    finally:
        store.close()
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
