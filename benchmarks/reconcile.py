"""Reconciling a bank return file end to end: import, auto-link and confirm, against a floor measured in the same run.

A CNAB 240 file (Banco do Brasil, ``bb-240``) of ``--titles`` payments is reconciled against
``--installments`` open installments (every tenth paid by the file by default, matched by bank title
number; the file prints the number with 17 digits, the ERP stored 11), on SQLite (a file in WAL
mode) and on PostgreSQL (a schema of its own, created and dropped). Nine in ten payments are on time
and pay the face value; one in ten is ten days late and pays the fine and the pro-rata interest
exactly (D2), with the bank's tariff. The setup (the installments through ``put_many``, the file
through ``carteira.testing.return_files.write_return_file``) is timed apart and not counted.

The library's three steps run as a clerk's night job would run them, each in a process of its own
(``Portfolio(store).returns.import_file``, ``.auto_link``, ``.confirm`` with its default chunks of
500): each child reports its wall time and its own peak RSS (``VmHWM``), so the setup's memory is
not counted. The floor runs in one more child, on a second database seeded the same way, and does
the same work with the bare tools, step by step: read and split the file's lines and slice the
fields (import), ``INSERT`` the batch and its records; one ``SELECT`` of the installments by the
normalized title number (``IN`` chunks on SQLite, ``= ANY`` on PostgreSQL), a dict lookup of each
record's number, ``UPDATE`` the records and ``INSERT`` their links (auto-link); the D2 arithmetic
inline on Decimals, then in the same number of transactions as the library's confirm (chunks of
``--chunk``), ``UPDATE`` the installments, ``INSERT`` the settlements and the record-settlement
rows, ``UPDATE`` the records, and the batch's status at the end (confirm). The drivers' bulk paths
are the fastest plain ones (``executemany`` on SQLite; COPY binary, and COPY into a temporary table
with one ``UPDATE … FROM`` on PostgreSQL). After both, the two databases are compared: the same
installments settled, the same settlement amounts, the same links.

With ``--caller-pause`` each library call runs inside ``carteira.garbage_collection.paused_collection()``,
as the ``carteira`` command does; the floor runs unpaused in both modes. At the issue's size one
round per store is what fits on a shared machine (about ten minutes a store with the setup); for a
quick look use ``--installments 200000 --titles 20000 --rounds 3`` (medians of the rounds).

Run: ``python benchmarks/reconcile.py [--installments 1000000] [--titles 100000] [--rounds 1]
[--store sqlite|postgres|both] [--caller-pause] [--profile FILE]`` (the server is
``$CARTEIRA_TEST_POSTGRES``, by default ``postgresql://postgres@127.0.0.1:5432/test``). ``--profile``
runs the library's three steps under cProfile, in their children, and writes one stats file each.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from carteira.adapters.calendar import BrazilBankingCalendar
from carteira.adapters.cnab import LAYOUTS
from carteira.adapters.storage import PostgresStore, SqliteStore
from carteira.domain import ChargeTerms, Installment, Money
from carteira.garbage_collection import paused_collection
from carteira.portfolio import Portfolio
from carteira.ports.storage import Store
from carteira.testing.return_files import TitleMovement, write_return_file

DSN = os.environ.get("CARTEIRA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
TERMS = (
    ChargeTerms(Decimal("0.02"), Decimal("0.01")),
    ChargeTerms(Decimal("0.02"), Decimal("0.0333"), grace_days=2),
)
LATE_DAYS = 10  # beyond both terms' grace; the due dates are business days, so late is late (D2)
TARIFF = Money("2.50")
PROCESS_DATE = date(2027, 3, 1)
SEED_CHUNK = 50_000
MEMORY_GOAL_MB = 400
RATIO_GOAL = 3.0
STEPS = ("import", "auto-link", "confirm")


# -- the data -----------------------------------------------------------------------------------


def business_days(count: int) -> list[date]:
    """The first ``count`` Brazilian banking days from 2026-01-05: due dates where late means late."""
    calendar = BrazilBankingCalendar()
    days, on = [], date(2026, 1, 5)
    while len(days) < count:
        if calendar.is_business_day(on):
            days.append(on)
        on += timedelta(days=1)
    return days


DUE_DATES = business_days(250)


def installment(n: int) -> Installment:
    """Open installment ``n`` of 10,000 customers, due on a business day, two bank contracts in three."""
    return Installment(
        f"inst-{n:07}",
        f"cust-{n % 10_000:05}",
        DUE_DATES[n % len(DUE_DATES)],
        Money.from_cents(5_000 + (n * 7_919) % 500_000),
        TERMS[n % 2],
        contract_id=f"contract-{n // 12:06}",
        number=1 + n % 12,
        description=f"parcela {1 + n % 12}/12",
        bank_title_number=f"{n:011}",
        document_number=f"DOC{n:08}",
        bank_contract="bank-001" if n % 3 else None,
    )


def paid_numbers(installments: int, titles: int) -> range:
    """Which installments the file pays: evenly spread over the portfolio."""
    step = installments // titles
    if step < 1:
        raise SystemExit("--titles cannot exceed --installments")
    return range(step - 1, step * titles, step)  # not installment 0: its number normalizes to nothing


def charges(item: Installment) -> Money:
    """Fine and pro-rata interest for ``LATE_DAYS`` days (D2), as the setup writes them into the file."""
    principal, terms = item.amount.amount, item.terms
    fine = (principal * terms.fine_rate).quantize(Decimal("0.01"), ROUND_HALF_UP)
    interest = (principal * terms.monthly_interest_rate * LATE_DAYS / 30).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return Money(fine + interest)


def movements(installments: int, titles: int) -> list[TitleMovement]:
    """The file's payments: nine in ten on the due date at face value, one in ten late with its charges."""
    found = []
    for index, n in enumerate(paid_numbers(installments, titles)):
        item = installment(n)
        late = index % 10 == 9
        extra = charges(item) if late else Money.ZERO
        paid_on = item.due + timedelta(days=LATE_DAYS if late else 0)
        found.append(
            TitleMovement(
                bank_title_number=f"{n:017}",
                document_number=item.document_number,
                due_date=item.due,
                face_value=item.amount,
                paid=item.amount + extra,
                interest_and_fine=extra,
                tariff=TARIFF,
                occurrence_date=paid_on,
                credit_date=paid_on + timedelta(days=1),
            )
        )
    return found


def return_file(installments: int, titles: int) -> bytes:
    """The file: ``write_return_file`` splits it into lots of ``TITLES_PER_LOT`` titles, as banks do."""
    return write_return_file("bb-240", movements(installments, titles), generated_on=PROCESS_DATE, agreement="1234567")


def seed(store: Store, count: int) -> None:
    """``count`` installments through ``put_many``, in units of ``SEED_CHUNK`` (so the setup's memory stays small)."""
    for start in range(0, count, SEED_CHUNK):
        with store.unit_of_work() as uow:
            uow.installments.put_many([installment(n) for n in range(start, min(start + SEED_CHUNK, count))])
            uow.commit()


# -- the children -------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's own peak RSS (``VmHWM``; ``ru_maxrss`` would carry a parent's over ``exec``)."""
    with open("/proc/self/status") as status:
        for row in status:
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) / 1024
    raise SystemExit("no VmHWM in /proc/self/status")


def open_store(where: str) -> Store:
    """A SQLite file path, or ``postgres:<schema>``."""
    if where.startswith("postgres:"):
        return PostgresStore(DSN, schema=where.removeprefix("postgres:"), max_size=2)
    return SqliteStore(where)


def library_child(step: str, where: str, file: str, batch_id: str, caller_pause: bool, profile: str) -> dict[str, Any]:
    """Run one library step on its own, as a night job would; its wall time and peak RSS."""
    store = open_store(where)
    returns = Portfolio(store).returns
    pause: AbstractContextManager[object] = paused_collection() if caller_pause else nullcontext()
    result: dict[str, Any] = {}

    def run() -> None:
        if step == "import":
            data = Path(file).read_bytes()
            batch = returns.import_file(data, description="bench", process_date=PROCESS_DATE, source="bench.ret")
            result["batch_id"] = batch.id
        elif step == "auto-link":
            report = returns.auto_link(batch_id)
            result["linked"], result["left_open"] = report.linked, len(report.left_open)
        else:
            confirmed = returns.confirm(batch_id)
            result["settled"], result["refused"] = confirmed.settled, len(confirmed.refused)
            result["status"] = confirmed.status.value

    start = time.perf_counter()
    with pause:
        if profile:
            import cProfile

            cProfile.runctx("run()", globals(), {"run": run}, f"{profile}.{step}")
        else:
            run()
    result["seconds"] = time.perf_counter() - start
    result["peak_mb"] = peak_rss_mb()
    store.close()
    return result


def child(args: list[str]) -> dict[str, Any]:
    """Run a step in a new Python process (this script with ``--child``) and read its JSON line."""
    done = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child {args[0]} failed:\n{done.stderr}")
    found: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return found


# -- the floor: the same work with the bare tools ------------------------------------------------

BB240 = {f.name: (f.start - 1, f.end) for f in LAYOUTS["bb-240"].fields}
CENT = Decimal("0.01")


class FloorDb:
    """The bare driver's statements the floor needs, on one connection; SQLite here, PostgreSQL below."""

    def __init__(self, where: str) -> None:
        self.conn = sqlite3.connect(where, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")  # as SqliteStore: a settlement must survive a crash
        self.conn.execute("BEGIN IMMEDIATE")

    @staticmethod
    def day(value: date) -> Any:
        return value.isoformat()

    @staticmethod
    def flag(value: bool) -> Any:
        return int(value)

    def select_in(self, sql: str, keys: Sequence[str]) -> list[Any]:
        rows: list[Any] = []
        for at in range(0, len(keys), 10_000):
            chunk = keys[at : at + 10_000]
            rows.extend(self.conn.execute(sql.replace("{IN}", f"IN ({', '.join('?' * len(chunk))})"), chunk))
        return rows

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        marks = ", ".join("?" * len(columns))
        self.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def update(self, table: str, columns: Sequence[str], keys: int, rows: Sequence[Sequence[Any]]) -> None:
        """Rows of the key columns (the first ``keys``) then the columns to set."""
        sets = ", ".join(f"{c} = ?{n}" for n, c in enumerate(columns[keys:], keys + 1))
        match = " AND ".join(f"{c} = ?{n}" for n, c in enumerate(columns[:keys], 1))
        self.conn.executemany(f"UPDATE {table} SET {sets} WHERE {match}", rows)

    def commit(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.execute("BEGIN IMMEDIATE")

    def close(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.close()


class PostgresFloorDb(FloorDb):
    """COPY binary for inserts, COPY into a temporary table and one ``UPDATE … FROM`` for updates."""

    def __init__(self, where: str) -> None:  # SQLite's __init__ is not called: another driver
        import psycopg

        self.conn = psycopg.connect(DSN)  # type: ignore[assignment]
        self.pg: Any = self.conn
        self.pg.execute(f"SET search_path TO {where}")
        kinds = self.pg.execute(
            "SELECT attrelid::regclass::text, attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid::regclass::text = ANY(%s) AND attnum > 0 AND NOT attisdropped",
            (["installments", "settlements", "batch_records", "batch_record_links", "batch_record_settlements",
              "return_batches"],),
        ).fetchall()  # fmt: skip
        self.types = {(table, name): kind for table, name, kind in kinds}
        self.pg.commit()

    @staticmethod
    def day(value: date) -> Any:
        return value

    @staticmethod
    def flag(value: bool) -> Any:
        return value

    def select_in(self, sql: str, keys: Sequence[str]) -> list[Any]:
        return list(self.pg.execute(sql.replace("{IN}", "= ANY(%s)"), (list(keys),)).fetchall())

    def _copy(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], kinds_of: str) -> None:
        with self.pg.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([self.types[(kinds_of, c)] for c in columns])
            for row in rows:
                copy.write_row(row)

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self._copy(table, columns, rows, table)

    def update(self, table: str, columns: Sequence[str], keys: int, rows: Sequence[Sequence[Any]]) -> None:
        names = ", ".join(columns)
        self.pg.execute(f"CREATE TEMP TABLE IF NOT EXISTS floor_{table} ON COMMIT DROP AS "
                        f"SELECT {names} FROM {table} WITH NO DATA")  # fmt: skip
        self._copy(f"floor_{table}", columns, rows, table)
        self.pg.execute(f"ANALYZE floor_{table}")
        sets = ", ".join(f"{c} = s.{c}" for c in columns[keys:])
        match = " AND ".join(f"t.{c} = s.{c}" for c in columns[:keys])
        self.pg.execute(f"UPDATE {table} AS t SET {sets} FROM floor_{table} AS s WHERE {match}")
        self.pg.execute(f"TRUNCATE floor_{table}")

    def commit(self) -> None:
        self.pg.commit()

    def close(self) -> None:
        self.pg.commit()
        self.pg.close()


def _cents(raw: bytes) -> int:
    return int(raw)


def _ddmmyyyy(raw: bytes) -> date | None:
    return None if raw.strip(b"0 ") == b"" else date(int(raw[4:8]), int(raw[2:4]), int(raw[0:2]))


RECORD_COLUMNS = (
    "batch_id", "line", "movement_code", "category", "is_settlement", "is_rejection", "bank_title_number",
    "document_number", "due_date", "face_value_cents", "paid_cents", "discount_cents", "abatement_cents",
    "interest_and_fine_cents", "tariff_cents", "other_credits_cents", "occurrence_date", "credit_date",
    "anticipation_id", "anticipation_rate", "payer_tax_id", "origin", "confirmed_once", "note", "version",
)  # fmt: skip
BATCH_COLUMNS = ("id", "description", "process_date", "source", "digest", "layout_id", "bank_code", "agreement",
                 "file_sequence", "record_count", "status", "warnings", "version")  # fmt: skip
SETTLEMENT_COLUMNS = (
    "id", "installment_id", "customer_id", "kind", "paid_cents", "paid_on", "credited_on", "principal_cents",
    "interest_cents", "fine_cents", "extra_charge_cents", "extra_discount_cents", "discount_cents",
    "abatement_cents", "credit_letter_amount_cents", "bank_charges_cents", "other_cents", "fine_accrued_cents",
    "interest_accrued_cents", "revenue_kind", "before_principal_open_cents", "before_fine_open_cents",
    "before_interest_open_cents", "before_fine_charged", "before_interest_from", "before_status",
    "before_latest_settlement_id", "credit_letter_id", "source_letter_id", "reversed_on", "batch_id", "batch_line",
    "version",
)  # fmt: skip
INSTALLMENT_UPDATE = ("id", "principal_open_cents", "fine_open_cents", "interest_open_cents", "fine_charged",
                      "interest_from", "status", "latest_settlement_id", "settlements_made", "bank_transmission",
                      "version")  # fmt: skip


def floor_import(db: FloorDb, file: str, batch_id: str) -> list[tuple[Any, ...]]:
    """Read and split the file, slice each T and U segment's fields, insert the batch and its records."""
    import hashlib

    data = Path(file).read_bytes()
    lines = data.splitlines()
    title, document, due, face = BB240["bank_title_number"], BB240["document_number"], BB240["due_date"], \
        BB240["face_value"]  # fmt: skip
    tariff, paid, charges_at = BB240["tariff"], BB240["paid"], BB240["interest_and_fine"]
    occurred, credited = BB240["occurrence_date"], BB240["credit_date"]
    day, no = db.day, db.flag(False)
    records = []
    for index, t in enumerate(lines):
        if t[7:8] != b"3" or t[13:14] != b"T":
            continue  # the header, lot headers and trailers; a U is read with its T
        u = lines[index + 1]
        occurrence = _ddmmyyyy(u[occurred[0] : occurred[1]])
        assert occurrence is not None
        credit = _ddmmyyyy(u[credited[0] : credited[1]])
        due_on = _ddmmyyyy(t[due[0] : due[1]])
        assert t[15:17] == b"06", "every title of the file is a settlement"
        assert credit is not None
        assert due_on is not None
        records.append((
            batch_id, index + 1, "06", "settled", db.flag(True), no, t[title[0] : title[1]].decode().rstrip(),
            t[document[0] : document[1]].decode().rstrip(), day(due_on), _cents(t[face[0] : face[1]]),
            _cents(u[paid[0] : paid[1]]), 0, 0, _cents(u[charges_at[0] : charges_at[1]]),
            _cents(t[tariff[0] : tariff[1]]), 0, day(occurrence), day(credit), None, None, None, None, no, "", 1,
        ))  # fmt: skip
    batch = (batch_id, "bench", day(PROCESS_DATE), "bench.ret", hashlib.sha256(data).hexdigest(), "bb-240", "001",
             None, None, len(records), "imported", "[]", 1)  # fmt: skip
    db.insert("return_batches", BATCH_COLUMNS, [batch])
    db.insert("batch_records", RECORD_COLUMNS, records)
    db.commit()
    return records


def floor_link(db: FloorDb, records: list[tuple[Any, ...]]) -> list[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """One SELECT of the installments by normalized title number, a dict lookup per record, the links written."""
    keys = [record[6].lstrip("0") for record in records]
    sql = ("SELECT bank_title_number_key, id, customer_id, due, amount_cents, fine_rate, monthly_interest_rate, "
           "grace_days, bank_contract FROM installments WHERE bank_title_number_key {IN}")  # fmt: skip
    by_key = {row[0]: row for row in db.select_in(sql, keys)}
    pairs = [(record, by_key[key]) for record, key in zip(records, keys, strict=True)]
    db.update("batch_records", ("batch_id", "line", "origin", "note", "version"), 2,
              [(r[0], r[1], "auto", "by bank title number", 2) for r, _ in pairs])  # fmt: skip
    db.insert("batch_record_links", ("batch_id", "line", "position", "installment_id"),
              [(r[0], r[1], 0, i[1]) for r, i in pairs])  # fmt: skip
    db.commit()
    return pairs


def floor_confirm(db: FloorDb, pairs: list[tuple[tuple[Any, ...], tuple[Any, ...]]], chunk: int) -> Decimal:
    """The D2 arithmetic inline on Decimals, and per chunk the installments, settlements and records written."""
    yes, no = db.flag(True), db.flag(False)
    rates: dict[Any, Decimal] = {}
    checksum = Decimal(0)
    for start in range(0, len(pairs), chunk):
        installments, settlements, records, settled = [], [], [], []
        for record, row in pairs[start : start + chunk]:
            _key, installment_id, customer, due, amount, fine_rate, interest_rate, grace, bank = row
            due = due if isinstance(due, date) else date.fromisoformat(due)
            paid_on = record[16] if isinstance(record[16], date) else date.fromisoformat(record[16])
            principal = Decimal(amount).scaleb(-2)
            paid = Decimal(record[10]).scaleb(-2)
            days = (paid_on - due).days
            if days > grace:  # due dates are business days: late is late (D2)
                fine_rate = rates.get(fine_rate) or rates.setdefault(fine_rate, Decimal(fine_rate))
                interest_rate = rates.get(interest_rate) or rates.setdefault(interest_rate, Decimal(interest_rate))
                fine = (principal * fine_rate).quantize(CENT, ROUND_HALF_UP)
                interest = (principal * interest_rate * days / 30).quantize(CENT, ROUND_HALF_UP)
            else:
                fine = interest = Decimal(0)
            expected = principal + fine + interest
            assert paid == expected  # the file pays exactly what is due: a full settlement, no letter
            checksum += principal + fine + interest
            settlement_id = f"{installment_id}/S1"
            late = fine > 0
            fine_c, interest_c = int(fine * 100), int(interest * 100)
            interest_from = record[16] if late else None  # a late settlement starts the interest again from its date
            installments.append(
                (installment_id, 0, 0, 0, db.flag(late), interest_from, "settled", settlement_id, 1, None, 2)
            )
            settlements.append((
                settlement_id, installment_id, customer, "full", record[10], record[16], record[17], amount,
                interest_c, fine_c, 0, 0, 0, 0, 0, record[14], 0, fine_c, interest_c,
                "cash" if bank is None else "bank", amount, 0, 0, no, None, "open", None, None, None, None,
                record[0], record[1], 1,
            ))  # fmt: skip
            records.append((record[0], record[1], yes, "", 3))
            settled.append((settlement_id, record[0], record[1], 0))
        db.update("installments", INSTALLMENT_UPDATE, 1, installments)
        db.insert("settlements", SETTLEMENT_COLUMNS, settlements)
        db.update("batch_records", ("batch_id", "line", "confirmed_once", "note", "version"), 2, records)
        db.insert("batch_record_settlements", ("settlement_id", "batch_id", "line", "position"), settled)
        db.commit()
    db.update("return_batches", ("id", "status", "version"), 1, [(pairs[0][0][0], "completed", 3)])
    db.commit()
    return checksum


def floor_child(where: str, file: str, batch_id: str, chunk: int) -> dict[str, Any]:
    """The floor's three steps in one process, each timed; its peak RSS."""
    db: FloorDb = PostgresFloorDb(where.removeprefix("postgres:")) if where.startswith("postgres:") else FloorDb(where)
    start = time.perf_counter()
    records = floor_import(db, file, batch_id)
    imported = time.perf_counter()
    pairs = floor_link(db, records)
    linked = time.perf_counter()
    checksum = floor_confirm(db, pairs, chunk)
    confirmed = time.perf_counter()
    db.close()
    return {
        "import": imported - start, "auto-link": linked - imported, "confirm": confirmed - linked,
        "checksum": str(checksum), "peak_mb": peak_rss_mb(),
    }  # fmt: skip


# -- the run ------------------------------------------------------------------------------------

COMPARED = (
    "SELECT id, principal_open_cents, fine_open_cents, interest_open_cents, fine_charged, interest_from, status, "
    "latest_settlement_id, settlements_made, bank_transmission FROM installments WHERE status = 'settled' ORDER BY id",
    f"SELECT {', '.join(SETTLEMENT_COLUMNS[:-3])}, batch_line FROM settlements ORDER BY id",
    "SELECT line, position, installment_id FROM batch_record_links ORDER BY line, position",
    "SELECT line, origin, confirmed_once, note FROM batch_records ORDER BY line",
    "SELECT status, record_count FROM return_batches",
)


def database_state(where: str) -> list[list[tuple[Any, ...]]]:
    """What the comparison looks at, read with the bare driver."""
    if where.startswith("postgres:"):
        import psycopg

        with psycopg.connect(DSN) as conn:
            conn.execute(f"SET search_path TO {where.removeprefix('postgres:')}")
            return [[tuple(row) for row in conn.execute(sql).fetchall()] for sql in COMPARED]
    conn = sqlite3.connect(where)
    try:
        return [[tuple(row) for row in conn.execute(sql).fetchall()] for sql in COMPARED]
    finally:
        conn.close()


class Databases:
    """The library's and the floor's databases for one round, seeded alike; removed at the end."""

    def __init__(self, engine: str, folder: Path, installments: int) -> None:
        self.engine = engine
        if engine == "sqlite":
            self.library, self.floor = str(folder / "library.db"), str(folder / "floor.db")
            store: Store = SqliteStore(self.library)
        else:
            tag = f"carteira_bench_{os.getpid()}_{secrets.token_hex(3)}"
            self.library, self.floor = f"postgres:{tag}_library", f"postgres:{tag}_floor"
            store = open_store(self.library)
        store.migrate()
        seed(store, installments)
        store.close()
        if engine == "sqlite":
            source, target = sqlite3.connect(self.library), sqlite3.connect(self.floor)
            source.backup(target)
            source.close()
            target.close()
        else:
            import psycopg

            floor = open_store(self.floor)
            floor.migrate()
            floor.close()
            with psycopg.connect(DSN) as conn:
                conn.execute(f"INSERT INTO {self.floor[9:]}.installments SELECT * FROM {self.library[9:]}.installments")
                # Both tables' statistics, as autovacuum would have gathered them for an ERP's long-lived table:
                # without them PostgreSQL scans the whole table for a chunk's title numbers (decision 0351).
                for where in (self.library, self.floor):
                    conn.execute(f"ANALYZE {where[9:]}.installments")

    def drop(self) -> None:
        """Drop the PostgreSQL schemas (the SQLite files go with the temporary folder)."""
        if self.engine == "postgres":
            import psycopg

            with psycopg.connect(DSN, autocommit=True) as conn:
                for where in (self.library, self.floor):
                    conn.execute(f"DROP SCHEMA IF EXISTS {where[9:]} CASCADE")


def one_round(engine: str, args: argparse.Namespace, file: Path, folder: Path) -> dict[str, Any]:
    """Seed both databases, run the library's steps and the floor in children, compare the databases."""
    start = time.perf_counter()
    dbs = Databases(engine, folder, args.installments)
    result: dict[str, Any] = {"setup": time.perf_counter() - start}
    try:
        batch_id = ""
        for step in STEPS:
            done = child(["library", step, dbs.library, str(file), batch_id, str(int(args.caller_pause)), args.profile])
            batch_id = done.get("batch_id", batch_id)
            result[step] = done
        result["floor"] = child(["floor", dbs.floor, str(file), batch_id, str(args.chunk)])
        confirmed = result["confirm"]
        if (result["auto-link"]["linked"], confirmed["settled"], confirmed["refused"]) != (args.titles,) * 2 + (0,):
            raise SystemExit(f"the library did not settle every title: {result}")
        library, floor = database_state(dbs.library), database_state(dbs.floor)
        for sql, ours, theirs in zip(COMPARED, library, floor, strict=True):
            if ours != theirs:
                wrong = next((a, b) for a, b in zip(ours, theirs, strict=False) if a != b) if ours and theirs else ()
                raise SystemExit(f"library and floor differ on {sql}: {len(ours)} / {len(theirs)} rows; {wrong}")
    finally:
        dbs.drop()
    return result


def report(engine: str, rounds: list[dict[str, Any]]) -> list[str]:
    """The table for one store: medians of the rounds, seconds, titles/s, ratio; peak RSS of each child."""
    titles = rounds[0]["titles"]

    def median(pick: Callable[[dict[str, Any]], float]) -> float:
        return statistics.median(pick(r) for r in rounds)

    lines = [
        f"| {engine} | library s | floor s | library titles/s | floor titles/s | library / floor | library peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for step in STEPS:
        lib, flo = median(lambda r, s=step: r[s]["seconds"]), median(lambda r, s=step: r["floor"][s])
        peak = max(r[step]["peak_mb"] for r in rounds)
        lines.append(f"| {step} | {lib:.2f} | {flo:.2f} | {titles / lib:,.0f} | {titles / flo:,.0f} | {lib / flo:.2f}x "
                     f"| {peak:.0f} MB |")  # fmt: skip
    lib = median(lambda r: sum(r[s]["seconds"] for s in STEPS))
    flo = median(lambda r: sum(r["floor"][s] for s in STEPS))
    peak = max(r[s]["peak_mb"] for r in rounds for s in STEPS)
    lines.append(f"| **total** | **{lib:.2f}** | **{flo:.2f}** | {titles / lib:,.0f} | {titles / flo:,.0f} "
                 f"| **{lib / flo:.2f}x** | **{peak:.0f} MB** |")  # fmt: skip
    floor_peak = max(r["floor"]["peak_mb"] for r in rounds)
    setup = median(lambda r: r["setup"])
    verdict = "met" if lib / flo <= RATIO_GOAL and peak < MEMORY_GOAL_MB else "NOT met"
    lines.append("")
    lines.append(f"floor peak RSS {floor_peak:.0f} MB; setup (seeding both databases) {setup:.0f} s, not counted; "
                 f"goal (within {RATIO_GOAL:.0f}x, under {MEMORY_GOAL_MB} MB): {verdict}")  # fmt: skip
    return lines


def main() -> None:
    """Parse the options (or run a child step) and print one table per store."""
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, *rest = sys.argv[2:]
        if kind == "library":
            step, where, file, batch_id, pause, profile = rest
            print(json.dumps(library_child(step, where, file, batch_id, pause == "1", profile)))
        else:
            where, file, batch_id, chunk = rest
            print(json.dumps(floor_child(where, file, batch_id, int(chunk))))
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--installments", type=int, default=1_000_000)
    parser.add_argument("--titles", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--chunk", type=int, default=500, help="the floor's confirm chunk (the library's default)")
    parser.add_argument("--caller-pause", action="store_true", help="run the library's calls in paused_collection()")
    parser.add_argument("--profile", default="", help="write cProfile stats of each library step to FILE.<step>")
    args = parser.parse_args()
    engines = ("sqlite", "postgres") if args.store == "both" else (args.store,)
    with tempfile.TemporaryDirectory(prefix="carteira-reconcile-") as name:
        folder = Path(name)
        start = time.perf_counter()
        file = folder / "bench.ret"
        file.write_bytes(return_file(args.installments, args.titles))
        written = time.perf_counter() - start
        mode = "library calls inside the caller's paused_collection()" if args.caller_pause else "collector left on"
        print(
            f"{args.titles:,} titles ({file.stat().st_size / 1e6:.1f} MB, written in {written:.0f} s) against "
            f"{args.installments:,} open installments; {args.rounds} round(s), medians; {mode}; wall time"
        )
        for engine in engines:
            rounds = []
            for n in range(args.rounds):
                round_folder = folder / f"{engine}-{n}"
                round_folder.mkdir()
                found = one_round(engine, args, file, round_folder)
                found["titles"] = args.titles
                rounds.append(found)
                shutil.rmtree(round_folder)
            print()
            print("\n".join(report("SQLite" if engine == "sqlite" else "PostgreSQL", rounds)))


if __name__ == "__main__":
    main()
