"""The ``carteira`` command's test bench: a portfolio with installments, return files, and a runner over a store.

Commands run through click's ``CliRunner`` with a :class:`Wiring` whose clock is fixed. The store is a
SQLite file in ``tmp_path``, and a PostgreSQL schema of its own (given as ``CARTEIRA_STORE``), once those
stores keep return batches (detected, not assumed: another branch adds them); and always over a
``MemoryStore`` handed out by an injected opener, one per location, so that successive commands see
each other's work as they would in one database.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

import attrs
import psycopg
import pytest
from click.testing import CliRunner, Result

from carteira import ChargeTerms, Installment, Money, Portfolio
from carteira.adapters.cli.app import root
from carteira.adapters.cli.wiring import BASE_URL_VARIABLE, SECRET_VARIABLE, Wiring
from carteira.adapters.efi import EfiGateway
from carteira.adapters.storage import MemoryStore, PostgresStore, SqliteStore
from carteira.domain import Contract, Customer, PortfolioSettings, SettlementPolicy, Tolerance
from carteira.domain.operations import OperationStatus
from carteira.ports.storage import Store
from carteira.testing import FixedClock, RecordingNotifier
from carteira.testing.efi_emulator import EfiEmulator, serve
from carteira.testing.return_files import TitleMovement, write_return_file
from tests.support import POSTGRES_DSN, unavailable

TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
DUE = date(2026, 3, 10)  # a Tuesday
TODAY = date(2026, 3, 20)
POLICY = SettlementPolicy(over=Tolerance(amount=Money("0.50")), under=Tolerance(amount=Money("0.50")))
STORE_FILE = "carteira.db"


def paid(number: str, amount: str, *, on: date = DUE, face: str | None = None) -> TitleMovement:
    """A settlement of title ``number`` paying ``amount`` on ``on``."""
    return TitleMovement(bank_title_number=number, paid=Money(amount), due_date=DUE, face_value=Money(face or amount),
                         occurrence_date=on, credit_date=on)  # fmt: skip


def a_file(movements: Sequence[TitleMovement], *, sequence: int = 1) -> bytes:
    """A CNAB 240 (Banco do Brasil) return file with ``movements``."""
    return write_return_file("bb-240", movements, generated_on=TODAY, agreement="123456", file_sequence=sequence)


def installment(ident: str, number: str, *, amount: str = "100.00", customer: str = "c1") -> Installment:
    """An open installment due on :data:`DUE` with bank title number ``number``."""
    return Installment(ident, customer, DUE, Money(amount), TERMS, contract_id=f"k-{customer}",
                       bank_title_number=number, bank_contract="bb-1")  # fmt: skip


def seed(store: Store, *items: Installment, policy: SettlementPolicy = POLICY) -> None:
    """Settings, two customers on bank contracts, and ``items``, as the ERP would have stored them."""
    with store.unit_of_work() as uow:
        uow.settings.put(PortfolioSettings(policy=policy))
        for customer in ("c1", "c2"):
            uow.customers.put(Customer(customer, f"Cliente {customer}"))
            uow.contracts.put(Contract(f"k-{customer}", customer, bank_contract="bb-1"))
        uow.installments.put_many(list(items))
        uow.commit()


def keeps_batches(store: Store) -> bool:
    """Whether ``store`` (migrated here) keeps return batches: SQLite and PostgreSQL do once another branch lands."""
    store.migrate()
    with store.unit_of_work() as uow:
        return hasattr(uow, "return_batches")


def _in_schema(dsn: str, schema: str) -> str:
    """``dsn`` with its search path set to ``schema``, as a user would write it for the command."""
    if "://" in dsn:
        return f"{dsn}{'&' if '?' in dsn else '?'}options=-csearch_path%3D{schema}"
    return f"{dsn} options=-csearch_path={schema}"


@pytest.fixture
def postgres_dsn() -> Iterator[str]:
    """A DSN whose search path is a new, empty schema, dropped afterwards."""
    schema = f"carteira_cli_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(POSTGRES_DSN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL at {POSTGRES_DSN} is not reachable ({str(exc).strip()})")
    with admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            yield _in_schema(POSTGRES_DSN, schema)
        finally:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@attrs.define
class MemoryStores:
    """An opener for :class:`Wiring`: one migrated ``MemoryStore`` per location, kept across commands."""

    stores: dict[str, MemoryStore] = attrs.field(factory=dict)

    def __call__(self, location: str, *, create: bool = False) -> Store:
        if location not in self.stores:
            store = MemoryStore()
            store.migrate()
            self.stores[location] = store
        return self.stores[location]


@attrs.define
class Bench:
    """A folder with a store in it, and a runner of ``carteira`` commands there."""

    folder: Path
    wiring: Wiring
    store: Store
    kind: str
    env: dict[str, str] = attrs.field(factory=lambda: {"COLUMNS": "200"})

    def run(self, *args: str, wiring: Wiring | None = None) -> Result:
        """``carteira ARGS`` in the folder; the result keeps stdout, stderr and the exit code apart."""
        runner = CliRunner(env=self.env)
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(self.folder)
            return runner.invoke(root, list(args), obj=wiring or self.wiring, catch_exceptions=False)

    def write(self, name: str, data: bytes) -> str:
        """Write ``data`` to ``name`` in the folder; the name, as a command takes it."""
        (self.folder / name).write_bytes(data)
        return name

    def get(self, ident: str) -> Installment:
        """The installment ``ident`` as stored now."""
        with self.store.unit_of_work() as uow:
            return uow.installments.get(ident)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "memory"])
def bench(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bench]:
    """A bench on SQLite and PostgreSQL (when they keep batches), and on a MemoryStore through the opener."""
    clock = FixedClock(TODAY)
    if request.param in ("sqlite", "postgres"):
        if request.param == "sqlite":
            store: Store = SqliteStore(tmp_path / STORE_FILE)
            env = {}
        else:
            dsn = request.getfixturevalue("postgres_dsn")
            store, env = PostgresStore(dsn), {"CARTEIRA_STORE": dsn}
        if not keeps_batches(store):
            pytest.skip(f"{request.param} storage of return batches is not on this branch yet (the MemoryStore runs)")
        bench = Bench(tmp_path, Wiring(clock=clock), store, request.param)
        bench.env.update(env)
        yield bench
        store.close()
        return
    stores = MemoryStores()
    yield Bench(tmp_path, Wiring(open_store=stores, clock=clock), stores(STORE_FILE), "memory")


# -- the gateway's operations (``carteira ops``) -----------------------------------------------------

SECRET = "Client_Secret_9f8e7d6c5b4a"
"""The gateway account's client secret: the emulator's, given to the commands through the environment only."""
CLIENT_ID = "Client_Id_0a1b2c3d"


def keeps_operations(store: Store) -> bool:
    """Whether ``store`` (migrated here) keeps the outbox: SQLite and PostgreSQL do once another branch lands."""
    store.migrate()
    with store.unit_of_work() as uow:
        return hasattr(uow, "operations") and hasattr(uow, "gateway_account")


@attrs.define
class OpsBench:
    """A store with the ERP's customers and installments, the emulator on loopback, and a runner of commands."""

    folder: Path
    wiring: Wiring
    store: Store
    emulator: EfiEmulator
    url: str
    notifier: RecordingNotifier
    clock: FixedClock
    outputs: list[str] = attrs.field(factory=list)

    @property
    def env(self) -> dict[str, str | None]:
        """The environment of every run: the secret, the emulator's URL, a wide terminal."""
        return {"COLUMNS": "200", SECRET_VARIABLE: SECRET, BASE_URL_VARIABLE: self.url}

    def run(self, *args: str, env: dict[str, str | None] | None = None) -> Result:
        """``carteira ARGS`` with the secret and the emulator's URL in the environment (unless ``env`` says else)."""
        runner = CliRunner(env={**self.env, **(env or {})})
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(self.folder)
            result = runner.invoke(root, list(args), obj=self.wiring, catch_exceptions=False)
        self.outputs += [result.stdout, result.stderr]
        return result

    def portfolio(self) -> Portfolio:
        """The ERP's own portfolio over the same store and emulator (to write operations the commands then see)."""
        efi = EfiGateway(CLIENT_ID, SECRET, "sandbox", base_url=self.url, today=self.clock.today)
        return Portfolio(self.store, clock=self.clock, gateway=efi)

    def operation(self, ident: str) -> OperationStatus:
        """The status of operation ``ident`` as stored now."""
        with self.store.unit_of_work() as uow:
            return uow.operations.get(ident).status

    def rename(self, customer_id: str, name: str) -> None:
        """The ERP fixes a customer's name."""
        with self.store.unit_of_work() as uow:
            found = uow.customers.get(customer_id)
            uow.customers.put(attrs.evolve(found, name=name))
            uow.commit()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "memory"])
def ops_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpsBench]:
    """An empty store on SQLite and PostgreSQL (when they keep the outbox) and on a MemoryStore through the opener,
    the emulator on loopback; afterwards, no output and no SQLite byte holds the secret."""
    notifier = RecordingNotifier()
    clock = FixedClock(TODAY)
    env: dict[str, str] = {}
    if request.param == "memory":
        stores = MemoryStores()
        store: Store = stores(STORE_FILE)
        wiring = Wiring(open_store=stores, clock=clock, notifier=notifier)
    else:
        if request.param == "sqlite":
            store = SqliteStore(tmp_path / STORE_FILE)
        else:
            dsn = request.getfixturevalue("postgres_dsn")
            store, env = PostgresStore(dsn), {"CARTEIRA_STORE": dsn}
        if not keeps_operations(store):
            store.close()
            pytest.skip(f"{request.param} storage of the outbox is not on this branch yet (the MemoryStore runs)")
        wiring = Wiring(clock=clock, notifier=notifier)
    emulator = EfiEmulator(CLIENT_ID, SECRET, today=TODAY)
    with serve(emulator) as url, pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        bench = OpsBench(tmp_path, wiring, store, emulator, url, notifier, clock)
        yield bench
    store.close()
    assert not any(SECRET in output for output in bench.outputs)
    if request.param == "sqlite":
        assert SECRET.encode() not in (tmp_path / STORE_FILE).read_bytes()
