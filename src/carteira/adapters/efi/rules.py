"""Efí's rules checked locally, before anything is sent (SPEC G2, G4).

A request Efí would refuse for its content (a one-word name, a CPF with wrong check digits, a
total under R$ 5,00, a due date that is not in the future, a fine Efí cannot express) is refused
here with :class:`~carteira.errors.GatewayValidationError` naming the request's field
(``payer.tax_id``, ``due``, ...), with ``code`` and ``status`` left ``None`` to tell it from a
refusal that came back from Efí. What can be sent after an adjustment (a phone in another format
is left out; a monthly interest rate is rounded to Efí's daily unit) is sent, and the adjustment is
reported in words on the result.

:class:`carteira.testing.fake_gateway.FakeGateway` applies the same functions, so it is no kinder
than Efí.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import attrs

from carteira.domain.carnet import CarnetLimits
from carteira.domain.money import Money, in_context
from carteira.errors import GatewayValidationError, InvalidInput, InvalidType
from carteira.ports.gateway import Address, BilletRequest, CarnetRequest, Item, Payer

__all__ = [
    "EFI_CARNET_LIMITS",
    "FINE_UNITS_MAX",
    "INTEREST_UNITS_MAX",
    "REPEATS_CEILING",
    "REPEATS_MAX",
    "REPEATS_MIN",
    "TOTAL_MIN",
    "CheckedCharge",
    "CheckedPayer",
    "check_billet",
    "check_carnet",
    "check_email",
    "check_limits",
    "check_new_due",
    "efi_id",
    "fine_units",
    "interest_units",
    "parcel_number",
    "phone_digits",
    "tax_id_digits",
]

TOTAL_MIN = Money("5.00")
"""Efí refuses a charge whose total is under R$ 5,00 (code 4600523)."""
TERMS_FLOOR = Money("10.00")
"""Under R$ 10,00 Efí silently applies no fine or interest."""
FINE_UNITS_MAX = 1000
"""Efí's fine is in hundredths of a percent, at most 1000 (10 %)."""
INTEREST_UNITS_MAX = 330
"""Efí's interest is daily, in thousandths of a percent, at most 330 (0.33 % a day)."""
REPEATS_MIN = 2
"""Fewest parcels of a carnet (Efí code 3500041)."""
REPEATS_MAX = 12
"""Most parcels of a carnet (Efí code 4600059)."""
EFI_CARNET_LIMITS = CarnetLimits(min_parcels=REPEATS_MIN, max_parcels=REPEATS_MAX)
"""The carnet limits an ``EfiGateway`` applies unless given others: 2 to 12 parcels, as Efí's error codes say."""
REPEATS_CEILING = 24
"""No ``EfiGateway`` is configured for more: Efí's 2024 docs allow ``repeats`` up to 24 at the most."""
DAYS_TO_WRITE_OFF_MAX = 120
"""Most days after the due date before Efí writes a billet off."""
TEXT_MAX = 255
MESSAGE_LINES_MAX = 4
MESSAGE_LINE_MAX = 100

_FINE_SCALE = Decimal(10_000)
_INTEREST_SCALE = Decimal(100_000)
_DAYS_PER_MONTH = Decimal(30)
# Efí's own patterns (reference gateway-efi.md §4.2), anchored with fullmatch.
_TWO_WORDS = re.compile(r"[ ]*(.+[ ]+)+.+[ ]*")
_PHONE = re.compile(r"[1-9]{2}9?[0-9]{8}")
_ZIPCODE = re.compile(r"[0-9]{8}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_EFI_ID = re.compile(r"[1-9][0-9]{0,17}")  # a positive integer that fits Efí's (and JSON's) 64-bit ids
_TAX_ID_PUNCTUATION = re.compile(r"[ .\-/]")
_STATES = frozenset(
    {"AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA"}
    | {"PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO"}
)


def _refuse(field: str, reason: str) -> GatewayValidationError:
    return GatewayValidationError(f"{field}: {reason} (checked before sending; nothing was sent)", field=field)


@attrs.frozen(kw_only=True)
class CheckedPayer:
    """A payer that passed the checks, in the form Efí takes: ``kind`` is ``"cpf"`` or ``"cnpj"``, digits only."""

    kind: str
    name: str
    tax_id: str
    email: str | None
    phone: str | None
    birth: date | None
    address: Address | None


@attrs.frozen(kw_only=True)
class CheckedCharge:
    """What is left to send once the checks pass: Efí units for the terms and the adjustments made."""

    payer: CheckedPayer
    total: Money
    fine: int
    interest: int
    adjustments: tuple[str, ...]


def efi_id(value: str, field: str) -> int:
    """Efí's integer id for a port id: the port's ids are strings, Efí's are the decimal digits of an integer.

    Only what ``str(int)`` of an Efí id gives is taken (no sign, blanks or leading zeros), so the
    id goes back to the port unchanged.

    Raises:
        InvalidType: ``value`` is not a string (an ``int`` from before ids were strings, ``None``).
        GatewayValidationError: a string Efí could not have issued (a UUID, ``"0"``, ``" 12"``).
    """
    if not isinstance(value, str):
        raise InvalidType(
            f"{field} must be a string id (as the gateway's results carry it), not {type(value).__name__}", field=field
        )
    if not _EFI_ID.fullmatch(value):
        raise _refuse(field, f"{value!r} is not an Efí id (Efí's ids are the digits of a positive integer)")
    return int(value)


def parcel_number(value: int, field: str = "parcel") -> int:
    """A carnet parcel's number, counted from 1.

    Raises:
        GatewayValidationError: not a whole number of at least 1.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _refuse(field, f"{value!r} is not a parcel number (1, 2, ...)")
    return value


def check_limits(limits: CarnetLimits) -> CarnetLimits:
    """``limits`` if an Efí account can be configured with them: Efí never issues more than 24 parcels.

    Raises:
        InvalidType: not a :class:`~carteira.domain.CarnetLimits`.
        InvalidInput: ``max_parcels`` over 24, or ``min_parcels`` under Efí's 2.
    """
    if not isinstance(limits, CarnetLimits):
        raise InvalidType(f"carnet_limits must be a CarnetLimits, not {type(limits).__name__}", field="carnet_limits")
    if limits.min_parcels < REPEATS_MIN or limits.max_parcels > REPEATS_CEILING:
        raise InvalidInput(
            f"Efí issues carnets of {REPEATS_MIN} to at most {REPEATS_CEILING} parcels",
            field="carnet_limits",
            raw=f"{limits.min_parcels}..{limits.max_parcels}",
        )
    return limits


def tax_id_digits(tax_id: str, *, field: str = "payer.tax_id") -> tuple[str, str]:
    """``("cpf" | "cnpj", digits)`` for a CPF or CNPJ with valid check digits; punctuation is dropped.

    Raises:
        GatewayValidationError: not 11 or 14 digits, all one digit, or a wrong check digit.
    """
    digits = _TAX_ID_PUNCTUATION.sub("", tax_id)
    if not digits.isascii() or not digits.isdigit() or len(digits) not in (11, 14):
        raise _refuse(field, f"{tax_id!r} is neither a CPF (11 digits) nor a CNPJ (14 digits)")
    if len(set(digits)) == 1:
        raise _refuse(field, f"{tax_id!r} is not a valid CPF/CNPJ (all digits equal)")
    kind = "cpf" if len(digits) == 11 else "cnpj"
    body = [int(d) for d in digits[:-2]]
    for _ in range(2):
        if kind == "cpf":
            weights = list(range(len(body) + 1, 1, -1))
        else:
            # CNPJ weights run 2..9 from the right, then wrap to 2.
            weights = [2 + (len(body) - 1 - i) % 8 for i in range(len(body))]
        remainder = sum(d * w for d, w in zip(body, weights, strict=True)) % 11
        body.append(0 if remainder < 2 else 11 - remainder)
    if "".join(map(str, body)) != digits:
        raise _refuse(field, f"{tax_id!r} is not a valid {kind.upper()} (wrong check digits)")
    return kind, digits


def phone_digits(phone: str | None) -> str | None:
    """The phone as Efí takes it (area code plus 8 or 9 digits), or ``None`` when it cannot be sent.

    Punctuation is dropped and a leading country code 55 is removed; anything else that does
    not match Efí's pattern is left out rather than refused (SPEC G2).
    """
    if phone is None:
        return None
    digits = "".join(ch for ch in phone if ch.isascii() and ch.isdigit())
    if len(digits) in (12, 13) and digits.startswith("55"):
        digits = digits[2:]
    return digits if _PHONE.fullmatch(digits) else None


@in_context  # the caller's precision or traps must not decide what is sent (decision 0014)
def fine_units(fine_rate: Decimal, *, field: str = "fine_rate") -> int:
    """Efí's fine for a fraction (``Decimal("0.02")`` → 200): rate × 10000, which must be whole and ≤ 1000.

    Raises:
        GatewayValidationError: not a Decimal, negative, finer than 0.01 %, or over 10 %.
    """
    if not isinstance(fine_rate, Decimal) or not fine_rate.is_finite() or fine_rate < 0:
        raise _refuse(field, f"{fine_rate!r} is not a non-negative Decimal fraction (2 % is Decimal('0.02'))")
    units = fine_rate * _FINE_SCALE
    if units != units.to_integral_value():
        raise _refuse(field, f"{fine_rate} cannot be sent: Efí takes the fine in whole hundredths of a percent")
    if units > FINE_UNITS_MAX:
        raise _refuse(field, f"{fine_rate} is over Efí's maximum fine of 10 %")
    return int(units)


@in_context
def interest_units(monthly_interest_rate: Decimal, *, field: str = "monthly_interest_rate") -> tuple[int, str | None]:
    """Efí's daily interest for a monthly fraction, rounded half up: ``round(rate / 30 × 100000)``, ≤ 330.

    Returns the units and, when rounding changed the rate, a sentence saying what is charged
    instead (1 % a month → 33 → 0.99 % a month).

    Raises:
        GatewayValidationError: not a Decimal, negative, or over Efí's 0.33 % a day.
    """
    rate = monthly_interest_rate
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate < 0:
        raise _refuse(field, f"{rate!r} is not a non-negative Decimal fraction (1 % is Decimal('0.01'))")
    exact = rate / _DAYS_PER_MONTH * _INTEREST_SCALE
    units = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if units > INTEREST_UNITS_MAX:
        raise _refuse(field, f"{rate} a month is over Efí's maximum interest of 0.33 % a day (9.9 % a month)")
    if Decimal(units) == exact:
        return units, None
    charged = Decimal(units) * _DAYS_PER_MONTH / _INTEREST_SCALE
    return units, (
        f"monthly interest {_percent(rate)} sent as {units} ({_percent(Decimal(units) / _INTEREST_SCALE)} a day): "
        f"Efí will charge {_percent(charged)} a month"
    )


def _percent(fraction: Decimal) -> str:
    text = format((fraction * 100).normalize(), "f")
    return f"{text} %"


def check_new_due(due: date, today: date, *, field: str = "due") -> None:
    """Refuse a due date on or before ``today`` (SPEC G4); Efí's own floor is today, carteira's is tomorrow.

    Raises:
        GatewayValidationError: ``due`` is not a date after ``today``.
    """
    if not isinstance(due, date):
        raise _refuse(field, f"{due!r} is not a date")
    if due <= today:
        raise _refuse(field, f"{due.isoformat()} is not after today ({today.isoformat()}): choose a later date")


def check_email(email: str, *, field: str = "email") -> str:
    """``email`` if it looks like an e-mail address Efí can send to.

    Raises:
        GatewayValidationError: empty, too long, or not of the form ``name@domain.tld``.
    """
    _check_text(email, field, required=True)
    if not isinstance(email, str) or not _EMAIL.fullmatch(email):
        raise _refuse(field, f"{email!r} is not an e-mail address")
    return email


def _check_text(value: str | None, field: str, *, required: bool) -> None:
    if value is None or value == "":
        if required:
            raise _refuse(field, "is required")
        return
    if len(value) > TEXT_MAX:
        raise _refuse(field, f"has {len(value)} characters; Efí takes at most {TEXT_MAX}")


def _check_payer(payer: Payer) -> tuple[CheckedPayer, list[str]]:
    if not isinstance(payer, Payer):
        raise _refuse("payer", f"must be a Payer, not {type(payer).__name__}")
    notes: list[str] = []
    kind, digits = tax_id_digits(payer.tax_id)
    _check_text(payer.name, "payer.name", required=True)
    # Efí's pattern lets surrounding blanks pass for a second word ("  Maria  "); counting words does not.
    if kind == "cpf" and (len(payer.name.split()) < 2 or not _TWO_WORDS.fullmatch(payer.name)):
        raise _refuse("payer.name", f"{payer.name!r} must have at least two words (first name and surname)")
    if payer.email is not None:
        check_email(payer.email, field="payer.email")
    phone = phone_digits(payer.phone)
    if payer.phone is not None and phone is None:
        notes.append(f"phone {payer.phone!r} left out: Efí takes only an area code and 8 or 9 digits")
    if payer.address is not None:
        _check_address(payer.address)
    checked = CheckedPayer(
        kind=kind,
        name=payer.name.strip(),
        tax_id=digits,
        email=payer.email or None,
        phone=phone,
        birth=payer.birth,
        address=payer.address,
    )
    return checked, notes


def _check_address(address: Address) -> None:
    for name in ("street", "number", "neighborhood", "city"):
        _check_text(getattr(address, name), f"payer.address.{name}", required=True)
    if not _ZIPCODE.fullmatch(address.zipcode.replace("-", "")):
        raise _refuse("payer.address.zipcode", f"{address.zipcode!r} is not an 8-digit CEP")
    if address.state.upper() not in _STATES:
        raise _refuse("payer.address.state", f"{address.state!r} is not a Brazilian state (UF)")


def _items_total(items: Sequence[Item]) -> Money:
    if not items:
        raise _refuse("items", "a charge needs at least one item")
    total = Money.ZERO
    for index, item in enumerate(items):
        where = f"items[{index}]"
        if not isinstance(item, Item):
            raise _refuse(where, f"must be an Item, not {type(item).__name__}")
        _check_text(item.name, f"{where}.name", required=True)
        if not isinstance(item.value, Money) or item.value <= Money.ZERO:
            raise _refuse(f"{where}.value", f"{item.value!r} is not a positive Money amount")
        if isinstance(item.quantity, bool) or not isinstance(item.quantity, int) or item.quantity < 1:
            raise _refuse(f"{where}.quantity", f"{item.quantity!r} is not a whole number of at least 1")
        total += item.value * item.quantity
    return total


def _check_message(message: str) -> None:
    lines = message.split("\n")
    if len(lines) > MESSAGE_LINES_MAX or any(len(line) > MESSAGE_LINE_MAX for line in lines):
        raise _refuse("message", f"Efí prints at most {MESSAGE_LINES_MAX} lines of {MESSAGE_LINE_MAX} characters")


def _check_charge(
    items: Sequence[Item],
    payer: Payer,
    fine_rate: Decimal,
    monthly_interest_rate: Decimal,
    message: str,
    operation_id: str | None,
    notification_url: str | None,
    extra: Money,
) -> CheckedCharge:
    checked_payer, notes = _check_payer(payer)
    total = _items_total(items) + extra
    if total < TOTAL_MIN:
        raise _refuse("items", f"the total R$ {total} is under Efí's minimum of R$ {TOTAL_MIN}")
    fine = fine_units(fine_rate)
    interest, rounded = interest_units(monthly_interest_rate)
    if rounded is not None:
        notes.append(rounded)
    if total < TERMS_FLOOR and (fine or interest):
        notes.append(f"the total R$ {total} is under R$ {TERMS_FLOOR}: Efí applies no fine or interest to it")
    _check_message(message)
    _check_text(operation_id, "operation_id", required=False)
    _check_text(notification_url, "notification_url", required=False)
    return CheckedCharge(payer=checked_payer, total=total, fine=fine, interest=interest, adjustments=tuple(notes))


def check_billet(request: BilletRequest, today: date) -> CheckedCharge:
    """Every local check of a one-step billet (SPEC G2, G4), in the order a person would fix them.

    Raises:
        GatewayValidationError: the first field Efí would refuse, named as the request's attribute path.
    """
    if not isinstance(request, BilletRequest):
        raise _refuse("request", f"must be a BilletRequest, not {type(request).__name__}")
    shipping = request.shipping if request.shipping is not None else Money.ZERO
    if not isinstance(shipping, Money) or shipping < Money.ZERO:
        raise _refuse("shipping", f"{request.shipping!r} is not a non-negative Money amount")
    checked = _check_charge(
        request.items,
        request.payer,
        request.fine_rate,
        request.monthly_interest_rate,
        request.message,
        request.operation_id,
        request.notification_url,
        shipping,
    )
    check_new_due(request.due, today)
    days = request.days_to_write_off
    if days is not None and (
        isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= DAYS_TO_WRITE_OFF_MAX
    ):
        raise _refuse("days_to_write_off", f"{days!r} is not a whole number of days from 0 to {DAYS_TO_WRITE_OFF_MAX}")
    return checked


def check_carnet(request: CarnetRequest, today: date, limits: CarnetLimits = EFI_CARNET_LIMITS) -> CheckedCharge:
    """Every local check of a carnet: those of a billet (per parcel value) plus ``repeats`` within ``limits``.

    Raises:
        GatewayValidationError: the first field Efí would refuse.
    """
    if not isinstance(request, CarnetRequest):
        raise _refuse("request", f"must be a CarnetRequest, not {type(request).__name__}")
    repeats = request.repeats
    low, high = limits.min_parcels, limits.max_parcels
    if isinstance(repeats, bool) or not isinstance(repeats, int) or not low <= repeats <= high:
        raise _refuse("repeats", f"{repeats!r} parcels: this gateway issues carnets of {low} to {high}")
    checked = _check_charge(
        request.items,
        request.payer,
        request.fine_rate,
        request.monthly_interest_rate,
        request.message,
        request.operation_id,
        request.notification_url,
        Money.ZERO,
    )
    if request.split_items and checked.total.cents // repeats < TOTAL_MIN.cents:
        raise _refuse(
            "items",
            f"split into {repeats} parcels, the total R$ {checked.total} leaves parcels under "
            f"Efí's minimum of R$ {TOTAL_MIN}",
        )
    check_new_due(request.first_due, today, field="first_due")
    return checked
