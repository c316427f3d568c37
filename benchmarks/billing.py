"""A billing run through the outbox and the store against the same run with no store at all (issue #12).

2,000 billets, 50 ms of latency per gateway call, 32 threads over one EfiGateway. The store runs go
through ``portfolio.gateway.issue_billets``: the operations written PENDING in one unit, then
claimed, sent and recorded. The floor in the same run is ``EfiGateway.create_billets`` over the same
gateway with no store. Speed-up is measured against one thread sending billets one after the other;
the goal is 90 % of the ideal 32x on SQLite and PostgreSQL. Figures are medians of several rounds
(the machine is shared and noisy).

``--gateway remote`` (the default) answers as Efí does after 50 ms, doing no work of its own in
this process, as a gateway on the network does none; ``--gateway emulator`` runs the Efí emulator
in-process instead, whose validation and ledger then compete with the run for the interpreter.

    python benchmarks/billing.py [--rounds 3] [--billets 2000] [--stores memory,sqlite,postgres]
                                 [--gateway remote|emulator]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from postgres_schema import DSN, throwaway_schema  # benchmarks/ is on sys.path: they run as scripts

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
TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))


class RemoteEfi(httpx.BaseTransport):
    """Efí's answers to a token request and to one-step billets, each after ``LATENCY_S``, and nothing else.

    Thread-safe: the charge ids come from one counter, whose ``next`` holds the interpreter's lock.
    """

    def __init__(self) -> None:
        self._ids = itertools.count(1_000_001)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        time.sleep(LATENCY_S)
        if request.url.path.endswith("/authorize"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 600, "token_type": "Bearer"})
        body = json.loads(request.content)
        billet = body["payment"]["banking_billet"]
        total = sum(item["value"] * item.get("amount", 1) for item in body["items"])
        charge = next(self._ids)
        data = {
            "charge_id": charge,
            "status": "waiting",
            "total": total,
            "payment": "banking_billet",
            "barcode": f"36490.00001 00000.000000 {charge:011d} 3 13530000009990",
            "expire_at": billet["expire_at"],
            "link": f"https://efi.invalid/{charge}",
            "pdf": {"charge": f"https://efi.invalid/{charge}.pdf"},
        }
        return httpx.Response(200, json={"code": 200, "data": data})


@contextmanager
def efi(gateway: str = "remote") -> Iterator[EfiGateway]:
    """One gateway over a fresh remote Efí (or ``"emulator"``) with the latency on, warmed up (token, pool)."""
    if gateway == "remote":
        with EfiGateway("cid", "bench-secret", "sandbox", transport=RemoteEfi(), today=lambda: TODAY) as gw:
            gw.carnet_limits  # noqa: B018 - nothing to warm but the client
            yield gw
        return
    with EfiEmulator(client_id="cid", client_secret="bench-secret", today=TODAY) as emulator:
        emulator.latency_s = LATENCY_S
        with EfiGateway("cid", "bench-secret", "sandbox", transport=emulator.transport(), today=lambda: TODAY) as gw:
            gw.find_charges("warm-up")
            yield gw


def no_store_seconds(billets: int, threads: int, gateway: str = "remote") -> float:
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
    with efi(gateway) as efi_gateway:
        started = time.perf_counter()
        outcomes = efi_gateway.create_billets(requests, concurrency=threads)
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
    with throwaway_schema("bench_billing") as schema:
        store = PostgresStore(DSN, schema=schema, max_size=THREADS + 2)
        try:
            store.migrate()
            yield store
        finally:
            store.close()


def store_seconds(kind: str, billets: int, threads: int, gateway: str = "remote") -> float:
    """The billing run through the outbox and ``kind`` of store: write, claim, send, record."""
    with opened(kind) as store, efi(gateway) as efi_gateway:
        portfolio = Portfolio(store, gateway=efi_gateway, clock=FixedClock(TODAY), calendar=EveryDayCalendar())
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
    parser.add_argument("--gateway", choices=("remote", "emulator"), default="remote")
    args = parser.parse_args()
    gateway = args.gateway
    per_call = median(args.rounds, lambda: no_store_seconds(SEQUENTIAL, 1, gateway)) / SEQUENTIAL
    serial = per_call * args.billets
    print(
        f"billing benchmark: {args.billets} billets, {LATENCY_S * 1000:.0f} ms latency ({gateway}), {THREADS} threads, "
        f"median of {args.rounds} rounds"
    )
    print(f"  one thread, no store: {per_call * 1000:.1f} ms a billet ({serial:.1f} s for the run)")
    rows = [("no store (floor)", median(args.rounds, lambda: no_store_seconds(args.billets, THREADS, gateway)))]
    for kind in args.stores.split(","):
        rows.append(
            (f"outbox on {kind}", median(args.rounds, lambda k=kind: store_seconds(k, args.billets, THREADS, gateway)))
        )
    for name, seconds in rows:
        speedup = serial / seconds
        print(
            f"  {name:20s} {seconds:6.2f} s  {args.billets / seconds:7.1f} billets/s  speed-up {speedup:5.1f}x "
            f"= {speedup / THREADS:6.1%} of ideal {THREADS}x  ({seconds / rows[0][1]:.2f}x the floor's time)"
        )


if __name__ == "__main__":
    main()
