"""What the ``carteira`` command runs on: the store a ``--store`` location names, the gateway, and the portfolio.

This is the command's composition root (decision 0600): :func:`open_store` is the one function that
decides which store class a location means, :func:`open_efi_gateway` the one that builds the gateway
from the stored account and the secret in the environment (decision 0603), and :class:`Wiring` is
what tests replace to run the same commands on another store, clock, gateway or notifier. Nothing
here imports click or rich.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Protocol

import attrs

from carteira.adapters.efi import EfiGateway
from carteira.adapters.notifier import LoggingNotifier
from carteira.adapters.storage import PostgresStore, SqliteStore
from carteira.domain.operations import GatewayAccount
from carteira.errors import InvalidInput, StoreUnavailable
from carteira.portfolio import Portfolio
from carteira.ports.clock import Clock
from carteira.ports.gateway import PaymentGateway
from carteira.ports.notifier import Notifier
from carteira.ports.storage import Store

__all__ = [
    "BASE_URL_VARIABLE",
    "DEFAULT_LOCATION",
    "NOTIFICATION_URL_VARIABLE",
    "SECRET_VARIABLE",
    "GatewayOpener",
    "StoreOpener",
    "Wiring",
    "is_postgres_dsn",
    "open_efi_gateway",
    "open_store",
]

DEFAULT_LOCATION = "carteira.db"
"""The store when ``--store`` (and ``CARTEIRA_STORE``) is not given: a SQLite file in the current folder."""

SECRET_VARIABLE = "CARTEIRA_EFI_CLIENT_SECRET"
"""The environment variable holding the gateway account's client secret; the store never holds it (decision 0603)."""

BASE_URL_VARIABLE = "CARTEIRA_EFI_BASE_URL"
"""An optional environment variable pointing the gateway at another host: an emulator on loopback, a proxy."""

NOTIFICATION_URL_VARIABLE = "CARTEIRA_EFI_NOTIFICATION_URL"
"""Where the gateway calls back when a charge changes (``--notification-url``); the ERP's processes give the same."""

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


def open_efi_gateway(
    account: GatewayAccount, *, today: Callable[[], date], environ: Mapping[str, str] | None = None
) -> EfiGateway:
    """The Efí gateway for ``account``, its secret read from :data:`SECRET_VARIABLE` in ``environ`` (the process's).

    :data:`BASE_URL_VARIABLE`, when set, sends every request there instead of Efí's host for the
    account's environment. ``today`` is the command's clock, for the gateway's due-date checks.

    Raises:
        InvalidInput: the secret variable is not set (or empty); the message names the variable, never a value.
    """
    environ = os.environ if environ is None else environ
    secret = environ.get(SECRET_VARIABLE, "")
    if not secret:
        raise InvalidInput(
            "is not set: the commands that send read the gateway account's client secret from this variable "
            "(the store never holds it)",
            field=SECRET_VARIABLE,
            hint="set it in the job's environment, for example from your secrets manager, and run the command again",
        )
    base_url = environ.get(BASE_URL_VARIABLE) or None
    return EfiGateway(account.client_id, secret, account.environment.value, base_url=base_url, today=today)


class GatewayOpener(Protocol):
    """Builds the payment gateway for the stored account; :func:`open_efi_gateway` is the command's own."""

    def __call__(self, account: GatewayAccount, *, today: Callable[[], date]) -> PaymentGateway:
        """The gateway for ``account``; ``today`` is the command's clock."""
        ...


class StoreOpener(Protocol):
    """Opens the store a location names; :func:`open_store` is the command's own."""

    def __call__(self, location: str, *, create: bool = False) -> Store:
        """The store at ``location``; ``create`` allows a new one (``carteira migrate``)."""
        ...


@attrs.frozen
class Wiring:
    """How the command builds its portfolio: the store opener, the clock (``None``: the system clock), the
    gateway opener and the notifier told of failed operations (``None``: a :class:`LoggingNotifier`).

    ``carteira.adapters.cli.app.run(wiring=Wiring(...))`` (or click's ``CliRunner.invoke(..., obj=...)``)
    runs every command over another store opener, for example one that hands out a ``MemoryStore``.
    """

    open_store: StoreOpener = open_store
    clock: Clock | None = None
    open_gateway: GatewayOpener = open_efi_gateway
    notifier: Notifier | None = None

    def store(self, location: str, *, create: bool = False) -> Store:
        """The store at ``location`` (see :func:`open_store`)."""
        return self.open_store(location, create=create)

    def portfolio(
        self, store: Store, *, gateway: PaymentGateway | None = None, notification_url: str | None = None
    ) -> Portfolio:
        """The portfolio over ``store``, with this wiring's clock and the library's default calendar and parser;
        with ``gateway``, also its gateway integration, telling this wiring's notifier of failures and putting
        ``notification_url`` in the charges it sends."""
        if gateway is None:
            return Portfolio(store, clock=self.clock)
        notifier = self.notifier if self.notifier is not None else LoggingNotifier()
        return Portfolio(store, clock=self.clock, gateway=gateway, notifier=notifier, notification_url=notification_url)
