"""The use cases run on every store: MemoryStore, SQLite (a file per test) and PostgreSQL (the run's schema)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from carteira.adapters.storage import MemoryStore, PostgresStore, SqliteStore
from carteira.ports.storage import Store
from tests.adapters.storage.postgres_schema import empty, postgres_schema
from tests.support import POSTGRES_DSN

__all__ = ["postgres_schema"]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A new, migrated, empty store of each kind."""
    made: Store
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "sqlite":
        made = SqliteStore(tmp_path / "carteira.db")
    else:
        schema: str = request.getfixturevalue("postgres_schema")
        empty(schema)
        made = PostgresStore(POSTGRES_DSN, schema=schema, max_size=4)
    made.migrate()
    yield made
    made.close()
