"""PostgresStore: the engine for more than one process or machine, through psycopg 3 and a psycopg_pool pool.

psycopg is imported when a store first connects, so ``carteira`` imports without the
``[postgres]`` extra. Units run at READ COMMITTED; the version rule's ``UPDATE … WHERE version``
waits for a concurrent unit that holds the same row and then sees its outcome, so of two units
that write the same record one commits and the other gets :class:`~carteira.errors.Conflict`.

Bulk paths follow ``reference/storage.md``: reads by key lists use ``= ANY(%s)``; inserts of many
rows use ``COPY … FROM STDIN (FORMAT BINARY)``; updates of many rows COPY into a temporary table
and run one ``UPDATE … FROM`` it. Passwords never appear in a repr or an error message.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import unquote, urlsplit

from carteira.adapters.storage import rows as r
from carteira.adapters.storage.schema import SCHEMA_VERSION, check_usable, migrations, newer_schema_message
from carteira.adapters.storage.sql import DuplicateKey, SqlUnitOfWork
from carteira.errors import Conflict, InvalidInput, SchemaVersionError, StoreUnavailable

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

__all__ = ["PostgresStore", "PostgresUnitOfWork"]

# Below this many rows a pipelined executemany beats setting up a COPY (and a temporary table).
BULK_ROWS_MIN = 64

_MIGRATION_LOCK = zlib.crc32(b"carteira.migrate")
_PASSWORD_KV = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.I)
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_ARRAY_TYPES = {date: "date", int: "bigint", str: "text", Decimal: "numeric"}


def _identity(value: Any) -> Any:
    return value


def _codec() -> r.Codec:
    return r.Codec(
        date_out=_identity,
        date_in=_identity,
        rate_out=_identity,
        rate_in=_identity,
        flag_out=_identity,
        flag_in=_identity,
    )


def _describe(dsn: str) -> tuple[str, str | None]:
    """A description of ``dsn`` safe to show (no password), and the password to scrub from driver messages."""
    if "://" in dsn:
        parts = urlsplit(dsn)
        password = unquote(parts.password) if parts.password else None
        user = f"{unquote(parts.username)}@" if parts.username else ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{user}{parts.hostname or ''}{port}{parts.path}", password
    match = _PASSWORD_KV.search(dsn)
    password = match.group(2).strip("'") if match else None
    return _PASSWORD_KV.sub(r"\1***", dsn), password


class PostgresUnitOfWork(SqlUnitOfWork):
    """A unit of work on one pooled connection, in one transaction."""

    def __init__(self, store: PostgresStore) -> None:
        super().__init__()
        self._store = store
        self.codec = store._codec
        self._conn: psycopg.Connection[Any] | None = None
        self._temporary: set[str] = set()

    @property
    def _c(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            self._conn = self._store._getconn()
        return self._conn

    def _fail(self, exc: Exception, table: str = "") -> NoReturn:
        raise self.spoil(self._store._translate(exc, table)) from exc

    def begin(self) -> None:
        """Check the schema once, then borrow a connection (its transaction begins with the first statement)."""
        self._store._check_schema()
        _ = self._c
        self._temporary = set()

    def end(self, commit: bool) -> None:
        """COMMIT or ROLLBACK."""
        import psycopg

        if self._conn is None:
            return
        try:
            if commit:
                self._conn.commit()
            else:
                self._conn.rollback()
        except psycopg.Error as exc:
            self._fail(exc)
        self._temporary = set()

    def release(self) -> None:
        """Give the connection back to the pool."""
        if self._conn is not None:
            self._store._putconn(self._conn)
            self._conn = None

    def fetch(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        """The rows of one query."""
        import psycopg

        try:
            return self._c.execute(sql.replace("?", "%s"), params).fetchall()
        except psycopg.Error as exc:
            self._fail(exc)

    def fetch_in(self, sql: str, values: Sequence[Any]) -> list[Sequence[Any]]:
        """One query with ``= ANY(%s)`` over the whole list (an array parameter has no size limit to chunk for)."""
        return self.fetch(sql.replace("{IN}", "= ANY(?)"), [list(values)])

    def fetch_in_pairs(self, sql: str, pairs: Sequence[tuple[Any, Any]]) -> list[Sequence[Any]]:
        """One query against ``unnest`` of two arrays."""
        first_type = _ARRAY_TYPES[type(pairs[0][0])]
        second_type = _ARRAY_TYPES[type(pairs[0][1])]
        condition = f"IN (SELECT * FROM unnest(?::{first_type}[], ?::{second_type}[]))"
        return self.fetch(sql.replace("{PAIRS}", condition), [[p[0] for p in pairs], [p[1] for p in pairs]])

    def execute(self, sql: str, params: Sequence[Any]) -> int:
        """Run one statement; the rows it changed."""
        import psycopg

        try:
            return self._c.execute(sql.replace("?", "%s"), params).rowcount
        except psycopg.Error as exc:
            self._fail(exc)

    def _copy(self, table: str, columns: Sequence[str], rows: Sequence[r.Row]) -> None:
        types = self._store._column_types(self._c, table)
        names = ", ".join(columns)
        with self._c.cursor().copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([types[column] for column in columns])
            write_row = copy.write_row
            for row in rows:
                write_row(row)

    def insert_many(self, table: str, columns: Sequence[str], rows: Sequence[r.Row]) -> None:
        """``COPY`` binary for many rows, a pipelined ``executemany`` for a few."""
        import psycopg

        try:
            if len(rows) >= BULK_ROWS_MIN:
                self._copy(table, columns, rows)
            else:
                marks = ", ".join(["%s"] * len(columns))
                self._c.cursor().executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    rows,
                )
        except psycopg.errors.UniqueViolation as exc:
            raise DuplicateKey(str(exc)) from exc
        except psycopg.Error as exc:
            self._fail(exc, table)

    def update_many(self, table: str, columns: Sequence[str], rows: Sequence[r.Row]) -> int:
        """COPY into a temporary table and one ``UPDATE … FROM`` it, or a pipelined ``executemany`` for a few."""
        import psycopg

        key = columns[0]
        try:
            if len(rows) < BULK_ROWS_MIN:
                assignments = ", ".join(f"{column} = %s" for column in columns[1:-1])
                sql = f"UPDATE {table} SET {assignments}, version = version + 1 WHERE {key} = %s AND version = %s"
                cursor = self._c.cursor()
                cursor.executemany(sql, [(*row[1:-1], row[0], row[-1]) for row in rows])
                return cursor.rowcount
            temporary = f"carteira_write_{table}"
            names = ", ".join(columns)
            if temporary not in self._temporary:
                self._c.execute(
                    f"CREATE TEMPORARY TABLE IF NOT EXISTS {temporary} ON COMMIT DROP "
                    f"AS SELECT {names} FROM {table} WITH NO DATA"
                )
                self._temporary.add(temporary)
            self._c.execute(f"TRUNCATE {temporary}")
            self._copy(temporary, columns, rows)
            self._c.execute(f"ANALYZE {temporary}")
            assignments = ", ".join(f"{column} = s.{column}" for column in columns[1:-1])
            return self._c.execute(
                f"UPDATE {table} AS t SET {assignments}, version = s.version + 1 "
                f"FROM {temporary} AS s WHERE t.{key} = s.{key} AND t.version = s.version"
            ).rowcount
        except psycopg.Error as exc:
            self._fail(exc, table)

    def savepoint(self) -> None:
        """``SAVEPOINT carteira_write``."""
        self.execute("SAVEPOINT carteira_write", ())

    def rollback_to_savepoint(self) -> None:
        """``ROLLBACK TO SAVEPOINT carteira_write``; temporary tables made since are gone too."""
        self._temporary = set()
        self.execute("ROLLBACK TO SAVEPOINT carteira_write", ())

    def release_savepoint(self) -> None:
        """``RELEASE SAVEPOINT carteira_write``."""
        self.execute("RELEASE SAVEPOINT carteira_write", ())


class PostgresStore:
    """The portfolio in a PostgreSQL database, through a pool of connections; call :meth:`migrate` once first.

    Args:
        dsn: a libpq connection string or URL (``postgresql://user@host:5432/db``). Its password
            is never shown in a repr or an error.
        schema: the schema to keep the tables in (created by ``migrate``); ``None`` uses the
            server's ``search_path`` (normally ``public``).
        min_size: connections the pool keeps open.
        max_size: the most connections the pool opens (one per concurrent unit of work).
        timeout_s: how long to wait for the server to answer a connection, or for a free connection.

    Raises:
        InvalidInput: ``schema`` is not a plain identifier.
        StoreUnavailable: (from ``migrate`` and ``unit_of_work``) the server cannot be reached or
            refuses the connection, or the ``[postgres]`` extra is not installed.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str | None = None,
        min_size: int = 1,
        max_size: int = 8,
        timeout_s: float = 10.0,
    ) -> None:
        if schema is not None and not _SCHEMA_NAME.match(schema):
            raise InvalidInput(
                "must be a plain identifier (letters, digits, _; not starting with a digit)",
                field="schema",
                raw=schema,
            )
        self._dsn = dsn
        self._where, self._password = _describe(dsn)
        self._schema = schema
        self._min_size = min_size
        self._max_size = max_size
        self._timeout_s = timeout_s
        self._codec = _codec()
        self._lock = threading.Lock()
        self._pool: ConnectionPool[Any] | None = None
        self._schema_checked = False
        self._types: dict[str, dict[str, str]] = {}

    def __repr__(self) -> str:
        schema = "" if self._schema is None else f", schema={self._schema!r}"
        return f"PostgresStore({self._where!r}{schema})"

    def _scrub(self, text: str) -> str:
        return text.replace(self._password, "***") if self._password else text

    def _translate(self, exc: Exception, table: str = "") -> Exception:
        import psycopg

        if isinstance(exc, psycopg.errors.TransactionRollback):
            # A deadlock or serialization failure: another unit wrote the same rows at the same time.
            return Conflict(
                table or "record",
                "(several)",
                detail=f"the database aborted this unit to resolve a clash with another ({type(exc).__name__})",
            )
        if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
            return StoreUnavailable(
                f"PostgreSQL at {self._where} cannot be used ({self._scrub(str(exc)).strip()}); check that the "
                "server is running and that the DSN's host, port, database and user are right, then retry the unit"
            )
        return exc

    def _open(self) -> ConnectionPool[Any]:
        with self._lock:
            if self._pool is not None:
                return self._pool
            try:
                import psycopg
                from psycopg import sql
                from psycopg_pool import ConnectionPool
            except ImportError as exc:  # pragma: no cover - the extra is installed wherever tests run
                raise StoreUnavailable(
                    "PostgresStore needs psycopg 3 and psycopg_pool: pip install 'carteira[postgres]'"
                ) from exc
            try:
                # One direct connection first: the pool would only say it timed out, this says why.
                psycopg.connect(self._dsn, connect_timeout=max(1, int(self._timeout_s))).close()
            except psycopg.Error as exc:
                # ``from None``: the driver's error keeps the connection's parameters, password included.
                raise self._translate(exc) from None
            schema = self._schema

            def configure(conn: psycopg.Connection[Any]) -> None:
                if schema is not None:
                    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
                    conn.commit()

            self._pool = ConnectionPool(
                self._dsn,
                min_size=self._min_size,
                max_size=self._max_size,
                timeout=self._timeout_s,
                configure=configure,
                kwargs={"connect_timeout": max(1, int(self._timeout_s))},
                open=True,
                name="carteira",
            )
            return self._pool

    def _getconn(self) -> psycopg.Connection[Any]:
        from psycopg_pool import PoolTimeout

        pool = self._open()
        try:
            conn: psycopg.Connection[Any] = pool.getconn()
        except PoolTimeout:
            raise StoreUnavailable(
                f"PostgreSQL at {self._where}: no connection free or reachable within {self._timeout_s} s "
                f"(the pool holds at most {self._max_size}); check the server, or raise max_size"
            ) from None
        return conn

    def _putconn(self, conn: psycopg.Connection[Any]) -> None:
        if self._pool is not None:
            self._pool.putconn(conn)

    def _column_types(self, conn: psycopg.Connection[Any], table: str) -> dict[str, str]:
        types = self._types.get(table)
        if types is None:
            rows = conn.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (table,),
            ).fetchall()
            types = self._types[table] = {str(name): str(kind) for name, kind in rows}
        return types

    def _check_schema(self) -> None:
        if self._schema_checked:
            return
        import psycopg

        conn = self._getconn()
        try:
            exists = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
            found = None
            if exists and exists[0]:
                row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
                found = None if row is None or row[0] is None else int(row[0])
            conn.rollback()
        except psycopg.Error as exc:
            raise self._translate(exc) from None
        finally:
            self._putconn(conn)
        where = f"PostgreSQL at {self._where}" + (f", schema {self._schema}" if self._schema else "")
        check_usable(where, found)
        self._schema_checked = True

    def migrate(self) -> None:
        """Create the schema (and the tables) or upgrade them, in one transaction; safe to call at every start.

        Concurrent calls (several workers starting at once) wait for each other on an advisory lock.

        Raises:
            SchemaVersionError: the database's schema is newer than this library (nothing is written).
            StoreUnavailable: the server cannot be reached.
        """
        import psycopg
        from psycopg import sql

        conn = self._getconn()
        where = f"PostgreSQL at {self._where}" + (f", schema {self._schema}" if self._schema else "")
        try:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            if self._schema is not None:
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self._schema)))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_on DATE NOT NULL)"
            )
            row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
            found = 0 if row is None or row[0] is None else int(row[0])
            if found > SCHEMA_VERSION:
                conn.rollback()
                raise SchemaVersionError(newer_schema_message(where, found), found=found, supported=SCHEMA_VERSION)
            for version, statements in migrations("postgres"):
                if version <= found:
                    continue
                for statement in statements:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version, applied_on) VALUES (%s, current_date)", (version,))
            conn.commit()
        except psycopg.Error as exc:
            conn.rollback()
            raise self._translate(exc) from None
        finally:
            self._putconn(conn)
        self._schema_checked = True

    def unit_of_work(self) -> PostgresUnitOfWork:
        """A new unit of work; it borrows a pooled connection when its ``with`` block is entered."""
        return PostgresUnitOfWork(self)

    def close(self) -> None:
        """Close the pool's connections."""
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
