"""A PostgreSQL schema of its own for one benchmark run: created on entry, dropped with its tables on exit."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

__all__ = ["DSN", "throwaway_schema"]

DSN = os.environ.get("CARTEIRA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
"""The server the benchmarks use: ``$CARTEIRA_TEST_POSTGRES``, by default the test suite's."""


@contextmanager
def throwaway_schema(prefix: str) -> Iterator[str]:
    """The name of a new, empty schema (``<prefix>_<pid>_<random>``), dropped even when the block raises."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(DSN, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {name}")
    try:
        yield name
    finally:
        with psycopg.connect(DSN, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
