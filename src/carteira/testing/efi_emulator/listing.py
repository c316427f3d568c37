"""`GET /v1/charges` (reference §3 row 6): the filters an integrator uses to find a charge again."""

from __future__ import annotations

from datetime import date
from typing import Any

from carteira.testing.efi_emulator import responses, schema
from carteira.testing.efi_emulator.ledger import Ledger
from carteira.testing.efi_emulator.records import Charge
from carteira.testing.efi_emulator.refusals import invalid, unknown_property

CHARGE_TYPES = ("billet", "carnet", "subscription", "card")
DATE_OF = ("creation", "payment", "expired")
FILTERS = (
    "charge_type",
    "begin_date",
    "end_date",
    "date_of",
    "status",
    "customer_document",
    "custom_id",
    "value",
    "limit",
    "page",
    "offset",
)


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _number(query: dict[str, list[str]], name: str, minimum: int) -> int | None:
    raw = _one(query, name)
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < minimum:
        raise invalid(f"/{name}", f"O valor deve ser um número inteiro maior ou igual a {minimum}.")
    return int(raw)


def _dated(charge: Charge, date_of: str) -> date | None:
    if date_of == "creation":
        return charge.created_at.date()
    if date_of == "payment":
        return charge.paid_at.date() if charge.paid_at else None
    return charge.expire_at


def _of_type(charge: Charge, charge_type: str) -> bool:
    # A charge created by POST /charge has no method yet; it is listed with the boletos (see decision 0401).
    if charge_type == "billet":
        return charge.carnet_id is None
    if charge_type == "carnet":
        return charge.carnet_id is not None
    return False  # subscriptions and cards are not emulated


def _matches(charge: Charge, query: dict[str, list[str]], value: int | None) -> bool:
    status, document, custom_id = _one(query, "status"), _one(query, "customer_document"), _one(query, "custom_id")
    return (
        (status is None or charge.status == status)
        and (document is None or charge.document == document)
        and (custom_id is None or charge.custom_id == custom_id)
        and (value is None or charge.total == value)
    )


def list_charges(ledger: Ledger, params: tuple[str, ...], query: dict[str, list[str]], body: Any) -> dict[str, Any]:
    """Charges of one type whose creation, payment or due date falls in [begin_date, end_date], paginated."""
    for name in query:
        if name not in FILTERS:
            raise unknown_property(f"/{name}")
    for name in ("charge_type", "begin_date", "end_date"):
        if _one(query, name) is None:
            raise invalid(f"/{name}", "Parâmetro obrigatório não informado.")
    charge_type = _one(query, "charge_type")
    if charge_type not in CHARGE_TYPES:
        raise invalid("/charge_type", f"O valor deve ser um de {', '.join(CHARGE_TYPES)}.")
    begin = schema.calendar_date(_one(query, "begin_date"), "/begin_date")
    end = schema.calendar_date(_one(query, "end_date"), "/end_date")
    if end < begin:
        raise invalid("/end_date", "end_date deve ser igual ou posterior a begin_date.")
    date_of = _one(query, "date_of") or "creation"
    if date_of not in DATE_OF:
        raise invalid("/date_of", f"O valor deve ser um de {', '.join(DATE_OF)}.")
    value = _number(query, "value", 0)
    limit = min(_number(query, "limit", 1) or ledger.switches.list_default_limit, ledger.switches.list_limit_max)
    page = _number(query, "page", 1) or 1
    offset = _number(query, "offset", 0)
    start = offset if offset is not None else (page - 1) * limit
    custom_id = _one(query, "custom_id")
    # Narrowed by custom_id first: a look-up by operation id among thousands of charges stays cheap.
    pool = [c for c in ledger.charges.values() if custom_id is None or c.custom_id == custom_id]
    selected = []
    for charge in sorted(pool, key=lambda c: c.charge_id):
        when = _dated(charge, date_of)
        in_range = when is not None and begin <= when <= end
        if in_range and _of_type(charge, charge_type) and _matches(charge, query, value):
            selected.append(charge)
    echoed = {name: _one(query, name) for name in FILTERS if name in query and name not in ("limit", "page", "offset")}
    return {
        "code": 200,
        "data": [responses.list_entry(c, ledger.switches) for c in selected[start : start + limit]],
        "params": {**echoed, "pagination": {"limit": limit, "offset": start, "page": page}},
    }
