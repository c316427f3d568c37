"""What the reader accepts from messy real files, and how precisely it refuses malformed ones."""

from __future__ import annotations

import io
from datetime import date

import pytest

from carteira.adapters.cnab import LAYOUTS, CnabParser, iter_records, parse_return
from carteira.domain.money import Money
from carteira.errors import InvalidInput, InvalidType
from carteira.ports.return_files import ReturnFileParser
from tests.adapters.cnab.synthetic import (
    BB_240,
    ITAU_400,
    bb240_file,
    cnab240,
    cnab400,
    itau_file,
    put,
    title,
    to_bytes,
)


def replace(line: str, start: int, text: str) -> str:
    buffer = list(line)
    put(buffer, start, text)
    return "".join(buffer)


def refused(data: bytes, **kwargs: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_return(data, source="ret.txt", **kwargs)  # type: ignore[arg-type]
    assert caught.value.source == "ret.txt"
    return caught.value


# --- accepted: what banks really send ---------------------------------------------------------------


def test_the_synthetic_files_parse_cleanly() -> None:
    itau = parse_return(to_bytes(itau_file()))
    assert itau.layout_id == "itau-400"
    assert itau.warnings == ()
    assert [r.face_value for r in itau.records] == [Money("100.01"), Money("100.02"), Money("100.03")]
    bb = parse_return(to_bytes(bb240_file()))
    assert bb.layout_id == "bb-240"
    assert bb.file_sequence == 123
    assert bb.generated_on == date(2024, 3, 8)
    assert [r.lines for r in bb.records] == [(3, 4), (5, 6), (7, 8)]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_crlf_or_lf_and_trailing_blanks_stripped_give_the_same_records(newline: str) -> None:
    plain = parse_return(to_bytes(bb240_file())).records
    stripped = [line.rstrip() for line in bb240_file()]
    assert parse_return(to_bytes(stripped, newline)).records == plain


def test_no_final_newline_a_bom_and_a_dos_end_of_file_are_accepted() -> None:
    lines = itau_file()
    plain = parse_return(to_bytes(lines)).records
    data = b"\xef\xbb\xbf" + "\n".join(lines).encode("latin-1") + b"\x1a"
    assert parse_return(data).records == plain
    assert tuple(iter_records(io.BytesIO(data))) == plain


def test_latin1_text_is_one_byte_per_column() -> None:
    values = title(1) | {"document_number": "AÇÃOÉ"}
    result = parse_return(to_bytes(cnab400(ITAU_400, [values])))
    assert result.records[0].document_number == "AÇÃOÉ"
    assert result.records[0].face_value == Money("100.01")


def test_blank_numbers_and_all_zero_dates_are_absent_not_errors() -> None:
    values = title(1) | {"tariff": None, "due_date": None}
    lines = cnab400(ITAU_400, [values])
    lines[1] = replace(lines[1], 296, "000000")  # credit date all zeros
    record = parse_return(to_bytes(lines)).records[0]
    assert record.tariff is None
    assert record.due_date is None
    assert record.credit_date is None


def test_a_line_with_extra_trailing_blanks_is_accepted_and_its_title_flagged() -> None:
    lines = bb240_file()
    lines[2] += "    "
    lines[3] += " " * 26
    records = parse_return(to_bytes(lines)).records
    assert records[0].flags == ("length",)  # the blanks may hide an inserted byte: a person looks (#14)
    assert (records[0]._replace(flags=()), *records[1:]) == parse_return(to_bytes(bb240_file())).records


def test_segments_other_than_t_and_u_are_skipped() -> None:
    lines = bb240_file(2)
    lines.insert(4, replace(lines[3], 9, "00003Y"))  # a Y segment after the first T+U pair, numbered in turn
    lines[5:7] = [replace(lines[5], 9, "00004"), replace(lines[6], 9, "00005")]
    lines[-2] = replace(lines[-2], 18, "000007")  # the lot trailer counts it too
    lines[-1] = replace(lines[-1], 24, "000009")
    result = parse_return(to_bytes(lines))
    assert len(result.records) == 2
    assert result.warnings == ()


def test_a_trailer_count_that_disagrees_is_a_warning_not_a_refusal() -> None:
    lines = bb240_file()
    lines[-1] = replace(lines[-1], 24, "000999")
    result = parse_return(to_bytes(lines))
    assert len(result.records) == 3
    assert any("999" in warning for warning in result.warnings)


def test_a_given_layout_is_used_and_reported_as_given() -> None:
    result = parse_return(to_bytes(bb240_file()), LAYOUTS["febraban-240"])
    assert result.layout_id == "febraban-240"
    assert not result.layout_detected


def test_an_unknown_cnab_240_bank_falls_back_to_febraban_and_says_so() -> None:
    data = to_bytes(cnab240(BB_240, [title(1)], bank="237"))
    result = parse_return(data)
    assert result.layout_id == "febraban-240"
    assert result.records[0].paid == Money("100.01")
    assert result.warnings == (
        "line 1: no built-in CNAB 240 layout for bank 237; read with the generic FEBRABAN layout 'febraban-240' "
        "(pass layout= for the bank's own, if it departs from FEBRABAN)",
    )
    streamed = iter_records(io.BytesIO(data))
    assert streamed.warnings == list(result.warnings)  # known as soon as the header is read
    # A layout the caller gives is not a fallback: nothing to warn about.
    assert parse_return(data, LAYOUTS["febraban-240"]).warnings == ()


def test_the_parser_satisfies_the_port() -> None:
    parser: ReturnFileParser = CnabParser()
    assert isinstance(parser, ReturnFileParser)
    data = to_bytes(itau_file(2))
    assert parser.parse(data).records == tuple(parser.iter_records(io.BytesIO(data)))


# --- refused, whole, with line, field, raw slice and reason ----------------------------------------


def test_not_a_number_names_the_line_field_and_raw_slice() -> None:
    lines = bb240_file()
    lines[5] = replace(lines[5], 78, "0000000001A0000")  # U of the second title, paid
    error = refused(to_bytes(lines))
    assert (error.line, error.field, error.raw) == (6, "paid", "0000000001A0000")
    assert "not a number" in error.reason


@pytest.mark.parametrize(("start", "field"), [(33, "discount"), (63, "iof"), (123, "other_credits")])
def test_a_bad_amount_among_amounts_read_together_is_named(start: int, field: str) -> None:
    lines = bb240_file()
    lines[3] = replace(lines[3], start, "00000000000X000")  # U of the first title
    error = refused(to_bytes(lines))
    assert (error.line, error.field, error.raw) == (4, field, "00000000000X000")


def test_a_number_padded_with_blanks_is_not_a_number() -> None:
    lines = itau_file()
    lines[1] = replace(lines[1], 153, "        12345")
    error = refused(to_bytes(lines))
    assert (error.line, error.field, error.raw) == (2, "face_value", "        12345")


def test_an_impossible_date_is_refused() -> None:
    lines = bb240_file()
    lines[2] = replace(lines[2], 74, "31022024")  # T: due date
    error = refused(to_bytes(lines))
    assert (error.line, error.field, error.raw) == (3, "due_date", "31022024")
    assert "not a real date" in error.reason


def test_a_t_without_its_u_is_refused() -> None:
    lines = bb240_file()
    del lines[3]
    error = refused(to_bytes(lines))
    assert (error.line, error.field) == (3, "segment")
    assert "not followed by its segment U" in error.reason


def test_a_u_without_its_t_is_refused() -> None:
    lines = bb240_file()
    del lines[4]
    error = refused(to_bytes(lines))
    assert (error.line, error.field) == (5, "segment")


def test_a_line_far_too_short_is_refused() -> None:
    lines = bb240_file()
    lines[3] = lines[3][:100]
    error = refused(to_bytes(lines))
    assert (error.line, error.field) == (4, "record")
    assert "100 characters" in error.reason


def test_a_line_with_data_past_the_record_is_refused() -> None:
    lines = itau_file()
    lines[2] += "XYZ"
    error = refused(to_bytes(lines))
    assert (error.line, error.field, error.raw) == (3, "record", "XYZ")


@pytest.mark.parametrize("data", [b"", b"\n\n  \r\n", b"\x1a"])
def test_empty_input_is_refused(data: bytes) -> None:
    error = refused(data)
    assert error.field == "file"
    assert "empty" in error.reason


@pytest.mark.parametrize("data", [b"hello world\n", b"\x00" * 500, "Olá, não é CNAB".encode("latin-1")])
def test_an_unknown_format_is_refused(data: bytes) -> None:
    error = refused(data)
    assert (error.line, error.field) == (1, "header")
    assert "neither a CNAB 240 nor a CNAB 400" in error.reason


def test_a_remessa_is_refused() -> None:
    lines = itau_file()
    lines[0] = replace(lines[0], 1, "01REMESSA")
    assert "remessa" in refused(to_bytes(lines)).reason
    lines240 = bb240_file()
    lines240[0] = replace(lines240[0], 143, "1")
    assert "remessa" in refused(to_bytes(lines240)).reason


def test_a_file_without_its_trailer_is_refused_as_cut_short() -> None:
    error = refused(to_bytes(itau_file()[:-1]))
    assert error.field == "file"
    assert "cut short" in error.reason


def test_records_after_the_trailer_are_refused() -> None:
    lines = itau_file()
    lines.append(lines[1])
    assert refused(to_bytes(lines)).line == len(lines)


def test_an_unknown_record_type_is_refused() -> None:
    lines = itau_file()
    lines[2] = replace(lines[2], 1, "8")
    error = refused(to_bytes(lines))
    assert (error.line, error.field, error.raw) == (3, "record_type", "8")


def test_a_detail_of_another_bank_is_refused() -> None:
    lines = bb240_file()
    lines[4] = replace(lines[4], 1, "237")
    error = refused(to_bytes(lines))
    assert (error.line, error.field) == (5, "bank_code")


def test_a_cnab_400_bank_without_a_layout_is_refused_with_a_hint() -> None:
    error = refused(to_bytes(cnab400(ITAU_400, [title(1)], bank="999")))
    assert error.field == "header.bank_code"
    assert "Layout.from_toml" in error.hint


def test_a_layout_of_the_other_format_is_refused() -> None:
    error = refused(to_bytes(itau_file()), layout=BB_240)
    assert "cnab400" in error.reason


def test_a_blank_movement_code_is_refused() -> None:
    lines = itau_file()
    lines[1] = replace(lines[1], 109, "  ")
    assert refused(to_bytes(lines)).field == "movement_code"


def test_every_bad_line_is_reported_and_the_first_is_raised() -> None:
    lines = itau_file()
    lines[1] = replace(lines[1], 153, "XXXXXXXXXXXXX")
    lines[3] = replace(lines[3], 111, "990924")
    error = refused(to_bytes(lines))
    assert (error.line, error.field) == (2, "face_value")
    notes = getattr(error, "__notes__", [])
    assert len(notes) == 1
    assert ":4: occurrence_date" in notes[0]


def test_the_error_message_says_where_what_and_why() -> None:
    lines = bb240_file()
    lines[5] = replace(lines[5], 146, "99999999")
    text = str(refused(to_bytes(lines)))
    assert text.startswith("ret.txt:6: credit_date: is not a real date")
    assert "'99999999'" in text


def test_iter_records_raises_at_the_bad_record_after_the_good_ones() -> None:
    lines = itau_file()
    lines[2] = replace(lines[2], 153, "XXXXXXXXXXXXX")
    stream = iter_records(io.BytesIO(to_bytes(lines)), source="s.ret")
    assert stream.layout.id == "itau-400"
    assert next(stream).line == 2
    with pytest.raises(InvalidInput) as caught:
        next(stream)
    assert (caught.value.line, caught.value.field, caught.value.source) == (3, "face_value", "s.ret")


def test_iter_records_refuses_an_empty_stream_at_once() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        iter_records(io.BytesIO(b""))


def test_parse_return_takes_bytes_only() -> None:
    with pytest.raises(InvalidType):
        parse_return("02RETORNO")  # type: ignore[arg-type]


def test_a_text_stream_is_refused_with_the_one_wrong_type_error() -> None:
    with pytest.raises(InvalidType) as caught:
        list(iter_records(io.StringIO("02RETORNO01COBRANCA\n")))  # type: ignore[arg-type]
    assert caught.value.field == "stream"
