"""Upgrading a store that holds data of an older schema (1 to 6) to this library's.

Migration 0002 fills the normalized number keys from the rows; migration 0003 adds the gateway outbox
(account, operations and their documents, charges); migration 0004 the notification tokens; 0005 the
seen events and postings; 0006 the receipt's history code on settlements; 0007 a batch record's flags and
their acknowledgement. The upgraded store then keeps and finds them through their indexes.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import attrs
import psycopg
import pytest

from carteira.adapters.storage import SCHEMA_VERSION, PostgresStore, SqliteStore
from carteira.adapters.storage.schema import migrations
from carteira.domain import (
    ChargeTerms,
    EveryDayCalendar,
    Installment,
    Money,
    Payment,
    Settlement,
    SettlementPolicy,
    settle,
)
from carteira.domain.notifications import Notification, NotificationStatus, SeenEvent
from carteira.domain.operations import Operation, OperationFilter, OperationKind
from carteira.domain.postings import Posting, PostingKind
from carteira.errors import NotFound
from carteira.ports.storage import Store
from carteira.testing.contracts.storage import a_batch, a_record
from tests.adapters.storage.every_row import edited
from tests.adapters.storage.postgres_schema import postgres_schema
from tests.adapters.storage.targets import store_at, where
from tests.support import POSTGRES_DSN

__all__ = ["postgres_schema", "where"]

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

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
        assert uow.operations.find(OperationFilter()) == []
        assert uow.gateway_charges.of_carnet("carnet-1") == []
        with pytest.raises(NotFound):
            uow.gateway_account.get()
        assert uow.notifications.with_status(NotificationStatus.PENDING) == []
        stored = uow.operations.put(Operation("op-1", OperationKind.ISSUE_BILLET, ("i1",), T0))
        token = uow.notifications.put(Notification("9b1f-token", T0))
        assert uow.seen_events.flagged() == []
        assert uow.postings.of_settlement("s1") == []
        event = SeenEvent("9b1f-token", 1, "charge", "paid", T0, "c-1", flagged=True, note="never issued")
        posting = Posting("p-1", PostingKind.ENTRY, date(2025, 1, 10), Money.from_cents(1), "bank", "entries", "s1")
        uow.seen_events.add_many([event])
        uow.postings.add_many([posting])
        receipt = uow.settlements.put(_settlement_with_history("101"))
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.settlements.get(receipt.id) == receipt
        assert receipt.history == "101"
        assert uow.seen_events.flagged() == [event]
        assert uow.postings.find(on_from=date(2025, 1, 1), on_to=date(2025, 1, 31)) == [posting]
        assert uow.operations.of_documents(["i1"]) == [stored]
        assert uow.operations.due(T0 + timedelta(seconds=1), limit=5) == [stored]
        assert uow.notifications.due(T0, limit=5) == [token]


def _settlement_with_history(history: str) -> Settlement:
    """A settlement of an installment that is not stored (no foreign keys), its receipt under ``history``."""
    terms = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
    installment = Installment("g1", "c1", date(2025, 1, 10), Money("10.00"), terms)
    outcome = settle(installment, Payment(Money("10.00"), date(2025, 1, 10)), SettlementPolicy(),
                     calendar=EveryDayCalendar())  # fmt: skip
    assert outcome.settlement is not None
    return attrs.evolve(outcome.settlement, history=history)


def _statements_to(version: int, dialect: str) -> list[str]:
    """The statements of the migrations after the first, up to schema ``version``."""
    return [statement for _, statements in migrations(dialect)[1:version] for statement in statements]


@pytest.mark.parametrize("older", [1, 2, 3, 4, 5, 6])
def test_sqlite_older_data_is_upgraded_with_its_keys_and_an_outbox(tmp_path: Path, older: int) -> None:
    path = tmp_path / f"v{older}.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_on TEXT NOT NULL)")
        for statement in migrations("sqlite")[0][1]:
            conn.execute(statement)
        conn.executemany(_insert_sql(", ".join("?" * 24)), [_v1_row(*row, "2025-01-10") for row in _ROWS])
        for statement in _statements_to(older, "sqlite"):
            conn.execute(statement)
        conn.executemany("INSERT INTO schema_version VALUES (?, '2026-01-01')", [(n,) for n in range(1, older + 1)])
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


def test_sqlite_outbox_queries_read_their_indexes(tmp_path: Path) -> None:
    path = tmp_path / "plans.db"
    SqliteStore(path).migrate()
    columns = "id, created_at, status"
    queries = {
        "operations_due": f"SELECT {columns} FROM operations WHERE status IN ('pending', 'unknown') "
        "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY created_at, id LIMIT 10",
        "operations_created": f"SELECT {columns} FROM operations WHERE flagged = ? ORDER BY created_at DESC, id DESC",
        "operation_documents_installment": "SELECT operation_id FROM operation_documents WHERE installment_id = ?",
        "operations_sent": "SELECT COUNT(*) FROM operations WHERE kind = ? AND sent_at >= ?",
        "gateway_charges_charge": "SELECT installment_id FROM gateway_charges WHERE charge_id IN (?, ?)",
        "gateway_charges_carnet": "SELECT installment_id FROM gateway_charges WHERE carnet_id = ?",
    }
    with sqlite3.connect(path) as conn:
        for index, sql in queries.items():
            plan = " ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", [None] * sql.count("?")))
            assert f"INDEX {index}" in plan, (sql, plan)


def test_sqlite_notification_queries_read_their_indexes(tmp_path: Path) -> None:
    path = tmp_path / "notification-plans.db"
    SqliteStore(path).migrate()
    columns = "token, received_at, status"
    # due() may read either index: both hold pending tokens in received order (the partial one only them).
    queries = {
        f"SELECT {columns} FROM notifications WHERE status = 'pending' AND (next_attempt_at IS NULL "
        "OR next_attempt_at <= ?) ORDER BY received_at, token LIMIT 10": (
            "notifications_due",
            "notifications_received",
        ),
        f"SELECT {columns} FROM notifications WHERE status = ? ORDER BY received_at DESC, token DESC LIMIT 10": (
            "notifications_received",
        ),
    }
    with sqlite3.connect(path) as conn:
        for sql, indexes in queries.items():
            plan = " ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", [None] * sql.count("?")))
            assert any(f"INDEX {index}" in plan for index in indexes), (sql, plan)
            assert "TEMP B-TREE" not in plan, (sql, plan)  # the index gives the order: no sort


def test_sqlite_seen_event_and_posting_queries_read_their_indexes(tmp_path: Path) -> None:
    path = tmp_path / "payment-plans.db"
    SqliteStore(path).migrate()
    queries = {
        "SELECT token FROM seen_events WHERE token = ? ORDER BY event_id": "sqlite_autoindex_seen_events_1",
        "SELECT token FROM seen_events WHERE charge_id IN (?, ?)": "seen_events_charge",
        "SELECT token FROM seen_events WHERE flagged ORDER BY seen_at DESC, token DESC, event_id DESC LIMIT 10": (
            "seen_events_flagged"
        ),
        "SELECT id FROM postings WHERE settlement_id = ? ORDER BY seq": "postings_settlement",
        "SELECT id FROM postings WHERE on_date >= ? AND on_date <= ? AND account = ? ORDER BY on_date, id": (
            "postings_on"
        ),
    }
    with sqlite3.connect(path) as conn:
        for sql, index in queries.items():
            plan = " ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", [None] * sql.count("?")))
            assert f"INDEX {index}" in plan, (sql, plan)
            assert "TEMP B-TREE" not in plan, (sql, plan)  # the index gives the order: no sort


@pytest.mark.postgres
@pytest.mark.parametrize("older", [1, 2, 3, 4, 5, 6])
def test_postgres_older_data_is_upgraded_with_its_keys_and_an_outbox(postgres_schema: str, older: int) -> None:
    schema = f"{postgres_schema}_v{older}"
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.execute(f"CREATE SCHEMA {schema}")
        admin.execute(f"SET search_path TO {schema}")
        admin.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_on DATE NOT NULL)")
        for statement in migrations("postgres")[0][1]:
            admin.execute(statement)
        with admin.cursor() as cursor:
            cursor.executemany(_insert_sql(", ".join(["%s"] * 24)), [_v1_row(*row, date(2025, 1, 10)) for row in _ROWS])
        for statement in _statements_to(older, "postgres"):
            admin.execute(statement)
        for number in range(1, older + 1):
            admin.execute("INSERT INTO schema_version VALUES (%s, '2026-01-01')", (number,))
    store = PostgresStore(POSTGRES_DSN, schema=schema, max_size=2)
    try:
        store.migrate()
        _check_upgraded(store)
    finally:
        store.close()
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.mark.postgres
def test_postgres_tokens_order_by_code_point_whatever_the_database_collation(postgres_schema: str) -> None:
    schema = f"{postgres_schema}_collation"
    store = PostgresStore(POSTGRES_DSN, schema=schema, max_size=1)
    try:
        store.migrate()
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as admin:
            found = admin.execute(
                "SELECT collation_name FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = 'notifications' AND column_name = 'token'",
                (schema,),
            ).fetchone()
        assert found == ("C",)  # the test database's own collation may already be C: this is what shows it
    finally:
        store.close()
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_a_batch_record_stored_before_schema_7_reads_back_unflagged(where: str) -> None:
    """Migration 0007 gives the records already stored no flags and no acknowledgement (the file was never checked)."""
    store = store_at(where)
    store.migrate()
    record = a_record("b1", 1)
    with store.unit_of_work() as uow:
        uow.return_batches.add(a_batch("b1"), [record])
        uow.commit()
    with edited(store, where) as run:  # back to schema 6, the record's row kept
        for column in ("flags", "acknowledged_by", "acknowledged_at"):
            run(f"ALTER TABLE batch_records DROP COLUMN {column}")
        run("DELETE FROM schema_version WHERE version = 7")
    store.close()
    store = store_at(where)
    try:
        store.migrate()
        with store.unit_of_work() as uow:
            (loaded,) = uow.return_batches.records("b1")
        assert loaded == attrs.evolve(record, version=1)
        assert (loaded.flags, loaded.acknowledged_by, loaded.acknowledged_at) == ((), None, None)
    finally:
        store.close()
