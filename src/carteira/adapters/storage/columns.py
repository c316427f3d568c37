"""What each column of carteira's tables holds: checked before a write, and used to name the column of a bad row.

One declaration per column (:class:`Holds`, registered in :mod:`~carteira.adapters.storage.rows`) serves
every store, so all of them accept the same values (decision 0347):

- text without NUL (PostgreSQL's ``text`` cannot hold it) that UTF-8 can encode (no lone surrogates);
- whole numbers within the column's PostgreSQL type, ``INTEGER`` (32 bits) or ``BIGINT`` (64 bits),
  on SQLite too, whose ``INTEGER`` would hold 64 bits: a store moved from SQLite to PostgreSQL loads;
- money as integer cents within ``BIGINT`` (``Money`` refuses more long before).

A write is checked before its statement runs (:func:`first_unholdable`: text and whole numbers, the
values a caller's record can carry that a column cannot hold). A row read back is decoded by the
mappers on the hot path with no check of its own; only when decoding fails is the row looked at
again, column by column (:func:`unreadable`), to name the table, the row's key and the column.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from carteira.domain import Money
from carteira.errors import InvalidRow

__all__ = [
    "CENTS",
    "CENTS_OR_NULL",
    "DATE",
    "DATE_OR_NULL",
    "FLAG",
    "FLAG_OR_NULL",
    "INSTANT",
    "INSTANT_OR_NULL",
    "INT32",
    "INT32_MAX",
    "INT32_MIN",
    "INT32_OR_NULL",
    "INT64",
    "INT64_MAX",
    "INT64_MIN",
    "RATE",
    "RATE_OR_NULL",
    "TEXT",
    "TEXT_OR_NULL",
    "Holds",
    "LenientRows",
    "Unholdable",
    "UnreadableValue",
    "first_unholdable",
    "first_unreadable",
    "holdable_key",
    "json_text",
    "key_text",
    "one_of",
    "refusing_unreadable",
    "row_error",
    "text",
    "unholdable",
    "unreadable",
    "whole",
]

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
"""What a PostgreSQL ``INTEGER`` column holds (counts, lines, positions, versions)."""
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
"""What a PostgreSQL ``BIGINT`` column holds (cents, event ids), and SQLite's ``INTEGER``."""

_SHOWN = 40  # characters of a refused value shown in a message, as the domain's errors show them
_HINT = "The row was changed outside carteira: restore it from a backup or correct it"


class Unholdable(Exception):
    """Raised by a dialect when the driver refuses a value before or while running a statement.

    A lone surrogate (UTF-8 cannot encode it), a whole number beyond 64 bits, NUL in PostgreSQL text:
    the shared layer names the record and column from the rows it sent (:func:`unholdable`), or, for
    a query, treats the key as one no row holds.
    """


@attrs.frozen
class Holds:
    """What one column holds: its kind (named in messages), whether NULL is allowed, and how to check a value.

    ``text`` columns refuse NUL before a write; ``low``/``high`` bound a whole-number column. ``read``
    decodes a stored value as the mappers do (with the store's codec) and raises when it cannot;
    only a row that failed to decode is checked with it.
    """

    kind: str
    nullable: bool = False
    text: bool = False
    low: int | None = None
    high: int | None = None
    read: Callable[[Any, Any], object] | None = None
    flag: bool = False

    def or_null(self) -> Holds:
        """The same kind, with NULL allowed."""
        return attrs.evolve(self, nullable=True)

    def unwritable(self, value: object) -> str | None:
        """Why ``value`` cannot be written to this column (a full check, encoding included), or ``None``."""
        if value is None:
            return None if self.nullable else "must not be empty (NULL)"
        if self.text:
            if type(value) is not str:
                return "must be text"
            return _text_problem(value)
        if self.low is not None and self.high is not None:
            if type(value) is not int:
                return "must be a whole number"
            if not self.low <= value <= self.high:
                return f"is beyond what the column holds ({self.low} to {self.high})"
        if self.flag and not _a_flag(value):
            return "must be a bool"
        return None

    def unreadable(self, value: object, codec: Any) -> str | None:
        """Why a stored ``value`` is not one carteira writes to this column, or ``None`` when it reads."""
        if value is None:
            return None if self.nullable else "is empty (NULL)"
        if isinstance(value, UnreadableValue):
            return value.reason
        if self.text and type(value) is not str:
            return f"is not text ({type(value).__name__})"
        if self.low is not None and self.high is not None:
            if type(value) is not int:
                return f"is not a whole number ({type(value).__name__})"
            if not self.low <= value <= self.high:
                return f"is beyond what the column holds ({self.low} to {self.high})"
        if self.read is not None:
            try:
                self.read(value, codec)
            except Exception as exc:
                return f"is not {self.kind} as carteira writes it ({_reason(exc)})"
        return None


class LenientRows(list[Any]):
    """Rows a dialect read again after its driver failed on a stored value: some hold :class:`UnreadableValue`.

    Whoever decodes them refuses every row holding one (:func:`refusing_unreadable`), whatever the
    domain would accept: a marker is never handed to a caller as a value.
    """


def refusing_unreadable(decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``decode`` of a row that holds no :class:`UnreadableValue`; a row that holds one raises ``ValueError``."""

    def checked(row: Any) -> Any:
        if any(isinstance(value, UnreadableValue) for value in row):
            raise ValueError("a value of the row cannot be read")
        return decode(row)

    return checked


def _a_flag(value: object) -> bool:
    """A flag as a dialect writes it: a bool, or SQLite's 0 or 1."""
    return value is True or value is False or (value.__class__ is int and (value == 0 or value == 1))


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "text cannot hold the NUL character (PostgreSQL refuses it)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text cannot hold a lone surrogate (it is not UTF-8)"
    return None


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str):
        return reason
    return str(exc) or type(exc).__name__


def _cents(value: Any, _codec: Any) -> object:
    return Money.from_cents(value)


def _decoded(check: Callable[[object], bool], what: str) -> Callable[[Any, Callable[[Any], object]], object]:
    """A ``read`` that decodes with the codec function it is given and checks the result is ``what`` it should be."""

    def read(value: Any, decode: Callable[[Any], object]) -> object:
        decoded = decode(value)
        if not check(decoded):
            raise ValueError(f"reads as {type(decoded).__name__}, not {what}")
        return decoded

    return read


_date = _decoded(lambda d: type(d) is date, "a date")
_instant = _decoded(lambda d: isinstance(d, datetime) and d.tzinfo is not None, "an aware datetime")
_rate = _decoded(lambda d: type(d) is Decimal, "a Decimal")
_flag = _decoded(lambda d: type(d) is bool, "a bool")


class UnreadableValue:
    """What a dialect reads in place of a stored value its driver cannot turn into Python (a date ``'infinity'``).

    The mappers refuse it as they would any wrong value, and :func:`row_error` names its column.
    """

    __slots__ = ("reason", "text")

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason

    def __repr__(self) -> str:
        return repr(self.text)


TEXT = Holds("text", text=True)
TEXT_OR_NULL = TEXT.or_null()
INT32 = Holds("a 32-bit whole number", low=INT32_MIN, high=INT32_MAX)
INT32_OR_NULL = INT32.or_null()
INT64 = Holds("a 64-bit whole number", low=INT64_MIN, high=INT64_MAX)
CENTS = Holds("an amount in cents", low=INT64_MIN, high=INT64_MAX, read=_cents)
CENTS_OR_NULL = CENTS.or_null()
DATE = Holds("a date", read=lambda value, codec: _date(value, codec.date_in))
DATE_OR_NULL = DATE.or_null()
INSTANT = Holds("an instant", read=lambda value, codec: _instant(value, codec.instant_in))
INSTANT_OR_NULL = INSTANT.or_null()
RATE = Holds("a rate", read=lambda value, codec: _rate(value, codec.rate_in))
RATE_OR_NULL = RATE.or_null()
FLAG = Holds("a flag", read=lambda value, codec: _flag(value, codec.flag_in), flag=True)
FLAG_OR_NULL = FLAG.or_null()


def one_of(kind: type[enum.Enum]) -> Holds:
    """A text column holding the value of one of ``kind``'s members."""
    values = {member.value for member in kind}
    shown = ", ".join(sorted(str(value) for value in values))

    def read(value: Any, _codec: Any) -> object:
        if type(value) is not str or value not in values:
            raise ValueError(f"not one of {shown}")
        return value

    # Not checked as text before a write: the value is the enum member's own.
    return Holds(f"a value of {kind.__name__}", read=read)


def json_text(read: Callable[[str, str], object]) -> Holds:
    """A text column holding JSON that ``read(text, column)`` decodes (and refuses, raising, when it cannot)."""
    return Holds("JSON text", text=True, read=lambda value, _codec: read(value, ""))


def whole(value: Any) -> int:
    """``value`` if it is a whole number (a line, a position), else ``ValueError``: a child row read for sorting."""
    if value.__class__ is not int:
        raise ValueError(f"{value!r} is not a whole number")
    return int(value)


def text(value: Any) -> str:
    """``value`` if it is text (a child row's installment or settlement id), else ``ValueError``."""
    if value.__class__ is not str:
        raise ValueError(f"{_shown(value)} is not text")
    return str(value)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _raw(value: object) -> str:
    """A value as an error's ``raw`` shows it: text as it is, anything else as its repr; at most 40 characters."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def key_text(columns: Sequence[str], key: Sequence[str], row: Sequence[Any]) -> str:
    """The row's primary key as ``column=value`` pairs, e.g. ``"batch_id='b1', line=7"``."""
    values = dict(zip(columns, row, strict=False))
    return ", ".join(f"{name}={_shown(values.get(name))}" for name in key)


# -- before a write ----------------------------------------------------------------------------------------------

_Check = Callable[[Sequence[Sequence[Any]]], tuple[Sequence[Any], int, str] | None]
_CHECKS: dict[tuple[str, tuple[str, ...], bool], _Check] = {}


def _encodes(text: str) -> bool:
    """Whether UTF-8 can encode ``text`` (no lone surrogate): ASCII, the common case, is answered at once."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _compile(holds: Mapping[str, Holds], columns: Sequence[str], encoding: bool) -> _Check:
    """A check of rows of ``columns``: text, whole numbers and flags, the values a record may carry that a column
    cannot hold (dates, rates and enum values are made by the codec from values the domain checked)."""
    texts = tuple(n for n, c in enumerate(columns) if holds[c].text and not holds[c].nullable)
    optional_texts = tuple(n for n, c in enumerate(columns) if holds[c].text and holds[c].nullable)
    numbers = tuple(
        (n, low, high, holds[c].nullable)
        for n, c in enumerate(columns)
        if (low := holds[c].low) is not None and (high := holds[c].high) is not None
    )

    flags = tuple((n, holds[c].nullable) for n, c in enumerate(columns) if holds[c].flag)

    def check(rows: Sequence[Sequence[Any]]) -> tuple[Sequence[Any], int, str] | None:
        # The common case runs as plain comparisons per value; the reason is worked out only for a refusal.
        for row in rows:
            for n in texts:
                value = row[n]
                if value.__class__ is not str or "\x00" in value or (encoding and not _encodes(value)):
                    return row, n, holds[columns[n]].unwritable(value) or "must be text"
            for n in optional_texts:
                value = row[n]
                if value is not None and (
                    value.__class__ is not str or "\x00" in value or (encoding and not _encodes(value))
                ):
                    return row, n, holds[columns[n]].unwritable(value) or "must be text"
            for n, low, high, nullable in numbers:
                value = row[n]
                if value.__class__ is not int or not low <= value <= high:
                    if value is None and nullable:
                        continue
                    return row, n, holds[columns[n]].unwritable(value) or "must be a whole number"
            for n, nullable in flags:
                value = row[n]
                if not _a_flag(value) and not (value is None and nullable):
                    return row, n, "must be a bool"
        return None

    return check


def first_unholdable(
    table: str,
    holds: Mapping[str, Holds],
    key: Sequence[str],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    encoding: bool = False,
) -> InvalidRow | None:
    """The error for the first value of ``rows`` (of ``columns``) that ``table`` cannot hold, or ``None``.

    Checks text for NUL, whole numbers for range, flags; a lone surrogate is left to the driver, which
    refuses it while encoding (cheaper than encoding every text twice), and :func:`unholdable` names it;
    a store with no driver (``MemoryStore``) asks for ``encoding`` to be checked here too.
    """
    cache_key = (table, tuple(columns), encoding)
    check = _CHECKS.get(cache_key)
    if check is None:
        check = _CHECKS[cache_key] = _compile(holds, columns, encoding)
    found = check(rows)
    if found is None:
        return None
    row, n, reason = found
    return _refusal(table, key, columns, row, n, reason)


def unholdable(
    table: str, holds: Mapping[str, Holds], key: Sequence[str], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> InvalidRow | None:
    """The error for the first value of ``rows`` that ``table`` cannot hold, encoding included: after a refusal."""
    for row in rows:
        for n, column in enumerate(columns):
            reason = holds[column].unwritable(row[n])
            if reason is not None:
                return _refusal(table, key, columns, row, n, reason)
    return None


def _refusal(
    table: str, key: Sequence[str], columns: Sequence[str], row: Sequence[Any], n: int, reason: str
) -> InvalidRow:
    return InvalidRow(
        reason,
        table=table,
        key=key_text(columns, key, row),
        column=columns[n],
        raw=_raw(row[n]),
        hint="Nothing of this unit was kept: correct the value and run the unit again",
    )


_READ_CHECKS: dict[tuple[str, tuple[str, ...]], _Check] = {}


def _compile_read(holds: Mapping[str, Holds], columns: Sequence[str]) -> _Check:
    """A check of stored rows of ``columns``: text columns hold text, whole-number columns whole numbers in range.

    SQLite lets any column hold any type; the domain's constructors check the types of most fields, but not
    the bits of the column a count is kept in, nor the fields that are storage's own (``version``).
    """
    texts = tuple((n, holds[c].nullable) for n, c in enumerate(columns) if holds[c].text)
    numbers = tuple(
        (n, low, high, holds[c].nullable)
        for n, c in enumerate(columns)
        if (low := holds[c].low) is not None and (high := holds[c].high) is not None
    )

    def check(rows: Sequence[Sequence[Any]]) -> tuple[Sequence[Any], int, str] | None:
        for row in rows:
            for n, nullable in texts:
                value = row[n]
                if value.__class__ is not str and not (value is None and nullable):
                    return row, n, holds[columns[n]].unreadable(value, None) or "is not text"
            for n, low, high, nullable in numbers:
                value = row[n]
                if (value.__class__ is not int or not low <= value <= high) and not (value is None and nullable):
                    return row, n, holds[columns[n]].unreadable(value, None) or "is not a whole number"
        return None

    return check


def first_unreadable(
    table: str, holds: Mapping[str, Holds], key: Sequence[str], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> InvalidRow | None:
    """The error for the first stored value of ``rows`` of a type or range its column does not hold, or ``None``."""
    cache_key = (table, tuple(columns))
    check = _READ_CHECKS.get(cache_key)
    if check is None:
        check = _READ_CHECKS[cache_key] = _compile_read(holds, columns)
    found = check(rows)
    if found is None:
        return None
    row, n, reason = found
    return InvalidRow(reason, table=table, key=key_text(columns, key, row), column=columns[n], raw=_raw(row[n]),
                      hint=_HINT)  # fmt: skip


def holdable_key(value: object) -> bool:
    """Whether a key asked for could be stored at all: text without NUL that UTF-8 encodes, a 64-bit whole number.

    A key no column can hold is one no row has, so a finder leaves it out (a ``get`` says ``NotFound``).
    """
    if isinstance(value, str):
        return _text_problem(value) is None
    if isinstance(value, int) and not isinstance(value, bool):
        return INT64_MIN <= value <= INT64_MAX
    return True


# -- after a read that failed ------------------------------------------------------------------------------------


def row_error(
    table: str,
    holds: Mapping[str, Holds],
    key: Sequence[str],
    columns: Sequence[str],
    row: Sequence[Any],
    codec: Any,
    error: BaseException,
) -> InvalidRow:
    """Why ``row`` (of ``columns``) could not be decoded: the first column whose value does not read, else the
    field the domain's ``error`` names (``principal_open`` is column ``principal_open_cents``)."""
    where = key_text(columns, key, row)
    for name, value in zip(columns, row, strict=False):
        reason = holds[name].unreadable(value, codec)
        if reason is not None:
            return InvalidRow(reason, table=table, key=where, column=name, raw=_raw(value), hint=_HINT)
    field = getattr(error, "field", None)
    column = _column_of(field, columns) if isinstance(field, str) else None
    values = dict(zip(columns, row, strict=False))
    return InvalidRow(
        f"the row breaks a rule of the domain ({_reason(error)})",
        table=table,
        key=where,
        column=column or (field if isinstance(field, str) else "row"),
        raw=_raw(values[column]) if column is not None else None,
        hint=_HINT,
    )


def _column_of(field: str, columns: Sequence[str]) -> str | None:
    """The column a domain field is stored in: its name, with ``_cents``, or ``before_`` (a settlement's state)."""
    for candidate in (field, f"{field}_cents", f"before_{field}", f"before_{field}_cents"):
        if candidate in columns:
            return candidate
    return None


def unreadable(
    table: str,
    holds: Mapping[str, Holds],
    key: Sequence[str],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    decode: Callable[[Sequence[Any]], object],
    codec: Any,
) -> InvalidRow | None:
    """The error for the first of ``rows`` that ``decode`` refuses, or ``None`` when every one decodes."""
    for row in rows:
        try:
            decode(row)
        except Exception as exc:
            found = row_error(table, holds, key, columns, row, codec, exc)
            found.__cause__ = exc
            return found
    return None
