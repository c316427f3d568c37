"""The emulator's own test hooks over HTTP, under `/_emulator/`, for ERPs that drive it from another language.

These routes are not Efí's: they need no token, and faults and latency never touch them.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

import attrs

from carteira.testing.efi_emulator.faults import FaultRates
from carteira.testing.efi_emulator.ledger import PaymentRefused
from carteira.testing.efi_emulator.switches import Switches

if TYPE_CHECKING:
    from carteira.testing.efi_emulator.emulator import EfiEmulator

PREFIX = "/_emulator/"


class ControlError(ValueError):
    """A control request the emulator cannot follow (answered 400 or 409 with the reason)."""


def _json(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body) if body.strip() else {}
    except ValueError:
        raise ControlError("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise ControlError("the body must be a JSON object")
    return payload


def _switches(emu: EfiEmulator, changes: dict[str, Any]) -> dict[str, Any]:
    fields = attrs.fields_dict(Switches)
    for name, value in changes.items():
        if name not in fields:
            raise ControlError(f"unknown switch {name!r}; known: {', '.join(sorted(fields))}")
        current = getattr(emu.switches, name)
        if isinstance(current, tuple):
            value = tuple(value)
        elif isinstance(current, frozenset):
            value = frozenset(value)
        setattr(emu.switches, name, value)
    return attrs.asdict(emu.switches, value_serializer=lambda _i, _a, v: sorted(v) if isinstance(v, frozenset) else v)


def _clock(emu: EfiEmulator, payload: dict[str, Any]) -> dict[str, Any]:
    if "today" in payload:
        emu.today = date.fromisoformat(payload["today"])
    if "advance_s" in payload:
        emu.advance(float(payload["advance_s"]))
    return {"now": f"{emu.now():%Y-%m-%d %H:%M:%S}"}


def _faults(emu: EfiEmulator, payload: dict[str, Any]) -> dict[str, Any]:
    if payload.get("clear"):
        emu.clear_faults()
    if "latency_s" in payload:
        emu.latency_s = float(payload["latency_s"])
    if "fail_next" in payload:
        spec = payload["fail_next"]
        emu.fail_next(int(spec.get("n", 1)), int(spec.get("status", 500)), int(spec.get("code", 3500000)))
    if "timeout_next" in payload:
        emu.timeout_next(int(payload["timeout_next"]))
    if "lose_next_response" in payload:
        emu.lose_next_response(int(payload["lose_next_response"]))
    if "random" in payload:  # {"seed": 7, "fail": 0.02, "timeout": 0.02, "lost": 0.02, "slow": 0.02, ...} or null
        spec = payload["random"]
        emu.random_faults(None if spec is None else FaultRates(**spec))
    rates = emu.fault_rates
    random_faults = None if rates is None else {**attrs.asdict(rates), "routes": sorted(rates.routes)}
    return {"latency_s": emu.latency_s, "random": random_faults}


def _post(emu: EfiEmulator, name: str, payload: dict[str, Any]) -> Any:
    if name == "pay":
        paid_on = payload.get("paid_on")
        emu.pay(int(payload["charge_id"]), payload.get("value"), date.fromisoformat(paid_on) if paid_on else None)
        return emu.charges[int(payload["charge_id"])]["status"]
    if name == "clock":
        return _clock(emu, payload)
    if name == "expire-tokens":
        emu.expire_tokens()
        return "expired"
    if name == "faults":
        return _faults(emu, payload)
    if name == "switches":
        return _switches(emu, payload)
    if name == "deliver":
        return emu.deliver_callbacks()
    raise ControlError(f"unknown control route POST {PREFIX}{name}")


def _get(emu: EfiEmulator, name: str) -> Any:
    if name == "charges":
        return {str(k): dict(v) for k, v in emu.charges.items()}
    if name == "carnets":
        return {str(k): dict(v) for k, v in emu.carnets.items()}
    if name == "clock":
        return {"now": f"{emu.now():%Y-%m-%d %H:%M:%S}"}
    if name == "switches":
        return _switches(emu, {})
    if name == "deliveries":
        return [{**attrs.asdict(d), "at": f"{d.at:%Y-%m-%d %H:%M:%S}"} for d in emu.deliveries]
    raise ControlError(f"unknown control route GET {PREFIX}{name}")


def handle(emu: EfiEmulator, method: str, path: str, body: bytes) -> tuple[int, Any]:
    """Answer a control request: `(status, JSON payload)`."""
    name = path[len(PREFIX) :].strip("/")
    try:
        if method == "GET":
            return 200, {"data": _get(emu, name)}
        if method in ("POST", "PUT"):
            return 200, {"data": _post(emu, name, _json(body))}
        raise ControlError(f"method {method} is not used under {PREFIX}")
    except PaymentRefused as refused:
        return 409, {"error": "payment_refused", "error_description": str(refused)}
    except (ControlError, KeyError, TypeError, ValueError) as exc:
        return 400, {"error": "bad_control_request", "error_description": f"{type(exc).__name__}: {exc}"}
