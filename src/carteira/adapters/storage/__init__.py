"""Storage adapters: :class:`MemoryStore`, :class:`SqliteStore` (the embedded default) and :class:`PostgresStore`.

Each implements :class:`carteira.ports.storage.Store` and passes the contract suite in
:mod:`carteira.testing.contracts.storage`. ``PostgresStore`` needs the ``[postgres]`` extra
(psycopg 3 and psycopg_pool), imported only when a ``PostgresStore`` first connects.
"""

from carteira.adapters.storage.memory import MemoryStore
from carteira.adapters.storage.postgres import PostgresStore
from carteira.adapters.storage.schema import SCHEMA_VERSION
from carteira.adapters.storage.sqlite import SqliteStore

__all__ = ["SCHEMA_VERSION", "MemoryStore", "PostgresStore", "SqliteStore"]
