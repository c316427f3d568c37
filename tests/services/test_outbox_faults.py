"""The outbox never charges twice and never loses an operation (issue #12, "Faults" and "The secret").

Everything here goes through ``portfolio.gateway`` and the real Efí adapter to the emulator over
loopback HTTP, where the client's timeout is real: a create slower than it lands at the emulator after
the client gave up, as it would at Efí. The witnesses are the emulator's charges counted by
``custom_id`` and every create request it received (see ``outbox_faults_support``); decision 0710
explains the runs, 0711 the sizes, 0712 the secret's audit.

- The proof (decision 0702): creates land 0.6 s after they were sent, the client gives up at 0.2 s,
  the quiet period is 1.5 s; every operation ends SENT with one charge and one create. The same run
  with a quiet period shorter than the landing time issues creates twice: the test can fail.
- Fault runs: ``CARTEIRA_FAULT_OPS`` billets (400 by default; 10,000 is the issue's size) with
  latency, 5xx, timeouts, lost answers and late landings drawn at random (seeded), on every store.
- SIGKILL trials (``CARTEIRA_KILL_TRIALS`` per store, 2 by default; the issue's is 20): workers killed
  at random points, then a fresh drain; one worker on SQLite, four at once on PostgreSQL.
- Three tests pin what the first runs broke: a create sent late in its claim, a second worker taking
  what the first claimed and had not sent, a look-up that read Efí before the quiet period ended.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from carteira import Portfolio
from carteira.adapters.efi import EfiGateway, brasilia_today
from carteira.adapters.storage import MemoryStore
from carteira.domain import EveryDayCalendar
from carteira.domain.operations import OperationFilter, OperationStatus
from carteira.errors import GatewayOutcomeUnknown
from carteira.ports.clock import SystemClock
from carteira.ports.gateway import BilletRequest, ChargeSummary, IssuedBillet
from carteira.ports.storage import Store
from carteira.services.outbox import OutboxTiming
from carteira.testing.efi_emulator import FaultRates, serve
from carteira.testing.fake_gateway import FakeGateway
from tests.adapters.storage.targets import store_at, where
from tests.services.outbox_child import child_application
from tests.services.outbox_faults_support import (
    CREATE_ROUTES,
    FAULT_SLOW_S,
    FAULT_WIRING,
    KILL_SLOW_S,
    KILL_WIRING,
    PROOF_WIRING,
    SECRET,
    SECRET_ENV,
    SLOW_CREATE_S,
    Audit,
    RecordingEmulator,
    Wiring,
    account,
    audit,
    drain_to_the_end,
    efi_at,
    env_int,
    fault_rates,
    portfolio_on,
    recording_emulator,
    refused_documents,
    secret_in,
    seed_billets,
    store_dump,
)
from tests.support import POSTGRES_DSN, ROOT

__all__ = ["where"]  # the fixture the SIGKILL trials use

FAULT_OPS = env_int("CARTEIRA_FAULT_OPS", 400)
FAULT_RATE = 0.02  # each of fail, timeout, lost and slow: 8 % of the API calls meet a fault
KILL_TRIALS = env_int("CARTEIRA_KILL_TRIALS", 2)


@attrs.define
class Run:
    """A portfolio over ``store``, wired through the real adapter to a recording emulator on loopback HTTP."""

    store: Store
    emulator: RecordingEmulator
    efi: EfiGateway
    portfolio: Portfolio
    today: date

    def billets(self, count: int, **options: Any) -> tuple[list[str], set[str]]:
        """``count`` installments ready to issue (and the ones the emulator will refuse)."""
        return seed_billets(self.store, count, self.today, **options)

    def audit(self, installment_ids: Sequence[str], refused: Collection[str] = ()) -> Audit:
        """The run's figures, once every create still running at the emulator has landed."""
        time.sleep(SLOW_CREATE_S + 0.1)
        return audit(self.store, self.emulator, installment_ids, refused)


@contextlib.contextmanager
def running(store: Store, wiring: Wiring, *, latency_s: float = 0.0) -> Iterator[Run]:
    """A :class:`Run` on ``store`` with ``wiring``, its account configured; the server stops at the end."""
    today = brasilia_today()
    emulator = recording_emulator(today, latency_s=latency_s)
    with emulator, serve(emulator) as url, efi_at(url, wiring, today) as efi:
        portfolio = portfolio_on(store, efi, wiring)
        portfolio.gateway.configure(account())
        yield Run(store, emulator, efi, portfolio, today)


@pytest.fixture
def memory() -> MemoryStore:
    return MemoryStore()


# -- the proof: a create slower than the client's timeout is never issued twice (decision 0702) ----------


def every_create_lands_late(emulator: RecordingEmulator, after_s: float = SLOW_CREATE_S) -> None:
    """Every create lands ``after_s`` after it was sent, well after the client gave up on it."""
    emulator.random_faults(FaultRates(slow=1.0, slow_s=after_s, routes=CREATE_ROUTES))


def test_a_create_slower_than_the_client_is_looked_up_until_it_lands_and_never_issued_twice(store: Store) -> None:
    count = 24
    with running(store, PROOF_WIRING) as run:
        every_create_lands_late(run.emulator)
        ids, _ = run.billets(count)
        gateway = run.portfolio.gateway
        issued = gateway.issue_billets(ids, concurrency=count)  # all at once: each is sent as it is claimed
        assert issued.report.unknown == count  # every create outlived the client's timeout
        first = gateway.drain(concurrency=count)  # looked up at once: none has landed yet
        held = gateway.operations(OperationFilter(status=OperationStatus.UNKNOWN))
        assert first.unknown == len(held) > 0, first
        quiet = PROOF_WIRING.timing.quiet
        assert all(op.next_attempt_at == op.unknown_since + quiet for op in held if op.unknown_since)
        drain_to_the_end(run.portfolio, concurrency=8, deadline_s=30)
        figures = run.audit(ids)
    assert figures.clean, figures
    assert (figures.sent, figures.creates, figures.reissued) == (count, count, 0), figures.figures()


def test_with_a_quiet_period_shorter_than_a_slow_create_the_outbox_would_issue_it_twice(memory: MemoryStore) -> None:
    too_short = attrs.evolve(
        PROOF_WIRING,
        timing=OutboxTiming(
            lease=timedelta(seconds=0.25), quiet=timedelta(seconds=0.3), backoff=timedelta(seconds=0.1)
        ),
    )
    count = 8
    with running(memory, too_short) as run:
        every_create_lands_late(run.emulator)
        ids, _ = run.billets(count)
        run.portfolio.gateway.issue_billets(ids, concurrency=count)
        drain_to_the_end(run.portfolio, concurrency=count, deadline_s=30)
        figures = run.audit(ids)
    # The counterfactual: with quiet below the landing time, the rule reissues and the audit sees it.
    assert len(figures.duplicates) == count, figures.figures()
    assert len(figures.resent_while_live) == count, figures.figures()
    assert not figures.clean


# -- what the runs found: time counted from the claim, a look-up dated when recorded (fixed by d4832e6), ----
# -- a drain claiming again what it still had out (fee2cd6), a late look-up applied to a PENDING one (368b58f) --


def test_a_create_queued_behind_others_of_its_claim_is_never_issued_twice(memory: MemoryStore) -> None:
    count = 20
    with running(memory, PROOF_WIRING) as run:
        every_create_lands_late(run.emulator)
        ids, _ = run.billets(count)
        # 2 at a time: the last pairs would go out 1.6 and 1.8 s after their claim, past the lease (1 s) and
        # the quiet period (1.5 s) counted from it; a drain right after must not issue them again.
        run.portfolio.gateway.issue_billets(ids, concurrency=2)
        drain_to_the_end(run.portfolio, concurrency=count, deadline_s=30)
        figures = run.audit(ids)
    assert figures.clean, figures.figures()


def test_a_second_worker_never_issues_what_the_first_has_claimed_and_not_yet_sent(memory: MemoryStore) -> None:
    wiring = Wiring(
        client_timeout_s=1.0,
        timing=OutboxTiming(lease=timedelta(seconds=0.5), quiet=timedelta(seconds=0.8), backoff=timedelta(seconds=0.1)),
    )
    count = 20
    with running(memory, wiring) as run:
        every_create_lands_late(run.emulator, after_s=0.1)  # answered in time: no timeout at all
        ids, _ = run.billets(count)
        other = portfolio_on(memory, run.efi, wiring)
        stop = threading.Event()

        def second_worker() -> None:
            while not stop.is_set():
                other.gateway.drain(concurrency=8)
                time.sleep(0.05)

        worker = threading.Thread(target=second_worker)
        worker.start()
        try:
            run.portfolio.gateway.issue_billets(ids, concurrency=1)  # one at a time: 2 s, the lease is 0.5 s
        finally:
            stop.set()
            worker.join()
        drain_to_the_end(run.portfolio, concurrency=8, deadline_s=30)
        figures = run.audit(ids)
    assert figures.clean, figures.figures()


class _LateLookups:
    """The adapter, whose look-up answers arrive ``delay_s`` after Efí read its charges (a slow way back)."""

    def __init__(self, inner: EfiGateway, delay_s: float) -> None:
        self._inner = inner
        self._delay_s = delay_s

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def find_charges(self, operation_id: str) -> list[ChargeSummary]:
        found = self._inner.find_charges(operation_id)
        time.sleep(self._delay_s)
        return found


def test_a_look_up_made_before_the_quiet_period_ended_never_lets_a_create_go_twice(memory: MemoryStore) -> None:
    # Within decision 0702's rules: the quiet period (0.9 s) outlasts the landing (0.6 s), the lease a
    # look-up (0.8 s). The first look-up reads Efí at 0.2 s, before the create lands, and answers at 1.0 s.
    wiring = attrs.evolve(
        PROOF_WIRING,
        timing=OutboxTiming(lease=timedelta(seconds=0.9), quiet=timedelta(seconds=0.9), backoff=timedelta(seconds=0.1)),
    )
    count = 8
    with running(memory, wiring) as run:
        every_create_lands_late(run.emulator)
        ids, _ = run.billets(count)
        late = Portfolio(
            memory,
            gateway=_LateLookups(run.efi, 0.8),
            timing=wiring.timing,
            clock=run.portfolio.clock,
            calendar=run.portfolio.calendar,
        )
        late.gateway.issue_billets(ids, concurrency=count)
        drain_to_the_end(late, concurrency=count, deadline_s=30)
        figures = run.audit(ids)
    assert figures.clean, figures.figures()


class _Scripted:
    """A gateway whose creates for some operations answer late, and whose look-ups of an operation read it only
    once its create has answered (so both answers arrive together)."""

    def __init__(self, inner: FakeGateway, *, wait_for_create: bool = True) -> None:
        self._inner = inner
        self._wait_for_create = wait_for_create
        self.late: dict[str, float] = {}  # operation id: seconds its create takes
        self.lost: set[str] = set()  # operation ids whose next create is lost on its way (nothing created)
        self.slow_look_up: dict[str, float] = {}  # operation id: seconds its next look-up's answer takes back
        self._answered: defaultdict[str, threading.Event] = defaultdict(threading.Event)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def create_billet(self, request: BilletRequest) -> IssuedBillet:
        operation_id = request.operation_id or ""
        time.sleep(self.late.get(operation_id, 0.0))
        try:
            if operation_id in self.lost:
                self.lost.discard(operation_id)
                raise GatewayOutcomeUnknown("create billet: no answer (scripted)")
            return self._inner.create_billet(request)
        finally:
            self._answered[operation_id].set()

    def find_charges(self, operation_id: str) -> list[ChargeSummary]:
        if self._wait_for_create:
            self._answered[operation_id].wait(5)
        found = self._inner.find_charges(operation_id)
        time.sleep(self.slow_look_up.pop(operation_id, 0.0))
        return found


def test_a_call_still_out_when_its_lease_ends_and_its_look_up_are_recorded_without_a_crash(
    memory: MemoryStore,
) -> None:
    # Claimed at 0 with a lease of 0.4 s, W's and B's creates answer at 0.55 and 0.6 s. Once X is recorded
    # the drain claims again at 0.45 s: W and B are due (their leases ended), so their look-ups go out too,
    # and each answers with its create. The drain is kept busy (progress) while B's two answers arrive.
    today = date(2026, 3, 10)
    scripted = _Scripted(FakeGateway(today=today))
    timing = OutboxTiming(lease=timedelta(seconds=0.4), quiet=timedelta(seconds=1), backoff=timedelta(seconds=0.1))
    portfolio = Portfolio(memory, gateway=scripted, timing=timing, clock=SystemClock(), calendar=EveryDayCalendar())
    portfolio.gateway.configure(account())
    ids, _ = seed_billets(memory, 3, today)
    x, w, b = portfolio.gateway.issue_billets(ids, send=False).operation_ids
    scripted.late.update({w: 0.55, b: 0.6})
    started = time.monotonic()

    def busy(done: int, _total: int) -> None:
        time.sleep(max(0.0, started + 0.45 - time.monotonic()) if done == 1 else 0.25 if done == 2 else 0.0)

    portfolio.gateway.drain(concurrency=4, progress=busy)
    drain_to_the_end(portfolio, concurrency=4, deadline_s=10)
    assert {op.status for op in portfolio.gateway.operations()} == {OperationStatus.SENT}
    assert [len(scripted.find_charges(op_id)) for op_id in (x, w, b)] == [1, 1, 1]


def test_a_look_up_answering_after_another_worker_made_its_create_pending_is_dropped(memory: MemoryStore) -> None:
    # B's create was lost (nothing created). Worker 1 looks it up at 0 s; the answer takes 0.8 s to come back,
    # past its hold (the lease, 0.3 s). Worker 2 looks it up at 0.4 s, after the quiet period: PENDING again.
    # Worker 1's late "nothing there" must then change nothing: it is no news about a PENDING operation.
    today = date(2026, 3, 10)
    fake = FakeGateway(today=today)
    slow, fast = _Scripted(fake, wait_for_create=False), _Scripted(fake, wait_for_create=False)
    timing = OutboxTiming(lease=timedelta(seconds=0.3), quiet=timedelta(seconds=0.3), backoff=timedelta(seconds=0.1))
    first, second = (
        Portfolio(memory, gateway=gateway, timing=timing, clock=SystemClock(), calendar=EveryDayCalendar())
        for gateway in (slow, fast)
    )
    first.gateway.configure(account())
    ids, _ = seed_billets(memory, 1, today)
    (b,) = first.gateway.issue_billets(ids, send=False).operation_ids
    slow.lost.add(b)
    first.gateway.drain()  # the create is lost: UNKNOWN
    time.sleep(0.35)  # past the quiet period: a look-up that finds nothing makes it PENDING
    slow.slow_look_up[b] = 0.8
    crashed: list[BaseException] = []

    def worker_one() -> None:
        try:
            first.gateway.drain()
        except BaseException as error:
            crashed.append(error)

    one = threading.Thread(target=worker_one)
    one.start()
    time.sleep(0.4)
    second.gateway.drain(limit=1)  # its look-up finds nothing: PENDING, and this drain claims nothing more
    assert second.gateway.operation(b).status is OperationStatus.PENDING
    one.join()
    if crashed:
        raise crashed[0]
    drain_to_the_end(second, concurrency=1, deadline_s=10)
    assert len(fake.find_charges(b)) == 1
    assert second.gateway.operation(b).status is OperationStatus.SENT


# -- fault runs -----------------------------------------------------------------------------------------


def _log_texts(records: Sequence[logging.LogRecord]) -> Iterator[str]:
    for record in records:
        yield record.getMessage()
        yield repr(record.args)
        if record.exc_text:
            yield record.exc_text


def _store_where(store: Store, request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    kind = request.node.callspec.params.get("store")
    if kind == "sqlite":
        return str(tmp_path / "carteira.db")
    if kind == "postgres":
        schema: str = request.getfixturevalue("postgres_schema")
        return schema
    return None


def test_a_fault_run_charges_nothing_twice_and_loses_nothing(
    store: Store,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    record_property: Any,
) -> None:
    caplog.set_level(logging.DEBUG)  # the root and every logger under it: carteira's, httpx's, httpcore's
    started = time.perf_counter()
    with running(store, FAULT_WIRING, latency_s=0.002) as run:
        run.emulator.switches.inconsistent_documents = refused_documents()
        ids, refused = run.billets(FAULT_OPS, refused_every=200)
        run.portfolio.gateway.issue_billets(ids, send=False)
        run.emulator.random_faults(fault_rates(12, rate=FAULT_RATE, slow_s=FAULT_SLOW_S))
        rounds = drain_to_the_end(run.portfolio, concurrency=FAULT_WIRING.concurrency, deadline_s=600)
        figures = run.audit(ids, refused)
        operations = run.portfolio.gateway.operations()
        reprs = [repr(run.portfolio), repr(run.portfolio.gateway), repr(run.efi), repr(store), repr(operations)]
    elapsed = time.perf_counter() - started
    record_property("figures", f"{figures.figures()} rounds={rounds} in {elapsed:.1f} s")  # --junitxml shows them
    assert figures.clean, figures
    assert figures.operations == FAULT_OPS, figures.figures()
    assert figures.failed == len(refused), figures.figures()
    assert all(
        op.error is not None and op.error.code == 4600142 for op in operations if op.status is OperationStatus.FAILED
    )
    assert figures.reissued > 0  # the faults struck creates that never landed, and those went out again
    dump = store_dump(store, _store_where(store, request, tmp_path))
    assert secret_in(dump) == []
    assert secret_in(reprs) == []
    assert secret_in(_log_texts(caplog.records)) == []
    assert any(record.name.startswith("httpcore") for record in caplog.records)  # DEBUG reached httpx's stack


# -- SIGKILL trials -------------------------------------------------------------------------------------


class _Worker:
    """A draining worker process (tests/services/outbox_child.py) and every line it printed."""

    def __init__(self, where: str, url: str, today: date, log: Path, name: str) -> None:
        self.name = name
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.services.outbox_child", where, url, today.isoformat(), str(log), name],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, SECRET_ENV: SECRET},
        )
        self.lines: list[str] = []

    def wait_for(self, line: str, nth: int = 1) -> bool:
        """Read lines until the ``nth`` ``line``; ``False`` when the worker ended first."""
        assert self.process.stdout is not None
        seen = sum(1 for got in self.lines if got == line)
        while seen < nth:
            got = self.process.stdout.readline().strip()
            if not got:
                return False
            self.lines.append(got)
            seen += got == line
        return True

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.close()

    def kill(self) -> bool:
        """SIGKILL it; ``False`` when it had ended by itself just before."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        assert self.process.returncode in (0, -signal.SIGKILL), self.lines
        return self.process.returncode == -signal.SIGKILL

    def finish(self) -> None:
        """Wait for it to end by itself, having printed DONE."""
        assert self.wait_for("DONE"), f"worker {self.name} ended without DONE: {self.lines[-5:]}"
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def _sessions_gone(where: str, names: Sequence[str]) -> None:
    """Wait until the killed workers' PostgreSQL sessions have ended (their last COMMIT is carried out)."""
    if where.endswith(".db") or not names:
        return
    import psycopg

    deadline = time.monotonic() + 10
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = ANY(%s)",
                ([child_application(name) for name in names],),
            ).fetchone()
            if row is not None and row[0] == 0:
                return
            time.sleep(0.01)
    pytest.fail("the killed workers' PostgreSQL sessions did not end within 10 s")


def _kill_some(workers: Sequence[_Worker], rng: random.Random, count: int) -> dict[str, str]:
    """SIGKILL one worker or more, each after a random number of recorded answers and a random delay up to 30 ms.

    Among several workers the first victim dies within its first few answers, and a later one may have
    ended by itself (the others took the work), which leaves it alive. Returns the victims killed, with where.
    """
    killed = {}
    for k, victim in enumerate(rng.sample(list(workers), rng.randint(1, len(workers)))):
        # Alone, a worker does all the work; among four, the first victim dies within its first few answers.
        nth = rng.randint(0, count // 3 if len(workers) == 1 else 3 if k == 0 else count // (3 * len(workers)))
        if not (victim.wait_for("RECORDED", nth) if nth else victim.wait_for("START")):
            assert k > 0, f"worker {victim.name} ended before record {nth}: {victim.lines[-3:]}"
            continue
        delay = rng.uniform(0, 0.03)
        time.sleep(delay)
        if victim.kill():
            killed[victim.name] = f"{delay * 1000:.0f} ms after record {nth}"
    assert killed, "no worker was killed"
    return killed


def _kill_trial(where: str, seed: int, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> tuple[Audit, str]:
    rng = random.Random(seed)
    workers_count = 1 if where.endswith(".db") else 4
    count = rng.randint(60, 160)
    today = brasilia_today()
    emulator = recording_emulator(today, latency_s=0.002)
    emulator.switches.inconsistent_documents = refused_documents()
    with emulator, serve(emulator) as url:
        workers = [
            _Worker(where, url, today, tmp_path / f"worker-{k}.log", f"{seed}-{k}") for k in range(workers_count)
        ]
        store = store_at(where)
        try:
            store.migrate()
            with efi_at(url, KILL_WIRING, today) as efi:
                portfolio = portfolio_on(store, efi, KILL_WIRING)
                portfolio.gateway.configure(account())
                ids, refused = seed_billets(store, count, today, prefix=f"s{seed}-", refused_every=50)
                portfolio.gateway.issue_billets(ids, send=False)
                emulator.random_faults(fault_rates(seed, rate=0.03, slow_s=KILL_SLOW_S))
                for worker in workers:
                    assert worker.wait_for("READY"), worker.lines
                    worker.go()
                victims = _kill_some(workers, rng, count)
                _sessions_gone(where, list(victims))
                for worker in workers:
                    if worker.name not in victims:
                        worker.finish()
                drain_to_the_end(portfolio, concurrency=KILL_WIRING.concurrency, deadline_s=60)  # the fresh drain
            time.sleep(KILL_SLOW_S + 0.1)
            figures = audit(store, emulator, ids, refused)
            dump = store_dump(store, where)
        finally:
            store.close()
            for worker in workers:
                worker.stop()
    logs = [worker.log.read_bytes() for worker in workers if worker.log.exists()]
    assert secret_in(dump) == []
    assert secret_in(logs) == []
    assert secret_in(_log_texts(caplog.records)) == []
    points = ", ".join(f"{name} {point}" for name, point in victims.items())
    return figures, f"seed {seed}: {count} billets, {workers_count} worker(s), killed {points}"


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(KILL_TRIALS))
def test_a_worker_killed_at_any_point_then_a_fresh_drain_charges_nothing_twice_and_loses_nothing(
    where: str, seed: int, tmp_path: Path, caplog: pytest.LogCaptureFixture, record_property: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    figures, trial = _kill_trial(where, seed, tmp_path, caplog)
    record_property("figures", f"{trial}: {figures.figures()}")
    assert figures.clean, f"{trial}: {figures}"
