"""Every ``carteira ops`` command through click's runner, against the Efí emulator over loopback HTTP.

The store is a SQLite file (and a PostgreSQL schema) once those stores keep the outbox (detected,
not assumed: another branch adds it), and always a ``MemoryStore`` handed out by the opener. The
command builds its own ``EfiGateway`` from the stored account, ``CARTEIRA_EFI_CLIENT_SECRET`` and
``CARTEIRA_EFI_BASE_URL``, as a night job's would. Every run's output, and the SQLite file, are
searched for the secret.
"""

from __future__ import annotations

import json
import os
import re
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

from carteira import ChargeTerms, Installment, Money, Portfolio
from carteira.adapters.cli import ExitCode
from carteira.adapters.cli.wiring import BASE_URL_VARIABLE, SECRET_VARIABLE
from carteira.adapters.efi import EfiGateway
from carteira.adapters.storage import SqliteStore
from carteira.domain import Customer
from carteira.domain.notifications import SeenEvent
from carteira.domain.operations import Environment, GatewayAccount, OperationFilter, OperationStatus
from carteira.ports.storage import Store
from carteira.testing.efi_emulator import EfiEmulator, serve
from tests.support import ROOT

from .conftest import CLIENT_ID, SECRET, STORE_FILE, OpsBench, keeps_operations

AGREEMENT = "efi-wallet"
TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
CONFIGURE = ("ops", "configure", "--client-id", CLIENT_ID, "--environment", "sandbox", "--agreement", AGREEMENT,
             "--bank-account", "itau-1", "--fee", "2.50", "--receipt-history", "101", "--entries-history", "201",
             "--fees-history", "301", "--notify", "ana")  # fmt: skip
EVERY = {"sent", "failed", "pending0", "pending1"}
"""The names the filter tests give the log's operations."""


def _seed(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.customers.put(Customer("c1", "Maria Silva", tax_id="52998224725", email="maria@example.com.br"))
        uow.customers.put(Customer("c2", "Joao", tax_id="52998224725", email="joao@example.com.br"))
        for number, customer in enumerate(("c1", "c2", "c1", "c1", "c1"), 1):
            uow.installments.put(Installment(f"i{number}", customer, date(2026, 3 + number, 10), Money("99.90"), TERMS,
                                             bank_contract=AGREEMENT, number=number))  # fmt: skip
        uow.commit()


@pytest.fixture
def ops_bench(ops_store: OpsBench) -> OpsBench:
    """The bench with two customers (c2's name is one word: Efí refuses it) and five installments."""
    _seed(ops_store.store)
    return ops_store


@attrs.frozen
class Log:
    """The operations the ERP wrote before the commands run: one sent, one failed, two pending."""

    sent: str
    failed: str
    pending: tuple[str, str]


@pytest.fixture
def log(ops_bench: OpsBench) -> Log:
    """A billing run of i1 (sent) and i2 (failed: Joao has a one-word name), and i3, i4 left to a worker."""
    assert ops_bench.run(*CONFIGURE).exit_code == ExitCode.OK
    portfolio = ops_bench.portfolio()
    run = portfolio.gateway.issue_billets(["i1", "i2"], concurrency=1)
    later = portfolio.gateway.issue_billets(["i3", "i4"], send=False)
    assert (run.report.sent, run.report.failed) == (1, 1)
    sent, failed = run.operation_ids
    return Log(sent, failed, (later.operation_ids[0], later.operation_ids[1]))


def _rows(table: str) -> list[list[str]]:
    """The cells of a rich table's rows (after the head rule), split on runs of two or more spaces; a line that
    starts blank continues the last cell of the row before (rich wraps a long note)."""
    lines = table.splitlines()
    rule = next(i for i, line in enumerate(lines) if set(line.strip()) == {"─"})
    rows: list[list[str]] = []
    for line in lines[rule + 1 :]:
        if line.startswith(" ") and rows:
            rows[-1][-1] += " " + line.strip()
        elif line.strip():
            rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


# -- the account -----------------------------------------------------------------------------------


def test_configure_stores_the_account_and_shows_whether_the_secret_is_set(ops_bench: OpsBench) -> None:
    result = ops_bench.run(*CONFIGURE)
    assert result.exit_code == ExitCode.OK
    assert result.stdout.splitlines() == [
        f"gateway account {CLIENT_ID} (sandbox), active",
        f"  agreement      {AGREEMENT} (bank code 0)",
        "  bank account   itau-1",
        "  payment fee    2.50",
        "  history codes  receipt 101, entries 201, fees 301",
        "  notify         ana",
        f"  secret         {SECRET_VARIABLE} set",
    ]
    shown = json.loads(ops_bench.run("ops", "account", "--json", env={SECRET_VARIABLE: None}).stdout)
    assert shown["secret_set"] is False
    assert (shown["client_id"], shown["environment"], shown["payment_fee"], shown["notify"]) == (
        CLIENT_ID, "sandbox", "2.50", ["ana"])  # fmt: skip
    with ops_bench.store.unit_of_work() as uow:
        assert uow.gateway_account.get().payment_fee == Money("2.50")


def test_configure_again_keeps_what_is_not_given(ops_bench: OpsBench) -> None:
    ops_bench.run(*CONFIGURE)
    result = ops_bench.run("ops", "configure", "--environment", "sandbox", "--inactive", "--notify", "bia",
                           "--notify", "caio", "--fee", "1.99")  # fmt: skip
    assert result.exit_code == ExitCode.OK
    assert result.stdout.splitlines()[0] == f"gateway account {CLIENT_ID} (sandbox), INACTIVE: nothing is sent"
    with ops_bench.store.unit_of_work() as uow:
        account = uow.gateway_account.get()
    assert (account.active, account.notify, account.payment_fee, account.agreement_id, account.fees_history) == (
        False, ("bia", "caio"), Money("1.99"), AGREEMENT, "301")  # fmt: skip
    ops_bench.run("ops", "configure", "--environment", "sandbox", "--active", "--no-notify")
    with ops_bench.store.unit_of_work() as uow:
        assert (uow.gateway_account.get().active, uow.gateway_account.get().notify) == (True, ())


def test_configure_refuses_a_partial_first_account_and_an_environment_without_its_client_id(
    ops_bench: OpsBench,
) -> None:
    first = ops_bench.run("ops", "configure", "--environment", "sandbox", "--client-id", CLIENT_ID, "--fee", "2.50")
    assert first.exit_code == ExitCode.USAGE
    assert "no account is stored yet: give --agreement, --bank-account, --receipt-history, --entries-history, " \
           "--fees-history as well" in first.stderr  # fmt: skip
    no_environment = ops_bench.run(*[arg for arg in CONFIGURE if arg not in ("--environment", "sandbox")])
    assert no_environment.exit_code == ExitCode.USAGE
    assert "--environment" in no_environment.stderr
    ops_bench.run(*CONFIGURE)
    moved = ops_bench.run("ops", "configure", "--environment", "production")
    assert moved.exit_code == ExitCode.USAGE
    assert "changing to production needs its --client-id too" in moved.stderr
    bad_fee = ops_bench.run("ops", "configure", "--environment", "sandbox", "--fee", "2,50")
    assert bad_fee.exit_code == ExitCode.USAGE
    assert "'2,50' is not an amount like 2.50" in bad_fee.stderr


# -- the panel ---------------------------------------------------------------------------------------


def test_list_shows_every_operation_newest_first_the_failed_one_flagged(ops_bench: OpsBench, log: Log) -> None:
    result = ops_bench.run("ops", "list", env={SECRET_VARIABLE: None})  # reading needs no secret
    assert result.exit_code == ExitCode.OK
    rows = _rows(result.stdout)
    assert [row[0] for row in rows] == sorted([log.sent, log.failed, *log.pending], reverse=True)  # same instant
    by_id = {row[0]: row for row in rows}
    assert by_id[log.sent][1:] == ["2026-03-20 12:00", "issue_billet", "i1", "c1", "SENT", "1"]
    failed = by_id[log.failed]
    assert failed[1:8] == ["2026-03-20 12:00", "issue_billet", "i2", "c2", "FAILED !", "1", "payer.name"]
    assert "two words" in failed[8]
    assert by_id[log.pending[0]][5:] == ["PENDING", "0"]
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (("--flagged",), {"failed"}),
        (("--status", "PENDING"), {"pending0", "pending1"}),
        (("--status", "sent"), {"sent"}),
        (("--customer", "c2"), {"failed"}),
        (("--document", "i3"), {"pending0"}),
        (("--kind", "cancel"), set()),
        (("--kind", "issue_billet", "--from", "2026-03-20", "--to", "2026-03-20"), EVERY),
        (("--to", "2026-03-19"), set()),
        (("--from", "2026-03-21"), set()),
    ],
)
def test_list_filters(ops_bench: OpsBench, log: Log, options: tuple[str, ...], expected: set[str]) -> None:
    names = {log.sent: "sent", log.failed: "failed", log.pending[0]: "pending0", log.pending[1]: "pending1"}
    result = ops_bench.run("ops", "list", "--json", *options)
    assert result.exit_code == ExitCode.OK
    assert {names[item["id"]] for item in json.loads(result.stdout)} == expected


def test_list_into_a_pipe_or_a_log_keeps_each_operation_on_one_whole_line(ops_bench: OpsBench, log: Log) -> None:
    result = ops_bench.run("ops", "list", env={"COLUMNS": None})  # not a terminal, no width given
    rows = result.stdout.splitlines()[2:]  # one line per operation: no wrapped note
    assert [row.split()[0] for row in rows] == sorted([log.sent, log.failed, *log.pending], reverse=True)
    assert "(checked before sending; nothing was sent)" in result.stdout  # the note, unwrapped


def test_list_limit_says_on_stderr_that_there_may_be_more(ops_bench: OpsBench, log: Log) -> None:
    result = ops_bench.run("ops", "list", "--limit", "2")
    assert len(_rows(result.stdout)) == 2
    assert result.stderr == "(the newest 2 shown; --limit N or --all for more)\n"
    assert len(_rows(ops_bench.run("ops", "list", "--limit", "2", "--all").stdout)) == 4


def test_list_json_is_one_document_in_stable_words(ops_bench: OpsBench, log: Log) -> None:
    result = ops_bench.run("ops", "list", "--json", "--flagged")
    [failed] = json.loads(result.stdout)
    assert result.stdout.count("\n") == 1
    assert failed["id"] == log.failed
    assert (failed["kind"], failed["status"], failed["flagged"], failed["documents"], failed["customer_id"]) == (
        "issue_billet", "failed", True, ["i2"], "c2")  # fmt: skip
    assert failed["created_at"] == "2026-03-20T12:00:00-03:00"
    assert failed["error"]["field"] == "payer.name"
    assert failed["error"]["retryable"] is False
    assert (failed["attempts"], failed["warnings"], failed["document_reversed"]) == (1, [], False)
    assert "charges" not in failed


def test_show_prints_every_field_and_the_charge(ops_bench: OpsBench, log: Log) -> None:
    result = ops_bench.run("ops", "show", log.sent, env={SECRET_VARIABLE: None})
    assert result.exit_code == ExitCode.OK
    lines = result.stdout.splitlines()
    assert lines[0] == f"operation {log.sent}: issue_billet, SENT"
    fields = dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in lines[1:] if "  " in line.strip())
    assert fields["created"] == "2026-03-20T12:00:00-03:00"
    assert fields["sent at"] == "2026-03-20T12:00:00-03:00"
    assert (fields["documents"], fields["customer"], fields["attempts"], fields["reversed"]) == ("i1", "c1", "1", "no")
    assert re.fullmatch(r"i1: charge \d+, issued, due 2026-04-10, 99\.90", fields["charge"])
    assert "Maria Silva" in fields["request"]
    assert json.loads(fields["request"])  # the request as recorded: JSON text
    assert fields["response"]
    shown = json.loads(ops_bench.run("ops", "show", log.sent, "--json").stdout)
    assert [charge["installment_id"] for charge in shown["charges"]] == ["i1"]
    assert shown["charges"][0]["charge_id"] in {str(charge) for charge in ops_bench.emulator.charges}


def test_show_lists_the_notifications_about_the_operations_charges(ops_bench: OpsBench, log: Log) -> None:
    with ops_bench.store.unit_of_work() as uow:
        charge_id = uow.gateway_charges.get("i1").charge_id
        at = uow.operations.get(log.sent).created_at
        uow.seen_events.add_many(
            [
                SeenEvent("tok-1", 1, "charge", "waiting", at, charge_id=charge_id),
                SeenEvent(
                    "tok-1", 2, "charge", "paid", at, charge_id=charge_id, installment_id="i1", settlement_id="s1"
                ),
                SeenEvent("tok-2", 1, "charge", "paid", at, charge_id="999", flagged=True, note="not ours"),
            ]
        )
        uow.commit()
    lines = ops_bench.run("ops", "show", log.sent).stdout.splitlines()
    notifications = [line.split(None, 1)[1] for line in lines if line.startswith("  notification ")]
    assert notifications == [
        f"2026-03-20T12:00:00-03:00 charge {charge_id}: charge waiting, recorded",
        f"2026-03-20T12:00:00-03:00 charge {charge_id}: charge paid, settled i1 (s1)",
    ]
    shown = json.loads(ops_bench.run("ops", "show", log.sent, "--json").stdout)
    assert [(event["event_id"], event["status"], event["settlement_id"]) for event in shown["notifications"]] == [
        (1, "waiting", None),
        (2, "paid", "s1"),
    ]
    assert shown["notifications"][0]["seen_at"] == "2026-03-20T12:00:00-03:00"
    assert "notification " not in ops_bench.run("ops", "show", log.failed).stdout  # no charge, no notification


def test_show_of_a_failed_operation_prints_its_error(ops_bench: OpsBench, log: Log) -> None:
    lines = ops_bench.run("ops", "show", log.failed).stdout.splitlines()
    assert lines[0] == f"operation {log.failed}: issue_billet, FAILED !"
    assert "  error field   payer.name" in lines
    assert "  retryable     no" in lines
    assert not any(line.startswith("  charge ") for line in lines)


def test_an_unknown_operation_is_one_line_and_exit_1(ops_bench: OpsBench, log: Log) -> None:
    for command in ("show", "resend"):
        result = ops_bench.run("ops", command, "0" * 32)
        assert result.exit_code == ExitCode.REFUSED
        assert result.stderr == f"error: operation '{'0' * 32}' does not exist\n"


# -- fix and resend (G9) --------------------------------------------------------------------------------


def test_a_failed_operation_fixed_in_the_store_and_resent_goes_through(ops_bench: OpsBench, log: Log) -> None:
    charges = len(ops_bench.emulator.charges)
    ops_bench.rename("c2", "Joao Souza")
    result = ops_bench.run("ops", "resend", log.failed)
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stdout.splitlines()[0] == f"operation {log.failed}: issue_billet, SENT"
    assert "Joao Souza" in result.stdout  # the request was rebuilt from the data as it is now
    assert ops_bench.operation(log.failed) is OperationStatus.SENT
    assert len(ops_bench.emulator.charges) == charges + 1
    again = ops_bench.run("ops", "resend", log.failed)
    assert again.exit_code == ExitCode.REFUSED
    assert again.stderr == f"error: operation {log.failed} is sent: only a failed operation is resent\n"
    assert len(ops_bench.emulator.charges) == charges + 1


def test_a_resend_refused_again_exits_1_with_the_error(ops_bench: OpsBench, log: Log) -> None:
    result = ops_bench.run("ops", "resend", log.failed, "--json")
    assert result.exit_code == ExitCode.REFUSED
    shown = json.loads(result.stdout)
    assert (shown["status"], shown["attempts"]) == ("failed", 2)
    assert result.stderr.startswith(f"error: operation {log.failed} failed again: payer.name")
    assert result.stderr.count("\n") == 1


# -- drain -------------------------------------------------------------------------------------------------


def test_drain_sends_what_is_due_with_a_progress_bar_on_stderr(ops_bench: OpsBench, log: Log) -> None:
    charges = len(ops_bench.emulator.charges)
    result = ops_bench.run("ops", "drain", "--concurrency", "2")
    assert result.exit_code == ExitCode.OK
    assert result.stdout == "sent 2, failed 0, retrying 0, unknown 0, waiting 0\n"
    assert "sending" in result.stderr
    assert [ops_bench.operation(ident) for ident in log.pending] == [OperationStatus.SENT] * 2
    assert len(ops_bench.emulator.charges) == charges + 2
    again = ops_bench.run("ops", "drain", "--json")
    assert json.loads(again.stdout) == {"sent": 0, "failed": 0, "retrying": 0, "unknown": 0, "waiting": 0}


def test_drain_puts_the_notification_url_in_what_it_sends(ops_bench: OpsBench, log: Log) -> None:
    ops_bench.run("ops", "drain", "--limit", "1", "--notification-url", "https://erp.example/efi/callback")
    ops_bench.run("ops", "drain", env={"CARTEIRA_EFI_NOTIFICATION_URL": "https://erp.example/efi/other"})
    requests = [json.loads(ops_bench.run("ops", "show", ident, "--json").stdout)["request"] for ident in log.pending]
    urls = sorted(json.loads(request)["notification_url"] for request in requests)
    assert urls == ["https://erp.example/efi/callback", "https://erp.example/efi/other"]
    shown = json.loads(ops_bench.run("ops", "show", log.sent, "--json").stdout)
    assert json.loads(shown["request"])["notification_url"] is None  # the ERP's run gave none


def test_drain_limit_sends_at_most_that_many(ops_bench: OpsBench, log: Log) -> None:
    assert ops_bench.run("ops", "drain", "--limit", "1").stdout.startswith("sent 1, ")
    assert sorted(ops_bench.operation(ident).value for ident in log.pending) == ["pending", "sent"]


def test_drain_reports_refusals_as_outcomes_and_notifies(ops_bench: OpsBench, log: Log) -> None:
    ops_bench.rename("c1", "Maria")  # the pending billets of c1 now have a one-word name
    result = ops_bench.run("ops", "drain")
    assert result.exit_code == ExitCode.OK
    assert result.stdout.splitlines() == ["sent 0, failed 2, retrying 0, unknown 0, waiting 0",
                                          "  the failed ones: carteira ops list --status failed"]  # fmt: skip
    assert [notice.users for notice in ops_bench.notifier.sent] == [("ana",), ("ana",)]
    assert len(json.loads(ops_bench.run("ops", "list", "--flagged", "--json").stdout)) == 3


def test_drain_follow_keeps_sending_what_the_erp_writes_until_interrupted(ops_bench: OpsBench, log: Log) -> None:
    portfolio = ops_bench.portfolio()
    written: list[str] = []

    def erp_then_ctrl_c() -> None:
        _until(lambda: all(ops_bench.operation(ident) is OperationStatus.SENT for ident in log.pending))
        written.extend(portfolio.gateway.issue_billets(["i5"], send=False).operation_ids)
        _until(lambda: ops_bench.operation(written[0]) is OperationStatus.SENT)
        os.kill(os.getpid(), signal.SIGINT)

    helper = threading.Thread(target=erp_then_ctrl_c, daemon=True)
    helper.start()
    before = signal.getsignal(signal.SIGINT)
    result = ops_bench.run("ops", "drain", "--follow", "--idle", "0.1")
    helper.join(timeout=5)
    assert signal.getsignal(signal.SIGINT) is before  # the command's handler is gone
    assert result.exit_code == ExitCode.OK, result.output
    *rounds, last = result.stdout.splitlines()
    # i5 may be written while the first round is still sending (then that round takes it too): 1 or 2 rounds
    sent = [re.fullmatch(r"2026-03-20T12:00:00-03:00 sent (\d), failed 0, retrying 0, unknown 0, waiting 0", line)
            for line in rounds]  # fmt: skip
    assert all(sent), rounds
    assert sum(int(match.group(1)) for match in sent if match) == 3
    assert last == "stopped: sent 3, failed 0, retrying 0, unknown 0, waiting 0"


def test_drain_follow_json_is_one_line_per_round(ops_bench: OpsBench, log: Log) -> None:
    def sigterm_once_sent() -> None:
        _until(lambda: all(ops_bench.operation(ident) is OperationStatus.SENT for ident in log.pending))
        os.kill(os.getpid(), signal.SIGTERM)

    helper = threading.Thread(target=sigterm_once_sent, daemon=True)
    helper.start()
    result = ops_bench.run("ops", "drain", "--follow", "--json", "--idle", "0.1", "--limit", "1")
    helper.join(timeout=5)
    rounds = [json.loads(line) for line in result.stdout.splitlines()]
    assert [item.get("sent") for item in rounds] == [1, 1, 2]
    assert rounds[0]["at"] == "2026-03-20T12:00:00-03:00"
    assert rounds[-1]["stopped"] is True


def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# -- the secret and other errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", [("ops", "drain"), ("ops", "resend", "x"), ("ops", "drain", "--follow")])
def test_a_missing_secret_is_one_line_naming_the_variable(
    ops_bench: OpsBench, log: Log, command: tuple[str, ...]
) -> None:
    result = ops_bench.run(*command, env={SECRET_VARIABLE: None})
    assert result.exit_code == ExitCode.REFUSED
    assert result.stderr.startswith(f"error: {SECRET_VARIABLE}: is not set")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""
    assert ops_bench.operation(log.pending[0]) is OperationStatus.PENDING


def test_no_account_says_how_to_configure_one(ops_bench: OpsBench) -> None:
    result = ops_bench.run("ops", "drain")
    assert result.exit_code == ExitCode.REFUSED
    assert result.stderr.startswith("error: no gateway account is configured: store it with carteira ops configure")
    assert ops_bench.run("ops", "account").exit_code == ExitCode.REFUSED
    listed = ops_bench.run("ops", "list", "--json")
    assert (listed.exit_code, listed.stdout) == (ExitCode.OK, "[]\n")


def test_an_inactive_account_sends_nothing(ops_bench: OpsBench, log: Log) -> None:
    ops_bench.run("ops", "configure", "--environment", "sandbox", "--inactive")
    result = ops_bench.run("ops", "drain")
    assert result.exit_code == ExitCode.REFUSED
    assert "the gateway account is inactive" in result.stderr
    assert ops_bench.operation(log.pending[0]) is OperationStatus.PENDING


def test_a_wrong_secret_never_shows_either_secret(ops_bench: OpsBench, log: Log) -> None:
    wrong = "Wrong_Secret_1234abcd"
    result = ops_bench.run("--debug", "ops", "drain", env={SECRET_VARIABLE: wrong})
    assert result.exit_code == ExitCode.REFUSED  # refused credentials stop the drain: no operation is at fault
    assert "refused the credentials" in result.stderr
    assert wrong not in result.output
    assert SECRET not in result.output
    listed = ops_bench.run("ops", "list", "--json", "--all").stdout
    statuses = {row["id"]: row["status"] for row in json.loads(listed)}
    assert [statuses[op_id] for op_id in log.pending] == ["pending", "pending"]  # they wait for the right secret
    assert "refused the credentials" in listed
    assert wrong not in listed


@pytest.mark.parametrize(
    "args",
    [
        ["ops", "list", "--status", "lost"],
        ["ops", "list", "--from", "20/03/2026"],
        ["ops", "list", "--limit", "0"],
        ["ops", "drain", "--concurrency", "0"],
        ["ops", "show"],
        ["ops", "configure", "--environment", "staging"],
    ],
)
def test_usage_errors_exit_2(ops_bench: OpsBench, args: list[str]) -> None:
    result = ops_bench.run(*args)
    assert result.exit_code == ExitCode.USAGE
    assert "Error:" in result.stderr


def test_filter_is_the_domains(ops_bench: OpsBench, log: Log) -> None:
    """The command's --flagged and the panel's filter agree (the command adds no rule of its own)."""
    flagged = {item["id"] for item in json.loads(ops_bench.run("ops", "list", "--flagged", "--json").stdout)}
    with ops_bench.store.unit_of_work() as uow:
        assert flagged == {op.id for op in uow.operations.find(OperationFilter(flagged=True))}


# -- the installed command, as a supervisor runs it -------------------------------------------------------


def test_a_follow_process_sends_what_the_erp_writes_and_stops_on_sigterm(tmp_path: Path) -> None:
    """``python -m carteira.adapters.cli ops drain --follow`` on a SQLite file, the system clock and the environment."""
    store = SqliteStore(tmp_path / STORE_FILE)
    if not keeps_operations(store):
        store.close()
        pytest.skip("SQLite storage of the outbox is not on this branch yet")
    today = date.today()
    with store.unit_of_work() as uow:
        uow.customers.put(Customer("c1", "Maria Silva", tax_id="52998224725", email="maria@example.com.br"))
        uow.installments.put_many([Installment(f"i{n}", "c1", today + timedelta(days=30 * n), Money("99.90"), TERMS,
                                               bank_contract=AGREEMENT, number=n) for n in (1, 2, 3)])  # fmt: skip
        uow.commit()
    emulator = EfiEmulator(CLIENT_ID, SECRET)
    with serve(emulator) as url, EfiGateway(CLIENT_ID, SECRET, "sandbox", base_url=url) as efi:
        erp = Portfolio(store, gateway=efi)
        erp.gateway.configure(GatewayAccount(CLIENT_ID, Environment.SANDBOX, AGREEMENT, "0", "itau-1", Money("2.50"),
                                             "101", "201", "301"))  # fmt: skip
        first = erp.gateway.issue_billets(["i1", "i2"], send=False).operation_ids
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), SECRET_VARIABLE: SECRET, BASE_URL_VARIABLE: url}
        worker = subprocess.Popen(
            [sys.executable, "-m", "carteira.adapters.cli", "--store", str(tmp_path / STORE_FILE), "ops", "drain",
             "--follow", "--idle", "0.2"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            _until(lambda: _statuses(store, first) == {OperationStatus.SENT}, timeout_s=30)
            later = erp.gateway.issue_billets(["i3"], send=False).operation_ids
            _until(lambda: _statuses(store, later) == {OperationStatus.SENT}, timeout_s=30)
            worker.send_signal(signal.SIGTERM)
            out, err = worker.communicate(timeout=30)
        finally:
            worker.kill()
    store.close()
    assert worker.returncode == ExitCode.OK, err
    assert out.splitlines()[-1] == "stopped: sent 3, failed 0, retrying 0, unknown 0, waiting 0"
    assert err == ""
    assert len(emulator.charges) == 3
    assert SECRET not in out + err
    assert SECRET.encode() not in (tmp_path / STORE_FILE).read_bytes()


def _statuses(store: Store, ids: tuple[str, ...]) -> set[OperationStatus]:
    with store.unit_of_work() as uow:
        return {operation.status for operation in uow.operations.get_many(ids).values()}
