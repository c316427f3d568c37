"""``carteira ops``: the gateway's operations log (SPEC G8-G10) and its account (G1) from the command line.

``list`` and ``show`` are the panel: they read the store and need no secret. ``resend`` (G9) and
``drain`` send, so they build the gateway from the stored account and the secret in
``CARTEIRA_EFI_CLIENT_SECRET`` (decision 0603). ``configure`` and ``account`` store and show the
account. What the gateway refuses is an outcome on its operation, printed, not a failure of the
command; ``--json`` prints one JSON document instead (decision 0604).
"""

from __future__ import annotations

import os
from datetime import datetime
from datetime import time as time_of_day
from typing import Any

import attrs
import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from carteira.adapters.cli.exit_codes import ExitCode
from carteira.adapters.cli.json_output import account_json, dumps, operation_json, report_json
from carteira.adapters.cli.options import ISO_DATE, JSON
from carteira.adapters.cli.render import account_lines, operation_lines, operations_table, report_line, table_console
from carteira.adapters.cli.sending import notification_url_option, sending_portfolio, stored_account
from carteira.adapters.cli.session import session
from carteira.adapters.cli.stopping import nap, stop_on_signals
from carteira.adapters.cli.wiring import SECRET_VARIABLE
from carteira.domain.money import Money
from carteira.domain.operations import (
    WALLET_BANK_CODE,
    Environment,
    GatewayAccount,
    Operation,
    OperationFilter,
    OperationKind,
    OperationStatus,
)
from carteira.errors import InvalidInput, NotFound
from carteira.ports.clock import Clock
from carteira.ports.storage import Store
from carteira.services.gateway import GatewayIntegration, events_of
from carteira.services.outbox import DrainReport

__all__ = ["ops"]

LIST_LIMIT = 100
"""Rows ``ops list`` prints unless told otherwise: the newest, as the panel shows them."""
FOLLOW_ROUND = 500
"""Operations one round of ``drain --follow`` handles (unless ``--limit``) before it checks for a stop signal."""
FOLLOW_IDLE_S = 10.0
"""The longest ``drain --follow`` sleeps: the ERP may write an operation for a worker at any moment."""
_FOLLOW_FLOOR_S = 1.0
"""The shortest sleep after a round that left something due but could not send it (waiting for its document)."""


def _amount(ctx: click.Context, param: click.Parameter, value: str | None) -> Money | None:
    """An amount as the library writes it (``2.50``); anything else is a usage error."""
    if value is None:
        return None
    try:
        return Money(value)
    except InvalidInput as error:
        raise click.BadParameter(f"{value!r} is not an amount like 2.50 ({error.reason})", ctx, param) from None


@click.group()
def ops() -> None:
    """The gateway's operations: list and show them (the panel), resend a failed one, drain the outbox.

    resend and drain send, so they read the account's client secret from CARTEIRA_EFI_CLIENT_SECRET in
    their environment (never from an option); configure and account store and show the account.

    \b
    Example (a clerk, then a worker under a supervisor that sets the secret):
      carteira ops list --flagged
      carteira ops resend 4ca79d1bc67545c6b052055f677e2fae
      carteira ops drain --follow
    """


# -- the panel: reads only, no secret --------------------------------------------------------------


@ops.command("list")
@click.option("--status", type=click.Choice([s.value for s in OperationStatus], case_sensitive=False),
              help="Only operations in this status.")  # fmt: skip
@click.option("--kind", type=click.Choice([k.value for k in OperationKind], case_sensitive=False),
              help="Only operations of this kind.")  # fmt: skip
@click.option("--customer", help="Only operations of this customer (id).")
@click.option("--document", help="Only operations naming this installment (id).")
@click.option("--from", "from_", type=ISO_DATE, metavar="YYYY-MM-DD", help="Created on or after this day.")
@click.option("--to", type=ISO_DATE, metavar="YYYY-MM-DD", help="Created on or before this day.")
@click.option("--flagged", is_flag=True, help="Only flagged ones: failed, warned, or their document reversed since.")
@click.option("--limit", type=click.IntRange(min=1), default=LIST_LIMIT, show_default=True, help="The newest N only.")
@click.option("--all", "every", is_flag=True, help="Every matching operation (no --limit).")
@JSON
def list_(status: str | None, kind: str | None, customer: str | None, document: str | None, from_: datetime | None,
          to: datetime | None, flagged: bool, limit: int, every: bool, as_json: bool) -> None:  # fmt: skip
    """List the operations sent to the gateway, newest first; flagged ones in red, marked !.

    \b
    Example:
      carteira ops list --flagged
      carteira ops list --status failed --from 2026-03-01 --json
    """
    zone = session().zone()
    criteria = OperationFilter(
        status=OperationStatus(status.lower()) if status else None,
        kind=OperationKind(kind.lower()) if kind else None,
        customer_id=customer,
        document=document,
        created_from=None if from_ is None else datetime.combine(from_.date(), time_of_day.min, tzinfo=zone),
        created_to=None if to is None else datetime.combine(to.date(), time_of_day.max, tzinfo=zone),
        flagged=True if flagged else None,
        limit=None if every else limit,
    )
    with session().store().unit_of_work() as uow:
        found = uow.operations.find(criteria)
    if as_json:
        click.echo(dumps([operation_json(operation, zone) for operation in found]))
    else:
        table_console().print(operations_table(found, zone))
    if not every and len(found) == limit:
        click.echo(f"(the newest {limit} shown; --limit N or --all for more)", err=True)


@ops.command()
@click.argument("operation_id", metavar="ID")
@JSON
def show(operation_id: str, as_json: bool) -> None:
    """Show every field of operation ID: its error, warnings, the charges of its documents, the notifications about
    them, request and response.

    \b
    Example:
      carteira ops show 4ca79d1bc67545c6b052055f677e2fae
    """
    _print_operation(session().store(), operation_id, as_json)


def _print_operation(store: Store, operation_id: str, as_json: bool) -> Operation:
    zone = session().zone()
    with store.unit_of_work() as uow:
        operation = uow.operations.get(operation_id)
        found = uow.gateway_charges.get_many(operation.documents)
        events = events_of(uow, operation)
    charges = [found[document] for document in operation.documents if document in found]
    if as_json:
        click.echo(dumps(operation_json(operation, zone, charges, events)))
    else:
        for line in operation_lines(operation, charges, zone, events):
            click.echo(line)
    return operation


# -- sending: the account and its secret -----------------------------------------------------------


@ops.command()
@click.argument("operation_id", metavar="ID")
@notification_url_option
@JSON
def resend(operation_id: str, notification_url: str | None, as_json: bool) -> None:
    """Send the FAILED operation ID again, its request rebuilt from the data as it is now (G9): fix, then resend.

    Prints the operation as it ended. When the gateway refuses it again the error is printed and the
    command exits 1; a pending or unknown operation is refused (the outbox finishes it: ops drain).

    \b
    Example (the customer's name was one word; the ERP fixed it):
      carteira ops resend 4ca79d1bc67545c6b052055f677e2fae
    """
    resent = _gateway(notification_url).resend(operation_id)
    operation = _print_operation(session().store(), resent.id, as_json)
    if operation.status is OperationStatus.FAILED:
        reason = operation.error.message if operation.error is not None else "no reason recorded"
        click.echo(f"error: operation {operation.id} failed again: {reason}", err=True)
        raise click.exceptions.Exit(ExitCode.REFUSED)


@ops.command()
@click.option("--concurrency", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Operations sent at once over one connection pool.")  # fmt: skip
@click.option("--limit", type=click.IntRange(min=1), help="Handle at most N operations (with --follow: per round).")
@click.option("--follow", is_flag=True, help="Keep draining, sleeping until the next is due, until Ctrl-C or SIGTERM.")
@click.option("--idle", "idle_s", type=click.FloatRange(min=0.05), default=FOLLOW_IDLE_S, show_default=True,
              metavar="SECONDS", help="With --follow: the longest sleep between rounds.")  # fmt: skip
@notification_url_option
@JSON
def drain(concurrency: int, limit: int | None, follow: bool, idle_s: float, notification_url: str | None,
          as_json: bool) -> None:  # fmt: skip
    """Send (or look up) every operation that is due, and print how they went; what a worker runs.

    Refusals by the gateway end FAILED on their operations (ops list --flagged) and the command exits 0.
    With --follow it keeps going, one line per round that did something, until Ctrl-C or SIGTERM, which
    stop it after the round under way (a second Ctrl-C stops at once); then it prints the totals.

    \b
    Example:
      carteira ops drain --concurrency 16
      carteira ops drain --follow --json
    """
    gateway = _gateway(notification_url)
    if follow:
        _follow(gateway, session().portfolio().clock, concurrency, limit or FOLLOW_ROUND, idle_s, as_json)
        return
    columns = (TextColumn("sending"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=Console(stderr=True)) as bar:
            task = bar.add_task("drain", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = gateway.drain(concurrency=concurrency, limit=limit, progress=progress)
    except KeyboardInterrupt:
        click.echo("error: interrupted; what was answered is recorded, and the next drain looks up what was in flight",
                   err=True)  # fmt: skip
        raise click.exceptions.Exit(ExitCode.INTERRUPTED) from None
    _print_report(report, as_json)


def _print_report(report: DrainReport, as_json: bool, **extra: object) -> None:
    if as_json:
        click.echo(dumps({**extra, **report_json(report)}))
        return
    head = " ".join(str(value) for value in extra.values())
    click.echo(f"{head} {report_line(report)}" if head else report_line(report))
    if report.failed and not extra:
        click.echo("  the failed ones: carteira ops list --status failed")


def _follow(gateway: GatewayIntegration, clock: Clock, concurrency: int, round_size: int, idle_s: float,
            as_json: bool) -> None:  # fmt: skip
    total = DrainReport()
    with stop_on_signals() as stopping:
        while not stopping.requested:
            report = gateway.drain(concurrency=concurrency, limit=round_size)
            total += report
            handled = report.sent + report.failed + report.retrying + report.unknown
            if handled:
                _print_report(report, as_json, at=clock.now().isoformat(timespec="seconds"))
            if handled >= round_size:
                continue  # a full round: more may be due now
            wake = gateway.next_due()
            wait_s = idle_s if wake is None else (wake - clock.now()).total_seconds()
            nap(min(idle_s, max(_FOLLOW_FLOOR_S, wait_s)), stopping)
    _print_report(total, as_json, stopped="stopped:" if not as_json else True)


def _gateway(notification_url: str | None) -> GatewayIntegration:
    """The gateway integration over the stored account and the secret in the environment (decision 0603)."""
    return sending_portfolio(notification_url).gateway


# -- the account ------------------------------------------------------------------------------------


def _secret_set() -> bool:
    return bool(os.environ.get(SECRET_VARIABLE))


@ops.command()
@JSON
def account(as_json: bool) -> None:
    """Show the stored gateway account, and whether this environment supplies its secret (never the secret).

    \b
    Example:
      carteira ops account
    """
    found = stored_account(session().store())
    _print_account(found, as_json)


def _print_account(found: GatewayAccount, as_json: bool) -> None:
    if as_json:
        click.echo(dumps(account_json(found, secret_set=_secret_set(), secret_variable=SECRET_VARIABLE)))
        return
    for line in account_lines(found, secret_set=_secret_set(), secret_variable=SECRET_VARIABLE):
        click.echo(line)


_FIRST_NEEDS = {"client_id": "--client-id", "agreement_id": "--agreement", "bank_account": "--bank-account",
                "payment_fee": "--fee", "receipt_history": "--receipt-history", "entries_history": "--entries-history",
                "fees_history": "--fees-history"}  # fmt: skip
"""The account's fields a first ``configure`` needs, and the option that gives each."""


@ops.command()
@click.option("--client-id", help="The Efí application's client id for --environment.")
@click.option("--environment", type=click.Choice([e.value for e in Environment]), required=True,
              help="sandbox or production: always said, never assumed.")  # fmt: skip
@click.option("--agreement", "agreement_id", help="The portfolio's agreement with the gateway (the wallet's, bank 0).")
@click.option("--bank-account", help="Where the entries of received payments go.")
@click.option("--fee", "payment_fee", callback=_amount, metavar="AMOUNT", help="The gateway's fee per paid document.")
@click.option("--receipt-history", help="The ERP's history code for settlements.")
@click.option("--entries-history", help="The ERP's history code for bank entries.")
@click.option("--fees-history", help="The ERP's history code for fee postings.")
@click.option("--notify", multiple=True, metavar="USER", help="A user told of failed operations (repeat; replaces).")
@click.option("--no-notify", is_flag=True, help="Tell nobody of failed operations.")
@click.option("--active/--inactive", default=None, help="An inactive account sends nothing (kept; a new one: active).")
@JSON
def configure(environment: str, client_id: str | None, agreement_id: str | None, bank_account: str | None,
              payment_fee: Money | None, receipt_history: str | None, entries_history: str | None,
              fees_history: str | None, notify: tuple[str, ...], no_notify: bool, active: bool | None,
              as_json: bool) -> None:  # fmt: skip
    """Store the portfolio's gateway account (G1); options left out keep their stored values.

    The client secret is not stored: the commands that send read it from CARTEIRA_EFI_CLIENT_SECRET.

    \b
    Example (the first time, every option but --notify and --inactive is needed):
      carteira ops configure --client-id Client_Id_abc --environment production --agreement efi-0 \\
        --bank-account itau-1 --fee 2.50 --receipt-history 101 --entries-history 201 --fees-history 301 \\
        --notify ana --notify financeiro
      carteira ops configure --environment production --inactive
    """
    given = {"client_id": client_id, "agreement_id": agreement_id, "bank_account": bank_account,
             "payment_fee": payment_fee, "receipt_history": receipt_history, "entries_history": entries_history,
             "fees_history": fees_history}  # fmt: skip
    changes: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    changes["environment"] = Environment(environment)
    if notify or no_notify:
        changes["notify"] = () if no_notify else notify
    if active is not None:
        changes["active"] = active
    with session().store().unit_of_work() as uow:
        try:
            stored: GatewayAccount | None = uow.gateway_account.get()
        except NotFound:
            stored = None
        if stored is None:
            missing = [option for name, option in _FIRST_NEEDS.items() if name not in changes]
            if missing:
                raise click.UsageError(f"no account is stored yet: give {', '.join(missing)} as well")
            account = GatewayAccount(agreement_bank_code=WALLET_BANK_CODE, **changes)
        elif changes["environment"] is not stored.environment and client_id is None:
            raise click.UsageError(
                f"the account is for {stored.environment.value}: changing to {environment} needs its --client-id "
                "too (each environment has its own credentials)"
            )
        else:
            account = attrs.evolve(stored, **changes)
        saved = uow.gateway_account.put(account)
        uow.commit()
    _print_account(saved, as_json)
