"""The contract every :class:`~carteira.ports.gateway.PaymentGateway` passes, ours and yours.

Subclass :class:`PaymentGatewayContract` in a pytest module and override its ``harness`` fixture
to return a :class:`GatewayHarness` around your adapter; pytest then runs every test of the
contract against it (eventsourcing ships its recorder suites the same way). carteira runs it
against :class:`~carteira.testing.fake_gateway.FakeGateway` and against
:class:`~carteira.adapters.efi.EfiGateway` over the Efí emulator, so the two cannot drift::

    class TestMyGateway(PaymentGatewayContract):
        @pytest.fixture
        def harness(self) -> GatewayHarness:
            return MyHarness(...)

The harness's clock must read :attr:`GatewayHarness.today` (2026-01-10 is what the suite assumes
nothing about: every date is relative to it), and a charge created with
``notification_url=harness.callback_url`` must have its notification tokens delivered to
:meth:`GatewayHarness.delivered_tokens`.

The suite assumes nothing about ids but that they are strings, stable and distinct (carteira runs
it against a fake with UUID ids too), and nothing about carnet limits but that the gateway's
:attr:`~carteira.ports.gateway.PaymentGateway.carnet_limits` allow a carnet of three parcels.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

import pytest

from carteira.domain.carnet import CarnetLimits
from carteira.domain.money import Money
from carteira.errors import GatewayValidationError
from carteira.ports.gateway import (
    BilletRequest,
    CarnetId,
    CarnetRequest,
    CarnetStatus,
    ChargeId,
    ChargeStatus,
    EventKind,
    Item,
    Payer,
    PaymentGateway,
    find_created,
)

__all__ = ["GatewayHarness", "PaymentGatewayContract"]

_CPF = "529.982.247-25"
_CNPJ = "11.222.333/0001-81"


class GatewayHarness(Protocol):
    """What the contract needs around a gateway: the gateway, its clock, a payment hook and the callbacks."""

    @property
    def gateway(self) -> PaymentGateway:
        """The gateway under test."""
        ...

    @property
    def today(self) -> date:
        """The date the gateway's clock reads."""
        ...

    @property
    def callback_url(self) -> str:
        """A ``notification_url`` whose deliveries :meth:`delivered_tokens` reports."""
        ...

    def pay(self, charge_id: ChargeId, value: Money | None = None, paid_on: date | None = None) -> None:
        """Make the payer pay ``charge_id`` at the bank (the whole total when ``value`` is ``None``)."""
        ...

    def delivered_tokens(self) -> list[str]:
        """Every notification token delivered to :attr:`callback_url` so far, in order (repeats allowed)."""
        ...


class PaymentGatewayContract:
    """The contract suite: subclass it, override ``harness``, and pytest runs every ``test_`` here."""

    counter = 0

    @pytest.fixture
    def harness(self) -> GatewayHarness:
        """Override in your subclass: return (or yield, to clean up after) a harness around a fresh gateway."""
        raise NotImplementedError("override the `harness` fixture in your PaymentGatewayContract subclass")

    # --- builders ------------------------------------------------------------------------------

    def operation_id(self) -> str:
        """An operation id unique within the test session."""
        PaymentGatewayContract.counter += 1
        return f"contract-{PaymentGatewayContract.counter}"

    def billet(self, harness: GatewayHarness, **changes: Any) -> BilletRequest:
        """A billet every gateway accepts, with ``changes`` applied."""
        operation_id = self.operation_id()
        fields: dict[str, Any] = {
            # a description of its own: Efí refuses the third identical charge (4600210)
            "items": (Item(f"Mensalidade {operation_id}", Money("125.00")),),
            "payer": Payer("Maria da Silva", _CPF, email="maria@example.com", phone="(11) 98765-4321"),
            "due": harness.today + timedelta(days=30),
            "operation_id": operation_id,
        }
        fields.update(changes)
        return BilletRequest(**fields)

    def carnet(self, harness: GatewayHarness, **changes: Any) -> CarnetRequest:
        """A carnet of three monthly parcels every gateway accepts, with ``changes`` applied."""
        fields: dict[str, Any] = {
            "items": (Item("Curso", Money("300.00")),),
            "payer": Payer("João Souza", _CPF, email="joao@example.com"),
            "first_due": _next_fifth(harness.today + timedelta(days=10)),
            "repeats": 3,
            "operation_id": self.operation_id(),
        }
        fields.update(changes)
        return CarnetRequest(**fields)

    # --- billets -------------------------------------------------------------------------------

    def test_a_billet_is_issued_and_found_by_operation_id(self, harness: GatewayHarness) -> None:
        request = self.billet(harness, items=(Item("A", Money("100.00")), Item("B", Money("12.50"), quantity=2)))
        issued = harness.gateway.create_billet(request)
        assert issued.status is ChargeStatus.WAITING
        assert issued.status_raw
        assert issued.total == Money("125.00")
        assert issued.due == request.due
        assert issued.operation_id == request.operation_id
        assert isinstance(issued.charge_id, str)
        assert issued.charge_id
        assert issued.barcode
        assert request.operation_id is not None
        found = harness.gateway.find_charges(request.operation_id)
        assert [(f.charge_id, f.status, f.total, f.carnet_id, f.parcel) for f in found] == [
            (issued.charge_id, ChargeStatus.WAITING, Money("125.00"), None, None)
        ]
        assert find_created(harness.gateway, request.operation_id) == found[0]

    def test_an_unknown_operation_id_finds_nothing(self, harness: GatewayHarness) -> None:
        assert harness.gateway.find_charges(self.operation_id()) == []

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"payer": Payer("Maria", _CPF)}, "payer.name"),
            ({"payer": Payer("Maria da Silva", "529.982.247-24")}, "payer.tax_id"),
            ({"items": (Item("x", Money("4.99")),)}, "items"),
            ({"fine_rate": Decimal("0.025001")}, "fine_rate"),
            ({"monthly_interest_rate": Decimal("0.2")}, "monthly_interest_rate"),
        ],
        ids=["one-word-name", "bad-cpf", "under-5-reais", "fine-not-integral", "interest-over-cap"],
    )
    def test_what_efi_refuses_is_refused_before_sending(
        self, harness: GatewayHarness, changes: dict[str, Any], field: str
    ) -> None:
        request = self.billet(harness, **changes)
        with pytest.raises(GatewayValidationError) as caught:
            harness.gateway.create_billet(request)
        assert caught.value.field == field
        assert caught.value.code is None  # refused locally: nothing was sent
        assert request.operation_id is not None
        assert harness.gateway.find_charges(request.operation_id) == []

    @pytest.mark.parametrize("days", [0, -1])
    def test_a_due_date_on_or_before_today_is_refused(self, harness: GatewayHarness, days: int) -> None:
        with pytest.raises(GatewayValidationError) as caught:
            harness.gateway.create_billet(self.billet(harness, due=harness.today + timedelta(days=days)))
        assert caught.value.field == "due"

    def test_the_floor_of_five_reais_is_inclusive(self, harness: GatewayHarness) -> None:
        issued = harness.gateway.create_billet(self.billet(harness, items=(Item("x", Money("5.00")),)))
        assert issued.total == Money("5.00")

    def test_a_company_and_an_unusable_phone_are_accepted_with_the_phone_left_out(
        self, harness: GatewayHarness
    ) -> None:
        issued = harness.gateway.create_billet(self.billet(harness, payer=Payer("Acme", _CNPJ, phone="ramal 12")))
        assert issued.status is ChargeStatus.WAITING
        assert any("phone" in note for note in issued.adjustments)

    def test_rounded_interest_is_reported(self, harness: GatewayHarness) -> None:
        issued = harness.gateway.create_billet(
            self.billet(harness, fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
        )
        assert any("0.99 %" in note for note in issued.adjustments)

    def test_many_billets_give_one_outcome_each_in_order(self, harness: GatewayHarness) -> None:
        requests = [self.billet(harness) for _ in range(4)]
        requests[2] = self.billet(harness, payer=Payer("Maria", _CPF))
        seen: list[tuple[int, int]] = []
        outcomes = harness.gateway.create_billets(
            requests, concurrency=3, progress=lambda done, total: seen.append((done, total))
        )
        assert seen == [(n, 4) for n in range(1, 5)]
        assert [o.request for o in outcomes] == requests
        assert [o.ok for o in outcomes] == [True, True, False, True]
        assert isinstance(outcomes[2].error, GatewayValidationError)
        ids = [o.billet.charge_id for o in outcomes if o.billet is not None]
        assert len(set(ids)) == 3

    def test_the_third_identical_billet_is_refused(self, harness: GatewayHarness) -> None:
        same = {"items": (Item("Mensalidade", Money("99.90")),), "due": harness.today + timedelta(days=15)}
        harness.gateway.create_billet(self.billet(harness, **same))
        harness.gateway.create_billet(self.billet(harness, **same))  # a duplicate is not refused: operation_id matters
        with pytest.raises(GatewayValidationError) as caught:
            harness.gateway.create_billet(self.billet(harness, **same))
        assert caught.value.code == 4600210
        assert caught.value.retryable is False

    # --- state changes -------------------------------------------------------------------------

    def test_the_due_date_moves_forward_but_never_to_today(self, harness: GatewayHarness) -> None:
        issued = harness.gateway.create_billet(self.billet(harness))
        harness.gateway.change_due_date(issued.charge_id, harness.today + timedelta(days=45))
        with pytest.raises(GatewayValidationError) as caught:
            harness.gateway.change_due_date(issued.charge_id, harness.today)
        assert caught.value.field == "due"

    def test_settle_is_idempotent_and_then_cancel_is_refused(self, harness: GatewayHarness) -> None:
        issued = harness.gateway.create_billet(self.billet(harness))
        assert harness.gateway.settle_charge(issued.charge_id) is True
        assert harness.gateway.settle_charge(issued.charge_id) is False
        with pytest.raises(GatewayValidationError) as caught:
            harness.gateway.cancel_charge(issued.charge_id)
        assert caught.value.code is not None
        with pytest.raises(GatewayValidationError):
            harness.gateway.change_due_date(issued.charge_id, harness.today + timedelta(days=40))
        assert self._status(harness, issued.operation_id) is ChargeStatus.SETTLED

    def test_cancel_is_idempotent_and_then_settle_and_resend_are_refused(self, harness: GatewayHarness) -> None:
        issued = harness.gateway.create_billet(self.billet(harness))
        harness.gateway.resend_billet(issued.charge_id, "maria@example.com")
        assert harness.gateway.cancel_charge(issued.charge_id) is True
        assert harness.gateway.cancel_charge(issued.charge_id) is False
        with pytest.raises(GatewayValidationError) as caught:
            harness.gateway.settle_charge(issued.charge_id)
        assert caught.value.code is not None
        with pytest.raises(GatewayValidationError):
            harness.gateway.resend_billet(issued.charge_id, "maria@example.com")
        assert self._status(harness, issued.operation_id) is ChargeStatus.CANCELED

    def test_a_paid_billet_can_be_neither_settled_nor_cancelled(self, harness: GatewayHarness) -> None:
        issued = harness.gateway.create_billet(self.billet(harness))
        harness.pay(issued.charge_id)
        for change in (harness.gateway.settle_charge, harness.gateway.cancel_charge):
            with pytest.raises(GatewayValidationError):
                change(issued.charge_id)
        assert self._status(harness, issued.operation_id) is ChargeStatus.PAID

    @pytest.mark.parametrize("unknown", ["987654321", "no-such-charge", "00000000-0000-4000-8000-000000000000"])
    def test_an_unknown_charge_is_refused(self, harness: GatewayHarness, unknown: str) -> None:
        # Whatever a gateway's ids look like, one it never issued is refused, not taken for another.
        issued = harness.gateway.create_billet(self.billet(harness))
        for change in (harness.gateway.settle_charge, harness.gateway.cancel_charge):
            with pytest.raises(GatewayValidationError):
                change(ChargeId(unknown))
        with pytest.raises(GatewayValidationError):
            harness.gateway.cancel_carnet(CarnetId(unknown))
        assert self._status(harness, issued.operation_id) is ChargeStatus.WAITING

    # --- carnets -------------------------------------------------------------------------------

    def test_a_carnet_has_monthly_parcels_of_the_full_total(self, harness: GatewayHarness) -> None:
        request = self.carnet(harness)
        carnet = harness.gateway.create_carnet(request)
        assert [p.parcel for p in carnet.parcels] == [1, 2, 3]
        first = request.first_due
        assert [p.due for p in carnet.parcels] == [
            first,
            _add_months(first, 1),
            _add_months(first, 2),
        ]
        assert {p.value for p in carnet.parcels} == {Money("300.00")}
        assert {p.status for p in carnet.parcels} == {ChargeStatus.WAITING}
        assert len({p.charge_id for p in carnet.parcels}) == 3
        assert carnet.status is CarnetStatus.UP_TO_DATE
        assert carnet.operation_id == request.operation_id
        assert request.operation_id is not None
        found = {s.charge_id: (s.carnet_id, s.parcel) for s in harness.gateway.find_charges(request.operation_id)}
        assert found == {p.charge_id: (carnet.carnet_id, p.parcel) for p in carnet.parcels}

    def test_the_gateway_says_its_carnet_limits_and_keeps_to_them(self, harness: GatewayHarness) -> None:
        limits = harness.gateway.carnet_limits
        assert isinstance(limits, CarnetLimits)
        assert limits.min_parcels <= 3 <= limits.max_parcels  # the suite's carnets have three parcels
        for repeats in (limits.min_parcels - 1, limits.max_parcels + 1):
            with pytest.raises(GatewayValidationError) as caught:
                harness.gateway.create_carnet(self.carnet(harness, repeats=repeats))
            assert caught.value.field == "repeats"
            assert caught.value.code is None  # refused before sending
        widest = harness.gateway.create_carnet(self.carnet(harness, repeats=limits.max_parcels))
        assert [p.parcel for p in widest.parcels] == list(range(1, limits.max_parcels + 1))

    def test_parcels_change_only_through_their_carnet(self, harness: GatewayHarness) -> None:
        carnet = harness.gateway.create_carnet(self.carnet(harness))
        first, second, third = carnet.parcels
        with pytest.raises(GatewayValidationError):
            harness.gateway.settle_charge(first.charge_id)
        with pytest.raises(GatewayValidationError):
            harness.gateway.cancel_charge(first.charge_id)
        harness.gateway.change_parcel_due_date(carnet.carnet_id, 1, first.due + timedelta(days=3))
        harness.gateway.resend_parcel(carnet.carnet_id, 2, "joao@example.com")
        harness.gateway.resend_carnet(carnet.carnet_id, "joao@example.com")
        assert harness.gateway.settle_parcel(carnet.carnet_id, 1) is True
        assert harness.gateway.settle_parcel(carnet.carnet_id, 1) is False
        assert harness.gateway.cancel_parcel(carnet.carnet_id, 2) is True
        assert harness.gateway.cancel_parcel(carnet.carnet_id, 2) is False
        with pytest.raises(GatewayValidationError):
            harness.gateway.settle_parcel(carnet.carnet_id, 2)
        assert carnet.operation_id is not None
        statuses = {s.charge_id: s.status for s in harness.gateway.find_charges(carnet.operation_id)}
        assert statuses == {
            first.charge_id: ChargeStatus.SETTLED,
            second.charge_id: ChargeStatus.CANCELED,
            third.charge_id: ChargeStatus.WAITING,
        }
        assert {s.carnet_id for s in harness.gateway.find_charges(carnet.operation_id)} == {carnet.carnet_id}

    def test_a_cancelled_carnet_stays_cancelled(self, harness: GatewayHarness) -> None:
        carnet = harness.gateway.create_carnet(self.carnet(harness))
        assert harness.gateway.cancel_carnet(carnet.carnet_id) is True
        assert harness.gateway.cancel_carnet(carnet.carnet_id) is False
        assert carnet.operation_id is not None
        statuses = {s.status for s in harness.gateway.find_charges(carnet.operation_id)}
        assert statuses == {ChargeStatus.CANCELED}

    # --- notifications -------------------------------------------------------------------------

    def test_a_payment_is_notified_with_value_and_bank_date(self, harness: GatewayHarness) -> None:
        issued = harness.gateway.create_billet(self.billet(harness, notification_url=harness.callback_url))
        paid_on = harness.today + timedelta(days=2)
        harness.pay(issued.charge_id, Money("125.40"), paid_on)
        tokens = harness.delivered_tokens()
        assert tokens
        events = harness.gateway.notification_events(tokens[-1])
        assert [e.event_id for e in events] == list(range(1, len(events) + 1))
        assert all(e.charge_id == issued.charge_id for e in events)
        assert all(e.operation_id == issued.operation_id for e in events)
        assert {(e.kind, e.carnet_id, e.parcel) for e in events} == {(EventKind.CHARGE, None, None)}
        paid = [e for e in events if e.status is ChargeStatus.PAID]
        assert len(paid) == 1
        assert paid[0].paid_value == Money("125.40")
        assert paid[0].paid_on == paid_on
        assert events[-1] == paid[0]
        # the whole history comes back again on the next read: consumers dedupe by (token, event_id)
        assert harness.gateway.notification_events(tokens[-1]) == events

    def test_a_settlement_is_notified_without_a_value(self, harness: GatewayHarness) -> None:
        issued = harness.gateway.create_billet(self.billet(harness, notification_url=harness.callback_url))
        harness.gateway.settle_charge(issued.charge_id)
        events = harness.gateway.notification_events(harness.delivered_tokens()[-1])
        assert events[-1].status is ChargeStatus.SETTLED
        assert events[-1].previous_status is ChargeStatus.WAITING
        assert events[-1].paid_value is None

    def test_a_parcel_payment_is_notified_with_its_carnet_and_parcel(self, harness: GatewayHarness) -> None:
        carnet = harness.gateway.create_carnet(self.carnet(harness, notification_url=harness.callback_url))
        second = carnet.parcels[1]
        harness.pay(second.charge_id, second.value, harness.today + timedelta(days=1))
        events = harness.gateway.notification_events(harness.delivered_tokens()[-1])
        paid = [e for e in events if e.status is ChargeStatus.PAID]
        assert [(e.kind, e.carnet_id, e.charge_id, e.parcel) for e in paid] == [
            (EventKind.PARCEL, carnet.carnet_id, second.charge_id, 2)
        ]
        assert paid[0].paid_value == second.value
        assert paid[0].operation_id == carnet.operation_id
        parcels = {e.charge_id: e.parcel for e in events if e.kind is EventKind.PARCEL}
        assert parcels == {p.charge_id: p.parcel for p in carnet.parcels}
        assert all(isinstance(e.status, CarnetStatus) for e in events if e.kind is EventKind.CARNET)
        assert all(e.parcel is None and e.charge_id is None for e in events if e.kind is EventKind.CARNET)

    # --- helpers -------------------------------------------------------------------------------

    def _status(self, harness: GatewayHarness, operation_id: str | None) -> ChargeStatus:
        assert operation_id is not None
        (found,) = harness.gateway.find_charges(operation_id)
        return found.status


def _next_fifth(day: date) -> date:
    # Carnets start on a 5th: Efí's roll-over for days 29-31 is undocumented, so the contract avoids it.
    if day.day < 5:
        return day.replace(day=5)
    return _add_months(day.replace(day=5), 1)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)
