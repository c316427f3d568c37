"""Payments by notification, first step (SPEC G6a): every token the gateway calls back with is kept, once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
import pytest

from carteira import Money, Portfolio
from carteira.adapters.callback import wsgi_app
from carteira.adapters.efi import EfiGateway
from carteira.domain import EveryDayCalendar, InstallmentStatus
from carteira.domain.notifications import NotificationStatus
from carteira.errors import Conflict, GatewayAuthenticationError, InvalidInput, NotFound
from carteira.ports.gateway import BilletRequest, ChargeId, Item, Payer
from carteira.ports.storage import Store
from carteira.services.payments import ProcessReport
from carteira.testing.clock import FixedClock
from carteira.testing.efi_emulator import EfiEmulator

TODAY = date(2026, 3, 10)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


@pytest.fixture
def portfolio(store: Store) -> Portfolio:
    return Portfolio(store, clock=FixedClock(TODAY), calendar=EveryDayCalendar())


@pytest.fixture
def endpoint(portfolio: Portfolio) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, wsgi_app(portfolio.payments.receive, path="/efi"), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/efi"
    server.shutdown()
    thread.join()


def test_a_token_is_kept_once_and_each_delivery_makes_it_due_again(portfolio: Portfolio) -> None:
    first = portfolio.payments.receive("tok-1")
    assert (first.status, first.deliveries, first.received_at) == (
        NotificationStatus.PENDING,
        1,
        FixedClock(TODAY).now(),
    )
    again = portfolio.payments.receive("tok-1")
    assert (again.deliveries, again.version) == (2, 2)
    assert [n.token for n in portfolio.payments.pending()] == ["tok-1"]
    with pytest.raises(InvalidInput):
        portfolio.payments.receive("not a token")
    assert [n.token for n in portfolio.payments.pending()] == ["tok-1"]


def test_racing_deliveries_of_one_token_leave_one_record(portfolio: Portfolio) -> None:
    """Eight deliveries at once: one record; each delivery counted, or refused with Conflict (the endpoint's 503)."""
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def deliver() -> None:
        barrier.wait()
        try:
            portfolio.payments.receive("tok-race")
            outcomes.append("kept")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (kept,) = portfolio.payments.pending()
    assert len(outcomes) == 8
    assert (kept.token, kept.deliveries) == ("tok-race", outcomes.count("kept"))
    assert outcomes.count("kept") >= 1


def test_the_emulator_calls_back_over_http_and_every_token_is_kept(portfolio: Portfolio, endpoint: str) -> None:
    with EfiEmulator(client_id="cid", client_secret="s3cret", today=TODAY) as emulator:
        with EfiGateway(
            "cid", "s3cret", "sandbox", transport=emulator.transport(), today=lambda: emulator.today
        ) as efi:
            payer = Payer("Maria da Silva", "52998224725")
            billets = [
                efi.create_billet(
                    BilletRequest(
                        items=[Item(f"Internet {n}", Money("99.90"))],
                        payer=payer,
                        due=date(2026, 4, 10),
                        notification_url=endpoint,
                    )
                )
                for n in range(3)
            ]
            for billet in billets:
                emulator.pay(int(billet.charge_id))
        tokens = {charge["notification_token"] for charge in emulator.charges.values()}
    kept = {n.token: n for n in portfolio.payments.pending()}
    assert set(kept) == tokens  # one token per charge, each kept
    assert all(n.deliveries >= 1 for n in kept.values())
    with httpx.Client() as client:
        assert (
            client.post(
                endpoint, content=b"notification=", headers={"content-type": "application/x-www-form-urlencoded"}
            ).status_code
            == 400
        )
    assert {n.token for n in portfolio.payments.pending()} == tokens


# -- processing: the events behind the tokens, settled once (G6) --------------------------------------------

CALLBACK = "https://erp.example.com.br/efi"


@pytest.fixture
def paid_month(store: Store) -> Iterator[tuple[Portfolio, EfiEmulator, list[str]]]:
    """Four billets issued through the outbox on one store; the emulator hands each callback's token to a list."""
    from decimal import Decimal

    from carteira.domain import ChargeTerms, Customer, Installment
    from carteira.domain.operations import Environment, GatewayAccount

    tokens: list[str] = []
    with EfiEmulator(client_id="cid", client_secret="s3cret", today=TODAY) as emulator:
        emulator.register_callback(CALLBACK, tokens.append)
        with EfiGateway(
            "cid", "s3cret", "sandbox", transport=emulator.transport(), today=lambda: emulator.today
        ) as efi:
            portfolio = Portfolio(
                store, gateway=efi, clock=FixedClock(TODAY), calendar=EveryDayCalendar(), notification_url=CALLBACK
            )
            portfolio.gateway.configure(
                GatewayAccount("cid", Environment.SANDBOX, "efi", "0", "itau-1", Money("2.50"), "101", "201", "301")
            )
            terms = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
            with store.unit_of_work() as uow:
                uow.customers.put(Customer("c1", "Maria da Silva", tax_id="52998224725"))
                for n in range(1, 5):
                    uow.installments.put(
                        Installment(
                            f"i{n}",
                            "c1",
                            date(2026, 4, 10),
                            Money("100.00"),
                            terms,
                            bank_contract="efi",
                            description=f"Internet {n}",
                        )
                    )
                uow.commit()
            assert portfolio.gateway.issue_billets(["i1", "i2", "i3", "i4"]).report.sent == 4
            tokens.clear()  # the creation events: nothing to settle
            yield portfolio, emulator, tokens


def charge_of(portfolio: Portfolio, installment_id: str) -> int:
    with portfolio.store.unit_of_work() as uow:
        return int(uow.gateway_charges.get(installment_id).charge_id)


def test_paid_charges_settle_once_with_their_entry_and_fee_however_often_they_are_delivered(
    paid_month: tuple[Portfolio, EfiEmulator, list[str]],
) -> None:
    portfolio, emulator, tokens = paid_month
    emulator.pay(charge_of(portfolio, "i1"))  # on time, in full
    emulator.pay(charge_of(portfolio, "i2"), value_cents=10_000, paid_on=date(2026, 4, 10))
    for token in tokens:
        portfolio.payments.receive(token)
    report = portfolio.payments.process()
    assert (report.settled, report.flagged, report.retrying) == (2, 0, 0)
    with portfolio.store.unit_of_work() as uow:
        settled = [uow.installments.get(i) for i in ("i1", "i2")]
        postings = [p for s in settled for p in uow.postings.of_settlement(s.latest_settlement_id or "")]
        assert uow.gateway_charges.get("i1").state.value == "paid"
    assert [i.status for i in settled] == [InstallmentStatus.SETTLED] * 2
    assert sorted((p.kind.value, p.amount, p.history) for p in postings) == [
        ("entry", Money("100.00"), "201"),
        ("entry", Money("100.00"), "201"),
        ("fee", Money("2.50"), "301"),
        ("fee", Money("2.50"), "301"),
    ]
    for token in tokens * 2:  # Efí delivers again, twice: nothing more happens
        portfolio.payments.receive(token)
    assert portfolio.payments.process() == ProcessReport(tokens=len(set(tokens)))
    with portfolio.store.unit_of_work() as uow:
        assert [len(uow.settlements.of_installment(i)) for i in ("i1", "i2")] == [1, 1]


def test_a_payment_carteira_did_not_cause_is_flagged_never_guessed(
    paid_month: tuple[Portfolio, EfiEmulator, list[str]],
) -> None:
    portfolio, emulator, tokens = paid_month
    with EfiGateway("cid", "s3cret", "sandbox", transport=emulator.transport(), today=lambda: emulator.today) as efi:
        stranger = efi.create_billet(
            BilletRequest(
                items=[Item("Avulso", Money("50.00"))],
                payer=Payer("Joana Lima", "52998224725"),
                due=date(2026, 4, 1),
                notification_url=CALLBACK,
            )
        )
    tokens.clear()
    emulator.pay(int(stranger.charge_id))
    with EfiGateway("cid", "s3cret", "sandbox", transport=emulator.transport(), today=lambda: emulator.today) as efi:
        efi.settle_charge(ChargeId(str(charge_of(portfolio, "i3"))))  # settled in Efí's panel, by hand
    for token in tokens:
        portfolio.payments.receive(token)
    report = portfolio.payments.process()
    assert (report.settled, report.flagged) == (0, 2)
    with portfolio.store.unit_of_work() as uow:
        notes = sorted(event.note for event in uow.seen_events.flagged())
        assert uow.installments.get("i3").status is InstallmentStatus.OPEN
    assert notes == [
        "paid, but carteira never issued this charge",
        "settled at the gateway, not by carteira: check it by hand",
    ]


def test_a_token_whose_events_cannot_be_fetched_is_tried_again_never_lost(
    paid_month: tuple[Portfolio, EfiEmulator, list[str]],
) -> None:
    portfolio, emulator, tokens = paid_month
    emulator.pay(charge_of(portfolio, "i4"))
    (token,) = set(tokens)
    portfolio.payments.receive(token)
    emulator.fail_next(4, status=500)
    assert portfolio.payments.process().retrying == 1
    (waiting,) = portfolio.payments.pending()
    assert waiting.error
    assert waiting.next_attempt_at is not None
    assert portfolio.payments.process() == ProcessReport()  # not before its time
    portfolio.clock.advance(seconds=60)  # type: ignore[attr-defined]
    assert portfolio.payments.process().settled == 1
    assert portfolio.payments.pending() == []


class _Slow:
    """A gateway whose event fetch waits for a signal: a worker stalled past its lease."""

    def __init__(self, inner: EfiGateway, fetched: threading.Event, release: threading.Event) -> None:
        self._inner, self._fetched, self._release = inner, fetched, release

    def notification_events(self, token: str) -> list[object]:
        events = self._inner.notification_events(token)
        self._fetched.set()
        self._release.wait(10)
        return events  # type: ignore[return-value]


def test_a_worker_stalled_past_its_lease_settles_nothing_twice(
    paid_month: tuple[Portfolio, EfiEmulator, list[str]],
) -> None:
    portfolio, emulator, tokens = paid_month
    emulator.pay(charge_of(portfolio, "i1"))
    for token in tokens:
        portfolio.payments.receive(token)
    fetched, release = threading.Event(), threading.Event()
    with EfiGateway("cid", "s3cret", "sandbox", transport=emulator.transport(), today=lambda: emulator.today) as efi:
        stalled = Portfolio(
            portfolio.store,
            gateway=_Slow(efi, fetched, release),  # type: ignore[arg-type]
            clock=portfolio.clock,
            calendar=EveryDayCalendar(),
        )
        results: list[ProcessReport] = []
        worker = threading.Thread(target=lambda: results.append(stalled.payments.process()))
        worker.start()
        assert fetched.wait(10)
        portfolio.clock.advance(seconds=600)  # type: ignore[attr-defined]  # its lease ran out: another takes over
        assert portfolio.payments.process().settled == 1
        release.set()
        worker.join(10)
    assert results == [ProcessReport()]  # the stalled worker's unit met the events already recorded: nothing kept
    with portfolio.store.unit_of_work() as uow:
        (settlement,) = uow.settlements.of_installment("i1")
        assert len(uow.postings.of_settlement(settlement.id)) == 2


def test_process_token_processes_that_token_now_and_only_once(
    paid_month: tuple[Portfolio, EfiEmulator, list[str]],
) -> None:
    """The endpoint's inline setting: the token it just stored, processed at once; a second call does nothing."""
    portfolio, emulator, tokens = paid_month
    emulator.pay(charge_of(portfolio, "i1"))
    emulator.pay(charge_of(portfolio, "i2"))
    first, second = dict.fromkeys(tokens)
    for token in (first, second):
        portfolio.payments.receive(token)
    report = portfolio.payments.process_token(first)
    assert (report.tokens, report.settled) == (1, 1)  # its events: created, waiting, paid
    assert portfolio.payments.process_token(first) == ProcessReport()  # processed: not due
    assert [n.token for n in portfolio.payments.pending()] == [second]  # the other is left to a worker
    with pytest.raises(NotFound):
        portfolio.payments.process_token("never-received")


def test_process_token_leaves_a_token_a_worker_holds(paid_month: tuple[Portfolio, EfiEmulator, list[str]]) -> None:
    portfolio, emulator, tokens = paid_month
    emulator.pay(charge_of(portfolio, "i1"))
    (token,) = set(tokens)
    portfolio.payments.receive(token)
    now = portfolio.clock.now()
    with portfolio.store.unit_of_work() as uow:  # a worker claimed it and is fetching its events
        uow.notifications.put(uow.notifications.get(token).claimed(now, lease=timedelta(minutes=2)))
        uow.commit()
    assert portfolio.payments.process_token(token) == ProcessReport()
    with portfolio.store.unit_of_work() as uow:
        assert uow.installments.get("i1").status is InstallmentStatus.OPEN


def test_process_token_needs_the_gateway(portfolio: Portfolio) -> None:
    portfolio.payments.receive("tok-1")
    with pytest.raises(InvalidInput) as raised:
        portfolio.payments.process_token("tok-1")
    assert raised.value.field == "gateway"


def test_a_token_the_gateway_does_not_know_is_kept_for_a_person_not_asked_again(
    paid_month: tuple[Portfolio, EfiEmulator, list[str]],
) -> None:
    portfolio, _emulator, _tokens = paid_month
    portfolio.payments.receive("forged-token-123")
    assert portfolio.payments.process() == ProcessReport(refused=1)
    (refused,) = portfolio.payments.refused()
    assert (refused.token, refused.status, refused.next_attempt_at) == (
        "forged-token-123",
        NotificationStatus.REFUSED,
        None,
    )
    assert "token" in refused.error
    assert portfolio.payments.pending() == []
    portfolio.clock.advance(seconds=3600)  # type: ignore[attr-defined]
    assert portfolio.payments.process() == ProcessReport()  # not asked again by itself
    portfolio.payments.receive("forged-token-123")  # delivered again: tried again
    assert portfolio.payments.process() == ProcessReport(refused=1)


def test_refused_credentials_stop_processing_and_lose_no_token(
    paid_month: tuple[Portfolio, EfiEmulator, list[str]],
) -> None:
    portfolio, emulator, tokens = paid_month
    emulator.pay(charge_of(portfolio, "i1"))
    (token,) = set(tokens)
    portfolio.payments.receive(token)
    with EfiGateway("cid", "wrong", "sandbox", transport=emulator.transport(), today=lambda: emulator.today) as efi:
        wrong = Portfolio(portfolio.store, gateway=efi, clock=portfolio.clock, calendar=EveryDayCalendar())
        with pytest.raises(GatewayAuthenticationError) as raised:
            wrong.payments.process()
    assert "wrong" not in str(raised.value)
    (waiting,) = portfolio.payments.pending()
    assert waiting.next_attempt_at is not None
    portfolio.clock.advance(seconds=60)  # type: ignore[attr-defined]
    assert portfolio.payments.process().settled == 1


def test_flagged_lists_what_waits_for_a_person(paid_month: tuple[Portfolio, EfiEmulator, list[str]]) -> None:
    portfolio, emulator, tokens = paid_month
    with EfiGateway("cid", "s3cret", "sandbox", transport=emulator.transport(), today=lambda: emulator.today) as efi:
        efi.settle_charge(ChargeId(str(charge_of(portfolio, "i2"))))  # settled in Efí's panel, by hand
    for token in tokens:
        portfolio.payments.receive(token)
    assert portfolio.payments.process().flagged == 1
    (flagged,) = portfolio.payments.flagged()
    assert (flagged.charge_id, flagged.status, flagged.flagged) == (str(charge_of(portfolio, "i2")), "settled", True)
