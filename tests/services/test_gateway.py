"""The outbound gateway integration (seed 000, SPEC G1-G5, G7-G11) end to end on every store.

Each flow runs against the Efí emulator through the real adapter (in-process transport), and the
core ones also against the fake gateway and over loopback HTTP. Bad input is refused with a typed
error and leaves the store exactly as it was.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest

from carteira import Money, Portfolio
from carteira.adapters.efi import EfiGateway, RetryPolicy
from carteira.domain import ChargeTerms, Customer, EveryDayCalendar, Installment, InstallmentStatus, Payment
from carteira.domain.operations import (
    ChargeState,
    Environment,
    GatewayAccount,
    Operation,
    OperationFilter,
    OperationKind,
    OperationStatus,
)
from carteira.errors import InactiveAccount, InvalidInput, NotFound, RuleViolation
from carteira.ports.gateway import CarnetRequest, IssuedCarnet, PaymentGateway
from carteira.ports.storage import Store
from carteira.services.gateway import GatewayIntegration
from carteira.services.outbox import DrainReport, OutboxTiming
from carteira.testing.clock import FixedClock, RecordingNotifier
from carteira.testing.efi_emulator import EfiEmulator, serve
from carteira.testing.fake_gateway import FakeGateway

TODAY = date(2026, 3, 10)
SECRET = "efi-secret-never-shown-41f"
TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
TIMING = OutboxTiming(
    lease=timedelta(seconds=30), quiet=timedelta(seconds=60), backoff=timedelta(seconds=10), max_attempts=3
)


def account(**changes: Any) -> GatewayAccount:
    fields: dict[str, Any] = {
        "client_id": "cid",
        "environment": Environment.SANDBOX,
        "agreement_id": "wallet",
        "agreement_bank_code": "0",
        "bank_account": "itau-1234",
        "payment_fee": Money("2.50"),
        "receipt_history": "101",
        "entries_history": "201",
        "fees_history": "301",
        "notify": ("ana", "rui"),
    }
    fields.update(changes)
    return GatewayAccount(**fields)


@attrs.define
class World:
    """A portfolio over a store, wired to a gateway, with a clock and the notices sent."""

    portfolio: Portfolio
    store: Store
    clock: FixedClock
    notifier: RecordingNotifier
    emulator: EfiEmulator | None

    @property
    def gateway(self) -> GatewayIntegration:
        return self.portfolio.gateway

    def ops(self, **criteria: Any) -> list[Operation]:
        return self.gateway.operations(OperationFilter(**criteria))

    def installment(self, installment_id: str) -> Installment:
        with self.store.unit_of_work() as uow:
            return uow.installments.get(installment_id)

    def charge_status(self, installment_id: str) -> str:
        assert self.emulator is not None
        with self.store.unit_of_work() as uow:
            charge = uow.gateway_charges.get(installment_id)
        return str(self.emulator.charges[int(charge.charge_id)]["status"])

    def snapshot(self) -> tuple[Any, ...]:
        """Everything a refused call must leave as it was."""
        with self.store.unit_of_work() as uow:
            installments = uow.installments.get_many([f"i{n}" for n in range(1, 10)])
            charges = uow.gateway_charges.get_many(installments)
        return (self.ops(), installments, charges, len(self.emulator.charges) if self.emulator else None)


def seed(store: Store, *, names: Sequence[str] = ("Maria Silva", "Joao")) -> None:
    """Two customers (the second's one-word name Efí refuses) and installments i1-i6 on the wallet; i9 elsewhere."""
    with store.unit_of_work() as uow:
        for n, name in enumerate(names, start=1):
            uow.customers.put(
                Customer(f"c{n}", name, tax_id="52998224725", email=f"c{n}@example.com.br", phone="11987654321")
            )
        for n in range(1, 7):
            customer = "c2" if n == 2 else "c1"
            uow.installments.put(
                Installment(
                    f"i{n}",
                    customer,
                    TODAY + timedelta(days=30 * n),
                    Money("99.90"),
                    TERMS,
                    bank_contract="wallet",
                    number=n,
                    description="Internet 300 MB",
                )
            )
        uow.installments.put(
            Installment("i9", "c1", TODAY + timedelta(days=30), Money("50.00"), TERMS, bank_contract="itau-agreement")
        )
        uow.commit()


def efi_on(emulator: EfiEmulator, **options: Any) -> EfiGateway:
    return EfiGateway(
        "cid",
        SECRET,
        "sandbox",
        transport=emulator.transport(),
        today=lambda: emulator.today,
        retry=RetryPolicy(attempts=2, backoff_initial_s=0, backoff_max_s=0),
        **options,
    )


def world(store: Store, gateway: PaymentGateway, emulator: EfiEmulator | None = None) -> World:
    clock = FixedClock(TODAY)
    notifier = RecordingNotifier()
    portfolio = Portfolio(
        store,
        gateway=gateway,
        clock=clock,
        calendar=EveryDayCalendar(),
        notifier=notifier,
        timing=TIMING,
        notification_url="https://erp.example.com.br/efi",
    )
    portfolio.gateway.configure(account())
    seed(store)
    return World(portfolio, store, clock, notifier, emulator)


@pytest.fixture
def emulator() -> Iterator[EfiEmulator]:
    emu = EfiEmulator(client_id="cid", client_secret=SECRET, today=TODAY)
    yield emu
    emu.close()


@pytest.fixture
def on_efi(store: Store, emulator: EfiEmulator) -> Iterator[World]:
    with efi_on(emulator) as efi:
        yield world(store, efi, emulator)


def test_a_billing_run_issues_each_billet_and_a_refusal_is_an_outcome_of_its_own(on_efi: World) -> None:
    seen: list[tuple[int, int]] = []
    run = on_efi.gateway.issue_billets(["i1", "i2", "i3"], concurrency=3, progress=lambda d, t: seen.append((d, t)))
    assert (run.report.sent, run.report.failed, run.deferred) == (2, 1, 0)
    assert sorted(seen) == [(1, 3), (2, 3), (3, 3)]
    by_document = {op.documents[0]: op for op in on_efi.ops()}
    refused = by_document["i2"]
    assert (refused.status, refused.flagged, refused.error and refused.error.field) == (
        OperationStatus.FAILED,
        True,
        "payer.name",
    )
    assert refused.customer_id == "c2"
    with on_efi.store.unit_of_work() as uow:
        charges = uow.gateway_charges.get_many(["i1", "i2", "i3"])
    assert set(charges) == {"i1", "i3"}
    assert on_efi.emulator is not None
    for installment_id, charge in charges.items():
        stored = on_efi.emulator.charges[int(charge.charge_id)]
        assert stored["custom_id"] == by_document[installment_id].id  # the operation id went as custom_id (G2)
        assert (charge.total, charge.due, charge.state) == (
            Money("99.90"),
            on_efi.installment(installment_id).due,
            ChargeState.ISSUED,
        )
    assert '"Internet 300 MB"' in by_document["i1"].request
    assert [notice.users for notice in on_efi.notifier.sent] == [("ana", "rui")]  # G10: the users are told
    assert "payer.name" in on_efi.notifier.sent[0].body


def test_fix_the_customer_and_resend_rebuilds_the_request_from_the_current_data(on_efi: World) -> None:
    on_efi.gateway.issue_billets(["i2"])
    (failed,) = on_efi.ops(status=OperationStatus.FAILED)
    with pytest.raises(RuleViolation):
        on_efi.gateway.resend(on_efi.gateway.issue_billets(["i1"]).operation_ids[0])  # only a failed one
    with on_efi.store.unit_of_work() as uow:
        uow.customers.put(attrs.evolve(uow.customers.get("c2"), name="Joao Souza"))
        uow.commit()
    again = on_efi.gateway.resend(failed.id)
    assert (again.status, again.id, again.attempts) == (OperationStatus.SENT, failed.id, 2)
    assert "Joao Souza" in again.request
    assert on_efi.charge_status("i2") == "waiting"


def test_a_carnet_with_a_pro_rata_first_month_sends_a_billet_then_the_carnet(on_efi: World) -> None:
    with on_efi.store.unit_of_work() as uow:  # i3..i6 monthly, i3 a pro-rata first month
        for n in range(3, 7):
            installment = uow.installments.get(f"i{n}")
            due = date(2026, 4 + (n - 3), 10)
            amount = Money("41.20") if n == 3 else installment.amount
            uow.installments.put(attrs.evolve(installment, due=due, amount=amount, principal_open=amount))
        uow.commit()
    issue = on_efi.gateway.issue_carnet(["i3", "i4", "i5", "i6"])
    assert issue.plan.billets == ("i3",)
    assert [carnet.parcel_ids for carnet in issue.plan.carnets] == [("i4", "i5", "i6")]
    assert issue.report.sent == 2
    kinds = {op.kind: op for op in on_efi.ops()}
    assert kinds[OperationKind.ISSUE_CARNET].documents == ("i4", "i5", "i6")
    assert not kinds[OperationKind.ISSUE_CARNET].flagged  # the gateway kept the planned due dates
    with on_efi.store.unit_of_work() as uow:
        parcels = uow.gateway_charges.get_many(["i4", "i5", "i6"])
        assert uow.gateway_charges.of_carnet(parcels["i4"].carnet_id or "") == [parcels[i] for i in ("i4", "i5", "i6")]
    assert [parcels[i].parcel for i in ("i4", "i5", "i6")] == [1, 2, 3]
    assert [parcels[i].due for i in ("i4", "i5", "i6")] == [date(2026, 5, 10), date(2026, 6, 10), date(2026, 7, 10)]


class ShiftingCarnets(FakeGateway):
    """A gateway that moves a carnet's second parcel by a day, as a gateway might over a weekend."""

    def create_carnet(self, request: CarnetRequest) -> IssuedCarnet:
        carnet = super().create_carnet(request)
        moved = attrs.evolve(carnet.parcels[1], due=carnet.parcels[1].due + timedelta(days=1))
        return attrs.evolve(carnet, parcels=(carnet.parcels[0], moved, *carnet.parcels[2:]))


def test_a_carnet_whose_due_dates_differ_from_the_plan_is_flagged(store: Store) -> None:
    on_fake = world(store, ShiftingCarnets(today=TODAY))
    with store.unit_of_work() as uow:
        for n in (4, 5, 6):
            uow.installments.put(attrs.evolve(uow.installments.get(f"i{n}"), due=date(2026, n, 10)))
        uow.commit()
    on_fake.gateway.issue_carnet(["i4", "i5", "i6"])
    (carnet,) = on_fake.ops(kind=OperationKind.ISSUE_CARNET)
    assert carnet.status is OperationStatus.SENT
    assert carnet.flagged
    assert carnet.warnings == ("parcel 2 is due 2026-05-11 at the gateway, 2026-05-10 in the plan (i5)",)
    assert on_fake.ops(flagged=True) == [carnet]


def test_a_due_date_change_moves_the_installment_and_the_charge_together(on_efi: World) -> None:
    on_efi.gateway.issue_billets(["i1"])
    before = on_efi.snapshot()
    for refused in (TODAY, TODAY - timedelta(days=3)):
        with pytest.raises(InvalidInput) as caught:
            on_efi.gateway.change_due_date("i1", refused)
        assert caught.value.field == "due"
    assert on_efi.snapshot() == before  # nothing sent, nothing changed (G4)
    new_due = TODAY + timedelta(days=45)
    operation = on_efi.gateway.change_due_date("i1", new_due)
    assert operation is not None
    assert operation.status is OperationStatus.SENT
    assert operation.argument("due") == new_due.isoformat()
    assert on_efi.installment("i1").due == new_due
    with on_efi.store.unit_of_work() as uow:
        charge = uow.gateway_charges.get("i1")
    assert charge.due == new_due
    assert on_efi.emulator is not None
    assert on_efi.emulator.charges[int(charge.charge_id)]["expire_at"] == str(new_due)


def test_a_change_before_the_billet_goes_out_travels_with_it(on_efi: World) -> None:
    (issue_id,) = on_efi.gateway.issue_billets(["i1"], send=False).operation_ids
    new_due = TODAY + timedelta(days=20)
    assert on_efi.gateway.change_due_date("i1", new_due) is None  # the pending billet will carry it
    report = on_efi.gateway.drain()
    assert report.sent == 1
    assert on_efi.gateway.operation(issue_id).status is OperationStatus.SENT
    with on_efi.store.unit_of_work() as uow:
        assert uow.gateway_charges.get("i1").due == new_due


def test_operations_of_one_document_go_out_in_order(on_efi: World) -> None:
    on_efi.gateway.issue_billets(["i1"], send=False)
    with on_efi.store.unit_of_work() as uow:  # the billet is in flight: a change must follow it
        (issue,) = uow.operations.of_documents(["i1"])
        uow.operations.put(issue.claimed(on_efi.clock.now(), lease=TIMING.lease))
        uow.commit()
    change = on_efi.gateway.change_due_date("i1", TODAY + timedelta(days=50), send=True)
    assert change is not None
    assert change.status is OperationStatus.PENDING
    assert on_efi.gateway.drain().waiting == 1
    on_efi.clock.advance(seconds=TIMING.lease.total_seconds())
    # The billet never reached the gateway: after quiet its lookup finds nothing, it goes, then the change.
    on_efi.clock.advance(seconds=TIMING.quiet.total_seconds())
    on_efi.gateway.drain()
    on_efi.gateway.drain()
    statuses = [op.status for op in on_efi.gateway.operations(OperationFilter(document="i1"))]
    assert statuses == [OperationStatus.SENT, OperationStatus.SENT]
    assert on_efi.emulator is not None
    assert len(on_efi.emulator.charges) == 1


def test_a_manual_settlement_settles_the_charge_and_a_repeat_counts_as_done(on_efi: World) -> None:
    on_efi.gateway.issue_billets(["i1", "i3"])
    done = on_efi.gateway.settle("i1", Payment(Money("99.90"), TODAY))
    assert done.outcome.installment.status is InstallmentStatus.SETTLED
    assert done.operation is not None
    assert done.operation.status is OperationStatus.SENT
    assert on_efi.charge_status("i1") == "settled"
    # Settled at the gateway's panel first: carteira's settle finds it there and counts it as done (G5).
    with on_efi.store.unit_of_work() as uow:
        charge_id = uow.gateway_charges.get("i3").charge_id
    with efi_on(on_efi.emulator) as other:  # type: ignore[arg-type]
        assert other.settle_charge(charge_id) is True  # type: ignore[arg-type]
    repeat = on_efi.gateway.settle("i3", Payment(Money("99.90"), TODAY))
    assert repeat.operation is not None
    assert repeat.operation.status is OperationStatus.SENT
    assert '"settled":false' in repeat.operation.response
    partial = on_efi.gateway.issue_billets(["i4"])
    assert partial.report.sent == 1
    with on_efi.store.unit_of_work() as uow:
        uow.settings.put(
            attrs.evolve(
                uow.settings.get(), policy=attrs.evolve(uow.settings.get().policy, settle_beyond_tolerance=True)
            )
        )
        uow.commit()
    half = on_efi.gateway.settle("i4", Payment(Money("40.00"), TODAY))
    assert half.operation is None  # a partial settlement leaves the charge open at the gateway
    assert on_efi.charge_status("i4") == "waiting"


def test_a_cancel_reverses_the_document_and_the_panel_flags_its_billet(on_efi: World) -> None:
    on_efi.gateway.issue_billets(["i1"])
    cancel = on_efi.gateway.cancel("i1")
    assert cancel is not None
    assert cancel.status is OperationStatus.SENT
    assert on_efi.charge_status("i1") == "canceled"
    (issue,) = on_efi.ops(kind=OperationKind.ISSUE_BILLET)
    assert issue.document_reversed
    assert issue.flagged
    assert on_efi.gateway.cancel("i1") is None  # nothing left to cancel at the gateway
    with on_efi.store.unit_of_work() as uow:
        assert uow.gateway_charges.get("i1").state is ChargeState.CANCELED


def test_resend_by_email_goes_to_the_customer_or_the_address_given(on_efi: World) -> None:
    on_efi.gateway.issue_billets(["i1"])
    first = on_efi.gateway.resend_email("i1")
    given = on_efi.gateway.resend_email("i1", email="financeiro@example.com.br")
    assert (first.status, given.status) == (OperationStatus.SENT, OperationStatus.SENT)
    assert "c1@example.com.br" in first.request
    assert "financeiro@example.com.br" in given.request


def test_bad_input_is_refused_with_a_typed_error_and_writes_nothing(on_efi: World) -> None:
    on_efi.gateway.issue_billets(["i1"])
    on_efi.gateway.settle("i1", Payment(Money("99.90"), TODAY))
    before = on_efi.snapshot()
    refusals: list[tuple[type[Exception], Any]] = [
        (NotFound, lambda: on_efi.gateway.issue_billets(["i3", "nope"])),
        (RuleViolation, lambda: on_efi.gateway.issue_billets(["i9"])),  # not on the gateway's agreement
        (RuleViolation, lambda: on_efi.gateway.issue_billets(["i1"])),  # settled
        (RuleViolation, lambda: on_efi.gateway.resend_email("i1")),  # a settled billet is not resent
        (RuleViolation, lambda: on_efi.gateway.resend_email("i3")),  # never issued
        (InvalidInput, lambda: on_efi.gateway.issue_billets(["i3", "i3"])),
        (InvalidInput, lambda: on_efi.gateway.issue_billets([])),
        (TypeError, lambda: on_efi.gateway.issue_billets("i3")),
        (TypeError, lambda: on_efi.gateway.change_due_date("i3", "2026-12-01")),  # type: ignore[arg-type]
        (NotFound, lambda: on_efi.gateway.change_due_date("nope", TODAY + timedelta(days=9))),
    ]
    for error, call in refusals:
        with pytest.raises(error):
            call()
        assert on_efi.snapshot() == before, error
    on_efi.gateway.issue_billets(["i3"])
    with pytest.raises(RuleViolation, match="already sent"):
        on_efi.gateway.issue_billets(["i3"])  # never a second charge for one installment


def test_an_inactive_account_sends_nothing_and_says_so(on_efi: World) -> None:
    (pending,) = on_efi.gateway.issue_billets(["i1"], send=False).operation_ids
    on_efi.gateway.configure(account(active=False))
    before = on_efi.snapshot()
    for call in (
        lambda: on_efi.gateway.issue_billets(["i3"]),
        lambda: on_efi.gateway.change_due_date("i1", TODAY + timedelta(days=9)),
        lambda: on_efi.gateway.drain(),
        lambda: on_efi.gateway.settle("i1", Payment(Money("99.90"), TODAY)),
    ):
        with pytest.raises(InactiveAccount, match="inactive"):
            call()
    assert on_efi.snapshot() == before
    on_efi.gateway.configure(account())
    assert on_efi.gateway.drain().sent == 1
    assert on_efi.gateway.operation(pending).status is OperationStatus.SENT


def test_a_retryable_failure_waits_its_backoff_and_gives_up_after_max_attempts(on_efi: World) -> None:
    assert on_efi.emulator is not None
    on_efi.emulator.fail_next(2, status=429, code=3500049)  # the daily limit, on both of the adapter's attempts
    (op_id,) = on_efi.gateway.issue_billets(["i1"]).operation_ids
    waiting = on_efi.gateway.operation(op_id)
    assert (waiting.status, waiting.next_attempt_at) == (OperationStatus.PENDING, on_efi.clock.now() + TIMING.backoff)
    assert on_efi.gateway.drain().sent == 0  # not before its time
    on_efi.clock.advance(seconds=10)
    assert on_efi.gateway.drain().sent == 1
    on_efi.emulator.fail_next(6, status=429, code=3500049)
    (other,) = on_efi.gateway.issue_billets(["i3"]).operation_ids
    on_efi.clock.advance(seconds=10)
    on_efi.gateway.drain()
    on_efi.clock.advance(seconds=20)
    on_efi.gateway.drain()
    gave_up = on_efi.gateway.operation(other)
    assert (gave_up.status, gave_up.attempts, gave_up.error and gave_up.error.retryable) == (
        OperationStatus.FAILED,
        3,
        True,
    )
    assert len(on_efi.emulator.charges) == 1


def test_a_lost_answer_is_looked_up_and_never_issued_twice(on_efi: World) -> None:
    assert on_efi.emulator is not None
    on_efi.emulator.lose_next_response(2)  # the charge is made, the answer lost, twice over the adapter's retry
    (op_id,) = on_efi.gateway.issue_billets(["i1"]).operation_ids
    lost = on_efi.gateway.operation(op_id)
    assert lost.status is OperationStatus.UNKNOWN
    on_efi.gateway.drain()  # the lookup finds the charge by the operation id
    found = on_efi.gateway.operation(op_id)
    assert found.status is OperationStatus.SENT
    assert len(on_efi.emulator.charges) == 1
    with on_efi.store.unit_of_work() as uow:
        assert uow.gateway_charges.get("i1").charge_id == str(next(iter(on_efi.emulator.charges)))


def test_a_billing_run_keeps_the_daily_limit_in_view(store: Store, emulator: EfiEmulator) -> None:
    with efi_on(emulator) as efi:
        on_efi = world(store, efi, emulator)
        limited = GatewayIntegration(
            store, efi, clock=on_efi.clock, calendar=EveryDayCalendar(), timing=TIMING, daily_limit=3
        )
        first = limited.issue_billets(["i1", "i3"])
        second = limited.issue_billets(["i4", "i5", "i6"])
    assert (first.deferred, second.deferred, second.report.sent) == (0, 2, 1)
    held = [limited.operation(op_id) for op_id in second.operation_ids[1:]]
    assert all(op.next_attempt_at == on_efi.clock.now() + timedelta(days=1) for op in held)


def test_the_same_flows_work_against_the_fake_gateway(store: Store) -> None:
    on_fake = world(store, FakeGateway(today=TODAY))
    run = on_fake.gateway.issue_billets(["i1", "i2", "i3"])
    assert (run.report.sent, run.report.failed) == (2, 1)
    assert on_fake.gateway.change_due_date("i1", TODAY + timedelta(days=40)) is not None
    assert on_fake.gateway.settle("i1", Payment(Money("99.90"), TODAY)).operation is not None
    assert on_fake.gateway.cancel("i3") is not None
    assert {op.status for op in on_fake.ops()} == {OperationStatus.SENT, OperationStatus.FAILED}


def test_over_loopback_http_a_run_goes_out_and_the_secret_shows_nowhere(
    store: Store, emulator: EfiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(serve(emulator, host="127.0.0.1", port=0))
        efi = stack.enter_context(
            EfiGateway("cid", SECRET, "sandbox", base_url=url, today=lambda: emulator.today, timeout=5.0)
        )
        on_http = world(store, efi, emulator)
        run = on_http.gateway.issue_billets(["i1", "i2", "i3"], concurrency=3)
        on_http.gateway.resend_email("i1")
        carnet = on_http.gateway.issue_carnet(["i4", "i5", "i6"])
        moved = on_http.gateway.change_due_date("i4", TODAY + timedelta(days=200))
        settled = on_http.gateway.settle("i1", Payment(Money("99.90"), TODAY))
        cancelled = on_http.gateway.cancel("i5")
    assert (run.report.sent, run.report.failed, carnet.report.sent) == (2, 1, len(carnet.operation_ids))
    assert [op.status for op in (moved, settled.operation, cancelled) if op is not None] == [OperationStatus.SENT] * 3
    assert (on_http.charge_status("i1"), on_http.charge_status("i5")) == ("settled", "canceled")
    texts = [repr(on_http.portfolio), repr(on_http.gateway), repr(efi), *(repr(op) for op in on_http.ops())]
    texts += [record.getMessage() for record in caplog.records] + [str(r.args) for r in caplog.records]
    texts += [notice.body for notice in on_http.notifier.sent]
    assert not [text for text in texts if SECRET in text]


def test_a_document_reversed_before_its_billet_went_out_is_never_charged(on_efi: World) -> None:
    (issue_id,) = on_efi.gateway.issue_billets(["i1"], send=False).operation_ids
    assert on_efi.gateway.cancel("i1") is None  # nothing at the gateway to cancel
    issue = on_efi.gateway.operation(issue_id)
    assert (issue.status, issue.document_reversed, issue.flagged) == (OperationStatus.FAILED, True, True)
    assert on_efi.gateway.drain() == DrainReport()
    with pytest.raises(RuleViolation, match="reversed"):
        on_efi.gateway.resend(issue_id)
    assert on_efi.emulator is not None
    assert not on_efi.emulator.charges
    again = on_efi.gateway.issue_billets(["i1"])  # a reversed document may be charged anew
    assert again.report.sent == 1


def test_a_failed_billet_is_resent_from_the_panel_not_issued_twice(on_efi: World) -> None:
    on_efi.gateway.issue_billets(["i2"])
    with pytest.raises(RuleViolation, match="resend its operation"):
        on_efi.gateway.issue_billets(["i2"])


def test_refused_credentials_stop_the_drain_and_fail_no_operation(store: Store, emulator: EfiEmulator) -> None:
    from carteira.errors import GatewayAuthenticationError

    wrong = EfiGateway("cid", "not-the-secret", "sandbox", transport=emulator.transport(), today=lambda: emulator.today)
    with wrong:
        on_wrong = world(store, wrong, emulator)
        with pytest.raises(GatewayAuthenticationError):
            on_wrong.gateway.issue_billets(["i1", "i3", "i4"], concurrency=1)
    operations = on_wrong.ops()
    assert {op.status for op in operations} == {OperationStatus.PENDING}  # nobody's fault: they wait
    assert sum(op.error is not None for op in operations) >= 1
    assert on_wrong.notifier.sent == []
    assert not emulator.charges
    on_wrong.clock.advance(seconds=60)
    with efi_on(emulator) as right:
        fixed = Portfolio(store, gateway=right, clock=on_wrong.clock, calendar=EveryDayCalendar(), timing=TIMING)
        assert fixed.gateway.drain().sent == 3


def test_a_parcel_or_its_whole_carnet_is_resent_by_email(on_efi: World) -> None:
    with on_efi.store.unit_of_work() as uow:
        for n in (4, 5, 6):
            uow.installments.put(attrs.evolve(uow.installments.get(f"i{n}"), due=date(2026, n, 10)))
        uow.commit()
    on_efi.gateway.issue_carnet(["i4", "i5", "i6"])
    parcel = on_efi.gateway.resend_email("i5")
    whole = on_efi.gateway.resend_email("i5", whole_carnet=True, email="cobranca@example.com.br")
    with on_efi.store.unit_of_work() as uow:
        charge = uow.gateway_charges.get("i5")
    assert (parcel.status, whole.status) == (OperationStatus.SENT, OperationStatus.SENT)
    assert charge.charge_id in parcel.request
    assert charge.carnet_id is not None
    assert f'"resend":"{charge.carnet_id}"' in whole.request
    assert whole.argument("scope") == "carnet"
