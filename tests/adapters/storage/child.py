"""A process the crash and concurrency tests start, kill and race: ``python -m tests.adapters.storage.child``.

Usage: ``child.py <mode> <sqlite path | postgres schema>`` with mode one of:

- ``commit-loop``: commit units of ``UNIT_ROWS`` installments (ids ``u<n>-<k>``) forever, printing
  ``committed <n>`` after each;
- ``mid-unit``: commit unit 0, then write ``MID_UNIT_ROWS`` installments of unit 1, print ``MID`` and
  wait to be killed without committing;
- ``settle``: read installment ``i1``, print ``READ``, wait for a line on stdin, settle it in full
  and print ``OK`` or ``CONFLICT``.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from decimal import Decimal

from carteira.adapters.storage import PostgresStore, SqliteStore
from carteira.domain import ChargeTerms, EveryDayCalendar, Installment, Money, Payment, SettlementPolicy, settle
from carteira.errors import Conflict
from carteira.ports.storage import Store
from tests.support import POSTGRES_DSN

UNIT_ROWS = 2_000
MID_UNIT_ROWS = 30_000
TERMS = ChargeTerms(Decimal("0.02"), Decimal("0.01"))


def unit_rows(unit: int, count: int) -> list[Installment]:
    """The installments of unit ``unit``."""
    return [
        Installment(
            f"u{unit}-{k}",
            "c1",
            date(2025, 1, 10),
            Money.from_cents(10_000 + k),
            TERMS,
            bank_title_number=f"{unit:04}{k:08}",
            description="x" * 40,
        )
        for k in range(count)
    ]


def say(line: str) -> None:
    """Tell the parent how far this process got (one line, flushed at once)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def open_store(where: str) -> Store:
    """The store the parent named: a SQLite file path, or a PostgreSQL schema."""
    if where.endswith(".db"):
        return SqliteStore(where)
    return PostgresStore(POSTGRES_DSN, schema=where, max_size=2)


def main(mode: str, where: str) -> None:
    """Run ``mode`` against the store at ``where``."""
    store = open_store(where)
    if mode == "commit-loop":
        unit = 0
        while True:
            with store.unit_of_work() as uow:
                uow.installments.put_many(unit_rows(unit, UNIT_ROWS))
                uow.commit()
            say(f"committed {unit}")
            unit += 1
    elif mode == "mid-unit":
        with store.unit_of_work() as uow:
            uow.installments.put_many(unit_rows(0, UNIT_ROWS))
            uow.commit()
            uow.installments.put_many(unit_rows(1, MID_UNIT_ROWS))
            say("MID")
            time.sleep(60)
    elif mode == "settle":
        with store.unit_of_work() as uow:
            installment = uow.installments.get("i1")
            say("READ")
            sys.stdin.readline()
            outcome = settle(
                installment,
                Payment(Money("100.00"), date(2025, 1, 10)),
                SettlementPolicy(),
                calendar=EveryDayCalendar(),
            )
            assert outcome.settlement is not None, outcome.reason
            try:
                uow.installments.put(outcome.installment)
                uow.settlements.put(outcome.settlement)
                uow.commit()
            except Conflict:
                say("CONFLICT")
                return
        say("OK")
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
