"""What the emulator remembers about each charge and carnê (its own shapes, not Efí's wire format)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import attrs

#: Statuses that only move to another final status (reference §7).
RESOLVED = frozenset({"paid", "contested", "refunded", "settled", "canceled"})
CANCELLABLE = frozenset({"new", "link", "waiting", "unpaid"})
DUE_DATE_MOVABLE = frozenset({"waiting", "unpaid"})
PAYABLE = frozenset({"waiting", "unpaid", "identified", "canceled"})


@attrs.define
class Charge:
    """One charge: a standalone boleto (or a `new` charge with no method yet), or one parcel of a carnê."""

    charge_id: int
    items: list[dict[str, Any]]
    shippings: list[dict[str, Any]]
    total: int
    custom_id: str | None
    notification_url: str | None
    created_at: datetime
    token: str
    status: str = "new"
    method: str | None = None  # "banking_billet" or "carnet"
    billet: dict[str, Any] | None = None  # the checked banking_billet, or the carnê's terms for a parcel
    payment_created_at: datetime | None = None
    carnet_id: int | None = None
    parcel: int | None = None
    history: list[dict[str, str]] = attrs.Factory(list)
    paid_value: int | None = None
    paid_at: datetime | None = None
    received_by_bank_at: date | None = None
    fingerprint: str | None = None
    balance_sheet: Any = None

    @property
    def expire_at(self) -> date | None:
        """The boleto's due date, or None before a payment method is set."""
        return None if self.billet is None else self.billet["expire_at"]

    @property
    def document(self) -> str | None:
        """The payer's CPF or CNPJ, or None before a payment method is set."""
        if self.billet is None:
            return None
        customer = self.billet["customer"]
        company = customer.get("juridical_person")
        return str(company["cnpj"]) if company else str(customer["cpf"])


@attrs.define
class Carnet:
    """A carnê: its terms, status and the charge ids of its parcels in order."""

    carnet_id: int
    token: str
    created_at: datetime
    terms: dict[str, Any]
    custom_id: str | None
    notification_url: str | None
    status: str
    charge_ids: list[int]
    fingerprint: str
    history: list[dict[str, str]] = attrs.Factory(list)
