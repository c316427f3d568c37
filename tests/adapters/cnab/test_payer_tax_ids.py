"""The payer's CPF/CNPJ on return records: read where the layout says, kept only when it is a real one."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira.adapters.cnab import LAYOUTS, FieldType, Layout, TaxIdKind, iter_records, parse_return
from carteira.adapters.cnab.tax_ids import cnpj_is_valid, cpf_is_valid
from carteira.errors import InvalidInput
from carteira.testing.efi_emulator import documents
from tests.adapters.cnab.synthetic import ITAU_400, cnab240, cnab400, put, title, to_bytes

SICOOB_240 = LAYOUTS["sicoob-240"]
CPF = "33806987840"  # valid check digits (a CPF in the Santander 240 fixture)
CNPJ = "03997783000118"  # valid check digits (the payer in the Sicoob 240 fixture)


def with_check_digits(body: str) -> str:
    """``body`` (9 digits for a CPF, 12 for a CNPJ) followed by its two mod-11 check digits."""
    digits = [int(c) for c in body]
    for _ in range(2):
        if len(body) == 9:
            weights = list(range(len(digits) + 1, 1, -1))
        else:  # CNPJ weights run 2..9 from the right, then start again at 2
            weights = [2 + (len(digits) - 1 - i) % 8 for i in range(len(digits))]
        rest = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        digits.append(0 if rest < 2 else 11 - rest)
    return "".join(map(str, digits))


# --- the check digits --------------------------------------------------------------------------------


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_cpf_check_agrees_with_an_independent_implementation(digits: str) -> None:
    assert cpf_is_valid(digits) == documents.cpf_is_valid(digits)


@given(st.text(alphabet="0123456789", min_size=14, max_size=14))
def test_cnpj_check_agrees_with_an_independent_implementation(digits: str) -> None:
    assert cnpj_is_valid(digits) == documents.cnpj_is_valid(digits)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_numbers_with_their_own_check_digits_are_valid(cpf_body: str, cnpj_body: str) -> None:
    cpf, cnpj = with_check_digits(cpf_body), with_check_digits(cnpj_body)
    assert cpf_is_valid(cpf) == (len(set(cpf)) > 1)
    assert cnpj_is_valid(cnpj) == (len(set(cnpj)) > 1)
    # One wrong check digit is caught; so is a number of the other kind's length.
    wrong = cpf[:-1] + str((int(cpf[-1]) + 1) % 10)
    assert not cpf_is_valid(wrong)
    assert not cpf_is_valid(cnpj)
    assert not cnpj_is_valid(cpf)


@pytest.mark.parametrize(
    "text",
    ["", "00000000000", "11111111111", "3380698784", "338069878400", "3380698784x", "٣3806987840", " 3806987840"],
)
def test_what_is_not_a_cpf(text: str) -> None:
    assert not cpf_is_valid(text)


# --- reading them -------------------------------------------------------------------------------------


def sicoob_records(*slots: str | None, layout: Layout = SICOOB_240) -> list[Any]:
    """Records of a Sicoob 240 file whose T 133-148 hold ``slots`` (kind + 15 digits; ``None`` leaves blanks)."""
    lines = cnab240(layout, [title(n) for n in range(1, len(slots) + 1)], bank="756")
    for index, slot in enumerate(slots):
        if slot is not None:
            buffer = list(lines[2 + 2 * index])
            put(buffer, 133, slot)
            lines[2 + 2 * index] = "".join(buffer)
    data = to_bytes(lines)
    records = list(parse_return(data, layout).records)
    assert records == list(iter_records(io.BytesIO(data), layout))
    return records


def test_a_cpf_and_a_cnpj_are_read_by_their_kind() -> None:
    records = sicoob_records("1" + CPF.zfill(15), "2" + CNPJ.zfill(15))
    assert [r.payer_tax_id for r in records] == [CPF, CNPJ]
    assert all("payer_tax_id" not in r.extra for r in records)


@pytest.mark.parametrize(
    ("slot", "why"),
    [
        (None, "blank"),
        ("0" + "0" * 15, "no kind, zeros (Banco do Brasil, Caixa, Itaú)"),
        ("1" + "0" * 15, "a CPF of zeros"),
        ("2" + "0" * 15, "a CNPJ of zeros"),
        ("2" + "1" * 15, "anonymised: one repeated digit (the Ailos fixture)"),
        ("1" + " " * 15, "a CPF kind with a blank number"),
        ("1" + (CPF[:-1] + "1").zfill(15), "a wrong check digit"),
        ("2" + "0" + CPF.zfill(14), "a CNPJ kind with a CPF in it (the Santander brcobranca fixture's shape)"),
        ("1" + CNPJ.zfill(15), "a CPF kind with digits left of the 11"),
        ("3" + CPF.zfill(15), "a kind that is neither CPF nor CNPJ"),
        ("0" + "XUNDA".rjust(15), "no kind: the slot's text does not matter"),
    ],
)
def test_blank_zero_or_not_a_real_number_is_none(slot: str | None, why: str) -> None:
    assert slot is None or len(slot) == 16
    (record,) = sicoob_records(slot)
    assert record.payer_tax_id is None, why


def test_letters_where_the_kind_promises_a_number_refuse_the_file_naming_the_field() -> None:
    lines = cnab240(SICOOB_240, [title(1), title(2)], bank="756")
    buffer = list(lines[4])
    put(buffer, 133, "1" + "3806987840XUNDA")
    lines[4] = "".join(buffer)
    with pytest.raises(InvalidInput) as caught:
        parse_return(to_bytes(lines), SICOOB_240, source="ret.txt")
    assert (caught.value.field, caught.value.line, caught.value.raw) == ("payer_tax_id", 5, "3806987840XUNDA")
    assert "CPF or CNPJ" in caught.value.reason


def test_a_stripped_t_line_still_reaches_the_tax_id() -> None:
    # The number sits before the tariff (T 199-213), so a line stripped of trailing blanks still holds it.
    lines = cnab240(SICOOB_240, [title(1) | {"payer_tax_id": CNPJ}], bank="756")
    stripped = [line.rstrip() for line in lines]
    assert parse_return(to_bytes(stripped), SICOOB_240).records[0].payer_tax_id == CNPJ


@given(
    st.lists(
        st.one_of(
            st.text(alphabet="0123456789", min_size=9, max_size=9),
            st.text(alphabet="0123456789", min_size=12, max_size=12),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_real_number_written_with_its_kind_is_read_back(bodies: list[str]) -> None:
    numbers = [with_check_digits(body) for body in bodies]
    titles = [title(n) | {"payer_tax_id": number} for n, number in enumerate(numbers, 1)]
    for layout_id in ("sicoob-240", "santander-240", "febraban-240", "ailos-240"):
        layout = LAYOUTS[layout_id]
        records = parse_return(to_bytes(cnab240(layout, titles, bank="756")), layout).records
        expected = [n if len(set(n)) > 1 else None for n in numbers]
        assert [r.payer_tax_id for r in records] == expected, layout_id


@pytest.mark.parametrize("layout_id", sorted(LAYOUTS))
def test_which_built_in_layouts_read_it(layout_id: str) -> None:
    # Only where real files show the bank fills it (docs/reference/layouts.md, "The payer's CPF/CNPJ").
    reading = {"ailos-240", "febraban-240", "santander-240", "sicoob-240"}
    item = LAYOUTS[layout_id].field("payer_tax_id")
    assert (item is not None) == (layout_id in reading)
    if item is not None:
        assert item.type is FieldType.TAX_ID
        assert item.kind == TaxIdKind(item.start - 1, 1, ("1",), ("2",))
        assert (item.record, item.length) == ("T", 15)


# --- a user's layout ----------------------------------------------------------------------------------


def itau_with_payer(field: dict[str, Any]) -> Layout:
    data = ITAU_400.to_dict()
    data["id"] = "itau-400-payer"
    data["fields"]["payer_tax_id"] = field
    return Layout.from_dict(data)


def test_a_cnab_400_layout_with_a_two_character_kind_apart_from_the_number() -> None:
    layout = itau_with_payer(
        {
            "start": 360,
            "length": 14,
            "type": "tax_id",
            "kind": {"start": 320, "length": 2, "cpf": ["01"], "cnpj": ["02"]},
        }
    )
    lines = cnab400(ITAU_400, [title(1), title(2), title(3)])
    for index, (kind, number) in enumerate((("01", CPF.zfill(14)), ("02", CNPJ), ("00", CNPJ)), 1):
        buffer = list(lines[index])
        put(buffer, 320, kind)
        put(buffer, 360, number)
        lines[index] = "".join(buffer)
    records = parse_return(to_bytes(lines), layout).records
    assert [r.payer_tax_id for r in records] == [CPF, CNPJ, None]
    assert Layout.from_dict(layout.to_dict()) == layout


@pytest.mark.parametrize(("length", "number"), [(11, CPF), (14, CNPJ)])
def test_a_field_without_a_kind_is_the_kind_its_length_says(length: int, number: str) -> None:
    layout = itau_with_payer({"start": 360, "length": length, "type": "tax_id"})
    lines = cnab400(ITAU_400, [title(1), title(2)])
    buffer = list(lines[1])
    put(buffer, 360, number)
    lines[1] = "".join(buffer)
    records = parse_return(to_bytes(lines), layout).records
    assert [r.payer_tax_id for r in records] == [number, None]
    assert Layout.from_dict(layout.to_dict()) == layout


def test_another_tax_id_field_lands_in_extra() -> None:
    data = SICOOB_240.to_dict()
    data["fields"]["guarantor_tax_id"] = data["fields"].pop("payer_tax_id")
    layout = Layout.from_dict(data)
    lines = cnab240(SICOOB_240, [title(1) | {"payer_tax_id": CPF}], bank="756")
    (record,) = parse_return(to_bytes(lines), layout).records
    assert record.payer_tax_id is None
    assert record.extra["guarantor_tax_id"] == CPF
