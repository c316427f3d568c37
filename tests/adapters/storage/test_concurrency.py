"""Two processes settle the same installment at once on PostgreSQL: one succeeds, one gets Conflict."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from carteira.adapters.storage import PostgresStore
from carteira.domain import Installment, InstallmentStatus, Money
from tests.adapters.storage.child import TERMS
from tests.adapters.storage.postgres_schema import empty, postgres_schema
from tests.support import POSTGRES_DSN, ROOT

__all__ = ["postgres_schema"]

pytestmark = pytest.mark.postgres


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
