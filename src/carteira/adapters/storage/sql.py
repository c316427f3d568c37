"""The repositories and the unit of work shared by the SQL adapters, written once over a few primitives.

A dialect (:mod:`~carteira.adapters.storage.sqlite`, :mod:`~carteira.adapters.storage.postgres`)
supplies how to run one statement, read rows for a list of keys, insert many rows and update
many rows under the version rule; everything else (the version rule's errors, bulk shape,
savepoints to name the record of a conflict) lives here. SQL is written with ``?`` placeholders;
a dialect that wants ``%s`` translates them. A dialect with row locks also says how a query locks
the rows it returns for its unit (:attr:`SqlUnitOfWork.lock_for_unit`): how workers share the outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from operator import attrgetter
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

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
from carteira.adapters.storage.read_rows import ReadRows
from carteira.adapters.storage.versions import Stored, Versioned, stale, with_version
from carteira.domain import (
    Anticipation,
    AnticipationStatus,
    Contract,
    CreditLetter,
    Customer,
    Installment,
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
from carteira.errors import (
    CarteiraError,
    Conflict,
    DuplicateImport,
    InvalidInput,
    InvalidRow,
    InvalidType,
    NotFound,
)
from carteira.ports.storage import LineState

__all__ = ["DuplicateKey", "SqlUnitOfWork"]

T = TypeVar(
    "T", Customer, Contract, Installment, Settlement, CreditLetter, Anticipation, PortfolioSettings, ReturnBatch,
    GatewayAccount, Operation, GatewayCharge, Notification,
)  # fmt: skip

V = TypeVar("V", bound=Versioned)
E = TypeVar("E", bound=Exception)

_SETTINGS_KEY = "portfolio"
_ACCOUNT_KIND = "gateway account"
_ACCOUNT_KEY = "account"  # what a Conflict names, as MemoryStore does


class DuplicateKey(Exception):
    """Raised by a dialect's insert when a key already exists; turned into ``Conflict`` here."""


def _refuse_twice(keys: Sequence[str], argument: str) -> None:
    if len(set(keys)) == len(keys):
        return
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise InvalidInput(f"{key!r} appears twice in one put_many; put each record once", field=argument)
        seen.add(key)


def _decoded(
    unit: SqlUnitOfWork, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], decode: Callable[[Any], Any]
) -> list[Any]:
    """``decode`` of each row; a row it refuses is an ``InvalidRow`` naming the table, the row's key and the column.

    Text and whole-number columns are checked first (type and range: SQLite's columns hold any type, and the
    domain does not know a column's bits); everything else is the mappers' and the domain's constructors' to
    refuse, and a row is looked at again, column by column, only once one has failed.
    """
    if isinstance(rows, c.LenientRows):
        decode = c.refusing_unreadable(decode)
    _refuse_unreadable(table, columns, rows)
    try:
        decoded = [decode(row) for row in rows]
    except Exception as exc:
        raise unit.unreadable(table, columns, rows, decode, exc) from exc
    unit.read_rows.keep(table, columns, rows)
    return decoded


def _refuse_unreadable(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Refuse, naming table, key and column, rows holding a value of a type or range its column does not hold.

    Called by :func:`_decoded`, and before a loader binds parent rows' keys to the query for their child rows:
    a key the driver could not read (text that is not UTF-8, edited outside carteira) would otherwise reach
    the driver, whose refusal names nothing.
    """
    wrong = c.first_unreadable(table, r.HOLDS[table], r.KEYS[table], columns, rows)
    if wrong is not None:
        raise wrong


def _record_type_of(records: Sequence[object], table: str, argument: str) -> None:
    """Refuse anything but the table's record type (``InvalidType`` naming ``argument``) before reading its key."""
    expected = r.RECORDS[table]
    for record in records:
        if type(record) is not expected and not isinstance(record, expected):
            raise InvalidType(f"{argument} must be a {expected.__name__}, not {type(record).__name__}", field=argument)


class _Repository(Generic[T]):
    """get, get_many and put_many under the version rule, for one table."""

    def __init__(self, unit: SqlUnitOfWork, table: r.Table[T]) -> None:
        self._unit = unit
        self._table: r.Table[T] = table
        self._select = table.select
        self._columns = (*table.columns, "version")
        self._key = attrgetter(table.columns[0])  # the key column is named as the record's key attribute

    def _load(self, rows: list[Sequence[Any]]) -> list[T]:
        codec = self._unit.codec
        from_row = self._table.from_row
        return _decoded(self._unit, self._table.name, self._columns, rows, lambda row: from_row(row, codec))

    def _where(self, condition: str, params: Sequence[Any]) -> list[T]:
        """The records of ``SELECT … WHERE condition``; its parameters are keys compared for equality, so one that
        no column can hold (NUL, a lone surrogate) matches no row."""
        self._unit.check_active()
        return self._load(self._unit.find(f"{self._select} WHERE {condition}", params))

    def _where_in(self, column: str, values: Iterable[Any], condition: str = "") -> list[T]:
        self._unit.check_active()
        unique = self._unit.held(self._table.name, column, values)
        if not unique:
            return []
        prefix = f"{condition} AND " if condition else ""
        sql = f"{self._select} WHERE {prefix}{column} {{IN}}"
        return self._load(self._unit.find_in(sql, unique))

    def _get(self, key: str) -> T:
        found = self._where_in(self._table.columns[0], (key,))
        if not found:
            raise NotFound(self._table.kind, key)
        return found[0]

    def _get_many(self, keys: Iterable[str]) -> dict[str, T]:
        key = self._key
        return {key(record): record for record in self._where_in(self._table.columns[0], keys)}

    def _put_many(
        self, records: Sequence[T], argument: str, children: Callable[[Sequence[T]], None] | None = None
    ) -> Stored[T]:
        """Write ``records`` under the version rule; ``children`` then writes their child rows, inside the savepoint."""
        unit = self._unit
        unit.writable()
        table: r.Table[T] = self._table
        _record_type_of(records, table.name, argument)
        _refuse_twice(list(map(self._key, records)), argument)
        # The savepoint lets a failed write be undone and the database looked at as it was, to name
        # the record of the conflict; the whole unit is spoiled either way.
        with unit.writing():
            new, old = _split(records, unit.rows(table, records, argument), unit.codec)
            if new:
                try:
                    unit.insert(table.name, self._columns, new)
                except DuplicateKey:
                    unit.rollback_to_savepoint()
                    raise unit.spoil(self._diagnose({row[0]: 0 for row in new})) from None
            if old:
                updated = unit.update(table.name, self._columns, old)
                if updated != len(old):
                    unit.rollback_to_savepoint()
                    raise unit.spoil(self._diagnose({row[0]: row[-1] for row in old}))
            if children is not None:
                children(records)
        return Stored(records)

    def _put_one_row(self, record: T, kind: str, key: str) -> T:
        """Insert (version 0) or update the table's one row (``id = 1``) under the version rule."""
        unit = self._unit
        unit.writable()
        table: r.Table[T] = self._table
        _record_type_of([record], table.name, kind.replace(" ", "_"))
        with unit.writing():
            row: r.Row = unit.rows(table, [record], kind)[0]
            if record.version == 0:
                try:
                    unit.insert(table.name, self._columns, [(*row, 1)])
                except DuplicateKey:
                    unit.rollback_to_savepoint()
                    raise unit.spoil(stale(kind, key, 0, self._one_row_version())) from None
            elif unit.update(table.name, self._columns, [(*row, record.version)]) != 1:
                raise unit.spoil(stale(kind, key, record.version, self._one_row_version()))
        return with_version(record, record.version + 1)

    def _one_row_version(self) -> int:
        found = self._unit.fetch(f"SELECT version FROM {self._table.name} WHERE id = 1", ())
        return int(found[0][0]) if found else 0

    def _diagnose(self, expected: dict[Any, int]) -> Conflict:
        """The conflict of the first record whose stored version is not the ``expected`` one (0: absent)."""
        key_column = self._table.columns[0]
        sql = f"SELECT {key_column}, version FROM {self._table.name} WHERE {key_column} {{IN}}"
        stored = {row[0]: row[1] for row in self._unit.fetch_in(sql, list(expected))}
        for key, version in expected.items():
            found = stored.get(key, 0)
            if found != version:
                return stale(self._table.kind, str(key), version, found)
        # Another unit changed a record and changed it back between the write and this look.
        first = str(next(iter(expected)))
        return Conflict(self._table.kind, first, detail=f"one of {len(expected)} records changed while being written")


def _split(records: Sequence[V], made: list[r.Row], codec: r.Codec) -> tuple[list[r.Row], ...]:
    """Rows to insert (version 0, stored as 1) and rows to update (ending with the version they expect)."""
    rows = [(*row, record.version or 1) for record, row in zip(records, made, strict=True)]
    new = [row for record, row in zip(records, rows, strict=True) if record.version == 0]
    old = [row for record, row in zip(records, rows, strict=True) if record.version != 0]
    return new, old


class _Customers(_Repository[Customer]):
    def get(self, customer_id: str) -> Customer:
        return self._get(customer_id)

    def get_many(self, customer_ids: Iterable[str]) -> dict[str, Customer]:
        return self._get_many(customer_ids)

    def by_tax_ids(self, tax_ids: Iterable[str]) -> list[Customer]:
        return sorted(self._where_in("tax_id", tax_ids), key=lambda c: c.id)

    def put(self, customer: Customer) -> Customer:
        return self._put_many([customer], "customer")[0]


class _Contracts(_Repository[Contract]):
    def get(self, contract_id: str) -> Contract:
        return self._get(contract_id)

    def put(self, contract: Contract) -> Contract:
        return self._put_many([contract], "contract")[0]

    def of_customer(self, customer_id: str) -> list[Contract]:
        return sorted(self._where("customer_id = ?", (customer_id,)), key=lambda c: c.id)


def _by_due(found: list[Installment]) -> list[Installment]:
    found.sort(key=lambda i: (i.due, i.id))
    return found


def _normalized(numbers: Iterable[str]) -> list[str]:
    """The numbers as the ``…_key`` columns hold them; a number that normalizes to nothing finds nothing."""
    return [key for key in map(normalize_title_number, numbers) if key is not None]


class _Installments(_Repository[Installment]):
    _OPEN = "status <> 'settled'"

    def get(self, installment_id: str) -> Installment:
        return self._get(installment_id)

    def get_many(self, installment_ids: Iterable[str]) -> dict[str, Installment]:
        return self._get_many(installment_ids)

    def put(self, installment: Installment) -> Installment:
        return self._put_many([installment], "installment")[0]

    def put_many(self, installments: Sequence[Installment]) -> Sequence[Installment]:
        return self._put_many(installments, "installments")

    def open_of_customer(self, customer_id: str) -> list[Installment]:
        return _by_due(self._where(f"customer_id = ? AND {self._OPEN}", (customer_id,)))

    def open_of_contract(self, contract_id: str) -> list[Installment]:
        return _by_due(self._where(f"contract_id = ? AND {self._OPEN}", (contract_id,)))

    def open_of_customers(self, customer_ids: Iterable[str]) -> list[Installment]:
        return _by_due(self._where_in("customer_id", customer_ids, self._OPEN))

    def by_bank_title_numbers(self, numbers: Iterable[str]) -> list[Installment]:
        return _by_due(self._where_in("bank_title_number_key", _normalized(numbers)))

    def by_document_numbers(self, numbers: Iterable[str]) -> list[Installment]:
        return _by_due(self._where_in("document_number_key", _normalized(numbers)))

    def open_by_due_and_amount(self, keys: Iterable[tuple[date, Money]]) -> list[Installment]:
        self._unit.check_active()
        codec = self._unit.codec
        pairs = list(dict.fromkeys((codec.date_out(due), _cents_of(amount)) for due, amount in keys))
        # An amount beyond the money columns is one no installment has (and PostgreSQL would refuse the query).
        pairs = [pair for pair in pairs if c.INT64_MIN <= pair[1] <= c.INT64_MAX]
        if not pairs:
            return []
        sql = f"{self._select} WHERE {self._OPEN} AND (due, amount_cents) {{PAIRS}}"
        return _by_due(self._load(self._unit.fetch_in_pairs(sql, pairs)))


def _cents_of(amount: object) -> int:
    if type(amount) is not Money:
        raise InvalidType(f"an amount to look up must be Money, not {type(amount).__name__}", field="keys")
    return amount.cents


class _Settlements(_Repository[Settlement]):
    def get(self, settlement_id: str) -> Settlement:
        return self._get(settlement_id)

    def put(self, settlement: Settlement) -> Settlement:
        return self._put_many([settlement], "settlement")[0]

    def put_many(self, settlements: Sequence[Settlement]) -> Sequence[Settlement]:
        return self._put_many(settlements, "settlements")

    def of_installment(self, installment_id: str) -> list[Settlement]:
        return self._where("installment_id = ? ORDER BY seq DESC", (installment_id,))


class _CreditLetters(_Repository[CreditLetter]):
    def get(self, letter_id: str) -> CreditLetter:
        return self._get(letter_id)

    def put(self, letter: CreditLetter) -> CreditLetter:
        return self._put_many([letter], "credit_letter")[0]

    def of_customer(self, customer_id: str) -> list[CreditLetter]:
        return self._where("customer_id = ? ORDER BY created_on, id", (customer_id,))


class _Anticipations(_Repository[Anticipation]):
    _ITEMS = f"SELECT {', '.join(r.ITEM_COLUMNS)} FROM anticipated_installments WHERE anticipation_id {{IN}}"

    def _load(self, rows: list[Sequence[Any]]) -> list[Anticipation]:
        if not rows:
            return []
        unit = self._unit
        codec = unit.codec
        _refuse_unreadable(self._table.name, self._columns, rows)
        ids = [row[0] for row in rows]
        found = _decoded(
            unit, "anticipated_installments", r.ITEM_COLUMNS, unit.fetch_in(self._ITEMS, ids),
            lambda item: (item[0], c.whole(item[1]), r.item_from_row(item, codec)),
        )  # fmt: skip
        items: dict[str, list[Any]] = {key: [] for key in ids}
        for anticipation_id, _, item in sorted(found, key=lambda decoded: (decoded[0], decoded[1])):
            items[anticipation_id].append(item)
        return _decoded(
            unit, self._table.name, self._columns, rows,
            lambda row: Anticipation(
                row[0], codec.rate_in(row[1]), codec.date_in(row[2]), tuple(items[row[0]]), AnticipationStatus(row[3]),
                version=row[4],
            ),
        )  # fmt: skip

    def get(self, anticipation_id: str) -> Anticipation:
        return self._get(anticipation_id)

    def put(self, anticipation: Anticipation) -> Anticipation:
        return self._put_many([anticipation], "anticipation", self._write_items)[0]

    def _write_items(self, anticipations: Sequence[Anticipation]) -> None:
        """The header's version check passed, so this unit owns the items: replace them whole."""
        unit = self._unit
        codec = unit.codec
        for anticipation in anticipations:
            unit.execute("DELETE FROM anticipated_installments WHERE anticipation_id = ?", (anticipation.id,))
        rows = unit.made(
            lambda: [r.item_to_row(a.id, n, item, codec) for a in anticipations for n, item in enumerate(a.items)],
            "anticipation",
        )
        if rows:
            unit.insert("anticipated_installments", r.ITEM_COLUMNS, rows)

    def with_status(self, status: AnticipationStatus) -> list[Anticipation]:
        return self._where("status = ? ORDER BY anticipated_on, id", (status.value,))


class _Observations:
    def __init__(self, unit: SqlUnitOfWork) -> None:
        self._unit = unit
        table = r.OBSERVATIONS
        self._select = f"SELECT {', '.join(table.columns)} FROM {table.name}"

    def add(self, observation: Observation) -> None:
        unit = self._unit
        unit.writable()
        _record_type_of([observation], "observations", "observation")
        with unit.writing():
            rows = unit.rows(r.OBSERVATIONS, [observation], "observation")
            try:
                unit.insert("observations", r.OBSERVATIONS.columns, rows)
            except DuplicateKey:
                unit.rollback_to_savepoint()
                raise unit.spoil(Conflict("observation", observation.id, detail="it already exists")) from None

    def of_installment(self, installment_id: str) -> list[Observation]:
        unit = self._unit
        unit.check_active()
        rows = unit.find(f"{self._select} WHERE installment_id = ? ORDER BY seq", (installment_id,))
        codec = unit.codec
        from_row = r.OBSERVATIONS.from_row
        return _decoded(unit, "observations", r.OBSERVATIONS.columns, rows, lambda row: from_row(row, codec))


class _Settings(_Repository[PortfolioSettings]):
    def get(self) -> PortfolioSettings:
        found = self._where("id = 1", ())
        return found[0] if found else PortfolioSettings()

    def put(self, settings: PortfolioSettings) -> PortfolioSettings:
        return self._put_one_row(settings, "settings", _SETTINGS_KEY)


class _GatewayAccount(_Repository[GatewayAccount]):
    def get(self) -> GatewayAccount:
        found = self._where("id = 1", ())
        if not found:
            raise NotFound(_ACCOUNT_KIND, "the portfolio's")
        return found[0]

    def put(self, account: GatewayAccount) -> GatewayAccount:
        return self._put_one_row(account, _ACCOUNT_KIND, _ACCOUNT_KEY)


def _at_most(limit: int) -> int:
    """``limit`` as the 64-bit number a ``LIMIT`` takes: no store holds more rows than that anyway."""
    return min(limit, c.INT64_MAX)


def _oldest_first(operation: Operation) -> tuple[datetime, str]:
    return (operation.created_at, operation.id)


class _Operations(_Repository[Operation]):
    """Operations in ``operations``; their documents, in order, in ``operation_documents``, indexed by
    installment, so that ``of_documents`` and the ``document`` criterion are index lookups (decision 0343)."""

    # Literal statuses, as in the partial index operations_due: SQLite uses that index only for a
    # condition that repeats the index's own.
    _DUE = "status IN ('pending', 'unknown') AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
    _DOCUMENTS = "SELECT operation_id, position, installment_id FROM operation_documents WHERE operation_id {IN}"
    _NAMING = "SELECT operation_id FROM operation_documents WHERE installment_id"

    def _load(self, rows: list[Sequence[Any]]) -> list[Operation]:
        if not rows:
            return []
        unit = self._unit
        _refuse_unreadable(self._table.name, self._columns, rows)
        documents: dict[str, list[str]] = {row[0]: [] for row in rows}
        found = _decoded(
            unit, "operation_documents", r.DOCUMENT_COLUMNS, unit.fetch_in(self._DOCUMENTS, list(documents)),
            lambda row: (row[0], c.whole(row[1]), c.text(row[2])),
        )  # fmt: skip
        for operation_id, _, installment_id in sorted(found, key=lambda row: (row[0], row[1])):
            documents[operation_id].append(installment_id)
        # The documents go after the version, where rows.OPERATIONS.from_row reads them.
        return super()._load([(*row, tuple(documents[row[0]])) for row in rows])

    def get(self, operation_id: str) -> Operation:
        return self._get(operation_id)

    def get_many(self, operation_ids: Iterable[str]) -> dict[str, Operation]:
        return self._get_many(operation_ids)

    def put(self, operation: Operation) -> Operation:
        return self._put_many([operation], "operation", self._write_documents)[0]

    def put_many(self, operations: Sequence[Operation]) -> Sequence[Operation]:
        return self._put_many(operations, "operations", self._write_documents)

    def _write_documents(self, operations: Sequence[Operation]) -> None:
        """The operations' versions matched, so this unit owns them: replace their document rows whole."""
        unit = self._unit
        rewritten = [o.id for o in operations if o.version != 0]
        if rewritten:
            unit.execute_in("DELETE FROM operation_documents WHERE operation_id {IN}", (), rewritten)
        rows = [(o.id, position, document) for o in operations for position, document in enumerate(o.documents)]
        if not rows:
            return
        try:
            unit.insert("operation_documents", r.DOCUMENT_COLUMNS, rows)
        except DuplicateKey:
            unit.rollback_to_savepoint()
            first = next(o.id for o in operations if o.version == 0)
            detail = "the store holds documents of this id without its operation (edited outside carteira?)"
            raise unit.spoil(Conflict(self._table.kind, first, detail=detail)) from None

    def due(self, now: datetime, *, limit: int) -> list[Operation]:
        unit = self._unit
        unit.check_active()
        if limit < 0:
            raise InvalidInput("must be 0 or more", field="limit", raw=str(limit))
        sql = f"{self._select} WHERE {self._DUE} ORDER BY created_at, id LIMIT ?{unit.lock_for_unit}"
        return self._load(unit.fetch(sql, (unit.codec.instant_out(now), _at_most(limit))))

    def of_documents(self, installment_ids: Iterable[str]) -> list[Operation]:
        unit = self._unit
        unit.check_active()
        wanted = unit.held("operation_documents", "installment_id", installment_ids)
        if not wanted:
            return []
        naming = dict.fromkeys(row[0] for row in unit.find_in(f"{self._NAMING} {{IN}}", wanted))
        return sorted(self._where_in("id", naming), key=_oldest_first)

    def find(self, criteria: OperationFilter) -> list[Operation]:
        codec = self._unit.codec
        conditions: list[str] = []
        params: list[Any] = []
        for condition, value in (
            ("status = ?", None if criteria.status is None else criteria.status.value),
            ("kind = ?", None if criteria.kind is None else criteria.kind.value),
            ("customer_id = ?", criteria.customer_id),
            (f"id IN ({self._NAMING} = ?)", criteria.document),
            ("created_at >= ?", codec.optional_instant_out(criteria.created_from)),
            ("created_at <= ?", codec.optional_instant_out(criteria.created_to)),
            ("flagged = ?", None if criteria.flagged is None else codec.flag_out(criteria.flagged)),
        ):
            if value is not None:
                conditions.append(condition)
                params.append(value)
        where = " AND ".join(conditions) or "1 = 1"
        if criteria.limit is not None:
            params.append(_at_most(criteria.limit))
        limit = "" if criteria.limit is None else " LIMIT ?"
        return self._where(f"{where} ORDER BY created_at DESC, id DESC{limit}", params)

    def count_sent_since(self, kind: OperationKind, since: datetime) -> int:
        unit = self._unit
        unit.check_active()
        sql = "SELECT COUNT(*) FROM operations WHERE kind = ? AND sent_at >= ?"
        return int(unit.fetch(sql, (kind.value, unit.codec.instant_out(since)))[0][0])


class _GatewayCharges(_Repository[GatewayCharge]):
    def get(self, installment_id: str) -> GatewayCharge:
        return self._get(installment_id)

    def get_many(self, installment_ids: Iterable[str]) -> dict[str, GatewayCharge]:
        return {c.installment_id: c for c in self._where_in("installment_id", installment_ids)}

    def put(self, charge: GatewayCharge) -> GatewayCharge:
        return self._put_many([charge], "charge")[0]

    def put_many(self, charges: Sequence[GatewayCharge]) -> Sequence[GatewayCharge]:
        return self._put_many(charges, "charges")

    def by_charge_ids(self, charge_ids: Iterable[str]) -> list[GatewayCharge]:
        return sorted(self._where_in("charge_id", charge_ids), key=lambda c: c.installment_id)

    def of_carnet(self, carnet_id: str) -> list[GatewayCharge]:
        # COALESCE: a parcel without a number sorts as 0 in every engine (SQLite puts NULL first, PostgreSQL last).
        return self._where("carnet_id = ? ORDER BY COALESCE(parcel, 0), installment_id", (carnet_id,))


class _Notifications(_Repository[Notification]):
    """Tokens in ``notifications``, keyed by token (decision 0344); ``due`` locks as the outbox's does."""

    # A literal status, as in the partial index notifications_due (SQLite uses it only then).
    _DUE = "status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"

    def get(self, token: str) -> Notification:
        return self._get(token)

    def put(self, notification: Notification) -> Notification:
        return self._put_many([notification], "notification")[0]

    def due(self, now: datetime, *, limit: int) -> list[Notification]:
        unit = self._unit
        unit.check_active()
        if limit < 0:
            raise InvalidInput("must be 0 or more", field="limit", raw=str(limit))
        sql = f"{self._select} WHERE {self._DUE} ORDER BY received_at, token LIMIT ?{unit.lock_for_unit}"
        return self._load(unit.fetch(sql, (unit.codec.instant_out(now), _at_most(limit))))

    def with_status(self, status: NotificationStatus, *, limit: int | None = None) -> list[Notification]:
        if limit is not None and limit < 0:
            raise InvalidInput("must be 0 or more", field="limit", raw=str(limit))
        if limit is None:
            return self._where("status = ? ORDER BY received_at DESC, token DESC", (status.value,))
        return self._where("status = ? ORDER BY received_at DESC, token DESC LIMIT ?", (status.value, _at_most(limit)))


A = TypeVar("A", SeenEvent, Posting)


class _AppendOnly(Generic[A]):
    """``add_many`` of records that are never changed: a key that exists raises ``Conflict`` and spoils the unit."""

    def __init__(self, unit: SqlUnitOfWork, table: r.Table[A]) -> None:
        self._unit = unit
        self._table: r.Table[A] = table
        self._select = r.plain_select(table)

    def _load(self, rows: list[Sequence[Any]]) -> list[A]:
        codec = self._unit.codec
        from_row = self._table.from_row
        return _decoded(self._unit, self._table.name, self._table.columns, rows, lambda row: from_row(row, codec))

    def _where(self, condition: str, params: Sequence[Any]) -> list[A]:
        """The records of ``SELECT … WHERE condition``; a key no column can hold matches no row."""
        self._unit.check_active()
        return self._load(self._unit.find(f"{self._select} WHERE {condition}", params))

    def _add_many(self, records: Sequence[A], keys: Sequence[str]) -> None:
        unit = self._unit
        unit.writable()
        if not records:
            return
        twice = repeated_key(keys)
        if twice is not None:
            raise unit.spoil(Conflict(self._table.kind, twice, detail="it appears twice in one add_many"))
        with unit.writing():
            rows = unit.rows(self._table, records, self._table.name)
            try:
                unit.insert(self._table.name, self._table.columns, rows)
            except DuplicateKey:
                # Back to before the insert, so the query below sees the stored row (another unit's, once it
                # committed).
                unit.rollback_to_savepoint()
                stored = set(self._stored(records))
                first = next((key for key in keys if key in stored), keys[0])
                raise unit.spoil(Conflict(self._table.kind, first, detail="it already exists")) from None

    def _stored(self, records: Sequence[A]) -> list[str]:
        """The keys among ``records`` that the store holds."""
        raise NotImplementedError


class _SeenEvents(_AppendOnly[SeenEvent]):
    """Events in ``seen_events``, keyed by (token, event_id) (decision 0345)."""

    _ORDER = " ORDER BY token, event_id"

    def add_many(self, events: Sequence[SeenEvent]) -> None:
        _record_type_of(events, "seen_events", "events")
        self._add_many(events, [seen_event_key(*e.key) for e in events])

    def _stored(self, records: Sequence[SeenEvent]) -> list[str]:
        sql = "SELECT token, event_id FROM seen_events WHERE (token, event_id) {PAIRS}"
        return [seen_event_key(row[0], row[1]) for row in self._unit.fetch_in_pairs(sql, [e.key for e in records])]

    def of_token(self, token: str) -> list[SeenEvent]:
        return self._where("token = ? ORDER BY event_id", (token,))

    def of_charges(self, charge_ids: Iterable[str]) -> list[SeenEvent]:
        unit = self._unit
        unit.check_active()
        wanted = unit.held("seen_events", "charge_id", charge_ids)
        if not wanted:
            return []
        found = self._load(unit.find_in(f"{self._select} WHERE charge_id {{IN}}", wanted))
        return sorted(found, key=lambda e: e.key)  # the batches of {IN} come back one after the other

    def flagged(self, *, limit: int | None = None) -> list[SeenEvent]:
        if limit is not None and limit < 0:
            raise InvalidInput("must be 0 or more", field="limit", raw=str(limit))
        # A bare "flagged", as in the partial index seen_events_flagged (SQLite uses it only then).
        order = "flagged ORDER BY seen_at DESC, token DESC, event_id DESC"
        if limit is None:
            return self._where(order, ())
        return self._where(f"{order} LIMIT ?", (_at_most(limit),))


class _Postings(_AppendOnly[Posting]):
    """Postings in ``postings``, keyed by id; ``seq`` keeps the order they were recorded in (decision 0345)."""

    def add_many(self, postings: Sequence[Posting]) -> None:
        _record_type_of(postings, "postings", "postings")
        # By id within one call, so that "the order recorded, then by id" is the order of seq.
        ordered = sorted(postings, key=lambda p: p.id)
        self._add_many(ordered, [p.id for p in ordered])

    def _stored(self, records: Sequence[Posting]) -> list[str]:
        return [row[0] for row in self._unit.fetch_in("SELECT id FROM postings WHERE id {IN}", [p.id for p in records])]

    def of_settlement(self, settlement_id: str) -> list[Posting]:
        return self._where("settlement_id = ? ORDER BY seq", (settlement_id,))

    def find(
        self, *, on_from: date, on_to: date, account: str | None = None, history: str | None = None
    ) -> list[Posting]:
        codec = self._unit.codec
        conditions = ["on_date >= ?", "on_date <= ?"]
        params: list[Any] = [codec.date_out(on_from), codec.date_out(on_to)]
        for condition, value in (("account = ?", account), ("history = ?", history)):
            if value is not None:
                conditions.append(condition)
                params.append(value)
        return self._where(f"{' AND '.join(conditions)} ORDER BY on_date, id", params)


_LINKS = "batch_record_links"
_LINK_COLUMNS = r.LINK_COLUMNS
_SETTLED = "batch_record_settlements"
_SETTLED_COLUMNS = r.SETTLED_COLUMNS
_LINK_READ_COLUMNS = ("batch_id", "line", "installment_id", "position")
_LINK_READ = ", ".join(_LINK_READ_COLUMNS)
_SETTLED_READ_COLUMNS = ("batch_id", "line", "settlement_id", "position")
_SETTLED_READ = ", ".join(_SETTLED_READ_COLUMNS)
_RECORD_COLUMNS = (*r.RECORD_COLUMNS, "version")
_RecordKey = tuple[str, int]


def _grouped(
    unit: SqlUnitOfWork, table: str, columns: Sequence[str], rows: list[Sequence[Any]]
) -> dict[_RecordKey, list[str]]:
    """Child rows (batch id, line, value, position) as each record's values in position order."""
    # Sorting compares lines and positions: one stored as text would make it fail without naming the row.
    checked = _decoded(
        unit, table, columns, rows, lambda row: (row[0], c.whole(row[1]), c.text(row[2]), c.whole(row[3]))
    )
    found: dict[_RecordKey, list[str]] = {}
    for row in sorted(checked, key=lambda row: (row[0], row[1], row[3])):
        found.setdefault((row[0], row[1]), []).append(row[2])
    return found


class _ReturnBatches(_Repository[ReturnBatch]):
    """Batches in ``return_batches``; records in ``batch_records``, their links and settlement ids in two tables
    of their own, so that the finders by installment and by settlement are index lookups (decision 0321)."""

    def __init__(self, unit: SqlUnitOfWork) -> None:
        super().__init__(unit, r.BATCHES)
        self._select_records = f"SELECT {', '.join(r.RECORD_COLUMNS)}, version FROM batch_records"

    # -- the batch -------------------------------------------------------------------------------

    def add(self, batch: ReturnBatch, records: Sequence[BatchRecord]) -> ReturnBatch:
        unit = self._unit
        unit.writable()
        _record_type_of([batch], "return_batches", "batch")
        _record_type_of(records, "batch_records", "records")
        check_new(batch, records)
        with unit.writing():
            row = (*unit.rows(r.BATCHES, [batch], "batch")[0], 1)
            try:
                # The unique keys decide a race: a PostgreSQL insert waits for a unit adding the same
                # file to finish, a SQLite unit waits for the write lock (decision 0320).
                unit.insert(r.BATCHES.name, self._columns, [row])
            except DuplicateKey:
                unit.rollback_to_savepoint()
                raise self._refusal(batch) from None
            codec = unit.codec
            rows = unit.made(lambda: [(*r.record_to_row(record, codec), 1) for record in records], "records")
            if rows:
                try:
                    unit.insert("batch_records", _RECORD_COLUMNS, rows)
                except DuplicateKey:
                    unit.rollback_to_savepoint()
                    detail = "the store holds records of this batch id without its batch (edited outside carteira?)"
                    raise unit.spoil(Conflict(RECORD_KIND, record_key(records[0]), detail=detail)) from None
                self._insert_children(records)
        return with_version(batch, 1)

    def _refusal(self, batch: ReturnBatch) -> Exception:
        """Why inserting ``batch`` broke a unique key: ``DuplicateImport`` (the unit goes on) or a ``Conflict``."""
        found = self._where(
            "id = ? OR digest = ? OR (bank_code = ? AND agreement = ? AND file_sequence = ?)",
            (batch.id, batch.digest, batch.bank_code, batch.agreement, batch.file_sequence),
        )
        duplicate = first_duplicate(batch, found)
        if duplicate is not None:
            return duplicate  # the savepoint undid the insert whole: the unit stays usable (decision 0320)
        same_id = [earlier for earlier in found if earlier.id == batch.id]
        if same_id:
            return self._unit.spoil(stale(BATCH_KIND, batch.id, 0, same_id[0].version))
        # The earlier batch was deleted between the insert and this look: retrying the unit will tell.
        return self._unit.spoil(Conflict(BATCH_KIND, batch.id, detail="another unit added or removed the same file"))

    def get(self, batch_id: str) -> ReturnBatch:
        return self._get(batch_id)

    def all(self) -> list[ReturnBatch]:
        return self._where(f"1 = 1 ORDER BY {r.BATCHES.order_by}", ())

    def put(self, batch: ReturnBatch) -> ReturnBatch:
        unit = self._unit
        unit.writable()
        _record_type_of([batch], "return_batches", "batch")
        codec = unit.codec
        row = (*unit.made(lambda: [r.batch_mutable_row(batch, codec)], "batch")[0], batch.version)
        columns = (*r.BATCH_MUTABLE_COLUMNS, "version")
        if batch.version == 0 or unit.update(r.BATCHES.name, columns, [row]) != 1:
            stored = unit.fetch("SELECT version FROM return_batches WHERE id = ?", (batch.id,))
            raise unit.spoil(stale(BATCH_KIND, batch.id, batch.version, stored[0][0] if stored else 0))
        return with_version(batch, batch.version + 1)

    def delete(self, batch_id: str) -> None:
        unit = self._unit
        unit.writable()
        if (
            not unit.held(self._table.name, "id", (batch_id,))
            or unit.change("DELETE FROM return_batches WHERE id = ?", (batch_id,)) == 0
        ):
            raise NotFound(BATCH_KIND, batch_id)
        unit.read_rows.forget()  # a batch imported again in this unit reuses keys whose versions start over
        for table in (_LINKS, _SETTLED, "batch_records"):
            unit.execute(f"DELETE FROM {table} WHERE batch_id = ?", (batch_id,))

    # -- the records -----------------------------------------------------------------------------

    def records(self, batch_id: str, lines: Iterable[int] | None = None) -> list[BatchRecord]:
        unit = self._unit
        unit.check_active()
        if not unit.held("batch_records", "batch_id", (batch_id,)):
            return []
        if lines is not None:
            # A line no column holds (beyond 32 bits) is one no record has; PostgreSQL would refuse the query.
            return self._records_at([(batch_id, line) for line in unit.held("batch_records", "line", lines)])
        rows = unit.find(f"{self._select_records} WHERE batch_id = ? ORDER BY line", (batch_id,))
        links = unit.find(f"SELECT {_LINK_READ} FROM {_LINKS} WHERE batch_id = ?", (batch_id,))
        settled = unit.find(f"SELECT {_SETTLED_READ} FROM {_SETTLED} WHERE batch_id = ?", (batch_id,))
        return self._assemble(rows, links, settled)

    def lines(self, batch_id: str, *, state: LineState) -> list[int]:
        unit = self._unit
        unit.check_active()
        # LineState.holds in SQL, as set operations over the batch's lines in the three tables: hashed or sorted
        # sets whatever the planner expects of each, where EXISTS became 100,000 index probes on PostgreSQL when
        # the link and settlement tables had no statistics yet (0.3-0.55 s a call after a batch was confirmed).
        settled = f"SELECT line, batch_id FROM {_SETTLED} WHERE batch_id = ?"
        if state is LineState.ANTICIPATED:  # settled, naming an anticipation
            sql = (
                "SELECT line, batch_id FROM batch_records WHERE batch_id = ? AND anticipation_id IS NOT NULL "
                f"INTERSECT {settled} ORDER BY 1"
            )
            found = unit.find(sql, (batch_id, batch_id))
        else:  # a settlement record, not settled, with links (to confirm) or none (open)
            records = "SELECT line, batch_id FROM batch_records WHERE batch_id = ? AND is_settlement = ?"
            linked = f"SELECT line, batch_id FROM {_LINKS} WHERE batch_id = ?"
            with_links = "INTERSECT" if state is LineState.TO_CONFIRM else "EXCEPT"
            sql = f"{records} {with_links} {linked} EXCEPT {settled} ORDER BY 1"  # left to right on both engines
            found = unit.find(sql, (batch_id, unit.codec.flag_out(True), batch_id, batch_id))
        return _decoded(unit, "batch_records", ("line", "batch_id"), found, lambda row: c.whole(row[0]))

    def _records_at(self, keys: Sequence[_RecordKey]) -> list[BatchRecord]:
        """The records at ``keys`` (batch id, line), ordered by them; keys with no record are left out."""
        unit = self._unit
        found: list[BatchRecord] = []
        lines_of: dict[str, list[int]] = {}
        for batch_id, line in keys:
            lines_of.setdefault(batch_id, []).append(line)
        # One batch at a time, `batch_id = ? AND line IN (...)`: both engines then walk the primary key, where a
        # list of (batch id, line) pairs made SQLite scan the whole table (17 ms a query at 100,000 records).
        for batch_id, lines in lines_of.items():
            where = "WHERE batch_id = ? AND line {IN}"
            rows = unit.fetch_in(f"{self._select_records} {where}", lines, (batch_id,))
            links = unit.fetch_in(f"SELECT {_LINK_READ} FROM {_LINKS} {where}", lines, (batch_id,))
            settled = unit.fetch_in(f"SELECT {_SETTLED_READ} FROM {_SETTLED} {where}", lines, (batch_id,))
            found.extend(self._assemble(rows, links, settled))
        found.sort(key=attrgetter("batch_id", "line"))
        return found

    def _assemble(
        self, rows: list[Sequence[Any]], links: list[Sequence[Any]], settled: list[Sequence[Any]]
    ) -> list[BatchRecord]:
        """Records from their rows and their child rows (batch id, line, value, position)."""
        unit = self._unit
        by_record = _grouped(unit, _LINKS, _LINK_READ_COLUMNS, links)
        settlements = _grouped(unit, _SETTLED, _SETTLED_READ_COLUMNS, settled)
        codec = unit.codec
        found: list[BatchRecord] = _decoded(
            unit, "batch_records", _RECORD_COLUMNS, rows,
            lambda row: r.record_from_row(
                row, tuple(by_record.get((row[0], row[1]), ())), tuple(settlements.get((row[0], row[1]), ())), codec
            ),
        )  # fmt: skip
        read = unit.read_rows
        read.keep_children("batch_records", _LINKS, {(b.batch_id, b.line): (b.version, b.links) for b in found})
        read.keep_children(
            "batch_records", _SETTLED, {(b.batch_id, b.line): (b.version, b.settlement_ids) for b in found}
        )
        return found

    def put_records(self, records: Sequence[BatchRecord]) -> Sequence[BatchRecord]:
        unit = self._unit
        unit.writable()
        _record_type_of(records, "batch_records", "records")
        keys = [record_key(record) for record in records]
        _refuse_twice(keys, "records")
        if not records:
            return Stored(())
        codec = unit.codec
        with unit.writing():
            rows = unit.made(
                lambda: [(*r.record_mutable_row(record, codec), record.version) for record in records], "records"
            )
            if unit.update("batch_records", (*r.RECORD_MUTABLE_COLUMNS, "version"), rows, keys=2) != len(rows):
                unit.rollback_to_savepoint()
                raise unit.spoil(self._stale_record(records))
            # The records' versions matched, so this unit owns them: replace the child rows of those whose links or
            # settlement ids are not the ones this transaction read with them (decision 0350).
            for table, values in ((_LINKS, attrgetter("links")), (_SETTLED, attrgetter("settlement_ids"))):
                changed, stored = self._children_changed(table, values, records)
                for batch_id, lines in _lines_by_batch(stored).items():
                    unit.execute_in(f"DELETE FROM {table} WHERE batch_id = ? AND line {{IN}}", (batch_id,), lines)
                self._insert_children(changed, table)
        return Stored(records)

    def _children_changed(
        self, table: str, values: Callable[[BatchRecord], tuple[str, ...]], records: Sequence[BatchRecord]
    ) -> tuple[list[BatchRecord], list[BatchRecord]]:
        """The records whose ``values`` in the child ``table`` change, and those of them that may have rows there now
        (all but those read with none): the first get their rows inserted, the second deleted first."""
        read = self._unit.read_rows
        changed: list[BatchRecord] = []
        stored: list[BatchRecord] = []
        for record in records:
            before = read.children(table, (record.batch_id, record.line), record.version)
            if before is None or before != values(record):
                changed.append(record)
                if before is None or before:
                    stored.append(record)
        return changed, stored

    def _stale_record(self, records: Sequence[BatchRecord]) -> Conflict:
        """The conflict of the first record whose stored version is not the one it carries (0: absent)."""
        keys = [(record.batch_id, record.line) for record in records]
        sql = "SELECT batch_id, line, version FROM batch_records WHERE (batch_id, line) {PAIRS}"
        stored = {(row[0], row[1]): row[2] for row in self._unit.fetch_in_pairs(sql, keys)}
        for record in records:
            found = stored.get((record.batch_id, record.line), 0)
            if record.version == 0 or found != record.version:
                return stale(RECORD_KIND, record_key(record), record.version, found)
        return Conflict(RECORD_KIND, record_key(records[0]),
                        detail=f"one of {len(records)} records changed while being written")  # fmt: skip

    def _insert_children(self, records: Sequence[BatchRecord], only: str | None = None) -> None:
        """Insert the records' link rows and settlement rows (``only`` the one child table, when named)."""
        unit = self._unit
        links = [
            (record.batch_id, record.line, position, installment_id)
            for record in (records if only in (None, _LINKS) else ())
            for position, installment_id in enumerate(record.links)
        ]
        if links:
            unit.insert(_LINKS, _LINK_COLUMNS, links)
        settled = [
            (settlement_id, record.batch_id, record.line, position)
            for record in (records if only in (None, _SETTLED) else ())
            for position, settlement_id in enumerate(record.settlement_ids)
        ]
        if settled:
            try:
                unit.insert(_SETTLED, _SETTLED_COLUMNS, settled)
            except DuplicateKey:
                unit.rollback_to_savepoint()
                detail = "one of its settlement ids is already held by another record; a settlement settles one record"
                raise unit.spoil(Conflict(RECORD_KIND, record_key(records[0]), detail=detail)) from None

    def record_of_settlement(self, settlement_id: str) -> BatchRecord | None:
        self._unit.check_active()
        sql = f"SELECT batch_id, line, settlement_id FROM {_SETTLED} WHERE settlement_id = ?"
        found = self._unit.find(sql, (settlement_id,))
        _refuse_unreadable(_SETTLED, ("batch_id", "line", "settlement_id"), found)
        records = self._records_at([(row[0], row[1]) for row in found])
        return records[0] if records else None

    def records_linked_to(self, installment_ids: Iterable[str]) -> list[BatchRecord]:
        unit = self._unit
        unit.check_active()
        wanted = unit.held(_LINKS, "installment_id", installment_ids)
        if not wanted:
            return []
        sql = (
            f"SELECT DISTINCT l.batch_id, l.line FROM {_LINKS} AS l WHERE NOT EXISTS "
            f"(SELECT 1 FROM {_SETTLED} AS s WHERE s.batch_id = l.batch_id AND s.line = l.line) "
            "AND l.installment_id {IN}"
        )
        keys = list(dict.fromkeys((row[0], row[1]) for row in unit.find_in(sql, wanted)))
        return self._records_at(keys)


def _lines_by_batch(records: Sequence[BatchRecord]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for record in records:
        found.setdefault(record.batch_id, []).append(record.line)
    return found


class SqlUnitOfWork:
    """A unit of work over one database connection: the dialect fills in the primitives below."""

    codec: r.Codec

    lock_for_unit: str = ""
    """Appended to a query to lock the rows it returns for this unit, skipping rows another unit holds
    (``" FOR UPDATE SKIP LOCKED"``); empty for a dialect whose units run one at a time."""

    def __init__(self) -> None:
        self._spoiled: Exception | None = None
        self._active = False
        self._customers = _Customers(self, r.CUSTOMERS)
        self._contracts = _Contracts(self, r.CONTRACTS)
        self._installments = _Installments(self, r.INSTALLMENTS)
        self._settlements = _Settlements(self, r.SETTLEMENTS)
        self._letters = _CreditLetters(self, r.CREDIT_LETTERS)
        self._anticipations = _Anticipations(self, r.ANTICIPATIONS)
        self._observations = _Observations(self)
        self._settings = _Settings(self, r.SETTINGS)
        self._return_batches = _ReturnBatches(self)
        self._gateway_account = _GatewayAccount(self, r.ACCOUNT)
        self._operations = _Operations(self, r.OPERATIONS)
        self._gateway_charges = _GatewayCharges(self, r.GATEWAY_CHARGES)
        self._notifications = _Notifications(self, r.NOTIFICATIONS)
        self._seen_events = _SeenEvents(self, r.SEEN_EVENTS)
        self._postings = _Postings(self, r.POSTINGS)
        self.read_rows = ReadRows()
        """The rows this transaction read, so that an update writes only the columns that changed."""

    # -- the primitives a dialect supplies -------------------------------------------------------

    def begin(self) -> None:
        """Open the connection's first transaction (when the ``with`` block is entered).

        Later transactions begin with the first statement after a commit: the dialect's primitives
        see to it (psycopg does by itself), so ``commit()`` never starts one.
        """
        raise NotImplementedError

    def end(self, commit: bool) -> None:
        """Commit or roll back the transaction."""
        raise NotImplementedError

    def release(self) -> None:
        """Give the connection back."""
        raise NotImplementedError

    def fetch(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        """The rows of one query."""
        raise NotImplementedError

    def fetch_in(self, sql: str, values: Sequence[Any], params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        """The rows of ``sql`` whose last condition ``{IN}`` is ``column IN values``, batched as the dialect likes.

        ``params`` fill the ``?`` before ``{IN}`` (the same in every batch).
        """
        raise NotImplementedError

    def fetch_in_pairs(self, sql: str, pairs: Sequence[tuple[Any, Any]]) -> list[Sequence[Any]]:
        """The rows of ``sql`` whose ``(a, b) {PAIRS}`` condition is ``(a, b) IN pairs``, batched by the dialect."""
        raise NotImplementedError

    def execute(self, sql: str, params: Sequence[Any]) -> int:
        """Run one statement; the number of rows it changed."""
        raise NotImplementedError

    def execute_in(self, sql: str, params: Sequence[Any], values: Sequence[Any]) -> int:
        """Run ``sql`` with ``params``, its last condition ``{IN}`` as ``column IN values``, batched by the dialect."""
        raise NotImplementedError

    def insert_many(self, table: str, columns: Sequence[str], rows: Sequence[r.Row]) -> None:
        """Insert ``rows``; raises :class:`DuplicateKey` when a key exists (the transaction stays usable)."""
        raise NotImplementedError

    def update_many(self, table: str, columns: Sequence[str], rows: Sequence[r.Row], keys: int = 1) -> int:
        """Update by the first ``keys`` columns where the stored version is the row's last value, setting it one higher.

        ``rows`` hold ``columns`` then the expected version; returns how many rows were updated.
        """
        raise NotImplementedError

    def savepoint(self) -> None:
        """Mark a point this unit can roll back to (to look at the database as it was before a failed write)."""
        raise NotImplementedError

    def rollback_to_savepoint(self) -> None:
        """Undo what was done since :meth:`savepoint`."""
        raise NotImplementedError

    def release_savepoint(self) -> None:
        """Forget the mark set by :meth:`savepoint`."""
        raise NotImplementedError

    # -- the unit of work ------------------------------------------------------------------------

    @property
    def customers(self) -> _Customers:
        """The customers."""
        return self._customers

    @property
    def contracts(self) -> _Contracts:
        """The contracts."""
        return self._contracts

    @property
    def installments(self) -> _Installments:
        """The installments."""
        return self._installments

    @property
    def settlements(self) -> _Settlements:
        """The settlements."""
        return self._settlements

    @property
    def credit_letters(self) -> _CreditLetters:
        """The credit letters."""
        return self._letters

    @property
    def anticipations(self) -> _Anticipations:
        """The anticipations."""
        return self._anticipations

    @property
    def observations(self) -> _Observations:
        """The observations."""
        return self._observations

    @property
    def settings(self) -> _Settings:
        """The portfolio's settings."""
        return self._settings

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

    def __enter__(self) -> Self:
        self.begin()
        self._active = True
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._active = False
        self.read_rows.forget()
        try:
            self.end(commit=False)
        finally:
            self.release()

    def commit(self) -> None:
        """Keep everything done in this unit so far; a spoiled unit raises its error again and keeps nothing.

        The unit stays usable: its next statement begins a new transaction. ``commit()`` itself does
        nothing after the COMMIT, so an error from it always means that nothing was kept.
        """
        self.check_active()
        if self._spoiled is not None:
            raise self._spoiled
        self.read_rows.forget()  # what another unit commits next is checked by the version rule alone
        self.end(commit=True)

    def check_active(self) -> None:
        """Refuse use outside the ``with`` block (a programming error, not a data problem)."""
        if not self._active:
            raise InvalidInput("the unit of work is used outside its with block", field="unit_of_work")

    def spoil(self, error: E) -> E:
        """Remember ``error`` so that ``commit()`` refuses to keep any of this unit; returns it to raise.

        A ``Conflict`` spoils the unit, and so does any failed statement: a failed ``executemany``
        may have written part of its rows, which must never be committed. So does a value refused
        before its statement ran: the unit meant to write it, and must not be kept without it.
        """
        self._spoiled = error
        return error

    # -- writing: what the repositories call -----------------------------------------------------

    def writable(self) -> None:
        """Refuse a write outside the ``with`` block, or to a unit already spoiled (its error is raised again)."""
        self.check_active()
        if self._spoiled is not None:
            raise self._spoiled

    @contextmanager
    def writing(self) -> Iterator[None]:
        """A write inside a savepoint: whatever fails in it is undone to the savepoint and spoils the unit.

        The error raised is the one that failed the write, never the "transaction is aborted" of the
        statements that tidy up after it. A ``DuplicateImport`` leaves the unit usable (decision 0320).
        """
        self.savepoint()
        try:
            yield
        except BaseException as exc:
            self._undo()
            if isinstance(exc, Exception) and not isinstance(exc, DuplicateImport):
                self.spoil(exc)
            raise
        else:
            self.release_savepoint()

    def _undo(self) -> None:
        """Roll back to the savepoint and forget it; a failure here (a lost connection) is the unit's end anyway."""
        spoiled = self._spoiled
        try:
            self.rollback_to_savepoint()
            self.release_savepoint()
        except CarteiraError:
            self._spoiled = spoiled  # the error that ended the write is the one to report

    def rows(self, table: r.Table[Any], records: Sequence[Any], argument: str) -> list[r.Row]:
        """``table``'s rows of ``records``; a record that cannot be made a row (a field of the wrong kind, set around
        its validators) is ``InvalidInput`` naming ``argument``."""
        to_row = table.to_row
        codec = self.codec
        return self.made(lambda: [to_row(record, codec) for record in records], argument)

    def made(self, build: Callable[[], list[r.Row]], argument: str) -> list[r.Row]:
        """The rows ``build`` makes; an error making them is ``InvalidInput`` naming ``argument``, its cause chained."""
        try:
            return build()
        except CarteiraError:
            raise
        except Exception as exc:
            raise self.spoil(
                InvalidInput(f"cannot be stored: a field holds what its column cannot ({type(exc).__name__}: {exc})",
                             field=argument)
            ) from exc  # fmt: skip

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[r.Row]) -> None:
        """:meth:`insert_many` of rows checked first (:func:`~carteira.adapters.storage.columns.first_unholdable`);
        a value the driver refuses is named the same way. Either spoils the unit."""
        self._hold(table, columns, rows)
        # A key inserted again after a delete starts its versions over: what was read of it is no guide.
        key = r.KEYS.get(table, ())
        if key and tuple(columns[: len(key)]) == key:
            self.read_rows.forget(table, [row[: len(key)] for row in rows])
        else:
            self.read_rows.forget(table)
        try:
            self.insert_many(table, columns, rows)
        except c.Unholdable as exc:
            raise self._refused(table, columns, rows, exc) from exc.__cause__

    def update(self, table: str, columns: Sequence[str], rows: Sequence[r.Row], keys: int = 1) -> int:
        """:meth:`update_many` of rows checked as :meth:`insert` checks them; a row this transaction read at the
        version expected sets only the columns that changed (:class:`~carteira.adapters.storage.read_rows.ReadRows`)."""
        self._hold(table, columns, rows)
        updated = 0
        try:
            for narrowed, chosen in self.read_rows.narrowed(table, columns, rows, keys):
                updated += self.update_many(table, narrowed, chosen, keys)
        except c.Unholdable as exc:
            raise self._refused(table, columns, rows, exc) from exc.__cause__
        return updated

    def _hold(self, table: str, columns: Sequence[str], rows: Sequence[r.Row]) -> None:
        refused = c.first_unholdable(table, r.HOLDS[table], r.KEYS[table], columns, rows)
        if refused is not None:
            raise self.spoil(refused)

    def _refused(self, table: str, columns: Sequence[str], rows: Sequence[r.Row], exc: c.Unholdable) -> Exception:
        found = c.unholdable(table, r.HOLDS[table], r.KEYS[table], columns, rows)
        if found is None:
            found = InvalidRow(f"the database refused a value ({exc})", table=table, key="?", column="?")
        return self.spoil(found)

    # -- reading: keys no row holds, rows that do not read ---------------------------------------

    def held(self, table: str, column: str, values: Iterable[Any]) -> list[Any]:
        """``values`` once each, without those ``column`` cannot hold (a key of the wrong type, NUL, a number
        beyond the column's bits): no row has them, and PostgreSQL would refuse them in a query."""
        holds = r.HOLDS[table][column]
        if holds.text:
            return [v for v in dict.fromkeys(values) if v.__class__ is str and "\x00" not in v]
        low, high = holds.low, holds.high
        return [v for v in dict.fromkeys(values) if v.__class__ is int and low <= v <= high]  # type: ignore[operator]

    def find(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        """:meth:`fetch` of a query whose parameters are keys compared for equality: one the driver refuses (a lone
        surrogate) is a key no row has, so nothing is found."""
        try:
            return self.fetch(sql, params)
        except c.Unholdable:
            return []

    def find_in(self, sql: str, values: Sequence[Any], params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        """:meth:`fetch_in` of keys; those the driver refuses are left out, as keys no row has."""
        try:
            return self.fetch_in(sql, values, params)
        except c.Unholdable:
            return self.fetch_in(sql, [value for value in values if c.holdable_key(value)], params)

    def change(self, sql: str, params: Sequence[Any]) -> int:
        """:meth:`execute` of a statement keyed by ``params``; a key the driver refuses changes no row."""
        try:
            return self.execute(sql, params)
        except c.Unholdable:
            return 0

    def unreadable(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        decode: Callable[[Any], Any],
        exc: BaseException,
    ) -> InvalidInput:
        """The ``InvalidRow`` for the first of ``rows`` that ``decode`` refuses, found after ``exc`` ended a read."""
        found = c.unreadable(table, r.HOLDS[table], r.KEYS[table], columns, rows, decode, self.codec)
        if found is not None:
            return found
        return InvalidInput(f"a stored row cannot be read back ({type(exc).__name__}: {exc})", field=table,
                            source="database")  # fmt: skip
