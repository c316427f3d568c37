"""docs/how-to/reconcile-from-the-command-line.md runs as written: each ```console block, command by command.

A block is a terminal session: ``$ carteira ...`` lines are run (by click's runner, in a folder holding
the page's return files and a portfolio with the page's installments), and the lines after each up to
the next ``$`` are what it must print (stdout and stderr as a terminal shows them). Three things of a
shell are understood: ``name=$(carteira ...)`` keeps what a command printed, ``"$name"`` gives it back,
and ``echo $?`` prints the last exit code. Two things differ from run to run and are compared loosely:
batch ids (the page's ids stand for the run's, in order of appearance, also in later commands) and
elapsed times on the progress bar.
"""

from __future__ import annotations

import re
import shlex
from datetime import date
from decimal import Decimal

import attrs
import pytest
from click.testing import Result

from carteira import ChargeTerms, Installment, Money
from carteira.domain import SettlementPolicy, Tolerance
from carteira.testing import FixedClock
from carteira.testing.return_files import TitleMovement, write_return_file
from tests.support import ROOT

from .conftest import Bench, seed
from .page_ids import PageIds

PAGE = ROOT / "docs" / "how-to" / "reconcile-from-the-command-line.md"
BATCH_ID = re.compile(r"\bB[0-9a-f]{16}\b")
ELAPSED = re.compile(r"\b\d+:\d\d:\d\d\b")
VARIABLE = re.compile(r'"?\$([A-Za-z_]\w*)"?')

TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
DUE = date(2026, 3, 10)
NIGHT = date(2026, 3, 13)
"""The page's "today": the night job of March 13 imports the file of March 12."""
POLICY = SettlementPolicy(over=Tolerance(amount=Money("0.50")), under=Tolerance(amount=Money("0.50")))


def _installment(ident: str, customer: str, amount: str, title: str | None) -> Installment:
    return Installment(ident, customer, DUE, Money(amount), TERMS, contract_id=f"k-{customer}",
                       bank_title_number=title, bank_contract="bb-1")  # fmt: skip


def _paid(title: str, amount: str, on: date) -> TitleMovement:
    return TitleMovement(bank_title_number=title, paid=Money(amount), due_date=DUE, face_value=Money(amount),
                         occurrence_date=on, credit_date=on)  # fmt: skip


def _files() -> dict[str, bytes]:
    """The page's three return files, from Banco do Brasil (CNAB 240), as the bank would send them."""
    march_12 = [_paid("00012345", "150.00", date(2026, 3, 10)), _paid("00012346", "89.90", date(2026, 3, 12)),
                _paid("00012399", "120.00", date(2026, 3, 10))]  # fmt: skip
    march_13 = [_paid("00012347", "200.00", date(2026, 3, 10))]
    # Paid 95.00 of a face value of 94.90 with nothing between: the file's own sum flags the record.
    march_14 = [attrs.evolve(_paid("00012348", "95.00", date(2026, 3, 10)), face_value=Money("94.90"))]
    day_12 = write_return_file("bb-240", march_12, generated_on=date(2026, 3, 12), agreement="123456", file_sequence=41)
    day_13 = write_return_file("bb-240", march_13, generated_on=date(2026, 3, 13), agreement="123456", file_sequence=42)
    day_14 = write_return_file("bb-240", march_14, generated_on=date(2026, 3, 14), agreement="123456", file_sequence=43)
    return {"retorno-20260312.ret": day_12, "retorno-20260313.ret": day_13, "retorno-20260314.ret": day_14}


def _portfolio(bench: Bench) -> None:
    """The installments the page's ERP keeps: two customers owe 120.00 on the same day, with no title number."""
    seed(bench.store, _installment("inst-1041", "c1", "150.00", "00012345"),
         _installment("inst-1042", "c1", "89.90", "00012346"), _installment("inst-1043", "c1", "200.00", "00012347"),
         _installment("inst-1044", "c1", "120.00", None), _installment("inst-2001", "c2", "120.00", None),
         _installment("inst-1045", "c1", "95.00", "00012348"), policy=POLICY)  # fmt: skip


@attrs.define
class Shell:
    """Runs a page's commands in order, keeping variables, the last exit code and the page-to-run id map."""

    bench: Bench
    variables: dict[str, str] = attrs.field(factory=dict)
    ids: PageIds = attrs.field(factory=lambda: PageIds("batch", lambda line: ELAPSED.sub("0:00:00", line), BATCH_ID))
    last: int = 0

    def run(self, command: str) -> str:
        """What ``command`` prints."""
        if command == "echo $?":
            return f"{self.last}\n"
        name, _, rest = command.partition("=$(")
        if rest and re.fullmatch(r"[A-Za-z_]\w*", name):
            result = self.carteira(rest.removesuffix(")"))
            self.variables[name] = result.stdout.strip()
            return result.stderr
        return self.carteira(command).output

    def carteira(self, command: str) -> Result:
        command = self.ids.substitute(command)
        command = VARIABLE.sub(lambda m: shlex.quote(self.variables[m.group(1)]), command)
        program, *args = shlex.split(command)
        assert program == "carteira", command
        result = self.bench.run(*args)
        self.last = result.exit_code
        return result


def sessions(text: str) -> list[list[tuple[str, str]]]:
    """Each console block of ``text`` as (command, what it shows) pairs."""
    found = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        steps: list[tuple[str, list[str]]] = []
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                assert steps, f"a console block must start with a command:\n{block}"
                steps[-1][1].append(line)
        found.append([(command, "\n".join(shown) + "\n" if shown else "") for command, shown in steps])
    return found


def test_the_page_only_has_console_examples() -> None:
    text = PAGE.read_text(encoding="utf-8")
    fences = re.findall(r"^```(\w*)$", text, re.M)
    assert set(fences[::2]) == {"console"}, fences
    assert len(sessions(text)) >= 3


@pytest.fixture
def shell(bench: Bench) -> Shell:
    _portfolio(bench)
    for name, data in _files().items():
        bench.write(name, data)
    bench.env["COLUMNS"] = "160"
    bench.wiring = attrs.evolve(bench.wiring, clock=FixedClock(NIGHT))
    return Shell(bench)


def test_every_console_block_prints_what_the_page_shows(shell: Shell) -> None:
    for session in sessions(PAGE.read_text(encoding="utf-8")):
        for command, shown in session:
            shell.ids.expect(shown, shell.run(command), command)
