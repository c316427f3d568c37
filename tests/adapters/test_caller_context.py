"""The adapters compute in the library's decimal context, never the caller's (issue #14, decision 0014).

A return file's rate, Efí's fine and interest units, a store's cents and the test kit's return files are Decimal
arithmetic outside the domain: under a caller's context of low precision, or with ``Inexact`` trapped, they
must give what the default gives.
"""

from __future__ import annotations

from datetime import date
from decimal import Context, Decimal, Inexact, Rounded, localcontext
from pathlib import Path

import pytest

from carteira.adapters.cnab import parse_return
from carteira.adapters.efi.rules import fine_units, interest_units
from carteira.adapters.storage import SqliteStore
from carteira.domain.money import Money
from carteira.errors import GatewayValidationError
from carteira.testing.contracts.storage import an_installment
from carteira.testing.return_files import TitleMovement, write_return_file
from tests.adapters.cnab.synthetic import ITAU_400, cnab400, put, title, to_bytes
from tests.adapters.cnab.test_layout import anticipation_layout

HOSTILE = (
    Context(prec=3),
    Context(prec=1),
    Context(traps=[Inexact, Rounded]),
)


def _rated_file(rate: str) -> bytes:
    lines = cnab400(ITAU_400, [title(1)])
    buffer = list(lines[1])
    put(buffer, 306, f"LOTE000001{rate}")
    lines[1] = "".join(buffer)
    return to_bytes(lines)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_return_files_rate_reads_the_same_under_any_caller_context(hostile: Context) -> None:
    data = _rated_file("012345")  # 1.2345 % a month
    expected = parse_return(data, anticipation_layout()).records
    with localcontext(hostile):
        found = parse_return(data, anticipation_layout()).records
    assert found == expected
    assert found[0].anticipation_rate == Decimal("0.012345")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_efi_fine_and_interest_units_are_the_same_under_any_caller_context(hostile: Context) -> None:
    fines = [Decimal("0.02"), Decimal("0.1"), Decimal("0.0001")]
    interests = [Decimal("0.01"), Decimal("0.0333"), Decimal("0.099"), Decimal("0.0001")]
    expected = [fine_units(rate) for rate in fines], [interest_units(rate) for rate in interests]
    with localcontext(hostile):
        found = [fine_units(rate) for rate in fines], [interest_units(rate) for rate in interests]
    assert found == expected


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_fine_finer_than_efi_takes_is_refused_under_any_caller_context(hostile: Context) -> None:
    # 2.155 % is 215.5 hundredths: at a precision of 3 it would round to a whole 216 and be sent.
    with localcontext(hostile), pytest.raises(GatewayValidationError):
        fine_units(Decimal("0.02155"))


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_store_writes_the_same_cents_under_any_caller_context(hostile: Context, tmp_path: Path) -> None:
    # Money times 100 in the caller's context: at a precision of 3, R$ 12.345,67 was stored as 1,230,000 cents.
    store = SqliteStore(tmp_path / "c.db")
    store.migrate()
    amount = Money("12345.67")
    with localcontext(hostile), store.unit_of_work() as uow:
        uow.installments.put(an_installment("i1", amount=amount))
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.installments.get("i1").amount == amount
    store.close()


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_test_kit_writes_the_same_file_under_any_caller_context(hostile: Context) -> None:
    titles = [TitleMovement(bank_title_number="7", paid=Money("12345.67"), face_value=Money("12345.67"))]
    on = date(2025, 3, 3)
    expected = write_return_file("bb-240", titles, generated_on=on)
    with localcontext(hostile):
        assert write_return_file("bb-240", titles, generated_on=on) == expected
