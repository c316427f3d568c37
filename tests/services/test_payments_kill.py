"""Every payment settled once, every fee posted once, no token lost: replays, four worker processes, SIGKILL (#13).

The issue's trial: 1,000 replayed and concurrent notifications across 4 worker processes on
PostgreSQL, with workers killed at random. Here ``CARTEIRA_NOTIFICATION_KILL_SIZE`` billets (200 by
default; 1,000 is the issue's size) are issued through the outbox to the Efí emulator served over
loopback HTTP, with the callback endpoint (``wsgi_app`` over ``portfolio.payments.receive``, on a
threaded loopback server) as their notification URL, so that the emulator calls back over HTTP as
Efí would. Then, in rounds (``CARTEIRA_NOTIFICATION_KILL_ROUNDS``, 2 by default), four ``carteira
worker`` processes (the installed command, with the real Efí adapter, as a supervisor runs it) process
the tokens while the test pays more charges at the emulator (each payment called back to the endpoint)
and delivers tokens again from four threads at once, half of them tokens a worker holds at that
moment; it SIGKILLs one to three workers at random points of their work, and sends the survivors
SIGTERM once nothing is due. Then a worker whose clock is past the lease (``LATE``) takes what the
killed ones still held. Decision 0714 says why it is built this way.

The audit reads the tables with SQL, apart from the repositories: every token PROCESSED and none
missing, each event seen once and every event at the emulator seen, nothing flagged, every installment
settled by exactly one settlement (none reversed), each with one entry of the paid value and one fee of
the account's, both naming the charge, and one seen event holding it. Faults planted in the tables
afterwards show that the audit can fail.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import attrs
import psycopg
import pytest
from click.testing import CliRunner
from psycopg.conninfo import make_conninfo

from carteira import Money, Portfolio
from carteira.adapters.callback import wsgi_app
from carteira.adapters.cli.app import root
from carteira.adapters.cli.wiring import BASE_URL_VARIABLE, SECRET_VARIABLE, Wiring
from carteira.adapters.efi import EfiGateway, RetryPolicy, brasilia_today
from carteira.adapters.storage import PostgresStore
from carteira.domain import EveryDayCalendar
from carteira.domain.operations import Environment, GatewayAccount
from carteira.errors import Conflict
from carteira.ports.clock import SystemClock
from carteira.testing.efi_emulator import EfiEmulator, FaultRates, serve
from tests.adapters.storage.postgres_schema import empty
from tests.services.outbox_faults_support import env_int, seed_billets
from tests.support import POSTGRES_DSN, ROOT

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SIZE = env_int("CARTEIRA_NOTIFICATION_KILL_SIZE", 200)
KILL_ROUNDS = env_int("CARTEIRA_NOTIFICATION_KILL_ROUNDS", 2)
SEED = env_int("CARTEIRA_NOTIFICATION_KILL_SEED", 13)
WORKERS = 4
LATE = timedelta(minutes=10)
"""How far past the real clock the last worker runs: beyond the payments' lease (2 min) and backoff (30 s)."""
CLIENT_ID = "Client_Id_payments_kill"
SECRET = "Client_Secret_k1ll-PAYMENTS-never-shown-7"
FEE = Money("2.45")
ACCOUNT = GatewayAccount(CLIENT_ID, Environment.SANDBOX, "wallet", "0", "itau-77", FEE, "101", "201", "301")
HELD_TOKEN = (
    "SELECT token FROM notifications WHERE status = 'pending' AND next_attempt_at > now() ORDER BY random() LIMIT 1"
)
"""A token some worker has claimed and not yet processed (or one waiting for its retry)."""
DUE = "SELECT count(*) FROM notifications WHERE status = 'pending' AND coalesce(next_attempt_at <= now(), true)"


class _Ahead:
    """The system clock, ``by`` ahead: a worker started once the killed workers' leases have ended."""

    def __init__(self, by: timedelta) -> None:
        self._clock, self._by = SystemClock(), by

    def now(self) -> datetime:
        return self._clock.now() + self._by

    def today(self) -> date:
        return self.now().date()


class _ThreadedServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


def _dsn(schema: str, application_name: str) -> str:
    """The store's DSN as a worker is given it: the run's schema, and a name to see its sessions by."""
    return make_conninfo(POSTGRES_DSN, options=f"-csearch_path={schema}", application_name=application_name)


class _Worker:
    """``carteira worker --json`` as a separate process, as a supervisor runs it, its output in a file."""

    def __init__(self, schema: str, url: str, name: str, folder: Path) -> None:
        self.name = name
        self.out = folder / f"{name}.out"
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "CARTEIRA_STORE": _dsn(schema, name),
               SECRET_VARIABLE: SECRET, BASE_URL_VARIABLE: url}  # fmt: skip
        with self.out.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "carteira.adapters.cli", "worker", "--idle", "0.1", "--json"],
                env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
        self.killed = False

    def kill(self) -> None:
        """SIGKILL it, unless it already ended by itself."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.killed = self.process.wait(timeout=30) == -signal.SIGKILL

    def stop(self) -> dict[str, Any] | None:
        """SIGTERM it (it stops after the round under way) and return its totals; ``None`` when it was killed."""
        if not self.killed:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        text = self.out.read_text()
        assert SECRET not in text
        if self.killed:
            return None
        assert code == 0, f"worker {self.name} exited {code}: {text[-2000:]}"
        totals: dict[str, Any] = json.loads(text.splitlines()[-1])
        assert totals["stopped"] is True
        return totals


@attrs.define
class Trial:
    """The run's store, emulator, endpoint and ERP portfolio, and what the run did (its figures)."""

    schema: str
    store: PostgresStore
    emulator: EfiEmulator
    url: str
    efi: EfiGateway
    erp: Portfolio
    rng: random.Random
    folder: Path
    charges: dict[str, int] = attrs.field(factory=dict)  # installment id: charge id at the emulator
    tokens: dict[str, str] = attrs.field(factory=dict)  # installment id: its charge's notification token
    replays: int = 0
    refused: int = 0  # replays answered Conflict (the endpoint's 503: Efí would call again)
    figures: Counter[str] = attrs.field(factory=Counter)
    reported: Counter[str] = attrs.field(factory=Counter)
    timings: dict[str, float] = attrs.field(factory=dict)  # seconds each phase took
    _sql: psycopg.Connection[tuple[Any, ...]] | None = None
    _sql_lock: threading.Lock = attrs.field(factory=threading.Lock)

    def pay(self, installment_ids: Sequence[str]) -> None:
        """The customers pay in full at the emulator; each payment is called back to the endpoint over HTTP."""
        for installment_id in installment_ids:
            self.emulator.pay(self.charges[installment_id])

    def feed(self, to_pay: Sequence[str], replays: int, *, rng: random.Random, held_share: float) -> None:
        """The customers pay ``to_pay`` and ``replays`` tokens are delivered again, in random order, spread over a
        few seconds and four at a time; ``held_share`` of the tokens delivered again are held by a worker at that
        moment (Efí calls again while the ERP processes), the others are drawn at random."""
        steps: list[str | None] = [*to_pay, *([None] * replays)]
        rng.shuffle(steps)
        every = list(self.tokens.values())
        with ThreadPoolExecutor(4) as pool:
            futures: list[Future[object]] = []
            for installment_id in steps:
                if installment_id is not None:
                    futures.append(pool.submit(self.pay, [installment_id]))
                    continue
                held = self.sql(HELD_TOKEN) if rng.random() < held_share else []
                futures.append(pool.submit(self._deliver, held[0][0] if held else rng.choice(every)))
                time.sleep(rng.uniform(0, 0.05))
            refused = sum(future.result() is False for future in futures)
        self.replays += replays
        self.refused += refused

    def _deliver(self, token: str) -> bool:
        """Efí calls again with ``token``: ``False`` when the endpoint would have answered 503 (it calls again)."""
        try:
            self.erp.payments.receive(token)
        except Conflict:  # beaten five times in a row by others storing the same token
            return False
        return True

    def sql(self, query: str, *args: object) -> list[tuple[Any, ...]]:
        """Rows of ``query`` in the run's schema, read apart from carteira's repositories (one connection, kept:
        the test polls it while the workers run, and a new server process per poll would slow them down)."""
        with self._sql_lock:
            if self._sql is None:
                self._sql = psycopg.connect(POSTGRES_DSN, autocommit=True)
                self._sql.execute(f"SET search_path TO {self.schema}")
            return self._sql.execute(query, args).fetchall()

    def close(self) -> None:
        """Close the audit's connection."""
        if self._sql is not None:
            self._sql.close()


@pytest.fixture
def trial(postgres_schema: str, tmp_path: Path) -> Iterator[Trial]:
    """A fresh schema, the emulator on loopback (faults on a few event fetches), the endpoint, SIZE billets issued."""
    empty(postgres_schema)
    store = PostgresStore(POSTGRES_DSN, schema=postgres_schema, max_size=16)
    store.migrate()
    today = brasilia_today()
    emulator = EfiEmulator(CLIENT_ID, SECRET, today=today, latency_s=0.001)
    emulator.timeout_hang_s = 0.5
    with emulator, serve(emulator) as url:
        efi = EfiGateway(CLIENT_ID, SECRET, "sandbox", base_url=url, today=lambda: today,
                         retry=RetryPolicy(attempts=3, backoff_initial_s=0.01, backoff_max_s=0.05))  # fmt: skip
        receiver = Portfolio(store, clock=SystemClock())  # the ERP's web process: it only keeps tokens
        endpoint = make_server("127.0.0.1", 0, wsgi_app(receiver.payments.receive, path="/efi"),
                               server_class=_ThreadedServer, handler_class=_Quiet)  # fmt: skip
        threading.Thread(target=endpoint.serve_forever, daemon=True).start()
        callback = f"http://127.0.0.1:{endpoint.server_port}/efi"
        erp = Portfolio(store, gateway=efi, clock=SystemClock(), calendar=EveryDayCalendar(), notification_url=callback)
        erp.gateway.configure(ACCOUNT)
        ids, _ = seed_billets(store, SIZE, today, prefix="n")
        assert erp.gateway.issue_billets(ids, concurrency=8).report.sent == SIZE
        run = Trial(postgres_schema, store, emulator, url, efi, erp, random.Random(SEED), tmp_path)
        with store.unit_of_work() as uow:
            run.charges = {i: int(c.charge_id) for i, c in uow.gateway_charges.get_many(ids).items()}
        run.tokens = {i: str(emulator.charges[c]["notification_token"]) for i, c in run.charges.items()}
        try:
            yield run
        finally:
            run.close()
            endpoint.shutdown()
            endpoint.server_close()
            efi.close()
            store.close()


# -- the rounds -----------------------------------------------------------------------------------------------


def _claims(trial: Trial) -> int:
    """Claims taken so far (each token claimed counts one): the workers' progress, as the store shows it."""
    return int(trial.sql("SELECT coalesce(sum(attempts), 0) FROM notifications")[0][0])


def _at_work(trial: Trial, workers: Sequence[_Worker], claims: int, deadline: float) -> bool:
    """Wait until the workers together have claimed ``claims`` tokens; ``False`` when every one ended first."""
    while _claims(trial) < claims:
        if all(worker.process.poll() is not None for worker in workers):
            return False
        assert time.monotonic() < deadline, (
            f"the workers claimed {_claims(trial)} tokens, not {claims}, in 60 s: "
            f"{[(w.name, w.process.poll(), w.out.read_text()[-300:]) for w in workers]}"
        )
        time.sleep(0.02)
    return True


def _kill_at_random(trial: Trial, workers: Sequence[_Worker], start: int, due: int) -> None:
    """SIGKILL one to three workers (one at least is left to work), each once the workers together have claimed a
    random number of the ``due`` tokens more than ``start``, then a random 0-150 ms later (a claim of ten takes about
    that long): inside a claim, a fetch or a unit of work."""
    victims = trial.rng.sample(list(workers), trial.rng.randint(1, len(workers) - 1))
    thresholds = sorted(start + trial.rng.randint(1, max(due, 1)) for _ in victims)
    deadline = time.monotonic() + 60
    for victim, threshold in zip(victims, thresholds, strict=True):
        _at_work(trial, workers, threshold, deadline)
        time.sleep(trial.rng.uniform(0, 0.15))
        victim.kill()
        trial.figures["killed" if victim.killed else "ended before its kill"] += 1


def _nothing_due(trial: Trial) -> None:
    """Wait until no token is due (the survivors took every one), but those the killed workers held."""
    deadline = time.monotonic() + 120
    while trial.sql(DUE)[0][0]:
        assert time.monotonic() < deadline, "tokens still due after 120 s"
        time.sleep(0.05)


def _sessions_gone(trial: Trial, names: Sequence[str]) -> None:
    """Wait until the killed workers' PostgreSQL sessions have ended (their open unit rolled back)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = trial.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = ANY(%s)", list(names))
        if rows[0][0] == 0:
            return
        time.sleep(0.01)
    pytest.fail("the killed workers' PostgreSQL sessions did not end within 10 s")


def _round(trial: Trial, number: int, to_pay: Sequence[str], replays: int, *, last: bool) -> None:
    """Four workers, some killed, while tokens are delivered again and half of ``to_pay`` is paid (the other half
    just before: a backlog of tokens due when the workers start); the survivors get SIGTERM once nothing is due."""
    started = time.perf_counter()
    before, during = to_pay[: len(to_pay) // 2], to_pay[len(to_pay) // 2 :]
    trial.pay(before)
    start, due = _claims(trial), int(trial.sql(DUE)[0][0])  # each due token is claimed once at least
    workers = [_Worker(trial.schema, trial.url, f"pk-{SEED}-{number}-{k}", trial.folder) for k in range(WORKERS)]

    def feed() -> None:
        _at_work(trial, workers, start + 1, time.monotonic() + 60)  # the payments and replays meet workers at work
        # In the last round no delivery aims at a held token: what its killed workers held is left to the lease.
        trial.feed(during, replays, rng=random.Random(SEED * 1000 + number), held_share=0.0 if last else 0.5)

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        _kill_at_random(trial, workers, start, due)
        feeder.join()
        _nothing_due(trial)
        for worker in workers:
            totals = worker.stop()
            if totals is not None:
                trial.reported.update(totals["payments"])
    finally:
        feeder.join()
        for worker in workers:
            worker.kill()
    trial.figures["worker processes"] += len(workers)
    _sessions_gone(trial, [worker.name for worker in workers if worker.killed])
    trial.timings[f"round {number}"] = time.perf_counter() - started
    # What the killed workers held: claimed, neither processed nor backed off; due again when the lease ends.
    held = trial.sql("SELECT count(*) FROM notifications WHERE status = 'pending' AND next_attempt_at > now() "
                     "AND error = ''")  # fmt: skip
    trial.figures[f"held after round {number}"] = held[0][0]


def _late_worker(trial: Trial) -> dict[str, Any]:
    """``carteira worker --once`` with the clock past every lease and backoff: it takes whatever is left."""
    env = {"CARTEIRA_STORE": _dsn(trial.schema, "pk-late"), SECRET_VARIABLE: SECRET, BASE_URL_VARIABLE: trial.url}
    result = CliRunner(env=env).invoke(root, ["worker", "--once", "--json"], obj=Wiring(clock=_Ahead(LATE)),
                                       catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    totals: dict[str, Any] = json.loads(result.stdout)
    return totals


# -- the audit --------------------------------------------------------------------------------------------------


@attrs.frozen
class Audit:
    """What the store holds after the run, counted with SQL; every tuple lists what is wrong (empty when right)."""

    tokens_not_processed: tuple[str, ...]
    tokens_missing: tuple[str, ...]
    events_missed: tuple[str, ...]  # (token, event id) at the emulator and not seen, or seen and not there
    events_seen_twice: tuple[str, ...]
    charges_not_paid: tuple[str, ...]
    flagged: tuple[str, ...]
    settlements_not_one: tuple[str, ...]  # installments without exactly one settlement, or not SETTLED
    postings_wrong: tuple[str, ...]  # settlements without exactly one entry of the paid value and one fee
    events_settling_not_one: tuple[str, ...]  # settlements held by no seen event, or by several
    settlements: int
    postings: int

    @property
    def clean(self) -> bool:
        """Every payment settled once, every entry and fee posted once, no token lost, no event missed."""
        return not any(value for value in attrs.astuple(self) if isinstance(value, tuple))


NOT_PAID = "SELECT installment_id, state FROM gateway_charges WHERE state <> 'paid'"


def audit(trial: Trial) -> Audit:
    """Compare the tables with the emulator's charges, tokens and events."""
    statuses = dict(trial.sql("SELECT token, status FROM notifications"))
    seen = Counter((t, e) for t, e in trial.sql("SELECT token, event_id FROM seen_events"))
    at_emulator = {(token, event.event_id) for token in trial.tokens.values()
                   for event in trial.efi.notification_events(token)}  # fmt: skip
    settlements: dict[str, list[tuple[str, int, Any]]] = {}
    for sid, installment_id, paid, reversed_on in trial.sql(
        "SELECT id, installment_id, paid_cents, reversed_on FROM settlements"
    ):
        settlements.setdefault(installment_id, []).append((sid, paid, reversed_on))
    installments = dict(trial.sql("SELECT id, status FROM installments"))
    postings: dict[str, list[tuple[str, int, str, str | None, str | None]]] = {}
    for settlement_id, kind, cents, history, charge_id, reverses in trial.sql(
        "SELECT settlement_id, kind, amount_cents, history, charge_id, reverses FROM postings"
    ):
        postings.setdefault(settlement_id, []).append((kind, cents, history, charge_id, reverses))
    holders = Counter(s for (s,) in trial.sql("SELECT settlement_id FROM seen_events WHERE settlement_id IS NOT NULL"))
    wrong_postings, wrong_settlements = [], []
    for installment_id, charge_id in trial.charges.items():
        found = settlements.get(installment_id, [])
        if len(found) != 1 or found[0][2] is not None or installments[installment_id] != "settled":
            wrong_settlements.append(f"{installment_id}: {found} {installments[installment_id]}")
            continue
        sid, paid, _ = found[0]
        expected = sorted(
            [("entry", paid, "201", str(charge_id), None), ("fee", FEE.cents, "301", str(charge_id), None)]
        )
        if sorted(postings.get(sid, [])) != expected:
            wrong_postings.append(f"{sid}: {postings.get(sid)}")
    return Audit(
        tokens_not_processed=tuple(t for t, status in statuses.items() if status != "processed"),
        tokens_missing=tuple(sorted(set(trial.tokens.values()) - set(statuses))),
        events_missed=tuple(f"{k}" for k in sorted(at_emulator ^ set(seen))),
        events_seen_twice=tuple(f"{key}" for key, count in seen.items() if count != 1),
        charges_not_paid=tuple(str(row) for row in trial.sql(NOT_PAID)),
        flagged=tuple(str(row) for row in trial.sql("SELECT token, event_id, note FROM seen_events WHERE flagged")),
        settlements_not_one=tuple(wrong_settlements),
        postings_wrong=tuple(wrong_postings),
        events_settling_not_one=tuple(
            s for s in {sid for found in settlements.values() for sid, _, _ in found} | set(holders) if holders[s] != 1
        ),
        settlements=sum(len(found) for found in settlements.values()),
        postings=sum(len(found) for found in postings.values()),
    )


def plant_faults(trial: Trial) -> None:
    """What the audit must catch, written straight into the tables: a fee posted twice, an installment settled a
    second time, a token left pending, an event never recorded."""
    columns = [name for (name,) in trial.sql(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = 'settlements' "
        "AND column_name NOT IN ('seq', 'id') ORDER BY ordinal_position", trial.schema)]  # fmt: skip
    listed = ", ".join(columns)
    trial.sql(f"INSERT INTO settlements (id, {listed}) SELECT id || '-again', {listed} FROM settlements "
              "ORDER BY seq LIMIT 1 RETURNING id")  # fmt: skip
    trial.sql("INSERT INTO postings (id, kind, on_date, amount_cents, account, history, settlement_id, charge_id) "
              "SELECT id || '-again', kind, on_date, amount_cents, account, history, settlement_id, charge_id "
              "FROM postings WHERE kind = 'fee' ORDER BY seq DESC LIMIT 1 RETURNING id")  # fmt: skip
    trial.sql("UPDATE notifications SET status = 'pending' WHERE token = (SELECT min(token) FROM notifications) "
              "RETURNING token")  # fmt: skip
    trial.sql("DELETE FROM seen_events WHERE (token, event_id) = (SELECT token, event_id FROM seen_events "
              "WHERE settlement_id IS NULL ORDER BY token, event_id LIMIT 1) RETURNING token")  # fmt: skip


# -- the trial --------------------------------------------------------------------------------------------------


def test_replayed_and_concurrent_notifications_across_four_killed_workers_settle_each_payment_once(
    trial: Trial, record_property: Any
) -> None:
    started = time.perf_counter()
    unpaid = list(trial.charges)
    trial.rng.shuffle(unpaid)
    first, rest = unpaid[: SIZE // 2], unpaid[SIZE // 2 :]
    trial.pay(first)  # half paid before any worker runs: their tokens are due with the payment in them
    trial.emulator.random_faults(FaultRates(seed=SEED, fail=0.02, lost=0.01, routes={"GET /notification/:token"}))
    share = -(-len(rest) // KILL_ROUNDS)
    for number in range(KILL_ROUNDS):
        paid = rest[number * share : (number + 1) * share]
        _round(trial, number, paid, replays=SIZE // 2, last=number == KILL_ROUNDS - 1)
    trial.emulator.clear_faults()
    mark = time.perf_counter()
    late = _late_worker(trial)
    trial.reported.update(late["payments"])
    trial.timings["late worker"] = time.perf_counter() - mark
    mark = time.perf_counter()
    figures = audit(trial)
    trial.timings["audit"] = time.perf_counter() - mark
    elapsed = time.perf_counter() - started
    deliveries = trial.emulator.deliveries
    summary = (
        f"size={SIZE} seed={SEED} callbacks={len(deliveries)} (refused {sum(not d.delivered for d in deliveries)}) "
        f"replays={trial.replays} (refused {trial.refused}) {dict(trial.figures)} "
        f"late worker settled={late['payments']['settled']} tokens={late['payments']['tokens']} "
        f"settled reported by workers={trial.reported['settled']} of {figures.settlements} "
        f"settlements={figures.settlements} postings={figures.postings} in {elapsed:.1f} s "
        f"({', '.join(f'{phase} {seconds:.1f}' for phase, seconds in trial.timings.items())})"
    )
    record_property("figures", summary)  # --junitxml shows them
    sys.stderr.write(f"{summary}\n")  # -s shows them
    assert figures.clean, f"{summary}\n{figures}"
    assert (figures.settlements, figures.postings) == (SIZE, 2 * SIZE), summary
    assert trial.figures["killed"] >= 1, summary  # the trial killed workers at work, not only idle ones
    assert late["payments"]["tokens"] >= trial.figures[f"held after round {KILL_ROUNDS - 1}"], summary
    plant_faults(trial)  # and the audit can fail: it sees each fault planted
    planted = audit(trial)
    assert [len(planted.settlements_not_one), len(planted.postings_wrong), len(planted.tokens_not_processed),
            len(planted.events_missed)] == [1, 1, 1, 1], planted  # fmt: skip
    assert not planted.clean
