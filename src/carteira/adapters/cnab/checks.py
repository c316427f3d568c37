"""The checks a return file carries, as the reader applies them (decisions 0217 and 0218).

A return file checks itself in a few ways: each record's sequence number, the trailers' counts and totals,
each record's own arithmetic, and (since CNAB is one byte per column) the width of every line. What a
damaged file can never legitimately have is refused; what a real bank's file does have is a warning and a
flag on the record. These helpers hold the state and write the messages; the reader calls them only when
the fast path (a line exactly as expected) does not hold, so a clean file pays a comparison per line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from carteira.adapters.cnab.layout import Slice, SumCheck, TrailerCheck
from carteira.domain.money import Money
from carteira.ports.return_files import FieldValue, ReturnRecord

__all__ = [
    "GAP_FLAG",
    "LENGTH_FLAG",
    "Encoding",
    "Refusal",
    "Sequence",
    "cents_text",
    "record_value",
    "sum_warnings",
    "trailer_warnings",
]

GAP_FLAG: Final = "sequence_gap"
"""The flag of a record right after a gap in the sequence numbers: records may be missing before it."""

LENGTH_FLAG: Final = "length"
"""The flag of a record whose line runs past the record length in blanks: a byte inserted may have moved its fields."""


class Refusal(Exception):
    """Raised by a check for something no real file has: the reader turns it into ``InvalidInput``."""

    def __init__(self, field: str, reason: str, raw: str | None, hint: str = "") -> None:
        self.field = field
        self.reason = reason
        self.raw = raw
        self.hint = hint
        super().__init__(field, reason, raw)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class Sequence:
    """The sequence numbers of one run of records (CNAB 400: the file; CNAB 240: one lot).

    ``expected`` is the number the next record should carry; the reader compares it inline and calls
    :meth:`mismatch` only when it differs. A repeated or lower number is refused (a line copied twice or
    out of order: no bank writes that); a higher one is a gap, which real files do have, so it is
    reported for a warning. After the largest number the field holds, numbering may start again at 0.
    """

    __slots__ = ("end", "expected", "first", "modulus", "start", "width")

    def __init__(self, span: Slice, first: int = 1) -> None:
        self.start: int = span.start - 1
        self.end: int = span.start - 1 + span.length
        self.width: int = span.length
        self.modulus: int = 10**span.length
        self.first: int = first
        self.expected: int = first

    def restart(self) -> None:
        """A new run (a CNAB 240 lot) starts numbering again at the first number."""
        self.expected = self.first

    def text(self, number: int) -> str:
        """``number`` as the file writes it."""
        return f"{number % self.modulus:0{self.width}d}"

    def mismatch(self, raw: str, *, in_pair: bool = False) -> int:
        """How many records are missing before ``raw`` (0 when it is right after all), or :class:`Refusal`."""
        if not raw.isdecimal():
            reason = "is blank (the line is cut short?)" if not raw.strip() else "is not a number"
            raise Refusal("sequence", f"the record's sequence number {reason}", raw)
        found = int(raw)
        expected = self.expected % self.modulus
        if found == expected:  # the numbering started again after the largest number the field holds
            self.expected = found + 1
            return 0
        if in_pair:
            raise Refusal(
                "sequence",
                f"segment U's sequence number does not follow its segment T's ({self.text(self.expected - 1)}): "
                "the T/U pair does not line up",
                raw,
            )
        if found < expected:
            if self.expected == self.first:
                reason = f"is below the first number {self.text(self.first)}"
            elif found == expected - 1:
                reason = "repeats the one before it (a line copied twice?)"
            else:
                reason = f"goes back after {self.text(self.expected - 1)} (lines out of order or copied?)"
            raise Refusal("sequence", f"the record's sequence number {reason}", raw)
        self.expected = found + 1
        return found - expected

    def warning(self, number: int, raw: str, missing: int, *, flagged: bool) -> str:
        """The warning for a gap of ``missing`` records before line ``number``."""
        found = int(raw)
        if found - missing > self.first:
            where = f"follows {self.text(found - missing - 1)}"
        else:
            where = f"comes first where {self.text(self.first)} was expected"
        verb = "is" if missing == 1 else "are"
        text = f"line {number}: sequence number {raw} {where}: {_plural(missing, 'record')} {verb} missing before it"
        return text + (f"; flagged {GAP_FLAG!r}" if flagged else "")


def trailer_warnings(
    checks: tuple[TrailerCheck, ...],
    line: str,
    number: int,
    *,
    lot: bool,
    counts: Mapping[str, int],
    totals: Mapping[str, int],
) -> list[str]:
    """The warnings for a trailer's counts and totals that disagree with what was read (``totals`` in cents).

    A trailer is the bank's own tally; real ones count their whole portfolio or another scope, so a
    disagreement is told, never refused (decision 0217).
    """
    trailer, scope = ("the lot trailer", "the lot") if lot else ("the trailer", "the file")
    found: list[str] = []
    for check in checks:
        raw = line[check.start - 1 : check.end]
        where = f"positions {check.start}-{check.end}"
        if not raw.isdecimal():
            found.append(f"line {number}: {trailer}'s number at {where} is not a number ({raw!r}); not checked")
            continue
        modulus = 10**check.length
        if check.counts:
            actual = counts[check.counts]
            if int(raw) != actual % modulus:
                noun = check.counts.removesuffix("s")
                found.append(
                    f"line {number}: {trailer} counts {_plural(int(raw), noun)} ({where}); {scope} has {actual}"
                )
            continue
        actual = totals[check.sums]
        stated = int(raw) * 10 ** (2 - check.decimals)
        if stated != actual % (modulus * 10 ** (2 - check.decimals)):
            found.append(
                f"line {number}: {trailer}'s total of {check.sums} ({where}) is {cents_text(stated)}; "
                f"{scope}'s is {cents_text(actual)}"
            )
    return found


def cents_text(cents: int) -> str:
    """Whole cents as reais with two decimals (``-350`` is ``-3.50``)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def record_value(record: ReturnRecord, name: str) -> FieldValue:
    """The record's field ``name``: one of its attributes, or one of its ``extra`` fields."""
    if name in ReturnRecord._fields:
        value: FieldValue = getattr(record, name)
        return value
    return record.extra.get(name)


def _cents(record: ReturnRecord, name: str) -> int:
    value = record_value(record, name)
    return value.cents if isinstance(value, Money) else 0


def sum_warnings(record: ReturnRecord, checks: tuple[SumCheck, ...]) -> list[str]:
    """One warning per ``sum:`` flag of ``record``, with the values that do not add up."""
    found = []
    for check in checks:
        if f"sum:{check.name}" not in record.flags:
            continue
        total = 0
        expression = []
        for term in check.terms:
            name = term.lstrip("-")
            sign = -1 if term.startswith("-") else 1
            total += sign * _cents(record, name)
            expression.append(f"{'-' if sign < 0 else '+'} {name}")
        stated = cents_text(_cents(record, check.name))
        found.append(
            f"line {record.line}: {check.name} {stated} is not {' '.join(expression).lstrip('+ ')} = "
            f"{cents_text(total)}; flagged 'sum:{check.name}'"
        )
    return found


def _cp1252_or_latin1(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return ord(char) < 0x100
    return True


class Encoding:
    """Tells the bank's Latin-1 lines from lines an editor re-encoded as UTF-8 (decision 0218).

    CNAB is one byte per column, in Latin-1: an accented letter an editor writes as two UTF-8 bytes shifts
    every field after it by one (a tariff of 2.50 reads 0.25). Only lines with bytes above 127 come here.
    Latin-1 text is almost never valid UTF-8 (an accented letter is followed by a plain one), so a line
    that decodes as UTF-8 was re-encoded: it is read back, one character per column, and the file gets one
    warning. Refused: a file mixing both (one of them would be misread), a line whose Latin-1 reading has
    exactly the record's length while its UTF-8 reading does not (either could be right), and characters
    no Latin-1 or cp1252 file can hold.
    """

    __slots__ = ("first_latin1", "first_utf8", "record_length", "utf8_lines")

    def __init__(self, record_length: int) -> None:
        self.record_length = record_length
        self.first_latin1: int | None = None
        self.first_utf8: int | None = None
        self.utf8_lines = 0

    def text(self, line: str, number: int) -> str:
        """``line`` (read as Latin-1, with bytes above 127) as the bank wrote it, or :class:`Refusal`."""
        try:
            text = line.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            if self.first_utf8 is not None:
                raise self._mixed(number, self.first_utf8, "Latin-1") from None
            if self.first_latin1 is None:
                self.first_latin1 = number
            return line
        if self.first_latin1 is not None:
            raise self._mixed(number, self.first_latin1, "UTF-8")
        if len(line) == self.record_length and len(text) != self.record_length:
            raise Refusal(
                "encoding",
                f"is ambiguous: read as Latin-1 it has the record's {self.record_length} characters, read as "
                f"UTF-8 {len(text)}; which one the bank wrote cannot be told",
                line[:40],
                "ask the bank for the file again, and do not open it in a text editor",
            )
        strange = next((char for char in text if not _cp1252_or_latin1(char)), None)
        if strange is not None:
            raise Refusal("encoding", "is UTF-8 text with a character no CNAB file holds", strange)
        self.utf8_lines += 1
        if self.first_utf8 is None:
            self.first_utf8 = number
        return text

    def _mixed(self, number: int, other: int, kind: str) -> Refusal:
        first, second = ("UTF-8", "Latin-1") if kind == "Latin-1" else ("Latin-1", "UTF-8")
        return Refusal(
            "encoding",
            f"is {kind} text in a file whose line {other} is {first}: the file mixes UTF-8 and Latin-1, so "
            f"one of them would be misread ({second} here)",
            None,
            "ask the bank for the file again, and do not open it in a text editor",
        )

    def warning(self) -> str | None:
        """The file's one warning when lines were read back from UTF-8."""
        if self.first_utf8 is None:
            return None
        verb = "was" if self.utf8_lines == 1 else "were"
        return (
            f"line {self.first_utf8}: the file was re-encoded as UTF-8 (an accented letter takes two bytes, which "
            f"shifts every field after it); {_plural(self.utf8_lines, 'line')} {verb} read back one character "
            "per column"
        )
