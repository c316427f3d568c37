"""What ``--json`` prints: one JSON document on stdout, in words a script can rely on (decision 0604).

Keys are the Python attribute names; enums are their stored values (``"failed"``, ``"issue_billet"``);
amounts are strings as the library writes them (``"2.50"``), never floats; instants are ISO 8601 with
the offset of the command's clock, dates ISO; a missing value is ``null``. Nothing here knows click.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

import attrs

from carteira.domain.money import Money
from carteira.domain.notifications import SeenEvent
from carteira.domain.operations import GatewayAccount, GatewayCharge, Operation
from carteira.domain.return_batch import BatchRecord, ReturnBatch
from carteira.services.confirmation import ConfirmReport
from carteira.services.outbox import DrainReport
from carteira.services.payments import ProcessReport
from carteira.services.returns import AutoLinkReport, ReviewRow

__all__ = [
    "account_json",
    "auto_link_json",
    "batch_json",
    "charge_json",
    "confirm_json",
    "dumps",
    "event_json",
    "operation_json",
    "process_json",
    "record_json",
    "record_state",
    "report_json",
    "review_json",
]

Json = dict[str, Any]


def dumps(document: object) -> str:
    """``document`` as one line of JSON text (UTF-8 kept as is: names and messages are Portuguese)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def operation_json(
    operation: Operation,
    zone: tzinfo,
    charges: Sequence[GatewayCharge] | None = None,
    events: Sequence[SeenEvent] | None = None,
) -> Json:
    """Every field of ``operation`` but its storage version; with ``charges`` and ``events`` (``ops show``), the
    charges it made and the notifications about them."""
    error = operation.error

    def instant(name: str) -> str | None:
        value = getattr(operation, name)
        return None if value is None else value.astimezone(zone).isoformat()

    found: Json = {
        "id": operation.id,
        "kind": operation.kind.value,
        "status": operation.status.value,
        "flagged": operation.flagged,
        "documents": list(operation.documents),
        "customer_id": operation.customer_id,
        "created_at": instant("created_at"),
        "attempts": operation.attempts,
        "sent_at": instant("sent_at"),
        "next_attempt_at": instant("next_attempt_at"),
        "unknown_since": instant("unknown_since"),
        "error": None if error is None else attrs.asdict(error),
        "warnings": list(operation.warnings),
        "document_reversed": operation.document_reversed,
        "arguments": dict(operation.arguments),
        "request": operation.request,
        "response": operation.response,
    }
    if charges is not None:
        found["charges"] = [charge_json(charge) for charge in charges]
    if events is not None:
        found["notifications"] = [event_json(event, zone) for event in events]
    return found


def event_json(event: SeenEvent, zone: tzinfo) -> Json:
    """One recorded event of a notification and what carteira did with it."""
    found: Json = attrs.asdict(event)
    found["seen_at"] = event.seen_at.astimezone(zone).isoformat()
    return found


def charge_json(charge: GatewayCharge) -> Json:
    """Which charge at the gateway an installment is, as ``ops show`` lists it."""
    return {
        "installment_id": charge.installment_id,
        "operation_id": charge.operation_id,
        "charge_id": charge.charge_id,
        "carnet_id": charge.carnet_id,
        "parcel": charge.parcel,
        "state": charge.state.value,
        "due": charge.due.isoformat(),
        "total": str(charge.total),
        "barcode": charge.barcode,
        "link": charge.link,
    }


def report_json(report: DrainReport) -> Json:
    """A drain's counts: ``sent``, ``failed``, ``retrying``, ``unknown``, ``waiting``."""
    return attrs.asdict(report)


def process_json(report: ProcessReport) -> Json:
    """What processing notifications did: ``tokens``, ``events``, ``settled``, ``flagged``, ``retrying``,
    ``refused``."""
    return attrs.asdict(report)


def account_json(account: GatewayAccount, *, secret_set: bool, secret_variable: str) -> Json:
    """The stored account and whether the environment supplies its secret; never the secret itself."""
    return {
        "client_id": account.client_id,
        "environment": account.environment.value,
        "agreement_id": account.agreement_id,
        "agreement_bank_code": account.agreement_bank_code,
        "bank_account": account.bank_account,
        "payment_fee": str(account.payment_fee),
        "receipt_history": account.receipt_history,
        "entries_history": account.entries_history,
        "fees_history": account.fees_history,
        "active": account.active,
        "notify": list(account.notify),
        "secret_variable": secret_variable,
        "secret_set": secret_set,
    }


def _plain(value: object, zone: tzinfo) -> object:
    """A field's value as decision 0604 words it: amounts and rates as text, enums by value, instants in ``zone``."""
    if isinstance(value, Money | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(item, zone) for item in value]
    return value


def _fields(instance: ReturnBatch | BatchRecord, zone: tzinfo) -> Json:
    """Every field of a batch or a record but its storage version, as :func:`_plain` writes each."""
    return {
        field.name: _plain(getattr(instance, field.name), zone)
        for field in attrs.fields(type(instance))
        if field.name != "version"
    }


def batch_json(batch: ReturnBatch, zone: tzinfo) -> Json:
    """A return batch: its file (source, digest, layout, bank, agreement, sequence), status and warnings."""
    return _fields(batch, zone)


def record_json(record: BatchRecord, zone: tzinfo) -> Json:
    """A batch's record: what the file said, its links and who made them, its settlements and flags; ``state``
    is ``"settled"``, ``"linked"`` or ``"open"`` for a settlement record (``null`` for any other movement)."""
    found = _fields(record, zone)
    found["state"] = record_state(record)
    found["awaits_acknowledgement"] = record.awaits_acknowledgement
    return found


def record_state(record: BatchRecord) -> str | None:
    """``"settled"``, ``"linked"`` (waits for confirm) or ``"open"`` (waits for a link) for a settlement record;
    ``None`` for any other movement. The JSON's ``state`` and the review table's column both read it."""
    if not record.is_settlement:
        return None
    if record.is_settled:
        return "settled"
    return "linked" if record.links else "open"


def review_json(row: ReviewRow, zone: tzinfo) -> Json:
    """A record as ``returns show`` reviews it: the record, the amount due it was compared with, the difference
    and whether the two differ (B8)."""
    return {
        "record": record_json(row.record, zone),
        "corrected": _plain(row.corrected, zone),
        "difference": _plain(row.difference, zone),
        "flagged": row.flagged,
    }


def _reasons(by_line: Mapping[int, str]) -> list[Json]:
    """Reasons by line as a list in line order (JSON keys are texts; a line is a number)."""
    return [{"line": line, "reason": reason} for line, reason in sorted(by_line.items())]


def auto_link_json(report: AutoLinkReport) -> Json:
    """What auto-link did: ``linked``, and ``left_open`` as ``{"line", "reason"}`` in line order."""
    return {"linked": report.linked, "left_open": _reasons(report.left_open)}


def confirm_json(report: ConfirmReport) -> Json:
    """What a confirm did: ``settled``, ``refused`` as ``{"line", "reason"}``, the batch's ``status`` after it,
    the ``anticipations`` created and the installments ``observations`` noted instead."""
    return {
        "batch_id": report.batch_id,
        "settled": report.settled,
        "refused": _reasons(report.refused),
        "status": report.status.value,
        "anticipations": list(report.anticipations),
        "observations": report.observations,
    }
