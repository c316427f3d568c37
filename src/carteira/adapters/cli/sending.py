"""What the commands that talk to the gateway share: the stored account, its secret, the notification URL.

``ops resend``, ``ops drain`` and ``worker`` build the gateway from the account stored by ``ops
configure`` and the secret in ``CARTEIRA_EFI_CLIENT_SECRET`` (decision 0603), and put the same
``--notification-url`` in every charge they send, so that Efí calls the ERP back whichever sent it.
"""

from __future__ import annotations

import click

from carteira.adapters.cli.session import session
from carteira.adapters.cli.wiring import NOTIFICATION_URL_VARIABLE
from carteira.domain.operations import GatewayAccount
from carteira.errors import NotFound, RuleViolation
from carteira.portfolio import Portfolio
from carteira.ports.storage import Store

__all__ = ["notification_url_option", "sending_portfolio", "stored_account"]

notification_url_option = click.option(
    "--notification-url",
    envvar=NOTIFICATION_URL_VARIABLE,
    metavar="URL",
    help=f"Where Efí calls back when a charge changes, put in each billet and carnet sent (also "
    f"{NOTIFICATION_URL_VARIABLE}); give what the ERP's own processes give. None: no callback.",
)
"""The ``--notification-url`` option of every command that sends charges."""


def stored_account(store: Store) -> GatewayAccount:
    """The gateway account stored in ``store``.

    Raises:
        RuleViolation: no account is stored; the message says how to store one.
    """
    with store.unit_of_work() as uow:
        try:
            return uow.gateway_account.get()
        except NotFound:
            raise RuleViolation(
                "no gateway account is configured: store it with carteira ops configure --client-id ID "
                "--environment sandbox|production --agreement ... (see carteira ops configure --help)",
                rule="G1",
                subject="gateway account",
            ) from None


def sending_portfolio(notification_url: str | None) -> Portfolio:
    """The run's portfolio with the gateway of the stored account, its secret from the environment (decision 0603).

    Raises:
        RuleViolation: no account is stored.
        InvalidInput: the secret's variable is not set (the message names the variable, never a value).
    """
    account = stored_account(session().store())
    return session().sending_portfolio(account, notification_url=notification_url)
