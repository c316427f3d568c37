"""``carteira postings list``: the postings of a period, of one account or history code, and their totals.

The store is a SQLite file, a PostgreSQL schema and a ``MemoryStore`` (the ``bench`` fixture). Postings are
added as the payments use case records them (fixed ids, so that the tables compare whole), and once end to
end: billets paid at a ``FakeGateway``, their notifications processed, one of them reversed.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import pytest

from carteira import ChargeTerms, Installment, Money, Portfolio
from carteira.adapters.cli import ExitCode
from carteira.domain import Customer, EveryDayCalendar
from carteira.domain.operations import Environment, GatewayAccount
from carteira.domain.postings import Posting, PostingKind, reversal_of
from carteira.ports.gateway import ChargeId
from carteira.testing import FakeGateway, FixedClock

from .conftest import Bench

MARCH_10, MARCH_12, MARCH_16 = date(2026, 3, 10), date(2026, 3, 12), date(2026, 3, 16)
ENTRY = Posting("p-0001", PostingKind.ENTRY, MARCH_10, Money("150.00"), "itau-1", "201", "inst-1041/S1", "1001")
FEE = Posting("p-0002", PostingKind.FEE, MARCH_10, Money("2.50"), "itau-1", "301", "inst-1041/S1", "1001")
OTHER = Posting("p-0003", PostingKind.ENTRY, MARCH_12, Money("89.90"), "bradesco-7", "201", "inst-2001/S1", "1002")
UNDONE = [reversal_of(ENTRY, id="r-0001", on=MARCH_16), reversal_of(FEE, id="r-0002", on=MARCH_16)]


@pytest.fixture
def ledger(bench: Bench) -> Bench:
    with bench.store.unit_of_work() as uow:
        uow.postings.add_many([ENTRY, FEE, OTHER])
        uow.postings.add_many(UNDONE)
        uow.commit()
    return bench


def test_list_prints_the_period_by_date_then_id_and_its_totals(ledger: Bench) -> None:
    result = ledger.run("postings", "list", "--from", "2026-03-01", "--to", "2026-03-31")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert [line.rstrip() for line in result.stdout.splitlines()] == [
        "date        kind    effect  account     history  settlement    charge  posting  reverses",
        "─" * 88,
        "2026-03-10  entry   150.00  itau-1      201      inst-1041/S1  1001    p-0001",
        "2026-03-10  fee      -2.50  itau-1      301      inst-1041/S1  1001    p-0002",
        "2026-03-12  entry    89.90  bradesco-7  201      inst-2001/S1  1002    p-0003",
        "2026-03-16  entry  -150.00  itau-1      201      inst-1041/S1  1001    r-0001   p-0001",
        "2026-03-16  fee       2.50  itau-1      301      inst-1041/S1  1001    r-0002   p-0002",
        "5 postings: entries 239.90, fees 2.50, reversals -147.50, net 89.90",
    ]


def test_list_filters_by_account_and_history_and_says_when_nothing_matches(ledger: Bench) -> None:
    fees = ledger.run("postings", "list", "--from", "2026-03-01", "--to", "2026-03-31", "--history", "301")
    assert fees.exit_code == ExitCode.OK
    assert fees.stdout.splitlines()[-1] == "2 postings: entries 0.00, fees 2.50, reversals 2.50, net 0.00"
    one_day = ledger.run("postings", "list", "--from", "2026-03-10", "--to", "2026-03-10", "--account", "itau-1",
                         "--history", "201")  # fmt: skip
    assert re.findall(r"\bp-\d{4}\b", one_day.stdout) == ["p-0001"]
    assert one_day.stdout.splitlines()[-1] == "1 posting: entries 150.00, fees 0.00, reversals 0.00, net 150.00"
    none = ledger.run("postings", "list", "--from", "2026-03-11", "--to", "2026-03-11", "--account", "itau-1")
    assert none.exit_code == ExitCode.OK
    assert none.stdout.splitlines() == [
        "no postings from 2026-03-11 to 2026-03-11 to account itau-1",
        "0 postings: entries 0.00, fees 0.00, reversals 0.00, net 0.00",
    ]


def test_list_json_is_one_document_with_every_field_and_the_totals(ledger: Bench) -> None:
    result = ledger.run("postings", "list", "--from", "2026-03-16", "--to", "2026-03-16", "--json")
    assert result.exit_code == ExitCode.OK
    assert result.stdout.count("\n") == 1
    document = json.loads(result.stdout)
    assert {key: document[key] for key in ("from", "to", "account", "history")} == {
        "from": "2026-03-16", "to": "2026-03-16", "account": None, "history": None}  # fmt: skip
    assert document["postings"][0] == {
        "id": "r-0001",
        "kind": "entry",
        "on": "2026-03-16",
        "amount": "150.00",
        "effect": "-150.00",
        "account": "itau-1",
        "history": "201",
        "settlement_id": "inst-1041/S1",
        "charge_id": "1001",
        "reverses": "p-0001",
    }
    assert [p["id"] for p in document["postings"]] == ["r-0001", "r-0002"]
    assert document["totals"] == {"count": 2, "entries": "0.00", "fees": "0.00", "reversals": "-147.50",
                                  "net": "-147.50"}  # fmt: skip


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--from", "2026-03-31", "--to", "2026-03-01"], ExitCode.REFUSED, "error: on_to: the period ends"),
        (["--from", "2026-03-01", "--to", "2026-03-31", "--account", " "], ExitCode.REFUSED, "error: account: must"),
        (["--from", "01/03/2026", "--to", "2026-03-31"], ExitCode.USAGE, "Usage: carteira postings list"),
        (["--from", "2026-03-01"], ExitCode.USAGE, "Usage: carteira postings list"),
    ],
)
def test_list_refuses_a_period_backwards_a_blank_filter_and_a_date_not_iso(
    ledger: Bench, args: list[str], code: ExitCode, message: str
) -> None:
    result = ledger.run("postings", "list", *args)
    assert result.exit_code == code
    assert result.stderr.startswith(message), result.stderr
    assert result.stdout == ""


def test_a_paid_billet_and_its_reversal_are_listed_end_to_end(bench: Bench) -> None:
    """Billets paid at the gateway, their notifications processed, one reversed a week later; then the command."""
    fake = FakeGateway(today=MARCH_10)
    portfolio = Portfolio(bench.store, gateway=fake, clock=FixedClock(MARCH_10), calendar=EveryDayCalendar())
    portfolio.gateway.configure(
        GatewayAccount("cid", Environment.SANDBOX, "efi", "0", "itau-1", Money("2.50"), "101", "201", "301")
    )
    terms = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
    with bench.store.unit_of_work() as uow:
        uow.customers.put(Customer("c-017", "Maria Silva", tax_id="52998224725"))
        for ident, amount in (("inst-1041", "150.00"), ("inst-1042", "89.90")):
            uow.installments.put(Installment(ident, "c-017", date(2026, 4, 10), Money(amount), terms,
                                             bank_contract="efi"))  # fmt: skip
        uow.commit()
    assert portfolio.gateway.issue_billets(["inst-1041", "inst-1042"]).report.sent == 2
    with bench.store.unit_of_work() as uow:
        charges = [ChargeId(uow.gateway_charges.get(i).charge_id) for i in ("inst-1041", "inst-1042")]
    for charge in charges:
        fake.pay(charge)
        portfolio.payments.receive(fake.token_of(charge))
    assert portfolio.payments.process().settled == 2
    portfolio.returns.reactivate("inst-1041", on=MARCH_16)

    result = bench.run("postings", "list", "--from", "2026-03-01", "--to", "2026-03-31", "--json")
    document = json.loads(result.stdout)
    kinds = [(p["on"], p["kind"], p["effect"], p["reverses"] is not None) for p in document["postings"]]
    assert sorted(kinds[:4]) == [
        ("2026-03-10", "entry", "150.00", False),
        ("2026-03-10", "entry", "89.90", False),
        ("2026-03-10", "fee", "-2.50", False),
        ("2026-03-10", "fee", "-2.50", False),
    ]
    assert sorted(kinds[4:]) == [("2026-03-16", "entry", "-150.00", True), ("2026-03-16", "fee", "2.50", True)]
    assert document["totals"] == {"count": 6, "entries": "239.90", "fees": "5.00", "reversals": "-147.50",
                                  "net": "87.40"}  # fmt: skip
