"""Write bank return files for tests, demos and docs: what a bank would send back, from a list of title movements.

carteira reads CNAB 240 and CNAB 400 return files; a test of a return batch, a demo of a month, or a
page of the docs needs one that agrees with the installments it made. :func:`write_return_file`
writes it from any :class:`~carteira.adapters.cnab.Layout` (a built-in or your own), placing each
value at the layout's own positions, so whatever the layout reads back is exactly what was written.
It writes what the layout reads and nothing else: fields it does not define are left blank.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

import attrs

from carteira.adapters.cnab import LAYOUTS, DateFormat, Field, FieldType, Layout, TrailerCheck
from carteira.domain.money import Money, in_context
from carteira.errors import InvalidInput
from carteira.ports.return_files import MovementCategory

__all__ = ["TITLES_PER_LOT", "TitleMovement", "write_return_file"]


@attrs.frozen(kw_only=True)
class TitleMovement:
    """One title's movement as a bank reports it: by default a payment of ``paid``.

    ``movement_code`` ``None`` means the layout's first settlement code (``"06"`` for most banks).

    Amounts are :class:`~carteira.domain.Money`; ``None`` leaves the field blank. ``net_credited``
    defaults to what the layout's own sum for it says (``paid`` less ``tariff`` at Banco do Brasil, the
    whole ``paid`` at Caixa or Sicoob), or to ``paid`` less ``tariff`` when it has none. ``extra`` sets any
    other field the layout defines, by name (a text, an int, a Money, a date or a Decimal rate).
    """

    bank_title_number: str
    paid: Money | None = None
    movement_code: str | None = None
    document_number: str | None = None
    due_date: date | None = None
    face_value: Money | None = None
    occurrence_date: date | None = None
    credit_date: date | None = None
    tariff: Money | None = None
    interest_and_fine: Money | None = None
    discount: Money | None = None
    abatement: Money | None = None
    other_credits: Money | None = None
    net_credited: Money | None = None
    anticipation_id: str | None = None
    anticipation_rate: Decimal | None = None
    payer_tax_id: str | None = None
    extra: tuple[tuple[str, object], ...] = ()

    def values(self, layout: Layout) -> dict[str, object]:
        """The values by ``layout``'s field names."""
        values: dict[str, object] = {
            name: getattr(self, name)
            for name in (
                "movement_code", "bank_title_number", "document_number", "due_date", "face_value", "paid",
                "occurrence_date", "credit_date", "tariff", "interest_and_fine", "discount", "abatement",
                "other_credits", "anticipation_id", "anticipation_rate", "payer_tax_id",
            )
        }  # fmt: skip
        net = self.net_credited
        if net is None and self.paid is not None:
            net = _net_as_the_bank_computes_it(layout, values)
        values["net_credited"] = net
        if self.movement_code is None:
            values["movement_code"] = _settlement_code(layout)
        _split_derived(layout, values)
        values.update(self.extra)
        return values


def _split_derived(layout: Layout, values: dict[str, object]) -> None:
    """A value for a field the layout computes from others (Sicredi's juros + multa) goes to its first term.

    Nothing is split when one of the terms has a value of its own (Itaú's paid is net + tariff, both given).
    """
    for derived in layout.derived:
        value = values.get(derived.name)
        names = [term.lstrip("-") for term in derived.terms]
        if value is None or any(values.get(name) is not None for name in names):
            continue
        values.update(dict.fromkeys(names, Money.ZERO))
        values[names[0]] = value


def _net_as_the_bank_computes_it(layout: Layout, values: dict[str, object]) -> Money:
    """``net_credited`` from the layout's own sum for it (decision 0217), or paid less tariff."""
    terms = next((c.terms for c in layout.sum_checks if c.name == "net_credited"), ("paid", "-tariff"))
    net = Money.ZERO
    for term in terms:
        value = values.get(term.lstrip("-"))
        if isinstance(value, Money):
            net = net - value if term.startswith("-") else net + value
    return net


def _trailer_numbers(
    checks: Sequence[TrailerCheck], line: list[str], counts: Mapping[str, int], totals: Mapping[str, int]
) -> None:
    """Write the counts and totals a layout checks in a trailer, as the bank writes them."""
    for check in checks:
        value = counts[check.counts] if check.counts else int(totals.get(check.sums, 0)) // 10 ** (2 - check.decimals)
        _place(line, check.start, f"{value % 10**check.length:0{check.length}d}", "trailer")


def _totals(layout: Layout, movements: Sequence[TitleMovement], names: Sequence[str]) -> dict[str, int]:
    """The cents of each money field ``names`` over ``movements``."""
    totals = dict.fromkeys(names, 0)
    for movement in movements:
        values = movement.values(layout)
        for name in names:
            value = values.get(name)
            if isinstance(value, Money):
                totals[name] += value.cents
    return totals


def _settlement_code(layout: Layout) -> str:
    for code, category in layout.movements:
        if category is MovementCategory.SETTLED:
            return code
    raise InvalidInput(f"layout {layout.id} has no settlement movement code", field="movement_code")


@in_context  # scaleb rounds to the context's precision: the caller's must not decide the file's digits
def _encode(item: Field, value: object) -> str:
    """``value`` as the field's characters, or ``InvalidInput`` when it does not fit."""
    if value is None:
        return " " * item.length
    if item.type is FieldType.MONEY:
        if not isinstance(value, Money):
            raise InvalidInput(f"must be Money, not {type(value).__name__}", field=item.name, raw=repr(value))
        if value < Money.ZERO:
            raise InvalidInput("must not be negative: a return file has no sign here", field=item.name, raw=str(value))
        text = str(int(value.amount.scaleb(item.decimals)))
    elif item.type is FieldType.PERCENT:
        if not isinstance(value, Decimal):
            raise InvalidInput(f"must be a Decimal rate, not {type(value).__name__}", field=item.name)
        text = str(int((value * 100).scaleb(item.decimals)))
    elif item.type is FieldType.DATE:
        if not isinstance(value, date):
            raise InvalidInput(f"must be a date, not {type(value).__name__}", field=item.name, raw=repr(value))
        text = value.strftime(_DATE_FORMATS[item.date_format])
    elif item.type is FieldType.INTEGER:
        text = str(value).zfill(item.length)
    else:
        return str(value).ljust(item.length)
    if not text.isdecimal() or len(text) > item.length:
        raise InvalidInput(f"does not fit {item.length} digits", field=item.name, raw=str(value))
    return text.zfill(item.length)


_DATE_FORMATS = {DateFormat.YYYYMMDD: "%Y%m%d", DateFormat.DDMMYY: "%d%m%y", DateFormat.DDMMYYYY: "%d%m%Y"}


def _place(line: list[str], start: int, text: str, name: str) -> None:
    if start - 1 + len(text) > len(line):
        raise InvalidInput(f"{text!r} runs past the record's end", field=name)
    line[start - 1 : start - 1 + len(text)] = list(text)


def _record(layout: Layout, values: dict[str, object], record: str, line: list[str]) -> str:
    for item in layout.fields:
        if item.record == record and item.name in values:
            if item.type is FieldType.TAX_ID:
                _place_tax_id(line, item, values[item.name])
            else:
                _place(line, item.start, _encode(item, values[item.name]), item.name)
    return "".join(line)


def _place_tax_id(line: list[str], item: Field, value: object) -> None:
    """A CPF (11 digits) or CNPJ (14), zero-filled to the field, with its kind where the layout reads one."""
    if value is None:
        return
    digits = str(value)
    if not digits.isdecimal() or len(digits) not in (11, 14) or len(digits) > item.length:
        raise InvalidInput("must be the 11 digits of a CPF or the 14 of a CNPJ", field=item.name, raw=digits)
    _place(line, item.start, digits.zfill(item.length), item.name)
    if item.kind is not None:
        code = item.kind.cpf[0] if len(digits) == 11 else item.kind.cnpj[0]
        _place(line, item.kind.start, code.rjust(item.kind.length, "0"), f"{item.name}.kind")


def _header(layout: Layout, bank: str, agreement: str, sequence: int, generated_on: date) -> list[str]:
    line = [" "] * layout.record_length
    if layout.format == "cnab400":
        _place(line, 1, "02RETORNO01COBRANCA", "header")
        _place(line, 77, bank, "bank_code")
    else:
        _place(line, 1, f"{bank}00000", "header")
        _place(line, 143, "2", "header")  # 2: a return file (1 would be a remessa)
    wanted = {"bank_code": bank, "agreement": agreement, "file_sequence": sequence, "generated_on": generated_on}
    for item in layout.header:
        if item.name in wanted:
            _place(line, item.start, _encode(item, wanted[item.name]), f"header.{item.name}")
    return line


def write_return_file(
    layout: Layout | str,
    movements: Sequence[TitleMovement],
    *,
    generated_on: date,
    agreement: str = "",
    file_sequence: int = 1,
    bank_code: str | None = None,
) -> bytes:
    """The bytes of a return file in ``layout`` (an id of :data:`~carteira.adapters.cnab.LAYOUTS` or a Layout).

    One detail record per movement (a T and a U segment each in CNAB 240, in one lot), with the header,
    trailers and sequence numbers a bank writes, latin-1 encoded with ``\\n`` line ends.
    ``agreement``, ``file_sequence`` and ``generated_on`` go where the layout's header reads them, so
    two files differing in ``file_sequence`` are two imports and equal ones a duplicate.

    Raises:
        InvalidInput: a layout id that does not exist, or a value that does not fit its field.
    """
    chosen = _layout(layout)
    bank = bank_code or chosen.bank_code or "999"
    header = _header(chosen, bank, agreement, file_sequence, generated_on)
    if chosen.format == "cnab400":
        lines = _cnab400(chosen, bank, header, movements)
    else:
        lines = _cnab240(chosen, bank, header, movements)
    return ("\n".join(lines) + "\n").encode("latin-1")


def _layout(layout: Layout | str) -> Layout:
    if isinstance(layout, Layout):
        return layout
    if layout not in LAYOUTS:
        raise InvalidInput(f"no built-in layout {layout!r}", field="layout", hint=f"one of {', '.join(LAYOUTS)}")
    return LAYOUTS[layout]


def _cnab400(layout: Layout, bank: str, header: list[str], movements: Sequence[TitleMovement]) -> list[str]:
    _place(header, 395, "000001", "header")
    lines = ["".join(header)]
    for number, movement in enumerate(movements, 2):
        line = [" "] * layout.record_length
        _place(line, 1, layout.detail_types[0], "record_type")
        _place(line, 395, f"{number:06d}", "sequence")
        lines.append(_record(layout, movement.values(layout), "", line))
    trailer = [" "] * layout.record_length
    _place(trailer, 1, f"9201{bank}", "trailer")
    counts = {"records": len(lines) + 1, "details": len(movements)}
    totals = _totals(layout, movements, [c.sums for c in layout.trailer_checks if c.sums])
    _trailer_numbers(layout.trailer_checks, trailer, counts, totals)
    _place(trailer, 395, f"{len(lines) + 1:06d}", "trailer")
    return [*lines, "".join(trailer)]


# What FEBRABAN trailers count, written for a CNAB 240 layout of the user's that declares no checks of its own.
_FEBRABAN_LOT_TRAILER = (TrailerCheck(18, 6, counts="records"),)
_FEBRABAN_TRAILER = (TrailerCheck(18, 6, counts="lots"), TrailerCheck(24, 6, counts="records"))

TITLES_PER_LOT = 40_000
"""Titles in one CNAB 240 lot: a lot numbers its segments with five digits, two segments a title."""


def _cnab240(layout: Layout, bank: str, header: list[str], movements: Sequence[TitleMovement]) -> list[str]:
    width = layout.record_length
    lines = ["".join(header)]
    lots = [movements[start : start + TITLES_PER_LOT] for start in range(0, len(movements), TITLES_PER_LOT)] or [[]]
    for lot, titles in enumerate(lots, 1):
        lines.append(f"{bank}{lot:04d}1T0100030".ljust(width))
        for index, movement in enumerate(titles):
            values = movement.values(layout)
            for offset, segment in enumerate(("T", "U"), 1):
                line = [" "] * width
                _place(line, 1, f"{bank}{lot:04d}3{2 * index + offset:05d}{segment} ", "segment")
                lines.append(_record(layout, values, segment, line))
        lot_trailer = list(f"{bank}{lot:04d}5".ljust(width))
        counts = {"records": len(titles) * 2 + 2, "details": len(titles) * 2}
        totals = _totals(layout, titles, [c.sums for c in layout.lot_trailer_checks if c.sums])
        _trailer_numbers(layout.lot_trailer_checks or _FEBRABAN_LOT_TRAILER, lot_trailer, counts, totals)
        lines.append("".join(lot_trailer))
    trailer = list(f"{bank}99999".ljust(width))
    counts = {"records": len(lines) + 1, "details": len(movements) * 2, "lots": len(lots)}
    totals = _totals(layout, movements, [c.sums for c in layout.trailer_checks if c.sums])
    _trailer_numbers(layout.trailer_checks or _FEBRABAN_TRAILER, trailer, counts, totals)
    lines.append("".join(trailer))
    return lines
