"""How the command shows batches, records and operations: ``rich`` tables, amounts and dates as a script reads them.

Amounts print as the library writes them (``1234.50``: a dot, no thousands separator) and dates as
ISO ``YYYY-MM-DD``, so a script that reads the output needs no locale. Colour is only emphasis: every
mark that colour gives (a flagged difference, a settled record) is also in the text, because a night
job's log has no colour.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date, datetime, tzinfo

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from carteira.adapters.cli.json_output import record_state
from carteira.domain.money import Money
from carteira.domain.notifications import SeenEvent
from carteira.domain.operations import GatewayAccount, GatewayCharge, Operation, OperationStatus
from carteira.domain.return_batch import BatchStatus, ReturnBatch
from carteira.services.outbox import DrainReport
from carteira.services.payments import ProcessReport
from carteira.services.returns import ReviewRow

__all__ = [
    "FLAG",
    "account_lines",
    "batch_line",
    "batches_table",
    "moment",
    "operation_lines",
    "operations_table",
    "process_line",
    "report_line",
    "review_table",
    "shown",
    "table_console",
]

_UNBOUNDED_COLUMNS = 10_000
"""The width a table is laid out in when it goes to a pipe or a file: more than any table needs."""

FLAG = "!"
"""Written after a difference that a person should look at before confirming (B8), in red where there is colour."""

_STATUS_STYLE = {BatchStatus.IMPORTED: "cyan", BatchStatus.PENDING: "yellow", BatchStatus.COMPLETED: "green"}
_RECORD_STYLE = {"settled": "green", "linked": "cyan", "open": "bold"}
_OPERATION_STYLE = {OperationStatus.PENDING: "yellow", OperationStatus.SENT: "green",
                    OperationStatus.FAILED: "bold red", OperationStatus.UNKNOWN: "magenta"}  # fmt: skip


def shown(value: Money | date | str | None) -> str:
    """``value`` as the tables print it: an amount or an ISO date, or blank for nothing."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def table_console() -> Console:
    """Where a table goes: a terminal at its width (or ``COLUMNS``); a pipe or a log as wide as the table needs,
    so that no id is cut and no note wrapped where nobody will resize the window."""
    console = Console()
    if console.is_terminal or os.environ.get("COLUMNS"):
        return console
    return Console(width=_UNBOUNDED_COLUMNS)


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
    """The records of a batch for review (B6, B8): what the file said, the links, the difference, the file's flags
    (decision 0718), the state."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    for name in ("line", "mov."):
        table.add_column(name, justify="right")
    table.add_column("title")
    table.add_column("due")
    for name in ("paid", "corrected", "difference"):
        table.add_column(name, justify="right")
    # The flags column only when the file flagged a record: most batches have none, and keep their width.
    flagged = any(row.record.flags for row in rows)
    for name in ("links", "by", "flags", "state", "note") if flagged else ("links", "by", "state", "note"):
        table.add_column(name)
    for row in rows:
        record = row.record
        cells: list[str | Text] = [
            str(record.line),
            record.movement_code,
            record.bank_title_number or "",
            shown(record.due_date),
            shown(record.paid),
            shown(row.corrected),
            _difference(row),
            ", ".join(record.links),
            record.origin.name if record.origin is not None else "",
            *([_flags(row)] if flagged else []),
            _state(row),
            record.note,
        ]
        table.add_row(*cells)
    return table


def _difference(row: ReviewRow) -> Text:
    if row.difference is None:
        return Text("")
    if row.flagged:
        return Text(f"{row.difference} {FLAG}", style="bold red")
    return Text(str(row.difference))


def _flags(row: ReviewRow) -> Text:
    """The file's flags on the record: with ``!`` while they wait for a person, with who acknowledged them after."""
    record = row.record
    if not record.flags:
        return Text("")
    flags = ",".join(record.flags)
    if record.acknowledged_by is None:
        return Text(f"{flags} {FLAG}", style="bold red")
    return Text(f"{flags} (ack. {record.acknowledged_by})", style="dim")


def _state(row: ReviewRow) -> Text:
    """SETTLED, LINKED (waits for confirm) or OPEN (waits for a link) for a settlement record; else the category."""
    record = row.record
    state = record_state(record)
    if state is None:
        return Text(record.category, style="yellow" if record.is_rejection else "dim")
    return Text(state.upper(), style=_RECORD_STYLE[state])


def moment(value: datetime | None, zone: tzinfo, *, seconds: bool = True) -> str:
    """An instant in the command's time zone (the clock's): ISO with its offset, or ``YYYY-MM-DD HH:MM`` for a table."""
    if value is None:
        return ""
    local = value.astimezone(zone)
    return local.isoformat(timespec="seconds") if seconds else local.strftime("%Y-%m-%d %H:%M")


def _status(operation: Operation) -> str:
    """The status as tables print it, ``!`` after a flagged operation (failed, warned, or its document reversed)."""
    return f"{operation.status.name} {FLAG}" if operation.flagged else operation.status.name


def _note(operation: Operation) -> str:
    """Why an operation needs a look: its error, else its warnings, else its document's local reversal."""
    if operation.error is not None:
        return operation.error.message
    if operation.warnings:
        return "; ".join(operation.warnings)
    return "document reversed in carteira since" if operation.document_reversed else ""


def operations_table(operations: Sequence[Operation], zone: tzinfo) -> Table:
    """The operations panel (G8): one row per operation, newest first, a flagged one in red and marked ``!``."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    # The id is what ops show and ops resend take: never cut, whatever the width (a pipe is 80 columns).
    table.add_column("operation", no_wrap=True, min_width=max((len(op.id) for op in operations), default=9))
    table.add_column("created", no_wrap=True, min_width=16)
    for name in ("kind", "documents", "customer", "status"):
        table.add_column(name)
    table.add_column("tries", justify="right")
    table.add_column("field")
    table.add_column("note")
    for operation in operations:
        table.add_row(
            operation.id,
            moment(operation.created_at, zone, seconds=False),
            operation.kind.value,
            ", ".join(operation.documents),
            operation.customer_id or "",
            Text(_status(operation), style=_OPERATION_STYLE[operation.status]),
            str(operation.attempts),
            (operation.error.field or "") if operation.error is not None else "",
            _note(operation),
            style="red" if operation.flagged else None,
        )
    return table


def operation_lines(
    operation: Operation, charges: Sequence[GatewayCharge], zone: tzinfo, events: Sequence[SeenEvent] = ()
) -> list[str]:
    """Every field of one operation as ``label  value`` lines, the notifications about its charges (``events``),
    and its request and response as recorded (with no secret)."""
    error = operation.error
    rows = [
        ("created", moment(operation.created_at, zone)),
        ("documents", ", ".join(operation.documents)),
        ("customer", operation.customer_id or ""),
        ("attempts", str(operation.attempts)),
        ("sent at", moment(operation.sent_at, zone)),
        ("next attempt", moment(operation.next_attempt_at, zone)),
        ("unknown since", moment(operation.unknown_since, zone)),
        ("error", "" if error is None else error.message),
    ]
    if error is not None:
        rows += [
            ("error field", error.field or ""),
            ("error code", "" if error.code is None else str(error.code)),
            ("retryable", "yes" if error.retryable else "no"),
        ]
    rows += [
        ("arguments", ", ".join(f"{name}={value}" for name, value in operation.arguments)),
        ("reversed", "yes: the document was reversed in carteira since" if operation.document_reversed else "no"),
    ]
    rows += [("warning", warning) for warning in operation.warnings] or [("warnings", "")]
    rows += [("charge", _charge(charge)) for charge in charges]
    rows += [("notification", _event(event, zone)) for event in events]
    rows += [("request", operation.request), ("response", operation.response)]
    head = f"operation {operation.id}: {operation.kind.value}, {_status(operation)}"
    return [head] + [f"  {label:<14}{value}".rstrip() for label, value in rows]


def _charge(charge: GatewayCharge) -> str:
    where = f"carnet {charge.carnet_id} parcel {charge.parcel}" if charge.in_carnet else f"charge {charge.charge_id}"
    if charge.in_carnet:
        where += f" (charge {charge.charge_id})"
    return f"{charge.installment_id}: {where}, {charge.state.value}, due {shown(charge.due)}, {shown(charge.total)}"


def _event(event: SeenEvent, zone: tzinfo) -> str:
    done = f"settled {event.installment_id} ({event.settlement_id})" if event.settlement_id else "recorded"
    if event.flagged:
        done = f"FLAGGED: {event.note}"
    return f"{moment(event.seen_at, zone)} charge {event.charge_id}: {event.kind} {event.status}, {done}"


def report_line(report: DrainReport) -> str:
    """A drain's counts on one line: ``sent 3, failed 1, retrying 0, unknown 0, waiting 0``."""
    return (
        f"sent {report.sent}, failed {report.failed}, retrying {report.retrying}, "
        f"unknown {report.unknown}, waiting {report.waiting}"
    )


def process_line(report: ProcessReport) -> str:
    """What processing notifications did, on one line: ``tokens 3, events 4, settled 2, flagged 0, retrying 0``
    (and ``, refused N`` when the gateway did not know some tokens)."""
    line = (
        f"tokens {report.tokens}, events {report.events}, settled {report.settled}, "
        f"flagged {report.flagged}, retrying {report.retrying}"
    )
    return f"{line}, refused {report.refused}" if report.refused else line


def account_lines(account: GatewayAccount, *, secret_set: bool, secret_variable: str) -> list[str]:
    """The stored gateway account, and whether this environment supplies its secret (never the secret itself)."""
    secret = "set" if secret_set else "not set: ops resend and ops drain need it"
    return [
        f"gateway account {account.client_id} ({account.environment.value}), "
        + ("active" if account.active else "INACTIVE: nothing is sent"),
        f"  agreement      {account.agreement_id} (bank code {account.agreement_bank_code})",
        f"  bank account   {account.bank_account}",
        f"  payment fee    {shown(account.payment_fee)}",
        f"  history codes  receipt {account.receipt_history}, entries {account.entries_history}, "
        f"fees {account.fees_history}",
        f"  notify         {', '.join(account.notify) or 'nobody'}",
        f"  secret         {secret_variable} {secret}",
    ]
