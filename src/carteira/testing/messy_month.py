"""A generated messy month of an ISP's receivables, with the links a careful person would make: auto-link's exam.

Auto-link must never link a payment to the wrong installment, and should make nearly every link a
person could make (issue #11). :func:`messy_month` builds, from a seed alone, an internet provider's
month: customers (most with a valid CPF, some companies with a CNPJ, some with neither), one
installment each due on the 5th, 10th, 15th, 20th or 25th, some carnets of three parcels, some
installments already settled earlier in the month, and the bank's return file for the month
(Sicoob CNAB 240, which reads the payer's CPF/CNPJ). Its :attr:`MessyMonth.truth` says, for every
record of the file, which installments a careful person links it to, or none and why.
:func:`score_links` compares auto-link's links with it.

The kinds of record (:class:`Mess`), about in the proportions a month of an ISP shows:

- ``CLEAN``: the bank title number as the ERP stored it; linked.
- ``LATE``: paid after the due date with fine and interest; linked by its number.
- ``CARNET_PARCEL``: this month's parcel of a three-parcel carnet, each parcel with its own number;
  linked to that parcel only.
- ``PADDED_IN_ERP``: the ERP stored the number with leading zeros or blanks (``"0012345"``,
  ``" 12345"``), the file prints it bare; linked (numbers are compared normalized).
- ``PADDED_IN_FILE``: the reverse, the file zero-fills the number to its field; linked.
- ``DOCUMENT_ONLY``: the ERP never stored the bank's number (the file has one the ERP does not
  know, or none), but the document number (seu número) it sent is in the file, padded or not; linked.
- ``NO_NUMBER``: no number the ERP knows (a pro-rata first bill, printed at the bank); its due date
  and odd value are unique in the portfolio; linked.
- ``SAME_DUE_AND_VALUE``: two customers owe the same plan on the same day, neither installment has
  a number, and the file does not give the payer's CPF/CNPJ: even a person cannot tell; none.
- ``SAME_DUE_AND_VALUE_WITH_PAYER``: the same twins, both pay, and the file gives each payer's
  CPF/CNPJ; each linked to its payer's installment.
- ``PAYER_CARNET``: a numberless carnet of three parcels of one value; the file gives the payer and
  the due date tells the parcels apart; linked to the parcel due that day.
- ``ONE_BOLETO_THREE_PARCELS``: an agreement on three overdue parcels paid by one boleto whose
  number all three carry, for their total; linked to all three.
- ``OFF_BY_CENTS``: paid a few cents more or less than due; linked by its number (a person sees the
  difference on review, and the tolerance decides at confirmation).
- ``ALREADY_SETTLED``: the installment was settled earlier in the month (paid at the counter), and
  the boleto was paid too; sometimes the customer's next parcel of the same value is open and the
  file gives the payer. None: the money is a double payment for a person to refund or credit, never
  a payment of the next parcel.
- ``PAID_TWICE``: the same boleto paid twice in the file; the first record linked, the second none
  (it is the double payment).
- ``SHARED_TAX_ID``: the ERP registered one person twice, two customer records with one CPF, both
  owing the same plan; numberless installments, the file gives the CPF. When the two are due on
  different days, the due date tells which: linked; on the same day: none.
- ``NOT_A_SETTLEMENT``: entry confirmations and rejections; never linked.

Everything is drawn from ``random.Random(seed)``: the same seed gives the same month, byte for byte.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal

import attrs

from carteira.adapters.calendar import BrazilBankingCalendar
from carteira.adapters.cnab import LAYOUTS, parse_return
from carteira.domain.installment import Installment
from carteira.domain.money import Money
from carteira.domain.portfolio import Contract, Customer, PortfolioSettings
from carteira.domain.settlement import Payment, Settlement, SettlementPolicy, Tolerance, settle
from carteira.domain.terms import ChargeTerms
from carteira.errors import InvalidInput
from carteira.ports.storage import Store
from carteira.testing.return_files import TitleMovement, write_return_file

__all__ = ["LinkScore", "Mess", "MessyMonth", "TruthLine", "messy_month", "score_links", "valid_cnpj", "valid_cpf"]

LAYOUT = "sicoob-240"
"""The file's layout: Sicoob CNAB 240 reads the payer's CPF/CNPJ and is detected from the file's header."""
TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
"""The ISP's late charges: 2 % fine and 1 % a month."""
POLICY = SettlementPolicy(over=Tolerance(amount=Money("0.10")), under=Tolerance(amount=Money("0.10")))
"""Ten cents either way settle in full, so the month can be confirmed as well as linked."""
_PLANS = tuple(Money(text) for text in ("79.90", "99.90", "119.90", "149.90", "199.90"))
_BUSINESS_PLANS = tuple(Money(text) for text in ("299.90", "499.90"))
_DUE_DAYS = (5, 10, 15, 20, 25)


class Mess(enum.Enum):
    """The kind of a record of the month; the module's docstring says what a person does with each."""

    CLEAN = "clean"
    LATE = "late"
    CARNET_PARCEL = "carnet parcel"
    PADDED_IN_ERP = "padded in the ERP"
    PADDED_IN_FILE = "padded in the file"
    DOCUMENT_ONLY = "document number only"
    NO_NUMBER = "no number, due and value unique"
    SAME_DUE_AND_VALUE = "same due and value, no payer"
    SAME_DUE_AND_VALUE_WITH_PAYER = "same due and value, payer given"
    PAYER_CARNET = "payer's carnet, told by due"
    ONE_BOLETO_THREE_PARCELS = "one boleto for three parcels"
    OFF_BY_CENTS = "off by cents"
    ALREADY_SETTLED = "already settled"
    PAID_TWICE = "paid twice"
    SHARED_TAX_ID = "two customers, one CPF"
    NOT_A_SETTLEMENT = "not a settlement"


@attrs.frozen
class TruthLine:
    """What a careful person links the record on ``line`` to: ``installment_ids`` (empty: none), and ``why``."""

    line: int
    kind: Mess
    installment_ids: frozenset[str]
    why: str

    @property
    def linkable(self) -> bool:
        """Whether a person links this record at all."""
        return bool(self.installment_ids)


@attrs.frozen
class MessyMonth:
    """One generated month: the portfolio as it stands before the file, the file, and the truth for each record.

    ``installments`` include those settled earlier in the month (with their ``settlements``);
    ``data`` is the return file in :data:`LAYOUT`; ``truth`` has one line per record, in file order.
    """

    seed: int
    month: date
    customers: tuple[Customer, ...]
    contracts: tuple[Contract, ...]
    installments: tuple[Installment, ...]
    settlements: tuple[Settlement, ...]
    movements: tuple[TitleMovement, ...]
    data: bytes
    truth: tuple[TruthLine, ...]
    policy: SettlementPolicy = POLICY

    @property
    def process_date(self) -> date:
        """The month's last day, when the file is imported."""
        return _month_end(self.month)

    @property
    def layout(self) -> str:
        """The id of the file's layout."""
        return LAYOUT

    def load(self, store: Store) -> None:
        """Put the month's settings, customers, contracts, installments and earlier settlements into ``store``."""
        with store.unit_of_work() as uow:
            uow.settings.put(PortfolioSettings(policy=self.policy))
            for customer in self.customers:
                uow.customers.put(customer)
            for contract in self.contracts:
                uow.contracts.put(contract)
            uow.installments.put_many(self.installments)
            uow.settlements.put_many(self.settlements)
            uow.commit()


@attrs.frozen
class LinkScore:
    """Auto-link against the truth: records, the links a person makes, how many auto-link made the same, and wrong ones.

    ``wrong`` are the lines auto-link linked otherwise than a person would (other installments, or
    any where a person links none); ``missed`` the lines a person links and auto-link left open.
    """

    records: int
    possible: int
    made: int
    wrong: tuple[int, ...]
    missed: tuple[int, ...]

    @property
    def share(self) -> float:
        """The share of a person's links that auto-link made (1.0 when a person makes none)."""
        return self.made / self.possible if self.possible else 1.0


def score_links(truth: Sequence[TruthLine], links: Mapping[int, Sequence[str]]) -> LinkScore:
    """Compare ``links`` (line: the installments auto-link linked it to) with ``truth``; order does not matter."""
    wrong: list[int] = []
    missed: list[int] = []
    made = 0
    for expected in truth:
        found = frozenset(links.get(expected.line, ()))
        if found and found != expected.installment_ids:
            wrong.append(expected.line)
        elif found:
            made += 1
        elif expected.linkable:
            missed.append(expected.line)
    possible = sum(1 for expected in truth if expected.linkable)
    return LinkScore(len(truth), possible, made, tuple(wrong), tuple(missed))


def valid_cpf(rng: random.Random) -> str:
    """A random CPF with the right check digits (11 digits, not one repeated digit)."""
    return _with_check_digits(rng, 9, ((10, 9, 8, 7, 6, 5, 4, 3, 2), (11, 10, 9, 8, 7, 6, 5, 4, 3, 2)))


def valid_cnpj(rng: random.Random) -> str:
    """A random CNPJ with the right check digits (14 digits: eight of the company, ``0001``, two checks)."""
    first = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
    return _with_check_digits(rng, 8, (first, (6, *first)), branch="0001")


def _with_check_digits(
    rng: random.Random, length: int, weights: tuple[tuple[int, ...], tuple[int, ...]], branch: str = ""
) -> str:
    while True:
        digits = "".join(str(rng.randrange(10)) for _ in range(length)) + branch
        if digits != digits[0] * len(digits):
            break
    for weight in weights:
        rest = sum(int(d) * w for d, w in zip(digits, weight, strict=True)) % 11
        digits += "0" if rest < 2 else str(11 - rest)
    return digits


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)


# kind: (share of the customers, least number of units, customers per unit)
_MIX: dict[Mess, tuple[float, int, int]] = {
    Mess.LATE: (0.06, 1, 1),
    Mess.CARNET_PARCEL: (0.08, 1, 1),
    Mess.PADDED_IN_ERP: (0.12, 1, 1),
    Mess.PADDED_IN_FILE: (0.08, 1, 1),
    Mess.DOCUMENT_ONLY: (0.05, 2, 1),
    Mess.NO_NUMBER: (0.03, 1, 1),
    Mess.SAME_DUE_AND_VALUE: (0.02, 1, 2),
    Mess.SAME_DUE_AND_VALUE_WITH_PAYER: (0.03, 1, 2),
    Mess.PAYER_CARNET: (0.02, 1, 1),
    Mess.ONE_BOLETO_THREE_PARCELS: (0.01, 1, 1),
    Mess.OFF_BY_CENTS: (0.04, 1, 1),
    Mess.ALREADY_SETTLED: (0.02, 2, 1),
    Mess.PAID_TWICE: (0.01, 1, 1),
    Mess.SHARED_TAX_ID: (0.01, 2, 2),
    Mess.NOT_A_SETTLEMENT: (0.02, 1, 1),
}
_UNPAID_SHARE = 0.08
"""Customers who do not pay this month: an installment and no record."""


def _plan(rng: random.Random, customers: int) -> list[Mess | None]:
    """One entry per unit of customers, shuffled: a kind, ``CLEAN``, or ``None`` for a customer who did not pay."""
    units: list[Mess | None] = []
    used = 0
    for kind, (share, least, size) in _MIX.items():
        count = max(least, round(share * customers / size))
        units += [kind] * count
        used += count * size
    if used > customers:
        raise InvalidInput(f"a messy month needs at least {used} customers, not {customers}", field="customers")
    unpaid = min(round(_UNPAID_SHARE * customers), customers - used)
    units += [None] * unpaid + [Mess.CLEAN] * (customers - used - unpaid)
    rng.shuffle(units)
    return units


@attrs.frozen
class _Pending:
    """A movement before it has a line: the installments a person links it to, and why."""

    movement: TitleMovement
    kind: Mess
    ids: frozenset[str]
    why: str
    twice: str | None = None  # the installment id, for the two records of a title paid twice


def messy_month(seed: int, *, customers: int = 200, month: date = date(2026, 11, 1)) -> MessyMonth:
    """The messy month of ``customers`` customers starting on ``month`` (its first day), drawn from ``seed``.

    Raises:
        InvalidInput: fewer customers than one of each kind of record needs (about thirty).
    """
    builder = _Builder(random.Random(seed), month.replace(day=1))
    for unit in _plan(builder.rng, customers):
        builder.build(unit)
    return builder.month_of(seed)


class _Builder:
    """Collects the month's customers, installments and movements, unit by unit."""

    def __init__(self, rng: random.Random, month: date) -> None:
        self.rng = rng
        self.month = month
        self.customers: list[Customer] = []
        self.contracts: list[Contract] = []
        self.installments: list[Installment] = []
        self.settlements: list[Settlement] = []
        self.pending: list[_Pending] = []
        self._title = 10_000_000 + rng.randrange(1_000_000)
        self._foreign_title = 80_000_000 + rng.randrange(1_000_000)
        self._document = 1_000 + rng.randrange(1_000)
        self._tax_ids: set[str] = set()
        self._values: set[Money] = set()
        self.shared_same_day = False  # SHARED_TAX_ID alternates: same day (none), different days (linked)

    # --- numbers and people -------------------------------------------------------------------------

    def title(self) -> str:
        """A new bank title number the ERP stored (eight digits)."""
        self._title += self.rng.randrange(1, 4)
        return str(self._title)

    def foreign_title(self) -> str:
        """A bank title number the ERP never stored (the bank's own numbering)."""
        self._foreign_title += self.rng.randrange(1, 4)
        return str(self._foreign_title)

    def document(self) -> int:
        """A new document number (the invoice number the ERP sent as seu número)."""
        self._document += self.rng.randrange(1, 4)
        return self._document

    def tax_id(self, *, company: bool) -> str:
        """A CPF or CNPJ no other customer has."""
        while True:
            made = valid_cnpj(self.rng) if company else valid_cpf(self.rng)
            if made not in self._tax_ids:
                self._tax_ids.add(made)
                return made

    def customer(self, *, registered: bool | None = None, tax_id: str | None = None) -> Customer:
        """A new customer and contract: with a CPF/CNPJ when ``registered`` (by chance when ``None``)."""
        number = len(self.customers) + 1
        roll = self.rng.random()
        if tax_id is None and (registered or (registered is None and roll < 0.85)):
            tax_id = self.tax_id(company=roll < 0.1)
        made = Customer(f"C{number:05d}", f"Cliente {number:05d}", tax_id)
        self.customers.append(made)
        self.contracts.append(Contract(f"K{number:05d}", made.id, "internet", bank_contract="sicoob-1"))
        return made

    def plan(self, customer: Customer) -> Money:
        """The customer's monthly plan: a company's (CNPJ) plans are dearer."""
        company = customer.tax_id is not None and len(customer.tax_id) == 14
        return self.rng.choice(_BUSINESS_PLANS if company else _PLANS)

    def pro_rata(self) -> Money:
        """An odd value no other installment of the month has (a first bill for part of a month)."""
        while True:
            value = Money.from_cents(self.rng.randrange(2_000, 9_999))
            if value.cents % 100 != 90 and value not in self._values:
                self._values.add(value)
                return value

    def due(self) -> date:
        """One of the month's due days."""
        return self.month.replace(day=self.rng.choice(_DUE_DAYS))

    def installment(
        self,
        customer: Customer,
        due: date,
        amount: Money,
        *,
        title: str | None = None,
        document: str | None = None,
        number: int = 1,
    ) -> Installment:
        """A new open installment of ``customer``, kept for the month."""
        made = Installment(
            f"{customer.id}-{due:%Y%m}-{number}",
            customer.id,
            due,
            amount,
            TERMS,
            contract_id=f"K{customer.id[1:]}",
            number=number,
            description=f"internet {due:%m/%Y}",
            bank_title_number=title,
            document_number=document,
            bank_contract="sicoob-1",
        )
        self.installments.append(made)
        return made

    def payer(self, customer: Customer) -> str | None:
        """The payer's CPF/CNPJ as the file gives it: usually, when the ERP registered the boleto with one."""
        return customer.tax_id if customer.tax_id is not None and self.rng.random() < 0.8 else None

    def paid_on(self, due: date) -> date:
        """A day on or a few days before ``due`` (never before the month)."""
        return max(self.month, due - timedelta(days=self.rng.randrange(5)))

    def add(self, movement: TitleMovement, kind: Mess, ids: Sequence[str], why: str, twice: str | None = None) -> None:
        """Keep ``movement`` for the file, with what a person links it to."""
        self.pending.append(_Pending(movement, kind, frozenset(ids), why, twice))

    def build(self, unit: Mess | None) -> None:
        """Add one unit of the month: a kind's customers, installments and records."""
        if unit is None:
            customer = self.customer()
            self.installment(customer, self.due(), self.plan(customer), title=self.title(), document=None)
            return
        _BUILDERS[unit](self)

    def month_of(self, seed: int) -> MessyMonth:
        """The finished month: the movements in the bank's order, written, with the truth by line."""
        order = sorted(
            self.pending, key=lambda p: (p.movement.occurrence_date or self.month, p.movement.bank_title_number)
        )
        movements = [p.movement for p in order]
        data = write_return_file(
            LAYOUT,
            movements,
            generated_on=_month_end(self.month),
            agreement="0001-7 12345-6",
            file_sequence=seed % 999_999 + 1,
        )
        records = parse_return(data, LAYOUTS[LAYOUT]).records
        return MessyMonth(
            seed=seed,
            month=self.month,
            customers=tuple(self.customers),
            contracts=tuple(self.contracts),
            installments=tuple(self.installments),
            settlements=tuple(self.settlements),
            movements=tuple(movements),
            data=data,
            truth=tuple(_truth(order, [record.line for record in records])),
        )


def _truth(order: Sequence[_Pending], lines: Sequence[int]) -> Iterator[TruthLine]:
    """The truth by line; of a title paid twice, the first record in the file pays it and the other is the double."""
    first: dict[str, int] = {}
    for pending, line in zip(order, lines, strict=True):
        if pending.twice is None:
            yield TruthLine(line, pending.kind, pending.ids, pending.why)
        elif pending.twice in first:
            why = f"paid twice: line {first[pending.twice]} already pays {pending.twice}; a double payment"
            yield TruthLine(line, pending.kind, frozenset(), why)
        else:
            first[pending.twice] = line
            yield TruthLine(line, pending.kind, pending.ids, pending.why)


_CALENDAR = BrazilBankingCalendar()
_TARIFF = Money("1.95")


def _payment(
    b: _Builder,
    title: str,
    due: date,
    face: Money,
    *,
    paid: Money | None = None,
    on: date | None = None,
    document: str | None = None,
    payer: str | None = None,
    interest: Money | None = None,
) -> TitleMovement:
    """A settlement movement (code 06) as Sicoob writes it."""
    day = on or b.paid_on(due)
    return TitleMovement(
        bank_title_number=title, paid=face if paid is None else paid, document_number=document, due_date=due,
        face_value=face, occurrence_date=day, credit_date=day + timedelta(days=1), tariff=_TARIFF,
        interest_and_fine=interest, payer_tax_id=payer,
    )  # fmt: skip


def _titled(b: _Builder, kind: Mess) -> None:
    """One customer, one installment with a bank title number, paid by it: on time, late, or off by cents."""
    customer = b.customer()
    due, amount, title, document = b.due(), b.plan(customer), b.title(), str(b.document())
    item = b.installment(customer, due, amount, title=title, document=document)
    paid, on, interest = amount, None, None
    if kind is Mess.LATE:
        days = b.rng.randrange(1, 6)
        on = due + timedelta(days=days)
        interest = Money.from_cents(round(amount.cents * Decimal("0.02") + amount.cents * Decimal(days) / 3000))
        paid = amount + interest
    elif kind is Mess.OFF_BY_CENTS:
        cents = Money.from_cents(b.rng.randrange(1, 10))
        paid = amount + cents if b.rng.random() < 0.5 else amount - cents
    movement = _payment(
        b, title, due, amount, paid=paid, on=on, interest=interest,
        document=document if b.rng.random() < 0.7 else None, payer=b.payer(customer),
    )  # fmt: skip
    b.add(movement, kind, [item.id], f"bank title number {title}")


def _padded_in_erp(b: _Builder) -> None:
    title = b.title()
    stored = b.rng.choice([f"00{title}", f"0000{title}", f" {title}", f"{title}  ", f"  00{title}"])
    _titled_with(b, Mess.PADDED_IN_ERP, title, stored=stored, printed=title)


def _padded_in_file(b: _Builder) -> None:
    title = b.title()
    _titled_with(b, Mess.PADDED_IN_FILE, title, stored=title, printed=title.zfill(10))


def _titled_with(b: _Builder, kind: Mess, title: str, *, stored: str, printed: str) -> None:
    customer = b.customer()
    due, amount = b.due(), b.plan(customer)
    item = b.installment(customer, due, amount, title=stored, document=str(b.document()))
    b.add(_payment(b, printed, due, amount, payer=b.payer(customer)), kind, [item.id], f"bank title number {title}")


def _carnet_parcel(b: _Builder) -> None:
    customer = b.customer()
    due, amount = b.due(), b.plan(customer)
    titles = [b.title() for _ in range(3)]
    parcels = [b.installment(customer, _add_months(due, n), amount, title=titles[n], number=n + 1) for n in range(3)]
    movement = _payment(b, titles[0], due, amount, payer=b.payer(customer))
    b.add(movement, Mess.CARNET_PARCEL, [parcels[0].id], f"bank title number {titles[0]} (parcel 1 of 3)")


def _document_only(b: _Builder) -> None:
    customer = b.customer()
    due, amount, number = b.due(), b.plan(customer), b.document()
    stored = b.rng.choice([f"{number:08d}", str(number)])
    item = b.installment(customer, due, amount, document=stored)
    title = b.foreign_title() if b.rng.random() < 0.7 else ""
    printed = b.rng.choice([str(number), f"{number:010d}"])
    movement = _payment(b, title, due, amount, document=printed, payer=b.payer(customer))
    b.add(movement, Mess.DOCUMENT_ONLY, [item.id], f"document number {number}")


def _no_number(b: _Builder) -> None:
    customer = b.customer()
    due, amount = b.due(), b.pro_rata()
    item = b.installment(customer, due, amount)
    movement = _payment(b, b.foreign_title(), due, amount, payer=b.payer(customer))
    b.add(movement, Mess.NO_NUMBER, [item.id], f"the one installment due {due} for {amount}")


def _same_due_and_value(b: _Builder) -> None:
    first, second = b.customer(), b.customer()
    due, amount = b.due(), b.rng.choice(_PLANS)
    b.installment(first, due, amount)
    b.installment(second, due, amount)
    why = f"ambiguous: {first.id} and {second.id} both owe {amount} due {due}, and the file names no payer"
    b.add(_payment(b, b.foreign_title(), due, amount), Mess.SAME_DUE_AND_VALUE, [], why)


def _same_due_and_value_with_payer(b: _Builder) -> None:
    pair = [b.customer(registered=True), b.customer(registered=True)]
    due, amount = b.due(), b.rng.choice(_PLANS)
    for customer in pair:
        item = b.installment(customer, due, amount)
        movement = _payment(b, b.foreign_title(), due, amount, payer=customer.tax_id)
        b.add(movement, Mess.SAME_DUE_AND_VALUE_WITH_PAYER, [item.id], f"the payer's CPF/CNPJ: {customer.id}")


def _payer_carnet(b: _Builder) -> None:
    customer = b.customer(registered=True)
    due, amount = b.due(), b.plan(customer)
    parcels = [b.installment(customer, _add_months(due, n), amount, number=n + 1) for n in range(3)]
    movement = _payment(b, b.foreign_title(), due, amount, payer=customer.tax_id)
    b.add(movement, Mess.PAYER_CARNET, [parcels[0].id], f"the payer's parcel due {due}")


def _one_boleto_three_parcels(b: _Builder) -> None:
    customer = b.customer()
    due, amount, title = b.due(), b.plan(customer), b.title()
    parcels = [b.installment(customer, _add_months(due, n - 2), amount, title=title, number=n + 1) for n in range(3)]
    total = amount + amount + amount
    movement = _payment(b, title, due, total, payer=b.payer(customer))
    why = f"bank title number {title}: one boleto for the three parcels of an agreement"
    b.add(movement, Mess.ONE_BOLETO_THREE_PARCELS, [p.id for p in parcels], why)


def _already_settled(b: _Builder) -> None:
    carnet = b.rng.random() < 0.5
    customer = b.customer(registered=True if carnet else None)
    due, amount, title = b.month.replace(day=b.rng.choice(_DUE_DAYS[1:])), b.plan(customer), b.title()
    item = b.installment(customer, due, amount, title=title)
    if carnet:  # the next parcel, same value, open: a payment must not slide onto it
        b.installment(customer, _add_months(due, 1), amount, title=b.title(), number=2)
    earlier = b.month.replace(day=b.rng.randrange(1, due.day))
    outcome = settle(item, Payment(amount, earlier), POLICY, calendar=_CALENDAR)
    if outcome.settlement is None:  # on time and exact: settle cannot refuse it
        raise AssertionError(f"settling {item.id} was refused: {outcome.reason}")
    b.installments[b.installments.index(item)] = outcome.installment
    b.settlements.append(outcome.settlement)
    movement = _payment(b, title, due, amount, on=due, payer=customer.tax_id if carnet else b.payer(customer))
    why = f"{item.id} was settled on {earlier}: a double payment, for a person to refund or credit"
    b.add(movement, Mess.ALREADY_SETTLED, [], why)


def _paid_twice(b: _Builder) -> None:
    customer = b.customer()
    due, amount, title = b.due(), b.plan(customer), b.title()
    item = b.installment(customer, due, amount, title=title)
    first = b.paid_on(due)
    for on in (first, first + timedelta(days=b.rng.randrange(1, 4))):
        movement = _payment(b, title, due, amount, on=on, payer=b.payer(customer))
        b.add(movement, Mess.PAID_TWICE, [item.id], f"bank title number {title}", twice=item.id)


def _shared_tax_id(b: _Builder) -> None:
    tax_id = b.tax_id(company=False)
    first, second = b.customer(tax_id=tax_id), b.customer(tax_id=tax_id)
    amount = b.rng.choice(_PLANS)
    b.shared_same_day = not b.shared_same_day
    days = [b.rng.choice(_DUE_DAYS)] * 2 if b.shared_same_day else b.rng.sample(_DUE_DAYS, 2)
    items = [b.installment(c, b.month.replace(day=d), amount) for c, d in zip((first, second), days, strict=True)]
    payer = b.rng.randrange(2)
    due = items[payer].due
    movement = _payment(b, b.foreign_title(), due, amount, payer=tax_id)
    if b.shared_same_day:
        why = f"ambiguous: {first.id} and {second.id} share the CPF and both owe {amount} due {due}"
        b.add(movement, Mess.SHARED_TAX_ID, [], why)
    else:
        b.add(movement, Mess.SHARED_TAX_ID, [items[payer].id], f"the CPF's installment due {due}")


def _not_a_settlement(b: _Builder) -> None:
    customer = b.customer()
    due, amount, title = b.due(), b.plan(customer), b.title()
    b.installment(customer, due, amount, title=title)
    entry = TitleMovement(
        bank_title_number=title, movement_code="02", due_date=due, face_value=amount, occurrence_date=b.month
    )
    b.add(entry, Mess.NOT_A_SETTLEMENT, [], "an entry confirmation, not a settlement")
    if b.rng.random() < 0.5:
        rejected = TitleMovement(
            bank_title_number=b.foreign_title(), movement_code="03", due_date=due, face_value=amount,
            occurrence_date=b.month, tariff=_TARIFF,
        )  # fmt: skip
        b.add(rejected, Mess.NOT_A_SETTLEMENT, [], "a rejected entry, not a settlement")


_Build = Callable[[_Builder], None]


def _same(kind: Mess) -> _Build:
    return lambda b: _titled(b, kind)


_BUILDERS: dict[Mess, _Build] = {
    Mess.CLEAN: _same(Mess.CLEAN),
    Mess.LATE: _same(Mess.LATE),
    Mess.OFF_BY_CENTS: _same(Mess.OFF_BY_CENTS),
    Mess.CARNET_PARCEL: _carnet_parcel,
    Mess.PADDED_IN_ERP: _padded_in_erp,
    Mess.PADDED_IN_FILE: _padded_in_file,
    Mess.DOCUMENT_ONLY: _document_only,
    Mess.NO_NUMBER: _no_number,
    Mess.SAME_DUE_AND_VALUE: _same_due_and_value,
    Mess.SAME_DUE_AND_VALUE_WITH_PAYER: _same_due_and_value_with_payer,
    Mess.PAYER_CARNET: _payer_carnet,
    Mess.ONE_BOLETO_THREE_PARCELS: _one_boleto_three_parcels,
    Mess.ALREADY_SETTLED: _already_settled,
    Mess.PAID_TWICE: _paid_twice,
    Mess.SHARED_TAX_ID: _shared_tax_id,
    Mess.NOT_A_SETTLEMENT: _not_a_settlement,
}
