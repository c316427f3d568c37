"""Payments by notification on PostgreSQL: worker processes against the gateway's latency, and the store's cost (#13).

``--notifications`` paid-charge notification tokens (10,000) are stored pending, each for its own
open installment with its billet at the gateway. Then 1, 2 and 4 ``carteira worker --once``
processes (the installed command's code, run through ``carteira.adapters.cli.app.run`` with a
``Wiring`` whose gateway is the stand-in below) share them on one PostgreSQL schema: each token's
events are fetched with ``--latency-ms`` (50) of waiting, and its payment is settled with its entry
and fee postings. Printed: notifications per second for each number of workers and the speed-up
over one (goal: 4 workers at least 3.5x one, since the work waits on the gateway, not the CPU).
Each worker also reports, from ``/proc/self/schedstat``, its CPU time and its time waiting for a
CPU (runnable, not running) per notification; on a 2-core machine the second grows with workers.

The gateway stand-in (``RemoteEfi``) answers ``notification_events`` as Efí would after the
latency, computing the two events of a paid billet (waiting, then paid with its value and the
bank's date) from the token: no HTTP, no JSON, no emulator in the worker's interpreter, as a
gateway on the network costs the worker nothing but the wait. The Efí adapter's own cost is
``benchmarks/gateway.py``'s (decision 0715).

The store's cost, against a floor in the same run: one worker with no latency processes
``--store-notifications`` tokens (2,000), and the bare driver (psycopg, one connection) writes the
same rows on a second schema seeded the same way, as a hand-written worker would: a claim of ten
(``UPDATE … WHERE token IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``) and its commit, then per
token one read of the charge and its installment, the settlement, the two postings, the
installment, the charge, the two seen events, the token, and the commit; the values are the ones
the library wrote, read back from the first schema (the floor does no arithmetic and builds no
record). The goal: the library within 3x of the floor's time per notification. ``--trips`` also
counts the round trips to the server per notification (``ReadyForQuery`` messages in libpq's trace)
of both.

Run: ``python benchmarks/notifications.py [--notifications 10000] [--latency-ms 50] [--workers 1,2,4]
[--rounds 1] [--store-notifications 2000] [--store-rounds 3] [--trips] [--quick]`` (the server is
``$CARTEIRA_TEST_POSTGRES``, by default ``postgresql://postgres@127.0.0.1:5432/test``). ``--quick``
runs tiny sizes (20 notifications, 1 ms, 1 and 2 workers) to check the script works. A round at
10,000 takes about ten minutes of one worker's waiting alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from postgres_schema import DSN, throwaway_schema  # benchmarks/ is on sys.path: they run as scripts
from psycopg.conninfo import make_conninfo

from carteira import Money, Portfolio
from carteira.adapters.storage import PostgresStore
from carteira.domain import ChargeTerms, Installment
from carteira.domain.notifications import Notification
from carteira.domain.operations import Environment, GatewayAccount, GatewayCharge
from carteira.ports.gateway import ChargeStatus, EventKind, NotificationEvent
from carteira.testing.fake_gateway import FakeGateway

FEE = Money("2.45")
ACCOUNT = GatewayAccount("cid", Environment.SANDBOX, "wallet", "0", "itau-77", FEE, "101", "201", "301")
TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
FIRST_DUE = date(2027, 2, 1)
SPEEDUP_GOAL = 3.5
STORE_GOAL = 3.0
CLAIM = 10  # as Payments.process claims


# -- the data: every value follows from the notification's number ---------------------------------------------


def token(n: int) -> str:
    return f"tok-{n:06d}"


def charge_id(n: int) -> str:
    return str(1_000_001 + n)


def amount(n: int) -> Money:
    return Money.from_cents(5_000 + (n * 7_919) % 500_000)


def due(n: int) -> date:
    return FIRST_DUE + timedelta(days=n % 60)


def paid_on(n: int) -> date:
    """A few days before the due date: on time, the face value settles in full (D2-D5)."""
    return due(n) - timedelta(days=3)


class RemoteEfi(FakeGateway):
    """The gateway as a worker sees it over the network: ``notification_events`` waits ``latency_s`` and answers the
    events of token ``tok-NNNNNN``'s billet (waiting, then paid in full), using no CPU for the wait."""

    def __init__(self, latency_s: float) -> None:
        super().__init__(today=FIRST_DUE)
        self._latency_s = latency_s

    def notification_events(self, token: str) -> list[NotificationEvent]:
        """The two events of the billet behind ``token``, after the latency."""
        time.sleep(self._latency_s)
        n = int(token.removeprefix("tok-"))
        at = datetime.combine(paid_on(n), clock_time(9, 0), tzinfo=UTC)
        common: dict[str, Any] = {"token": token, "kind": EventKind.CHARGE, "operation_id": f"op-{n}",
                                  "charge_id": charge_id(n), "carnet_id": None}  # fmt: skip
        return [
            NotificationEvent(
                event_id=1,
                status=ChargeStatus.WAITING,
                previous_status=ChargeStatus.NEW,
                created_at=at - timedelta(days=20),
                **common,
            ),
            NotificationEvent(
                event_id=2,
                status=ChargeStatus.PAID,
                previous_status=ChargeStatus.WAITING,
                created_at=at,
                paid_value=amount(n),
                paid_on=paid_on(n),
                **common,
            ),
        ]


@contextmanager
def schema(count: int) -> Iterator[str]:
    """A new schema, migrated, holding ``count`` open installments, their billets and their pending tokens."""
    with throwaway_schema("bench_notify") as name:
        store = PostgresStore(DSN, schema=name, max_size=2)
        try:
            store.migrate()
            seed(store, count)
        finally:
            store.close()
        yield name


def seed(store: PostgresStore, count: int) -> None:
    """The account, then ``count`` installments, charges and tokens, in units of 1,000 (COPY for the first two)."""
    Portfolio(store, gateway=RemoteEfi(0)).gateway.configure(ACCOUNT)
    received = datetime.now(UTC) - timedelta(minutes=1)
    for start in range(0, count, 1_000):
        numbers = range(start, min(count, start + 1_000))
        with store.unit_of_work() as uow:
            uow.installments.put_many(
                [Installment(f"i{n}", f"c{n}", due(n), amount(n), TERMS, bank_contract="wallet") for n in numbers]
            )
            uow.gateway_charges.put_many(
                [GatewayCharge(f"i{n}", f"op-{n}", charge_id(n), due(n), amount(n)) for n in numbers]
            )
            for n in numbers:
                uow.notifications.put(Notification(token(n), received + timedelta(microseconds=n)))
            uow.commit()


def dsn_of(name: str) -> str:
    return make_conninfo(DSN, options=f"-csearch_path={name}")


def audit(name: str, count: int) -> None:
    """Every token processed, every installment settled once with one entry and one fee: else the run is void."""
    with psycopg.connect(dsn_of(name)) as conn:
        found = conn.execute(
            "SELECT (SELECT count(*) FROM notifications WHERE status = 'processed'), "
            "(SELECT count(DISTINCT installment_id) FROM settlements), (SELECT count(*) FROM settlements), "
            "(SELECT count(*) FROM postings), (SELECT count(*) FROM seen_events WHERE NOT flagged), "
            "(SELECT count(*) FROM gateway_charges WHERE state = 'paid')"
        ).fetchone()
    expected = (count, count, count, 2 * count, 2 * count, count)
    if found != expected:
        raise SystemExit(f"the run did not settle each payment once: {found}, expected {expected}")


# -- the children ---------------------------------------------------------------------------------------------


def schedstat() -> tuple[int, int]:
    """This process's CPU time and time waiting for a CPU so far, in ns (the kernel's ``schedstat``)."""
    with open("/proc/self/schedstat") as stat:
        on_cpu, waiting, _ = stat.read().split()
    return int(on_cpu), int(waiting)


@contextmanager
def traced(trace: str) -> Iterator[None]:
    """With ``trace`` a file name: every connection the store opens writes libpq's protocol trace there."""
    if not trace:
        yield
        return
    with open(trace, "w") as out:
        original = PostgresStore._getconn

        def getconn(store: PostgresStore) -> Any:
            conn = original(store)
            if not getattr(conn, "_bench_traced", False):
                conn.pgconn.trace(out.fileno())
                conn._bench_traced = True  # type: ignore[attr-defined]
            return conn

        PostgresStore._getconn = getconn  # type: ignore[method-assign]
        try:
            yield
        finally:
            PostgresStore._getconn = original  # type: ignore[method-assign]


def worker_child(name: str, latency_s: float, trace: str) -> dict[str, Any]:
    """``carteira worker --once --json`` over the stand-in gateway, once the parent says go; its figures."""
    from carteira.adapters.cli.app import run
    from carteira.adapters.cli.wiring import Wiring

    wiring = Wiring(open_gateway=lambda account, *, today: RemoteEfi(latency_s))
    os.environ["CARTEIRA_STORE"] = dsn_of(name)
    print("ready", flush=True)
    sys.stdin.readline()
    cpu, waited = schedstat()
    started = time.time()
    with traced(trace), open(os.devnull, "w") as quiet:
        saved, sys.stdout = sys.stdout, quiet
        try:
            run(["worker", "--once", "--json"], wiring=wiring)
        except SystemExit as exit:
            if exit.code not in (0, None):
                raise
        finally:
            sys.stdout = saved
    ended = time.time()
    cpu_end, waited_end = schedstat()
    return {"started": started, "ended": ended, "cpu_s": (cpu_end - cpu) / 1e9, "wait_s": (waited_end - waited) / 1e9}


def floor_child(name: str, source: str, trace: str) -> dict[str, Any]:
    """The bare driver's statements for the rows the library wrote in ``source``, on the tokens of ``name``."""
    with psycopg.connect(dsn_of(source)) as conn:
        rows = {table: conn.execute(f"SELECT * FROM {table}").fetchall() for table in WRITTEN}
        columns = {table: [c.name for c in conn.execute(f"SELECT * FROM {table} LIMIT 0").description or ()]
                   for table in WRITTEN}  # fmt: skip
    plan = Floor(rows, columns)
    with psycopg.connect(dsn_of(name)) as conn:
        if trace:
            out = open(trace, "w")  # noqa: SIM115 - open for the connection's life
            conn.pgconn.trace(out.fileno())
        print("ready", flush=True)
        sys.stdin.readline()
        started = time.time()
        plan.run(conn)
        ended = time.time()
    return {"started": started, "ended": ended, "cpu_s": 0.0, "wait_s": 0.0}


WRITTEN = ("settlements", "postings", "installments", "gateway_charges", "seen_events", "notifications")

FLOOR_CLAIM = (
    "UPDATE notifications SET attempts = attempts + 1, next_attempt_at = now() + interval '2 minutes', "
    "version = version + 1 WHERE token IN (SELECT token FROM notifications WHERE status = 'pending' AND "
    "(next_attempt_at IS NULL OR next_attempt_at <= now()) ORDER BY received_at, token LIMIT %s "
    "FOR UPDATE SKIP LOCKED) RETURNING token"
)
FLOOR_READ = (
    "SELECT c.installment_id, c.state, c.version, i.status, i.version FROM gateway_charges c "
    "JOIN installments i ON i.id = c.installment_id WHERE c.charge_id = %s"
)


class Floor:
    """The rows to write per token, by token, and the statements that write them (plain ``execute``s)."""

    def __init__(self, rows: dict[str, list[tuple[Any, ...]]], columns: dict[str, list[str]]) -> None:
        self.columns = {table: [c for c in names if c != "seq"] for table, names in columns.items()}
        keep = {table: [i for i, c in enumerate(names) if c != "seq"] for table, names in columns.items()}

        def by(table: str, key: str) -> dict[Any, list[tuple[Any, ...]]]:
            index = columns[table].index(key)
            found: dict[Any, list[tuple[Any, ...]]] = {}
            for row in rows[table]:
                found.setdefault(row[index], []).append(tuple(row[i] for i in keep[table]))
            return found

        self.settlements = by("settlements", "installment_id")
        self.postings = by("postings", "settlement_id")
        self.installments = by("installments", "id")
        self.charges = by("gateway_charges", "charge_id")
        self.seen = by("seen_events", "token")
        self.notifications = by("notifications", "token")

    def insert(self, table: str, count: int) -> str:
        names = self.columns[table]
        row = f"({', '.join(['%s'] * len(names))})"
        return f"INSERT INTO {table} ({', '.join(names)}) VALUES {', '.join([row] * count)}"

    def update(self, table: str, key: str) -> str:
        names = self.columns[table]
        return f"UPDATE {table} SET ({', '.join(names)}) = ({', '.join(['%s'] * len(names))}) WHERE {key} = %s"

    def run(self, conn: psycopg.Connection[Any]) -> None:
        settle, post, seen = self.insert("settlements", 1), self.insert("postings", 2), self.insert("seen_events", 2)
        installment, charge = self.update("installments", "id"), self.update("gateway_charges", "installment_id")
        notification = self.update("notifications", "token")
        while True:
            claimed = [row[0] for row in conn.execute(FLOOR_CLAIM, (CLAIM,)).fetchall()]
            conn.commit()
            if not claimed:
                return
            for held in claimed:
                n = int(held.removeprefix("tok-"))
                installment_id = conn.execute(FLOOR_READ, (charge_id(n),)).fetchall()[0][0]
                (settlement,) = self.settlements[installment_id]
                conn.execute(settle, settlement)
                conn.execute(post, [value for row in self.postings[settlement[0]] for value in row])
                conn.execute(installment, (*self.installments[installment_id][0], installment_id))
                conn.execute(charge, (*self.charges[charge_id(n)][0], installment_id))
                conn.execute(seen, [value for row in self.seen[held] for value in row])
                conn.execute(notification, (*self.notifications[held][0], held))
                conn.commit()


def child(argv: Sequence[str]) -> None:
    """The ``--child`` entry point: ``worker NAME LATENCY_S TRACE`` or ``floor NAME SOURCE TRACE``."""
    kind, name, extra, trace = argv
    found = worker_child(name, float(extra), trace) if kind == "worker" else floor_child(name, extra, trace)
    print(json.dumps(found), flush=True)


# -- the parent -----------------------------------------------------------------------------------------------


def spawn(count: int, args: Callable[[int], list[str]]) -> list[dict[str, Any]]:
    """``count`` children, started together once every one is ready (imports and connections do not count)."""
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", *args(k)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for k in range(count)
    ]
    for process in children:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
    for process in children:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    found = []
    for process in children:
        out, _ = process.communicate(timeout=7_200)
        if process.returncode != 0:
            raise SystemExit(f"a child failed ({process.returncode})")
        found.append(json.loads(out.strip().splitlines()[-1]))
    return found


def span(figures: Sequence[dict[str, Any]]) -> float:
    return max(f["ended"] for f in figures) - min(f["started"] for f in figures)


def workers_run(count: int, workers: int, latency_s: float) -> dict[str, float]:
    """``workers`` worker processes on ``count`` fresh tokens: seconds, and CPU and CPU-wait per notification."""
    with schema(count) as name:
        figures = spawn(workers, lambda _: ["worker", name, str(latency_s), ""])
        audit(name, count)
    return {
        "seconds": span(figures),
        "cpu_ms": 1000 * sum(f["cpu_s"] for f in figures) / count,
        "wait_ms": 1000 * sum(f["wait_s"] for f in figures) / count,
    }


def round_trips(trace: str) -> int:
    """Round trips in a libpq trace: each ends with the server's ``ReadyForQuery``."""
    with open(trace) as lines:
        return sum("ReadyForQuery" in line for line in lines)


def store_run(count: int, trips: bool) -> dict[str, float]:
    """One worker, no latency, against the bare driver writing the same rows: seconds (and round trips) per token."""
    with tempfile.TemporaryDirectory() as folder, schema(count) as library, schema(count) as bare:
        traces = (str(Path(folder) / "library.trace"), str(Path(folder) / "floor.trace")) if trips else ("", "")
        library_s = span(spawn(1, lambda _: ["worker", library, "0", traces[0]]))
        audit(library, count)
        floor_s = span(spawn(1, lambda _: ["floor", bare, library, traces[1]]))
        audit(bare, count)
        found = {"library_ms": 1000 * library_s / count, "floor_ms": 1000 * floor_s / count}
        if trips:
            found["library_trips"] = round_trips(traces[0]) / count
            found["floor_trips"] = round_trips(traces[1]) / count
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--store-notifications", type=int, default=2_000)
    parser.add_argument("--store-rounds", type=int, default=3)
    parser.add_argument("--trips", action="store_true", help="also count the round trips per notification")
    parser.add_argument("--skip-workers", action="store_true", help="measure only the store's cost")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check that the script works")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    if args.quick:
        args.notifications, args.latency_ms, args.workers, args.rounds = 20, 1.0, "1,2", 1
        args.store_notifications, args.store_rounds, args.trips = 20, 1, True
    counts = [int(w) for w in args.workers.split(",")]
    print(f"notifications benchmark: PostgreSQL, {os.cpu_count()} CPUs")
    if not args.skip_workers:
        report_workers(args.notifications, counts, args.latency_ms / 1000, args.rounds)
    if args.store_rounds:
        report_store(args.store_notifications, args.store_rounds, args.trips)


def report_workers(count: int, counts: Sequence[int], latency_s: float, rounds: int) -> None:
    print(f"  {count} notifications, {latency_s * 1000:g} ms a gateway call, median of {rounds} round(s)")
    results: dict[int, dict[str, float]] = {}
    for workers in counts:
        runs = [workers_run(count, workers, latency_s) for _ in range(rounds)]
        results[workers] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        seconds = results[workers]["seconds"]
        each = ", ".join(f"{r['seconds']:.1f}" for r in runs)
        speedup = results[counts[0]]["seconds"] / seconds * counts[0]
        print(
            f"  {workers} worker(s): {seconds:7.1f} s  {count / seconds:7.1f} notifications/s  speed-up {speedup:4.2f}x"
            f"  (runs: {each} s; per notification: CPU "
            f"{results[workers]['cpu_ms']:.1f} ms, waiting for a CPU {results[workers]['wait_ms']:.1f} ms)"
        )
    if 1 in results and 4 in results:
        speedup = results[1]["seconds"] / results[4]["seconds"]
        verdict = "met" if speedup >= SPEEDUP_GOAL else "NOT met"
        print(f"  4 workers: {speedup:.2f}x one (goal {SPEEDUP_GOAL}x: {verdict})")


def report_store(count: int, rounds: int, trips: bool) -> None:
    runs = [store_run(count, False) for _ in range(rounds)]
    ratios = [r["library_ms"] / r["floor_ms"] for r in runs]
    ratio = statistics.median(ratios)
    library, floor = (statistics.median(r[key] for r in runs) for key in ("library_ms", "floor_ms"))
    verdict = "met" if ratio <= STORE_GOAL else "NOT met"
    print(
        f"  store, {count} notifications, no latency, one worker: {library:.2f} ms a notification; bare driver "
        f"{floor:.2f} ms; {ratio:.2f}x ({min(ratios):.2f}-{max(ratios):.2f}; goal within {STORE_GOAL}x: {verdict})"
    )
    if trips:  # a run of its own: the trace slows what it watches
        traced_run = store_run(min(count, 200), True)
        print(f"  round trips per notification: library {traced_run['library_trips']:.1f}, "
              f"bare driver {traced_run['floor_trips']:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
