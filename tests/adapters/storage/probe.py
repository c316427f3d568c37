"""The stores probed as a careless operator and an attacker would: rows edited by hand, values no column holds.

:func:`probe_reads` edits one column of one seeded row at a time (:mod:`tests.adapters.storage.every_row`)
to a value from :func:`read_values` (wrong types SQLite's loose typing lets in, NULL, out-of-range numbers,
bad enum values, malformed and unbounded dates, values breaking the domain's rules), reads the row through
every repository that returns it, and puts the row back. :func:`probe_writes` puts records carrying values
no column holds (NUL, lone surrogates, whole numbers beyond 32 and 64 bits) and checks that nothing was kept.
:func:`probe_keys` asks the finders for keys no row can have. Each outcome is counted in a :class:`Tally`:

- ``refused``: a typed carteira error naming the table, the row's key and the column (for a write, the
  column of the value, and the unit kept nothing);
- ``loaded``: the row was read back (the value is one the domain accepts: a name ``'zz'``, a NULL where
  one is allowed);
- ``unnamed``: a typed carteira error that does not name the table, key and column;
- ``crashes``: any other exception (an untyped error).

Run ``python -m tests.adapters.storage.probe [--postgres]`` to print the figures.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs

from carteira.adapters.storage import PostgresStore, SqliteStore
from carteira.adapters.storage.columns import UnreadableValue
from carteira.domain import Customer, Money, PortfolioSettings
from carteira.errors import CarteiraError, InvalidInput, InvalidRow, InvalidType, NotFound
from carteira.ports.storage import Store, UnitOfWork
from tests.adapters.storage.every_row import KEYS, READERS, RECORDS, WHERE, edited, seed

__all__ = ["Tally", "probe_keys", "probe_reads", "probe_writes", "read_values"]


@attrs.define
class Tally:
    """Outcomes of a probe; ``examples`` keeps the first few of each kind that is not a pass."""

    tried: int = 0
    refused: int = 0
    loaded: int = 0
    unnamed: int = 0
    crashes: int = 0
    missed: int = 0
    """Of ``loaded``, reads that no longer found the row (its key, or the column a finder selects by, was edited)."""
    elsewhere: int = 0
    """Of ``refused``, those naming a column other than the one edited (a rule of the domain across fields)."""
    examples: dict[str, list[str]] = attrs.field(factory=dict)
    loaded_values: list[tuple[str, str, object]] = attrs.field(factory=list)
    """(table, column, value stored) of each edit that some finder read back without refusing."""

    def note(self, outcome: str, example: str) -> None:
        """Count ``outcome`` (``refused``, ``loaded``, ``unnamed``, ``crashes``) for the input ``example`` describes."""
        self.tried += 1
        setattr(self, outcome, getattr(self, outcome) + 1)
        if outcome in ("unnamed", "crashes", "loaded"):
            self.examples.setdefault(outcome, []).append(example)

    def line(self, probe: str) -> str:
        """One row of the reliability table: inputs tried, refused, loaded, unnamed, crashes."""
        return f"| {probe} | {self.tried} | {self.refused} | {self.loaded} | {self.unnamed} | {self.crashes} |"


def _columns(store: Store, table: str) -> list[tuple[str, str, bool]]:
    """(column, declared type, nullable) of ``table`` in the store's database, in order."""
    if isinstance(store, SqliteStore):
        import sqlite3

        with sqlite3.connect(store._path) as connection:
            found = connection.execute(f"PRAGMA table_info({table})").fetchall()
        return [(row[1], str(row[2]).lower(), not row[3] and not row[5]) for row in found]
    assert isinstance(store, PostgresStore)
    conn = store._getconn()
    try:
        found = conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod), NOT attnotnull FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (table,),
        ).fetchall()
        conn.rollback()
    finally:
        store._putconn(conn)
    return [(str(name), str(kind), bool(nullable)) for name, kind, nullable in found]


_BROKEN_RULES: dict[str, list[str]] = {
    # Values of the right type that break the domain's rules, each a column = SQL expression.
    "installments": [
        "status = 'settled'",  # settled with principal still open
        "principal_open_cents = amount_cents + 1",  # more open than the amount
        "settlements_made = -1",
        "amount_cents = 0",
        "amount_cents = 100000000000000000",  # beyond Money's limit
        "fine_rate = '1.5'",
        "grace_days = -1",
        "number = 0",
        "version = 0",
        "latest_settlement_id = NULL",  # an installment settled once names its latest settlement
    ],
    "settlements": ["paid_cents = paid_cents + 1", "principal_cents = -1", "before_status = 'bogus'"],
    "credit_letters": ["balance_cents = amount_cents + 1", "balance_cents = -1", "status = 'used_up'"],
    "anticipated_installments": ["present_value_cents = face_value_cents + 1"],
    "notifications": ["attempts = -1", "deliveries = 0", "token = 'not a token!'"],
    "seen_events": ["event_id = -1", "token = 'a/b'"],
    "postings": ["amount_cents = 0", "account = ' '"],
    "return_batches": ["id = ' '", "record_count = -1"],
    "gateway_account": ["bank_account = ' '"],
    "operations": ["attempts = -1", "error_message = NULL"],
}


def read_values(dialect: str, column: str, kind: str, nullable: bool) -> list[str]:
    """SQL expressions a hand edit may put in ``column`` of ``kind`` (its declared type) on ``dialect``."""
    values = ["''", "'zz'", "' '"]
    if nullable:
        values.append("NULL")
    if dialect == "sqlite":
        # Loose typing: any column holds any of these.
        values += ["1.5", "-1", "0", "2", "X'00ff'", "CAST(X'ff' AS TEXT)", "9223372036854775807", "2147483648",
                   "'2025-13-45'", "'20250310'", "'2025-W10-1'", "'NaN'", "'1e999'", "'yes'", "'[1]'",
                   "'2025-03-01 12:00:00'"]  # fmt: skip
        return values
    if kind in ("integer", "bigint"):
        values = ["-1", "0", "2", "2147483647", "-2147483648"] + (["9223372036854775807"] if kind == "bigint" else [])
    elif kind == "numeric":
        values = ["'NaN'", "'Infinity'", "-1", "2", "1e-30", "123456789012345678901234567890"]
    elif kind == "date":
        values = ["'infinity'", "'-infinity'", "'0001-01-01'", "'9999-12-31'", "'10000-01-01'", "'4713-01-01 BC'"]
    elif kind.startswith("timestamp"):
        values = ["'infinity'", "'-infinity'", "'0001-01-01T00:00:00Z'", "'10000-01-01T00:00:00Z'"]
    elif kind == "boolean":
        values = [f"NOT {column}"]
    else:
        values += ["'bogus'", "'[1]'", "'{}'", "'null'", "repeat('x', 100000)"]
    return values + (["NULL"] if nullable and "NULL" not in values else [])


def _names(error: CarteiraError, table: str, column: str, key: tuple[str, str]) -> bool:
    """Whether ``error`` names the edited table, the row's key (its new key, when the edit changed it) and a column
    (the edited one, or the one a rule of the domain is about)."""
    if not isinstance(error, InvalidRow) or not error.column:
        return False
    if error.table == _PARENTS.get(table):
        return f"={key[1]}" in error.key  # the domain refused the record the child row belongs to
    if error.table != table:
        return False
    return f"{key[0]}=" in error.key if column == key[0] else f"{key[0]}={key[1]}" in error.key


_PARENTS = {
    "anticipated_installments": "anticipations",
    "operation_documents": "operations",
    "batch_record_links": "batch_records",
    "batch_record_settlements": "batch_records",
}


def probe_reads(store: Store, where: str, *, every_reader: bool = True, only: str | None = None) -> Tally:
    """Edit every column of every table, one value at a time, and read the row back; see the module's doc."""
    tally = Tally()
    dialect = "sqlite" if isinstance(store, SqliteStore) else "postgres"
    with edited(store, where) as run:
        for table in READERS:
            if only is not None and table != only:
                continue
            condition = WHERE.get(table, "1 = 1")
            edits = [
                f"{column} = {value}"
                for column, kind, nullable in _columns(store, table)
                if column not in ("seq",)
                for value in read_values(dialect, column, kind, nullable)
            ] + _BROKEN_RULES.get(table, [])
            original = _snapshot(store, run, table, condition)
            for change in edits:
                try:
                    run(f"UPDATE {table} SET {change} WHERE {condition}")
                except Exception:
                    continue
                readers = READERS[table] if every_reader else READERS[table][:1]
                loaded = tally.loaded - tally.missed
                for n, read in enumerate(readers):
                    _read_once(store, read, table, change, n, tally)
                if tally.loaded - tally.missed > loaded:
                    tally.loaded_values.append((table, change.split(" = ", 1)[0], _stored(run, table, change)))
                _restore(run, table, original)
    return tally


def _stored(run: Callable[[str], list[tuple[Any, ...]]], table: str, change: str) -> object:
    """The value an edit left in its column, as the driver reads it (an ``UnreadableValue`` if it cannot)."""
    column = change.split(" = ", 1)[0]
    try:
        value = run(f"SELECT {column} FROM {table} WHERE {_OTHER_ROWS.get(table, '1 = 1')}")[0][0]
    except Exception as exc:
        return UnreadableValue(change, f"cannot be read ({type(exc).__name__})")
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return UnreadableValue(change, "is text that is not UTF-8")
    return value


def _read_once(
    store: Store, read: Callable[[UnitOfWork], object], table: str, change: str, n: int, tally: Tally
) -> None:
    example = f"{table}: SET {change[:60]} (reader {n})"
    column = change.split(" = ", 1)[0]
    try:
        with store.unit_of_work() as uow:
            found = read(uow)
    except NotFound:
        tally.note("loaded", example)  # the edit moved the row away from what the finder asks for
        tally.missed += 1
    except CarteiraError as error:
        named = _names(error, table, column, KEYS[table])
        tally.note("refused" if named else "unnamed", f"{example}: {error!r}"[:300])
        if named and isinstance(error, InvalidRow) and error.column != column:
            tally.elsewhere += 1
    except Exception as error:
        tally.note("crashes", f"{example}: {type(error).__module__}.{type(error).__name__}: {error}"[:300])
    else:
        tally.note("loaded", example)
        if not found or found == PortfolioSettings():  # nothing found: the finder selects by the edited column
            tally.missed += 1


def _snapshot(store: Store, run: Callable[[str], object], table: str, condition: str) -> list[tuple[str, Any]]:
    """The row's columns and values, to put it back after each edit."""
    columns = [column for column, _, _ in _columns(store, table) if column != "seq"]
    if isinstance(store, SqliteStore):
        import sqlite3

        with sqlite3.connect(store._path) as connection:
            row = connection.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {condition}").fetchone()
    else:
        assert isinstance(store, PostgresStore)
        conn = store._getconn()
        try:
            row = conn.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {condition}").fetchone()
            conn.rollback()
        finally:
            store._putconn(conn)
    assert row is not None, table
    return list(zip(columns, row, strict=True))


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text.replace("'", "''") + "'"


_OTHER_ROWS = {
    # Tables holding more than one seeded row: the edited one is every row but the others, whatever the edit did.
    "installments": "id <> 'i1'",
    "operation_documents": "NOT (operation_id = 'op-1' AND position = 0 AND installment_id = 'i2')",
}


def _restore(run: Callable[[str], object], table: str, original: list[tuple[str, Any]]) -> None:
    assignments = ", ".join(f"{column} = {_literal(value)}" for column, value in original)
    run(f"UPDATE {table} SET {assignments} WHERE {_OTHER_ROWS.get(table, '1 = 1')}")


# -- writes ------------------------------------------------------------------------------------------------------

UNHOLDABLE_TEXTS = ("a\x00b", "a\udc80b", "\x00", "\ud800")
UNHOLDABLE_WHOLE = (2**31, 2**63, -(2**63) - 1, -(2**31) - 1, 10**30)


def _write_cases(every_value: bool) -> Iterator[tuple[str, str, Callable[[UnitOfWork, Any], object], Any]]:
    """(what, field, how to write it, the record with that field changed) for every text and whole-number field;
    two values of each kind unless ``every_value``."""
    texts = UNHOLDABLE_TEXTS if every_value else UNHOLDABLE_TEXTS[:2]
    whole = UNHOLDABLE_WHOLE if every_value else UNHOLDABLE_WHOLE[:2]
    records = RECORDS
    plain: list[tuple[str, Any, Callable[[UnitOfWork, Any], object]]] = [
        ("customer", records["customer"], lambda u, x: u.customers.put(x)),
        ("contract", records["contract"], lambda u, x: u.contracts.put(x)),
        ("installment", records["installments"][1], lambda u, x: u.installments.put_many([x])),
        ("settlement", records["settlement"], lambda u, x: u.settlements.put(x)),
        ("credit letter", records["letter"], lambda u, x: u.credit_letters.put(x)),
        ("anticipation", records["anticipation"], lambda u, x: u.anticipations.put(x)),
        ("observation", records["observation"], lambda u, x: u.observations.add(x)),
        ("return batch", records["batch"], lambda u, x: u.return_batches.add(x, [])),
        ("batch record", records["record"], lambda u, x: u.return_batches.add(records["batch"], [x])),
        ("gateway account", records["account"], lambda u, x: u.gateway_account.put(x)),
        ("operation", records["operation"], lambda u, x: u.operations.put(x)),
        ("gateway charge", records["charge"], lambda u, x: u.gateway_charges.put(x)),
        ("notification", records["notification"], lambda u, x: u.notifications.put(x)),
        ("seen event", records["event"], lambda u, x: u.seen_events.add_many([x])),
        ("posting", records["posting"], lambda u, x: u.postings.add_many([x])),
    ]
    for what, record, write in plain:
        for field in attrs.fields(type(record)):
            value = getattr(record, field.name)
            if (what, field.name) in _ARGUMENT_CHECKS:
                continue  # add refuses these for what they are (not new, another batch's), not as values
            if field.name == "version":
                candidates: tuple[Any, ...] = (2**31, 2**63)
            elif isinstance(value, str):
                candidates = texts
            elif isinstance(value, int) and not isinstance(value, bool):
                # A BIGINT column holds 2**31: only values beyond 64 bits are beyond it.
                candidates = tuple(v for v in whole if (what, field.name) not in _BIGINT_FIELDS or abs(v) >= 2**63)
            elif isinstance(value, tuple) and value and isinstance(value[0], str):
                # Tuples kept as JSON text hold NUL (JSON escapes it); those kept as rows of their own do not.
                kept = [text for text in texts if "\x00" not in text or (what, field.name) not in _JSON_FIELDS]
                candidates = tuple((text,) for text in kept)
            elif isinstance(value, Money):
                candidates = tuple(_money(cents) for cents in (2**63, 10**22))
            else:
                continue
            for bad in candidates:
                yield what, field.name, write, _changed(record, field.name, bad)


_BIGINT_FIELDS = {("seen event", "event_id")}
_JSON_FIELDS = {
    ("return batch", "warnings"), ("batch record", "flags"), ("operation", "warnings"), ("gateway account", "notify"),
}  # fmt: skip
_ARGUMENT_CHECKS = {("return batch", "version"), ("batch record", "version"), ("batch record", "batch_id")}


def _money(cents: int) -> Any:
    try:
        return Money.from_cents(cents)
    except CarteiraError as error:
        return error  # the domain refuses it first: counted as refused


def _changed(record: Any, name: str, value: Any) -> Any:
    """``record`` with ``name`` set to ``value`` through its constructor, or the domain's refusal of it."""
    if isinstance(value, CarteiraError):
        return value
    try:
        return attrs.evolve(record, **{name: value})
    except CarteiraError as error:
        return error


def probe_writes(store: Store, *, every_value: bool = True) -> Tally:
    """Put records carrying values no column holds; each must be refused, naming the field, with nothing kept."""
    tally = Tally()
    for n, (what, field, write, record) in enumerate(_write_cases(every_value)):
        example = f"{what}.{field} = {getattr(record, field, record)!r}"[:120]
        if isinstance(record, CarteiraError):
            tally.note("refused", example)  # refused by the domain at construction
            continue
        marker = f"probe-marker-{n}"
        try:
            with store.unit_of_work() as uow:
                uow.customers.put(Customer(marker, "kept only if the unit was kept"))
                try:
                    write(uow, record)
                finally:
                    uow.commit()
        except CarteiraError as error:
            named = isinstance(error, InvalidRow) and bool(error.column) and bool(error.key)
            kept = _kept(store, marker)
            tally.note("refused" if named and not kept else "unnamed", f"{example}: {error!r} kept={kept}"[:300])
        except Exception as error:
            tally.note("crashes", f"{example}: {type(error).__module__}.{type(error).__name__}: {error}"[:300])
            _kept(store, marker)
        else:
            tally.note("loaded", example)  # stored: a store that holds it (MemoryStore could)
            _forget(store)
    return tally


def _kept(store: Store, marker: str) -> bool:
    with store.unit_of_work() as uow:
        try:
            uow.customers.get(marker)
        except NotFound:
            return False
    _forget(store)
    return True


def _forget(store: Store) -> None:
    """Empty the store (a write that went through left its records behind)."""
    if isinstance(store, SqliteStore):
        import sqlite3

        with sqlite3.connect(store._path) as connection:
            for table in _TABLES:
                connection.execute(f"DELETE FROM {table}")
    elif isinstance(store, PostgresStore):
        conn = store._getconn()
        try:
            conn.execute(f"TRUNCATE {', '.join(_TABLES)}")
            conn.commit()
        finally:
            store._putconn(conn)


_TABLES = tuple(READERS)


def probe_keys(store: Store) -> Tally:
    """Ask every finder for keys no row can have: each must find nothing (``NotFound`` or empty), never crash."""
    tally = Tally()
    for key in (*UNHOLDABLE_TEXTS, "ok", 2**63, 2**31):
        for name, ask in _KEY_QUESTIONS:
            example = f"{name}({key!r})"
            try:
                with store.unit_of_work() as uow:
                    found = ask(uow, key)
            except NotFound:
                tally.note("refused", example)
            except (InvalidInput, InvalidType) as error:
                # A key of the wrong type for the finder (an int where a title number belongs), named.
                tally.note("refused" if error.field else "unnamed", f"{example}: {error!r}"[:300])
            except CarteiraError as error:
                tally.note("unnamed", f"{example}: {error!r}"[:300])
            except Exception as error:
                tally.note("crashes", f"{example}: {type(error).__module__}.{type(error).__name__}: {error}"[:300])
            else:
                tally.note("refused" if not found else "loaded", example)
    return tally


_KEY_QUESTIONS: list[tuple[str, Callable[[UnitOfWork, Any], object]]] = [
    ("customers.get", lambda u, k: u.customers.get(k)),
    ("customers.get_many", lambda u, k: u.customers.get_many([k, "c1"]) and {}),
    ("installments.get_many", lambda u, k: u.installments.get_many([k])),
    ("installments.by_bank_title_numbers", lambda u, k: u.installments.by_bank_title_numbers([k])),
    ("installments.open_of_customers", lambda u, k: u.installments.open_of_customers([k])),
    ("contracts.of_customer", lambda u, k: u.contracts.of_customer(k)),
    ("settlements.of_installment", lambda u, k: u.settlements.of_installment(k)),
    ("observations.of_installment", lambda u, k: u.observations.of_installment(k)),
    ("return_batches.records", lambda u, k: u.return_batches.records(k)),
    ("return_batches.records(lines)", lambda u, k: u.return_batches.records("b1", [k])),
    ("return_batches.record_of_settlement", lambda u, k: u.return_batches.record_of_settlement(k)),
    ("return_batches.records_linked_to", lambda u, k: u.return_batches.records_linked_to([k])),
    ("return_batches.delete", lambda u, k: u.return_batches.delete(k)),
    ("operations.of_documents", lambda u, k: u.operations.of_documents([k])),
    ("gateway_charges.by_charge_ids", lambda u, k: u.gateway_charges.by_charge_ids([k])),
    ("notifications.get", lambda u, k: u.notifications.get(k)),
    ("seen_events.of_charges", lambda u, k: u.seen_events.of_charges([k])),
    ("postings.of_settlement", lambda u, k: u.postings.of_settlement(k)),
]


def main() -> None:
    """Print the figures of each probe on SQLite (and PostgreSQL with ``--postgres``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--examples", action="store_true", help="print what was not refused")
    arguments = parser.parse_args()
    targets: list[tuple[str, Callable[[], tuple[Store, str]]]] = [("SQLite", _sqlite)]
    if arguments.postgres:
        targets.append(("PostgreSQL", _postgres))
    for _name, make in targets:
        for probe in ("reads", "writes", "keys"):
            store, where = make()
            try:
                if probe == "reads":
                    seed(store)
                    tally = probe_reads(store, where)
                elif probe == "writes":
                    tally = probe_writes(store)
                else:
                    seed(store)
                    tally = probe_keys(store)
            finally:
                store.close()
            if arguments.examples:
                for _outcome, examples in tally.examples.items():
                    for _example in examples:
                        pass


def _sqlite() -> tuple[Store, str]:
    path = Path(tempfile.mkdtemp()) / "probe.db"
    store = SqliteStore(path)
    store.migrate()
    return store, str(path)


def _postgres() -> tuple[Store, str]:
    from tests.adapters.storage.postgres_schema import _admin, empty
    from tests.support import POSTGRES_DSN

    schema = "carteira_probe"
    with _admin() as admin:
        admin.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    empty(schema)
    store = PostgresStore(POSTGRES_DSN, schema=schema, max_size=2)
    store.migrate()
    return store, schema


if __name__ == "__main__":
    main()
