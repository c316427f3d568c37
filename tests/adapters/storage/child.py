"""A process the crash and concurrency tests start, kill and race: ``python -m tests.adapters.storage.child``.

Usage: ``child.py <mode> <sqlite path | postgres schema>`` with mode one of:

- ``commit-loop``: commit units of ``UNIT_ROWS`` installments (ids ``u<n>-<k>``) forever, printing
  ``committed <n>`` after each;
- ``mid-unit``: commit unit 0, then write ``MID_UNIT_ROWS`` installments of unit 1, print ``MID`` and
  wait to be killed without committing;
- ``settle``: read installment ``i1``, print ``READ``, wait for a line on stdin, settle it in full
  and print ``OK`` or ``CONFLICT``.
- ``import <batch id>``: print ``READY``, wait for a line on stdin, add the file :func:`import_batch`
  describes as batch ``<batch id>`` with ``IMPORT_RECORDS`` records, hold the unit open a moment, commit
  and print ``OK``, or ``DUPLICATE <earlier batch id>``.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from decimal import Decimal

from carteira.domain import ChargeTerms, EveryDayCalendar, Installment, Money, Payment, SettlementPolicy, settle
from carteira.domain.return_batch import BatchRecord, ReturnBatch
from carteira.errors import Conflict, DuplicateImport
from carteira.ports.storage import Store
from tests.adapters.storage.targets import store_at

UNIT_ROWS = 2_000
MID_UNIT_ROWS = 30_000
TERMS = ChargeTerms(Decimal("0.02"), Decimal("0.01"))
IMPORT_RECORDS = 500
FILE_DIGEST = "5" * 64


def import_batch(batch_id: str) -> ReturnBatch:
    """The one return file both importing processes read: same digest, same bank, agreement and sequence."""
    return ReturnBatch(batch_id, "race", date(2025, 3, 3), "RET.txt", FILE_DIGEST, "cnab240", "001", "4567", 12,
                       IMPORT_RECORDS)  # fmt: skip


def import_records(batch_id: str) -> list[BatchRecord]:
    """The file's records as batch ``batch_id`` holds them."""
    return [
        BatchRecord(
            batch_id,
            line,
            "06",
            "settled",
            True,
            False,
            f"{line:012}",
            None,
            date(2025, 3, 1),
            Money("10.00"),
            Money("10.00"),
            None,
            None,
            None,
            None,
            None,
            date(2025, 3, 3),
            None,
        )
        for line in range(1, IMPORT_RECORDS + 1)
    ]


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
    return store_at(where)


def import_file(store: Store, batch_id: str) -> None:
    """Add the shared file as ``batch_id`` when the parent says go; say how it went."""
    say("READY")
    sys.stdin.readline()
    try:
        with store.unit_of_work() as uow:
            uow.return_batches.add(import_batch(batch_id), import_records(batch_id))
            time.sleep(0.2)  # hold the batch uncommitted, so that the other process's add meets it
            uow.commit()
    except DuplicateImport as exc:
        say(f"DUPLICATE {exc.earlier_batch_id}")
        return
    say("OK")


def main(mode: str, where: str, *extra: str) -> None:
    """Run ``mode`` against the store at ``where``."""
    store = open_store(where)
    if mode == "import":
        import_file(store, extra[0])
    elif mode == "commit-loop":
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
    main(sys.argv[1], sys.argv[2], *sys.argv[3:])
