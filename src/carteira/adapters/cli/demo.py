"""``carteira demo``: an internet provider's month end to end, on a SQLite file and the Efí emulator, in seconds.

The scenario is :func:`carteira.testing.demo.run_demo`; this module only shows it: a line per step, a
progress bar for the billing run (on stderr), then the month's totals, the return batch and the operations
panel as tables, and the commands that open the store it leaves (decision 0610).
"""

from __future__ import annotations

import shlex
import tempfile
import time
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import click
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from carteira.adapters.cli.json_output import dumps
from carteira.adapters.cli.render import batch_line, operations_table, review_table, shown, table_console
from carteira.adapters.storage import SqliteStore
from carteira.domain.operations import OperationFilter
from carteira.portfolio import Portfolio
from carteira.testing.demo import MONTH, MONTH_END, DemoMonth, DemoTotals, run_demo

__all__ = ["demo"]

_BRASILIA = timezone(timedelta(hours=-3))
"""The zone the demo's clock runs in: the panel shows its instants there."""


@click.command()
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to leave carteira.db (created if missing; must not hold one). Default: a new temporary folder.",
)
@click.option("--customers", type=click.IntRange(min=20), default=200, show_default=True, help="How many customers.")
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed gives the same month.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document of the month instead (decision 0604).")
def demo(folder: Path | None, customers: int, seed: int, as_json: bool) -> None:
    """Run an internet provider's month end to end and leave it in a SQLite file to explore.

    Nothing to start and no network: the Efí gateway is the emulator in carteira.testing, in this
    process. The month: the Efí account configured; customers on contracts (a few with a bad CPF, a
    one-word name, no phone; some with a pro-rata first month); a billing run of billets and some carnets;
    customers paying at Efí (on time, late, short, over) and Efí calling back; the notifications settled
    with their postings; a Sicoob CNAB 240 return file imported, auto-linked, reviewed and confirmed; a
    refused billet fixed and resent; one settlement reactivated. --store is not used: the demo makes its
    own file.

    \b
    Example:
      carteira demo
      carteira demo --folder ./month --customers 1000 --seed 7
      carteira demo --customers 50 --json
    """
    where = folder if folder is not None else Path(tempfile.mkdtemp(prefix="carteira-demo-"))
    where.mkdir(parents=True, exist_ok=True)
    out = table_console()
    if not as_json:
        out.print(f"carteira demo: an internet provider's {MONTH:%B %Y}, {customers} customers, seed {seed}")
    started = time.perf_counter()
    with _Bar() as bar:
        month = run_demo(where, customers=customers, seed=seed, progress=bar.advance,
                         step=None if as_json else (lambda line: out.print(f"- {line}")))  # fmt: skip
    elapsed = time.perf_counter() - started
    if as_json:
        click.echo(dumps(_month_json(month)))
    else:
        _summary(out, month, elapsed)


def _month_json(month: DemoMonth) -> dict[str, Any]:
    """The month as a script reads it: the file, the ids to look at, and the totals (amounts as strings)."""
    totals = {field.name: getattr(month.totals, field.name) for field in attrs.fields(DemoTotals)}
    return {
        "database": str(month.database),
        "seed": month.seed,
        "customers": month.customers,
        "totals": {name: value if isinstance(value, int) else str(value) for name, value in totals.items()},
        "batch_id": month.batch_id,
        "fixed_operation": month.fixed_operation,
        "failed": list(month.failed),
        "reactivated": month.reactivated,
        "warning": month.warning,
    }


class _Bar:
    """The billing run's progress bar, on stderr so that the summary on stdout stays clean for a pipe."""

    def __init__(self) -> None:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        self._progress = Progress(*columns, console=Console(stderr=True), transient=True)
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> _Bar:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(None, None, None)

    def advance(self, what: str, done: int, total: int) -> None:
        """Show ``done`` of ``total`` for the step ``what``."""
        if what not in self._tasks:
            self._tasks[what] = self._progress.add_task(f"sending {what}", total=total)
        self._progress.update(self._tasks[what], completed=done)


def _summary(out: Console, month: DemoMonth, elapsed: float) -> None:
    """The month's totals, the batch's records worth a look, the operations panel's flagged rows, and where to go."""
    out.print(f"\ndone in {elapsed:.1f} s\n")
    out.print(_totals_table(month))
    store = SqliteStore(month.database)
    try:
        portfolio = Portfolio(store)
        out.print(f"\n{batch_line(portfolio.returns.get(month.batch_id))}")
        out.print("reviewed before confirming: the differences a person looks at, marked ! (red on a terminal)")
        out.print(review_table(month.review))
        rows = portfolio.returns.review(month.batch_id)
        waiting = [row for row in rows if row.record.is_settlement and not row.record.is_settled]
        out.print(f"\nafter confirming: {len(rows) - len(waiting)} of {len(rows)} records done; waiting:")
        out.print(review_table(waiting))
        with store.unit_of_work() as uow:
            flagged = uow.operations.find(OperationFilter(flagged=True))
            panel = [*flagged, uow.operations.get(month.fixed_operation)]
        out.print("\nthe operations panel: what needs a person (failed), and the billet fixed and resent")
        out.print(operations_table(panel, _BRASILIA))
    finally:
        store.close()
    _where(out, month)


def _totals_table(month: DemoMonth) -> Table:
    totals = month.totals
    table = Table(title=f"{MONTH:%B %Y}", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("total")
    table.add_column("amount", justify="right")
    table.add_column("what it is")
    table.add_row("billed", shown(totals.billed), f"{totals.installments} installments due in the month")
    table.add_row("received via Efí", shown(totals.received_efi), "settled from Efí's notifications")
    table.add_row("received via bank", shown(totals.received_bank), "settled from Sicoob's return file")
    table.add_row("fees", shown(totals.fees), "Efí's fees posted")
    table.add_row("open", shown(totals.open), f"still owed on {MONTH_END} (principal, fine, interest)")
    table.add_row("settlements", str(totals.settlements), f"{totals.partial} partial, {totals.credit_letters} with a "
                  "credit letter")  # fmt: skip
    return table


def _where(out: Console, month: DemoMonth) -> None:
    store = shlex.quote(str(month.database))
    out.print(f"\nthe month is in {month.database}; open it with:")
    for command in (
        f"returns show {month.batch_id}",
        "ops list --flagged",
        f"ops show {month.fixed_operation}",
        f"postings list --from {MONTH} --to {MONTH_END}",
        "payments flagged",
    ):
        out.print(f"  carteira --store {store} {command}", soft_wrap=True, highlight=False)
