"""SqliteStore: the embedded default, one database file through the standard library's sqlite3.

The file runs in WAL mode with ``synchronous=FULL``; each unit of work has a connection to itself,
kept by the store between units (``isolation_level=None``: this module issues ``BEGIN IMMEDIATE``,
``COMMIT`` and ``ROLLBACK`` itself)
and takes the write lock when it begins, so units from several threads or processes run one
after the other, waiting up to ``timeout_s`` for the lock. A unit that commits gives the lock back
at once and takes it again only with its next statement (decision 0304), so work the unit does
after a commit without the database (a gateway call) holds nobody up. For several workers at
once, use PostgreSQL.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

from carteira.adapters.storage import rows as r
from carteira.adapters.storage.columns import LenientRows, Unholdable, UnreadableValue
from carteira.adapters.storage.schema import SCHEMA_VERSION, check_usable, migrations, newer_schema_message
from carteira.adapters.storage.sql import DuplicateKey, SqlUnitOfWork
from carteira.errors import InvalidInput, SchemaVersionError, StoreUnavailable

__all__ = ["SqliteStore", "SqliteUnitOfWork"]

# SQLite's default limit is 32,766 bound variables per statement; stay well under it.
KEYS_PER_QUERY_MAX = 10_000
IDLE_CONNECTIONS_MAX = 4
"""How many connections a store keeps open between units (its units run one at a time, decision 0304)."""


def _instant_text(value: datetime) -> str:
    """``value`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``: one width always, so the text sorts as the instants."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _instant(text: str) -> datetime:
    """An instant as :func:`_instant_text` wrote it; any other text (an edit by hand) would sort wrongly: refused."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None or _instant_text(value) != text:
        raise ValueError(f"{text!r} is not an instant in UTC as carteira writes it (YYYY-MM-DDTHH:MM:SS.ffffff+00:00)")
    return value


_DATES_CACHED_MAX = 65_536
_FLAGS = {0: False, 1: True}


def _date_reader() -> Callable[[Any], date]:
    """``date_in``: the ISO text carteira writes (``YYYY-MM-DD``) as a date; any other text is refused.

    ``date.fromisoformat`` also reads ``20250310`` and ``2025-W10-1``, which sort wrongly as text, so a
    text is accepted only if it is the date's own ``isoformat``. A portfolio's rows share few dates:
    each text is parsed and checked once, then looked up, which is faster than parsing every one.
    """
    cache: dict[object, date] = {}

    def date_in(text: Any) -> date:
        found = cache.get(text)
        if found is None:
            found = date.fromisoformat(text)
            if found.isoformat() != text:
                raise ValueError(f"{text!r} is not a date as carteira writes it (YYYY-MM-DD)")
            if len(cache) >= _DATES_CACHED_MAX:
                cache.clear()
            cache[text] = found
        return found

    return date_in


def _codec() -> r.Codec:
    return r.Codec(
        date_out=date.isoformat,
        date_in=_date_reader(),
        instant_out=_instant_text,
        instant_in=_instant,
        rate_out=str,
        rate_in=Decimal,
        flag_out=int,
        flag_in=_FLAGS.__getitem__,  # 0 or 1 only: bool() would read 2 or 'yes' as true
    )


_UNBINDABLE = (UnicodeEncodeError, OverflowError)  # a lone surrogate in text, a whole number beyond 64 bits
_DUPLICATES = ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")


def _unholdable(exc: Exception) -> Unholdable:
    """sqlite3's refusal of a parameter, before anything ran (a bulk write may have written rows before it)."""
    return Unholdable(f"{type(exc).__name__}: {exc}")


def _broken_rule(table: str, exc: sqlite3.IntegrityError) -> InvalidInput:
    """A row that breaks a rule of the table other than a unique key (a CHECK, NOT NULL): not the record's fault
    alone to name by column, but the table and the rule are in SQLite's message."""
    return InvalidInput(f"the database refused a row: {exc}", field=table, source="database")


def _joined(found: list[Sequence[Any]], part: list[Sequence[Any]]) -> list[Sequence[Any]]:
    """``found`` with ``part`` added; rows read leniently make the whole lenient (their decoder must know)."""
    if isinstance(part, LenientRows) and not isinstance(found, LenientRows):
        found = LenientRows(found)
    found.extend(part)
    return found


def _lenient_text(data: bytes) -> str | UnreadableValue:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return UnreadableValue(repr(data)[1:], "is text that is not UTF-8")


class SqliteUnitOfWork(SqlUnitOfWork):
    """A unit of work on one SQLite connection, inside ``BEGIN IMMEDIATE`` … ``COMMIT``/``ROLLBACK``.

    The first transaction begins when the ``with`` block is entered; each later one begins with the
    first statement after a ``commit()``, never in ``commit()`` itself.
    """

    def __init__(self, store: SqliteStore) -> None:
        super().__init__()
        self._store = store
        self.codec = store._codec
        self._conn: sqlite3.Connection | None = None
        self._broken = False

    def _fail(self, exc: sqlite3.Error) -> NoReturn:
        self._broken = True  # a connection that failed is closed, never kept for another unit
        raise self.spoil(self._store._unavailable(exc)) from exc

    @property
    def _c(self) -> sqlite3.Connection:
        """The connection, inside a transaction: no statement of a unit ever runs in autocommit mode."""
        conn = self._conn
        if conn is None:
            conn = self._conn = self._store._acquire()
        if not conn.in_transaction:
            # The first statement after a commit: take the write lock again now, not in commit(), so a
            # unit that has committed holds nothing while it does other work (decision 0304).
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self._fail(exc)
        return conn

    def begin(self) -> None:
        """Take the write lock now, so that two units never both read and then fail to write."""
        self._store._check_schema()
        try:
            _ = self._c
        except StoreUnavailable:
            self.release()
            raise

    def end(self, commit: bool) -> None:
        """COMMIT or ROLLBACK, when a transaction is open (none is after a commit, until the next statement).

        A COMMIT that fails has kept nothing: SQLite reports an error only for a transaction it did not
        commit, and the next transaction is not begun here, so nothing after the COMMIT can fail it.
        """
        conn = self._conn
        if conn is None or not conn.in_transaction:
            return
        try:
            conn.execute("COMMIT" if commit else "ROLLBACK")
        except sqlite3.Error as exc:
            self._fail(exc)

    def release(self) -> None:
        """Give the unit's connection back to the store (closed instead if it failed or is mid-transaction)."""
        if self._conn is not None:
            self._store._give_back(self._conn, broken=self._broken)
            self._conn = None

    def fetch(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        """The rows of one query; a parameter sqlite3 cannot bind is :class:`~.columns.Unholdable` (nothing ran)."""
        try:
            return self._c.execute(sql, params).fetchall()
        except _UNBINDABLE as exc:
            raise _unholdable(exc) from exc
        except sqlite3.Error as exc:
            if isinstance(exc, sqlite3.OperationalError) and "Could not decode to UTF-8" in str(exc):
                return self._fetch_leniently(sql, params)
            if isinstance(exc, sqlite3.ProgrammingError) and "binding parameter" in str(exc):
                raise _unholdable(exc) from exc
            self._fail(exc)

    def _fetch_leniently(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        """The query again, text that is not UTF-8 read as an :class:`~.columns.UnreadableValue` the mappers refuse.

        Only after sqlite3 failed on such text (a row edited outside carteira), so that its column is named.
        """
        conn = self._c
        conn.text_factory = _lenient_text
        try:
            return LenientRows(conn.execute(sql, params).fetchall())
        except sqlite3.Error as exc:
            self._fail(exc)
        finally:
            conn.text_factory = str

    def fetch_in(self, sql: str, values: Sequence[Any], params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        """``params`` then chunks of ``IN (?, …)``, at most :data:`KEYS_PER_QUERY_MAX` parameters a query."""
        found: list[Sequence[Any]] = []
        step = KEYS_PER_QUERY_MAX - len(params)
        for start in range(0, len(values), step):
            chunk = values[start : start + step]
            part = self.fetch(sql.replace("{IN}", f"IN ({', '.join('?' * len(chunk))})"), [*params, *chunk])
            found = _joined(found, part)
        return found

    def execute_in(self, sql: str, params: Sequence[Any], values: Sequence[Any]) -> int:
        """``execute`` with ``params`` then chunks of ``IN (?, …)`` for ``{IN}``; the rows changed in all."""
        changed = 0
        step = KEYS_PER_QUERY_MAX - len(params)
        for start in range(0, len(values), step):
            chunk = values[start : start + step]
            changed += self.execute(sql.replace("{IN}", f"IN ({', '.join('?' * len(chunk))})"), [*params, *chunk])
        return changed

    def fetch_in_pairs(self, sql: str, pairs: Sequence[tuple[Any, Any]]) -> list[Sequence[Any]]:
        """Chunks of ``IN (VALUES (?, ?), …)``."""
        found: list[Sequence[Any]] = []
        step = KEYS_PER_QUERY_MAX // 2
        for start in range(0, len(pairs), step):
            chunk = pairs[start : start + step]
            values = ", ".join("(?, ?)" for _ in chunk)
            found = _joined(
                found, self.fetch(sql.replace("{PAIRS}", f"IN (VALUES {values})"), [v for p in chunk for v in p])
            )
        return found

    def execute(self, sql: str, params: Sequence[Any]) -> int:
        """Run one statement; the rows it changed."""
        try:
            return self._c.execute(sql, params).rowcount
        except _UNBINDABLE as exc:
            raise _unholdable(exc) from exc
        except sqlite3.Error as exc:
            if isinstance(exc, sqlite3.ProgrammingError) and "binding parameter" in str(exc):
                raise _unholdable(exc) from exc
            self._fail(exc)

    def insert_many(self, table: str, columns: Sequence[str], rows: Sequence[r.Row]) -> None:
        """One ``executemany`` of ``INSERT``."""
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        try:
            self._c.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            # The caller rolls back to its savepoint, undoing the rows inserted before the failing one.
            if getattr(exc, "sqlite_errorname", "") in _DUPLICATES:
                raise DuplicateKey(str(exc)) from exc
            raise self.spoil(_broken_rule(table, exc)) from exc
        except _UNBINDABLE as exc:
            raise _unholdable(exc) from exc
        except sqlite3.Error as exc:
            if isinstance(exc, sqlite3.ProgrammingError) and "binding parameter" in str(exc):
                raise _unholdable(exc) from exc
            self._fail(exc)

    def update_many(self, table: str, columns: Sequence[str], rows: Sequence[r.Row], keys: int = 1) -> int:
        """One ``executemany`` of ``UPDATE … WHERE key = ?1 AND version = ?N`` (numbered, so rows go as they are)."""
        last = len(columns)
        assignments = [f"{column} = ?{n}" for n, column in enumerate(columns[keys:-1], start=keys + 1)]
        match = " AND ".join(f"{column} = ?{n}" for n, column in enumerate(columns[:keys], start=1))
        sets = ", ".join([*assignments, f"version = ?{last} + 1"])
        sql = f"UPDATE {table} SET {sets} WHERE {match} AND version = ?{last}"
        try:
            return self._c.executemany(sql, rows).rowcount
        except sqlite3.IntegrityError as exc:
            raise self.spoil(_broken_rule(table, exc)) from exc
        except _UNBINDABLE as exc:
            raise _unholdable(exc) from exc
        except sqlite3.Error as exc:
            if isinstance(exc, sqlite3.ProgrammingError) and "binding parameter" in str(exc):
                raise _unholdable(exc) from exc
            self._fail(exc)

    def savepoint(self) -> None:
        """``SAVEPOINT carteira_write``."""
        self.execute("SAVEPOINT carteira_write", ())

    def rollback_to_savepoint(self) -> None:
        """``ROLLBACK TO carteira_write``."""
        self.execute("ROLLBACK TO carteira_write", ())

    def release_savepoint(self) -> None:
        """``RELEASE carteira_write``."""
        self.execute("RELEASE carteira_write", ())


class SqliteStore:
    """The portfolio in one SQLite file at ``path`` (created if missing); call :meth:`migrate` once first.

    Args:
        path: the database file.
        timeout_s: how long a unit waits for another unit's write lock before giving up.

    Raises:
        StoreUnavailable: (from ``migrate`` and ``unit_of_work``) the file is not a SQLite database,
            cannot be opened, or stayed locked longer than ``timeout_s``.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout_s: float = 30.0) -> None:
        if str(path) == ":memory:" or str(path).startswith("file:"):
            # Each unit opens its own connection: an in-memory database would be a new, empty one each time.
            raise InvalidInput(
                "must be a file path", field="path", raw=str(path), hint="for a store in memory use MemoryStore()"
            )
        self._path = Path(path)
        self._timeout_s = timeout_s
        self._codec = _codec()
        self._schema_checked = False
        # Connections kept between units: opening one costs about 2 ms, and closing the last one
        # checkpoints the WAL with an fsync, which a unit per billing-run answer cannot afford.
        self._idle: list[sqlite3.Connection] = []
        self._idle_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self._path)!r})"

    def _unavailable(self, exc: sqlite3.Error) -> StoreUnavailable:
        text = str(exc)
        if "not a database" in text or "malformed" in text:
            hint = "point SqliteStore at a carteira database file, or at a path that does not exist yet"
        elif "locked" in text or "busy" in text:
            hint = f"another unit held the write lock for more than {self._timeout_s} s; retry the unit later"
        else:
            hint = "check that the path is right, the folder exists and is writable"
        return StoreUnavailable(f"SQLite database {str(self._path)!r} cannot be used ({text}); {hint}")

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, timeout=self._timeout_s, check_same_thread=False)
            # Reading the journal mode reads the file header: a file that is not a database fails here.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise self._unavailable(exc) from exc
        return conn

    def _acquire(self) -> sqlite3.Connection:
        """An idle connection, or a new one."""
        with self._idle_lock:
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _give_back(self, conn: sqlite3.Connection, *, broken: bool) -> None:
        """Keep ``conn`` for the next unit, up to :data:`IDLE_CONNECTIONS_MAX`; close it when it cannot be reused."""
        if not broken and not conn.in_transaction:
            with self._idle_lock:
                if len(self._idle) < IDLE_CONNECTIONS_MAX:
                    self._idle.append(conn)
                    return
        conn.close()

    def _check_schema(self) -> None:
        if self._schema_checked:
            return
        conn = self._connect()
        try:
            found = _schema_version(conn)
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from exc
        finally:
            conn.close()
        check_usable(f"SQLite database {str(self._path)!r}", found)
        self._schema_checked = True

    def migrate(self) -> None:
        """Create or upgrade the schema in one transaction; safe to call every time the application starts.

        Raises:
            SchemaVersionError: the file's schema is newer than this library (nothing is written).
            StoreUnavailable: the file is not a SQLite database or cannot be opened.
        """
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_on TEXT NOT NULL)"
            )
            found = _schema_version(conn) or 0
            if found > SCHEMA_VERSION:
                conn.execute("ROLLBACK")
                raise SchemaVersionError(newer_schema_message(repr(str(self._path)), found), found=found,
                                         supported=SCHEMA_VERSION)  # fmt: skip
            for version, statements in migrations("sqlite"):
                if version <= found:
                    continue
                for statement in statements:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version, applied_on) VALUES (?, date('now'))", (version,))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise self._unavailable(exc) from exc
        finally:
            conn.close()
        self._schema_checked = True

    def unit_of_work(self) -> SqliteUnitOfWork:
        """A new unit of work; it begins (and takes the write lock) when its ``with`` block is entered."""
        return SqliteUnitOfWork(self)

    def close(self) -> None:
        """Close the connections kept between units; a unit opened afterwards opens a new one."""
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _schema_version(conn: sqlite3.Connection) -> int | None:
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone()
    if exists is None:
        return None
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return None if row is None or row[0] is None else int(row[0])
