"""PostgresStore: the engine for more than one process or machine, through psycopg 3 and a psycopg_pool pool.

psycopg is imported when a store is made, so ``carteira`` (and this module) imports without the
``[postgres]`` extra; making a store without it raises :class:`~carteira.errors.MissingExtra`. Units
run at READ COMMITTED; the version rule's ``UPDATE … WHERE version``
waits for a concurrent unit that holds the same row and then sees its outcome, so of two units
that write the same record one commits and the other gets :class:`~carteira.errors.Conflict`.

Bulk paths follow ``reference/storage.md``: reads by key lists use ``= ANY(%s)``; inserts of many
rows use ``COPY … FROM STDIN (FORMAT BINARY)``; updates of many rows COPY into a temporary table
and run one ``UPDATE … FROM`` it. The ``SAVEPOINT`` and ``RELEASE`` around each write travel with
the next statement, in one pipeline, rather than costing a round trip each (decision 0715).

The DSN is parsed by psycopg's own conninfo parser (URL, key=value, a password in the URL's query:
whatever libpq accepts); a repr or a message shows it rebuilt with every password masked, and
driver messages are scrubbed of the passwords before they are re-worded (decision 0308).
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote

from carteira.adapters.storage import rows as r
from carteira.adapters.storage.columns import LenientRows, Unholdable, UnreadableValue
from carteira.adapters.storage.schema import SCHEMA_VERSION, check_usable, migrations, newer_schema_message
from carteira.adapters.storage.sql import DuplicateKey, SqlUnitOfWork
from carteira.errors import (
    CarteiraError,
    Conflict,
    InvalidInput,
    InvalidType,
    MissingExtra,
    SchemaVersionError,
    StoreUnavailable,
)

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

__all__ = ["DriverError", "PostgresStore", "PostgresUnitOfWork"]

# Below this many rows a pipelined executemany beats setting up a COPY (and a temporary table).
BULK_ROWS_MIN = 64

_MIGRATION_LOCK = zlib.crc32(b"carteira.migrate")
_SECRET_PARAMETERS = ("password", "sslpassword")  # libpq's parameters whose values are secrets
_SHOWN_FIRST = ("host", "hostaddr", "port", "dbname", "user")  # the rest follow in the DSN's order
# libpq's parse errors quote a piece of the DSN ('missing "=" after "…"'), which can be part of a
# password; only the quoted separators it names ("=", "]") are kept.
_QUOTED = re.compile(r'"[^"]*"')
_SEPARATORS = frozenset({'"="', '"]"'})
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_ARRAY_TYPES = {date: "date", int: "bigint", str: "text", Decimal: "numeric"}


def _any(values: Sequence[Any]) -> str:
    """``= ANY(?)``, a list of whole numbers cast to ``integer[]``, the type of the keys it matches (``line``).

    psycopg sends small numbers as ``smallint[]``; against an ``integer`` key column PostgreSQL then
    filters every row of the batch instead of searching the primary key by (batch id, line): 36 ms
    against 4 ms for 500 lines of a 20,000-record batch whose statistics are not gathered yet.
    """
    return "= ANY(?::integer[])" if values and isinstance(values[0], int) else "= ANY(?)"


def _identity(value: Any) -> Any:
    return value


def _in_utc(value: datetime) -> datetime:
    # TIMESTAMPTZ keeps the instant, not the zone; psycopg reads it in the session's TimeZone. Both ways
    # in UTC, the value read is the same whatever the server's setting, as on SQLite.
    return value.astimezone(UTC)


def _codec() -> r.Codec:
    return r.Codec(
        date_out=_identity,
        date_in=_identity,
        instant_out=_in_utc,
        instant_in=_in_utc,
        rate_out=_identity,
        rate_in=_identity,
        flag_out=_identity,
        flag_in=_identity,
    )


def _import_driver() -> None:
    """Import psycopg and psycopg_pool now, or say which extra to install."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        raise MissingExtra("PostgresStore", "postgres") from exc


def _read_dsn(dsn: str) -> tuple[str, tuple[str, ...]]:
    """``dsn`` rebuilt as key=value with its passwords masked (safe to show), and the secrets to scrub.

    Raises:
        InvalidInput: libpq cannot parse ``dsn``; the message keeps libpq's reason without the piece
            of the DSN it quotes.
    """
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        parameters = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        reason = _QUOTED.sub(lambda quoted: quoted[0] if quoted[0] in _SEPARATORS else '"…"', str(exc)).strip()
        raise InvalidInput(
            f"is not a PostgreSQL connection string ({reason})",
            field="dsn",
            hint="write it as a URL (postgresql://user@host:5432/db) or as key=value pairs (host=… dbname=…)",
        ) from None
    secrets = tuple(str(parameters[name]) for name in _SECRET_PARAMETERS if parameters.get(name))
    shown = {name: parameters[name] for name in _SHOWN_FIRST if name in parameters}
    shown.update(parameters)
    for name in _SECRET_PARAMETERS:
        if name in shown:
            shown[name] = "***"
    return make_conninfo("", **shown), secrets


def _forms(secret: str) -> set[str]:
    """The ways ``secret`` can appear in text: as it is, and percent-encoded as in a URL."""
    return {secret, quote(secret, safe=""), quote(secret)}


class DriverError(Exception):
    """A copy of a driver's error chained to ``StoreUnavailable``: its class name and message, passwords scrubbed.

    psycopg's own error may quote the connection's parameters; this one shows what it said without them.
    """


def _lenient_loaders() -> dict[str, type[Any]]:
    """Loaders of ``date`` and ``timestamptz`` that read a value Python cannot hold as an ``UnreadableValue``."""
    import psycopg
    from psycopg.types.datetime import DateLoader, TimestamptzLoader

    def lenient(base: type[Any], what: str) -> type[Any]:
        class Lenient(base):  # type: ignore[misc]
            def load(self, data: Any) -> Any:
                try:
                    return super().load(data)
                except psycopg.DataError as exc:
                    return UnreadableValue(bytes(data).decode(), f"is {what} Python cannot hold ({exc})")

        return Lenient

    return {"date": lenient(DateLoader, "a date"), "timestamptz": lenient(TimestamptzLoader, "an instant")}


class PostgresUnitOfWork(SqlUnitOfWork):
    """A unit of work on one pooled connection, in one transaction."""

    lock_for_unit = " FOR UPDATE SKIP LOCKED"
    """Workers share the outbox: a unit's ``due`` locks what it returns, another unit's skips it."""

    def __init__(self, store: PostgresStore) -> None:
        super().__init__()
        self._store = store
        self.codec = store._codec
        self._conn: psycopg.Connection[Any] | None = None
        self._temporary: set[str] = set()
        self._owed: list[str] = []
        """SAVEPOINT and RELEASE statements not sent yet: they go with the next statement (see :meth:`_send`)."""

    @property
    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            self._conn = self._store._getconn()
        return self._conn

    @property
    def _c(self) -> psycopg.Connection[Any]:
        """The connection, once the savepoint statements owed were sent (before a COPY or a temporary table)."""
        conn = self._connection
        if self._owed:
            with conn.pipeline():
                self._pay_owed(conn)
        return conn

    def _pay_owed(self, conn: psycopg.Connection[Any]) -> None:
        """Queue the savepoint statements owed, in a pipeline the caller opened; they are owed no more."""
        owed, self._owed = self._owed, []
        for statement in owed:
            conn.execute(statement)

    def _send(self, sql: str, params: Sequence[Any]) -> psycopg.Cursor[Any]:
        """Run one statement, the savepoint statements owed before it in the same round trip (a pipeline).

        Every write runs inside a savepoint (``SqlUnitOfWork.writing``); sent on their own, SAVEPOINT and
        RELEASE would cost two round trips a write, more than the write itself (decision 0715).
        """
        conn = self._connection
        if not self._owed:
            return conn.execute(sql, params)
        with conn.pipeline():
            self._pay_owed(conn)
            return conn.execute(sql, params)

    def _send_rows(self, sql: str, rows: Sequence[Sequence[Any]]) -> psycopg.Cursor[Any]:
        """Run ``sql`` once per row, pipelined with the savepoint statements owed (one row: a plain :meth:`_send`,
        which spares the pipeline's own cost)."""
        if len(rows) == 1:
            return self._send(sql, rows[0])
        conn = self._connection
        cursor = conn.cursor()
        with conn.pipeline():
            self._pay_owed(conn)
            cursor.executemany(sql, rows)
        return cursor

    def _fail(self, exc: Exception, table: str = "") -> NoReturn:
        import psycopg

        if isinstance(exc, psycopg.errors.InFailedSqlTransaction) and self._spoiled is not None:
            # A statement after the one that failed the transaction: the caller hears why it failed.
            raise self._spoiled
        translated, cause = self._store._translate(exc, table)
        raise self.spoil(translated) from cause

    def begin(self) -> None:
        """Check the schema once, then borrow a connection (its transaction begins with the first statement)."""
        self._store._check_schema()
        _ = self._connection
        self._temporary = set()
        self._owed = []

    def end(self, commit: bool) -> None:
        """COMMIT or ROLLBACK; a ROLLBACK on a connection that is lost has nothing to undo, and says nothing."""
        import psycopg

        if self._conn is None:
            return
        self._owed = []  # COMMIT and ROLLBACK end every savepoint
        try:
            if commit:
                self._conn.commit()
            else:
                self._conn.rollback()
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            # The server drops the transaction of a lost connection: raising here, at the end of the
            # with block, would only hide the error that ended the unit (the pool discards the connection).
            if commit:
                self._fail(exc)
        except psycopg.Error as exc:
            self._fail(exc)
        self._temporary = set()

    def release(self) -> None:
        """Give the connection back to the pool."""
        self._owed = []
        if self._conn is not None:
            self._store._putconn(self._conn)
            self._conn = None

    def fetch(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        """The rows of one query; a parameter psycopg cannot send is :class:`~.columns.Unholdable` (nothing ran)."""
        import psycopg

        try:
            cursor = self._send(sql.replace("?", "%s"), params)
        except UnicodeEncodeError as exc:
            raise Unholdable(f"{type(exc).__name__}: {exc}") from exc
        except psycopg.Error as exc:
            if isinstance(exc, psycopg.DataError) and exc.sqlstate is None:  # refused by psycopg: NUL in text
                raise Unholdable(f"{type(exc).__name__}: {exc}") from exc
            self._fail(exc)
        try:
            return cursor.fetchall()
        except psycopg.DataError:
            # A stored value Python cannot hold (a date 'infinity', a year beyond 9999): read it again so that
            # the mappers refuse it by its column.
            return self._fetch_leniently(sql, params)
        except psycopg.Error as exc:
            self._fail(exc)

    def _fetch_leniently(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        """The query again, with dates and instants Python cannot hold read as :class:`~.columns.UnreadableValue`."""
        import psycopg

        cursor = self._c.cursor()
        for name, loader in _lenient_loaders().items():
            cursor.adapters.register_loader(name, loader)
        try:
            return LenientRows(cursor.execute(sql.replace("?", "%s"), params).fetchall())
        except psycopg.Error as exc:
            self._fail(exc)

    def fetch_in(self, sql: str, values: Sequence[Any], params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        """One query: ``params``, then ``= ANY(%s)`` over the whole list (an array needs no chunks)."""
        return self.fetch(sql.replace("{IN}", _any(values)), [*params, list(values)])

    def execute_in(self, sql: str, params: Sequence[Any], values: Sequence[Any]) -> int:
        """``execute`` with ``params`` then ``= ANY(%s)`` over the whole list for ``{IN}``."""
        return self.execute(sql.replace("{IN}", _any(values)), [*params, list(values)])

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
            return self._send(sql.replace("?", "%s"), params).rowcount
        except UnicodeEncodeError as exc:
            raise Unholdable(f"{type(exc).__name__}: {exc}") from exc
        except psycopg.Error as exc:
            if isinstance(exc, psycopg.DataError) and exc.sqlstate is None:
                raise Unholdable(f"{type(exc).__name__}: {exc}") from exc
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
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
                self._send_rows(sql, rows)
        except psycopg.errors.UniqueViolation as exc:
            raise DuplicateKey(str(exc)) from exc
        except (UnicodeEncodeError, OverflowError, psycopg.DataError) as exc:
            # A value of the rows (psycopg or the server refused it); the caller names it and undoes the write.
            raise Unholdable(f"{type(exc).__name__}: {exc}") from exc
        except psycopg.Error as exc:
            self._fail(exc, table)

    def update_many(self, table: str, columns: Sequence[str], rows: Sequence[r.Row], keys: int = 1) -> int:
        """COPY into a temporary table and one ``UPDATE … FROM`` it, or a pipelined ``executemany`` for a few."""
        import psycopg

        try:
            if len(rows) < BULK_ROWS_MIN:
                sets = ", ".join([*(f"{column} = %s" for column in columns[keys:-1]), "version = version + 1"])
                match = " AND ".join(f"{column} = %s" for column in columns[:keys])
                sql = f"UPDATE {table} SET {sets} WHERE {match} AND version = %s"
                return self._send_rows(sql, [(*row[keys:-1], *row[:keys], row[-1]) for row in rows]).rowcount
            temporary = f"carteira_write_{table}"
            if temporary not in self._temporary:
                # Every column of the table: an update may set any of them (only those that changed).
                self._c.execute(
                    f"CREATE TEMPORARY TABLE IF NOT EXISTS {temporary} ON COMMIT DROP "
                    f"AS SELECT * FROM {table} WITH NO DATA"
                )
                self._temporary.add(temporary)
            self._c.execute(f"TRUNCATE {temporary}")
            self._copy(temporary, columns, rows)
            # The planner needs the row count and the keys' statistics to join by the key; the other columns'
            # cost 3-4x as much to gather (10,000 records: 9.6 ms against 2.6 ms) and nothing reads them.
            self._c.execute(f"ANALYZE {temporary} ({', '.join(columns[:keys])})")
            sets = ", ".join([*(f"{column} = s.{column}" for column in columns[keys:-1]), "version = s.version + 1"])
            match = " AND ".join(f"t.{column} = s.{column}" for column in columns[:keys])
            return self._c.execute(
                f"UPDATE {table} AS t SET {sets} FROM {temporary} AS s WHERE {match} AND t.version = s.version"
            ).rowcount
        except (UnicodeEncodeError, OverflowError, psycopg.DataError) as exc:
            raise Unholdable(f"{type(exc).__name__}: {exc}") from exc
        except psycopg.Error as exc:
            self._fail(exc, table)

    def savepoint(self) -> None:
        """``SAVEPOINT carteira_write``, sent with the next statement."""
        self._owed.append("SAVEPOINT carteira_write")

    def rollback_to_savepoint(self) -> None:
        """``ROLLBACK TO SAVEPOINT carteira_write``; temporary tables made since are gone too. Nothing is sent when
        no statement ran since the savepoint (it was not sent either)."""
        self._temporary = set()
        if self._owed and self._owed[-1].startswith("SAVEPOINT"):
            return
        self.execute("ROLLBACK TO SAVEPOINT carteira_write", ())

    def release_savepoint(self) -> None:
        """``RELEASE SAVEPOINT carteira_write``, sent with the next statement (or never, if the savepoint was not)."""
        if self._owed and self._owed[-1].startswith("SAVEPOINT"):
            self._owed.pop()
        else:
            self._owed.append("RELEASE SAVEPOINT carteira_write")


class PostgresStore:
    """The portfolio in a PostgreSQL database, through a pool of connections; call :meth:`migrate` once first.

    Args:
        dsn: a libpq connection string, key=value (``host=db port=5432 dbname=erp user=app``) or a
            URL (``postgresql://user@host:5432/db``). A repr or an error shows it as key=value with
            every password as ``***``, whatever form the password came in.
        schema: the schema to keep the tables in (created by ``migrate``); ``None`` uses the
            server's ``search_path`` (normally ``public``).
        min_size: connections the pool keeps open.
        max_size: the most connections the pool opens (one per concurrent unit of work).
        timeout_s: how long to wait for the server to answer a connection, or for a free connection.

    Raises:
        MissingExtra: the ``[postgres]`` extra (psycopg 3 and psycopg_pool) is not installed.
        InvalidInput: ``dsn`` is not a connection string libpq can read, or ``schema`` is not a
            plain identifier.
        StoreUnavailable: (from ``migrate`` and ``unit_of_work``) the server cannot be reached or
            refuses the connection.
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
        if not isinstance(dsn, str):
            raise InvalidType(f"PostgresStore takes the DSN as a str, not {type(dsn).__name__}", field="dsn")
        _import_driver()
        if schema is not None and not _SCHEMA_NAME.match(schema):
            raise InvalidInput(
                "must be a plain identifier (letters, digits, _; not starting with a digit)",
                field="schema",
                raw=schema,
            )
        self._dsn = dsn
        self._where, secrets = _read_dsn(dsn)
        # Longest first, so a password that contains another one is scrubbed whole.
        self._secrets = sorted({form for secret in secrets for form in _forms(secret)}, key=len, reverse=True)
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
        """``text`` (a driver's message) without any of the DSN's passwords."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _translate(self, exc: Exception, table: str = "") -> tuple[CarteiraError, BaseException]:
        """The carteira error for a driver's ``exc`` (decision 0348), and the cause to chain to it.

        A ``StoreUnavailable`` chains a :class:`DriverError`, the driver's class and message with every
        password scrubbed (decision 0308): the driver's own error may quote the DSN. The others chain ``exc``,
        a server's answer to a statement, which never holds the DSN.
        """
        import psycopg

        where = table or "a row"
        if isinstance(exc, psycopg.errors.TransactionRollback):
            # A deadlock or serialization failure: another unit wrote the same rows at the same time.
            return Conflict(
                table or "record",
                "(several)",
                detail=f"the database aborted this unit to resolve a clash with another ({type(exc).__name__})",
            ), exc
        message = self._scrub(str(exc)).strip()
        if isinstance(exc, psycopg.IntegrityError):
            column = getattr(exc.diag, "column_name", None) or table or "row"
            return InvalidInput(f"the database refused {where}: {message}", field=column, source="database"), exc
        if isinstance(exc, psycopg.DataError):
            return InvalidInput(f"the database refused a value of {where}: {message}", field=table or "value",
                                source="database"), exc  # fmt: skip
        if isinstance(exc, (psycopg.errors.DatatypeMismatch, psycopg.errors.UndefinedFunction)):
            return InvalidType(f"a value of the wrong type for {where}: {message}", field=table or "value"), exc
        copy = DriverError(f"{type(exc).__name__}: {message}")
        if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
            return StoreUnavailable(
                f"PostgreSQL at {self._where} cannot be used ({type(exc).__name__}: {message}); "
                "check that the server is running and that the DSN's host, port, database and user are right, "
                "then retry the unit"
            ), copy
        return StoreUnavailable(
            f"PostgreSQL at {self._where} cannot be used ({type(exc).__name__}: {message}); check that the store "
            "was migrated (store.migrate()) and that the DSN's user may read and write its tables"
        ), copy

    def _open(self) -> ConnectionPool[Any]:
        with self._lock:
            if self._pool is not None:
                return self._pool
            import psycopg
            from psycopg import sql
            from psycopg_pool import ConnectionPool

            try:
                # One direct connection first: the pool would only say it timed out, this says why.
                psycopg.connect(self._dsn, connect_timeout=max(1, int(self._timeout_s))).close()
            except psycopg.Error as exc:
                # The driver's error keeps the connection's parameters, password included: a scrubbed copy is chained.
                error, cause = self._translate(exc)
                raise error from cause
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
            error, cause = self._translate(exc)
            raise error from cause
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
            error, cause = self._translate(exc)
            raise error from cause
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
