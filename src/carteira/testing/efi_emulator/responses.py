"""The JSON shapes Efí answers with (reference §5), rendered from the emulator's records."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from carteira.testing.efi_emulator.barcodes import linha_digitavel
from carteira.testing.efi_emulator.records import Carnet, Charge
from carteira.testing.efi_emulator.switches import Switches

TIMESTAMP = "%Y-%m-%d %H:%M:%S"
LINK_BASE = "https://efi-emulator.invalid"  # .invalid never resolves: a link cannot leak to a real host


def stamp(moment: datetime | None) -> str | None:
    """Efí's zone-less timestamp, ``YYYY-MM-DD HH:MM:SS``."""
    return None if moment is None else moment.strftime(TIMESTAMP)


def _pix(charge: Charge) -> dict[str, str]:
    payload = f"00020101021226830014BR.GOV.BCB.PIX2561efi-emulator.invalid/cobv/{charge.charge_id}5204000053039865802BR"
    svg = f"<svg xmlns='http://www.w3.org/2000/svg'><text>{charge.charge_id}</text></svg>"
    return {"qrcode": payload, "qrcode_image": "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()}


def _barcode(charge: Charge) -> str:
    assert charge.expire_at is not None, charge  # only charges with a boleto have a barcode
    return linha_digitavel(charge.charge_id, charge.expire_at, charge.total)


def _links(charge: Charge) -> dict[str, Any]:
    base = f"{LINK_BASE}/emissao/{charge.charge_id}"
    return {"link": f"{base}/responsive", "billet_link": base, "pdf": {"charge": f"{base}.pdf"}}


def billet_created(charge: Charge, *, bolix: bool) -> dict[str, Any]:
    """`data` of one-step and `/pay`."""
    assert charge.expire_at is not None, charge
    data: dict[str, Any] = {
        "charge_id": charge.charge_id,
        "status": charge.status,
        "total": charge.total,
        "payment": "banking_billet",
        "barcode": _barcode(charge),
        **_links(charge),
        "expire_at": charge.expire_at.isoformat(),
    }
    if bolix:
        data["pix"] = _pix(charge)
    return data


def charge_created(charge: Charge) -> dict[str, Any]:
    """`data` of `POST /charge`."""
    return {
        "charge_id": charge.charge_id,
        "status": charge.status,
        "total": charge.total,
        "custom_id": charge.custom_id,
        "created_at": stamp(charge.created_at),
    }


def _customer(charge: Charge) -> dict[str, Any]:
    """The payer as `GET /charge/:id` shows it (decision 0403): what was sent, with Efí's nulls filled in."""
    assert charge.billet is not None, charge
    customer = dict(charge.billet["customer"])
    company = customer.pop("juridical_person", None)
    if company is not None:
        # A company payer's person fields are null, not missing, in the detail (NODE-EFI1 types them required).
        customer = {"name": None, "cpf": None, **customer, **company}
    if "address" in customer:
        customer["address"] = {"complement": None, **customer["address"]}
    return customer


def _list_customer(charge: Charge) -> dict[str, Any]:
    """The payer as `GET /charges` shows it (decision 0403): who pays, and a phone that is null when none was sent."""
    assert charge.billet is not None, charge
    customer = charge.billet["customer"]
    company = customer.get("juridical_person")
    who = dict(company) if company is not None else {"name": customer["name"], "cpf": customer["cpf"]}
    return {**who, "phone_number": customer.get("phone_number")}


def _parcel_links(charge: Charge) -> dict[str, Any]:
    base = f"{LINK_BASE}/emissao/{charge.charge_id}"
    return {"url": base, "parcel_link": f"{base}/parcela", "pdf": {"charge": f"{base}.pdf"}}


def _parcel_block(charge: Charge, *, bolix: bool, parcel_as_int: bool) -> dict[str, Any]:
    assert charge.expire_at is not None, charge
    assert charge.parcel is not None, charge
    block: dict[str, Any] = {
        "parcel": charge.parcel if parcel_as_int else str(charge.parcel),
        "barcode": _barcode(charge),
        **_parcel_links(charge),
        "expire_at": charge.expire_at.isoformat(),
    }
    if bolix:
        block["pix"] = _pix(charge)
    return block


def _configurations(charge: Charge) -> dict[str, Any]:
    assert charge.billet is not None, charge
    terms = charge.billet["configurations"]
    shown = {"interest_type": terms["interest_type"], "interest": terms["interest"], "fine": terms["fine"]}
    if "days_to_write_off" in terms:
        shown["days_to_write_off"] = terms["days_to_write_off"]
    return shown


def charge_detail(charge: Charge, *, bolix: bool) -> dict[str, Any]:
    """`data` of `GET /charge/:id`: no paid date or amount (reference §5)."""
    data: dict[str, Any] = {
        "charge_id": charge.charge_id,
        "total": charge.total,
        "status": charge.status,
        "custom_id": charge.custom_id,
        "created_at": stamp(charge.created_at),
        "notification_url": charge.notification_url,
        "items": [dict(i) for i in charge.items],
        "history": [dict(h) for h in charge.history],
    }
    if charge.shippings:
        data["shippings"] = [dict(s) for s in charge.shippings]
    if charge.billet is None:
        return data
    data["customer"] = _customer(charge)
    payment: dict[str, Any] = {
        "method": charge.method,
        "created_at": stamp(charge.payment_created_at),
        "message": charge.billet.get("message"),
    }
    if charge.method == "carnet":
        payment["carnet"] = {
            **_parcel_block(charge, bolix=bolix, parcel_as_int=True),
            "configurations": _configurations(charge),
        }
    else:
        assert charge.expire_at is not None, charge
        block: dict[str, Any] = {
            "barcode": _barcode(charge),
            "link": _links(charge)["link"],
            "pdf": _links(charge)["pdf"],
            "expire_at": charge.expire_at.isoformat(),
            "configurations": _configurations(charge),
        }
        if bolix:
            block["pix"] = _pix(charge)
        payment["banking_billet"] = block
    data["payment"] = payment
    return data


def _list_configurations(charge: Charge, switches: Switches) -> dict[str, Any]:
    # A carnê sets no days_to_write_off, yet the list shows one: the account default the ledger also applies.
    assert charge.billet is not None, charge
    terms = charge.billet["configurations"]
    return {
        "days_to_write_off": terms.get("days_to_write_off", switches.default_days_to_write_off),
        "interest_type": terms["interest_type"],
        "interest": terms["interest"],
        "fine": terms["fine"],
    }


def _list_method_block(charge: Charge, switches: Switches) -> dict[str, Any]:
    assert charge.expire_at is not None, charge
    if charge.method != "carnet":
        links = _links(charge)
        return {
            "banking_billet": {
                "barcode": _barcode(charge),
                "link": links["link"],
                "pdf": links["pdf"],
                "expire_at": charge.expire_at.isoformat(),
            }
        }
    links = _parcel_links(charge)
    # A parcel's `link` is its responsive page: the `parcel_link` of POST /carnet and GET /charge/:id.
    block: dict[str, Any] = {
        "parcel": charge.parcel,
        "barcode": _barcode(charge),
        "link": links["parcel_link"],
        "pdf": links["pdf"],
        "expire_at": charge.expire_at.isoformat(),
        "configurations": _list_configurations(charge, switches),
    }
    if switches.list_parcel_carnet_id:
        block["carnet_id"] = charge.carnet_id
    return {"carnet": block}


def list_entry(charge: Charge, switches: Switches) -> dict[str, Any]:
    """One `data[]` entry of `GET /charges`: `id`, not `charge_id`; the only place with paid_at/paid_value.

    Which fields are present, null or absent follows the SDKs' list types (decision 0403).
    """
    entry: dict[str, Any] = {
        "id": charge.charge_id,
        "total": charge.total,
        "status": charge.status,
        "custom_id": charge.custom_id,
        "created_at": stamp(charge.created_at),
    }
    if charge.billet is None:
        return entry  # a `new` charge has neither payer nor payment method yet
    entry["customer"] = _list_customer(charge)
    payment: dict[str, Any] = {"payment_method": charge.method, "paid_at": stamp(charge.paid_at)}
    if charge.paid_value is not None:
        assert charge.received_by_bank_at is not None, charge
        payment["paid_value"] = charge.paid_value
        payment["received_by_bank_at"] = charge.received_by_bank_at.isoformat()
    if switches.bolix:
        payment["pix"] = _pix(charge)  # on the payment, not inside the boleto, in the list
    entry["payment"] = {**payment, **_list_method_block(charge, switches)}
    return entry


def _carnet_links(carnet: Carnet) -> dict[str, Any]:
    base = f"{LINK_BASE}/carne/{carnet.carnet_id}"
    return {
        "cover": f"{base}/capa",
        "link": base,
        "carnet_link": f"{base}/responsive",
        "pdf": {"carnet": f"{base}.pdf", "cover": f"{base}/capa.pdf"},
    }


def carnet_created(carnet: Carnet, parcels: list[Charge], *, bolix: bool) -> dict[str, Any]:
    """`data` of `POST /carnet`: `parcel` is a string here."""
    charges = [
        {
            "charge_id": p.charge_id,
            "status": p.status,
            "value": p.total,
            **_parcel_block(p, bolix=bolix, parcel_as_int=False),
        }
        for p in parcels
    ]
    return {"carnet_id": carnet.carnet_id, "status": carnet.status, **_carnet_links(carnet), "charges": charges}


def carnet_detail(carnet: Carnet, parcels: list[Charge], *, bolix: bool) -> dict[str, Any]:
    """`data` of `GET /carnet/:id`: `parcel` is an integer here, with each parcel's configurations."""
    charges = [
        {
            "charge_id": p.charge_id,
            "status": p.status,
            "value": p.total,
            **_parcel_block(p, bolix=bolix, parcel_as_int=True),
            "configurations": _configurations(p),
        }
        for p in parcels
    ]
    return {
        "carnet_id": carnet.carnet_id,
        "status": carnet.status,
        "repeats": carnet.terms["repeats"],
        "value": sum(p.total for p in parcels),
        "custom_id": carnet.custom_id,
        "notification_url": carnet.notification_url,
        "split_items": carnet.terms["split_items"],
        "created_at": stamp(carnet.created_at),
        "history": [dict(h) for h in carnet.history],
        **_carnet_links(carnet),
        "charges": charges,
    }
