"""What the ``carteira`` command runs on: the store a ``--store`` location names, and the portfolio over it.

This is the command's composition root (decision 0600): :func:`open_store` is the one function that
decides which store class a location means, and :class:`Wiring` is what tests (and later commands)
replace to run the same commands on another store or another clock. Nothing here imports click or rich.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

import attrs

from carteira.adapters.storage import PostgresStore, SqliteStore
from carteira.errors import StoreUnavailable
from carteira.portfolio import Portfolio
from carteira.ports.clock import Clock
from carteira.ports.storage import Store

__all__ = ["DEFAULT_LOCATION", "StoreOpener", "Wiring", "is_postgres_dsn", "open_store"]

DEFAULT_LOCATION = "carteira.db"
"""The store when ``--store`` (and ``CARTEIRA_STORE``) is not given: a SQLite file in the current folder."""

_KEY_VALUE_DSN = re.compile(r"^\s*[A-Za-z_]+\s*=")


def is_postgres_dsn(location: str) -> bool:
    """Whether ``location`` is a PostgreSQL DSN (``postgresql://…``, ``postgres://…`` or libpq's ``key=value``).

    Anything else is a SQLite file path; a file whose name starts like ``key=`` is written ``./key=…``.
    """
    return location.startswith(("postgresql://", "postgres://")) or bool(_KEY_VALUE_DSN.match(location))


def open_store(location: str, *, create: bool = False) -> Store:
    """The store at ``location``: a :class:`PostgresStore` for a DSN, else a :class:`SqliteStore` for a file path.

    The store is not migrated here: the application that owns the database does that (or ``carteira
    migrate``), so that a command never changes a schema as a side effect.

    Raises:
        StoreUnavailable: a SQLite path with no file there, unless ``create`` (a typo must not make a new,
            empty database that a night job then reports as "nothing to do").
        MissingExtra: a DSN without the ``[postgres]`` extra installed.
        InvalidInput: a DSN libpq cannot parse.
    """
    if is_postgres_dsn(location):
        return PostgresStore(location)
    path = Path(location)
    if not create and not path.is_file():
        raise StoreUnavailable(
            f"no carteira database at {location!r}; give --store (or CARTEIRA_STORE) a SQLite file or a "
            "PostgreSQL DSN, or create the file with: carteira --store PATH migrate"
        )
    return SqliteStore(path)


class StoreOpener(Protocol):
    """Opens the store a location names; :func:`open_store` is the command's own."""

    def __call__(self, location: str, *, create: bool = False) -> Store:
        """The store at ``location``; ``create`` allows a new one (``carteira migrate``)."""
        ...


@attrs.frozen
class Wiring:
    """How the command builds its portfolio: the store opener and the clock (``None``: the system clock).

    ``carteira.adapters.cli.cli.main(obj=Wiring(...))`` (or click's ``CliRunner.invoke(..., obj=...)``)
    runs every command over another store opener, for example one that hands out a ``MemoryStore``.
    """

    open_store: StoreOpener = open_store
    clock: Clock | None = None

    def store(self, location: str, *, create: bool = False) -> Store:
        """The store at ``location`` (see :func:`open_store`)."""
        return self.open_store(location, create=create)

    def portfolio(self, store: Store) -> Portfolio:
        """The portfolio over ``store``, with this wiring's clock and the library's default calendar and parser."""
        return Portfolio(store, clock=self.clock)
