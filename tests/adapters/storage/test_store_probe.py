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
import sys
from collections.abc import Iterator

import pytest

from carteira.adapters.storage import MemoryStore, SqliteStore
from carteira.adapters.storage import rows as r
from carteira.adapters.storage.postgres import _codec as postgres_codec
from carteira.adapters.storage.sqlite import _codec as sqlite_codec
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
    """The probe's figures on the test's output (shown with ``-s`` or ``-rP``), as a row of the reliability table."""
    sys.stdout.write(f"\n{tally.line(name)}  (missed {tally.missed}, named another column {tally.elsewhere})\n")


_PARENT_KEYS = {"batch_record_settlements": ("batch_id", "line")}


def test_hand_edited_rows_are_refused_by_name_or_read_as_the_domain_accepts(seeded: tuple[Store, str]) -> None:
    store, where = seeded
    tally = probe.probe_reads(store, where, every_reader=FULL)
    name = "SQLite" if isinstance(store, SqliteStore) else "PostgreSQL"
    _report(f"{name}: rows edited by hand, read back", tally)
    assert tally.crashes == 0, tally.examples.get("crashes")
    assert tally.unnamed == 0, tally.examples.get("unnamed")
    codec = sqlite_codec() if isinstance(store, SqliteStore) else postgres_codec()
    # An edited key moves the row away from every finder (a child row from its record): not read, so not wrong.
    wrong = [(table, column, value) for table, column, value in tally.loaded_values
             if column not in (*r.KEYS[table], *_PARENT_KEYS.get(table, ()))
             and r.HOLDS[table][column].unreadable(value, codec) is not None]  # fmt: skip
    # What the store decodes itself (money, dates, instants, rates, flags, enums, JSON) never loads wrong; text
    # and whole numbers go to the domain's constructors as they are, which check their types.
    decoded = [case for case in wrong if r.HOLDS[case[0]][case[1]].read is not None]
    assert decoded == []
    if wrong:
        pytest.xfail(f"{len(wrong)} values of the wrong type loaded, the domain not checking them yet: {wrong[:5]}")


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
