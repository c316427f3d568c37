"""docs/how-to/run-the-operations-panel-from-the-command-line.md runs as written: each ```console block.

As for the return-file page (test_how_to.py): ``$ carteira ...`` lines run through click's runner over
a store with the page's customers and installments, with the secret and the emulator's URL in the
environment; the lines after each are what it must print. ``env -u NAME carteira ...`` runs without
that variable, and ``echo $?`` prints the last exit code. Operation ids differ from run to run: the
page's ids stand for the run's, in order of appearance. What the ERP does between blocks (a billing
run, fixing a name) is done here, before the block that follows it on the page.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import attrs
import pytest

from carteira import ChargeTerms, Installment, Money
from carteira.domain import Customer
from tests.support import ROOT

from .conftest import OpsBench
from .page_ids import PageIds
from .test_how_to import sessions

PAGE = ROOT / "docs" / "how-to" / "run-the-operations-panel-from-the-command-line.md"
ELAPSED = re.compile(r"\b\d+:\d\d:\d\d\b")
TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
MORNING = date(2026, 3, 20)


def _portfolio(bench: OpsBench) -> None:
    """The ERP's customers and installments: João's name was typed as one word, which Efí refuses."""
    with bench.store.unit_of_work() as uow:
        uow.customers.put(Customer("c-017", "Maria Silva", tax_id="52998224725", email="maria@example.com.br"))
        uow.customers.put(Customer("c-023", "Joao", tax_id="11144477735", email="joao@example.com.br"))
        for ident, customer, due, amount in (("inst-1041", "c-017", 4, "150.00"), ("inst-2001", "c-023", 4, "89.90"),
                                             ("inst-1042", "c-017", 5, "150.00"),
                                             ("inst-1043", "c-017", 6, "150.00")):  # fmt: skip
            uow.installments.put(Installment(ident, customer, date(2026, due, 10), Money(amount), TERMS,
                                             bank_contract="efi-wallet"))  # fmt: skip
        uow.commit()


def _billing(bench: OpsBench) -> None:
    """The ERP's morning: two billets sent as contracts were signed, two written for the worker."""
    gateway = bench.portfolio().gateway
    for ident, send in (("inst-1041", True), ("inst-2001", True), ("inst-1042", False), ("inst-1043", False)):
        gateway.issue_billets([ident], send=send)
        bench.clock.advance(seconds=300)
    bench.clock.advance(seconds=600)


def _fix_the_name(bench: OpsBench) -> None:
    bench.rename("c-023", "João Souza")


ERP_BEFORE_BLOCK: dict[int, Callable[[OpsBench], None]] = {1: _billing, 4: _fix_the_name}
"""What the ERP does before the page's block N (0-based), as the prose between the blocks says."""


@attrs.define
class Shell:
    """Runs a page's commands in order, keeping the last exit code and the page-to-run id map."""

    bench: OpsBench
    ids: PageIds = attrs.field(factory=lambda: PageIds("operation", lambda line: ELAPSED.sub("0:00:00", line)))
    last: int = 0

    def run(self, command: str) -> str:
        """What ``command`` prints (stdout and stderr, as a terminal shows them)."""
        if command == "echo $?":
            return f"{self.last}\n"
        command = self.ids.substitute(command)
        words = shlex.split(command)
        env: dict[str, str | None] = {"COLUMNS": "160"}  # the width the page's tables were printed at
        while words[:2] == ["env", "-u"]:
            env[words[2]] = None
            words = words[3:]
        assert words[0] == "carteira", command
        result = self.bench.run(*words[1:], env=env)
        self.last = result.exit_code
        return result.output


def test_the_page_runs_its_console_blocks_and_shows_no_python() -> None:
    text = PAGE.read_text(encoding="utf-8")
    fences = re.findall(r"^```(\w*)$", text, re.M)
    assert "python" not in fences  # the Python side is run-the-gateway-integration.md
    assert len(sessions(text)) > max(ERP_BEFORE_BLOCK)


@pytest.fixture
def shell(ops_store: OpsBench) -> Shell:
    _portfolio(ops_store)
    ops_store.clock.set(MORNING)
    ops_store.clock.advance(seconds=-3 * 3600)  # 09:00, when the ERP's morning begins
    return Shell(ops_store)


def test_every_console_block_prints_what_the_page_shows(shell: Shell) -> None:
    for number, session in enumerate(sessions(PAGE.read_text(encoding="utf-8"))):
        if number in ERP_BEFORE_BLOCK:
            ERP_BEFORE_BLOCK[number](shell.bench)
        for command, shown in session:
            shell.ids.expect(shown, shell.run(command), command)
