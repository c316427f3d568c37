"""Return batches end to end on a MemoryStore: import, auto-link, review, confirm, reactivate, delete (SPEC B2-B11)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import attrs
import pytest

from carteira import ChargeTerms, Installment, InstallmentStatus, Money, OutcomeKind, RevenueKind
from carteira.adapters.cnab import LAYOUTS, CnabParser, Layout
from carteira.domain import AnticipationStatus, Contract, Customer, PortfolioSettings, SettlementPolicy, Tolerance
from carteira.domain.return_batch import BatchStatus, LinkOrigin, RecordFilter
from carteira.errors import ClosedPeriod, DuplicateImport, InvalidInput, NotFound, RuleViolation
from carteira.portfolio import Portfolio
from carteira.ports.storage import Store
from carteira.testing import FixedClock
from carteira.testing.return_files import TitleMovement, write_return_file

TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
DUE = date(2026, 3, 10)  # a Tuesday
TODAY = date(2026, 3, 20)
POLICY = SettlementPolicy(over=Tolerance(amount=Money("0.50")), under=Tolerance(amount=Money("0.50")))


def paid(number: str, amount: str, *, on: date = DUE, due: date = DUE, face: str | None = None) -> TitleMovement:
    return TitleMovement(
        bank_title_number=number, paid=Money(amount), due_date=due, face_value=Money(face or amount),
        occurrence_date=on, credit_date=on,
    )  # fmt: skip


def a_file(movements: Sequence[TitleMovement], *, sequence: int = 1) -> bytes:
    return write_return_file("bb-240", movements, generated_on=TODAY, agreement="123456", file_sequence=sequence)


def installment(
    ident: str, number: str | None, *, amount: str = "100.00", customer: str = "c1", **extra: object
) -> Installment:
    return Installment(ident, customer, DUE, Money(amount), TERMS, contract_id=f"k-{customer}",
                       bank_title_number=number, **extra)  # type: ignore[arg-type]  # fmt: skip


@pytest.fixture
def portfolio(store: Store) -> Portfolio:
    with store.unit_of_work() as uow:
        uow.settings.put(PortfolioSettings(policy=POLICY))
        for customer in ("c1", "c2"):
            uow.customers.put(Customer(customer, f"Cliente {customer}"))
            uow.contracts.put(Contract(f"k-{customer}", customer, bank_contract="bb-1"))
        uow.commit()
    return Portfolio(store, clock=FixedClock(TODAY))


def put(portfolio: Portfolio, *items: Installment) -> None:
    with portfolio.store.unit_of_work() as uow:
        uow.installments.put_many(list(items))
        uow.commit()


def get(portfolio: Portfolio, ident: str) -> Installment:
    with portfolio.store.unit_of_work() as uow:
        return uow.installments.get(ident)


def test_import_keeps_every_record_and_settles_nothing(portfolio: Portfolio) -> None:
    put(portfolio, installment("i1", "111"))
    entry = attrs.evolve(paid("222", "50.00"), movement_code="02")
    rejected = attrs.evolve(paid("333", "50.00"), movement_code="03")
    data = a_file([paid("111", "100.00"), entry, rejected])
    batch = portfolio.returns.import_file(data, description="March", process_date=TODAY)
    assert batch.status is BatchStatus.IMPORTED
    assert batch.record_count == 3
    rows = portfolio.returns.review(batch.id)
    assert [row.record.is_settlement for row in rows] == [True, False, False]
    assert [row.record.is_rejection for row in rows] == [False, False, True]  # rejections flagged (B4)
    assert get(portfolio, "i1").status is InstallmentStatus.OPEN


def test_the_same_file_twice_is_refused_naming_the_first_batch(portfolio: Portfolio) -> None:
    data = a_file([paid("111", "100.00")])
    first = portfolio.returns.import_file(data, description="March", process_date=TODAY)
    with pytest.raises(DuplicateImport) as by_bytes:
        portfolio.returns.import_file(data, description="again", process_date=TODAY)
    assert by_bytes.value.earlier_batch_id == first.id
    other_bytes = a_file([paid("111", "100.00"), paid("333", "1.00")])  # same bank, agreement and sequence
    with pytest.raises(DuplicateImport) as by_key:
        portfolio.returns.import_file(other_bytes, description="edited", process_date=TODAY)
    assert by_key.value.earlier_batch_id == first.id
    assert len(portfolio.returns.batches()) == 1


def test_a_malformed_file_is_refused_whole_with_its_line(portfolio: Portfolio) -> None:
    data = bytearray(a_file([paid("111", "100.00")]))
    lines = bytes(data).split(b"\n")
    lines[3] = lines[3][:77] + b"00000X" + lines[3][83:]  # the U segment's paid amount
    with pytest.raises(InvalidInput) as caught:
        portfolio.returns.import_file(b"\n".join(lines), description="bad", process_date=TODAY)
    assert caught.value.line == 4
    assert portfolio.returns.batches() == []


def test_auto_link_compares_numbers_normalized_and_links_one_boleto_to_its_parcels(portfolio: Portfolio) -> None:
    put(
        portfolio,
        installment("single", "000123"),
        installment("p1", "777", amount="50.00"),
        attrs.evolve(installment("p2", "777", amount="50.00"), due=date(2026, 4, 10)),
        installment("twin-a", None, customer="c1", amount="80.00"),
        installment("twin-b", None, customer="c2", amount="80.00"),
    )
    movements = [paid("123", "100.00"), paid("777", "100.00"), paid("999", "80.00")]
    batch = portfolio.returns.import_file(a_file(movements), description="March", process_date=TODAY)
    report = portfolio.returns.auto_link(batch.id)
    assert report.linked == 2
    (left,) = report.left_open.values()
    assert "2 open installments" in left  # two customers owe 80.00 on that day: a person decides
    rows = {row.record.bank_title_number: row for row in portfolio.returns.review(batch.id)}
    assert rows["123"].record.links == ("single",)
    assert rows["777"].record.links == ("p1", "p2")
    assert rows["777"].record.origin is LinkOrigin.AUTO


def test_review_flags_a_difference_before_anything_is_confirmed(portfolio: Portfolio) -> None:
    put(portfolio, installment("i1", "111"), installment("i2", "222"))
    late = date(2026, 4, 9)  # 30 days late: 2.00 fine and 1.00 interest
    movements = [paid("111", "100.00", on=late, face="100.00"), paid("222", "100.00")]
    batch = portfolio.returns.import_file(a_file(movements), description="March", process_date=TODAY)
    portfolio.returns.auto_link(batch.id)
    rows = {row.record.bank_title_number: row for row in portfolio.returns.review(batch.id)}
    assert (rows["111"].corrected, rows["111"].difference, rows["111"].flagged) == (
        Money("103.00"), Money("-3.00"), True
    )
    assert not rows["222"].flagged


def test_confirm_settles_with_the_files_values_and_completes_the_batch(portfolio: Portfolio) -> None:
    put(portfolio, installment("i1", "111", bank_transmission="remessa-7", bank_contract="bb-1"))
    movement = attrs.evolve(paid("111", "100.30", on=date(2026, 3, 10)), tariff=Money("2.50"))
    batch = portfolio.returns.import_file(a_file([movement]), description="March", process_date=TODAY)
    portfolio.returns.auto_link(batch.id)
    report = portfolio.returns.confirm(batch.id)
    assert (report.settled, report.refused, report.status) == (1, {}, BatchStatus.COMPLETED)
    after = get(portfolio, "i1")
    assert after.status is InstallmentStatus.SETTLED
    assert after.bank_transmission is None
    with portfolio.store.unit_of_work() as uow:
        settlement = uow.settlements.get(after.latest_settlement_id or "")
    assert (settlement.batch_id, settlement.batch_line) == (batch.id, 3)
    assert settlement.revenue_kind is RevenueKind.BANK  # D11: the installment is on a bank contract
    assert settlement.extra_charge == Money("0.30")  # within the 0.50 tolerance
    assert settlement.bank_charges == Money("2.50")
    assert settlement.kind is OutcomeKind.FULL


def test_a_refusal_is_a_note_on_its_record_and_the_batch_stays_pending(portfolio: Portfolio) -> None:
    put(portfolio, installment("i1", "111"), installment("i2", "222"))
    movements = [paid("111", "100.00"), paid("222", "90.00")]  # 10.00 short, policy does not settle beyond
    batch = portfolio.returns.import_file(a_file(movements), description="March", process_date=TODAY)
    portfolio.returns.auto_link(batch.id)
    report = portfolio.returns.confirm(batch.id)
    assert report.settled == 1
    assert "underpaid 10.00" in report.refused[5]
    assert report.status is BatchStatus.PENDING
    assert get(portfolio, "i2").status is InstallmentStatus.OPEN


def test_a_subset_of_lines_is_confirmed_and_the_rest_later(portfolio: Portfolio) -> None:
    put(portfolio, installment("i1", "111"), installment("i2", "222"))
    batch = portfolio.returns.import_file(
        a_file([paid("111", "100.00"), paid("222", "100.00")]), description="March", process_date=TODAY
    )
    portfolio.returns.auto_link(batch.id)
    assert portfolio.returns.confirm(batch.id, lines=[3]).status is BatchStatus.PENDING
    assert portfolio.returns.confirm(batch.id).settled == 1
    assert portfolio.returns.get(batch.id).status is BatchStatus.COMPLETED


def test_a_confirm_that_dies_between_chunks_is_finished_by_the_next_one_without_doubles(portfolio: Portfolio) -> None:
    numbers = [str(100 + n) for n in range(7)]
    put(portfolio, *(installment(f"i{n}", number) for n, number in enumerate(numbers)))
    batch = portfolio.returns.import_file(
        a_file([paid(number, "100.00") for number in numbers]), description="March", process_date=TODAY
    )
    portfolio.returns.auto_link(batch.id)

    def die(done: int, total: int) -> None:
        raise KeyboardInterrupt  # the process is stopped after its first chunk committed

    with pytest.raises(KeyboardInterrupt):
        portfolio.returns.confirm(batch.id, chunk_size=3, progress=die)
    assert portfolio.returns.get(batch.id).status is BatchStatus.PENDING
    seen: list[tuple[int, int]] = []
    report = portfolio.returns.confirm(batch.id, chunk_size=3, progress=lambda d, t: seen.append((d, t)))
    assert report.settled == 4
    assert seen == [(3, 4), (4, 4)]
    with portfolio.store.unit_of_work() as uow:
        made = [s for n in range(7) for s in uow.settlements.of_installment(f"i{n}")]
    assert len(made) == 7


def test_manual_links_replace_and_refuse_what_cannot_be_linked(portfolio: Portfolio) -> None:
    put(portfolio, installment("i1", None), installment("i2", None))
    entry = attrs.evolve(paid("222", "50.00"), movement_code="02")
    data = a_file([paid("111", "100.00"), entry])
    batch = portfolio.returns.import_file(data, description="March", process_date=TODAY)
    assert [row.record.line for row in portfolio.returns.review(batch.id, records=RecordFilter.OPEN)] == [3]
    record = portfolio.returns.link(batch.id, 3, ["i2"])
    assert (record.links, record.origin) == (("i2",), LinkOrigin.MANUAL)
    assert [row.record.line for row in portfolio.returns.review(batch.id, records=RecordFilter.MANUAL)] == [3]
    with pytest.raises(InvalidInput, match="not a settlement"):
        portfolio.returns.link(batch.id, 5, ["i1"])
    with pytest.raises(InvalidInput, match="no installment"):
        portfolio.returns.link(batch.id, 3, ["nope"])
    with pytest.raises(NotFound):
        portfolio.returns.link(batch.id, 99, ["i1"])
    assert portfolio.returns.unlink(batch.id, 3).links == ()


def test_reactivation_warns_first_then_reopens_the_record_and_the_batch(portfolio: Portfolio) -> None:
    put(portfolio, installment("i1", "111"))
    batch = portfolio.returns.import_file(a_file([paid("111", "100.00")]), description="March", process_date=TODAY)
    portfolio.returns.auto_link(batch.id)
    portfolio.returns.confirm(batch.id)
    warned = portfolio.returns.reactivate("i1", on=TODAY)
    assert not warned.done
    assert batch.id in warned.warning
    assert get(portfolio, "i1").status is InstallmentStatus.SETTLED
    done = portfolio.returns.reactivate("i1", on=TODAY, acknowledge=True)
    assert done.done
    assert get(portfolio, "i1").status is InstallmentStatus.OPEN
    assert portfolio.returns.get(batch.id).status is BatchStatus.PENDING
    (row,) = portfolio.returns.review(batch.id)
    assert row.record.links == ("i1",)
    assert not row.record.is_settled
    with pytest.raises(RuleViolation, match="no settlement"):
        portfolio.returns.reactivate("i1", on=TODAY)
    assert portfolio.returns.confirm(batch.id).status is BatchStatus.COMPLETED  # confirmed again, as it was


def test_deleting_a_batch_restores_every_installment_exactly(portfolio: Portfolio) -> None:
    originals = [installment("i1", "111"), installment("i2", "222")]
    put(portfolio, *originals)
    before = {item.id: get(portfolio, item.id).state for item in originals}
    batch = portfolio.returns.import_file(
        a_file([paid("111", "100.00"), paid("222", "100.20")]), description="March", process_date=TODAY
    )
    portfolio.returns.auto_link(batch.id)
    portfolio.returns.confirm(batch.id)
    portfolio.returns.delete(batch.id)
    assert {ident: get(portfolio, ident).state for ident in before} == before
    with pytest.raises(NotFound):
        portfolio.returns.get(batch.id)


def test_deleting_a_batch_settled_before_the_closing_date_is_refused_and_changes_nothing(portfolio: Portfolio) -> None:
    put(portfolio, installment("i1", "111"))
    batch = portfolio.returns.import_file(a_file([paid("111", "100.00")]), description="March", process_date=TODAY)
    portfolio.returns.auto_link(batch.id)
    portfolio.returns.confirm(batch.id)
    with portfolio.store.unit_of_work() as uow:
        uow.settings.put(attrs.evolve(uow.settings.get(), policy=attrs.evolve(POLICY, closing_date=date(2026, 3, 15))))
        uow.commit()
    with pytest.raises(ClosedPeriod) as caught:
        portfolio.returns.delete(batch.id)
    assert "i1" in str(caught.value)
    assert caught.value.closing_date == date(2026, 3, 15)
    assert get(portfolio, "i1").status is InstallmentStatus.SETTLED
    assert portfolio.returns.get(batch.id).status is BatchStatus.COMPLETED


def _with_anticipation() -> Layout:
    """FEBRABAN 240 plus the two fields seed 004's formats add for securitized parcels (in T's free positions)."""
    data = LAYOUTS["febraban-240"].to_dict()
    data["id"] = "febraban-240-anticipation"
    data["fields"]["anticipation_id"] = {"start": 106, "length": 10, "type": "text", "record": "T"}
    data["fields"]["anticipation_rate"] = {"start": 116, "length": 5, "type": "percent", "record": "T"}
    return Layout.from_dict(data)


def test_anticipation_ids_create_one_anticipation_in_study_per_id(portfolio: Portfolio) -> None:
    put(portfolio, installment("i1", "111"), installment("i2", "222"), installment("i3", "333"))
    layout = _with_anticipation()
    movements = [
        attrs.evolve(paid(number, "100.00"), anticipation_id=group, anticipation_rate=Decimal("0.015"))
        for number, group in (("111", "A1"), ("222", "A1"), ("333", "A2"))
    ]
    data = write_return_file(layout, movements, generated_on=TODAY, agreement="1", file_sequence=9)
    batch = portfolio.returns.import_file(data, description="March", process_date=TODAY, parser=CnabParser(layout))
    portfolio.returns.auto_link(batch.id)
    report = portfolio.returns.confirm(batch.id)
    assert report.anticipations == (f"{batch.id}/A1", f"{batch.id}/A2")
    with portfolio.store.unit_of_work() as uow:
        first = uow.anticipations.get(f"{batch.id}/A1")
    assert first.status is AnticipationStatus.IN_STUDY
    assert [item.installment_id for item in first.items] == ["i1", "i2"]
    assert first.face_total == Money("200.00")  # the open principal before the batch settled them
    assert portfolio.returns.confirm(batch.id).anticipations == ()  # a second confirm creates nothing twice


def test_with_anticipations_generated_as_approved_each_installment_gets_a_note(portfolio: Portfolio) -> None:
    with portfolio.store.unit_of_work() as uow:
        uow.settings.put(attrs.evolve(uow.settings.get(), generate_anticipations_as_approved=True))
        uow.commit()
    put(portfolio, installment("i1", "111"))
    layout = _with_anticipation()
    movement = attrs.evolve(paid("111", "100.00"), anticipation_id="A1", anticipation_rate=Decimal("0.015"))
    data = write_return_file(layout, [movement], generated_on=TODAY, agreement="1", file_sequence=9)
    batch = portfolio.returns.import_file(data, description="March", process_date=TODAY, parser=CnabParser(layout))
    portfolio.returns.auto_link(batch.id)
    report = portfolio.returns.confirm(batch.id)
    assert (report.anticipations, report.observations) == ((), 1)
    with portfolio.store.unit_of_work() as uow:
        (note,) = uow.observations.of_installment("i1")
        assert uow.anticipations.with_status(AnticipationStatus.IN_STUDY) == []
    assert "A1" in note.text


def test_the_payers_cpf_tells_two_customers_with_the_same_amount_and_due_date_apart(portfolio: Portfolio) -> None:
    with portfolio.store.unit_of_work() as uow:
        uow.customers.put(attrs.evolve(uow.customers.get("c2"), tax_id="33806987840"))
        uow.commit()
    put(portfolio, installment("mine", None, customer="c2"), installment("theirs", None, customer="c1"))
    movement = attrs.evolve(paid("555", "100.00"), payer_tax_id="33806987840")
    data = write_return_file("febraban-240", [movement], generated_on=TODAY, agreement="1", file_sequence=3)
    batch = portfolio.returns.import_file(data, description="March", process_date=TODAY)
    assert portfolio.returns.auto_link(batch.id).linked == 1
    (row,) = portfolio.returns.review(batch.id)
    assert row.record.links == ("mine",)
    assert row.record.note == "by the payer and value 100.00"


def test_candidates_follow_the_seeds_filters(portfolio: Portfolio) -> None:
    put(
        portfolio,
        installment("linked", "111"),
        attrs.evolve(installment("same-contract-soon", None), due=date(2026, 3, 25)),
        attrs.evolve(installment("same-contract-later", None), due=date(2026, 8, 10)),
        installment("other-customer", "888", customer="c2"),  # another boleto's number: never linked by value
    )
    data = a_file([paid("111", "90.00"), paid("999", "100.00")])
    batch = portfolio.returns.import_file(data, description="March", process_date=TODAY)
    assert portfolio.returns.auto_link(batch.id).linked == 1
    ids = lambda found: [item.id for item in found]  # noqa: E731
    # Line 3 is linked to "linked": its contract's open installments, due near the record's due date.
    assert ids(portfolio.returns.candidates(batch.id, 3)) == ["linked", "same-contract-soon"]
    assert ids(portfolio.returns.candidates(batch.id, 3, all_due_dates=True)) == [
        "linked", "same-contract-soon", "same-contract-later"
    ]
    # Line 5 names no known number: any open installment due that day for its value. The status filter
    # OPEN leaves out what another record of the batch links; AUTO keeps only that.
    assert ids(portfolio.returns.candidates(batch.id, 5, same_contract=False)) == ["linked", "other-customer"]
    assert ids(portfolio.returns.candidates(batch.id, 5, same_contract=False, status=RecordFilter.OPEN)) == [
        "other-customer"
    ]
    assert ids(portfolio.returns.candidates(batch.id, 5, same_contract=False, status=RecordFilter.AUTO)) == ["linked"]
    assert portfolio.returns.candidates(batch.id, 5) == []  # no contract to keep to: nothing links it yet


def test_auto_link_in_chunks_links_a_title_paid_twice_once(portfolio: Portfolio) -> None:
    put(portfolio, installment("i1", "111"), installment("i2", "222"))
    data = a_file([paid("111", "100.00"), paid("111", "100.00"), paid("222", "100.00")])
    batch = portfolio.returns.import_file(data, description="March", process_date=TODAY)
    report = portfolio.returns.auto_link(batch.id, chunk_size=1)  # each record in a unit of its own
    assert report.linked == 2
    assert "already linked to batch" in report.left_open[5]
    assert portfolio.returns.auto_link(batch.id).linked == 0  # run again: nothing new, nothing twice


# -- records the file's own checks flagged (issue #14, decision 0718) ------------------------------------------


def _flagged_batch(portfolio: Portfolio) -> str:
    """A batch whose line 3 is flagged ``sum:paid`` (face 99.50, paid 100.00) and line 5 is clean; both linked."""
    put(portfolio, installment("i1", "111"), installment("i2", "222"))
    data = a_file([paid("111", "100.00", face="99.50"), paid("222", "100.00")])
    batch = portfolio.returns.import_file(data, description="March", process_date=TODAY)
    assert any("flagged 'sum:paid'" in warning for warning in batch.warnings)
    assert portfolio.returns.auto_link(batch.id).linked == 2  # linking is not settling: flagged records link too
    return batch.id


def test_a_flagged_record_settles_only_once_a_person_acknowledges_it(portfolio: Portfolio) -> None:
    batch_id = _flagged_batch(portfolio)
    rows = {row.record.line: row.record for row in portfolio.returns.review(batch_id)}
    assert (rows[3].flags, rows[3].awaits_acknowledgement) == (("sum:paid",), True)
    assert (rows[5].flags, rows[5].awaits_acknowledgement) == ((), False)
    assert [row.record.line for row in portfolio.returns.review(batch_id, records=RecordFilter.FLAGGED)] == [3]

    first = portfolio.returns.confirm(batch_id)
    assert (first.settled, first.refused) == (1, {3: "flagged sum:paid: acknowledge first"})
    assert first.status is BatchStatus.PENDING
    assert get(portfolio, "i1").status is InstallmentStatus.OPEN
    assert get(portfolio, "i2").status is InstallmentStatus.SETTLED
    (waiting,) = [row.record for row in portfolio.returns.review(batch_id) if row.record.line == 3]
    assert (waiting.note, waiting.links, waiting.is_settled) == ("flagged sum:paid: acknowledge first", ("i1",), False)

    (acknowledged,) = portfolio.returns.acknowledge(batch_id, [3], by="ana")
    assert (acknowledged.acknowledged_by, acknowledged.acknowledged_at) == ("ana", portfolio.clock.now())
    assert portfolio.returns.review(batch_id, records=RecordFilter.FLAGGED) == []
    second = portfolio.returns.confirm(batch_id)
    assert (second.settled, second.refused, second.status) == (1, {}, BatchStatus.COMPLETED)
    assert get(portfolio, "i1").status is InstallmentStatus.SETTLED
    (settled,) = [row.record for row in portfolio.returns.review(batch_id) if row.record.line == 3]
    assert (settled.flags, settled.acknowledged_by, settled.is_settled) == (("sum:paid",), "ana", True)


def test_acknowledging_again_keeps_the_first_acknowledgement(portfolio: Portfolio) -> None:
    clock = FixedClock(TODAY)
    ticking = Portfolio(portfolio.store, clock=clock)
    batch_id = _flagged_batch(ticking)
    at = clock.now()
    (first,) = ticking.returns.acknowledge(batch_id, [3, 3], by=" ana ")
    clock.advance(days=1)
    (again,) = ticking.returns.acknowledge(batch_id, [3], by="bruno")
    assert again == first
    assert (again.acknowledged_by, again.acknowledged_at) == ("ana", at)


@pytest.mark.parametrize(
    ("lines", "by", "named"),
    [
        ([3, 9], "ana", 9),  # no record on line 9
        ([5, 3], "ana", 5),  # line 5 has no flags
        ([], "ana", None),
        ([3], "  ", None),
    ],
)
def test_acknowledge_refuses_a_line_it_cannot_acknowledge_and_writes_nothing(
    portfolio: Portfolio, lines: list[int], by: str, named: int | None
) -> None:
    batch_id = _flagged_batch(portfolio)
    with pytest.raises(InvalidInput) as caught:
        portfolio.returns.acknowledge(batch_id, lines, by=by)
    assert caught.value.line == named
    if named is not None:
        assert f"line {named}" in str(caught.value)
    assert [row.record.line for row in portfolio.returns.review(batch_id, records=RecordFilter.FLAGGED)] == [3]
    with pytest.raises(NotFound):
        portfolio.returns.acknowledge("B-nobody", [3], by="ana")


def test_the_flagged_filter_is_for_records_not_candidates(portfolio: Portfolio) -> None:
    batch_id = _flagged_batch(portfolio)
    with pytest.raises(InvalidInput, match="FLAGGED"):
        portfolio.returns.candidates(batch_id, 3, status=RecordFilter.FLAGGED)
