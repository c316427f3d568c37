"""The ledger side of payments by notification (#13): the receipt's history on the settlement, a reversal that
posts the opposite entries and deletes nothing, and the postings listed by date, account and history code.

Each test runs on every store (tests/services/conftest.py): a billet issued through the outbox to a
``FakeGateway``, paid there, its token received and processed as the callback endpoint and a worker do.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs
import pytest

from carteira import Money, Portfolio
from carteira.domain import (
    ChargeTerms,
    Customer,
    EveryDayCalendar,
    Installment,
    InstallmentStatus,
    Payment,
    SettlementPolicy,
)
from carteira.domain import reverse as reverse_settlement
from carteira.domain.operations import ChargeState, Environment, GatewayAccount
from carteira.domain.postings import PostingKind, balance
from carteira.errors import InvalidInput, InvalidType, RuleViolation
from carteira.ports.gateway import ChargeId, ChargeStatus
from carteira.ports.storage import Store
from carteira.testing import FakeGateway, FixedClock

TODAY = date(2026, 3, 10)
LATER = date(2026, 3, 16)
"""When the reversals happen: a week after the payments."""
ACCOUNT = GatewayAccount("cid", Environment.SANDBOX, "efi", "0", "itau-1", Money("2.50"), "101", "201", "301")
TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))


@attrs.define
class Paid:
    """A portfolio whose gateway is a fake, with installments i1-i3 issued as billets."""

    portfolio: Portfolio
    fake: FakeGateway

    def pay(self, installment_id: str, value: str | None = None) -> None:
        """The payer pays the installment's billet at the bank, and Efí's notification is received and processed."""
        with self.portfolio.store.unit_of_work() as uow:
            charge = ChargeId(uow.gateway_charges.get(installment_id).charge_id)
        self.fake.pay(charge, None if value is None else Money(value))
        self.portfolio.payments.receive(self.fake.token_of(charge))
        assert self.portfolio.payments.process().settled == 1

    def settlement_of(self, installment_id: str) -> str:
        """The id of the installment's first settlement."""
        with self.portfolio.store.unit_of_work() as uow:
            return uow.settlements.of_installment(installment_id)[-1].id


@pytest.fixture
def paid(store: Store) -> Paid:
    fake = FakeGateway(today=TODAY)
    clock = FixedClock(TODAY)
    portfolio = Portfolio(
        store, gateway=fake, clock=clock, calendar=EveryDayCalendar(), notification_url="https://erp.example/efi"
    )
    portfolio.gateway.configure(ACCOUNT)
    with store.unit_of_work() as uow:
        uow.customers.put(Customer("c1", "Maria da Silva", tax_id="52998224725"))
        for n in (1, 2, 3):
            uow.installments.put(
                Installment(
                    f"i{n}",
                    "c1",
                    date(2026, 4, 10),
                    Money("100.00"),
                    TERMS,
                    bank_contract="efi",
                    description=f"Internet {n}",
                )
            )
        uow.commit()
    assert portfolio.gateway.issue_billets(["i1", "i2", "i3"]).report.sent == 3
    return Paid(portfolio, fake)


# -- the receipt's history ----------------------------------------------------------------------------


def test_a_paid_charge_settles_its_installment_under_the_receipt_history(paid: Paid) -> None:
    paid.pay("i1")
    settlement_id = paid.settlement_of("i1")
    with paid.portfolio.store.unit_of_work() as uow:
        settlement = uow.settlements.get(settlement_id)
        histories = sorted(p.history for p in uow.postings.of_settlement(settlement.id))
    assert settlement.history == "101"  # the account's receipt history; entries and fees keep theirs
    assert histories == ["201", "301"]
    assert settlement.paid == Money("100.00")


def test_a_blank_receipt_history_is_no_history(paid: Paid) -> None:
    paid.portfolio.gateway.configure(attrs.evolve(ACCOUNT, receipt_history=""))
    paid.pay("i2")
    settlement_id = paid.settlement_of("i2")
    with paid.portfolio.store.unit_of_work() as uow:
        assert uow.settlements.get(settlement_id).history is None


# -- reversal: the opposite entries, never a deletion --------------------------------------------------


def test_reversing_a_gateway_settlement_posts_the_opposite_entries_and_keeps_the_originals(paid: Paid) -> None:
    paid.pay("i1")
    paid.pay("i2")
    settlement_id, other_id = paid.settlement_of("i1"), paid.settlement_of("i2")
    with paid.portfolio.store.unit_of_work() as uow:
        originals = uow.postings.of_settlement(settlement_id)
        untouched = uow.postings.of_settlement(other_id)
    assert balance(originals) == Money("97.50")

    done = paid.portfolio.returns.reactivate("i1", on=LATER)

    assert done.done
    assert [i.status for i in done.installments] == [InstallmentStatus.OPEN]
    with paid.portfolio.store.unit_of_work() as uow:
        after = uow.postings.of_settlement(settlement_id)
        settlement = uow.settlements.get(settlement_id)
        charge = uow.gateway_charges.get("i1")
        issues = uow.operations.of_documents(["i1"])
        assert uow.postings.of_settlement(other_id) == untouched
    assert after[: len(originals)] == originals  # nothing deleted or changed
    reversals = after[len(originals) :]  # one add_many: in id order, as every store keeps it (decision 0345)
    assert sorted((r.reverses or "", r.kind.value, r.amount, r.history, r.account, r.on) for r in reversals) == sorted(
        (p.id, p.kind.value, p.amount, p.history, p.account, LATER) for p in originals
    )
    assert balance(after) == Money.ZERO
    assert {r.kind for r in reversals} == {PostingKind.ENTRY, PostingKind.FEE}
    assert (settlement.reversed_on, settlement.history) == (LATER, "101")
    # Efí received the money and cannot un-pay a charge: it stays PAID, and the panel flags it (decision 0713).
    assert charge.state is ChargeState.PAID
    assert [(op.document_reversed, op.flagged) for op in issues] == [(True, True)]
    with pytest.raises(RuleViolation, match="already sent"):  # no second charge for money already received
        paid.portfolio.gateway.issue_billets(["i1"])


def test_reversing_twice_is_refused_and_posts_nothing(paid: Paid) -> None:
    paid.pay("i3", "100.00")
    settlement_id = paid.settlement_of("i3")
    paid.portfolio.returns.reactivate("i3", on=LATER)
    with paid.portfolio.store.unit_of_work() as uow:
        posted = uow.postings.of_settlement(settlement_id)
        reversed_once = uow.settlements.get(settlement_id)
        installment = uow.installments.get("i3")
    assert len(posted) == 4

    with pytest.raises(RuleViolation, match="no settlement to reverse"):
        paid.portfolio.returns.reactivate("i3", on=LATER)
    with pytest.raises(RuleViolation, match="already reversed"):  # the domain refuses the settlement itself
        reverse_settlement(installment, reversed_once, SettlementPolicy(), on=LATER)

    with paid.portfolio.store.unit_of_work() as uow:
        assert uow.postings.of_settlement(settlement_id) == posted
        assert uow.operations.of_documents(["i3"])[0].document_reversed


def test_a_settlement_with_nothing_posted_is_reversed_without_postings(paid: Paid) -> None:
    """A settlement made by hand (no gateway payment) has no postings: the reversal posts none and flags nothing."""
    settled = paid.portfolio.gateway.settle("i2", Payment(Money("100.00"), TODAY), send=False)
    assert settled.outcome.settlement is not None
    paid.portfolio.returns.reactivate("i2", on=LATER)
    with paid.portfolio.store.unit_of_work() as uow:
        assert uow.postings.of_settlement(settled.outcome.settlement.id) == []
        issues = [op for op in uow.operations.of_documents(["i2"]) if op.kind.creates]
    assert [op.document_reversed for op in issues] == [False]


# -- the postings, listed -----------------------------------------------------------------------------


def test_postings_are_listed_by_date_account_and_history(paid: Paid) -> None:
    paid.pay("i1")
    paid.fake.advance(2)
    paid.pay("i2")  # paid two days later
    paid.portfolio.returns.reactivate("i1", on=LATER)
    payments = paid.portfolio.payments

    every = payments.postings(on_from=TODAY, on_to=LATER)
    assert [p.on for p in every] == [TODAY, TODAY, date(2026, 3, 12), date(2026, 3, 12), LATER, LATER]
    assert [(p.on, p.id) for p in every] == sorted((p.on, p.id) for p in every)
    assert balance(every) == Money("97.50")  # i2's entry less its fee; i1's undone
    fees = payments.postings(on_from=TODAY, on_to=LATER, history="301")
    assert [(p.kind, p.history) for p in fees] == [(PostingKind.FEE, "301")] * 3
    assert [p.reverses is not None for p in fees] == [False, False, True]
    assert payments.postings(on_from=TODAY, on_to=TODAY, account="itau-1") == every[:2]
    assert payments.postings(on_from=LATER, on_to=LATER, account="itau-1", history="201") == [
        p for p in every[4:] if p.kind is PostingKind.ENTRY
    ]
    assert payments.postings(on_from=TODAY, on_to=LATER, account="bradesco-9") == []
    assert payments.postings(on_from=date(2026, 3, 11), on_to=date(2026, 3, 11)) == []


def test_listing_postings_refuses_a_period_that_ends_before_it_starts_and_blank_filters(paid: Paid) -> None:
    payments = paid.portfolio.payments
    with pytest.raises(InvalidInput, match="ends") as raised:
        payments.postings(on_from=LATER, on_to=TODAY)
    assert raised.value.field == "on_to"
    with pytest.raises(InvalidInput) as blank:
        payments.postings(on_from=TODAY, on_to=LATER, history=" ")
    assert blank.value.field == "history"
    with pytest.raises(InvalidType):
        payments.postings(on_from="2026-03-10", on_to=LATER)  # type: ignore[arg-type]
    with pytest.raises(InvalidType):
        payments.postings(on_from=TODAY, on_to=LATER, account=7)  # type: ignore[arg-type]


def test_a_charge_reported_paid_again_after_a_local_reversal_is_flagged_not_settled_twice(paid: Paid) -> None:
    paid.pay("i1")
    paid.portfolio.returns.reactivate("i1", on=LATER)  # reopened in carteira; the charge stays PAID at Efí
    with paid.portfolio.store.unit_of_work() as uow:
        charge_id = ChargeId(uow.gateway_charges.get("i1").charge_id)
    # A second "paid" event for the same charge (a duplicated bank report): the fake's own transition.
    paid.fake._move(paid.fake._charge(charge_id), ChargeStatus.PAID)
    paid.portfolio.payments.receive(paid.fake.token_of(charge_id))
    report = paid.portfolio.payments.process()
    assert (report.settled, report.flagged) == (0, 1)
    (flagged,) = paid.portfolio.payments.flagged()
    assert flagged.note == "paid at the gateway again, its first payment was settled"
    with paid.portfolio.store.unit_of_work() as uow:
        assert uow.installments.get("i1").status is InstallmentStatus.OPEN
        assert len(uow.settlements.of_installment("i1")) == 1
