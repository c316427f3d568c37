"""docs/how-to/list-postings-from-the-command-line.md runs as written: each ```console block, command by command.

As for the other command pages (test_how_to.py): ``$ carteira ...`` lines run through click's runner over a
store holding the page's March (two billets paid at a ``FakeGateway`` and processed, one of them reversed),
and the lines after each are what it must print; ``echo $?`` prints the last exit code. Posting ids are
random: the page's ids stand for the run's, in order of appearance. So that two postings made in one unit
come out in the order the page shows, the run's ids grow in the order they are made.
"""

from __future__ import annotations

import random
import re
import shlex
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import attrs
import pytest

from carteira import ChargeTerms, Installment, Money, Portfolio
from carteira.domain import Customer, EveryDayCalendar
from carteira.domain.operations import Environment, GatewayAccount
from carteira.ports.gateway import ChargeId
from carteira.testing import FakeGateway, FixedClock
from tests.support import ROOT

from .conftest import Bench
from .page_ids import PageIds
from .test_how_to import sessions

PAGE = ROOT / "docs" / "how-to" / "list-postings-from-the-command-line.md"
TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
ACCOUNT = GatewayAccount("Client_Id_0a1b2c3d", Environment.SANDBOX, "efi-wallet", "0", "itau-1", Money("2.50"),
                         "101", "201", "301")  # fmt: skip


def _growing_ids() -> Callable[[], uuid.UUID]:
    """``uuid4`` whose values grow: a counter in the high bits, seeded random bits below."""
    rng, count = random.Random(13), iter(range(1, 1 << 30))
    return lambda: uuid.UUID(int=(next(count) << 96) | rng.getrandbits(96))


def _march(store_bench: Bench) -> None:
    """The page's March: Maria pays on the 10th, João on the 12th, Maria's settlement is reversed on the 16th."""
    efi = FakeGateway(today=date(2026, 3, 10))
    portfolio = Portfolio(store_bench.store, gateway=efi, clock=FixedClock(date(2026, 3, 10)),
                          calendar=EveryDayCalendar())  # fmt: skip
    portfolio.gateway.configure(ACCOUNT)
    with store_bench.store.unit_of_work() as uow:
        uow.customers.put(Customer("c-017", "Maria Silva", tax_id="52998224725"))
        uow.customers.put(Customer("c-023", "João Souza", tax_id="11144477735"))
        for ident, customer, amount in (("inst-1041", "c-017", "150.00"), ("inst-2001", "c-023", "89.90")):
            uow.installments.put(Installment(ident, customer, date(2026, 4, 10), Money(amount), TERMS,
                                             bank_contract="efi-wallet"))  # fmt: skip
        uow.commit()
    assert portfolio.gateway.issue_billets(["inst-1041", "inst-2001"], concurrency=1).report.sent == 2
    for ident in ("inst-1041", "inst-2001"):
        with store_bench.store.unit_of_work() as uow:
            charge = ChargeId(uow.gateway_charges.get(ident).charge_id)
        efi.pay(charge)
        portfolio.payments.receive(efi.token_of(charge))
        assert portfolio.payments.process().settled == 1
        efi.advance(2)
    portfolio.returns.reactivate("inst-1041", on=date(2026, 3, 16))


@attrs.define
class Shell:
    """Runs the page's commands in order, keeping the last exit code and the page-to-run id map."""

    bench: Bench
    ids: PageIds = attrs.field(factory=lambda: PageIds("posting"))
    last: int = 0

    def run(self, command: str) -> str:
        """What ``command`` prints (stdout and stderr, as a terminal shows them)."""
        if command == "echo $?":
            return f"{self.last}\n"
        command = self.ids.substitute(command)
        program, *args = shlex.split(command)
        assert program == "carteira", command
        result = self.bench.run(*args)
        self.last = result.exit_code
        return result.output


def test_the_page_only_has_console_examples() -> None:
    text = PAGE.read_text(encoding="utf-8")
    fences = re.findall(r"^```(\w*)$", text, re.M)
    assert set(fences[::2]) == {"console"}, fences
    assert len(sessions(text)) >= 2


@pytest.fixture
def shell(bench: Bench) -> Shell:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(uuid, "uuid4", _growing_ids())
        _march(bench)
    bench.env["COLUMNS"] = "160"  # the width the page's tables were printed at
    return Shell(bench)


def test_every_console_block_prints_what_the_page_shows(shell: Shell) -> None:
    for session in sessions(PAGE.read_text(encoding="utf-8")):
        for command, shown in session:
            shell.ids.expect(shown, shell.run(command), command)
