"""Small, layout-correct synthetic return files for the tests that must not depend on the shared fixtures.

Each file is written from a layout's own field positions, so it is correct by construction for that
layout; a test then breaks one thing at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from carteira.adapters.cnab import LAYOUTS, DateFormat, Field, FieldType, Layout


def put(buffer: list[str], start: int, text: str) -> None:
    """Write ``text`` into ``buffer`` at 1-based ``start``."""
    buffer[start - 1 : start - 1 + len(text)] = list(text)


def encode(item: Field, value: object) -> str:
    """``value`` as the field's characters: digits for money (cents), integers, dates and tax ids; text left-aligned."""
    if value is None:
        return " " * item.length
    if item.type is FieldType.TAX_ID:
        assert isinstance(value, str)
        return value.zfill(item.length)
    if item.type is FieldType.MONEY:
        assert isinstance(value, int)
        return str(value).zfill(item.length)
    if item.type is FieldType.DATE:
        assert isinstance(value, date)
        if item.date_format is DateFormat.YYYYMMDD:
            return value.strftime("%Y%m%d")
        if item.date_format is DateFormat.DDMMYY:
            return value.strftime("%d%m%y")
        return value.strftime("%d%m%Y")
    if item.type in (FieldType.INTEGER, FieldType.PERCENT):
        return str(value).zfill(item.length)
    return str(value).ljust(item.length)[: item.length]


def title(n: int) -> dict[str, object]:
    """The values of a plausible paid title number ``n`` (money in cents)."""
    return {
        "movement_code": "06",
        "bank_title_number": f"{n:08d}",
        "document_number": f"DOC{n}",
        "due_date": date(2024, 3, 10),
        "face_value": 10_000 + n,
        "paid": 10_000 + n,
        "net_credited": 9_750 + n,
        "tariff": 250,
        "interest_and_fine": 0,
        "discount": 0,
        "abatement": 0,
        "iof": 0,
        "other_expenses": 0,
        "other_credits": 0,
        "occurrence_date": date(2024, 3, 8),
        "credit_date": date(2024, 3, 11),
    }


def _record(layout: Layout, values: Mapping[str, object], record: str, prefix: str) -> str:
    buffer = [" "] * layout.record_length
    put(buffer, 1, prefix)
    for item in layout.fields:
        if item.record == record and item.name in values:
            value = values[item.name]
            put(buffer, item.start, encode(item, value))
            if item.kind is not None and isinstance(value, str):
                # A CPF is 11 digits, a CNPJ 14: the kind says which, as the bank writes it.
                put(buffer, item.kind.start, (item.kind.cpf if len(value) == 11 else item.kind.cnpj)[0])
    return "".join(buffer)


def cnab400(layout: Layout, titles: Sequence[Mapping[str, object]], *, bank: str | None = None) -> list[str]:
    """The lines of a CNAB 400 return file for ``layout`` holding ``titles``."""
    bank = bank or layout.bank_code
    header = [" "] * 400
    put(header, 1, "02RETORNO01COBRANCA")
    put(header, 77, bank)
    put(header, 95, "080324")
    put(header, 395, "000001")
    lines = ["".join(header)]
    for index, values in enumerate(titles, 2):
        line = list(_record(layout, values, "", layout.detail_types[0]))
        put(line, 395, f"{index:06d}")
        lines.append("".join(line))
    trailer = [" "] * 400
    put(trailer, 1, f"9201{bank}")
    for check in layout.trailer_checks:  # the counts and totals the layout checks, as the bank writes them
        if check.counts:
            value = len(titles) if check.counts == "details" else len(lines) + 1
        else:
            value = sum(int(str(t.get(check.sums) or 0)) for t in titles)
        put(trailer, check.start, str(value).zfill(check.length))
    put(trailer, 395, f"{len(lines) + 1:06d}")
    lines.append("".join(trailer))
    return lines


def cnab240(layout: Layout, titles: Sequence[Mapping[str, object]], *, bank: str = "001") -> list[str]:
    """The lines of a CNAB 240 return file for ``layout`` (one lot) holding ``titles``."""
    header = [" "] * 240
    put(header, 1, f"{bank}00000")
    put(header, 143, "208032024120000000123040")
    lines = ["".join(header), f"{bank}00011T0100030".ljust(240)]
    for index, values in enumerate(titles):
        lines.append(_record(layout, values, "T", f"{bank}00013{2 * index + 1:05d}T "))
        lines.append(_record(layout, values, "U", f"{bank}00013{2 * index + 2:05d}U "))
    details = len(titles) * 2
    counts = {"records": details + 2, "details": details}
    lot_trailer = list(f"{bank}00015".ljust(240))
    for check in layout.lot_trailer_checks:
        put(lot_trailer, check.start, str(counts[check.counts]).zfill(check.length))
    lines.append("".join(lot_trailer))
    lines.append(f"{bank}99999         000001{len(lines) + 1:06d}".ljust(240))
    return lines


def to_bytes(lines: Sequence[str], newline: str = "\n") -> bytes:
    """The file's bytes, latin-1 as banks write them."""
    return (newline.join(lines) + newline).encode("latin-1")


ITAU_400 = LAYOUTS["itau-400"]
BB_240 = LAYOUTS["bb-240"]


def itau_file(count: int = 3) -> list[str]:
    """A valid Itaú CNAB 400 file of ``count`` paid titles."""
    return cnab400(ITAU_400, [title(n) for n in range(1, count + 1)])


def bb240_file(count: int = 3) -> list[str]:
    """A valid Banco do Brasil CNAB 240 file of ``count`` paid titles."""
    return cnab240(BB_240, [title(n) for n in range(1, count + 1)])
