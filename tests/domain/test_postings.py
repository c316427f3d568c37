"""Postings of a gateway settlement (seed 000, SPEC G1, G6): the entry and the fee, and their reversal."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira import Money, settle
from carteira.domain import EveryDayCalendar, Installment, Payment, Settlement, SettlementPolicy
from carteira.domain.operations import Environment, GatewayAccount
from carteira.domain.postings import Posting, PostingKind, balance, gateway_postings, reversal_of
from carteira.errors import InvalidInput, InvalidType
from carteira.testing.strategies import installments, money, payments


def account(fee: str = "2.50") -> GatewayAccount:
    return GatewayAccount("cid", Environment.SANDBOX, "wallet", "0", "itau-1234", Money(fee), "101", "201", "301")


def settled(installment: Installment, payment: Payment) -> Settlement | None:
    policy = SettlementPolicy(settle_beyond_tolerance=True)
    return settle(installment, payment, policy, calendar=EveryDayCalendar()).settlement


@given(installment=installments(), data=st.data(), fee=money(max_value=Money("9.99")))
def test_a_gateway_settlement_enters_what_was_paid_and_posts_the_fee_and_a_reversal_undoes_both(
    installment: Installment, data: st.DataObject, fee: Money
) -> None:
    payment = data.draw(payments(installment=installment))
    settlement = settled(installment, payment)
    if settlement is None:  # refused: nothing to post
        return
    postings = gateway_postings(settlement, account(str(fee.amount)), charge_id="1001", ids=("p1", "p2"))
    entry = postings[0]
    assert (entry.kind, entry.amount, entry.history, entry.account) == (
        PostingKind.ENTRY,
        payment.amount,
        "201",
        "itau-1234",
    )
    assert entry.on == (payment.credited_on or payment.paid_on)
    assert balance(postings) == payment.amount - fee  # the account holds what was paid less the fee
    assert len(postings) == (1 if fee.is_zero() else 2)
    undone = [reversal_of(p, id=f"r-{p.id}", on=date(2030, 1, 1)) for p in postings]
    assert balance([*postings, *undone]) == Money.ZERO  # reversal posts the opposite, deletes nothing
    assert all(r.reverses == p.id and r.amount == p.amount for p, r in zip(postings, undone, strict=True))


def test_a_posting_is_never_reversed_twice_and_refuses_bad_values() -> None:
    entry = Posting("p1", PostingKind.ENTRY, date(2026, 3, 10), Money("99.90"), "itau", "201", "s1")
    reversed_once = reversal_of(entry, id="r1", on=date(2026, 3, 11))
    assert reversed_once.effect == Money("-99.90")
    with pytest.raises(InvalidInput, match="itself a reversal"):
        reversal_of(reversed_once, id="r2", on=date(2026, 3, 12))
    with pytest.raises(InvalidInput):
        Posting("p1", PostingKind.FEE, date(2026, 3, 10), Money("0"), "itau", "301", "s1")
    with pytest.raises(InvalidType):
        Posting("p1", "fee", date(2026, 3, 10), Money("1"), "itau", "301", "s1")  # type: ignore[arg-type]
