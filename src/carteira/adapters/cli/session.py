"""One run of the command: where its store is, whether to show tracebacks, and the store it opened.

Commands reach it with :func:`session`; the store (and the gateway, for the commands that send) is
opened on first use (``--help`` opens nothing) and closed when the command ends.
"""

from __future__ import annotations

from datetime import tzinfo

import attrs
import click

from carteira.adapters.cli.wiring import Wiring
from carteira.domain.operations import GatewayAccount
from carteira.portfolio import Portfolio
from carteira.ports.storage import Store

__all__ = ["Session", "session"]


@attrs.define
class Session:
    """The root options of one run (``--store``, ``--debug``) and what was built from them."""

    wiring: Wiring
    location: str
    debug: bool
    _store: Store | None = None

    def store(self, *, create: bool = False) -> Store:
        """The store ``--store`` names, opened once for the run and closed when it ends."""
        if self._store is None:
            self._store = self.wiring.store(self.location, create=create)
            click.get_current_context().find_root().call_on_close(self._store.close)
        return self._store

    def portfolio(self) -> Portfolio:
        """The portfolio over this run's store (without a gateway: reading needs no secret)."""
        return self.wiring.portfolio(self.store())

    def zone(self) -> tzinfo:
        """The time zone the command shows instants in: its clock's (Brasília unless a test fixes another)."""
        zone = self.portfolio().clock.now().tzinfo
        assert zone is not None, "the clock port gives timezone-aware instants"
        return zone

    def sending_portfolio(self, account: GatewayAccount, *, notification_url: str | None) -> Portfolio:
        """The portfolio over this run's store with the gateway of ``account`` (its secret from the environment,
        decision 0603) and ``notification_url`` in what it sends; the gateway is closed when the command ends."""
        store = self.store()
        gateway = self.wiring.open_gateway(account, today=self.wiring.portfolio(store).clock.today)
        close = getattr(gateway, "close", None)
        if callable(close):
            click.get_current_context().find_root().call_on_close(close)
        return self.wiring.portfolio(store, gateway=gateway, notification_url=notification_url)


def session() -> Session:
    """The current run's :class:`Session` (set by the root command)."""
    found = click.get_current_context().find_object(Session)
    assert found is not None, "the root command sets the session before any subcommand runs"
    return found
