"""Reading a return file: lines, format and bank detection, the record structure, and precise errors.

Real files are messy and this reader accepts what banks really send: trailing blanks stripped (lines
are padded back), CRLF or LF, no newline at the end, a UTF-8 byte-order mark or a DOS end-of-file
(Ctrl-Z) at the edges, latin-1 text, header fields shifted by a stray character (read leniently, with
a warning), trailers whose totals describe more than the file. It refuses what is wrong, whole: a
number that is not one, an impossible date, a T segment without its U, a detail line too short to
hold the numbers its layout reads, an unknown format or record type, an empty file, a remessa or a
rejection report instead of a return, a file without its trailer.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import date
from functools import lru_cache
from itertools import chain, repeat
from typing import BinaryIO, Final

import attrs

from carteira.adapters.cnab.checks import (
    GAP_FLAG,
    LENGTH_FLAG,
    Encoding,
    Refusal,
    Sequence,
    record_value,
    sum_warnings,
    trailer_warnings,
)
from carteira.adapters.cnab.engine import BadField, CompiledLayout, compile_layout, convert_field
from carteira.adapters.cnab.layout import Layout
from carteira.domain.money import Money
from carteira.errors import InvalidInput, InvalidType
from carteira.ports.return_files import ReturnFile, ReturnRecord

__all__ = ["CnabParser", "ErrorCollector", "RecordStream", "iter_records", "parse_return"]

ERRORS_REPORTED_MAX: Final = 50
"""How many line errors ``parse_return`` gathers (as notes on the first) before it stops reading."""

_BOM_BYTES: Final = b"\xef\xbb\xbf"  # a UTF-8 byte-order mark, seen at the start of some files
_LINE_END: Final = b"\r\n\x1a"  # CR, LF, and the DOS end-of-file (Ctrl-Z) old transfer software leaves


@lru_cache(maxsize=64)
def _compiled(layout: Layout) -> CompiledLayout:
    return compile_layout(layout)


class ErrorCollector:
    """Gathers line errors so a user fixing a file sees them together; raises at once when not collecting."""

    def __init__(self, *, collect: bool) -> None:
        self.collect = collect
        self.errors: list[InvalidInput] = []

    def add(self, error: InvalidInput) -> None:
        if not self.collect:
            raise error
        self.errors.append(error)
        if len(self.errors) >= ERRORS_REPORTED_MAX:
            self.raise_if_any()

    def raise_if_any(self) -> None:
        if not self.errors:
            return
        first = self.errors[0]
        for other in self.errors[1:]:
            first.add_note(f"also: {other}")
        if len(self.errors) >= ERRORS_REPORTED_MAX:
            first.add_note(f"stopped reading after {ERRORS_REPORTED_MAX} errors")
        raise first


@attrs.frozen
class _Header:
    """What the first line says: the format, the bank, and the header fields a layout reads from it."""

    format: str
    bank_code: str
    line: str
    number: int


def _sniff(line: str, number: int, source: str) -> _Header:
    """Decide the format from the first line's content (never from its length alone)."""
    if line[2:9] == "RETORNO":
        if line[:2] != "02":
            raise InvalidInput(
                "is not a CNAB 400 return header (positions 1-2 should be '02')",
                field="header",
                source=source,
                line=number,
                raw=line[:11],
            )
        bank = line[76:79]
        if not bank.isdecimal() or len(bank) != 3:
            raise InvalidInput(
                "CNAB 400 header has no 3-digit bank code at positions 77-79",
                field="header.bank_code",
                source=source,
                line=number,
                raw=bank,
            )
        return _Header("cnab400", bank, line, number)
    if line[2:9] == "REMESSA" or line[:2] == "01":
        raise InvalidInput(
            "is a remessa (the file sent to the bank), not a return file from the bank",
            field="header",
            source=source,
            line=number,
            raw=line[:19],
        )
    if len(line) >= 8 and line[:3].isdecimal() and line[3:8] == "00000":
        kind = line[142:143]
        if not kind.strip():
            raise InvalidInput(
                "has no remessa/retorno code at position 143 ('2' in a return file): the header is cut short "
                "or is not a FEBRABAN header",
                field="header",
                source=source,
                line=number,
                raw=line[130:150] if len(line) > 130 else line[-20:],
                hint="ask the bank for the file again",
            )
        if kind == "1":
            raise InvalidInput(
                "is a CNAB 240 remessa (header position 143 = '1'), not a return file",
                field="header",
                source=source,
                line=number,
                raw=kind,
            )
        if kind == "5" or "REJEITADA" in line[171:191]:
            raise InvalidInput(
                "is the bank's rejection of a remessa (header position 143 = '5'), not a return file: "
                "the remessa it answers was refused whole and nothing was registered",
                field="header",
                source=source,
                line=number,
                raw=line[171:191].strip() or kind,
                hint="fix the remessa and send it again",
            )
        return _Header("cnab240", line[:3], line, number)
    raise InvalidInput(
        "is neither a CNAB 240 nor a CNAB 400 return header",
        field="header",
        source=source,
        line=number,
        raw=line[:20],
        hint="CNAB 400 starts '02RETORNO'; CNAB 240 starts with the bank code and '00000'",
    )


_FALLBACK_240: Final = "febraban-240"


def _fallback_warning(header: _Header) -> str:
    return (
        f"line {header.number}: no built-in CNAB 240 layout for bank {header.bank_code}; read with the generic "
        f"FEBRABAN layout {_FALLBACK_240!r} (pass layout= for the bank's own, if it departs from FEBRABAN)"
    )


def _choose_layout(header: _Header, first_detail: str | None, source: str) -> Layout:
    """The built-in layout for this header (and, where a bank has two, its first detail line).

    A CNAB 240 bank without a layout of its own gets the generic FEBRABAN one (the caller says so in
    the warnings); a CNAB 400 bank without one is refused, CNAB 400 having no common layout.
    """
    from carteira.adapters.cnab.builtin import LAYOUTS  # the built-ins load data files; import late

    candidates = [lay for lay in LAYOUTS.values() if lay.format == header.format and lay.bank_code == header.bank_code]
    if not candidates and header.format == "cnab240":
        return LAYOUTS[_FALLBACK_240]
    if not candidates:
        raise InvalidInput(
            f"no built-in CNAB 400 layout for bank {header.bank_code}",
            field="header.bank_code",
            source=source,
            line=header.number,
            raw=header.bank_code,
            hint="pass layout=Layout.from_toml(...) for your bank (docs/how-to/add-a-cnab-layout.md)",
        )
    if len(candidates) > 1 and first_detail:
        kind = first_detail[:1]
        matching = [lay for lay in candidates if kind in lay.detail_types]
        if matching:
            return matching[0]
    return candidates[0]


class _Lot:
    """The CNAB 240 lot being read: the prefix its details start with (``None`` when no lot is open), its
    number, its details and money totals so far (for its trailer)."""

    __slots__ = ("details", "number", "prefix", "totals")

    def __init__(self) -> None:
        self.prefix: str | None = None
        self.number = ""
        self.details = 0
        self.totals: dict[str, int] = {}


class RecordStream(Iterator[ReturnRecord]):
    """The records of one return file, read lazily; the header is read (and the layout chosen) at once.

    ``layout`` is the layout in use, ``layout_detected`` whether it was detected from the header,
    ``bank_code``, ``agreement``, ``file_sequence`` and ``generated_on`` the header's facts, ``warnings``
    what was accepted but odd (complete once the stream is exhausted), ``line_count`` the lines read.
    """

    def __init__(
        self,
        lines: Iterator[tuple[int, str]],
        layout: Layout | None,
        *,
        source: str,
        errors: ErrorCollector,
    ) -> None:
        self.source = source
        self.warnings: list[str] = []
        self.line_count = 0
        self._errors = errors
        first = next(((n, line) for n, line in lines if line.strip()), None)
        if first is None:
            # Line 1 is where the header should be: a refusal always names a line a person can open.
            raise InvalidInput("is empty (no records)", field="file", source=source, line=1)
        number, text = first
        self._encoding = Encoding(400 if text[2:9] == "RETORNO" else 240)
        if not text.isascii():  # an editor may have re-encoded the header too (COBRANÇA), shifting the bank code
            text = self._header_text(text, number)
        header = _sniff(text, number, source)
        buffered: list[tuple[int, str]] = []
        if layout is None and header.format == "cnab400":
            first_detail = None
            for n, line in lines:  # a bank with two layouts is told apart by its first detail record
                buffered.append((n, line))
                if line.strip() and line[:1] not in "09":
                    first_detail = line
                    break
            layout = _choose_layout(header, first_detail, source)
            self.layout_detected = True
        elif layout is None:
            layout = _choose_layout(header, None, source)
            self.layout_detected = True
            if layout.id == _FALLBACK_240:
                self.warnings.append(_fallback_warning(header))
        else:
            self.layout_detected = False
            if layout.format != header.format:
                raise InvalidInput(
                    f"is a {header.format} file but layout {layout.id!r} reads {layout.format}",
                    field="header",
                    source=source,
                    line=header.number,
                    raw=text[:20],
                )
        if layout.bank_code and layout.bank_code != header.bank_code:
            self.warnings.append(
                f"line {header.number}: header bank {header.bank_code} read with layout {layout.id!r} "
                f"(bank {layout.bank_code})"
            )
        self.layout = layout
        self.bank_code = header.bank_code
        self.agreement: str | None = None
        self.file_sequence: int | None = None
        self.generated_on: date | None = None
        self._read_header(layout, header)
        self._start(layout, header)
        rest = chain(buffered, lines)
        self._records = self._pairs(rest) if layout.format == "cnab240" else self._singles(rest)

    def _start(self, layout: Layout, header: _Header) -> None:
        """The state the checks keep while the records are read (decision 0217)."""
        self._compiled = _compiled(layout)
        self._header = header
        self._sums = layout.sum_checks
        self._sequence = Sequence(layout.sequence) if layout.sequence is not None else None
        sequence_end = layout.sequence.start + layout.sequence.length - 1 if layout.sequence is not None else 0
        self._needed = {record: max(length, sequence_end) for record, length in self._compiled.min_length.items()}
        self._totals = dict.fromkeys(c.sums for c in layout.trailer_checks if c.sums)
        self._file_totals: dict[str, int] = dict.fromkeys(self._totals, 0)
        self._lot_total_names = tuple(dict.fromkeys(c.sums for c in layout.lot_trailer_checks if c.sums))
        self._lot = _Lot()
        self._body = 0  # lines after the header, blank ones aside, that are not detail records
        self._records_read = 1  # records in the file so far, the header included (trailers count them)
        self._lots = 0
        self._details = 0
        # Where the sequence number closes the record (CNAB 400), a byte inserted before it pushes data past the
        # record length and the line is refused; elsewhere blanks past it may hide a shift (decision 0218).
        ends = layout.sequence is not None and layout.sequence.start + layout.sequence.length > layout.record_length
        self._long_may_shift = not ends
        self._fit(header.line, header.number, 0)

    def _header_text(self, text: str, number: int) -> str:
        try:
            return self._encoding.text(text, number)
        except Refusal as refusal:
            raise InvalidInput(
                refusal.reason, field=refusal.field, source=self.source, line=number, raw=refusal.raw, hint=refusal.hint
            ) from None

    def _read_header(self, layout: Layout, header: _Header) -> None:
        line = header.line.ljust(layout.record_length)
        for item in layout.header:
            try:
                value = convert_field(item, line[item.start - 1 : item.end])
            except BadField as bad:
                # A stray character in a header shifts what follows; nothing in it settles a title.
                self.warnings.append(f"line {header.number}: header {item.name} {bad.reason}: {bad.raw!r}; ignored")
                continue
            if item.name == "agreement" and isinstance(value, str):
                self.agreement = value
            elif item.name == "file_sequence" and isinstance(value, int):
                self.file_sequence = value
            elif item.name == "generated_on" and isinstance(value, date):
                self.generated_on = value
            elif item.name == "bank_code" and isinstance(value, str):
                self.bank_code = value

    def __iter__(self) -> Iterator[ReturnRecord]:
        # The generator itself, so a for loop (and tuple()) does not pay a Python-level __next__ per record.
        return self._records

    def __next__(self) -> ReturnRecord:
        return next(self._records)

    # --- reporting -----------------------------------------------------------------------------------

    def _fail(self, reason: str, *, field: str, line: int, raw: str | None, hint: str = "") -> None:
        self._errors.add(InvalidInput(reason, field=field, source=self.source, line=line, raw=raw, hint=hint))

    def _refuse(self, refusal: Refusal, number: int) -> None:
        self._fail(refusal.reason, field=refusal.field, line=number, raw=refusal.raw, hint=refusal.hint)

    def _bad_field(self, bad: BadField, lines: dict[str, tuple[int, str]]) -> None:
        bad = self._compiled.diagnose(bad, {record: text for record, (_, text) in lines.items()})
        record = self._compiled.field_record.get(bad.field, "")
        number = lines[record][0] if record in lines else min(n for n, _ in lines.values())
        self._fail(bad.reason, field=bad.field, line=number, raw=bad.raw)

    def _flagged(self, record: ReturnRecord, gap: bool, long: bool = False) -> ReturnRecord:
        """``record`` with its gap and length flags, and a warning for each of its sum flags (the rare path)."""
        if gap or long:
            added = (GAP_FLAG,) * gap + (LENGTH_FLAG,) * long
            record = record._replace(flags=(*added, *record.flags))
        self.warnings.extend(sum_warnings(record, self._sums))
        return record

    def _add_totals(self, record: ReturnRecord, totals: dict[str, int]) -> None:
        for name in totals:
            value = record_value(record, name)
            if isinstance(value, Money):
                totals[name] += value.cents

    # --- lines: width, encoding, blanks, line ends -----------------------------------------------------

    def _text(self, line: str, number: int) -> str | None:
        """The line as the bank wrote it (read back from UTF-8 when an editor re-encoded it), or ``None``."""
        try:
            return self._encoding.text(line, number)
        except Refusal as refusal:
            self._refuse(refusal, number)
            return None

    def _fit(self, line: str, number: int, needed: int, *, detail: bool = False) -> str | None:
        """The line padded to the record length, or ``None`` (and an error) when it cannot be a record.

        Only blanks may differ: trailing blanks stripped (the line is padded back) or added; a line too
        short for the last number its layout reads (``needed``), or with data past the record, is refused.
        Blanks added are a warning where they may hide an inserted byte; the caller flags a ``detail``'s record.
        """
        length = self.layout.record_length
        size = len(line)
        if size == length:
            return line
        if size > length:
            if "\r" in line:
                self._fail(
                    "holds a carriage return in the middle: the line ends are CR alone, not LF or CRLF",
                    field="line_end",
                    line=number,
                    raw=line[:20],
                )
                return None
            if line[length:].strip():
                self._fail(
                    f"is {size} characters long with data after position {length}",
                    field="record",
                    line=number,
                    raw=line[length : length + 20],
                    hint=f"a {self.layout.format} record is {length} characters (a byte inserted, or UTF-8?)",
                )
                return None
            if self._long_may_shift:
                self.warnings.append(
                    f"line {number}: is {size} characters, {size - length} more than a {self.layout.format} record, "
                    f"all blanks: read as its first {length}; a byte inserted before them would move every field "
                    "after it" + (f"; flagged {LENGTH_FLAG!r}" if detail else "")
                )
            return line[:length]
        if size < needed:
            self._fail(
                f"is {size} characters long; this layout reads numbers up to position {needed}",
                field="record",
                line=number,
                raw=line[-20:],
                hint="the line was cut short (only trailing blanks may be missing)",
            )
            return None
        return line.ljust(length)

    def _odd_line(self, number: int, line: str, trailer: int | None) -> str | None:
        """A line that is not a detail of the fast path: ``None`` when it is blank or refused, else its text."""
        if not line.strip():
            return None  # blank: harmless at the end, refused (by the caller) when a record follows it
        self._body += 1
        if trailer is not None:
            self._fail("comes after the file trailer", field="record", line=number, raw=line[:20])
            return None
        if line[:1] == "\r":
            self._fail(
                "starts with a carriage return: the line ends are LF then CR ('\\n\\r'), not CRLF",
                field="line_end",
                line=number,
                raw=line[:20],
                hint="ask the bank for the file again, or turn the line ends back into CRLF or LF",
            )
            return None
        if not line.isascii():
            return self._text(line, number)
        return line

    def _blank(self, number: int) -> None:
        self._fail(
            "is blank: a record was lost or a line end doubled (only the file's edges may be blank)",
            field="record",
            line=number,
            raw=None,
        )

    def _sequence_gap(self, raw: str, number: int, *, flagged: bool, in_pair: bool = False) -> int | None:
        """Records missing before ``raw`` (0: none), warned about; ``None`` (and an error) when refused."""
        assert self._sequence is not None  # only called where the layout has sequence numbers
        try:
            missing = self._sequence.mismatch(raw, in_pair=in_pair)
        except Refusal as refusal:
            self._refuse(refusal, number)
            return None
        if missing:
            self.warnings.append(self._sequence.warning(number, raw, missing, flagged=flagged))
        return missing

    def _finish(self, trailer: int | None, last: int, details: int) -> None:
        self.line_count = last
        warning = self._encoding.warning()
        if warning is not None:
            self.warnings.append(warning)
        if trailer is None and not details and not self._body:
            self._fail(
                "has only a header: no records and no trailer (the file looks cut short)",
                field="file",
                line=self._header.number,
                raw=None,
                hint="ask the bank for the file again",
            )
        elif trailer is None:
            self._fail(
                "has no file trailer (record type 9): the file looks cut short",
                field="file",
                line=last,
                raw=None,
                hint="ask the bank for the file again",
            )
        self._errors.raise_if_any()

    # --- CNAB 400 --------------------------------------------------------------------------------------

    def _singles(self, lines: Iterable[tuple[int, str]]) -> Iterator[ReturnRecord]:
        build = self._compiled.build
        detail = frozenset(self.layout.detail_types)
        length = self.layout.record_length
        needed = self._needed[""]
        sequence = self._sequence
        first, last = (sequence.start, sequence.end) if sequence is not None else (0, 0)
        totals = self._file_totals if self._totals else None
        trailer: int | None = None
        number = self._header.number
        blank = 0  # a blank line waiting to see whether a record follows it
        details = 0
        if sequence is not None:
            self._header_sequence(sequence)
        for number, line in lines:
            # The common case first: a detail line of the right length, in order, before the trailer.
            if line[:1] in detail and trailer is None:
                if blank:
                    self._blank(blank)
                    blank = 0
                if not line.isascii() and (line := self._text(line, number)) is None:  # type: ignore[assignment]
                    continue
                long = len(line) > length and self._long_may_shift
                if len(line) != length and (line := self._fit(line, number, needed, detail=True)) is None:  # type: ignore[assignment]
                    continue
                gap = False
                if sequence is not None:
                    raw = line[first:last]
                    if raw.isdecimal() and int(raw) == sequence.expected:
                        sequence.expected += 1
                    else:
                        missing = self._sequence_gap(raw, number, flagged=True)
                        if missing is None:
                            continue
                        gap = missing > 0
                details += 1
                try:
                    record = build(line, number)
                except BadField as bad:
                    self._bad_field(bad, {"": (number, line)})
                    continue
                if gap or long or record.flags:
                    record = self._flagged(record, gap, long)
                if totals is not None:
                    self._add_totals(record, totals)
                yield record
                continue
            if not line.strip():
                blank = blank or (0 if trailer is not None else number)
                continue
            if blank:
                self._blank(blank)
                blank = 0
            trailer = self._other_400(number, line, trailer, details)
        self._finish(trailer, number, details)

    def _header_sequence(self, sequence: Sequence) -> None:
        raw = self._header.line.ljust(self.layout.record_length)[sequence.start : sequence.end]
        if raw.isdecimal() and int(raw) == sequence.expected:
            sequence.expected += 1
        else:
            self._sequence_gap(raw, self._header.number, flagged=False)

    def _other_400(self, number: int, line: str, trailer: int | None, details: int) -> int | None:
        """A CNAB 400 line other than a detail: the trailer, a record type to skip, or an error."""
        text = self._odd_line(number, line, trailer)
        if text is None:
            return trailer
        kind = text[0]
        if kind != "9" and kind not in self.layout.skip_types:
            hint = f"layout {self.layout.id!r} reads details of type {', '.join(sorted(self.layout.detail_types))}"
            self._fail(
                "is not a record type this layout knows" + (" (a second header)" if kind == "0" else ""),
                field="record_type",
                line=number,
                raw=kind,
                hint=hint,
            )
            return trailer
        fitted = self._fit(text, number, 1)
        if fitted is None:
            return number if kind == "9" else trailer
        sequence = self._sequence
        self._records_read += 1
        if sequence is not None:
            raw = fitted[sequence.start : sequence.end]
            if not (raw.isdecimal() and int(raw) == sequence.expected):
                self._sequence_gap(raw, number, flagged=False)
            else:
                sequence.expected += 1
        if kind == "9":
            counts = {"records": self._records_read + details, "details": details}
            self.warnings.extend(
                trailer_warnings(
                    self.layout.trailer_checks, fitted, number, lot=False, counts=counts, totals=self._file_totals
                )
            )
            return number
        return trailer

    # --- CNAB 240 --------------------------------------------------------------------------------------

    def _pairs(self, lines: Iterable[tuple[int, str]]) -> Iterator[ReturnRecord]:
        build = self._compiled.build
        sequence = self._sequence
        first, last = (sequence.start, sequence.end) if sequence is not None else (0, 0)
        needed = self._needed
        lot = self._lot
        prefix = lot.prefix  # bank, lot and record type 3 of the open lot: a detail of it starts with this
        t_line = ""  # the T waiting for its U ("" when none is)
        t_number = 0
        t_gap = False
        t_long = False
        trailer: int | None = None
        number = self._header.number
        blank = 0
        for number, line in lines:
            if line[:8] == prefix:
                if blank:
                    self._blank(blank)
                    blank = 0
                if not line.isascii() and (line := self._text(line, number)) is None:  # type: ignore[assignment]
                    continue
                segment = line[13:14]
                long = len(line) > 240 and self._long_may_shift
                if len(line) != 240 and (line := self._fit(line, number, needed.get(segment, 14), detail=True)) is None:  # type: ignore[assignment]
                    t_line = t_line if segment != "U" else ""
                    continue
                gap = False
                if sequence is not None:
                    raw = line[first:last]
                    if raw.isdecimal() and int(raw) == sequence.expected:
                        sequence.expected += 1
                    else:
                        pair = segment == "U" and bool(t_line)
                        missing = self._sequence_gap(raw, number, flagged=segment == "T", in_pair=pair)
                        if missing is None:
                            t_line = "" if pair else t_line
                            continue
                        gap = missing > 0
                lot.details += 1
                if segment == "U" and t_line:
                    try:
                        record = build(t_line, line, t_number, number)
                    except BadField as bad:
                        self._bad_field(bad, {"T": (t_number, t_line), "U": (number, line)})
                        t_line = ""
                        continue
                    t_line = ""
                    if t_gap or t_long or long or record.flags:
                        record = self._flagged(record, t_gap, t_long or long)
                    if self._totals or self._lot_total_names:
                        self._add_pair_totals(record)
                    yield record
                    continue
                if t_line:
                    self._unpaired(t_number, t_line, f"line {number} should be the U of the title")
                    t_line = ""
                if segment == "T":
                    t_line, t_number, t_gap, t_long = line, number, gap, long
                else:
                    self._other_segment(segment, number, line)
                continue
            if not line.strip():
                blank = blank or (0 if trailer is not None else number)
                continue
            if blank:
                self._blank(blank)
                blank = 0
            if t_line:
                self._unpaired(t_number, t_line, f"line {number} should be the U of the title")
                t_line = ""
            trailer = self._other_240(number, line, trailer)
            prefix = lot.prefix
        if t_line:
            self._unpaired(t_number, t_line, "the file ends after it")
        self._finish(trailer, number, self._details + lot.details)

    def _unpaired(self, t_number: int, t_line: str, hint: str) -> None:
        self._fail(
            "segment T is not followed by its segment U", field="segment", line=t_number, raw=t_line[:14], hint=hint
        )

    def _other_segment(self, segment: str, number: int, line: str) -> None:
        if segment == "U":
            self._fail("segment U has no segment T before it", field="segment", line=number, raw=line[:14])
        elif not "A" <= segment <= "Z":
            self._fail(
                "is not a segment letter (position 14 of a detail is T, U, W, Y...)",
                field="segment",
                line=number,
                raw=segment,
                hint="a byte inserted or lost before position 14 shifts it",
            )

    def _add_pair_totals(self, record: ReturnRecord) -> None:
        self._add_totals(record, self._file_totals)
        self._add_totals(record, self._lot.totals)

    def _other_240(self, number: int, line: str, trailer: int | None) -> int | None:
        """A CNAB 240 line other than a detail of the open lot: a lot header or trailer, the file trailer, an error."""
        text = self._odd_line(number, line, trailer)
        if text is None:
            return trailer
        if text[:3] != self.bank_code:
            self._fail(
                f"belongs to bank {text[:3]!r} but the file header says {self.bank_code!r}",
                field="bank_code",
                line=number,
                raw=text[:3],
                hint="a byte inserted or lost at the start of the line shifts it",
            )
            return trailer
        kind = text[7:8]
        fitted = self._fit(text, number, 8)
        if fitted is None:
            return number if kind == "9" else trailer
        if kind == "1":
            self._open_lot(fitted, number)
        elif kind == "3":
            self._stray_detail(fitted, number)
        elif kind == "5":
            self._close_lot(fitted, number)
        elif kind == "9":
            self._file_trailer(fitted, number)
            return number
        else:
            self._fail(
                "is not a CNAB 240 record type (position 8 should be 1, 3, 5 or 9)"
                + (" (a second header)" if kind == "0" else ""),
                field="record_type",
                line=number,
                raw=text[:14],
            )
        return trailer

    def _open_lot(self, line: str, number: int) -> None:
        lot = self._lot
        if lot.prefix is not None:
            self._fail(
                f"opens a lot while lot {lot.number} has no lot trailer", field="lot", line=number, raw=line[3:7]
            )
            self._end_lot()
        found = line[3:7]
        # Real files number lots 0000 (Ailos, Caixa's reports) or anyhow (Santander 0824, whose file trailer
        # repeats it instead of 9999): any four digits will do.
        if not found.isdecimal():
            self._fail("is not a lot number (4 digits)", field="lot", line=number, raw=found)
            return
        lot.prefix = f"{self.bank_code}{found}3"
        lot.number = found
        lot.details = 0
        lot.totals = dict.fromkeys(self._lot_total_names, 0)
        self._lots += 1
        self._records_read += 1
        if self._sequence is not None:
            self._sequence.restart()

    def _stray_detail(self, line: str, number: int) -> None:
        lot = self._lot
        reason = (
            f"belongs to lot {line[3:7]} but lot {lot.number} is open"
            if lot.prefix is not None
            else "is outside any lot (no lot header before it)"
        )
        self._fail(reason, field="lot", line=number, raw=line[3:7])

    def _close_lot(self, line: str, number: int) -> None:
        lot = self._lot
        if lot.prefix is None:
            self._fail("is a lot trailer outside any lot", field="lot", line=number, raw=line[3:7])
            return
        if line[3:7] != lot.number:
            self._fail(f"closes lot {line[3:7]} but lot {lot.number} is open", field="lot", line=number, raw=line[3:7])
        else:
            counts = {"records": lot.details + 2, "details": lot.details}
            self.warnings.extend(
                trailer_warnings(
                    self.layout.lot_trailer_checks, line, number, lot=True, counts=counts, totals=lot.totals
                )
            )
        self._records_read += 1
        self._end_lot()

    def _end_lot(self) -> None:
        self._details += self._lot.details
        self._lot.details = 0
        self._lot.prefix = None

    def _file_trailer(self, line: str, number: int) -> None:
        lot = self._lot
        if lot.prefix is not None:
            self._fail(
                f"ends the file while lot {lot.number} has no lot trailer", field="lot", line=number, raw=lot.number
            )
            self._end_lot()
        self._records_read += 1
        counts = {"records": self._records_read + self._details, "details": self._details, "lots": self._lots}
        self.warnings.extend(
            trailer_warnings(
                self.layout.trailer_checks, line, number, lot=False, counts=counts, totals=self._file_totals
            )
        )


def _lines(stream: BinaryIO) -> Iterator[tuple[int, str]]:
    """Numbered lines of ``stream``, decoded as latin-1 (one byte is one column; CNAB is never UTF-8).

    Line ends (LF or CRLF), a DOS end-of-file (Ctrl-Z) and a UTF-8 byte-order mark are removed here, so
    the reader sees records only. Built from C-level iterators (map, enumerate): no Python frame per line.
    """
    first = stream.readline()
    if not isinstance(first, bytes):
        raise InvalidType(
            f"a CNAB file is read as bytes: open it in binary mode ('rb'), not {type(first).__name__}", field="stream"
        )
    if first.startswith(_BOM_BYTES):
        first = first[len(_BOM_BYTES) :]
    stripped = map(bytes.rstrip, chain((first,), stream), repeat(_LINE_END))
    return enumerate(map(bytes.decode, stripped, repeat("latin-1")), 1)


def parse_return(data: bytes, layout: Layout | None = None, *, source: str = "") -> ReturnFile:
    """Parse a whole CNAB 240 or 400 return file; detect the layout from the header when none is given.

    The result says which layout was used (``layout_id``, ``layout_detected``). A malformed file is
    refused whole: nothing is returned. The garbage collector is left as the caller set it; a script that
    reads large files can hold :func:`carteira.garbage_collection.paused_collection` around the call
    (decision 0500).

    Raises:
        InvalidInput: the first problem, with ``source``, ``line``, ``field``, ``raw`` and ``reason``;
            further problems (up to ``ERRORS_REPORTED_MAX``) are attached as notes (PEP 678).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidType(f"parse_return takes the file's bytes, not {type(data).__name__}", field="data")
    errors = ErrorCollector(collect=True)
    # The same line source as iter_records: reading line by line from memory is faster than splitting
    # the whole text first, which holds every line and the text at once while records are built.
    stream = RecordStream(_lines(io.BytesIO(data)), layout, source=source, errors=errors)
    records = tuple(stream)
    return ReturnFile(
        source=source,
        layout_id=stream.layout.id,
        layout_detected=stream.layout_detected,
        format=stream.layout.format,
        bank_code=stream.bank_code,
        agreement=stream.agreement,
        file_sequence=stream.file_sequence,
        generated_on=stream.generated_on,
        line_count=stream.line_count,
        records=records,
        warnings=tuple(stream.warnings),
    )


def iter_records(stream: BinaryIO, layout: Layout | None = None, *, source: str = "") -> RecordStream:
    """Read the records of a binary stream one at a time, in bounded memory (a line at a time).

    The header is read at once (so the layout is chosen, and an empty or unknown file refused, before
    the first record); the records come as the stream is iterated. A bad record raises
    ``InvalidInput`` when it is reached, after the good records before it were yielded: a caller
    that must be all-or-nothing keeps the records until the stream is exhausted.
    """
    return RecordStream(_lines(stream), layout, source=source, errors=ErrorCollector(collect=False))


class CnabParser:
    """The :class:`~carteira.ports.return_files.ReturnFileParser` for CNAB files.

    With ``layout=None`` every file's layout is detected from its header; with a layout, that one is used.
    """

    def __init__(self, layout: Layout | None = None) -> None:
        self.layout = layout

    def __repr__(self) -> str:
        return f"CnabParser(layout={self.layout.id if self.layout else None!r})"

    def parse(self, data: bytes, *, source: str = "") -> ReturnFile:
        """See :func:`parse_return`."""
        return parse_return(data, self.layout, source=source)

    def iter_records(self, stream: BinaryIO, *, source: str = "") -> Iterator[ReturnRecord]:
        """See :func:`iter_records`."""
        return iter_records(stream, self.layout, source=source)
