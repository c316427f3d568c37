"""Every real return file with payments, end to end: imported, auto-linked, confirmed, deleted (SPEC B2-B10).

For each fixture, one open installment per paid title is made from the file's own values (its bank
title number, due date and face value), as the ERP that issued the boletos would hold them. Then the
whole process runs, and the settlements must account for exactly what the bank reported; a record the
file's own checks flagged settles once a person has acknowledged it.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from carteira import ChargeTerms, Installment, Money
from carteira.adapters.cnab import parse_return
from carteira.domain import PortfolioSettings, SettlementPolicy
from carteira.domain.return_batch import BatchStatus
from carteira.portfolio import Portfolio
from carteira.ports.return_files import ReturnRecord
from carteira.ports.storage import Store
from carteira.testing import FixedClock
from tests.adapters.cnab.manifest import FILES
from tests.support import CNAB_FIXTURES, unavailable

pytestmark = pytest.mark.fixtures

TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))


def _paid(record: ReturnRecord) -> bool:
    return (
        record.is_settlement
        and record.paid is not None
        and record.paid > Money.ZERO
        and record.bank_title_number is not None
        and (record.occurrence_date or record.credit_date) is not None
    )


def _installment(name: str, record: ReturnRecord) -> Installment:
    assert record.paid is not None
    face = record.face_value if record.face_value is not None and record.face_value > Money.ZERO else record.paid
    due = record.due_date or record.occurrence_date or record.credit_date
    assert due is not None
    return Installment(
        f"{name}:{record.line}", f"payer-{record.line}", due, face, TERMS, bank_title_number=record.bank_title_number
    )


@pytest.mark.parametrize("name", sorted(FILES))
def test_a_real_file_settles_exactly_what_the_bank_reported(name: str, store: Store) -> None:
    path = CNAB_FIXTURES / name
    if not path.is_file():
        unavailable(f"CNAB fixture {path} is not there (the shared fixtures folder is missing)")
    data = path.read_bytes()
    parsed = parse_return(data, source=name).records
    records = [r for r in parsed if _paid(r)]
    # A title the file pays twice is linked once: the second record waits for a person (already linked).
    times = Counter(r.bank_title_number for r in records)
    payable = [r for r in records if times[r.bank_title_number] == 1]
    with store.unit_of_work() as uow:
        uow.settings.put(PortfolioSettings(policy=SettlementPolicy(settle_beyond_tolerance=True)))
        uow.installments.put_many([_installment(name, r) for r in payable])
        uow.commit()
    with store.unit_of_work() as uow:
        stored = uow.installments.get_many(f"{name}:{r.line}" for r in payable)
    before = {ident: item.state for ident, item in stored.items()}
    portfolio = Portfolio(store, clock=FixedClock(date(2026, 12, 7)))

    batch = portfolio.returns.import_file(data, description=name, process_date=date(2026, 12, 7), source=name)
    assert portfolio.returns.auto_link(batch.id).linked == len(payable)
    report = portfolio.returns.confirm(batch.id)
    # A record the file's own checks flagged waits for a person: acknowledged, the next confirm settles it.
    flagged = {r.line for r in payable if r.flags}
    assert report.settled == len(payable) - len(flagged), report.refused
    assert {line for line, why in report.refused.items() if why.endswith("acknowledge first")} == flagged
    if flagged:
        portfolio.returns.acknowledge(batch.id, flagged, by="clerk")
        report = portfolio.returns.confirm(batch.id)
        assert report.settled == len(flagged), report.refused
    left = sum(1 for r in parsed if r.is_settlement) - len(payable)
    if payable:
        assert report.status is (BatchStatus.PENDING if left else BatchStatus.COMPLETED)

    with store.unit_of_work() as uow:
        made = [s for r in payable for s in uow.settlements.of_installment(f"{name}:{r.line}")]
    assert len(made) == len(payable)
    assert all(settlement.conserves() for settlement in made)  # D12, to the cent
    total_paid = sum((s.paid for s in made), Money.ZERO)
    assert total_paid == sum((r.paid for r in payable if r.paid is not None), Money.ZERO)

    portfolio.returns.delete(batch.id)
    with store.unit_of_work() as uow:
        after = {item.id: item.state for item in uow.installments.get_many(before).values()}
    assert after == before
