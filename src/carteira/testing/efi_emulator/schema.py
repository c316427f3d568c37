"""Request-body validation as Efí does it (reference §4): the first broken rule wins, named by a JSON pointer.

Every function takes the raw JSON value and the pointer it sits at, and returns a plain, checked copy.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import attrs

from carteira.testing.efi_emulator.documents import cnpj_is_valid, cpf_is_valid
from carteira.testing.efi_emulator.refusals import invalid, rule, unknown_property
from carteira.testing.efi_emulator.switches import Switches

DATE_PATTERN = re.compile(r"^[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
BIRTH_PATTERN = re.compile(r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
NAME_PATTERN = re.compile(r"^[ ]*(.+[ ]+)+.+[ ]*$")
PHONE_PATTERN = re.compile(r"^[1-9]{2}9?[0-9]{8}$")
ZIPCODE_PATTERN = re.compile(r"^[0-9]{8}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
UFS = frozenset(
    {
        "AC",
        "AL",
        "AP",
        "AM",
        "BA",
        "CE",
        "DF",
        "ES",
        "GO",
        "MA",
        "MT",
        "MS",
        "MG",
        "PA",
        "PB",
        "PR",
        "PE",
        "PI",
        "RJ",
        "RN",
        "RS",
        "RO",
        "RR",
        "SC",
        "SP",
        "SE",
        "TO",
    }
)
TEXT_MAX = 255
FINE_MAX = 1000  # hundredths of a percent: 10 %
INTEREST_MAX = 330  # thousandths of a percent: 0.33 %
WRITE_OFF_DAYS_MAX = 120
PERCENT_MAX = 10000  # hundredths of a percent: 100 %
VALUE_FLOOR_CENTS = 500  # R$ 5,00 after discount (4600523)


@attrs.frozen
class Rules:
    """What validation depends on besides the body: the emulator's date and switches."""

    today: date
    switches: Switches


def obj(value: Any, pointer: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """`value` as a JSON object holding only `allowed` keys and every `required` one."""
    if not isinstance(value, dict):
        raise invalid(pointer or "/", "O valor deve ser um objeto.")
    for key in value:
        if key not in allowed:
            raise unknown_property(f"{pointer}/{key}")
    for key in required:
        if key not in value:
            raise invalid(f"{pointer}/{key}", "Propriedade obrigatória não informada.")
    return value


def integer(value: Any, pointer: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """`value` as a JSON integer (never a float or a boolean) within the bounds."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(pointer, "O valor deve ser um número inteiro.")
    if minimum is not None and value < minimum:
        raise invalid(pointer, f"O valor deve ser maior ou igual a {minimum}.")
    if maximum is not None and value > maximum:
        raise invalid(pointer, f"O valor deve ser menor ou igual a {maximum}.")
    return value


def text(value: Any, pointer: str, *, max_len: int = TEXT_MAX, pattern: re.Pattern[str] | None = None) -> str:
    """`value` as a non-empty string of at most `max_len` characters matching `pattern`."""
    if not isinstance(value, str):
        raise invalid(pointer, "O valor deve ser uma string.")
    if pattern is not None and not pattern.match(value):
        raise invalid(pointer, f"O valor não corresponde ao formato {pattern.pattern}.")
    if not 1 <= len(value) <= max_len:
        raise invalid(pointer, f"O tamanho deve estar entre 1 e {max_len} caracteres.")
    return value


def nullable_text(value: Any, pointer: str) -> str | None:
    """`value` as a string of at most 255 characters, or None."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > TEXT_MAX:
        raise invalid(pointer, f"O valor deve ser uma string de até {TEXT_MAX} caracteres ou null.")
    return value


def calendar_date(value: Any, pointer: str, pattern: re.Pattern[str] = DATE_PATTERN) -> date:
    """`value` as a YYYY-MM-DD string naming a real day."""
    raw = text(value, pointer, pattern=pattern)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise invalid(pointer, "A data informada não existe.") from None


def add_months(first: date, months: int, overflow: str) -> date:
    """`first` plus `months`, anchored on `first`'s day; days 29-31 clamp or roll into the next month."""
    index = first.month - 1 + months
    year, month = first.year + index // 12, index % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - date(year, month, 1)).days
    if first.day <= last:
        return date(year, month, first.day)
    if overflow == "clamp":
        return date(year, month, last)
    return date.fromordinal(date(year, month, last).toordinal() + first.day - last)


def due_date(value: Any, pointer: str, rules: Rules) -> date:
    """A due date: well formed (3500034), not in the past (4600007), not too far ahead (4600414)."""
    due = calendar_date(value, pointer)
    earliest_ok = due >= rules.today if rules.switches.due_date_today_allowed else due > rules.today
    if not earliest_ok:
        raise rule(4600007, f"A data de vencimento {due.isoformat()} é inválida ou anterior à data atual.")
    if due > add_months(rules.today, rules.switches.due_date_max_months, "clamp"):
        raise rule(4600414, f"A data de vencimento {due.isoformat()} ultrapassa o limite permitido.")
    return due


def items(value: Any, pointer: str, switches: Switches) -> list[dict[str, Any]]:
    """The `items` array: at least one `{name, value, amount}` in integer cents."""
    if not isinstance(value, list) or not value:
        raise invalid(pointer, "Informe ao menos um item.")
    checked = []
    for index, raw in enumerate(value):
        at = f"{pointer}/{index}"
        item = obj(raw, at, ("name", "value", "amount"), ("name", "value"))
        floor = None if switches.negative_item_values else 0
        checked.append(
            {
                "name": text(item["name"], f"{at}/name"),
                "value": integer(item["value"], f"{at}/value", floor),
                "amount": integer(item.get("amount", 1), f"{at}/amount", 1),
            }
        )
    return checked


def shippings(value: Any, pointer: str) -> list[dict[str, Any]]:
    """The optional `shippings` array of `{name, value}`."""
    if not isinstance(value, list):
        raise invalid(pointer, "O valor deve ser uma lista.")
    checked = []
    for index, raw in enumerate(value):
        at = f"{pointer}/{index}"
        shipping = obj(raw, at, ("name", "value"), ("name", "value"))
        checked.append(
            {"name": text(shipping["name"], f"{at}/name"), "value": integer(shipping["value"], f"{at}/value", 0)}
        )
    return checked


def metadata(value: Any, pointer: str) -> dict[str, str | None]:
    """`{custom_id?, notification_url?}`, each a string of at most 255 characters or null."""
    raw = obj(value, pointer, ("custom_id", "notification_url"))
    return {key: nullable_text(raw[key], f"{pointer}/{key}") for key in ("custom_id", "notification_url") if key in raw}


def items_total(checked_items: list[dict[str, Any]], checked_shippings: list[dict[str, Any]]) -> int:
    """Σ value × amount over the items, plus every shipping, in cents."""
    return int(sum(i["value"] * i["amount"] for i in checked_items) + sum(s["value"] for s in checked_shippings))


def _document(value: Any, pointer: str, digits: int, rules: Rules) -> str:
    number = text(value, pointer, pattern=re.compile(rf"^[0-9]{{{digits}}}$"))
    valid = cpf_is_valid if digits == 11 else cnpj_is_valid
    if rules.switches.verify_check_digits and not valid(number):
        raise invalid(pointer, f"O {'CPF' if digits == 11 else 'CNPJ'} informado é inválido.")
    return number


def _address(value: Any, pointer: str) -> dict[str, Any]:
    fields = ("street", "number", "neighborhood", "zipcode", "city", "state")
    raw = obj(value, pointer, (*fields, "complement"), fields)
    checked: dict[str, Any] = {
        key: text(raw[key], f"{pointer}/{key}") for key in ("street", "number", "neighborhood", "city")
    }
    checked["zipcode"] = text(raw["zipcode"], f"{pointer}/zipcode", pattern=ZIPCODE_PATTERN)
    if raw["state"] not in UFS:
        raise invalid(f"{pointer}/state", "Informe uma UF válida.")
    checked["state"] = raw["state"]
    if "complement" in raw:
        checked["complement"] = nullable_text(raw["complement"], f"{pointer}/complement")
    return checked


def customer(value: Any, pointer: str, rules: Rules) -> dict[str, Any]:
    """The payer: name + CPF for a person, or `juridical_person` for a company; optional contact fields."""
    allowed = ("name", "cpf", "email", "phone_number", "birth", "address", "juridical_person")
    raw = obj(value, pointer, allowed)
    checked: dict[str, Any] = {}
    if "juridical_person" in raw:
        at = f"{pointer}/juridical_person"
        company = obj(raw["juridical_person"], at, ("corporate_name", "cnpj"), ("corporate_name", "cnpj"))
        checked["juridical_person"] = {
            "corporate_name": text(company["corporate_name"], f"{at}/corporate_name"),
            "cnpj": _document(company["cnpj"], f"{at}/cnpj", 14, rules),
        }
    else:
        for key in ("name", "cpf"):
            if key not in raw:
                raise invalid(f"{pointer}/{key}", "Propriedade obrigatória não informada.")
    if "name" in raw:
        checked["name"] = text(raw["name"], f"{pointer}/name", pattern=NAME_PATTERN)
    if "cpf" in raw:
        checked["cpf"] = _document(raw["cpf"], f"{pointer}/cpf", 11, rules)
    if "email" in raw:
        checked["email"] = text(raw["email"], f"{pointer}/email", pattern=EMAIL_PATTERN)
    if "phone_number" in raw:
        checked["phone_number"] = text(raw["phone_number"], f"{pointer}/phone_number", pattern=PHONE_PATTERN)
    elif rules.switches.phone_number_required:
        raise invalid(f"{pointer}/phone_number", "Propriedade obrigatória não informada.")
    if "birth" in raw:
        checked["birth"] = calendar_date(raw["birth"], f"{pointer}/birth", BIRTH_PATTERN).isoformat()
    if "address" in raw:
        checked["address"] = _address(raw["address"], f"{pointer}/address")
    return checked


def payer_document(checked_customer: dict[str, Any]) -> str:
    """The CPF or CNPJ a checked customer pays under."""
    company = checked_customer.get("juridical_person")
    return str(company["cnpj"]) if company else str(checked_customer["cpf"])


def configurations(value: Any, pointer: str, switches: Switches, *, billet: bool) -> dict[str, Any]:
    """Fine (0-1000), interest (0-330, bare integer = daily) and, for a boleto, days_to_write_off (0-120)."""
    allowed = ("fine", "interest", "days_to_write_off") if billet else ("fine", "interest")
    raw = obj(value, pointer, allowed)
    checked: dict[str, Any] = {"fine": integer(raw.get("fine", 0), f"{pointer}/fine", 0, FINE_MAX)}
    interest = raw.get("interest", 0)
    if isinstance(interest, dict):
        at = f"{pointer}/interest"
        obj(interest, at, ("value", "type"), ("value", "type"))
        if interest["type"] not in ("daily", "monthly"):
            raise invalid(f"{at}/type", "O valor deve ser daily ou monthly.")
        cap = INTEREST_MAX if interest["type"] == "daily" else switches.interest_monthly_max
        checked["interest"] = integer(interest["value"], f"{at}/value", 0, cap)
        checked["interest_type"] = interest["type"]
    else:
        checked["interest"] = integer(interest, f"{pointer}/interest", 0, INTEREST_MAX)
        checked["interest_type"] = "daily"
    if billet:
        days = raw.get("days_to_write_off", switches.default_days_to_write_off)
        checked["days_to_write_off"] = integer(days, f"{pointer}/days_to_write_off", 0, WRITE_OFF_DAYS_MAX)
    return checked


def discount(value: Any, pointer: str, *, conditional: bool) -> dict[str, Any]:
    """`{type: currency|percentage, value}` (cents or hundredths of a percent), plus `until_date` if conditional."""
    keys = ("type", "value", "until_date") if conditional else ("type", "value")
    raw = obj(value, pointer, keys, keys)
    if raw["type"] not in ("currency", "percentage"):
        raise invalid(f"{pointer}/type", "O valor deve ser currency ou percentage.")
    maximum = PERCENT_MAX if raw["type"] == "percentage" else None
    checked: dict[str, Any] = {"type": raw["type"], "value": integer(raw["value"], f"{pointer}/value", 0, maximum)}
    if conditional:
        checked["until_date"] = calendar_date(raw["until_date"], f"{pointer}/until_date").isoformat()
    return checked


def message(value: Any, pointer: str, switches: Switches) -> str:
    """Up to four lines of at most `message_line_max` characters."""
    width = switches.message_line_max
    pattern = re.compile(rf"^[^\n]{{0,{width}}}(\n[^\n]{{0,{width}}}){{0,3}}$")
    if not isinstance(value, str) or not pattern.match(value):
        raise invalid(pointer, f"A mensagem deve ter no máximo 4 linhas de {width} caracteres.")
    return value


def after_discount(total: int, checked_discount: dict[str, Any] | None) -> int:
    """What is left of `total` cents after an unconditional discount (a percentage rounds half up)."""
    if checked_discount is None:
        return total
    if checked_discount["type"] == "currency":
        return total - int(checked_discount["value"])
    return total - (total * int(checked_discount["value"]) + 5000) // 10000


def value_floor(total_after_discount: int) -> None:
    """4600523 when the amount left to pay is under R$ 5,00."""
    if total_after_discount < VALUE_FLOOR_CENTS:
        raise rule(4600523, "O valor total da cobrança, já aplicado o desconto, deve ser de no mínimo R$ 5,00.")


def billet(value: Any, pointer: str, rules: Rules) -> dict[str, Any]:
    """`payment.banking_billet`: due date, payer, configurations, discounts and message."""
    keys = ("expire_at", "customer", "configurations", "discount", "conditional_discount", "message")
    raw = obj(value, pointer, keys, ("expire_at", "customer"))
    checked: dict[str, Any] = {
        "expire_at": due_date(raw["expire_at"], f"{pointer}/expire_at", rules),
        "customer": customer(raw["customer"], f"{pointer}/customer", rules),
        "configurations": configurations(
            raw.get("configurations", {}), f"{pointer}/configurations", rules.switches, billet=True
        ),
        "discount": None,
        "conditional_discount": None,
        "message": None,
    }
    if "discount" in raw:
        checked["discount"] = discount(raw["discount"], f"{pointer}/discount", conditional=False)
    if "conditional_discount" in raw:
        checked["conditional_discount"] = discount(
            raw["conditional_discount"], f"{pointer}/conditional_discount", conditional=True
        )
    if "message" in raw:
        checked["message"] = message(raw["message"], f"{pointer}/message", rules.switches)
    return checked


def payment(value: Any, rules: Rules) -> dict[str, Any]:
    """The `payment` object: only `banking_billet` is emulated (card and Pix flows are out of scope)."""
    raw = obj(value, "/payment", ("banking_billet", "credit_card"), ())
    if "banking_billet" not in raw:
        raise invalid("/payment/banking_billet", "O emulador só modela pagamento por boleto (banking_billet).")
    return billet(raw["banking_billet"], "/payment/banking_billet", rules)


def charge_body(value: Any, rules: Rules, *, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """`POST /charge` (and the common part of one-step): items, optional shippings and metadata."""
    raw = obj(value, "", ("items", "shippings", "metadata", *extra), ("items", *extra))
    checked: dict[str, Any] = {
        "items": items(raw["items"], "/items", rules.switches),
        "shippings": shippings(raw["shippings"], "/shippings") if "shippings" in raw else [],
        "metadata": metadata(raw["metadata"], "/metadata") if "metadata" in raw else {},
    }
    checked["total"] = items_total(checked["items"], checked["shippings"])
    return checked


def carnet_body(value: Any, rules: Rules) -> dict[str, Any]:
    """`POST /carnet`: items, payer, first due date, repeats (3500041 / 4600059), split_items and the rest."""
    keys = (
        "items",
        "customer",
        "expire_at",
        "repeats",
        "split_items",
        "configurations",
        "discount",
        "conditional_discount",
        "message",
        "metadata",
    )
    raw = obj(value, "", keys, ("items", "customer", "expire_at", "repeats"))
    repeats = integer(raw["repeats"], "/repeats")
    if repeats < rules.switches.repeats_min:
        raise rule(3500041, f"O número de parcelas (repeats) deve ser no mínimo {rules.switches.repeats_min}.")
    if repeats > rules.switches.repeats_max:
        raise rule(4600059, f"O carnê não pode ter mais de {rules.switches.repeats_max} parcelas.")
    split = raw.get("split_items", False)
    if not isinstance(split, bool):
        raise invalid("/split_items", "O valor deve ser booleano.")
    checked: dict[str, Any] = {
        "items": items(raw["items"], "/items", rules.switches),
        "customer": customer(raw["customer"], "/customer", rules),
        "expire_at": due_date(raw["expire_at"], "/expire_at", rules),
        "repeats": repeats,
        "split_items": split,
        "configurations": configurations(
            raw.get("configurations", {}), "/configurations", rules.switches, billet=False
        ),
        "discount": discount(raw["discount"], "/discount", conditional=False) if "discount" in raw else None,
        "conditional_discount": (
            discount(raw["conditional_discount"], "/conditional_discount", conditional=True)
            if "conditional_discount" in raw
            else None
        ),
        "message": message(raw["message"], "/message", rules.switches) if "message" in raw else None,
        "metadata": metadata(raw["metadata"], "/metadata") if "metadata" in raw else {},
    }
    checked["total"] = items_total(checked["items"], [])
    return checked


def parcel_values(total: int, repeats: int, *, split: bool, remainder: str) -> list[int]:
    """Each parcel's value: the full total per parcel, or the total split with the leftover cents on one parcel."""
    if not split:
        return [total] * repeats
    share, left = divmod(total, repeats)
    values = [share] * repeats
    values[0 if remainder == "first" else -1] += left
    return values
