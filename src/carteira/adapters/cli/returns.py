"""``carteira returns``: the return-batch use case (SPEC B2-B11) from the command line.

Each command parses its arguments, calls one verb of ``portfolio.returns`` and prints what came back;
the rules live in the use case. Refusals inside a batch (a record beyond tolerance, a closed period)
are printed with their reasons and do not fail the command. ``--json`` prints one JSON document instead
(decision 0604; the records' words in ``json_output``).
"""

from __future__ import annotations

import getpass
from datetime import date, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from carteira.adapters.cli.exit_codes import ExitCode
from carteira.adapters.cli.json_output import auto_link_json, batch_json, confirm_json, dumps, record_json, review_json
from carteira.adapters.cli.options import ISO_DATE, JSON
from carteira.adapters.cli.render import batch_line, batches_table, review_table
from carteira.adapters.cli.session import session
from carteira.domain.return_batch import RecordFilter
from carteira.garbage_collection import paused_collection

__all__ = ["returns"]


def _day(value: datetime | None) -> date:
    """The date given, or today by the portfolio's clock."""
    return value.date() if value is not None else session().portfolio().clock.today()


@click.group()
def returns() -> None:
    """Bank return files as batches: import, review, link, acknowledge, confirm, reactivate, delete.

    \b
    Example (a night job):
      batch=$(carteira returns import retorno.ret --description "BB 2026-03-12" --quiet)
      carteira returns confirm "$batch"
    """


@returns.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--description", required=True, help="What the clerk calls this file (shown in lists).")
@click.option("--date", "process_date", type=ISO_DATE, metavar="YYYY-MM-DD", help="The process date (default: today).")
@click.option("--no-link", is_flag=True, help="Do not auto-link; every settlement record stays open.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the new batch's id (for scripts).")
@JSON
def import_(file: Path, description: str, process_date: datetime | None, no_link: bool, quiet: bool,
            as_json: bool) -> None:  # fmt: skip
    """Import a CNAB 240/400 return FILE as a new batch, and auto-link its settlement records.

    Nothing is settled: review the batch (show) and settle it (confirm). The same file twice is refused,
    naming the earlier batch.

    \b
    Example:
      carteira returns import retorno-0312.ret --description "BB 2026-03-12" --date 2026-03-12
      carteira returns import retorno-0312.ret --description "BB 2026-03-12" --json
    """
    returns_ = session().portfolio().returns
    with paused_collection():  # the command owns its process (decision 0500): bulk parsing gains from the pause
        batch = returns_.import_file(
            file.read_bytes(), description=description, process_date=_day(process_date), source=file.name
        )
        report = None if no_link else returns_.auto_link(batch.id)
    if quiet:
        click.echo(batch.id)
        return
    if as_json:
        found = {"batch": batch_json(batch, session().zone())}
        click.echo(dumps({**found, "auto_link": None if report is None else auto_link_json(report)}))
        return
    click.echo(batch_line(batch))
    for warning in batch.warnings:
        click.echo(f"warning: {warning}")
    if report is not None:
        click.echo(f"auto-link: {report.linked} linked, {len(report.left_open)} left open")
        for line, reason in sorted(report.left_open.items()):
            click.echo(f"  line {line}: {reason}")


@returns.command("list")
@JSON
def list_(as_json: bool) -> None:
    """List the batches, newest process date first.

    \b
    Example:
      carteira returns list
      carteira returns list --json
    """
    batches = session().portfolio().returns.batches()
    if as_json:
        click.echo(dumps([batch_json(batch, session().zone()) for batch in batches]))
        return
    Console().print(batches_table(batches))


@returns.command()
@click.argument("batch")
@click.option("--open", "records", flag_value=RecordFilter.OPEN.value, help="Only settlement records with no link.")
@click.option("--manual", "records", flag_value=RecordFilter.MANUAL.value, help="Only records linked by hand.")
@click.option("--auto", "records", flag_value=RecordFilter.AUTO.value, help="Only records linked by auto-link.")
@click.option("--flagged", "records", flag_value=RecordFilter.FLAGGED.value,
              help="Only records the file's checks flagged that are not acknowledged yet.")  # fmt: skip
@JSON
def show(batch: str, records: str | None, as_json: bool) -> None:
    """Show the records of BATCH: links, amount due, paid, and the difference (flagged with !).

    The flags column lists what the file's own checks found odd about a record (sum:paid, sequence_gap, length),
    with ! until someone acknowledges them (acknowledge), and who did after.

    \b
    Example:
      carteira returns show B5f0c2a91d3e4b7a8 --open
      carteira returns show B5f0c2a91d3e4b7a8 --json
    """
    returns_ = session().portfolio().returns
    found = returns_.get(batch)
    rows = returns_.review(batch, records=RecordFilter(records or RecordFilter.ALL.value))
    if as_json:
        zone = session().zone()
        click.echo(dumps({"batch": batch_json(found, zone), "records": [review_json(row, zone) for row in rows]}))
        return
    click.echo(batch_line(found))
    Console().print(review_table(rows))


@returns.command()
@click.argument("batch")
@click.argument("line", type=int)
@click.argument("installments", nargs=-1, required=True)
@JSON
def link(batch: str, line: int, installments: tuple[str, ...], as_json: bool) -> None:
    """Link the record on LINE of BATCH to INSTALLMENTS by hand, replacing its links.

    \b
    Example (one boleto paid two parcels):
      carteira returns link B5f0c2a91d3e4b7a8 7 inst-1041 inst-1042
    """
    record = session().portfolio().returns.link(batch, line, installments)
    if as_json:
        click.echo(dumps(record_json(record, session().zone())))
        return
    click.echo(f"line {record.line} linked to {', '.join(record.links)} (MANUAL)")


@returns.command()
@click.argument("batch")
@click.argument("line", type=int)
@JSON
def unlink(batch: str, line: int, as_json: bool) -> None:
    """Remove the links of the record on LINE of BATCH.

    \b
    Example:
      carteira returns unlink B5f0c2a91d3e4b7a8 7
    """
    record = session().portfolio().returns.unlink(batch, line)
    if as_json:
        click.echo(dumps(record_json(record, session().zone())))
        return
    click.echo(f"line {record.line} unlinked")


def _login_name() -> str:
    """Who runs the command, as the operating system names them; a usage error when it cannot say."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        raise click.UsageError("cannot tell who you are from the system; give --by NAME") from None


@returns.command()
@click.argument("batch")
@click.argument("lines", metavar="LINE...", type=int, nargs=-1, required=True)
@click.option("--by", metavar="NAME", help="Who acknowledges (default: your login name).")
@JSON
def acknowledge(batch: str, lines: tuple[int, ...], by: str | None, as_json: bool) -> None:
    """Acknowledge the flags of the records on LINE... of BATCH, so confirm settles them.

    A record whose figures the file's own checks found odd (sum:paid, sequence_gap, length) settles nothing until
    a person has looked at it (show lists the flags; the import printed a warning for each). Who and when
    are kept with the record; acknowledging again changes nothing.

    \b
    Example:
      carteira returns acknowledge B5f0c2a91d3e4b7a8 3 7 --by ana
    """
    records = session().portfolio().returns.acknowledge(batch, lines, by=by if by is not None else _login_name())
    if as_json:
        click.echo(dumps([record_json(record, session().zone()) for record in records]))
        return
    for record in records:
        click.echo(f"line {record.line}: {', '.join(record.flags)} acknowledged by {record.acknowledged_by}")


@returns.command()
@click.argument("batch")
@click.option("--line", "lines", type=int, multiple=True, help="Confirm only this record (repeat for more).")
@click.option("--chunk-size", type=click.IntRange(min=1), default=500, show_default=True,
              help="Records settled per committed unit (a run stopped midway resumes after the last one).")  # fmt: skip
@JSON
def confirm(batch: str, lines: tuple[int, ...], chunk_size: int, as_json: bool) -> None:
    """Settle the linked records of BATCH (or those on --line) with the file's values.

    Resumable: run it again after a crash and it settles what is left, never a record twice. Records the
    rules refuse (beyond tolerance, a closed period) and flagged records nobody acknowledged yet are listed
    with why; the command still exits 0.

    \b
    Example:
      carteira returns confirm B5f0c2a91d3e4b7a8
      carteira returns confirm B5f0c2a91d3e4b7a8 --line 3 --line 5
      carteira returns confirm B5f0c2a91d3e4b7a8 --json
    """
    returns_ = session().portfolio().returns
    columns = (TextColumn("confirming"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with paused_collection(), Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("confirm", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = returns_.confirm(batch, lines=lines or None, progress=progress, chunk_size=chunk_size)
    if as_json:
        click.echo(dumps(confirm_json(report)))
        return
    click.echo(f"settled {report.settled}, refused {len(report.refused)}")
    for line, reason in sorted(report.refused.items()):
        click.echo(f"  line {line}: {reason}")
    if report.anticipations:
        click.echo(f"anticipations created: {', '.join(report.anticipations)}")
    if report.observations:
        click.echo(f"installments noted as anticipated (approved): {report.observations}")
    click.echo(f"batch {report.batch_id}: {report.status.name}")


@returns.command()
@click.argument("installment")
@click.option("--date", "on", type=ISO_DATE, metavar="YYYY-MM-DD", help="The reversal date (default: today).")
@click.option("--yes", is_flag=True, help="Reactivate even though a return batch made the settlement.")
@JSON
def reactivate(installment: str, on: datetime | None, yes: bool, as_json: bool) -> None:
    """Reverse the latest settlement of INSTALLMENT, so it is open again.

    When a return batch made that settlement, this prints the warning and exits 4 without changing
    anything; with --yes it reactivates (the batch's record opens again, and the batch is PENDING).

    \b
    Example:
      carteira returns reactivate inst-1041 --yes
    """
    result = session().portfolio().returns.reactivate(installment, on=_day(on), acknowledge=yes)
    if not result.done:
        warning = result.warning.removesuffix(": call again with acknowledge=True")
        click.echo(f"warning: {warning}; rerun with --yes to reactivate", err=True)
        raise click.exceptions.Exit(ExitCode.NEEDS_YES)
    if as_json:
        reopened = {"batch_id": result.batch_id, "line": result.line}
        click.echo(dumps({"reactivated": [item.id for item in result.installments], **reopened}))
        return
    click.echo(f"reactivated {', '.join(item.id for item in result.installments)}")
    if result.batch_id is not None:
        click.echo(f"batch {result.batch_id} line {result.line} is open again: confirm it again, or change its links")


@returns.command()
@click.argument("batch")
@click.option("--yes", is_flag=True, help="Delete without asking (needed outside a terminal).")
@JSON
def delete(batch: str, yes: bool, as_json: bool) -> None:
    """Reverse every settlement BATCH made (dated today) and remove the batch, all or nothing.

    Without --yes this prints what would be undone and exits 4 without changing anything.

    \b
    Example:
      carteira returns delete B5f0c2a91d3e4b7a8 --yes
    """
    returns_ = session().portfolio().returns
    found = returns_.get(batch)
    if not yes:
        settled = sum(1 for row in returns_.review(batch) if row.record.is_settled)
        click.echo(
            f"warning: deleting batch {batch} ({found.description}, {found.status.name}) reverses the settlements "
            f"of {settled} of its {found.record_count} records and removes it; rerun with --yes to delete",
            err=True,
        )
        raise click.exceptions.Exit(ExitCode.NEEDS_YES)
    returns_.delete(batch)
    click.echo(dumps({"deleted": batch}) if as_json else f"batch {batch} deleted")
