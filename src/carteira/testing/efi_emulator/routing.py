"""The 26 endpoints of reference §3 under `/v1`, matched by method and path."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import attrs

from carteira.testing.efi_emulator import carnets, charges, listing
from carteira.testing.efi_emulator.ledger import Ledger

Handler = Callable[[Ledger, tuple[str, ...], dict[str, list[str]], Any], dict[str, Any]]
AUTHORIZE = "/v1/authorize"


@attrs.frozen
class Route:
    """One endpoint: its method, path pattern, a name (for rate limits and logs) and its handler."""

    method: str
    pattern: re.Pattern[str]
    name: str
    handler: Handler


def _route(method: str, template: str, handler: Handler) -> Route:
    regex = template.replace(":id", "([0-9]+)").replace(":parcel", "([0-9]+)").replace(":token", "([^/]+)")
    return Route(method, re.compile(f"^/v1{regex}$"), f"{method} {template}", handler)


ROUTES: tuple[Route, ...] = (
    _route("POST", "/charge", charges.create_charge),
    _route("POST", "/charge/one-step", charges.create_one_step),
    _route("POST", "/charge/:id/pay", charges.pay),
    _route("GET", "/charge/:id", charges.detail),
    _route("GET", "/charges", listing.list_charges),
    _route("PUT", "/charge/:id/metadata", charges.update_metadata),
    _route("PUT", "/charge/:id/billet", charges.update_billet),
    _route("PUT", "/charge/:id/cancel", charges.cancel),
    _route("PUT", "/charge/:id/settle", charges.settle),
    _route("POST", "/charge/:id/billet/resend", charges.resend_billet),
    _route("POST", "/charge/:id/history", charges.add_history),
    _route("POST", "/charge/:id/balance-sheet", charges.balance_sheet),
    _route("POST", "/carnet", carnets.create_carnet),
    _route("GET", "/carnet/:id", carnets.detail),
    _route("PUT", "/carnet/:id/metadata", carnets.update_metadata),
    _route("PUT", "/carnet/:id/parcel/:parcel", carnets.update_parcel),
    _route("PUT", "/carnet/:id/parcels", carnets.update_parcels),
    _route("PUT", "/carnet/:id/cancel", carnets.cancel),
    _route("PUT", "/carnet/:id/parcel/:parcel/cancel", carnets.cancel_parcel),
    _route("PUT", "/carnet/:id/settle", carnets.settle),
    _route("PUT", "/carnet/:id/parcel/:parcel/settle", carnets.settle_parcel),
    _route("POST", "/carnet/:id/resend", carnets.resend),
    _route("POST", "/carnet/:id/parcel/:parcel/resend", carnets.resend_parcel),
    _route("POST", "/carnet/:id/history", carnets.add_history),
    _route("GET", "/notification/:token", charges.notification),
)


def resolve(method: str, path: str) -> tuple[Route, tuple[str, ...]] | None:
    """The route for `method path` and its path parameters, or None."""
    for route in ROUTES:
        if route.method == method:
            match = route.pattern.match(path)
            if match:
                return route, match.groups()
    return None
