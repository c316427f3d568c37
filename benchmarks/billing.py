"""A billing run through the outbox and the store against the same run with no store at all (issue #12).

2,000 billets, 50 ms of latency per gateway call (the Efí emulator's), 32 threads over one
EfiGateway. The store runs go through ``portfolio.gateway.issue_billets``: the operations written
PENDING in one unit, then claimed, sent and recorded (three units per billet). The floor in the same
run is ``EfiGateway.create_billets`` over the same emulator with no store. Speed-up is measured
against one thread sending billets one after the other; the goal is 90 % of the ideal 32x on SQLite
and PostgreSQL. Figures are medians of several rounds (the machine is shared and noisy).

    python benchmarks/billing.py [--rounds 3] [--billets 2000] [--stores memory,sqlite,postgres]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg

from carteira import Money, Portfolio
from carteira.adapters.efi import EfiGateway
from carteira.adapters.storage import MemoryStore, PostgresStore, SqliteStore
from carteira.domain import ChargeTerms, Customer, EveryDayCalendar, Installment
from carteira.domain.operations import Environment, GatewayAccount
from carteira.ports.gateway import BilletRequest, Item, Payer
from carteira.ports.storage import Store
from carteira.testing.clock import FixedClock
from carteira.testing.efi_emulator import EfiEmulator

LATENCY_S = 0.05
THREADS = 32
SEQUENTIAL = 100
TODAY = date(2026, 1, 10)
DSN = "postgresql://postgres@127.0.0.1:5432/test"
TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))


@contextmanager
def efi() -> Iterator[EfiGateway]:
    """A fresh emulator with the latency on, and one gateway over it, warmed up (token, pool)."""
    with EfiEmulator(client_id="cid", client_secret="bench-secret", today=TODAY) as emulator:
        emulator.latency_s = LATENCY_S
        with EfiGateway("cid", "bench-secret", "sandbox", transport=emulator.transport(), today=lambda: TODAY) as gw:
            gw.find_charges("warm-up")
            yield gw


def no_store_seconds(billets: int, threads: int) -> float:
    """The floor: the adapter's own concurrent run, nothing stored."""
    payer = Payer("Maria da Silva", "529.982.247-25", email="maria@example.com", phone="11987654321")
    requests = [
        BilletRequest(
            items=(Item(f"Internet {i}", Money("99.90")),),
            payer=payer,
            due=TODAY + timedelta(days=30),
            operation_id=uuid.uuid4().hex,
        )
        for i in range(billets)
    ]
    with efi() as gateway:
        started = time.perf_counter()
        outcomes = gateway.create_billets(requests, concurrency=threads)
        elapsed = time.perf_counter() - started
    assert all(outcome.ok for outcome in outcomes)
    return elapsed


@contextmanager
def opened(kind: str) -> Iterator[Store]:
    """A new, migrated, empty store of ``kind``."""
    if kind == "memory":
        yield MemoryStore()
        return
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            store = SqliteStore(Path(folder) / "bench.db")
            store.migrate()
            yield store
            store.close()
        return
    schema = f"bench_billing_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(DSN, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    store = PostgresStore(DSN, schema=schema, max_size=THREADS + 2)
    try:
        store.migrate()
        yield store
    finally:
        store.close()
        with psycopg.connect(DSN, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def store_seconds(kind: str, billets: int, threads: int) -> float:
    """The billing run through the outbox and ``kind`` of store: write, claim, send, record."""
    with opened(kind) as store, efi() as gateway:
        portfolio = Portfolio(store, gateway=gateway, clock=FixedClock(TODAY), calendar=EveryDayCalendar())
        portfolio.gateway.configure(
            GatewayAccount("cid", Environment.SANDBOX, "wallet", "0", "itau", Money("2.50"), "101", "201", "301")
        )
        with store.unit_of_work() as uow:
            uow.customers.put(Customer("c1", "Maria da Silva", tax_id="52998224725", phone="11987654321"))
            uow.installments.put_many(
                [
                    Installment(
                        f"i{n}",
                        "c1",
                        TODAY + timedelta(days=30),
                        Money("99.90"),
                        TERMS,
                        bank_contract="wallet",
                        description=f"Internet {n}",
                    )
                    for n in range(billets)
                ]
            )
            uow.commit()
        started = time.perf_counter()
        run = portfolio.gateway.issue_billets([f"i{n}" for n in range(billets)], concurrency=threads)
        elapsed = time.perf_counter() - started
    assert run.report.sent == billets, run.report
    return elapsed


def median(rounds: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--billets", type=int, default=2_000)
    parser.add_argument("--stores", default="memory,sqlite,postgres")
    args = parser.parse_args()
    per_call = median(args.rounds, lambda: no_store_seconds(SEQUENTIAL, 1)) / SEQUENTIAL
    serial = per_call * args.billets
    print(
        f"billing benchmark: {args.billets} billets, {LATENCY_S * 1000:.0f} ms latency, {THREADS} threads, "
        f"median of {args.rounds} rounds"
    )
    print(f"  one thread, no store: {per_call * 1000:.1f} ms a billet ({serial:.1f} s for the run)")
    rows = [("no store (floor)", median(args.rounds, lambda: no_store_seconds(args.billets, THREADS)))]
    for kind in args.stores.split(","):
        rows.append((f"outbox on {kind}", median(args.rounds, lambda k=kind: store_seconds(k, args.billets, THREADS))))
    for name, seconds in rows:
        speedup = serial / seconds
        print(
            f"  {name:20s} {seconds:6.2f} s  {args.billets / seconds:7.1f} billets/s  speed-up {speedup:5.1f}x "
            f"= {speedup / THREADS:6.1%} of ideal {THREADS}x  ({seconds / rows[0][1]:.2f}x the floor's time)"
        )


if __name__ == "__main__":
    main()
