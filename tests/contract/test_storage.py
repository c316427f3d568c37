"""The storage contract (carteira.testing.contracts.storage) over MemoryStore, SqliteStore and PostgresStore."""

from __future__ import annotations

from pathlib import Path

import pytest

from carteira.adapters.storage import MemoryStore, PostgresStore, SqliteStore
from carteira.testing.contracts.storage import StorageContract
from tests.adapters.storage.postgres_schema import empty, postgres_schema
from tests.support import POSTGRES_DSN

__all__ = ["postgres_schema"]


class TestMemoryStore(StorageContract):
    def make_store(self) -> MemoryStore:
        return MemoryStore()


class TestSqliteStore(StorageContract):
    interleaved_units = False

    @pytest.fixture(autouse=True)
    def _folder(self, tmp_path: Path) -> None:
        self.folder = tmp_path
        self.made = 0

    def make_store(self) -> SqliteStore:
        self.made += 1
        return SqliteStore(self.folder / f"store-{self.made}.db")


@pytest.mark.postgres
class TestPostgresStore(StorageContract):
    @pytest.fixture(autouse=True)
    def _schema(self, postgres_schema: str) -> None:
        self.schema = postgres_schema

    def make_store(self) -> PostgresStore:
        empty(self.schema)
        return PostgresStore(POSTGRES_DSN, schema=self.schema, max_size=4)
