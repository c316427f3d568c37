"""The fake linha digitável: 47 digits of bank 364, with check digits a bank's reader would accept."""

from __future__ import annotations

from datetime import date

import httpx
from hypothesis import given
from hypothesis import strategies as st

from carteira.testing.efi_emulator.barcodes import barcode, due_factor, linha_digitavel

from .conftest import one_step


def _digits(line: str) -> str:
    return "".join(c for c in line if c.isdigit())


def test_due_factor_restarted_at_1000_on_2025_02_22() -> None:
    assert due_factor(date(2025, 2, 21)) == "9999"
    assert due_factor(date(2025, 2, 22)) == "1000"
    assert due_factor(date(2026, 3, 10)) == "1381"  # 381 days after the restart
    assert due_factor(date(2000, 7, 3)) == "1000"  # the first cycle's 1000


def test_the_line_carries_bank_due_factor_and_value(api: httpx.Client) -> None:
    charge_id = one_step(api)
    line = api.get(f"/v1/charge/{charge_id}").json()["data"]["payment"]["banking_billet"]["barcode"]
    digits = _digits(line)
    assert len(digits) == 47
    assert digits[:4] == "3649"
    assert digits[33:37] == "1381"  # due 2026-03-10
    assert digits[37:] == "0000014000"  # R$ 140,00 (items + shipping)


def _mod10_ok(field: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(field[:-1])):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += sum(map(int, str(product)))
    return (10 - total % 10) % 10 == int(field[-1])


@given(st.integers(1, 10**12), st.dates(date(2025, 2, 22), date(2049, 12, 31)), st.integers(500, 10**9))
def test_every_field_check_digit_holds_and_the_line_rebuilds_the_barcode(charge_id: int, due: date, cents: int) -> None:
    digits = _digits(linha_digitavel(charge_id, due, cents))
    fields = digits[:10], digits[10:21], digits[21:32]
    assert all(_mod10_ok(f) for f in fields)
    rebuilt = digits[:4] + digits[32] + digits[33:47] + digits[4:9] + digits[10:20] + digits[21:31]
    assert rebuilt == barcode(charge_id, due, cents)
    body = rebuilt[:4] + rebuilt[5:]
    weights = [2 + i % 8 for i in range(43)]
    rest = sum(int(c) * w for c, w in zip(reversed(body), weights, strict=True)) % 11
    assert int(rebuilt[4]) == (1 if 11 - rest in (0, 10, 11) else 11 - rest)
