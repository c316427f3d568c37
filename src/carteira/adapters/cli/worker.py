"""``carteira worker``: what a deployment keeps running beside the ERP (G6, G8, issue #13).

Each round processes the notification tokens that are due (``portfolio.payments.process``: a paid
charge settles its installment with its postings, once) and then drains the outbox
(``portfolio.gateway.drain``: operations the ERP wrote, retries, look-ups). A round that did
something is followed at once by the next; one that found nothing sleeps ``--idle`` seconds.
``--once`` stops at the first round that finds nothing instead. SIGINT and SIGTERM stop it between
rounds, never inside a unit of work. Any number of workers may run on one PostgreSQL database: the
claims skip what another worker holds, and a token or an operation is never acted on twice (decisions
0709, 0702). Decision 0608 says why it is built this way.
"""

from __future__ import annotations

import attrs
import click

from carteira.adapters.cli.exit_codes import ExitCode
from carteira.adapters.cli.json_output import dumps, process_json, report_json
from carteira.adapters.cli.render import process_line, report_line
from carteira.adapters.cli.sending import notification_url_option, sending_portfolio
from carteira.adapters.cli.stopping import Stopping, nap, stop_on_signals
from carteira.errors import InactiveAccount
from carteira.portfolio import Portfolio
from carteira.services.outbox import DrainReport
from carteira.services.payments import ProcessReport

__all__ = ["IDLE_S", "OPERATIONS_PER_ROUND", "TOKENS_PER_ROUND", "worker"]

TOKENS_PER_ROUND = 20
"""Notification tokens one round processes (two claims of ten): each waits on one call to the gateway, so a stop
signal is obeyed within seconds even at Efí's slowest."""
OPERATIONS_PER_ROUND = 100
"""Outbox operations one round sends or looks up, ``--concurrency`` at a time, before the next round's tokens."""
IDLE_S = 5.0
"""How long a worker sleeps after a round that found nothing: how late, at most, it sees a new token."""


@attrs.frozen
class Round:
    """What one round (or, added up, a whole run) did: the notifications processed and the outbox drained."""

    payments: ProcessReport = attrs.field(factory=ProcessReport)
    outbox: DrainReport = attrs.field(factory=DrainReport)

    def __add__(self, other: Round) -> Round:
        return Round(self.payments + other.payments, self.outbox + other.outbox)

    @property
    def busy(self) -> bool:
        """Whether it did something, so that more may be due now (operations left waiting do not count)."""
        payments, outbox = self.payments, self.outbox
        handled = outbox.sent + outbox.failed + outbox.retrying + outbox.unknown
        return bool(payments.tokens + payments.retrying + handled)


@click.command()
@click.option("--once", is_flag=True, help="Stop at the first round that finds nothing due, printing the totals.")
@click.option("--idle", "idle_s", type=click.FloatRange(min=0.05), default=IDLE_S, show_default=True,
              metavar="SECONDS", help="How long to sleep after a round that found nothing.")  # fmt: skip
@click.option("--concurrency", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Outbox operations sent at once over one connection pool.")  # fmt: skip
@notification_url_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines instead (decision 0604).")
def worker(once: bool, idle_s: float, concurrency: int, notification_url: str | None, as_json: bool) -> None:
    """Process the gateway's notifications and drain the outbox, round after round, until Ctrl-C or SIGTERM.

    A round settles what the notification tokens kept by the callback endpoint report (each payment
    once, with its entry and fee postings) and then sends what the outbox holds. It prints one line per
    round that did something; a stop signal ends it after the round under way (a second Ctrl-C at
    once), printing the totals. Run as many as you need on one PostgreSQL database: they share the
    work. It reads the account's secret from CARTEIRA_EFI_CLIENT_SECRET.

    \b
    Example (under a supervisor that sets the secret; a cron job or a test uses --once):
      carteira --store postgresql://erp@db/erp worker --notification-url https://erp.example.com.br/efi
      carteira worker --once --json
    """
    portfolio = sending_portfolio(notification_url)
    try:
        with stop_on_signals() as stopping:
            total = _loop(portfolio, stopping, once=once, idle_s=idle_s, concurrency=concurrency, as_json=as_json)
    except KeyboardInterrupt:
        click.echo("error: interrupted; what was committed stays, and what this worker held is taken again when its "
                   "lease ends", err=True)  # fmt: skip
        raise click.exceptions.Exit(ExitCode.INTERRUPTED) from None
    _print(total, as_json, head="stopped:" if stopping.requested else None)


def _loop(portfolio: Portfolio, stopping: Stopping, *, once: bool, idle_s: float, concurrency: int,
          as_json: bool) -> Round:  # fmt: skip
    """Rounds until a stop signal (or, ``once``, a round that finds nothing); the totals."""
    total, told = Round(), False
    while not stopping.requested:
        done, inactive = _round(portfolio, stopping, concurrency)
        if inactive and not told:
            click.echo("warning: the gateway account is inactive: the outbox is not drained (notifications still are)",
                       err=True)  # fmt: skip
            told = True
        total += done
        if done.busy:
            if not once:
                _print(done, as_json, head=portfolio.clock.now().isoformat(timespec="seconds"))
            continue
        if once:
            break
        nap(idle_s, stopping)
    return total


def _round(portfolio: Portfolio, stopping: Stopping, concurrency: int) -> tuple[Round, bool]:
    """One round: tokens first (money that came in), then the outbox; whether the account was found inactive."""
    payments = portfolio.payments.process(limit=TOKENS_PER_ROUND)
    if stopping.requested:
        return Round(payments), False
    try:
        outbox = portfolio.gateway.drain(concurrency=concurrency, limit=OPERATIONS_PER_ROUND)
    except InactiveAccount:  # it sends nothing; payments of charges already issued still come in
        return Round(payments), True
    return Round(payments, outbox), False


def _print(done: Round, as_json: bool, *, head: str | None) -> None:
    """One line: ``head`` (an instant, or ``stopped:``), then the payments' and the outbox's counts."""
    if as_json:
        extra: dict[str, object] = {}
        if head == "stopped:":
            extra["stopped"] = True
        elif head is not None:
            extra["at"] = head
        click.echo(dumps({**extra, "payments": process_json(done.payments), "outbox": report_json(done.outbox)}))
        return
    line = f"payments: {process_line(done.payments)}; outbox: {report_line(done.outbox)}"
    click.echo(line if head is None else f"{head} {line}")
