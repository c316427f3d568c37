"""Read-only snapshots of the emulator's state for test assertions, JSON-friendly so HTTP can serve them too."""

from __future__ import annotations

from typing import Any

from carteira.testing.efi_emulator.records import Carnet, Charge
from carteira.testing.efi_emulator.responses import stamp


def charge_view(charge: Charge) -> dict[str, Any]:
    """What a test may assert about a charge: status, money in cents, dates as ISO strings, its token."""
    return {
        "charge_id": charge.charge_id,
        "status": charge.status,
        "total": charge.total,
        "custom_id": charge.custom_id,
        "notification_url": charge.notification_url,
        "notification_token": charge.token,
        "created_at": stamp(charge.created_at),
        "payment_method": charge.method,
        "expire_at": charge.expire_at and charge.expire_at.isoformat(),
        "carnet_id": charge.carnet_id,
        "parcel": charge.parcel,
        "customer_document": charge.document,
        "paid_value": charge.paid_value,
        "paid_at": stamp(charge.paid_at),
        "received_by_bank_at": charge.received_by_bank_at and charge.received_by_bank_at.isoformat(),
        "items": [dict(i) for i in charge.items],
        "history": [dict(h) for h in charge.history],
    }


def carnet_view(carnet: Carnet) -> dict[str, Any]:
    """What a test may assert about a carnê: status, parcels (charge ids in order), its token."""
    return {
        "carnet_id": carnet.carnet_id,
        "status": carnet.status,
        "custom_id": carnet.custom_id,
        "notification_url": carnet.notification_url,
        "notification_token": carnet.token,
        "created_at": stamp(carnet.created_at),
        "repeats": carnet.terms["repeats"],
        "split_items": carnet.terms["split_items"],
        "charge_ids": list(carnet.charge_ids),
    }
