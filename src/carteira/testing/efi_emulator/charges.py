"""The charge endpoints (reference §3 rows 2-13), `GET /charges` (row 6) and `GET /notification/:token` (row 26)."""

from __future__ import annotations

import json
from typing import Any

from carteira.testing.efi_emulator import responses, schema
from carteira.testing.efi_emulator.ledger import Ledger
from carteira.testing.efi_emulator.records import Charge
from carteira.testing.efi_emulator.refusals import EfiRefusal, invalid, missing, rule, unknown_id

OK: dict[str, Any] = {"code": 200}
BALANCE_SHEET_MAX_BYTES = 300 * 1024
Query = dict[str, list[str]]
Params = tuple[str, ...]


def ok(data: Any) -> dict[str, Any]:
    """Efí's success envelope."""
    return {"code": 200, "data": data}


def _payment_not_found(charge_id: int) -> EfiRefusal:
    return rule(4600001, f"Pagamento não encontrado para a cobrança {charge_id}.")


def _standalone(charge: Charge) -> None:
    if charge.carnet_id is not None:
        raise rule(3500084, "Parcelas de carnê devem ser alteradas pelos endpoints de carnê.")


def create_charge(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`POST /charge`: a `new` charge with no payment method yet."""
    checked = schema.charge_body(body, ledger.rules())
    charge = ledger.new_charge(checked, checked["metadata"])
    ledger.announce_new(charge)
    return ok(responses.charge_created(charge))


def _billet_rules(ledger: Ledger, charge_total: int, billet: dict[str, Any]) -> None:
    schema.value_floor(schema.after_discount(charge_total, billet["discount"]))
    ledger.payer_rules(schema.payer_document(billet["customer"]), charge_total)


def create_one_step(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`POST /charge/one-step`: a charge and its boleto at once (events `new`, then `waiting`)."""
    rules = ledger.rules()
    checked = schema.charge_body(body, rules, extra=("payment",))
    billet = schema.payment(body["payment"], rules)
    _billet_rules(ledger, checked["total"], billet)
    fingerprint = ledger.billet_fingerprint(checked["items"], checked["shippings"], checked["total"], billet)
    charge = ledger.new_charge(checked, checked["metadata"])
    ledger.announce_new(charge)
    ledger.attach_billet(charge, billet, fingerprint)
    return ok(responses.billet_created(charge, bolix=ledger.switches.bolix))


def pay(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`POST /charge/:id/pay`: give a `new` charge its boleto (3500030 if it has one, 3500044 if not payable)."""
    charge = ledger.charge(int(params[0]))
    raw = schema.obj(body, "", ("payment",), ("payment",))
    billet = schema.payment(raw["payment"], ledger.rules())
    if charge.method is not None:
        raise rule(3500030, "Esta cobrança já possui uma forma de pagamento definida.")
    if charge.status != "new":
        raise rule(3500044, f"A cobrança não pode ser paga no status atual ({charge.status}).")
    _billet_rules(ledger, charge.total, billet)
    fingerprint = ledger.billet_fingerprint(charge.items, charge.shippings, charge.total, billet)
    ledger.attach_billet(charge, billet, fingerprint)
    return ok(responses.billet_created(charge, bolix=ledger.switches.bolix))


def detail(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`GET /charge/:id`."""
    return ok(responses.charge_detail(ledger.charge(int(params[0])), bolix=ledger.switches.bolix))


def update_metadata(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`PUT /charge/:id/metadata`: a carnê parcel's metadata belongs to the carnê (3500100)."""
    charge = ledger.charge(int(params[0]))
    checked = schema.metadata(body, "")
    if charge.carnet_id is not None:
        raise rule(3500100, "Os metadados de uma parcela devem ser alterados no carnê.")
    if "custom_id" in checked:
        charge.custom_id = checked["custom_id"]
    if "notification_url" in checked:
        charge.notification_url = checked["notification_url"]
    return OK


def due_date_body(body: Any, pointer: str = "") -> Any:
    """The raw `expire_at` of an `{expire_at}` body, well formed (3500023 absent, 3500034 malformed)."""
    raw = schema.obj(body, pointer, ("expire_at",))
    if "expire_at" not in raw:
        raise missing(f"{pointer}/expire_at")
    schema.calendar_date(raw["expire_at"], f"{pointer}/expire_at")
    return raw["expire_at"]


def update_billet(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`PUT /charge/:id/billet`: a new due date (3500036 not a boleto, 3500038 status, 4600007 date)."""
    charge = ledger.charge(int(params[0]), missing=_payment_not_found(int(params[0])))
    raw_due = due_date_body(body)
    if charge.method != "banking_billet":
        raise rule(3500036, "A cobrança informada não é um boleto.")
    ledger.require_movable(charge)
    ledger.move_due_date(charge, schema.due_date(raw_due, "/expire_at", ledger.rules()))
    return OK


def cancel(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`PUT /charge/:id/cancel` (3500084 for a parcel, 3500043 for a resolved charge)."""
    charge = ledger.charge(int(params[0]), missing=_payment_not_found(int(params[0])))
    _standalone(charge)
    ledger.cancel(charge)
    return OK


def settle(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`PUT /charge/:id/settle`: marked as paid by hand, no value (3500084 parcel, 3500069 status)."""
    charge = ledger.charge(int(params[0]))
    _standalone(charge)
    ledger.settle(charge)
    return OK


def email(body: Any) -> str:
    """The `{email}` body of the resend endpoints (3500023 when absent)."""
    raw = schema.obj(body, "", ("email",))
    if "email" not in raw:
        raise missing("/email")
    return schema.text(raw["email"], "/email", pattern=schema.EMAIL_PATTERN)


def note(ledger: Ledger, history: list[dict[str, str]], message: str) -> None:
    """Append a history line stamped now."""
    history.append({"message": message, "created_at": responses.stamp(ledger.clock.now()) or ""})


def resend_billet(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`POST /charge/:id/billet/resend` (3500066 unless `waiting`)."""
    charge = ledger.charge(int(params[0]))
    address = email(body)
    _standalone(charge)
    if charge.method != "banking_billet":
        raise rule(3500036, "A cobrança informada não é um boleto.")
    if not ledger.resendable(charge):
        raise rule(3500066, f"Somente boletos com status waiting podem ser reenviados (status atual: {charge.status}).")
    note(ledger, charge.history, f"Boleto reenviado para {address}")
    return OK


def description(body: Any) -> str:
    """The `{description}` body of the history endpoints, 1-255 characters."""
    raw = schema.obj(body, "", ("description",), ("description",))
    return schema.text(raw["description"], "/description")


def add_history(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`POST /charge/:id/history`."""
    charge = ledger.charge(int(params[0]))
    note(ledger, charge.history, description(body))
    return OK


def balance_sheet(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`POST /charge/:id/balance-sheet`: the layout is stored, not rendered; at most 300 KB."""
    charge = ledger.charge(int(params[0]))
    if not isinstance(body, dict):
        raise invalid("/", "O valor deve ser um objeto.")
    if len(json.dumps(body, ensure_ascii=False).encode()) > BALANCE_SHEET_MAX_BYTES:
        raise invalid("/", "O corpo do balancete ultrapassa 300 KB.")
    if charge.method != "banking_billet":
        raise rule(3500036, "A cobrança informada não é um boleto.")
    charge.balance_sheet = body
    return OK


def notification(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`GET /notification/:token`: every event of the token in the last six months, oldest first."""
    events = ledger.book.read(params[0], ledger.clock.now())
    if events is None:
        raise unknown_id("token", params[0])
    return ok(events)
