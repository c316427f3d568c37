"""An internet provider's month end to end, on a SQLite file and the Efí emulator: what ``carteira demo`` runs.

:func:`run_demo` builds, from a seed alone, an ISP's March: the Efí account configured; customers on
contracts (a few with a CPF whose check digits are wrong, a one-word name, no phone; some new, with a
pro-rata first month); a billing run of billets and, for some customers, a carnet of three parcels;
the emulator paying most charges (on time, late, short, over, the first parcel of a carnet) and calling
back in-process to ``portfolio.payments.receive``; the notifications processed into settlements and
postings; a CNAB 240 return file, generated from the installments of the customers on a bank agreement
(Sicoob, not Efí), imported, auto-linked, reviewed and confirmed, a short payment settled in part and an
overpayment leaving a credit letter among them; the one-word name fixed and its billet resent; and one of
the batch's settlements reactivated, the first call giving its warning. Nothing leaves the process: no
server, no network. Decision 0610 says why the month is this one.

The module holds the scenario; the command (``carteira.adapters.cli.demo``) only shows it, and a test
reads the store it leaves to check :class:`DemoTotals`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import attrs

from carteira.adapters.efi import EfiGateway
from carteira.adapters.storage import SqliteStore
from carteira.domain.installment import Installment, amount_due
from carteira.domain.money import Money
from carteira.domain.operations import Environment, GatewayAccount, OperationFilter
from carteira.domain.portfolio import Contract, Customer, PortfolioSettings
from carteira.domain.postings import PostingKind
from carteira.domain.return_batch import RecordFilter
from carteira.domain.settlement import OutcomeKind, SettlementPolicy, Tolerance
from carteira.domain.terms import ChargeTerms
from carteira.errors import InvalidInput
from carteira.portfolio import Portfolio
from carteira.ports.storage import Store
from carteira.services.returns import ReviewRow
from carteira.testing.clock import FixedClock
from carteira.testing.efi_emulator import EfiEmulator
from carteira.testing.messy_month import valid_cpf
from carteira.testing.return_files import TitleMovement, write_return_file

__all__ = ["DemoMonth", "DemoTotals", "run_demo", "totals_of"]

MONTH = date(2026, 3, 1)
"""The demo's month: March 2026 (billed on the 2nd, closed on the 31st)."""
BILLED_ON = date(2026, 3, 2)
MONTH_END = date(2026, 3, 31)
EFI_AGREEMENT = "efi"
"""The bank contract of the installments Efí charges (bank code 0)."""
BANK_AGREEMENT = "sicoob"
"""The bank contract of the installments the bank collects; their payments come in its return file."""
BANK_LAYOUT = "sicoob-240"
CALLBACK_URL = "https://erp.example.com.br/efi/callback"
"""Where the emulator calls back; registered in-process, so nothing is listened on."""
CLIENT_ID = "Client_Id_demo"
_CLIENT_SECRET = "Client_Secret_demo"  # the emulator's own pair: not a secret of anybody's account
PAYMENT_FEE = Money("2.50")
TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
"""The ISP's late charges: 2 % fine and 1 % a month."""
POLICY = SettlementPolicy(
    over=Tolerance(amount=Money("0.50")), under=Tolerance(amount=Money("0.50")), settle_beyond_tolerance=True
)
"""Fifty cents either way settle in full; beyond, a short payment settles in part and an overpayment in full
with a credit letter for the rest (D3-D5)."""
_PLANS = tuple(Money(text) for text in ("79.90", "99.90", "119.90", "149.90", "199.90"))
_DUE_DAYS = (5, 10, 15, 20, 25)
_FIRST = ("Ana", "Bruno", "Carla", "Diego", "Eduarda", "Felipe", "Gabriela", "Heitor", "Isabela", "Joao", "Larissa",
          "Marcos", "Natalia", "Otavio", "Paula", "Rafael", "Sofia", "Tiago", "Vanessa", "Wagner")  # fmt: skip
_LAST = ("Silva", "Souza", "Oliveira", "Santos", "Lima", "Pereira", "Costa", "Almeida", "Ferreira", "Rodrigues",
         "Carvalho", "Gomes", "Martins", "Araujo", "Ribeiro", "Barbosa")  # fmt: skip
_ON_BANK = (2, 5, 8, 13)  # fixed positions: every month has a short payment and an overpayment in the bank's file
BAD_CPF = "12345678900"
"""A CPF whose check digits are wrong: Efí refuses the billet, and it waits in the operations panel."""

Step = Callable[[str], None]
"""Told one line as each step of the month is done (the command prints it)."""
Progress = Callable[[str, int, int], None]
"""Told ``(what, done, total)`` while a long step runs (the command draws a bar)."""


@attrs.frozen
class DemoTotals:
    """The month's totals, as the store holds them once the demo ended.

    ``billed`` adds the amounts of the installments due in the month; ``received_efi`` and ``received_bank``
    what the settlements still standing (not reversed) received through Efí and through the bank's return
    file; ``fees`` Efí's fees posted (net of reversals); ``open`` what the month's installments still owe
    (principal, fine and interest). ``partial`` and ``credit_letters`` count those settlements.
    """

    installments: int
    billed: Money
    received_efi: Money
    received_bank: Money
    fees: Money
    open: Money
    settlements: int
    partial: int
    credit_letters: int


@attrs.frozen
class DemoMonth:
    """What :func:`run_demo` did: where the store is, the month's totals, and what to look at in it.

    ``batch_id`` is the return batch; ``fixed_operation`` the billet refused for a one-word name and sent
    again once the name was fixed; ``reactivated`` the installment whose batch settlement was reversed and
    ``warning`` what the first call said; ``failed`` the operations left failed for a person (bad CPFs);
    ``review`` the batch's records flagged on review, before confirming (their differences, as a person saw them).
    """

    database: Path
    seed: int
    customers: int
    totals: DemoTotals
    batch_id: str
    fixed_operation: str
    reactivated: str
    warning: str
    failed: tuple[str, ...]
    review: tuple[ReviewRow, ...]


@attrs.frozen
class _Plan:
    """One customer of the month as the seed drew them."""

    customer: Customer
    contract: Contract
    installments: tuple[Installment, ...]
    carnet: bool
    on_bank: bool


def run_demo(
    folder: Path,
    *,
    customers: int = 200,
    seed: int = 0,
    step: Step | None = None,
    progress: Progress | None = None,
) -> DemoMonth:
    """Run the month into ``folder/carteira.db`` (a new file) and return what it did.

    Raises:
        InvalidInput: fewer than 20 customers (the month needs a few of each kind), or ``folder`` already
            holds a ``carteira.db`` (the demo never writes over a store).
    """
    if customers < 20:
        raise InvalidInput("the demo needs at least 20 customers", field="customers", raw=str(customers))
    database = folder / "carteira.db"
    if database.exists():
        raise InvalidInput(f"{database} already exists: give the demo an empty folder", field="folder")
    say: Step = step if step is not None else (lambda line: None)
    rng = random.Random(seed)
    plans = _plan(rng, customers)
    store = SqliteStore(database)
    try:
        store.migrate()
        month = _Month(store, rng, say, progress)
        try:
            return month.run(plans, database=database, seed=seed)
        finally:
            month.close()
    finally:
        store.close()


def totals_of(store: Store, installment_ids: Sequence[str], month: date = MONTH) -> DemoTotals:
    """The :class:`DemoTotals` of ``installment_ids`` as ``store`` holds them (those due in ``month`` billed)."""
    billed = received_efi = received_bank = fees = open_ = Money.ZERO
    count = settled = partial = letters = 0
    with store.unit_of_work() as uow:
        for item in uow.installments.get_many(installment_ids).values():
            if (item.due.year, item.due.month) == (month.year, month.month):
                count += 1
                billed += item.amount
                open_ += item.balance
            for settlement in uow.settlements.of_installment(item.id):
                postings = uow.postings.of_settlement(settlement.id)
                fees -= sum((p.effect for p in postings if p.kind is PostingKind.FEE), Money.ZERO)  # reversals too
                if settlement.reversed_on is not None:
                    continue
                settled += 1
                partial += settlement.kind is OutcomeKind.PARTIAL
                letters += settlement.kind is OutcomeKind.CREDIT_LETTER
                if settlement.batch_id is None:
                    received_efi += settlement.paid
                else:
                    received_bank += settlement.paid
    return DemoTotals(count, billed, received_efi, received_bank, fees, open_, settled, partial, letters)


def _plan(rng: random.Random, count: int) -> list[_Plan]:
    """The customers and their installments: about one in five on the bank agreement, one in eight of Efí's
    with a carnet, one in twelve new (pro-rata first month); two bad CPFs and one one-word name among Efí's."""
    plans = []
    odd = {3: "bad-cpf", 11: "one-word", 17: "bad-cpf"}  # fixed positions: every seed has each case
    for n in range(1, count + 1):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        cid = f"c{n:04d}"
        name = first if odd.get(n) == "one-word" else f"{first} {last}"
        tax_id = BAD_CPF if odd.get(n) == "bad-cpf" else valid_cpf(rng)
        phone = None if rng.random() < 0.15 else f"119{rng.randrange(10_000_000, 100_000_000)}"
        customer = Customer(cid, name, tax_id=tax_id, email=f"{first}.{last}.{n}@example.com".lower(), phone=phone)
        on_bank = n in _ON_BANK or (n not in odd and rng.random() < 0.2)
        carnet = not on_bank and n not in odd and rng.random() < 0.125
        plan = rng.choice(_PLANS)
        due = MONTH.replace(day=rng.choice(_DUE_DAYS))
        contract = Contract(
            f"k{n:04d}", cid, f"Internet {plan}", bank_contract=BANK_AGREEMENT if on_bank else EFI_AGREEMENT
        )
        first_amount = plan
        if not carnet and rng.random() < 1 / 12:  # joined mid-February: March bills the days since
            days = rng.randrange(8, 28)
            first_amount = Money.rounded(plan.amount * days / 30)  # the days of service, to the cent
        parcels = 3 if carnet else 1
        installments = tuple(
            Installment(
                f"{cid}-{_add_months(due, k):%Y-%m}", cid, _add_months(due, k), first_amount if k == 0 else plan, TERMS,
                contract_id=contract.id, number=k + 1, description=contract.description,
                bank_contract=contract.bank_contract,
                bank_title_number=f"{n:05d}{k + 3:02d}" if on_bank else None,
                document_number=f"{n:05d}-{k + 3:02d}",
            )
            for k in range(parcels)
        )  # fmt: skip
        plans.append(_Plan(customer, contract, installments, carnet, on_bank))
    return plans


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)


class _Month:
    """The month's actors over one store: the emulator, the Efí adapter over it, the portfolio and its clock."""

    def __init__(self, store: Store, rng: random.Random, say: Step, progress: Progress | None) -> None:
        self.store, self.rng, self.say, self.progress = store, rng, say, progress
        self.clock = FixedClock(BILLED_ON)
        self.emulator = EfiEmulator(client_id=CLIENT_ID, client_secret=_CLIENT_SECRET, today=BILLED_ON)
        self.efi = EfiGateway(CLIENT_ID, _CLIENT_SECRET, "sandbox", transport=self.emulator.transport(),
                              today=lambda: self.emulator.today)  # fmt: skip
        self.portfolio = Portfolio(store, gateway=self.efi, clock=self.clock, notification_url=CALLBACK_URL)
        self.emulator.register_callback(CALLBACK_URL, self._callback)

    def _callback(self, token: str) -> None:
        """Efí's POST, in-process: the endpoint keeps the token (a worker settles it later)."""
        self.portfolio.payments.receive(token)

    def close(self) -> None:
        self.efi.close()
        self.emulator.close()

    def run(self, plans: list[_Plan], *, database: Path, seed: int) -> DemoMonth:
        self._configure(plans)
        failed = self._bill(plans)
        fixed = self._fix_and_resend(plans, failed)
        self._pay_at_efi(plans)
        batch_id, review = self._bank_return(plans)
        reactivated, warning = self._reactivate(plans, batch_id)
        ids = [item.id for plan in plans for item in plan.installments]
        totals = totals_of(self.store, ids)
        left = tuple(op for op in failed if op != fixed)
        return DemoMonth(database, seed, len(plans), totals, batch_id, fixed, reactivated, warning, left, review)

    def _configure(self, plans: list[_Plan]) -> None:
        self.portfolio.gateway.configure(GatewayAccount(
            client_id=CLIENT_ID, environment=Environment.SANDBOX, agreement_id=EFI_AGREEMENT, agreement_bank_code="0",
            bank_account="itau-1234", payment_fee=PAYMENT_FEE, receipt_history="101", entries_history="201",
            fees_history="301", notify=("financeiro@isp.example",),
        ))  # fmt: skip
        with self.store.unit_of_work() as uow:
            uow.settings.put(PortfolioSettings(policy=POLICY))
            for plan in plans:
                uow.customers.put(plan.customer)
                uow.contracts.put(plan.contract)
            uow.installments.put_many([item for plan in plans for item in plan.installments])
            uow.commit()
        on_bank = sum(plan.on_bank for plan in plans)
        new = sum(1 for plan in plans if plan.installments[0].amount not in _PLANS)
        self.say(
            f"configured the Efí account (sandbox, fee {PAYMENT_FEE}) and {len(plans)} customers on contracts: "
            f"{len(plans) - on_bank} charged through Efí, {on_bank} through Sicoob's agreement, {new} with a pro-rata "
            f"first month, {sum(p.customer.phone is None for p in plans)} without a phone"
        )

    def _bill(self, plans: list[_Plan]) -> list[str]:
        """The billing run (billets), then a carnet per carnet customer; the ids of the failed operations."""
        billets = [plan.installments[0].id for plan in plans if not plan.on_bank and not plan.carnet]
        report = self.progress
        # One at a time: the emulator's charge ids then follow the customers' order, seed after seed.
        run = self.portfolio.gateway.issue_billets(
            billets, concurrency=1, progress=None if report is None else (lambda done, of: report("billets", done, of))
        )
        carnets = [plan for plan in plans if plan.carnet]
        for plan in carnets:
            self.portfolio.gateway.issue_carnet([item.id for item in plan.installments])
        failed = [op.id for op in self.portfolio.gateway.operations(OperationFilter(flagged=True))]
        self.say(
            f"billing run on {BILLED_ON}: {run.report.sent} billets sent, {run.report.failed} refused by Efí; "
            f"{len(carnets)} carnets of 3 parcels"
        )
        return failed

    def _fix_and_resend(self, plans: list[_Plan], failed: list[str]) -> str:
        """The billet refused for a one-word name: the name is completed, and the operation sent again."""
        for operation_id in failed:
            operation = self.portfolio.gateway.operation(operation_id)
            if operation.error is not None and operation.error.field == "payer.name":
                break
        else:  # pragma: no cover - the plan always has a one-word name
            raise AssertionError("the demo's one-word name was not refused")
        with self.store.unit_of_work() as uow:
            customer = uow.customers.get(operation.customer_id or "")
            uow.customers.put(attrs.evolve(customer, name=f"{customer.name} Pereira"))
            uow.commit()
        again = self.portfolio.gateway.resend(operation.id)
        self.say(
            f"operation {operation.id} was refused ({operation.error.message}); "
            f"the name fixed to {customer.name} Pereira and resent: {again.status.value}"
        )
        return operation.id

    def _pay_at_efi(self, plans: list[_Plan]) -> None:
        """Customers pay at Efí through the month; each payment calls back, and a worker processes the tokens."""
        self.emulator.today = MONTH_END
        counts = {"on time": 0, "late": 0, "short": 0, "over": 0, "carnet parcel": 0, "unpaid": 0}
        with self.store.unit_of_work() as uow:
            charges = uow.gateway_charges.get_many([plan.installments[0].id for plan in plans if not plan.on_bank])
        for plan in plans:
            item = plan.installments[0]
            charge = charges.get(item.id)
            if plan.on_bank or charge is None:
                continue
            kind, paid_on, amount = self._efi_payment(item, carnet=plan.carnet)
            counts[kind] += 1
            if amount is not None:
                self.emulator.pay(int(charge.charge_id), value_cents=amount.cents, paid_on=paid_on)
        self.clock.set(MONTH_END)
        pending = len(self.portfolio.payments.pending())
        report = self.portfolio.payments.process()
        self.say(
            "customers paid at Efí: "
            + ", ".join(f"{n} {kind}" for kind, n in counts.items())
            + f"; Efí called back {pending} tokens, processed: {report.settled} settled, {report.flagged} flagged"
        )

    def _efi_payment(self, item: Installment, *, carnet: bool) -> tuple[str, date, Money | None]:
        """What one customer does: ``(kind, paid on, amount)``; ``None`` for one who has not paid by the 31st."""
        roll = self.rng.random()
        early = item.due - timedelta(days=self.rng.randrange(0, 4))
        if carnet:
            return ("carnet parcel", early, item.amount) if roll < 0.85 else ("unpaid", item.due, None)
        if roll < 0.62:
            return "on time", early, item.amount
        late_by = self.rng.randrange(2, 7)
        if roll < 0.78:
            on = item.due + timedelta(days=late_by)
            return "late", on, amount_due(item, on=on, calendar=self.portfolio.calendar).total
        if roll < 0.84:
            return "short", early, item.amount - Money.from_cents(self.rng.randrange(500, 3000))
        if roll < 0.88:
            return "over", early, item.amount + Money.from_cents(self.rng.randrange(500, 2000))
        return "unpaid", item.due, None

    def _bank_return(self, plans: list[_Plan]) -> tuple[str, tuple[ReviewRow, ...]]:
        """Sicoob's return file for its customers: imported, auto-linked, reviewed, confirmed."""
        on_bank = [plan for plan in plans if plan.on_bank]
        movements = [self._bank_movement(n, plan.installments[0], plan.customer) for n, plan in enumerate(on_bank)]
        data = write_return_file(BANK_LAYOUT, movements, generated_on=MONTH_END, agreement="4321", file_sequence=31)
        returns = self.portfolio.returns
        batch = returns.import_file(data, description="Sicoob, March 31", process_date=MONTH_END,
                                    source="RET_SICOOB_0331.ret")  # fmt: skip
        linked = returns.auto_link(batch.id)
        flagged = tuple(row for row in returns.review(batch.id) if row.flagged)
        # A short or over payment the bank reports without a reason fails the file's own sum: the clerk who
        # reviewed the differences acknowledges those records, so that confirm settles them (decision 0718).
        checked = [row.record.line for row in returns.review(batch.id, records=RecordFilter.FLAGGED)]
        if checked:
            returns.acknowledge(batch.id, checked, by="clerk")
        done = returns.confirm(batch.id)
        self.say(
            f"Sicoob's return file: {batch.record_count} records imported as batch {batch.id}, {linked.linked} "
            f"auto-linked, {len(flagged)} differences flagged on review, {len(checked)} records flagged by the "
            f"file's checks acknowledged; confirmed: {done.settled} settled, {len(done.refused)} refused"
        )
        return batch.id, flagged

    def _bank_movement(self, n: int, item: Installment, customer: Customer) -> TitleMovement:
        """One record of the bank's file: an entry confirmation for an unpaid title, else a payment (the first
        customer's short, the second's over, the third's late: each month shows all three)."""
        title = item.bank_title_number or ""
        roll = (0.35, 0.45, 0.2)[n] if n < 3 else self.rng.random()
        if roll < 0.12:
            return TitleMovement(bank_title_number=title, movement_code="02", due_date=item.due,
                                 face_value=item.amount, occurrence_date=BILLED_ON)  # fmt: skip
        paid, on = item.amount, item.due - timedelta(days=self.rng.randrange(0, 4))
        if roll < 0.3:
            on = item.due + timedelta(days=self.rng.randrange(2, 6))
            paid = amount_due(item, on=on, calendar=self.portfolio.calendar).total
        elif roll < 0.4:
            paid = item.amount - Money.from_cents(self.rng.randrange(500, 3000))
        elif roll < 0.48:
            paid = item.amount + Money.from_cents(self.rng.randrange(500, 2000))
        on = min(on, MONTH_END - timedelta(days=1))
        # A late payment's fine and interest are in the file, as the bank collected them: its sum holds.
        charges = paid - item.amount if roll < 0.3 and paid > item.amount else None
        return TitleMovement(
            bank_title_number=title, paid=paid, document_number=item.document_number, due_date=item.due,
            face_value=item.amount, occurrence_date=on, credit_date=on + timedelta(days=1), tariff=Money("1.95"),
            payer_tax_id=customer.tax_id, interest_and_fine=charges,
        )  # fmt: skip

    def _reactivate(self, plans: list[_Plan], batch_id: str) -> tuple[str, str]:
        """A customer says the bank's payment was not theirs: its settlement is reversed, after the warning."""
        rows = [row for row in self.portfolio.returns.review(batch_id) if row.record.is_settled and not row.flagged]
        chosen = rows[-1].record.links[0]
        returns = self.portfolio.returns
        warned = returns.reactivate(chosen, on=MONTH_END)
        returns.reactivate(chosen, on=MONTH_END, acknowledge=True)
        self.say(f"reactivated {chosen}; the first call changed nothing and warned: {warned.warning}")
        return chosen, warned.warning or ""
