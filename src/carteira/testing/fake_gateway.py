"""FakeGateway: an in-memory PaymentGateway for fast tests, no kinder than Efí.

It applies the same local checks as :class:`carteira.adapters.efi.EfiGateway` (SPEC G2, G4) and
Efí's state rules with Efí's codes (reference gateway-efi.md §7: only a waiting or unpaid charge
can be settled, a carnet parcel only through its carnet, ...), keeps one notification token per
charge or carnet with a growing list of events, and has hooks a test drives: :meth:`FakeGateway.pay`
(the payer paid at the bank), :meth:`FakeGateway.advance` (time passes, charges fall overdue) and
:meth:`FakeGateway.fail_next` (the next call raises a given error). It passes the same contract
suite as ``EfiGateway`` against the emulator (``carteira.testing.contracts.gateway``), with Efí-like
numbered ids or, with ``ids="uuid"``, with UUIDs, to prove that nothing depends on ids being numbers.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Literal

import attrs
from dateutil.relativedelta import relativedelta

from carteira.adapters.efi import rules
from carteira.domain.carnet import CarnetLimits
from carteira.domain.money import Money
from carteira.errors import GatewayError, GatewayValidationError, InvalidInput, InvalidType
from carteira.ports.gateway import (
    BilletOutcome,
    BilletRequest,
    CarnetId,
    CarnetRequest,
    CarnetStatus,
    ChargeId,
    ChargeStatus,
    ChargeSummary,
    EventKind,
    EventStatus,
    IssuedBillet,
    IssuedCarnet,
    IssuedParcel,
    NotificationEvent,
)

__all__ = ["FakeGateway"]

_SETTLEABLE = frozenset({ChargeStatus.NEW, ChargeStatus.WAITING, ChargeStatus.UNPAID})
_CANCELABLE = frozenset({ChargeStatus.NEW, ChargeStatus.LINK, ChargeStatus.WAITING, ChargeStatus.UNPAID})
_CHANGEABLE = frozenset({ChargeStatus.WAITING, ChargeStatus.UNPAID})
_PAYABLE = frozenset({ChargeStatus.WAITING, ChargeStatus.UNPAID, ChargeStatus.CANCELED, ChargeStatus.IDENTIFIED})
_RESOLVED = frozenset(
    {ChargeStatus.PAID, ChargeStatus.SETTLED, ChargeStatus.CANCELED, ChargeStatus.REFUNDED, ChargeStatus.CONTESTED}
)


IdScheme = Literal["sequential", "uuid"]
"""How a :class:`FakeGateway` mints ids: ``"sequential"`` (``"1001"``, ``"1002"``, as Efí's digits) or ``"uuid"``."""


@attrs.define
class _Charge:
    charge_id: ChargeId
    number: int  # the order of creation, for the barcode, whatever the id looks like
    operation_id: str | None
    status: ChargeStatus
    total: Money
    due: date
    token: str
    notification_url: str | None
    created_at: datetime
    carnet_id: CarnetId | None = None
    parcel: int | None = None
    paid_value: Money | None = None
    paid_on: date | None = None


@attrs.define
class _Carnet:
    carnet_id: CarnetId
    operation_id: str | None
    status: CarnetStatus
    parcels: list[ChargeId]
    token: str
    notification_url: str | None


def _refused(code: int, message: str, field: str | None = None) -> GatewayValidationError:
    # The same shape EfiGateway gives an Efí refusal: the code set, HTTP 400, not retryable.
    return GatewayValidationError(f"Efí refused it: {message}", code=code, field=field, status=400)


class FakeGateway:
    """An in-memory :class:`~carteira.ports.gateway.PaymentGateway` with Efí's checks and state rules.

    Args:
        today: the fake's date (the clock for due-date checks and overdue charges); move it with
            :meth:`advance` or by assigning :attr:`today`.
        on_notification: called as ``on_notification(notification_url, token)`` on every status change
            of a charge or carnet created with a ``notification_url``, as Efí POSTs to it.
        ids: ``"sequential"`` ids (``"1001"``...; carnets from ``"501"``) or ``"uuid"`` ids (random
            UUIDs, as a gateway with opaque ids would give).
        carnet_limits: the fewest and most parcels of one carnet; Efí's 2 to 12 by default.

    Raises:
        InvalidInput: ``today`` is not a date, or ``ids`` is not a known scheme.
    """

    def __init__(
        self,
        *,
        today: date,
        on_notification: Callable[[str, str], None] | None = None,
        ids: IdScheme = "sequential",
        carnet_limits: CarnetLimits = rules.EFI_CARNET_LIMITS,
    ) -> None:
        if not isinstance(today, date):
            raise InvalidInput("must be a date", field="today", raw=repr(today))
        if ids not in ("sequential", "uuid"):
            raise InvalidInput("must be 'sequential' or 'uuid'", field="ids", raw=repr(ids))
        if not isinstance(carnet_limits, CarnetLimits):
            raise InvalidType(f"must be a CarnetLimits, not {type(carnet_limits).__name__}", field="carnet_limits")
        self._today = today
        self._on_notification = on_notification
        self._ids: IdScheme = ids
        self._carnet_limits = carnet_limits
        self._lock = threading.RLock()
        self._charges: dict[ChargeId, _Charge] = {}
        self._carnets: dict[CarnetId, _Carnet] = {}
        self._events: dict[str, list[NotificationEvent]] = {}
        self._next_charge_number = 1001
        self._next_carnet_number = 501
        self._failures: list[GatewayError] = []
        self._identical: dict[tuple[object, ...], int] = {}  # Efí refuses the third identical charge (4600210)

    def __repr__(self) -> str:
        return f"FakeGateway(today={self._today.isoformat()}, ids={self._ids!r}, charges={len(self._charges)})"

    @property
    def carnet_limits(self) -> CarnetLimits:
        """The fewest and most parcels of one carnet (Efí's 2 to 12 unless given others)."""
        return self._carnet_limits

    # --- hooks for tests -----------------------------------------------------------------------

    @property
    def today(self) -> date:
        """The fake's date."""
        return self._today

    @today.setter
    def today(self, value: date) -> None:
        with self._lock:
            if value < self._today:
                raise InvalidInput("the fake's clock only moves forward", field="today", raw=value.isoformat())
            self._today = value
            self._fall_overdue()

    def advance(self, days: int) -> None:
        """Move the clock ``days`` forward; waiting charges past their due date become ``unpaid``."""
        self.today = self._today + timedelta(days=days)

    def fail_next(self, error: GatewayError, times: int = 1) -> None:
        """Make the next ``times`` calls raise ``error`` before doing anything (error paths in your tests)."""
        with self._lock:
            self._failures.extend([error] * times)

    def pay(self, charge_id: ChargeId, value: Money | None = None, paid_on: date | None = None) -> None:
        """The payer paid ``charge_id`` at the bank: ``value`` (the total by default) on ``paid_on`` (today).

        Raises:
            GatewayValidationError: the charge does not exist or cannot be paid in its status.
        """
        with self._lock:
            charge = self._charge(charge_id)
            if charge.status not in _PAYABLE:
                raise _refused(3500044, f"charge {charge_id} cannot be paid while {charge.status.value}")
            charge.paid_value = value if value is not None else charge.total
            charge.paid_on = paid_on or self._today
            self._move(charge, ChargeStatus.PAID)

    def status(self, charge_id: ChargeId) -> ChargeStatus:
        """The current status of a charge (for assertions)."""
        with self._lock:
            return self._charge(charge_id).status

    def carnet_status(self, carnet_id: CarnetId) -> CarnetStatus:
        """The current status of a carnet (``UP_TO_DATE``, ``UNPAID``, ``FINISHED`` or ``CANCELED``)."""
        with self._lock:
            return self._carnet(carnet_id).status

    def token_of(self, charge_id: ChargeId) -> str:
        """The notification token of a charge (a carnet parcel shares its carnet's)."""
        with self._lock:
            return self._charge(charge_id).token

    # --- the port ------------------------------------------------------------------------------

    def create_billet(self, request: BilletRequest) -> IssuedBillet:
        """Issue a billet in memory after the same checks as ``EfiGateway``."""
        with self._lock:
            self._maybe_fail()
            checked = rules.check_billet(request, self._today)
            likeness = (checked.payer.tax_id, request.items, request.due, request.shipping)
            if self._identical.get(likeness, 0) >= 2:
                raise _refused(4600210, "two identical charges exist already: change the description, due or value")
            self._identical[likeness] = self._identical.get(likeness, 0) + 1
            charge = self._new_charge(
                request.operation_id, checked.total, request.due, request.notification_url, token=None
            )
            self._event(charge.token, charge, ChargeStatus.NEW, None)
            self._move(charge, ChargeStatus.WAITING)
            return IssuedBillet(
                charge_id=charge.charge_id,
                operation_id=charge.operation_id,
                status=charge.status,
                total=charge.total,
                due=charge.due,
                barcode=_barcode(charge),
                link=f"https://fake.invalid/billet/{charge.charge_id}",
                pdf=f"https://fake.invalid/billet/{charge.charge_id}.pdf",
                adjustments=checked.adjustments,
            )

    def create_billets(
        self,
        requests: Sequence[BilletRequest],
        *,
        concurrency: int = 8,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[BilletOutcome]:
        """Issue many billets, one outcome per request in order (the fake runs them one by one)."""
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= 256:
            raise InvalidInput("must be a whole number from 1 to 256", field="concurrency", raw=repr(concurrency))
        outcomes = []
        for request in requests:
            try:
                outcomes.append(BilletOutcome(request=request, billet=self.create_billet(request)))
            except GatewayError as exc:
                outcomes.append(BilletOutcome(request=request, error=exc))
            if progress is not None:
                progress(len(outcomes), len(requests))
        return outcomes

    def create_carnet(self, request: CarnetRequest) -> IssuedCarnet:
        """Issue a carnet in memory: monthly parcels anchored on the first due date."""
        with self._lock:
            self._maybe_fail()
            checked = rules.check_carnet(request, self._today, self._carnet_limits)
            carnet_id = CarnetId(self._mint_carnet_id())
            token = f"fake-carnet-{carnet_id}"
            carnet = _Carnet(
                carnet_id, request.operation_id, CarnetStatus.UP_TO_DATE, [], token, request.notification_url
            )
            self._carnets[carnet_id] = carnet
            self._events[token] = []
            self._carnet_event(carnet, CarnetStatus.UP_TO_DATE, None)
            values = _parcel_values(checked.total, request.repeats, split=request.split_items)
            parcels = []
            for index, value in enumerate(values):
                due = request.first_due + relativedelta(months=index)
                charge = self._new_charge(request.operation_id, value, due, request.notification_url, token=token)
                charge.carnet_id, charge.parcel = carnet_id, index + 1
                carnet.parcels.append(charge.charge_id)
                self._move(charge, ChargeStatus.WAITING)
                parcels.append(
                    IssuedParcel(
                        parcel=index + 1,
                        charge_id=charge.charge_id,
                        status=charge.status,
                        value=value,
                        due=due,
                        barcode=_barcode(charge),
                        link=f"https://fake.invalid/carnet/{carnet_id}/{index + 1}",
                    )
                )
            return IssuedCarnet(
                carnet_id=carnet_id,
                operation_id=request.operation_id,
                status=carnet.status,
                parcels=tuple(parcels),
                link=f"https://fake.invalid/carnet/{carnet_id}",
                pdf=f"https://fake.invalid/carnet/{carnet_id}.pdf",
                adjustments=checked.adjustments,
            )

    def change_due_date(self, charge_id: ChargeId, due: date) -> None:
        """Move a billet's due date under Efí's rules (waiting or unpaid; not a carnet parcel)."""
        with self._lock:
            self._maybe_fail()
            rules.check_new_due(due, self._today)
            charge = self._charge(charge_id)
            if charge.carnet_id is not None:
                raise _refused(3500036, f"charge {charge_id} is a carnet parcel: change it through its carnet")
            self._redate(charge, due)

    def change_parcel_due_date(self, carnet_id: CarnetId, parcel: int, due: date) -> None:
        """Move one parcel's due date under Efí's rules."""
        with self._lock:
            self._maybe_fail()
            rules.check_new_due(due, self._today)
            self._redate(self._parcel(carnet_id, parcel), due)

    def settle_charge(self, charge_id: ChargeId) -> bool:
        """Mark a billet paid by hand; ``False`` when it already was."""
        with self._lock:
            self._maybe_fail()
            return self._settle(self._standalone(charge_id))

    def settle_parcel(self, carnet_id: CarnetId, parcel: int) -> bool:
        """Mark one parcel paid by hand; ``False`` when it already was."""
        with self._lock:
            self._maybe_fail()
            charge = self._parcel(carnet_id, parcel)
            if charge.status is not ChargeStatus.SETTLED:
                self._open_carnet(carnet_id)
            return self._settle(charge)

    def cancel_charge(self, charge_id: ChargeId) -> bool:
        """Cancel a billet; ``False`` when it already was cancelled."""
        with self._lock:
            self._maybe_fail()
            return self._cancel(self._standalone(charge_id))

    def cancel_carnet(self, carnet_id: CarnetId) -> bool:
        """Cancel every open parcel of a carnet; ``False`` when it already was cancelled."""
        with self._lock:
            self._maybe_fail()
            carnet = self._carnet(carnet_id)
            if carnet.status is CarnetStatus.CANCELED:
                return False
            self._open_carnet(carnet_id)
            for charge_id in carnet.parcels:
                charge = self._charges[charge_id]
                if charge.status in _CANCELABLE:
                    self._move(charge, ChargeStatus.CANCELED)
            carnet.status = CarnetStatus.CANCELED
            self._carnet_event(carnet, CarnetStatus.CANCELED, None)
            return True

    def cancel_parcel(self, carnet_id: CarnetId, parcel: int) -> bool:
        """Cancel one parcel; ``False`` when it already was cancelled."""
        with self._lock:
            self._maybe_fail()
            charge = self._parcel(carnet_id, parcel)
            if charge.status is not ChargeStatus.CANCELED:
                self._open_carnet(carnet_id)
            return self._cancel(charge)

    def resend_billet(self, charge_id: ChargeId, email: str) -> None:
        """Pretend to e-mail a billet; only a waiting one can be resent (code 3500066)."""
        with self._lock:
            self._maybe_fail()
            rules.check_email(email)
            self._resendable(self._standalone(charge_id))

    def resend_carnet(self, carnet_id: CarnetId, email: str) -> None:
        """Pretend to e-mail a carnet; a finished or cancelled one cannot be resent."""
        with self._lock:
            self._maybe_fail()
            rules.check_email(email)
            self._open_carnet(carnet_id)

    def resend_parcel(self, carnet_id: CarnetId, parcel: int, email: str) -> None:
        """Pretend to e-mail one parcel; only a waiting one can be resent."""
        with self._lock:
            self._maybe_fail()
            rules.check_email(email)
            charge = self._parcel(carnet_id, parcel)
            self._open_carnet(carnet_id)
            self._resendable(charge)

    def notification_events(self, token: str) -> list[NotificationEvent]:
        """Every event behind ``token``, oldest first."""
        with self._lock:
            self._maybe_fail()
            if token not in self._events:
                raise _refused(3500010, f"notification token {token!r} does not exist", field="token")
            return list(self._events[token])

    def find_charges(self, operation_id: str) -> list[ChargeSummary]:
        """The charges (billets and parcels) created with ``operation_id``, in the order they were created."""
        with self._lock:
            self._maybe_fail()
            if not isinstance(operation_id, str) or not operation_id:
                raise GatewayValidationError("operation_id: is empty (checked before sending)", field="operation_id")
            return [
                ChargeSummary(
                    charge_id=c.charge_id,
                    operation_id=c.operation_id,
                    status=c.status,
                    total=c.total,
                    carnet_id=c.carnet_id,
                    parcel=c.parcel,
                    created_at=c.created_at,
                    paid_value=c.paid_value,
                    paid_on=c.paid_on,
                )
                for c in self._charges.values()
                if c.operation_id == operation_id
            ]

    # --- state ---------------------------------------------------------------------------------

    def _maybe_fail(self) -> None:
        if self._failures:
            raise self._failures.pop(0)

    def _mint_carnet_id(self) -> str:
        number = self._next_carnet_number
        self._next_carnet_number += 1
        return str(uuid.uuid4()) if self._ids == "uuid" else str(number)

    def _new_charge(
        self, operation_id: str | None, total: Money, due: date, url: str | None, *, token: str | None
    ) -> _Charge:
        number = self._next_charge_number
        self._next_charge_number += 1
        charge_id = ChargeId(str(uuid.uuid4()) if self._ids == "uuid" else str(number))
        token = token or f"fake-charge-{charge_id}"
        self._events.setdefault(token, [])
        created = datetime.combine(self._today, time(9, 0))
        charge = _Charge(charge_id, number, operation_id, ChargeStatus.NEW, total, due, token, url, created)
        self._charges[charge_id] = charge
        return charge

    def _charge(self, charge_id: ChargeId) -> _Charge:
        _check_id(charge_id, "charge_id")
        charge = self._charges.get(charge_id)
        if charge is None:
            raise _refused(3500010, f"charge {charge_id!r} does not exist", field="id")
        return charge

    def _standalone(self, charge_id: ChargeId) -> _Charge:
        charge = self._charge(charge_id)
        if charge.carnet_id is not None:
            raise _refused(3500084, f"charge {charge_id} is a carnet parcel: use the carnet's endpoints")
        return charge

    def _carnet(self, carnet_id: CarnetId) -> _Carnet:
        _check_id(carnet_id, "carnet_id")
        carnet = self._carnets.get(carnet_id)
        if carnet is None:
            raise _refused(3500010, f"carnet {carnet_id!r} does not exist", field="id")
        return carnet

    def _parcel(self, carnet_id: CarnetId, parcel: int) -> _Charge:
        carnet = self._carnet(carnet_id)
        if isinstance(parcel, bool) or not isinstance(parcel, int) or not 1 <= parcel <= len(carnet.parcels):
            raise _refused(3500010, f"carnet {carnet_id} has no parcel {parcel!r}", field="parcel")
        return self._charges[carnet.parcels[parcel - 1]]

    def _open_carnet(self, carnet_id: CarnetId) -> None:
        carnet = self._carnet(carnet_id)
        if carnet.status is CarnetStatus.FINISHED:
            raise _refused(3500083, f"carnet {carnet_id} is finished and cannot be changed")
        if carnet.status is CarnetStatus.CANCELED:
            raise _refused(3500068, f"carnet {carnet_id} is cancelled: only an active carnet can be changed")

    def _redate(self, charge: _Charge, due: date) -> None:
        if charge.status not in _CHANGEABLE:
            raise _refused(3500038, f"charge {charge.charge_id} is {charge.status.value}: only waiting or unpaid")
        charge.due = due
        if charge.status is ChargeStatus.UNPAID:
            self._move(charge, ChargeStatus.WAITING)

    def _settle(self, charge: _Charge) -> bool:
        if charge.status is ChargeStatus.SETTLED:
            return False
        if charge.status not in _SETTLEABLE:
            raise _refused(3500069, f"charge {charge.charge_id} is {charge.status.value}: it cannot be settled")
        self._move(charge, ChargeStatus.SETTLED)
        return True

    def _cancel(self, charge: _Charge) -> bool:
        if charge.status is ChargeStatus.CANCELED:
            return False
        if charge.status not in _CANCELABLE:
            raise _refused(3500043, f"charge {charge.charge_id} is {charge.status.value}: it cannot be cancelled")
        self._move(charge, ChargeStatus.CANCELED)
        return True

    def _resendable(self, charge: _Charge) -> None:
        if charge.status is not ChargeStatus.WAITING:
            raise _refused(3500066, f"charge {charge.charge_id} is {charge.status.value}: only waiting can be resent")

    def _fall_overdue(self) -> None:
        for charge in self._charges.values():
            if charge.status is ChargeStatus.WAITING and charge.due < self._today:
                self._move(charge, ChargeStatus.UNPAID)

    def _move(self, charge: _Charge, status: ChargeStatus) -> None:
        previous = charge.status
        charge.status = status
        self._event(charge.token, charge, status, previous)
        if charge.carnet_id is not None:
            self._derive_carnet(self._carnets[charge.carnet_id])

    def _derive_carnet(self, carnet: _Carnet) -> None:
        if carnet.status in (CarnetStatus.FINISHED, CarnetStatus.CANCELED):
            return
        statuses = [self._charges[charge_id].status for charge_id in carnet.parcels]
        if len(statuses) < 1:
            return
        if all(status in _RESOLVED for status in statuses):
            new = CarnetStatus.FINISHED
        elif any(status is ChargeStatus.UNPAID for status in statuses):
            new = CarnetStatus.UNPAID
        else:
            new = CarnetStatus.UP_TO_DATE
        if new is not carnet.status:
            previous, carnet.status = carnet.status, new
            self._carnet_event(carnet, new, previous)

    def _event(self, token: str, charge: _Charge, status: ChargeStatus, previous: ChargeStatus | None) -> None:
        events = self._events[token]
        paid = status is ChargeStatus.PAID
        events.append(
            NotificationEvent(
                token=token,
                event_id=len(events) + 1,
                kind=EventKind.CHARGE if charge.carnet_id is None else EventKind.PARCEL,
                status=status,
                previous_status=previous,
                operation_id=charge.operation_id,
                charge_id=charge.charge_id,
                carnet_id=charge.carnet_id,
                parcel=charge.parcel,
                created_at=datetime.combine(self._today, time(9, 0)),
                paid_value=charge.paid_value if paid else None,
                paid_on=charge.paid_on if paid else None,
            )
        )
        if charge.notification_url and self._on_notification is not None:
            self._on_notification(charge.notification_url, token)

    def _carnet_event(self, carnet: _Carnet, status: CarnetStatus, previous: EventStatus | None) -> None:
        events = self._events[carnet.token]
        events.append(
            NotificationEvent(
                token=carnet.token,
                event_id=len(events) + 1,
                kind=EventKind.CARNET,
                status=status,
                previous_status=previous,
                operation_id=carnet.operation_id,
                charge_id=None,
                carnet_id=carnet.carnet_id,
                created_at=datetime.combine(self._today, time(9, 0)),
            )
        )
        if carnet.notification_url and self._on_notification is not None:
            self._on_notification(carnet.notification_url, carnet.token)


def _check_id(value: str, field: str) -> None:
    # The same refusal as EfiGateway's for an id of the wrong type (an int from before ids were strings).
    if not isinstance(value, str):
        raise InvalidType(
            f"{field} must be a string id (as the gateway's results carry it), not {type(value).__name__}", field=field
        )


def _parcel_values(total: Money, repeats: int, *, split: bool) -> list[Money]:
    if not split:
        return [total] * repeats
    # Efí's remainder rounding is undocumented; the fake puts the odd cents on the first parcel.
    share, rest = divmod(total.cents, repeats)
    return [Money.from_cents(share + (rest if index == 0 else 0)) for index in range(repeats)]


def _barcode(charge: _Charge) -> str:
    digits = f"36490000{charge.number:010d}{charge.total.cents:012d}".ljust(47, "0")[:47]
    return f"{digits[:5]}.{digits[5:10]} {digits[10:15]}.{digits[15:21]} {digits[21:26]}.{digits[26:32]} " + (
        f"{digits[32]} {digits[33:]}"
    )
