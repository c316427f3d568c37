"""Payments by notification, first step (SPEC G6a): every token the gateway calls back with is kept, once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
import pytest

from carteira import Money, Portfolio
from carteira.adapters.callback import wsgi_app
from carteira.adapters.efi import EfiGateway
from carteira.domain import EveryDayCalendar
from carteira.domain.notifications import NotificationStatus
from carteira.errors import Conflict, InvalidInput
from carteira.ports.gateway import BilletRequest, Item, Payer
from carteira.ports.storage import Store
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
