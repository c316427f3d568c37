"""What goes out to the gateway for an operation, built from the data as it stands when it is sent (G2, G3, G9).

An operation stores its intent (kind, documents, arguments), not a frozen request: the request is
built from the current installments and customer each time the operation is sent, so fixing a
customer (adding a phone, correcting a name) and resending is enough (G9). What was sent is kept on
the operation as text, in carteira's words, for the panel.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from carteira.domain.installment import Installment
from carteira.domain.money import Money
from carteira.domain.portfolio import Customer
from carteira.ports.gateway import BilletRequest, CarnetRequest, Item, Payer

if TYPE_CHECKING:
    import cattrs

__all__ = ["as_text", "billet_request", "carnet_request", "item_of", "payer_of"]


def payer_of(customer: Customer) -> Payer:
    """The payer the gateway is told of: the customer's name, CPF/CNPJ and contacts as they stand now."""
    return Payer(name=customer.name, tax_id=customer.tax_id or "", email=customer.email, phone=customer.phone)


def item_of(installment: Installment) -> Item:
    """The one item of an installment's charge: its description (or its number) and its face amount."""
    name = installment.description.strip() or f"Parcela {installment.number}"
    return Item(name=name, value=installment.amount)


def billet_request(
    operation_id: str, installment: Installment, customer: Customer, *, notification_url: str | None
) -> BilletRequest:
    """The billet for ``installment``, identified at the gateway by ``operation_id`` (its ``custom_id``)."""
    return BilletRequest(
        items=(item_of(installment),),
        payer=payer_of(customer),
        due=installment.due,
        operation_id=operation_id,
        notification_url=notification_url,
        fine_rate=installment.terms.fine_rate,
        monthly_interest_rate=installment.terms.monthly_interest_rate,
    )


def carnet_request(
    operation_id: str, parcels: Sequence[Installment], customer: Customer, *, notification_url: str | None
) -> CarnetRequest:
    """The carnet for ``parcels`` (one series planned by ``plan_carnet``: same value and item, monthly)."""
    first = parcels[0]
    return CarnetRequest(
        items=(item_of(first),),
        payer=payer_of(customer),
        first_due=first.due,
        repeats=len(parcels),
        operation_id=operation_id,
        notification_url=notification_url,
        fine_rate=first.terms.fine_rate,
        monthly_interest_rate=first.terms.monthly_interest_rate,
    )


@functools.cache
def _converter() -> cattrs.Converter:
    # cattrs writes (and caches) one unstructuring function per class: about half the time of attrs.asdict
    # with a serializer, on the path of every operation a billing run sends. Imported on first use, so
    # that importing carteira (and its pure domain) loads no serialization library.
    import cattrs

    converter = cattrs.Converter()
    converter.register_unstructure_hook(Money, lambda money: str(money.amount))
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_unstructure_hook(Decimal, str)
    return converter


def as_text(value: object) -> str:
    """``value`` (a request or a result of the gateway port, or plain data) as compact JSON for the operations log."""
    return json.dumps(_converter().unstructure(value), ensure_ascii=False, separators=(",", ":"), default=str)
