"""Auto-link: which open installments one returned title pays, by the strongest key that finds anything (SPEC B4).

A wrong link settles the wrong customer's installment, which is worse than no link: a person can make
a missing link in a second, but a wrong one has to be found first. So :func:`propose_link` never
guesses. It tries the keys from the strongest (the bank title number) to the weakest (due date and
value), and the first key that finds *anything*, open or not, decides: a title number that points at
an installment already settled leaves the record open with that reason (a title paid twice), rather
than falling through to a weaker key that might pick somebody else's installment.

The function is pure: the caller (the return-batch service) looks the keys up in its store, for a
whole file at a time, and passes what it found.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date
from typing import Protocol

import attrs

from carteira.domain.installment import Installment, oldest_due_first
from carteira.domain.money import Money
from carteira.domain.validation import flag_field

__all__ = ["LinkCandidates", "LinkKey", "LinkProposal", "ReturnedTitle", "propose_link"]


class LinkKey(enum.Enum):
    """The key a link was found by, from the strongest to the weakest."""

    BANK_TITLE_NUMBER = "bank_title_number"
    DOCUMENT_NUMBER = "document_number"
    CUSTOMER_AND_VALUE = "customer_and_value"
    DUE_AND_VALUE = "due_and_value"


class ReturnedTitle(Protocol):
    """What auto-link reads of a returned record; a :class:`~carteira.ports.return_files.ReturnRecord` has it."""

    @property
    def is_settlement(self) -> bool: ...
    @property
    def bank_title_number(self) -> str | None: ...
    @property
    def document_number(self) -> str | None: ...
    @property
    def due_date(self) -> date | None: ...
    @property
    def face_value(self) -> Money | None: ...


@attrs.frozen
class LinkCandidates:
    """What the store found for one record, key by key; installments in any status.

    ``by_title_number`` and ``by_document_number`` are the installments whose normalized number
    equals the record's; ``of_payer`` the open installments of the customers registered with the
    CPF/CNPJ the file gives (all of them when one number is on several customer records; empty when
    it gives none), ``payer_known`` whether any customer has that number; ``by_due_and_value`` the
    open installments due on the record's due date for its face value.
    """

    by_title_number: Sequence[Installment] = ()
    by_document_number: Sequence[Installment] = ()
    of_payer: Sequence[Installment] = ()
    by_due_and_value: Sequence[Installment] = ()
    payer_known: bool = attrs.field(default=False, validator=flag_field("payer_known"))


@attrs.frozen
class LinkProposal:
    """Auto-link's answer for one record: the installments to link (oldest due first) and why, or why none."""

    installment_ids: tuple[str, ...]
    key: LinkKey | None
    reason: str

    @property
    def linked(self) -> bool:
        """Whether auto-link found installments to link."""
        return bool(self.installment_ids)


def _none(reason: str, key: LinkKey | None = None) -> LinkProposal:
    return LinkProposal((), key, reason)


def _oldest_first(installments: Sequence[Installment]) -> tuple[str, ...]:
    if len(installments) == 1:  # most boletos pay one parcel: nothing to order
        return (installments[0].id,)
    return tuple(item.id for item in oldest_due_first(installments))


def _by_number(found: Sequence[Installment], key: LinkKey, number: str) -> LinkProposal:
    """A number identifies one boleto: every installment carrying it, when all are open and of one customer."""
    label = key.value.replace("_", " ")
    customers = {item.customer_id for item in found}
    if len(customers) > 1:
        return _none(f"{label} {number} belongs to {len(customers)} customers; link by hand", key)
    settled = [item for item in found if not item.is_open]
    if settled:
        which = ", ".join(sorted(item.id for item in settled))
        return _none(f"{label} {number}: installment {which} is already settled (paid twice?)", key)
    return LinkProposal(_oldest_first(found), key, f"{label} {number}")


def _unique(found: Sequence[Installment], key: LinkKey, what: str) -> LinkProposal | None:
    if len(found) == 1:
        return LinkProposal((found[0].id,), key, what)
    if len(found) > 1:
        return _none(f"{len(found)} open installments match {what}; link by hand", key)
    return None


def propose_link(record: ReturnedTitle, candidates: LinkCandidates) -> LinkProposal:
    """The installments ``record`` pays, found by the strongest key that finds anything; none when unsure.

    Keys, in order: the bank title number, the document number (each may name several installments of
    one customer: one boleto for many parcels), then, when the file names the payer, that customer's
    one open installment of the record's face value (due on the record's due date when several are),
    and last the one open installment due on the record's due date for its face value. A key that finds
    more than one candidate it cannot tell apart, or only installments already settled, leaves the
    record open with the reason; only settlement records are linked.
    """
    if not record.is_settlement:
        return _none("not a settlement movement")
    if candidates.by_title_number and record.bank_title_number is not None:
        return _by_number(candidates.by_title_number, LinkKey.BANK_TITLE_NUMBER, record.bank_title_number)
    if candidates.by_document_number and record.document_number is not None:
        return _by_number(candidates.by_document_number, LinkKey.DOCUMENT_NUMBER, record.document_number)
    value = record.face_value
    if value is None:
        return _none("no installment carries its numbers, and the file gives no face value to match")
    if candidates.payer_known:
        return _by_payer(record, _unclaimed(record, candidates.of_payer), value)
    if record.due_date is None:
        return _none("no installment carries its numbers, and the file gives no due date to match")
    what = f"due {record.due_date.isoformat()} and value {value}"
    found = [item for item in _unclaimed(record, candidates.by_due_and_value) if item.is_open]
    return _unique(found, LinkKey.DUE_AND_VALUE, what) or _none(f"no open installment matches {what}")


def _unclaimed(record: ReturnedTitle, found: Sequence[Installment]) -> list[Installment]:
    """Drop installments that carry a number of their own where the record has one.

    Had the numbers been equal, the number keys would have found the installment; so its number is
    another boleto's, and matching it by value would link a title to a boleto it is not.
    """
    return [
        item
        for item in found
        if not (record.bank_title_number is not None and item.bank_title_number is not None)
        and not (record.document_number is not None and item.document_number is not None)
    ]


def _by_payer(record: ReturnedTitle, of_payer: Sequence[Installment], value: Money) -> LinkProposal:
    """The payer's one open installment of this value; several are told apart by the due date only."""
    key = LinkKey.CUSTOMER_AND_VALUE
    same_value = [item for item in of_payer if item.is_open and item.amount == value]
    if len(same_value) > 1 and record.due_date is not None:
        same_due = [item for item in same_value if item.due == record.due_date]
        what = f"the payer, value {value} and due {record.due_date.isoformat()}"
        return _unique(same_due, key, what) or _none(
            f"{len(same_value)} open installments of the payer have value {value}, none due "
            f"{record.due_date.isoformat()}; link by hand",
            key,
        )
    what = f"the payer and value {value}"
    return _unique(same_value, key, what) or _none(f"the payer has no open installment of value {value}", key)
