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

from carteira.adapters.cnab.engine import BadField, CompiledLayout, compile_layout, convert_field
from carteira.adapters.cnab.layout import Layout
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
            raise InvalidInput("is empty (no records)", field="file", source=source)
        header = _sniff(first[1], first[0], source)
        buffered: list[tuple[int, str]] = []
        first_detail = None
        if layout is None and header.format == "cnab400":
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
                    raw=first[1][:20],
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
        self._compiled = _compiled(layout)
        rest = chain(buffered, lines)
        self._records = self._pairs(rest) if layout.format == "cnab240" else self._singles(rest)

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

    def _fail(self, reason: str, *, field: str, line: int, raw: str | None, hint: str = "") -> None:
        self._errors.add(InvalidInput(reason, field=field, source=self.source, line=line, raw=raw, hint=hint))

    def _bad_field(self, bad: BadField, lines: dict[str, tuple[int, str]]) -> None:
        bad = self._compiled.diagnose(bad, {record: text for record, (_, text) in lines.items()})
        record = self._compiled.field_record.get(bad.field, "")
        number = lines[record][0] if record in lines else min(n for n, _ in lines.values())
        self._fail(bad.reason, field=bad.field, line=number, raw=bad.raw)

    def _fit(self, line: str, number: int, record: str) -> str | None:
        """The line padded to the record length, or ``None`` (and an error) when it cannot be a record."""
        length = self.layout.record_length
        size = len(line)
        if size == length:
            return line
        if size > length:
            if line[length:].strip():
                self._fail(
                    f"is {size} characters long with data after position {length}",
                    field="record",
                    line=number,
                    raw=line[length : length + 20],
                    hint=f"a {self.layout.format} record is {length} characters",
                )
                return None
            return line[:length]
        needed = self._compiled.min_length[record]
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

    def _after_trailer(self, number: int, line: str) -> None:
        self._fail("comes after the file trailer", field="record", line=number, raw=line[:20])

    def _finish(self, trailer_line: int | None, last: int) -> None:
        self.line_count = last
        if trailer_line is None:
            self._fail(
                "has no file trailer (record type 9): the file looks cut short",
                field="file",
                line=last,
                raw=None,
                hint="ask the bank for the file again",
            )
        self._errors.raise_if_any()

    def _singles(self, lines: Iterable[tuple[int, str]]) -> Iterator[ReturnRecord]:
        build = self._compiled.build
        detail = frozenset(self.layout.detail_types)
        skip = frozenset(self.layout.skip_types)
        length = self.layout.record_length
        trailer: int | None = None
        number = 0
        for number, line in lines:
            # The common case first: a detail line of the right length before the trailer.
            if line[:1] in detail and trailer is None:
                if len(line) != length:
                    fitted = self._fit(line, number, "")
                    if fitted is None:
                        continue
                    line = fitted
                try:
                    yield build(line, number)
                except BadField as bad:
                    self._bad_field(bad, {"": (number, line)})
            elif not line.strip():
                continue
            elif trailer is not None:
                self._after_trailer(number, line)
            elif line[0] == "9":
                trailer = number
            elif line[0] in skip:
                continue
            else:
                kind = line[0]
                self._fail(
                    "is not a record type this layout knows" + (" (a second header)" if kind == "0" else ""),
                    field="record_type",
                    line=number,
                    raw=kind,
                    hint=f"layout {self.layout.id!r} reads details of type {', '.join(sorted(detail))}",
                )
        self._finish(trailer, number)

    def _pairs(self, lines: Iterable[tuple[int, str]]) -> Iterator[ReturnRecord]:
        build = self._compiled.build
        bank = self.bank_code
        t_line = ""  # the T waiting for its U ("" when none is)
        t_number = 0
        trailer: int | None = None
        number = 0
        records = 0
        for number, line in lines:
            segment = line[13:14]
            if t_line:
                if segment == "U" and line[7:8] == "3":
                    if len(line) != 240:
                        fitted = self._fit(line, number, "U")
                        if fitted is None:
                            t_line = ""
                            continue
                        line = fitted
                    try:
                        yield build(t_line, line, t_number, number)
                    except BadField as bad:
                        self._bad_field(bad, {"T": (t_number, t_line), "U": (number, line)})
                    t_line = ""
                    records += 1
                    continue
                self._fail(
                    "segment T is not followed by its segment U",
                    field="segment",
                    line=t_number,
                    raw=t_line[:14],
                    hint=f"line {number} should be the U of the title",
                )
                t_line = ""
            if segment == "T" and line[7:8] == "3" and trailer is None:
                if line[:3] != bank:
                    self._fail(
                        f"belongs to bank {line[:3]!r} but the file header says {bank!r}",
                        field="bank_code",
                        line=number,
                        raw=line[:3],
                    )
                    continue
                t_line = line if len(line) == 240 else (self._fit(line, number, "T") or "")
                t_number = number
                continue
            kind = line[7:8]
            if not line.strip():
                continue
            if trailer is not None:
                self._after_trailer(number, line)
            elif segment == "U" and kind == "3":
                self._fail("segment U has no segment T before it", field="segment", line=number, raw=line[:14])
            elif kind in ("1", "5") or (kind == "3" and segment):
                continue  # lot headers and trailers, and segments other than T and U (W, Y...)
            elif kind == "9":
                trailer = number
                self._check_trailer(line, number, records)
            else:
                self._fail(
                    "is not a CNAB 240 record type (position 8 should be 1, 3, 5 or 9)"
                    + (" (a second header)" if kind == "0" else ""),
                    field="record_type",
                    line=number,
                    raw=line[:14],
                )
        if t_line:
            self._fail(
                "segment T is not followed by its segment U",
                field="segment",
                line=t_number,
                raw=t_line[:14],
                hint="the file ends after it",
            )
        self._finish(trailer, number)

    def _check_trailer(self, line: str, number: int, records: int) -> None:
        count = line[23:29]
        if count.isdecimal() and int(count) != number:
            # Trailers are often the bank's own tallies (whole portfolio, hand-edited samples): note, not refuse.
            self.warnings.append(f"line {number}: file trailer counts {int(count)} records; the file has {number}")


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
