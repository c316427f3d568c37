"""Return batches: one imported return file, its records, their links to installments, and its status (SPEC B2-B10).

A batch is what a clerk works on after importing a bank's return file: every record of the file is
kept (entries, rejections, tariffs too), settlement records are linked to the installments they pay
(by auto-link or by hand), and confirming settles what is linked. The batch's status is never stored
on its own: it is derived from its records (:func:`batch_status`), so it cannot disagree with them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

import attrs

from carteira.domain.construction import evolved
from carteira.domain.money import Money
from carteira.domain.validation import (
    count_field,
    date_field,
    flag_field,
    instant_field,
    text_field,
    tuple_field,
)
from carteira.errors import InvalidInput, RuleViolation

__all__ = ["BatchRecord", "BatchStatus", "LinkOrigin", "RecordFilter", "ReturnBatch", "batch_status"]


class BatchStatus(enum.Enum):
    """IMPORTED: nothing confirmed yet; PENDING: some settlement records still open; COMPLETED: none left (B3)."""

    IMPORTED = "imported"
    PENDING = "pending"
    COMPLETED = "completed"


class LinkOrigin(enum.Enum):
    """Who made a record's links: auto-link or a person (B5)."""

    AUTO = "auto"
    MANUAL = "manual"


class RecordFilter(enum.Enum):
    """The record filters of B6: every record, those linked by hand, those linked automatically, the unlinked;
    and FLAGGED, the records the file's own checks flagged that nobody has acknowledged yet (decision 0718)."""

    ALL = "all"
    MANUAL = "manual"
    AUTO = "auto"
    OPEN = "open"
    FLAGGED = "flagged"


@attrs.frozen
class BatchRecord:
    """One record of a batch: what the file said of one title, and where the clerk's work on it stands.

    The file's side (``movement_code`` to ``payer_tax_id``) never changes after import. ``links`` are
    the installments the record pays, oldest due first, made by ``origin``; ``settlement_ids`` the
    settlements confirming it made (empty until confirmed, and again after a reactivation);
    ``confirmed_once`` whether it was ever confirmed (a reactivated batch is PENDING, not IMPORTED);
    ``note`` the last thing auto-link or confirm said of it (why it stayed open, or was refused).
    ``flags`` are what the file's own checks found odd about the record (``ReturnRecord.flags``, such as
    ``"sum:paid"``), kept from import and never changed; a flagged record settles nothing until a person
    acknowledges it: ``acknowledged_by`` (who) and ``acknowledged_at`` (when), both set or both ``None``,
    only on a flagged record (decision 0718).
    """

    batch_id: str
    line: int = attrs.field(validator=count_field("line", 1))
    movement_code: str
    category: str
    is_settlement: bool = attrs.field(validator=flag_field("is_settlement"))
    is_rejection: bool = attrs.field(validator=flag_field("is_rejection"))
    bank_title_number: str | None
    document_number: str | None
    due_date: date | None
    face_value: Money | None
    paid: Money | None
    discount: Money | None
    abatement: Money | None
    interest_and_fine: Money | None
    tariff: Money | None
    other_credits: Money | None
    occurrence_date: date | None
    credit_date: date | None
    anticipation_id: str | None = None
    anticipation_rate: Decimal | None = None
    payer_tax_id: str | None = None
    links: tuple[str, ...] = ()
    origin: LinkOrigin | None = None
    settlement_ids: tuple[str, ...] = ()
    confirmed_once: bool = attrs.field(default=False, validator=flag_field("confirmed_once"))
    note: str = ""
    flags: tuple[str, ...] = attrs.field(default=(), validator=tuple_field(str, "flags", blank=False))
    acknowledged_by: str | None = attrs.field(
        default=None, validator=text_field("acknowledged_by", optional=True, blank=False)
    )
    acknowledged_at: datetime | None = attrs.field(
        default=None, validator=instant_field("acknowledged_at", optional=True)
    )
    version: int = attrs.field(default=0, kw_only=True, validator=count_field("version", 0))

    def __attrs_post_init__(self) -> None:
        if (self.acknowledged_by is None) is not (self.acknowledged_at is None):
            missing = "acknowledged_at" if self.acknowledged_at is None else "acknowledged_by"
            raise InvalidInput(
                f"record on line {self.line}: an acknowledgement names who and when; {missing} is missing",
                field=missing,
            )
        if self.acknowledged_by is not None and not self.flags:
            raise InvalidInput(
                f"record on line {self.line} has no flags; only a flagged record is acknowledged",
                field="acknowledged_by",
                raw=self.acknowledged_by,
            )
        if self.settlement_ids and self.awaits_acknowledgement:
            raise InvalidInput(
                f"record on line {self.line} is settled, but its flags ({', '.join(self.flags)}) were not acknowledged",
                field="acknowledged_by",
            )

    @property
    def awaits_acknowledgement(self) -> bool:
        """Whether the record is flagged and nobody has acknowledged it yet (confirm leaves it unsettled)."""
        return bool(self.flags) and self.acknowledged_by is None

    @property
    def is_settled(self) -> bool:
        """Whether confirming settled this record's installments (and no reactivation undid it)."""
        return bool(self.settlement_ids)

    @property
    def is_open(self) -> bool:
        """Whether this settlement record still waits for a link (B6's "open")."""
        return self.is_settlement and not self.links and not self.is_settled

    def matches(self, wanted: RecordFilter) -> bool:
        """Whether the record passes the B6 filter ``wanted``."""
        if wanted is RecordFilter.ALL:
            return True
        if wanted is RecordFilter.OPEN:
            return self.is_open
        if wanted is RecordFilter.FLAGGED:
            return self.awaits_acknowledgement
        return self.links != () and self.origin is LinkOrigin(wanted.value)

    def linked(self, installment_ids: Iterable[str], origin: LinkOrigin, note: str = "") -> BatchRecord:
        """This record linked to ``installment_ids`` (replacing its links), as ``origin`` made them."""
        ids = tuple(installment_ids)
        if not self.is_settlement:
            raise InvalidInput(
                f"record on line {self.line} is movement {self.movement_code} ({self.category}), not a settlement; "
                "only settlement records are linked",
                field="line",
                raw=str(self.line),
            )
        if self.is_settled:
            raise RuleViolation(
                f"record on line {self.line} is already settled; reactivate its installments first",
                rule="B5",
                subject=f"{self.batch_id}:{self.line}",
            )
        if not ids:
            raise InvalidInput("name at least one installment (use unlink to remove links)", field="installment_ids")
        if len(set(ids)) != len(ids):
            raise InvalidInput("an installment is named twice", field="installment_ids", raw=", ".join(ids))
        return evolved(self, links=ids, origin=origin, note=note)

    def unlinked(self) -> BatchRecord:
        """This record without links; refused once it is settled."""
        if self.is_settled:
            raise RuleViolation(
                f"record on line {self.line} is already settled; reactivate its installments first",
                rule="B5",
                subject=f"{self.batch_id}:{self.line}",
            )
        return evolved(self, links=(), origin=None, note="")

    def acknowledged(self, by: str, at: datetime) -> BatchRecord:
        """This record with its flags acknowledged by ``by`` at ``at``; an earlier acknowledgement is kept as it was.

        Raises:
            InvalidInput: the record has no flags (naming its line), or ``by`` is blank.
        """
        if not self.flags:
            raise InvalidInput(
                f"record on line {self.line} has no flags; there is nothing to acknowledge",
                field="lines",
                raw=str(self.line),
                line=self.line,
            )
        if self.acknowledged_by is not None:
            return self
        return evolved(self, acknowledged_by=by, acknowledged_at=at)

    def settled_by(self, settlement_ids: Iterable[str]) -> BatchRecord:
        """This record after confirming it made ``settlement_ids``."""
        ids = tuple(settlement_ids)
        # Programmer errors: the service confirms only linked, unsettled records, and a settle makes ids.
        assert ids, self
        assert not self.is_settled, self
        assert self.links, self
        return evolved(self, settlement_ids=ids, confirmed_once=True, note="")

    def refused(self, note: str) -> BatchRecord:
        """This record after confirming it was refused (closing date, beyond tolerance): still linked, with why."""
        return self.noted(note)

    def noted(self, note: str) -> BatchRecord:
        """This record with ``note``: why auto-link left it open, or linked nothing it proposed."""
        return evolved(self, note=note)

    def reopened(self) -> BatchRecord:
        """This record after one of its settlements was reversed: open for confirming again, links kept (B9)."""
        return evolved(self, settlement_ids=(), note="reactivated: confirm again, or change its links")


@attrs.frozen
class ReturnBatch:
    """One imported return file (B2): its identity, what the clerk called it, and the file's header facts.

    ``digest`` (SHA-256 of the bytes) and the bank, agreement and file sequence identify the file for
    duplicate detection. ``status`` is derived from the records whenever they change
    (:func:`batch_status`) and stored with the batch only so lists of batches need not read records.
    """

    id: str = attrs.field(validator=text_field("id", blank=False))
    description: str = attrs.field(validator=text_field("description", blank=False))
    process_date: date = attrs.field(validator=date_field("process_date"))
    source: str
    digest: str
    layout_id: str
    bank_code: str
    agreement: str | None
    file_sequence: int | None
    record_count: int
    status: BatchStatus = BatchStatus.IMPORTED
    warnings: tuple[str, ...] = ()
    version: int = attrs.field(default=0, kw_only=True)

    @property
    def file_key(self) -> str | None:
        """Bank, agreement and file sequence as one key, or ``None`` when the header lacks one of them."""
        if self.agreement is None or self.file_sequence is None:
            return None
        return f"{self.bank_code}/{self.agreement}/{self.file_sequence}"


def batch_status(records: Iterable[BatchRecord]) -> BatchStatus:
    """The status B3 gives a batch with these records.

    COMPLETED when every settlement record is settled (a file with no settlement record has nothing
    to settle, so it is COMPLETED too); IMPORTED while none was ever confirmed; PENDING otherwise,
    which is where a reactivation (B9) leaves a batch.
    """
    settleable = [record for record in records if record.is_settlement]
    if all(record.is_settled for record in settleable):
        return BatchStatus.COMPLETED
    if not any(record.confirmed_once for record in settleable):
        return BatchStatus.IMPORTED
    return BatchStatus.PENDING
