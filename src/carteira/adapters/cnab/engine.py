"""Compiles a :class:`Layout` once into a specialised function that turns record lines into a ReturnRecord.

A layout is data, but interpreting it field by field for every line of a million-record file would
spend most of the time looking things up. So each layout is compiled once: the slices become literal
indices, each field's converter is picked ahead of time, and conversions of raw slices that repeat
(zeros, the same date on every line, the same tariff) are served from small bounded caches. The
generated source is kept on :class:`CompiledLayout` so a failure can be read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

import attrs

from carteira.adapters.cnab.layout import DateFormat, Field, FieldType, Layout, TaxIdKind
from carteira.adapters.cnab.tax_ids import CNPJ_LENGTH, CPF_LENGTH, cnpj_is_valid, cpf_is_valid
from carteira.domain.money import Money
from carteira.domain.title_numbers import normalize_title_number
from carteira.ports.return_files import FieldValue, MovementCategory, ReturnRecord

__all__ = ["BadField", "CompiledLayout", "compile_layout", "convert_field", "field_raw"]

CACHE_ENTRIES_MAX: Final = 4096
"""Per cache: enough for the zeros, dates and tariffs that repeat, small enough to stay bounded; a full
cache is emptied and refilled, so values that stop repeating make room for those that start."""

_EMPTY: Final[Mapping[str, FieldValue]] = MappingProxyType({})


class BadField(Exception):
    """Raised by a compiled builder: ``field`` could not be read from ``raw`` because of ``reason``."""

    def __init__(self, field: str, raw: str, reason: str) -> None:
        self.field = field
        self.raw = raw
        self.reason = reason
        super().__init__(field, raw, reason)


_from_cents = Money.from_cents


def _money_converter(decimals: int) -> Callable[[str, str], Money | None]:
    scale = 10 ** (2 - decimals)

    def convert(raw: str, name: str) -> Money | None:
        # isdecimal, not int() alone: int() also takes ' 12', '+12' and '1_2', which are not CNAB numbers.
        if raw.isdecimal():
            # Digits with 0-2 implied decimals scale to whole cents: from_cents is exact, no rounding to check.
            return _from_cents(int(raw) * scale)
        if raw.isspace() or not raw:
            return None
        raise BadField(name, raw, "is not a number (digits only, implied decimals)")

    return convert


def _date_converter(fmt: DateFormat) -> Callable[[str, str], date | None]:
    def convert(raw: str, name: str) -> date | None:
        if raw.isdecimal():
            if int(raw) == 0:
                return None
            if fmt is DateFormat.YYYYMMDD:
                year, month, day = int(raw[:4]), int(raw[4:6]), int(raw[6:8])
            else:
                day, month = int(raw[:2]), int(raw[2:4])
                year = int(raw[4:]) + (2000 if fmt is DateFormat.DDMMYY else 0)
            try:
                return date(year, month, day)
            except ValueError:
                raise BadField(name, raw, f"is not a real date ({fmt.value})") from None
        if raw.isspace() or not raw:
            return None
        raise BadField(name, raw, f"is not a date ({fmt.value}, digits only)")

    return convert


def _tax_id_converter(kind: TaxIdKind | None, length: int) -> Callable[[str, str], str | None]:
    """Reads ``raw`` = the kind's characters, then the ``length`` digits of the number (just the number
    when ``kind`` is ``None``, the field then being exactly a CPF's or a CNPJ's length).

    The kind picks the width (11 CPF, 14 CNPJ) and the number's rightmost digits of that width are the
    CPF or CNPJ. Any other kind, a blank number, digits left of the width that are not zeros, or wrong
    check digits (all zeros included) give ``None``: only a real CPF or CNPJ may link a payer.
    """
    split = 0 if kind is None else kind.length
    cpf = (-CPF_LENGTH, "0" * (length - CPF_LENGTH), cpf_is_valid)
    cnpj = (-CNPJ_LENGTH, "0" * (length - CNPJ_LENGTH), cnpj_is_valid)
    if kind is None:
        fixed = cpf if length == CPF_LENGTH else cnpj
        checks = {"": fixed}
    else:
        checks = {**dict.fromkeys(kind.cpf, cpf), **dict.fromkeys(kind.cnpj, cnpj)}

    def convert(raw: str, name: str) -> str | None:
        check = checks.get(raw[:split])
        if check is None:  # the bank says the slot holds no CPF or CNPJ: whatever is there does not matter
            return None
        number = raw[split:]
        if number.isdecimal():
            cut, zeros, valid = check
            digits = number[cut:]
            return digits if valid(digits) and number.startswith(zeros) else None
        if number.isspace() or not number:
            return None
        raise BadField(name, number, "is not a number (a CPF or CNPJ, digits only)")

    return convert


class _Cache(dict[str, Any]):
    """Raw slice -> converted value, filled on a miss by ``__missing__`` (so a hit is one subscript).

    Shared by every field of the same kind (a raw slice converts the same way whatever field it is), and
    bounded: when full it is emptied, so values that stop repeating make room for those that start. A bad
    slice raises :class:`BadField` without a field name; the reader finds the field (``diagnose``).
    """

    __slots__ = ("convert",)

    def __init__(self, convert: Callable[[str, str], object]) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, raw: str) -> object:
        value = self.convert(raw, "")
        if len(self) >= CACHE_ENTRIES_MAX:
            self.clear()
        self[raw] = value
        return value


class _CentsCache(_Cache):
    """A cache of money with two implied decimals, the common case: digits are the cents, as they are.

    A miss of digits goes straight to :meth:`Money.from_cents` (the public constructor, exact for an
    ``int``) without the general converter's call; blanks and bad slices go to the general converter.
    """

    __slots__ = ()

    def __missing__(self, raw: str) -> object:
        if raw.isdecimal():
            value: object = _from_cents(int(raw))
        else:
            value = self.convert(raw, "")
        if len(self) >= CACHE_ENTRIES_MAX:
            self.clear()
        self[raw] = value
        return value


class _IntCache(dict[str, int]):
    """Raw money slice -> whole cents as an ``int`` (blank -> 0), for the records' own sums.

    The sums are checked in integers, not ``Decimal``: exact whatever the caller's decimal context, and a
    dictionary hit (the slice's hash is already computed by the ``Money`` cache's lookup) is the cheapest
    way to a number. Only slices the ``Money`` cache already accepted get here, so they are digits or blank.
    """

    __slots__ = ("scale",)

    def __init__(self, decimals: int) -> None:
        super().__init__()
        self.scale = 10 ** (2 - decimals)

    def __missing__(self, raw: str) -> int:
        value = int(raw) * self.scale if raw.isdecimal() else 0
        if len(self) >= CACHE_ENTRIES_MAX:
            self.clear()
        self[raw] = value
        return value


_INT_CACHES: dict[int, _IntCache] = {}


class _Extras(tuple[FieldValue, ...], Mapping[str, FieldValue]):
    """A record's extra fields: a read-only mapping stored as a bare tuple of values.

    Each layout gets its own subclass holding the names (``_names``, ``_index``), so a record pays for a
    small tuple rather than a dict (a third of the memory, and a tenth of the time of building one
    per record).
    """

    __slots__ = ()
    _names: tuple[str, ...] = ()
    _index: Mapping[str, int] = MappingProxyType({})

    def __getitem__(self, key: str) -> FieldValue:  # type: ignore[override]
        return tuple.__getitem__(self, self._index[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(dict(self.items()))

    def __reduce__(self) -> tuple[object, ...]:
        return (dict, (dict(self.items()),))


def _extras_type(names: tuple[str, ...]) -> type[_Extras]:
    index = MappingProxyType({name: position for position, name in enumerate(names)})
    return type("Extras", (_Extras,), {"__slots__": (), "_names": names, "_index": index})


def _integer(raw: str, name: str) -> int | None:
    if raw.isdecimal():
        return int(raw)
    if raw.isspace() or not raw:
        return None
    raise BadField(name, raw, "is not a number (digits only)")


def _percent_converter(decimals: int) -> Callable[[str, str], Decimal | None]:
    def convert(raw: str, name: str) -> Decimal | None:
        if raw.isdecimal():
            # From text, which is exact in any context; scaleb would round to the caller's precision.
            return Decimal(f"{int(raw)}E-{decimals + 2}")
        if raw.isspace() or not raw:
            return None
        raise BadField(name, raw, "is not a number (digits only, implied decimals)")

    return convert


def _sum(*values: Money | None) -> Money | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    total = present[0]
    for value in present[1:]:
        total = total + value
    return total


# Shared by every layout: a raw slice converts the same way whatever layout it came from.
_CACHES: dict[object, _Cache] = {}


def _cache_for(item: Field) -> _Cache:
    if item.type is FieldType.MONEY:
        key: object = (FieldType.MONEY, item.decimals)
        kind = _CentsCache if item.decimals == 2 else _Cache
        return _CACHES.setdefault(key, kind(_money_converter(item.decimals)))
    key = (FieldType.DATE, item.date_format)
    return _CACHES.setdefault(key, _Cache(_date_converter(item.date_format)))


_RECORD_ORDER: Final = (
    "movement_code",
    "category",
    "bank_title_number_raw",
    "bank_title_number",
    "document_number",
    "payer_tax_id",
    "due_date",
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
    "occurrence_date",
    "credit_date",
    "anticipation_id",
    "anticipation_rate",
)

_FIELDS: Final = ("line", "lines", *_RECORD_ORDER, "extra", "flags")
if ReturnRecord._fields != _FIELDS:  # pragma: no cover - a changed record
    raise ImportError("ReturnRecord's fields changed: update engine._RECORD_ORDER")


@attrs.frozen
class CompiledLayout:
    """A layout compiled into ``build``: ``build(line, number)`` for CNAB 400, ``build(t, u, nt, nu)`` for 240.

    ``min_length`` maps each record (``""``, ``"T"``, ``"U"``) to the shortest line that still holds every
    number the layout reads from it (trailing blanks may be stripped, digits may not);
    ``field_record`` says which record each field comes from, to name the right line in an error.
    """

    layout: Layout
    build: Callable[..., ReturnRecord]
    min_length: Mapping[str, int]
    field_record: Mapping[str, str]
    source_code: str

    def diagnose(self, bad: BadField, lines: Mapping[str, str]) -> BadField:
        """Name the field behind ``bad`` (the caches raise without one) by reading the fields in order."""
        if bad.field:
            return bad
        for item in self.layout.fields:
            raw = field_raw(item, lines[item.record])
            try:
                convert_field(item, raw)
            except BadField as found:
                return found
        return bad  # pragma: no cover - the build failed on a field, so one of them fails again


def compile_layout(layout: Layout) -> CompiledLayout:
    """Compile ``layout`` into a specialised record builder (done once per layout and cached by the reader)."""
    paired = layout.format == "cnab240"
    names: dict[str, object] = {
        "_BadField": BadField,
        "_Record": ReturnRecord,
        "_integer": _integer,
        "_sum": _sum,
        "_EMPTY": _EMPTY,
        "_tuple_new": tuple.__new__,
        "_normalize_title": normalize_title_number,
        "_OTHER": MovementCategory.OTHER,
        "_CATEGORIES": dict(layout.movements),
        "_NOFLAGS": (),
    }
    checked = _checked_fields(layout)
    body: list[str] = []
    values: dict[str, str] = {}
    min_length: dict[str, int] = {"T": 8, "U": 8} if paired else {"": 1}
    field_record: dict[str, str] = {}

    def var_of(record: str) -> str:
        return {"T": "t", "U": "u"}.get(record, "s")

    for index, item in enumerate(layout.fields):
        var = f"v{index}"
        line = var_of(item.record)
        cut = f"{line}[{item.start - 1}:{item.end}]"
        field_record[item.name] = item.record
        if item.type is not FieldType.TEXT:
            min_length[item.record] = max(min_length.get(item.record, 0), item.end)
        if item.type is FieldType.TAX_ID:
            if item.kind is not None:
                min_length[item.record] = max(min_length[item.record], item.kind.end)
            body.extend(_tax_id_code(item, var, line, names, index))
        elif item.name in checked:  # keep the raw slice: the sums read it again as whole cents
            body.append(f"    r{index} = {cut}")
            body.extend(_field_code(item, var, f"r{index}", names, index))
        else:
            body.extend(_field_code(item, var, cut, names, index))
        if item.negative_when is not None:
            flag = item.negative_when
            min_length[item.record] = max(min_length.get(item.record, 0), flag.position)
            names[f"_neg{index}"] = frozenset(flag.negative)
            body.append(f"    if {var} is not None and {line}[{flag.position - 1}] in _neg{index}: {var} = -{var}")
        values[item.name] = var
    if "movement_code" in values:
        var = values["movement_code"]
        body.append(f"    if not {var}: raise _BadField('movement_code', {var}, 'is blank')")
        body.append(f"    category = _CATEGORIES.get({var}, _OTHER)")
    else:  # pragma: no cover - the layout reader requires a movement code
        raise AssertionError(layout.id)
    values["category"] = "category"
    for index, derived in enumerate(layout.derived):
        terms = ", ".join(
            f"-{values[t[1:]]} if {values[t[1:]]} is not None else None" if t.startswith("-") else values[t]
            for t in derived.terms
        )
        expression = f"_sum({terms},)"
        if derived.when:
            names[f"_when{index}"] = frozenset(derived.when)
            expression = f"({expression} if category in _when{index} else None)"
        body.append(f"    d{index} = {expression}")
        values[derived.name] = f"d{index}"
    body.extend(_sum_checks_code(layout, values, names))
    raw_title = values["bank_title_number"]
    values["bank_title_number_raw"] = raw_title
    if layout.title_number:
        parts = " + ".join(f"{var_of(p.record)}[{p.start - 1}:{p.start - 1 + p.length}]" for p in layout.title_number)
        body.append(f"    title = _normalize_title({parts})")
    else:
        body.append(f"    title = _normalize_title({raw_title})")
    values["bank_title_number"] = "title"
    extras = [f.name for f in layout.fields if f.name not in _RECORD_ORDER]
    extras += [d.name for d in layout.derived if d.name not in _RECORD_ORDER]
    if extras:
        names["_Extras"] = _extras_type(tuple(extras))
        extra = "_tuple_new(_Extras, (" + ", ".join(values[name] for name in extras) + ",))"
    else:
        extra = "_EMPTY"
    if paired:
        header = "def build(t, u, nt, nu):"
        lines = "nt, (nt, nu)"
    else:
        header = "def build(s, n):"
        lines = "n, (n,)"
    # The record is a named tuple built straight from a tuple of its fields (tuple.__new__): the same value
    # as ReturnRecord(...), without the keyword-argument call of the generated __new__.
    assigned = [*lines.split(", ", 1), *(values.get(name, "None") for name in _RECORD_ORDER), extra, "fl"]
    body.append(f"    return _tuple_new(_Record, ({', '.join(assigned)}))")
    source = "\n".join([header, *body]) + "\n"
    namespace: dict[str, object] = dict(names)
    exec(compile(source, f"<cnab layout {layout.id}>", "exec"), namespace)
    build = namespace["build"]
    if not callable(build):  # pragma: no cover - exec above always defines it
        raise AssertionError(layout.id)
    return CompiledLayout(layout, build, MappingProxyType(min_length), MappingProxyType(field_record), source)


def _checked_fields(layout: Layout) -> frozenset[str]:
    """The positional money fields the layout's sums read, directly or through a derived field."""
    derived = {d.name: d for d in layout.derived}
    found: set[str] = set()
    pending = [c.name for c in layout.sum_checks] + [t.lstrip("-") for c in layout.sum_checks for t in c.terms]
    while pending:
        name = pending.pop()
        if name in derived:
            pending.extend(t.lstrip("-") for t in derived[name].terms)
        else:
            found.add(name)
    return frozenset(found)


def _cents_of(name: str, layout: Layout, names: dict[str, object]) -> str:
    """An expression for field ``name`` in whole cents (blank is 0), read from the raw slices kept by ``build``."""
    for index, item in enumerate(layout.fields):
        if item.name == name:
            names[f"_n{index}"] = _INT_CACHES.setdefault(item.decimals, _IntCache(item.decimals))
            cents = f"_n{index}[r{index}]"
            flag = item.negative_when
            if flag is None:
                return cents
            line = {"T": "t", "U": "u"}.get(item.record, "s")
            return f"(-{cents} if {line}[{flag.position - 1}] in _neg{index} else {cents})"
    for index, derived in enumerate(layout.derived):
        if derived.name == name:
            total = " ".join(_signed(term, layout, names) for term in derived.terms).lstrip("+ ")
            return f"(({total}) if category in _when{index} else 0)" if derived.when else f"({total})"
    raise AssertionError(name)  # pragma: no cover - the layout reader checks every name


def _signed(term: str, layout: Layout, names: dict[str, object]) -> str:
    return f"- {_cents_of(term[1:], layout, names)}" if term.startswith("-") else f"+ {_cents_of(term, layout, names)}"


def _sum_checks_code(layout: Layout, values: Mapping[str, str], names: dict[str, object]) -> list[str]:
    """The lines that flag the record for each sum it does not add up to (``fl``, a tuple of flag names).

    A check costs nothing on records outside its categories and a few dictionary hits on the others;
    the message for a person is written by the reader, from the record's values, for the rare flagged one.
    """
    body = ["    fl = _NOFLAGS"]
    for index, check in enumerate(layout.sum_checks):
        conditions = []
        if check.when:
            names[f"_sw{index}"] = frozenset(check.when)
            conditions.append(f"category in _sw{index}")
        conditions.append(f"{values[check.name]} is not None")
        total = " ".join(_signed(term, layout, names) for term in check.terms).lstrip("+ ")
        conditions.append(f"{_cents_of(check.name, layout, names)} != {total}")
        body.append(f"    if {' and '.join(conditions)}: fl = fl + ({f'sum:{check.name}'!r},)")
    return body


def _tax_id_code(item: Field, var: str, line: str, names: dict[str, object], index: int) -> list[str]:
    """The line that reads a CPF/CNPJ into ``var``: no kind of one costs a slice and a set lookup.

    No cache: a return file rarely brings the same payer twice within a cache's reach, and a miss costs
    more than the direct call. The converter gets the kind and the number as one text (one slice when the
    kind sits right before the number, as in FEBRABAN).
    """
    names[f"_t{index}"] = _tax_id_converter(item.kind, item.length)
    number = f"{line}[{item.start - 1}:{item.end}]"
    kind = item.kind
    if kind is None:
        return [f"    {var} = _t{index}({number}, {item.name!r})"]
    names[f"_k{index}"] = frozenset(kind.cpf + kind.cnpj)
    kind_cut = f"{line}[{kind.start - 1}:{kind.end}]"
    both = f"{line}[{kind.start - 1}:{item.end}]" if kind.end + 1 == item.start else f"{kind_cut} + {number}"
    return [f"    {var} = _t{index}({both}, {item.name!r}) if {kind_cut} in _k{index} else None"]


def _field_code(item: Field, var: str, cut: str, names: dict[str, object], index: int) -> list[str]:
    """The lines that read ``item`` into ``var``: money and dates cost one subscript of a self-filling cache."""
    name = repr(item.name)
    if item.type is FieldType.TEXT:
        if item.name == "bank_title_number":
            return [f"    {var} = {cut}"]
        if item.name == "movement_code":
            return [f"    {var} = {cut}.strip()"]
        return [f"    {var} = {cut}.strip() or None"]
    if item.type is FieldType.INTEGER:
        return [f"    {var} = _integer({cut}, {name})"]
    if item.type is FieldType.PERCENT:
        names[f"_f{index}"] = _percent_converter(item.decimals)
        return [f"    {var} = _f{index}({cut}, {name})"]
    names[f"_c{index}"] = _cache_for(item)
    return [f"    {var} = _c{index}[{cut}]"]


def field_raw(item: Field, line: str) -> str:
    """The raw text ``item`` is converted from in ``line``: its slice, after its kind's for a tax id with one."""
    raw = line[item.start - 1 : item.end]
    if item.kind is not None:
        return line[item.kind.start - 1 : item.kind.end] + raw
    return raw


def convert_field(item: Field, raw: str) -> FieldValue:
    """Convert ``raw`` (see :func:`field_raw`) as ``item`` says, without caches (headers and error diagnosis use it)."""
    if item.type is FieldType.TAX_ID:
        return _tax_id_converter(item.kind, item.length)(raw, item.name)
    if item.type is FieldType.TEXT:
        return raw.strip() or None
    if item.type is FieldType.INTEGER:
        return _integer(raw, item.name)
    if item.type is FieldType.PERCENT:
        return _percent_converter(item.decimals)(raw, item.name)
    if item.type is FieldType.MONEY:
        return _money_converter(item.decimals)(raw, item.name)
    return _date_converter(item.date_format)(raw, item.name)
