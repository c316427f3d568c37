"""The stores probed systematically (``probe.py``): only typed carteira errors escape, each naming what it refuses.

Every column of every table, on SQLite and PostgreSQL, is edited by hand to values of the wrong type, NULL,
out-of-range numbers, bad enum values, malformed and unbounded dates and values that break the domain's
rules, and read back through the repositories; records carrying values no column holds are written; the
finders are asked for keys no row can have. ``CARTEIRA_PROBE=full`` reads each edited row through every
finder that returns it and writes every unholdable value (the default: the plainest finder, fewer values).
The figures (inputs tried, refused, loaded, unnamed, crashes) are printed; ``docs/reliability.md`` has them.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator

import pytest

from carteira.adapters.storage import MemoryStore, SqliteStore
from carteira.adapters.storage import rows as r
from carteira.ports.storage import Store
from tests.adapters.storage import probe
from tests.adapters.storage.every_row import seed
from tests.adapters.storage.postgres_schema import postgres_schema
from tests.adapters.storage.targets import store_at, where

__all__ = ["postgres_schema", "where"]

FULL = os.environ.get("CARTEIRA_PROBE", "") == "full"


@pytest.fixture
def seeded(where: str) -> Iterator[tuple[Store, str]]:
    store = store_at(where)
    store.migrate()
    seed(store)
    yield store, where
    store.close()


def _report(name: str, tally: probe.Tally) -> None:
    pass


def test_hand_edited_rows_are_refused_by_name_or_read_as_the_domain_accepts(seeded: tuple[Store, str]) -> None:
    store, where = seeded
    tally = probe.probe_reads(store, where, every_reader=FULL)
    name = "SQLite" if isinstance(store, SqliteStore) else "PostgreSQL"
    _report(f"{name}: rows edited by hand, read back", tally)
    assert tally.crashes == 0, tally.examples.get("crashes")
    assert tally.unnamed == 0, tally.examples.get("unnamed")
    wrongly_loaded = [example for example in tally.examples.get("loaded", []) if _must_refuse(store, where, example)]
    assert wrongly_loaded == []


def _must_refuse(store: Store, where: str, example: str) -> bool:
    """Whether a loaded edit (``"table: SET column = value (reader n)"``) left a value carteira never writes."""
    if not isinstance(store, SqliteStore):
        return False  # PostgreSQL's column types hold only values of the type; the domain judges the rest
    table, rest = example.split(": SET ", 1)
    value = rest.rsplit(" (reader", 1)[0].split(" = ", 1)[1]
    column = rest.split(" = ", 1)[0]
    if column not in r.HOLDS[table]:
        return False
    with sqlite3.connect(":memory:") as connection:
        connection.text_factory = bytes
        stored = connection.execute(f"SELECT CAST({value} AS {_affinity(table, column)})").fetchone()[0]
    from carteira.adapters.storage.sqlite import _codec

    if isinstance(stored, bytes):
        try:
            stored = stored.decode("utf-8")
        except UnicodeDecodeError:
            return True
    return r.HOLDS[table][column].unreadable(stored, _codec()) is not None


def _affinity(table: str, column: str) -> str:
    holds = r.HOLDS[table][column]
    return "INTEGER" if holds.low is not None or holds.kind == "flag" else "TEXT"


def _writes(store: Store, name: str) -> None:
    tally = probe.probe_writes(store, every_value=FULL)
    _report(f"{name}: values no column holds, written", tally)
    assert tally.crashes == 0, tally.examples.get("crashes")
    assert tally.unnamed == 0, tally.examples.get("unnamed")
    assert tally.loaded == 0, tally.examples.get("loaded")


def test_values_no_column_holds_are_refused_by_name_and_nothing_is_kept(where: str) -> None:
    store = store_at(where)
    store.migrate()
    try:
        _writes(store, "SQLite" if isinstance(store, SqliteStore) else "PostgreSQL")
    finally:
        store.close()


def test_memory_store_refuses_what_the_databases_refuse() -> None:
    _writes(MemoryStore(), "MemoryStore")


def test_keys_no_row_can_have_find_nothing(seeded: tuple[Store, str]) -> None:
    store, _ = seeded
    tally = probe.probe_keys(store)
    _report("keys no row can have, asked for", tally)
    assert tally.crashes == 0, tally.examples.get("crashes")
    assert tally.unnamed == 0, tally.examples.get("unnamed")
    assert tally.loaded == 0, tally.examples.get("loaded")
