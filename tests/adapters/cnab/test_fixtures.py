"""Every value of MANIFEST.md, for every one of the 34 real return files, read back by the parser."""

from __future__ import annotations

from collections import Counter
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from carteira.adapters.cnab import LAYOUTS, MovementCategory, ReturnFile, ReturnRecord, iter_records, parse_return
from carteira.domain.money import Money
from carteira.errors import InvalidInput
from carteira.testing.efi_emulator import documents
from tests.adapters.cnab.manifest import FILES, REJECTED_REMESSA, ROWS_240, ROWS_400, TWINS
from tests.support import CNAB_FIXTURES, unavailable

pytestmark = pytest.mark.fixtures

MONEY_FIELDS = frozenset(
    {
        "face_value",
        "paid",
        "net_credited",
        "tariff",
        "interest_and_fine",
        "discount",
        "abatement",
        "iof",
        "other_expenses",
        "other_credits",
        "interest",
        "fine",
    }
)
DATE_FIELDS = frozenset({"due_date", "occurrence_date", "credit_date"})


def fixture_path(name: str) -> Path:
    path = CNAB_FIXTURES / name
    if not path.is_file():
        unavailable(f"CNAB fixture {path} is not there (the shared fixtures folder is missing)")
    return path


@cache
def parsed(name: str) -> ReturnFile:
    return parse_return(fixture_path(name).read_bytes(), source=name)


def record_at(name: str, line: int) -> ReturnRecord:
    matches = [r for r in parsed(name).records if r.line == line]
    assert len(matches) == 1, f"{name}: no single record starts at line {line}"
    return matches[0]


def expected_value(field: str, text: str | None) -> object:
    if text is None:
        return None
    if field in MONEY_FIELDS:
        return Money(text)
    if field in DATE_FIELDS:
        return date.fromisoformat(text)
    return text


def actual_value(record: ReturnRecord, field: str) -> object:
    if hasattr(record, field):
        return getattr(record, field)
    assert field in record.extra, f"the record has no field or extra called {field!r}"
    return record.extra[field]


def _cases() -> list[tuple[str, int, str, str | None]]:
    cases: list[tuple[str, int, str, str | None]] = []
    for row in ROWS_240:
        name, t_line, u_line = row[0], row[1], row[2]
        names: tuple[str, ...] = (
            "movement_code",
            "bank_title_number_raw",
            "bank_title_number",
            "document_number",
            "due_date",
            "face_value",
            "tariff",
            "interest_and_fine",
            "discount",
            "abatement",
            "iof",
            "paid",
            "net_credited",
            "other_expenses",
            "other_credits",
            "occurrence_date",
            "credit_date",
        )
        cases.extend((name, t_line, field, value) for field, value in zip(names, row[3:], strict=True))
        cases.append((name, t_line, "lines", f"{t_line},{u_line}"))
    for row400 in ROWS_400:
        name, line = row400[0], row400[1]
        itau, sicredi = name.startswith("itau-"), name.startswith("sicredi-")
        names = (
            "movement_code",
            "bank_title_number_raw",
            "bank_title_number",
            "document_number",
            "due_date",
            "face_value",
            "tariff",
            "interest" if sicredi else "interest_and_fine",  # 267-279
            "discount",
            "abatement",
            "iof",
            "net_credited" if itau else "paid",  # 254-266: Itaú's is the net amount
            "fine" if sicredi else "other_credits",  # 280-292
            "occurrence_date",
            "credit_date",
        )
        cases.extend((name, line, field, value) for field, value in zip(names, row400[2:17], strict=True))
        cases.extend((name, line, field, value) for field, value in row400[17].items())
    return cases


CASES = _cases()


@pytest.mark.parametrize(("name", "line", "field", "expected"), CASES, ids=[f"{c[0]}:{c[1]}:{c[2]}" for c in CASES])
def test_manifest_value(name: str, line: int, field: str, expected: str | None) -> None:
    record = record_at(name, line)
    if field == "lines":
        assert record.lines == tuple(int(n) for n in (expected or "").split(","))
        return
    assert actual_value(record, field) == expected_value(field, expected)


def test_every_fixture_file_is_covered() -> None:
    if not CNAB_FIXTURES.is_dir():
        unavailable(f"CNAB fixtures folder {CNAB_FIXTURES} is missing")
    on_disk = {p.name for p in CNAB_FIXTURES.glob("*.ret")}
    assert on_disk == set(FILES) | {REJECTED_REMESSA}
    assert len(on_disk) == 34


@pytest.mark.parametrize("name", sorted(FILES))
def test_layout_count_and_movements(name: str) -> None:
    layout_id, count, movements = FILES[name]
    result = parsed(name)
    assert result.layout_id == layout_id
    assert result.layout_detected
    assert len(result.records) == count
    assert Counter(r.movement_code for r in result.records) == Counter(movements)


@pytest.mark.parametrize("name", sorted(FILES))
def test_streaming_gives_the_same_records(name: str) -> None:
    with fixture_path(name).open("rb") as stream:
        records = tuple(iter_records(stream, source=name))
    assert records == parsed(name).records


def _unflagged(records: tuple[ReturnRecord, ...]) -> tuple[ReturnRecord, ...]:
    return tuple(r._replace(flags=tuple(f for f in r.flags if f != "length")) for r in records)


@pytest.mark.parametrize(("first", "second"), TWINS)
def test_twin_files_give_identical_records(first: str, second: str) -> None:
    one, other = parsed(first), parsed(second)
    # Twins differ in blanks only; where one runs past the record length its title is flagged 'length'.
    assert _unflagged(one.records) == _unflagged(other.records)
    assert (one.bank_code, one.agreement, one.file_sequence, one.generated_on) == (
        other.bank_code,
        other.agreement,
        other.file_sequence,
        other.generated_on,
    )


def test_a_remessa_rejection_report_is_refused_not_read_as_empty() -> None:
    data = fixture_path(REJECTED_REMESSA).read_bytes()
    with pytest.raises(InvalidInput, match="rejection of a remessa") as caught:
        parse_return(data, source=REJECTED_REMESSA)
    assert caught.value.line == 1
    assert caught.value.source == REJECTED_REMESSA


def test_itau_paid_is_net_plus_tariff_on_settlements_only() -> None:
    # MANIFEST: 254-266 is net of the tariff at Itaú (40.00 - 2.10 = 37.90); the payer paid 40.00.
    settled = record_at("itau-400-brcobranca-cnab400itau.ret", 2)
    assert settled.category is MovementCategory.SETTLED
    assert settled.paid == Money("40.00")
    written_off = record_at("itau-400-brcobranca-cnab400itau.ret", 53)
    assert written_off.category is MovementCategory.WRITTEN_OFF
    assert written_off.paid is None
    assert record_at("itau-400-laravel-itau.ret", 4).paid == Money("395.42")  # 392.09 + 3.33


def test_sicredi_interest_and_fine_is_juros_plus_multa() -> None:
    record = record_at("sicredi-400-boletonet.ret", 3)
    assert record.interest_and_fine == Money("13.82")  # 3.06 + 10.76; 538.03 + 13.82 = 551.85 paid
    assert record.face_value is not None
    assert record.interest_and_fine is not None
    assert record.face_value + record.interest_and_fine == record.paid


def test_bb_net_entries_are_paid_minus_tariff() -> None:
    for record in parsed("bb-400-ya-conv7.ret").records:
        assert record.paid is not None
        assert record.tariff is not None
        assert record.net_credited == record.paid - record.tariff


@pytest.mark.parametrize(
    ("name", "line", "category"),
    [
        ("caixa-240-opencnab-retornocef091116.ret", 3, MovementCategory.SETTLED),
        ("caixa-240-opencnab-retornocef091116.ret", 5, MovementCategory.OTHER),  # 28: tariff debit
        ("itau-240-python-cnab.ret", 3, MovementCategory.ENTRY_CONFIRMED),
        ("bb-240-ya-iedcbr3615.ret", 3, MovementCategory.SETTLED),
        ("bb-240-brcobranca-cnab240.ret", 3, MovementCategory.SETTLED),  # 17: paid after write-off
        ("bb-400-ya-conv6-baixa.ret", 2, MovementCategory.WRITTEN_OFF),
        ("bb-400-ya-conv6-sem-registro.ret", 2, MovementCategory.SETTLED),  # 05: paid, unregistered title
        ("bradesco-400-brcobranca.ret", 2, MovementCategory.ENTRY_CONFIRMED),  # 02 despite a value at 254-266
        ("bradesco-400-brcobranca.ret", 7, MovementCategory.WRITTEN_OFF),
        ("itau-400-opencnab-cn04116a.ret", 2, MovementCategory.REJECTED),  # 16: instruction rejected
        ("sicredi-400-br-boleto.ret", 3, MovementCategory.OTHER),  # 28: tariff, settles nothing
        ("bnb-400-laravel-bnb.ret", 2, MovementCategory.ENTRY_CONFIRMED),
        ("santander-240-br-boleto.ret", 13, MovementCategory.SETTLED),
    ],
)
def test_movement_categories(name: str, line: int, category: MovementCategory) -> None:
    assert record_at(name, line).category is category


def test_header_facts_for_duplicate_detection() -> None:
    result = parsed("bb-400-ya-conv7.ret")
    assert (result.bank_code, result.agreement, result.file_sequence) == ("001", "2250771", 19)
    assert result.generated_on == date(2011, 5, 2)
    sicredi = parsed("sicredi-400-boletonet.ret")
    assert (sicredi.bank_code, sicredi.agreement, sicredi.file_sequence) == ("748", "81111", 471)
    assert sicredi.generated_on == date(2017, 2, 3)  # header 95-102 is YYYYMMDD
    caixa = parsed("caixa-240-laravel-caixa.ret")
    assert (caixa.bank_code, caixa.file_sequence, caixa.generated_on) == ("104", 1622, date(2014, 1, 6))


def test_a_malformed_header_is_read_leniently_with_a_warning() -> None:
    # MANIFEST: the Sicoob 240 file header lost its bank-name area, so fields from 103 on are shifted.
    result = parsed("sicoob-240-brcobranca-cnab240sicoob.ret")
    assert result.generated_on is None
    assert any("generated_on" in warning for warning in result.warnings)
    assert len(result.records) == 3


def test_every_built_in_layout_is_exercised_or_documented_as_unchecked() -> None:
    used = {layout_id for layout_id, _, _ in FILES.values()}
    unchecked = {"febraban-240", "santander-400", "caixa-400"}  # no fixture exists (MANIFEST, "Looked at")
    assert set(LAYOUTS) == used | unchecked


def test_a_real_cnab_240_file_of_a_bank_without_a_layout_is_read_as_febraban_and_says_so() -> None:
    # A real Banco do Brasil file (FEBRABAN positions) relabelled as Sicredi (748), which has no CNAB 240
    # layout of its own: every line of a CNAB 240 file starts with the bank code, the header's included.
    original = fixture_path("bb-240-brcobranca-cnab240.ret").read_bytes()
    lines = original.split(b"\n")
    assert all(line[:3] == b"001" for line in lines if line.strip())
    relabelled = b"\n".join(b"748" + line[3:] if line.strip() else line for line in lines)
    result = parse_return(relabelled, source="relabelled.ret")
    assert (result.layout_id, result.layout_detected, result.bank_code) == ("febraban-240", True, "748")
    assert any(
        "no built-in CNAB 240 layout for bank 748" in warning and "'febraban-240'" in warning
        for warning in result.warnings
    ), result.warnings
    assert result.records == parse_return(original, LAYOUTS["febraban-240"]).records
    assert len(result.records) == 35
    # The detected layout of the file as it came from the bank is its own, and says nothing of a fallback.
    assert not any("febraban" in warning for warning in parse_return(original).warnings)


# The payer's CPF/CNPJ, read from the bytes (MANIFEST.md does not list it): Santander T 128 kind + 129-143,
# Sicoob and Ailos T 133 kind + 134-148. Every record of these files is listed.
PAYER_TAX_IDS: dict[str, dict[int, str | None]] = {
    # Kind 1 with a valid CPF, kind 2 with a valid CNPJ; line 13 (a 17) has kind 0 and zeros.
    "santander-240-br-boleto.ret": {
        3: "33806987840",
        5: "13021784000186",
        7: "13021784000186",
        9: "33806987840",
        11: "33806987840",
        13: None,
    },
    # Kind 2 with 09073504630, neither a valid CNPJ nor a valid CPF: anonymised upstream (payer FULANO SANTOS).
    "santander-240-brcobranca.ret": {3: None, 5: None},
    "santander-240-python-cnab.ret": {3: None},  # kind 0, zeros
    "sicoob-240-brcobranca-cnab240sicoob.ret": {3: "03997783000118", 5: "03997783000118", 7: "03997783000118"},
    # Kind 2 with 111..., 222..., 333...: placeholders of the upstream authors, not CNPJs.
    "ailos-240-br-boleto-cecred.ret": {3: None, 5: None, 7: None},
}


@pytest.mark.parametrize("name", sorted(PAYER_TAX_IDS))
def test_payer_tax_ids_where_the_file_gives_them(name: str) -> None:
    assert {r.line: r.payer_tax_id for r in parsed(name).records} == PAYER_TAX_IDS[name]


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_payer_tax_id_is_a_real_cpf_or_cnpj(name: str) -> None:
    # Checked with the emulator's own check-digit code, which shares nothing with the reader's.
    for record in parsed(name).records:
        tax_id = record.payer_tax_id
        if tax_id is None:
            continue
        assert tax_id.isdigit()
        assert tax_id.isascii()
        assert documents.cpf_is_valid(tax_id) if len(tax_id) == 11 else documents.cnpj_is_valid(tax_id)
    reads_it = parsed(name).layout_id in {"ailos-240", "febraban-240", "santander-240", "sicoob-240"}
    assert reads_it or all(r.payer_tax_id is None for r in parsed(name).records)


def test_zero_filled_payers_read_with_the_febraban_positions_are_none() -> None:
    # Banco do Brasil and Caixa zero-fill T 133-148 (kind 0): read with the generic layout, that is no payer.
    for name in ("bb-240-ya-iedcbr3615.ret", "caixa-240-laravel-caixa.ret", "itau-240-python-cnab.ret"):
        records = parse_return(fixture_path(name).read_bytes(), LAYOUTS["febraban-240"]).records
        assert records
        assert all(r.payer_tax_id is None for r in records), name


# The warnings each real file deserves (issue #14), and no more: every file not listed has none. Each is a
# discrepancy the MANIFEST explains, so the file is read, and a person sees it before it settles anything.
_LONG = "all blanks: read as its first 240; a byte inserted before them would move every field after it"
_PAID_SUM = "face_value + interest_and_fine - discount - abatement + other_credits"
FIXTURE_WARNINGS: dict[str, tuple[str, ...]] = {
    # The first U was hand-edited upstream (juros 0.09, desconto 0.01, abatimento 0.02, outros créditos 0.05...)
    # while pago stayed the face value.
    "bb-240-brcobranca-cnab240.ret": (f"line 3: paid 344.00 is not {_PAID_SUM} = 344.11; flagged 'sum:paid'",),
    # ...and its twin's first T and U run past position 240 in blanks (244 and 266 characters).
    "bb-240-br-boleto-banco-brasil.ret": (
        f"line 3: is 244 characters, 4 more than a cnab240 record, {_LONG}; flagged 'length'",
        f"line 4: is 266 characters, 26 more than a cnab240 record, {_LONG}; flagged 'length'",
        f"line 3: paid 344.00 is not {_PAID_SUM} = 344.11; flagged 'sum:paid'",
    ),
    # The lot header has one character too many before position 184 (the MANIFEST): nothing there settles.
    "bb-240-laravel-banco-brasil.ret": (f"line 2: is 241 characters, 1 more than a cnab240 record, {_LONG}",),
    # Paid 1.00 on a 1.54 title: an underpayment nothing in the record explains.
    "bb-400-ya-cbr64302-debito.ret": (f"line 2: paid 1.00 is not {_PAID_SUM} = 1.54; flagged 'sum:paid'",),
    # Line 2 was hand-edited upstream (juros 123123.12...): a field-mapping test, not business data.
    "itau-400-laravel-itau.ret": (f"line 2: paid 213.30 is not {_PAID_SUM} = 123336.41; flagged 'sum:paid'",),
    # The header lost its bank-name area, so the fields from 103 on are shifted.
    "sicoob-240-brcobranca-cnab240sicoob.ret": (
        "line 1: header generated_on is not a real date (DDMMYYYY): '00108500'; ignored",
    ),
}


FIXTURE_FLAGS: dict[str, dict[int, tuple[str, ...]]] = {
    name: {3 if name.startswith("bb-240") else 2: ("sum:paid",)}
    for name in FIXTURE_WARNINGS
    if "sum:paid" in str(FIXTURE_WARNINGS[name])
} | {"bb-240-br-boleto-banco-brasil.ret": {3: ("length", "sum:paid")}}


@pytest.mark.parametrize("name", sorted(FILES))
def test_each_fixture_has_the_warnings_it_deserves_and_no_more(name: str) -> None:
    result = parsed(name)
    assert result.warnings == FIXTURE_WARNINGS.get(name, ())
    assert {r.line: r.flags for r in result.records if r.flags} == FIXTURE_FLAGS.get(name, {})
