"""Two processes at once: settling one installment on PostgreSQL (one succeeds, one gets Conflict); importing
one return file on PostgreSQL and SQLite (one batch is left, the other process gets DuplicateImport naming it)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from carteira.adapters.storage import PostgresStore, SqliteStore
from carteira.domain import Installment, InstallmentStatus, Money
from carteira.ports.storage import Store
from tests.adapters.storage.child import IMPORT_RECORDS, TERMS
from tests.adapters.storage.postgres_schema import empty, postgres_schema
from tests.support import POSTGRES_DSN, ROOT

__all__ = ["postgres_schema"]

IMPORT_TRIALS = 3


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
