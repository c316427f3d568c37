"""The payment gateway port: what carteira asks of Efí (or any other gateway), in domain words.

:class:`PaymentGateway` is the ``typing.Protocol`` the services drive; the requests and results
around it are frozen attrs classes holding :class:`~carteira.domain.Money` and ``date``, never a
gateway's JSON. Adapters translate them at the edge (``carteira.adapters.efi``), and
:class:`carteira.testing.fake_gateway.FakeGateway` implements the same port in memory.

The port is carteira's, not one gateway's: charge and carnet ids are strings (:data:`ChargeId`,
:data:`CarnetId`), statuses are carteira's enums with an ``UNKNOWN`` member for whatever a
gateway sends that carteira does not know (the gateway's own word is kept in ``status_raw``), the
idempotency key is carteira's ``operation_id``, and the carnet limits are the adapter's
(:attr:`PaymentGateway.carnet_limits`).

Errors: every method raises a subclass of :class:`~carteira.errors.GatewayError`.
:class:`~carteira.errors.GatewayValidationError` (content or state refused, locally before
sending or by the gateway; ``field`` names what), :class:`~carteira.errors.GatewayAuthenticationError`,
:class:`~carteira.errors.GatewayUnavailable` (safe to retry) and
:class:`~carteira.errors.GatewayOutcomeUnknown` (a create may have happened: call
:func:`find_created` before issuing again).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import NewType, Protocol, Self, TypeAlias

import attrs

from carteira.domain.carnet import CarnetLimits
from carteira.domain.money import Money
from carteira.domain.validation import (
    Validator,
    date_field,
    decimal_field,
    flag_field,
    instance_field,
    integer_field,
    money_field,
    text_field,
    tuple_field,
    wrong_type,
)
from carteira.errors import GatewayError, GatewayValidationError

__all__ = [
    "Address",
    "BilletOutcome",
    "BilletRequest",
    "CarnetId",
    "CarnetLimits",
    "CarnetRequest",
    "CarnetStatus",
    "ChargeId",
    "ChargeStatus",
    "ChargeSummary",
    "EventKind",
    "EventStatus",
    "IssuedBillet",
    "IssuedCarnet",
    "IssuedParcel",
    "Item",
    "NotificationEvent",
    "Payer",
    "PaymentGateway",
    "find_created",
]

ChargeId = NewType("ChargeId", str)
"""A charge's id at its gateway (a billet or one carnet parcel): an opaque string, whatever the gateway uses."""

CarnetId = NewType("CarnetId", str)
"""A carnet's id at its gateway: an opaque string, whatever the gateway uses."""


class _Parsed(enum.Enum):
    """An enum read from a gateway's word, where a word carteira does not know is ``UNKNOWN``, never an error."""

    @classmethod
    def from_raw(cls, raw: object) -> Self:
        """The member whose value is ``raw``, or ``UNKNOWN`` for any other word (keep ``raw`` alongside)."""
        try:
            return cls(raw)
        except ValueError:
            return cls["UNKNOWN"]


class ChargeStatus(_Parsed):
    """The life cycle of one charge (a billet or a carnet parcel) at the gateway."""

    NEW = "new"
    """Created, no payment method yet."""
    WAITING = "waiting"
    """Billet issued, payment awaited."""
    IDENTIFIED = "identified"
    """Payment spotted, money not yet credited."""
    APPROVED = "approved"
    """Card approved, not yet credited (card charges only)."""
    PAID = "paid"
    """Paid through the bank; the notification event carries the value and the bank date."""
    UNPAID = "unpaid"
    """Overdue: the due date passed without payment (it can still be paid late)."""
    REFUNDED = "refunded"
    """Refunded (card charges only)."""
    CONTESTED = "contested"
    """Chargeback in progress (card charges only)."""
    CANCELED = "canceled"
    """Cancelled by the merchant; a billet printed before can still be paid at a bank."""
    SETTLED = "settled"
    """Marked as paid by hand (no money moved through the gateway, no value recorded)."""
    LINK = "link"
    """Attached to a payment link."""
    EXPIRED = "expired"
    """A payment link that passed its date (links only)."""
    UNKNOWN = "unknown"
    """A status the gateway sent that carteira does not know; the result's ``status_raw`` says which."""


class CarnetStatus(_Parsed):
    """The state of a whole carnet; each parcel has its own :class:`ChargeStatus` besides."""

    UP_TO_DATE = "up_to_date"
    """Issued, and no parcel is overdue."""
    UNPAID = "unpaid"
    """At least one parcel is overdue."""
    FINISHED = "finished"
    """Every parcel is resolved (paid, settled, cancelled...); it never changes again."""
    CANCELED = "canceled"
    """Cancelled as a whole."""
    UNKNOWN = "unknown"
    """A status the gateway sent that carteira does not know; the result's ``status_raw`` says which."""


class EventKind(_Parsed):
    """What a :class:`NotificationEvent` is about."""

    CHARGE = "charge"
    """A billet (a charge outside any carnet)."""
    CARNET = "carnet"
    """A carnet as a whole; its status is a :class:`CarnetStatus`."""
    PARCEL = "parcel"
    """One parcel of a carnet; ``parcel`` says which."""
    UNKNOWN = "unknown"
    """Something carteira does not handle (a subscription...); ``kind_raw`` says what."""


EventStatus: TypeAlias = ChargeStatus | CarnetStatus
"""An event's status: a :class:`CarnetStatus` for a carnet event, a :class:`ChargeStatus` for any other."""


def _raw_of_status(result: object) -> str:
    # The default `status_raw` of a result built in carteira's own words: the status's value (a status of the
    # wrong type is refused by its validator, which runs after the defaults are made).
    status: object = result.status  # type: ignore[attr-defined]
    return str(status.value) if isinstance(status, enum.Enum) else ""


def _raw_of_kind(event: object) -> str:
    kind: object = event.kind  # type: ignore[attr-defined]
    return str(kind.value) if isinstance(kind, enum.Enum) else ""


def _a_status(kinds: tuple[type[enum.Enum], ...], field: str, *, optional: bool = False) -> Validator:
    """A validator for a status that must be a member of one of ``kinds`` (``None`` passes when ``optional``)."""

    def check(_instance: object, _attribute: object, value: object) -> None:
        if not isinstance(value, kinds) and (value is not None or not optional):
            raise wrong_type(value, field, " or ".join(kind.__name__ for kind in kinds))

    return check


# The types of every field are checked when a value is built (InvalidType naming the field); what the
# gateway accepts of their values (a name of two words, a total of R$ 5,00) is the adapter's check,
# a GatewayValidationError naming the request's field (decision 0451).
def _money_any(field: str, *, optional: bool = False) -> Validator:
    """A ``Money`` of either sign: whether the gateway takes the amount is the adapter's check."""
    return money_field(field, optional=optional, signed=True)


@attrs.frozen
class Address:
    """The payer's postal address; every field but ``complement`` is required when an address is given."""

    street: str = attrs.field(validator=text_field("street"))
    number: str = attrs.field(validator=text_field("number"))
    neighborhood: str = attrs.field(validator=text_field("neighborhood"))
    zipcode: str = attrs.field(validator=text_field("zipcode"))
    city: str = attrs.field(validator=text_field("city"))
    state: str = attrs.field(validator=text_field("state"))
    complement: str | None = attrs.field(default=None, validator=text_field("complement", optional=True))


@attrs.frozen
class Payer:
    """Who pays: a person (``tax_id`` is an 11-digit CPF, ``name`` needs two words) or a company (14-digit CNPJ).

    ``tax_id`` may carry punctuation (``123.456.789-09``); a ``phone`` that is not a Brazilian
    number with area code is left out of the request rather than refused (SPEC G2).
    """

    name: str = attrs.field(validator=text_field("name"))
    tax_id: str = attrs.field(validator=text_field("tax_id"))
    email: str | None = attrs.field(default=None, validator=text_field("email", optional=True))
    phone: str | None = attrs.field(default=None, validator=text_field("phone", optional=True))
    birth: date | None = attrs.field(default=None, validator=date_field("birth", optional=True))
    address: Address | None = attrs.field(default=None, validator=instance_field(Address, "address", optional=True))


@attrs.frozen
class Item:
    """One line of a charge: ``quantity`` times ``value``."""

    name: str = attrs.field(validator=text_field("name"))
    value: Money = attrs.field(validator=_money_any("value"))
    quantity: int = attrs.field(default=1, validator=integer_field("quantity"))


def _item_tuple(items: Iterable[Item]) -> tuple[Item, ...]:
    # A named converter, not `tuple`: mypy's attrs plugin cannot type a generic builtin as a converter.
    if not isinstance(items, Iterable):  # a str's characters are refused one by one as not Items
        raise wrong_type(items, "items", "an iterable of Item")
    return tuple(items)


@attrs.frozen(kw_only=True)
class BilletRequest:
    """A billet to issue in one step: what is charged, to whom, when it is due and on what late terms.

    ``fine_rate`` and ``monthly_interest_rate`` are ``Decimal`` fractions (``Decimal("0.02")`` is 2 %),
    as in :class:`~carteira.domain.ChargeTerms`. ``operation_id`` is carteira's id of this attempt to
    create, unique per operation: the gateway records it with the charge, and it is how an unknown
    outcome is resolved (:func:`find_created`).
    """

    items: tuple[Item, ...] = attrs.field(converter=_item_tuple, validator=tuple_field(Item, "items"))
    payer: Payer = attrs.field(validator=instance_field(Payer, "payer"))
    due: date = attrs.field(validator=date_field("due"))
    operation_id: str | None = attrs.field(default=None, validator=text_field("operation_id", optional=True))
    notification_url: str | None = attrs.field(default=None, validator=text_field("notification_url", optional=True))
    fine_rate: Decimal = attrs.field(default=Decimal(0), validator=decimal_field("fine_rate"))
    monthly_interest_rate: Decimal = attrs.field(default=Decimal(0), validator=decimal_field("monthly_interest_rate"))
    days_to_write_off: int | None = attrs.field(
        default=None, validator=integer_field("days_to_write_off", optional=True)
    )
    message: str = attrs.field(default="", validator=text_field("message"))
    shipping: Money | None = attrs.field(default=None, validator=_money_any("shipping", optional=True))


@attrs.frozen(kw_only=True)
class CarnetRequest:
    """A carnet: ``repeats`` monthly parcels from ``first_due``, each of the items' total (or a share of it).

    With ``split_items`` the items' total is divided among the parcels; otherwise every parcel
    costs the full total. ``repeats`` must lie within the gateway's :attr:`PaymentGateway.carnet_limits`;
    ``operation_id`` is as in :class:`BilletRequest` (every parcel carries it).
    """

    items: tuple[Item, ...] = attrs.field(converter=_item_tuple, validator=tuple_field(Item, "items"))
    payer: Payer = attrs.field(validator=instance_field(Payer, "payer"))
    first_due: date = attrs.field(validator=date_field("first_due"))
    repeats: int = attrs.field(validator=integer_field("repeats"))
    split_items: bool = attrs.field(default=False, validator=flag_field("split_items"))
    operation_id: str | None = attrs.field(default=None, validator=text_field("operation_id", optional=True))
    notification_url: str | None = attrs.field(default=None, validator=text_field("notification_url", optional=True))
    fine_rate: Decimal = attrs.field(default=Decimal(0), validator=decimal_field("fine_rate"))
    monthly_interest_rate: Decimal = attrs.field(default=Decimal(0), validator=decimal_field("monthly_interest_rate"))
    message: str = attrs.field(default="", validator=text_field("message"))


@attrs.frozen(kw_only=True)
class IssuedBillet:
    """A billet the gateway issued; ``adjustments`` lists what was changed to fit the gateway (a rounded rate,
    a phone left out), in words an operator can read. ``status_raw`` is the gateway's own word for ``status``."""

    charge_id: ChargeId = attrs.field(validator=text_field("charge_id"))
    operation_id: str | None = attrs.field(validator=text_field("operation_id", optional=True))
    status: ChargeStatus = attrs.field(validator=instance_field(ChargeStatus, "status"))
    total: Money = attrs.field(validator=_money_any("total"))
    due: date = attrs.field(validator=date_field("due"))
    barcode: str = attrs.field(validator=text_field("barcode"))
    link: str | None = attrs.field(default=None, validator=text_field("link", optional=True))
    pdf: str | None = attrs.field(default=None, validator=text_field("pdf", optional=True))
    adjustments: tuple[str, ...] = attrs.field(default=(), validator=tuple_field(str, "adjustments"))
    status_raw: str = attrs.field(
        default=attrs.Factory(_raw_of_status, takes_self=True), validator=text_field("status_raw")
    )


@attrs.frozen(kw_only=True)
class IssuedParcel:
    """One parcel of an issued carnet (``parcel`` counts from 1); each parcel is a charge with its own ``charge_id``."""

    parcel: int = attrs.field(validator=integer_field("parcel"))
    charge_id: ChargeId = attrs.field(validator=text_field("charge_id"))
    status: ChargeStatus = attrs.field(validator=instance_field(ChargeStatus, "status"))
    value: Money = attrs.field(validator=_money_any("value"))
    due: date = attrs.field(validator=date_field("due"))
    barcode: str = attrs.field(validator=text_field("barcode"))
    link: str | None = attrs.field(default=None, validator=text_field("link", optional=True))
    pdf: str | None = attrs.field(default=None, validator=text_field("pdf", optional=True))
    status_raw: str = attrs.field(
        default=attrs.Factory(_raw_of_status, takes_self=True), validator=text_field("status_raw")
    )


@attrs.frozen(kw_only=True)
class IssuedCarnet:
    """A carnet the gateway issued, with its parcels in order (compare their due dates with the plan, G3)."""

    carnet_id: CarnetId = attrs.field(validator=text_field("carnet_id"))
    operation_id: str | None = attrs.field(validator=text_field("operation_id", optional=True))
    status: CarnetStatus = attrs.field(validator=instance_field(CarnetStatus, "status"))
    parcels: tuple[IssuedParcel, ...] = attrs.field(validator=tuple_field(IssuedParcel, "parcels"))
    link: str | None = attrs.field(default=None, validator=text_field("link", optional=True))
    pdf: str | None = attrs.field(default=None, validator=text_field("pdf", optional=True))
    adjustments: tuple[str, ...] = attrs.field(default=(), validator=tuple_field(str, "adjustments"))
    status_raw: str = attrs.field(
        default=attrs.Factory(_raw_of_status, takes_self=True), validator=text_field("status_raw")
    )


@attrs.frozen(kw_only=True)
class BilletOutcome:
    """What happened to one request of :meth:`PaymentGateway.create_billets`: ``billet`` or ``error``, never both."""

    request: BilletRequest = attrs.field(validator=instance_field(BilletRequest, "request"))
    billet: IssuedBillet | None = attrs.field(
        default=None, validator=instance_field(IssuedBillet, "billet", optional=True)
    )
    error: GatewayError | None = attrs.field(
        default=None, validator=instance_field(GatewayError, "error", optional=True)
    )

    @property
    def ok(self) -> bool:
        """Whether the billet was issued."""
        return self.billet is not None


@attrs.frozen(kw_only=True)
class ChargeSummary:
    """A charge found by a search; ``carnet_id`` and ``parcel`` are set for a carnet parcel, ``paid_value`` and
    ``paid_on`` only once the bank paid it."""

    charge_id: ChargeId = attrs.field(validator=text_field("charge_id"))
    operation_id: str | None = attrs.field(validator=text_field("operation_id", optional=True))
    status: ChargeStatus = attrs.field(validator=instance_field(ChargeStatus, "status"))
    total: Money = attrs.field(validator=_money_any("total"))
    carnet_id: CarnetId | None = attrs.field(default=None, validator=text_field("carnet_id", optional=True))
    parcel: int | None = attrs.field(default=None, validator=integer_field("parcel", optional=True))
    created_at: datetime | None = attrs.field(
        default=None, validator=instance_field(datetime, "created_at", optional=True)
    )
    paid_value: Money | None = attrs.field(default=None, validator=_money_any("paid_value", optional=True))
    paid_on: date | None = attrs.field(default=None, validator=date_field("paid_on", optional=True))
    status_raw: str = attrs.field(
        default=attrs.Factory(_raw_of_status, takes_self=True), validator=text_field("status_raw")
    )


@attrs.frozen(kw_only=True)
class NotificationEvent:
    """One status change behind a notification token; ``(token, event_id)`` identifies it across deliveries.

    ``kind`` says what changed: a billet (``charge_id`` set), a carnet (``carnet_id`` set, ``status``
    a :class:`CarnetStatus`) or one parcel of a carnet (``carnet_id``, ``charge_id`` and ``parcel``
    set). ``paid_value`` and ``paid_on`` (the bank's date) come only with a payment. ``kind_raw`` and
    ``status_raw`` keep the gateway's own words, which matter when ``kind`` or ``status`` is ``UNKNOWN``.
    """

    token: str = attrs.field(validator=text_field("token"))
    event_id: int = attrs.field(validator=integer_field("event_id"))
    kind: EventKind = attrs.field(validator=instance_field(EventKind, "kind"))
    status: EventStatus = attrs.field(validator=_a_status((ChargeStatus, CarnetStatus), "status"))
    previous_status: EventStatus | None = attrs.field(
        validator=_a_status((ChargeStatus, CarnetStatus), "previous_status", optional=True)
    )
    operation_id: str | None = attrs.field(validator=text_field("operation_id", optional=True))
    charge_id: ChargeId | None = attrs.field(validator=text_field("charge_id", optional=True))
    carnet_id: CarnetId | None = attrs.field(validator=text_field("carnet_id", optional=True))
    created_at: datetime = attrs.field(validator=instance_field(datetime, "created_at"))
    parcel: int | None = attrs.field(default=None, validator=integer_field("parcel", optional=True))
    paid_value: Money | None = attrs.field(default=None, validator=_money_any("paid_value", optional=True))
    paid_on: date | None = attrs.field(default=None, validator=date_field("paid_on", optional=True))
    kind_raw: str = attrs.field(default=attrs.Factory(_raw_of_kind, takes_self=True), validator=text_field("kind_raw"))
    status_raw: str = attrs.field(
        default=attrs.Factory(_raw_of_status, takes_self=True), validator=text_field("status_raw")
    )


class PaymentGateway(Protocol):
    """What carteira asks of a payment gateway (SPEC G2-G7), one method per business action.

    State changes are idempotent in effect: settling or cancelling something already in that
    state returns ``False`` instead of raising, so a retry after a lost answer is harmless (G5).
    A refused state change raises :class:`~carteira.errors.GatewayValidationError` with the
    gateway's code. Ids are the strings the gateway's results carry; an id the gateway could never
    have issued is refused with ``GatewayValidationError`` naming the parameter.
    """

    @property
    def carnet_limits(self) -> CarnetLimits:
        """The fewest and most parcels this gateway issues as one carnet (what ``plan_carnet`` needs)."""
        ...

    def create_billet(self, request: BilletRequest) -> IssuedBillet:
        """Issue one billet; raises ``GatewayOutcomeUnknown`` when it may have been created without an answer."""
        ...

    def create_billets(
        self,
        requests: Sequence[BilletRequest],
        *,
        concurrency: int = 8,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[BilletOutcome]:
        """Issue many billets, at most ``concurrency`` at a time; one outcome per request, in order, never raising
        for one request's failure. ``progress(done, total)`` is called after each request, with ``done`` growing."""
        ...

    def create_carnet(self, request: CarnetRequest) -> IssuedCarnet:
        """Issue a carnet of ``request.repeats`` parcels."""
        ...

    def change_due_date(self, charge_id: ChargeId, due: date) -> None:
        """Move a billet's due date; a date on or before today is refused before anything is sent (G4)."""
        ...

    def change_parcel_due_date(self, carnet_id: CarnetId, parcel: int, due: date) -> None:
        """Move one carnet parcel's due date, under the same rule as :meth:`change_due_date`."""
        ...

    def settle_charge(self, charge_id: ChargeId) -> bool:
        """Mark a billet as paid by hand; ``False`` when it already was settled."""
        ...

    def settle_parcel(self, carnet_id: CarnetId, parcel: int) -> bool:
        """Mark one carnet parcel as paid by hand; ``False`` when it already was settled."""
        ...

    def cancel_charge(self, charge_id: ChargeId) -> bool:
        """Cancel a billet; ``False`` when it already was cancelled."""
        ...

    def cancel_carnet(self, carnet_id: CarnetId) -> bool:
        """Cancel a whole carnet; ``False`` when it already was cancelled."""
        ...

    def cancel_parcel(self, carnet_id: CarnetId, parcel: int) -> bool:
        """Cancel one carnet parcel; ``False`` when it already was cancelled."""
        ...

    def resend_billet(self, charge_id: ChargeId, email: str) -> None:
        """E-mail a billet again (only while it awaits payment)."""
        ...

    def resend_carnet(self, carnet_id: CarnetId, email: str) -> None:
        """E-mail a whole carnet again."""
        ...

    def resend_parcel(self, carnet_id: CarnetId, parcel: int, email: str) -> None:
        """E-mail one carnet parcel again."""
        ...

    def notification_events(self, token: str) -> list[NotificationEvent]:
        """Every event behind a notification token, oldest first (the whole history, so events repeat)."""
        ...

    def find_charges(self, operation_id: str) -> list[ChargeSummary]:
        """The charges created with ``operation_id`` (empty when none): how an unknown outcome is resolved."""
        ...


def find_created(gateway: PaymentGateway, operation_id: str) -> ChargeSummary | None:
    """Resolve a billet create that ended in ``GatewayOutcomeUnknown``: the charge of ``operation_id``, or ``None``.

    ``None`` means the gateway has no such charge and issuing again is safe. More than one
    match means the same operation was issued twice (which is why ``operation_id`` must be unique
    per operation) and raises ``GatewayValidationError`` for a person to sort out. For a carnet,
    call :meth:`PaymentGateway.find_charges` and group the parcels by ``carnet_id``.
    """
    found = gateway.find_charges(operation_id)
    if len(found) > 1:
        ids = ", ".join(charge.charge_id for charge in found)
        raise GatewayValidationError(
            f"operation_id {operation_id!r} matches {len(found)} charges ({ids}): the operation was issued more "
            "than once; cancel the extra charges by hand",
            field="operation_id",
        )
    return found[0] if found else None
