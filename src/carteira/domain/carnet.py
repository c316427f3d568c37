"""Carnet planning: which parcels can go out as one carnet and which as billets (SPEC D9)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from itertools import pairwise
from typing import Protocol

import attrs
from dateutil.relativedelta import relativedelta

from carteira.domain.money import Money
from carteira.domain.validation import (
    date_field,
    money_field,
    require_count,
    require_date,
    text_field,
    tuple_field,
    wrong_type,
)
from carteira.errors import InvalidInput, InvalidType

__all__ = ["Carnet", "CarnetLimits", "CarnetParcel", "CarnetPlan", "carnet_due_dates", "plan_carnet"]


class CarnetParcel(Protocol):
    """What the planner reads of a parcel; an :class:`~carteira.domain.Installment` has all of it."""

    @property
    def id(self) -> str: ...
    @property
    def due(self) -> date: ...
    @property
    def amount(self) -> Money: ...
    @property
    def description(self) -> str: ...


@attrs.frozen
class CarnetLimits:
    """The fewest and the most parcels one carnet may have, as a gateway sets them.

    The numbers are the gateway's, not the domain's: a gateway adapter supplies them
    (``PaymentGateway.carnet_limits``; Efí's adapter says 2 to 12 unless told otherwise).

    Raises:
        InvalidType: a count that is not a whole number (a bool included).
        InvalidInput: unless ``1 <= min_parcels <= max_parcels``.
    """

    min_parcels: int
    max_parcels: int

    def __attrs_post_init__(self) -> None:
        for name in ("min_parcels", "max_parcels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidType(f"{name} must be a whole number of parcels, not {type(value).__name__}", field=name)
        if self.min_parcels < 1:
            raise InvalidInput("must be at least 1 (need 1 <= min_parcels <= max_parcels)", field="min_parcels",
                               raw=str(self.min_parcels))  # fmt: skip
        if self.max_parcels < self.min_parcels:
            raise InvalidInput(
                "must not be below min_parcels (need 1 <= min_parcels <= max_parcels)",
                field="max_parcels",
                raw=f"{self.min_parcels}..{self.max_parcels}",
            )


@attrs.frozen
class Carnet:
    """One carnet to send: ``parcel_ids`` in order (one or more), each of ``value``, due ``first_due`` + k months."""

    parcel_ids: tuple[str, ...] = attrs.field(validator=tuple_field(str, "parcel_ids", empty=False, blank=False))
    first_due: date = attrs.field(validator=date_field("first_due"))
    value: Money = attrs.field(validator=money_field("value", positive=True))
    description: str = attrs.field(validator=text_field("description"))

    @property
    def repeats(self) -> int:
        """How many parcels the gateway should generate."""
        return len(self.parcel_ids)

    @property
    def due_dates(self) -> tuple[date, ...]:
        """The due dates the gateway is expected to produce, to compare with what it returns."""
        return carnet_due_dates(self.first_due, self.repeats)


@attrs.frozen
class CarnetPlan:
    """The plan: ``billets`` (parcel ids sent one by one), ``carnets``, and the reason for every decision."""

    billets: tuple[str, ...] = attrs.field(validator=tuple_field(str, "billets", blank=False))
    carnets: tuple[Carnet, ...] = attrs.field(validator=tuple_field(Carnet, "carnets"))
    reasons: tuple[str, ...] = attrs.field(validator=tuple_field(str, "reasons"))


def carnet_due_dates(first_due: date, count: int) -> tuple[date, ...]:
    """``first_due`` plus k months for k in 0..count-1, the day clamped to the month's end (never chained).

    Raises:
        InvalidType: ``first_due`` not a date, ``count`` not an int.
        InvalidInput: a negative ``count``, or due dates past the last ``date``.
    """
    require_date(first_due, "first_due")
    require_count(count, "count", 0)
    if count and first_due.year * 12 + first_due.month + count - 1 > date.max.year * 12 + 12:
        raise InvalidInput(f"{count} monthly due dates from {first_due.isoformat()} run past the year 9999",
                           field="count", raw=str(count))  # fmt: skip
    return tuple(first_due + relativedelta(months=k) for k in range(count))


def _checked_parcels(parcels: object) -> list[CarnetParcel]:
    """``parcels`` as a list, each read as a :class:`CarnetParcel` of the right types (``InvalidType`` naming it)."""
    if isinstance(parcels, (str, bytes)) or not isinstance(parcels, Sequence):
        raise wrong_type(parcels, "parcels", "a sequence of parcels (installments)")
    checked: list[CarnetParcel] = []
    for index, parcel in enumerate(parcels):
        for name, kind in _PARCEL_FIELDS:
            value = getattr(parcel, name, None)
            if not isinstance(value, kind) or (kind is date and isinstance(value, datetime)):
                raise wrong_type(parcel, f"parcels[{index}]", f"a parcel whose {name} is a {kind.__name__}")
        checked.append(parcel)
    return checked


_PARCEL_FIELDS = (("id", str), ("due", date), ("amount", Money), ("description", str))


def _series_problem(parcels: Sequence[CarnetParcel]) -> str | None:
    """Why ``parcels`` cannot be one carnet anchored on the first of them, or None when they can."""
    first = parcels[0]
    for parcel in parcels[1:]:
        if parcel.description != first.description:
            return f"parcel {parcel.id} is described {parcel.description!r}, parcel {first.id} {first.description!r}"
        if parcel.amount != first.amount:
            return f"parcel {parcel.id} is {parcel.amount}, parcel {first.id} {first.amount}"
    expected = carnet_due_dates(first.due, len(parcels))
    for parcel, wanted in zip(parcels, expected, strict=True):
        if parcel.due != wanted:
            return (
                f"parcel {parcel.id} is due {parcel.due.isoformat()}, but monthly from {first.due.isoformat()} "
                f"it would be {wanted.isoformat()}"
            )
    return None


def _chunks(parcels: Sequence[CarnetParcel], limits: CarnetLimits) -> list[Sequence[CarnetParcel]]:
    size = limits.max_parcels
    return [parcels[start : start + size] for start in range(0, len(parcels), size)]


def plan_carnet(parcels: Sequence[CarnetParcel], limits: CarnetLimits) -> CarnetPlan:
    """Plan how a series goes out: one or more carnets where D9 allows, billets otherwise.

    A series qualifies when every parcel has the same description and value and each due date
    is the first plus k months. When only the first parcel differs in value (a pro-rata first
    period) and the rest qualify anchored on parcel 2, the first goes as a billet. Series longer
    than ``limits.max_parcels`` are cut into carnets of that size, each checked on its own; a
    remainder below ``limits.min_parcels`` goes as billets.

    ``limits`` are the gateway's (``gateway.carnet_limits``): the domain knows no gateway's numbers.

    Raises:
        InvalidType: ``limits`` is not a :class:`CarnetLimits`, ``parcels`` not a sequence of parcels.
        InvalidInput: no parcels, or parcels not in due-date order.
    """
    if not isinstance(limits, CarnetLimits):
        raise InvalidType(
            f"limits must be a CarnetLimits (the gateway's carnet_limits), not {type(limits).__name__}",
            field="limits",
        )
    series = _checked_parcels(parcels)
    if not series:
        raise InvalidInput("the series is empty", field="parcels")
    ordered = list(series)
    if any(later.due < earlier.due for earlier, later in pairwise(ordered)):
        raise InvalidInput("parcels must be in due-date order", field="parcels")
    reasons: list[str] = []
    billets: list[str] = []
    problem = _series_problem(ordered)
    if problem is not None and len(ordered) > 1:
        rest_problem = _series_problem(ordered[1:]) if len(ordered) > 2 else "too few parcels"
        only_first_value = ordered[0].amount != ordered[1].amount and ordered[0].description == ordered[1].description
        if rest_problem is None and only_first_value:
            reasons.append(
                f"parcel {ordered[0].id} ({ordered[0].amount}) differs in value only: it goes as a billet "
                f"and the carnet starts at parcel {ordered[1].id}"
            )
            billets.append(ordered[0].id)
            ordered = ordered[1:]
            problem = None
    if problem is not None:
        reasons.append(f"not a carnet: {problem}; every parcel goes as a billet")
        return CarnetPlan(billets=tuple(p.id for p in series), carnets=(), reasons=tuple(reasons))
    carnets: list[Carnet] = []
    for chunk in _chunks(ordered, limits):
        chunk_problem = _series_problem(chunk)
        if len(chunk) < limits.min_parcels:
            reasons.append(
                f"parcels {chunk[0].id}..{chunk[-1].id}: {len(chunk)} parcel(s), fewer than the gateway's "
                f"minimum of {limits.min_parcels}: billets"
            )
            billets.extend(p.id for p in chunk)
        elif chunk_problem is not None:
            reasons.append(f"parcels {chunk[0].id}..{chunk[-1].id}: {chunk_problem}: billets")
            billets.extend(p.id for p in chunk)
        else:
            carnets.append(
                Carnet(
                    parcel_ids=tuple(p.id for p in chunk),
                    first_due=chunk[0].due,
                    value=chunk[0].amount,
                    description=chunk[0].description,
                )
            )
            reasons.append(
                f"parcels {chunk[0].id}..{chunk[-1].id}: one carnet of {len(chunk)} monthly from "
                f"{chunk[0].due.isoformat()}"
            )
    return CarnetPlan(billets=tuple(billets), carnets=tuple(carnets), reasons=tuple(reasons))
