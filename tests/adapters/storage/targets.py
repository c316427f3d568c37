"""Where a crash trial's child process keeps its store: a SQLite file, or the run's PostgreSQL schema.

The parent and the child name the store by one string (``where``): a path ending in ``.db`` is SQLite,
anything else a schema on the suite's server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from carteira.adapters.storage import PostgresStore, SqliteStore
from carteira.ports.storage import Store
from tests.adapters.storage.postgres_schema import empty
from tests.support import POSTGRES_DSN


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLite file path, or the run's PostgreSQL schema emptied: what the child is told to open."""
    if request.param == "sqlite":
        yield str(tmp_path / "trial.db")
        return
    schema: str = request.getfixturevalue("postgres_schema")
    empty(schema)
    yield schema


def store_at(where: str, *, application_name: str | None = None) -> Store:
    """The store ``where`` names; ``application_name`` labels PostgreSQL sessions so a parent can watch them."""
    if where.endswith(".db"):
        return SqliteStore(where)
    dsn = POSTGRES_DSN
    if application_name is not None:
        from psycopg.conninfo import make_conninfo

        dsn = make_conninfo(POSTGRES_DSN, application_name=application_name)
    return PostgresStore(dsn, schema=where, max_size=2)
