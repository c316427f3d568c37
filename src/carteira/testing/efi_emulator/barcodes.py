"""Fake but well-formed boleto numbers: the 47-digit linha digitável of Efí's bank (364)."""

from __future__ import annotations

from datetime import date

BANK_CODE = "364"
_FACTOR_BASE = date(1997, 10, 7)


def due_factor(due: date) -> str:
    """The 4-digit due-date factor; it restarted at 1000 on 2025-02-22 when 9999 ran out."""
    days = (due - _FACTOR_BASE).days
    factor = days if days <= 9999 else (days - 10000) % 9000 + 1000
    return f"{factor:04d}"


def _mod10(digits: str) -> int:
    total = 0
    for position, char in enumerate(reversed(digits)):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def _mod11(digits: str) -> int:
    total = sum(int(char) * (2 + position % 8) for position, char in enumerate(reversed(digits)))
    check = 11 - total % 11
    return 1 if check in (0, 10, 11) else check


def barcode(charge_id: int, due: date, value_cents: int) -> str:
    """The 44-digit barcode: bank, currency 9, check digit, due factor, value, a free field from `charge_id`."""
    free = f"{charge_id:025d}"[-25:]
    body = f"{BANK_CODE}9{due_factor(due)}{value_cents % 10**10:010d}{free}"
    check = _mod11(body)
    return f"{body[:4]}{check}{body[4:]}"


def linha_digitavel(charge_id: int, due: date, value_cents: int) -> str:
    """The formatted 47-digit line Efí returns as `barcode`, e.g. ``36490.00019 00000.000000 00000.000000 1 ...``."""
    code = barcode(charge_id, due, value_cents)
    field1 = code[:4] + code[19:24]
    field2 = code[24:34]
    field3 = code[34:44]
    field1 += str(_mod10(field1))
    field2 += str(_mod10(field2))
    field3 += str(_mod10(field3))
    return f"{field1[:5]}.{field1[5:]} {field2[:5]}.{field2[5:]} {field3[:5]}.{field3[5:]} {code[4]} {code[5:19]}"
