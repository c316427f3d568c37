"""Layouts are data: from_dict / from_json / from_toml, to_dict round trips, and errors that name the key."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from carteira.adapters.cnab import LAYOUTS, FieldType, Layout, MovementCategory, TaxIdKind, parse_return
from carteira.domain.money import Money
from carteira.errors import InvalidInput
from tests.adapters.cnab.synthetic import ITAU_400, cnab400, put, title, to_bytes


def toml_text(data: dict[str, Any]) -> str:
    """A minimal TOML writer for layout dicts (tables of scalars, lists and inline tables)."""

    def value(item: object) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, int):
            return str(item)
        if isinstance(item, str):
            return json.dumps(item, ensure_ascii=False)
        if isinstance(item, list):
            return "[" + ", ".join(value(v) for v in item) + "]"
        if isinstance(item, dict):
            return "{" + ", ".join(f"{k} = {value(v)}" for k, v in item.items()) + "}"
        raise TypeError(item)

    top = [f"{k} = {value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    tables = [
        f"[{k}]\n" + "\n".join(f"{name} = {value(v)}" for name, v in table.items())
        for k, table in data.items()
        if isinstance(table, dict)
    ]
    return "\n".join(top) + "\n\n" + "\n\n".join(tables) + "\n"


@pytest.mark.parametrize("layout_id", sorted(LAYOUTS))
def test_to_dict_round_trips_through_dict_json_and_toml(layout_id: str) -> None:
    layout = LAYOUTS[layout_id]
    data = layout.to_dict()
    assert Layout.from_dict(data) == layout
    assert Layout.from_json(json.dumps(data)) == layout
    assert Layout.from_toml(toml_text(data)) == layout
    assert Layout.from_dict(data).to_dict() == data


@pytest.mark.parametrize("layout_id", sorted(LAYOUTS))
def test_every_built_in_layout_gives_what_a_settlement_needs(layout_id: str) -> None:
    layout = LAYOUTS[layout_id]
    for name in ("movement_code", "bank_title_number", "credit_date", "occurrence_date", "face_value"):
        assert layout.field(name) is not None, name
    assert layout.field("paid") is not None or any(d.name == "paid" for d in layout.derived)
    assert layout.category_of("06") in (MovementCategory.SETTLED, MovementCategory.OTHER)
    assert any(category is MovementCategory.SETTLED for _, category in layout.movements)


def test_layouts_are_hashable_values() -> None:
    copy_of = Layout.from_dict(LAYOUTS["itau-400"].to_dict())
    assert hash(copy_of) == hash(LAYOUTS["itau-400"])
    assert copy_of != LAYOUTS["bradesco-400"]


def anticipation_layout() -> Layout:
    data = LAYOUTS["itau-400"].to_dict()
    data["id"] = "itau-400-securitized"
    data["bank_code"] = "341"
    data["fields"]["anticipation_id"] = {"start": 306, "length": 10, "type": "text", "meaning": "lot id"}
    data["fields"]["anticipation_rate"] = {"start": 316, "length": 6, "type": "percent", "decimals": 4}
    return Layout.from_dict(data)


def test_a_user_layout_reads_anticipation_id_and_monthly_rate() -> None:
    layout = anticipation_layout()
    lines = cnab400(ITAU_400, [title(1), title(2)])
    for index in (1, 2):
        buffer = list(lines[index])
        put(buffer, 306, f"LOTE{index:06d}015000")  # 1.5000 % a month
        lines[index] = "".join(buffer)
    result = parse_return(to_bytes(lines), layout)
    assert result.layout_id == "itau-400-securitized"
    assert not result.layout_detected
    assert [r.anticipation_id for r in result.records] == ["LOTE000001", "LOTE000002"]
    assert result.records[0].anticipation_rate == Decimal("0.015")
    assert result.records[0].credit_date == date(2024, 3, 11)
    assert result.records[0].paid == Money("100.01")


def test_a_field_that_is_not_standard_lands_in_extra_with_its_type() -> None:
    data = LAYOUTS["itau-400"].to_dict()
    data["fields"]["sequence"] = {"start": 395, "length": 6, "type": "integer"}
    data["fields"]["posted"] = {"start": 296, "length": 6, "type": "date", "format": "DDMMYY"}
    result = parse_return(to_bytes(cnab400(ITAU_400, [title(1)])), Layout.from_dict(data))
    assert result.records[0].extra["sequence"] == 2
    assert result.records[0].extra["posted"] == date(2024, 3, 11)


def broken(change: Any) -> InvalidInput:
    data = copy.deepcopy(LAYOUTS["bb-240"].to_dict())
    change(data)
    with pytest.raises(InvalidInput) as caught:
        Layout.from_dict(data, source="mine.toml")
    assert caught.value.source == "mine.toml"
    return caught.value


def _set(path: str, value: object) -> Any:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = data
        for key in parents:
            target = target[key]
        target[last] = value

    return change


def _delete(path: str) -> Any:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = data
        for key in parents:
            target = target[key]
        del target[last]

    return change


def _tax_id(*, length: int = 15, kind: dict[str, Any] | None = None) -> dict[str, Any]:
    """A payer_tax_id field at FEBRABAN T 134 with ``kind`` (T 133, 1 CPF, 2 CNPJ by default)."""
    return {"start": 134, "length": length, "type": "tax_id", "record": "T", "kind": kind or {"start": 133}}


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (_set("colour", "blue"), "colour", "not a known key"),
        (_delete("id"), "id", "missing"),
        (_set("id", "Itaú 400"), "id", "lower-case"),
        (_set("format", "cnab150"), "format", "must be one of"),
        (_set("bank_code", "41"), "bank_code", "3-digit"),
        (_delete("fields.credit_date"), "fields.credit_date", "credit date"),
        (_delete("fields.paid"), "fields.paid", "missing"),
        (_set("fields", None), "fields", "must be a table"),
        (_set("fields.paid.start", 0), "fields.paid.start", "position from 1 to 240"),
        (_set("fields.paid.start", "78"), "fields.paid.start", "integer"),
        (_set("fields.paid.length", 200), "fields.paid.length", "must be from 1 to"),
        (_set("fields.paid.type", "float"), "fields.paid.type", "must be one of"),
        (
            _set("fields.paid", {"start": 78, "length": 15, "type": "text", "record": "U"}),
            "fields.paid.type",
            "paid must be a money field",
        ),
        (_set("fields.paid.decimals", 3), "fields.paid.decimals", "from 0 to 2"),
        (_delete("fields.paid.record"), "fields.paid.record", "'T' or 'U'"),
        (_set("fields.paid.colour", 1), "fields.paid.colour", "not a known key"),
        (_set("fields.due_date.format", "MMDDYYYY"), "fields.due_date.format", "must be one of"),
        (_set("fields.due_date.format", "DDMMYY"), "fields.due_date.length", "6 long"),
        (_set("fields.movement_code.format", "DDMMYY"), "fields.movement_code.format", "only date"),
        (_set("fields.document_number.decimals", 2), "fields.document_number.decimals", "only money"),
        (_set("fields.Bad-Name", {"start": 1}), "fields.Bad-Name", "lower-case"),
        (
            _set("fields.category", {"start": 1, "length": 2, "type": "text", "record": "T"}),
            "fields.category",
            "computed",
        ),
        (_set("fields.total", {"sum": ["paid", "nothing"]}), "fields.total.sum", "'nothing'"),
        (_set("fields.total", {"sum": ["paid"], "when": ["paid"]}), "fields.total.when", "categories"),
        (_set("movements.settled", ["06", "02"]), "movements.settled", "already listed"),
        (_set("movements.paid", ["06"]), "movements.paid", "not a known key"),
        (_set("records.detail", ["1"]), "records.detail", "record type '3'"),
        (_set("header.agreement.type", "money"), "header.agreement.type", "text"),
        (_set("header.colour", {}), "header.colour", "not a known key"),
        (_set("bank_title_number", {"normalized": [{"start": 38, "length": 10}]}), "normalized[0].record", "'T'"),
        (
            _set("fields.paid.negative_when", {"position": 500, "values": ["1"]}),
            "fields.paid.negative_when.position",
            "from 1 to 240",
        ),
        (
            _set("fields.payer_tax_id", {"start": 134, "length": 15, "type": "text", "record": "T"}),
            "fields.payer_tax_id.type",
            "payer_tax_id must be a tax_id field",
        ),
        (
            _set("fields.payer_tax_id", {"start": 134, "length": 15, "type": "tax_id", "record": "T"}),
            "fields.payer_tax_id.length",
            "without a kind is a CPF (11 digits) or a CNPJ (14)",
        ),
        (
            _set("fields.document_number.kind", {"start": 133}),
            "fields.document_number.kind",
            "only tax_id fields have a kind",
        ),
        (_set("fields.payer_tax_id", _tax_id(kind={"start": 140})), "fields.payer_tax_id.kind", "overlaps"),
        (_set("fields.payer_tax_id", _tax_id(kind={"start": 240, "length": 2})), "payer_tax_id.kind", "1 to 240"),
        (_set("fields.payer_tax_id", _tax_id(kind={"start": 133, "cpf": ["01"]})), "kind.cpf", "1 character"),
        (_set("fields.payer_tax_id", _tax_id(kind={"start": 133, "cnpj": ["1"]})), "kind.cnpj", "also means CPF"),
        (_set("fields.payer_tax_id", _tax_id(kind={"start": 133, "cpf": [], "cnpj": []})), "kind", "must list"),
        (_set("fields.payer_tax_id", _tax_id(kind={"start": 133, "colour": 1})), "kind.colour", "not a known key"),
        (_set("fields.payer_tax_id", _tax_id(length=12)), "fields.payer_tax_id.length", "at least 14"),
        (
            _set("fields.payer_tax_id", _tax_id(length=10, kind={"start": 133, "cnpj": []})),
            "fields.payer_tax_id.length",
            "at least 11 to hold a CPF",
        ),
        (_set("fields.payer_tax_id", _tax_id(kind={"start": "133"})), "payer_tax_id.kind.start", "integer"),
    ],
)
def test_a_wrong_key_is_named(change: Any, field: str, reason: str) -> None:
    error = broken(change)
    assert error.field.endswith(field)
    assert reason in error.reason


def test_a_cpf_only_kind_needs_room_for_a_cpf_only() -> None:
    data = copy.deepcopy(LAYOUTS["bb-240"].to_dict())
    data["fields"]["payer_tax_id"] = _tax_id(length=12, kind={"start": 133, "cnpj": []})
    item = Layout.from_dict(data).field("payer_tax_id")
    assert item is not None
    assert item.kind == TaxIdKind(133, 1, ("1",), ())


def test_cnab_400_fields_have_no_segment() -> None:
    data = LAYOUTS["itau-400"].to_dict()
    data["fields"]["paid_extra"] = {"start": 1, "length": 2, "type": "money", "record": "T"}
    with pytest.raises(InvalidInput) as caught:
        Layout.from_dict(data)
    assert caught.value.field == "fields.paid_extra.record"


def test_bad_json_and_bad_toml_are_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught_json:
        Layout.from_json("{not json", source="x.json")
    assert (caught_json.value.field, caught_json.value.source) == ("(document)", "x.json")
    with pytest.raises(InvalidInput) as caught_toml:
        Layout.from_toml("id = = 1", source="x.toml")
    assert caught_toml.value.field == "(document)"
    with pytest.raises(InvalidInput):
        Layout.from_json("[1, 2]")


def test_a_minimal_user_layout_from_toml() -> None:
    layout = Layout.from_toml(
        """
        id = "my-bank-400"
        format = "cnab400"
        bank_code = "341"

        [movements]
        settled = ["06"]

        [fields]
        movement_code = {start = 109, length = 2, type = "text"}
        bank_title_number = {start = 63, length = 8, type = "text"}
        paid = {start = 254, length = 13, type = "money"}
        credit_date = {start = 296, length = 6, type = "date", format = "DDMMYY"}
        """
    )
    assert layout.name == "my-bank-400"
    assert layout.field("paid") is not None
    assert layout.field("credit_date").type is FieldType.DATE  # type: ignore[union-attr]
    record = parse_return(to_bytes(cnab400(ITAU_400, [title(7)])), layout).records[0]
    assert record.paid == Money("97.57")  # 254-266 in this synthetic Itaú line is the net amount
    assert record.category is MovementCategory.SETTLED
    assert record.face_value is None
