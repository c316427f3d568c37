"""Payments by notification end to end (issue #13): Efí over loopback HTTP calls the endpoint, a worker settles.

Billets and a carnet are issued through the outbox to the emulator served over HTTP; the emulator pays
them (on time, late, under within tolerance, over beyond it, under beyond it, one parcel) and calls the
notification URL, a WSGI endpoint under the standard library's server, with each token; then a worker
processes what was stored. Each installment must end as D2-D5 say, with one entry and one fee posted
under the account's histories, and the panel must show each operation's notifications.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from wsgiref.simple_server import WSGIRequestHandler, make_server

import attrs
import pytest

from carteira import Money, Portfolio
from carteira.adapters.callback import wsgi_app
from carteira.adapters.efi import EfiGateway
from carteira.domain import (
    ChargeTerms,
    Customer,
    EveryDayCalendar,
    Installment,
    InstallmentStatus,
    PortfolioSettings,
    SettlementPolicy,
    Tolerance,
    amount_due,
)
from carteira.domain.operations import Environment, GatewayAccount
from carteira.domain.postings import PostingKind, balance
from carteira.domain.settlement import OutcomeKind
from carteira.ports.storage import Store
from carteira.services.payments import ProcessReport
from carteira.testing.clock import FixedClock
from carteira.testing.efi_emulator import EfiEmulator, serve

TODAY = date(2026, 3, 10)
DUE = date(2026, 4, 10)
TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
ACCOUNT = GatewayAccount("cid", Environment.SANDBOX, "efi", "0", "itau-1", Money("2.50"), "101", "201", "301")
POLICY = SettlementPolicy(
    over=Tolerance(amount=Money("0.50")), under=Tolerance(amount=Money("0.50")), settle_beyond_tolerance=True
)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


@attrs.frozen
class Bench:
    portfolio: Portfolio
    emulator: EfiEmulator

    def charge(self, installment_id: str) -> int:
        with self.portfolio.store.unit_of_work() as uow:
            return int(uow.gateway_charges.get(installment_id).charge_id)

    def pay(self, installment_id: str, value: str, on: date) -> None:
        self.emulator.today = on
        self.emulator.pay(self.charge(installment_id), value_cents=int(Decimal(value) * 100), paid_on=on)


@pytest.fixture
def bench(store: Store, request: pytest.FixtureRequest) -> Iterator[Bench]:
    """Five billets for Maria and a three-parcel carnet for Joana, issued; the endpoint and Efí on loopback.

    The endpoint only stores (``worker``, the default), or processes inline once it answered (``inline``).
    """
    inline = getattr(request, "param", "worker") == "inline"
    with store.unit_of_work() as uow:
        uow.settings.put(PortfolioSettings(policy=POLICY))
        uow.customers.put(Customer("maria", "Maria da Silva", tax_id="52998224725"))
        uow.customers.put(Customer("joana", "Joana Lima", tax_id="52998224725"))
        for n in range(1, 6):
            uow.installments.put(Installment(f"b{n}", "maria", DUE, Money("100.00"), TERMS, bank_contract="efi",
                                             description=f"Internet {n}"))  # fmt: skip
        for n in range(1, 4):
            due = date(2026, 3 + n, 10)
            uow.installments.put(Installment(f"p{n}", "joana", due, Money("100.00"), TERMS, bank_contract="efi",
                                             number=n, description="Fibra 500 MB"))  # fmt: skip
        uow.commit()
    payments: list[Portfolio] = []  # the endpoint's portfolio, set once it exists: the server starts first

    def receive(token: str) -> None:
        payments[0].payments.receive(token)

    def process(token: str) -> None:
        payments[0].payments.process_token(token)

    app = wsgi_app(receive, path="/efi", then=process if inline else None)
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    callback = f"http://127.0.0.1:{server.server_port}/efi"
    emulator = EfiEmulator(client_id="cid", client_secret="s3cret", today=TODAY, callback_mode="inline")
    with (
        emulator,
        serve(emulator) as base_url,
        EfiGateway("cid", "s3cret", "sandbox", base_url=base_url, today=lambda: emulator.today) as efi,
    ):
        portfolio = Portfolio(
            store, gateway=efi, clock=FixedClock(TODAY), calendar=EveryDayCalendar(), notification_url=callback
        )
        payments.append(portfolio)
        portfolio.gateway.configure(ACCOUNT)
        assert portfolio.gateway.issue_billets([f"b{n}" for n in range(1, 6)]).report.sent == 5
        assert portfolio.gateway.issue_carnet(["p1", "p2", "p3"]).report.sent == 1
        yield Bench(portfolio, emulator)
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_paid_at_efi_settled_by_a_worker_as_d2_to_d5_say_with_entry_and_fee(bench: Bench) -> None:
    portfolio = bench.portfolio
    late_on = DUE + timedelta(days=10)
    with portfolio.store.unit_of_work() as uow:
        late_due = amount_due(uow.installments.get("b2"), on=late_on, calendar=EveryDayCalendar())
    bench.pay("b1", "100.00", DUE)  # on time, in full
    bench.pay("b2", str(late_due.total.amount), late_on)  # late, with fine and interest
    bench.pay("b3", "99.70", DUE)  # under, within tolerance
    bench.pay("b4", "110.00", DUE)  # over, beyond tolerance: a credit letter
    bench.pay("b5", "60.00", DUE)  # under, beyond tolerance: partial
    bench.pay("p2", "100.00", date(2026, 5, 10))  # one parcel of the carnet
    assert all(delivery.status == 200 for delivery in bench.emulator.deliveries)
    assert portfolio.payments.pending()  # the endpoint only stored: the worker does the rest

    report = portfolio.payments.process()
    assert (report.settled, report.flagged, report.retrying) == (6, 0, 0)
    assert portfolio.payments.pending() == []

    with portfolio.store.unit_of_work() as uow:
        installments = {i: uow.installments.get(i) for i in ("b1", "b2", "b3", "b4", "b5", "p1", "p2", "p3")}
        settlements = {i: uow.settlements.of_installment(i) for i in installments}
        postings = {i: uow.postings.of_settlement(s[0].id) for i, s in settlements.items() if s}
        letters = uow.credit_letters.of_customer("maria")
    assert {i for i, s in settlements.items() if s} == {"b1", "b2", "b3", "b4", "b5", "p2"}
    assert all(len(s) <= 1 for s in settlements.values())  # each payment settled once
    kinds = {i: s[0].kind for i, s in settlements.items() if s}
    assert kinds == {
        "b1": OutcomeKind.FULL,
        "b2": OutcomeKind.FULL,
        "b3": OutcomeKind.FULL,
        "b4": OutcomeKind.CREDIT_LETTER,
        "b5": OutcomeKind.PARTIAL,
        "p2": OutcomeKind.FULL,
    }
    (b2,) = settlements["b2"]
    assert (b2.paid_on, b2.paid, b2.fine + b2.interest) == (late_on, late_due.total, late_due.total - Money("100.00"))
    assert b2.fine > Money.ZERO
    assert b2.interest > Money.ZERO
    assert settlements["b3"][0].extra_discount == Money("0.30")
    assert [letter.amount for letter in letters] == [Money("10.00")]
    assert installments["b5"].status is not InstallmentStatus.SETTLED
    assert installments["b5"].principal_open == Money("40.00")
    assert [installments[p].status for p in ("p1", "p2", "p3")] == [
        InstallmentStatus.OPEN,
        InstallmentStatus.SETTLED,
        InstallmentStatus.OPEN,
    ]
    for installment_id, posted in postings.items():
        (settlement,) = settlements[installment_id]
        entries = [p for p in posted if p.kind is PostingKind.ENTRY]
        fees = [p for p in posted if p.kind is PostingKind.FEE]
        assert [(p.amount, p.account, p.history) for p in entries] == [(settlement.paid, "itau-1", "201")]
        assert [(p.amount, p.account, p.history) for p in fees] == [(Money("2.50"), "itau-1", "301")]
        assert balance(posted) == settlement.paid - Money("2.50")

    again = portfolio.payments.process()  # nothing is due: the worker finds nothing more to do
    assert again.settled == again.events == 0


def test_the_panel_shows_each_operations_notifications(bench: Bench) -> None:
    portfolio = bench.portfolio
    bench.pay("b1", "100.00", DUE)
    bench.pay("p2", "100.00", date(2026, 5, 10))
    portfolio.payments.process()
    operations = {tuple(op.documents): op for op in portfolio.gateway.operations()}
    billet = portfolio.gateway.notifications(operations[("b1",)].id)
    assert [event.status for event in billet][-1] == "paid"
    assert billet[-1].installment_id == "b1"
    assert billet[-1].settlement_id is not None
    assert {event.charge_id for event in billet} == {str(bench.charge("b1"))}
    carnet = portfolio.gateway.notifications(operations[("p1", "p2", "p3")].id)
    paid = [event for event in carnet if event.status == "paid"]
    assert [(event.charge_id, event.installment_id) for event in paid] == [(str(bench.charge("p2")), "p2")]
    assert portfolio.gateway.notifications(operations[("b2",)].id)[-1].status != "paid"  # b2 was not paid


@pytest.mark.parametrize("bench", ["inline"], indirect=True)
def test_inline_processing_settles_without_a_worker(bench: Bench) -> None:
    portfolio = bench.portfolio
    bench.pay("b1", "100.00", DUE)
    bench.pay("p2", "100.00", date(2026, 5, 10))
    for _ in range(200):  # the endpoint answered first: processing may still be running in its thread
        if not portfolio.payments.pending():
            break
        threading.Event().wait(0.05)
    assert portfolio.payments.pending() == []
    with portfolio.store.unit_of_work() as uow:
        assert [uow.installments.get(i).status for i in ("b1", "p2", "b2")] == [
            InstallmentStatus.SETTLED,
            InstallmentStatus.SETTLED,
            InstallmentStatus.OPEN,
        ]
        (settlement,) = uow.settlements.of_installment("b1")
        assert len(uow.postings.of_settlement(settlement.id)) == 2
    assert portfolio.payments.process() == ProcessReport()  # nothing was left for a worker
