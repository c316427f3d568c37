"""The carnê endpoints (reference §3 rows 14-25)."""

from __future__ import annotations

import json
from typing import Any

from carteira.testing.efi_emulator import responses, schema
from carteira.testing.efi_emulator.charges import OK, Params, Query, description, due_date_body, email, note, ok
from carteira.testing.efi_emulator.ledger import Ledger
from carteira.testing.efi_emulator.records import CANCELLABLE, DUE_DATE_MOVABLE, Carnet, Charge
from carteira.testing.efi_emulator.refusals import EfiRefusal, invalid, missing, rule


def _fingerprint(checked: dict[str, Any]) -> str:
    return json.dumps(
        [
            "carnet",
            checked["items"],
            schema.payer_document(checked["customer"]),
            checked["expire_at"],
            checked["repeats"],
            checked["split_items"],
        ],
        sort_keys=True,
        default=str,
    )


def _parcel_terms(checked: dict[str, Any], due: Any) -> dict[str, Any]:
    return {
        "expire_at": due,
        "customer": checked["customer"],
        "configurations": checked["configurations"],
        "discount": checked["discount"],
        "conditional_discount": checked["conditional_discount"],
        "message": checked["message"],
    }


def create_carnet(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`POST /carnet`: `repeats` parcels falling monthly on the first due date's day."""
    switches = ledger.switches
    checked = schema.carnet_body(body, ledger.rules())
    values = schema.parcel_values(
        checked["total"], checked["repeats"], split=checked["split_items"], remainder=switches.split_remainder
    )
    for value in values:
        schema.value_floor(schema.after_discount(value, checked["discount"]))
        if switches.parcel_value_limit_cents is not None and value > switches.parcel_value_limit_cents:
            raise rule(4600057, "O valor da parcela ultrapassa o limite permitido para a conta.")
    ledger.payer_rules(schema.payer_document(checked["customer"]), sum(values))
    fingerprint = _fingerprint(checked)
    ledger.refuse_third_identical(fingerprint, lambda carnet_id: ledger.carnets[carnet_id].status)
    metadata = checked["metadata"]
    carnet = Carnet(
        carnet_id=ledger.next_carnet_id(),
        token=ledger.book.new_token(),
        created_at=ledger.clock.now(),
        terms=checked,
        custom_id=metadata.get("custom_id"),
        notification_url=metadata.get("notification_url"),
        status=switches.carnet_active_status,
        charge_ids=[],
        fingerprint=fingerprint,
    )
    ledger.carnets[carnet.carnet_id] = carnet
    ledger.remember_identical(fingerprint, carnet.carnet_id)
    ledger.set_carnet_status(carnet, None, None)
    for index, value in enumerate(values):
        due = schema.add_months(checked["expire_at"], index, switches.parcel_day_overflow)
        parcel = ledger.new_charge(
            {"items": checked["items"], "shippings": [], "total": value},
            {"custom_id": carnet.custom_id},
            token=carnet.token,
        )
        parcel.carnet_id, parcel.parcel, parcel.method = carnet.carnet_id, index + 1, "carnet"
        parcel.billet, parcel.payment_created_at = _parcel_terms(checked, due), ledger.clock.now()
        carnet.charge_ids.append(parcel.charge_id)
        ledger.set_status(parcel, "waiting")
    return ok(responses.carnet_created(carnet, ledger.parcels(carnet), bolix=switches.bolix))


def detail(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`GET /carnet/:id`."""
    carnet = ledger.carnet(int(params[0]))
    return ok(responses.carnet_detail(carnet, ledger.parcels(carnet), bolix=ledger.switches.bolix))


def update_metadata(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`PUT /carnet/:id/metadata`: the custom_id follows to every parcel."""
    carnet = ledger.carnet(int(params[0]))
    checked = schema.metadata(body, "")
    if "custom_id" in checked:
        carnet.custom_id = checked["custom_id"]
        for parcel in ledger.parcels(carnet):
            parcel.custom_id = checked["custom_id"]
    if "notification_url" in checked:
        carnet.notification_url = checked["notification_url"]
    return OK


def _open(ledger: Ledger, carnet: Carnet) -> None:
    if carnet.status == "finished":
        raise rule(3500083, "Um carnê finalizado não pode ser alterado.")
    if carnet.status == ledger.switches.carnet_status_after_cancel:
        raise rule(3500068, f"Somente carnês ativos podem ser alterados (status atual: {carnet.status}).")


def _parcel(ledger: Ledger, params: Params) -> tuple[Carnet, Charge]:
    carnet = ledger.carnet(int(params[0]))
    return carnet, ledger.parcel(carnet, int(params[1]))


def update_parcel(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`PUT /carnet/:id/parcel/:parcel`: a new due date for one parcel (3500038 status, 4600007 date)."""
    _, parcel = _parcel(ledger, params)
    raw_due = due_date_body(body)
    ledger.require_movable(parcel)
    ledger.move_due_date(parcel, schema.due_date(raw_due, "/expire_at", ledger.rules()))
    return OK


def _bulk_entries(body: Any) -> list[tuple[int, Any]]:
    raw = schema.obj(body, "", ("parcels",), ("parcels",))
    if not isinstance(raw["parcels"], list) or not raw["parcels"]:
        raise invalid("/parcels", "Informe ao menos uma parcela.")
    entries = []
    for index, item in enumerate(raw["parcels"]):
        at = f"/parcels/{index}"
        entry = schema.obj(item, at, ("parcel", "expire_at"))
        if "parcel" not in entry:
            raise missing(f"{at}/parcel")
        number = schema.integer(entry["parcel"], f"{at}/parcel", 1)
        if "expire_at" not in entry:
            raise missing(f"{at}/expire_at")
        schema.calendar_date(entry["expire_at"], f"{at}/expire_at")
        entries.append((number, entry["expire_at"]))
    return entries


def update_parcels(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`PUT /carnet/:id/parcels`: all or nothing; 3500101 names every parcel it refuses and why."""
    carnet = ledger.carnet(int(params[0]))
    entries = _bulk_entries(body)
    rules = ledger.rules()
    reasons, moves = [], []
    for number, raw_due in entries:
        due = schema.calendar_date(raw_due, "/expire_at")
        if not 1 <= number <= len(carnet.charge_ids):
            reasons.append(f"parcela {number}: não existe")
            continue
        parcel = ledger.parcel(carnet, number)
        if parcel.status not in DUE_DATE_MOVABLE:
            reasons.append(f"parcela {number}: status {parcel.status} não permite alteração")
        elif due < rules.today or (due == rules.today and not rules.switches.due_date_today_allowed):
            reasons.append(f"parcela {number}: a data {due.isoformat()} é anterior à data atual")
        elif parcel.expire_at is not None and due < parcel.expire_at:
            reasons.append(f"parcela {number}: a nova data não pode ser anterior ao vencimento atual")
        else:
            moves.append((parcel, due))
    if reasons:
        raise EfiRefusal(3500101, "; ".join(reasons), kind="business", error="update_parcels")
    for parcel, due in moves:
        ledger.move_due_date(parcel, due)
    return OK


def cancel(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`PUT /carnet/:id/cancel`: every open parcel is cancelled; the carnê takes the switch's status."""
    carnet = ledger.carnet(int(params[0]))
    _open(ledger, carnet)
    # The carnê changes first, so its parcels' cancellations do not derive `finished` on the way.
    ledger.set_carnet_status(carnet, ledger.switches.carnet_status_after_cancel, carnet.status)
    for parcel in ledger.parcels(carnet):
        if parcel.status in CANCELLABLE:
            ledger.set_status(parcel, "canceled")
    return OK


def cancel_parcel(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`PUT /carnet/:id/parcel/:parcel/cancel` (3500083 finished, 3500068 cancelled carnê, 3500043 status)."""
    carnet, parcel = _parcel(ledger, params)
    _open(ledger, carnet)
    ledger.cancel(parcel)
    return OK


def settle(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`PUT /carnet/:id/settle`: every settleable parcel is marked as paid (3500083 finished, 3500069 none)."""
    carnet = ledger.carnet(int(params[0]))
    if carnet.status == "finished":
        raise rule(3500083, "Um carnê finalizado não pode ser alterado.")
    settleable = [p for p in ledger.parcels(carnet) if ledger.settleable(p)]
    if not settleable:
        raise rule(3500069, "Nenhuma parcela do carnê pode ser marcada como paga.")
    for parcel in settleable:
        ledger.set_status(parcel, "settled")
    return OK


def settle_parcel(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`PUT /carnet/:id/parcel/:parcel/settle` (3500083 finished, 3500069 status)."""
    carnet, parcel = _parcel(ledger, params)
    if carnet.status == "finished":
        raise rule(3500083, "Um carnê finalizado não pode ser alterado.")
    ledger.settle(parcel)
    return OK


def resend(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`POST /carnet/:id/resend` (3500083 finished, 3500068 cancelled, 3500066 nothing waiting)."""
    carnet = ledger.carnet(int(params[0]))
    address = email(body)
    _open(ledger, carnet)
    if not any(ledger.resendable(p) for p in ledger.parcels(carnet)):
        raise rule(3500066, "Somente carnês com parcelas em aberto (waiting) podem ser reenviados.")
    note(ledger, carnet.history, f"Carnê reenviado para {address}")
    return OK


def resend_parcel(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`POST /carnet/:id/parcel/:parcel/resend` (3500083, 3500068, 3500066 unless the parcel is `waiting`)."""
    carnet, parcel = _parcel(ledger, params)
    address = email(body)
    _open(ledger, carnet)
    if not ledger.resendable(parcel):
        raise rule(
            3500066, f"Somente parcelas com status waiting podem ser reenviadas (status atual: {parcel.status})."
        )
    note(ledger, parcel.history, f"Parcela reenviada para {address}")
    return OK


def add_history(ledger: Ledger, params: Params, query: Query, body: Any) -> dict[str, Any]:
    """`POST /carnet/:id/history`."""
    carnet = ledger.carnet(int(params[0]))
    note(ledger, carnet.history, description(body))
    return OK
