"""Efí's JSON, and nothing else: the cattrs converter between the port's classes and Efí's bodies.

Money travels as integer cents, dates as ``YYYY-MM-DD``, timestamps as ``YYYY-MM-DD HH:MM:SS``;
Efí's names (``expire_at``, ``amount``, ``charges``, ``id``) are renamed here and only here, so the
port's classes carry no wire configuration (cattrs' "serialization at the edge").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from carteira.adapters.efi.rules import CheckedCharge, CheckedPayer
from carteira.domain.money import Money
from carteira.ports.gateway import (
    Address,
    BilletRequest,
    CarnetRequest,
    ChargeStatus,
    ChargeSummary,
    IssuedBillet,
    IssuedCarnet,
    IssuedParcel,
    Item,
    NotificationEvent,
)

__all__ = [
    "UnexpectedShape",
    "billet_body",
    "carnet_body",
    "carnet_state",
    "charge_status",
    "charge_summaries",
    "issued_billet",
    "issued_carnet",
    "make_converter",
    "notification_events",
]


class UnexpectedShape(Exception):
    """An Efí answer that does not have the documented shape; ``lines`` say where (``$.data.total``)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("; ".join(lines))


def _money(cents: object, _: object) -> Money:
    if isinstance(cents, bool) or not isinstance(cents, (int, str)):
        raise TypeError(f"expected integer cents, got {type(cents).__name__}")
    return Money.from_cents(int(cents))


def _date(text: object, _: object) -> date:
    if not isinstance(text, str):
        raise TypeError(f"expected a YYYY-MM-DD string, got {type(text).__name__}")
    return date.fromisoformat(text[:10])


def _datetime(text: object, _: object) -> datetime:
    if not isinstance(text, str):
        raise TypeError(f"expected a 'YYYY-MM-DD HH:MM:SS' string, got {type(text).__name__}")
    return datetime.fromisoformat(text)


def make_converter() -> cattrs.Converter:
    """A converter that knows Efí's units and names; build one per gateway (converters are objects, not globals)."""
    c = cattrs.Converter(forbid_extra_keys=False)  # Efí adds fields over time: ignore what we do not read
    c.register_structure_hook(Money, _money)
    c.register_unstructure_hook(Money, lambda money: money.cents)
    c.register_structure_hook(date, _date)
    c.register_unstructure_hook(date, lambda day: day.isoformat())
    c.register_structure_hook(datetime, _datetime)
    c.register_unstructure_hook(Item, make_dict_unstructure_fn(Item, c, quantity=override(rename="amount")))
    c.register_unstructure_hook(Address, make_dict_unstructure_fn(Address, c, _cattrs_omit_if_default=True))
    c.register_structure_hook(IssuedBillet, make_dict_structure_fn(IssuedBillet, c, due=override(rename="expire_at")))
    c.register_structure_hook(IssuedParcel, make_dict_structure_fn(IssuedParcel, c, due=override(rename="expire_at")))
    c.register_structure_hook(IssuedCarnet, make_dict_structure_fn(IssuedCarnet, c, parcels=override(rename="charges")))
    c.register_structure_hook(ChargeSummary, make_dict_structure_fn(ChargeSummary, c, charge_id=override(rename="id")))
    c.register_structure_hook(
        NotificationEvent,
        make_dict_structure_fn(
            NotificationEvent,
            c,
            event_id=override(rename="id"),
            kind=override(rename="type"),
            paid_value=override(rename="value"),
            paid_on=override(rename="received_by_bank_at"),
        ),
    )
    return c


def _structure(converter: cattrs.Converter, data: object, kind: type[Any], path: str) -> Any:
    try:
        return converter.structure(data, kind)
    except (cattrs.BaseValidationError, TypeError, ValueError, KeyError) as exc:
        if isinstance(exc, cattrs.BaseValidationError):
            raise UnexpectedShape(cattrs.transform_error(exc, path=path)) from exc
        raise UnexpectedShape([f"{exc} @ {path}"]) from exc


def _object(data: object, path: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise UnexpectedShape([f"expected an object, got {type(data).__name__} @ {path}"])
    return data


def _customer(payer: CheckedPayer, converter: cattrs.Converter) -> dict[str, Any]:
    customer: dict[str, Any] = {}
    if payer.kind == "cpf":
        customer["name"] = payer.name
        customer["cpf"] = payer.tax_id
    else:
        customer["juridical_person"] = {"corporate_name": payer.name, "cnpj": payer.tax_id}
    if payer.email:
        customer["email"] = payer.email
    if payer.phone:  # never "" or null: Efí checks any value sent against its pattern
        customer["phone_number"] = payer.phone
    if payer.birth is not None:
        customer["birth"] = payer.birth.isoformat()
    if payer.address is not None:
        address = converter.unstructure(payer.address, Address)
        address["zipcode"] = address["zipcode"].replace("-", "")
        address["state"] = address["state"].upper()
        customer["address"] = address
    return customer


def _metadata(custom_id: str | None, notification_url: str | None) -> dict[str, str]:
    metadata = {}
    if custom_id:
        metadata["custom_id"] = custom_id
    if notification_url:
        metadata["notification_url"] = notification_url
    return metadata


def billet_body(request: BilletRequest, checked: CheckedCharge, converter: cattrs.Converter) -> dict[str, Any]:
    """The body of ``POST /v1/charge/one-step`` for a request that passed the local checks."""
    configurations: dict[str, Any] = {"fine": checked.fine, "interest": {"value": checked.interest, "type": "daily"}}
    if request.days_to_write_off is not None:
        configurations["days_to_write_off"] = request.days_to_write_off
    billet: dict[str, Any] = {
        "expire_at": request.due.isoformat(),
        "customer": _customer(checked.payer, converter),
        "configurations": configurations,
    }
    if request.message:
        billet["message"] = request.message
    body: dict[str, Any] = {
        "items": converter.unstructure(list(request.items), list[Item]),
        "payment": {"banking_billet": billet},
    }
    if request.shipping is not None and request.shipping > Money.ZERO:
        body["shippings"] = [{"name": "Frete", "value": request.shipping.cents}]
    metadata = _metadata(request.custom_id, request.notification_url)
    if metadata:
        body["metadata"] = metadata
    return body


def carnet_body(request: CarnetRequest, checked: CheckedCharge, converter: cattrs.Converter) -> dict[str, Any]:
    """The body of ``POST /v1/carnet`` for a request that passed the local checks (no ``days_to_write_off``)."""
    body: dict[str, Any] = {
        "items": converter.unstructure(list(request.items), list[Item]),
        "customer": _customer(checked.payer, converter),
        "expire_at": request.first_due.isoformat(),
        "repeats": request.repeats,
        "split_items": request.split_items,
        "configurations": {"fine": checked.fine, "interest": checked.interest},
    }
    if request.message:
        body["message"] = request.message
    metadata = _metadata(request.custom_id, request.notification_url)
    if metadata:
        body["metadata"] = metadata
    return body


def _pdf(data: Mapping[str, Any], key: str) -> str | None:
    pdf = data.get("pdf")
    return pdf.get(key) if isinstance(pdf, Mapping) else None


def issued_billet(
    data: object, converter: cattrs.Converter, *, custom_id: str | None, adjustments: tuple[str, ...]
) -> IssuedBillet:
    """The port's :class:`IssuedBillet` from a one-step answer's ``data``."""
    fields = dict(_object(data, "$.data"))
    fields.update(
        custom_id=custom_id,
        adjustments=list(adjustments),
        pdf=_pdf(fields, "charge"),
        link=fields.get("billet_link") or fields.get("link"),
    )
    billet: IssuedBillet = _structure(converter, fields, IssuedBillet, "$.data")
    return billet


def issued_carnet(
    data: object, converter: cattrs.Converter, *, custom_id: str | None, adjustments: tuple[str, ...]
) -> IssuedCarnet:
    """The port's :class:`IssuedCarnet` from a carnet answer's ``data`` (``parcel`` arrives as a string)."""
    fields = dict(_object(data, "$.data"))
    charges = fields.get("charges")
    parcels = []
    for index, charge in enumerate(charges if isinstance(charges, list) else []):
        parcel = dict(_object(charge, f"$.data.charges[{index}]"))
        parcel.update(pdf=_pdf(parcel, "charge"), link=parcel.get("parcel_link") or parcel.get("url"))
        parcels.append(parcel)
    fields.update(
        charges=parcels,
        custom_id=custom_id,
        adjustments=list(adjustments),
        pdf=_pdf(fields, "carnet"),
        link=fields.get("carnet_link") or fields.get("link"),
    )
    carnet: IssuedCarnet = _structure(converter, fields, IssuedCarnet, "$.data")
    return carnet


def charge_summaries(data: object, converter: cattrs.Converter) -> list[ChargeSummary]:
    """The entries of a ``GET /v1/charges`` answer (``id``, ``payment.paid_value``, ``received_by_bank_at``)."""
    if not isinstance(data, list):
        raise UnexpectedShape([f"expected a list, got {type(data).__name__} @ $.data"])
    summaries = []
    for index, entry in enumerate(data):
        fields = dict(_object(entry, f"$.data[{index}]"))
        payment = fields.get("payment")
        payment = payment if isinstance(payment, Mapping) else {}
        carnet = payment.get("carnet")
        paid_on = payment.get("received_by_bank_at") or payment.get("paid_at")
        fields.update(
            paid_value=payment.get("paid_value"),
            paid_on=paid_on,
            carnet_id=fields.get("carnet_id") or (carnet.get("carnet_id") if isinstance(carnet, Mapping) else None),
        )
        summaries.append(_structure(converter, fields, ChargeSummary, f"$.data[{index}]"))
    return summaries


def notification_events(token: str, data: object, converter: cattrs.Converter) -> list[NotificationEvent]:
    """The events of a ``GET /v1/notification/:token`` answer, oldest first as Efí lists them."""
    if not isinstance(data, list):
        raise UnexpectedShape([f"expected a list, got {type(data).__name__} @ $.data"])
    events = []
    for index, entry in enumerate(data):
        fields = dict(_object(entry, f"$.data[{index}]"))
        status = fields.get("status")
        status = status if isinstance(status, Mapping) else {}
        identifiers = fields.get("identifiers")
        identifiers = identifiers if isinstance(identifiers, Mapping) else {}
        fields.update(
            token=token,
            status=status.get("current"),
            previous_status=status.get("previous"),
            charge_id=identifiers.get("charge_id"),
            carnet_id=identifiers.get("carnet_id"),
        )
        events.append(_structure(converter, fields, NotificationEvent, f"$.data[{index}]"))
    return events


def charge_status(data: object) -> ChargeStatus:
    """The ``status`` of a ``GET /v1/charge/:id`` answer."""
    try:
        return ChargeStatus(_object(data, "$.data").get("status"))
    except ValueError as exc:
        raise UnexpectedShape([f"{exc} @ $.data.status"]) from exc


def carnet_state(data: object) -> tuple[str, dict[int, ChargeStatus]]:
    """A ``GET /v1/carnet/:id`` answer's status and its parcels' statuses by parcel number."""
    fields = _object(data, "$.data")
    parcels: dict[int, ChargeStatus] = {}
    charges = fields.get("charges")
    for index, charge in enumerate(charges if isinstance(charges, list) else []):
        entry = _object(charge, f"$.data.charges[{index}]")
        try:
            parcels[int(entry["parcel"])] = ChargeStatus(entry["status"])
        except (KeyError, ValueError, TypeError) as exc:
            raise UnexpectedShape([f"{exc!r} @ $.data.charges[{index}]"]) from exc
    return str(fields.get("status")), parcels
