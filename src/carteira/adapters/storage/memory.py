"""MemoryStore: the storage ports in process memory, with the same unit-of-work and version semantics.

A unit works on a snapshot of the committed records (the values are frozen, so a shallow copy
of each dict is a snapshot) and applies its own writes to the committed state on ``commit()``,
after checking under a lock that nobody committed a newer version of any record it wrote.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import Generic, Self, TypeVar

import attrs

from carteira.adapters.storage import columns as c
from carteira.adapters.storage import rows as r
from carteira.adapters.storage.append_only import repeated_key, seen_event_key
from carteira.adapters.storage.batches import (
    BATCH_KIND,
    RECORD_KIND,
    check_new,
    first_duplicate,
    record_key,
)
from carteira.adapters.storage.versions import stale, with_version
from carteira.domain import (
    Anticipation,
    AnticipationStatus,
    Contract,
    CreditLetter,
    Customer,
    Installment,
    InstallmentStatus,
    Money,
    Observation,
    PortfolioSettings,
    Settlement,
    normalize_title_number,
)
from carteira.domain.notifications import Notification, NotificationStatus, SeenEvent
from carteira.domain.operations import GatewayAccount, GatewayCharge, Operation, OperationFilter, OperationKind
from carteira.domain.postings import Posting
from carteira.domain.return_batch import BatchRecord, ReturnBatch
from carteira.errors import CarteiraError, Conflict, DuplicateImport, InvalidInput, NotFound
from carteira.ports.storage import LineState

__all__ = ["MemoryStore", "MemoryUnitOfWork"]

T = TypeVar(
    "T", Customer, Contract, Installment, Settlement, CreditLetter, Anticipation, PortfolioSettings, ReturnBatch,
    BatchRecord, GatewayAccount, Operation, GatewayCharge, Notification,
)  # fmt: skip
E = TypeVar("E", Conflict, DuplicateImport, InvalidInput)

# Rows as the databases would be sent them, to check what a column holds: values as they are.
_CODEC = r.Codec(
    date_out=lambda value: value, date_in=lambda value: value, instant_out=lambda value: value,
    instant_in=lambda value: value, rate_out=lambda value: value, rate_in=lambda value: value,
    flag_out=lambda value: value, flag_in=lambda value: value,
)  # fmt: skip
_SETTINGS_KEY = "settings"
_ACCOUNT_KEY = "account"
ACCOUNT_KIND = "gateway account"
OPERATION_KIND = "operation"
CHARGE_KIND = "gateway charge"
NOTIFICATION_KIND = "notification"
SEEN_EVENT_KIND = "seen event"
POSTING_KIND = "posting"


class _Committed:
    """What a MemoryStore holds between units: one dict per kind, plus the order records were first stored."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, object]] = {
            kind: {}
            for kind in (
                "customer",
                "contract",
                "installment",
                "settlement",
                "credit letter",
                "anticipation",
                "observation",
                "settings",
                BATCH_KIND,
                RECORD_KIND,
                ACCOUNT_KIND,
                OPERATION_KIND,
                CHARGE_KIND,
                NOTIFICATION_KIND,
                SEEN_EVENT_KIND,
                POSTING_KIND,
            )
        }
        self.order: dict[str, int] = {}  # "kind/key" -> sequence number, for "latest first" and "oldest first"


class _Table(Generic[T]):
    """One kind of versioned record inside a unit: the snapshot, this unit's writes, and the version rule."""

    def __init__(self, unit: MemoryUnitOfWork, kind: str) -> None:
        self._unit = unit
        self.kind = kind
        self.rows: dict[str, T] = {}
        self.written: dict[str, int] = {}  # key -> the committed version this unit's write is based on

    def begin(self, committed: dict[str, object]) -> None:
        self.rows = dict(committed)  # type: ignore[arg-type]
        self.written = {}

    def get(self, key: str) -> T:
        self._unit.check_active()
        try:
            return self.rows[key]
        except KeyError:
            raise NotFound(self.kind, key) from None

    def get_many(self, keys: Iterable[str]) -> dict[str, T]:
        self._unit.check_active()
        rows = self.rows
        return {key: rows[key] for key in keys if key in rows}

    def put(self, key: str, record: T) -> T:
        self._unit.check_writable()
        self._unit.check_holdable((record,), self.kind)
        current = self.rows.get(key)
        stored = 0 if current is None else current.version
        if record.version != stored:
            raise self._unit.spoil(stale(self.kind, key, record.version, stored))
        if key not in self.written:
            self.written[key] = stored
        new = with_version(record, stored + 1)
        self.rows[key] = new
        return new

    def put_many(self, keyed: Sequence[tuple[str, T]], argument: str) -> list[T]:
        self._unit.check_active()
        _refuse_twice([key for key, _ in keyed], argument)
        return [self.put(key, record) for key, record in keyed]

    def delete(self, key: str) -> None:
        """Remove ``key`` in this unit; ``commit`` removes it from the store if nobody wrote it meanwhile."""
        self._unit.check_writable()
        current = self.rows.pop(key)
        if key not in self.written:
            self.written[key] = current.version

    def values(self) -> Iterable[T]:
        self._unit.check_active()
        return self.rows.values()


def _refuse_twice(keys: Sequence[str], argument: str) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise InvalidInput(f"{key!r} appears twice in one put_many; put each record once", field=argument)
        seen.add(key)


def _sorted_by_due(rows: Iterable[Installment], keep: Callable[[Installment], bool]) -> list[Installment]:
    return sorted((row for row in rows if keep(row)), key=lambda row: (row.due, row.id))


class _Customers:
    def __init__(self, table: _Table[Customer]) -> None:
        self._t = table

    def get(self, customer_id: str) -> Customer:
        return self._t.get(customer_id)

    def get_many(self, customer_ids: Iterable[str]) -> dict[str, Customer]:
        return self._t.get_many(customer_ids)

    def by_tax_ids(self, tax_ids: Iterable[str]) -> list[Customer]:
        wanted = set(tax_ids)
        return sorted((c for c in self._t.values() if c.tax_id is not None and c.tax_id in wanted), key=lambda c: c.id)

    def put(self, customer: Customer) -> Customer:
        return self._t.put(customer.id, customer)


class _Contracts:
    def __init__(self, table: _Table[Contract]) -> None:
        self._t = table

    def get(self, contract_id: str) -> Contract:
        return self._t.get(contract_id)

    def put(self, contract: Contract) -> Contract:
        return self._t.put(contract.id, contract)

    def of_customer(self, customer_id: str) -> list[Contract]:
        return sorted((c for c in self._t.values() if c.customer_id == customer_id), key=lambda c: c.id)


class _Installments:
    def __init__(self, table: _Table[Installment]) -> None:
        self._t = table

    def get(self, installment_id: str) -> Installment:
        return self._t.get(installment_id)

    def get_many(self, installment_ids: Iterable[str]) -> dict[str, Installment]:
        return self._t.get_many(installment_ids)

    def put(self, installment: Installment) -> Installment:
        return self._t.put(installment.id, installment)

    def put_many(self, installments: Sequence[Installment]) -> Sequence[Installment]:
        return self._t.put_many([(i.id, i) for i in installments], "installments")

    def open_of_customer(self, customer_id: str) -> list[Installment]:
        return _sorted_by_due(self._t.values(), lambda i: i.customer_id == customer_id and i.is_open)

    def open_of_contract(self, contract_id: str) -> list[Installment]:
        return _sorted_by_due(self._t.values(), lambda i: i.contract_id == contract_id and i.is_open)

    def open_of_customers(self, customer_ids: Iterable[str]) -> list[Installment]:
        wanted = set(customer_ids)
        return _sorted_by_due(self._t.values(), lambda i: i.customer_id in wanted and i.is_open)

    def by_bank_title_numbers(self, numbers: Iterable[str]) -> list[Installment]:
        wanted = _normalized(numbers)
        return _sorted_by_due(self._t.values(), lambda i: normalize_title_number(i.bank_title_number) in wanted)

    def by_document_numbers(self, numbers: Iterable[str]) -> list[Installment]:
        wanted = _normalized(numbers)
        return _sorted_by_due(self._t.values(), lambda i: normalize_title_number(i.document_number) in wanted)

    def open_by_due_and_amount(self, keys: Iterable[tuple[date, Money]]) -> list[Installment]:
        wanted = {(due, amount.cents) for due, amount in keys}
        return _sorted_by_due(
            self._t.values(),
            lambda i: i.status is not InstallmentStatus.SETTLED and (i.due, i.amount.cents) in wanted,
        )


def _normalized(numbers: Iterable[str]) -> set[str | None]:
    """The numbers as the finders compare them; a number that normalizes to nothing finds nothing."""
    found: set[str | None] = {normalize_title_number(number) for number in numbers}
    found.discard(None)
    return found


class _Settlements:
    def __init__(self, table: _Table[Settlement], unit: MemoryUnitOfWork) -> None:
        self._t = table
        self._unit = unit

    def get(self, settlement_id: str) -> Settlement:
        return self._t.get(settlement_id)

    def put(self, settlement: Settlement) -> Settlement:
        stored = self._t.put(settlement.id, settlement)
        self._unit.ordered("settlement", settlement.id)
        return stored

    def put_many(self, settlements: Sequence[Settlement]) -> Sequence[Settlement]:
        stored = self._t.put_many([(s.id, s) for s in settlements], "settlements")
        for settlement in settlements:
            self._unit.ordered("settlement", settlement.id)
        return stored

    def of_installment(self, installment_id: str) -> list[Settlement]:
        found = [s for s in self._t.values() if s.installment_id == installment_id]
        return sorted(found, key=lambda s: self._unit.position("settlement", s.id), reverse=True)


class _CreditLetters:
    def __init__(self, table: _Table[CreditLetter]) -> None:
        self._t = table

    def get(self, letter_id: str) -> CreditLetter:
        return self._t.get(letter_id)

    def put(self, letter: CreditLetter) -> CreditLetter:
        return self._t.put(letter.id, letter)

    def of_customer(self, customer_id: str) -> list[CreditLetter]:
        found = [c for c in self._t.values() if c.customer_id == customer_id]
        return sorted(found, key=lambda c: (c.created_on, c.id))


class _Anticipations:
    def __init__(self, table: _Table[Anticipation]) -> None:
        self._t = table

    def get(self, anticipation_id: str) -> Anticipation:
        return self._t.get(anticipation_id)

    def put(self, anticipation: Anticipation) -> Anticipation:
        return self._t.put(anticipation.id, anticipation)

    def with_status(self, status: AnticipationStatus) -> list[Anticipation]:
        found = [a for a in self._t.values() if a.status is status]
        return sorted(found, key=lambda a: (a.anticipated_on, a.id))


class _Observations:
    def __init__(self, unit: MemoryUnitOfWork) -> None:
        self._unit = unit
        self.rows: dict[str, Observation] = {}
        self.added: list[str] = []

    def begin(self, committed: dict[str, object]) -> None:
        self.rows = dict(committed)  # type: ignore[arg-type]
        self.added = []

    def add(self, observation: Observation) -> None:
        self._unit.check_writable()
        self._unit.check_holdable((observation,), "observation")
        if observation.id in self.rows:
            raise self._unit.spoil(Conflict("observation", observation.id, detail="it already exists"))
        self.rows[observation.id] = observation
        self.added.append(observation.id)
        self._unit.ordered("observation", observation.id)

    def of_installment(self, installment_id: str) -> list[Observation]:
        self._unit.check_active()
        found = [o for o in self.rows.values() if o.installment_id == installment_id]
        return sorted(found, key=lambda o: self._unit.position("observation", o.id))


def _held_twice(key: str, settlement_id: str) -> Conflict:
    detail = f"settlement {settlement_id!r} is already held by another record; a settlement settles one record"
    return Conflict(RECORD_KIND, key, detail=detail)


class _ReturnBatches:
    """Batches and their records: two tables of one unit, so a batch and its records commit together."""

    def __init__(self, batches: _Table[ReturnBatch], records: _Table[BatchRecord], unit: MemoryUnitOfWork) -> None:
        self._batches = batches
        self._records = records
        self._unit = unit
        self.added: list[str] = []  # the batches this unit added, checked again for duplicates at commit

    def begin(self) -> None:
        self.added = []

    def add(self, batch: ReturnBatch, records: Sequence[BatchRecord]) -> ReturnBatch:
        self._unit.check_writable()
        check_new(batch, records)
        duplicate = first_duplicate(batch, self._batches.values())
        if duplicate is not None:
            raise duplicate  # nothing of the batch was written: the unit stays usable (decision 0320)
        self._check_settlements(records)
        stored = self._batches.put(batch.id, batch)
        for record in records:
            self._records.put(record_key(record), record)
        self.added.append(batch.id)
        return stored

    def _check_settlements(self, records: Sequence[BatchRecord]) -> None:
        """Refuse a settlement id held by another record, as the SQL stores' primary key does (decision 0321)."""
        holders: dict[str, str] = {}
        for record in records:
            for settlement_id in record.settlement_ids:
                if holders.setdefault(settlement_id, record_key(record)) != record_key(record):
                    raise self._unit.spoil(_held_twice(record_key(record), settlement_id))
        if not holders:
            return
        written = {record_key(record) for record in records}
        for other in self._records.values():
            key = record_key(other)
            if key in written:
                continue
            for settlement_id in other.settlement_ids:
                if settlement_id in holders:
                    raise self._unit.spoil(_held_twice(holders[settlement_id], settlement_id))

    def get(self, batch_id: str) -> ReturnBatch:
        return self._batches.get(batch_id)

    def all(self) -> list[ReturnBatch]:
        found = sorted(self._batches.values(), key=lambda b: b.id)
        found.sort(key=lambda b: b.process_date, reverse=True)
        return found

    def put(self, batch: ReturnBatch) -> ReturnBatch:
        self._unit.check_writable()
        current = self._batches.rows.get(batch.id)
        if current is None:
            raise self._unit.spoil(stale(BATCH_KIND, batch.id, batch.version, 0))
        merged = attrs.evolve(
            current,
            description=batch.description,
            process_date=batch.process_date,
            status=batch.status,
            warnings=batch.warnings,
            version=batch.version,
        )
        self._batches.put(batch.id, merged)
        return with_version(batch, batch.version + 1)

    def delete(self, batch_id: str) -> None:
        self._unit.check_writable()
        if batch_id not in self._batches.rows:
            raise NotFound(BATCH_KIND, batch_id)
        for record in list(self._of_batch(batch_id)):
            self._records.delete(record_key(record))
        self._batches.delete(batch_id)

    def _of_batch(self, batch_id: str) -> Iterable[BatchRecord]:
        return (record for record in self._records.values() if record.batch_id == batch_id)

    def records(self, batch_id: str, lines: Iterable[int] | None = None) -> list[BatchRecord]:
        found = self._of_batch(batch_id)
        if lines is not None:
            wanted = set(lines)
            found = (record for record in found if record.line in wanted)
        return sorted(found, key=lambda record: record.line)

    def lines(self, batch_id: str, *, state: LineState) -> list[int]:
        return sorted(record.line for record in self._of_batch(batch_id) if state.holds(record))

    def put_records(self, records: Sequence[BatchRecord]) -> Sequence[BatchRecord]:
        self._unit.check_writable()
        keys = [record_key(record) for record in records]
        _refuse_twice(keys, "records")
        self._check_settlements(records)
        rows = self._records.rows
        for key, record in zip(keys, records, strict=True):
            current = rows.get(key)
            if current is None:
                raise self._unit.spoil(stale(RECORD_KIND, key, record.version, 0))
            merged = attrs.evolve(
                current,
                links=record.links,
                origin=record.origin,
                settlement_ids=record.settlement_ids,
                confirmed_once=record.confirmed_once,
                note=record.note,
                acknowledged_by=record.acknowledged_by,
                acknowledged_at=record.acknowledged_at,
                version=record.version,
            )
            self._records.put(key, merged)
        return [with_version(record, record.version + 1) for record in records]

    def record_of_settlement(self, settlement_id: str) -> BatchRecord | None:
        for record in self._records.values():
            if settlement_id in record.settlement_ids:
                return record
        return None

    def records_linked_to(self, installment_ids: Iterable[str]) -> list[BatchRecord]:
        wanted = set(installment_ids)
        found = [
            record for record in self._records.values() if not record.is_settled and not wanted.isdisjoint(record.links)
        ]
        return sorted(found, key=lambda record: (record.batch_id, record.line))


class _Settings:
    def __init__(self, table: _Table[PortfolioSettings]) -> None:
        self._t = table

    def get(self) -> PortfolioSettings:
        try:
            return self._t.get(_SETTINGS_KEY)
        except NotFound:
            return PortfolioSettings()

    def put(self, settings: PortfolioSettings) -> PortfolioSettings:
        return self._t.put(_SETTINGS_KEY, settings)


class _GatewayAccount:
    def __init__(self, table: _Table[GatewayAccount]) -> None:
        self._t = table

    def get(self) -> GatewayAccount:
        try:
            return self._t.get(_ACCOUNT_KEY)
        except NotFound:
            raise NotFound(ACCOUNT_KIND, "the portfolio's") from None

    def put(self, account: GatewayAccount) -> GatewayAccount:
        return self._t.put(_ACCOUNT_KEY, account)


def _oldest_first(operation: Operation) -> tuple[datetime, str]:
    return (operation.created_at, operation.id)


class _Operations:
    def __init__(self, table: _Table[Operation]) -> None:
        self._t = table

    def get(self, operation_id: str) -> Operation:
        return self._t.get(operation_id)

    def get_many(self, operation_ids: Iterable[str]) -> dict[str, Operation]:
        return self._t.get_many(operation_ids)

    def put(self, operation: Operation) -> Operation:
        return self._t.put(operation.id, operation)

    def put_many(self, operations: Sequence[Operation]) -> Sequence[Operation]:
        return self._t.put_many([(o.id, o) for o in operations], "operations")

    def due(self, now: datetime, *, limit: int) -> list[Operation]:
        return sorted((o for o in self._t.values() if o.due(now)), key=_oldest_first)[:limit]

    def of_documents(self, installment_ids: Iterable[str]) -> list[Operation]:
        wanted = set(installment_ids)
        return sorted((o for o in self._t.values() if wanted.intersection(o.documents)), key=_oldest_first)

    def find(self, criteria: OperationFilter) -> list[Operation]:
        found = sorted((o for o in self._t.values() if criteria.matches(o)), key=_oldest_first, reverse=True)
        return found if criteria.limit is None else found[: criteria.limit]

    def count_sent_since(self, kind: OperationKind, since: datetime) -> int:
        return sum(1 for o in self._t.values() if o.kind is kind and o.sent_at is not None and o.sent_at >= since)


class _GatewayCharges:
    def __init__(self, table: _Table[GatewayCharge]) -> None:
        self._t = table

    def get(self, installment_id: str) -> GatewayCharge:
        return self._t.get(installment_id)

    def get_many(self, installment_ids: Iterable[str]) -> dict[str, GatewayCharge]:
        return self._t.get_many(installment_ids)

    def put(self, charge: GatewayCharge) -> GatewayCharge:
        return self._t.put(charge.installment_id, charge)

    def put_many(self, charges: Sequence[GatewayCharge]) -> Sequence[GatewayCharge]:
        return self._t.put_many([(c.installment_id, c) for c in charges], "charges")

    def by_charge_ids(self, charge_ids: Iterable[str]) -> list[GatewayCharge]:
        wanted = set(charge_ids)
        return sorted((c for c in self._t.values() if c.charge_id in wanted), key=lambda c: c.installment_id)

    def of_carnet(self, carnet_id: str) -> list[GatewayCharge]:
        return sorted((c for c in self._t.values() if c.carnet_id == carnet_id), key=lambda c: c.parcel or 0)


class _Notifications:
    def __init__(self, table: _Table[Notification]) -> None:
        self._t = table

    def get(self, token: str) -> Notification:
        return self._t.get(token)

    def put(self, notification: Notification) -> Notification:
        return self._t.put(notification.token, notification)

    def due(self, now: datetime, *, limit: int) -> list[Notification]:
        if limit < 0:
            raise InvalidInput("must be 0 or more", field="limit", raw=str(limit))
        found = sorted((n for n in self._t.values() if n.due(now)), key=lambda n: (n.received_at, n.token))
        return found[:limit]

    def with_status(self, status: NotificationStatus, *, limit: int | None = None) -> list[Notification]:
        found = sorted(
            (n for n in self._t.values() if n.status is status), key=lambda n: (n.received_at, n.token), reverse=True
        )
        return found if limit is None else found[:limit]


A = TypeVar("A", SeenEvent, Posting)


class _AppendOnly(Generic[A]):
    """Records never changed once added, keyed by text: what a unit added, checked again at ``commit()``."""

    def __init__(self, unit: MemoryUnitOfWork, kind: str) -> None:
        self._unit = unit
        self.kind = kind
        self.rows: dict[str, A] = {}
        self.added: list[str] = []

    def begin(self, committed: dict[str, object]) -> None:
        self.rows = dict(committed)  # type: ignore[arg-type]
        self.added = []

    def add_many(self, keyed: Sequence[tuple[str, A]]) -> None:
        self._unit.check_writable()
        self._unit.check_holdable([record for _, record in keyed], self.kind)
        keys = [key for key, _ in keyed]
        twice = repeated_key(keys)
        if twice is not None:
            raise self._unit.spoil(Conflict(self.kind, twice, detail="it appears twice in one add_many"))
        stored = next((key for key in keys if key in self.rows), None)
        if stored is not None:
            raise self._unit.spoil(Conflict(self.kind, stored, detail="it already exists"))
        for key, record in keyed:
            self.rows[key] = record
            self.added.append(key)
            self._unit.ordered(self.kind, key)

    def values(self) -> Iterable[A]:
        self._unit.check_active()
        return self.rows.values()


class _SeenEvents:
    def __init__(self, rows: _AppendOnly[SeenEvent]) -> None:
        self._r = rows

    def add_many(self, events: Sequence[SeenEvent]) -> None:
        self._r.add_many([(seen_event_key(*e.key), e) for e in events])

    def of_token(self, token: str) -> list[SeenEvent]:
        return sorted((e for e in self._r.values() if e.token == token), key=lambda e: e.event_id)

    def of_charges(self, charge_ids: Iterable[str]) -> list[SeenEvent]:
        wanted = set(charge_ids)
        return sorted((e for e in self._r.values() if e.charge_id in wanted), key=lambda e: e.key)

    def flagged(self, *, limit: int | None = None) -> list[SeenEvent]:
        if limit is not None and limit < 0:
            raise InvalidInput("must be 0 or more", field="limit", raw=str(limit))
        found = sorted((e for e in self._r.values() if e.flagged), key=lambda e: (e.seen_at, e.key), reverse=True)
        return found if limit is None else found[:limit]


class _Postings:
    def __init__(self, rows: _AppendOnly[Posting], unit: MemoryUnitOfWork) -> None:
        self._r = rows
        self._unit = unit

    def add_many(self, postings: Sequence[Posting]) -> None:
        # By id within one call, as the SQL stores number them: "the order recorded, then by id".
        self._r.add_many([(p.id, p) for p in sorted(postings, key=lambda p: p.id)])

    def of_settlement(self, settlement_id: str) -> list[Posting]:
        found = [p for p in self._r.values() if p.settlement_id == settlement_id]
        return sorted(found, key=lambda p: self._unit.position(POSTING_KIND, p.id))

    def find(
        self, *, on_from: date, on_to: date, account: str | None = None, history: str | None = None
    ) -> list[Posting]:
        found = [
            p
            for p in self._r.values()
            if on_from <= p.on <= on_to
            and (account is None or p.account == account)
            and (history is None or p.history == history)
        ]
        return sorted(found, key=lambda p: (p.on, p.id))


class MemoryUnitOfWork:
    """A unit of work over a :class:`MemoryStore`: a snapshot, this unit's writes, applied on ``commit()``."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._active = False
        self._spoiled: Conflict | DuplicateImport | InvalidInput | None = None
        self._order: dict[str, int] = {}
        self._customers: _Table[Customer] = _Table(self, "customer")
        self._contracts: _Table[Contract] = _Table(self, "contract")
        self._installments: _Table[Installment] = _Table(self, "installment")
        self._settlements: _Table[Settlement] = _Table(self, "settlement")
        self._letters: _Table[CreditLetter] = _Table(self, "credit letter")
        self._anticipations: _Table[Anticipation] = _Table(self, "anticipation")
        self._settings: _Table[PortfolioSettings] = _Table(self, "settings")
        self._batch_rows: _Table[ReturnBatch] = _Table(self, BATCH_KIND)
        self._record_rows: _Table[BatchRecord] = _Table(self, RECORD_KIND)
        self._account_rows: _Table[GatewayAccount] = _Table(self, ACCOUNT_KIND)
        self._operation_rows: _Table[Operation] = _Table(self, OPERATION_KIND)
        self._charge_rows: _Table[GatewayCharge] = _Table(self, CHARGE_KIND)
        self._notification_rows: _Table[Notification] = _Table(self, NOTIFICATION_KIND)
        self._observations = _Observations(self)
        self._seen_event_rows: _AppendOnly[SeenEvent] = _AppendOnly(self, SEEN_EVENT_KIND)
        self._posting_rows: _AppendOnly[Posting] = _AppendOnly(self, POSTING_KIND)
        self._appended: tuple[_AppendOnly[SeenEvent] | _AppendOnly[Posting], ...] = (
            self._seen_event_rows,
            self._posting_rows,
        )
        self._return_batches = _ReturnBatches(self._batch_rows, self._record_rows, self)
        self._tables: dict[str, _Table[Customer] | _Table[Contract] | _Table[Installment] | _Table[Settlement]
                           | _Table[CreditLetter] | _Table[Anticipation] | _Table[PortfolioSettings]
                           | _Table[ReturnBatch] | _Table[BatchRecord] | _Table[GatewayAccount]
                           | _Table[Operation] | _Table[GatewayCharge] | _Table[Notification]] = {
            "customer": self._customers,
            "contract": self._contracts,
            "installment": self._installments,
            "settlement": self._settlements,
            "credit letter": self._letters,
            "anticipation": self._anticipations,
            "settings": self._settings,
            BATCH_KIND: self._batch_rows,
            RECORD_KIND: self._record_rows,
            ACCOUNT_KIND: self._account_rows,
            OPERATION_KIND: self._operation_rows,
            CHARGE_KIND: self._charge_rows,
            NOTIFICATION_KIND: self._notification_rows,
        }  # fmt: skip
        self._repositories = (
            _Customers(self._customers),
            _Contracts(self._contracts),
            _Installments(self._installments),
            _Settlements(self._settlements, self),
            _CreditLetters(self._letters),
            _Anticipations(self._anticipations),
            _Settings(self._settings),
        )
        self._gateway_account = _GatewayAccount(self._account_rows)
        self._operations = _Operations(self._operation_rows)
        self._gateway_charges = _GatewayCharges(self._charge_rows)
        self._notifications = _Notifications(self._notification_rows)
        self._seen_events = _SeenEvents(self._seen_event_rows)
        self._postings = _Postings(self._posting_rows, self)

    @property
    def customers(self) -> _Customers:
        """The customers."""
        return self._repositories[0]

    @property
    def contracts(self) -> _Contracts:
        """The contracts."""
        return self._repositories[1]

    @property
    def installments(self) -> _Installments:
        """The installments."""
        return self._repositories[2]

    @property
    def settlements(self) -> _Settlements:
        """The settlements."""
        return self._repositories[3]

    @property
    def credit_letters(self) -> _CreditLetters:
        """The credit letters."""
        return self._repositories[4]

    @property
    def anticipations(self) -> _Anticipations:
        """The anticipations."""
        return self._repositories[5]

    @property
    def observations(self) -> _Observations:
        """The observations."""
        return self._observations

    @property
    def settings(self) -> _Settings:
        """The portfolio's settings."""
        return self._repositories[6]

    @property
    def return_batches(self) -> _ReturnBatches:
        """The return batches and their records."""
        return self._return_batches

    @property
    def gateway_account(self) -> _GatewayAccount:
        """The account at the payment gateway."""
        return self._gateway_account

    @property
    def operations(self) -> _Operations:
        """The operations log (outbox)."""
        return self._operations

    @property
    def gateway_charges(self) -> _GatewayCharges:
        """Which charge at the gateway each installment is."""
        return self._gateway_charges

    @property
    def notifications(self) -> _Notifications:
        """The gateway's notification tokens."""
        return self._notifications

    @property
    def seen_events(self) -> _SeenEvents:
        """The events behind notification tokens that were processed."""
        return self._seen_events

    @property
    def postings(self) -> _Postings:
        """The postings for the ERP's accounting."""
        return self._postings

    def check_active(self) -> None:
        """Refuse use outside the ``with`` block (a programming error, not a data problem)."""
        if not self._active:
            raise InvalidInput("the unit of work is used outside its with block", field="unit_of_work")

    def check_writable(self) -> None:
        """Refuse writes to a unit spoiled by a ``Conflict``: nothing more of it can be kept."""
        self.check_active()
        if self._spoiled is not None:
            raise self._spoiled

    def spoil(self, error: E) -> E:
        """Remember ``error`` so that ``commit()`` refuses to keep any of this unit; returns it to raise."""
        self._spoiled = error
        return error

    def check_holdable(self, records: Iterable[object], argument: str) -> None:
        """Refuse, spoiling the unit, a record carrying a value no SQL store's column holds (decision 0347).

        A fake that kept NUL in text or a 40-bit count would let a program's tests pass that PostgreSQL
        fails: every record is turned into the rows a SQL store would write and checked as they are.
        """
        for record in records:
            try:
                made = r.stored_rows(record, _CODEC)
            except CarteiraError:
                raise
            except Exception as exc:  # a field that cannot be stored, whatever it raised
                reason = f"cannot be stored: a field holds what its column cannot ({type(exc).__name__}: {exc})"
                raise self.spoil(InvalidInput(reason, field=argument)) from exc
            for table, columns, rows in made:
                refused = c.first_unholdable(table, r.HOLDS[table], r.KEYS[table], columns, rows, encoding=True)
                if refused is not None:
                    raise self.spoil(refused)

    def ordered(self, kind: str, key: str) -> None:
        """Give ``key`` a place in the order records were first stored, if it has none yet."""
        name = f"{kind}/{key}"
        if name not in self._order and name not in self._store._committed.order:
            self._order[name] = next(self._store._sequence)

    def position(self, kind: str, key: str) -> int:
        """Where ``key`` stands in the order records were first stored."""
        name = f"{kind}/{key}"
        return self._order.get(name) or self._store._committed.order.get(name, 0)

    def _begin(self) -> None:
        with self._store._lock:
            committed = self._store._committed
            for kind, table in self._tables.items():
                table.begin(committed.tables[kind])
            self._observations.begin(committed.tables["observation"])
            for appended in self._appended:
                appended.begin(committed.tables[appended.kind])
        self._return_batches.begin()
        self._order = {}
        self._spoiled = None

    def __enter__(self) -> Self:
        self._begin()
        self._active = True
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Dropping the snapshot is the rollback: nothing reached the committed state.
        self._active = False

    def commit(self) -> None:
        """Apply this unit's writes to the store, after checking no other unit wrote the same records first."""
        self.check_writable()
        with self._store._lock:
            committed = self._store._committed
            for kind, table in self._tables.items():
                rows = committed.tables[kind]
                for key, base in table.written.items():
                    current = rows.get(key)
                    found = 0 if current is None else current.version  # type: ignore[attr-defined]
                    if found != base:
                        raise self.spoil(
                            Conflict(
                                kind,
                                key,
                                expected_version=base,
                                detail=f"another unit committed version {found} first",
                            )
                        )
            observations = committed.tables["observation"]
            for key in self._observations.added:
                if key in observations:
                    raise self.spoil(Conflict("observation", key, detail="another unit added it first"))
            for appended in self._appended:
                rows = committed.tables[appended.kind]
                first = next((key for key in appended.added if key in rows), None)
                if first is not None:
                    raise self.spoil(Conflict(appended.kind, first, detail="another unit added it first"))
            self._check_duplicates(committed.tables[BATCH_KIND])
            for kind, table in self._tables.items():
                rows = committed.tables[kind]
                for key in table.written:
                    if key in table.rows:
                        rows[key] = table.rows[key]
                    else:  # deleted in this unit
                        rows.pop(key, None)
            for key in self._observations.added:
                observations[key] = self._observations.rows[key]
            for appended in self._appended:
                rows = committed.tables[appended.kind]
                for key in appended.added:
                    rows[key] = appended.rows[key]
            committed.order.update(self._order)
        self._begin()

    def _check_duplicates(self, committed: dict[str, object]) -> None:
        """Refuse the commit when another unit committed a batch of the same file since this one added its own.

        Called under the store's lock after the version checks passed, so the committed batches this
        unit did not write are the only ones it has not compared with yet.
        """
        written = self._batch_rows.written
        others = [batch for key, batch in committed.items() if key not in written]
        for batch_id in self._return_batches.added:
            batch = self._batch_rows.rows.get(batch_id)
            if batch is None:  # added, then deleted, in this unit
                continue
            duplicate = first_duplicate(batch, others)  # type: ignore[arg-type]
            if duplicate is not None:
                raise self.spoil(duplicate)


class MemoryStore:
    """The storage ports in process memory: for tests and for trying carteira out; gone when the process ends.

    It keeps the same semantics as the database adapters: units of work that roll back unless
    committed, and the version rule with :class:`~carteira.errors.Conflict` on a stale write.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._committed = _Committed()
        self._sequence = itertools.count(1)

    def __repr__(self) -> str:
        return "MemoryStore()"

    def migrate(self) -> None:
        """Nothing to build in memory; present so that every store is used the same way."""

    def unit_of_work(self) -> MemoryUnitOfWork:
        """A new unit of work over this store."""
        return MemoryUnitOfWork(self)

    def close(self) -> None:
        """Nothing to release in memory."""
