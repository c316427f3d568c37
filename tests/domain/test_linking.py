"""Auto-link proposes a link only when one key names the installments beyond doubt (SPEC B4)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs
from hypothesis import given
from hypothesis import strategies as st

from carteira.domain import ChargeTerms, Installment, InstallmentStatus, Money
from carteira.domain.linking import LinkCandidates, LinkKey, propose_link

TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
DUE = date(2026, 3, 10)
HUNDRED = Money("100.00")


@attrs.frozen
class Title:
    is_settlement: bool = True
    bank_title_number: str | None = "123"
    document_number: str | None = None
    due_date: date | None = DUE
    face_value: Money | None = HUNDRED


def _inst(ident: str, customer: str = "c1", *, due: date = DUE, amount: str = "100.00", **numbers: str) -> Installment:
    return Installment(ident, customer, due, Money(amount), TERMS, **numbers)  # type: ignore[arg-type]


def _settled(item: Installment) -> Installment:
    # A settled installment names the settlement that settled it (decision 0015).
    return attrs.evolve(
        item,
        principal_open=Money.ZERO,
        status=InstallmentStatus.SETTLED,
        latest_settlement_id=f"{item.id}/S1",
        settlements_made=1,
    )


def test_a_title_number_links_every_parcel_of_one_boleto_oldest_first() -> None:
    parcels = [_inst("p3", due=date(2026, 5, 10)), _inst("p1"), _inst("p2", due=date(2026, 4, 10))]
    proposal = propose_link(Title(), LinkCandidates(by_title_number=parcels))
    assert proposal.installment_ids == ("p1", "p2", "p3")
    assert proposal.key is LinkKey.BANK_TITLE_NUMBER


def test_a_title_paid_twice_stays_open_and_does_not_fall_through_to_weaker_keys() -> None:
    other = _inst("other", "c2")
    proposal = propose_link(Title(), LinkCandidates(by_title_number=[_settled(_inst("i1"))], by_due_and_value=[other]))
    assert not proposal.linked
    assert "already settled" in proposal.reason


def test_a_number_shared_by_two_customers_is_left_for_a_person() -> None:
    proposal = propose_link(Title(), LinkCandidates(by_title_number=[_inst("a", "c1"), _inst("b", "c2")]))
    assert not proposal.linked
    assert "2 customers" in proposal.reason


def test_due_and_value_links_only_a_unique_match() -> None:
    title = Title(bank_title_number=None)
    assert propose_link(title, LinkCandidates(by_due_and_value=[_inst("a")])).installment_ids == ("a",)
    twins = LinkCandidates(by_due_and_value=[_inst("a", "c1"), _inst("b", "c2")])
    assert not propose_link(title, twins).linked


def test_the_payer_tells_two_customers_with_the_same_amount_apart() -> None:
    title = Title(bank_title_number=None)
    candidates = LinkCandidates(
        of_payer=[_inst("mine", "c1")], by_due_and_value=[_inst("mine", "c1"), _inst("theirs", "c2")], payer_known=True
    )
    proposal = propose_link(title, candidates)
    assert proposal.installment_ids == ("mine",)
    assert proposal.key is LinkKey.CUSTOMER_AND_VALUE


def test_a_known_payer_without_such_an_installment_never_falls_back_to_other_customers() -> None:
    title = Title(bank_title_number=None)
    candidates = LinkCandidates(of_payer=[], by_due_and_value=[_inst("theirs", "c2")], payer_known=True)
    assert not propose_link(title, candidates).linked


def test_an_installment_with_another_boletos_number_is_not_matched_by_value() -> None:
    title = Title(bank_title_number="999")
    candidates = LinkCandidates(by_due_and_value=[_inst("a", bank_title_number="123")])
    assert not propose_link(title, candidates).linked


def test_only_settlement_records_are_linked() -> None:
    proposal = propose_link(Title(is_settlement=False), LinkCandidates(by_title_number=[_inst("a")]))
    assert not proposal.linked
    assert proposal.reason == "not a settlement movement"


@given(
    customers=st.lists(st.sampled_from(["c1", "c2", "c3"]), min_size=1, max_size=6),
    settled=st.lists(st.booleans(), min_size=6, max_size=6),
    key=st.sampled_from(["title", "document", "due"]),
)
def test_a_proposal_never_spans_customers_nor_names_a_settled_installment(
    customers: list[str], settled: list[bool], key: str
) -> None:
    found = [
        _settled(_inst(f"i{n}", customer)) if settled[n] else _inst(f"i{n}", customer)
        for n, customer in enumerate(customers)
    ]
    title = Title(
        bank_title_number="123" if key == "title" else None, document_number="9" if key == "document" else None
    )
    candidates = {
        "title": LinkCandidates(by_title_number=found),
        "document": LinkCandidates(by_document_number=found),
        "due": LinkCandidates(by_due_and_value=found),
    }[key]
    proposal = propose_link(title, candidates)
    chosen = [item for item in found if item.id in proposal.installment_ids]
    assert len({item.customer_id for item in chosen}) <= 1
    assert all(item.is_open for item in chosen)
    if key == "due":
        assert len(chosen) <= 1
