"""Anticipation: present value at a monthly rate and anticipation groups (SPEC D10, B11)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import attrs

from carteira.domain.installment import Installment
from carteira.domain.money import Money, _money, in_context
from carteira.domain.validation import (
    count_field,
    date_field,
    instance_field,
    money_field,
    rate_field,
    require_date,
    require_items,
    require_money,
    require_rate,
    text_field,
    tuple_field,
    wrong_type,
)
from carteira.errors import InvalidInput

__all__ = ["AnticipatedInstallment", "Anticipation", "AnticipationStatus", "anticipate", "present_value"]

_CENT = Decimal("0.01")
_THIRTY = Decimal(30)
_ONE = Decimal(1)


@in_context
def present_value(face_value: Money, due: date, on: date, monthly_rate: Decimal) -> Money:
    """``face_value / (1 + monthly_rate) ** (days / 30)``, rounded half up; the face value when ``due <= on``.

    ``days`` are calendar days from ``on`` (the anticipation date) to ``due``; the power is taken
    with 28 significant digits in the library's decimal context, whatever the caller's.

    Raises:
        InvalidType: ``face_value`` is not Money, ``monthly_rate`` not a Decimal, a date not a date.
        InvalidInput: a rate outside [0, 1], or a negative face value.
    """
    require_money(face_value, "face_value")
    rate = require_rate(monthly_rate, "monthly_rate")
    days = (require_date(due, "due") - require_date(on, "on")).days
    if days <= 0:
        return face_value
    factor = (_ONE + rate) ** (Decimal(days) / _THIRTY)
    exact = face_value.amount / factor
    return _money(exact.quantize(_CENT, ROUND_HALF_UP))


class AnticipationStatus(enum.Enum):
    """An anticipation is studied first, then approved or rejected by a person."""

    IN_STUDY = "in_study"
    APPROVED = "approved"
    REJECTED = "rejected"


@attrs.frozen
class AnticipatedInstallment:
    """One installment inside an anticipation: face value, due date, present value and discount."""

    installment_id: str = attrs.field(validator=text_field("installment_id", blank=False))
    face_value: Money = attrs.field(validator=money_field("face_value"))
    due: date = attrs.field(validator=date_field("due"))
    present_value: Money = attrs.field(validator=money_field("present_value"))

    def __attrs_post_init__(self) -> None:
        if self.present_value > self.face_value:
            raise InvalidInput(
                f"must not be above the face value {self.face_value} (the rate is never negative)",
                field="present_value",
                raw=str(self.present_value),
            )

    @property
    def discount(self) -> Money:
        """``face_value - present_value`` (derived, not rounded again)."""
        return self.face_value - self.present_value


@attrs.frozen
class Anticipation:
    """A group of installments anticipated on ``anticipated_on`` at ``monthly_rate``, with its totals.

    ``items`` is a non-empty tuple, one item per installment.
    """

    id: str = attrs.field(validator=text_field("id", blank=False))
    monthly_rate: Decimal = attrs.field(validator=rate_field("monthly_rate"))
    anticipated_on: date = attrs.field(validator=date_field("anticipated_on"))
    items: tuple[AnticipatedInstallment, ...] = attrs.field(
        validator=tuple_field(AnticipatedInstallment, "items", empty=False)
    )
    status: AnticipationStatus = attrs.field(
        default=AnticipationStatus.IN_STUDY, validator=instance_field(AnticipationStatus, "status")
    )
    version: int = attrs.field(default=0, kw_only=True, validator=count_field("version", 0))

    @property
    def face_total(self) -> Money:
        """The sum of the face values."""
        return sum((item.face_value for item in self.items), Money.ZERO)

    @property
    def present_total(self) -> Money:
        """The sum of the present values."""
        return sum((item.present_value for item in self.items), Money.ZERO)

    @property
    def discount_total(self) -> Money:
        """The sum of the discounts."""
        return self.face_total - self.present_total


def anticipate(
    anticipation_id: str, installments: Iterable[Installment], on: date, monthly_rate: Decimal
) -> Anticipation:
    """An anticipation IN_STUDY of ``installments`` on ``on``, each open principal discounted per D10.

    Raises:
        InvalidInput: no installments, one of them twice, a blank id, or a rate outside [0, 1].
        InvalidType: a rate that is not a Decimal, ``installments`` not an iterable of Installment,
            an id that is not a str.
    """
    rate = require_rate(monthly_rate, "monthly_rate")
    require_date(on, "on")
    if not isinstance(anticipation_id, str):
        raise wrong_type(anticipation_id, "anticipation_id", "a str")
    if not anticipation_id.strip():
        raise InvalidInput("must not be blank", field="anticipation_id", raw=repr(anticipation_id))
    items: list[AnticipatedInstallment] = []
    seen: set[str] = set()
    for installment in require_items(installments, Installment, "installments"):
        if installment.id in seen:
            raise InvalidInput(f"installment {installment.id} appears twice", field="installments")
        seen.add(installment.id)
        face = installment.principal_open
        items.append(
            AnticipatedInstallment(
                installment_id=installment.id,
                face_value=face,
                due=installment.due,
                present_value=present_value(face, installment.due, on, rate),
            )
        )
    if not items:
        raise InvalidInput("an anticipation needs at least one installment", field="installments")
    return Anticipation(id=anticipation_id, monthly_rate=rate, anticipated_on=on, items=tuple(items))
