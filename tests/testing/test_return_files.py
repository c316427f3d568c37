"""write_return_file: every built-in layout reads back exactly what was written."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carteira.adapters.cnab import LAYOUTS, parse_return
from carteira.domain import Money
from carteira.errors import InvalidInput
from carteira.testing.return_files import TITLES_PER_LOT, TitleMovement, write_return_file

MONEY_FIELDS = ("face_value", "paid", "tariff", "interest_and_fine", "discount", "abatement")
DATE_FIELDS = ("due_date", "occurrence_date", "credit_date")

amounts = st.integers(min_value=1, max_value=10**9).map(Money.from_cents)
days = st.integers(min_value=0, max_value=3000).map(lambda n: date(2020, 1, 1) + timedelta(days=n))
movements = st.builds(
    TitleMovement,
    bank_title_number=st.integers(min_value=1, max_value=10**7).map(str),
    paid=st.integers(min_value=1_000, max_value=10**9).map(Money.from_cents),
    document_number=st.from_regex(r"[A-Z0-9]{1,8}", fullmatch=True),
    due_date=days,
    face_value=amounts,
    occurrence_date=days,
    credit_date=days,
    tariff=st.integers(min_value=0, max_value=999).map(Money.from_cents),
)


@pytest.mark.parametrize("layout_id", sorted(LAYOUTS))
@settings(max_examples=15)
@given(titles=st.lists(movements, min_size=1, max_size=4), sequence=st.integers(min_value=1, max_value=99_999))
def test_every_layout_reads_back_what_was_written(layout_id: str, titles: list[TitleMovement], sequence: int) -> None:
    layout = LAYOUTS[layout_id]
    data = write_return_file(
        layout_id, titles, generated_on=date(2026, 3, 1), agreement="12345", file_sequence=sequence
    )
    returned = parse_return(data, layout=layout)
    assert len(returned.records) == len(titles)
    # Paid and face value are drawn apart, so the records' sums may flag them; nothing else may be odd.
    assert all("flagged 'sum:" in warning for warning in returned.warnings), returned.warnings
    header_fields = {item.name for item in layout.header}
    if "file_sequence" in header_fields:
        assert returned.file_sequence == sequence
    for written, record in zip(titles, returned.records, strict=True):
        assert record.is_settlement
        assert record.bank_title_number_raw.strip() == written.bank_title_number
        for name in (*MONEY_FIELDS, *DATE_FIELDS, "document_number"):
            item = layout.field(name)
            if item is not None and name not in {d.name for d in layout.derived}:
                assert getattr(record, name) == getattr(written, name), name


@pytest.mark.parametrize("layout_id", sorted(LAYOUTS))
def test_a_file_written_for_any_layout_passes_every_check_it_declares(layout_id: str) -> None:
    # Sequence numbers, trailer counts and totals, and each record's sums (decision 0217), as a bank writes them.
    paid = [
        TitleMovement(bank_title_number=str(n), paid=Money("100.00"), face_value=Money("100.00"), tariff=Money("2.50"))
        for n in range(1, 4)
    ]
    late = TitleMovement(
        bank_title_number="9", paid=Money("103.10"), face_value=Money("100.00"), interest_and_fine=Money("3.10")
    )
    returned = parse_return(write_return_file(layout_id, [*paid, late], generated_on=date(2026, 3, 1)))
    assert returned.warnings == () or returned.layout_id == "febraban-240"
    assert all(not record.flags for record in returned.records)


def test_the_layout_is_detected_from_the_header_it_writes() -> None:
    paid = TitleMovement(bank_title_number="1", paid=Money("5.00"))
    data = write_return_file("itau-400", [paid], generated_on=date(2026, 3, 1))
    assert parse_return(data).layout_id == "itau-400"


def test_a_value_that_does_not_fit_is_refused_naming_the_field() -> None:
    huge = TitleMovement(bank_title_number="1", paid=Money.MAX)  # 17 digits: no layout's amount field holds them
    with pytest.raises(InvalidInput) as caught:
        write_return_file("bb-240", [huge], generated_on=date(2026, 3, 1))
    assert caught.value.field == "paid"


def test_a_negative_amount_is_refused_naming_the_field() -> None:
    refund = TitleMovement(bank_title_number="1", paid=Money("-1.00"))
    with pytest.raises(InvalidInput, match="negative") as caught:
        write_return_file("bb-240", [refund], generated_on=date(2026, 3, 1))
    assert caught.value.field == "paid"


def test_an_unknown_layout_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no built-in layout"):
        write_return_file("nope-240", [], generated_on=date(2026, 3, 1))


@pytest.mark.parametrize(("layout_id", "tax_id"), [("sicoob-240", "03997783000118"), ("febraban-240", "33806987840")])
def test_the_payers_cpf_or_cnpj_is_written_with_its_kind(layout_id: str, tax_id: str) -> None:
    movement = TitleMovement(bank_title_number="1", paid=Money("5.00"), payer_tax_id=tax_id)
    data = write_return_file(layout_id, [movement], generated_on=date(2026, 3, 1), bank_code="756")
    (record,) = parse_return(data, layout=LAYOUTS[layout_id]).records
    assert record.payer_tax_id == tax_id


def test_a_file_larger_than_one_lot_is_split_into_lots_the_reader_accepts() -> None:
    count = TITLES_PER_LOT + 3
    one = Money("1.00")
    movements = [TitleMovement(bank_title_number=str(n), paid=one, face_value=one) for n in range(1, count + 1)]
    data = write_return_file("bb-240", movements, generated_on=date(2026, 3, 1))
    returned = parse_return(data)
    assert len(returned.records) == count
    assert returned.records[-1].bank_title_number == str(count)
    assert returned.warnings == ()
