"""What the outbox's fault runs share (#12): an emulator that records every create, the wiring, the drain, the audit.

A fault run writes billets PENDING through ``portfolio.gateway``, lets the emulator's random faults
(latency, 5xx, timeouts, lost answers, creates that land after the client gave up) strike over
loopback HTTP, drains until no operation is PENDING or UNKNOWN, and then audits three witnesses that
do not depend on each other: the emulator's charges by ``custom_id`` (Efí's copy of the operation
id), every create request the emulator received, and the store. Decision 0710 says why it is built
this way.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from carteira import Money, Portfolio
from carteira.adapters.efi import EfiGateway, RetryPolicy
from carteira.adapters.storage import MemoryStore
from carteira.domain import ChargeTerms, Customer, EveryDayCalendar, Installment
from carteira.domain.operations import Environment, GatewayAccount, OperationFilter, OperationStatus
from carteira.ports.clock import SystemClock
from carteira.ports.storage import Store
from carteira.services.outbox import OutboxTiming
from carteira.testing.efi_emulator import EfiEmulator, FaultRates, Reply

CLIENT_ID = "Client_Id_outbox_faults"
SECRET = "Client_Secret_f4ult-RUNS-never-shown-9c1"
SECRET_ENV = "CARTEIRA_FAULTS_SECRET"
"""The child processes read the secret from this variable, as an ERP would from its own configuration."""
SECRET_FORMS = (SECRET, base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode())
"""The secret as itself and inside an HTTP Basic header: neither may show anywhere carteira writes."""
AGREEMENT = "wallet"
TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
CREATE_PATHS = frozenset({"/v1/charge/one-step", "/v1/carnet"})
CREATE_ROUTES = frozenset({"POST /charge/one-step", "POST /carnet"})
REFUSED_TAX_ID_BASE = 999_999


def env_int(name: str, default: int) -> int:
    """``$name`` as a whole number, or ``default`` (the full-size runs are asked for, not the default)."""
    raw = os.environ.get(name)
    return int(raw) if raw else default


def cpf(base: int) -> str:
    """A valid CPF whose first nine digits are ``base`` (the emulator checks the check digits)."""
    digits = [int(d) for d in f"{base:09d}"]
    for length in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(length + 1, 1, -1), strict=True))
        digits.append(0 if total % 11 < 2 else 11 - total % 11)
    return "".join(map(str, digits))


# -- the emulator, recording every create --------------------------------------------------------------


@attrs.frozen
class CreateRequest:
    """One create the emulator received for ``operation_id``: when it came and ended, and whether it made a charge."""

    operation_id: str | None  # None: a body cut short, which Efí cannot read (and refuses)
    arrived: float
    finished: float
    landed: bool


class RecordingEmulator(EfiEmulator):
    """The Efí emulator, also keeping every create request it receives (by ``metadata.custom_id``).

    The charges show what was created; the requests show what was *sent*: a create for an operation
    sent again while an earlier one was still running or had landed is the mistake the outbox must
    never make, even when the gateway happens to refuse the second.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._creates: list[CreateRequest] = []
        self._creates_lock = threading.Lock()

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer as the emulator does, noting a create's operation id, times and outcome."""
        if method.upper() != "POST" or path not in CREATE_PATHS:
            return super().handle(method, path, query, headers, body)
        arrived = time.monotonic()
        reply = super().handle(method, path, query, headers, body)
        landed = reply.status == 200 and reply.fault != "timeout"
        operation_id = _custom_id(body)
        with self._creates_lock:
            self._creates.append(CreateRequest(operation_id, arrived, time.monotonic(), landed))
        return reply

    @property
    def creates(self) -> list[CreateRequest]:
        """Every create received so far, in arrival order."""
        with self._creates_lock:
            return sorted(self._creates, key=lambda request: request.arrived)

    def charges_by_operation(self) -> Counter[str]:
        """How many charges (a carnet counted once) the emulator holds per operation id."""
        return _charges_by_operation(self.charges)


def _charges_by_operation(charges: Mapping[int, Mapping[str, Any]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    carnets_seen: set[object] = set()
    for charge in charges.values():
        carnet = charge.get("carnet_id")
        if carnet is not None:
            if carnet in carnets_seen:
                continue
            carnets_seen.add(carnet)
        counts[str(charge.get("custom_id"))] += 1
    return counts


def _custom_id(body: bytes) -> str | None:
    """The operation id a create carries; ``None`` for a body cut short (its sender was killed while writing it)."""
    try:
        metadata = json.loads(body).get("metadata") or {}
    except (ValueError, AttributeError):
        return None
    return str(metadata.get("custom_id"))


def recording_emulator(today: date, *, latency_s: float = 0.0) -> RecordingEmulator:
    """A recording emulator frozen on ``today``; a timed-out request is dropped after 1 s, not the default 30."""
    emu = RecordingEmulator(CLIENT_ID, SECRET, today=today, latency_s=latency_s, callback_mode="manual")
    emu.timeout_hang_s = 1.0
    return emu


def fault_rates(seed: int, *, rate: float, slow_s: float) -> FaultRates:
    """Every kind of fault at ``rate`` on every API route: 5xx, timeouts, lost answers, creates that land late."""
    return FaultRates(seed=seed, fail=rate, timeout=rate, lost=rate, slow=rate, slow_s=slow_s)


# -- the portfolio ---------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Wiring:
    """The timings of one run: the client's timeout, the outbox's lease and quiet, how many send at once."""

    client_timeout_s: float
    timing: OutboxTiming
    concurrency: int = 8
    retry: RetryPolicy = attrs.field(
        factory=lambda: RetryPolicy(attempts=3, backoff_initial_s=0.01, backoff_max_s=0.05)
    )


SLOW_CREATE_S = 0.6
"""How long a slow create takes to land at the emulator in the proof: three times the client's timeout."""
PROOF_WIRING = Wiring(
    client_timeout_s=0.2,
    timing=OutboxTiming(lease=timedelta(seconds=1), quiet=timedelta(seconds=1.5), backoff=timedelta(seconds=0.2)),
)
"""The proof's timings (issue #12): a create lands 0.6 s after it was sent, the client gives up at 0.2 s."""
FAULT_SLOW_S = 0.35
FAULT_BATCH = env_int("CARTEIRA_FAULT_BATCH", 64)
"""Operations per claim, scaled with the lease: the outbox's 500 over 8 threads is a few seconds of calls
against a lease of 5 minutes; here the lease is 1.5 s, and 64 claimed at a time take a quarter of a second
(a chunk of 500 would mostly outlive its lease, which is safe, since nothing is sent after it, but slow)."""
FAULT_WIRING = Wiring(
    client_timeout_s=0.2,
    timing=OutboxTiming(
        lease=timedelta(seconds=1.5), quiet=timedelta(seconds=2), backoff=timedelta(seconds=0.2), batch=FAULT_BATCH
    ),
    retry=RetryPolicy(attempts=2, backoff_initial_s=0.01, backoff_max_s=0.05),
)
"""The fault runs' timings: the longest call, a look-up with its retries, takes 0.8 s (2 GETs x 2 tries of
0.2 s), and the quiet period outlasts it plus a slow create's landing (0.35 s) with room for a busy machine,
as decision 0702 asks."""
KILL_SLOW_S = 0.2
KILL_WIRING = Wiring(
    client_timeout_s=0.1,
    timing=OutboxTiming(
        lease=timedelta(seconds=0.6), quiet=timedelta(seconds=0.9), backoff=timedelta(seconds=0.1), batch=8
    ),
    retry=RetryPolicy(attempts=1),
)
"""The SIGKILL trials' timings, shorter (20 trials per store): no retry inside the adapter, so the longest call
takes 0.2 s, and the quiet period outlasts it plus a slow create's landing (0.2 s) with room to spare; claims of
8, so that 4 workers share the work."""


def efi_at(url: str, wiring: Wiring, today: date, *, secret: str = SECRET) -> EfiGateway:
    """The real adapter over loopback HTTP to the emulator at ``url``."""
    return EfiGateway(
        CLIENT_ID,
        secret,
        "sandbox",
        base_url=url,
        timeout=wiring.client_timeout_s,
        retry=wiring.retry,
        today=lambda: today,
    )


def portfolio_on(store: Store, efi: EfiGateway, wiring: Wiring) -> Portfolio:
    """A portfolio on the real clock (lease and quiet are real seconds here) with every day a business day."""
    return Portfolio(store, gateway=efi, timing=wiring.timing, clock=SystemClock(), calendar=EveryDayCalendar())


def account() -> GatewayAccount:
    """The portfolio's account at Efí (no secret in it)."""
    return GatewayAccount(
        CLIENT_ID, Environment.SANDBOX, AGREEMENT, "0", "itau-1234", Money("2.50"), "101", "201", "301", notify=("ana",)
    )


def seed_billets(
    store: Store, count: int, today: date, *, prefix: str = "i", refused_every: int = 0
) -> tuple[list[str], set[str]]:
    """``count`` open installments on the wallet, each with its own customer and amount, and their ids.

    Every ``refused_every``-th customer (0: none) has a CPF the emulator refuses (code 4600142):
    the refusals this run chose to inject, the only operations allowed to end FAILED. Returns the
    installment ids and those of the refused ones.
    """
    ids, refused = [], set()
    for start in range(0, count, 1000):
        with store.unit_of_work() as uow:
            for n in range(start, min(count, start + 1000)):
                bad = refused_every > 0 and n % refused_every == refused_every - 1
                tax_id = cpf(REFUSED_TAX_ID_BASE - n % 7) if bad else cpf(100_000 + n)
                uow.customers.put(
                    Customer(
                        f"{prefix}c{n}",
                        f"Cliente Numero {n}",
                        tax_id=tax_id,
                        email=f"cliente{n}@example.com.br",
                        phone="11987654321",
                    )
                )
                uow.installments.put(
                    Installment(
                        f"{prefix}{n}",
                        f"{prefix}c{n}",
                        today + timedelta(days=30 + n % 60),
                        Money.from_cents(10_000 + n),
                        TERMS,
                        bank_contract=AGREEMENT,
                        number=1,
                        description="Internet 300 MB",
                    )
                )
                ids.append(f"{prefix}{n}")
                if bad:
                    refused.add(f"{prefix}{n}")
            uow.commit()
    return ids, refused


def refused_documents() -> frozenset[str]:
    """The CPFs :func:`seed_billets` gives the refused customers (for the emulator's ``inconsistent_documents``)."""
    return frozenset(cpf(REFUSED_TAX_ID_BASE - k) for k in range(7))


def drain_to_the_end(portfolio: Portfolio, *, concurrency: int, deadline_s: float) -> int:
    """Drain, sleeping until the next operation is due, until none is PENDING or UNKNOWN; returns the rounds."""
    gateway = portfolio.gateway
    give_up = time.monotonic() + deadline_s
    rounds = 0
    while True:
        gateway.drain(concurrency=concurrency)
        rounds += 1
        due = gateway.next_due()
        if due is None:
            return rounds
        if time.monotonic() > give_up:
            open_ops = gateway.operations(OperationFilter(status=OperationStatus.UNKNOWN, limit=5))
            raise AssertionError(f"operations still open after {deadline_s} s, e.g. {open_ops}")
        wait = (due - datetime.now(due.tzinfo)).total_seconds()
        time.sleep(min(max(wait, 0.0) + 0.01, 1.0))


# -- the audit -------------------------------------------------------------------------------------------


@attrs.frozen
class Audit:
    """What a run came to: the figures the issue asks for, and the witnesses behind them."""

    operations: int
    sent: int
    failed: int
    lost: tuple[str, ...]  # operations not SENT or FAILED after the drain
    duplicates: tuple[str, ...]  # operations with more than one charge at the emulator
    resent_while_live: tuple[str, ...]  # a create sent again while an earlier one ran or had landed
    unexpected_failures: tuple[str, ...]  # FAILED operations the run did not choose to refuse
    refusals_not_failed: tuple[str, ...]  # refused by choice, yet not FAILED
    charge_mismatches: tuple[str, ...]  # SENT without its charge in the store and at the emulator, or apart
    stray_charges: tuple[str, ...]  # charges at the emulator for no operation of the run
    creates: int  # create requests the emulator received
    torn: int  # create bodies cut short by a kill (unreadable, refused: no operation id to count them under)
    reissued: int  # operations whose create went out more than once (each time after the previous never landed)

    @property
    def clean(self) -> bool:
        """0 charges twice, 0 operations lost, nothing sent again while live, every account in order."""
        return not (
            self.lost
            or self.duplicates
            or self.resent_while_live
            or self.unexpected_failures
            or self.refusals_not_failed
            or self.charge_mismatches
            or self.stray_charges
        )

    def figures(self) -> str:
        """One line for the report."""
        return (
            f"ops={self.operations} sent={self.sent} failed={self.failed} duplicates={len(self.duplicates)} "
            f"lost={len(self.lost)} resent_while_live={len(self.resent_while_live)} creates={self.creates} "
            f"reissued={self.reissued} torn={self.torn}"
        )


def audit(store: Store, emulator: RecordingEmulator, installment_ids: Sequence[str], refused: Collection[str]) -> Audit:
    """Compare the store, the emulator's charges and the create requests for the run's installments."""
    wanted = set(installment_ids)
    with store.unit_of_work() as uow:
        operations = {op.documents[0]: op for op in uow.operations.find(OperationFilter()) if op.documents[0] in wanted}
        charges = uow.gateway_charges.get_many(installment_ids)
    at_emulator_charges = emulator.charges  # one snapshot: each read copies every charge
    by_operation = _charges_by_operation(at_emulator_charges)
    op_ids = {op.id for op in operations.values()}
    mismatches = []
    for installment_id, op in operations.items():
        charge = charges.get(installment_id)
        at_emulator = by_operation.get(op.id, 0)
        if op.status is OperationStatus.SENT and (
            charge is None
            or at_emulator != 1
            or charge.operation_id != op.id
            or _custom_id_of(at_emulator_charges, charge.charge_id) != op.id
        ):
            mismatches.append(f"{op.id} ({installment_id}): charge {charge} and {at_emulator} at the emulator")
        if op.status is OperationStatus.FAILED and at_emulator:
            mismatches.append(f"{op.id} ({installment_id}) FAILED but created at the emulator")
    statuses = Counter(op.status for op in operations.values())
    creates = emulator.creates
    resent, reissued = _resent_while_live(creates)
    return Audit(
        operations=len(operations),
        sent=statuses[OperationStatus.SENT],
        failed=statuses[OperationStatus.FAILED],
        lost=tuple(
            op.id for op in operations.values() if op.status not in (OperationStatus.SENT, OperationStatus.FAILED)
        )
        + tuple(i for i in installment_ids if i not in operations),
        duplicates=tuple(op_id for op_id, n in by_operation.items() if n > 1),
        resent_while_live=tuple(resent),
        unexpected_failures=tuple(
            op.id for i, op in operations.items() if op.status is OperationStatus.FAILED and i not in refused
        ),
        refusals_not_failed=tuple(i for i in refused if operations[i].status is not OperationStatus.FAILED),
        charge_mismatches=tuple(mismatches),
        stray_charges=tuple(op_id for op_id in by_operation if op_id not in op_ids),
        creates=len([c for c in creates if c.operation_id in op_ids]),
        torn=len([c for c in creates if c.operation_id is None]),
        reissued=reissued,
    )


def _custom_id_of(charges: Mapping[int, Mapping[str, Any]], charge_id: str) -> str | None:
    charge = charges.get(int(charge_id))
    return None if charge is None else str(charge.get("custom_id"))


def _resent_while_live(creates: Iterable[CreateRequest]) -> tuple[list[str], int]:
    """Operations whose create was sent again while an earlier one was still running or had landed."""
    by_operation: dict[str, list[CreateRequest]] = defaultdict(list)
    bad, reissued = [], 0
    for request in creates:
        if request.operation_id is not None:
            by_operation[request.operation_id].append(request)
        elif request.landed:  # pragma: no cover - the emulator reads no charge out of a torn body
            bad.append(f"a torn create body made a charge at {request.arrived}")
    for operation_id, requests in by_operation.items():
        reissued += len(requests) > 1
        for n, later in enumerate(requests[1:], start=1):
            earlier = requests[:n]
            if any(e.landed for e in earlier) or max(e.finished for e in earlier) > later.arrived:
                bad.append(operation_id)
                break
    return bad, reissued


# -- the secret ------------------------------------------------------------------------------------------


def secret_in(texts: Iterable[str | bytes]) -> list[str]:
    """The texts (shortened) in which the secret shows, in any of :data:`SECRET_FORMS`."""
    hits = []
    for text in texts:
        raw = text if isinstance(text, bytes) else text.encode()
        if any(form.encode() in raw for form in SECRET_FORMS):
            hits.append(raw[:200].decode(errors="replace"))
    return hits


def store_dump(store: Store, where: str | None = None) -> list[bytes]:
    """Everything a store holds, as bytes: every table of a MemoryStore, a SQLite file (and its journal files)
    byte for byte plus every row, or every row of every table in a PostgreSQL schema."""
    if isinstance(store, MemoryStore):
        return [repr(store._committed.tables).encode()]  # every table: the point of the dump
    assert where is not None
    if where.endswith(".db"):
        files = [Path(where + suffix) for suffix in ("", "-wal", "-journal", "-shm")]
        dump = [path.read_bytes() for path in files if path.exists()]
        with sqlite3.connect(where) as conn:
            tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            dump += [repr(conn.execute(f'SELECT * FROM "{table}"').fetchall()).encode() for table in tables]
        return dump
    return _postgres_dump(where)


def _postgres_dump(schema: str) -> list[bytes]:
    import psycopg

    from tests.support import POSTGRES_DSN

    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
            )
        ]
        return [
            "\n".join(str(row[0]) for row in conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t')).encode()
            for table in tables
        ]
