"""The return-file port: what a bank return file parser gives the services (SPEC B1, B2).

A parser turns the bank's bytes into a :class:`ReturnFile`: the header facts a service needs to
detect a duplicate import (bank, agreement, file sequence number) and one :class:`ReturnRecord`
per title, with exact :class:`~carteira.domain.Money` amounts and :class:`datetime.date` dates.
``carteira.adapters.cnab`` implements it for CNAB 240 and CNAB 400; a user may bring their own.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import BinaryIO, NamedTuple, Protocol, runtime_checkable

import attrs

from carteira.domain.money import Money

__all__ = [
    "FieldValue",
    "MovementCategory",
    "ReturnFile",
    "ReturnFileParser",
    "ReturnRecord",
]

FieldValue = str | int | Money | Decimal | date | None
"""What one layout field holds once converted: text, integer, money, a rate, a date, or ``None`` when blank."""


class MovementCategory(enum.Enum):
    """What a record's movement (occurrence) code means for an installment, per the bank's own table.

    Only ``SETTLED`` records pay anything (SPEC B4); ``REVERSED`` undoes an earlier payment (a returned
    cheque, an *estorno*); everything a layout does not classify is ``OTHER`` (tariffs, position reports,
    instructions, cheques awaiting clearing).
    """

    SETTLED = "settled"
    ENTRY_CONFIRMED = "entry_confirmed"
    REJECTED = "rejected"
    WRITTEN_OFF = "written_off"
    REVERSED = "reversed"
    OTHER = "other"


class ReturnRecord(NamedTuple):
    """One title as the bank reported it: a CNAB 400 detail line, or a CNAB 240 T+U pair.

    ``line`` is the 1-based line of the record (the T line in CNAB 240) and ``lines`` every line it was
    read from. ``bank_title_number_raw`` is the exact slice of the file (blanks included);
    ``bank_title_number`` is the bank's title number as printed on the boleto, without filler, carteira
    or modality prefixes, blanks or leading zeros (``None`` when blank), which is what linking compares.
    ``payer_tax_id`` is the payer's CPF (11 digits) or CNPJ (14 digits), digits only, where the layout
    reads it; ``None`` when the bank leaves it blank or zero, or gives a number whose check digits are
    wrong (a number that is not a CPF or CNPJ must never link a payment to a customer).
    Amounts and dates the layout does not give, or that the bank left blank, are ``None``; an all-zero
    date is ``None`` too. ``anticipation_rate`` is a monthly rate as a fraction (``Decimal("0.015")``).
    ``extra`` holds the layout's other fields by name (reason codes, payment channel...).
    ``flags`` names what the file's own checks found odd about this record, for a person to look at
    before it settles anything: ``"sequence_gap"`` (records are missing right before it: the sequence
    numbers jump) and ``"sum:<field>"`` (the record's arithmetic does not add up: ``<field>`` is not what
    the layout's sum of other fields says, ``"sum:paid"`` for example). Each flag has a line in
    ``ReturnFile.warnings``; ``()`` for a clean record.

    An immutable named tuple (decision 0205): a parser builds a hundred thousand of them per file, and a
    tuple is the cheapest typed, immutable record Python has. Fields are read by name; ``_replace`` gives
    a changed copy and ``_asdict`` a dict. A record equals only another ``ReturnRecord`` with the same
    values (never a bare tuple or another named tuple), records are not ordered, and they are not hashable
    (``extra`` is a mapping).
    """

    line: int
    lines: tuple[int, ...]
    movement_code: str
    category: MovementCategory
    bank_title_number_raw: str
    bank_title_number: str | None
    document_number: str | None
    payer_tax_id: str | None
    due_date: date | None
    face_value: Money | None
    paid: Money | None
    net_credited: Money | None
    tariff: Money | None
    interest_and_fine: Money | None
    discount: Money | None
    abatement: Money | None
    iof: Money | None
    other_expenses: Money | None
    other_credits: Money | None
    occurrence_date: date | None
    credit_date: date | None
    anticipation_id: str | None
    anticipation_rate: Decimal | None
    extra: Mapping[str, FieldValue]
    flags: tuple[str, ...] = ()

    @property
    def is_settlement(self) -> bool:
        """Whether this record pays its title (the only kind that settles an installment, SPEC B4)."""
        return self.category is MovementCategory.SETTLED

    # A record is a value, not a sequence of values: equal to a record of the same class with equal fields
    # and to nothing else (a tuple's == would also match a bare tuple or any named tuple of equal items), and
    # not ordered (a tuple's < would compare the fields in turn).
    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return tuple.__eq__(self, other)
        return False if isinstance(other, tuple) else NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __lt__(self, other: object) -> bool:
        raise _unordered("<")

    def __le__(self, other: object) -> bool:
        raise _unordered("<=")

    def __gt__(self, other: object) -> bool:
        raise _unordered(">")

    def __ge__(self, other: object) -> bool:
        raise _unordered(">=")


# Equal by value over a mapping (``extra``), so not hashable, as a frozen attrs record with eq was not.
ReturnRecord.__hash__ = None  # type: ignore[assignment]  # a NamedTuple body may not assign it


def _unordered(operator: str) -> TypeError:
    return TypeError(f"{operator!r} is not supported between return records: sort them by a field (key=...)")


@attrs.frozen(unsafe_hash=False)
class ReturnFile:
    """A whole parsed return file: its header facts and its records, in file order.

    ``bank_code``, ``agreement`` and ``file_sequence`` identify the file for duplicate detection (SPEC
    B2); ``generated_on`` is the header's generation date. ``layout_id`` names the layout used and
    ``layout_detected`` says whether it was detected from the header rather than given. ``warnings``
    lists what was accepted but odd, each starting ``"line N: "``: a header field that could not be read,
    a trailer whose count or total does not match the file, a file re-encoded as UTF-8 and read back, and
    one line per record flag (``ReturnRecord.flags``), naming the record's first line. A real bank's file
    can have each of these; a person should see them before the file settles anything.
    """

    source: str
    layout_id: str
    layout_detected: bool
    format: str
    bank_code: str
    agreement: str | None
    file_sequence: int | None
    generated_on: date | None
    line_count: int
    records: tuple[ReturnRecord, ...]
    warnings: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[ReturnRecord]:
        return iter(self.records)


@runtime_checkable
class ReturnFileParser(Protocol):
    """Parses a bank return file; every malformed input raises :class:`~carteira.errors.InvalidInput`.

    ``parse`` refuses a malformed file whole (nothing half read is returned); ``iter_records`` reads a
    binary stream in bounded memory and raises at the first bad record, after yielding the good ones
    before it, so a caller that must be all-or-nothing collects first.
    """

    def parse(self, data: bytes, *, source: str = "") -> ReturnFile:
        """The whole file ``data``, or ``InvalidInput`` naming the line, field, raw slice and reason."""
        ...

    def iter_records(self, stream: BinaryIO, *, source: str = "") -> Iterator[ReturnRecord]:
        """The records of ``stream`` one at a time, reading it line by line."""
        ...
