"""``carteira payments``: what came in through the gateway's notifications and still needs someone (SPEC G6).

``pending`` lists the tokens kept and not yet processed (a worker's backlog, with the error of a failed
fetch); ``flagged`` lists what carteira recorded and would not guess at (a payment for a charge it never
issued, a settlement made at the gateway by hand, a payment the policy would not settle) and the tokens
the gateway said it does not know. Both read the store and need no secret.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

import click

from carteira.adapters.cli.json_output import dumps, event_json
from carteira.adapters.cli.options import JSON
from carteira.adapters.cli.render import moment
from carteira.adapters.cli.session import session
from carteira.domain.notifications import Notification, SeenEvent

__all__ = ["payments"]

_LIMIT = 100
"""Rows each list prints unless told otherwise: the newest."""
_LIMIT_OPTION = click.option(
    "--limit", type=click.IntRange(min=1), default=_LIMIT, show_default=True, help="The newest N only."
)


@click.group()
def payments() -> None:
    """Payments notified by the gateway: the backlog of tokens, and what waits for a person.

    \b
    Example (a clerk's morning check):
      carteira payments flagged
      carteira payments pending --json
    """


@payments.command()
@_LIMIT_OPTION
@JSON
def pending(limit: int, as_json: bool) -> None:
    """List the notification tokens kept and not processed yet, newest first, with the error of a failed fetch.

    \b
    Example:
      carteira payments pending --limit 20
    """
    zone = session().zone()
    found = session().portfolio().payments.pending(limit=limit)
    if as_json:
        click.echo(dumps([_token_json(n, zone) for n in found]))
        return
    for notification in found:
        click.echo(_token_line(notification, zone))
    if not found:
        click.echo("no token waits: every notification received was processed")


@payments.command()
@_LIMIT_OPTION
@JSON
def flagged(limit: int, as_json: bool) -> None:
    """List what carteira would not guess at: flagged events, then tokens the gateway does not know, newest first.

    \b
    Example:
      carteira payments flagged --json
    """
    zone = session().zone()
    service = session().portfolio().payments
    events, refused = service.flagged(limit=limit), service.refused(limit=limit)
    if as_json:
        found = {"events": [event_json(e, zone) for e in events], "refused": [_token_json(n, zone) for n in refused]}
        click.echo(dumps(found))
        return
    for event in events:
        click.echo(_event_line(event, zone))
    for notification in refused:
        click.echo(_token_line(notification, zone))
    if not events and not refused:
        click.echo("nothing waits for a person")


def _event_line(event: SeenEvent, zone: tzinfo) -> str:
    where = f"charge {event.charge_id}" if event.charge_id else "a carnet"
    installment = f" (installment {event.installment_id})" if event.installment_id else ""
    return f"{moment(event.seen_at, zone)} {where}{installment}: {event.kind} {event.status}: {event.note}"


def _token_line(notification: Notification, zone: tzinfo) -> str:
    line = (
        f"{moment(notification.received_at, zone)} token {notification.token}: {notification.status.value}, "
        f"delivered {notification.deliveries}x, tried {notification.attempts}x"
    )
    if notification.next_attempt_at is not None:
        line += f", next {moment(notification.next_attempt_at, zone)}"
    return f"{line}: {notification.error}" if notification.error else line


def _token_json(notification: Notification, zone: tzinfo) -> dict[str, object]:
    def instant(value: datetime | None) -> str | None:
        return None if value is None else moment(value, zone)

    return {
        "token": notification.token,
        "status": notification.status.value,
        "received_at": instant(notification.received_at),
        "deliveries": notification.deliveries,
        "attempts": notification.attempts,
        "next_attempt_at": instant(notification.next_attempt_at),
        "processed_at": instant(notification.processed_at),
        "error": notification.error,
    }
