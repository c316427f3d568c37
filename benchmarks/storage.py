"""Rows per second to load 100,000 installments by key, settle them and save them back in one unit.

Measured on SQLite (a file in WAL mode) and PostgreSQL, each against a floor measured in the same
run: the same rows read and written with plain driver calls and no library code (``executemany``
on SQLite; ``= ANY``, COPY binary and a temporary-table ``UPDATE … FROM`` on PostgreSQL, the fastest
paths in ``reference/storage.md``). Every round starts from a fresh database seeded with the same
installments; figures are medians of the rounds. Settling (the domain's ``settle()``) is timed
apart, since the floor does no arithmetic.

The library leaves the garbage collector alone (decision 0500). With ``--caller-pause`` the library's
units (the seeding one, and the one that loads, settles and saves) run inside
``carteira.garbage_collection.paused_collection()``, as a night job that owns its process would hold
it; the floors run as they always do, so the two modes share one reference.

Run: ``python benchmarks/storage.py [--count 100000] [--rounds 3] [--skip-postgres] [--caller-pause]``
(the server is ``$CARTEIRA_TEST_POSTGRES``, by default ``postgresql://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from carteira.adapters.storage import PostgresStore, SqliteStore
from carteira.adapters.storage import rows as r
from carteira.adapters.storage.postgres import _codec as postgres_codec
from carteira.adapters.storage.sqlite import _codec as sqlite_codec
from carteira.domain import (
    ChargeTerms,
    EveryDayCalendar,
    Installment,
    Money,
    OutcomeKind,
    Payment,
    Settlement,
    SettlementPolicy,
    settle,
)
from carteira.garbage_collection import paused_collection
from carteira.ports.storage import Store

DSN = os.environ.get("CARTEIRA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
POLICY = SettlementPolicy(settle_beyond_tolerance=True)
CALENDAR = EveryDayCalendar()  # payments ten days late: no business-day rule applies
TERMS = (
    ChargeTerms(Decimal("0.02"), Decimal("0.01")),
    ChargeTerms(Decimal("0.02"), Decimal("0.0333"), grace_days=2),
)
KEYS_PER_QUERY = 10_000


def make_installments(count: int) -> list[Installment]:
    """``count`` open installments of 1,000 customers, due over a year, with bank title numbers."""
    start = date(2025, 1, 5)
    return [
        Installment(
            f"inst-{n:07}",
            f"cust-{n % 1_000:04}",
            start + timedelta(days=n % 365),
            Money.from_cents(5_000 + (n * 7_919) % 500_000),
            TERMS[n % 2],
            contract_id=f"contract-{n // 12:06}",
            number=1 + n % 12,
            description=f"parcela {1 + n % 12}/12",
            bank_title_number=f"{n:011}",
            document_number=f"DOC{n:08}",
            bank_contract="bank-001" if n % 3 else None,
        )
        for n in range(count)
    ]


def settle_all(installments: list[Installment]) -> tuple[list[Installment], list[Settlement]]:
    """A late payment of the face value on each (a partial settlement: fine and interest stay open, D4)."""
    settled: list[Installment] = []
    records: list[Settlement] = []
    for installment in installments:
        outcome = settle(
            installment, Payment(installment.amount, installment.due + timedelta(days=10)), POLICY, calendar=CALENDAR
        )
        if outcome.kind is OutcomeKind.REFUSED or outcome.settlement is None:
            raise SystemExit(f"benchmark data is wrong: {outcome.reason}")
        settled.append(outcome.installment)
        records.append(outcome.settlement)
    return settled, records


def timed(action: Callable[[], Any]) -> float:
    """Seconds ``action`` took."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


# -- the library's path -------------------------------------------------------------------------


def library_round(store: Store, seed: list[Installment], caller_pause: bool = False) -> dict[str, float]:
    """Seed with ``put_many``; then, in one unit, load by key, settle, save installments and settlements.

    With ``caller_pause`` each unit runs inside the caller's ``paused_collection()``.
    """
    times: dict[str, float] = {}
    ids = [i.id for i in seed]

    def pause() -> AbstractContextManager[object]:
        return paused_collection() if caller_pause else nullcontext()

    def insert() -> None:
        with pause(), store.unit_of_work() as uow:
            uow.installments.put_many(seed)
            uow.commit()

    times["insert"] = timed(insert)
    with pause(), store.unit_of_work() as uow:
        start = time.perf_counter()
        loaded = uow.installments.get_many(ids)
        times["load"] = time.perf_counter() - start
        start = time.perf_counter()
        settled, records = settle_all([loaded[key] for key in ids])
        times["settle"] = time.perf_counter() - start
        start = time.perf_counter()
        uow.installments.put_many(settled)
        uow.settlements.put_many(records)
        uow.commit()
        times["save"] = time.perf_counter() - start
    return times


# -- the floors: the same rows through the bare drivers -----------------------------------------


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def sqlite_floor_round(path: Path, seed_rows: list[r.Row], ids: list[str], updates: list[r.Row],
                       settlement_rows: list[r.Row]) -> dict[str, float]:  # fmt: skip
    """executemany INSERT, chunks of SELECT … IN, executemany UPDATE and INSERT, each in one transaction."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    times: dict[str, float] = {}
    columns = (*r.INSTALLMENTS.columns, "version")
    select = f"SELECT {', '.join(columns)} FROM installments WHERE id IN "
    set_columns = ", ".join(f"{c} = ?" for c in r.INSTALLMENTS.columns[1:])
    update = f"UPDATE installments SET {set_columns}, version = ? WHERE id = ?"

    def insert() -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(_insert_sql("installments", columns), seed_rows)
        conn.execute("COMMIT")

    times["insert"] = timed(insert)
    conn.execute("BEGIN IMMEDIATE")
    start = time.perf_counter()
    loaded = []
    for at in range(0, len(ids), KEYS_PER_QUERY):
        chunk = ids[at : at + KEYS_PER_QUERY]
        loaded.extend(conn.execute(select + f"({', '.join('?' * len(chunk))})", chunk).fetchall())
    times["load"] = time.perf_counter() - start
    start = time.perf_counter()
    conn.executemany(update, updates)
    conn.executemany(_insert_sql("settlements", (*r.SETTLEMENTS.columns, "version")), settlement_rows)
    conn.execute("COMMIT")
    times["save"] = time.perf_counter() - start
    conn.close()
    return times


def postgres_floor_round(schema: str, seed_rows: list[r.Row], ids: list[str], updates: list[r.Row],
                         settlement_rows: list[r.Row]) -> dict[str, float]:  # fmt: skip
    """COPY binary INSERT, one SELECT … = ANY, COPY binary into a temp table + UPDATE … FROM, COPY settlements."""
    times: dict[str, float] = {}
    columns = (*r.INSTALLMENTS.columns, "version")
    with psycopg.connect(DSN) as conn:
        conn.execute(f"SET search_path TO {schema}")
        conn.commit()
        types = dict(
            conn.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = 'installments'::regclass AND attnum > 0 AND NOT attisdropped"
            ).fetchall()
        )
        settlement_types = dict(
            conn.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = 'settlements'::regclass AND attnum > 0 AND NOT attisdropped"
            ).fetchall()
        )
        settlement_columns = (*r.SETTLEMENTS.columns, "version")

        def copy(table: str, names: tuple[str, ...], kinds: dict[str, str], data: list[r.Row]) -> None:
            with conn.cursor().copy(f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)") as cp:
                cp.set_types([kinds[n] for n in names])
                for row in data:
                    cp.write_row(row)

        def insert() -> None:
            copy("installments", columns, types, seed_rows)
            conn.commit()

        times["insert"] = timed(insert)
        start = time.perf_counter()
        conn.execute(f"SELECT {', '.join(columns)} FROM installments WHERE id = ANY(%s)", (ids,)).fetchall()
        times["load"] = time.perf_counter() - start
        start = time.perf_counter()
        names = ", ".join(columns)
        conn.execute(f"CREATE TEMP TABLE floor_update ON COMMIT DROP AS SELECT {names} FROM installments WITH NO DATA")
        copy("floor_update", columns, types, updates)
        conn.execute("ANALYZE floor_update")
        assignments = ", ".join(f"{c} = s.{c}" for c in columns[1:])
        conn.execute(f"UPDATE installments AS t SET {assignments} FROM floor_update AS s WHERE t.id = s.id")
        copy("settlements", settlement_columns, settlement_types, settlement_rows)
        conn.commit()
        times["save"] = time.perf_counter() - start
    return times


# -- the run ------------------------------------------------------------------------------------


def rows_for(codec: r.Codec, seed: list[Installment]) -> tuple[list[r.Row], list[r.Row], list[r.Row], list[r.Row]]:
    """The floor's rows, built before timing: seeds, SQLite-order updates, PostgreSQL-order updates, settlements."""
    settled, records = settle_all(seed)
    seed_rows = [(*r.INSTALLMENTS.to_row(i, codec), 1) for i in seed]
    full = [(*r.INSTALLMENTS.to_row(i, codec), 2) for i in settled]
    sqlite_updates = [(*row[1:], row[0]) for row in full]
    settlement_rows = [(*r.SETTLEMENTS.to_row(s, codec), 1) for s in records]
    return seed_rows, sqlite_updates, full, settlement_rows


def report(engine: str, count: int, library: list[dict[str, float]], floor: list[dict[str, float]]) -> list[str]:
    """Lines of the results table for one engine (medians over the rounds)."""

    def median(rounds: list[dict[str, float]], *keys: str) -> float:
        return statistics.median(sum(t[k] for k in keys) for t in rounds)

    lines = []
    for label, keys in (("insert (put_many)", ("insert",)), ("load by key", ("load",)), ("save (put_many × 2 + commit)",
                        ("save",)), ("load + save", ("load", "save"))):  # fmt: skip
        lib, flo = median(library, *keys), median(floor, *keys)
        lines.append(f"| {engine} | {label} | {count / lib:,.0f} | {count / flo:,.0f} | {lib / flo:.2f}x |")
    settle_s = statistics.median(t["settle"] for t in library)
    whole = median(library, "load", "settle", "save")
    lines.append(f"| {engine} | settle() alone (domain) | {count / settle_s:,.0f} | | |")
    lines.append(
        f"| {engine} | load + settle + save | {count / whole:,.0f} | {count / median(floor, 'load', 'save'):,.0f} "
        f"| {whole / median(floor, 'load', 'save'):.2f}x |"
    )
    return lines


def main() -> None:
    """Run the rounds and print a Markdown table of medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--caller-pause", action="store_true", help="run the library's units in paused_collection()")
    args = parser.parse_args()
    seed = make_installments(args.count)
    ids = [i.id for i in seed]
    lines = [
        "| engine | operation | library rows/s | floor rows/s | library / floor time |",
        "|---|---|---:|---:|---:|",
    ]

    seed_rows, updates, _, settlement_rows = rows_for(sqlite_codec(), seed)
    library: list[dict[str, float]] = []
    floor: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        for n in range(args.rounds):
            floor_store = SqliteStore(Path(folder) / f"floor-{n}.db")
            floor_store.migrate()
            floor.append(sqlite_floor_round(Path(folder) / f"floor-{n}.db", seed_rows, ids, updates, settlement_rows))
            store = SqliteStore(Path(folder) / f"library-{n}.db")
            store.migrate()
            library.append(library_round(store, seed, args.caller_pause))
    lines += report("SQLite", args.count, library, floor)

    if not args.skip_postgres:
        seed_rows, _, full, settlement_rows = rows_for(postgres_codec(), seed)
        library, floor = [], []
        admin = psycopg.connect(DSN, autocommit=True)
        for n in range(args.rounds):
            for kind in ("floor", "library"):
                schema = f"carteira_bench_{os.getpid()}_{secrets.token_hex(3)}_{kind}{n}"
                pg = PostgresStore(DSN, schema=schema, max_size=2)
                try:
                    pg.migrate()
                    if kind == "floor":
                        floor.append(postgres_floor_round(schema, seed_rows, ids, full, settlement_rows))
                    else:
                        library.append(library_round(pg, seed, args.caller_pause))
                finally:
                    pg.close()
                    admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()
        lines += report("PostgreSQL", args.count, library, floor)

    mode = "library units inside the caller's paused_collection()" if args.caller_pause else "collector left on"
    print(f"{args.count:,} installments, medians of {args.rounds} rounds; {mode}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
