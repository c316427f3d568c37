"""How the command shows batches and records: ``rich`` tables, amounts and dates as a script can read them back.

Amounts print as the library writes them (``1234.50``: a dot, no thousands separator) and dates as
ISO ``YYYY-MM-DD``, so a script that reads the output needs no locale. Colour is only emphasis: every
mark that colour gives (a flagged difference, a settled record) is also in the text, because a night
job's log has no colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from rich import box
from rich.table import Table
from rich.text import Text

from carteira.domain.money import Money
from carteira.domain.return_batch import BatchStatus, ReturnBatch
from carteira.services.returns import ReviewRow

__all__ = ["FLAG", "batch_line", "batches_table", "review_table", "shown"]

FLAG = "!"
"""Written after a difference that a person should look at before confirming (B8), in red where there is colour."""

_STATUS_STYLE = {BatchStatus.IMPORTED: "cyan", BatchStatus.PENDING: "yellow", BatchStatus.COMPLETED: "green"}


def shown(value: Money | date | str | None) -> str:
    """``value`` as the tables print it: an amount or an ISO date, or blank for nothing."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def batch_line(batch: ReturnBatch) -> str:
    """One line naming a batch: id, status, record count, process date and description."""
    return (
        f"batch {batch.id}: {batch.record_count} records, {batch.status.name}, "
        f"processed {batch.process_date.isoformat()} ({batch.description})"
    )


def batches_table(batches: Sequence[ReturnBatch]) -> Table:
    """The batches as the seed lists imports: id, description, process date, status, records."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    table.add_column("batch")
    table.add_column("description")
    table.add_column("processed")
    table.add_column("status")
    table.add_column("records", justify="right")
    for batch in batches:
        status = Text(batch.status.name, style=_STATUS_STYLE[batch.status])
        table.add_row(batch.id, batch.description, shown(batch.process_date), status, str(batch.record_count))
    return table


def review_table(rows: Sequence[ReviewRow]) -> Table:
    """The records of a batch for review (B6, B8): what the file said, the links, the difference, the state."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    for name in ("line", "mov."):
        table.add_column(name, justify="right")
    table.add_column("title")
    table.add_column("due")
    for name in ("paid", "corrected", "difference"):
        table.add_column(name, justify="right")
    for name in ("links", "by", "state", "note"):
        table.add_column(name)
    for row in rows:
        record = row.record
        table.add_row(
            str(record.line),
            record.movement_code,
            record.bank_title_number or "",
            shown(record.due_date),
            shown(record.paid),
            shown(row.corrected),
            _difference(row),
            ", ".join(record.links),
            record.origin.name if record.origin is not None else "",
            _state(row),
            record.note,
        )
    return table


def _difference(row: ReviewRow) -> Text:
    if row.difference is None:
        return Text("")
    if row.flagged:
        return Text(f"{row.difference} {FLAG}", style="bold red")
    return Text(str(row.difference))


def _state(row: ReviewRow) -> Text:
    """SETTLED, LINKED (waits for confirm) or OPEN (waits for a link) for a settlement record; else the category."""
    record = row.record
    if not record.is_settlement:
        return Text(record.category, style="yellow" if record.is_rejection else "dim")
    if record.is_settled:
        return Text("SETTLED", style="green")
    if record.links:
        return Text("LINKED", style="cyan")
    return Text("OPEN", style="bold")
