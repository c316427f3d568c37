"""Reactivating installments (SPEC D8, B9, B10): reversal of a settlement, or of a batch record's settlements as one.

A record that paid several installments (one boleto for many parcels) settled them together, so it
is reopened together: reactivating one of them reverses them all, after a warning that says so.
Every reversal posts, in its unit, the opposite of the settlement's postings (G6: a reversal never
deletes); a payment the gateway received stays PAID there, and the panel flags its charge (decision 0713).
"""

from __future__ import annotations

import uuid
from datetime import date

import attrs

from carteira.domain.credit import CreditLetter
from carteira.domain.installment import Installment
from carteira.domain.postings import reversal_of, unreversed
from carteira.domain.return_batch import BatchRecord, batch_status
from carteira.domain.settlement import Settlement, reverse
from carteira.errors import RuleViolation
from carteira.ports.storage import Store, UnitOfWork

__all__ = ["Reactivation", "reactivate_installment", "reverse_record"]


@attrs.frozen
class Reactivation:
    """The answer to a reactivation: whether it was done, the warning a batch's settlement carries, what reopened.

    ``done`` is ``False`` when the settlement came from a return batch and ``acknowledge`` was not
    given: then nothing changed and ``warning`` says what acknowledging will do. ``installments``
    are the installments open again (several when the batch's record paid several).
    """

    done: bool
    warning: str
    installments: tuple[Installment, ...] = ()
    batch_id: str | None = None
    line: int | None = None


def reactivate_installment(store: Store, installment_id: str, *, on: date, acknowledge: bool) -> Reactivation:
    """Reverse ``installment_id``'s latest settlement on ``on``; a batch's needs ``acknowledge`` (B9)."""
    with store.unit_of_work() as uow:
        installment = uow.installments.get(installment_id)
        if installment.latest_settlement_id is None:
            raise RuleViolation(
                f"installment {installment_id} has no settlement to reverse", rule="D8", subject=installment_id
            )
        settlement = uow.settlements.get(installment.latest_settlement_id)
        record = uow.return_batches.record_of_settlement(settlement.id)
        if record is None:
            restored = _reverse(uow, installment, settlement, on=on)
            uow.commit()
            return Reactivation(True, "", (restored,))
        warning = _warning(installment_id, record)
        if not acknowledge:
            return Reactivation(False, warning, (), record.batch_id, record.line)
        restored_all = reverse_record(uow, record, on=on)
        batch = uow.return_batches.get(record.batch_id)
        status = batch_status(uow.return_batches.records(record.batch_id))
        if status is not batch.status:
            uow.return_batches.put(attrs.evolve(batch, status=status))
        uow.commit()
    return Reactivation(True, warning, restored_all, record.batch_id, record.line)


def _warning(installment_id: str, record: BatchRecord) -> str:
    text = (
        f"installment {installment_id} was settled by return batch {record.batch_id}, line {record.line}; "
        "reactivating it reopens the record and leaves the batch PENDING"
    )
    others = [i for i in record.links if i != installment_id]
    if others:
        text += f", and reactivates {', '.join(others)} with it (one payment settled them together)"
    return text + ": call again with acknowledge=True"


def reverse_record(uow: UnitOfWork, record: BatchRecord, *, on: date) -> tuple[Installment, ...]:
    """Reverse every settlement ``record`` made, on ``on``, and reopen it; the caller updates the batch's status.

    Raises:
        ClosedPeriod: a settlement or ``on`` is before the closing date (D7).
        RuleViolation: an installment has a later settlement that must be reversed first (D8).
    """
    restored = []
    for settlement_id in record.settlement_ids:
        settlement = uow.settlements.get(settlement_id)
        installment = uow.installments.get(settlement.installment_id)
        restored.append(_reverse(uow, installment, settlement, on=on))
    uow.return_batches.put_records([record.reopened()])
    return tuple(restored)


def _reverse(uow: UnitOfWork, installment: Installment, settlement: Settlement, *, on: date) -> Installment:
    policy = uow.settings.get().policy
    letter = _letter(uow, settlement)
    reversal = reverse(installment, settlement, policy, on=on, credit_letter=letter)
    stored = uow.installments.put(reversal.installment)
    uow.settlements.put(reversal.settlement)
    if reversal.credit_letter is not None:
        uow.credit_letters.put(reversal.credit_letter)
    _reverse_postings(uow, settlement, on=on)
    return stored


def _reverse_postings(uow: UnitOfWork, settlement: Settlement, *, on: date) -> None:
    """Post, dated ``on``, the opposite of each posting of ``settlement`` not undone yet; nothing is deleted.

    A payment the gateway received (its postings name the charge) cannot be undone there: the charge
    stays PAID, and the installment's issuing operations are flagged for a person (decision 0713).
    """
    postings = uow.postings.of_settlement(settlement.id)
    if not postings:  # settled by a return file or by hand: nothing was posted
        return
    uow.postings.add_many([reversal_of(posting, id=uuid.uuid4().hex, on=on) for posting in unreversed(postings)])
    if any(posting.charge_id is not None for posting in postings):
        issues = uow.operations.of_documents([settlement.installment_id])
        flagged = [op.reversed_locally() for op in issues if op.kind.creates and not op.document_reversed]
        if flagged:
            uow.operations.put_many(flagged)


def _letter(uow: UnitOfWork, settlement: Settlement) -> CreditLetter | None:
    wanted = settlement.credit_letter_id or settlement.source_letter_id
    return None if wanted is None else uow.credit_letters.get(wanted)
