"""Efí's JSON, and nothing else: the cattrs converter between the port's classes and Efí's bodies.

Money travels as integer cents, dates as ``YYYY-MM-DD``, timestamps as ``YYYY-MM-DD HH:MM:SS``;
Efí's names (``expire_at``, ``amount``, ``charges``, ``id``, ``custom_id``) are renamed here and only
here, so the port's classes carry no wire configuration (cattrs' "serialization at the edge").
Efí's integer ids become the port's string ids here (and a non-integer id is a wrong shape), the
operation id travels as ``metadata.custom_id``, and a status word carteira does not know becomes
``UNKNOWN`` with the word kept in ``status_raw``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, get_args

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from carteira.adapters.efi.rules import CheckedCharge, CheckedPayer
from carteira.domain.money import Money
from carteira.ports.gateway import (
    Address,
    BilletRequest,
    CarnetId,
    CarnetRequest,
    CarnetStatus,
    ChargeId,
    ChargeStatus,
    ChargeSummary,
    EventKind,
    EventStatus,
    IssuedBillet,
    IssuedCarnet,
    IssuedParcel,
    Item,
    NotificationEvent,
)

__all__ = [
    "CarnetState",
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


def _id(value: object, _: object) -> str:
    # Efí's ids are integers; a digit string is tolerated (Efí sends `parcel` as one), anything else is a wrong shape.
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"expected an integer id, got {type(value).__name__}")
    number = int(value)
    if number < 1:
        raise ValueError(f"expected a positive integer id, got {value!r}")
    return str(number)


def _status(kind: type[ChargeStatus] | type[CarnetStatus]) -> Any:
    def structure(raw: object, _: object) -> ChargeStatus | CarnetStatus:
        if not isinstance(raw, str):
            raise TypeError(f"expected a status word, got {type(raw).__name__}")
        return kind.from_raw(raw)

    return structure


def _is_event_status(kind: object) -> bool:
    return set(get_args(kind)) - {type(None)} == {ChargeStatus, CarnetStatus}


def _parsed_status(value: object, kind: object) -> EventStatus | None:
    # notification_events parses the word (its enum depends on the event's kind) before structuring.
    if value is None and type(None) in get_args(kind):
        return None
    if not isinstance(value, (ChargeStatus, CarnetStatus)):
        raise TypeError(f"expected a status word, got {type(value).__name__}")
    return value


def make_converter() -> cattrs.Converter:
    """A converter that knows Efí's units and names; build one per gateway (converters are objects, not globals)."""
    c = cattrs.Converter(forbid_extra_keys=False)  # Efí adds fields over time: ignore what we do not read
    c.register_structure_hook(Money, _money)
    c.register_unstructure_hook(Money, lambda money: money.cents)
    c.register_structure_hook(date, _date)
    c.register_unstructure_hook(date, lambda day: day.isoformat())
    c.register_structure_hook(datetime, _datetime)
    c.register_structure_hook(ChargeId, _id)
    c.register_structure_hook(CarnetId, _id)
    c.register_structure_hook(ChargeStatus, _status(ChargeStatus))
    c.register_structure_hook(CarnetStatus, _status(CarnetStatus))
    c.register_structure_hook_func(_is_event_status, _parsed_status)
    c.register_unstructure_hook(Item, make_dict_unstructure_fn(Item, c, quantity=override(rename="amount")))
    c.register_unstructure_hook(Address, make_dict_unstructure_fn(Address, c, _cattrs_omit_if_default=True))
    c.register_structure_hook(IssuedBillet, make_dict_structure_fn(IssuedBillet, c, due=override(rename="expire_at")))
    c.register_structure_hook(IssuedParcel, make_dict_structure_fn(IssuedParcel, c, due=override(rename="expire_at")))
    c.register_structure_hook(IssuedCarnet, make_dict_structure_fn(IssuedCarnet, c, parcels=override(rename="charges")))
    c.register_structure_hook(
        ChargeSummary,
        make_dict_structure_fn(
            ChargeSummary, c, charge_id=override(rename="id"), operation_id=override(rename="custom_id")
        ),
    )
    c.register_structure_hook(
        NotificationEvent,
        make_dict_structure_fn(
            NotificationEvent,
            c,
            event_id=override(rename="id"),
            operation_id=override(rename="custom_id"),
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


def _metadata(operation_id: str | None, notification_url: str | None) -> dict[str, str]:
    metadata = {}
    if operation_id:
        metadata["custom_id"] = operation_id  # Efí's idempotency field: the only place carteira's id is stored
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
    metadata = _metadata(request.operation_id, request.notification_url)
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
    metadata = _metadata(request.operation_id, request.notification_url)
    if metadata:
        body["metadata"] = metadata
    return body


def _pdf(data: Mapping[str, Any], key: str) -> str | None:
    pdf = data.get("pdf")
    return pdf.get(key) if isinstance(pdf, Mapping) else None


def _with_raw_status(fields: dict[str, Any]) -> dict[str, Any]:
    # The gateway's own word travels beside the enum, so an UNKNOWN status still says what Efí sent.
    fields["status_raw"] = fields.get("status")
    return fields


def issued_billet(
    data: object, converter: cattrs.Converter, *, operation_id: str | None, adjustments: tuple[str, ...]
) -> IssuedBillet:
    """The port's :class:`IssuedBillet` from a one-step answer's ``data``."""
    fields = _with_raw_status(dict(_object(data, "$.data")))
    fields.update(
        operation_id=operation_id,
        adjustments=list(adjustments),
        pdf=_pdf(fields, "charge"),
        link=fields.get("billet_link") or fields.get("link"),
    )
    billet: IssuedBillet = _structure(converter, fields, IssuedBillet, "$.data")
    return billet


def issued_carnet(
    data: object, converter: cattrs.Converter, *, operation_id: str | None, adjustments: tuple[str, ...]
) -> IssuedCarnet:
    """The port's :class:`IssuedCarnet` from a carnet answer's ``data`` (``parcel`` arrives as a string)."""
    fields = _with_raw_status(dict(_object(data, "$.data")))
    charges = fields.get("charges")
    parcels = []
    for index, charge in enumerate(charges if isinstance(charges, list) else []):
        parcel = _with_raw_status(dict(_object(charge, f"$.data.charges[{index}]")))
        parcel.update(pdf=_pdf(parcel, "charge"), link=parcel.get("parcel_link") or parcel.get("url"))
        parcels.append(parcel)
    fields.update(
        charges=parcels,
        operation_id=operation_id,
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
        fields = _with_raw_status(dict(_object(entry, f"$.data[{index}]")))
        payment = fields.get("payment")
        payment = payment if isinstance(payment, Mapping) else {}
        carnet = payment.get("carnet")
        carnet = carnet if isinstance(carnet, Mapping) else {}
        paid_on = payment.get("received_by_bank_at") or payment.get("paid_at")
        fields.update(
            paid_value=payment.get("paid_value"),
            paid_on=paid_on,
            carnet_id=fields.get("carnet_id") or carnet.get("carnet_id"),
            parcel=carnet.get("parcel"),
        )
        summaries.append(_structure(converter, fields, ChargeSummary, f"$.data[{index}]"))
    return summaries


_EVENT_KINDS = {"charge": EventKind.CHARGE, "carnet": EventKind.CARNET, "carnet_charge": EventKind.PARCEL}
"""Efí's event ``type`` words; ``subscription`` and ``subscription_charge`` are not carteira's: UNKNOWN."""


def _event_status(kind: EventKind, raw: object, path: str) -> EventStatus | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise UnexpectedShape([f"expected a status word, got {type(raw).__name__} @ {path}"])
    return CarnetStatus.from_raw(raw) if kind is EventKind.CARNET else ChargeStatus.from_raw(raw)


def notification_events(token: str, data: object, converter: cattrs.Converter) -> list[NotificationEvent]:
    """The events of a ``GET /v1/notification/:token`` answer, oldest first as Efí lists them.

    Efí does not say which parcel a ``carnet_charge`` event is about: ``parcel`` is left ``None``
    here and filled in by the gateway from the carnet's detail (:func:`carnet_state`).
    """
    if not isinstance(data, list):
        raise UnexpectedShape([f"expected a list, got {type(data).__name__} @ $.data"])
    events = []
    for index, entry in enumerate(data):
        path = f"$.data[{index}]"
        fields = dict(_object(entry, path))
        kind_raw = fields.get("type")
        if not isinstance(kind_raw, str):
            raise UnexpectedShape([f"expected an event type, got {type(kind_raw).__name__} @ {path}.type"])
        kind = _EVENT_KINDS.get(kind_raw, EventKind.UNKNOWN)
        status = fields.get("status")
        status = status if isinstance(status, Mapping) else {}
        identifiers = fields.get("identifiers")
        identifiers = identifiers if isinstance(identifiers, Mapping) else {}
        current = _event_status(kind, status.get("current"), f"{path}.status.current")
        fields.update(
            token=token,
            kind=kind,
            kind_raw=kind_raw,
            status=current,
            status_raw=status.get("current"),
            previous_status=_event_status(kind, status.get("previous"), f"{path}.status.previous"),
            charge_id=identifiers.get("charge_id"),
            carnet_id=identifiers.get("carnet_id"),
        )
        fields.pop("parcel", None)
        events.append(_structure(converter, fields, NotificationEvent, path))
    return events


def charge_status(data: object) -> ChargeStatus:
    """The ``status`` of a ``GET /v1/charge/:id`` answer (``UNKNOWN`` for a word carteira does not know)."""
    raw = _object(data, "$.data").get("status")
    if not isinstance(raw, str):
        raise UnexpectedShape([f"expected a status word, got {type(raw).__name__} @ $.data.status"])
    return ChargeStatus.from_raw(raw)


@attrs.frozen
class CarnetState:
    """What a ``GET /v1/carnet/:id`` answer says: the carnet's status, each parcel's status, and which charge is
    which parcel."""

    status: CarnetStatus
    parcels: dict[int, ChargeStatus]
    parcel_of: dict[ChargeId, int]


def carnet_state(data: object) -> CarnetState:
    """A ``GET /v1/carnet/:id`` answer's status, its parcels' statuses by number, and its charges' parcel numbers."""
    fields = _object(data, "$.data")
    parcels: dict[int, ChargeStatus] = {}
    parcel_of: dict[ChargeId, int] = {}
    charges = fields.get("charges")
    for index, charge in enumerate(charges if isinstance(charges, list) else []):
        entry = _object(charge, f"$.data.charges[{index}]")
        try:
            number = int(entry["parcel"])
            status = entry["status"]
            if not isinstance(status, str):
                raise TypeError(f"expected a status word, got {type(status).__name__}")
            parcels[number] = ChargeStatus.from_raw(status)
            if entry.get("charge_id") is not None:
                parcel_of[ChargeId(_id(entry["charge_id"], None))] = number
        except (KeyError, ValueError, TypeError) as exc:
            raise UnexpectedShape([f"{exc!r} @ $.data.charges[{index}]"]) from exc
    status = fields.get("status")
    return CarnetState(
        status=CarnetStatus.from_raw(status) if isinstance(status, str) else CarnetStatus.UNKNOWN,
        parcels=parcels,
        parcel_of=parcel_of,
    )
