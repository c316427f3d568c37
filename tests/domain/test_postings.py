"""Postings of a gateway settlement (seed 000, SPEC G1, G6): the entry and the fee, and their reversal."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira import Money, settle
from carteira.domain import EveryDayCalendar, Installment, Payment, Settlement, SettlementPolicy
from carteira.domain.operations import Environment, GatewayAccount
from carteira.domain.postings import (
    Posting,
    PostingKind,
    balance,
    gateway_postings,
    reversal_of,
    totals,
    unreversed,
)
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


def _postings(count: int) -> st.SearchStrategy[list[Posting]]:
    """Up to ``count`` entries and fees of one settlement, with distinct ids."""
    one = st.builds(
        lambda kind, cents: (kind, Money.from_cents(cents)), st.sampled_from(PostingKind), st.integers(1, 10**9)
    )
    return st.lists(one, max_size=count).map(
        lambda drawn: [
            Posting(f"p{n}", kind, date(2026, 3, 10), amount, "itau", "201", "s1")
            for n, (kind, amount) in enumerate(drawn)
        ]
    )


@given(postings=_postings(6), data=st.data())
def test_undoing_what_is_not_undone_yet_brings_the_balance_to_zero_and_twice_posts_nothing(
    postings: list[Posting], data: st.DataObject
) -> None:
    # Some were reversed already (a reversal cut short by hand, say): only the rest are undone now.
    earlier = data.draw(st.lists(st.sampled_from(postings), unique_by=lambda p: p.id) if postings else st.just([]))
    recorded = [*postings, *(reversal_of(p, id=f"r-{p.id}", on=date(2026, 3, 11)) for p in earlier)]
    left = unreversed(recorded)
    assert [p.id for p in left] == [p.id for p in postings if p not in earlier]
    undone = [*recorded, *(reversal_of(p, id=f"u-{p.id}", on=date(2026, 3, 12)) for p in left)]
    assert balance(undone) == Money.ZERO
    assert unreversed(undone) == []  # a second reversal has nothing left to post


@given(postings=_postings(8), data=st.data())
def test_totals_split_the_balance_into_entries_fees_and_reversals(postings: list[Posting], data: st.DataObject) -> None:
    undone = data.draw(st.lists(st.sampled_from(postings), unique_by=lambda p: p.id) if postings else st.just([]))
    recorded = [*postings, *(reversal_of(p, id=f"r-{p.id}", on=date(2026, 3, 11)) for p in undone)]
    found = totals(recorded)
    assert found.count == len(recorded)
    assert found.net == balance(recorded) == found.entries - found.fees + found.reversals
    assert found.entries == sum((p.amount for p in postings if p.kind is PostingKind.ENTRY), Money.ZERO)
    assert found.fees == sum((p.amount for p in postings if p.kind is PostingKind.FEE), Money.ZERO)
    assert found.reversals == -balance(undone)


def test_totals_of_a_paid_and_reversed_billet() -> None:
    entry = Posting("p1", PostingKind.ENTRY, date(2026, 3, 10), Money("100.00"), "itau", "201", "s1", "1001")
    fee = Posting("p2", PostingKind.FEE, date(2026, 3, 10), Money("2.50"), "itau", "301", "s1", "1001")
    assert totals([entry, fee]) == totals([fee, entry])
    assert (totals([entry, fee]).net, totals([]).net) == (Money("97.50"), Money.ZERO)
    undone = [reversal_of(p, id=f"r{p.id}", on=date(2026, 3, 12)) for p in (entry, fee)]
    found = totals([entry, fee, *undone])
    assert (found.count, found.entries, found.fees, found.reversals, found.net) == (
        4,
        Money("100.00"),
        Money("2.50"),
        Money("-97.50"),
        Money.ZERO,
    )
