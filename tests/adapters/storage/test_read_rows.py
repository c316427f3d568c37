"""An update of a row the unit read sets only the columns that changed, and ends as a whole one would (decision 0350).

The property: for any rows read, and any update of them (values changed or not, of another type, a
Decimal with another exponent, expected at the version read or not, rows never read), applying the
narrowed statements to the table leaves it exactly as the whole-row statement would, value by value and
type by type. Then, on SQLite, the statements themselves: a settled installment's ``UPDATE`` names the
columns settling changed and no other, an installment not read in the transaction is written whole, and a
record's child rows are rewritten only when they change. Last, on both engines and both of PostgreSQL's
update paths, installments written narrowed and whole in one ``put_many`` read back as stored.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carteira import BrazilBankingCalendar
from carteira.adapters.storage import SqliteStore
from carteira.adapters.storage import rows as r
from carteira.adapters.storage.postgres import BULK_ROWS_MIN
from carteira.adapters.storage.read_rows import ReadRows
from carteira.adapters.storage.versions import with_version
from carteira.domain import ChargeTerms, Installment, Money, Payment, SettlementPolicy, amount_due, settle
from carteira.domain.return_batch import BatchRecord, LinkOrigin, ReturnBatch
from tests.adapters.storage.postgres_schema import postgres_schema
from tests.adapters.storage.targets import store_at, where

__all__ = ["postgres_schema", "where"]  # fixtures this module uses

_TABLE = "batch_records"  # a two-column key: the harder case
_KEY = r.KEYS[_TABLE]
_OTHER = ("origin", "note", "confirmed_once")
_COLUMNS = (*_KEY, *_OTHER, "version")
_Table = dict[tuple[Any, ...], tuple[Any, ...]]

_values = st.one_of(
    st.none(),
    st.integers(-1, 2),
    st.booleans(),
    st.sampled_from(["", "a"]),
    st.sampled_from([Decimal("0.02"), Decimal("0.020"), Decimal("0.03")]),
)


def _twin(value: Any) -> Any:
    """A value equal to ``value`` that a column would still hold differently (another type, another exponent)."""
    if isinstance(value, Decimal):
        return value.quantize(Decimal(1).scaleb(value.as_tuple().exponent - 1))  # type: ignore[operator]
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return value


@st.composite
def _case(draw: st.DrawFn) -> tuple[_Table, list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The table as stored, the rows the unit read of it (some since written again), the update's rows.

    Each key is read or not; a row read may have been written since (a new version, other values: another
    unit, or this one); the update expects the version stored or the one read, and sets each column to the
    value read, the value stored, a twin of either, or anything.
    """
    keys = draw(st.lists(st.tuples(st.sampled_from(["b1", "b2"]), st.integers(1, 3)), unique=True, min_size=1))
    table: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    read: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    for key in keys:
        first = (*key, *draw(st.tuples(_values, _values, _values)), draw(st.integers(1, 3)))
        table[key] = first
        if draw(st.booleans()):
            read.append(first)
            if draw(st.booleans()):
                table[key] = (*key, *draw(st.tuples(_values, _values, _values)), first[-1] + 1)
        stored = table[key]
        if draw(st.booleans()):
            continue  # not updated
        values = tuple(
            draw(st.sampled_from([old, now, _twin(old), _twin(now)]) | _values)
            for old, now in zip(first[len(_KEY) : -1], stored[len(_KEY) : -1], strict=True)
        )
        updates.append((*key, *values, draw(st.sampled_from([first[-1], stored[-1]]))))
    return table, read, updates


def _apply(table: dict[tuple[Any, ...], tuple[Any, ...]], columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> int:
    """What ``UPDATE … SET columns, version = version + 1 WHERE key AND version = expected`` does to ``table``."""
    updated = 0
    for row in rows:
        key = row[: len(_KEY)]
        stored = table[key]
        if stored[-1] != row[-1]:
            continue
        merged = list(stored)
        for name, value in zip(columns[len(_KEY) : -1], row[len(_KEY) : -1], strict=True):
            merged[_COLUMNS.index(name)] = value
        merged[-1] = stored[-1] + 1
        table[key] = tuple(merged)
        updated += 1
    return updated


def _exactly(table: dict[tuple[Any, ...], tuple[Any, ...]]) -> dict[tuple[Any, ...], list[str]]:
    return {key: [f"{type(value).__name__}:{value!r}" for value in row] for key, row in table.items()}


@settings(max_examples=500)  # cheap examples; the twins and stale reads are a few of the cases
@given(_case())
def test_narrowed_statements_leave_the_table_as_the_whole_row_statement(
    case: tuple[dict[tuple[Any, ...], tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]],
) -> None:
    table, read, updates = case
    kept = ReadRows()
    kept.keep(_TABLE, _COLUMNS, read)
    whole, narrowed = dict(table), dict(table)
    expected = _apply(whole, _COLUMNS, updates)
    groups = kept.narrowed(_TABLE, _COLUMNS, updates, len(_KEY))
    assert len(groups) <= 2
    assert bool(groups) == bool(updates)
    assert sum(_apply(narrowed, columns, rows) for columns, rows in groups) == expected
    assert _exactly(narrowed) == _exactly(whole)


def test_forgetting_a_key_or_a_table_writes_those_rows_whole() -> None:
    kept = ReadRows()
    kept.keep(_TABLE, _COLUMNS, [("b1", 1, "auto", "", False, 1), ("b1", 2, "auto", "", False, 1)])
    update = [("b1", 1, "auto", "x", False, 1), ("b1", 2, "auto", "x", False, 1)]
    assert kept.narrowed(_TABLE, _COLUMNS, update, 2) == [(("batch_id", "line", "note", "version"), [
        ("b1", 1, "x", 1), ("b1", 2, "x", 1)])]  # fmt: skip
    kept.forget(_TABLE, [("b1", 1)])
    assert [columns for columns, _ in kept.narrowed(_TABLE, _COLUMNS, update, 2)] == [
        ("batch_id", "line", "note", "version"), _COLUMNS]  # fmt: skip
    kept.forget(_TABLE)
    assert kept.narrowed(_TABLE, _COLUMNS, update, 2) == [(_COLUMNS, update)]


# -- on SQLite: the statements sent ------------------------------------------------------------------------------

_POLICY = SettlementPolicy()
_CALENDAR = BrazilBankingCalendar()


@pytest.fixture
def traced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[SqliteStore, list[str]]:
    statements: list[str] = []
    connect: Callable[[SqliteStore], sqlite3.Connection] = SqliteStore._connect

    def tracing(store: SqliteStore) -> sqlite3.Connection:
        conn = connect(store)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(SqliteStore, "_connect", tracing)
    store = SqliteStore(tmp_path / "carteira.db")
    store.migrate()
    with store.unit_of_work() as uow:
        terms = ChargeTerms(Decimal("0.02"), Decimal("0.01"))
        uow.installments.put_many(
            [Installment(key, "c1", date(2025, 3, 10), Money("10.00"), terms) for key in ("i1", "i2")]
        )
        uow.commit()
    return store, statements


def _set_columns(statements: list[str]) -> list[list[str]]:
    found = []
    for sql in statements:
        if sql.startswith("UPDATE installments SET "):
            sets = sql.removeprefix("UPDATE installments SET ").split(" WHERE ")[0]
            found.append([part.split(" = ")[0] for part in sets.split(", ")])
    return found


def test_settling_an_installment_read_in_the_unit_updates_the_columns_settling_changed(
    traced: tuple[SqliteStore, list[str]],
) -> None:
    store, statements = traced
    with store.unit_of_work() as uow:
        read = uow.installments.get("i1")
        outcome = settle(read, Payment(Money("10.00"), date(2025, 3, 10)), _POLICY, calendar=_CALENDAR)
        statements.clear()
        uow.installments.put(outcome.installment)
        uow.commit()
    (columns,) = _set_columns(statements)
    assert set(columns) == {"principal_open_cents", "status", "latest_settlement_id", "settlements_made", "version"}
    with store.unit_of_work() as uow:
        assert uow.installments.get("i1") == with_version(outcome.installment, 2)


def test_an_installment_not_read_in_this_transaction_is_written_whole(traced: tuple[SqliteStore, list[str]]) -> None:
    store, statements = traced
    with store.unit_of_work() as uow:
        read = uow.installments.get("i2")
        uow.commit()  # the next transaction has read nothing
        outcome = settle(read, Payment(Money("10.00"), date(2025, 3, 10)), _POLICY, calendar=_CALENDAR)
        statements.clear()
        uow.installments.put(outcome.installment)
        uow.commit()
    (columns,) = _set_columns(statements)
    assert columns == [*r.INSTALLMENTS.columns[1:], "version"]  # every column but the key


# -- a record's child rows: rewritten only when they change ---------------------------------------------------------


def _batch_of_two(store: SqliteStore) -> None:
    """Batch B1 with two settlement records, line 1 linked to i1 and line 2 open."""
    batch = ReturnBatch("B1", "march", date(2025, 3, 31), "f.ret", "d" * 64, "bb-240", "001", None, None, 2)
    paid, on = Money("10.00"), date(2025, 3, 10)
    records = [
        BatchRecord("B1", line, "06", "liquidation", True, False, None, None, None, None, paid, *[None] * 5, on, None)
        for line in (1, 2)
    ]
    with store.unit_of_work() as uow:
        uow.return_batches.add(batch, records)
        first = uow.return_batches.records("B1", [1])[0]
        uow.return_batches.put_records([first.linked(["i1"], LinkOrigin.MANUAL, "")])
        uow.commit()


def _child_writes(statements: list[str]) -> list[str]:
    """``DELETE FROM table`` and ``INSERT INTO table`` of the two child tables, in the order sent."""
    found = []
    for sql in statements:
        for table in ("batch_record_links", "batch_record_settlements"):
            for verb in ("DELETE FROM", "INSERT INTO"):
                if sql.startswith(f"{verb} {table} "):
                    found.append(f"{verb} {table}")
    return found


def _child_writes_of(
    traced: tuple[SqliteStore, list[str]],
    change: Callable[[BatchRecord, BatchRecord], list[BatchRecord]],
    *,
    read_earlier: bool = False,
) -> list[str]:
    """What ``put_records`` of ``change(first, second)`` deletes and inserts in the child tables, the records
    read in the same transaction (or, ``read_earlier``, in the one before)."""
    store, statements = traced
    _batch_of_two(store)
    with store.unit_of_work() as uow:
        first, second = uow.return_batches.records("B1")
        if read_earlier:
            uow.commit()  # what was read is forgotten with the transaction
        statements.clear()
        uow.return_batches.put_records(change(first, second))
        uow.commit()
    return _child_writes(statements)


def _stored(store: SqliteStore) -> list[tuple[tuple[str, ...], str]]:
    with store.unit_of_work() as uow:
        return [(r.links, r.note) for r in uow.return_batches.records("B1")]


def test_records_read_and_written_with_the_same_links_leave_their_child_rows_alone(
    traced: tuple[SqliteStore, list[str]],
) -> None:
    assert _child_writes_of(traced, lambda first, second: [first.noted("checked"), second.noted("none")]) == []
    assert _stored(traced[0]) == [(("i1",), "checked"), ((), "none")]


def test_only_the_child_rows_that_change_are_deleted_or_inserted(traced: tuple[SqliteStore, list[str]]) -> None:
    # Line 1 had a link row and has none: deleted. Line 2 had none and gets one: inserted, nothing to delete.
    written = _child_writes_of(traced, lambda first, second: [first.unlinked(), second.linked(["i2"], LinkOrigin.AUTO)])
    assert written == ["DELETE FROM batch_record_links", "INSERT INTO batch_record_links"]
    assert _stored(traced[0]) == [((), ""), (("i2",), "")]


def test_records_not_read_in_this_transaction_get_their_child_rows_replaced(
    traced: tuple[SqliteStore, list[str]],
) -> None:
    written = _child_writes_of(traced, lambda first, second: [first.noted("x"), second.noted("y")], read_earlier=True)
    links, settled = "batch_record_links", "batch_record_settlements"
    assert written == [f"DELETE FROM {links}", f"INSERT INTO {links}", f"DELETE FROM {settled}"]
    assert _stored(traced[0]) == [(("i1",), "x"), ((), "y")]


# -- on both engines, through both of PostgreSQL's update paths -------------------------------------------------


@pytest.mark.parametrize("count", [3, BULK_ROWS_MIN + 6])  # PostgreSQL: a pipelined executemany, then COPY
def test_settled_installments_read_back_as_settled_whether_narrowed_or_written_whole(where: str, count: int) -> None:
    """Half the installments are read in the unit that settles them (their update is narrowed), half were read in
    the transaction before (written whole); one put_many writes both, and every one reads back as settled."""
    store = store_at(where)
    store.migrate()
    terms = ChargeTerms(Decimal("0.02"), Decimal("0.0333"), grace_days=2)
    made = [
        Installment(f"i{n}", "c1", date(2025, 3, 10), Money("10.00") + Money.from_cents(n), terms, number=n + 1)
        for n in range(count)
    ]
    try:
        with store.unit_of_work() as uow:
            uow.installments.put_many(made)
            uow.commit()
        with store.unit_of_work() as uow:
            earlier = list(uow.installments.get_many([i.id for i in made[::2]]).values())
            uow.commit()
            now = list(uow.installments.get_many([i.id for i in made[1::2]]).values())
            late = date(2025, 3, 25)  # fine and interest: more columns change than on time
            due = {i.id: amount_due(i, on=late, calendar=_CALENDAR).total for i in earlier + now}
            outcomes = [settle(i, Payment(due[i.id], late), _POLICY, calendar=_CALENDAR) for i in earlier + now]
            stored = uow.installments.put_many([o.installment for o in outcomes])
            uow.commit()
        with store.unit_of_work() as uow:
            found = uow.installments.get_many([i.id for i in made])
        assert {i.id: i for i in stored} == found
        assert all(not i.is_open and i.fine_charged for i in found.values())
    finally:
        store.close()
