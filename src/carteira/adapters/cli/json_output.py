"""What ``--json`` prints: one JSON document on stdout, in words a script can rely on (decision 0604).

Keys are the Python attribute names; enums are their stored values (``"failed"``, ``"issue_billet"``);
amounts are strings as the library writes them (``"2.50"``), never floats; instants are ISO 8601 with
the offset of the command's clock, dates ISO; a missing value is ``null``. Nothing here knows click.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

import attrs

from carteira.domain.notifications import SeenEvent
from carteira.domain.operations import GatewayAccount, GatewayCharge, Operation
from carteira.services.outbox import DrainReport
from carteira.services.payments import ProcessReport

__all__ = ["account_json", "charge_json", "dumps", "event_json", "operation_json", "process_json", "report_json"]

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
