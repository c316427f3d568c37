"""A PostgreSQL DSN's password never shows, whatever form it comes in (decision 0308), and the extra is named.

The password is looked for everywhere a user or an operator sees text: ``repr(store)``, the error's
message, the whole printed traceback (so a chained driver error would be caught too), and every log
record any logger wrote meanwhile (psycopg's and psycopg_pool's included).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import traceback
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from carteira.adapters.storage import PostgresStore
from carteira.adapters.storage.postgres import DriverError
from carteira.domain import ChargeTerms, Installment, Money
from carteira.errors import InvalidInput, StoreUnavailable
from tests.adapters.storage.postgres_schema import empty, postgres_schema
from tests.support import POSTGRES_DSN, ROOT

__all__ = ["postgres_schema"]

SECRET = "s3cret-Pa55"
QUOTED_SECRET = "it's a s3cret"  # spaces and a quote: written quoted and escaped in key=value form

# Nothing listens on port 1: every one of these fails to connect, at once.
UNREACHABLE = {
    "url user:password": f"postgresql://carteira:{SECRET}@127.0.0.1:1/test",
    "key=value": f"host=127.0.0.1 port=1 user=carteira password={SECRET} dbname=test",
    "url query": f"postgresql://carteira@127.0.0.1:1/test?password={SECRET}&connect_timeout=2",
    "key=value, spaced and quoted": "host=127.0.0.1 port = 1 user=carteira password = 'it\\'s a s3cret' dbname=test",
    "url, percent-encoded": "postgresql://carteira:it%27s%20a%20s3cret@127.0.0.1:1/test",
}


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> Callable[[], str]:
    """All the text every logger wrote during the test, tracebacks included."""
    caplog.set_level(logging.DEBUG)
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return lambda: "\n".join(formatter.format(record) for record in caplog.records)


def _seen(error: BaseException) -> str:
    """What a user sees of ``error``: its message and its whole printed traceback, causes and contexts included."""
    return str(error) + "\n" + "".join(traceback.format_exception(error))


def _secrets_in(text: str) -> list[str]:
    return [secret for secret in (SECRET, "s3cret", "it%27s") if secret in text]


@pytest.mark.parametrize("dsn", UNREACHABLE.values(), ids=UNREACHABLE.keys())
def test_a_dsn_that_does_not_connect_never_shows_its_password(dsn: str, everything_logged: Callable[[], str]) -> None:
    store = PostgresStore(dsn, timeout_s=2)
    assert _secrets_in(repr(store)) == []
    assert "password=***" in repr(store)
    assert "host=127.0.0.1 port=1 dbname=test user=carteira" in repr(store)
    with pytest.raises(StoreUnavailable) as migrating:
        store.migrate()
    with pytest.raises(StoreUnavailable) as entering, store.unit_of_work():
        pass
    for raised in (migrating.value, entering.value):
        assert "Connection refused" in str(raised)  # the driver's reason is kept, scrubbed
        assert "check that the server is running" in str(raised)
        # The cause is a scrubbed copy of the driver's error (decision 0348), never psycopg's own.
        assert isinstance(raised.__cause__, DriverError)
        assert "Connection refused" in str(raised.__cause__)
        assert _secrets_in(_seen(raised)) == []
    assert _secrets_in(everything_logged()) == []


@pytest.mark.postgres
def test_a_database_that_does_not_exist_is_named_without_the_password(everything_logged: Callable[[], str]) -> None:
    store = PostgresStore(make_conninfo(POSTGRES_DSN, dbname="carteira_no_such_database", password=SECRET))
    with pytest.raises(StoreUnavailable, match="carteira_no_such_database") as raised:
        store.migrate()
    assert _secrets_in(_seen(raised.value)) == []
    assert _secrets_in(everything_logged()) == []


@pytest.mark.postgres
def test_a_connection_lost_in_a_unit_is_reported_without_the_password(
    postgres_schema: str, everything_logged: Callable[[], str]
) -> None:
    # The test server trusts local users, so the password is accepted and ignored: it is only there to leak.
    empty(postgres_schema)
    store = PostgresStore(make_conninfo(POSTGRES_DSN, password=SECRET), schema=postgres_schema, max_size=2)
    terms = ChargeTerms(Decimal("0.02"), Decimal("0.01"))
    try:
        store.migrate()
        with store.unit_of_work() as uow:
            uow.installments.put(Installment("i1", "c1", date(2025, 3, 10), Money("10.00"), terms))
            backend = uow._c.info.backend_pid
            with psycopg.connect(POSTGRES_DSN, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
            with pytest.raises(StoreUnavailable, match="retry the unit") as raised:
                uow.installments.get("i1")
            with pytest.raises(StoreUnavailable):
                uow.commit()  # the unit is spoiled: nothing of it is kept
        assert isinstance(raised.value.__cause__, DriverError)
        assert _secrets_in(_seen(raised.value)) == []
        with store.unit_of_work() as uow:
            assert uow.installments.get_many(["i1"]) == {}
    finally:
        store.close()
    assert _secrets_in(everything_logged()) == []


@pytest.mark.parametrize(
    "dsn",
    [
        f"host=127.0.0.1 user=carteira password=two words{SECRET}",  # libpq quotes the piece after the blank
        f"host=127.0.0.1 password='{SECRET}",  # never closed
        f"postgresql://carteira:{SECRET}@127.0.0.1/test?passwd={SECRET}",  # libpq quotes the unknown parameter
        f"postgresql://carteira:{SECRET}%zz@127.0.0.1/test",  # libpq quotes the bad escape
    ],
    ids=["a blank in the password", "unterminated quote", "unknown url parameter", "bad percent escape"],
)
def test_a_dsn_libpq_cannot_read_is_refused_without_the_piece_it_quotes(dsn: str) -> None:
    with pytest.raises(InvalidInput, match="is not a PostgreSQL connection string") as raised:
        PostgresStore(dsn)
    assert raised.value.field == "dsn"
    assert _secrets_in(_seen(raised.value)) == []


def test_a_dsn_that_is_not_a_string_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="DSN as a str"):
        PostgresStore(b"postgresql://localhost/test")  # type: ignore[arg-type]


WITHOUT_THE_EXTRA = """
import sys
for name in sys.argv[1:]:
    sys.modules[name] = None  # an import of it raises ImportError, as when it is not installed
import carteira
import carteira.adapters.storage as storage
from carteira.errors import CarteiraError, MissingExtra
try:
    storage.PostgresStore("postgresql://carteira:pw@127.0.0.1/test")
except MissingExtra as exc:
    print(exc.feature, exc.extra, isinstance(exc, ImportError), isinstance(exc, CarteiraError), exc, sep="|")
"""


@pytest.mark.parametrize("missing", [["psycopg"], ["psycopg_pool"], ["psycopg", "psycopg_pool"]])
def test_without_the_postgres_extra_the_store_names_it_and_the_package_still_imports(missing: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_THE_EXTRA, *missing], cwd=ROOT, capture_output=True, text=True, check=True
    )
    feature, extra, is_import_error, is_carteira_error, message = done.stdout.strip().split("|")
    assert (feature, extra, is_import_error, is_carteira_error) == ("PostgresStore", "postgres", "True", "True")
    assert "pip install 'carteira[postgres]'" in message
