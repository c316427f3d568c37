"""The rows a unit of work read, kept so that its updates write only the columns that changed (decision 0350).

Settling an installment changes eight of its twenty-seven columns; an ``UPDATE`` that sets all of them
makes SQLite rewrite the entry of every index on the table (six on ``installments``) although no indexed
value moved: 0.41-0.47 s for 20,000 installments in chunks of 500, against 0.07 s for the columns that
changed. A unit that read a row in its transaction knows what the row holds; an update of that row at
the version read sets only the columns whose values differ, and the version rule (``WHERE version =``)
still refuses a row another unit wrote since. A row not read in the transaction, or read at another
version, is written whole, as before.

A record's child rows (its links, its settlement ids) are kept too, with the version of the record read: a
record written at that version with the same links has the same link rows, which are then left alone.

What is kept is forgotten when the transaction ends (commit or rollback), when the unit deletes rows
(a key deleted and inserted again restarts its version), and for each key the unit inserts. At most
:data:`LIMIT` rows a table are kept, so a unit that reads a whole portfolio holds no second copy of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from operator import itemgetter
from typing import Any

from carteira.adapters.storage import rows as r

__all__ = ["LIMIT", "ReadRows"]

LIMIT = 20_000
"""Rows kept a table a transaction: a chunk of confirm (500) or auto-link (10,000) fits with room."""

_Group = tuple[tuple[str, ...], list[r.Row]]


def _same(stored: Any, written: Any) -> bool:
    """Whether writing ``written`` over ``stored`` would leave the column as it is: same type, same value, and a
    Decimal's exponent too (PostgreSQL's NUMERIC keeps 0.0200 apart from 0.02)."""
    if stored.__class__ is not written.__class__ or stored != written:
        return False
    return stored.__class__ is not Decimal or stored.as_tuple() == written.as_tuple()


class ReadRows:
    """The rows read in the current transaction, by table and primary key, as the database gave them."""

    def __init__(self) -> None:
        self._tables: dict[str, tuple[dict[str, int], dict[tuple[Any, ...], Sequence[Any]]]] = {}
        self._children: dict[str, dict[tuple[Any, ...], tuple[int, tuple[Any, ...]]]] = {}
        self._parents: dict[str, str] = {}

    def keep(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Remember ``rows`` of ``columns`` (which must hold the table's key and ``version``), up to :data:`LIMIT`."""
        positions = {name: n for n, name in enumerate(columns)}
        key = r.KEYS[table]
        if "version" not in positions or any(name not in positions for name in key):
            return
        kept = self._tables.get(table)
        if kept is None or kept[0] != positions:
            # Rows read with another column list replace the earlier ones: one layout a table.
            kept = self._tables[table] = (positions, {})
        by_key = kept[1]
        room = LIMIT - len(by_key)
        if room <= 0:
            return
        kept_rows = rows[:room]
        at = [positions[name] for name in key]
        # itemgetter of two or more positions gives the key tuple; of one, the value, then zip makes it a 1-tuple.
        keys = map(itemgetter(*at), kept_rows) if len(at) > 1 else zip(map(itemgetter(at[0]), kept_rows))
        by_key.update(zip(keys, kept_rows, strict=True))

    def keep_children(
        self, parent: str, table: str, read: Mapping[tuple[Any, ...], tuple[int, tuple[Any, ...]]]
    ) -> None:
        """Remember, for each key of ``read`` in the ``parent`` table, the version its row was read at and its
        values in the child ``table`` (a record's links), as read with it; up to :data:`LIMIT` a table."""
        self._parents[table] = parent
        kept = self._children.setdefault(table, {})
        if len(kept) < LIMIT:
            kept.update(read)

    def children(self, table: str, key: tuple[Any, ...], version: int) -> tuple[Any, ...] | None:
        """The values in the child ``table`` of the parent ``key`` as read with it at ``version``; ``None`` if the
        parent was not read in this transaction, or at another version (then the child rows may differ)."""
        found = self._children.get(table, {}).get(key)
        if found is None or found[0] != version:
            return None
        return found[1]

    def forget(self, table: str | None = None, keys: Sequence[tuple[Any, ...]] = ()) -> None:
        """Forget ``keys`` of ``table``; every row of it without keys; everything without a table."""
        if table is None or not keys:
            # Child rows are kept by their parent's key: forgetting a whole table forgets them all.
            self._children.clear()
            if table is None:
                self._tables.clear()
            else:
                self._tables.pop(table, None)
            return
        kept = self._tables.get(table)
        if kept is not None:
            for key in keys:
                kept[1].pop(key, None)
        for child, parent in self._parents.items():
            if parent == table:
                children = self._children[child]
                for key in keys:
                    children.pop(key, None)

    def narrowed(self, table: str, columns: Sequence[str], rows: Sequence[r.Row], keys: int) -> list[_Group]:
        """``rows`` of an update (the key's ``keys`` columns, the columns to set, the version expected last),
        as groups of (columns, rows): those read at the version expected set only the columns that changed
        in any of them; the rest set every column. No group for no rows, else one or two: never a statement a row."""
        kept = self._tables.get(table)
        if not rows:
            return []
        if kept is None or tuple(columns[:keys]) != r.KEYS[table]:
            return [(tuple(columns), list(rows))]
        positions, by_key = kept
        if any(name not in positions for name in columns):
            return [(tuple(columns), list(rows))]
        version_at = positions["version"]
        unsure = [(n, positions[columns[n]]) for n in range(keys, len(columns) - 1)]
        changed: set[int] = set()
        known: list[r.Row] = []
        whole: list[r.Row] = []
        for row in rows:
            stored = by_key.get(tuple(row[:keys]))
            if stored is None or stored[version_at] != row[-1]:
                whole.append(row)
                continue
            known.append(row)
            found = [n for n, at in unsure if not _same(stored[at], row[n])]
            if found:
                changed.update(found)
                unsure = [(n, at) for n, at in unsure if n not in changed]
        groups: list[_Group] = []
        if known:
            chosen = sorted(changed)
            kept_at = (*range(keys), *chosen, len(columns) - 1)
            narrow = tuple(columns[n] for n in kept_at)
            groups.append((narrow, list(map(itemgetter(*kept_at), known))))  # two or more positions: tuples
        if whole:
            groups.append((tuple(columns), whole))
        return groups
