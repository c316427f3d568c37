"""Storage ports: repositories that read like collections, a unit of work around them, and the store.

Nothing here knows SQL. A service opens one unit of work, loads what it needs, calls the pure
domain, puts the results back and commits; whatever is not committed is rolled back::

    with store.unit_of_work() as uow:
        installment = uow.installments.get("inst-1")
        outcome = settle(installment, payment, uow.settings.get().policy, calendar=calendar)
        uow.installments.put(outcome.installment)
        uow.settlements.put(outcome.settlement)
        uow.commit()

The version rule (optimistic concurrency), the same for every adapter:

- Every versioned aggregate (all but :class:`~carteira.domain.Observation`) carries ``version``.
  A new record is put with version 0 and stored as version 1. A record read at version ``v``
  and put back is stored as ``v + 1``.
- ``put`` returns the record as stored, with its new version, and ``get`` in the same unit
  returns that too. To write a record twice in one unit, put what the first ``put`` returned.
- A put whose version is not the stored one (another unit wrote the record since it was read,
  or a version 0 record that already exists) raises :class:`~carteira.errors.Conflict` naming
  the record. The check happens at ``put``, against the database as it stands (a PostgreSQL
  write waits for a concurrent unit holding the row to finish, then checks); ``MemoryStore``
  checks again at ``commit``. After a ``Conflict`` the unit is spoiled: ``commit`` raises the
  same ``Conflict`` and nothing of the unit is kept. Reload and retry the whole unit.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import Protocol, Self

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
)
from carteira.domain.notifications import Notification, NotificationStatus, SeenEvent
from carteira.domain.operations import GatewayAccount, GatewayCharge, Operation, OperationFilter, OperationKind
from carteira.domain.postings import Posting
from carteira.domain.return_batch import BatchRecord, ReturnBatch

__all__ = [
    "AnticipationRepository",
    "ContractRepository",
    "CreditLetterRepository",
    "CustomerRepository",
    "GatewayAccountRepository",
    "GatewayChargeRepository",
    "InstallmentRepository",
    "LineState",
    "NotificationRepository",
    "ObservationRepository",
    "OperationRepository",
    "PostingRepository",
    "ReturnBatchRepository",
    "SeenEventRepository",
    "SettingsRepository",
    "SettlementRepository",
    "Store",
    "UnitOfWork",
]


class CustomerRepository(Protocol):
    """The customers (payers) of the portfolio."""

    def get(self, customer_id: str) -> Customer:
        """The customer ``customer_id``; raises :class:`~carteira.errors.NotFound` when there is none."""
        ...

    def get_many(self, customer_ids: Iterable[str]) -> dict[str, Customer]:
        """The customers among ``customer_ids``, by id; ids that do not exist are left out."""
        ...

    def by_tax_ids(self, tax_ids: Iterable[str]) -> list[Customer]:
        """The customers whose CPF/CNPJ (digits only, as stored) is among ``tax_ids``, in one batched read."""
        ...

    def put(self, customer: Customer) -> Customer:
        """Insert (version 0) or update ``customer``; returns it as stored, version bumped; raises ``Conflict``."""
        ...


class ContractRepository(Protocol):
    """The customers' contracts, with their bank-contract link (D11)."""

    def get(self, contract_id: str) -> Contract:
        """The contract ``contract_id``; raises :class:`~carteira.errors.NotFound` when there is none."""
        ...

    def put(self, contract: Contract) -> Contract:
        """Insert (version 0) or update ``contract``; returns it as stored, version bumped; raises ``Conflict``."""
        ...

    def of_customer(self, customer_id: str) -> list[Contract]:
        """The contracts of ``customer_id``, ordered by id."""
        ...


class InstallmentRepository(Protocol):
    """Installments with their full open state; finders work in bulk and return lists ordered by (due, id)."""

    def get(self, installment_id: str) -> Installment:
        """The installment ``installment_id``; raises :class:`~carteira.errors.NotFound` when there is none."""
        ...

    def get_many(self, installment_ids: Iterable[str]) -> dict[str, Installment]:
        """The installments among ``installment_ids``, by id, in one batched read; unknown ids are left out."""
        ...

    def put(self, installment: Installment) -> Installment:
        """Insert (version 0) or update ``installment``; returns it as stored, version bumped; raises ``Conflict``."""
        ...

    def put_many(self, installments: Sequence[Installment]) -> Sequence[Installment]:
        """``put`` for many at once, in bulk, in the order given; an id twice raises ``InvalidInput``."""
        ...

    def open_of_customer(self, customer_id: str) -> list[Installment]:
        """The installments of ``customer_id`` that are not settled."""
        ...

    def open_of_contract(self, contract_id: str) -> list[Installment]:
        """The installments of ``contract_id`` that are not settled."""
        ...

    def by_bank_title_numbers(self, numbers: Iterable[str]) -> list[Installment]:
        """The installments whose bank title number (nosso número) is among ``numbers``, whatever their status.

        Both sides are compared normalized (:func:`~carteira.domain.normalize_title_number`: no blanks,
        no leading zeros), so ``"000123"`` as an ERP stored it finds ``"123"`` as a file prints it.
        """
        ...

    def by_document_numbers(self, numbers: Iterable[str]) -> list[Installment]:
        """The installments whose document number (seu número) is among ``numbers``, whatever their status.

        Compared normalized as bank title numbers are.
        """
        ...

    def open_of_customers(self, customer_ids: Iterable[str]) -> list[Installment]:
        """The installments of any of ``customer_ids`` that are not settled, in one batched read."""
        ...

    def open_by_due_and_amount(self, keys: Iterable[tuple[date, Money]]) -> list[Installment]:
        """The installments not settled whose (due date, face amount) is among ``keys`` (B4's last resort)."""
        ...


class SettlementRepository(Protocol):
    """Settlements, with the state before each (what reversal restores)."""

    def get(self, settlement_id: str) -> Settlement:
        """The settlement ``settlement_id``; raises :class:`~carteira.errors.NotFound` when there is none."""
        ...

    def put(self, settlement: Settlement) -> Settlement:
        """Insert (version 0) or update (a reversal) ``settlement``; returns it as stored; raises ``Conflict``."""
        ...

    def put_many(self, settlements: Sequence[Settlement]) -> Sequence[Settlement]:
        """``put`` for many at once, in bulk, in the order given; an id twice raises ``InvalidInput``."""
        ...

    def of_installment(self, installment_id: str) -> list[Settlement]:
        """The settlements of ``installment_id``, the latest recorded first (reversed ones included)."""
        ...


class CreditLetterRepository(Protocol):
    """Customers' credit letters (D6)."""

    def get(self, letter_id: str) -> CreditLetter:
        """The letter ``letter_id``; raises :class:`~carteira.errors.NotFound` when there is none."""
        ...

    def put(self, letter: CreditLetter) -> CreditLetter:
        """Insert (version 0) or update ``letter``; returns it as stored, version bumped; raises ``Conflict``."""
        ...

    def of_customer(self, customer_id: str) -> list[CreditLetter]:
        """The letters of ``customer_id`` (cancelled and used ones too), ordered by (created_on, id)."""
        ...


class AnticipationRepository(Protocol):
    """Anticipations and the installments in each (D10, B11)."""

    def get(self, anticipation_id: str) -> Anticipation:
        """The anticipation ``anticipation_id``; raises :class:`~carteira.errors.NotFound` when there is none."""
        ...

    def put(self, anticipation: Anticipation) -> Anticipation:
        """Insert (version 0) or update ``anticipation`` with its items; returns it as stored; raises ``Conflict``."""
        ...

    def with_status(self, status: AnticipationStatus) -> list[Anticipation]:
        """The anticipations in ``status``, ordered by (anticipated_on, id)."""
        ...


class ObservationRepository(Protocol):
    """Dated notes on installments; append-only, so they carry no version."""

    def add(self, observation: Observation) -> None:
        """Record ``observation``; an id that already exists raises :class:`~carteira.errors.Conflict`."""
        ...

    def of_installment(self, installment_id: str) -> list[Observation]:
        """The observations of ``installment_id``, oldest recorded first."""
        ...


class LineState(enum.Enum):
    """Which lines of a batch :meth:`ReturnBatchRepository.lines` lists: the settlement records still to link
    (B6's "open", no links) or still to confirm (linked), neither kind settled yet; or the settled records whose
    file names an anticipation (B11: what the end of ``confirm`` groups into anticipations)."""

    OPEN = "open"
    TO_CONFIRM = "to_confirm"
    ANTICIPATED = "anticipated"

    def holds(self, record: BatchRecord) -> bool:
        """Whether ``record`` is in this state (what every store's ``lines`` must agree with)."""
        if self is LineState.ANTICIPATED:
            return record.is_settled and record.anticipation_id is not None
        if not record.is_settlement or record.is_settled:
            return False
        return bool(record.links) is (self is LineState.TO_CONFIRM)


class ReturnBatchRepository(Protocol):
    """Return batches (B2-B10) and their records; a batch and its records are one aggregate.

    Records are versioned one by one (the version rule above), so two workers confirming different
    records, or different batches, never conflict; the batch row's version guards its status.
    """

    def add(self, batch: ReturnBatch, records: Sequence[BatchRecord]) -> ReturnBatch:
        """Store a new batch (version 0) with its records; returns the batch as stored.

        Raises:
            DuplicateImport: a batch with the same ``digest``, or the same ``file_key`` (bank,
                agreement and file sequence), exists; it names the earlier batch. The store enforces
                it with unique keys, so two units adding the same file at once leave one batch.
        """
        ...

    def get(self, batch_id: str) -> ReturnBatch:
        """The batch ``batch_id``; raises :class:`~carteira.errors.NotFound` when there is none."""
        ...

    def all(self) -> list[ReturnBatch]:
        """Every batch, newest process date first (then by id)."""
        ...

    def put(self, batch: ReturnBatch) -> ReturnBatch:
        """Update ``batch`` (its status, warnings); returns it as stored, version bumped; raises ``Conflict``."""
        ...

    def delete(self, batch_id: str) -> None:
        """Remove the batch and its records (B10); raises ``NotFound`` when there is none."""
        ...

    def records(self, batch_id: str, lines: Iterable[int] | None = None) -> list[BatchRecord]:
        """The batch's records in line order, or only those on ``lines``; unknown lines are left out."""
        ...

    def lines(self, batch_id: str, *, state: LineState) -> list[int]:
        """The lines, ascending, of the batch's records in ``state``; ``[]`` when there is no such batch.

        The line numbers only: listing what is left to link or confirm, or what was settled in an anticipation,
        builds no records.
        """
        ...

    def put_records(self, records: Sequence[BatchRecord]) -> Sequence[BatchRecord]:
        """Update records (links, settlements, notes) in bulk; returns them as stored; raises ``Conflict``."""
        ...

    def record_of_settlement(self, settlement_id: str) -> BatchRecord | None:
        """The record whose ``settlement_ids`` holds ``settlement_id`` (what B9's warning needs), if any."""
        ...

    def records_linked_to(self, installment_ids: Iterable[str]) -> list[BatchRecord]:
        """Records of any batch whose links name one of ``installment_ids`` and are not settled yet."""
        ...


class GatewayAccountRepository(Protocol):
    """The portfolio's one account at the payment gateway (G1); it never holds the secret."""

    def get(self) -> GatewayAccount:
        """The account; raises :class:`~carteira.errors.NotFound` (kind ``"gateway account"``) when none was put."""
        ...

    def put(self, account: GatewayAccount) -> GatewayAccount:
        """Insert (version 0) or replace the account; returns it as stored, version bumped; raises ``Conflict``."""
        ...


class OperationRepository(Protocol):
    """The operations log, an outbox (G8): what was and is to be sent to the gateway.

    ``due`` is how workers share the outbox: on PostgreSQL it locks the rows it returns for the
    unit (``FOR UPDATE SKIP LOCKED``), so a concurrent unit's ``due`` skips them and two workers
    never take the same operation; a store whose units run one at a time (SQLite, memory) needs no
    lock. Lists are ordered by ``(created_at, id)`` unless said otherwise.
    """

    def get(self, operation_id: str) -> Operation:
        """The operation ``operation_id``; raises :class:`~carteira.errors.NotFound` when there is none."""
        ...

    def get_many(self, operation_ids: Iterable[str]) -> dict[str, Operation]:
        """The operations among ``operation_ids``, by id, in one batched read; unknown ids are left out."""
        ...

    def put(self, operation: Operation) -> Operation:
        """Insert (version 0) or update ``operation``; returns it as stored, version bumped; raises ``Conflict``."""
        ...

    def put_many(self, operations: Sequence[Operation]) -> Sequence[Operation]:
        """``put`` for many at once, in bulk, in the order given; an id twice raises ``InvalidInput``."""
        ...

    def due(self, now: datetime, *, limit: int) -> list[Operation]:
        """Up to ``limit`` operations a worker may act on at ``now`` (:meth:`Operation.due`), oldest first.

        Locked for this unit where the store has row locks; rows another unit holds are skipped.
        """
        ...

    def of_documents(self, installment_ids: Iterable[str]) -> list[Operation]:
        """Every operation naming any of ``installment_ids`` among its documents."""
        ...

    def find(self, criteria: OperationFilter) -> list[Operation]:
        """The operations ``criteria`` matches (:meth:`OperationFilter.matches`), newest first (then by id
        descending), at most ``criteria.limit`` of them."""
        ...

    def count_sent_since(self, kind: OperationKind, since: datetime) -> int:
        """How many operations of ``kind`` were sent at or after ``since`` (the gateway's daily limit, G11)."""
        ...


class GatewayChargeRepository(Protocol):
    """Which charge at the gateway each installment is (G2, G3); one per installment."""

    def get(self, installment_id: str) -> GatewayCharge:
        """The charge of ``installment_id``; raises :class:`~carteira.errors.NotFound` when it has none."""
        ...

    def get_many(self, installment_ids: Iterable[str]) -> dict[str, GatewayCharge]:
        """The charges of the installments among ``installment_ids``, by installment id; the rest are left out."""
        ...

    def put(self, charge: GatewayCharge) -> GatewayCharge:
        """Insert (version 0) or update ``charge``; returns it as stored, version bumped; raises ``Conflict``."""
        ...

    def put_many(self, charges: Sequence[GatewayCharge]) -> Sequence[GatewayCharge]:
        """``put`` for many at once, in bulk, in the order given; an installment twice raises ``InvalidInput``."""
        ...

    def by_charge_ids(self, charge_ids: Iterable[str]) -> list[GatewayCharge]:
        """The charges whose gateway ``charge_id`` is among ``charge_ids``, ordered by installment id."""
        ...

    def of_carnet(self, carnet_id: str) -> list[GatewayCharge]:
        """The parcels of carnet ``carnet_id``, ordered by parcel."""
        ...


class NotificationRepository(Protocol):
    """The gateway's notification tokens (G6, G6a), one record per token, stored before they are processed.

    ``due`` is how workers share them, as :meth:`OperationRepository.due` shares the outbox: on
    PostgreSQL it locks the rows it returns for the unit (``FOR UPDATE SKIP LOCKED``).
    """

    def get(self, token: str) -> Notification:
        """The notification ``token``; raises :class:`~carteira.errors.NotFound` (kind ``"notification"``)."""
        ...

    def put(self, notification: Notification) -> Notification:
        """Insert (version 0) or update ``notification``; returns it as stored, version bumped; raises ``Conflict``.

        Two units inserting one token at once leave one: the second gets ``Conflict`` at ``put`` or ``commit``.
        """
        ...

    def due(self, now: datetime, *, limit: int) -> list[Notification]:
        """Up to ``limit`` notifications a worker may process at ``now`` (:meth:`Notification.due`), oldest
        received first (then by token); locked for this unit where the store has row locks."""
        ...

    def with_status(self, status: NotificationStatus, *, limit: int | None = None) -> list[Notification]:
        """The notifications in ``status``, newest received first (then by token descending), at most ``limit``."""
        ...


class SeenEventRepository(Protocol):
    """The events behind notification tokens that were processed, one per ``(token, event_id)``; append-only.

    The key is the store's unique key, so two workers processing one token at once cannot both record
    an event: the second ``add_many`` (or its ``commit``) raises ``Conflict`` and keeps nothing of its unit.
    """

    def add_many(self, events: Sequence[SeenEvent]) -> None:
        """Record ``events``; one whose key exists (or appears twice) raises :class:`~carteira.errors.Conflict`."""
        ...

    def of_token(self, token: str) -> list[SeenEvent]:
        """The events recorded for ``token``, by event id."""
        ...

    def of_charges(self, charge_ids: Iterable[str]) -> list[SeenEvent]:
        """The events recorded for any of ``charge_ids`` (what the panel shows), ordered by (token, event id)."""
        ...

    def flagged(self, *, limit: int | None = None) -> list[SeenEvent]:
        """The events a person must look at, newest seen first (then by key descending), at most ``limit``."""
        ...


class PostingRepository(Protocol):
    """Postings for the ERP's accounting (G1, G6); append-only: a reversal is a posting of its own."""

    def add_many(self, postings: Sequence[Posting]) -> None:
        """Record ``postings``; an id that exists (or appears twice) raises :class:`~carteira.errors.Conflict`."""
        ...

    def of_settlement(self, settlement_id: str) -> list[Posting]:
        """The postings of ``settlement_id``, reversals included, in the order they were recorded (then by id)."""
        ...

    def find(
        self, *, on_from: date, on_to: date, account: str | None = None, history: str | None = None
    ) -> list[Posting]:
        """The postings dated from ``on_from`` to ``on_to`` (inclusive), of ``account`` and ``history`` when given,
        ordered by (date, id)."""
        ...


class SettingsRepository(Protocol):
    """The portfolio's parameters: one record per store."""

    def get(self) -> PortfolioSettings:
        """The stored settings, or ``PortfolioSettings()`` at version 0 when none were ever put."""
        ...

    def put(self, settings: PortfolioSettings) -> PortfolioSettings:
        """Replace the settings; returns them as stored, version bumped; raises ``Conflict`` when stale."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository: all of it is kept by ``commit()``, or none of it.

    Leaving the ``with`` block without ``commit()`` (normally or by an exception) rolls back.
    ``commit()`` may be called more than once: each call keeps what was done since the last.
    """

    @property
    def customers(self) -> CustomerRepository:
        """The customers."""
        ...

    @property
    def contracts(self) -> ContractRepository:
        """The contracts."""
        ...

    @property
    def installments(self) -> InstallmentRepository:
        """The installments."""
        ...

    @property
    def settlements(self) -> SettlementRepository:
        """The settlements."""
        ...

    @property
    def credit_letters(self) -> CreditLetterRepository:
        """The credit letters."""
        ...

    @property
    def anticipations(self) -> AnticipationRepository:
        """The anticipations."""
        ...

    @property
    def observations(self) -> ObservationRepository:
        """The observations."""
        ...

    @property
    def settings(self) -> SettingsRepository:
        """The portfolio's settings."""
        ...

    @property
    def return_batches(self) -> ReturnBatchRepository:
        """The return batches and their records."""
        ...

    @property
    def gateway_account(self) -> GatewayAccountRepository:
        """The account at the payment gateway."""
        ...

    @property
    def operations(self) -> OperationRepository:
        """The operations log (outbox)."""
        ...

    @property
    def gateway_charges(self) -> GatewayChargeRepository:
        """Which charge at the gateway each installment is."""
        ...

    @property
    def notifications(self) -> NotificationRepository:
        """The gateway's notification tokens."""
        ...

    @property
    def seen_events(self) -> SeenEventRepository:
        """The events behind notification tokens that were processed."""
        ...

    @property
    def postings(self) -> PostingRepository:
        """The postings for the ERP's accounting."""
        ...

    def __enter__(self) -> Self:
        """Begin the transaction."""
        ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Roll back whatever was not committed, and release the connection."""
        ...

    def commit(self) -> None:
        """Keep everything done in this unit so far; raises the unit's ``Conflict`` if one was raised in it."""
        ...


class Store(Protocol):
    """A place to keep the portfolio: builds its schema and opens units of work."""

    def migrate(self) -> None:
        """Create or upgrade the schema to this library's version; idempotent.

        Raises:
            SchemaVersionError: the store's schema is newer than this library.
            StoreUnavailable: the store cannot be opened or reached.
        """
        ...

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work, to be used as a context manager."""
        ...

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...
