"""Sending the operations log (G8-G11): claim what is due, send it, record the answer; never a charge twice.

An operation reaches the gateway in three units of work. The claim takes due operations (on
PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so workers never take the same one), builds each request
from the data as it stands (G9) and marks the operation in flight: UNKNOWN until its answer is
recorded, due again after ``lease``. Then the gateway is called, outside any transaction. Then the
answer is recorded with what it changes (the installment's charge). A worker killed between the
claim and the record leaves the operation UNKNOWN: a create is then looked up by its id before
it can be issued again, and issued again only when a lookup made after ``quiet`` finds nothing
(decision 0702); a state change (settle, cancel, due date, resend) is simply sent again, which the
gateway treats as done when the target state is there (G5).

Operations of one document go out in the order they were written: one waits while an earlier
operation of any of its documents is still PENDING or UNKNOWN.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from carteira.domain.installment import Installment
from carteira.domain.operations import (
    ChargeState,
    GatewayCharge,
    Operation,
    OperationError,
    OperationFilter,
    OperationKind,
    OperationStatus,
)
from carteira.domain.portfolio import Customer
from carteira.errors import (
    CarteiraError,
    Conflict,
    GatewayAuthenticationError,
    GatewayError,
    GatewayOutcomeUnknown,
    InactiveAccount,
)
from carteira.ports.clock import Clock
from carteira.ports.gateway import CarnetId, ChargeId, ChargeSummary, PaymentGateway
from carteira.ports.notifier import Notifier
from carteira.ports.storage import Store, UnitOfWork
from carteira.services.charge_requests import as_text, billet_request, carnet_request

__all__ = ["DrainReport", "Outbox", "OutboxTiming", "Progress"]

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called after each operation of a run is recorded, ``done`` growing."""

_OPEN = (OperationStatus.PENDING, OperationStatus.UNKNOWN)


@attrs.frozen(kw_only=True)
class OutboxTiming:
    """How the outbox waits: for a worker's send (``lease``), a lost create (``quiet``) and a retry (``backoff``).

    ``lease``: a worker starts no call for an operation later than ``lease`` after claiming it (a
    claimed operation still queued then is left for the next drain), and other workers leave it alone
    until then. ``quiet``: after the moment a create's outcome became unknown (its call returned
    without an answer, or its worker's lease ended), a lookup that finds nothing proves nothing until
    ``quiet`` has passed; it must exceed the longest one call to the adapter can take, its own retries
    included, plus the gateway's time to act on a request (decision 0702). Retryable failures wait
    ``backoff``, doubled at each attempt, and end FAILED after ``max_attempts``. ``batch`` operations
    are claimed, and at most ``batch`` answers recorded, per unit of work.
    """

    lease: timedelta = timedelta(minutes=5)
    quiet: timedelta = timedelta(minutes=10)
    backoff: timedelta = timedelta(seconds=30)
    max_attempts: int = 6
    batch: int = 500

    def __attrs_post_init__(self) -> None:
        from carteira.errors import InvalidInput

        if self.lease <= timedelta(0) or self.backoff <= timedelta(0):
            raise InvalidInput("lease and backoff must be positive", field="timing")
        if self.quiet < self.lease:
            raise InvalidInput(
                "quiet must be at least the lease: a lost create may land until then",
                field="quiet",
                raw=str(self.quiet),
            )
        if self.max_attempts < 1 or self.batch < 1:
            raise InvalidInput("max_attempts and batch must be at least 1", field="timing")

    def retry_at(self, now: datetime, attempts: int) -> datetime | None:
        """When a retryable failure after ``attempts`` attempts (this one included) is retried; ``None``: give up."""
        if attempts >= self.max_attempts:
            return None
        wait: timedelta = self.backoff * (2 ** (attempts - 1))
        return now + wait


@attrs.frozen
class DrainReport:
    """What a send or a drain did: operations ``sent``, ``failed`` (a person must act), ``retrying`` (a retryable
    failure, due again later), ``unknown`` (answer lost or a lookup not yet conclusive) and ``waiting`` (left for
    an earlier operation of the same document)."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0
    unknown: int = 0
    waiting: int = 0

    def __add__(self, other: DrainReport) -> DrainReport:
        return DrainReport(*(a + b for a, b in zip(attrs.astuple(self), attrs.astuple(other), strict=True)))


@attrs.frozen
class _Answer:
    """What one call to the gateway came to, before it is recorded."""

    status: OperationStatus
    response: str = ""
    error: OperationError | None = None
    charges: tuple[GatewayCharge, ...] = ()
    changes: tuple[tuple[str, dict[str, Any]], ...] = ()  # (installment id, fields of its charge to change)
    warnings: tuple[str, ...] = ()
    asked_at: datetime | None = None  # when a lookup read the gateway: what decision 0702's quiet is measured at
    expired: bool = False  # not sent: the worker's lease had ended before a thread was free to send it
    refused: GatewayAuthenticationError | None = None  # the gateway refused the credentials: stop the drain


_Call = Callable[[PaymentGateway], _Answer]


@attrs.frozen
class _Job:
    operation: Operation  # as stored by the claim
    call: _Call
    lookup: bool = False  # an unknown create being looked up, not a request being sent


def _error_of(error: CarteiraError) -> OperationError:
    if isinstance(error, GatewayError):
        return OperationError(error.message, code=error.code, field=error.field, retryable=error.retryable)
    return OperationError(str(error), retryable=False)


class Outbox:
    """Claims, sends and records operations of the log over ``store`` and ``gateway`` (see the module)."""

    def __init__(
        self,
        store: Store,
        gateway: PaymentGateway,
        *,
        clock: Clock,
        notifier: Notifier | None,
        timing: OutboxTiming,
        notification_url: str | None,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._clock = clock
        self._notifier = notifier
        self._timing = timing
        self._notification_url = notification_url

    def send(
        self, operation_ids: Sequence[str], *, concurrency: int = 8, progress: Progress | None = None
    ) -> DrainReport:
        """Send the operations ``operation_ids`` that are due now (those just written), ``concurrency`` at once."""
        chunks = iter(_chunks(len(operation_ids), first=2 * concurrency, then=self._timing.batch))
        waiting = 0

        def claim(holding: set[str]) -> list[_Job] | None:
            nonlocal waiting
            bounds = next(chunks, None)
            if bounds is None:
                return None
            jobs, blocked = self._claim(operation_ids[bounds[0] : bounds[1]], holding=holding)
            waiting += blocked  # the chunks are disjoint: each blocked operation is counted once
            return jobs

        report = self._pump(claim, concurrency, progress, total=len(operation_ids))
        return attrs.evolve(report, waiting=waiting)

    def drain(self, *, concurrency: int = 8, limit: int | None = None, progress: Progress | None = None) -> DrainReport:
        """Send (or look up) every operation due now, claimed ``timing.batch`` at a time, until none is or ``limit``.

        What becomes due while the drain runs (a lookup that finds nothing after ``quiet`` makes its
        create PENDING again; an earlier operation of a document is recorded) is sent in the same drain.
        """
        claimed = waiting = 0

        def claim(holding: set[str]) -> list[_Job] | None:
            nonlocal claimed, waiting
            size = self._timing.batch if limit is None else min(self._timing.batch, limit - claimed)
            if size <= 0:
                return None
            # The last claim's count of waiting operations: earlier claims saw the same rows.
            jobs, waiting = self._claim(None, size, holding=holding)
            claimed += len(jobs)
            return jobs

        report = self._pump(claim, concurrency, progress, total=None)
        return attrs.evolve(report, waiting=waiting)

    def next_due(self) -> datetime | None:
        """When the earliest PENDING or UNKNOWN operation becomes due (``None`` when every one is settled)."""
        with self._store.unit_of_work() as uow:
            times = [
                operation.next_attempt_at or operation.created_at
                for status in _OPEN
                for operation in uow.operations.find(OperationFilter(status=status))
            ]
        return min(times, default=None)

    # -- the claim -------------------------------------------------------------------------------

    def _claim(
        self,
        ids: Sequence[str] | None,
        limit: int = 0,
        *,
        holding: Collection[str] = (),
    ) -> tuple[list[_Job], int]:
        """Claim what is due (``ids`` among it, or up to ``limit``), leaving alone what this drain still ``holding``:
        a call of it may be out past its lease, and its answer will be recorded."""
        now = self._clock.now()
        for _ in range(3):  # another worker may claim some of them first: take what is left
            try:
                with self._store.unit_of_work() as uow:
                    if not uow.gateway_account.get().active:
                        raise InactiveAccount("send operations")
                    if ids is None:
                        due = [op for op in uow.operations.due(now, limit=limit) if op.id not in holding]
                    else:
                        due = [
                            op for op in uow.operations.get_many(ids).values() if op.due(now) and op.id not in holding
                        ]
                    jobs, waiting = self._jobs(uow, due, now)
                    stored = uow.operations.put_many([job.operation for job in jobs])
                    uow.commit()
                return [attrs.evolve(job, operation=op) for job, op in zip(jobs, stored, strict=True)], waiting
            except Conflict:
                continue
        return [], 0

    def _jobs(self, uow: UnitOfWork, due: list[Operation], now: datetime) -> tuple[list[_Job], int]:
        documents = {document for op in due for document in op.documents}
        earlier = uow.operations.of_documents(documents)
        installments = uow.installments.get_many(documents)
        customers = uow.customers.get_many({i.customer_id for i in installments.values()})
        charges = uow.gateway_charges.get_many(documents)
        jobs: list[_Job] = []
        waiting = 0
        first_open = _first_open_by_document(earlier)
        for op in sorted(due, key=lambda o: (o.created_at, o.id)):
            if any(first_open[document] != (op.created_at, op.id) for document in op.documents):
                waiting += 1
                continue
            if op.status is OperationStatus.UNKNOWN and op.kind.creates:
                held = op.held(now + self._timing.lease)
                jobs.append(_Job(held, self._lookup(held, installments), lookup=True))
                continue
            request, call = self._call(op, installments, customers, charges)
            jobs.append(_Job(op.claimed(now, lease=self._timing.lease, request=request), call))
        return jobs, waiting

    def _call(
        self,
        op: Operation,
        installments: dict[str, Installment],
        customers: dict[str, Customer],
        charges: dict[str, GatewayCharge],
    ) -> tuple[str, _Call]:
        """The request text and the gateway call of ``op``, built from the data as it stands (G9)."""
        parcels = [installments[document] for document in op.documents if document in installments]
        if len(parcels) != len(op.documents):
            return "", _refused(f"installment {_missing(op, installments)} no longer exists", "documents")
        customer = customers.get(parcels[0].customer_id)
        if op.kind is OperationKind.ISSUE_BILLET or op.kind is OperationKind.ISSUE_CARNET:
            if customer is None:
                return "", _refused(f"customer {parcels[0].customer_id} does not exist", "customer_id")
            if any(parcel.status.value == "settled" for parcel in parcels):
                return "", _refused("the installment was settled before its charge went out", "documents")
            if op.kind is OperationKind.ISSUE_BILLET:
                billet = billet_request(op.id, parcels[0], customer, notification_url=self._notification_url)
                return as_text(billet), _issue_billet(op, billet)
            carnet = carnet_request(op.id, parcels, customer, notification_url=self._notification_url)
            return as_text(carnet), _issue_carnet(op, carnet, parcels)
        charge = charges.get(op.documents[0])
        if charge is None or charge.state is ChargeState.CANCELED:
            return "", _nothing_to_do("the installment has no live charge at the gateway")
        if op.kind is OperationKind.CHANGE_DUE_DATE:
            due = date.fromisoformat(op.argument("due") or "")
            return as_text({"charge": charge.charge_id, "due": due}), _change_due(charge, due)
        if op.kind is OperationKind.SETTLE:
            return as_text({"settle": charge.charge_id}), _change_state(charge, ChargeState.SETTLED)
        if op.kind is OperationKind.CANCEL:
            return as_text({"cancel": charge.charge_id}), _change_state(charge, ChargeState.CANCELED)
        email = op.argument("email") or (customer.email if customer is not None else None) or ""
        whole = op.argument("scope") == "carnet"
        return as_text({"resend": charge.carnet_id if whole else charge.charge_id, "email": email}), _resend(
            charge, email, whole=whole
        )

    def _lookup(self, op: Operation, installments: dict[str, Installment]) -> _Call:
        def call(gateway: PaymentGateway) -> _Answer:
            asked_at = self._clock.now()
            found = gateway.find_charges(op.id)
            if not found:
                return _Answer(OperationStatus.UNKNOWN, asked_at=asked_at)
            if op.kind is OperationKind.ISSUE_BILLET and len(found) > 1:
                ids = ", ".join(summary.charge_id for summary in found)
                message = f"the operation created {len(found)} charges ({ids}); cancel the extra ones by hand"
                return _Answer(OperationStatus.FAILED, error=OperationError(message, field="operation_id"))
            charges = tuple(_charge_of(op, summary, installments) for summary in found)
            return _Answer(OperationStatus.SENT, response=as_text([as_text(s) for s in found]), charges=charges)

        return call

    # -- sending and recording -------------------------------------------------------------------

    def _pump(
        self,
        claim: Callable[[set[str]], list[_Job] | None],
        concurrency: int,
        progress: Progress | None,
        *,
        total: int | None,
    ) -> DrainReport:
        """Send claimed jobs on ``concurrency`` threads and record their answers as they come (see :class:`_Pump`)."""
        return _Pump(self, claim, concurrency, progress, total).run()

    def _answer(self, job: _Job) -> _Answer:
        try:
            return job.call(self._gateway)
        except GatewayAuthenticationError as error:
            # The credentials were refused before anything was sent: the operation is not at fault.
            # It waits its backoff and the drain stops (decision 0705), instead of every operation failing.
            return _Answer(OperationStatus.PENDING, error=attrs.evolve(_error_of(error), retryable=True), refused=error)
        except GatewayOutcomeUnknown as error:
            if job.operation.kind.creates:
                return _Answer(OperationStatus.UNKNOWN, error=_error_of(error))
            # A state change sent twice is harmless (G5): try it again after the backoff.
            return _Answer(OperationStatus.PENDING, error=attrs.evolve(_error_of(error), retryable=True))
        except CarteiraError as error:
            return _Answer(OperationStatus.FAILED, error=_error_of(error))

    def _record_all(self, ready: list[tuple[_Job, _Answer]]) -> list[str]:
        """Record ``ready`` answers in one unit; when another worker got to one of them first, one by one."""
        skipped = ["unknown" for _job, answer in ready if answer.expired]
        ready = [(job, answer) for job, answer in ready if not answer.expired]
        return skipped + self._record_answers(ready) if ready else skipped

    def _record_answers(self, ready: list[tuple[_Job, _Answer]]) -> list[str]:
        if len({job.operation.id for job, _answer in ready}) != len(ready):  # two answers of one operation
            return [self._record(job, answer) for job, answer in ready]
        now = self._clock.now()
        try:
            with self._store.unit_of_work() as uow:
                results = [self._next(job.operation, answer, now, lookup=job.lookup) for job, answer in ready]
                uow.operations.put_many(results)
                _store_charges(uow, [a for r, (_, a) in zip(results, ready, strict=True) if _sent(r)])
                uow.commit()
        except Conflict:
            return [self._record(job, answer) for job, answer in ready]
        for result in results:
            if result.status is OperationStatus.FAILED:
                self._tell(result)
        return [_outcome_name(result) for result in results]

    def _record(self, job: _Job, answer: _Answer) -> str:
        operation = job.operation
        for _ in range(3):
            now = self._clock.now()
            try:
                with self._store.unit_of_work() as uow:
                    if operation.status not in _OPEN:  # settled meanwhile by another worker
                        return "sent" if operation.status is OperationStatus.SENT else "failed"
                    result = self._next(operation, answer, now, lookup=job.lookup)
                    uow.operations.put(result)
                    if _sent(result):
                        _store_charges(uow, [answer])
                    uow.commit()
                break
            except Conflict:
                with self._store.unit_of_work() as uow:
                    operation = uow.operations.get(operation.id)
        else:  # pragma: no cover - three conflicts in a row: the next drain sees it again
            return "unknown"
        if result.status is OperationStatus.FAILED:
            self._tell(result)
        return _outcome_name(result)

    def _next(self, op: Operation, answer: _Answer, now: datetime, *, lookup: bool) -> Operation:
        if lookup and op.status is not OperationStatus.UNKNOWN:
            # Another worker's look-up decided meanwhile (the answer is applied after a Conflict). A charge
            # found still settles it: it must never be issued again. Finding nothing adds nothing.
            found = answer.status is OperationStatus.SENT and answer.error is None
            return op.sent(answer.response, now) if found and op.status is OperationStatus.PENDING else op
        if lookup and answer.error is None and answer.status is not OperationStatus.FAILED:
            return op.after_lookup(
                found=answer.status is OperationStatus.SENT,
                now=answer.asked_at or now,  # what the gateway had at the moment it was read, not when told
                quiet=self._timing.quiet,
                response=answer.response,
            )
        if lookup and (answer.error is None or answer.error.retryable or answer.status is OperationStatus.UNKNOWN):
            # The lookup itself could not be made: look again after the backoff; nothing was issued.
            return op.held(now + self._timing.backoff)
        if answer.status is OperationStatus.SENT:
            return op.sent(answer.response, now, warnings=answer.warnings)
        if answer.status is OperationStatus.UNKNOWN:
            assert answer.error is not None
            return op.unknown(answer.error, now)
        assert answer.error is not None
        if answer.error.retryable:
            return op.failed(answer.error, now, retry_at=self._timing.retry_at(now, op.attempts + 1))
        return op.failed(answer.error, now)

    def _tell(self, operation: Operation) -> None:
        if self._notifier is None:
            return
        with self._store.unit_of_work() as uow:
            users = uow.gateway_account.get().notify
        if not users:
            return
        error = operation.error
        detail = "" if error is None else f"{error.message}" + (f" (field {error.field})" if error.field else "")
        self._notifier.notify(
            users,
            f"carteira: {operation.kind.value} {operation.id} failed",
            f"Operation {operation.id} ({operation.kind.value}) for {', '.join(operation.documents)} failed: "
            f"{detail}. Fix the data and resend it from the operations panel.",
        )


def _outcome_name(operation: Operation) -> str:
    if operation.status is OperationStatus.SENT:
        return "sent"
    if operation.status is OperationStatus.FAILED:
        return "failed"
    if operation.status is OperationStatus.PENDING:
        return "retrying"
    return "unknown"


class _Pump:
    """One send or drain: claimed jobs sent on a pool of threads, their answers recorded several per unit.

    The next chunk is claimed while enough jobs are still waiting for a thread, so the threads never
    wait for a claim; the answers that arrived while a unit was being written go in the next one (a
    group commit), so a store that syncs every commit to disk does not serialize the run behind its
    fsyncs. An answer waiting to be written is, if the process dies, an operation in flight: UNKNOWN,
    looked up by the next drain, exactly as if the answer had been lost on the wire.
    """

    def __init__(
        self,
        outbox: Outbox,
        claim: Callable[[set[str]], list[_Job] | None],
        concurrency: int,
        progress: Progress | None,
        total: int | None,
    ) -> None:
        self._outbox = outbox
        self._claim = claim
        self._concurrency = max(1, concurrency)
        self._progress = progress
        self._total = total
        self._answers: queue.SimpleQueue[tuple[_Job, _Answer | BaseException]] = queue.SimpleQueue()
        self._answered = 0  # counted by the sending threads, under the lock
        self._lock = threading.Lock()
        self._counts = {"sent": 0, "failed": 0, "retrying": 0, "unknown": 0}
        self._submitted = self._recorded = 0
        self._more = True
        self._stop: GatewayAuthenticationError | None = None
        self._holding: set[str] = set()  # the operations whose call is out: never claimed twice by one drain
        # A claim is a unit of work (a tenth of a second for a few hundred operations): start it while
        # enough jobs wait for a thread to keep every thread busy until it is done.
        self._low_water = self._concurrency + outbox._timing.batch // 2

    def run(self) -> DrainReport:
        with ThreadPoolExecutor(max_workers=self._concurrency) as pool:
            while True:
                self._fill(pool)
                if self._submitted == self._recorded:
                    if self._stop is not None:
                        raise self._stop
                    return DrainReport(**self._counts)
                self._record(_take(self._answers, self._outbox._timing.batch))

    def _fill(self, pool: ThreadPoolExecutor) -> None:
        """Claim and submit more jobs while few enough wait for a thread."""
        while self._more and self._submitted - self._answered <= self._low_water:
            jobs = self._claim(self._holding)
            if jobs is None or (not jobs and self._submitted == self._recorded):
                self._more = False  # nothing more to claim, and nothing out whose answer could change that
            if not jobs:
                return  # claim again once the answers out are recorded
            self._submitted += len(jobs)
            self._holding.update(job.operation.id for job in jobs)
            for job in jobs:
                pool.submit(self._send, job)

    def _send(self, job: _Job) -> None:
        try:
            ends = job.operation.lease_ends()
            if not job.lookup and ends is not None and self._outbox._clock.now() >= ends:
                # Another worker may have taken it since: never start a request after the lease.
                self._answers.put((job, _Answer(OperationStatus.UNKNOWN, expired=True)))
            else:
                self._answers.put((job, self._outbox._answer(job)))
        except BaseException as error:  # not the gateway's: a bug, raised again in the caller's thread
            self._answers.put((job, error))
        finally:
            with self._lock:
                self._answered += 1

    def _record(self, ready: list[tuple[_Job, _Answer]]) -> None:
        self._recorded += len(ready)
        self._holding.difference_update(job.operation.id for job, _answer in ready)
        refused = next((answer.refused for _job, answer in ready if answer.refused is not None), None)
        if refused is not None and self._stop is None:
            self._more = False  # claim nothing more; what is out is recorded, then the refusal raised
            self._stop = refused
        for outcome in self._outbox._record_all(ready):
            self._counts[outcome] += 1
            if self._progress is not None:
                done = sum(self._counts.values())
                self._progress(done, self._total if self._total is not None else self._submitted)


def _first_open_by_document(operations: Iterable[Operation]) -> dict[str, tuple[datetime, str]]:
    """For each document, the (created_at, id) of its oldest PENDING or UNKNOWN operation: the one that goes first."""
    first: dict[str, tuple[datetime, str]] = {}
    for op in operations:
        if op.status in _OPEN:
            key = (op.created_at, op.id)
            for document in op.documents:
                if document not in first or key < first[document]:
                    first[document] = key
    return first


def _missing(op: Operation, installments: dict[str, Installment]) -> str:
    return next(document for document in op.documents if document not in installments)


def _refused(message: str, field: str) -> _Call:
    def call(_gateway: PaymentGateway) -> _Answer:
        return _Answer(OperationStatus.FAILED, error=OperationError(message, field=field))

    return call


def _nothing_to_do(message: str) -> _Call:
    def call(_gateway: PaymentGateway) -> _Answer:
        return _Answer(OperationStatus.SENT, response=as_text({"nothing sent": message}))

    return call


def _issue_billet(op: Operation, request: object) -> _Call:
    from carteira.ports.gateway import BilletRequest

    assert isinstance(request, BilletRequest)

    def call(gateway: PaymentGateway) -> _Answer:
        billet = gateway.create_billet(request)
        charge = GatewayCharge(
            op.documents[0], op.id, billet.charge_id, billet.due, billet.total, barcode=billet.barcode, link=billet.link
        )
        return _Answer(OperationStatus.SENT, response=as_text(billet), charges=(charge,))

    return call


def _issue_carnet(op: Operation, request: object, parcels: Sequence[Installment]) -> _Call:
    from carteira.ports.gateway import CarnetRequest

    assert isinstance(request, CarnetRequest)

    def call(gateway: PaymentGateway) -> _Answer:
        carnet = gateway.create_carnet(request)
        charges, warnings = [], []
        for issued, planned in zip(carnet.parcels, parcels, strict=False):
            charges.append(
                GatewayCharge(
                    planned.id,
                    op.id,
                    issued.charge_id,
                    issued.due,
                    issued.value,
                    carnet_id=carnet.carnet_id,
                    parcel=issued.parcel,
                    barcode=issued.barcode,
                    link=issued.link,
                )
            )
            if issued.due != planned.due:
                warnings.append(
                    f"parcel {issued.parcel} is due {issued.due.isoformat()} at the gateway, "
                    f"{planned.due.isoformat()} in the plan ({planned.id})"
                )
        if len(carnet.parcels) != len(parcels):
            warnings.append(f"the gateway issued {len(carnet.parcels)} parcels for {len(parcels)} planned")
        return _Answer(OperationStatus.SENT, response=as_text(carnet), charges=tuple(charges), warnings=tuple(warnings))

    return call


def _parcel(charge: GatewayCharge) -> tuple[CarnetId, int] | None:
    """The carnet and parcel a charge is, in the port's words; ``None`` for a billet of its own."""
    if charge.carnet_id is None or charge.parcel is None:
        return None
    return CarnetId(charge.carnet_id), charge.parcel


def _change_due(charge: GatewayCharge, due: date) -> _Call:
    def call(gateway: PaymentGateway) -> _Answer:
        parcel = _parcel(charge)
        if parcel is not None:
            gateway.change_parcel_due_date(*parcel, due)
        else:
            gateway.change_due_date(ChargeId(charge.charge_id), due)
        return _Answer(
            OperationStatus.SENT, response=as_text({"due": due}), changes=((charge.installment_id, {"due": due}),)
        )

    return call


def _change_state(charge: GatewayCharge, state: ChargeState) -> _Call:
    """Settle (``SETTLED``) or cancel (``CANCELED``) a charge; already there counts as done (G5)."""

    def call(gateway: PaymentGateway) -> _Answer:
        parcel, charge_id = _parcel(charge), ChargeId(charge.charge_id)
        if state is ChargeState.SETTLED:
            changed = gateway.settle_parcel(*parcel) if parcel else gateway.settle_charge(charge_id)
        else:
            changed = gateway.cancel_parcel(*parcel) if parcel else gateway.cancel_charge(charge_id)
        return _Answer(
            OperationStatus.SENT,
            response=as_text({state.value: changed}),
            changes=((charge.installment_id, {"state": state}),),
        )

    return call


def _resend(charge: GatewayCharge, email: str, *, whole: bool) -> _Call:
    def call(gateway: PaymentGateway) -> _Answer:
        parcel = _parcel(charge)
        if whole and parcel is not None:
            gateway.resend_carnet(parcel[0], email)
        elif parcel is not None:
            gateway.resend_parcel(*parcel, email)
        else:
            gateway.resend_billet(ChargeId(charge.charge_id), email)
        return _Answer(OperationStatus.SENT, response=as_text({"resent to": email}))

    return call


def _charge_of(op: Operation, summary: ChargeSummary, installments: dict[str, Installment]) -> GatewayCharge:
    """The charge a lookup found: which installment by its parcel (a billet's is the only document)."""
    index = (summary.parcel or 1) - 1
    installment = installments[op.documents[min(index, len(op.documents) - 1)]]
    return GatewayCharge(
        installment.id,
        op.id,
        summary.charge_id,
        installment.due,
        summary.total,
        carnet_id=summary.carnet_id,
        parcel=summary.parcel,
    )


def _chunks(count: int, *, first: int, then: int) -> Iterator[tuple[int, int]]:
    """(start, end) of chunks covering ``count``: a small first one so the first calls go out at once, then ``then``."""
    start, size = 0, max(1, min(first, then))
    while start < count:
        yield start, min(count, start + size)
        start, size = start + size, then


def _sent(operation: Operation) -> bool:
    return operation.status is OperationStatus.SENT


def _take(answers: queue.SimpleQueue[tuple[_Job, _Answer | BaseException]], most: int) -> list[tuple[_Job, _Answer]]:
    """The next answer (waiting for it) and every other one already there, up to ``most``."""
    ready = [answers.get()]
    while len(ready) < most:
        try:
            ready.append(answers.get_nowait())
        except queue.Empty:
            break
    answered: list[tuple[_Job, _Answer]] = []
    for job, answer in ready:
        if isinstance(answer, BaseException):
            raise answer
        answered.append((job, answer))
    return answered


def _store_charges(uow: UnitOfWork, answers: Sequence[_Answer]) -> None:
    """Keep what sent operations change: the charges they created, and the charges they moved or settled."""
    created = [charge for answer in answers for charge in answer.charges]
    changes = [change for answer in answers for change in answer.changes]
    existing = uow.gateway_charges.get_many([c.installment_id for c in created] + [i for i, _ in changes])
    if created:
        uow.gateway_charges.put_many(
            [
                attrs.evolve(charge, version=existing[charge.installment_id].version)
                if charge.installment_id in existing
                else charge
                for charge in created
            ]
        )
    if changes:
        uow.gateway_charges.put_many([attrs.evolve(existing[i], **fields) for i, fields in changes])
