"""``carteira worker`` through click's runner (and once as a process), against the Efí emulator over loopback HTTP.

The ERP issues billets with a callback URL the emulator delivers to a list; the customer pays at the
emulator; the ERP's endpoint keeps each token (``portfolio.payments.receive``). The worker then settles
what the tokens report and sends what the outbox holds, round after round. The store is a SQLite file,
a PostgreSQL schema and a ``MemoryStore`` (``ops_store``); every output is searched for the secret.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from carteira import ChargeTerms, Installment, InstallmentStatus, Money, Portfolio
from carteira.adapters.cli import ExitCode
from carteira.adapters.cli.wiring import BASE_URL_VARIABLE, SECRET_VARIABLE
from carteira.adapters.efi import EfiGateway, RetryPolicy
from carteira.adapters.storage import SqliteStore
from carteira.domain import Customer
from carteira.domain.notifications import NotificationStatus
from carteira.domain.operations import Environment, GatewayAccount, OperationStatus
from carteira.ports.storage import Store
from carteira.testing.efi_emulator import EfiEmulator, serve
from tests.support import ROOT

from .conftest import CLIENT_ID, SECRET, STORE_FILE, OpsBench, keeps_operations

CALLBACK = "https://erp.example.com.br/efi/callback"
AGREEMENT = "efi-wallet"
TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
ACCOUNT = GatewayAccount(CLIENT_ID, Environment.SANDBOX, AGREEMENT, "0", "itau-1", Money("2.50"), "101", "201", "301")
NOTHING = "payments: tokens 0, events 0, settled 0, flagged 0, retrying 0; outbox: sent 0, failed 0, retrying 0, " \
          "unknown 0, waiting 0"  # fmt: skip


def _seed(store: Store, count: int, first_due: date) -> None:
    with store.unit_of_work() as uow:
        uow.customers.put(Customer("c1", "Maria Silva", tax_id="52998224725", email="maria@example.com.br"))
        uow.installments.put_many([Installment(f"i{n}", "c1", first_due + timedelta(days=30 * n), Money("99.90"),
                                               TERMS, bank_contract=AGREEMENT, number=n)
                                   for n in range(1, count + 1)])  # fmt: skip
        uow.commit()


@attrs.define
class Month:
    """The ERP's side of a worker's day: its portfolio (with the callback URL), and the tokens Efí called with."""

    bench: OpsBench
    erp: Portfolio
    tokens: list[str]
    written: str  # the operation the ERP left to the worker (i3's billet)

    def pay(self, installment_id: str) -> None:
        """The customer pays the installment's billet in full at the emulator (Efí then calls back)."""
        with self.bench.store.unit_of_work() as uow:
            charge_id = int(uow.gateway_charges.get(installment_id).charge_id)
        self.bench.emulator.pay(charge_id)

    def receive_all(self) -> None:
        """The endpoint keeps every token Efí called with so far."""
        for token in self.tokens:
            self.erp.payments.receive(token)

    def status(self, installment_id: str) -> InstallmentStatus:
        with self.bench.store.unit_of_work() as uow:
            return uow.installments.get(installment_id).status

    def postings(self, installment_id: str) -> list[tuple[str, Money, str]]:
        with self.bench.store.unit_of_work() as uow:
            settled = uow.installments.get(installment_id).latest_settlement_id or ""
            return sorted((p.kind.value, p.amount, p.history) for p in uow.postings.of_settlement(settled))


@pytest.fixture
def month(ops_store: OpsBench) -> Month:
    """i1 and i2 sent and paid, their tokens kept; i3 written for the worker to send; i4 open."""
    bench = ops_store
    tokens: list[str] = []
    bench.emulator.register_callback(CALLBACK, tokens.append)
    _seed(bench.store, 4, bench.clock.today())
    efi = EfiGateway(CLIENT_ID, SECRET, "sandbox", base_url=bench.url, today=bench.clock.today)
    erp = Portfolio(bench.store, clock=bench.clock, gateway=efi, notification_url=CALLBACK)
    erp.gateway.configure(ACCOUNT)
    assert erp.gateway.issue_billets(["i1", "i2"]).report.sent == 2
    (written,) = erp.gateway.issue_billets(["i3"], send=False).operation_ids
    found = Month(bench, erp, tokens, written)
    found.pay("i1")
    found.pay("i2")
    found.receive_all()
    return found


def test_once_settles_what_the_tokens_report_sends_the_outbox_and_exits(month: Month) -> None:
    result = month.bench.run("worker", "--once", "--notification-url", CALLBACK)
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stdout == ("payments: tokens 2, events 6, settled 2, flagged 0, retrying 0; "
                             "outbox: sent 1, failed 0, retrying 0, unknown 0, waiting 0\n")  # fmt: skip
    assert result.stderr == ""
    assert [month.status(i) for i in ("i1", "i2", "i3")] == [InstallmentStatus.SETTLED] * 2 + [InstallmentStatus.OPEN]
    assert month.postings("i1") == [("entry", Money("99.90"), "201"), ("fee", Money("2.50"), "301")]
    assert month.erp.payments.pending() == []
    with month.bench.store.unit_of_work() as uow:
        sent = uow.gateway_charges.get("i3")
    assert sent.charge_id  # the worker sent it, with the callback URL: Efí called back with its token
    assert len(set(month.tokens)) == 3
    again = month.bench.run("worker", "--once")  # nothing is due: nothing happens, and it says so
    assert (again.exit_code, again.stdout) == (ExitCode.OK, NOTHING + "\n")


def test_once_json_is_one_document_of_the_totals(month: Month) -> None:
    month.erp.payments.receive(month.tokens[0])  # delivered again: processed again, nothing new
    result = month.bench.run("worker", "--once", "--json")
    assert result.exit_code == ExitCode.OK, result.output
    assert json.loads(result.stdout) == {
        "payments": {"tokens": 2, "events": 6, "settled": 2, "flagged": 0, "retrying": 0, "refused": 0},
        "outbox": {"sent": 1, "failed": 0, "retrying": 0, "unknown": 0, "waiting": 0},
    }
    assert result.stdout.count("\n") == 1


def test_a_token_whose_events_cannot_be_fetched_is_retrying_and_kept(month: Month) -> None:
    def without_retries(account: GatewayAccount, *, today: Callable[[], date]) -> EfiGateway:
        """The command's own gateway, but giving up at the first 5xx (the adapter's backoff is not under test)."""
        return EfiGateway(account.client_id, SECRET, "sandbox", base_url=month.bench.url, today=today,
                          retry=RetryPolicy(attempts=1))  # fmt: skip

    month.bench.wiring = attrs.evolve(month.bench.wiring, open_gateway=without_retries)
    month.bench.emulator.fail_next(2, status=500)  # both fetches fail
    result = month.bench.run("worker", "--once", "--json")
    assert result.exit_code == ExitCode.OK, result.output
    first = json.loads(result.stdout)
    assert first["payments"]["retrying"] == 2
    assert first["payments"]["settled"] == 0
    waiting = month.erp.payments.pending()
    assert len(waiting) == 2
    assert all(n.error and n.next_attempt_at is not None for n in waiting)
    month.bench.clock.advance(seconds=60)  # past the backoff
    later = month.bench.run("worker", "--once", "--json")
    assert json.loads(later.stdout)["payments"]["settled"] == 2


def test_a_token_efi_does_not_know_is_refused_and_kept_for_a_person(month: Month) -> None:
    month.erp.payments.receive("forged-token-1")
    result = month.bench.run("worker", "--once", "--notification-url", CALLBACK)
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stdout.startswith("payments: tokens 2, events 6, settled 2, flagged 0, retrying 0, refused 1; ")
    assert [n.token for n in month.erp.payments.refused()] == ["forged-token-1"]


def test_refused_credentials_end_the_worker_with_exit_1_and_lose_no_token(month: Month) -> None:
    result = month.bench.run("worker", "--once", env={SECRET_VARIABLE: "not-the-secret"})
    assert result.exit_code == ExitCode.REFUSED
    assert result.stderr.count("\n") == 1
    assert "not-the-secret" not in result.output
    assert len(month.erp.payments.pending()) == 2  # held back for their backoff, not lost
    month.bench.clock.advance(seconds=60)
    assert json.loads(month.bench.run("worker", "--once", "--json").stdout)["payments"]["settled"] == 2


def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_following_it_settles_what_arrives_and_stops_on_sigterm_with_the_totals(month: Month) -> None:
    def customer_pays_i3_then_sigterm() -> None:
        _until(lambda: month.status("i2") is InstallmentStatus.SETTLED and month.erp.gateway.next_due() is None)
        called = len(month.tokens)
        month.pay("i3")  # the billet the worker sent
        for token in month.tokens[called:]:
            month.erp.payments.receive(token)
        _until(lambda: month.status("i3") is InstallmentStatus.SETTLED)
        os.kill(os.getpid(), signal.SIGTERM)

    helper = threading.Thread(target=customer_pays_i3_then_sigterm, daemon=True)
    helper.start()
    before = signal.getsignal(signal.SIGTERM)
    result = month.bench.run("worker", "--idle", "0.1", "--notification-url", CALLBACK)
    helper.join(timeout=5)
    assert signal.getsignal(signal.SIGTERM) is before  # the command's handler is gone
    assert result.exit_code == ExitCode.OK, result.output
    at = "2026-03-20T12:00:00-03:00"
    assert result.stdout.splitlines() == [
        f"{at} payments: tokens 2, events 6, settled 2, flagged 0, retrying 0; outbox: sent 1, failed 0, retrying 0, "
        "unknown 0, waiting 0",
        f"{at} payments: tokens 1, events 3, settled 1, flagged 0, retrying 0; outbox: sent 0, failed 0, retrying 0, "
        "unknown 0, waiting 0",  # i3's token, once paid: created, waiting, paid
        "stopped: payments: tokens 3, events 9, settled 3, flagged 0, retrying 0; outbox: sent 1, failed 0, "
        "retrying 0, unknown 0, waiting 0",
    ]
    assert month.postings("i3") == [("entry", Money("99.90"), "201"), ("fee", Money("2.50"), "301")]


def test_following_as_json_prints_one_line_per_round_and_the_totals(month: Month) -> None:
    def sigterm_once_settled() -> None:
        _until(lambda: month.status("i2") is InstallmentStatus.SETTLED and month.erp.gateway.next_due() is None)
        os.kill(os.getpid(), signal.SIGTERM)

    helper = threading.Thread(target=sigterm_once_settled, daemon=True)
    helper.start()
    result = month.bench.run("worker", "--idle", "0.1", "--json")
    helper.join(timeout=5)
    assert result.exit_code == ExitCode.OK, result.output
    first, last = (json.loads(line) for line in result.stdout.splitlines())
    assert first["at"] == "2026-03-20T12:00:00-03:00"
    assert (first["payments"]["settled"], first["outbox"]["sent"]) == (2, 1)
    assert last == {"stopped": True, "payments": first["payments"], "outbox": first["outbox"]}


def test_an_inactive_account_still_settles_payments_and_sends_nothing(month: Month) -> None:
    month.erp.gateway.configure(attrs.evolve(ACCOUNT, active=False))
    result = month.bench.run("worker", "--once")
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stdout.startswith("payments: tokens 2, events 6, settled 2, ")
    assert result.stderr == "warning: the gateway account is inactive: the outbox is not drained (notifications " \
                            "still are)\n"  # fmt: skip
    assert month.status("i2") is InstallmentStatus.SETTLED
    assert month.bench.operation(month.written) is OperationStatus.PENDING


def test_a_missing_secret_or_account_is_one_line_and_nothing_is_processed(ops_store: OpsBench) -> None:
    no_account = ops_store.run("worker", "--once")
    assert no_account.exit_code == ExitCode.REFUSED
    assert no_account.stderr.startswith("error: no gateway account is configured: store it with carteira ops configure")
    with ops_store.store.unit_of_work() as uow:
        uow.gateway_account.put(ACCOUNT)
        uow.commit()
    Portfolio(ops_store.store, clock=ops_store.clock).payments.receive("tok-1")
    no_secret = ops_store.run("worker", "--once", env={SECRET_VARIABLE: None})
    assert no_secret.exit_code == ExitCode.REFUSED
    assert no_secret.stderr.startswith(f"error: {SECRET_VARIABLE}: is not set")
    assert (no_secret.stderr.count("\n"), no_secret.stdout) == (1, "")
    with ops_store.store.unit_of_work() as uow:
        assert uow.notifications.get("tok-1").status is NotificationStatus.PENDING


# -- the installed command, as a supervisor runs it -------------------------------------------------------


def test_a_worker_process_settles_a_payment_that_arrives_and_stops_on_sigterm(tmp_path: Path) -> None:
    """``python -m carteira.adapters.cli worker`` on a SQLite file, the system clock and the environment."""
    store = SqliteStore(tmp_path / STORE_FILE)
    if not keeps_operations(store):
        store.close()
        pytest.skip("SQLite storage of the outbox is not on this branch yet")
    _seed(store, 2, date.today())
    tokens: list[str] = []
    emulator = EfiEmulator(CLIENT_ID, SECRET)
    emulator.register_callback(CALLBACK, tokens.append)
    with serve(emulator) as url, EfiGateway(CLIENT_ID, SECRET, "sandbox", base_url=url) as efi:
        erp = Portfolio(store, gateway=efi, notification_url=CALLBACK)
        erp.gateway.configure(ACCOUNT)
        erp.gateway.issue_billets(["i1", "i2"], send=False)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), SECRET_VARIABLE: SECRET, BASE_URL_VARIABLE: url}
        worker = subprocess.Popen(
            [sys.executable, "-m", "carteira.adapters.cli", "--store", str(tmp_path / STORE_FILE), "worker",
             "--idle", "0.2", "--notification-url", CALLBACK],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            _until(lambda: erp.gateway.next_due() is None, timeout_s=30)  # the worker sent both and recorded them
            assert len(set(tokens)) == 2  # with the callback URL: Efí called back for each
            with store.unit_of_work() as uow:
                emulator.pay(int(uow.gateway_charges.get("i2").charge_id))
            for token in tokens:
                erp.payments.receive(token)
            _until(lambda: _status(store, "i2") is InstallmentStatus.SETTLED, timeout_s=30)
            worker.send_signal(signal.SIGTERM)
            out, err = worker.communicate(timeout=30)
        finally:
            worker.kill()
    store.close()
    assert worker.returncode == ExitCode.OK, err
    assert err == ""
    assert out.splitlines()[-1].startswith("stopped: payments: tokens ")
    assert ", settled 1, flagged 0, retrying 0; outbox: sent 2, failed 0, " in out.splitlines()[-1]
    assert SECRET not in out
    assert SECRET.encode() not in (tmp_path / STORE_FILE).read_bytes()


def _status(store: Store, installment_id: str) -> InstallmentStatus:
    with store.unit_of_work() as uow:
        return uow.installments.get(installment_id).status
