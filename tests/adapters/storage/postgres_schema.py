"""A PostgreSQL schema of its own for each test run: created at the start, dropped at the end."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest

from tests.support import POSTGRES_DSN, unavailable

TABLES = (
    "customers, contracts, installments, settlements, credit_letters, anticipations, "
    "anticipated_installments, observations, portfolio_settings, return_batches, batch_records, "
    "batch_record_links, batch_record_settlements, gateway_account, operations, operation_documents, gateway_charges, "
    "notifications, seen_events, postings"
)


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(POSTGRES_DSN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL at {POSTGRES_DSN} is not reachable ({str(exc).strip()})")


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """The name of a new schema for this run (``carteira_test_<pid>_<random>``), dropped afterwards."""
    name = f"carteira_test_{os.getpid()}_{secrets.token_hex(4)}"
    with _admin() as admin:
        admin.execute(f"CREATE SCHEMA {name}")
    try:
        yield name
    finally:
        with _admin() as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def empty(schema: str) -> None:
    """Delete every row of carteira's tables in ``schema`` (when they exist) and drop its schema_version."""
    with _admin() as admin:
        exists = admin.execute("SELECT to_regclass(%s)", (f"{schema}.installments",)).fetchone()
        if exists and exists[0]:
            admin.execute(f"SET search_path TO {schema}")
            admin.execute(f"TRUNCATE {TABLES} RESTART IDENTITY")
