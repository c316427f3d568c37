"""A stateful test: settling, partial payments, credit letters, reversals and the closing date in random order.

After every step the whole portfolio is checked against the settlement records: each
installment's balances equal its face value and accrued charges less what its active
settlements closed, each letter's balance equals its amount less its active uses, and money
is conserved across all of them.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from carteira import BrazilBankingCalendar
from carteira.domain import (
    ChargeTerms,
    CreditLetter,
    CreditLetterStatus,
    Installment,
    Money,
    OutcomeKind,
    Payment,
    RefusalReason,
    Settlement,
    SettlementPolicy,
    Tolerance,
    reverse,
    settle,
    use_credit_letter,
)
from carteira.errors import ClosedPeriod, RuleViolation
from carteira.testing.strategies import charge_terms, money

START = date(2025, 1, 6)
CUSTOMER = "cust-1"


class Portfolio(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.today = START
        self.calendar = BrazilBankingCalendar()
        self.policy = SettlementPolicy(
            over=Tolerance(amount=Money("1.00")),
            under=Tolerance(amount=Money("0.50"), rate=Decimal("0.001")),
            settle_beyond_tolerance=True,
        )
        self.installments: dict[str, Installment] = {}
        self.face: dict[str, Money] = {}
        self.settlements: dict[str, Settlement] = {}
        self.letters: dict[str, CreditLetter] = {}

    # ---- rules -------------------------------------------------------------------------------------

    @rule(
        amount=money(min_value=Money("5.00"), max_value=Money("5000.00")),
        terms=charge_terms(),
        offset=st.integers(-20, 60),
    )
    def issue(self, amount: Money, terms: ChargeTerms, offset: int) -> None:
        key = f"i{len(self.installments)}"
        due = self.today + timedelta(days=offset)
        self.installments[key] = Installment(key, CUSTOMER, due, amount, terms)
        self.face[key] = amount

    @rule(days=st.integers(1, 45))
    def time_passes(self, days: int) -> None:
        self.today += timedelta(days=days)

    @rule(back=st.integers(0, 30))
    def close_the_period(self, back: int) -> None:
        closing = self.today - timedelta(days=back)
        if self.policy.closing_date is None or closing > self.policy.closing_date:
            self.policy = attrs.evolve(self.policy, closing_date=closing)

    @precondition(lambda self: self.installments)
    @rule(data=st.data(), fraction=st.integers(1, 130))
    def pay(self, data: st.DataObject, fraction: int) -> None:
        key = data.draw(st.sampled_from(sorted(self.installments)))
        installment = self.installments[key]
        paid = Money.rounded(installment.balance.amount * fraction / 100 + Decimal("0.01"))
        outcome = settle(installment, Payment(paid, self.today), self.policy, calendar=self.calendar)
        if outcome.kind is OutcomeKind.REFUSED:
            assert outcome.refusal in (RefusalReason.NOT_OPEN, RefusalReason.CLOSED_PERIOD)
            assert outcome.installment == installment
            return
        self._record(outcome.installment, outcome.settlement, outcome.credit_letter)

    @precondition(lambda self: any(letter.balance > Money.ZERO for letter in self.letters.values()))
    @precondition(lambda self: self.installments)
    @rule(data=st.data())
    def use_a_letter(self, data: st.DataObject) -> None:
        usable = sorted(k for k, letter in self.letters.items() if letter.balance > Money.ZERO)
        letter = self.letters[data.draw(st.sampled_from(usable))]
        open_ones = sorted(k for k, i in self.installments.items() if i.is_open)
        if not open_ones:
            return
        installment = self.installments[data.draw(st.sampled_from(open_ones))]
        outcome = use_credit_letter(installment, letter, self.policy, on=self.today, calendar=self.calendar)
        if outcome.kind is OutcomeKind.REFUSED:
            # Nothing was drawn: no settlement and no letter to save, the installment as it was.
            assert (outcome.settlement, outcome.credit_letter) == (None, None)
            assert outcome.installment == installment
            return
        assert outcome.settlement is not None
        assert outcome.credit_letter is not None
        assert outcome.credit_letter.id == letter.id
        assert outcome.credit_letter.balance == letter.balance - outcome.settlement.paid
        self._record(outcome.installment, outcome.settlement, outcome.credit_letter)

    @precondition(lambda self: any(i.latest_settlement_id for i in self.installments.values()))
    @rule(data=st.data())
    def reverse_the_latest(self, data: st.DataObject) -> None:
        keys = sorted(k for k, i in self.installments.items() if i.latest_settlement_id)
        installment = self.installments[data.draw(st.sampled_from(keys))]
        assert installment.latest_settlement_id is not None
        settlement = self.settlements[installment.latest_settlement_id]
        letter_id = settlement.credit_letter_id or settlement.source_letter_id
        letter = None if letter_id is None else self.letters[letter_id]
        closing = self.policy.closing_date
        try:
            reversal = reverse(installment, settlement, self.policy, on=self.today, credit_letter=letter)
        except ClosedPeriod:
            assert closing is not None
            assert settlement.paid_on < closing
            return
        except RuleViolation:
            assert letter is not None
            assert settlement.credit_letter_id == letter.id
            assert letter.balance < letter.amount  # refused only because the letter was used (D8)
            return
        assert closing is None or settlement.paid_on >= closing
        assert reversal.installment.state == settlement.before
        self.installments[installment.id] = reversal.installment
        self.settlements[settlement.id] = reversal.settlement
        if reversal.credit_letter is not None:
            self.letters[reversal.credit_letter.id] = reversal.credit_letter

    @precondition(lambda self: self.settlements)
    @rule(data=st.data())
    def reversing_an_older_settlement_is_refused(self, data: st.DataObject) -> None:
        older = sorted(
            s.id
            for s in self.settlements.values()
            if not s.is_reversed and self.installments[s.installment_id].latest_settlement_id != s.id
        )
        if not older:
            return
        settlement = self.settlements[data.draw(st.sampled_from(older))]
        installment = self.installments[settlement.installment_id]
        with pytest.raises(RuleViolation, match="not the latest") as refused:
            reverse(installment, settlement, SettlementPolicy(), on=self.today)
        assert refused.value.rule == "D8"

    def _record(self, installment: Installment, settlement: Settlement | None, letter: CreditLetter | None) -> None:
        assert settlement is not None
        self.installments[installment.id] = installment
        self.settlements[settlement.id] = settlement
        if letter is not None:
            self.letters[letter.id] = letter

    # ---- invariants --------------------------------------------------------------------------------

    def _active(self, installment_id: str) -> list[Settlement]:
        return [s for s in self.settlements.values() if s.installment_id == installment_id and not s.is_reversed]

    @invariant()
    def each_installment_matches_its_settlements(self) -> None:
        for key, installment in self.installments.items():
            active = self._active(key)
            closed = sum((s.principal for s in active), Money.ZERO)
            assert installment.principal_open + closed == self.face[key]
            fines = sum((s.fine_accrued - s.fine for s in active), Money.ZERO)
            assert installment.fine_open == fines
            interest = sum((s.interest_accrued - s.interest for s in active), Money.ZERO)
            assert installment.interest_open == interest
            assert sum(s.fine_accrued > Money.ZERO for s in active) <= 1

    @invariant()
    def each_letter_matches_its_uses(self) -> None:
        for letter in self.letters.values():
            origin = self.settlements[letter.origin_settlement_id]
            uses = [s for s in self.settlements.values() if s.source_letter_id == letter.id and not s.is_reversed]
            used = sum((s.paid for s in uses), Money.ZERO)
            assert Money.ZERO <= letter.balance <= letter.amount
            if origin.is_reversed:
                assert letter.status is CreditLetterStatus.CANCELLED
                assert used == Money.ZERO
            else:
                assert letter.status is CreditLetterStatus.ACTIVE
                assert letter.balance + used == letter.amount

    @invariant()
    def money_is_conserved(self) -> None:
        active = [s for s in self.settlements.values() if not s.is_reversed]
        received = sum((s.paid + s.discount + s.abatement + s.extra_discount for s in active), Money.ZERO)
        closed = sum(
            (s.principal + s.interest + s.fine + s.extra_charge + s.credit_letter_amount for s in active), Money.ZERO
        )
        assert received == closed
        outstanding = sum((i.principal_open for i in self.installments.values()), Money.ZERO)
        principal_closed = sum((s.principal for s in active), Money.ZERO)
        assert outstanding + principal_closed == sum(self.face.values(), Money.ZERO)


TestPortfolio = Portfolio.TestCase
TestPortfolio.settings = TestPortfolio.settings.__class__(
    TestPortfolio.settings, max_examples=150, stateful_step_count=40
)
