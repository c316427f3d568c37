"""The layout model: a CNAB return layout as data (SPEC B1).

A :class:`Layout` says which lines are detail records and, for each field, where it sits, what type it
is and what it means. Layouts are plain data: :meth:`Layout.from_dict`, :meth:`Layout.from_json` and
:meth:`Layout.from_toml` read them, :meth:`Layout.to_dict` writes them back, and every mistake in one
raises :class:`~carteira.errors.InvalidInput` whose ``field`` is the dotted key that is wrong
(``fields.paid.start``).
"""

from __future__ import annotations

import enum
import json
import re
import tomllib
from collections.abc import Mapping
from typing import Any, Final

import attrs

from carteira.adapters.cnab.tax_ids import CNPJ_LENGTH, CPF_LENGTH
from carteira.errors import InvalidInput
from carteira.ports.return_files import MovementCategory

__all__ = [
    "DateFormat",
    "DerivedField",
    "Field",
    "FieldType",
    "Layout",
    "SignFlag",
    "Slice",
    "SumCheck",
    "TaxIdKind",
    "TrailerCheck",
]

RECORD_LENGTH: Final = {"cnab240": 240, "cnab400": 400}
"""The record length of each supported format."""

PAIRED_SEGMENTS: Final = ("T", "U")
"""The CNAB 240 segments a title is read from; a T is always immediately followed by its U."""


class FieldType(enum.Enum):
    """How a field's characters become a value."""

    TEXT = "text"
    """Characters as they are, blanks stripped; ``None`` when blank."""
    INTEGER = "integer"
    """Digits only; ``None`` when blank."""
    MONEY = "money"
    """Digits with ``decimals`` implied decimal places (``000000000034400`` is 344.00); ``None`` when blank."""
    DATE = "date"
    """A date in ``format``; all zeros or all blanks mean no date (``None``)."""
    PERCENT = "percent"
    """A percentage with ``decimals`` implied decimal places, given back as a fraction (``0150`` -> 0.015)."""
    TAX_ID = "tax_id"
    """A CPF or CNPJ, digits only, its kind told by :class:`TaxIdKind`; ``None`` when blank, zero or not valid."""


class DateFormat(enum.Enum):
    """The date formats CNAB files use."""

    DDMMYYYY = "DDMMYYYY"
    DDMMYY = "DDMMYY"
    """Two-digit years are 20YY."""
    YYYYMMDD = "YYYYMMDD"

    @property
    def length(self) -> int:
        """How many characters a date in this format takes."""
        return len(self.value)


@attrs.frozen
class SignFlag:
    """A one-character flag elsewhere on the line that makes a money field negative (BB 400 319 = ``1``)."""

    position: int
    negative: tuple[str, ...]


@attrs.frozen
class TaxIdKind:
    """Where a tax-id field says what it holds, and the values that mean CPF and CNPJ.

    FEBRABAN segment T 133 is the payer's inscription type (``1`` CPF, ``2`` CNPJ, ``0`` none) for the
    number at 134-148. A CPF is the 11 rightmost digits of the number, a CNPJ the 14 rightmost; any
    other value of the kind means no number. ``start`` is 1-based, on the same line (segment) as the
    number.
    """

    start: int
    length: int = 1
    cpf: tuple[str, ...] = ("1",)
    cnpj: tuple[str, ...] = ("2",)

    @property
    def end(self) -> int:
        """The 1-based position of the kind's last character."""
        return self.start + self.length - 1


@attrs.frozen
class Field:
    """One positional field: 1-based inclusive ``start``, ``length`` characters, converted per ``type``.

    ``record`` is the CNAB 240 segment the field is read from (``"T"`` or ``"U"``); CNAB 400 fields
    leave it empty. ``kind`` says where a ``tax_id`` field's CPF/CNPJ kind is (``None``: the field is
    exactly 11 or 14 digits long and that length is its kind). ``meaning`` is free text for people.
    """

    name: str
    start: int
    length: int
    type: FieldType
    record: str = ""
    decimals: int = 2
    date_format: DateFormat = DateFormat.DDMMYYYY
    negative_when: SignFlag | None = None
    kind: TaxIdKind | None = None
    meaning: str = ""

    @property
    def end(self) -> int:
        """The 1-based position of the field's last character."""
        return self.start + self.length - 1


@attrs.frozen
class DerivedField:
    """A money field computed from others: the sum of ``terms`` (a leading ``-`` subtracts).

    When ``when`` is not empty the value is computed only for records of those categories and is
    ``None`` otherwise (Itaú 400 gives the net amount; the paid amount is net + tariff, on settlements).
    """

    name: str
    terms: tuple[str, ...]
    when: tuple[MovementCategory, ...] = ()
    meaning: str = ""


@attrs.frozen
class Slice:
    """A stretch of a record: 1-based ``start``, ``length`` characters, in ``record`` (CNAB 240 segment)."""

    start: int
    length: int
    record: str = ""


COUNTS: Final = ("records", "details", "lots")
"""What a trailer count can count: every record in its scope (the file, or the lot with its header and
trailer), the detail records in it (CNAB 240: every segment), or the lots of the file (CNAB 240)."""


@attrs.frozen
class TrailerCheck:
    """A number a trailer gives about the file, which the reader checks: a count, or a total of a money field.

    ``counts`` is one of :data:`COUNTS`, or ``sums`` names a money field of the layout whose values over
    the detail records (blank as zero) the trailer totals, with ``decimals`` implied places. Exactly one
    of the two is set. A trailer that disagrees is a warning, never a refusal: banks' trailers often
    describe more than the file (decision 0217).
    """

    start: int
    length: int
    counts: str = ""
    sums: str = ""
    decimals: int = 2
    meaning: str = ""

    @property
    def end(self) -> int:
        """The 1-based position of the number's last character."""
        return self.start + self.length - 1


@attrs.frozen
class SumCheck:
    """One of a record's own sums: ``name`` should equal the sum of ``terms`` (a leading ``-`` subtracts).

    Checked on records of the ``when`` categories (every record when empty) whose ``name`` is not blank;
    blank terms count as zero. A record that does not add up is flagged ``"sum:<name>"`` and warned about,
    not refused: real payers pay other amounts than the boleto's (decision 0217).
    """

    name: str
    terms: tuple[str, ...]
    when: tuple[MovementCategory, ...] = ()
    meaning: str = ""


# The meanings a record carries, with the field type each one must have. Anything else goes to ``extra``.
STANDARD_FIELDS: Final[Mapping[str, FieldType]] = {
    "movement_code": FieldType.TEXT,
    "bank_title_number": FieldType.TEXT,
    "document_number": FieldType.TEXT,
    "payer_tax_id": FieldType.TAX_ID,
    "due_date": FieldType.DATE,
    "face_value": FieldType.MONEY,
    "paid": FieldType.MONEY,
    "net_credited": FieldType.MONEY,
    "tariff": FieldType.MONEY,
    "interest_and_fine": FieldType.MONEY,
    "discount": FieldType.MONEY,
    "abatement": FieldType.MONEY,
    "iof": FieldType.MONEY,
    "other_expenses": FieldType.MONEY,
    "other_credits": FieldType.MONEY,
    "occurrence_date": FieldType.DATE,
    "credit_date": FieldType.DATE,
    "anticipation_id": FieldType.TEXT,
    "anticipation_rate": FieldType.PERCENT,
}
REQUIRED_FIELDS: Final = ("movement_code", "bank_title_number", "paid", "credit_date")
HEADER_FIELDS: Final[Mapping[str, FieldType]] = {
    "bank_code": FieldType.TEXT,
    "agreement": FieldType.TEXT,
    "file_sequence": FieldType.INTEGER,
    "generated_on": FieldType.DATE,
}
_RESERVED: Final = frozenset({"line", "lines", "category", "bank_title_number_raw", "extra", "is_settlement"})
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}\Z")
_TOP_KEYS: Final = (
    "id",
    "name",
    "format",
    "bank_code",
    "description",
    "records",
    "movements",
    "bank_title_number",
    "header",
    "fields",
    "checks",
)
_CHECK_KEYS: Final = ("sequence", "trailer", "lot_trailer", "sums")
_CATEGORY_KEYS: Final = {c.value: c for c in MovementCategory if c is not MovementCategory.OTHER}


def _movement_pairs(
    value: Mapping[str, MovementCategory] | tuple[tuple[str, MovementCategory], ...],
) -> tuple[tuple[str, MovementCategory], ...]:
    pairs = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(code), MovementCategory(category)) for code, category in pairs))


@attrs.frozen
class Layout:
    """A CNAB return layout: the file's format and bank, which lines are details, and every field.

    ``detail_types`` are the record-type characters of detail lines (CNAB 400 position 1: ``"1"``, or
    ``"7"`` for BB CBR643; CNAB 240 details are always record type ``3``, segments T and U paired, other
    segments skipped). ``skip_types`` are CNAB 400 record types to ignore (PIX or message records).
    ``movements`` pairs each movement code with its category (a mapping is accepted too); codes not
    listed are ``OTHER``. Layouts are hashable and compare by value.
    ``title_number`` lists the stretches the normalized bank title number is built from (empty: the raw
    field itself). Build one with :meth:`from_dict`, :meth:`from_json` or :meth:`from_toml`.

    The checks the file carries, all optional (decision 0217): ``sequence`` is where each record's
    sequence number sits (CNAB 400: the record's number in the file, the header being 1; CNAB 240: the
    detail's number in its lot, the first being 1); ``trailer_checks`` and ``lot_trailer_checks`` the
    counts and totals of the file trailer and the CNAB 240 lot trailers; ``sum_checks`` the sums each
    record must add up to.
    """

    id: str
    name: str
    format: str
    bank_code: str
    fields: tuple[Field, ...]
    header: tuple[Field, ...] = ()
    derived: tuple[DerivedField, ...] = ()
    detail_types: tuple[str, ...] = ("1",)
    skip_types: tuple[str, ...] = ()
    movements: tuple[tuple[str, MovementCategory], ...] = attrs.field(default=(), converter=_movement_pairs)
    title_number: tuple[Slice, ...] = ()
    description: str = ""
    sequence: Slice | None = None
    trailer_checks: tuple[TrailerCheck, ...] = ()
    lot_trailer_checks: tuple[TrailerCheck, ...] = ()
    sum_checks: tuple[SumCheck, ...] = ()

    @property
    def record_length(self) -> int:
        """240 or 400."""
        return RECORD_LENGTH[self.format]

    def category_of(self, code: str) -> MovementCategory:
        """The category of movement ``code`` in this layout (``OTHER`` when the layout does not list it)."""
        return dict(self.movements).get(code, MovementCategory.OTHER)

    def field(self, name: str) -> Field | None:
        """The positional field called ``name``, or ``None``."""
        for item in self.fields:
            if item.name == name:
                return item
        return None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "layout") -> Layout:
        """Build a layout from plain data (the shape :meth:`to_dict` returns).

        Raises:
            InvalidInput: a key is unknown, missing or wrong; ``field`` is its dotted path.
        """
        return _LayoutReader(source).read(data)

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "layout.json") -> Layout:
        """Build a layout from JSON text; bad JSON or a bad key raises ``InvalidInput``."""
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"is not valid JSON: {exc}", field="(document)", source=source) from None
        return cls.from_dict(_expect_table(data, "(document)", source), source=source)

    @classmethod
    def from_toml(cls, text: str | bytes, *, source: str = "layout.toml") -> Layout:
        """Build a layout from TOML text (read with ``tomllib``); bad TOML or a bad key raises ``InvalidInput``."""
        try:
            decoded = text.decode("utf-8") if isinstance(text, bytes) else text
            data = tomllib.loads(decoded)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"is not valid TOML: {exc}", field="(document)", source=source) from None
        return cls.from_dict(data, source=source)

    def to_dict(self) -> dict[str, Any]:
        """The layout as plain data that :meth:`from_dict` (and JSON or TOML) reads back unchanged."""
        fields: dict[str, Any] = {}
        for item in self.fields:
            fields[item.name] = _field_to_dict(item)
        for derived in self.derived:
            fields[derived.name] = _sum_to_dict(derived.terms, derived.when, derived.meaning)
        movements: dict[str, list[str]] = {}
        for code, category in self.movements:
            movements.setdefault(category.value, []).append(code)
        records: dict[str, Any] = {"detail": list(self.detail_types)}
        if self.skip_types:
            records["skip"] = list(self.skip_types)
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "format": self.format,
            "bank_code": self.bank_code,
            "description": self.description,
            "records": records,
            "movements": movements,
            "header": {item.name: _field_to_dict(item) for item in self.header},
            "fields": fields,
        }
        if self.title_number:
            data["bank_title_number"] = {
                "normalized": [
                    {"start": s.start, "length": s.length, **({"record": s.record} if s.record else {})}
                    for s in self.title_number
                ]
            }
        checks = self._checks_to_dict()
        if checks:
            data["checks"] = checks
        return data

    def _checks_to_dict(self) -> dict[str, Any]:
        checks: dict[str, Any] = {}
        if self.sequence is not None:
            checks["sequence"] = {"start": self.sequence.start, "length": self.sequence.length}
        if self.trailer_checks:
            checks["trailer"] = [_trailer_check_to_dict(c) for c in self.trailer_checks]
        if self.lot_trailer_checks:
            checks["lot_trailer"] = [_trailer_check_to_dict(c) for c in self.lot_trailer_checks]
        if self.sum_checks:
            checks["sums"] = {c.name: _sum_to_dict(c.terms, c.when, c.meaning) for c in self.sum_checks}
        return checks


def _sum_to_dict(terms: tuple[str, ...], when: tuple[MovementCategory, ...], meaning: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"sum": list(terms)}
    if when:
        entry["when"] = [c.value for c in when]
    if meaning:
        entry["meaning"] = meaning
    return entry


def _trailer_check_to_dict(check: TrailerCheck) -> dict[str, Any]:
    entry: dict[str, Any] = {"start": check.start, "length": check.length}
    if check.counts:
        entry["counts"] = check.counts
    else:
        entry["sums"] = check.sums
        entry["decimals"] = check.decimals
    if check.meaning:
        entry["meaning"] = check.meaning
    return entry


def _field_to_dict(item: Field) -> dict[str, Any]:
    entry: dict[str, Any] = {"start": item.start, "length": item.length, "type": item.type.value}
    if item.record:
        entry["record"] = item.record
    if item.type in (FieldType.MONEY, FieldType.PERCENT):
        entry["decimals"] = item.decimals
    if item.type is FieldType.DATE:
        entry["format"] = item.date_format.value
    if item.negative_when is not None:
        entry["negative_when"] = {
            "position": item.negative_when.position,
            "values": list(item.negative_when.negative),
        }
    if item.kind is not None:
        entry["kind"] = {
            "start": item.kind.start,
            "length": item.kind.length,
            "cpf": list(item.kind.cpf),
            "cnpj": list(item.kind.cnpj),
        }
    if item.meaning:
        entry["meaning"] = item.meaning
    return entry


def _expect_table(value: object, path: str, source: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput(f"must be a table (mapping), not {type(value).__name__}", field=path, source=source)
    for key in value:
        if not isinstance(key, str):
            raise InvalidInput(f"has a key that is not text: {key!r}", field=path, source=source)
    return value


class _LayoutReader:
    """Reads one layout document, naming the dotted key of the first mistake it finds."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, reason: str, raw: object = None) -> InvalidInput:
        return InvalidInput(reason, field=path, source=self.source, raw=None if raw is None else repr(raw))

    def known_keys(self, table: Mapping[str, Any], path: str, allowed: tuple[str, ...]) -> None:
        for key in table:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                raise self.fail(where, f"is not a known key (known: {', '.join(allowed)})")

    def text(self, table: Mapping[str, Any], key: str, path: str, *, default: str | None = None) -> str:
        where = f"{path}.{key}" if path else key
        if key not in table:
            if default is None:
                raise self.fail(where, "is missing")
            return default
        value = table[key]
        if not isinstance(value, str):
            raise self.fail(where, f"must be text, not {type(value).__name__}", value)
        return value

    def integer(self, table: Mapping[str, Any], key: str, path: str, *, default: int | None = None) -> int:
        where = f"{path}.{key}"
        if key not in table:
            if default is None:
                raise self.fail(where, "is missing")
            return default
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, f"must be an integer, not {type(value).__name__}", value)
        return value

    def text_list(self, table: Mapping[str, Any], key: str, path: str, *, default: tuple[str, ...]) -> tuple[str, ...]:
        where = f"{path}.{key}"
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(where, "must be a list of text", value)
        return tuple(value)

    def read(self, data: Mapping[str, Any]) -> Layout:
        data = _expect_table(data, "(document)", self.source)
        self.known_keys(data, "", _TOP_KEYS)
        layout_id = self.text(data, "id", "")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", layout_id):
            raise self.fail("id", "must be lower-case letters, digits and dashes (e.g. 'itau-400')", layout_id)
        fmt = self.text(data, "format", "")
        if fmt not in RECORD_LENGTH:
            raise self.fail("format", f"must be one of {', '.join(RECORD_LENGTH)}", fmt)
        bank_code = self.text(data, "bank_code", "")
        if not re.fullmatch(r"(\d{3})?", bank_code):
            raise self.fail("bank_code", "must be the 3-digit bank code (e.g. '341'), or '' for any bank", bank_code)
        length = RECORD_LENGTH[fmt]
        detail_types, skip_types = self.records(data.get("records", {}), fmt)
        if "fields" not in data:
            raise self.fail("fields", "is missing: a layout must give at least " + ", ".join(REQUIRED_FIELDS))
        fields, derived = self.fields(data["fields"], fmt, length)
        header = self.header(data.get("header", {}), length)
        movements = self.movements(data.get("movements", {}))
        title_number = self.title_number(data.get("bank_title_number", {}), fmt, length)
        checks = _ChecksReader(self, fmt, length, fields, derived).read(data.get("checks", {}))
        return Layout(
            id=layout_id,
            name=self.text(data, "name", "", default=layout_id),
            format=fmt,
            bank_code=bank_code,
            fields=fields,
            header=header,
            derived=derived,
            detail_types=detail_types,
            skip_types=skip_types,
            movements=movements,
            title_number=title_number,
            description=self.text(data, "description", "", default=""),
            **checks,
        )

    def records(self, value: object, fmt: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        table = _expect_table(value, "records", self.source)
        self.known_keys(table, "records", ("detail", "skip"))
        if fmt == "cnab240":
            detail = self.text_list(table, "detail", "records", default=("3",))
            if detail != ("3",):
                raise self.fail("records.detail", "CNAB 240 details are record type '3' (segments T and U)", detail)
            if "skip" in table:
                raise self.fail("records.skip", "CNAB 240 skips every segment but T and U by itself")
            return detail, ()
        detail = self.text_list(table, "detail", "records", default=("1",))
        skip = self.text_list(table, "skip", "records", default=())
        for path, values in (("records.detail", detail), ("records.skip", skip)):
            for value_ in values:
                if len(value_) != 1 or value_ in "09":
                    raise self.fail(path, "each record type is one character other than '0' and '9'", value_)
        if not detail:
            raise self.fail("records.detail", "must name at least one detail record type")
        if set(detail) & set(skip):
            raise self.fail("records.skip", "names a record type that is also a detail type", skip)
        return detail, skip

    def one_field(self, name: str, value: object, path: str, fmt: str, length: int) -> Field:
        table = _expect_table(value, path, self.source)
        self.known_keys(
            table,
            path,
            ("start", "length", "type", "record", "decimals", "format", "negative_when", "kind", "meaning"),
        )
        start = self.integer(table, "start", path)
        size = self.integer(table, "length", path)
        if not 1 <= start <= length:
            raise self.fail(f"{path}.start", f"must be a position from 1 to {length}", start)
        if not 1 <= size <= length - start + 1:
            raise self.fail(
                f"{path}.length", f"must be from 1 to {length - start + 1} (ends by position {length})", size
            )
        type_text = self.text(table, "type", path)
        try:
            field_type = FieldType(type_text)
        except ValueError:
            raise self.fail(
                f"{path}.type", f"must be one of {', '.join(t.value for t in FieldType)}", type_text
            ) from None
        record = self.text(table, "record", path, default="")
        if fmt == "cnab240" and record not in PAIRED_SEGMENTS:
            raise self.fail(f"{path}.record", "a CNAB 240 field must say its segment: 'T' or 'U'", record or None)
        if fmt == "cnab400" and record:
            raise self.fail(f"{path}.record", "CNAB 400 fields have no segment; leave 'record' out", record)
        decimals = self.integer(table, "decimals", path, default=2)
        if "decimals" in table and field_type not in (FieldType.MONEY, FieldType.PERCENT):
            raise self.fail(f"{path}.decimals", "only money and percent fields have decimals")
        most = min(2 if field_type is FieldType.MONEY else 6, size)
        if field_type in (FieldType.MONEY, FieldType.PERCENT) and not 0 <= decimals <= most:
            raise self.fail(f"{path}.decimals", f"must be from 0 to {most}", decimals)
        date_format = DateFormat.DDMMYYYY if size == 8 else DateFormat.DDMMYY
        if field_type is FieldType.DATE:
            format_text = self.text(table, "format", path, default=date_format.value)
            try:
                date_format = DateFormat(format_text)
            except ValueError:
                raise self.fail(
                    f"{path}.format", f"must be one of {', '.join(f.value for f in DateFormat)}", format_text
                ) from None
            if date_format.length != size:
                raise self.fail(f"{path}.length", f"a {date_format.value} date is {date_format.length} long", size)
        elif "format" in table:
            raise self.fail(f"{path}.format", "only date fields have a format")
        negative_when = None
        if "negative_when" in table:
            if field_type is not FieldType.MONEY:
                raise self.fail(f"{path}.negative_when", "only money fields can be made negative by a flag")
            flag = _expect_table(table["negative_when"], f"{path}.negative_when", self.source)
            self.known_keys(flag, f"{path}.negative_when", ("position", "values"))
            position = self.integer(flag, "position", f"{path}.negative_when")
            if not 1 <= position <= length:
                raise self.fail(f"{path}.negative_when.position", f"must be a position from 1 to {length}", position)
            values = self.text_list(flag, "values", f"{path}.negative_when", default=())
            if not values or any(len(v) != 1 for v in values):
                raise self.fail(f"{path}.negative_when.values", "must list one-character flag values", values)
            negative_when = SignFlag(position, values)
        tax_kind = self.tax_id_kind(table, path, field_type, start=start, size=size, length=length)
        return Field(
            name=name,
            start=start,
            length=size,
            type=field_type,
            record=record,
            decimals=decimals,
            date_format=date_format,
            negative_when=negative_when,
            kind=tax_kind,
            meaning=self.text(table, "meaning", path, default=""),
        )

    def tax_id_kind(
        self, table: Mapping[str, Any], path: str, field_type: FieldType, *, start: int, size: int, length: int
    ) -> TaxIdKind | None:
        """The ``kind`` of a tax-id field (``None`` when the field's own length, 11 or 14, is its kind)."""
        if field_type is not FieldType.TAX_ID:
            if "kind" in table:
                raise self.fail(f"{path}.kind", "only tax_id fields have a kind")
            return None
        if "kind" not in table:
            if size not in (CPF_LENGTH, CNPJ_LENGTH):
                raise self.fail(
                    f"{path}.length",
                    f"a tax_id field without a kind is a CPF ({CPF_LENGTH} digits) or a CNPJ ({CNPJ_LENGTH}); "
                    "give 'kind' to read either from a longer field",
                    size,
                )
            return None
        where = f"{path}.kind"
        spec = _expect_table(table["kind"], where, self.source)
        self.known_keys(spec, where, ("start", "length", "cpf", "cnpj"))
        at = self.integer(spec, "start", where)
        width = self.integer(spec, "length", where, default=1)
        if not 1 <= at <= length or not 1 <= width <= length - at + 1:
            raise self.fail(where, f"must lie within positions 1 to {length}", {"start": at, "length": width})
        if at <= start + size - 1 and start <= at + width - 1:
            raise self.fail(where, f"overlaps the number itself (positions {start} to {start + size - 1})")
        cpf = self.text_list(spec, "cpf", where, default=("1",))
        cnpj = self.text_list(spec, "cnpj", where, default=("2",))
        for key, values in (("cpf", cpf), ("cnpj", cnpj)):
            if any(len(value) != width for value in values):
                raise self.fail(f"{where}.{key}", f"each value is {width} character(s) long, as the kind", values)
        if not cpf and not cnpj:
            raise self.fail(where, "must list the values that mean CPF, CNPJ or both")
        if set(cpf) & set(cnpj):
            raise self.fail(f"{where}.cnpj", "names a value that also means CPF", cnpj)
        widest = CNPJ_LENGTH if cnpj else CPF_LENGTH
        if size < widest:
            raise self.fail(f"{path}.length", f"must be at least {widest} to hold a {'CNPJ' if cnpj else 'CPF'}", size)
        return TaxIdKind(at, width, cpf, cnpj)

    def fields(self, value: object, fmt: str, length: int) -> tuple[tuple[Field, ...], tuple[DerivedField, ...]]:
        table = _expect_table(value, "fields", self.source)
        fields: list[Field] = []
        derived_specs: list[tuple[str, Mapping[str, Any]]] = []
        for name, spec in table.items():
            path = f"fields.{name}"
            if not _NAME.match(name):
                raise self.fail(path, "a field name is lower-case letters, digits and underscores", name)
            if name in _RESERVED:
                raise self.fail(path, f"{name} is computed by the reader; name the field otherwise", name)
            spec_table = _expect_table(spec, path, self.source)
            if "sum" in spec_table:
                derived_specs.append((name, spec_table))
                continue
            item = self.one_field(name, spec_table, path, fmt, length)
            wanted = STANDARD_FIELDS.get(name)
            if wanted is not None and item.type is not wanted:
                raise self.fail(f"{path}.type", f"{name} must be a {wanted.value} field", item.type.value)
            fields.append(item)
        by_name = {f.name: f for f in fields}
        derived: list[DerivedField] = []
        for name, spec_table in derived_specs:
            path = f"fields.{name}"
            self.known_keys(spec_table, path, ("sum", "when", "meaning"))
            terms = self.text_list(spec_table, "sum", path, default=())
            if not terms:
                raise self.fail(f"{path}.sum", "must list the money fields to add (prefix '-' to subtract)")
            for term in terms:
                base = by_name.get(term.removeprefix("-"))
                if base is None or base.type is not FieldType.MONEY:
                    raise self.fail(f"{path}.sum", f"{term!r} is not a money field of this layout", term)
            if name in STANDARD_FIELDS and STANDARD_FIELDS[name] is not FieldType.MONEY:
                raise self.fail(path, f"{name} is a {STANDARD_FIELDS[name].value} field; only money can be summed")
            when = self.categories(spec_table, path)
            derived.append(DerivedField(name, terms, when, self.text(spec_table, "meaning", path, default="")))
        for name in REQUIRED_FIELDS:
            if name not in by_name and not any(d.name == name for d in derived):
                hint = " (the credit date, data de movimento, SPEC B1)" if name == "credit_date" else ""
                raise self.fail(f"fields.{name}", f"is missing: every layout must give it{hint}")
        return tuple(fields), tuple(derived)

    def categories(self, table: Mapping[str, Any], path: str) -> tuple[MovementCategory, ...]:
        """The ``when`` list of a sum: movement categories by their values."""
        when: list[MovementCategory] = []
        for category in self.text_list(table, "when", path, default=()):
            if category not in _CATEGORY_KEYS:
                raise self.fail(f"{path}.when", f"must list categories among {', '.join(_CATEGORY_KEYS)}", category)
            when.append(_CATEGORY_KEYS[category])
        return tuple(when)

    def header(self, value: object, length: int) -> tuple[Field, ...]:
        table = _expect_table(value, "header", self.source)
        self.known_keys(table, "header", tuple(HEADER_FIELDS))
        result = []
        for name, spec in table.items():
            path = f"header.{name}"
            spec_table = _expect_table(spec, path, self.source)
            if "record" in spec_table:
                raise self.fail(f"{path}.record", "header fields are read from the file header; leave 'record' out")
            item = self.one_field(name, spec_table, path, "cnab400", length)
            if item.type is not HEADER_FIELDS[name]:
                raise self.fail(f"{path}.type", f"{name} must be a {HEADER_FIELDS[name].value} field", item.type.value)
            result.append(item)
        return tuple(result)

    def movements(self, value: object) -> dict[str, MovementCategory]:
        table = _expect_table(value, "movements", self.source)
        self.known_keys(table, "movements", tuple(_CATEGORY_KEYS))
        result: dict[str, MovementCategory] = {}
        for key in table:
            category = _CATEGORY_KEYS[key]
            for code in self.text_list(table, key, "movements", default=()):
                if not code.strip():
                    raise self.fail(f"movements.{key}", "a movement code cannot be blank", code)
                if code in result:
                    raise self.fail(
                        f"movements.{key}", f"code {code!r} is already listed under {result[code].value}", code
                    )
                result[code] = category
        return result

    def title_number(self, value: object, fmt: str, length: int) -> tuple[Slice, ...]:
        table = _expect_table(value, "bank_title_number", self.source)
        self.known_keys(table, "bank_title_number", ("normalized",))
        items = table.get("normalized", [])
        if not isinstance(items, list):
            raise self.fail("bank_title_number.normalized", "must be a list of {start, length} tables", items)
        result = []
        for index, item in enumerate(items):
            path = f"bank_title_number.normalized[{index}]"
            spec = _expect_table(item, path, self.source)
            self.known_keys(spec, path, ("start", "length", "record"))
            start = self.integer(spec, "start", path)
            size = self.integer(spec, "length", path)
            if not 1 <= start <= length or not 1 <= size <= length - start + 1:
                raise self.fail(path, f"must lie within positions 1 to {length}", {"start": start, "length": size})
            record = self.text(spec, "record", path, default="")
            if fmt == "cnab240" and record not in PAIRED_SEGMENTS:
                raise self.fail(f"{path}.record", "must be 'T' or 'U' in a CNAB 240 layout", record or None)
            if fmt == "cnab400" and record:
                raise self.fail(f"{path}.record", "CNAB 400 has no segments; leave 'record' out", record)
            result.append(Slice(start, size, record))
        return tuple(result)


class _ChecksReader:
    """Reads a layout's ``checks`` table (decision 0217), naming the dotted key of the first mistake."""

    def __init__(
        self, reader: _LayoutReader, fmt: str, length: int, fields: tuple[Field, ...], derived: tuple[DerivedField, ...]
    ) -> None:
        self.reader = reader
        self.fmt = fmt
        self.length = length
        self.money = {f.name for f in fields if f.type is FieldType.MONEY} | {d.name for d in derived}

    def read(self, value: object) -> dict[str, Any]:
        table = _expect_table(value, "checks", self.reader.source)
        self.reader.known_keys(table, "checks", _CHECK_KEYS)
        if "lot_trailer" in table and self.fmt != "cnab240":
            raise self.reader.fail("checks.lot_trailer", "only CNAB 240 files have lot trailers")
        return {
            "sequence": self.sequence(table["sequence"]) if "sequence" in table else None,
            "trailer_checks": self.trailer(table.get("trailer", []), "checks.trailer"),
            "lot_trailer_checks": self.trailer(table.get("lot_trailer", []), "checks.lot_trailer"),
            "sum_checks": self.sums(table.get("sums", {})),
        }

    def span(self, spec: Mapping[str, Any], path: str) -> tuple[int, int]:
        start = self.reader.integer(spec, "start", path)
        size = self.reader.integer(spec, "length", path)
        if not 1 <= start <= self.length:
            raise self.reader.fail(f"{path}.start", f"must be a position from 1 to {self.length}", start)
        if not 1 <= size <= min(self.length - start + 1, 18):
            most = min(self.length - start + 1, 18)
            raise self.reader.fail(f"{path}.length", f"must be from 1 to {most} (a number within the record)", size)
        return start, size

    def sequence(self, value: object) -> Slice:
        spec = _expect_table(value, "checks.sequence", self.reader.source)
        self.reader.known_keys(spec, "checks.sequence", ("start", "length"))
        return Slice(*self.span(spec, "checks.sequence"))

    def trailer(self, value: object, path: str) -> tuple[TrailerCheck, ...]:
        if not isinstance(value, list):
            raise self.reader.fail(path, "must be a list of {start, length, counts or sums} tables", value)
        return tuple(self.one_trailer_check(item, f"{path}[{index}]") for index, item in enumerate(value))

    def one_trailer_check(self, value: object, path: str) -> TrailerCheck:
        spec = _expect_table(value, path, self.reader.source)
        self.reader.known_keys(spec, path, ("start", "length", "counts", "sums", "decimals", "meaning"))
        start, size = self.span(spec, path)
        meaning = self.reader.text(spec, "meaning", path, default="")
        if ("counts" in spec) == ("sums" in spec):
            raise self.reader.fail(path, "must give either 'counts' (what it counts) or 'sums' (a money field)")
        if "counts" in spec:
            counts = self.reader.text(spec, "counts", path)
            allowed = COUNTS if path.startswith("checks.trailer") and self.fmt == "cnab240" else COUNTS[:2]
            if counts not in allowed:
                raise self.reader.fail(f"{path}.counts", f"must be one of {', '.join(allowed)}", counts)
            if "decimals" in spec:
                raise self.reader.fail(f"{path}.decimals", "only a total ('sums') has decimals")
            return TrailerCheck(start, size, counts=counts, meaning=meaning)
        sums = self.reader.text(spec, "sums", path)
        if sums not in self.money:
            raise self.reader.fail(f"{path}.sums", "must name a money field of this layout", sums)
        decimals = self.reader.integer(spec, "decimals", path, default=2)
        if not 0 <= decimals <= 2:
            raise self.reader.fail(f"{path}.decimals", "must be from 0 to 2", decimals)
        return TrailerCheck(start, size, sums=sums, decimals=decimals, meaning=meaning)

    def sums(self, value: object) -> tuple[SumCheck, ...]:
        table = _expect_table(value, "checks.sums", self.reader.source)
        checks = []
        for name, spec in table.items():
            path = f"checks.sums.{name}"
            if name not in self.money:
                raise self.reader.fail(path, "must name a money field of this layout", name)
            spec_table = _expect_table(spec, path, self.reader.source)
            self.reader.known_keys(spec_table, path, ("sum", "when", "meaning"))
            terms = self.reader.text_list(spec_table, "sum", path, default=())
            if not terms:
                raise self.reader.fail(f"{path}.sum", "must list the money fields it adds up to ('-' subtracts)")
            for term in terms:
                base = term.removeprefix("-")
                if base not in self.money or base == name:
                    raise self.reader.fail(f"{path}.sum", f"{term!r} is not another money field of this layout", term)
            when = self.reader.categories(spec_table, path)
            checks.append(SumCheck(name, terms, when, self.reader.text(spec_table, "meaning", path, default="")))
        return tuple(checks)
