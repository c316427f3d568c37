"""The storage contract of what a store holds: values no carteira store can hold are refused the same way by all.

:class:`LimitsStorageContract` is a mixin of :class:`~carteira.testing.contracts.storage.StorageContract`.
Every store holds exactly what carteira's PostgreSQL schema holds (decision 0347): text without NUL that
UTF-8 can encode, whole numbers within the column's 32 or 64 bits. What it checks: a record carrying a
value beyond that is refused with :class:`~carteira.errors.InvalidRow` naming the table, the record's key
and the column, the unit is spoiled (``commit()`` raises it again) and nothing of it is kept; and a key no
store can hold finds nothing (``NotFound``, an empty answer), as a key no row has.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest

from carteira.domain import ChargeTerms, Customer, Installment, Money, Observation
from carteira.domain.notifications import Notification, SeenEvent
from carteira.domain.operations import Operation, OperationKind
from carteira.domain.postings import Posting, PostingKind
from carteira.domain.return_batch import BatchRecord, ReturnBatch
from carteira.errors import InvalidRow, NotFound
from carteira.ports.storage import Store, UnitOfWork

__all__ = ["LimitsStorageContract"]

_T0 = datetime(2025, 3, 1, 12, tzinfo=UTC)
_TERMS = ChargeTerms(Decimal("0.02"), Decimal("0.01"))
_NUL = "a\x00b"
_SURROGATE = "a\udc80b"


def _installment(**fields: Any) -> Installment:
    return attrs.evolve(Installment("i1", "c1", date(2025, 3, 10), Money("10.00"), _TERMS), **fields)


def _batch() -> ReturnBatch:
    return ReturnBatch("b1", "retorno", date(2025, 3, 3), "RET.txt", "d" * 64, "cnab240", "001", None, None, 1)


def _record(**fields: Any) -> BatchRecord:
    record = BatchRecord("b1", 1, "06", "settled", True, False, "1", None, None, Money("1.00"), Money("1.00"),
                         None, None, None, None, None, None, None)  # fmt: skip
    return attrs.evolve(record, **fields)


Write = Callable[[UnitOfWork], object]


def _acknowledged_by_nul(uow: UnitOfWork) -> object:
    """A flagged record added, then acknowledged by a name holding NUL: ``put_records`` refuses what ``add`` took."""
    uow.return_batches.add(_batch(), [_record(flags=("sum:paid",))])
    (added,) = uow.return_batches.records("b1")
    return uow.return_batches.put_records([added.acknowledged(_NUL, _T0)])


# (what is written, the table and column the refusal names): NUL and lone surrogates in text, JSON text and
# child rows; whole numbers beyond 32 bits (PostgreSQL INTEGER, on every store) and 64 bits (BIGINT).
_UNHOLDABLE: list[tuple[str, Write, str, str]] = [
    ("NUL in a name", lambda u: u.customers.put(Customer("c1", _NUL)), "customers", "name"),
    ("a surrogate in an id", lambda u: u.customers.put(Customer(_SURROGATE, "Ana")), "customers", "id"),
    ("NUL in an optional text", lambda u: u.installments.put(_installment(document_number=_NUL)), "installments",
     "document_number"),
    ("a 33-bit number", lambda u: u.installments.put_many([_installment(number=2**31)]), "installments", "number"),
    ("NUL in an observation", lambda u: u.observations.add(Observation("o1", "i1", date(2025, 1, 2), _NUL)),
     "observations", "text"),
    ("a 65-bit event id", lambda u: u.seen_events.add_many([SeenEvent("tok-1", 2**63, "charge", "paid", _T0)]),
     "seen_events", "event_id"),
    ("a surrogate in a posting", lambda u: u.postings.add_many(
        [Posting("p-1", PostingKind.ENTRY, date(2025, 3, 3), Money("1.00"), "bank", _SURROGATE, "s-1")]),
     "postings", "history"),
    ("a surrogate in JSON text", lambda u: u.operations.put(
        Operation("op-1", OperationKind.CANCEL, ("i1",), _T0, warnings=(_SURROGATE,))), "operations", "warnings"),
    ("NUL in a document", lambda u: u.operations.put(Operation("op-1", OperationKind.CANCEL, (_NUL,), _T0)),
     "operation_documents", "installment_id"),
    ("a 33-bit line", lambda u: u.return_batches.add(_batch(), [_record(line=2**31)]), "batch_records", "line"),
    ("NUL in a link", lambda u: u.return_batches.add(_batch(), [_record(links=(_NUL,))]), "batch_record_links",
     "installment_id"),
    ("a surrogate in a flag", lambda u: u.return_batches.add(_batch(), [_record(flags=(_SURROGATE,))]),
     "batch_records", "flags"),
    ("NUL in who acknowledged", _acknowledged_by_nul, "batch_records", "acknowledged_by"),
    ("a 33-bit attempt count", lambda u: u.notifications.put(Notification("tok-1", _T0, attempts=2**31)),
     "notifications", "attempts"),
]  # fmt: skip

# Keys no store can hold: a finder finds nothing for them, as for any key no row has.
_KEYS: list[object] = ["c\x00", "c\udc80", "\ud800"]


class LimitsStorageContract:
    """What every store holds, and refuses beyond it; :class:`StorageContract` inherits it."""

    @pytest.mark.parametrize(("what", "write", "table", "column"), _UNHOLDABLE, ids=[case[0] for case in _UNHOLDABLE])
    def test_a_value_no_store_holds_is_refused_naming_it_and_the_unit_keeps_nothing(
        self, store: Store, what: str, write: Write, table: str, column: str
    ) -> None:
        with store.unit_of_work() as uow:
            uow.customers.put(Customer("kept-only-if-the-unit-is", "Ana"))
            with pytest.raises(InvalidRow) as caught:
                write(uow)
            assert (caught.value.table, caught.value.column) == (table, column), str(caught.value)
            assert caught.value.key, str(caught.value)
            with pytest.raises(InvalidRow):
                uow.commit()  # spoiled: nothing of this unit can be kept
        with store.unit_of_work() as uow, pytest.raises(NotFound):
            uow.customers.get("kept-only-if-the-unit-is")

    @pytest.mark.parametrize("key", _KEYS, ids=repr)
    def test_a_key_no_store_holds_finds_nothing(self, store: Store, key: Any) -> None:
        with store.unit_of_work() as uow:
            uow.customers.put(Customer("c1", "Ana", tax_id="1"))
            uow.installments.put(_installment(bank_title_number="1"))
            uow.return_batches.add(_batch(), [_record()])
            uow.commit()
        with store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.customers.get(key)
            assert uow.customers.get_many([key, "c1"]).keys() == {"c1"}
            assert uow.customers.by_tax_ids([key]) == []
            assert [i.id for i in uow.installments.by_bank_title_numbers([key, "1"])] == ["i1"]
            assert uow.installments.open_of_customer(key) == []
            assert uow.return_batches.records(key) == []
            assert uow.return_batches.record_of_settlement(key) is None
            assert uow.operations.of_documents([key]) == []
            assert uow.postings.of_settlement(key) == []
            with pytest.raises(NotFound):
                uow.return_batches.delete(key)
            assert uow.customers.get("c1").name == "Ana"  # the unit goes on

    @pytest.mark.parametrize("line", [2**31, 2**63, -(2**63) - 1])
    def test_a_line_no_store_holds_finds_nothing(self, store: Store, line: int) -> None:
        with store.unit_of_work() as uow:
            uow.return_batches.add(_batch(), [_record()])
            uow.commit()
        with store.unit_of_work() as uow:
            assert [r.line for r in uow.return_batches.records("b1", [line, 1])] == [1]
            assert uow.return_batches.get("b1").id == "b1"
