"""Confirming a return batch (SPEC B7, B11): settle every linked record with the file's values, in resumable chunks.

Each chunk is one unit of work holding the settlements it made *and* the records that made them, so
a record is settled exactly once: a process killed between chunks leaves whole chunks behind, and a
second ``confirm`` settles what is left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import attrs

from carteira.domain.anticipation import anticipate
from carteira.domain.calendar import BusinessCalendar
from carteira.domain.credit import CreditLetter
from carteira.domain.installment import Installment
from carteira.domain.money import Money
from carteira.domain.portfolio import Observation
from carteira.domain.return_batch import BatchRecord, BatchStatus, ReturnBatch
from carteira.domain.settlement import Payment, Settlement, SettlementPolicy
from carteira.domain.shared_payment import SharedOutcome, settle_together
from carteira.errors import NotFound
from carteira.ports.storage import LineState, Store, UnitOfWork

__all__ = ["ConfirmReport", "Progress", "confirm_records"]

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each chunk: records handled so far, and how many there are."""


@attrs.frozen
class ConfirmReport:
    """What one ``confirm`` call did: records settled, records refused (line: why), the batch's status after it.

    ``anticipations`` are the ids of the anticipations created (B11); ``observations`` how many
    installments got the "generated as approved" note instead.
    """

    batch_id: str
    settled: int
    refused: dict[int, str]
    status: BatchStatus
    anticipations: tuple[str, ...] = ()
    observations: int = 0


def confirm_records(
    store: Store,
    batch_id: str,
    *,
    calendar: BusinessCalendar,
    lines: Iterable[int] | None,
    progress: Progress | None,
    chunk_size: int,
) -> ConfirmReport:
    """Settle the batch's linked, unsettled records (all, or those on ``lines``), ``chunk_size`` per unit."""
    with store.unit_of_work() as uow:
        uow.return_batches.get(batch_id)
        todo = uow.return_batches.lines(batch_id, state=LineState.TO_CONFIRM)
    if lines is not None:
        wanted = set(lines)
        todo = [line for line in todo if line in wanted]
    settled = 0
    refused: dict[int, str] = {}
    for start in range(0, len(todo), max(chunk_size, 1)):
        with store.unit_of_work() as uow:
            made, notes = _confirm_chunk(uow, batch_id, todo[start : start + chunk_size], calendar)
            if made:
                _mark_pending(uow, batch_id)
            uow.commit()
        settled += made
        refused.update(notes)
        if progress is not None:
            progress(min(start + chunk_size, len(todo)), len(todo))
    with store.unit_of_work() as uow:
        # The whole batch is never read back: its anticipated records and the lines left say what is needed.
        batches = uow.return_batches
        batch = batches.get(batch_id)
        anticipated = batches.records(batch_id, batches.lines(batch_id, state=LineState.ANTICIPATED))
        anticipations, observations = _anticipations(uow, batch, anticipated)
        status = _settle_status(uow, batch)
        uow.commit()
    return ConfirmReport(batch_id, settled, refused, status, anticipations, observations)


def _mark_pending(uow: UnitOfWork, batch_id: str) -> None:
    """Something was settled: an IMPORTED batch is PENDING now (the exact status is derived at the end)."""
    batch = uow.return_batches.get(batch_id)
    if batch.status is BatchStatus.IMPORTED:
        uow.return_batches.put(attrs.evolve(batch, status=BatchStatus.PENDING))


def _settle_status(uow: UnitOfWork, batch: ReturnBatch) -> BatchStatus:
    """The status :func:`batch_status` gives the batch's records, from the lines left to link or confirm.

    None left: COMPLETED. Otherwise IMPORTED while nothing was ever settled, which the stored status says
    (settling anything makes it PENDING in the same unit: :func:`_mark_pending`), else PENDING.
    """
    batches = uow.return_batches
    left = batches.lines(batch.id, state=LineState.TO_CONFIRM) or batches.lines(batch.id, state=LineState.OPEN)
    if not left:
        status = BatchStatus.COMPLETED
    else:
        status = BatchStatus.IMPORTED if batch.status is BatchStatus.IMPORTED else BatchStatus.PENDING
    if status is not batch.status:
        uow.return_batches.put(attrs.evolve(batch, status=status))
    return status


def _payment(record: BatchRecord) -> Payment | str:
    """The payment the record reports, or why it cannot be settled."""
    if record.paid is None or record.paid <= Money.ZERO:
        return "the file gives no amount paid"
    on = record.occurrence_date or record.credit_date
    if on is None:
        return "the file gives neither the occurrence date nor the credit date"
    return Payment(
        record.paid,
        on,
        record.credit_date,
        discount=_or_zero(record.discount),
        abatement=_or_zero(record.abatement),
        bank_charges=_or_zero(record.tariff),
        other=_or_zero(record.other_credits),
    )


def _or_zero(amount: Money | None) -> Money:
    # A blank field in the file is no amount at all (Money has no truth value to lean on).
    return Money.ZERO if amount is None else amount


def _confirm_chunk(
    uow: UnitOfWork, batch_id: str, lines: Sequence[int], calendar: BusinessCalendar
) -> tuple[int, dict[int, str]]:
    """Settle the records on ``lines`` that are still to settle (another worker may have done some)."""
    records = [r for r in uow.return_batches.records(batch_id, lines) if LineState.TO_CONFIRM.holds(r)]
    made = _Made(uow.installments.get_many({i for r in records for i in r.links}))
    policy = uow.settings.get().policy
    done: list[BatchRecord] = []
    notes: dict[int, str] = {}
    for record in records:
        outcome = _settle_record(record, made.installments, policy, calendar)
        if isinstance(outcome, str):
            notes[record.line] = outcome
            done.append(record.refused(outcome))
            continue
        made.keep(record, outcome)
        done.append(record.settled_by(o.settlement.id for o in outcome.outcomes if o.settlement is not None))
    made.write(uow)
    uow.return_batches.put_records(done)
    return len(done) - len(notes), notes


def _settle_record(
    record: BatchRecord, installments: dict[str, Installment], policy: SettlementPolicy, calendar: BusinessCalendar
) -> SharedOutcome | str:
    if record.awaits_acknowledgement:
        return f"flagged {', '.join(record.flags)}: acknowledge first"
    payment = _payment(record)
    if isinstance(payment, str):
        return payment
    missing = [i for i in record.links if i not in installments]
    if missing:
        return f"installment {', '.join(missing)} no longer exists; change the record's links"
    shared = settle_together([installments[i] for i in record.links], payment, policy, calendar=calendar)
    return shared.reason if shared.refused else shared


@attrs.define
class _Made:
    """What settling a chunk's records made, kept in memory and written once when the chunk ends.

    One ``put_many`` per kind for the whole chunk, not a ``put`` per settlement: on PostgreSQL each
    ``put`` is three round trips (docs/performance.md). ``installments`` holds each installment as
    the chunk leaves it, so a record later in the chunk settles what an earlier one left open.
    """

    installments: dict[str, Installment]
    changed: dict[str, Installment] = attrs.field(factory=dict)
    settlements: list[Settlement] = attrs.field(factory=list)
    letters: list[CreditLetter] = attrs.field(factory=list)

    def keep(self, record: BatchRecord, shared: SharedOutcome) -> None:
        """What settling ``record`` made; the installment's remessa link goes, the settlement names the record."""
        for outcome in shared.outcomes:
            assert outcome.settlement is not None
            after = outcome.installment
            if after.bank_transmission is not None:  # evolve re-validates the whole installment: only when needed
                after = attrs.evolve(after, bank_transmission=None)
            self.installments[after.id] = self.changed[after.id] = after
            self.settlements.append(outcome.settlement.by_batch_record(record.batch_id, record.line))
            if outcome.credit_letter is not None:
                self.letters.append(outcome.credit_letter)

    def write(self, uow: UnitOfWork) -> None:
        """Store every installment changed (once, as it ends), settlement and credit letter."""
        uow.installments.put_many(list(self.changed.values()))
        uow.settlements.put_many(self.settlements)
        for letter in self.letters:
            uow.credit_letters.put(letter)


def _anticipations(uow: UnitOfWork, batch: ReturnBatch, records: Sequence[BatchRecord]) -> tuple[tuple[str, ...], int]:
    """B11: one anticipation IN_STUDY per anticipation id of the settled records, or a note on each installment."""
    groups: dict[str, list[BatchRecord]] = {}
    for record in records:
        if record.anticipation_id and record.anticipation_rate is not None and record.settlement_ids:
            groups.setdefault(record.anticipation_id, []).append(record)
    if not groups:
        return (), 0
    if uow.settings.get().generate_anticipations_as_approved:
        return (), _observe(uow, batch, groups)
    created = []
    for anticipation_id, records in groups.items():
        key = f"{batch.id}/{anticipation_id}"
        if _exists(uow, key):
            continue
        rate = records[0].anticipation_rate
        assert rate is not None
        uow.anticipations.put(anticipate(key, _as_anticipated(uow, records), batch.process_date, rate))
        created.append(key)
    return tuple(created), 0


def _exists(uow: UnitOfWork, anticipation_id: str) -> bool:
    try:
        uow.anticipations.get(anticipation_id)
    except NotFound:
        return False
    return True


def _as_anticipated(uow: UnitOfWork, records: Sequence[BatchRecord]) -> list[Installment]:
    """The installments as they were before the batch settled them: what was anticipated is their open principal."""
    result = []
    for record in records:
        for settlement_id in record.settlement_ids:
            settlement = uow.settlements.get(settlement_id)
            result.append(uow.installments.get(settlement.installment_id).with_state(settlement.before))
    return result


def _observe(uow: UnitOfWork, batch: ReturnBatch, groups: dict[str, list[BatchRecord]]) -> int:
    written = 0
    for anticipation_id, records in groups.items():
        for record in records:
            for installment_id in record.links:
                note_id = f"{batch.id}/{record.line}/{installment_id}/anticipation"
                if any(o.id == note_id for o in uow.observations.of_installment(installment_id)):
                    continue
                text = (
                    f"anticipation {anticipation_id} of return batch {batch.id} was not generated: the portfolio "
                    "generates anticipations as approved"
                )
                uow.observations.add(Observation(note_id, installment_id, batch.process_date, text))
                written += 1
    return written
