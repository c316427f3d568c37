"""``carteira postings``: the postings of payments received through the gateway (SPEC G1, G6), for the accountant.

A payment the gateway notified settles its installment and posts the entry (what was received, to the
agreement's bank account, under the entries history) and the fee (under the fees history); a reversal
posts their opposites. ``list`` prints those of a period, of one account or history code, and what they
add up to. It reads the store and needs no secret. ``--json`` prints one JSON document (decisions 0604, 0607).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import click
from rich import box
from rich.table import Table

from carteira.adapters.cli.json_output import dumps
from carteira.adapters.cli.options import ISO_DATE
from carteira.adapters.cli.render import shown, table_console
from carteira.adapters.cli.session import session
from carteira.domain.postings import Posting, PostingTotals, totals

__all__ = ["postings"]


@click.group()
def postings() -> None:
    """The postings of payments received through the gateway: entries, fees, and the reversals that undo them.

    \b
    Example (the month's extract of one bank account, then only its fees):
      carteira postings list --from 2026-03-01 --to 2026-03-31 --account itau-1
      carteira postings list --from 2026-03-01 --to 2026-03-31 --history 301 --json
    """


@postings.command("list")
@click.option("--from", "from_", type=ISO_DATE, required=True, metavar="YYYY-MM-DD", help="The first day, included.")
@click.option("--to", type=ISO_DATE, required=True, metavar="YYYY-MM-DD", help="The last day, included.")
@click.option("--account", metavar="ACCOUNT", help="Only the postings to this bank account.")
@click.option("--history", metavar="CODE", help="Only the postings under this history code.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead (decisions 0604, 0607).")
def list_(from_: datetime, to: datetime, account: str | None, history: str | None, as_json: bool) -> None:
    """List the postings dated --from to --to, by date then id, and their totals: entries, fees, reversals, net.

    Every posting of the period is listed (an extract is whole, so its totals add up what it shows); a
    reversal is a posting of its own, naming the one it undoes, with the opposite effect.

    \b
    Example:
      carteira postings list --from 2026-03-01 --to 2026-03-31
      carteira postings list --from 2026-03-10 --to 2026-03-10 --account itau-1 --history 201
    """
    on_from, on_to = from_.date(), to.date()
    payments = session().portfolio().payments
    found = payments.postings(on_from=on_from, on_to=on_to, account=account, history=history)
    summed = totals(found)
    if as_json:
        period = {"from": on_from.isoformat(), "to": on_to.isoformat(), "account": account, "history": history}
        click.echo(dumps({**period, "postings": [_posting_json(p) for p in found], "totals": _totals_json(summed)}))
        return
    if found:
        table_console().print(_postings_table(found))
    else:
        click.echo(f"no postings {_period(on_from, on_to, account, history)}")
    click.echo(_totals_line(summed))


def _period(on_from: date, on_to: date, account: str | None, history: str | None) -> str:
    """``from D to D``, and the account and history code asked for, in words."""
    words = f"from {on_from.isoformat()} to {on_to.isoformat()}"
    if account is not None:
        words += f" to account {account}"
    if history is not None:
        words += f" under history {history}"
    return words


def _postings_table(found: Sequence[Posting]) -> Table:
    """One row per posting: a reversal in red, its ``reverses`` column naming the posting it undoes."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    table.add_column("date", no_wrap=True)
    table.add_column("kind")
    table.add_column("effect", justify="right", no_wrap=True)
    for name in ("account", "history", "settlement", "charge"):
        table.add_column(name)
    # Ids are what a person looks a posting up by: never cut, whatever the width.
    for name in ("posting", "reverses"):
        table.add_column(name, no_wrap=True)
    for posting in found:
        reversal = posting.reverses is not None
        table.add_row(
            shown(posting.on),
            posting.kind.value,
            shown(posting.effect),
            posting.account,
            posting.history,
            posting.settlement_id,
            posting.charge_id or "",
            posting.id,
            posting.reverses or "",
            style="red" if reversal else None,
        )
    return table


def _totals_line(summed: PostingTotals) -> str:
    """``N postings: entries …, fees …, reversals …, net …``, the net being the postings' balance."""
    noun = "posting" if summed.count == 1 else "postings"
    return (
        f"{summed.count} {noun}: entries {shown(summed.entries)}, fees {shown(summed.fees)}, "
        f"reversals {shown(summed.reversals)}, net {shown(summed.net)}"
    )


def _posting_json(posting: Posting) -> dict[str, Any]:
    """Every field of ``posting`` under its attribute name, and its ``effect`` on the account (signed)."""
    return {
        "id": posting.id,
        "kind": posting.kind.value,
        "on": posting.on.isoformat(),
        "amount": str(posting.amount),
        "effect": str(posting.effect),
        "account": posting.account,
        "history": posting.history,
        "settlement_id": posting.settlement_id,
        "charge_id": posting.charge_id,
        "reverses": posting.reverses,
    }


def _totals_json(summed: PostingTotals) -> dict[str, Any]:
    """The totals: ``count``, and ``entries``, ``fees``, ``reversals`` and ``net`` as amounts."""
    return {
        "count": summed.count,
        "entries": str(summed.entries),
        "fees": str(summed.fees),
        "reversals": str(summed.reversals),
        "net": str(summed.net),
    }
