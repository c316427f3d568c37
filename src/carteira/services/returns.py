"""Return batches, the "convênio bancário" of seed 004 (SPEC B2-B11): import, link, review, confirm, reactivate, delete.

A bank collects the portfolio's titles and sends back a return file; this use case turns the file
into a batch, links its settlement records to the installments they pay (auto-link, then a
person), shows the differences, and settles what is linked. Every verb is one or more units of
work of the store it is given; nothing lives in process memory between calls, so any worker can
run any verb. Refused business rules inside a batch (a closing date, a payment beyond tolerance)
are notes on their records, never an exception for the batch; so is a record the file's own checks
flagged, until a person acknowledges it (decision 0718).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date

import attrs

from carteira.domain.calendar import BusinessCalendar
from carteira.domain.installment import Installment, amount_due, oldest_due_first
from carteira.domain.linking import LinkCandidates, LinkProposal, propose_link
from carteira.domain.money import Money
from carteira.domain.return_batch import (
    BatchRecord,
    LinkOrigin,
    RecordFilter,
    ReturnBatch,
    batch_status,
)
from carteira.domain.title_numbers import normalize_title_number
from carteira.domain.validation import require_instance
from carteira.errors import InvalidInput, NotFound, RuleViolation
from carteira.ports.clock import Clock
from carteira.ports.return_files import MovementCategory, ReturnFile, ReturnFileParser, ReturnRecord
from carteira.ports.storage import LineState, Store, UnitOfWork
from carteira.services.confirmation import ConfirmReport, Progress, confirm_records
from carteira.services.reactivation import Reactivation, reactivate_installment, reverse_record

__all__ = ["AutoLinkReport", "ConfirmReport", "Progress", "Reactivation", "ReturnBatches", "ReviewRow"]

CANDIDATE_WINDOW_DAYS = 45
"""Candidates for a manual link are due within this many days of the record's due date (B6), unless all are asked."""


@attrs.frozen
class AutoLinkReport:
    """What auto-link did to a batch: how many records it linked, and why each other one stayed open."""

    linked: int
    left_open: dict[int, str]


@attrs.frozen
class ReviewRow:
    """One record as a clerk reviews it (B6, B8): its links, who made them, the amount due and what was paid.

    ``corrected`` is the linked installments' amount due on the record's payment date, less the
    bank's discount and abatement; ``difference`` is ``paid`` less that; ``flagged`` says the two
    differ (the seed shows both fields in red), so a person looks before confirming. What the file's own
    checks flagged, and who acknowledged it, are on ``record`` (``flags``, ``acknowledged_by``).
    """

    record: BatchRecord
    installments: tuple[Installment, ...]
    corrected: Money | None
    difference: Money | None

    @property
    def flagged(self) -> bool:
        """Whether paid and corrected values differ (B8)."""
        return self.difference is not None and not self.difference.is_zero()


class ReturnBatches:
    """The return-batch use case over one store; reached as ``portfolio.returns``.

    Args:
        store: where batches, records, installments and settlements live.
        parser: reads return files (``CnabParser()`` detects CNAB 240/400 layouts).
        calendar: the portfolio's business calendar (D2), for charges and on-time payments.
        clock: the portfolio's clock (deleting a batch reverses its settlements today).
    """

    def __init__(self, store: Store, *, parser: ReturnFileParser, calendar: BusinessCalendar, clock: Clock) -> None:
        self._store = store
        self._parser = parser
        self._calendar = calendar
        self._clock = clock

    def __repr__(self) -> str:
        return f"ReturnBatches({self._store!r})"

    def import_file(
        self,
        data: bytes,
        *,
        description: str,
        process_date: date,
        source: str = "",
        parser: ReturnFileParser | None = None,
    ) -> ReturnBatch:
        """Read ``data`` and keep it as a new batch, IMPORTED, with every record; nothing is settled (B2).

        Raises:
            InvalidInput: a malformed file (line, field, reason) or a blank description; nothing is stored.
            DuplicateImport: the same bytes, or the same bank, agreement and file sequence, were imported
                before; it names the earlier batch.
        """
        batch, records = _read(
            data, parser or self._parser, description=description, process_date=process_date, source=source
        )
        with self._store.unit_of_work() as uow:
            stored = uow.return_batches.add(batch, records)
            uow.commit()
        return stored

    def batches(self) -> list[ReturnBatch]:
        """Every batch, newest process date first (the seed's list of imports with their status)."""
        with self._store.unit_of_work() as uow:
            return uow.return_batches.all()

    def get(self, batch_id: str) -> ReturnBatch:
        """The batch ``batch_id``; raises ``NotFound``."""
        with self._store.unit_of_work() as uow:
            return uow.return_batches.get(batch_id)

    def auto_link(self, batch_id: str, *, chunk_size: int = 10_000) -> AutoLinkReport:
        """Link every open settlement record the store can match beyond doubt (B4); the rest stay open with why.

        Works ``chunk_size`` records a unit, so a file of 100,000 titles never holds all of its candidates
        at once; a crash leaves whole chunks linked, and calling it again links the rest.
        """
        with self._store.unit_of_work() as uow:
            uow.return_batches.get(batch_id)
            lines = uow.return_batches.lines(batch_id, state=LineState.OPEN)
        linked = 0
        left_open: dict[int, str] = {}
        for start in range(0, len(lines), max(chunk_size, 1)):
            with self._store.unit_of_work() as uow:
                found = uow.return_batches.records(batch_id, lines[start : start + chunk_size])
                chunk = [record for record in found if record.is_open]
                changed = _apply_proposals(uow, chunk, _propose(uow, chunk))
                uow.return_batches.put_records(changed)
                uow.commit()
            linked += sum(1 for record in changed if record.links)
            left_open.update((record.line, record.note) for record in changed if not record.links)
        return AutoLinkReport(linked, left_open)

    def review(self, batch_id: str, *, records: RecordFilter = RecordFilter.ALL) -> list[ReviewRow]:
        """The batch's records that pass ``records`` (B6), each with its links and the B8 difference."""
        with self._store.unit_of_work() as uow:
            uow.return_batches.get(batch_id)
            chosen = [record for record in uow.return_batches.records(batch_id) if record.matches(records)]
            linked = uow.installments.get_many({i for record in chosen for i in record.links})
        return [self._row(record, [linked[i] for i in record.links if i in linked]) for record in chosen]

    def _row(self, record: BatchRecord, installments: Sequence[Installment]) -> ReviewRow:
        on = record.occurrence_date
        if not installments or on is None or record.paid is None or record.is_settled:
            return ReviewRow(record, tuple(installments), None, None)
        due = Money.ZERO
        for installment in installments:
            due += amount_due(installment, on=on, calendar=self._calendar).total
        for adjustment in (record.discount, record.abatement):
            if adjustment is not None:
                due -= adjustment
        corrected = due
        return ReviewRow(record, tuple(installments), corrected, record.paid - corrected)

    def candidates(
        self,
        batch_id: str,
        line: int,
        *,
        same_contract: bool = True,
        status: RecordFilter = RecordFilter.ALL,
        all_due_dates: bool = False,
    ) -> list[Installment]:
        """Open installments a person may link ``line`` to (B6).

        ``same_contract`` keeps those of the contract (else the customer) of the installments the
        record is linked to, or that its numbers point at; ``status`` applies the record filter to
        the installments (MANUAL / AUTO: linked so by another record of the batch; OPEN: linked by
        none); ``all_due_dates`` lifts the window of :data:`CANDIDATE_WINDOW_DAYS` around the
        record's due date.
        """
        if status is RecordFilter.FLAGGED:
            raise InvalidInput("FLAGGED filters records, not installments", field="status", raw=status.value)
        with self._store.unit_of_work() as uow:
            record = _record(uow, batch_id, line)
            pool = _candidate_pool(uow, record, same_contract=same_contract)
            others = [r for r in uow.return_batches.records(batch_id) if r.links and r.line != line]
        origin = {i: r.origin for r in others for i in r.links}
        chosen = [item for item in pool if _passes(item, origin, status)]
        if not all_due_dates and record.due_date is not None:
            chosen = [item for item in chosen if abs((item.due - record.due_date).days) <= CANDIDATE_WINDOW_DAYS]
        return sorted(chosen, key=lambda item: (item.due, item.id))

    def link(self, batch_id: str, line: int, installment_ids: Iterable[str]) -> BatchRecord:
        """Link ``line`` to ``installment_ids`` by hand, replacing its links (B5).

        Raises:
            InvalidInput: the record is not a settlement, or an installment does not exist.
            RuleViolation: an installment is not open, or the record is already settled.
        """
        ids = tuple(installment_ids)
        with self._store.unit_of_work() as uow:
            record = _record(uow, batch_id, line)
            found = uow.installments.get_many(ids)
            missing = [i for i in ids if i not in found]
            if missing:
                raise InvalidInput(f"no installment {', '.join(missing)}", field="installment_ids")
            closed = [i for i in ids if not found[i].is_open]
            if closed:
                raise RuleViolation(
                    f"installment {', '.join(closed)} is already settled; only open installments are linked",
                    rule="B5",
                    subject=closed[0],
                )
            ordered = oldest_due_first(found[i] for i in ids)
            (stored,) = uow.return_batches.put_records(
                [record.linked([item.id for item in ordered], LinkOrigin.MANUAL, "linked by hand")]
            )
            uow.commit()
        return stored

    def acknowledge(self, batch_id: str, lines: Iterable[int], *, by: str) -> list[BatchRecord]:
        """Acknowledge the flags of the records on ``lines`` as ``by``, now, so that confirm may settle them (0718).

        One unit of work: every line is checked before any is written. A record already acknowledged keeps
        its first acknowledgement (who and when), so calling again changes nothing. Returns the records in
        line order, as stored.

        Raises:
            NotFound: there is no batch ``batch_id``.
            InvalidInput: no line is named, ``by`` is blank, a line has no record, or its record has no flags
                (each naming the line).
        """
        wanted = sorted(set(lines))
        if not wanted:
            raise InvalidInput("name at least one line to acknowledge", field="lines")
        if not require_instance(by, str, "by").strip():
            raise InvalidInput("say who acknowledges the flags", field="by", raw=repr(by))
        at = self._clock.now()
        with self._store.unit_of_work() as uow:
            uow.return_batches.get(batch_id)
            found = {record.line: record for record in uow.return_batches.records(batch_id, wanted)}
            missing = [line for line in wanted if line not in found]
            if missing:
                raise InvalidInput(
                    f"batch {batch_id} has no record on line {missing[0]}",
                    field="lines",
                    raw=str(missing[0]),
                    line=missing[0],
                )
            records = [found[line] for line in wanted]
            acknowledged = [record.acknowledged(by.strip(), at) for record in records]
            changed = [after for before, after in zip(records, acknowledged, strict=True) if after is not before]
            stored = {record.line: record for record in uow.return_batches.put_records(changed)} if changed else {}
            uow.commit()
        return [stored.get(record.line, record) for record in acknowledged]

    def unlink(self, batch_id: str, line: int) -> BatchRecord:
        """Remove ``line``'s links (B5); refused once the record is settled."""
        with self._store.unit_of_work() as uow:
            (stored,) = uow.return_batches.put_records([_record(uow, batch_id, line).unlinked()])
            uow.commit()
        return stored

    def confirm(
        self,
        batch_id: str,
        *,
        lines: Iterable[int] | None = None,
        progress: Progress | None = None,
        chunk_size: int = 500,
    ) -> ConfirmReport:
        """Settle every linked record of the batch (or those on ``lines``) with the file's values (B7, B11).

        Commits every ``chunk_size`` records, each chunk with the records it settled, so a second
        ``confirm`` after a crash settles the rest and never a record twice. Refusals are notes on
        their records and counted in the report, a flagged record not acknowledged yet among them
        (``"flagged sum:paid: acknowledge first"``: see :meth:`acknowledge`). ``progress(done, total)``
        is called after each chunk.

        Raises:
            Conflict: another worker committed part of the same batch meanwhile; nothing of this chunk was
                kept. Call ``confirm`` again (after a short pause, a bounded number of times): it re-reads
                and settles what is left (decision 0336).
        """
        return confirm_records(
            self._store, batch_id, calendar=self._calendar, lines=lines, progress=progress, chunk_size=chunk_size
        )

    def reactivate(self, installment_id: str, *, on: date, acknowledge: bool = False) -> Reactivation:
        """Reverse the latest settlement of ``installment_id`` on ``on`` (B9).

        When a batch made that settlement, nothing is done until ``acknowledge=True``: the result's
        ``warning`` says which batch and record settled it, and which other installments the record
        settled with it (they are reactivated together, so the record is open again as a whole).

        Raises:
            ClosedPeriod: the settlement or ``on`` is before the closing date (D7).
            RuleViolation: a settlement to reverse is not its installment's latest (D8).
        """
        return reactivate_installment(self._store, installment_id, on=on, acknowledge=acknowledge)

    def delete(self, batch_id: str) -> None:
        """Reverse every settlement the batch made (dated today) and remove the batch, all or nothing (B10).

        Raises:
            ClosedPeriod: a settlement date is before the closing date; it names the settlement (and so
                its installment) and both dates, and nothing changes.
            RuleViolation: an installment has a later settlement that must be reversed first.
        """
        on = self._clock.today()
        with self._store.unit_of_work() as uow:
            uow.return_batches.get(batch_id)
            for record in uow.return_batches.records(batch_id):
                if record.settlement_ids:
                    reverse_record(uow, record, on=on)
            uow.return_batches.delete(batch_id)
            uow.commit()


def _new_batch_id() -> str:
    # Random, not derived from the bytes: a file imported again must reach the store's duplicate keys
    # (which name the earlier batch), not collide with the earlier batch's own id.
    return "B" + uuid.uuid4().hex[:16]


def _read(
    data: bytes, parser: ReturnFileParser, *, description: str, process_date: date, source: str
) -> tuple[ReturnBatch, list[BatchRecord]]:
    """The batch and its records read from ``data``. The parsed file is let go on return, so the rows the store
    builds next reuse its memory: importing 100,000 titles peaked at about 230 MB instead of 275 MB."""
    parsed = parser.parse(data, source=source)
    batch = _new_batch(parsed, data, description=description, process_date=process_date, source=source)
    records = [_batch_record(batch.id, record) for record in parsed.records]
    return attrs.evolve(batch, status=batch_status(records)), records


def _new_batch(parsed: ReturnFile, data: bytes, *, description: str, process_date: date, source: str) -> ReturnBatch:
    return ReturnBatch(
        id=_new_batch_id(),
        description=description,
        process_date=process_date,
        source=source or parsed.source,
        digest=hashlib.sha256(data).hexdigest(),
        layout_id=parsed.layout_id,
        bank_code=parsed.bank_code,
        agreement=parsed.agreement,
        file_sequence=parsed.file_sequence,
        record_count=len(parsed.records),
        warnings=parsed.warnings,
    )


def _batch_record(batch_id: str, record: ReturnRecord) -> BatchRecord:
    return BatchRecord(
        batch_id=batch_id,
        line=record.line,
        movement_code=record.movement_code,
        category=record.category.value,
        is_settlement=record.is_settlement,
        is_rejection=record.category is MovementCategory.REJECTED,
        bank_title_number=record.bank_title_number,
        document_number=record.document_number,
        due_date=record.due_date,
        face_value=record.face_value,
        paid=record.paid,
        discount=record.discount,
        abatement=record.abatement,
        interest_and_fine=record.interest_and_fine,
        tariff=record.tariff,
        other_credits=record.other_credits,
        occurrence_date=record.occurrence_date,
        credit_date=record.credit_date,
        anticipation_id=record.anticipation_id,
        anticipation_rate=record.anticipation_rate,
        payer_tax_id=record.payer_tax_id,
        flags=record.flags,
    )


def _record(uow: UnitOfWork, batch_id: str, line: int) -> BatchRecord:
    uow.return_batches.get(batch_id)
    found = uow.return_batches.records(batch_id, [line])
    if not found:
        raise NotFound("return batch record", f"{batch_id}:{line}")
    return found[0]


def _by_key(
    installments: Iterable[Installment], key: Callable[[Installment], str | None]
) -> dict[str, list[Installment]]:
    grouped: dict[str, list[Installment]] = {}
    for item in installments:
        value = normalize_title_number(key(item))
        if value is not None:
            grouped.setdefault(value, []).append(item)
    return grouped


def _propose(uow: UnitOfWork, records: Sequence[BatchRecord]) -> list[LinkProposal]:
    """One proposal per record, from finders that read the store by key for all the records at once.

    The first key that finds anything decides (:func:`~carteira.domain.linking.propose_link`), so each
    weaker key is looked up only for the records the stronger ones found nothing for: a file whose
    title numbers all match reads its installments once, not once per key.
    """
    titles = {r.line: n for r in records if (n := normalize_title_number(r.bank_title_number))}
    by_title = _by_key(uow.installments.by_bank_title_numbers(set(titles.values())), lambda i: i.bank_title_number)
    rest = [r for r in records if titles.get(r.line) not in by_title]
    documents = {r.line: n for r in rest if (n := normalize_title_number(r.document_number))}
    by_document = _by_key(uow.installments.by_document_numbers(set(documents.values())), lambda i: i.document_number)
    rest = [r for r in rest if documents.get(r.line) not in by_document]
    of_payers = _open_of_payers(uow, rest)
    keys = {(r.due_date, r.face_value) for r in rest if r.due_date is not None and r.face_value is not None}
    by_due: dict[tuple[date, Money], list[Installment]] = {}
    for item in uow.installments.open_by_due_and_amount(keys):
        by_due.setdefault((item.due, item.amount), []).append(item)
    proposals = []
    for record in records:
        candidates = LinkCandidates(
            by_title_number=by_title.get(titles.get(record.line, ""), []),
            by_document_number=by_document.get(documents.get(record.line, ""), []),
            of_payer=of_payers.get(record.payer_tax_id or "", []),
            by_due_and_value=by_due.get((record.due_date, record.face_value), [])
            if record.due_date is not None and record.face_value is not None
            else [],
            payer_known=(record.payer_tax_id or "") in of_payers,
        )
        proposals.append(propose_link(record, candidates))
    return proposals


def _open_of_payers(uow: UnitOfWork, records: Sequence[BatchRecord]) -> dict[str, list[Installment]]:
    """The open installments of the customers registered with each payer CPF/CNPJ of ``records``, by that number.

    A number no customer has is not a key. One number may be on several customer records (a person
    registered twice): the payer's installments are all of theirs, so a value both owe stays for a
    person rather than one record being picked.
    """
    payers = {r.payer_tax_id for r in records if r.payer_tax_id}
    tax_id_of = {c.id: c.tax_id for c in uow.customers.by_tax_ids(payers) if c.tax_id}
    found: dict[str, list[Installment]] = {tax_id: [] for tax_id in tax_id_of.values()}
    for item in uow.installments.open_of_customers(tax_id_of):
        found[tax_id_of[item.customer_id]].append(item)
    return found


def _apply_proposals(
    uow: UnitOfWork, records: Sequence[BatchRecord], proposals: Sequence[LinkProposal]
) -> list[BatchRecord]:
    """The records with their proposals applied; an installment another record already links is not linked twice."""
    proposed = {i for proposal in proposals for i in proposal.installment_ids}
    taken = {i: r for r in uow.return_batches.records_linked_to(proposed) for i in r.links}
    changed: list[BatchRecord] = []
    for record, proposal in zip(records, proposals, strict=True):
        clash = next((i for i in proposal.installment_ids if i in taken), None)
        if clash is not None:
            other = taken[clash]
            note = f"installment {clash} is already linked to batch {other.batch_id} line {other.line}"
            changed.append(record.noted(note))
        elif proposal.linked:
            linked = record.linked(proposal.installment_ids, LinkOrigin.AUTO, f"by {proposal.reason}")
            changed.append(linked)
            taken.update(dict.fromkeys(proposal.installment_ids, linked))
        else:
            changed.append(record.noted(proposal.reason))
    return changed


def _candidate_pool(uow: UnitOfWork, record: BatchRecord, *, same_contract: bool) -> list[Installment]:
    """Open installments of the record's contract (or customer), found through its links or its numbers."""
    anchors = list(uow.installments.get_many(record.links).values())
    if not anchors and record.bank_title_number:
        anchors = uow.installments.by_bank_title_numbers([record.bank_title_number])
    if not anchors and record.document_number:
        anchors = uow.installments.by_document_numbers([record.document_number])
    if not anchors:
        return [] if same_contract else _by_due_window(uow, record)
    if same_contract:
        contracts = {item.contract_id for item in anchors if item.contract_id}
        found: dict[str, Installment] = {}
        for contract in contracts:
            found.update((item.id, item) for item in uow.installments.open_of_contract(contract))
        if found:
            return list(found.values())
    return uow.installments.open_of_customers({item.customer_id for item in anchors})


def _by_due_window(uow: UnitOfWork, record: BatchRecord) -> list[Installment]:
    if record.due_date is None or record.face_value is None:
        return []
    return uow.installments.open_by_due_and_amount([(record.due_date, record.face_value)])


def _passes(item: Installment, origin: dict[str, LinkOrigin | None], status: RecordFilter) -> bool:
    if status is RecordFilter.ALL:
        return True
    if status is RecordFilter.OPEN:
        return item.id not in origin
    return origin.get(item.id) is LinkOrigin(status.value)
